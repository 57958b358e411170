/* SPDX-License-Identifier: Apache-2.0 */
/* msimsg_test.c: unit tests for lib/msimsg.c (MSI decode/encode, the host vector allocator). */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "lib/msimsg.h"

static char err[160];
static struct msi_msg m;

static int dec(uint64_t addr, uint32_t data)
{
	err[0] = 0;
	memset(&m, 0xa5, sizeof(m));
	return msimsg_decode(addr, data, &m, err, sizeof(err));
}

Test(msimsg, decodes_what_linux_writes)
{
	/* Physical destination 2, fixed, vector 0x41: Linux's msi_compose_msg without remapping. */
	cr_assert_eq(dec(0xfee02000, 0x4041), 0);
	cr_assert_eq(m.dest, 2);
	cr_assert(!m.logical);
	cr_assert_eq(m.mode, MSI_MODE_FIXED);
	cr_assert_eq(m.vector, 0x41);
	cr_assert_eq(msimsg_x2apic_dest(&m), 2);
}

Test(msimsg, logical_lowest_and_ignored_bits)
{
	/* Logical, redirection hint, lowest priority, trigger and level bits, reserved data bits. */
	cr_assert_eq(dec(0xfee0300c | 3, 0xabcdc1ef), 0, "%s", err);
	cr_assert_eq(m.dest, 3);
	cr_assert(m.logical);
	cr_assert_eq(m.mode, MSI_MODE_LOWEST);
	cr_assert_eq(m.vector, 0xef);
	cr_assert_eq(msimsg_x2apic_dest(&m), 3); /* cluster 0, members 0 and 1 */
}

Test(msimsg, broadcast)
{
	cr_assert_eq(dec(0xfeeff000, 0x30), 0);
	cr_assert_eq(msimsg_x2apic_dest(&m), 0xffffffffu);
	cr_assert_eq(dec(0xfeeff004, 0x30), 0);
	cr_assert_eq(msimsg_x2apic_dest(&m), 0xff, "logical 0xff is cluster 0's eight members");
}

Test(msimsg, refuses_addresses_outside_the_window)
{
	static const uint64_t bad[] = { 0, 0xfed00000, 0xfef00000, 0xffe00000, 0x1fee00000ULL,
					0xfee00000ULL | 1ULL << 63, 0x7fee00000ULL };

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(dec(bad[i], 0x41), -EINVAL, "0x%lx", (unsigned long)bad[i]);
		cr_assert(strstr(err, "outside 0xfee00000-0xfeefffff"), "%s", err);
		cr_assert_eq(m.vector, 0xa5, "m untouched on error");
	}
}

Test(msimsg, refuses_extended_destination)
{
	cr_assert_eq(dec(0xfee00020, 0x41), -EINVAL);
	cr_assert(strstr(err, "reserved bits 11:4"), "%s", err);
	cr_assert_eq(dec(0xfee00010, 0x41), -EINVAL);
}

Test(msimsg, refuses_modes_it_cannot_deliver)
{
	static const char *const want[8] = { NULL, NULL, "SMI", "reserved (3)", "NMI", "INIT",
					     "reserved (6)", "ExtINT" };

	for (unsigned mode = 2; mode < 8; mode++) {
		cr_assert_eq(dec(0xfee00000, mode << 8 | 0x41), -EINVAL);
		cr_assert(strstr(err, want[mode]), "mode %u: %s", mode, err);
	}
}

Test(msimsg, refuses_low_vectors)
{
	for (unsigned v = 0; v < 16; v++)
		cr_assert_eq(dec(0xfee00000, v), -EINVAL, "vector %u", v);
	cr_assert(strstr(err, "vector 15 is below 16"), "%s", err);
	cr_assert_eq(dec(0xfee00000, 16), 0);
}

Test(msimsg, encode_round_trips)
{
	uint64_t addr;
	uint32_t data;

	msimsg_encode(7, 0x31, &addr, &data);
	cr_assert_eq(addr, 0xfee07000);
	cr_assert_eq(data, 0x31);
	cr_assert_eq(dec(addr, data), 0);
	cr_assert_eq(m.dest, 7);
	cr_assert(!m.logical);
	cr_assert_eq(m.mode, MSI_MODE_FIXED);
	cr_assert_eq(m.vector, 0x31);
	msimsg_encode(0xfe, 0xef, &addr, &data);
	cr_assert_eq(addr, 0xfeefe000);
}

Test(msimsg, vectors_next_fit_until_full)
{
	struct msi_vecmap vm;
	uint8_t v, got[4];

	msimsg_vec_init(&vm, 0x30, 0x33);
	for (unsigned i = 0; i < 4; i++) {
		cr_assert_eq(msimsg_vec_alloc(&vm, &got[i]), 0);
		cr_assert_eq(got[i], 0x30 + i);
		cr_assert(msimsg_vec_used(&vm, got[i]));
	}
	cr_assert_eq(msimsg_vec_alloc(&vm, &v), -ENOSPC);
	msimsg_vec_free(&vm, 0x31);
	cr_assert(!msimsg_vec_used(&vm, 0x31));
	cr_assert_eq(msimsg_vec_alloc(&vm, &v), 0);
	cr_assert_eq(v, 0x31);
}

Test(msimsg, freed_vector_reused_last)
{
	struct msi_vecmap vm;
	uint8_t a, b, c;

	msimsg_vec_init(&vm, 0x30, 0xef);
	cr_assert_eq(msimsg_vec_alloc(&vm, &a), 0);
	msimsg_vec_free(&vm, a);
	cr_assert_eq(msimsg_vec_alloc(&vm, &b), 0);
	cr_assert_neq(a, b, "a vector just freed is not handed out again at once");
	/* Only after the rest of the range went round. */
	for (unsigned i = 0; i < 0xef - 0x31; i++)
		cr_assert_eq(msimsg_vec_alloc(&vm, &c), 0);
	cr_assert_eq(c, 0xef);
	cr_assert_eq(msimsg_vec_alloc(&vm, &c), 0);
	cr_assert_eq(c, a);
	cr_assert_eq(msimsg_vec_alloc(&vm, &c), -ENOSPC);
}

Test(msimsg, free_ignores_outsiders)
{
	struct msi_vecmap vm;
	uint8_t v;

	msimsg_vec_init(&vm, 0x30, 0x30);
	cr_assert_eq(msimsg_vec_alloc(&vm, &v), 0);
	msimsg_vec_free(&vm, 0x20);
	msimsg_vec_free(&vm, 0xf0);
	cr_assert(msimsg_vec_used(&vm, 0x30));
	cr_assert_eq(msimsg_vec_alloc(&vm, &v), -ENOSPC);
	cr_assert(!msimsg_vec_used(&vm, 0x20));
}
