/* SPDX-License-Identifier: Apache-2.0 */
/* vlapic_test.c: unit tests for pvh/vlapic.c, driving it through MSRs with a fake TSC. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "pvh/vlapic.h"

#define TSC_KHZ 2000000ull /* 2 GHz */

static struct vlapic apic;
static struct vlapic_effect fx;

static void setup(void)
{
	vlapic_init(&apic, 3, false, TSC_KHZ);
}

static uint64_t rd(uint32_t msr, uint64_t now)
{
	uint64_t v = 0xdeadbeef;

	cr_assert_eq(vlapic_rdmsr(&apic, msr, now, &v), 0, "rdmsr 0x%x", msr);
	return v;
}

static void wr(uint32_t msr, uint64_t val, uint64_t now)
{
	cr_assert_eq(vlapic_wrmsr(&apic, msr, val, now, &fx), 0,
		     "wrmsr 0x%x <- 0x%llx", msr, (unsigned long long)val);
}

static void wr_gp(uint32_t msr, uint64_t val)
{
	cr_assert_eq(vlapic_wrmsr(&apic, msr, val, 0, &fx), -EPERM,
		     "wrmsr 0x%x <- 0x%llx should #GP", msr, (unsigned long long)val);
}

static void enable(void)
{
	wr(VLAPIC_MSR_SVR, VLAPIC_SVR_ENABLE | 0xff, 0);
}

static bool bit(const uint32_t *r, unsigned v)
{
	return r[v / 32] & (1u << (v % 32));
}

/* Take the pending interrupt the way the CPU would, returning its vector. */
static int take(void)
{
	int v = vlapic_pending_vector(&apic);

	if (v >= 0)
		vlapic_ack(&apic, (uint8_t)v);
	return v;
}

static uint64_t eoi(void)
{
	wr(VLAPIC_MSR_EOI, 0, 0);
	return fx.eoi ? fx.eoi_vector : ~0ull;
}

TestSuite(vlapic, .init = setup);

/* ------------------------------------------------------------- reset state */

Test(vlapic, init_state)
{
	unsigned i;

	cr_assert_eq(rd(VLAPIC_MSR_ID, 0), 3);
	cr_assert_eq(rd(VLAPIC_MSR_VERSION, 0), 0x50014);
	cr_assert_eq(rd(VLAPIC_MSR_SVR, 0), 0xff);
	cr_assert_eq(rd(VLAPIC_MSR_TPR, 0), 0);
	cr_assert_eq(rd(VLAPIC_MSR_PPR, 0), 0);
	cr_assert_eq(rd(VLAPIC_MSR_ESR, 0), 0);
	cr_assert_eq(rd(VLAPIC_MSR_ICR, 0), 0);
	for (i = VLAPIC_MSR_LVT_TIMER; i <= VLAPIC_MSR_LVT_ERROR; i++)
		cr_assert_eq(rd(i, 0), VLAPIC_LVT_MASKED, "LVT 0x%x", i);
	for (i = 0; i < 8; i++) {
		cr_assert_eq(rd(VLAPIC_MSR_ISR0 + i, 0), 0);
		cr_assert_eq(rd(VLAPIC_MSR_TMR0 + i, 0), 0);
		cr_assert_eq(rd(VLAPIC_MSR_IRR0 + i, 0), 0);
	}
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_INIT, 0), 0);
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_CUR, 0), 0);
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_DIV, 0), 0);
	cr_assert_eq(vlapic_timer_deadline(&apic), 0);
	cr_assert_eq(vlapic_pending_vector(&apic), -1);
}

Test(vlapic, ldr_from_id)
{
	cr_assert_eq(rd(VLAPIC_MSR_LDR, 0), 0x8);
	vlapic_init(&apic, 0x25, false, TSC_KHZ);
	cr_assert_eq(rd(VLAPIC_MSR_LDR, 0), (2u << 16) | (1u << 5));
	vlapic_init(&apic, 0, true, TSC_KHZ);
	cr_assert_eq(rd(VLAPIC_MSR_LDR, 0), 1);
}

Test(vlapic, owns_msr)
{
	cr_assert(vlapic_owns_msr(0x1b));
	cr_assert(vlapic_owns_msr(0x6e0));
	cr_assert(vlapic_owns_msr(0x800));
	cr_assert(vlapic_owns_msr(0x8ff));
	cr_assert_not(vlapic_owns_msr(0x900));
	cr_assert_not(vlapic_owns_msr(0x7ff));
	cr_assert_not(vlapic_owns_msr(0x1c));
}

/* ------------------------------------------------------------- APIC_BASE */

Test(vlapic, apic_base_read)
{
	cr_assert_eq(rd(VLAPIC_MSR_APIC_BASE, 0), 0xfee00c00ull);
	vlapic_init(&apic, 0, true, TSC_KHZ);
	cr_assert_eq(rd(VLAPIC_MSR_APIC_BASE, 0), 0xfee00d00ull);
}

Test(vlapic, apic_base_write_rules)
{
	vlapic_init(&apic, 0, true, TSC_KHZ);
	wr(VLAPIC_MSR_APIC_BASE, 0xfee00d00ull, 0);   /* unchanged */
	wr(VLAPIC_MSR_APIC_BASE, 0xfee00c00ull, 0);   /* BSP bit ignored */
	cr_assert_eq(rd(VLAPIC_MSR_APIC_BASE, 0), 0xfee00d00ull);
	wr_gp(VLAPIC_MSR_APIC_BASE, 0xfee00900ull);   /* x2APIC -> xAPIC */
	wr_gp(VLAPIC_MSR_APIC_BASE, 0xfee00100ull);   /* disable */
	wr_gp(VLAPIC_MSR_APIC_BASE, 0xfee00500ull);   /* EXTD without EN */
	wr_gp(VLAPIC_MSR_APIC_BASE, 0xfed00d00ull);   /* move the base */
	wr_gp(VLAPIC_MSR_APIC_BASE, 0xfee00f00ull);   /* reserved bit 9 */
	wr_gp(VLAPIC_MSR_APIC_BASE, 0x1fee00d00ull);  /* above 4 GiB */
	cr_assert_eq(rd(VLAPIC_MSR_APIC_BASE, 0), 0xfee00d00ull);
}

/* ------------------------------------------------------------- #GP cases */

Test(vlapic, read_gp)
{
	static const uint32_t bad[] = { 0x800, 0x801, 0x804, 0x809, 0x80b, 0x80c,
					0x80e, 0x829, 0x82f, 0x831, 0x83a, 0x83f,
					0x840, 0x8ff };
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		cr_assert_eq(vlapic_rdmsr(&apic, bad[i], 0, &v), -EPERM, "0x%x", bad[i]);
	cr_assert_eq(vlapic_rdmsr(&apic, 0x10, 0, &v), -EPERM);
}

Test(vlapic, write_gp_readonly_and_unused)
{
	static const uint32_t ro[] = { 0x802, 0x803, 0x80a, 0x80d, 0x810, 0x817,
				       0x818, 0x820, 0x827, 0x839, 0x800, 0x80e,
				       0x82f, 0x831, 0x840, 0x8ff };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(ro); i++)
		wr_gp(ro[i], 0);
	wr_gp(0x10, 0);
}

Test(vlapic, write_gp_reserved_bits)
{
	enable();
	wr_gp(VLAPIC_MSR_TPR, 0x100);
	wr_gp(VLAPIC_MSR_TPR, 1ull << 32);
	wr_gp(VLAPIC_MSR_EOI, 1);
	wr_gp(VLAPIC_MSR_ESR, 1);
	wr_gp(VLAPIC_MSR_SVR, 0x1000 | 0x1ff);   /* EOI suppression: unsupported */
	wr_gp(VLAPIC_MSR_LVT_TIMER, 3u << 17);    /* reserved timer mode */
	wr_gp(VLAPIC_MSR_LVT_TIMER, 0x700);       /* delivery mode: none on timer */
	wr_gp(VLAPIC_MSR_LVT_ERROR, 0x400);
	wr_gp(VLAPIC_MSR_LVT_LINT0, 1u << 11);
	wr_gp(VLAPIC_MSR_LVT_THERMAL, 1u << 13);
	wr_gp(VLAPIC_MSR_TIMER_DIV, 4);
	wr_gp(VLAPIC_MSR_TIMER_INIT, 1ull << 32);
	wr_gp(VLAPIC_MSR_SELF_IPI, 0x100);
	wr_gp(VLAPIC_MSR_ICR, 1u << 12);          /* no delivery status in x2APIC */
	wr_gp(VLAPIC_MSR_ICR, 1u << 13);
	wr_gp(VLAPIC_MSR_ICR, 1u << 16);
	wr_gp(VLAPIC_MSR_ICR, 1u << 20);
	/* Nothing changed. */
	cr_assert_eq(rd(VLAPIC_MSR_TPR, 0), 0);
	cr_assert_eq(rd(VLAPIC_MSR_SVR, 0), 0x1ff);
	cr_assert_eq(rd(VLAPIC_MSR_LVT_TIMER, 0), VLAPIC_LVT_MASKED);
	cr_assert_eq(rd(VLAPIC_MSR_ICR, 0), 0);
}

Test(vlapic, lvt_readonly_bits_ignored)
{
	enable();
	/* Delivery status and remote IRR are read-only, not reserved. */
	wr(VLAPIC_MSR_LVT_LINT0, (1u << 12) | (1u << 14) | 0x8700, 0);
	cr_assert_eq(rd(VLAPIC_MSR_LVT_LINT0, 0), 0x8700);
	wr(VLAPIC_MSR_LVT_TIMER, (1u << 12) | 0x20030, 0);
	cr_assert_eq(rd(VLAPIC_MSR_LVT_TIMER, 0), 0x20030);
	wr(VLAPIC_MSR_SVR, 0x2ff, 0); /* focus bit is accepted */
	cr_assert_eq(rd(VLAPIC_MSR_SVR, 0), 0x2ff);
}

/* ------------------------------------------------------------- priority */

Test(vlapic, highest_irr_first)
{
	enable();
	vlapic_accept_irq(&apic, 0x31, false);
	vlapic_accept_irq(&apic, 0x52, false);
	vlapic_accept_irq(&apic, 0x40, false);
	cr_assert_eq(vlapic_pending_vector(&apic), 0x52);
	cr_assert(bit(apic.irr, 0x31) && bit(apic.irr, 0x40));
	cr_assert_eq(rd(VLAPIC_MSR_IRR0 + 2, 0), (1u << 0) | (1u << 0x12));
}

Test(vlapic, tpr_masks_by_class)
{
	enable();
	vlapic_accept_irq(&apic, 0x45, false);
	wr(VLAPIC_MSR_TPR, 0x40, 0);
	cr_assert_eq(rd(VLAPIC_MSR_PPR, 0), 0x40);
	cr_assert_eq(vlapic_pending_vector(&apic), -1, "same class as TPR is blocked");
	wr(VLAPIC_MSR_TPR, 0x3f, 0);
	cr_assert_eq(vlapic_pending_vector(&apic), 0x45);
	wr(VLAPIC_MSR_TPR, 0x4f, 0);
	cr_assert_eq(vlapic_pending_vector(&apic), -1);
	vlapic_accept_irq(&apic, 0x50, false);
	cr_assert_eq(vlapic_pending_vector(&apic), 0x50);
	wr(VLAPIC_MSR_TPR, 0xff, 0);
	cr_assert_eq(vlapic_pending_vector(&apic), -1);
}

Test(vlapic, ppr_from_isr)
{
	enable();
	wr(VLAPIC_MSR_TPR, 0x23, 0);
	vlapic_accept_irq(&apic, 0x61, false);
	cr_assert_eq(take(), 0x61);
	cr_assert_eq(rd(VLAPIC_MSR_PPR, 0), 0x60, "ISR class above TPR");
	cr_assert_eq(rd(VLAPIC_MSR_ISR0 + 3, 0), 1u << 1);
	cr_assert_eq(rd(VLAPIC_MSR_IRR0 + 3, 0), 0);
	wr(VLAPIC_MSR_TPR, 0x75, 0);
	cr_assert_eq(rd(VLAPIC_MSR_PPR, 0), 0x75, "TPR class above ISR");
	wr(VLAPIC_MSR_TPR, 0x6a, 0);
	cr_assert_eq(rd(VLAPIC_MSR_PPR, 0), 0x6a, "equal classes: TPR");
}

Test(vlapic, in_service_blocks_same_and_lower_class)
{
	enable();
	vlapic_accept_irq(&apic, 0x80, false);
	cr_assert_eq(take(), 0x80);
	vlapic_accept_irq(&apic, 0x8f, false);
	vlapic_accept_irq(&apic, 0x70, false);
	cr_assert_eq(vlapic_pending_vector(&apic), -1);
	vlapic_accept_irq(&apic, 0x90, false);
	cr_assert_eq(vlapic_pending_vector(&apic), 0x90, "higher class nests");
}

Test(vlapic, nested_eoi_order)
{
	enable();
	vlapic_accept_irq(&apic, 0x40, false);
	cr_assert_eq(take(), 0x40);
	vlapic_accept_irq(&apic, 0x80, false);
	cr_assert_eq(take(), 0x80);
	vlapic_accept_irq(&apic, 0xe0, false);
	cr_assert_eq(take(), 0xe0);
	vlapic_accept_irq(&apic, 0x50, false); /* waits behind 0x80 */
	cr_assert_eq(vlapic_pending_vector(&apic), -1);

	cr_assert_eq(eoi(), 0xe0);
	cr_assert_not(fx.eoi_level);
	cr_assert_eq(vlapic_pending_vector(&apic), -1);
	cr_assert_eq(eoi(), 0x80);
	cr_assert_eq(vlapic_pending_vector(&apic), 0x50, "0x50 beats in-service 0x40");
	cr_assert_eq(take(), 0x50);
	cr_assert_eq(eoi(), 0x50);
	cr_assert_eq(eoi(), 0x40);
	cr_assert_eq(eoi(), ~0ull, "EOI with nothing in service does nothing");
	cr_assert_eq(rd(VLAPIC_MSR_PPR, 0), 0);
}

Test(vlapic, level_eoi_reported)
{
	enable();
	vlapic_accept_irq(&apic, 0x41, true);
	cr_assert_eq(rd(VLAPIC_MSR_TMR0 + 2, 0), 1u << 1);
	cr_assert_eq(take(), 0x41);
	cr_assert_eq(eoi(), 0x41);
	cr_assert(fx.eoi_level);
	/* The same vector later arrives edge-triggered: TMR follows. */
	vlapic_accept_irq(&apic, 0x41, false);
	cr_assert_eq(rd(VLAPIC_MSR_TMR0 + 2, 0), 0);
	cr_assert_eq(take(), 0x41);
	cr_assert_eq(eoi(), 0x41);
	cr_assert_not(fx.eoi_level);
}

Test(vlapic, illegal_vector_dropped_esr)
{
	enable();
	vlapic_accept_irq(&apic, 15, false);
	cr_assert_eq(vlapic_pending_vector(&apic), -1);
	cr_assert_eq(apic.irr[0], 0);
	cr_assert_eq(rd(VLAPIC_MSR_ESR, 0), 0, "not latched until ESR is written");
	wr(VLAPIC_MSR_ESR, 0, 0);
	cr_assert_eq(rd(VLAPIC_MSR_ESR, 0), VLAPIC_ESR_RECV_ILLEGAL);
	wr(VLAPIC_MSR_ESR, 0, 0);
	cr_assert_eq(rd(VLAPIC_MSR_ESR, 0), 0, "second write clears");
}

Test(vlapic, error_lvt_delivers)
{
	enable();
	wr(VLAPIC_MSR_LVT_ERROR, 0xfe, 0);
	vlapic_accept_irq(&apic, 3, false);
	cr_assert_eq(vlapic_pending_vector(&apic), 0xfe);
}

Test(vlapic, svr_disable)
{
	enable();
	wr(VLAPIC_MSR_LVT_TIMER, 0x30, 0);
	wr(VLAPIC_MSR_LVT_LINT0, 0x700, 0);
	vlapic_accept_irq(&apic, 0x40, false);
	wr(VLAPIC_MSR_SVR, 0xff, 0);
	cr_assert_eq(vlapic_pending_vector(&apic), -1, "disabled: nothing pending");
	cr_assert_eq(rd(VLAPIC_MSR_LVT_TIMER, 0), 0x30 | VLAPIC_LVT_MASKED);
	cr_assert_eq(rd(VLAPIC_MSR_LVT_LINT0, 0), 0x700 | VLAPIC_LVT_MASKED);
	wr(VLAPIC_MSR_LVT_TIMER, 0x31, 0);
	cr_assert_eq(rd(VLAPIC_MSR_LVT_TIMER, 0), 0x31 | VLAPIC_LVT_MASKED,
		     "mask sticks while disabled");
	vlapic_accept_irq(&apic, 0x50, false);
	cr_assert_not(bit(apic.irr, 0x50), "fixed interrupts dropped while disabled");
	enable();
	cr_assert_eq(vlapic_pending_vector(&apic), 0x40, "held IRR survives");
	cr_assert_eq(rd(VLAPIC_MSR_LVT_TIMER, 0), 0x31 | VLAPIC_LVT_MASKED,
		     "re-enable leaves LVTs masked");
}

Test(vlapic, self_ipi)
{
	uint64_t v;

	enable();
	wr(VLAPIC_MSR_SELF_IPI, 0x77, 0);
	cr_assert_not(fx.send_ipi);
	cr_assert_eq(vlapic_pending_vector(&apic), 0x77);
	cr_assert_not(bit(apic.tmr, 0x77));
	cr_assert_eq(vlapic_rdmsr(&apic, VLAPIC_MSR_SELF_IPI, 0, &v), -EPERM);
}

Test(vlapic, ack_ignores_illegal)
{
	enable();
	vlapic_ack(&apic, 5);
	cr_assert_eq(apic.isr[0], 0);
}

/* ------------------------------------------------------------- ICR */

Test(vlapic, icr_fixed_physical)
{
	enable();
	wr(VLAPIC_MSR_ICR, (5ull << 32) | 0xec, 0);
	cr_assert(fx.send_ipi);
	cr_assert_eq(fx.dest, 5);
	cr_assert_eq(fx.mode, VLAPIC_DM_FIXED);
	cr_assert_eq(fx.vector, 0xec);
	cr_assert_not(fx.logical);
	cr_assert_eq(fx.shorthand, VLAPIC_SH_NONE);
	cr_assert_not(fx.eoi);
	cr_assert_not(fx.timer_changed);
	cr_assert_eq(rd(VLAPIC_MSR_ICR, 0), (5ull << 32) | 0xec);
}

Test(vlapic, icr_logical_and_lowest)
{
	enable();
	wr(VLAPIC_MSR_ICR, (0x10003ull << 32) | (1u << 11) | (1u << 8) | 0x41, 0);
	cr_assert(fx.send_ipi);
	cr_assert(fx.logical);
	cr_assert_eq(fx.mode, VLAPIC_DM_LOWEST);
	cr_assert_eq(fx.dest, 0x10003);
	cr_assert_eq(fx.vector, 0x41);
}

Test(vlapic, icr_init_sipi)
{
	enable();
	/* Linux's wakeup_secondary_cpu_via_init(): INIT assert, INIT
	 * de-assert, then two SIPIs. */
	wr(VLAPIC_MSR_ICR, (2ull << 32) | 0xc500, 0);
	cr_assert(fx.send_ipi);
	cr_assert_eq(fx.mode, VLAPIC_DM_INIT);
	cr_assert_eq(fx.dest, 2);
	wr(VLAPIC_MSR_ICR, (2ull << 32) | 0x8500, 0);
	cr_assert_not(fx.send_ipi, "INIT de-assert is a no-op");
	wr(VLAPIC_MSR_ICR, (2ull << 32) | 0x0500, 0);
	cr_assert(fx.send_ipi, "edge INIT is sent");
	wr(VLAPIC_MSR_ICR, (2ull << 32) | 0x0600 | 0x9a, 0);
	cr_assert(fx.send_ipi);
	cr_assert_eq(fx.mode, VLAPIC_DM_SIPI);
	cr_assert_eq(fx.vector, 0x9a);
	cr_assert_eq(fx.dest, 2);
	wr(VLAPIC_MSR_ICR, (2ull << 32) | 0x0600 | 0x00, 0);
	cr_assert(fx.send_ipi, "SIPI page 0 is legal");
}

Test(vlapic, icr_nmi_smi)
{
	enable();
	wr(VLAPIC_MSR_ICR, (1ull << 32) | 0x400, 0);
	cr_assert(fx.send_ipi);
	cr_assert_eq(fx.mode, VLAPIC_DM_NMI);
	wr(VLAPIC_MSR_ICR, (1ull << 32) | 0x200, 0);
	cr_assert_not(fx.send_ipi, "SMI is not sent");
	wr(VLAPIC_MSR_ICR, (1ull << 32) | 0x700, 0);
	cr_assert_not(fx.send_ipi, "reserved mode is not sent");
}

Test(vlapic, icr_shorthands)
{
	enable();
	wr(VLAPIC_MSR_ICR, (1u << 18) | 0x55, 0);
	cr_assert(fx.send_ipi);
	cr_assert_eq(fx.shorthand, VLAPIC_SH_SELF);
	wr(VLAPIC_MSR_ICR, (2u << 18) | 0x55, 0);
	cr_assert_eq(fx.shorthand, VLAPIC_SH_ALL);
	wr(VLAPIC_MSR_ICR, (3u << 18) | 0xfb, 0);
	cr_assert_eq(fx.shorthand, VLAPIC_SH_OTHERS);
	cr_assert_eq(fx.vector, 0xfb);
	wr(VLAPIC_MSR_ICR, (0xffffffffull << 32) | 0x66, 0);
	cr_assert_eq(fx.shorthand, VLAPIC_SH_NONE);
	cr_assert_eq(fx.dest, VLAPIC_DEST_BROADCAST);
}

Test(vlapic, icr_illegal_vector)
{
	enable();
	wr(VLAPIC_MSR_ICR, (1ull << 32) | 0x0f, 0);
	cr_assert_not(fx.send_ipi);
	wr(VLAPIC_MSR_ESR, 0, 0);
	cr_assert_eq(rd(VLAPIC_MSR_ESR, 0), VLAPIC_ESR_SEND_ILLEGAL);
}

/* ------------------------------------------------------------- timer */

#define T0 1000000ull

Test(vlapic, timer_one_shot)
{
	enable();
	wr(VLAPIC_MSR_TIMER_DIV, 0x3, 0);              /* divide by 16 */
	wr(VLAPIC_MSR_LVT_TIMER, 0xef, 0);
	wr(VLAPIC_MSR_TIMER_INIT, 1000, T0);
	cr_assert(fx.timer_changed);
	cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 16000);
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_CUR, T0), 1000);
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_CUR, T0 + 1600), 900);
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_CUR, T0 + 1601), 900, "rounds up");
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_CUR, T0 + 15999), 1);
	cr_assert_not(vlapic_timer_fire(&apic, T0 + 15999));
	cr_assert_eq(vlapic_pending_vector(&apic), -1);
	cr_assert(vlapic_timer_fire(&apic, T0 + 16005));
	cr_assert_eq(vlapic_pending_vector(&apic), 0xef);
	cr_assert_eq(vlapic_timer_deadline(&apic), 0);
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_CUR, T0 + 16005), 0);
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_INIT, 0), 1000);
	cr_assert_not(vlapic_timer_fire(&apic, T0 + 99999), "one-shot fires once");
}

Test(vlapic, timer_current_zero_when_due_unfired)
{
	enable();
	wr(VLAPIC_MSR_TIMER_DIV, 0xb, 0);               /* divide by 1 */
	wr(VLAPIC_MSR_LVT_TIMER, 0xef, 0);
	wr(VLAPIC_MSR_TIMER_INIT, 10, T0);
	cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 10);
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_CUR, T0 + 50), 0);
}

Test(vlapic, timer_divide_values)
{
	static const struct { uint32_t dcr, div; } t[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};
	unsigned i;

	enable();
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		wr(VLAPIC_MSR_TIMER_DIV, t[i].dcr, 0);
		cr_assert_eq(rd(VLAPIC_MSR_TIMER_DIV, 0), t[i].dcr);
		wr(VLAPIC_MSR_TIMER_INIT, 100, T0);
		cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 100ull * t[i].div,
			     "dcr 0x%x", t[i].dcr);
	}
}

Test(vlapic, timer_init_zero_stops)
{
	enable();
	wr(VLAPIC_MSR_LVT_TIMER, 0x20030, 0);
	wr(VLAPIC_MSR_TIMER_INIT, 100, T0);
	cr_assert_neq(vlapic_timer_deadline(&apic), 0);
	wr(VLAPIC_MSR_TIMER_INIT, 0, T0 + 10);
	cr_assert(fx.timer_changed);
	cr_assert_eq(vlapic_timer_deadline(&apic), 0);
	cr_assert_not(vlapic_timer_fire(&apic, T0 + 1000000));
}

Test(vlapic, timer_periodic)
{
	enable();
	wr(VLAPIC_MSR_TIMER_DIV, 0xb, 0);
	wr(VLAPIC_MSR_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0xec, 0);
	wr(VLAPIC_MSR_TIMER_INIT, 1000, T0);
	cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 1000);
	cr_assert(vlapic_timer_fire(&apic, T0 + 1000));
	cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 2000);
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_CUR, T0 + 1250), 750);
	cr_assert_eq(take(), 0xec);
	eoi();
	/* Handled a little late: the grid does not drift. */
	cr_assert(vlapic_timer_fire(&apic, T0 + 2100));
	cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 3000);
}

Test(vlapic, timer_periodic_catch_up)
{
	enable();
	wr(VLAPIC_MSR_TIMER_DIV, 0xb, 0);
	wr(VLAPIC_MSR_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0xec, 0);
	wr(VLAPIC_MSR_TIMER_INIT, 1000, T0);
	/* 5.5 periods late: one interrupt, next deadline on the grid after now. */
	cr_assert(vlapic_timer_fire(&apic, T0 + 6500));
	cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 7000);
	cr_assert_not(vlapic_timer_fire(&apic, T0 + 6999), "no storm");
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_CUR, T0 + 6500), 500);
	/* Exactly on a boundary. */
	cr_assert(vlapic_timer_fire(&apic, T0 + 9000));
	cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 10000);
	/* Current count while a period is due but not yet handled. */
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_CUR, T0 + 10300), 700);
}

Test(vlapic, timer_masked_keeps_running)
{
	enable();
	wr(VLAPIC_MSR_TIMER_DIV, 0xb, 0);
	wr(VLAPIC_MSR_LVT_TIMER, VLAPIC_LVT_MASKED | VLAPIC_TIMER_PERIODIC | 0xec, 0);
	wr(VLAPIC_MSR_TIMER_INIT, 1000, T0);
	cr_assert_not(vlapic_timer_fire(&apic, T0 + 1000));
	cr_assert_eq(vlapic_pending_vector(&apic), -1);
	cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 2000);
	wr(VLAPIC_MSR_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0xec, 0);
	cr_assert(vlapic_timer_fire(&apic, T0 + 2000));
	cr_assert_eq(vlapic_pending_vector(&apic), 0xec);
}

Test(vlapic, timer_mode_switch_oneshot_periodic)
{
	enable();
	wr(VLAPIC_MSR_TIMER_DIV, 0xb, 0);
	wr(VLAPIC_MSR_LVT_TIMER, 0xec, 0);
	wr(VLAPIC_MSR_TIMER_INIT, 1000, T0);
	wr(VLAPIC_MSR_LVT_TIMER, VLAPIC_TIMER_PERIODIC | 0xec, T0 + 10);
	cr_assert(vlapic_timer_fire(&apic, T0 + 1000));
	cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 2000, "now periodic");
	wr(VLAPIC_MSR_LVT_TIMER, 0xec, T0 + 1010);
	cr_assert(vlapic_timer_fire(&apic, T0 + 2000));
	cr_assert_eq(vlapic_timer_deadline(&apic), 0, "one-shot again");
}

Test(vlapic, timer_tsc_deadline)
{
	uint64_t v;

	enable();
	/* Outside TSC-deadline mode the MSR reads 0 and ignores writes. */
	wr(VLAPIC_MSR_TSC_DEADLINE, T0 + 500, T0);
	cr_assert_not(fx.timer_changed);
	cr_assert_eq(rd(VLAPIC_MSR_TSC_DEADLINE, T0), 0);
	cr_assert_eq(vlapic_timer_deadline(&apic), 0);

	wr(VLAPIC_MSR_LVT_TIMER, VLAPIC_TIMER_DEADLINE | 0xef, 0);
	wr(VLAPIC_MSR_TSC_DEADLINE, T0 + 500, T0);
	cr_assert(fx.timer_changed);
	cr_assert_eq(rd(VLAPIC_MSR_TSC_DEADLINE, T0), T0 + 500);
	cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 500);
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_CUR, T0), 0);
	/* Initial count is ignored in this mode. */
	wr(VLAPIC_MSR_TIMER_INIT, 1000, T0);
	cr_assert_not(fx.timer_changed);
	cr_assert_eq(rd(VLAPIC_MSR_TIMER_INIT, 0), 0);
	cr_assert_eq(vlapic_timer_deadline(&apic), T0 + 500);

	cr_assert_not(vlapic_timer_fire(&apic, T0 + 499));
	cr_assert(vlapic_timer_fire(&apic, T0 + 500));
	cr_assert_eq(vlapic_pending_vector(&apic), 0xef);
	cr_assert_eq(vlapic_timer_deadline(&apic), 0);
	cr_assert_eq(vlapic_rdmsr(&apic, VLAPIC_MSR_TSC_DEADLINE, 0, &v), 0);
	cr_assert_eq(v, 0, "reads 0 after firing");
	cr_assert_not(vlapic_timer_fire(&apic, T0 + 10000));
}

Test(vlapic, timer_tsc_deadline_disarm_and_past)
{
	enable();
	wr(VLAPIC_MSR_LVT_TIMER, VLAPIC_TIMER_DEADLINE | 0xef, 0);
	wr(VLAPIC_MSR_TSC_DEADLINE, T0 + 500, T0);
	wr(VLAPIC_MSR_TSC_DEADLINE, 0, T0);
	cr_assert(fx.timer_changed);
	cr_assert_eq(vlapic_timer_deadline(&apic), 0);
	/* A deadline already passed fires at the next check. */
	wr(VLAPIC_MSR_TSC_DEADLINE, 5, T0);
	cr_assert(vlapic_timer_fire(&apic, T0));
}

Test(vlapic, timer_mode_switch_disarms_deadline)
{
	enable();
	wr(VLAPIC_MSR_LVT_TIMER, VLAPIC_TIMER_DEADLINE | 0xef, 0);
	wr(VLAPIC_MSR_TSC_DEADLINE, T0 + 500, T0);
	wr(VLAPIC_MSR_LVT_TIMER, 0xef, T0);
	cr_assert(fx.timer_changed);
	cr_assert_eq(vlapic_timer_deadline(&apic), 0);
	/* And the other way. */
	wr(VLAPIC_MSR_TIMER_INIT, 100, T0);
	cr_assert_neq(vlapic_timer_deadline(&apic), 0);
	wr(VLAPIC_MSR_LVT_TIMER, VLAPIC_TIMER_DEADLINE | 0xef, T0);
	cr_assert(fx.timer_changed);
	cr_assert_eq(vlapic_timer_deadline(&apic), 0);
	cr_assert_eq(rd(VLAPIC_MSR_TSC_DEADLINE, T0), 0);
}

Test(vlapic, timer_while_sw_disabled)
{
	enable();
	wr(VLAPIC_MSR_TIMER_DIV, 0xb, 0);
	wr(VLAPIC_MSR_LVT_TIMER, 0xef, 0);
	wr(VLAPIC_MSR_TIMER_INIT, 10, T0);
	wr(VLAPIC_MSR_SVR, 0xff, 0);
	cr_assert_not(vlapic_timer_fire(&apic, T0 + 10), "LVT masked by SVR");
	cr_assert_eq(vlapic_timer_deadline(&apic), 0);
}
