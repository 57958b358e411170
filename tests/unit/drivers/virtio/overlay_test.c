/* SPDX-License-Identifier: Apache-2.0 */
/* overlay_test.c: the copy-on-write block overlay over a read-only base image. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio/overlay.h"

#define BLK OVERLAY_BLOCK

/* Pages from the heap, counted; fail_after makes the n-th next allocation fail. */
static unsigned live, allocs;
static int fail_after = -1;

static int alloc_page(void *ctx, void **page)
{
	(void)ctx;
	if (fail_after == 0)
		return -ENOMEM;
	if (fail_after > 0)
		fail_after--;
	*page = aligned_alloc(BLK, BLK);
	memset(*page, 0xee, BLK);   /* contents are undefined: make that visible */
	live++;
	allocs++;
	return 0;
}

static void free_page(void *ctx, void *page)
{
	(void)ctx;
	free(page);
	live--;
}

static const struct overlay_pages pages = { alloc_page, free_page, NULL };

/* A 3.5-block base: bytes i -> (i * 7 + 1) & 0xff, a zero block 1, then a disk of 8 blocks. */
static uint8_t base[3 * BLK + BLK / 2];
static struct overlay ov;

static uint8_t base_byte(uint64_t i)
{
	if (i >= sizeof(base) || (i >= BLK && i < 2 * BLK))
		return 0;
	return (uint8_t)(i * 7 + 1);
}

static void setup(uint64_t limit)
{
	for (uint64_t i = 0; i < sizeof(base); i++)
		base[i] = base_byte(i);
	live = allocs = 0;
	fail_after = -1;
	cr_assert_eq(overlay_init(&ov, base, sizeof(base), 8 * BLK, limit, &pages), 0);
}

static void teardown(void)
{
	overlay_destroy(&ov);
	cr_assert_eq(ov.used, 0);
	cr_assert_eq(live, 0, "every page given back");
}

/* The whole disk as it reads now. */
static uint8_t disk[8 * BLK];

static void read_all(void)
{
	memset(disk, 0xcc, sizeof(disk));   /* every byte must come from the overlay */
	cr_assert_eq(overlay_read(&ov, 0, disk, sizeof(disk)), 0);
}

Test(overlay, reads_through_to_the_base_and_zeros_past_it)
{
	setup(16);
	read_all();
	for (uint64_t i = 0; i < sizeof(disk); i++)
		cr_assert_eq(disk[i], base_byte(i), "byte %lu", (unsigned long)i);
	cr_assert_eq(ov.used, 0, "reading takes no page");
	teardown();
}

Test(overlay, init_checks_its_arguments)
{
	cr_assert_eq(overlay_init(&ov, base, sizeof(base), sizeof(base) - 1, 1, &pages), -EINVAL);
	cr_assert_eq(overlay_init(&ov, NULL, 1, 8 * BLK, 1, &pages), -EINVAL);
	cr_assert_eq(overlay_init(&ov, base, 0, OVERLAY_MAX_SIZE + 1, 1, &pages), -EINVAL);
	cr_assert_eq(overlay_init(&ov, base, 0, OVERLAY_MAX_SIZE, 1, &pages), 0);
}

Test(overlay, a_partial_write_copies_the_rest_of_the_block)
{
	uint8_t w[100];

	setup(16);
	memset(w, 0x5a, sizeof(w));
	cr_assert_eq(overlay_write(&ov, BLK / 2 + 3, w, sizeof(w)), 0);
	read_all();
	for (uint64_t i = 0; i < sizeof(disk); i++) {
		uint8_t want = i >= BLK / 2 + 3 && i < BLK / 2 + 103 ? 0x5a : base_byte(i);

		cr_assert_eq(disk[i], want, "byte %lu", (unsigned long)i);
	}
	cr_assert_eq(ov.used, 4, "one data page and root, mid and leaf tables");
	cr_assert_eq(base[BLK / 2 + 3], base_byte(BLK / 2 + 3), "the base is never written");
	teardown();
}

Test(overlay, a_write_across_blocks_and_past_the_base)
{
	static uint8_t w[3 * BLK];

	setup(16);
	for (unsigned i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i ^ 0x33);
	cr_assert_eq(overlay_write(&ov, 2 * BLK + 10, w, sizeof(w)), 0);
	read_all();
	for (uint64_t i = 0; i < sizeof(disk); i++) {
		bool in = i >= 2 * BLK + 10 && i < 5 * BLK + 10;
		uint8_t want = in ? (uint8_t)((i - 2 * BLK - 10) ^ 0x33) : base_byte(i);

		cr_assert_eq(disk[i], want, "byte %lu", (unsigned long)i);
	}
	cr_assert_eq(ov.used, 4 + 3, "blocks 2..5 and three tables");
	teardown();
}

Test(overlay, out_of_range_and_overflow_are_refused)
{
	uint8_t b[16] = { 0 };

	setup(16);
	cr_assert_eq(overlay_read(&ov, 8 * BLK - 8, b, 16), -ERANGE);
	cr_assert_eq(overlay_write(&ov, 8 * BLK - 8, b, 16), -ERANGE);
	cr_assert_eq(overlay_write(&ov, UINT64_MAX - 4, b, 16), -ERANGE);
	cr_assert_eq(overlay_zero(&ov, 8, UINT64_MAX - 4), -ERANGE);
	cr_assert_eq(overlay_zero(&ov, 8 * BLK, 1), -ERANGE);
	cr_assert_eq(overlay_pages_needed(&ov, 1, UINT64_MAX, false), UINT64_MAX);
	cr_assert_eq(overlay_read(&ov, 8 * BLK, b, 0), 0, "an empty range at the end is inside");
	cr_assert_eq(ov.used, 0);
	teardown();
}

Test(overlay, the_limit_gives_enospc_and_changes_nothing)
{
	static uint8_t w[2 * BLK], before[8 * BLK];

	setup(5);
	memset(w, 0x11, sizeof(w));
	cr_assert_eq(overlay_write(&ov, 0, w, 1), 0);   /* 4 pages */
	read_all();
	memcpy(before, disk, sizeof(disk));
	/* Blocks 3 and 4 need two pages; one is left. */
	cr_assert_eq(overlay_pages_needed(&ov, 3 * BLK, 2 * BLK, false), 2);
	cr_assert_eq(overlay_write(&ov, 3 * BLK, w, sizeof(w)), -ENOSPC);
	read_all();
	cr_assert(memcmp(disk, before, sizeof(disk)) == 0, "nothing changed");
	cr_assert_eq(ov.used, 4);
	cr_assert_eq(live, 4);
	/* Rewriting an owned block needs nothing more; one new block fits. */
	cr_assert_eq(overlay_write(&ov, 5, w, 100), 0);
	cr_assert_eq(overlay_write(&ov, 3 * BLK, w, BLK), 0);
	cr_assert_eq(ov.used, 5);
	teardown();
}

Test(overlay, a_failing_allocator_leaves_reads_unchanged)
{
	static uint8_t w[3 * BLK], before[8 * BLK];

	setup(64);
	read_all();
	memcpy(before, disk, sizeof(disk));
	memset(w, 0x77, sizeof(w));
	fail_after = 4;   /* tables and the first data page, then no more */
	cr_assert_eq(overlay_write(&ov, 0, w, sizeof(w)), -ENOMEM);
	read_all();
	cr_assert(memcmp(disk, before, sizeof(disk)) == 0, "copies hold what the base held");
	fail_after = -1;
	teardown();
}

Test(overlay, whole_blocks_zeroed_give_their_pages_back)
{
	static uint8_t w[4 * BLK];

	setup(16);
	memset(w, 0x42, sizeof(w));
	cr_assert_eq(overlay_write(&ov, 0, w, sizeof(w)), 0);
	cr_assert_eq(ov.used, 7);
	cr_assert_eq(overlay_zero(&ov, 0, 4 * BLK), 0);
	read_all();
	for (uint64_t i = 0; i < 4 * BLK; i++)
		cr_assert_eq(disk[i], 0, "byte %lu reads zero, not the base", (unsigned long)i);
	for (uint64_t i = 4 * BLK; i < sizeof(disk); i++)
		cr_assert_eq(disk[i], base_byte(i));
	cr_assert_eq(ov.used, 3, "data pages gone; markers for the non-zero base keep one leaf");
	/* Writing then zeroing blocks over a zero base leaves nothing at all. */
	cr_assert_eq(overlay_write(&ov, 6 * BLK, w, 2 * BLK), 0);
	cr_assert_eq(overlay_zero(&ov, 6 * BLK, 2 * BLK), 0);
	cr_assert_eq(overlay_zero(&ov, 0, 4 * BLK), 0);
	read_all();
	for (uint64_t i = 0; i < 4 * BLK; i++)
		cr_assert_eq(disk[i], 0);
	cr_assert_eq(ov.used, 3);
	teardown();
}

Test(overlay, zeroing_a_block_over_a_zero_base_frees_the_tables)
{
	uint8_t w[10];

	setup(16);
	memset(w, 0x42, sizeof(w));
	cr_assert_eq(overlay_write(&ov, BLK + 5, w, sizeof(w)), 0);
	cr_assert_eq(ov.used, 4);
	cr_assert_eq(overlay_zero(&ov, BLK, BLK), 0);
	cr_assert_eq(ov.used, 0, "block 1's base is zero: no marker, tables pruned");
	cr_assert_eq(live, 0);
	read_all();
	for (uint64_t i = 0; i < sizeof(disk); i++)
		cr_assert_eq(disk[i], base_byte(i));
	teardown();
}

Test(overlay, partial_zeroing_reads_zero_and_keeps_the_rest)
{
	setup(16);
	/* Block 0 has no page and a non-zero base: it is copied, then zeroed in part. */
	cr_assert_eq(overlay_pages_needed(&ov, 100, 200, true), 4);
	cr_assert_eq(overlay_zero(&ov, 100, 200), 0);
	/* Block 1's base is zero already: nothing to take. */
	cr_assert_eq(overlay_pages_needed(&ov, BLK + 100, 200, true), 0);
	cr_assert_eq(overlay_zero(&ov, BLK + 100, 200), 0);
	/* The short last block of the base (bytes past it read zero). */
	cr_assert_eq(overlay_zero(&ov, 3 * BLK + 8, 16), 0);
	read_all();
	for (uint64_t i = 0; i < sizeof(disk); i++) {
		bool z = (i >= 100 && i < 300) || (i >= 3 * BLK + 8 && i < 3 * BLK + 24);

		cr_assert_eq(disk[i], z ? 0 : base_byte(i), "byte %lu", (unsigned long)i);
	}
	cr_assert_eq(ov.used, 5);
	teardown();
}

Test(overlay, zeroing_respects_the_limit)
{
	setup(3);
	/* A whole block over a non-zero base needs a marker, hence three tables: fits. */
	cr_assert_eq(overlay_zero(&ov, 0, BLK), 0);
	cr_assert_eq(ov.used, 3);
	/* A partial block over a non-zero base needs a copy: no room. */
	cr_assert_eq(overlay_zero(&ov, 2 * BLK + 1, 10), -ENOSPC);
	read_all();
	cr_assert_eq(disk[2 * BLK + 1], base_byte(2 * BLK + 1), "nothing changed");
	cr_assert_eq(disk[0], 0);
	teardown();
}

Test(overlay, a_short_last_block)
{
	uint8_t b[8], w[8];

	setup(16);
	overlay_destroy(&ov);
	cr_assert_eq(overlay_init(&ov, base, sizeof(base), sizeof(base) + 512, 16, &pages), 0);
	memset(w, 0x99, sizeof(w));
	cr_assert_eq(overlay_write(&ov, sizeof(base) + 500, w, 8), 0);
	cr_assert_eq(overlay_write(&ov, sizeof(base) + 508, w, 8), -ERANGE);
	cr_assert_eq(overlay_read(&ov, sizeof(base) + 504, b, 8), 0);
	cr_assert_eq(b[0], 0x99);
	cr_assert_eq(b[4], 0);
	/* Zeroing the block up to the disk's end counts as whole. */
	cr_assert_eq(overlay_zero(&ov, 3 * BLK, BLK / 2 + 512), 0);
	cr_assert_eq(overlay_read(&ov, sizeof(base) + 500, b, 8), 0);
	cr_assert_eq(b[0], 0);
	cr_assert_eq(ov.used, 3, "the page went back; a marker stands for the non-zero base");
	teardown();
}

Test(overlay, blocks_far_apart_use_separate_tables)
{
	uint8_t w = 1, r;

	setup(16);
	overlay_destroy(&ov);
	cr_assert_eq(overlay_init(&ov, base, sizeof(base), GIB(4), 16, &pages), 0);
	cr_assert_eq(overlay_write(&ov, 0, &w, 1), 0);
	cr_assert_eq(overlay_pages_needed(&ov, GIB(2), 1, false), 3, "new mid, leaf and page");
	w = 2;
	cr_assert_eq(overlay_write(&ov, GIB(2), &w, 1), 0);
	cr_assert_eq(ov.used, 7);
	cr_assert_eq(overlay_read(&ov, 0, &r, 1), 0);
	cr_assert_eq(r, 1);
	cr_assert_eq(overlay_read(&ov, GIB(2), &r, 1), 0);
	cr_assert_eq(r, 2);
	cr_assert_eq(overlay_read(&ov, GIB(4) - 1, &r, 1), 0);
	cr_assert_eq(r, 0);
	teardown();
}

/*
 * Whether zeroing needs a page depends on whether the base under the range
 * is zero: one non-zero byte, at every offset around word boundaries of
 * block 1 (otherwise zero), decides it for ranges that start and end off
 * the 8-byte grid.
 */
Test(overlay, zeroing_sees_a_lone_nonzero_byte_anywhere)
{
	static const unsigned offs[] = { 0, 1, 7, 8, 9, 15, 100, 4087, 4088, 4094, 4095 };

	for (unsigned k = 0; k < sizeof(offs) / sizeof(offs[0]); k++) {
		setup(64);
		base[BLK + offs[k]] = 0x40;
		/* A partial zeroing that covers the byte must copy the block first; one beside it need not. */
		uint64_t from = offs[k] > 3 ? offs[k] - 3 : 0, to = MIN(offs[k] + 5u, BLK);
		cr_assert_geq(overlay_pages_needed(&ov, BLK + from, to - from, true), 1,
			      "byte at %u inside [%lu, %lu)", offs[k], from, to);
		if (offs[k] >= 8)
			cr_assert_eq(overlay_pages_needed(&ov, BLK, offs[k] & ~7u, true), 0,
				     "byte at %u outside [0, %u)", offs[k], offs[k] & ~7u);
		/* The whole block: a marker (no data page), so at most the tables. */
		cr_assert_eq(overlay_zero(&ov, BLK, BLK), 0);
		uint8_t got[BLK];
		cr_assert_eq(overlay_read(&ov, BLK, got, BLK), 0);
		for (unsigned i = 0; i < BLK; i++)
			cr_assert_eq(got[i], 0, "byte %u after zeroing (lone byte at %u)", i, offs[k]);
		teardown();
	}
}
