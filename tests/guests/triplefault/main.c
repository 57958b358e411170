/* SPDX-License-Identifier: Apache-2.0 */
/*
 * triplefault: int3 with a zero-limit IDT: #GP, then #DF, then shutdown.
 * pvhv must stop the domain.  No cmdline keys.
 */
#include "guest.h"

GUEST_NAME("triplefault");

int main(const struct pvhv_start_info *si)
{
	static const struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} empty_idt = { 0, 0 };

	gprintf("about to triple fault\n");
	__asm__ volatile("lidt %0; int3" : : "m"(empty_idt) : "memory");
	gprintf("FAIL triplefault survived\n");
	guest_shutdown(PVHV_SHUTDOWN_POWEROFF, 1);
}
