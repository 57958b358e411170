/* SPDX-License-Identifier: Apache-2.0 */
/* elf.c: ELF32/ELF64 header, PT_LOAD and PVH entry note parsing for PVH kernels. */
#include "lib/base.h"
#include "pvh/elf.h"
#include "pvh/ramlayout.h"
#include "pvhv/abi.h"
#include "pvhv/platform.h"

/* ELF constants (System V gABI, "ELF Header" and "Program Header"). */
#define EI_CLASS 4
#define EI_DATA 5
#define EI_VERSION 6
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4
#define PN_XNUM 0xffff

#define EHDR32_SIZE 52
#define EHDR64_SIZE 64
#define PHDR32_SIZE 32
#define PHDR64_SIZE 56
#define NOTE_HDR_SIZE 12

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* A program header, widened to 64 bits whatever the class. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz, align;
};

static void read_phdr(const uint8_t *p, bool is64, struct phdr *ph)
{
	ph->type = rd32(p);
	if (is64) {
		ph->offset = rd64(p + 8);
		ph->paddr = rd64(p + 24);
		ph->filesz = rd64(p + 32);
		ph->memsz = rd64(p + 40);
		ph->align = rd64(p + 48);
	} else {
		ph->offset = rd32(p + 4);
		ph->paddr = rd32(p + 12);
		ph->filesz = rd32(p + 16);
		ph->memsz = rd32(p + 20);
		ph->align = rd32(p + 28);
	}
}

/* The parts of the ELF header we use, checked. */
struct ehdr {
	bool is64;
	uint64_t phoff;
	unsigned phnum;
};

/*
 * The ELF header fields the loader relies on, each checked (gABI "ELF
 * Header"; x86-64 psABI for EM_X86_64).  ELF32 may say EM_386 or EM_X86_64
 * (elf32-x86-64 images exist, and the PVH entry is 32-bit either way);
 * ELF64 must say EM_X86_64.  Only ET_EXEC: segments are loaded at their
 * p_paddr without relocation, so an ET_DYN image would not run as linked.
 */
static int check_ehdr(const uint8_t *b, size_t len, struct ehdr *eh,
		      char *err, size_t errlen)
{
	unsigned type, machine, phentsize, want;
	uint32_t version;
	size_t ehsize;

	if (len < 16 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F')
		return errorf(-ENOEXEC, err, errlen, "not an ELF file (bad magic)");
	if (b[EI_CLASS] != ELFCLASS32 && b[EI_CLASS] != ELFCLASS64)
		return errorf(-ENOEXEC, err, errlen,
			     "ELF header: e_ident[EI_CLASS] %u is neither ELFCLASS32 (1) nor ELFCLASS64 (2)",
			     b[EI_CLASS]);
	if (b[EI_DATA] != ELFDATA2LSB)
		return errorf(-ENOEXEC, err, errlen,
			     "ELF header: e_ident[EI_DATA] %u is not ELFDATA2LSB (1, little-endian)",
			     b[EI_DATA]);
	if (b[EI_VERSION] != EV_CURRENT)
		return errorf(-ENOEXEC, err, errlen,
			     "ELF header: e_ident[EI_VERSION] %u is not EV_CURRENT (1)",
			     b[EI_VERSION]);
	eh->is64 = b[EI_CLASS] == ELFCLASS64;
	ehsize = eh->is64 ? EHDR64_SIZE : EHDR32_SIZE;
	if (len < ehsize)
		return errorf(-ENOEXEC, err, errlen,
			     "ELF header truncated: file is %llu bytes, header needs %llu",
			     (unsigned long long)len, (unsigned long long)ehsize);
	type = rd16(b + 16);
	if (type != ET_EXEC)
		return errorf(-ENOEXEC, err, errlen,
			     "ELF header: e_type %u is not ET_EXEC (2)%s", type,
			     type == ET_DYN ? ": ET_DYN (position-independent) images are not relocated" : "");
	machine = rd16(b + 18);
	if (machine != EM_X86_64 && (eh->is64 || machine != EM_386))
		return errorf(-ENOEXEC, err, errlen,
			     "ELF header: e_machine %u is not %s", machine,
			     eh->is64 ? "EM_X86_64 (62) as ELFCLASS64 requires" :
					"EM_386 (3) or EM_X86_64 (62)");
	version = rd32(b + 20);
	if (version != EV_CURRENT)
		return errorf(-ENOEXEC, err, errlen,
			     "ELF header: e_version %u is not EV_CURRENT (1)", version);
	if (eh->is64) {
		eh->phoff = rd64(b + 32);
		phentsize = rd16(b + 54);
		eh->phnum = rd16(b + 56);
		want = PHDR64_SIZE;
	} else {
		eh->phoff = rd32(b + 28);
		phentsize = rd16(b + 42);
		eh->phnum = rd16(b + 44);
		want = PHDR32_SIZE;
	}
	if (phentsize != want)
		return errorf(-ENOEXEC, err, errlen,
			     "ELF header: e_phentsize %u is not %u", phentsize, want);
	if (eh->phnum == 0)
		return errorf(-ENOEXEC, err, errlen,
			     "ELF header: e_phnum 0, no program headers");
	if (eh->phnum == PN_XNUM)
		return errorf(-ENOEXEC, err, errlen,
			     "ELF header: e_phnum 0xffff (PN_XNUM, extended count) not supported");
	if (!range_within(eh->phoff, (uint64_t)eh->phnum * want, 0, len))
		return errorf(-ENOEXEC, err, errlen,
			     "ELF header: program header table at e_phoff 0x%llx (e_phnum %u x %u bytes) beyond file (0x%llx bytes)",
			     (unsigned long long)eh->phoff, eh->phnum, want,
			     (unsigned long long)len);
	return 0;
}

static int add_load(struct elf_image *out, unsigned idx, const struct phdr *ph,
		    size_t len, char *err, size_t errlen)
{
	struct elf_segment *s;

	if (ph->filesz > ph->memsz)
		return errorf(-ENOEXEC, err, errlen,
			     "program header %u: p_filesz 0x%llx > p_memsz 0x%llx",
			     idx, (unsigned long long)ph->filesz,
			     (unsigned long long)ph->memsz);
	if (!range_within(ph->offset, ph->filesz, 0, len))
		return errorf(-ENOEXEC, err, errlen,
			     "program header %u: p_offset 0x%llx + p_filesz 0x%llx beyond file (0x%llx bytes)",
			     idx, (unsigned long long)ph->offset,
			     (unsigned long long)ph->filesz, (unsigned long long)len);
	if (ph->paddr + ph->memsz < ph->paddr)
		return errorf(-ENOEXEC, err, errlen,
			     "program header %u: p_paddr 0x%llx + p_memsz 0x%llx overflows",
			     idx, (unsigned long long)ph->paddr,
			     (unsigned long long)ph->memsz);
	if (ph->memsz == 0)
		return 0;
	if (out->nr_segments == ELF_MAX_SEGMENTS)
		return errorf(-E2BIG, err, errlen,
			     "program header %u: more than %u loadable segments",
			     idx, ELF_MAX_SEGMENTS);
	s = &out->seg[out->nr_segments++];
	s->paddr = ph->paddr;
	s->filesz = ph->filesz;
	s->memsz = ph->memsz;
	s->offset = ph->offset;
	if (out->nr_segments == 1 || ph->paddr < out->lowest)
		out->lowest = ph->paddr;
	if (out->nr_segments == 1 || ph->paddr + ph->memsz > out->highest)
		out->highest = ph->paddr + ph->memsz;
	return 0;
}

/*
 * Walk the notes of one PT_NOTE segment (gABI "Note Section": namesz,
 * descsz, type, then name and desc each padded to the alignment, 4 unless
 * the segment asks for 8).  Returns 1 and sets *entry when the PVH note is
 * found, 0 when not, negative on a malformed note.
 */
static int scan_notes(const uint8_t *b, size_t len, unsigned idx,
		      const struct phdr *ph, uint32_t *entry, char *err,
		      size_t errlen)
{
	uint64_t align = ph->align == 8 ? 8 : 4;
	uint64_t pos = 0, end = ph->filesz;
	const uint8_t *seg;

	if (!range_within(ph->offset, ph->filesz, 0, len))
		return errorf(-ENOEXEC, err, errlen,
			     "program header %u: note p_offset 0x%llx + p_filesz 0x%llx beyond file (0x%llx bytes)",
			     idx, (unsigned long long)ph->offset,
			     (unsigned long long)ph->filesz, (unsigned long long)len);
	seg = b + ph->offset;
	while (end - pos >= NOTE_HDR_SIZE) {
		uint64_t namesz = rd32(seg + pos), descsz = rd32(seg + pos + 4);
		uint32_t type = rd32(seg + pos + 8);
		uint64_t name = pos + NOTE_HDR_SIZE;
		uint64_t desc = name + ALIGN_UP(namesz, align);
		uint64_t next = desc + ALIGN_UP(descsz, align);

		/* All values are < 2^32 + 24, so no overflow in 64 bits. */
		if (desc > end || desc + descsz > end)
			return errorf(-ENOEXEC, err, errlen,
				     "program header %u: note at segment offset 0x%llx: name size 0x%llx + desc size 0x%llx beyond segment (0x%llx bytes)",
				     idx, (unsigned long long)pos,
				     (unsigned long long)namesz,
				     (unsigned long long)descsz,
				     (unsigned long long)end);
		if (namesz == 4 && memcmp(seg + name, "Xen", 4) == 0 &&
		    type == PVHV_ELFNOTE_PHYS32_ENTRY) {
			if (descsz != 4 && descsz != 8)
				return errorf(-ENOEXEC, err, errlen,
					     "program header %u: PVH entry note has desc size %llu, expected 4 or 8",
					     idx, (unsigned long long)descsz);
			*entry = rd32(seg + desc);
			return 1;
		}
		pos = MIN(next, end);
	}
	return 0;
}

int elf_parse_pvh(const void *img, size_t len, struct elf_image *out,
		  char *err, size_t errlen)
{
	const uint8_t *b = img;
	bool have_entry = false;
	struct ehdr eh = { 0 };
	struct phdr ph;
	unsigned i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!img)
		return errorf(-ENOEXEC, err, errlen, "no image");
	rc = check_ehdr(b, len, &eh, err, errlen);
	if (rc)
		return rc;
	for (i = 0; i < eh.phnum; i++) {
		size_t entsz = eh.is64 ? PHDR64_SIZE : PHDR32_SIZE;

		read_phdr(b + eh.phoff + (uint64_t)i * entsz, eh.is64, &ph);
		if (ph.type == PT_LOAD) {
			rc = add_load(out, i, &ph, len, err, errlen);
			if (rc)
				return rc;
		} else if (ph.type == PT_NOTE && !have_entry) {
			rc = scan_notes(b, len, i, &ph, &out->entry32, err, errlen);
			if (rc < 0)
				return rc;
			have_entry = rc == 1;
		}
	}
	if (out->nr_segments == 0)
		return errorf(-ENOEXEC, err, errlen,
			     "no loadable segment (PT_LOAD with non-zero size)");
	if (!have_entry)
		return errorf(-ENOEXEC, err, errlen,
			     "no PVH entry note (ELF note \"Xen\" type 18)");
	return 0;
}

/* What pvhv builds in every domain's low memory after loading the kernel. */
static const struct {
	uint64_t lo, hi;
	const char *what;
} fixed_areas[] = {
	{ PVHV_BOOTINFO_GPA, PVHV_BOOTINFO_GPA + PVHV_BOOTINFO_SIZE, "the boot-info area" },
	{ PVHV_ACPI_GPA, PVHV_ACPI_GPA + PVHV_ACPI_SIZE, "the ACPI tables" },
};

static int overlap_error(unsigned idx, const struct elf_segment *s, const char *what,
			 uint64_t lo, uint64_t hi, char *err, size_t errlen)
{
	return errorf(-ERANGE, err, errlen,
		     "segment %u [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx)", idx,
		     (unsigned long long)s->paddr,
		     (unsigned long long)(s->paddr + s->memsz), what,
		     (unsigned long long)lo, (unsigned long long)hi);
}

int elf_check_fits(const struct elf_image *im, const struct ram_layout *ram,
		   uint64_t initrd_gpa, uint64_t initrd_size, char *err,
		   size_t errlen)
{
	bool entry_ok = false;
	unsigned i, j;

	if (initrd_size && initrd_gpa + initrd_size < initrd_gpa)
		return errorf(-ERANGE, err, errlen,
			     "initrd at 0x%llx + 0x%llx bytes wraps around",
			     (unsigned long long)initrd_gpa,
			     (unsigned long long)initrd_size);
	for (i = 0; i < im->nr_segments && i < ELF_MAX_SEGMENTS; i++) {
		const struct elf_segment *s = &im->seg[i];
		uint64_t end = s->paddr + s->memsz;

		if (!rl_chunk(ram, s->paddr, s->memsz, NULL))
			return errorf(-ERANGE, err, errlen,
				     "segment %u [0x%llx, 0x%llx) beyond RAM (0x%llx bytes%s)",
				     i, (unsigned long long)s->paddr,
				     (unsigned long long)end,
				     (unsigned long long)ram->size,
				     ram->identity ? " at guest-physical = host-physical: see its ranges" :
				     ram->nr > 1 ? ": below 3 GiB and from 4 GiB" : "");
		for (j = 0; j < ARRAY_SIZE(fixed_areas); j++)
			if (s->paddr < fixed_areas[j].hi && fixed_areas[j].lo < end)
				return overlap_error(i, s, fixed_areas[j].what,
						     fixed_areas[j].lo,
						     fixed_areas[j].hi, err, errlen);
		if (initrd_size && s->paddr < initrd_gpa + initrd_size && initrd_gpa < end)
			return overlap_error(i, s, "the initrd", initrd_gpa,
					     initrd_gpa + initrd_size, err, errlen);
		if (im->entry32 >= s->paddr && im->entry32 < end)
			entry_ok = true;
	}
	if (!entry_ok)
		return errorf(-ERANGE, err, errlen,
			     "entry point 0x%x is not inside any loadable segment",
			     im->entry32);
	return 0;
}
