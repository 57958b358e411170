/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msi.c: host MSI routing.  A passed-through device's message is bound to
 * a host vector (HOSTIRQ_FIRST-LAST, next-fit: lib/msimsg.c) aimed at the
 * host CPU that runs, or last ran, the domain's vCPU 0; the device is
 * programmed with that host message.  Its interrupt is only noted by the
 * trap handler (arch/x86/hostirq.c); msi_poll(), called by every CPU right
 * after it let host interrupts in, turns each note into the interrupt the
 * domain's own message names (irq_deliver(), as if the device had written
 * it to the domain's APIC).
 *
 * Why not deliver in the handler: host interrupts are let in only where
 * the CPU holds no lock (the window after EXIT_INTR in run_vcpu() and the
 * idle HLT in sched_cpu_loop()), so irq_deliver()'s lapic_lock and
 * sched_lock would be safe there today; but a handler that takes locks
 * makes every future STI a deadlock to check, and lapic_send_ipi() (a
 * kick) is two register writes an interrupt must not split.  The poll
 * costs four loads when nothing is pending.
 */
#include "pvh/pvh.h"
#include "pvh/msi.h"
#include "lib/msimsg.h"

#define NR_VEC 256

/* A leaf: nothing else is taken under it. */
static struct spinlock msi_lock;
static struct msi_route *route_of[NR_VEC];
static struct msi_vecmap vecs;
static bool vecs_ready;
static uint64_t unrouted; /* interrupts on a vector nobody owned when they were delivered */

/* The host CPU (xAPIC ID) for a new route: vCPU 0's, running or last, else this one. */
static int pick_apic(struct domain *dom, uint32_t *apic)
{
	int cpu = -1;

	if (dom->nr_vcpus) {
		cpu = __atomic_load_n(&dom->vcpu[0].cpu, __ATOMIC_RELAXED);
		if (cpu < 0)
			cpu = __atomic_load_n(&dom->vcpu[0].hw.last_cpu, __ATOMIC_RELAXED);
	}
	if (cpu < 0 || (unsigned)cpu >= nr_cpus)
		cpu = (int)this_cpu()->index;
	/* An MSI address names 8 bits of xAPIC ID; without remapping nothing else is reachable. */
	for (unsigned i = 0; i < nr_cpus; i++) {
		unsigned c = ((unsigned)cpu + i) % nr_cpus;

		if (cpus[c].online && cpus[c].apic_id <= 0xff) {
			*apic = cpus[c].apic_id;
			return 0;
		}
	}
	return -EINVAL;
}

int msi_route_bind(struct msi_route *r, struct domain *dom, uint64_t guest_addr, uint32_t guest_data,
		   uint64_t *host_addr, uint32_t *host_data, char *err, size_t errlen)
{
	struct msi_msg m;
	uint32_t apic = 0;
	uint8_t vec;
	int rc;

	if (!dom)
		return errorf(-EINVAL, err, errlen, "internal: no domain");
	rc = msimsg_decode(guest_addr, guest_data, &m, err, errlen);
	if (rc)
		return rc;
	spin_lock(&msi_lock);
	if (r->host_vector && route_of[r->host_vector] != r) {
		spin_unlock(&msi_lock);
		return errorf(-EINVAL, err, errlen, "internal: route claims host vector 0x%x, not its own",
			      r->host_vector);
	}
	if (!vecs_ready) {
		msimsg_vec_init(&vecs, HOSTIRQ_FIRST, HOSTIRQ_LAST);
		vecs_ready = true;
	}
	if (!r->host_vector) {
		if (pick_apic(dom, &apic)) {
			spin_unlock(&msi_lock);
			return errorf(-EINVAL, err, errlen, "no host CPU with an xAPIC ID below 256");
		}
		if (msimsg_vec_alloc(&vecs, &vec)) {
			spin_unlock(&msi_lock);
			return errorf(-ENOSPC, err, errlen, "all %u host vectors are bound",
				      HOSTIRQ_LAST - HOSTIRQ_FIRST + 1);
		}
		/* Whatever a previous owner left pending is not this route's. */
		unrouted += hostirq_take(vec);
		r->host_vector = vec;
		r->host_apic_id = apic;
		route_of[vec] = r;
	}
	r->dom = dom;
	r->guest_addr = guest_addr;
	r->guest_data = guest_data;
	msimsg_encode((uint8_t)r->host_apic_id, r->host_vector, host_addr, host_data);
	spin_unlock(&msi_lock);
	return 0;
}

void msi_route_unbind(struct msi_route *r)
{
	uint8_t vec;

	spin_lock(&msi_lock);
	vec = r->host_vector;
	if (vec && route_of[vec] == r) {
		r->dropped += hostirq_take(vec);
		route_of[vec] = NULL;
		msimsg_vec_free(&vecs, vec);
	}
	r->host_vector = 0;
	spin_unlock(&msi_lock);
}

/*
 * One vector's notes: n interrupts for its route's domain.  The vLAPIC
 * holds one request per vector (IRR), as a real one does, so n edges
 * before the guest takes one make one interrupt; all n are counted.  The
 * reference is taken after msi_lock is dropped (a failed dom_get() may
 * take sched_lock, and msi_lock must stay a leaf); a domain that dies in
 * between loses the interrupt though it was counted delivered.  Domain
 * slots are never freed, so the pointer stays good to try.
 */
static void deliver_vector(uint8_t vec)
{
	struct domain *d = NULL;
	struct msi_msg m;
	struct msi_route *r;
	uint64_t n;

	spin_lock(&msi_lock);
	n = hostirq_take(vec);
	r = route_of[vec];
	if (!n) {
		spin_unlock(&msi_lock);
		return;
	}
	if (!r) {
		unrouted += n;
	} else if (msimsg_decode(r->guest_addr, r->guest_data, &m, NULL, 0) ||
		   __atomic_load_n(&r->dom->state, __ATOMIC_ACQUIRE) != DOM_RUNNING) {
		r->dropped += n; /* its domain is ending */
	} else {
		d = r->dom;
		r->delivered += n;
	}
	spin_unlock(&msi_lock);
	if (!d || !dom_get(d))
		return;
	irq_deliver(d, msimsg_x2apic_dest(&m), m.logical, m.mode, m.vector, false, -1, 0);
	dom_put(d);
}

void msi_poll(void)
{
	uint64_t map[4];

	if (!hostirq_take_pending(map))
		return;
	for (unsigned w = 0; w < 4; w++)
		while (map[w]) {
			unsigned b = (unsigned)__builtin_ctzll(map[w]);

			map[w] &= map[w] - 1;
			deliver_vector((uint8_t)(w * 64 + b));
		}
}

uint64_t msi_unrouted(void)
{
	return __atomic_load_n(&unrouted, __ATOMIC_RELAXED);
}
