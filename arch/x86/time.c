/* SPDX-License-Identifier: Apache-2.0 */
/* time.c: the TSC as pvhv's clock, calibrated once against the PIT. */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "arch/x86/x86.h"

#define PIT_HZ 1193182
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE 0x61
#define CAL_MS 15

static uint64_t khz;

uint64_t tsc_khz(void)
{
	return khz;
}

uint64_t tsc_to_us(uint64_t d)
{
	/* Split to avoid overflow: d * 1000 overflows after ~200 days at 1 GHz. */
	return (d / khz) * 1000 + (d % khz) * 1000 / khz;
}

uint64_t time_us(void)
{
	return tsc_to_us(rdtsc() - boot_tsc);
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * khz / 1000;

	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}

/*
 * PIT channel 2 in mode 0 counts down once with the speaker gate open; its
 * output (port 0x61 bit 5) goes high at zero.  Count TSC ticks meanwhile.
 */
static uint64_t calibrate_pit(void)
{
	uint16_t latch = PIT_HZ * CAL_MS / 1000;
	uint64_t t0, t1;
	unsigned long spins = 0;

	outb(PIT_GATE, (inb(PIT_GATE) & ~0x02) | 0x01);
	outb(PIT_CMD, 0xb0); /* channel 2, lobyte/hibyte, mode 0, binary */
	outb(PIT_CH2, latch & 0xff);
	outb(PIT_CH2, latch >> 8);
	t0 = rdtsc();
	while (!(inb(PIT_GATE) & 0x20))
		if (++spins > 100000000UL)
			return 0;
	t1 = rdtsc();
	return (t1 - t0) / CAL_MS;
}

void time_init(void)
{
	uint64_t best = 0;

	/* Take the smaller of two: an interrupted measurement only grows. */
	for (int i = 0; i < 2; i++) {
		uint64_t k = calibrate_pit();

		if (k && (!best || k < best))
			best = k;
	}
	if (!best) {
		kprintf("pvhv: time: PIT calibration failed, assuming a 1 GHz TSC\n");
		best = 1000000;
	}
	khz = best;
}

void timer_arm_us(uint64_t us)
{
	lapic_timer_oneshot_us(us);
}

void timer_arm_tsc(uint64_t deadline)
{
	uint64_t now = rdtsc();

	lapic_timer_oneshot_us(deadline > now ? MAX(tsc_to_us(deadline - now), 1) : 1);
}
