/* SPDX-License-Identifier: Apache-2.0 */
/*
 * victim: measures how much CPU it gets, and its longest stall, over a fixed
 * wall time, to compare what noisy neighbours cost it.
 *
 * It reads the TSC in a tight loop for ms=N milliseconds (default 4000).  A
 * gap between two reads below 100 us counts as CPU it got; a longer gap is
 * a stall (another vCPU or pvhv had the CPU).  The TSC frequency comes from
 * the KVM-compatible pvclock pvhv offers (CPUID 0x40000100, MSR
 * 0x4b564d01).  Last line before PASS:
 *
 *     victim: wall_us=W cpu_us=C longest_stall_us=S stalls=N
 *
 * cmdline: ms=N (measured wall time, default 4000), yield=1 (give up the
 * time slice after every read: a sandbox that keeps running but wants
 * little CPU, so its longest stall shows how long it waited for a turn).
 */
#include "guest.h"

GUEST_NAME("victim");

#define STALL_US 100ull

/* Fine for the few seconds measured: ticks * 1000 stays far below 2^64. */
static uint64_t tsc_to_us(uint64_t ticks, uint64_t per_ms)
{
	return ticks * 1000 / per_ms;
}

int main(const struct pvhv_start_info *si)
{
	uint64_t ms = cmdline_u64("ms", 4000);
	int yield = cmdline_u64("yield", 0) != 0;
	uint64_t per_ms = tsc_per_ms(), stall;

	if (!check(per_ms != 0, "TSC rate from the pvclock (%lu ticks per ms)", per_ms))
		finish();
	stall = per_ms * STALL_US / 1000;
	uint64_t got = 0, worst = 0, stalls = 0;

	gprintf("measuring for %lu ms (%lu TSC ticks per ms)\n", ms, per_ms);
	uint64_t start = tsc_read(), prev = start, end = start + ms * per_ms, now;
	do {
		now = tsc_read();
		uint64_t gap = now - prev;

		prev = now;
		if (gap < stall) {
			got += gap;
		} else {
			stalls++;
			if (gap > worst)
				worst = gap;
		}
		if (yield && guest_have_pvhv)
			hc_yield();   /* what others run meanwhile shows as a stall */
	} while (now < end);
	gprintf("victim: wall_us=%lu cpu_us=%lu longest_stall_us=%lu stalls=%lu\n",
		tsc_to_us(now - start, per_ms), tsc_to_us(got, per_ms), tsc_to_us(worst, per_ms),
		stalls);
	check(got > 0, "got some CPU");
	finish();
}
