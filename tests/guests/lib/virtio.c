/* SPDX-License-Identifier: Apache-2.0 */
/* virtio.c: a minimal polling virtio-mmio v2 driver with split virtqueues for the test guests. */
#include "virtio.h"

#define RESET_POLLS 1000000u
#define TSC_GUESS_PER_MS 4000000ull /* 4 GHz: no real TSC runs faster, so waits only get longer */

/* Orders ring stores before MMIO writes and MMIO/used-ring loads (4.2.3.3). */
static inline void mb(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

/* ------------------------------------------------------------ registers */
/* Plain 32-bit MOVs, so a hypervisor's MMIO decoder sees the simplest form. */
uint32_t vio_read32(const struct vio_dev *d, uint32_t off)
{
	uint32_t v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(d->base + off) : "memory");
	return v;
}

void vio_write32(const struct vio_dev *d, uint32_t off, uint32_t val)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(val), "r"(d->base + off) : "memory");
}

void vio_write64(const struct vio_dev *d, uint32_t off, uint64_t val)
{
	vio_write32(d, off, (uint32_t)val);
	vio_write32(d, off + 4, (uint32_t)(val >> 32));
}

uint32_t vio_config_read(const struct vio_dev *d, uint32_t off, unsigned size)
{
	uint64_t a = d->base + VIO_CONFIG + off;
	uint32_t v;

	if (size == 1) {
		uint8_t b;
		__asm__ volatile("movb (%1), %0" : "=q"(b) : "r"(a) : "memory");
		v = b;
	} else if (size == 2) {
		uint16_t w;
		__asm__ volatile("movw (%1), %0" : "=r"(w) : "r"(a) : "memory");
		v = w;
	} else {
		__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(a) : "memory");
	}
	return v;
}

uint32_t vio_status(const struct vio_dev *d)
{
	return vio_read32(d, VIO_STATUS);
}

uint32_t vio_irq_ack(const struct vio_dev *d)
{
	uint32_t s = vio_read32(d, VIO_INT_STATUS);

	if (s)
		vio_write32(d, VIO_INT_ACK, s);
	return s;
}

/* ------------------------------------------------------------ bring-up */
int vio_probe(struct vio_dev *d, uint64_t base, uint32_t want_id)
{
	memset(d, 0, sizeof(*d));
	d->base = base;
	uint32_t magic = vio_read32(d, VIO_MAGIC), ver = vio_read32(d, VIO_VERSION);
	uint32_t id = vio_read32(d, VIO_DEVICE_ID);

	if (magic != VIO_MAGIC_VALUE || ver != 2 || id != want_id) {
		gprintf("virtio at 0x%lx: magic 0x%x version %u device %u, want 0x%x 2 %u\n", base,
			magic, ver, id, VIO_MAGIC_VALUE, want_id);
		return -1;
	}
	d->device_id = id;
	return 0;
}

int vio_reset(struct vio_dev *d)
{
	uint32_t s = 0;

	vio_write32(d, VIO_STATUS, 0);
	for (unsigned i = 0; i < RESET_POLLS; i++) {
		s = vio_status(d);
		if (!s)
			break;
		cpu_relax();
	}
	memset(d->q, 0, sizeof(d->q));
	d->features = 0;
	if (s) {
		gprintf("virtio at 0x%lx: status 0x%x after reset\n", d->base, s);
		return -1;
	}
	return 0;
}

int vio_negotiate(struct vio_dev *d, uint64_t want)
{
	if (vio_reset(d) < 0)
		return -1;
	vio_write32(d, VIO_STATUS, VIO_S_ACKNOWLEDGE);
	vio_write32(d, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER);
	vio_write32(d, VIO_DEV_FEATURES_SEL, 0);
	uint64_t f = vio_read32(d, VIO_DEV_FEATURES);
	vio_write32(d, VIO_DEV_FEATURES_SEL, 1);
	f |= (uint64_t)vio_read32(d, VIO_DEV_FEATURES) << 32;
	d->dev_features = f;
	if (!(f & VIO_F_VERSION_1)) {
		gprintf("virtio at 0x%lx: features 0x%lx lack VERSION_1\n", d->base, f);
		vio_write32(d, VIO_STATUS, vio_status(d) | VIO_S_FAILED);
		return -1;
	}
	d->features = f & (want | VIO_F_VERSION_1);
	vio_write32(d, VIO_DRV_FEATURES_SEL, 0);
	vio_write32(d, VIO_DRV_FEATURES, (uint32_t)d->features);
	vio_write32(d, VIO_DRV_FEATURES_SEL, 1);
	vio_write32(d, VIO_DRV_FEATURES, (uint32_t)(d->features >> 32));
	vio_write32(d, VIO_STATUS, VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_FEATURES_OK);
	uint32_t s = vio_status(d);
	if (!(s & VIO_S_FEATURES_OK)) {
		gprintf("virtio at 0x%lx: FEATURES_OK not kept for 0x%lx (status 0x%x)\n", d->base,
			d->features, s);
		vio_write32(d, VIO_STATUS, s | VIO_S_FAILED);
		return -1;
	}
	return 0;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Avail: flags, idx, ring[size], used_event.  Used: flags, idx, elements, avail_event. */
static uint64_t avail_bytes(uint16_t size)
{
	return 6 + 2ull * size;
}

static uint64_t used_bytes(uint16_t size)
{
	return 6 + 8ull * size;
}

uint64_t vio_queue_bytes(uint16_t size)
{
	return align_up(align_up(16ull * size + avail_bytes(size), 4) + used_bytes(size), 16);
}

int vio_queue_setup(struct vio_dev *d, unsigned qi, uint16_t size, uint64_t mem)
{
	if (qi >= VIO_MAX_QUEUES || !size || (size & (size - 1)) || (mem & 15)) {
		gprintf("virtio at 0x%lx: queue %u: bad request (size %u mem 0x%lx)\n", d->base, qi,
			size, mem);
		return -1;
	}
	vio_write32(d, VIO_QUEUE_SEL, qi);
	uint32_t max = vio_read32(d, VIO_QUEUE_NUM_MAX), ready = vio_read32(d, VIO_QUEUE_READY);
	if (!max || ready || size > max) {
		gprintf("virtio at 0x%lx: queue %u: max %u ready %u, want size %u\n", d->base, qi,
			max, ready, size);
		return -1;
	}

	struct vio_queue *q = &d->q[qi];
	uint64_t avail = mem + 16ull * size, used = align_up(avail + avail_bytes(size), 4);

	memset((void *)(uintptr_t)mem, 0, vio_queue_bytes(size));
	memset(q, 0, sizeof(*q));
	q->size = size;
	q->desc = (volatile struct vio_desc *)(uintptr_t)mem;
	q->avail = (volatile uint16_t *)(uintptr_t)avail;
	q->used = (volatile uint16_t *)(uintptr_t)used;
	mb();
	if (vio_raw_queue(d, qi, size, mem, avail, used) != 1) {
		gprintf("virtio at 0x%lx: queue %u: QueueReady not kept (status 0x%x)\n", d->base,
			qi, vio_status(d));
		q->size = 0;
		return -1;
	}
	return 0;
}

int vio_driver_ok(struct vio_dev *d)
{
	uint32_t want = VIO_S_ACKNOWLEDGE | VIO_S_DRIVER | VIO_S_FEATURES_OK | VIO_S_DRIVER_OK;

	vio_write32(d, VIO_STATUS, want);
	uint32_t s = vio_status(d);
	if (s != want) {
		gprintf("virtio at 0x%lx: status 0x%x after DRIVER_OK\n", d->base, s);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ raw ring access */
uint32_t vio_raw_queue(struct vio_dev *d, unsigned qi, uint32_t size, uint64_t desc,
		       uint64_t avail, uint64_t used)
{
	vio_write32(d, VIO_QUEUE_SEL, qi);
	vio_write32(d, VIO_QUEUE_NUM, size);
	vio_write64(d, VIO_QUEUE_DESC_LO, desc);
	vio_write64(d, VIO_QUEUE_AVAIL_LO, avail);
	vio_write64(d, VIO_QUEUE_USED_LO, used);
	vio_write32(d, VIO_QUEUE_READY, 1);
	return vio_read32(d, VIO_QUEUE_READY);
}

void vio_raw_desc(struct vio_queue *q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		  uint16_t next)
{
	volatile struct vio_desc *e = &q->desc[i & (q->size - 1)];

	e->addr = addr;
	e->len = len;
	e->flags = flags;
	e->next = next;
}

void vio_raw_avail(struct vio_queue *q, uint16_t head)
{
	q->avail[2 + (q->avail_idx & (q->size - 1))] = head;
	vio_raw_avail_idx(q, q->avail_idx + 1);
}

void vio_raw_avail_idx(struct vio_queue *q, uint16_t idx)
{
	mb();   /* descriptors and ring entry before the index (2.7.13) */
	q->avail_idx = idx;
	q->avail[1] = idx;
	mb();
}

uint16_t vio_used_idx(const struct vio_queue *q)
{
	mb();
	return q->used[1];
}

/* ------------------------------------------------------------ requests */
static void write_desc(volatile struct vio_desc *e, const struct vio_buf *b, bool more,
		       uint16_t next)
{
	e->addr = b->addr;
	e->len = b->len;
	e->flags = (b->write ? VIO_DESC_F_WRITE : 0) | (more ? VIO_DESC_F_NEXT : 0);
	e->next = more ? next : 0;
}

int vio_submit(struct vio_dev *d, unsigned qi, const struct vio_buf *b, unsigned n,
	       uint64_t indirect)
{
	struct vio_queue *q = qi < VIO_MAX_QUEUES ? &d->q[qi] : NULL;

	if (!q || !q->size || q->busy || !n || (!indirect && n > q->size) ||
	    (indirect && ((indirect & 15) || n > 0xffffffffu / 16)))
		return -1;
	uint16_t mask = q->size - 1, head = q->next_desc & mask;

	if (indirect) {
		volatile struct vio_desc *t = (volatile struct vio_desc *)(uintptr_t)indirect;
		for (unsigned i = 0; i < n; i++)
			write_desc(&t[i], &b[i], i + 1 < n, i + 1);
		vio_raw_desc(q, head, indirect, n * 16, VIO_DESC_F_INDIRECT, 0);
		q->next_desc = head + 1;
	} else {
		for (unsigned i = 0; i < n; i++)
			write_desc(&q->desc[(head + i) & mask], &b[i], i + 1 < n,
				   (head + i + 1) & mask);
		q->next_desc = head + n;
	}
	if (d->features & VIO_F_EVENT_IDX)
		q->avail[2 + q->size] = q->last_used;   /* used_event: interrupt at the next one */
	q->busy = true;
	vio_raw_avail(q, head);
	return head;
}

void vio_notify(const struct vio_dev *d, unsigned qi)
{
	mb();
	vio_write32(d, VIO_QUEUE_NOTIFY, qi);
}

uint64_t vio_ticks_per_ms(int *known)
{
	uint64_t t = tsc_per_ms();

	*known = t != 0;
	return t ? t : TSC_GUESS_PER_MS;
}

int vio_wait(struct vio_dev *d, unsigned qi, uint64_t timeout_ms, struct vio_used_elem *e)
{
	struct vio_queue *q = &d->q[qi];
	int known;
	uint64_t start = tsc_read(), limit = timeout_ms * vio_ticks_per_ms(&known);

	q->busy = false;
	while (vio_used_idx(q) == q->last_used) {
		if (tsc_read() - start > limit)
			return -1;
		cpu_relax();
	}
	volatile uint32_t *el = (volatile uint32_t *)&q->used[2];
	unsigned slot = q->last_used & (q->size - 1);
	e->id = el[2 * slot];
	e->len = el[2 * slot + 1];
	q->last_used++;
	return 0;
}

int vio_request(struct vio_dev *d, unsigned qi, const struct vio_buf *b, unsigned n,
		uint64_t indirect, uint32_t *len)
{
	struct vio_used_elem e;
	int head = vio_submit(d, qi, b, n, indirect);

	if (head < 0) {
		gprintf("virtio at 0x%lx: queue %u: cannot submit %u buffers\n", d->base, qi, n);
		return -1;
	}
	vio_notify(d, qi);
	if (vio_wait(d, qi, 1000, &e) < 0) {
		gprintf("virtio at 0x%lx: queue %u: no used entry after 1 s (used idx %u, status 0x%x)\n",
			d->base, qi, vio_used_idx(&d->q[qi]), vio_status(d));
		return -1;
	}
	if (e.id != (uint32_t)head) {
		gprintf("virtio at 0x%lx: queue %u: used id %u, submitted head %d\n", d->base, qi,
			e.id, head);
		return -1;
	}
	*len = e.len;
	return 0;
}
