/* SPDX-License-Identifier: Apache-2.0 */
/*
 * busyloop: spins forever with interrupts off; pvhv must still preempt it
 * (and can only stop it from outside).
 *
 * cmdline: nopause=1 spins without PAUSE (no pause-loop exits to help).
 */
#include "guest.h"

GUEST_NAME("busyloop");

int main(const struct pvhv_start_info *si)
{
	int nopause = cmdline_u64("nopause", 0) != 0;

	gprintf("spinning%s\n", nopause ? " (no pause)" : "");
	__asm__ volatile("cli");
	if (nopause)
		for (;;)
			__asm__ volatile("" ::: "memory");
	for (;;)
		__asm__ volatile("pause" ::: "memory");
}
