/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pingpong: two vCPUs bounce an IPI back and forth, each halted (STI; HLT)
 * while it waits, and the boot vCPU times every round trip with the TSC.
 * A wake-up that pvhv loses until some later event shows up as a round
 * trip far longer than the others, and, when the interrupt was delivered
 * inside the STI shadow of the waiter's "sti; hlt" (so that the HLT sleeps
 * after it), as a shadow hit counted by the handler (ap.asm).  A TSC
 * deadline timer armed for rescue_ms around each wait ends such a sleep.
 *
 * The second vCPU starts by INIT-SIPI at TRAMP_GPA (ap.asm).  Last line
 * before the check:
 *
 *     pingpong: rounds=N min_us= median_us= p99_us= max_us= slow=S (> slow_us)
 *               shadow_hits=H rescues=R
 *
 * cmdline: rounds=N (default 1000, at most 4096); spin=bsp|ap (that vCPU
 * polls instead of halting); cli_us=N (default 0): each waiter spins that
 * long with interrupts off before each "sti; hlt", so that the other's IPI
 * finds it unable to take it (pvhv then asks for an interrupt window);
 * storm_us=N: vCPU 1 sends the boot vCPU an IPI every N us instead, and
 * each round is the boot vCPU's wait for the next one; rescue_ms=N
 * (default 20); slow_us=N (default 2000): a round trip longer
 * than this is slow; max_slow=N: at most that many slow round trips pass
 * (unchecked when absent); max_rescues=N: at most that many waits may end
 * by the rescue timer (unchecked when absent).  Checked always: no shadow
 * hit.
 */
#include "guest.h"

GUEST_NAME("pingpong");

#define VEC_BSP 0xf0
#define VEC_AP 0xf1
#define TRAMP_GPA 0x10000u /* below 1 MiB, past pvhv's ACPI tables */
#define MSR_X2APIC_SVR 0x80f
#define MSR_X2APIC_ICR 0x830
#define MSR_X2APIC_LVT_TIMER 0x832
#define MSR_TSC_DEADLINE 0x6e0
#define LVT_TSC_DEADLINE (2u << 17)
#define VEC_RESCUE 0xf2
#define ICR_INIT 0x4500u    /* INIT, level assert */
#define ICR_SIPI 0x4600u    /* start-up, vector in bits 7:0 */
#define MAX_ROUNDS 4096

extern char ap_tramp[], ap_tramp_end[];
extern char ipi_isr_bsp[], ipi_isr_ap[], ipi_isr_tick[];
void ap_main(void);

volatile uint64_t ipi_seen[3]; /* per handler in ap.asm: BSP, AP, rescue timer */
volatile uint64_t shadow_hits; /* interrupts taken at the HLT of "sti; hlt" (ap.asm) */
static volatile int ap_up, ap_spin, storm, stop;
static uint64_t storm_ticks;
static uint64_t cli_ticks, rescue_ticks;
static uint64_t rtt[MAX_ROUNDS];

static void send_ipi(uint32_t apic_id, uint32_t low)
{
	wrmsr(MSR_X2APIC_ICR, ((uint64_t)apic_id << 32) | low);
}

/*
 * Waits until handler n has run past count old: polling with IF set, or
 * halted with the rescue timer armed (each vCPU has its own).
 */
static void wait_ipi(unsigned n, uint64_t old, int spin)
{
	if (spin) {
		__asm__ volatile("sti" ::: "memory");
		while (ipi_seen[n] == old)
			cpu_relax();
		__asm__ volatile("cli" ::: "memory");
		return;
	}
	__asm__ volatile("cli" ::: "memory");
	wrmsr(MSR_TSC_DEADLINE, tsc_read() + rescue_ticks);
	while (ipi_seen[n] == old) {
		for (uint64_t t = tsc_read(); tsc_read() - t < cli_ticks;)
			cpu_relax();
		__asm__ volatile("sti; hlt; cli" ::: "memory"); /* STI's shadow covers HLT */
	}
	wrmsr(MSR_TSC_DEADLINE, 0);
}

static void lapic_setup(void)
{
	wrmsr(MSR_X2APIC_SVR, 0x1ff);
	wrmsr(MSR_X2APIC_LVT_TIMER, LVT_TSC_DEADLINE | VEC_RESCUE);
}

void ap_main(void)
{
	uint64_t last = 0;

	lapic_setup();
	ap_up = 1;
	/* Storm: IPIs to the boot vCPU every storm_us, whatever it does. */
	while (storm && !stop) {
		send_ipi(0, VEC_BSP);
		for (uint64_t t = tsc_read(); tsc_read() - t < storm_ticks;)
			cpu_relax();
	}
	for (;;) {
		wait_ipi(1, last, ap_spin);
		last = ipi_seen[1];
		if (stop)
			break;
		send_ipi(0, VEC_BSP);
	}
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void sort(uint64_t *a, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && a[j - 1] > a[j]; j--) {
			uint64_t t = a[j];

			a[j] = a[j - 1];
			a[j - 1] = t;
		}
}

int main(const struct pvhv_start_info *si)
{
	uint64_t rounds = cmdline_u64("rounds", 1000), slow_us = cmdline_u64("slow_us", 2000);
	uint64_t max_rescues = cmdline_u64("max_rescues", ~0ull);
	uint64_t max_slow = cmdline_u64("max_slow", ~0ull), per_ms = tsc_per_ms(), slow = 0, t;
	const char *spin = cmdline_get("spin");
	int bsp_spin = streq(spin, "bsp");

	(void)si;
	ap_spin = streq(spin, "ap");
	if (rounds < 1 || rounds > MAX_ROUNDS)
		rounds = MAX_ROUNDS;
	if (!check(per_ms != 0, "TSC rate from the pvclock (%lu ticks per ms)", per_ms))
		finish();
	cli_ticks = cmdline_u64("cli_us", 0) * per_ms / 1000;
	storm_ticks = cmdline_u64("storm_us", 0) * per_ms / 1000;
	storm = storm_ticks != 0;
	rescue_ticks = cmdline_u64("rescue_ms", 20) * per_ms;
	set_gate(VEC_BSP, ipi_isr_bsp);
	set_gate(VEC_AP, ipi_isr_ap);
	set_gate(VEC_RESCUE, ipi_isr_tick);
	lapic_setup();
	memcpy((void *)(uintptr_t)TRAMP_GPA, ap_tramp, (size_t)(ap_tramp_end - ap_tramp));
	send_ipi(1, ICR_INIT);
	send_ipi(1, ICR_SIPI | (TRAMP_GPA >> 12));
	for (t = tsc_read(); !ap_up && tsc_read() - t < 2000 * per_ms;)
		cpu_relax();
	if (!check(ap_up, "vcpu 1 started by INIT-SIPI"))
		finish();
	for (uint64_t i = 0; i < rounds; i++) {
		t = tsc_read();
		if (storm)
			wait_ipi(0, ipi_seen[0], 0); /* the next of the storm's IPIs */
		else
			send_ipi(1, VEC_AP), wait_ipi(0, i, bsp_spin);
		rtt[i] = tsc_read() - t;
		if (rtt[i] * 1000 / per_ms > slow_us)
			slow++;
	}
	stop = 1;
	send_ipi(1, VEC_AP);
	sort(rtt, (unsigned)rounds);
	gprintf("pingpong: rounds=%lu min_us=%lu median_us=%lu p99_us=%lu max_us=%lu slow=%lu (> %lu us) "
		"shadow_hits=%lu rescues=%lu\n",
		rounds, rtt[0] * 1000 / per_ms, rtt[rounds / 2] * 1000 / per_ms,
		rtt[rounds * 99 / 100] * 1000 / per_ms, rtt[rounds - 1] * 1000 / per_ms, slow, slow_us,
		shadow_hits, ipi_seen[2]);
	check(shadow_hits == 0, "no IPI was taken inside the STI shadow of a waiter's sti; hlt (%lu were)",
	      shadow_hits);
	if (max_rescues != ~0ull)
		check(ipi_seen[2] <= max_rescues, "%lu waits ended by the %lu ms rescue timer (at most %lu may)",
		      ipi_seen[2], rescue_ticks / per_ms, max_rescues);
	if (max_slow != ~0ull)
		check(slow <= max_slow, "%lu of %lu round trips took over %lu us (at most %lu may)", slow,
		      rounds, slow_us, max_slow);
	finish();
}
