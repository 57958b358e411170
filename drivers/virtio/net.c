/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.c: the virtio-net model (virtio 1.2, 5.1): one port; checksum and TCP
 * segmentation offloads passed between guests, or done here for a guest
 * that did not take them.
 */
#include "drivers/virtio/devices.h"

#define RXQ 0
#define TXQ 1
#define ETH_HEADER 14u

/* Feature bits (5.1.3). */
#define F_CSUM (1ULL << 0)
#define F_GUEST_CSUM (1ULL << 1)
#define F_MTU (1ULL << 3)
#define F_MAC (1ULL << 5)
#define F_GUEST_TSO4 (1ULL << 7)
#define F_GUEST_TSO6 (1ULL << 8)
#define F_HOST_TSO4 (1ULL << 11)
#define F_HOST_TSO6 (1ULL << 12)
#define F_MRG_RXBUF (1ULL << 15)
#define F_STATUS (1ULL << 16)

#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_IPV6 0x86ddu
#define IPPROTO_TCP 6u
#define TCP_FIN 0x01u
#define TCP_PSH 0x08u
#define TCP_CWR 0x80u

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

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static void put_be16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v & 0xffffu);
}

/* The Internet checksum (RFC 1071): sum adds p[0, n) as big-endian 16-bit words, fold ends it. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += be16(p + i);
	if (i < n)
		sum += (unsigned)p[i] << 8;
	return sum;
}

static unsigned csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (unsigned)~sum & 0xffffu;
}

/* Where a TCP segmentation frame's headers end. */
struct gso {
	unsigned l4;        /* the TCP header's offset */
	unsigned hdr_len;   /* and the payload's */
	bool v6;
};

/*
 * A TCP segmentation frame (5.1.6.2): Ethernet, then IPv4 (unfragmented,
 * total length the rest of the frame) or IPv6 (TCP right after the fixed
 * header, payload length the rest), a TCP header with the partial checksum
 * at csum_start == its offset, csum_offset == 16, a payload, and gso_size
 * pieces that fit the MTU.  0, or -EINVAL.
 */
static int gso_parse(const struct virtio_net_hdr *h, const uint8_t *f, size_t len, struct gso *g)
{
	unsigned l4, doff;

	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || h->gso_size == 0)
		return -EINVAL;
	g->v6 = h->gso_type == VIRTIO_NET_HDR_GSO_TCPV6;
	if (!g->v6) {
		if (len < 34 || be16(f + 12) != ETHERTYPE_IPV4 || f[14] >> 4 != 4 || (f[14] & 15u) < 5 ||
		    be16(f + 16) != len - 14 || (be16(f + 20) & 0x3fffu) || f[23] != IPPROTO_TCP)
			return -EINVAL;
		l4 = 14 + (f[14] & 15u) * 4;
	} else {
		if (len < 54 || be16(f + 12) != ETHERTYPE_IPV6 || f[14] >> 4 != 6 ||
		    be16(f + 18) != len - 54 || f[20] != IPPROTO_TCP)
			return -EINVAL;
		l4 = 54;
	}
	if (len < l4 + 20 || (doff = (f[l4 + 12] >> 4) * 4u) < 20 || len <= l4 + doff)
		return -EINVAL;
	if (h->csum_start != l4 || h->csum_offset != 16 || l4 + doff + h->gso_size > 14 + VIRTIO_NET_MTU)
		return -EINVAL;
	g->l4 = l4;
	g->hdr_len = l4 + doff;
	return 0;
}

/*
 * The header's flags and gso_type are known ones; the frame fits them (its
 * length, the checksum place inside it, a TCP segmentation frame).
 */
static int check_offload(const struct virtio_net_hdr *h, const uint8_t *f, size_t len, struct gso *g)
{
	bool gso = h->gso_type != VIRTIO_NET_HDR_GSO_NONE;

	if ((h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) || len < ETH_HEADER ||
	    len > (gso ? VIRTIO_NET_MAX_GSO_FRAME : VIRTIO_NET_MAX_FRAME))
		return -EINVAL;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && (size_t)h->csum_start + h->csum_offset + 2 > len)
		return -EINVAL;
	if (!gso)
		return 0;
	if (h->gso_type != VIRTIO_NET_HDR_GSO_TCPV4 && h->gso_type != VIRTIO_NET_HDR_GSO_TCPV6)
		return -EINVAL;
	return gso_parse(h, f, len, g);
}

/*
 * One transmit chain: checked, copied into n->frame and handed on, or
 * dropped with a count.  Returns its readable bytes, or -EINVAL after
 * failing the device.
 */
static int64_t transmit_one(struct virtio_dev *d, const struct virtq_chain *ch)
{
	struct virtio_net *n = d->priv;
	struct virtio_net_hdr hdr, out;
	uint64_t len = ch->read_len - VIRTIO_NET_HDR_SIZE, tso;
	bool gso;
	struct gso g;
	char msg[96];

	if (ch->write_len) {
		snprintf(msg, sizeof(msg), "transmit chain %u has %llu device-writable bytes", ch->head,
			 (unsigned long long)ch->write_len);
		goto fail;
	}
	if (ch->read_len < VIRTIO_NET_HDR_SIZE || len > VIRTIO_NET_MAX_GSO_FRAME) {
		snprintf(msg, sizeof(msg), "transmit chain %u of %llu bytes is not a %u-byte header and "
			 "up to %u bytes of frame", ch->head, (unsigned long long)ch->read_len,
			 VIRTIO_NET_HDR_SIZE, VIRTIO_NET_MAX_GSO_FRAME);
		goto fail;
	}
	if (virtq_chain_read(ch, d->env, 0, &hdr, sizeof(hdr)))
		goto fault;
	/* Offloads the driver did not negotiate it MUST NOT ask for (5.1.6.2.1); unknown flags are ignored. */
	gso = hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE;
	tso = hdr.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ? F_HOST_TSO4 :
	      hdr.gso_type == VIRTIO_NET_HDR_GSO_TCPV6 ? F_HOST_TSO6 : 0;
	if (((hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !(d->driver_features & F_CSUM)) ||
	    (gso && !(d->driver_features & tso))) {
		snprintf(msg, sizeof(msg), "transmit chain %u: header flags 0x%x gso_type 0x%x, not "
			 "negotiated", ch->head, hdr.flags, hdr.gso_type);
		goto fail;
	}
	if (len < ETH_HEADER) {
		n->stats.tx_runt++;
		return (int64_t)ch->read_len;
	}
	if (len > (gso ? VIRTIO_NET_MAX_GSO_FRAME : VIRTIO_NET_MAX_FRAME)) {
		n->stats.tx_oversize++;   /* a driver that refused F_MTU may try; one frame lost */
		return (int64_t)ch->read_len;
	}
	if (virtq_chain_read(ch, d->env, VIRTIO_NET_HDR_SIZE, n->frame, (size_t)len))
		goto fault;
	out = (struct virtio_net_hdr){ .flags = hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .gso_type = hdr.gso_type };
	if (out.flags) {
		out.csum_start = hdr.csum_start;
		out.csum_offset = hdr.csum_offset;
	}
	if (gso)
		out.gso_size = hdr.gso_size;   /* hdr_len is only a hint (5.1.6.2.2): computed below */
	if (check_offload(&out, n->frame, (size_t)len, &g)) {
		n->stats.tx_bad_offload++;
		return (int64_t)ch->read_len;
	}
	if (gso)
		out.hdr_len = (uint16_t)g.hdr_len;
	n->stats.tx_frames++;
	n->stats.tx_bytes += len;
	n->transmit(n->ctx, &out, n->frame, (size_t)len);
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

/* The next receive chain: 1, 0 when there is none, or -EIO after failing the device. */
static int pop_rx(struct virtio_dev *d, struct virtq_chain *ch)
{
	char err[96];
	int rc = virtq_pop(&d->vq[RXQ], d->env, ch, err, sizeof(err));

	if (rc < 0) {
		virtio_dev_fail(d, RXQ, err);
		return -EIO;
	}
	if (rc && ch->read_len) {
		snprintf(err, sizeof(err), "receive chain %u has %llu device-readable bytes", ch->head,
			 (unsigned long long)ch->read_len);
		virtio_dev_fail(d, RXQ, err);
		return -EIO;
	}
	return rc;
}

static int rx_fault(struct virtio_dev *d, const struct virtq_chain *ch)
{
	char err[64];

	snprintf(err, sizeof(err), "receive chain %u left guest RAM", ch->head);
	virtio_dev_fail(d, RXQ, err);
	return -EIO;
}

/*
 * With MRG_RXBUF (5.1.6.4.2): the frame spread over as many chains as it
 * takes, the header (num_buffers: how many) at the start of the first.
 * When the chains run out first, the ones taken are given back unused --
 * nothing was pushed, and last_avail is the device's own index -- to be
 * popped (and checked) afresh with the next frame.
 */
static int deliver_merged(struct virtio_dev *d, const struct virtio_net_hdr *h, const uint8_t *f,
			  size_t len)
{
	struct virtio_net *n = d->priv;
	struct virtq *q = &d->vq[RXQ];
	struct virtq_chain first, ch;
	struct virtio_net_hdr out = *h;
	size_t done = 0;
	unsigned k = 0;
	int rc;

	while (k == 0 || done < len) {
		struct virtq_chain *c = k ? &ch : &first;
		size_t at = k ? 0 : VIRTIO_NET_HDR_SIZE, take;

		rc = k < VIRTIO_NET_QUEUE_MAX ? pop_rx(d, c) : 0;
		if (rc < 0)
			return rc;
		if (rc == 0) {
			q->last_avail = (uint16_t)(q->last_avail - k);
			n->stats.rx_no_buffer++;
			return -EAGAIN;
		}
		if (c->write_len < at) {
			char err[96];

			snprintf(err, sizeof(err), "receive chain %u of %llu bytes cannot hold the header",
				 c->head, (unsigned long long)c->write_len);
			virtio_dev_fail(d, RXQ, err);
			return -EIO;
		}
		take = (size_t)MIN(c->write_len - at, (uint64_t)(len - done));
		if (virtq_chain_write(c, d->env, at, f + done, take))
			return rx_fault(d, c);
		n->rx_used[k].head = c->head;
		n->rx_used[k].len = (uint32_t)(at + take);
		done += take;
		k++;
	}
	out.num_buffers = (uint16_t)k;
	if (virtq_chain_write(&first, d->env, 0, &out, sizeof(out)))
		return rx_fault(d, &first);
	for (unsigned i = 0; i < k; i++) {
		if (virtq_push(q, d->env, n->rx_used[i].head, n->rx_used[i].len)) {
			virtio_dev_fail(d, RXQ, "used ring outside guest RAM");
			return -EIO;
		}
	}
	n->stats.rx_frames++;
	n->stats.rx_bytes += len;
	return 0;
}

/* One frame with its header into the next receive chain(s) (the caller raises the interrupt). */
static int deliver(struct virtio_dev *d, const struct virtio_net_hdr *h, const uint8_t *f, size_t len)
{
	struct virtio_net *n = d->priv;
	struct virtq *q = &d->vq[RXQ];
	struct virtq_chain ch;
	uint32_t used = 0;
	int rc;

	if (d->driver_features & F_MRG_RXBUF)
		return deliver_merged(d, h, f, len);
	rc = pop_rx(d, &ch);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		n->stats.rx_no_buffer++;
		return -EAGAIN;
	}
	rc = 0;
	if (ch.write_len < VIRTIO_NET_HDR_SIZE + len) {
		n->stats.rx_small_buffer++;
		rc = -ENOSPC;
	} else if (virtq_chain_write(&ch, d->env, 0, h, sizeof(*h)) ||
		   virtq_chain_write(&ch, d->env, VIRTIO_NET_HDR_SIZE, f, len)) {
		return rx_fault(d, &ch);
	} else {
		n->stats.rx_frames++;
		n->stats.rx_bytes += len;
		used = (uint32_t)(VIRTIO_NET_HDR_SIZE + len);
	}
	if (virtq_push(q, d->env, ch.head, used)) {
		virtio_dev_fail(d, RXQ, "used ring outside guest RAM");
		return -EIO;
	}
	return rc;
}

/*
 * TCP segmentation in software for a guest without GUEST_TSO (what the
 * sender's stack would have done): each segment repeats the headers with
 * its own lengths, IPv4 ID and header checksum, sequence number, flags
 * (FIN and PSH on the last only, CWR on the first only) and a TCP checksum
 * computed whole (RFC 9293 3.1, RFC 8200 8.1 pseudo-headers).
 */
static int segment(struct virtio_dev *d, const struct virtio_net_hdr *h, const struct gso *g,
		   const uint8_t *f, size_t len)
{
	static const struct virtio_net_hdr plain = { .num_buffers = 1 };
	struct virtio_net *n = d->priv;
	uint8_t *s = n->seg, *tcp = s + g->l4;
	size_t payload = len - g->hdr_len, mss = h->gso_size, nseg = (payload + mss - 1) / mss;
	uint32_t seq = be32(f + g->l4 + 4);
	unsigned id = be16(f + 18);   /* the IPv4 ID (unused for IPv6) */
	int rc = 0;

	n->stats.rx_segmented++;
	for (size_t i = 0; i < nseg && rc == 0; i++) {
		size_t take = MIN(mss, payload - i * mss), slen = g->hdr_len + take;
		uint64_t sum;

		memcpy(s, f, g->hdr_len);
		memcpy(s + g->hdr_len, f + g->hdr_len + i * mss, take);
		if (g->v6) {
			put_be16(s + 18, (unsigned)(slen - 54));
			sum = csum_add(0, s + 22, 32);
		} else {
			put_be16(s + 16, (unsigned)(slen - 14));
			put_be16(s + 18, (id + (unsigned)i) & 0xffffu);
			put_be16(s + 24, 0);
			put_be16(s + 24, csum_fold(csum_add(0, s + 14, g->l4 - 14)));
			sum = csum_add(0, s + 26, 8);
		}
		sum += IPPROTO_TCP + (slen - g->l4);
		put_be32(tcp + 4, seq + (uint32_t)(i * mss));
		if (i + 1 < nseg)
			tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (i > 0)
			tcp[13] &= (uint8_t)~TCP_CWR;
		put_be16(tcp + 16, 0);
		put_be16(tcp + 16, csum_fold(csum_add(sum, tcp, slen - g->l4)));
		rc = deliver(d, &plain, s, slen);
	}
	return rc;
}

/* The frame as this guest negotiated to take it. */
static int receive(struct virtio_dev *d, const struct virtio_net_hdr *hdr, const struct gso *g,
		   const uint8_t *frame, size_t len)
{
	struct virtio_net *n = d->priv;
	struct virtio_net_hdr out = { .num_buffers = 1 };
	uint64_t acked = d->driver_features, want = F_GUEST_CSUM;
	unsigned at, sum;

	if (hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		want |= hdr->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 ? F_GUEST_TSO4 : F_GUEST_TSO6;
		if ((acked & want) != want)
			return segment(d, hdr, g, frame, len);
		out = *hdr;
		out.hdr_len = (uint16_t)g->hdr_len;
		out.num_buffers = 1;
		return deliver(d, &out, frame, len);
	}
	if (!(hdr->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return deliver(d, &out, frame, len);
	if (acked & F_GUEST_CSUM) {
		out.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		out.csum_start = hdr->csum_start;
		out.csum_offset = hdr->csum_offset;
		return deliver(d, &out, frame, len);
	}
	/* Complete it (5.1.6.2): the sum from csum_start to the end, 0 sent as 0xffff (RFC 768). */
	memcpy(n->seg, frame, len);
	at = hdr->csum_start + hdr->csum_offset;
	sum = csum_fold(csum_add(0, n->seg + hdr->csum_start, len - hdr->csum_start));
	put_be16(n->seg + at, sum ? sum : 0xffffu);
	return deliver(d, &out, n->seg, len);
}

int virtio_net_receive(struct virtio_dev *d, const struct virtio_net_hdr *hdr, const uint8_t *frame,
		       size_t len)
{
	struct virtio_net *n = d->priv;
	struct virtq *q = &d->vq[RXQ];
	uint32_t running = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED;
	uint16_t used_before = q->used_idx;
	struct gso g;
	int rc;

	if (check_offload(hdr, frame, len, &g))
		return -EINVAL;
	if ((d->status & running) != VIRTIO_STATUS_DRIVER_OK || !q->ready || q->broken) {
		n->stats.rx_no_buffer++;
		return -EAGAIN;
	}
	rc = receive(d, hdr, &g, frame, len);
	if (!q->broken && q->used_idx != used_before)
		virtio_dev_used(d, RXQ);
	return rc;
}

static void reset(struct virtio_dev *d)
{
	(void)d;   /* the mac is configuration; the counters outlive a device reset */
}

const struct virtio_dev_ops virtio_net_ops = {
	.device_id = VIRTIO_ID_NET,
	.features = F_MAC | F_MTU | F_STATUS | F_MRG_RXBUF | F_CSUM | F_GUEST_CSUM | F_HOST_TSO4 |
		    F_HOST_TSO6 | F_GUEST_TSO4 | F_GUEST_TSO6,
	.nr_queues = 2,
	.queue_max = VIRTIO_NET_QUEUE_MAX,
	.config_size = CFG_SIZE,
	.config_read = config_read,
	.config_write = config_write,
	.notify = notify,
	.reset = reset,
};
