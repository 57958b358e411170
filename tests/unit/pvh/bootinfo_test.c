/* SPDX-License-Identifier: Apache-2.0 */
/* bootinfo_test.c: unit tests for pvh/bootinfo.c, parsing the built area back. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "pvh/bootinfo.h"
#include "pvhv/abi.h"

static uint8_t buf[PVHV_BOOTINFO_SIZE + 64];
static char err[256];

#define GPA_TO_OFF(gpa) ((size_t)((gpa) - PVHV_BOOTINFO_GPA))

static struct bootinfo_params params(uint64_t ram)
{
	struct bootinfo_params p;

	memset(&p, 0, sizeof(p));
	p.ram_size = ram;
	return p;
}

static int build(const struct bootinfo_params *p)
{
	memset(buf, 0xaa, sizeof(buf));
	err[0] = 0;
	return bootinfo_build(buf, PVHV_BOOTINFO_SIZE, p, err, sizeof(err));
}

static struct pvhv_start_info start_info(void)
{
	struct pvhv_start_info si;

	memcpy(&si, buf, sizeof(si));
	return si;
}

static struct pvhv_memmap_entry map_entry(unsigned i)
{
	struct pvhv_start_info si = start_info();
	struct pvhv_memmap_entry e;

	cr_assert_lt(i, si.memmap_entries);
	memcpy(&e, buf + GPA_TO_OFF(si.memmap_paddr) + i * sizeof(e), sizeof(e));
	return e;
}

/* The map is sorted, gap-free, non-overlapping, and covers [0, ram). */
static void check_coverage(uint64_t ram)
{
	struct pvhv_start_info si = start_info();
	uint64_t next = 0;
	unsigned i;

	cr_assert_gt(si.memmap_entries, 0);
	cr_assert_leq(si.memmap_entries, BOOTINFO_MEMMAP_MAX);
	for (i = 0; i < si.memmap_entries; i++) {
		struct pvhv_memmap_entry e = map_entry(i);

		cr_assert_eq(e.addr, next, "entry %u starts at 0x%llx, expected 0x%llx",
			     i, (unsigned long long)e.addr, (unsigned long long)next);
		cr_assert_gt(e.size, 0, "entry %u is empty", i);
		cr_assert_eq(e.reserved, 0);
		next = e.addr + e.size;
	}
	cr_assert_eq(next, ram);
}

static void expect_entry(unsigned i, uint64_t addr, uint64_t size, uint32_t type)
{
	struct pvhv_memmap_entry e = map_entry(i);

	cr_assert_eq(e.addr, addr, "entry %u addr 0x%llx", i, (unsigned long long)e.addr);
	cr_assert_eq(e.size, size, "entry %u size 0x%llx", i, (unsigned long long)e.size);
	cr_assert_eq(e.type, type, "entry %u type %u", i, e.type);
}

static void expect_fail(const struct bootinfo_params *p, int rc, const char *msg)
{
	cr_assert_eq(build(p), rc, "rc for \"%s\" (message \"%s\")", msg, err);
	cr_assert(strstr(err, msg), "message \"%s\" lacks \"%s\"", err, msg);
}

Test(bootinfo, layout_constants)
{
	cr_assert_eq(BOOTINFO_CMDLINE_OFF, 0x1800);
	cr_assert_leq(BOOTINFO_MEMMAP_OFF + BOOTINFO_MEMMAP_MAX * sizeof(struct pvhv_memmap_entry),
		      BOOTINFO_CMDLINE_OFF);
	cr_assert_eq(sizeof(struct pvhv_start_info), 56);
}

Test(bootinfo, basic_no_initrd)
{
	struct bootinfo_params p = params(MIB(16));
	struct pvhv_start_info si;

	p.cmdline = "console=ttyS0 quiet";
	cr_assert_eq(build(&p), 0, "%s", err);
	si = start_info();
	cr_assert_eq(si.magic, PVHV_START_MAGIC);
	cr_assert_eq(si.version, 1);
	cr_assert_eq(si.flags, 0);
	cr_assert_eq(si.nr_modules, 0);
	cr_assert_eq(si.modlist_paddr, 0);
	cr_assert_eq(si.rsdp_paddr, 0);
	cr_assert_eq(si.reserved, 0);
	cr_assert_eq(si.cmdline_paddr, PVHV_BOOTINFO_GPA + 0x1800);
	cr_assert_str_eq((char *)buf + GPA_TO_OFF(si.cmdline_paddr), "console=ttyS0 quiet");
	cr_assert_eq(si.memmap_paddr, PVHV_BOOTINFO_GPA + 0x80);
	cr_assert_eq(si.memmap_entries, 5);
	expect_entry(0, 0, 0x6000, PVHV_MEMMAP_RAM);
	expect_entry(1, 0x6000, 0x2000, PVHV_MEMMAP_RESERVED);
	expect_entry(2, 0x8000, 0xA0000 - 0x8000, PVHV_MEMMAP_RAM);
	expect_entry(3, 0xA0000, 0x60000, PVHV_MEMMAP_RESERVED);
	expect_entry(4, 0x100000, MIB(16) - 0x100000, PVHV_MEMMAP_RAM);
	check_coverage(MIB(16));
}

Test(bootinfo, buffer_zeroed_outside_structures)
{
	struct bootinfo_params p = params(MIB(2));
	size_t i, map_end = 0x80 + 5 * sizeof(struct pvhv_memmap_entry);

	cr_assert_eq(build(&p), 0, "%s", err);
	for (i = sizeof(struct pvhv_start_info); i < 0x80; i++)
		cr_assert_eq(buf[i], 0, "byte 0x%zx", i);
	for (i = map_end; i < PVHV_BOOTINFO_SIZE; i++)
		cr_assert_eq(buf[i], 0, "byte 0x%zx", i);
	/* Bytes past buflen are untouched. */
	cr_assert_eq(buf[PVHV_BOOTINFO_SIZE], 0xaa);
}

Test(bootinfo, buffer_zeroed_on_failure)
{
	struct bootinfo_params p = params(MIB(3));
	size_t i;

	cr_assert_eq(build(&p), -EINVAL);
	for (i = 0; i < PVHV_BOOTINFO_SIZE; i++)
		cr_assert_eq(buf[i], 0, "byte 0x%zx", i);
}

Test(bootinfo, null_cmdline_is_empty_string)
{
	struct bootinfo_params p = params(MIB(2));
	struct pvhv_start_info si;

	cr_assert_eq(build(&p), 0, "%s", err);
	si = start_info();
	cr_assert_eq(si.cmdline_paddr, PVHV_BOOTINFO_GPA + BOOTINFO_CMDLINE_OFF);
	cr_assert_str_eq((char *)buf + GPA_TO_OFF(si.cmdline_paddr), "");
	expect_entry(4, 0x100000, 0x100000, PVHV_MEMMAP_RAM);
	check_coverage(MIB(2));
}

Test(bootinfo, cmdline_at_limit)
{
	struct bootinfo_params p = params(MIB(2));
	static char line[PVHV_CMDLINE_MAX + 1];

	memset(line, 'x', PVHV_CMDLINE_MAX - 1);
	p.cmdline = line;
	cr_assert_eq(build(&p), 0, "%s", err);
	cr_assert_eq(strlen((char *)buf + BOOTINFO_CMDLINE_OFF), PVHV_CMDLINE_MAX - 1);
	cr_assert_eq(buf[PVHV_BOOTINFO_SIZE - 1], 0);
}

Test(bootinfo, cmdline_too_long)
{
	struct bootinfo_params p = params(MIB(2));
	static char line[4000];

	memset(line, 'x', 3000);
	p.cmdline = line;
	expect_fail(&p, -E2BIG, "command line is 3000 bytes, limit 2047");
	line[PVHV_CMDLINE_MAX] = 0;
	expect_fail(&p, -E2BIG, "command line is 2048 bytes, limit 2047");
}

Test(bootinfo, initrd_module)
{
	struct bootinfo_params p = params(MIB(64));
	struct pvhv_start_info si;
	struct pvhv_modlist_entry m;

	p.initrd_gpa = MIB(60);
	p.initrd_size = 12345;
	cr_assert_eq(build(&p), 0, "%s", err);
	si = start_info();
	cr_assert_eq(si.nr_modules, 1);
	cr_assert_eq(si.modlist_paddr, PVHV_BOOTINFO_GPA + 0x40);
	memcpy(&m, buf + GPA_TO_OFF(si.modlist_paddr), sizeof(m));
	cr_assert_eq(m.paddr, MIB(60));
	cr_assert_eq(m.size, 12345);
	cr_assert_eq(m.cmdline_paddr, 0);
	cr_assert_eq(m.reserved, 0);
	check_coverage(MIB(64));
}

Test(bootinfo, initrd_at_end_of_ram)
{
	struct bootinfo_params p = params(MIB(4));

	p.initrd_gpa = MIB(3);
	p.initrd_size = MIB(1);
	cr_assert_eq(build(&p), 0, "%s", err);
}

Test(bootinfo, rsdp_and_extras)
{
	struct bootinfo_params p = params(MIB(32));
	struct pvhv_start_info si;

	p.rsdp_gpa = 0x9f000;
	p.nr_extra = 3;
	/* Deliberately unsorted. */
	p.extra[0] = (struct bootinfo_region){ MIB(31), MIB(1), PVHV_MEMMAP_RESERVED };
	p.extra[1] = (struct bootinfo_region){ 0x9f000, 0x1000, PVHV_MEMMAP_ACPI };
	p.extra[2] = (struct bootinfo_region){ 0x100000, 0x10000, PVHV_MEMMAP_NVS };
	cr_assert_eq(build(&p), 0, "%s", err);
	si = start_info();
	cr_assert_eq(si.rsdp_paddr, 0x9f000);
	cr_assert_eq(si.memmap_entries, 8);
	expect_entry(0, 0, 0x6000, PVHV_MEMMAP_RAM);
	expect_entry(1, 0x6000, 0x2000, PVHV_MEMMAP_RESERVED);
	expect_entry(2, 0x8000, 0x9f000 - 0x8000, PVHV_MEMMAP_RAM);
	expect_entry(3, 0x9f000, 0x1000, PVHV_MEMMAP_ACPI);
	expect_entry(4, 0xA0000, 0x60000, PVHV_MEMMAP_RESERVED);
	expect_entry(5, 0x100000, 0x10000, PVHV_MEMMAP_NVS);
	expect_entry(6, 0x110000, MIB(31) - 0x110000, PVHV_MEMMAP_RAM);
	expect_entry(7, MIB(31), MIB(1), PVHV_MEMMAP_RESERVED);
	check_coverage(MIB(32));
}

Test(bootinfo, four_extras_in_one_range)
{
	struct bootinfo_params p = params(MIB(8));
	unsigned i;

	p.nr_extra = 4;
	for (i = 0; i < 4; i++)
		p.extra[i] = (struct bootinfo_region){ MIB(7) - i * MIB(1), 0x1000,
						       PVHV_MEMMAP_ACPI };
	cr_assert_eq(build(&p), 0, "%s", err);
	cr_assert_eq(start_info().memmap_entries, 5 + 8);
	check_coverage(MIB(8));
	expect_entry(5, MIB(4), 0x1000, PVHV_MEMMAP_ACPI);
	expect_entry(12, MIB(7) + 0x1000, MIB(1) - 0x1000, PVHV_MEMMAP_RAM);
}

Test(bootinfo, adjacent_extras)
{
	struct bootinfo_params p = params(MIB(4));

	p.nr_extra = 2;
	p.extra[0] = (struct bootinfo_region){ 0x8000, 0x1000, PVHV_MEMMAP_ACPI };
	p.extra[1] = (struct bootinfo_region){ 0x9000, 0x97000, PVHV_MEMMAP_NVS };
	cr_assert_eq(build(&p), 0, "%s", err);
	check_coverage(MIB(4));
	expect_entry(2, 0x8000, 0x1000, PVHV_MEMMAP_ACPI);
	expect_entry(3, 0x9000, 0x97000, PVHV_MEMMAP_NVS);
	expect_entry(4, 0xA0000, 0x60000, PVHV_MEMMAP_RESERVED);
}

Test(bootinfo, bad_ram_size)
{
	struct bootinfo_params p = params(0);

	expect_fail(&p, -EINVAL, "RAM size 0x0 is not a non-zero multiple of 2 MiB");
	p.ram_size = MIB(1);
	expect_fail(&p, -EINVAL, "RAM size 0x100000");
	p.ram_size = MIB(3);
	expect_fail(&p, -EINVAL, "RAM size 0x300000");
	p.ram_size = MIB(4) + 4096;
	expect_fail(&p, -EINVAL, "not a non-zero multiple of 2 MiB");
	p.ram_size = PVHV_RAM_MAX + MIB(2);
	expect_fail(&p, -EINVAL, "RAM size 0x1000200000 is not a non-zero multiple of 2 MiB up to 0x1000000000");
	p.ram_size = PVHV_RAM_MAX;
	cr_assert_eq(build(&p), 0, "%s", err);
}

Test(bootinfo, short_buffer)
{
	struct bootinfo_params p = params(MIB(2));

	cr_assert_eq(bootinfo_build(buf, PVHV_BOOTINFO_SIZE - 1, &p, err, sizeof(err)),
		     -ENOSPC);
	cr_assert_str_eq(err, "boot-info buffer is 8191 bytes, need 8192");
}

Test(bootinfo, initrd_outside_ram)
{
	struct bootinfo_params p = params(MIB(16));

	p.initrd_gpa = MIB(15);
	p.initrd_size = MIB(1) + 1;
	expect_fail(&p, -EINVAL, "initrd [0xf00000, +0x100001) is not inside low RAM [0, 0x1000000)");
	p.initrd_gpa = ~0ull - 10;
	p.initrd_size = 100;
	expect_fail(&p, -EINVAL, "is not inside low RAM");
}

Test(bootinfo, initrd_in_low_ram_only)
{
	struct bootinfo_params p = params(GIB(8));

	p.initrd_gpa = GIB(5); /* high RAM */
	p.initrd_size = 4096;
	expect_fail(&p, -EINVAL, "initrd [0x140000000, +0x1000) is not inside low RAM [0, 0xc0000000)");
	p.initrd_gpa = GIB(4) - 4096; /* the hole */
	expect_fail(&p, -EINVAL, "not inside low RAM");
	p.initrd_gpa = GIB(3) - 4096;
	p.initrd_size = 4097;
	expect_fail(&p, -EINVAL, "not inside low RAM");
	p.initrd_size = 4096;
	cr_assert_eq(build(&p), 0, "%s", err);
}

/* RAM above 3 GiB continues at 4 GiB; the hole between is not in the map. */
Test(bootinfo, memmap_with_hole)
{
	struct bootinfo_params p = params(MIB(4608));

	cr_assert_eq(build(&p), 0, "%s", err);
	cr_assert_eq(start_info().memmap_entries, 6);
	expect_entry(0, 0, 0x6000, PVHV_MEMMAP_RAM);
	expect_entry(1, 0x6000, 0x2000, PVHV_MEMMAP_RESERVED);
	expect_entry(2, 0x8000, 0xA0000 - 0x8000, PVHV_MEMMAP_RAM);
	expect_entry(3, 0xA0000, 0x60000, PVHV_MEMMAP_RESERVED);
	expect_entry(4, 0x100000, GIB(3) - 0x100000, PVHV_MEMMAP_RAM);
	expect_entry(5, GIB(4), MIB(1536), PVHV_MEMMAP_RAM);

	/* 3 GiB exactly: no high range. */
	p = params(GIB(3));
	cr_assert_eq(build(&p), 0, "%s", err);
	cr_assert_eq(start_info().memmap_entries, 5);
	expect_entry(4, 0x100000, GIB(3) - 0x100000, PVHV_MEMMAP_RAM);
	check_coverage(GIB(3));
}

Test(bootinfo, extras_and_rsdp_with_hole)
{
	struct bootinfo_params p = params(MIB(5120));

	p.nr_extra = 2;
	p.extra[0] = (struct bootinfo_region){ 0x8000, 0x8000, PVHV_MEMMAP_ACPI };
	p.extra[1] = (struct bootinfo_region){ GIB(4) + MIB(2), 0x1000, PVHV_MEMMAP_NVS };
	p.rsdp_gpa = GIB(4) + MIB(2);
	cr_assert_eq(build(&p), 0, "%s", err);
	cr_assert_eq(start_info().memmap_entries, 9);
	expect_entry(2, 0x8000, 0x8000, PVHV_MEMMAP_ACPI);
	expect_entry(5, 0x100000, GIB(3) - 0x100000, PVHV_MEMMAP_RAM);
	expect_entry(6, GIB(4), MIB(2), PVHV_MEMMAP_RAM);
	expect_entry(7, GIB(4) + MIB(2), 0x1000, PVHV_MEMMAP_NVS);
	expect_entry(8, GIB(4) + MIB(2) + 0x1000, GIB(2) - MIB(2) - 0x1000, PVHV_MEMMAP_RAM);

	p.extra[1].addr = GIB(3) + MIB(2); /* the hole */
	expect_fail(&p, -EINVAL, "extra region 1 [0xc0200000, +0x1000) is not inside RAM");
	p.extra[1].addr = GIB(3) - 0x800; /* into the hole */
	expect_fail(&p, -EINVAL, "extra region 1 [0xbffff800, +0x1000) is not inside RAM");
	p.extra[1].addr = MIB(6144) - 0x800; /* past the end */
	expect_fail(&p, -EINVAL, "is not inside RAM");
	p.extra[1].addr = MIB(16);
	p.rsdp_gpa = GIB(3) + 64;
	expect_fail(&p, -EINVAL, "RSDP at 0xc0000040 is not inside RAM");
}

Test(bootinfo, initrd_overlaps_bootinfo)
{
	struct bootinfo_params p = params(MIB(16));

	p.initrd_gpa = 0x7000;
	p.initrd_size = 0x10;
	expect_fail(&p, -EINVAL, "initrd [0x7000, +0x10) overlaps the boot-info area [0x6000, 0x8000)");
	p.initrd_gpa = 0;
	p.initrd_size = 0x6001;
	expect_fail(&p, -EINVAL, "overlaps the boot-info area");
}

Test(bootinfo, initrd_overlaps_extra)
{
	struct bootinfo_params p = params(MIB(16));

	p.nr_extra = 1;
	p.extra[0] = (struct bootinfo_region){ MIB(15), 0x1000, PVHV_MEMMAP_ACPI };
	p.initrd_gpa = MIB(14);
	p.initrd_size = MIB(1) + 1;
	expect_fail(&p, -EINVAL, "overlaps extra region 0");
}

Test(bootinfo, too_many_extras)
{
	struct bootinfo_params p = params(MIB(16));

	p.nr_extra = BOOTINFO_MAX_EXTRA + 1;
	expect_fail(&p, -EINVAL, "5 extra regions, limit 4");
}

Test(bootinfo, extra_bad_size_or_type)
{
	struct bootinfo_params p = params(MIB(16));

	p.nr_extra = 1;
	p.extra[0] = (struct bootinfo_region){ MIB(2), 0, PVHV_MEMMAP_ACPI };
	expect_fail(&p, -EINVAL, "extra region 0: size 0x0 / type 3 invalid");
	p.extra[0] = (struct bootinfo_region){ MIB(2), 4096, 0 };
	expect_fail(&p, -EINVAL, "type 0 invalid");
	p.extra[0] = (struct bootinfo_region){ MIB(2), 4096, 8 };
	expect_fail(&p, -EINVAL, "type 8 invalid");
}

Test(bootinfo, extra_out_of_range)
{
	struct bootinfo_params p = params(MIB(16));

	p.nr_extra = 1;
	p.extra[0] = (struct bootinfo_region){ 0x1000, 0x1000, PVHV_MEMMAP_ACPI };
	expect_fail(&p, -EINVAL, "extra region 0 [0x1000, +0x1000) is not inside RAM");
	p.extra[0] = (struct bootinfo_region){ 0x6000, 0x1000, PVHV_MEMMAP_ACPI };
	expect_fail(&p, -EINVAL, "is not inside RAM");
	p.extra[0] = (struct bootinfo_region){ 0x9f000, 0x2000, PVHV_MEMMAP_ACPI };
	expect_fail(&p, -EINVAL, "is not inside RAM");
	p.extra[0] = (struct bootinfo_region){ 0xA0000, 0x1000, PVHV_MEMMAP_ACPI };
	expect_fail(&p, -EINVAL, "is not inside RAM");
	p.extra[0] = (struct bootinfo_region){ 0xff000, 0x2000, PVHV_MEMMAP_ACPI };
	expect_fail(&p, -EINVAL, "is not inside RAM");
	p.extra[0] = (struct bootinfo_region){ MIB(16) - 0x1000, 0x2000, PVHV_MEMMAP_ACPI };
	expect_fail(&p, -EINVAL, "is not inside RAM");
	p.extra[0] = (struct bootinfo_region){ ~0ull - 0xfff, 0x2000, PVHV_MEMMAP_ACPI };
	expect_fail(&p, -EINVAL, "is not inside RAM");
	p.extra[0] = (struct bootinfo_region){ MIB(16) - 0x1000, 0x1000, PVHV_MEMMAP_ACPI };
	cr_assert_eq(build(&p), 0, "%s", err);
	check_coverage(MIB(16));
}

Test(bootinfo, overlapping_extras)
{
	struct bootinfo_params p = params(MIB(16));

	p.nr_extra = 3;
	p.extra[0] = (struct bootinfo_region){ MIB(2), 0x2000, PVHV_MEMMAP_ACPI };
	p.extra[1] = (struct bootinfo_region){ MIB(8), 0x2000, PVHV_MEMMAP_ACPI };
	p.extra[2] = (struct bootinfo_region){ MIB(2) + 0x1000, 0x2000, PVHV_MEMMAP_NVS };
	expect_fail(&p, -EINVAL, "extra region 2 overlaps extra region 0");
}

Test(bootinfo, rsdp_outside_ram)
{
	struct bootinfo_params p = params(MIB(2));

	p.rsdp_gpa = MIB(2) - 8;
	expect_fail(&p, -EINVAL, "RSDP at 0x1ffff8 is not inside RAM (0x200000 bytes)");
}

Test(bootinfo_place, top_of_ram)
{
	uint64_t gpa = 0;

	cr_assert_eq(bootinfo_place_initrd(MIB(64), MIB(20), MIB(1), &gpa), 0);
	cr_assert_eq(gpa, MIB(63));
	cr_assert_eq(bootinfo_place_initrd(MIB(64), MIB(20), 5000, &gpa), 0);
	cr_assert_eq(gpa, MIB(64) - 8192);
	cr_assert(IS_ALIGNED(gpa, PAGE_SIZE));
}

Test(bootinfo_place, chunk_aligned_when_large)
{
	uint64_t gpa = 0;

	/* 3 MiB: at 60 MiB (a 2 MiB boundary) rather than 61 MiB, so its first chunk can be shared. */
	cr_assert_eq(bootinfo_place_initrd(MIB(64), MIB(20), MIB(3), &gpa), 0);
	cr_assert_eq(gpa, MIB(60));
	/* No room below for the boundary: page-aligned as before. */
	cr_assert_eq(bootinfo_place_initrd(MIB(64), MIB(61), MIB(3), &gpa), 0);
	cr_assert_eq(gpa, MIB(61));
}

Test(bootinfo_place, top_of_low_ram)
{
	uint64_t gpa = 0;

	cr_assert_eq(bootinfo_place_initrd(GIB(8), MIB(20), MIB(2), &gpa), 0);
	cr_assert_eq(gpa, GIB(3) - MIB(2));
	cr_assert_eq(bootinfo_place_initrd(GIB(3) + MIB(2), MIB(20), MIB(2), &gpa), 0);
	cr_assert_eq(gpa, GIB(3) - MIB(2));
	cr_assert_eq(bootinfo_place_initrd(MIB(4608), GIB(3) - MIB(1), MIB(2), &gpa), -ENOSPC);
}

Test(bootinfo_place, exactly_fits_above_kernel)
{
	uint64_t gpa = 0;

	cr_assert_eq(bootinfo_place_initrd(MIB(8), MIB(4), MIB(4), &gpa), 0);
	cr_assert_eq(gpa, MIB(4));
	cr_assert_eq(bootinfo_place_initrd(MIB(8), MIB(4) + 1, MIB(4), &gpa), -ENOSPC);
}

Test(bootinfo_place, never_below_1mib)
{
	uint64_t gpa = 0;

	cr_assert_eq(bootinfo_place_initrd(MIB(2), 0, MIB(1), &gpa), 0);
	cr_assert_eq(gpa, MIB(1));
	cr_assert_eq(bootinfo_place_initrd(MIB(2), 0, MIB(1) + 1, &gpa), -ENOSPC);
}

Test(bootinfo_place, rejects)
{
	uint64_t gpa = 42;

	cr_assert_eq(bootinfo_place_initrd(MIB(8), MIB(2), 0, &gpa), -EINVAL);
	cr_assert_eq(bootinfo_place_initrd(MIB(8), MIB(2), MIB(9), &gpa), -ENOSPC);
	cr_assert_eq(bootinfo_place_initrd(MIB(8), MIB(9), 4096, &gpa), -ENOSPC);
	cr_assert_eq(bootinfo_place_initrd(MIB(8), MIB(2), ~0ull, &gpa), -ENOSPC);
	cr_assert_eq(gpa, 42, "gpa_out written on failure");
}

/* ---------------------------------------------------------------- identity-ram layouts */

/* Chunk 0, then host memory at [16, 40) and [44, 60) MiB: 2 + 24 + 16 = 42 MiB. */
static struct ram_layout ident_layout(void)
{
	struct ram_layout l = { .size = MIB(42), .nr = 3, .identity = true };

	l.r[0] = (struct ram_range){ 0, MIB(2) };
	l.r[1] = (struct ram_range){ MIB(16), MIB(24) };
	l.r[2] = (struct ram_range){ MIB(44), MIB(16) };
	return l;
}

/* The map lists the first MiB as usual, never [1, 2) MiB, then exactly the identity ranges. */
Test(bootinfo, identity_map)
{
	struct ram_layout l = ident_layout();
	struct bootinfo_params p = params(MIB(42));

	p.layout = &l;
	p.extra[p.nr_extra++] = (struct bootinfo_region){ PVHV_ACPI_GPA, PVHV_ACPI_SIZE, PVHV_MEMMAP_ACPI };
	cr_assert_eq(build(&p), 0, "%s", err);
	cr_assert_eq(start_info().memmap_entries, 7);
	expect_entry(0, 0, 0x6000, PVHV_MEMMAP_RAM);
	expect_entry(1, 0x6000, 0x2000, PVHV_MEMMAP_RESERVED);
	expect_entry(2, 0x8000, 0x8000, PVHV_MEMMAP_ACPI);
	expect_entry(3, 0x10000, 0xA0000 - 0x10000, PVHV_MEMMAP_RAM);
	expect_entry(4, 0xA0000, 0x60000, PVHV_MEMMAP_RESERVED);
	expect_entry(5, MIB(16), MIB(24), PVHV_MEMMAP_RAM);
	expect_entry(6, MIB(44), MIB(16), PVHV_MEMMAP_RAM);
}

/* An identity domain's initrd goes at the top of its highest identity range below 3 GiB. */
Test(bootinfo, identity_initrd)
{
	struct ram_layout l = ident_layout();
	struct bootinfo_params p = params(MIB(42));
	uint64_t gpa = 0;

	cr_assert_eq(bootinfo_place_initrd_in(&l, MIB(20), MIB(3), &gpa), 0);
	cr_assert_eq(gpa, MIB(56), "2 MiB-aligned at the top of [44, 60) MiB");
	/* Too big for the top range: the one below, above the kernel. */
	cr_assert_eq(bootinfo_place_initrd_in(&l, MIB(20), MIB(17), &gpa), 0);
	cr_assert_eq(gpa, MIB(22));
	cr_assert_eq(bootinfo_place_initrd_in(&l, MIB(30), MIB(17), &gpa), -ENOSPC);
	/* Never in chunk 0, which the map lists only up to 1 MiB. */
	l.r[1].size = MIB(2);
	l.r[2].size = MIB(2);
	l.size = MIB(6);
	cr_assert_eq(bootinfo_place_initrd_in(&l, 0, 0x80000, &gpa), 0);
	cr_assert_eq(gpa, MIB(46) - 0x80000);
	cr_assert_eq(bootinfo_place_initrd_in(&l, 0, MIB(3), &gpa), -ENOSPC);

	l = ident_layout();
	p.layout = &l;
	p.initrd_gpa = MIB(1);
	p.initrd_size = 0x1000;
	expect_fail(&p, -EINVAL, "initrd [0x100000, +0x1000) is not inside one identity RAM range below 3 GiB");
	p.initrd_gpa = MIB(40) - 0x1000;
	p.initrd_size = 0x2000;
	expect_fail(&p, -EINVAL, "is not inside one identity RAM range");
	p.initrd_gpa = MIB(44);
	cr_assert_eq(build(&p), 0, "%s", err);
}

/* Extras and the RSDP must be in what the map lists as RAM; a layout must match ram_size. */
Test(bootinfo, identity_checks)
{
	struct ram_layout l = ident_layout();
	struct bootinfo_params p = params(MIB(42));

	p.layout = &l;
	p.extra[p.nr_extra++] = (struct bootinfo_region){ MIB(1), 0x1000, PVHV_MEMMAP_ACPI };
	expect_fail(&p, -EINVAL, "extra region 0 [0x100000, +0x1000) is not inside RAM at [0x8000, 0xa0000) "
		    "or in one identity range");
	p.extra[0].addr = MIB(8);
	expect_fail(&p, -EINVAL, "extra region 0 [0x800000, +0x1000) is not inside RAM");
	p.nr_extra = 0;
	p.rsdp_gpa = MIB(10);
	expect_fail(&p, -EINVAL, "RSDP at 0xa00000 is not inside RAM");
	p.rsdp_gpa = 0;
	p.ram_size = MIB(40);
	expect_fail(&p, -EINVAL, "RAM layout of 0x2a00000 bytes in 3 ranges for RAM size 0x2800000");
}
