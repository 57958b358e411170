/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bootinfo.h: build the PVH boot-info area (start_info, module list,
 * memory map, command line) that a domain finds at PVHV_BOOTINFO_GPA.
 *
 * Layout, as offsets from PVHV_BOOTINFO_GPA (every paddr written into the
 * structures is guest-physical, PVHV_BOOTINFO_GPA + offset):
 *   BOOTINFO_START_OFF    struct pvhv_start_info
 *   BOOTINFO_MODLIST_OFF  struct pvhv_modlist_entry (the initrd, if any)
 *   BOOTINFO_MEMMAP_OFF   struct pvhv_memmap_entry[], up to BOOTINFO_MEMMAP_MAX
 *   BOOTINFO_CMDLINE_OFF  the NUL-terminated command line, PVHV_CMDLINE_MAX bytes
 */
#ifndef PVHV_PVH_BOOTINFO_H
#define PVHV_PVH_BOOTINFO_H

#include "lib/base.h"
#include "pvh/ramlayout.h"
#include "pvhv/abi.h"

#define BOOTINFO_START_OFF 0x0u
#define BOOTINFO_MODLIST_OFF 0x40u
#define BOOTINFO_MEMMAP_OFF 0x80u
#define BOOTINFO_CMDLINE_OFF (PVHV_BOOTINFO_SIZE - PVHV_CMDLINE_MAX)
#define BOOTINFO_MEMMAP_MAX \
	((BOOTINFO_CMDLINE_OFF - BOOTINFO_MEMMAP_OFF) / sizeof(struct pvhv_memmap_entry))

/* Legacy VGA/ROM hole, reported reserved; RAM above it starts at 1 MiB. */
#define BOOTINFO_LOW_RAM_END 0xA0000u
#define BOOTINFO_HIGH_RAM_START 0x100000u

#define BOOTINFO_MAX_EXTRA 4

/* A range carved out of RAM and given another memory-map type (e.g. ACPI). */
struct bootinfo_region {
	uint64_t addr, size;
	uint32_t type; /* PVHV_MEMMAP_* */
};

struct bootinfo_params {
	uint64_t ram_size;        /* bytes, multiple of 2 MiB, 2 MiB .. PVHV_RAM_MAX (pvh/ramlayout.h) */
	/*
	 * Where that RAM lies; NULL: the plain layout of ram_size.  An
	 * identity layout's map has only [0, 1 MiB) of chunk 0, then its
	 * ranges (see pvh/ramlayout.h).  Its size must be ram_size.
	 */
	const struct ram_layout *layout;
	const char *cmdline;      /* NULL means empty */
	uint64_t initrd_gpa, initrd_size; /* size 0: no initrd */
	uint64_t rsdp_gpa;        /* 0: no ACPI */
	unsigned nr_extra;
	struct bootinfo_region extra[BOOTINFO_MAX_EXTRA];
};

/*
 * Zero buf and fill it with the boot-info area for *p.  buflen must be at
 * least PVHV_BOOTINFO_SIZE.  Returns 0, or with a message in err:
 * -EINVAL for a bad RAM size, initrd, RSDP or extra region, -E2BIG for a
 * command line longer than PVHV_CMDLINE_MAX - 1, -ENOSPC for a short
 * buffer.  buf (when long enough) is all zeroes after a failure.
 */
int bootinfo_build(void *buf, size_t buflen, const struct bootinfo_params *p,
		   char *err, size_t errlen);

/*
 * Pick the initrd's guest-physical address: page-aligned (2 MiB-aligned
 * for an initrd of 2 MiB or more, where that still fits), as high as
 * possible with its end at or below the end of low RAM (ram_low_size()), starting at or
 * above both kernel_end and 1 MiB.  Returns 0 and sets *gpa_out, -EINVAL
 * for a zero size, or -ENOSPC when it does not fit.
 */
int bootinfo_place_initrd(uint64_t ram_size, uint64_t kernel_end,
			  uint64_t initrd_size, uint64_t *gpa_out);
/*
 * The same in a layout: the highest place in its highest range below
 * PVHV_RAM_LOW_END where it fits (never in an identity layout's chunk 0).
 */
int bootinfo_place_initrd_in(const struct ram_layout *ram, uint64_t kernel_end,
			     uint64_t initrd_size, uint64_t *gpa_out);

#endif
