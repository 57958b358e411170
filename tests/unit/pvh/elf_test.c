/* SPDX-License-Identifier: Apache-2.0 */
/* elf_test.c: unit tests for pvh/elf.c, with ELF images built in memory. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "pvh/elf.h"
#include "pvhv/abi.h"

#define PT_LOAD 1
#define PT_NOTE 4

struct tphdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz, align;
};

#define NOTE_OFF 0x800
#define SEG_OFF 0x1000
#define IMG_LEN 0x1100

static uint8_t img[0x4000];
static char err[256];

static void w16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void w32(uint8_t *p, uint32_t v) { w16(p, v); w16(p + 2, v >> 16); }
static void w64(uint8_t *p, uint64_t v) { w32(p, v); w32(p + 4, v >> 32); }

/* ELF header plus program headers right after it; returns header bytes. */
static size_t put_headers(bool is64, uint16_t machine, unsigned nph,
			  const struct tphdr *ph)
{
	size_t ehsz = is64 ? 64 : 52, phsz = is64 ? 56 : 32;
	unsigned i;

	memset(img, 0, NOTE_OFF); /* notes and segment data stay */
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = is64 ? 2 : 1;
	img[5] = 1;
	img[6] = 1;
	w16(img + 16, 2);
	w16(img + 18, machine);
	w32(img + 20, 1);
	if (is64) {
		w64(img + 32, ehsz);
		w16(img + 52, ehsz);
		w16(img + 54, phsz);
		w16(img + 56, nph);
	} else {
		w32(img + 28, ehsz);
		w16(img + 40, ehsz);
		w16(img + 42, phsz);
		w16(img + 44, nph);
	}
	for (i = 0; i < nph; i++) {
		uint8_t *p = img + ehsz + i * phsz;

		w32(p, ph[i].type);
		if (is64) {
			w64(p + 8, ph[i].offset);
			w64(p + 24, ph[i].paddr);
			w64(p + 32, ph[i].filesz);
			w64(p + 40, ph[i].memsz);
			w64(p + 48, ph[i].align);
		} else {
			w32(p + 4, ph[i].offset);
			w32(p + 12, ph[i].paddr);
			w32(p + 16, ph[i].filesz);
			w32(p + 20, ph[i].memsz);
			w32(p + 28, ph[i].align);
		}
	}
	return ehsz + nph * phsz;
}

/* One note at img + off, 4-byte padded; returns its size. */
static size_t put_note(size_t off, const char *name, uint32_t namesz,
		       uint32_t type, uint64_t desc, uint32_t descsz)
{
	uint8_t *p = img + off;
	size_t n = 12;

	w32(p, namesz);
	w32(p + 4, descsz);
	w32(p + 8, type);
	memcpy(p + n, name, MIN(strlen(name) + 1, namesz));
	n += ALIGN_UP(namesz, 4);
	if (descsz >= 8)
		w64(p + n, desc);
	else if (descsz >= 4)
		w32(p + n, desc);
	n += ALIGN_UP(descsz, 4);
	return n;
}


/* A good image: one PT_LOAD at 1 MiB and a PT_NOTE with the PVH note. */
static size_t good(bool is64, uint32_t descsz)
{
	struct tphdr ph[2] = {
		{ PT_LOAD, SEG_OFF, 0x100000, 0x100, 0x2000, 0x1000 },
		{ PT_NOTE, NOTE_OFF, 0, 0, 0, 4 },
	};
	size_t n;

	put_headers(is64, is64 ? 62 : 3, 2, ph);
	n = put_note(NOTE_OFF, "Xen", 4, 18, 0xdead000000100010ull, descsz);
	ph[1].filesz = n;
	put_headers(is64, is64 ? 62 : 3, 2, ph);
	put_note(NOTE_OFF, "Xen", 4, 18, 0xdead000000100010ull, descsz);
	return IMG_LEN;
}

static int parse(size_t len, struct elf_image *im)
{
	err[0] = 0;
	return elf_parse_pvh(img, len, im, err, sizeof(err));
}

static void expect_fail(size_t len, int rc, const char *msg)
{
	struct elf_image im;

	cr_assert_eq(parse(len, &im), rc, "rc for \"%s\" (got message \"%s\")",
		     msg, err);
	cr_assert(strstr(err, msg), "message \"%s\" lacks \"%s\"", err, msg);
}

Test(elf, good_elf64_desc8)
{
	struct elf_image im;

	cr_assert_eq(parse(good(true, 8), &im), 0, "%s", err);
	cr_assert_eq(im.entry32, 0x100010);
	cr_assert_eq(im.nr_segments, 1);
	cr_assert_eq(im.seg[0].paddr, 0x100000);
	cr_assert_eq(im.seg[0].filesz, 0x100);
	cr_assert_eq(im.seg[0].memsz, 0x2000);
	cr_assert_eq(im.seg[0].offset, SEG_OFF);
	cr_assert_eq(im.lowest, 0x100000);
	cr_assert_eq(im.highest, 0x102000);
}

Test(elf, good_elf32_desc4)
{
	struct elf_image im;

	cr_assert_eq(parse(good(false, 4), &im), 0, "%s", err);
	cr_assert_eq(im.entry32, 0x100010);
	cr_assert_eq(im.nr_segments, 1);
	cr_assert_eq(im.seg[0].paddr, 0x100000);
	cr_assert_eq(im.highest, 0x102000);
}

Test(elf, elf32_with_x86_64_machine)
{
	struct elf_image im;

	good(false, 4);
	w16(img + 18, 62);
	cr_assert_eq(parse(IMG_LEN, &im), 0, "%s", err);
}

Test(elf, null_err_buffer_is_fine)
{
	struct elf_image im;

	cr_assert_eq(elf_parse_pvh(img, 3, &im, NULL, 0), -ENOEXEC);
	cr_assert_eq(elf_parse_pvh(NULL, 0, &im, err, sizeof(err)), -ENOEXEC);
}

Test(elf, truncated_ident)
{
	good(true, 8);
	expect_fail(10, -ENOEXEC, "bad magic");
}

Test(elf, truncated_header64)
{
	good(true, 8);
	expect_fail(40, -ENOEXEC, "ELF header truncated: file is 40 bytes, header needs 64");
}

Test(elf, truncated_header32)
{
	good(false, 4);
	expect_fail(50, -ENOEXEC, "header needs 52");
}

Test(elf, bad_magic)
{
	good(true, 8);
	img[1] = 'X';
	expect_fail(IMG_LEN, -ENOEXEC, "not an ELF file (bad magic)");
}

Test(elf, bad_class)
{
	good(true, 8);
	img[4] = 3;
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_ident[EI_CLASS] 3 is neither ELFCLASS32 (1) nor ELFCLASS64 (2)");
}

Test(elf, big_endian)
{
	good(true, 8);
	img[5] = 2;
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_ident[EI_DATA] 2 is not ELFDATA2LSB (1, little-endian)");
}

Test(elf, bad_ident_version)
{
	good(true, 8);
	img[6] = 0;
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_ident[EI_VERSION] 0 is not EV_CURRENT (1)");
}

Test(elf, not_exec)
{
	good(true, 8);
	w16(img + 16, 3);
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_type 3 is not ET_EXEC (2): ET_DYN");
}

Test(elf, wrong_machine)
{
	good(true, 8);
	w16(img + 18, 183);
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_machine 183 is not EM_X86_64 (62)");
}

Test(elf, elf64_with_i386_machine)
{
	good(true, 8);
	w16(img + 18, 3);
	expect_fail(IMG_LEN, -ENOEXEC,
		    "ELF header: e_machine 3 is not EM_X86_64 (62) as ELFCLASS64 requires");
}

Test(elf, elf32_wrong_machine)
{
	good(false, 4);
	w16(img + 18, 40);
	expect_fail(IMG_LEN, -ENOEXEC,
		    "ELF header: e_machine 40 is not EM_386 (3) or EM_X86_64 (62)");
}

Test(elf, bad_e_version)
{
	good(true, 8);
	w32(img + 20, 0);
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_version 0 is not EV_CURRENT (1)");
	good(false, 4);
	w32(img + 20, 2);
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_version 2 is not EV_CURRENT (1)");
}

Test(elf, relocatable_and_core_types)
{
	good(true, 8);
	w16(img + 16, 1); /* ET_REL */
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_type 1 is not ET_EXEC (2)");
	cr_assert_null(strstr(err, "ET_DYN"), "%s", err);
	w16(img + 16, 4); /* ET_CORE */
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_type 4 is not ET_EXEC (2)");
}

Test(elf, no_program_headers)
{
	good(true, 8);
	w16(img + 56, 0);
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_phnum 0, no program headers");
}

Test(elf, bad_phentsize)
{
	good(true, 8);
	w16(img + 54, 32);
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_phentsize 32 is not 56");
	good(false, 4);
	w16(img + 42, 56);
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_phentsize 56 is not 32");
}

Test(elf, pn_xnum)
{
	good(true, 8);
	w16(img + 56, 0xffff);
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: e_phnum 0xffff (PN_XNUM");
}

Test(elf, phdrs_beyond_file)
{
	good(true, 8);
	w64(img + 32, IMG_LEN - 56);
	expect_fail(IMG_LEN, -ENOEXEC, "ELF header: program header table at e_phoff 0x10c8 (e_phnum 2 x 56 bytes) beyond file (0x1100 bytes)");
}

Test(elf, phdrs_offset_overflow)
{
	good(true, 8);
	w64(img + 32, ~0ull - 8);
	expect_fail(IMG_LEN, -ENOEXEC, "program header table");
}

Test(elf, phdrs_truncated_file)
{
	good(true, 8);
	expect_fail(100, -ENOEXEC, "beyond file (0x64 bytes)");
}

Test(elf, segment_beyond_file)
{
	good(true, 8);
	w64(img + 64 + 32, 0x200); /* filesz */
	expect_fail(IMG_LEN, -ENOEXEC,
		    "program header 0: p_offset 0x1000 + p_filesz 0x200 beyond file (0x1100 bytes)");
}

Test(elf, segment_offset_overflow)
{
	good(true, 8);
	w64(img + 64 + 8, ~0ull - 0x10); /* offset */
	expect_fail(IMG_LEN, -ENOEXEC, "beyond file");
}

Test(elf, filesz_above_memsz)
{
	good(true, 8);
	w64(img + 64 + 40, 0x80); /* memsz < filesz 0x100 */
	expect_fail(IMG_LEN, -ENOEXEC, "program header 0: p_filesz 0x100 > p_memsz 0x80");
}

Test(elf, paddr_overflow)
{
	good(true, 8);
	w64(img + 64 + 24, ~0ull - 0x1000);
	expect_fail(IMG_LEN, -ENOEXEC, "program header 0: p_paddr 0xffffffffffffefff + p_memsz 0x2000 overflows");
}

Test(elf, no_loadable_segment)
{
	struct tphdr ph[1] = { { PT_NOTE, NOTE_OFF, 0, 20, 0, 4 } };

	put_headers(true, 62, 1, ph);
	put_note(NOTE_OFF, "Xen", 4, 18, 0x100000, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "no loadable segment");
}

Test(elf, zero_memsz_load_skipped)
{
	struct tphdr ph[3] = {
		{ PT_LOAD, 0, 0x5000, 0, 0, 0x1000 },
		{ PT_LOAD, SEG_OFF, 0x200000, 0x10, 0x10, 0x1000 },
		{ PT_NOTE, NOTE_OFF, 0, 20, 0, 4 },
	};
	struct elf_image im;

	put_headers(true, 62, 3, ph);
	put_note(NOTE_OFF, "Xen", 4, 18, 0x200000, 4);
	cr_assert_eq(parse(IMG_LEN, &im), 0, "%s", err);
	cr_assert_eq(im.nr_segments, 1);
	cr_assert_eq(im.lowest, 0x200000);
	cr_assert_eq(im.highest, 0x200010);

	ph[1].memsz = 0;
	ph[1].filesz = 0;
	put_headers(true, 62, 3, ph);
	put_note(NOTE_OFF, "Xen", 4, 18, 0x200000, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "no loadable segment");
}

Test(elf, lowest_highest_span)
{
	struct tphdr ph[3] = {
		{ PT_LOAD, SEG_OFF, 0x300000, 0x10, 0x1000, 0x1000 },
		{ PT_LOAD, SEG_OFF, 0x100000, 0x10, 0x10, 0x1000 },
		{ PT_NOTE, NOTE_OFF, 0, 20, 0, 4 },
	};
	struct elf_image im;

	put_headers(true, 62, 3, ph);
	put_note(NOTE_OFF, "Xen", 4, 18, 0x100000, 4);
	cr_assert_eq(parse(IMG_LEN, &im), 0, "%s", err);
	cr_assert_eq(im.nr_segments, 2);
	cr_assert_eq(im.seg[0].paddr, 0x300000);
	cr_assert_eq(im.seg[1].paddr, 0x100000);
	cr_assert_eq(im.lowest, 0x100000);
	cr_assert_eq(im.highest, 0x301000);
}

Test(elf, too_many_segments)
{
	struct tphdr ph[ELF_MAX_SEGMENTS + 2];
	struct elf_image im;
	unsigned i;

	for (i = 0; i <= ELF_MAX_SEGMENTS; i++)
		ph[i] = (struct tphdr){ PT_LOAD, SEG_OFF, 0x100000 + i * 0x1000,
					0x10, 0x10, 0x1000 };
	ph[i] = (struct tphdr){ PT_NOTE, NOTE_OFF, 0, 20, 0, 4 };
	put_headers(true, 62, ELF_MAX_SEGMENTS + 2, ph);
	put_note(NOTE_OFF, "Xen", 4, 18, 0x100000, 4);
	expect_fail(IMG_LEN, -E2BIG, "program header 16: more than 16 loadable segments");

	/* Exactly the maximum is fine. */
	ph[ELF_MAX_SEGMENTS] = ph[ELF_MAX_SEGMENTS + 1];
	put_headers(true, 62, ELF_MAX_SEGMENTS + 1, ph);
	put_note(NOTE_OFF, "Xen", 4, 18, 0x100000, 4);
	cr_assert_eq(parse(IMG_LEN, &im), 0, "%s", err);
	cr_assert_eq(im.nr_segments, ELF_MAX_SEGMENTS);
}

/* Image with one PT_LOAD and a PT_NOTE of note_len bytes at NOTE_OFF. */
static void with_notes(size_t note_len, uint64_t align)
{
	struct tphdr ph[2] = {
		{ PT_LOAD, SEG_OFF, 0x100000, 0x100, 0x2000, 0x1000 },
		{ PT_NOTE, NOTE_OFF, 0, note_len, 0, align },
	};

	put_headers(true, 62, 2, ph);
}

Test(elf, missing_note)
{
	with_notes(0, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "no PVH entry note (ELF note \"Xen\" type 18)");
}

Test(elf, no_note_segment_at_all)
{
	struct tphdr ph[1] = { { PT_LOAD, SEG_OFF, 0x100000, 0x100, 0x2000, 0x1000 } };

	put_headers(true, 62, 1, ph);
	expect_fail(IMG_LEN, -ENOEXEC, "no PVH entry note");
}

Test(elf, wrong_note_name)
{
	size_t n;

	with_notes(0, 4);
	n = put_note(NOTE_OFF, "Xex", 4, 18, 0x100000, 4);
	with_notes(n, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "no PVH entry note");
	/* "Xen" without the NUL counted is not the note either. */
	n = put_note(NOTE_OFF, "Xen", 3, 18, 0x100000, 4);
	with_notes(n, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "no PVH entry note");
}

Test(elf, wrong_note_type)
{
	size_t n;

	with_notes(0, 4);
	n = put_note(NOTE_OFF, "Xen", 4, 17, 0x100000, 4);
	with_notes(n, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "no PVH entry note");
}

Test(elf, note_after_other_notes)
{
	struct elf_image im;
	size_t n;

	with_notes(0, 4);
	n = put_note(NOTE_OFF, "GNU", 4, 3, 0x1122334455667788ull, 20);
	n += put_note(NOTE_OFF + n, "Xen", 4, 17, 0x200000, 4);
	n += put_note(NOTE_OFF + n, "Xen", 4, 18, 0x100004, 8);
	with_notes(n, 4);
	cr_assert_eq(parse(IMG_LEN, &im), 0, "%s", err);
	cr_assert_eq(im.entry32, 0x100004);
}

Test(elf, note_desc_size_2)
{
	size_t n;

	with_notes(0, 4);
	n = put_note(NOTE_OFF, "Xen", 4, 18, 0x100000, 2);
	with_notes(n, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "program header 1: PVH entry note has desc size 2, expected 4 or 8");
}

Test(elf, note_desc_size_16)
{
	size_t n;

	with_notes(0, 4);
	n = put_note(NOTE_OFF, "Xen", 4, 18, 0x100000, 16);
	with_notes(n, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "desc size 16, expected 4 or 8");
}

Test(elf, note_name_beyond_segment)
{
	with_notes(0, 4);
	put_note(NOTE_OFF, "Xen", 4, 18, 0x100000, 4);
	w32(img + NOTE_OFF, 0xfffffff0); /* namesz */
	with_notes(20, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "program header 1: note at segment offset 0x0: name size 0xfffffff0");
}

Test(elf, note_desc_beyond_segment)
{
	with_notes(0, 4);
	put_note(NOTE_OFF, "Xen", 4, 18, 0x100000, 4);
	w32(img + NOTE_OFF + 4, 0xffffffff); /* descsz */
	with_notes(20, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "desc size 0xffffffff beyond segment (0x14 bytes)");
}

Test(elf, note_desc_cut_by_segment_end)
{
	with_notes(0, 4);
	put_note(NOTE_OFF, "Xen", 4, 18, 0x100000, 8);
	with_notes(20, 4); /* note needs 24 */
	expect_fail(IMG_LEN, -ENOEXEC, "beyond segment (0x14 bytes)");
}

Test(elf, note_segment_beyond_file)
{
	with_notes(0, 4);
	put_note(NOTE_OFF, "Xen", 4, 18, 0x100000, 4);
	with_notes(IMG_LEN, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "program header 1: note p_offset 0x800 + p_filesz 0x1100 beyond file (0x1100 bytes)");
}

Test(elf, note_segment_align8)
{
	struct elf_image im;
	uint8_t *p = img + NOTE_OFF;

	with_notes(0, 8);
	/* "GNU" note with 8-byte padding: 12 + 4 (name) + 4 -> 8 desc bytes. */
	w32(p, 4);
	w32(p + 4, 4);
	w32(p + 8, 5);
	memcpy(p + 12, "GNU", 4);
	/* name padded to 8 from note start of the name field: 12 + 8 = 20 */
	w32(p + 20, 0xffffffff);
	/* desc padded to 8: next note at 28 */
	w32(p + 28, 4);
	w32(p + 32, 4);
	w32(p + 36, 18);
	memcpy(p + 40, "Xen", 4);
	w32(p + 48, 0x100008);
	with_notes(56, 8);
	cr_assert_eq(parse(IMG_LEN, &im), 0, "%s", err);
	cr_assert_eq(im.entry32, 0x100008);
}

Test(elf, trailing_bytes_in_note_segment_ignored)
{
	struct elf_image im;
	size_t n;

	with_notes(0, 4);
	n = put_note(NOTE_OFF, "Xyz", 4, 1, 0, 0);
	with_notes(n + 8, 4);
	expect_fail(IMG_LEN, -ENOEXEC, "no PVH entry note");
	n += put_note(NOTE_OFF + n, "Xen", 4, 18, 0x100000, 4);
	with_notes(n, 4);
	cr_assert_eq(parse(IMG_LEN, &im), 0, "%s", err);
}

/* ---------------------------------------------------------------- fits */

static struct elf_image fit_image(void)
{
	struct elf_image im;

	memset(&im, 0, sizeof(im));
	im.entry32 = 0x100010;
	im.nr_segments = 2;
	im.seg[0] = (struct elf_segment){ 0x100000, 0x100, 0x2000, 0x1000 };
	im.seg[1] = (struct elf_segment){ 0x200000, 0x100, 0x200000, 0x2000 };
	im.lowest = 0x100000;
	im.highest = 0x400000;
	return im;
}

static int fits_with_initrd(const struct elf_image *im, uint64_t ram,
			    uint64_t initrd_gpa, uint64_t initrd_size)
{
	struct ram_layout l;

	err[0] = 0;
	ram_layout_plain(&l, ram);
	return elf_check_fits(im, &l, initrd_gpa, initrd_size, err, sizeof(err));
}

static int fits(const struct elf_image *im, uint64_t ram)
{
	return fits_with_initrd(im, ram, 0, 0);
}

/* fit_image() with segment 0 (and the entry) moved to [paddr, paddr + memsz). */
static struct elf_image low_image(uint64_t paddr, uint64_t memsz)
{
	struct elf_image im = fit_image();

	im.seg[0].paddr = paddr;
	im.seg[0].memsz = memsz;
	im.seg[0].filesz = 0;
	im.entry32 = paddr;
	return im;
}

Test(elf_fits, fits_exactly)
{
	struct elf_image im = fit_image();

	cr_assert_eq(fits(&im, MIB(4)), 0, "%s", err);
	cr_assert_eq(fits(&im, MIB(64)), 0, "%s", err);
}

Test(elf_fits, beyond_ram)
{
	struct elf_image im = fit_image();

	cr_assert_eq(fits(&im, MIB(2)), -ERANGE);
	cr_assert_str_eq(err, "segment 1 [0x200000, 0x400000) beyond RAM (0x200000 bytes)");
}

/* RAM above 3 GiB is at 4 GiB and up: a segment there fits, one in or across the hole does not. */
Test(elf_fits, high_ram_and_the_hole)
{
	struct elf_image im = fit_image();

	im.seg[1].paddr = GIB(4);
	cr_assert_eq(fits(&im, MIB(5120)), 0, "%s", err);
	cr_assert_eq(fits(&im, GIB(3)), -ERANGE);
	cr_assert_str_eq(err, "segment 1 [0x100000000, 0x100200000) beyond RAM (0xc0000000 bytes)");
	im.seg[1].paddr = GIB(3);
	cr_assert_eq(fits(&im, MIB(5120)), -ERANGE);
	cr_assert_str_eq(err, "segment 1 [0xc0000000, 0xc0200000) beyond RAM "
			 "(0x140000000 bytes: below 3 GiB and from 4 GiB)");
	im.seg[1].paddr = GIB(3) - MIB(1);
	cr_assert_eq(fits(&im, MIB(5120)), -ERANGE);
	im.seg[1].paddr = GIB(3) - MIB(2);
	cr_assert_eq(fits(&im, MIB(5120)), 0, "%s", err);
	im.seg[1].paddr = MIB(6142);
	cr_assert_eq(fits(&im, MIB(5120)), 0, "%s", err);
	im.seg[1].paddr = MIB(6143);
	cr_assert_eq(fits(&im, MIB(5120)), -ERANGE);
}

Test(elf_fits, wrapping_segment)
{
	struct elf_image im = fit_image();

	im.seg[1].paddr = ~0ull - 0x10;
	im.seg[1].memsz = 0x100;
	cr_assert_eq(fits(&im, MIB(4)), -ERANGE);
	cr_assert(strstr(err, "segment 1"), "%s", err);
}

Test(elf_fits, overlaps_bootinfo)
{
	struct elf_image im = low_image(0x7000, 0x100);

	cr_assert_eq(fits(&im, MIB(4)), -ERANGE);
	cr_assert_str_eq(err, "segment 0 [0x7000, 0x7100) overlaps the boot-info area [0x6000, 0x8000)");
	/* Ending where the area starts is fine. */
	im = low_image(PVHV_BOOTINFO_GPA - 0x1000, 0x1000);
	cr_assert_eq(fits(&im, MIB(4)), 0, "%s", err);
	/* One byte into it is not. */
	im = low_image(PVHV_BOOTINFO_GPA - 0x1000, 0x1001);
	cr_assert_eq(fits(&im, MIB(4)), -ERANGE);
	cr_assert_str_eq(err, "segment 0 [0x5000, 0x6001) overlaps the boot-info area [0x6000, 0x8000)");
	/* Covering it (and the ACPI tables) names the first area hit. */
	im = low_image(0, 0x20000);
	cr_assert_eq(fits(&im, MIB(4)), -ERANGE);
	cr_assert(strstr(err, "overlaps the boot-info area"), "%s", err);
}

Test(elf_fits, overlaps_acpi)
{
	struct elf_image im = low_image(PVHV_ACPI_GPA, 0x10);

	cr_assert_eq(fits(&im, MIB(4)), -ERANGE);
	cr_assert_str_eq(err, "segment 0 [0x8000, 0x8010) overlaps the ACPI tables [0x8000, 0x10000)");
	/* Its last byte. */
	im = low_image(PVHV_ACPI_GPA + PVHV_ACPI_SIZE - 1, 0x1000);
	cr_assert_eq(fits(&im, MIB(4)), -ERANGE);
	cr_assert_str_eq(err, "segment 0 [0xffff, 0x10fff) overlaps the ACPI tables [0x8000, 0x10000)");
	/* Starting where the tables end is fine. */
	im = low_image(PVHV_ACPI_GPA + PVHV_ACPI_SIZE, 0x1000);
	cr_assert_eq(fits(&im, MIB(4)), 0, "%s", err);
	/* The second loadable segment is named by its own index. */
	im = fit_image();
	im.seg[1].paddr = 0xc000;
	im.seg[1].memsz = 0x1000;
	cr_assert_eq(fits(&im, MIB(4)), -ERANGE);
	cr_assert_str_eq(err, "segment 1 [0xc000, 0xd000) overlaps the ACPI tables [0x8000, 0x10000)");
}

Test(elf_fits, overlaps_initrd)
{
	struct elf_image im = fit_image(); /* [0x100000, 0x102000), [0x200000, 0x400000) */

	cr_assert_eq(fits_with_initrd(&im, MIB(8), 0x3ff000, 0x2000), -ERANGE);
	cr_assert_str_eq(err, "segment 1 [0x200000, 0x400000) overlaps the initrd [0x3ff000, 0x401000)");
	cr_assert_eq(fits_with_initrd(&im, MIB(8), 0xff000, 0x1001), -ERANGE);
	cr_assert_str_eq(err, "segment 0 [0x100000, 0x102000) overlaps the initrd [0xff000, 0x100001)");
	/* Touching on either side, or between the segments, is fine. */
	cr_assert_eq(fits_with_initrd(&im, MIB(8), 0x400000, MIB(4)), 0, "%s", err);
	cr_assert_eq(fits_with_initrd(&im, MIB(8), 0xff000, 0x1000), 0, "%s", err);
	cr_assert_eq(fits_with_initrd(&im, MIB(8), 0x102000, 0xfe000), 0, "%s", err);
	/* Size 0 means no initrd, whatever the address. */
	cr_assert_eq(fits_with_initrd(&im, MIB(8), 0x100000, 0), 0, "%s", err);
}

Test(elf_fits, initrd_wraps)
{
	struct elf_image im = fit_image();

	cr_assert_eq(fits_with_initrd(&im, MIB(8), ~0ull - 0xfff, 0x2000), -ERANGE);
	cr_assert_str_eq(err, "initrd at 0xfffffffffffff000 + 0x2000 bytes wraps around");
}

Test(elf_fits, entry_outside_segments)
{
	struct elf_image im = fit_image();

	im.entry32 = 0x102000; /* one past segment 0 */
	cr_assert_eq(fits(&im, MIB(4)), -ERANGE);
	cr_assert_str_eq(err, "entry point 0x102000 is not inside any loadable segment");
	im.entry32 = 0x3fffff;
	cr_assert_eq(fits(&im, MIB(4)), 0, "%s", err);
}

Test(elf_fits, parsed_image_fits)
{
	struct elf_image im;

	cr_assert_eq(parse(good(true, 8), &im), 0, "%s", err);
	cr_assert_eq(fits(&im, MIB(2)), 0, "%s", err);
	cr_assert_eq(fits(&im, MIB(1)), -ERANGE);
	cr_assert(strstr(err, "segment 0 [0x100000, 0x102000) beyond RAM"), "%s", err);
}

/* identity-ram: RAM is chunk 0 and host memory from 16 MiB; nothing else is. */
static struct elf_image one_segment(uint64_t paddr, uint64_t memsz)
{
	struct elf_image im = low_image(paddr, memsz);

	im.nr_segments = 1;
	return im;
}

Test(elf_fits, identity_layout)
{
	struct elf_image im = one_segment(MIB(16), MIB(8));
	struct ram_layout l = { .size = MIB(34), .nr = 2, .identity = true };

	l.r[0] = (struct ram_range){ 0, MIB(2) };
	l.r[1] = (struct ram_range){ MIB(16), MIB(32) };
	err[0] = 0;
	cr_assert_eq(elf_check_fits(&im, &l, 0, 0, err, sizeof(err)), 0, "%s", err);
	im = one_segment(MIB(4), MIB(1));
	cr_assert_eq(elf_check_fits(&im, &l, 0, 0, err, sizeof(err)), -ERANGE);
	cr_assert_str_eq(err, "segment 0 [0x400000, 0x500000) beyond RAM (0x2200000 bytes at "
			 "guest-physical = host-physical: see its ranges)");
	im = one_segment(MIB(40), MIB(9));
	cr_assert_eq(elf_check_fits(&im, &l, 0, 0, err, sizeof(err)), -ERANGE, "past the range's end");
}
