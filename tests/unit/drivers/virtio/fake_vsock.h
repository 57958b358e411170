/* SPDX-License-Identifier: Apache-2.0 */
/* fake_vsock.h: fake domains with a virtio-vsock device each, in 256 KiB slices of the fake guest RAM, for the vsock tests. */
#ifndef PVHV_TESTS_FAKE_VSOCK_H
#define PVHV_TESTS_FAKE_VSOCK_H

#include "drivers/virtio/vsock.h"
#include "tests/unit/drivers/virtio/fake_guest.h"

#define VQS 64u                 /* queue size */
#define SLICE 0x40000u          /* guest RAM per fake domain */
#define RXBUF 0x10000u          /* 16 receive buffers of 4 KiB */
#define RXBUF_SIZE 0x1000u
#define RXBUF_N 16u
#define TXBUF 0x20000u          /* 128 KiB of packets to send */
#define TXBUF_END 0x40000u

struct fdom {
	struct virtio_dev dev;
	struct virtio_vsock vs;
	gpa_t base;
	struct fake_ring rx, tx;
	uint16_t rx_seen;           /* used receive entries read by the test */
	gpa_t tx_cur;               /* where the next packet is written */
	uint32_t fwd_cnt;           /* what the test's driver reports having read */
};

static inline void dom_init(struct fdom *d, unsigned slot, uint64_t cid)
{
	gpa_t b = (gpa_t)slot * SLICE;

	memset(d, 0, sizeof(*d));
	d->base = b;
	d->vs.cid = cid;
	virtio_dev_init(&d->dev, &virtio_vsock_ops, &env, &d->vs, "vsock");
	d->dev.vq[0] = (struct virtq){ .size = VQS, .ready = true, .desc = b, .avail = b + 0x1000,
				       .used = b + 0x2000 };
	d->dev.vq[1] = (struct virtq){ .size = VQS, .ready = true, .desc = b + 0x3000,
				       .avail = b + 0x4000, .used = b + 0x5000 };
	d->dev.status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
	ring_init(&d->rx, VQS, b, b + 0x1000, b + 0x2000);
	ring_init(&d->tx, VQS, b + 0x3000, b + 0x4000, b + 0x5000);
	d->tx_cur = b + TXBUF;
}

/* Posts n receive buffers of len bytes (one writable descriptor each); kicks the queue when asked. */
static inline void post_rx(struct fdom *d, unsigned n, uint32_t len, bool kick)
{
	for (unsigned k = 0; k < n; k++) {
		uint16_t i = d->rx.avail_idx % VQS;

		set_desc(d->rx.desc, i, d->base + RXBUF + (i % RXBUF_N) * RXBUF_SIZE, len,
			 VIRTQ_DESC_F_WRITE, 0);
		ring_add(&d->rx, i);
	}
	if (kick)
		d->dev.ops->notify(&d->dev, 0);
}

static inline struct vsock_hdr mkhdr(uint64_t src, uint32_t sport, uint64_t dst, uint32_t dport,
				     uint16_t op, uint32_t len)
{
	return (struct vsock_hdr){ .src_cid = src, .dst_cid = dst, .src_port = sport,
				   .dst_port = dport, .len = len, .type = VSOCK_TYPE_STREAM, .op = op,
				   .buf_alloc = 65536 };
}

/* Queues one TX packet (header descriptor, then payload descriptor when there is one). */
static inline void tx_add(struct fdom *d, const struct vsock_hdr *h, const void *payload, uint32_t n)
{
	uint16_t i = (uint16_t)((d->tx.avail_idx * 2u) % VQS);

	if (d->tx_cur + VSOCK_HDR_SIZE + n > d->base + TXBUF_END)
		d->tx_cur = d->base + TXBUF;
	memcpy(g.ram + d->tx_cur, h, VSOCK_HDR_SIZE);
	if (n) {
		memcpy(g.ram + d->tx_cur + VSOCK_HDR_SIZE, payload, n);
		set_desc(d->tx.desc, i, d->tx_cur, VSOCK_HDR_SIZE, VIRTQ_DESC_F_NEXT, i + 1);
		set_desc(d->tx.desc, i + 1, d->tx_cur + VSOCK_HDR_SIZE, n, 0, 0);
	} else {
		set_desc(d->tx.desc, i, d->tx_cur, VSOCK_HDR_SIZE, 0, 0);
	}
	d->tx_cur += ALIGN_UP(VSOCK_HDR_SIZE + n, 64u);
	ring_add(&d->tx, i);
}

/* Queues a packet and kicks the TX queue: its "work left". */
static inline bool tx(struct fdom *d, const struct vsock_hdr *h, const void *payload, uint32_t n)
{
	tx_add(d, h, payload, n);
	return d->dev.ops->notify(&d->dev, 1);
}

/* Packets the device has put in the receive queue and the test has not read yet. */
static inline unsigned rx_ready_count(const struct fdom *d)
{
	return (uint16_t)(used_idx(&d->rx) - d->rx_seen);
}

/* The next received packet: header, and payload into buf (if given); false when none. */
static inline bool rx_pop(struct fdom *d, struct vsock_hdr *h, uint8_t *buf)
{
	uint32_t id, len;
	uint64_t addr;

	if (!rx_ready_count(d))
		return false;
	id = used_id(&d->rx, d->rx_seen);
	len = used_len(&d->rx, d->rx_seen);
	d->rx_seen++;
	memcpy(&addr, g.ram + d->rx.desc + 16 * id, 8);
	memcpy(h, g.ram + addr, VSOCK_HDR_SIZE);
	if (len != VSOCK_HDR_SIZE + h->len)
		return false;
	if (buf)
		memcpy(buf, g.ram + addr + VSOCK_HDR_SIZE, h->len);
	return true;
}

/* TX chains the device has completed. */
static inline uint16_t tx_done(const struct fdom *d)
{
	return used_idx(&d->tx);
}

#endif
