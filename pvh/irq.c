/* SPDX-License-Identifier: Apache-2.0 */
/*
 * irq.c: interrupts inside a domain.  Wires the per-vCPU local x2APICs
 * (vlapic.c) and the domain's I/O APIC (vioapic.c) to each other, to the
 * scheduler (waking halted vCPUs, kicking running ones) and to the backend
 * (injection and interrupt windows), and starts secondary vCPUs on
 * INIT-SIPI.
 */
#include "pvh/pvh.h"
#include "arch/x86/x86.h"
#include "pvhv/abi.h"

#define MSR_IA32_APIC_BASE 0x1b
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff
#define MSR_IA32_TSC_DEADLINE 0x6e0

#define ICR_MODE_FIXED 0
#define ICR_MODE_LOWEST 1
#define ICR_MODE_NMI 4
#define ICR_MODE_INIT 5
#define ICR_MODE_SIPI 6

bool irq_owns_msr(uint32_t msr)
{
	return msr == MSR_IA32_APIC_BASE || msr == MSR_IA32_TSC_DEADLINE ||
	       (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST);
}

void irq_vcpu_init(struct vcpu *v)
{
	vlapic_init(&v->lapic, v->id, v->id == 0, tsc_khz());
	v->wait_sipi = false;
	v->halted_for_good = false;
	v->irq_window = false;
}

/* Makes a halted vCPU runnable, or a running one look at its interrupts now. */
void vcpu_wake(struct vcpu *v)
{
	sched_lock();
	if (v->state == VCPU_BLOCKED && v->dom->state == DOM_RUNNING && !v->halted_for_good)
		sched_enqueue_locked(v);
	else if (v->state == VCPU_RUNNING && v->cpu >= 0 && v->cpu != (int)this_cpu()->index)
		sched_kick_locked((unsigned)v->cpu);
	sched_unlock();
}

static bool dest_matches(const struct vcpu *v, uint32_t dest, bool logical)
{
	if (dest == 0xffffffffu)
		return true;
	if (!logical)
		return dest == v->id;
	/* x2APIC logical: cluster (ID[31:4]) in the high half, a bit per member below. */
	return (dest >> 16) == (v->id >> 4) && (dest & (1u << (v->id & 15)));
}

static void start_secondary(struct vcpu *t, uint8_t vector)
{
	sched_lock();
	if (t->state == VCPU_OFFLINE && t->wait_sipi && t->dom->state == DOM_RUNNING) {
		t->wait_sipi = false;
		vcpu_ops->reset_sipi(&t->hw, vector);
		sched_enqueue_locked(t);
	}
	sched_unlock();
}

static void deliver_one(struct vcpu *t, uint8_t mode, uint8_t vector, bool level)
{
	switch (mode) {
	case ICR_MODE_FIXED:
	case ICR_MODE_LOWEST:
		spin_lock(&t->lapic_lock);
		vlapic_accept_irq(&t->lapic, vector, level);
		spin_unlock(&t->lapic_lock);
		vcpu_wake(t);
		break;
	case ICR_MODE_INIT:
		/* Only a vCPU that never ran waits for SIPI; a running one ignores INIT. */
		if (t->state == VCPU_OFFLINE)
			t->wait_sipi = true;
		break;
	case ICR_MODE_SIPI:
		start_secondary(t, vector);
		break;
	default:
		break; /* NMI, SMI, ExtINT: not wired */
	}
}

/* Interrupt message from the I/O APIC or an IPI, to every matching vCPU. */
void irq_deliver(struct domain *d, uint32_t dest, bool logical, uint8_t mode, uint8_t vector,
		 bool level, int self, uint8_t shorthand)
{
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *t = &d->vcpu[i];
		bool hit;

		switch (shorthand) {
		case 1: hit = (int)i == self; break;
		case 2: hit = true; break;
		case 3: hit = (int)i != self; break;
		default: hit = dest_matches(t, dest, logical); break;
		}
		if (hit) {
			deliver_one(t, mode, vector, level);
			/* Lowest priority: the first match takes it. */
			if (mode == ICR_MODE_LOWEST && shorthand == 0)
				break;
		}
	}
}

static void ioapic_deliver(void *ctx, uint32_t dest, bool logical, uint8_t mode, uint8_t vector,
			   bool level)
{
	irq_deliver(ctx, dest, logical, mode, vector, level, -1, 0);
}

static struct vioapic_deliver ioapic_sink(struct domain *d)
{
	return (struct vioapic_deliver){ .deliver = ioapic_deliver, .ctx = d };
}

void irq_domain_init(struct domain *d)
{
	vioapic_init(&d->ioapic, d->cfg->vcpus);
}

void irq_set_gsi(struct domain *d, unsigned gsi, bool level)
{
	struct vioapic_deliver sink = ioapic_sink(d);

	spin_lock(&d->ioapic_lock);
	vioapic_set_irq(&d->ioapic, gsi, level, &sink);
	spin_unlock(&d->ioapic_lock);
}

int irq_ioapic_mmio(struct domain *d, uint64_t off, bool write, unsigned size, uint64_t *val)
{
	struct vioapic_deliver sink = ioapic_sink(d);
	int rc;

	spin_lock(&d->ioapic_lock);
	if (write)
		rc = vioapic_mmio_write(&d->ioapic, off, size, *val, &sink);
	else
		rc = vioapic_mmio_read(&d->ioapic, off, size, val);
	spin_unlock(&d->ioapic_lock);
	return rc;
}

static void apply_effect(struct vcpu *v, const struct vlapic_effect *fx)
{
	if (fx->eoi && fx->eoi_level) {
		struct vioapic_deliver sink = ioapic_sink(v->dom);

		spin_lock(&v->dom->ioapic_lock);
		vioapic_eoi(&v->dom->ioapic, fx->eoi_vector, &sink);
		spin_unlock(&v->dom->ioapic_lock);
	}
	if (fx->send_ipi)
		irq_deliver(v->dom, fx->dest, fx->logical, fx->mode, fx->vector, false, (int)v->id,
			    fx->shorthand);
}

int vcpu_lapic_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	int rc;

	spin_lock(&v->lapic_lock);
	rc = vlapic_rdmsr(&v->lapic, msr, rdtsc(), val);
	spin_unlock(&v->lapic_lock);
	return rc;
}

int vcpu_lapic_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct vlapic_effect fx = { 0 };
	int rc;

	spin_lock(&v->lapic_lock);
	rc = vlapic_wrmsr(&v->lapic, msr, val, rdtsc(), &fx);
	spin_unlock(&v->lapic_lock);
	if (!rc)
		apply_effect(v, &fx);
	return rc;
}

/* Fires the vCPU's APIC timer if it is due; true when that made an interrupt pending. */
bool irq_timer_check(struct vcpu *v, uint64_t now)
{
	bool fired;

	spin_lock(&v->lapic_lock);
	fired = vlapic_timer_fire(&v->lapic, now);
	spin_unlock(&v->lapic_lock);
	return fired;
}

uint64_t irq_timer_deadline(struct vcpu *v)
{
	return vlapic_timer_deadline(&v->lapic);
}

bool irq_pending(struct vcpu *v)
{
	int vec;

	spin_lock(&v->lapic_lock);
	vec = vlapic_pending_vector(&v->lapic);
	spin_unlock(&v->lapic_lock);
	return vec >= 0;
}

/*
 * Before each entry: the highest-priority pending interrupt is offered if
 * the backend can take it, else the backend is asked for a window exit.
 * A backend that delivers at entry has the vector acknowledged here; one
 * whose offer waits for the guest (irq_taken) in irq_after_exit(), only if
 * the guest took it: until then it stays requested, and the next entry
 * offers whatever is highest then.
 */
void irq_before_entry(struct vcpu *v)
{
	int vec;

	irq_timer_check(v, rdtsc());
	spin_lock(&v->lapic_lock);
	vec = vlapic_pending_vector(&v->lapic);
	if (vec >= 0 && vcpu_ops->irq_injectable(&v->hw)) {
		exit_complete_hlt(v);
		vcpu_ops->inject_irq(&v->hw, (uint8_t)vec);
		if (!vcpu_ops->irq_taken)
			vlapic_ack(&v->lapic, (uint8_t)vec);
		vec = -1;
	}
	spin_unlock(&v->lapic_lock);
	if (vcpu_ops->irq_window && (vec >= 0) != v->irq_window) {
		v->irq_window = vec >= 0;
		vcpu_ops->irq_window(&v->hw, v->irq_window);
	}
}

/*
 * After each run(), before its exit is handled (an EOI or HLT in the same
 * exit must see the vector in service): acknowledges the vector the guest
 * took.
 */
void irq_after_exit(struct vcpu *v)
{
	int vec;

	if (!vcpu_ops->irq_taken)
		return;
	vec = vcpu_ops->irq_taken(&v->hw);
	if (vec < 0)
		return;
	spin_lock(&v->lapic_lock);
	vlapic_ack(&v->lapic, (uint8_t)vec);
	spin_unlock(&v->lapic_lock);
}

/* Wakes halted vCPUs whose APIC timer is due; returns the earliest deadline still ahead (0: none). */
uint64_t irq_wake_timers(void)
{
	uint64_t now = rdtsc(), next = 0;

	for (unsigned i = 0; i < nr_domains; i++) {
		struct domain *d = dom_at(i);

		if (d->state != DOM_RUNNING || !dom_get(d))
			continue;
		for (unsigned j = 0; j < d->nr_vcpus; j++) {
			struct vcpu *v = &d->vcpu[j];
			uint64_t dl;

			if (v->state != VCPU_BLOCKED)
				continue;
			dl = irq_timer_deadline(v);
			if (!dl)
				continue;
			if (dl <= now) {
				if (irq_timer_check(v, now))
					vcpu_wake(v);
			} else if (!next || dl < next) {
				next = dl;
			}
		}
		dom_put(d);
	}
	return next;
}
