/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msi: drives pvhv's MSI test device (config "test-msi",
 * guest-abi/pvhv/platform.h) as a driver drives a device's MSI
 * capability: messages pvhv cannot deliver are refused; a good one is
 * bound to a host vector, and each FIRE (the host vector sent to the host
 * CPU the route names, as the device would) arrives as the guest's own
 * vector, counted by its handler; a rebind keeps the host vector and moves
 * delivery to the new guest vector; after UNBIND a FIRE reaches nobody and
 * pvhv counts it as unrouted.  Last line before the check:
 *
 *     msi: rounds=N host_vector=0xV delivered=D dropped=X unrouted=U max_wait_us=W
 *
 * cmdline: rounds=N (default 200).
 */
#include "guest.h"
#include <pvhv/platform.h>

GUEST_NAME("msi");

#define VEC_A 0x41
#define VEC_B 0x42
#define MSR_X2APIC_SVR 0x80f
#define WAIT_MS 2000 /* for one interrupt, under TCG on a busy machine */

extern char msi_isr_a[], msi_isr_b[];
volatile uint64_t msi_seen[2];

static uint32_t reg(uint32_t off)
{
	return inl((uint16_t)(PVHV_MSITEST_PORT + off));
}

static uint32_t cmd(uint32_t c)
{
	outl((uint16_t)(PVHV_MSITEST_PORT + PVHV_MSITEST_CMD), c);
	return reg(PVHV_MSITEST_CMD);
}

static uint32_t bind(uint64_t addr, uint32_t data)
{
	outl((uint16_t)(PVHV_MSITEST_PORT + PVHV_MSITEST_ADDR_LO), (uint32_t)addr);
	outl((uint16_t)(PVHV_MSITEST_PORT + PVHV_MSITEST_ADDR_HI), (uint32_t)(addr >> 32));
	outl((uint16_t)(PVHV_MSITEST_PORT + PVHV_MSITEST_DATA), data);
	return cmd(PVHV_MSITEST_BIND);
}

/* Waits with interrupts on until handler n counted past old; the ticks it took, or ~0 on timeout. */
static uint64_t wait_seen(unsigned n, uint64_t old, uint64_t limit)
{
	uint64_t t0 = tsc_read(), t = 0;

	__asm__ volatile("sti" ::: "memory");
	while (msi_seen[n] == old && (t = tsc_read() - t0) < limit)
		cpu_relax();
	__asm__ volatile("cli" ::: "memory");
	return msi_seen[n] == old ? ~0ULL : t;
}

/* Halts with interrupts on until handler n counted past old (forever if nothing comes). */
static void wait_halted(unsigned n, uint64_t old)
{
	__asm__ volatile("cli" ::: "memory");
	while (msi_seen[n] == old)
		__asm__ volatile("sti; hlt; cli" ::: "memory"); /* STI's shadow covers HLT */
}

int main(const struct pvhv_start_info *si)
{
	uint64_t rounds = cmdline_u64("rounds", 200), other = cmdline_u64("other", 50);
	uint64_t tpm = tsc_per_ms(), limit, worst = 0;
	uint32_t hv, unrouted;
	uint64_t got = 0;

	(void)si;
	if (!tpm)
		tpm = 1000000; /* no pvclock: assume 1 GHz, the wait is only a bound */
	limit = WAIT_MS * tpm;
	set_gate(VEC_A, msi_isr_a);
	set_gate(VEC_B, msi_isr_b);
	wrmsr(MSR_X2APIC_SVR, 0x1ff); /* APIC software enabled */

	check(reg(PVHV_MSITEST_VECTOR) == 0, "no route before the first bind");
	check(cmd(PVHV_MSITEST_FIRE) == PVHV_EINVAL, "FIRE before any bind is refused");
	/* Messages pvhv cannot deliver (SDM vol. 3, 11.11). */
	check(bind(0xfed00000, VEC_A) == PVHV_EINVAL, "address outside 0xFEExxxxx refused");
	check(bind(0x1fee00000ULL, VEC_A) == PVHV_EINVAL, "address above 4 GiB refused");
	check(bind(0xfee00020, VEC_A) == PVHV_EINVAL, "extended destination ID refused");
	check(bind(0xfee00000, 0x400 | VEC_A) == PVHV_EINVAL, "NMI delivery mode refused");
	check(bind(0xfee00000, 0x500 | VEC_A) == PVHV_EINVAL, "INIT delivery mode refused");
	check(bind(0xfee00000, 15) == PVHV_EINVAL, "vector 15 refused");
	check(reg(PVHV_MSITEST_VECTOR) == 0, "still no route after the refusals");

	/* vCPU 0, physical, fixed: what Linux writes without interrupt remapping. */
	check(bind(0xfee00000, VEC_A) == 0, "message 0xfee00000/0x%x bound", VEC_A);
	hv = reg(PVHV_MSITEST_VECTOR);
	check(hv >= 0x30 && hv <= 0xef, "host vector 0x%x in pvhv's device range", hv);
	for (uint64_t i = 0; i < rounds; i++) {
		uint64_t t;

		if (cmd(PVHV_MSITEST_FIRE) != 0)
			break;
		t = wait_seen(0, i, limit);
		if (t == ~0ULL)
			break;
		worst = t > worst ? t : worst;
		got++;
	}
	check(got == rounds, "%lu of %lu interrupts arrived as vector 0x%x", got, rounds, VEC_A);
	check(reg(PVHV_MSITEST_DELIVERED) == rounds, "pvhv delivered %u", reg(PVHV_MSITEST_DELIVERED));
	got = 0;
	for (uint64_t i = 0; i < other; i++) {
		if (cmd(PVHV_MSITEST_FIRE_OTHER) != 0)
			break;
		wait_halted(0, rounds + i);
		got++;
	}
	check(got == other, "%lu of %lu sent to another host CPU woke this halted vCPU", got, other);
	rounds += other;

	/* Rebind with another vector (a driver changing its message): same host vector, new delivery. */
	check(bind(0xfee00000, 0x100 | VEC_B) == 0, "rebound as lowest priority, vector 0x%x", VEC_B);
	check(reg(PVHV_MSITEST_VECTOR) == hv, "rebind keeps host vector 0x%x", hv);
	check(cmd(PVHV_MSITEST_FIRE) == 0 && wait_seen(1, 0, limit) != ~0ULL, "FIRE arrives as vector 0x%x",
	      VEC_B);
	check(msi_seen[0] == rounds, "and not as 0x%x any more", VEC_A);

	/* Unbound: the device's interrupt (the old host vector) reaches nobody, is counted, is no panic. */
	unrouted = reg(PVHV_MSITEST_UNROUTED);
	check(cmd(PVHV_MSITEST_UNBIND) == 0 && reg(PVHV_MSITEST_VECTOR) == 0, "unbound");
	check(cmd(PVHV_MSITEST_FIRE) == 0, "FIRE on the freed host vector");
	check(wait_seen(1, 1, 50 * tpm) == ~0ULL && msi_seen[0] == rounds, "nothing arrives");
	check(reg(PVHV_MSITEST_UNROUTED) == unrouted + 1, "pvhv counted it unrouted (%u, was %u)",
	      reg(PVHV_MSITEST_UNROUTED), unrouted);
	check(reg(PVHV_MSITEST_DELIVERED) == rounds + 1, "delivered stays %lu", rounds + 1);
	gprintf("msi: rounds=%lu other=%lu host_vector=0x%x delivered=%u dropped=%u unrouted=%u max_wait_us=%lu\n",
		rounds - other, other, hv, reg(PVHV_MSITEST_DELIVERED), reg(PVHV_MSITEST_DROPPED), reg(PVHV_MSITEST_UNROUTED),
		worst * 1000 / tpm);
	finish();
}
