/* SPDX-License-Identifier: Apache-2.0 */
/*
 * poweroff.c: ends the machine with a status a test can read.
 *
 * First QEMU's isa-debug-exit at port 0xf4 (QEMU exits with (v << 1) | 1);
 * where it is absent the write is ignored.  Then `xchg %bx, %bx`: a no-op
 * everywhere except Bochs with magic_break enabled, where it stops at the
 * debugger, whose script (tests/bochs/run-bochs.sh) quits; the status is
 * then read from the console.  Then pvhv falls back to ACPI S5
 * (PM1a/PM1b control, or the hardware-reduced sleep control register), and
 * last to halting every CPU.  The status is always printed first, so a
 * machine without isa-debug-exit still reports it on the console.
 */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "arch/x86/x86.h"

#define DEBUG_EXIT_PORT 0xf4

NORETURN void machine_poweroff(unsigned status)
{
	irq_disable();
	kprintf("pvhv: exit status %u\n", status);
	outl(DEBUG_EXIT_PORT, status);
	__asm__ volatile("xchg %%bx, %%bx" ::: "memory"); /* Bochs magic breakpoint */
	if (acpi_info.have_s5) {
		if (acpi_info.pm1a_cnt)
			outw(acpi_info.pm1a_cnt, (uint16_t)((acpi_info.slp_typ_a << 10) | (1u << 13)));
		if (acpi_info.pm1b_cnt)
			outw(acpi_info.pm1b_cnt, (uint16_t)((acpi_info.slp_typ_b << 10) | (1u << 13)));
		if (acpi_info.hw_reduced && acpi_info.sleep_ctl_space == 1 && acpi_info.sleep_ctl_addr)
			outb((uint16_t)acpi_info.sleep_ctl_addr,
			     (uint8_t)(((acpi_info.slp_typ_a & 7) << 2) | 0x20));
	}
	kprintf("pvhv: no way to power off found; halted\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}
