/* SPDX-License-Identifier: Apache-2.0 */
/*
 * elf.h: parse a PVH kernel's ELF headers and check it fits a domain.
 *
 * Pure: no allocation, no I/O.  The image is untrusted; every offset and
 * size is checked against the file before use.
 */
#ifndef PVHV_PVH_ELF_H
#define PVHV_PVH_ELF_H

#include "lib/base.h"
#include "pvh/ramlayout.h"

#define ELF_MAX_SEGMENTS 16

/* One PT_LOAD with a non-zero memsz; load address is p_paddr. */
struct elf_segment {
	uint64_t paddr, filesz, memsz, offset;
};

struct elf_image {
	uint32_t entry32;  /* from the "Xen" note type 18 (PHYS32_ENTRY) */
	unsigned nr_segments;
	struct elf_segment seg[ELF_MAX_SEGMENTS];
	uint64_t lowest, highest; /* [lowest, highest) paddr span of all PT_LOAD memsz */
};

/*
 * Parse img[0, len): a little-endian ELF32 (EM_386 or EM_X86_64) or ELF64
 * (EM_X86_64) ET_EXEC, version 1, carrying a PVH entry note.  On success
 * fills *out and returns 0; each segment then satisfies filesz <= memsz,
 * lies inside the file and paddr + memsz does not wrap.
 * On failure returns -ENOEXEC (not a usable image) or -E2BIG (more than
 * ELF_MAX_SEGMENTS loadable segments), writes a message to err, and leaves
 * *out unspecified.
 */
int elf_parse_pvh(const void *img, size_t len, struct elf_image *out,
		  char *err, size_t errlen);

/*
 * Check a parsed image against a pvhv domain whose RAM lies as ram says
 * (pvh/ramlayout.h): every segment inside one RAM range and
 * clear of the boot-info area, the ACPI tables and the initrd at
 * [initrd_gpa, initrd_gpa + initrd_size) (initrd_size 0: none), and entry32
 * inside some segment.  pvhv writes those areas after loading the kernel,
 * so an overlapping segment would be overwritten.  Returns 0, or -ERANGE
 * with a message naming the segment (its index among the loadable ones)
 * and the range it hit.
 */
int elf_check_fits(const struct elf_image *im, const struct ram_layout *ram,
		   uint64_t initrd_gpa, uint64_t initrd_size, char *err,
		   size_t errlen);

#endif
