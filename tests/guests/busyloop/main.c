/* SPDX-License-Identifier: Apache-2.0 */
/*
 * busyloop: spins forever with interrupts off; pvhv must still preempt it
 * (and can only stop it from outside).
 *
 * cmdline: nopause=1 spins without PAUSE (no pause-loop exits to help).
 * progress=N spins without PAUSE too and prints "progress K" after each N
 * Mi loop turns: its share of the CPU, as the guest sees it.
 */
#include "guest.h"

GUEST_NAME("busyloop");

int main(const struct pvhv_start_info *si)
{
	int nopause = cmdline_u64("nopause", 0) != 0;
	uint64_t every = cmdline_u64("progress", 0) << 20;

	gprintf("spinning%s\n", nopause ? " (no pause)" : every ? " (with progress)" : "");
	__asm__ volatile("cli");
	if (every)
		for (uint64_t turns = 0, k = 0;;)
			if (++turns == every) {
				turns = 0;
				gprintf("progress %lu\n", (unsigned long)++k);
			}
	if (nopause)
		for (;;)
			__asm__ volatile("" ::: "memory");
	for (;;)
		__asm__ volatile("pause" ::: "memory");
}
