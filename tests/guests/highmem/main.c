/* SPDX-License-Identifier: Apache-2.0 */
/*
 * highmem: guest RAM above 4 GiB (pvhv/platform.h).  Given mem=MIB above
 * 3 GiB, checks that the memory map has low RAM up to 3 GiB, the rest from
 * 4 GiB and nothing in the hole; that fresh RAM at the top of low RAM, at
 * the start of high RAM, across a 2 MiB boundary and at the end of RAM
 * reads zero, then holds an address-derived pattern written to all of them
 * before any is read back (so no two alias); that a console-write
 * hypercall reads its text from high RAM.  Then it reads hole=ADDR
 * (default 0xc0000000: in the hole, no device there) and pvhv must stop it.
 *
 * cmdline: mem=MIB (required: above 3072, RAM ending by 8 GiB, which
 * entry.asm maps), hole=ADDR.
 */
#include "guest.h"

GUEST_NAME("highmem");

#define LOW_END (3ul << 30)
#define HIGH_START (4ul << 30)
#define MAPPED_END (8ul << 30)
#define SPAN (1ul << 20)
#define MAX_REPORTS 8

static uint64_t pattern(uint64_t a)
{
	uint64_t x = (a + 0x1234) * 0x9e3779b97f4a7c15ull;

	return x ^ (x >> 31);
}

/* Low RAM's end, high RAM's range and RAM entries touching the hole, from the memory map. */
static void scan_map(const struct pvhv_start_info *si, uint64_t *low_top, uint64_t *high_lo,
		     uint64_t *high_hi, uint64_t *in_hole)
{
	const struct pvhv_memmap_entry *m = (const void *)(uintptr_t)si->memmap_paddr;

	*low_top = *high_lo = *high_hi = *in_hole = 0;
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		uint64_t a = m[i].addr, e = m[i].addr + m[i].size;

		if (m[i].type != PVHV_MEMMAP_RAM)
			continue;
		if (e <= LOW_END) {
			*low_top = e > *low_top ? e : *low_top;
		} else if (a >= HIGH_START) {
			*high_lo = !*high_lo || a < *high_lo ? a : *high_lo;
			*high_hi = e > *high_hi ? e : *high_hi;
		} else {
			(*in_hole)++;
		}
	}
}

static uint64_t count_nonzero(uint64_t lo, uint64_t hi)
{
	uint64_t n = 0;

	for (uint64_t a = lo; a < hi; a += 8)
		if (*(volatile uint64_t *)(uintptr_t)a && n++ < MAX_REPORTS)
			gprintf("not zero at 0x%lx\n", a);
	return n;
}

static uint64_t count_bad(uint64_t lo, uint64_t hi)
{
	uint64_t n = 0;

	for (uint64_t a = lo; a < hi; a += 8) {
		uint64_t v = *(volatile uint64_t *)(uintptr_t)a;

		if (v != pattern(a) && n++ < MAX_REPORTS)
			gprintf("mismatch at 0x%lx: 0x%016lx, expected 0x%016lx\n", a, v, pattern(a));
	}
	return n;
}

int main(const struct pvhv_start_info *si)
{
	static const char text[] = "hello from high RAM\n";
	uint64_t mem = cmdline_u64("mem", 0) << 20, hole = cmdline_u64("hole", 0xc0000000);
	uint64_t end = HIGH_START + mem - LOW_END, low_top, high_lo, high_hi, in_hole;

	if (!check(mem > LOW_END && end <= MAPPED_END, "mem=%lu MiB is above 3 GiB, RAM ends by 8 GiB",
		   mem >> 20))
		finish();
	scan_map(si, &low_top, &high_lo, &high_hi, &in_hole);
	check(low_top == LOW_END, "memmap: low RAM ends at 0x%lx (want 0x%lx)", low_top, LOW_END);
	check(high_lo == HIGH_START && high_hi == end, "memmap: high RAM [0x%lx, 0x%lx) (want [0x%lx, 0x%lx))",
	      high_lo, high_hi, HIGH_START, end);
	check(in_hole == 0, "memmap: %lu RAM entries in the hole", in_hole);

	const uint64_t at[] = { LOW_END - SPAN, HIGH_START, HIGH_START + 3 * SPAN / 2, end - SPAN };
	uint64_t nonzero = 0, bad = 0;

	for (unsigned i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		nonzero += count_nonzero(at[i], at[i] + SPAN);
	check(nonzero == 0, "fresh RAM reads zero at 0x%lx, 0x%lx, 0x%lx, 0x%lx (%lu words not zero)",
	      at[0], at[1], at[2], at[3], nonzero);
	for (unsigned i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		for (uint64_t a = at[i]; a < at[i] + SPAN; a += 8)
			*(volatile uint64_t *)(uintptr_t)a = pattern(a);
	for (unsigned i = 0; i < sizeof(at) / sizeof(at[0]); i++)
		bad += count_bad(at[i], at[i] + SPAN);
	check(bad == 0, "pattern read back from 4 x 1 MiB, top of low RAM to end of RAM (%lu bad)", bad);

	char *buf = (char *)(uintptr_t)(HIGH_START + 4 * SPAN);
	memcpy(buf, text, sizeof(text) - 1);
	int64_t rc = hc_console_write(buf, sizeof(text) - 1);
	check(rc == (int64_t)sizeof(text) - 1, "console write from 0x%lx returned %ld", (uint64_t)(uintptr_t)buf, rc);

	gprintf("probing 0x%lx (read)\n", hole);
	uint64_t v = *(volatile uint64_t *)(uintptr_t)hole;
	gprintf("FAIL highmem survived a read of 0x%lx (0x%lx), %u checks failed\n", hole, v, guest_failures);
	guest_shutdown(PVHV_SHUTDOWN_POWEROFF, 1);
}
