/* SPDX-License-Identifier: Apache-2.0 */
/* mcfg_test.c: unit tests for drivers/pci/mcfg.c: good tables and each rejection. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "drivers/pci/pci.h"

static uint8_t t[256];
static struct pci_segment segs[4];
static unsigned nr;
static char err[160];

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A table of n entries; entry i is given later by entry(). */
static size_t table(unsigned n)
{
	size_t len = 44 + 16 * n;

	memset(t, 0, sizeof(t));
	memcpy(t, "MCFG", 4);
	put32(t + 4, (uint32_t)len);
	t[8] = 1;
	return len;
}

static void entry(unsigned i, uint64_t base, uint16_t seg, uint8_t start, uint8_t end)
{
	uint8_t *e = t + 44 + 16 * i;

	put32(e, (uint32_t)base);
	put32(e + 4, (uint32_t)(base >> 32));
	e[8] = (uint8_t)seg;
	e[9] = (uint8_t)(seg >> 8);
	e[10] = start;
	e[11] = end;
}

static size_t seal(size_t len)
{
	uint8_t s = 0;

	t[9] = 0;
	for (size_t i = 0; i < len; i++)
		s += t[i];
	t[9] = (uint8_t)-s;
	return len;
}

static int parse(size_t len)
{
	err[0] = 0;
	return pci_mcfg_parse(t, len, segs, ARRAY_SIZE(segs), &nr, err, sizeof(err));
}

Test(mcfg, qemu_q35_shape)
{
	size_t len = table(1);

	entry(0, 0xb0000000, 0, 0, 255);
	cr_assert_eq(parse(seal(len)), 0, "%s", err);
	cr_assert_eq(nr, 1);
	cr_assert_eq(segs[0].base, 0xb0000000);
	cr_assert_eq(segs[0].seg, 0);
	cr_assert_eq(segs[0].bus_start, 0);
	cr_assert_eq(segs[0].bus_end, 255);
}

Test(mcfg, two_segments_and_high_base)
{
	size_t len = table(2);

	entry(0, 0xe0000000, 0, 0, 63);
	entry(1, 0x3f0000000000ULL, 1, 0x10, 0x1f);
	cr_assert_eq(parse(seal(len)), 0, "%s", err);
	cr_assert_eq(nr, 2);
	cr_assert_eq(segs[1].base, 0x3f0000000000ULL);
	cr_assert_eq(segs[1].seg, 1);
	cr_assert_eq(segs[1].bus_start, 0x10);
	cr_assert_eq(segs[1].bus_end, 0x1f);
}

Test(mcfg, same_buses_in_other_segments_are_fine)
{
	size_t len = table(2);

	entry(0, 0xe0000000, 0, 0, 255);
	entry(1, 0xf0000000ULL << 4, 1, 0, 255);
	cr_assert_eq(parse(seal(len)), 0, "%s", err);
	cr_assert_eq(nr, 2);
}

Test(mcfg, no_entries)
{
	cr_assert_eq(parse(seal(table(0))), 0, "%s", err);
	cr_assert_eq(nr, 0);
}

Test(mcfg, rejects_short_buffer_and_header)
{
	size_t len = seal(table(1));

	cr_assert_eq(parse(20), -EINVAL);
	cr_assert(strstr(err, "shorter than a table header"), "%s", err);
	cr_assert_eq(parse(len - 1), -EINVAL); /* header says more than is mapped */
	cr_assert(strstr(err, "beyond the"), "%s", err);
	put32(t + 4, 40);
	cr_assert_eq(parse(seal(len)), -EINVAL);
	cr_assert(strstr(err, "shorter than 44"), "%s", err);
	cr_assert_eq(nr, 0);
}

Test(mcfg, rejects_signature_checksum_partial_entry)
{
	size_t len = table(1);

	entry(0, 0xb0000000, 0, 0, 255);
	seal(len);
	t[50] ^= 1;
	cr_assert_eq(parse(len), -EINVAL);
	cr_assert(strstr(err, "checksum"), "%s", err);
	t[50] ^= 1;
	memcpy(t, "MCFX", 4);
	cr_assert_eq(parse(seal(len)), -EINVAL);
	cr_assert(strstr(err, "signature"), "%s", err);
	memcpy(t, "MCFG", 4);
	put32(t + 4, (uint32_t)len - 4);
	cr_assert_eq(parse(seal(len)), -EINVAL);
	cr_assert(strstr(err, "whole number of entries"), "%s", err);
}

Test(mcfg, rejects_bad_entries)
{
	size_t len = table(2);

	entry(0, 0xb0000000, 0, 0, 255);
	entry(1, 0xc0000000, 0, 9, 8);
	cr_assert_eq(parse(seal(len)), -EINVAL);
	cr_assert(strstr(err, "entry 1: start bus 9 > end bus 8"), "%s", err);
	entry(1, 0xc0080000, 1, 0, 8);
	cr_assert_eq(parse(seal(len)), -EINVAL);
	cr_assert(strstr(err, "entry 1: base 0xc0080000 not 1 MiB aligned"), "%s", err);
	entry(1, (1ULL << 52) - MIB(4), 1, 0, 8); /* window runs past 2^52 */
	cr_assert_eq(parse(seal(len)), -EINVAL);
	cr_assert(strstr(err, "beyond 2^52"), "%s", err);
	entry(1, ~0ULL << 20, 1, 0, 0); /* would wrap */
	cr_assert_eq(parse(seal(len)), -EINVAL);
	entry(1, 0xc0000000, 0, 255, 255);
	cr_assert_eq(parse(seal(len)), -EINVAL);
	cr_assert(strstr(err, "overlap entry 0"), "%s", err);
	cr_assert_eq(nr, 0);
}

Test(mcfg, rejects_too_many)
{
	size_t len = table(5);

	for (unsigned i = 0; i < 5; i++)
		entry(i, 0xb0000000, (uint16_t)i, 0, 0);
	cr_assert_eq(parse(seal(len)), -E2BIG);
	cr_assert(strstr(err, "5 entries, at most 4"), "%s", err);
}
