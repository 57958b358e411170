/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devices.c: a domain's devices.  Each domain has its own registry of
 * emulated MMIO windows and port ranges, built from its configuration when
 * the domain is built: the I/O APIC, the 16550 at COM1, the ACPI sleep and
 * reset registers, the 8042 reset and pvpanic ports, and the virtio-mmio
 * devices its "virtio" list names, in slot order, then one virtio-blk per
 * entry of its "disks".  A disk is an image from the image store (shared,
 * read-only) under a copy-on-write overlay whose pages count against the
 * domain's overlay budget; disks are opened at the first build and kept
 * over reboots (what the guest wrote survives a reboot, as on a real
 * disk), and closed when the domain ends.  The virtio models
 * (drivers/virtio/) reach the guest only through the virtio_env callbacks
 * set up here: guest RAM through dom_copy_*(), the interrupt as an edge on
 * the device's I/O APIC pin.
 */
#include "pvh/pvh.h"
#include "pvhv/abi.h"
#include "pvh/acpi_tables.h"
#include "drivers/virtio/devices.h"
#include "drivers/virtio/vsock.h"
#include "drivers/virtio/switch.h"
#include "pvh/imgstore.h"
#include "pvh/mgmt_svc.h"
#include "pvhv/vsock.h"
#include "pvhv/mgmt.h"

struct dom_disk {
	struct image *img;
	struct overlay ov;
	struct virtio_blk blk;
};

struct vdev {
	struct domain *dom;
	enum config_virtio kind;
	unsigned slot;
	unsigned gsi;
	struct spinlock lock;    /* the transport and the model: vCPUs on several CPUs */
	bool pending;            /* a notification left work (see devices_poll()) */
	uint64_t held_since_us;  /* vsock: since when its TX queue waits for a receiver (0: not) */
	struct virtio_dev dev;
	struct virtio_env env;
	union {
		struct virtio_console con;
		struct virtio_rng rng;
		struct virtio_vsock vs;
	} be;
};

/*
 * vsock: the router writes one domain's packets straight into another's
 * receive queue, so one lock covers it and every vsock device (transport
 * and model); other devices have their own.  The attached devices are
 * listed here too, for the stall check.
 */
static struct vsock_router vrouter;
static struct spinlock vsock_lock;
static bool vrouter_ready;
static struct vdev **vsock_vdevs;   /* as many as the router's endpoints (devices_boot_init) */
static unsigned nr_vsock_vdevs;
static uint64_t vsock_checked_us;

#define VSOCK_STALL_US 2000000   /* a receiver that posts no buffers for this long loses the stream */
#define VSOCK_CHECK_US 100000

/*
 * net: a frame goes from the sender's transmit straight into its
 * receivers' receive queues, and a trunk reaches every member, so one lock
 * covers every port, their links and the trunk's membership (frames
 * between guests are copied once, under it).  A port lives in its
 * domain's slot (struct domain): slots are reused, never freed, and the
 * control domain's -- the trunk's -- is never reused, so a port stays
 * where its peers and trunk point while its domain is gone or rebuilding;
 * net_vdev says which ports have a working device now.  A member joins
 * the trunk when its device is built and leaves when it is torn down, so
 * nothing routes to a port whose domain ended, and the trunk's other
 * members keep going.  The trunk keeps its members over a restart of the
 * control domain.
 */
static struct spinlock net_lock;
static struct domain *trunk_dom;   /* the control domain with net-trunk, found once */

int devices_boot_init(const struct pvh_config *cfg)
{
	/* One vsock endpoint per domain the table may hold, and the host CID's. */
	unsigned eps = (unsigned)MIN(domain_table_capacity() + 1ull, (uint64_t)VSOCK_ROUTER_EPS_LIMIT);
	hpa_t pa;

	(void)cfg;
	if (page_alloc(pages_for(eps * sizeof(*vrouter.ep)), 1, &pa))
		return -ENOMEM;
	vrouter.ep = hpa_to_ptr(pa);
	vrouter.max_eps = eps;
	if (page_alloc(pages_for(eps * sizeof(*vsock_vdevs)), 1, &pa))
		return -ENOMEM;
	vsock_vdevs = hpa_to_ptr(pa);
	nr_vsock_vdevs = eps;
	return 0;
}

static struct spinlock *vdev_lock(struct vdev *v)
{
	if (v->kind == CONFIG_VIRTIO_VSOCK)
		return &vsock_lock;
	if (v->kind == CONFIG_VIRTIO_NET)
		return &net_lock;
	return &v->lock;
}

/* ------------------------------------------------------------ the registry */

/* 0, or -EINVAL when [base, base + size) is empty, overflows, or overlaps RAM or another window. */
static int add_mmio(struct domain *d, gpa_t base, uint64_t size, mmio_access_fn access, void *opaque)
{
	if (!size || base + size < base || rl_overlaps(&d->ram, base, size) || d->nr_mmio == DOM_MAX_MMIO)
		return -EINVAL;
	for (unsigned i = 0; i < d->nr_mmio; i++)
		if (base < d->mmio[i].base + d->mmio[i].size && d->mmio[i].base < base + size)
			return -EINVAL;
	d->mmio[d->nr_mmio++] = (struct mmio_dev){ base, size, access, opaque };
	return 0;
}

static int add_ports(struct domain *d, uint16_t base, uint16_t count, port_io_fn io, void *opaque)
{
	if (!count || base + count > 0x10000 || d->nr_ports == DOM_MAX_PORTS)
		return -EINVAL;
	for (unsigned i = 0; i < d->nr_ports; i++)
		if (base < d->ports[i].base + d->ports[i].count && d->ports[i].base < base + count)
			return -EINVAL;
	d->ports[d->nr_ports++] = (struct port_dev){ base, count, io, opaque };
	return 0;
}

const struct mmio_dev *dom_find_mmio(const struct domain *d, gpa_t gpa)
{
	for (unsigned i = 0; i < d->nr_mmio; i++)
		if (gpa - d->mmio[i].base < d->mmio[i].size)
			return &d->mmio[i];
	return NULL;
}

const struct port_dev *dom_find_port(const struct domain *d, uint16_t port)
{
	for (unsigned i = 0; i < d->nr_ports; i++)
		if ((uint16_t)(port - d->ports[i].base) < d->ports[i].count)
			return &d->ports[i];
	return NULL;
}

/* ------------------------------------------------------------ virtio glue */

static int env_read(void *ctx, gpa_t gpa, void *dst, size_t len)
{
	struct vdev *v = ctx;

	return dom_copy_from_guest(v->dom, dst, gpa, len);
}

static int env_write(void *ctx, gpa_t gpa, const void *src, size_t len)
{
	struct vdev *v = ctx;

	return dom_copy_to_guest(v->dom, gpa, src, len);
}

/* An edge on the device's pin (the DSDT declares it edge-triggered, active high). */
static void env_irq(void *ctx)
{
	struct vdev *v = ctx;

	irq_set_gsi(v->dom, v->gsi, true);
	irq_set_gsi(v->dom, v->gsi, false);
}

static void env_log(void *ctx, const char *msg)
{
	struct vdev *v = ctx;

	kprintf("pvhv: dom %s virtio %s (slot %u): %s\n", v->dom->name, config_virtio_name(v->kind),
		v->slot, msg);
}

static void console_output(void *ctx, const char *buf, size_t n)
{
	struct vdev *v = ctx;

	console_feed(v->dom, CONBUF_VIRTIO, buf, n);
}

static int rng_fill(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	return arch_random(buf, n);
}

static int vdev_mmio(struct domain *d, void *opaque, uint64_t off, bool write, unsigned size,
		     uint64_t *val)
{
	struct vdev *v = opaque;
	struct spinlock *l = vdev_lock(v);
	bool more;

	(void)d;
	spin_lock(l);
	more = virtio_mmio_access(&v->dev, off, write, size, val);
	if (more && !v->pending) {
		v->pending = true;
		__atomic_store_n(&v->dom->dev_pending, true, __ATOMIC_RELEASE);
	}
	spin_unlock(l);
	return 0; /* a bad register access is the transport's to ignore, never fatal */
}

/* ------------------------------------------------------------ net glue */

static struct domain *port_domain(struct switch_port *p)
{
	return (struct domain *)((char *)p - offsetof(struct domain, net_port));
}

/* One receiver's model takes the frame: 0, or what virtio_net_receive() says. */
static int net_deliver(struct switch_port *to, const struct virtio_net_hdr *hdr, const uint8_t *frame,
		       size_t len)
{
	struct domain *d = port_domain(to);
	int rc = -EAGAIN;

	if (dom_get(d)) {
		if (d->net_vdev)
			rc = virtio_net_receive(&d->net_vdev->dev, hdr, frame, len);
		dom_put(d);
	}
	return rc;
}

/* Called by the sender's model under net_lock: the switch decides, each receiver's model takes it. */
static void net_transmit(void *ctx, const struct virtio_net_hdr *hdr, const uint8_t *frame, size_t len)
{
	struct vdev *v = ctx;
	struct switch_port *port = &v->dom->net_port, *to;
	char why[96];

	to = switch_route(port, frame, len, why, sizeof(why));
	for (; to; to = switch_route_next(port, frame, to)) {
		int rc = net_deliver(to, hdr, frame, len);

		if (rc == -EAGAIN || rc == -ENOSPC || rc == -EIO)
			port->drops[SWITCH_DROP_PEER_FULL]++;
	}
	/* A refused frame is counted in port->drops. */
}

/* The control domain whose port is the trunk, or NULL (there is at most one: config.c). */
static struct domain *find_trunk(void)
{
	unsigned n = __atomic_load_n(&nr_domains, __ATOMIC_ACQUIRE);

	if (trunk_dom)
		return trunk_dom;
	for (unsigned i = 0; i < n; i++) {
		struct domain *d = dom_at(i);

		if (d->cfg && d->cfg->valid && d->cfg->control && d->cfg->net.trunk && d->cfg->net.present)
			return trunk_dom = d;
	}
	return NULL;
}

/* The port as its configuration says (under net_lock); a trunk keeps its members. */
static void port_from_config(struct switch_port *p, const struct config_net *c)
{
	memcpy(p->mac, c->mac, 6);
	p->nr_ipv4 = c->nr_ipv4;
	p->nr_ipv6 = c->nr_ipv6;
	memcpy(p->ipv4, c->ipv4, sizeof(p->ipv4));
	memcpy(p->ipv6, c->ipv6, sizeof(p->ipv6));
	p->trunk = c->trunk;
}

/*
 * d's port gets its working device v: identity from the configuration,
 * on its link or in its trunk.  0, or -EEXIST / -ENOENT with err set.
 */
static int net_attach(struct domain *d, struct vdev *v, char *err, size_t errlen)
{
	const struct config_net *c = &d->cfg->net;
	struct switch_port *p = &d->net_port;
	struct domain *t = NULL;
	int rc = 0;

	if (c->member && !(t = find_trunk()))
		return errorf(-ENOENT, err, errlen, "net: no control domain with a trunk to join");
	spin_lock(&net_lock);
	switch_trunk_leave(p);   /* a build that failed before its teardown left it in */
	port_from_config(p, c);
	if (t) {
		port_from_config(&t->net_port, &t->cfg->net);   /* the trunk may not have been built yet */
		rc = switch_trunk_join(&t->net_port, p);
	} else if (!c->trunk) {
		bool linked = c->peer >= 0 && (unsigned)c->peer < nr_domains;

		p->peer = linked ? &dom_at((unsigned)c->peer)->net_port : NULL;
	}
	if (!rc)
		d->net_vdev = v;
	spin_unlock(&net_lock);
	if (rc)
		return errorf(rc, err, errlen, "net: MAC %02x:%02x:%02x:%02x:%02x:%02x is in use on the trunk",
			      c->mac[0], c->mac[1], c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
	return 0;
}

static int net_open(struct vdev *v, struct virtio_net **out, char *err, size_t errlen)
{
	const struct config_net *c = &v->dom->cfg->net;
	struct virtio_net *n;
	hpa_t pa;

	if (page_alloc(pages_for(sizeof(*n)), 1, &pa))
		return errorf(-ENOMEM, err, errlen, "out of memory for the net device");
	n = hpa_to_ptr(pa);
	memset(n, 0, sizeof(*n));
	memcpy(n->mac, c->mac, 6);
	n->transmit = net_transmit;
	n->ctx = v;
	*out = n;
	return 0;
}

/* Nothing reaches d's port any more: no device, off its trunk (its peer on a link stops delivering). */
static void net_detach(struct domain *d)
{
	spin_lock(&net_lock);
	d->net_vdev = NULL;
	switch_trunk_leave(&d->net_port);
	spin_unlock(&net_lock);
}

static void net_close(struct vdev *v)
{
	page_free(ptr_to_hpa(v->dev.priv), pages_for(sizeof(struct virtio_net)));
}

/* One summary line for a domain with a port: what it sent and received, and what the switch dropped. */
void devices_net_summary(const struct domain *d)
{
	const struct switch_port *p;
	char buf[320];
	int n;

	if (!d->cfg->net.present)
		return;
	p = &d->net_port;
	n = snprintf(buf, sizeof(buf), "pvhv: summary dom=%s net tx_frames=%lu tx_bytes=%lu", d->name,
		     p->tx_frames, p->tx_bytes);
	for (unsigned r = 0; r < SWITCH_DROP_NR && n > 0 && (size_t)n < sizeof(buf); r++)
		if (p->drops[r])
			n += snprintf(buf + n, sizeof(buf) - n, " drop_%s=%lu", switch_drop_name(r), p->drops[r]);
	kprintf("%s\n", buf);
}

/* ------------------------------------------------------------ vsock glue */

struct domain *domain_by_cid(uint64_t cid)
{
	unsigned n = __atomic_load_n(&nr_domains, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++) {
		struct domain *d = dom_at(i);

		if (d->cfg && d->cfg->vsock.cid && d->cfg->vsock.cid == cid)
			return d;
	}
	return NULL;
}

/* A stream may go from src to dst only where src's vsock-connect names dst. */
static bool vsock_allow(void *ctx, uint64_t src_cid, uint64_t dst_cid, uint32_t dst_port)
{
	struct domain *s = domain_by_cid(src_cid), *t = domain_by_cid(dst_cid);

	(void)ctx;
	if (s && t && config_vsock_may_connect(s->cfg, t->name))
		return true;
	/* The control domain reaches every domain; one made at run time reaches the control domain. */
	if (s && t && (s->cfg->control || (t->cfg->control && s->cfg->runtime)))
		return true;
	/* pvhv's own ports: the management port, for the control domain only. */
	if (s && dst_cid == PVHV_VSOCK_CID_HOST && dst_port == PVHV_VSOCK_MGMT_PORT && s->cfg->control)
		return true;
	if (s)
		s->vsock_refused++;   /* under vsock_lock */
	return false;
}

/* A device's held TX packet may go: serve its TX queue before its domain's next entry. */
static void vsock_wake(void *ctx, struct virtio_dev *dev)
{
	struct vdev *v = dev->env->ctx;   /* each device's env names its vdev */

	(void)ctx;
	v->pending = true;
	__atomic_store_n(&v->dom->dev_pending, true, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < v->dom->nr_vcpus; i++)
		if (!v->dom->vcpu[i].halted_for_good) {
			vcpu_wake(&v->dom->vcpu[i]);
			break;
		}
}

static void vsock_log(void *ctx, const char *msg)
{
	(void)ctx;
	kprintf("pvhv: vsock: %s\n", msg);
}

static void vsock_router_once(void)
{
	if (vrouter_ready)
		return;
	vrouter.allow = vsock_allow;
	vrouter.wake = vsock_wake;
	vrouter.log = vsock_log;
	if (arch_random(&vrouter.hash_key, sizeof(vrouter.hash_key)))
		vrouter.hash_key = time_us() * 0x9e3779b97f4a7c15ull;
	vsock_router_init(&vrouter);
	mgmt_service_start(&vrouter);
	vrouter_ready = true;
}

static int vsock_attach(struct vdev *v, char *err, size_t errlen)
{
	int rc;

	spin_lock(&vsock_lock);
	vsock_router_once();
	rc = vsock_router_attach(&vrouter, &v->dev, 0);
	for (unsigned i = 0; !rc && i < nr_vsock_vdevs; i++)
		if (!vsock_vdevs[i]) {
			vsock_vdevs[i] = v;
			break;
		}
	spin_unlock(&vsock_lock);
	if (rc == -ENOSPC)
		return errorf(rc, err, errlen, "vsock cid %lu: the router is full (%u devices: one per domain "
			      "host memory allows)", (unsigned long)v->be.vs.cid, vrouter.max_eps - 1);
	if (rc)
		return errorf(rc, err, errlen, "vsock cid %lu: %s", (unsigned long)v->be.vs.cid,
			      rc == -EEXIST ? "in use" : "refused");
	return 0;
}

static void vsock_detach(struct vdev *v)
{
	spin_lock(&vsock_lock);
	vsock_router_detach(&vrouter, &v->dev);
	for (unsigned i = 0; i < nr_vsock_vdevs; i++)
		if (vsock_vdevs[i] == v)
			vsock_vdevs[i] = NULL;
	spin_unlock(&vsock_lock);
}

/*
 * A TX queue that has waited for its receiver's buffers for VSOCK_STALL_US
 * loses that stream (the router resets it and drops the packet), so a
 * guest that posts no receive buffers cannot stall its peers for ever.
 */
void devices_housekeeping(uint64_t now_us)
{
	if (__atomic_load_n(&vsock_checked_us, __ATOMIC_RELAXED) + VSOCK_CHECK_US > now_us ||
	    !vrouter_ready)
		return;
	spin_lock(&vsock_lock);
	vsock_checked_us = now_us;
	for (unsigned i = 0; i < nr_vsock_vdevs; i++) {
		struct vdev *v = vsock_vdevs[i];

		if (!v)
			continue;
		if (!virtio_vsock_held(&v->dev)) {
			v->held_since_us = 0;
		} else if (!v->held_since_us) {
			v->held_since_us = now_us;
		} else if (now_us - v->held_since_us > VSOCK_STALL_US) {
			kprintf("pvhv: dom %s vsock: its receiver posted no buffers for %lu ms: stream reset\n",
				v->dom->name, (now_us - v->held_since_us) / 1000);
			v->held_since_us = 0;
			vsock_router_unstall(&vrouter, &v->dev);
		}
	}
	spin_unlock(&vsock_lock);
}

void devices_poll(struct domain *d)
{
	bool left = false;

	if (!__atomic_exchange_n(&d->dev_pending, false, __ATOMIC_ACQ_REL))
		return;
	for (unsigned i = 0; i < d->nr_vdev; i++) {
		struct vdev *v = &d->vdev[i];

		struct spinlock *l = vdev_lock(v);

		spin_lock(l);
		if (v->pending) {
			v->pending = false;
			for (unsigned q = 0; q < v->dev.ops->nr_queues; q++)
				if (virtio_dev_kick(&v->dev, q))
					v->pending = true;
			left |= v->pending;
		}
		spin_unlock(l);
	}
	if (left)
		__atomic_store_n(&d->dev_pending, true, __ATOMIC_RELEASE);
}

bool devices_console_input(struct domain *d, const char *buf, size_t n)
{
	for (unsigned i = 0; i < d->nr_vdev; i++) {
		struct vdev *v = &d->vdev[i];
		size_t took;

		if (v->kind != CONFIG_VIRTIO_CONSOLE)
			continue;
		spin_lock(&v->lock);
		took = (v->dev.status & VIRTIO_STATUS_DRIVER_OK) ? virtio_console_input(&v->dev, buf, n) : 0;
		spin_unlock(&v->lock);
		return took > 0;
	}
	return false;
}

int devices_console_write(struct domain *d, const char *buf, size_t n)
{
	for (unsigned i = 0; i < d->nr_vdev; i++) {
		struct vdev *v = &d->vdev[i];
		size_t took = 0;
		bool ready;

		if (v->kind != CONFIG_VIRTIO_CONSOLE)
			continue;
		spin_lock(&v->lock);
		ready = v->dev.status & VIRTIO_STATUS_DRIVER_OK;
		if (ready)
			took = virtio_console_input(&v->dev, buf, n);
		spin_unlock(&v->lock);
		if (ready)
			return (int)took;
	}
	return uart_receive_buf(d, buf, n);
}

void devices_net_stats(const struct domain *d, struct pvhv_mgmt_stats *out)
{
	static const uint8_t spoof[] = { SWITCH_DROP_SRC_MAC, SWITCH_DROP_IPV4_SRC, SWITCH_DROP_ARP,
					 SWITCH_DROP_IPV6_SRC, SWITCH_DROP_ND, SWITCH_DROP_ROUTER };
	const struct config_net *c = &d->cfg->net;
	const struct switch_port *p = &d->net_port;

	if (!c->present)
		return;
	out->net_flags = PVHV_MGMT_NET_PORT | (c->trunk ? PVHV_MGMT_NET_TRUNK : 0) |
			 (c->member ? PVHV_MGMT_NET_MEMBER : 0);
	memcpy(out->net_mac, c->mac, 6);
	for (unsigned i = 0; i < MIN(c->nr_ipv4, 2u); i++)
		memcpy(&out->net_ipv4[i], c->ipv4[i], 4);
	/* Counters read without the lock: each is a word another CPU adds to. */
	out->net_tx_frames = p->tx_frames;
	out->net_tx_bytes = p->tx_bytes;
	for (unsigned r = 0; r < SWITCH_DROP_NR; r++)
		out->net_drops += p->drops[r];
	for (unsigned i = 0; i < ARRAY_SIZE(spoof); i++)
		out->net_drops_spoof += p->drops[spoof[i]];
	out->net_drops_isolated = p->drops[SWITCH_DROP_TO_MEMBER] + p->drops[SWITCH_DROP_UNKNOWN_DST] +
				  p->drops[SWITCH_DROP_NOT_PEER];
}

/* ------------------------------------------------------------ disks */

/* Overlay pages come from the host pool, counted against the domain's budget. */
static int overlay_alloc(void *ctx, void **page)
{
	struct domain *d = ctx;
	uint64_t n = __atomic_add_fetch(&d->overlay_pages, 1, __ATOMIC_RELAXED);
	uint64_t peak = __atomic_load_n(&d->overlay_peak, __ATOMIC_RELAXED);
	hpa_t pa;

	if (n > d->cfg->overlay / PAGE_SIZE || page_alloc(1, 1, &pa)) {
		__atomic_sub_fetch(&d->overlay_pages, 1, __ATOMIC_RELAXED);
		return n > d->cfg->overlay / PAGE_SIZE ? -ENOSPC : -ENOMEM;
	}
	while (n > peak && !__atomic_compare_exchange_n(&d->overlay_peak, &peak, n, false,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	*page = hpa_to_ptr(pa);
	return 0;
}

static void overlay_free(void *ctx, void *page)
{
	struct domain *d = ctx;

	page_free(ptr_to_hpa(page), 1);
	__atomic_sub_fetch(&d->overlay_pages, 1, __ATOMIC_RELAXED);
}

/* Opens the domain's disks once (a reboot finds them open). */
static int disks_open(struct domain *d, char *err, size_t errlen)
{
	const struct domain_config *c = d->cfg;
	const struct overlay_pages pg = { overlay_alloc, overlay_free, d };
	char why[160];
	int rc;

	if (d->disk || !c->nr_disks)
		return 0;
	if (page_alloc(pages_for(c->nr_disks * sizeof(struct dom_disk)), 1, &d->disk_pa))
		return errorf(-ENOMEM, err, errlen, "out of memory for %u disks", c->nr_disks);
	d->disk = hpa_to_ptr(d->disk_pa);
	memset(d->disk, 0, c->nr_disks * sizeof(struct dom_disk));
	for (unsigned i = 0; i < c->nr_disks; i++) {
		struct dom_disk *k = &d->disk[i];
		uint64_t size;

		unsigned users;
		bool loads;

		rc = imgstore_get(c->disk[i].image, OVERLAY_MAX_SIZE, &k->img, &loads, &users, why, sizeof(why));
		if (rc)
			return errorf(rc, err, errlen, "disk %u: %s", i, why);
		if (loads)
			kprintf("pvhv: image %s: %lu KiB, in the image store\n", k->img->name, k->img->size >> 10);
		kprintf("pvhv: dom %s disk %u (slot %u): image %s%s, %u user%s\n", d->name, i, c->nr_virtio + i,
			k->img->name, c->disk[i].read_only ? " read-only" : "", users, users == 1 ? "" : "s");
		d->nr_disks++;
		size = ALIGN_UP(k->img->size, 512);
		rc = overlay_init(&k->ov, k->img->data, k->img->size, size,
				  c->disk[i].read_only ? 0 : c->overlay / PAGE_SIZE, &pg);
		if (rc)
			return errorf(rc, err, errlen, "disk %u: image \"%s\" of %lu bytes cannot be a disk", i,
				      k->img->name, k->img->size);
		k->blk.ov = &k->ov;
		/* GET_ID: the image's name, so a guest can find its disks by name. */
		memcpy(k->blk.id, k->img->name, MIN(strlen(k->img->name), sizeof(k->blk.id)));
	}
	return 0;
}

void devices_release(struct domain *d)
{
	imgstore_release_boot(d);
	if (!d->disk)
		return;
	for (unsigned i = 0; i < d->nr_disks; i++) {
		overlay_destroy(&d->disk[i].ov);
		imgstore_put(d->disk[i].img);
	}
	page_free(d->disk_pa, pages_for(d->cfg->nr_disks * sizeof(struct dom_disk)));
	d->disk = NULL;
	d->nr_disks = 0;
}

/* ------------------------------------------------------------ building */

static int ioapic_mmio(struct domain *d, void *opaque, uint64_t off, bool write, unsigned size,
		       uint64_t *val)
{
	(void)opaque;
	return irq_ioapic_mmio(d, off, write, size, val);
}

static enum exit_action com1_io(struct vcpu *v, void *opaque, uint16_t off, bool in, uint8_t size,
				uint32_t *val)
{
	(void)opaque;
	uart_io(v->dom, off, in, size, val);
	return ACT_CONTINUE;
}

void devices_acpi(const struct domain_config *c, struct acpi_params *ap)
{
	ap->nr_virtio = config_nr_devices(c);
	for (unsigned i = 0; i < ap->nr_virtio; i++)
		ap->virtio[i] = (struct acpi_virtio_dev){
			.addr = PVHV_VIRTIO_MMIO_GPA + (uint64_t)i * PVHV_VIRTIO_MMIO_STRIDE,
			.size = VIRTIO_MMIO_SIZE,
			.gsi = PVHV_VIRTIO_GSI_BASE + i,
		};
}

int devices_build(struct domain *d, char *err, size_t errlen)
{
	const struct domain_config *c = d->cfg;
	unsigned nr;
	int rc;

	d->nr_mmio = d->nr_ports = 0;
	rc = add_mmio(d, PVHV_IOAPIC_GPA, PAGE_SIZE, ioapic_mmio, NULL);
	if (!rc)
		rc = add_ports(d, PVHV_COM1_PORT, 8, com1_io, NULL);
	if (!rc)
		rc = platform_ports_add(d, add_ports);
	if (rc)
		return errorf(rc, err, errlen, "internal: platform devices overlap");
	rc = msitest_add(d, add_ports);
	if (rc)
		return errorf(rc, err, errlen, "msi test device: %s", rc == -ENOMEM ? "out of memory" : "ports taken");
	rc = passthru_devices(d, add_mmio, add_ports, err, errlen);
	if (rc)
		return rc;
	nr = config_nr_devices(c);
	if (!nr)
		return 0;
	for (unsigned i = 0; i < c->nr_virtio; i++)
		if (c->virtio[i] == CONFIG_VIRTIO_RNG && !arch_has_random())
			return errorf(-EINVAL, err, errlen,
				      "virtio rng: the host CPU has neither RDSEED nor RDRAND");
	rc = disks_open(d, err, errlen);
	if (rc)
		return rc;
	d->vdev_pages = pages_for(nr * sizeof(struct vdev));
	if (page_alloc(d->vdev_pages, 1, &d->vdev_pa))
		return errorf(-ENOMEM, err, errlen, "out of memory for %u virtio devices", nr);
	d->vdev = hpa_to_ptr(d->vdev_pa);
	memset(d->vdev, 0, nr * sizeof(struct vdev));
	for (unsigned i = 0; i < nr; i++) {
		struct vdev *v = &d->vdev[i];
		const struct virtio_dev_ops *ops;
		unsigned k = 0;
		void *be;

		v->dom = d;
		v->kind = config_slot_kind(c, i, &k);
		v->slot = i;
		v->gsi = PVHV_VIRTIO_GSI_BASE + i;
		v->env = (struct virtio_env){ env_read, env_write, env_irq, env_log, v };
		if (v->kind == CONFIG_VIRTIO_CONSOLE) {
			v->be.con = (struct virtio_console){ console_output, v };
			ops = &virtio_console_ops;
			be = &v->be.con;
		} else if (v->kind == CONFIG_VIRTIO_RNG) {
			v->be.rng = (struct virtio_rng){ rng_fill, v };
			ops = &virtio_rng_ops;
			be = &v->be.rng;
		} else if (v->kind == CONFIG_VIRTIO_NET) {
			struct virtio_net *n = NULL;

			rc = net_open(v, &n, err, errlen);
			if (rc)
				return rc;
			ops = &virtio_net_ops;
			be = n;
		} else if (v->kind == CONFIG_VIRTIO_BLK) {
			ops = c->disk[k].read_only ? &virtio_blk_ro_ops : &virtio_blk_ops;
			be = &d->disk[k].blk;
		} else {
			v->be.vs = (struct virtio_vsock){ .cid = c->vsock.cid };
			ops = &virtio_vsock_ops;
			be = &v->be.vs;
		}
		virtio_dev_init(&v->dev, ops, &v->env, be, config_virtio_name(v->kind));
		if (v->kind == CONFIG_VIRTIO_VSOCK) {
			rc = vsock_attach(v, err, errlen);
			if (rc)
				return rc;
		}
		if (v->kind == CONFIG_VIRTIO_NET) {
			rc = net_attach(d, v, err, errlen);
			if (rc) {
				net_close(v);
				return rc;
			}
		}
		rc = add_mmio(d, PVHV_VIRTIO_MMIO_GPA + (uint64_t)i * PVHV_VIRTIO_MMIO_STRIDE,
			      VIRTIO_MMIO_SIZE, vdev_mmio, v);
		if (rc)
			return errorf(rc, err, errlen, "virtio slot %u overlaps another device", i);
		d->nr_vdev++;
	}
	return 0;
}

uint64_t devices_overhead(const struct domain *d)
{
	uint64_t b = (d->vdev ? d->vdev_pages * PAGE_SIZE : 0) +
		     (d->disk ? pages_for(d->cfg->nr_disks * sizeof(struct dom_disk)) * PAGE_SIZE : 0);

	for (unsigned i = 0; i < d->nr_vdev; i++)
		if (d->vdev[i].kind == CONFIG_VIRTIO_NET)
			b += pages_for(sizeof(struct virtio_net)) * PAGE_SIZE;
	if (d->cfg->vsock.cid)
		b += sizeof(struct vsock_ep) + sizeof(*vsock_vdevs);   /* its router endpoint */
	return b;
}

void devices_teardown(struct domain *d)
{
	msitest_teardown(d);
	if (d->cfg->net.present)
		net_detach(d);   /* before its device goes: nothing delivers to it after this */
	for (unsigned i = 0; i < d->nr_vdev; i++) {
		if (d->vdev[i].kind == CONFIG_VIRTIO_VSOCK)
			vsock_detach(&d->vdev[i]);   /* its peers' streams get RST */
		if (d->vdev[i].kind == CONFIG_VIRTIO_NET)
			net_close(&d->vdev[i]);
	}
	if (d->vdev)
		page_free(d->vdev_pa, d->vdev_pages);
	d->vdev = NULL;
	d->nr_vdev = 0;
	d->nr_mmio = d->nr_ports = 0;
	d->dev_pending = false;
	passthru_teardown(d);   /* before the domain's memory goes back: its devices may still DMA */
}
