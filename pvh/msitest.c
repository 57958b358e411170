/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msitest.c: the MSI test device (config "test-msi", tests only).  A guest
 * programs a message into it as a driver would into a device's MSI
 * capability; pvhv binds it with msi_route_bind(), and FIRE sends the host
 * vector to the host CPU the route names, as the device itself would
 * (FIRE_OTHER to another host CPU: one idle or running someone else).  So
 * the whole path -- host IDT, hostirq notes, msi_poll(), irq_deliver(),
 * injection -- runs without a passed-through device.  Registers (32-bit
 * port accesses at PVHV_MSITEST_PORT + offset, guest-abi/pvhv/platform.h):
 * ADDR_LO, ADDR_HI, DATA (write), CMD (write BIND/FIRE/FIRE_OTHER/UNBIND, read the
 * last command's status: 0 or a positive errno), DELIVERED, DROPPED,
 * UNROUTED (read: the route's counters and pvhv's), VECTOR (read: the
 * host vector, 0 when unbound).
 */
#include "pvh/pvh.h"
#include "pvh/msi.h"
#include "pvhv/platform.h"

struct msitest {
	struct spinlock lock;
	struct msi_route route;
	uint64_t addr;
	uint32_t data;
	uint32_t status;
	uint8_t last_vector;  /* FIRE after UNBIND sends it: an interrupt nobody owns */
	uint32_t last_apic;
};

/* A host CPU other than this one (this one when it is alone): its note is delivered by a kick. */
static uint32_t other_apic(void)
{
	unsigned me = this_cpu()->index;

	for (unsigned i = 1; i < nr_cpus; i++) {
		unsigned c = (me + i) % nr_cpus;

		if (cpus[c].online)
			return cpus[c].apic_id;
	}
	return this_cpu()->apic_id;
}

static void command(struct domain *d, struct msitest *t, uint32_t cmd)
{
	char err[120];
	uint64_t haddr;
	uint32_t hdata;
	int rc = 0;

	switch (cmd) {
	case PVHV_MSITEST_BIND:
		rc = msi_route_bind(&t->route, d, t->addr, t->data, &haddr, &hdata, err, sizeof(err));
		if (rc) {
			kprintf("pvhv: dom %s msitest: bind refused: %s\n", d->name, err);
			break;
		}
		t->last_vector = t->route.host_vector;
		t->last_apic = t->route.host_apic_id;
		kprintf("pvhv: dom %s msitest: message 0x%lx/0x%x bound to host vector 0x%x on apic %u (0x%lx/0x%x)\n",
			d->name, t->addr, t->data, t->route.host_vector, t->route.host_apic_id, haddr, hdata);
		break;
	case PVHV_MSITEST_FIRE:
		if (!t->last_vector)
			rc = -EINVAL;
		else
			hostirq_send(t->last_apic, t->last_vector);
		break;
	case PVHV_MSITEST_FIRE_OTHER:
		if (!t->last_vector)
			rc = -EINVAL;
		else
			hostirq_send(other_apic(), t->last_vector);
		break;
	case PVHV_MSITEST_UNBIND:
		msi_route_unbind(&t->route);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	t->status = (uint32_t)-rc;
}

static enum exit_action msitest_io(struct vcpu *v, void *opaque, uint16_t off, bool in, uint8_t size,
				   uint32_t *val)
{
	struct domain *d = v->dom;
	struct msitest *t = d->msitest;

	if (size != 4 || off % 4) {
		if (in)
			*val = ~0u;
		return ACT_CONTINUE;
	}
	spin_lock(&t->lock);
	if (in) {
		switch (off) {
		case PVHV_MSITEST_CMD: *val = t->status; break;
		case PVHV_MSITEST_DELIVERED: *val = (uint32_t)t->route.delivered; break;
		case PVHV_MSITEST_DROPPED: *val = (uint32_t)t->route.dropped; break;
		case PVHV_MSITEST_UNROUTED: *val = (uint32_t)msi_unrouted(); break;
		case PVHV_MSITEST_VECTOR: *val = t->route.host_vector; break;
		default: *val = ~0u; break;
		}
	} else {
		switch (off) {
		case PVHV_MSITEST_ADDR_LO: t->addr = (t->addr & ~0xffffffffULL) | *val; break;
		case PVHV_MSITEST_ADDR_HI: t->addr = (t->addr & 0xffffffffULL) | (uint64_t)*val << 32; break;
		case PVHV_MSITEST_DATA: t->data = *val; break;
		case PVHV_MSITEST_CMD: command(d, t, *val); break;
		default: break;
		}
	}
	spin_unlock(&t->lock);
	return ACT_CONTINUE;
}

int msitest_add(struct domain *d, int (*add)(struct domain *, uint16_t, uint16_t, port_io_fn, void *))
{
	hpa_t pa;
	int rc;

	if (!d->cfg->test_msi)
		return 0;
	if (page_alloc(pages_for(sizeof(struct msitest)), 1, &pa))
		return -ENOMEM;
	d->msitest = hpa_to_ptr(pa);
	memset(d->msitest, 0, sizeof(*d->msitest));
	rc = add(d, PVHV_MSITEST_PORT, PVHV_MSITEST_PORTS, msitest_io, NULL);
	if (rc)
		msitest_teardown(d);
	return rc;
}

void msitest_teardown(struct domain *d)
{
	struct msitest *t = d->msitest;

	if (!t)
		return;
	msi_route_unbind(&t->route);
	kprintf("pvhv: dom %s msitest: delivered=%lu dropped=%lu unrouted=%lu\n", d->name,
		t->route.delivered, t->route.dropped, msi_unrouted());
	page_free(ptr_to_hpa(t), pages_for(sizeof(*t)));
	d->msitest = NULL;
}
