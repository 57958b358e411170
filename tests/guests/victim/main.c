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
 * cmdline: ms=N (measured wall time, default 4000).
 */
#include "guest.h"

GUEST_NAME("victim");

#define KVM_CPUID_BASE 0x40000100u
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u
#define STALL_NS 100000ull

/* struct pvclock_vcpu_time_info (the KVM ABI). */
struct pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed, aligned(64)));

static struct pvclock pvclock;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/*
 * TSC ticks in ns (below 2^32) nanoseconds, from the pvclock scale:
 * ns = ((ticks << shift) * mul) >> 32.
 */
static uint64_t ns_to_tsc(uint32_t ns)
{
	uint64_t t = ((uint64_t)ns << 32) / pvclock.tsc_to_system_mul;

	return pvclock.tsc_shift >= 0 ? t >> pvclock.tsc_shift : t << -pvclock.tsc_shift;
}

/* Fine for the few seconds measured: ticks * 1000 stays far below 2^64. */
static uint64_t tsc_to_us(uint64_t ticks, uint64_t per_ms)
{
	return ticks * 1000 / per_ms;
}

int main(const struct pvhv_start_info *si)
{
	uint64_t ms = cmdline_u64("ms", 4000);
	uint32_t a, b, c, d;

	cpuid(KVM_CPUID_BASE + 1, 0, &a, &b, &c, &d);
	if (!check(a & KVM_FEATURE_CLOCKSOURCE2, "pvclock offered (leaf 0x%x eax 0x%x)",
		   KVM_CPUID_BASE + 1, a))
		finish();
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)&pvclock | 1);
	if (!check(pvclock.version && !(pvclock.version & 1) && pvclock.tsc_to_system_mul,
		   "pvclock version %u mul %u shift %d", pvclock.version,
		   pvclock.tsc_to_system_mul, pvclock.tsc_shift))
		finish();

	uint64_t per_ms = ns_to_tsc(1000000), stall = ns_to_tsc(STALL_NS);
	uint64_t got = 0, worst = 0, stalls = 0;

	gprintf("measuring for %lu ms (%lu TSC ticks per ms)\n", ms, per_ms);
	uint64_t start = rdtsc(), prev = start, end = start + ms * per_ms, now;
	do {
		now = rdtsc();
		uint64_t gap = now - prev;

		prev = now;
		if (gap < stall) {
			got += gap;
		} else {
			stalls++;
			if (gap > worst)
				worst = gap;
		}
	} while (now < end);
	gprintf("victim: wall_us=%lu cpu_us=%lu longest_stall_us=%lu stalls=%lu\n",
		tsc_to_us(now - start, per_ms), tsc_to_us(got, per_ms), tsc_to_us(worst, per_ms),
		stalls);
	check(got > 0, "got some CPU");
	finish();
}
