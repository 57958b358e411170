/* SPDX-License-Identifier: Apache-2.0 */
/* memzero_test.c: unit tests for memzero_except() (lib/base.h), which clears a reused domain slot. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"

/* A ticket lock as arch/x86/arch.h has it: taken with a ticket from next, held while owner is it. */
struct ticket {
	uint32_t next, owner;
};

struct slot {
	char name[13];
	struct ticket a;
	uint64_t counters[3];
	struct ticket b;
	char tail[7];
};

static const size_t locks[] = { offsetof(struct slot, a), offsetof(struct slot, b) };

static bool take(struct ticket *t)
{
	if (t->next != t->owner)
		return false;
	t->next++;
	return true;
}

static void drop(struct ticket *t)
{
	t->owner++;
}

Test(memzero, clears_all_but_the_kept_ranges)
{
	struct slot s;

	memset(&s, 0x5a, sizeof(s));
	s.a = (struct ticket){ 7, 6 };
	s.b = (struct ticket){ 3, 3 };
	cr_assert(memzero_except(&s, sizeof(s), locks, 2, sizeof(struct ticket)));
	for (size_t i = 0; i < sizeof(s.name); i++)
		cr_assert_eq(s.name[i], 0);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(s.counters[i], 0);
	for (size_t i = 0; i < sizeof(s.tail); i++)
		cr_assert_eq(s.tail[i], 0);
	cr_assert(s.a.next == 7 && s.a.owner == 6);
	cr_assert(s.b.next == 3 && s.b.owner == 3);
}

/* The hang it prevents: a slot cleared while another CPU holds its lock, then that CPU's unlock. */
Test(memzero, a_lock_held_across_the_clear_stays_usable)
{
	struct slot s = { 0 }, plain;

	cr_assert(take(&s.b));          /* the console writer's trylock on an ended domain */
	plain = s;
	memset(&plain, 0, sizeof(plain)); /* what a plain memset of the slot did */
	drop(&plain.b);
	cr_assert(!take(&plain.b), "a zeroed-then-released ticket lock should stay taken");

	cr_assert(memzero_except(&s, sizeof(s), locks, 2, sizeof(struct ticket)));
	drop(&s.b);
	cr_assert(take(&s.b), "the kept lock is free again after its holder's unlock");
}

Test(memzero, refuses_unordered_overlapping_or_outside_ranges)
{
	struct slot s;
	const size_t backwards[] = { offsetof(struct slot, b), offsetof(struct slot, a) };
	const size_t overlap[] = { 0, 4 };
	const size_t outside[] = { sizeof(struct slot) - 4 };

	memset(&s, 0x77, sizeof(s));
	cr_assert(!memzero_except(&s, sizeof(s), backwards, 2, sizeof(struct ticket)));
	cr_assert(!memzero_except(&s, sizeof(s), overlap, 2, sizeof(struct ticket)));
	cr_assert(!memzero_except(&s, sizeof(s), outside, 1, sizeof(struct ticket)));
	cr_assert_eq(s.name[0], 0x77, "nothing is written when the ranges are refused");
	cr_assert(memzero_except(&s, sizeof(s), NULL, 0, 0));
	cr_assert_eq(s.tail[6], 0);
}
