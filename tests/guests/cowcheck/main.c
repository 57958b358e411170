/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cowcheck: reads and runs its own image from RAM pvhv may back with the
 * kernel image's pages (read-only, copied at the first write), then, with
 * write=1, writes to two of those chunks and patches the code in one.
 * Every word must read what the image holds, before and after the writes
 * (so the copy is whole), the writes must stick, and the patched code
 * must run patched.  reboot=1 reboots when all passed: the next boot
 * checks that the image itself was never written.  rounds=N re-reads the
 * whole blob N times between yields (a sibling domain writing meanwhile).
 */
#include "guest.h"

GUEST_NAME("cowcheck");

#define COW_BYTES (5u << 20)
#define COW_TAG 0xC0C0000000000000ul
#define WORD0 8u /* the first patterned word (after cow_fn) */

extern uint8_t cow_blob[];
extern uint8_t cow_fn_imm[];
uint32_t cow_fn(void);

/* What blob.asm put at off: the tag plus the offset of its 4 KiB page. */
static uint64_t expected(uint64_t off)
{
	return COW_TAG + (off & ~0xffful);
}

/* Words that differ from the image's pattern, skipping the ones at skip[0..n). */
static uint64_t bad_words(const uint64_t *skip, unsigned n)
{
	uint64_t bad = 0;

	for (uint64_t off = WORD0; off < COW_BYTES; off += 8) {
		uint64_t v = *(volatile uint64_t *)(cow_blob + off);
		int skipped = 0;

		for (unsigned i = 0; i < n; i++)
			skipped |= off == skip[i];
		if (!skipped && v != expected(off) && bad++ < 4)
			gprintf("word at +0x%lx (0x%lx): 0x%016lx, image has 0x%016lx\n", off,
				(uint64_t)(uintptr_t)(cow_blob + off), v, expected(off));
	}
	return bad;
}

int main(const struct pvhv_start_info *si)
{
	/* One word in each whole chunk of the blob (it starts at a 2 MiB boundary). */
	uint64_t w[2] = { 0x1000, (2u << 20) + 0x2008 };
	uint64_t rounds = cmdline_u64("rounds", 0);

	(void)si;
	check(((uintptr_t)cow_blob & ((2u << 20) - 1)) == 0, "blob at 0x%lx, a 2 MiB boundary",
	      (uint64_t)(uintptr_t)cow_blob);
	check(cow_fn() == 0x600dc0de, "code in the blob's first chunk runs: 0x%x", cow_fn());
	check(bad_words(NULL, 0) == 0, "%u KiB of the blob read as the image holds them", COW_BYTES >> 10);
	for (uint64_t r = 0; r < rounds; r++) {
		hc_yield();
		if (!check(bad_words(NULL, 0) == 0, "round %lu: the blob still reads as the image", r))
			break;
	}
	if (cmdline_u64("write", 0)) {
		for (unsigned i = 0; i < 2; i++)
			*(volatile uint64_t *)(cow_blob + w[i]) = 0x5772697474656e00ul + (uint64_t)i;
		check(*(volatile uint64_t *)(cow_blob + w[0]) == 0x5772697474656e00ul &&
		      *(volatile uint64_t *)(cow_blob + w[1]) == 0x5772697474656e01ul,
		      "writes to both chunks stick");
		check(bad_words(w, 2) == 0, "every other word still reads as the image");
		*(volatile uint32_t *)cow_fn_imm = 0xc0ffee;
		__asm__ volatile("" ::: "memory");
		check(cow_fn() == 0xc0ffee, "patched code runs patched: 0x%x", cow_fn());
	}
	if (cmdline_u64("reboot", 0) && !guest_failures) {
		gprintf("rebooting\n");
		guest_shutdown(PVHV_SHUTDOWN_REBOOT, 0);
	}
	finish();
}
