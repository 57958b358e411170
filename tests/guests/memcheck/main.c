/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcheck: fills its free RAM with an address-derived pattern, then yields
 * round after round and re-checks it, to show that a sibling domain (or
 * pvhv) never touches this one's memory.
 *
 * cmdline: mem=MIB (domain size; default: the memmap), rounds=N (default
 * 200), seed=N (pattern seed, default 1), zero=1 (first check that all of
 * its free RAM reads zero: nothing a previous tenant wrote shows through),
 * reboot=1 (end with a reboot instead of a poweroff when every check
 * passed, so that the next boot checks the RAM this one dirtied).
 */
#include "guest.h"

GUEST_NAME("memcheck");

#define PAGE 4096u
#define MAX_REPORTS 8

static uint64_t seed;

static uint64_t pattern(uint64_t a)
{
	uint64_t x = (a + seed) * 0x9e3779b97f4a7c15ull;
	return x ^ (x >> 29);
}

static unsigned reports;

/* Checks one word; prints the first few mismatches. */
static int word_ok(uint64_t a, const char *when)
{
	uint64_t v = *(volatile uint64_t *)(uintptr_t)a;
	if (v == pattern(a))
		return 1;
	if (reports++ < MAX_REPORTS)
		gprintf("mismatch %s at 0x%lx: 0x%016lx, expected 0x%016lx\n", when, a, v,
			pattern(a));
	return 0;
}

int main(const struct pvhv_start_info *si)
{
	uint64_t mem = cmdline_u64("mem", 0) << 20;
	uint64_t rounds = cmdline_u64("rounds", 200);
	uint64_t lo, hi;

	seed = cmdline_u64("seed", 1);
	if (!check(free_ram(mem, &lo, &hi) == 0 && hi - lo > (64u << 10),
		   "free RAM above the image"))
		finish();
	hi -= 64u << 10;
	hi &= ~(uint64_t)(PAGE - 1);
	if (cmdline_u64("zero", 0)) {
		uint64_t nonzero = 0;

		for (uint64_t a = lo; a < hi; a += 8) {
			uint64_t v = *(volatile uint64_t *)(uintptr_t)a;

			if (v && nonzero++ < MAX_REPORTS)
				gprintf("not zero at 0x%lx: 0x%016lx\n", a, v);
		}
		check(nonzero == 0, "free RAM reads zero (%lu words, %lu not zero)", (hi - lo) / 8,
		      nonzero);
	}
	gprintf("filling 0x%lx-0x%lx (%lu KiB)\n", lo, hi, (hi - lo) >> 10);
	for (uint64_t a = lo; a < hi; a += 8)
		*(volatile uint64_t *)(uintptr_t)a = pattern(a);

	uint64_t bad = 0, yield_bad = 0, samples = 0;
	for (uint64_t r = 0; r < rounds; r++) {
		int64_t rc = hc_yield();
		if (rc != 0 && yield_bad++ < MAX_REPORTS)
			gprintf("round %lu: yield returned %ld\n", r, rc);
		/* One word per page, at an offset that moves each round. */
		uint64_t off = (r * 8 * 61) % PAGE;
		for (uint64_t a = lo + off; a < hi; a += PAGE, samples++)
			bad += !word_ok(a, "in a sample");
	}
	check(yield_bad == 0, "%lu yields returned 0 (%lu did not)", rounds, yield_bad);
	check(bad == 0, "%lu rounds, %lu sampled words intact (%lu bad)", rounds, samples, bad);

	bad = 0;
	for (uint64_t a = lo; a < hi; a += 8)
		bad += !word_ok(a, "in the full verify");
	check(bad == 0, "full verify of %lu words (%lu bad)", (hi - lo) / 8, bad);
	if (cmdline_u64("reboot", 0) && !guest_failures) {
		gprintf("rebooting\n");
		guest_shutdown(PVHV_SHUTDOWN_REBOOT, 0);
	}
	finish();
}
