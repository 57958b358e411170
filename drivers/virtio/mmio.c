/* SPDX-License-Identifier: Apache-2.0 */
/* mmio.c: the virtio-mmio version 2 transport: registers, feature negotiation, queue setup (see virtio.h). */
#include "drivers/virtio/virtio.h"

/* Register offsets (virtio 1.2, 4.2.2; Linux include/uapi/linux/virtio_mmio.h). */
#define REG_MAGIC 0x000u
#define REG_VERSION 0x004u
#define REG_DEVICE_ID 0x008u
#define REG_VENDOR_ID 0x00cu
#define REG_DEVICE_FEATURES 0x010u
#define REG_DEVICE_FEATURES_SEL 0x014u
#define REG_DRIVER_FEATURES 0x020u
#define REG_DRIVER_FEATURES_SEL 0x024u
#define REG_QUEUE_SEL 0x030u
#define REG_QUEUE_NUM_MAX 0x034u
#define REG_QUEUE_NUM 0x038u
#define REG_QUEUE_READY 0x044u
#define REG_QUEUE_NOTIFY 0x050u
#define REG_INTERRUPT_STATUS 0x060u
#define REG_INTERRUPT_ACK 0x064u
#define REG_STATUS 0x070u
#define REG_QUEUE_DESC_LOW 0x080u
#define REG_QUEUE_DESC_HIGH 0x084u
#define REG_QUEUE_DRIVER_LOW 0x090u
#define REG_QUEUE_DRIVER_HIGH 0x094u
#define REG_QUEUE_DEVICE_LOW 0x0a0u
#define REG_QUEUE_DEVICE_HIGH 0x0a4u
#define REG_SHM_LEN_LOW 0x0b0u
#define REG_SHM_LEN_HIGH 0x0b4u
#define REG_SHM_BASE_LOW 0x0b8u
#define REG_SHM_BASE_HIGH 0x0bcu
#define REG_CONFIG_GENERATION 0x0fcu
#define REG_CONFIG 0x100u

#define MMIO_MAGIC 0x74726976u   /* "virt" */
#define MMIO_VERSION 2u
#define MMIO_VENDOR 0x70766876u  /* "pvhv" */

#define INT_USED 1u
#define INT_CONFIG 2u

/* Status bits the driver may set; NEEDS_RESET is the device's (virtio 1.2, 2.1). */
#define DRIVER_STATUS (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK | \
		       VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_FAILED)

/*
 * Bits 28..41 are reserved for the transport and ring (virtio 1.2, 6): a
 * model cannot offer them, the transport offers exactly what it does.
 */
#define TRANSPORT_RESERVED ((1ULL << 42) - (1ULL << 28))
#define TRANSPORT_FEATURES (VIRTIO_F_VERSION_1 | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX)

static unsigned nr_queues(const struct virtio_dev *d)
{
	return MIN(d->ops->nr_queues, VIRTIO_MAX_QUEUES);
}

static uint64_t offered(const struct virtio_dev *d)
{
	return (d->ops->features & ~TRANSPORT_RESERVED) | TRANSPORT_FEATURES;
}

static uint32_t config_size(const struct virtio_dev *d)
{
	return MIN(d->ops->config_size, VIRTIO_MMIO_SIZE - REG_CONFIG);
}

static struct virtq *selected(struct virtio_dev *d)
{
	return d->queue_sel < nr_queues(d) ? &d->vq[d->queue_sel] : NULL;
}

static void raise_irq(struct virtio_dev *d, uint32_t why)
{
	d->interrupt_status |= why;
	d->env->irq(d->env->ctx);
}

static void dev_reset(struct virtio_dev *d)
{
	d->status = 0;
	d->dev_features_sel = d->drv_features_sel = 0;
	d->driver_features = 0;
	d->queue_sel = 0;
	d->interrupt_status = 0;
	memset(d->vq, 0, sizeof(d->vq));
	if (d->ops->reset)
		d->ops->reset(d);
}

void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		     const struct virtio_env *env, void *priv, const char *name)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->env = env;
	d->priv = priv;
	d->name = name;
}

void virtio_dev_used(struct virtio_dev *d, unsigned qi)
{
	if (qi < nr_queues(d) && virtq_should_interrupt(&d->vq[qi], d->env))
		raise_irq(d, INT_USED);
}

void virtio_dev_fail(struct virtio_dev *d, unsigned qi, const char *why)
{
	char msg[160];

	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	d->status |= VIRTIO_STATUS_NEEDS_RESET;
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		d->vq[i].broken = true;
	if (qi < nr_queues(d))
		snprintf(msg, sizeof(msg), "virtq %u: %s", qi, why);
	else
		snprintf(msg, sizeof(msg), "%s", why);
	d->env->log(d->env->ctx, msg);
	/* The driver hears of it by a configuration change once it is running (virtio 1.2, 2.1.2). */
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(d, INT_CONFIG);
}

void virtio_dev_config_changed(struct virtio_dev *d)
{
	d->config_generation++;
	if (d->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(d, INT_CONFIG);
}

/*
 * The selected queue when its setup registers may be written: it exists,
 * is not enabled, and the driver has not finished (DRIVER_OK) or been told
 * to reset.  Without VIRTIO_F_RING_RESET a queue is set up only before
 * DRIVER_OK (virtio 1.2, 3.1.1 and 4.2.3.2); other writes are ignored.
 */
static struct virtq *setup_queue(struct virtio_dev *d)
{
	struct virtq *q = selected(d);

	if (!q || q->ready || (d->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)))
		return NULL;
	return q;
}

static void set_half(gpa_t *addr, bool high, uint32_t val)
{
	if (high)
		*addr = (*addr & 0xffffffffULL) | (uint64_t)val << 32;
	else
		*addr = (*addr & ~0xffffffffULL) | val;
}

static void queue_ready(struct virtio_dev *d, uint32_t val)
{
	struct virtq *q = selected(d);
	char err[96];

	if (val == 0 && q) {
		/* The driver takes the queue away; its buffers are no longer touched. */
		q->ready = false;
		return;
	}
	q = setup_queue(d);
	/* Features decide the ring format, so they are settled first (3.1.1 step 5 before 7). */
	if (val != 1 || !q || !(d->status & VIRTIO_STATUS_FEATURES_OK))
		return;
	q->event_idx = d->driver_features & VIRTIO_F_EVENT_IDX;
	q->indirect = d->driver_features & VIRTIO_F_INDIRECT_DESC;
	q->last_avail = q->used_idx = q->signalled_used = 0;
	q->broken = false;
	if (virtq_check_config(q, MIN(d->ops->queue_max, VIRTQ_MAX_SIZE), d->env, err, sizeof(err))) {
		virtio_dev_fail(d, d->queue_sel, err);
		return;
	}
	q->ready = true;
}

/* The driver's new status bits; refusing one leaves it clear for the driver to see (3.1.1). */
static void status_write(struct virtio_dev *d, uint32_t val)
{
	uint32_t add;
	uint64_t acked = d->driver_features;

	if (val == 0) {
		dev_reset(d);
		return;
	}
	/* The driver never clears a bit but by reset (2.1.1); such a clear is ignored. */
	add = val & DRIVER_STATUS & ~d->status;
	if ((add & VIRTIO_STATUS_FEATURES_OK) &&
	    ((acked & ~offered(d)) || !(acked & VIRTIO_F_VERSION_1)))
		add &= ~VIRTIO_STATUS_FEATURES_OK;
	if ((add & VIRTIO_STATUS_DRIVER_OK) && !((d->status | add) & VIRTIO_STATUS_FEATURES_OK))
		add &= ~VIRTIO_STATUS_DRIVER_OK;
	d->status |= add;
}

bool virtio_dev_kick(struct virtio_dev *d, unsigned qi)
{
	uint32_t running = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED;

	/* No buffer is used before DRIVER_OK (virtio 1.2, 2.1.2), nor after a violation. */
	if ((d->status & running) != VIRTIO_STATUS_DRIVER_OK || qi >= nr_queues(d))
		return false;
	if (!d->vq[qi].ready || d->vq[qi].broken || !d->ops->notify)
		return false;
	return d->ops->notify(d, qi);
}

static uint32_t reg_read(struct virtio_dev *d, uint32_t off)
{
	struct virtq *q = selected(d);

	switch (off) {
	case REG_MAGIC:
		return MMIO_MAGIC;
	case REG_VERSION:
		return MMIO_VERSION;
	case REG_DEVICE_ID:
		return d->ops->device_id;
	case REG_VENDOR_ID:
		return MMIO_VENDOR;
	case REG_DEVICE_FEATURES:
		return d->dev_features_sel < 2 ? (uint32_t)(offered(d) >> (32 * d->dev_features_sel)) : 0;
	case REG_QUEUE_NUM_MAX:
		return q ? MIN(d->ops->queue_max, VIRTQ_MAX_SIZE) : 0;
	case REG_QUEUE_READY:
		return q && q->ready;
	case REG_INTERRUPT_STATUS:
		return d->interrupt_status;
	case REG_STATUS:
		return d->status;
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH:
		return 0xffffffffu; /* no shared memory regions: length -1 (4.2.2) */
	case REG_CONFIG_GENERATION:
		return d->config_generation;
	default:
		return 0; /* write-only registers, holes, and QueueReset without RING_RESET */
	}
}

static bool reg_write(struct virtio_dev *d, uint32_t off, uint32_t val)
{
	struct virtq *q = setup_queue(d);

	switch (off) {
	case REG_DEVICE_FEATURES_SEL:
		d->dev_features_sel = val;
		break;
	case REG_DRIVER_FEATURES:
		/* Features are fixed at FEATURES_OK; words past 64 bits name nothing offered. */
		if (!(d->status & VIRTIO_STATUS_FEATURES_OK) && d->drv_features_sel < 2) {
			unsigned shift = 32 * d->drv_features_sel;

			d->driver_features = (d->driver_features & ~(0xffffffffULL << shift)) |
					     (uint64_t)val << shift;
		}
		break;
	case REG_DRIVER_FEATURES_SEL:
		d->drv_features_sel = val;
		break;
	case REG_QUEUE_SEL:
		d->queue_sel = val;
		break;
	case REG_QUEUE_NUM:
		if (q)
			q->size = val > 0xffff ? 0 : (uint16_t)val;
		break;
	case REG_QUEUE_READY:
		queue_ready(d, val);
		break;
	case REG_QUEUE_NOTIFY:
		return virtio_dev_kick(d, val);
	case REG_INTERRUPT_ACK:
		d->interrupt_status &= ~val;
		break;
	case REG_STATUS:
		status_write(d, val);
		break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		if (q)
			set_half(&q->desc, off == REG_QUEUE_DESC_HIGH, val);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		if (q)
			set_half(&q->avail, off == REG_QUEUE_DRIVER_HIGH, val);
		break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		if (q)
			set_half(&q->used, off == REG_QUEUE_DEVICE_HIGH, val);
		break;
	default:
		break; /* read-only registers and holes */
	}
	return false;
}

/* Device configuration space: naturally aligned accesses inside it (4.2.2.2), little-endian. */
static void config_access(struct virtio_dev *d, uint32_t off, bool write, unsigned size,
			  uint64_t *val)
{
	uint8_t buf[8] = { 0 };

	if ((size != 1 && size != 2 && size != 4 && size != 8) || off % size ||
	    off + size > config_size(d))
		return;
	if (write) {
		memcpy(buf, val, size);
		if (d->ops->config_write)
			d->ops->config_write(d, off, buf, size);
	} else {
		if (d->ops->config_read)
			d->ops->config_read(d, off, buf, size);
		memcpy(val, buf, sizeof(buf));
	}
}

bool virtio_mmio_access(struct virtio_dev *d, uint64_t off, bool write, unsigned size,
			uint64_t *val)
{
	if (!write)
		*val = 0;
	if (off >= VIRTIO_MMIO_SIZE)
		return false;
	if (off >= REG_CONFIG) {
		config_access(d, (uint32_t)off - REG_CONFIG, write, size, val);
		return false;
	}
	if (size != 4 || off % 4)
		return false;
	if (!write) {
		*val = reg_read(d, (uint32_t)off);
		return false;
	}
	return reg_write(d, (uint32_t)off, (uint32_t)*val);
}
