/* SPDX-License-Identifier: Apache-2.0 */
/* net.c: the virtio-net model (virtio 1.2, 5.1): one port, whole frames, no offloads. */
#include "drivers/virtio/devices.h"

#define RXQ 0
#define TXQ 1
#define NET_QUEUE_MAX 256u
#define ETH_HEADER 14u
#define GSO_MAX_FRAME 65535u   /* the largest frame a header can describe (5.1.6.2) */

/* Feature bits (5.1.3). */
#define F_MTU (1ULL << 3)
#define F_MAC (1ULL << 5)
#define F_STATUS (1ULL << 16)

/* struct virtio_net_config (5.1.4): mac, status, max_virtqueue_pairs, mtu. */
#define CFG_SIZE 12u
#define CFG_MAC 0u
#define CFG_STATUS 6u
#define CFG_MAX_PAIRS 8u
#define CFG_MTU 10u
#define S_LINK_UP 1u

_Static_assert(sizeof(struct virtio_net_hdr) == VIRTIO_NET_HDR_SIZE, "virtio_net_hdr layout");

static void config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned len)
{
	const struct virtio_net *n = d->priv;
	uint8_t c[CFG_SIZE] = { 0 };
	uint16_t status = S_LINK_UP, pairs = 1, mtu = VIRTIO_NET_MTU;

	memcpy(c + CFG_MAC, n->mac, 6);
	memcpy(c + CFG_STATUS, &status, 2);
	memcpy(c + CFG_MAX_PAIRS, &pairs, 2);
	memcpy(c + CFG_MTU, &mtu, 2);
	if (off <= CFG_SIZE && len <= CFG_SIZE - off)  /* the transport checked; kept local */
		memcpy(buf, c + off, len);
}

static void config_write(struct virtio_dev *d, uint32_t off, const void *buf, unsigned len)
{
	(void)d, (void)off, (void)buf, (void)len; /* the mac is read-only without legacy or CTRL_MAC_ADDR */
}

/*
 * One transmit chain: checked, copied into n->frame and handed on, or
 * dropped with a count.  Returns its readable bytes, or -EINVAL after
 * failing the device.
 */
static int64_t transmit_one(struct virtio_dev *d, const struct virtq_chain *ch)
{
	struct virtio_net *n = d->priv;
	struct virtio_net_hdr hdr;
	uint64_t len = ch->read_len - VIRTIO_NET_HDR_SIZE;
	char msg[96];

	if (ch->write_len) {
		snprintf(msg, sizeof(msg), "transmit chain %u has %llu device-writable bytes", ch->head,
			 (unsigned long long)ch->write_len);
		goto fail;
	}
	if (ch->read_len < VIRTIO_NET_HDR_SIZE || len > GSO_MAX_FRAME) {
		snprintf(msg, sizeof(msg), "transmit chain %u of %llu bytes is not a %u-byte header and "
			 "up to %u bytes of frame", ch->head, (unsigned long long)ch->read_len,
			 VIRTIO_NET_HDR_SIZE, GSO_MAX_FRAME);
		goto fail;
	}
	if (virtq_chain_read(ch, d->env, 0, &hdr, sizeof(hdr)))
		goto fault;
	/* Without VIRTIO_NET_F_CSUM / HOST_TSO* the driver MUST send both as 0 (5.1.6.2.1). */
	if (hdr.flags || hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		snprintf(msg, sizeof(msg), "transmit chain %u: header flags 0x%x gso_type %u, no offload "
			 "was offered", ch->head, hdr.flags, hdr.gso_type);
		goto fail;
	}
	if (len < ETH_HEADER) {
		n->stats.tx_runt++;
		return (int64_t)ch->read_len;
	}
	if (len > VIRTIO_NET_MAX_FRAME) {
		n->stats.tx_oversize++;   /* a driver that refused F_MTU may try; one frame lost */
		return (int64_t)ch->read_len;
	}
	if (virtq_chain_read(ch, d->env, VIRTIO_NET_HDR_SIZE, n->frame, (size_t)len))
		goto fault;
	hdr = (struct virtio_net_hdr){ .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	n->stats.tx_frames++;
	n->stats.tx_bytes += len;
	n->transmit(n->ctx, &hdr, n->frame, (size_t)len);
	return (int64_t)ch->read_len;
fault:
	snprintf(msg, sizeof(msg), "transmit chain %u left guest RAM", ch->head);
fail:
	virtio_dev_fail(d, TXQ, msg);
	return -EINVAL;
}

/* Transmit until the queue is empty or this call's budget is spent; receive buffers just wait. */
static bool notify(struct virtio_dev *d, unsigned qi)
{
	struct virtq *q = &d->vq[TXQ];
	struct virtq_chain ch;
	char err[96];
	uint64_t bytes = 0;
	unsigned chains = 0;
	int rc;

	if (qi != TXQ)
		return false;
	while (chains < VIRTIO_BUDGET_CHAINS && bytes < VIRTIO_BUDGET_BYTES) {
		int64_t n;

		rc = virtq_pop(q, d->env, &ch, err, sizeof(err));
		if (rc < 0) {
			virtio_dev_fail(d, TXQ, err);
			return false;
		}
		if (rc == 0)
			break;
		n = transmit_one(d, &ch);
		if (n < 0)
			return false;
		if (virtq_push(q, d->env, ch.head, 0)) {
			virtio_dev_fail(d, TXQ, "used ring outside guest RAM");
			return false;
		}
		bytes += (uint64_t)n;
		chains++;
	}
	if (chains)
		virtio_dev_used(d, TXQ);
	return chains == VIRTIO_BUDGET_CHAINS || bytes >= VIRTIO_BUDGET_BYTES;
}

int virtio_net_receive(struct virtio_dev *d, const struct virtio_net_hdr *hdr, const uint8_t *frame,
		       size_t len)
{
	struct virtio_net *n = d->priv;
	struct virtq *q = &d->vq[RXQ];
	struct virtio_net_hdr out = { .gso_type = VIRTIO_NET_HDR_GSO_NONE, .num_buffers = 1 };
	uint32_t running = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED;
	struct virtq_chain ch;
	char err[96];
	int rc;

	if (hdr->flags || hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE || len < ETH_HEADER ||
	    len > VIRTIO_NET_MAX_FRAME)
		return -EINVAL;
	if ((d->status & running) != VIRTIO_STATUS_DRIVER_OK || !q->ready || q->broken) {
		n->stats.rx_no_buffer++;
		return -EAGAIN;
	}
	rc = virtq_pop(q, d->env, &ch, err, sizeof(err));
	if (rc < 0) {
		virtio_dev_fail(d, RXQ, err);
		return -EIO;
	}
	if (rc == 0) {
		n->stats.rx_no_buffer++;
		return -EAGAIN;
	}
	if (ch.read_len) {
		snprintf(err, sizeof(err), "receive chain %u has %llu device-readable bytes", ch.head,
			 (unsigned long long)ch.read_len);
		virtio_dev_fail(d, RXQ, err);
		return -EIO;
	}
	if (ch.write_len < VIRTIO_NET_HDR_SIZE + len) {
		n->stats.rx_small_buffer++;
		rc = -ENOSPC;
		len = 0;
	} else if (virtq_chain_write(&ch, d->env, 0, &out, sizeof(out)) ||
		   virtq_chain_write(&ch, d->env, VIRTIO_NET_HDR_SIZE, frame, len)) {
		snprintf(err, sizeof(err), "receive chain %u left guest RAM", ch.head);
		virtio_dev_fail(d, RXQ, err);
		return -EIO;
	} else {
		rc = 0;
		n->stats.rx_frames++;
		n->stats.rx_bytes += len;
		len += VIRTIO_NET_HDR_SIZE;
	}
	if (virtq_push(q, d->env, ch.head, (uint32_t)len)) {
		virtio_dev_fail(d, RXQ, "used ring outside guest RAM");
		return -EIO;
	}
	virtio_dev_used(d, RXQ);
	return rc;
}

static void reset(struct virtio_dev *d)
{
	(void)d;   /* the mac is configuration; the counters outlive a device reset */
}

const struct virtio_dev_ops virtio_net_ops = {
	.device_id = VIRTIO_ID_NET,
	.features = F_MAC | F_MTU | F_STATUS,
	.nr_queues = 2,
	.queue_max = NET_QUEUE_MAX,
	.config_size = CFG_SIZE,
	.config_read = config_read,
	.config_write = config_write,
	.notify = notify,
	.reset = reset,
};
