/* SPDX-License-Identifier: Apache-2.0 */
/* vlapic.c: a virtual local APIC in x2APIC mode, driven by MSR accesses and a caller-supplied TSC. */
#include "lib/base.h"
#include "pvh/vlapic.h"

/*
 * Bits a guest may set in each LVT entry (SDM 10.5.1, Figure 10-8), and the
 * read-only bits that are not reserved (delivery status 12, remote IRR 14):
 * writing those is ignored, writing any other bit is #GP in x2APIC mode
 * (SDM 10.12.1.3).  Delivery status and remote IRR always read 0 here
 * because delivery is immediate and LINT0/1 are not wired.
 */
#define LVT_TIMER_RW 0x700ffu  /* vector, mask, timer mode 18:17 */
#define LVT_DM_RW 0x107ffu     /* vector, delivery mode 10:8, mask */
#define LVT_LINT_RW 0x1a7ffu   /* + polarity 13, trigger mode 15 */
#define LVT_ERROR_RW 0x100ffu  /* vector, mask */
#define LVT_RO ((1u << 12) | (1u << 14))

static const uint32_t lvt_rw[VLAPIC_LVT_COUNT] = {
	[VLAPIC_LVT_TIMER] = LVT_TIMER_RW,
	[VLAPIC_LVT_THERMAL] = LVT_DM_RW,
	[VLAPIC_LVT_PERF] = LVT_DM_RW,
	[VLAPIC_LVT_LINT0] = LVT_LINT_RW,
	[VLAPIC_LVT_LINT1] = LVT_LINT_RW,
	[VLAPIC_LVT_ERROR] = LVT_ERROR_RW,
};

/* SVR: vector 7:0, APIC enable 8, focus-check disable 9.  Bit 12 (EOI
 * broadcast suppression) is reserved: VLAPIC_VERSION bit 24 is clear. */
#define SVR_RW 0x3ffu
#define TPR_RW 0xffu
#define DIV_RW 0xbu

/*
 * x2APIC ICR (SDM 10.12.9): vector 7:0, delivery mode 10:8, destination
 * mode 11, level 14, trigger mode 15, shorthand 19:18, destination 63:32.
 * Delivery status (12) is gone in x2APIC mode, so it is reserved too.
 */
#define ICR_RW 0xffffffff000ccfffull
#define ICR_LOGICAL (1u << 11)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)

static bool test_vec(const uint32_t *r, unsigned v)
{
	return r[v >> 5] & (1u << (v & 31));
}

static void set_vec(uint32_t *r, unsigned v)
{
	r[v >> 5] |= 1u << (v & 31);
}

static void clear_vec(uint32_t *r, unsigned v)
{
	r[v >> 5] &= ~(1u << (v & 31));
}

/* Highest set vector in a 256-bit register, or -1. */
static int highest_vec(const uint32_t *r)
{
	int i;

	for (i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

static bool sw_enabled(const struct vlapic *a)
{
	return a->svr & VLAPIC_SVR_ENABLE;
}

static uint32_t timer_mode(const struct vlapic *a)
{
	return a->lvt[VLAPIC_LVT_TIMER] & VLAPIC_TIMER_MODE_MASK;
}

/* Divide configuration (SDM 10.5.4, Figure 10-10): bits 3,1:0 encode a
 * power of two; 1011b means divide by 1. */
static uint32_t divide_value(uint32_t dcr)
{
	uint32_t code = ((dcr & 8) >> 1) | (dcr & 3);

	return 1u << ((code + 1) & 7);
}

static bool set_irr(struct vlapic *a, uint8_t vector, bool level);

/*
 * An error the APIC detected: latched into ESR by the next ESR write and
 * signalled through LVT error (SDM 10.5.3).  An LVT error vector below 16
 * is not delivered, which also keeps this from recursing through set_irr().
 */
static void record_error(struct vlapic *a, uint32_t bit)
{
	uint32_t lvt = a->lvt[VLAPIC_LVT_ERROR];

	a->esr_pending |= bit;
	if (!(lvt & VLAPIC_LVT_MASKED) && (lvt & 0xff) >= 16)
		set_irr(a, lvt & 0xff, false);
}

static bool set_irr(struct vlapic *a, uint8_t vector, bool level)
{
	/* SDM 10.5.2: vectors 0-15 are illegal and are not delivered. */
	if (vector < 16) {
		record_error(a, VLAPIC_ESR_RECV_ILLEGAL);
		return false;
	}
	/* A software-disabled APIC takes no fixed interrupts (KVM's
	 * __apic_accept_irq() does the same). */
	if (!sw_enabled(a))
		return false;
	set_vec(a->irr, vector);
	if (level)
		set_vec(a->tmr, vector);
	else
		clear_vec(a->tmr, vector);
	return true;
}

static void timer_disarm(struct vlapic *a)
{
	a->deadline_tsc = 0;
	a->period_tsc = 0;
}

void vlapic_init(struct vlapic *a, uint32_t id, bool bsp, uint64_t tsc_khz)
{
	unsigned i;

	memset(a, 0, sizeof(*a));
	a->id = id;
	a->bsp = bsp;
	a->tsc_khz = tsc_khz;
	/* SDM 10.12.10.2: the x2APIC logical ID is cluster (ID[19:4]) in
	 * bits 31:16 and one bit (1 << ID[3:0]) in bits 15:0. */
	a->ldr = ((id >> 4) << 16) | (1u << (id & 15));
	a->svr = 0xff;
	for (i = 0; i < VLAPIC_LVT_COUNT; i++)
		a->lvt[i] = VLAPIC_LVT_MASKED;
}

bool vlapic_owns_msr(uint32_t msr)
{
	return msr == VLAPIC_MSR_APIC_BASE || msr == VLAPIC_MSR_TSC_DEADLINE ||
	       (msr >= VLAPIC_MSR_FIRST && msr <= VLAPIC_MSR_LAST);
}

uint32_t vlapic_ppr(const struct vlapic *a)
{
	int isrv = highest_vec(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	/* SDM 10.8.3.1. */
	if ((a->tpr & 0xf0) >= isr_class)
		return a->tpr & 0xff;
	return isr_class;
}

/*
 * Current count (SDM 10.5.4): counts down from the initial count, one
 * count per (divide) TSC ticks, rounded up so that it reads the initial
 * count at the start and reaches 0 only at expiry.  TSC-deadline mode
 * reads 0.
 */
static uint32_t timer_current(const struct vlapic *a, uint64_t now)
{
	uint64_t left, per_count;

	if (!a->deadline_tsc || timer_mode(a) == VLAPIC_TIMER_DEADLINE ||
	    !a->timer_init)
		return 0;
	per_count = a->count_div;
	if (now < a->deadline_tsc)
		left = a->deadline_tsc - now;
	else if (a->period_tsc)
		left = a->period_tsc - (now - a->deadline_tsc) % a->period_tsc;
	else
		return 0;
	left = (left + per_count - 1) / per_count;
	return (uint32_t)MIN(left, (uint64_t)a->timer_init);
}

static uint64_t apic_base(const struct vlapic *a)
{
	return VLAPIC_BASE_ADDR | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD |
	       (a->bsp ? VLAPIC_BASE_BSP : 0);
}

int vlapic_rdmsr(struct vlapic *a, uint32_t msr, uint64_t now_tsc, uint64_t *val)
{
	uint64_t v;

	switch (msr) {
	case VLAPIC_MSR_APIC_BASE:
		v = apic_base(a);
		break;
	case VLAPIC_MSR_TSC_DEADLINE:
		/* SDM 10.5.4.1: reads 0 outside TSC-deadline mode. */
		v = timer_mode(a) == VLAPIC_TIMER_DEADLINE ? a->tsc_deadline : 0;
		break;
	case VLAPIC_MSR_ID:
		v = a->id;
		break;
	case VLAPIC_MSR_VERSION:
		v = VLAPIC_VERSION;
		break;
	case VLAPIC_MSR_TPR:
		v = a->tpr;
		break;
	case VLAPIC_MSR_PPR:
		v = vlapic_ppr(a);
		break;
	case VLAPIC_MSR_LDR:
		v = a->ldr;
		break;
	case VLAPIC_MSR_SVR:
		v = a->svr;
		break;
	case VLAPIC_MSR_ISR0 ... VLAPIC_MSR_ISR0 + 7:
		v = a->isr[msr - VLAPIC_MSR_ISR0];
		break;
	case VLAPIC_MSR_TMR0 ... VLAPIC_MSR_TMR0 + 7:
		v = a->tmr[msr - VLAPIC_MSR_TMR0];
		break;
	case VLAPIC_MSR_IRR0 ... VLAPIC_MSR_IRR0 + 7:
		v = a->irr[msr - VLAPIC_MSR_IRR0];
		break;
	case VLAPIC_MSR_ESR:
		v = a->esr;
		break;
	case VLAPIC_MSR_ICR:
		v = a->icr;
		break;
	case VLAPIC_MSR_LVT_TIMER ... VLAPIC_MSR_LVT_ERROR:
		v = a->lvt[msr - VLAPIC_MSR_LVT_TIMER];
		break;
	case VLAPIC_MSR_TIMER_INIT:
		v = a->timer_init;
		break;
	case VLAPIC_MSR_TIMER_CUR:
		v = timer_current(a, now_tsc);
		break;
	case VLAPIC_MSR_TIMER_DIV:
		v = a->timer_div;
		break;
	default:
		/* EOI and SELF_IPI are write-only; the rest of 0x800-0x8FF
		 * is unused (SDM Table 10-6). */
		return -EPERM;
	}
	*val = v;
	return 0;
}

static void write_eoi(struct vlapic *a, struct vlapic_effect *fx)
{
	int v = highest_vec(a->isr);

	/* SDM 10.8.5: EOI retires the highest-priority in-service vector;
	 * with none in service it does nothing. */
	if (v < 0)
		return;
	clear_vec(a->isr, (unsigned)v);
	fx->eoi = true;
	fx->eoi_vector = (uint8_t)v;
	fx->eoi_level = test_vec(a->tmr, (unsigned)v);
}

static void write_svr(struct vlapic *a, uint32_t val)
{
	unsigned i;

	a->svr = val;
	/* SDM 10.4.7.2: software disable masks every LVT entry. */
	if (!(val & VLAPIC_SVR_ENABLE))
		for (i = 0; i < VLAPIC_LVT_COUNT; i++)
			a->lvt[i] |= VLAPIC_LVT_MASKED;
}

/* val has passed the reserved-bit check. */
static int write_lvt(struct vlapic *a, unsigned idx, uint32_t val,
		     struct vlapic_effect *fx)
{
	uint32_t old_mode, new_mode;

	val &= lvt_rw[idx];
	/* SDM 10.4.7.2: masks cannot be cleared while software-disabled. */
	if (!sw_enabled(a))
		val |= VLAPIC_LVT_MASKED;
	if (idx != VLAPIC_LVT_TIMER) {
		a->lvt[idx] = val;
		return 0;
	}
	new_mode = val & VLAPIC_TIMER_MODE_MASK;
	if (new_mode == VLAPIC_TIMER_MODE_MASK)
		return -EPERM; /* 11b is reserved */
	old_mode = timer_mode(a);
	a->lvt[idx] = val;
	if (old_mode == new_mode)
		return 0;
	/* SDM 10.5.4.1: switching to or from TSC-deadline mode disarms the
	 * timer.  Between one-shot and periodic the running count carries
	 * on and the new mode applies at expiry. */
	if (old_mode == VLAPIC_TIMER_DEADLINE || new_mode == VLAPIC_TIMER_DEADLINE) {
		timer_disarm(a);
		a->tsc_deadline = 0;
		a->timer_init = 0;
		fx->timer_changed = true;
	} else if (a->deadline_tsc) {
		a->period_tsc = new_mode == VLAPIC_TIMER_PERIODIC
			? (uint64_t)a->timer_init * a->count_div : 0;
	}
	return 0;
}

/* Writing the initial count (re)starts the count-down from now; 0 stops
 * it.  Ignored in TSC-deadline mode (SDM 10.5.4.1). */
static void write_timer_init(struct vlapic *a, uint32_t val, uint64_t now,
			     struct vlapic_effect *fx)
{
	uint64_t ticks;

	if (timer_mode(a) == VLAPIC_TIMER_DEADLINE)
		return;
	a->timer_init = val;
	fx->timer_changed = true;
	if (!val) {
		timer_disarm(a);
		return;
	}
	a->count_div = divide_value(a->timer_div);
	ticks = (uint64_t)val * a->count_div;
	a->deadline_tsc = now + ticks;
	a->period_tsc = timer_mode(a) == VLAPIC_TIMER_PERIODIC ? ticks : 0;
}

static void write_tsc_deadline(struct vlapic *a, uint64_t val,
			       struct vlapic_effect *fx)
{
	if (timer_mode(a) != VLAPIC_TIMER_DEADLINE)
		return;
	/* Writing 0 disarms; any other value arms, even one already in
	 * the past (it then fires at the next vlapic_timer_fire()). */
	a->tsc_deadline = val;
	a->deadline_tsc = val;
	a->period_tsc = 0;
	fx->timer_changed = true;
}

/* val has passed the reserved-bit check. */
static void write_icr(struct vlapic *a, uint64_t val, struct vlapic_effect *fx)
{
	uint32_t lo = (uint32_t)val;
	uint8_t mode = (lo >> 8) & 7;
	uint8_t vector = lo & 0xff;

	a->icr = val;
	switch (mode) {
	case VLAPIC_DM_FIXED:
	case VLAPIC_DM_LOWEST:
		if (vector < 16) {
			record_error(a, VLAPIC_ESR_SEND_ILLEGAL);
			return;
		}
		break;
	case VLAPIC_DM_INIT:
		/* INIT level de-assert (level 0, trigger level) is a no-op on
		 * current processors (SDM 10.6.1); Linux still sends it. */
		if ((lo & ICR_TRIGGER_LEVEL) && !(lo & ICR_LEVEL_ASSERT))
			return;
		break;
	case VLAPIC_DM_NMI:
	case VLAPIC_DM_SIPI:
		break;
	default:
		return; /* SMI and the reserved modes: nothing to send */
	}
	fx->send_ipi = true;
	fx->mode = mode;
	fx->vector = vector;
	fx->logical = lo & ICR_LOGICAL;
	fx->shorthand = (lo >> 18) & 3;
	fx->dest = (uint32_t)(val >> 32);
}

/* The register checks for 0x800-0x8FF, before anything changes. */
static int check_x2apic_write(uint32_t msr, uint64_t val)
{
	if (msr == VLAPIC_MSR_ICR)
		return (val & ~ICR_RW) ? -EPERM : 0;
	if (val >> 32)
		return -EPERM; /* every other register is 32-bit */
	switch (msr) {
	case VLAPIC_MSR_TPR:
		return (val & ~(uint64_t)TPR_RW) ? -EPERM : 0;
	case VLAPIC_MSR_EOI:
	case VLAPIC_MSR_ESR:
		return val ? -EPERM : 0; /* SDM Table 10-6 */
	case VLAPIC_MSR_SVR:
		return (val & ~(uint64_t)SVR_RW) ? -EPERM : 0;
	case VLAPIC_MSR_LVT_TIMER ... VLAPIC_MSR_LVT_ERROR:
		return (val & ~(uint64_t)(lvt_rw[msr - VLAPIC_MSR_LVT_TIMER] | LVT_RO))
			? -EPERM : 0;
	case VLAPIC_MSR_TIMER_INIT:
		return 0;
	case VLAPIC_MSR_TIMER_DIV:
		return (val & ~(uint64_t)DIV_RW) ? -EPERM : 0;
	case VLAPIC_MSR_SELF_IPI:
		return (val & ~0xffull) ? -EPERM : 0;
	default:
		return -EPERM; /* read-only or unused */
	}
}

int vlapic_wrmsr(struct vlapic *a, uint32_t msr, uint64_t val, uint64_t now_tsc,
		 struct vlapic_effect *fx)
{
	int rc;

	memset(fx, 0, sizeof(*fx));
	if (msr == VLAPIC_MSR_APIC_BASE) {
		/* Only x2APIC-enabled at the fixed base is allowed; leaving
		 * x2APIC mode (SDM 10.12.5) is not supported.  BSP is a
		 * fact of the vCPU, not something the guest changes. */
		if ((val & ~VLAPIC_BASE_BSP) !=
		    (VLAPIC_BASE_ADDR | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD))
			return -EPERM;
		return 0;
	}
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		write_tsc_deadline(a, val, fx);
		return 0;
	}
	if (msr < VLAPIC_MSR_FIRST || msr > VLAPIC_MSR_LAST)
		return -EPERM;
	rc = check_x2apic_write(msr, val);
	if (rc)
		return rc;

	switch (msr) {
	case VLAPIC_MSR_TPR:
		a->tpr = (uint32_t)val;
		break;
	case VLAPIC_MSR_EOI:
		write_eoi(a, fx);
		break;
	case VLAPIC_MSR_SVR:
		write_svr(a, (uint32_t)val);
		break;
	case VLAPIC_MSR_ESR:
		/* SDM 10.5.3: a write latches the errors seen since the last
		 * write into the readable register and starts afresh. */
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		break;
	case VLAPIC_MSR_ICR:
		write_icr(a, val, fx);
		break;
	case VLAPIC_MSR_LVT_TIMER ... VLAPIC_MSR_LVT_ERROR:
		return write_lvt(a, msr - VLAPIC_MSR_LVT_TIMER, (uint32_t)val, fx);
	case VLAPIC_MSR_TIMER_INIT:
		write_timer_init(a, (uint32_t)val, now_tsc, fx);
		break;
	case VLAPIC_MSR_TIMER_DIV:
		/* Applies from the next initial-count write. */
		a->timer_div = (uint32_t)val;
		break;
	case VLAPIC_MSR_SELF_IPI:
		/* SDM 10.12.11: a fixed, edge-triggered IPI to this APIC. */
		set_irr(a, (uint8_t)val, false);
		break;
	}
	return 0;
}

void vlapic_accept_irq(struct vlapic *a, uint8_t vector, bool level)
{
	set_irr(a, vector, level);
}

int vlapic_pending_vector(const struct vlapic *a)
{
	int v;

	if (!sw_enabled(a))
		return -1;
	v = highest_vec(a->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (vlapic_ppr(a) & 0xf0))
		return -1;
	return v;
}

void vlapic_ack(struct vlapic *a, uint8_t vector)
{
	if (vector < 16)
		return;
	clear_vec(a->irr, vector);
	set_vec(a->isr, vector);
}

bool vlapic_timer_fire(struct vlapic *a, uint64_t now_tsc)
{
	uint32_t lvt = a->lvt[VLAPIC_LVT_TIMER];

	if (!a->deadline_tsc || now_tsc < a->deadline_tsc)
		return false;
	if (a->period_tsc) {
		/* Next boundary after now on the original grid: late
		 * handling drops periods instead of replaying them. */
		uint64_t missed = (now_tsc - a->deadline_tsc) / a->period_tsc;

		a->deadline_tsc += (missed + 1) * a->period_tsc;
	} else {
		a->deadline_tsc = 0;
		a->tsc_deadline = 0; /* SDM 10.5.4.1: reads 0 once fired */
	}
	if (lvt & VLAPIC_LVT_MASKED)
		return false;
	return set_irr(a, lvt & 0xff, false);
}

uint64_t vlapic_timer_deadline(const struct vlapic *a)
{
	return a->deadline_tsc;
}
