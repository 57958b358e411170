/* SPDX-License-Identifier: Apache-2.0 */
/* vsock.c: the virtio-vsock device model (virtio 1.2, 5.10): TX packets checked and handed on, RX delivery. */
#include "drivers/virtio/devices.h"
#include "drivers/virtio/vsock.h"

#define RXQ 0
#define TXQ 1
#define EVQ 2
#define VSOCK_QUEUE_MAX 256u
#define CFG_SIZE 8u   /* struct virtio_vsock_config: le64 guest_cid (5.10.4) */

int vsock_payload_read(const struct vsock_payload *p, uint32_t off, void *dst, size_t n)
{
	if (off > p->len || n > p->len - off)
		return -ERANGE;
	if (p->buf) {
		memcpy(dst, p->buf + off, n);
		return 0;
	}
	return virtq_chain_read(p->ch, p->env, VSOCK_HDR_SIZE + (uint64_t)off, dst, n) ? -EFAULT : 0;
}

static void config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned len)
{
	const struct virtio_vsock *v = d->priv;
	uint64_t cid = v->cid;

	if (off <= CFG_SIZE && len <= CFG_SIZE - off)  /* the transport checked; kept local */
		memcpy(buf, (const uint8_t *)&cid + off, len);
}

static void config_write(struct virtio_dev *d, uint32_t off, const void *buf, unsigned len)
{
	(void)d, (void)off, (void)buf, (void)len;  /* guest_cid is read-only */
}

static void forget(struct virtio_vsock *v)
{
	v->pend_head = v->pend_count = 0;
	v->held = false;
}

/* A rule broken on queue qi: NEEDS_RESET, and every stream of this CID goes. */
static void fail(struct virtio_dev *d, unsigned qi, const char *why)
{
	struct virtio_vsock *v = d->priv;

	virtio_dev_fail(d, qi, why);
	forget(v);
	if (v->be && v->be->reset)
		v->be->reset(v->be_ctx);
}

bool virtio_vsock_live(const struct virtio_dev *d)
{
	const struct virtq *q = &d->vq[RXQ];

	return (d->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(d->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED)) && q->ready &&
	       !q->broken;
}

/*
 * The next receive buffer: 1 with *ch, 0 when none is posted, -EPIPE after
 * failing the device (without be->reset, see virtio_vsock_deliver).  A
 * receive buffer is writable only and holds at least a header (5.10.6.3).
 */
static int rx_buffer(struct virtio_dev *d, struct virtq_chain *ch)
{
	char err[96];
	int rc = virtq_pop(&d->vq[RXQ], d->env, ch, err, sizeof(err));

	if (rc < 0) {
		virtio_dev_fail(d, RXQ, err);
		return -EPIPE;
	}
	if (rc == 1 && (ch->nread || ch->write_len < VSOCK_HDR_SIZE)) {
		virtio_dev_fail(d, RXQ, ch->nread ? "receive buffer has readable segments"
						  : "receive buffer shorter than a packet header");
		return -EPIPE;
	}
	return rc;
}

/* Writes h (len set to n) and n bytes of p from p->done into ch and completes ch. */
static int rx_write(struct virtio_dev *d, const struct virtq_chain *ch, const struct vsock_hdr *h,
		    struct vsock_payload *p, uint32_t n)
{
	struct vsock_hdr out = *h;
	uint8_t buf[512];

	out.len = n;
	if (virtq_chain_write(ch, d->env, 0, &out, sizeof(out)))
		goto fault;
	for (uint32_t off = 0; off < n; off += sizeof(buf)) {
		uint32_t k = MIN(n - off, (uint32_t)sizeof(buf));

		/*
		 * The sender's segments were probed when its chain was popped and
		 * a domain's RAM does not shrink while it runs; should a read fail
		 * anyway, the receiver gets zeros rather than stale bytes.
		 */
		if (vsock_payload_read(p, p->done + off, buf, k))
			memset(buf, 0, sizeof(buf));
		if (virtq_chain_write(ch, d->env, VSOCK_HDR_SIZE + (uint64_t)off, buf, k))
			goto fault;
	}
	if (virtq_push(&d->vq[RXQ], d->env, ch->head, VSOCK_HDR_SIZE + n))
		goto fault;
	p->done += n;
	return 0;
fault:
	virtio_dev_fail(d, RXQ, "receive buffer left guest RAM");
	return -EPIPE;
}

/* Writes waiting control packets into receive buffers while there are some: 0 or -EPIPE. */
static int flush_pending(struct virtio_dev *d, bool *used)
{
	struct virtio_vsock *v = d->priv;
	struct vsock_payload none = { 0 };
	struct virtq_chain ch;
	int rc;

	while (v->pend_count) {
		rc = rx_buffer(d, &ch);
		if (rc <= 0)
			return rc;
		if (rx_write(d, &ch, &v->pend[v->pend_head], &none, 0))
			return -EPIPE;
		*used = true;
		v->pend_head = (v->pend_head + 1) % VSOCK_PENDING;
		v->pend_count--;
	}
	return 0;
}

unsigned virtio_vsock_room(const struct virtio_dev *d, bool urgent)
{
	const struct virtio_vsock *v = d->priv;
	unsigned cap = urgent ? VSOCK_PENDING : VSOCK_PENDING_FORWARD;

	if (!virtio_vsock_live(d))
		return 0;
	return v->pend_count >= cap ? 0 : cap - v->pend_count;
}

int virtio_vsock_deliver(struct virtio_dev *d, const struct vsock_hdr *h, struct vsock_payload *p,
			 bool urgent)
{
	struct virtio_vsock *v = d->priv;
	struct virtq_chain ch;
	bool used = false;
	int rc = 0;

	if (!virtio_vsock_live(d))
		return -EPIPE;
	if (flush_pending(d, &used))
		return -EPIPE;
	if (p->len == 0) {
		if (!v->pend_count) {
			rc = rx_buffer(d, &ch);
			if (rc == 1) {
				rc = rx_write(d, &ch, h, p, 0);
				used = rc == 0;
				goto out;
			}
			if (rc < 0)
				return rc;
		}
		if (!virtio_vsock_room(d, urgent)) {
			rc = -EAGAIN;
			goto out;
		}
		v->pend[(v->pend_head + v->pend_count) % VSOCK_PENDING] = *h;
		v->pend[(v->pend_head + v->pend_count) % VSOCK_PENDING].len = 0;
		v->pend_count++;
		rc = 0;
		goto out;
	}
	/* Data: never ahead of control packets still waiting for the same guest. */
	rc = v->pend_count ? -EAGAIN : 0;
	while (rc == 0 && p->done < p->len) {
		rc = rx_buffer(d, &ch);
		if (rc == 0) {
			rc = -EAGAIN;
			break;
		}
		if (rc < 0)
			return rc;
		rc = rx_write(d, &ch, h, p,
			      (uint32_t)MIN((uint64_t)(p->len - p->done), ch.write_len - VSOCK_HDR_SIZE));
		if (rc)
			return rc;
		used = true;
	}
out:
	if (used)
		virtio_dev_used(d, RXQ);
	return rc;
}

bool virtio_vsock_held(const struct virtio_dev *d)
{
	const struct virtio_vsock *v = d->priv;

	return v->held;
}

int virtio_vsock_drop_held(struct virtio_dev *d)
{
	struct virtio_vsock *v = d->priv;

	if (!v->held)
		return 0;
	v->held = false;
	if (virtq_push(&d->vq[TXQ], d->env, v->held_chain.head, 0)) {
		virtio_dev_fail(d, TXQ, "used ring outside guest RAM");
		return -EPIPE;
	}
	virtio_dev_used(d, TXQ);
	return 0;
}

/* Checks a TX header (read once, private) against the chain it came in: NULL or why not. */
static const char *check_tx(const struct virtio_vsock *v, const struct virtq_chain *ch,
			    const struct vsock_hdr *h, char *why, size_t n)
{
	if (h->src_cid != v->cid) {
		snprintf(why, n, "tx packet from cid %llu, the device's is %llu",
			 (unsigned long long)h->src_cid, (unsigned long long)v->cid);
		return why;
	}
	if (h->len > VSOCK_MAX_PAYLOAD || h->len != ch->read_len - VSOCK_HDR_SIZE) {
		snprintf(why, n, "tx packet len %u, its buffer carries %llu bytes (at most %u)", h->len,
			 (unsigned long long)(ch->read_len - VSOCK_HDR_SIZE), VSOCK_MAX_PAYLOAD);
		return why;
	}
	if (h->type != VSOCK_TYPE_STREAM) {
		snprintf(why, n, "tx packet type %u is not STREAM", h->type);
		return why;
	}
	if (h->op < VSOCK_OP_REQUEST || h->op > VSOCK_OP_CREDIT_REQUEST) {
		snprintf(why, n, "tx packet op %u unknown", h->op);
		return why;
	}
	if (h->op != VSOCK_OP_RW && h->len) {
		snprintf(why, n, "tx packet op %u carries %u bytes", h->op, h->len);
		return why;
	}
	if (h->op == VSOCK_OP_SHUTDOWN && (!h->flags || h->flags & ~VSOCK_SHUTDOWN_BOTH)) {
		snprintf(why, n, "tx SHUTDOWN flags %#x", h->flags);
		return why;
	}
	return NULL;
}

/* The held packet again: true when it is done with, false when it still waits. */
static bool retry_held(struct virtio_dev *d)
{
	struct virtio_vsock *v = d->priv;

	if (v->be->send(v->be_ctx, &v->held_hdr, &v->held_p) == -EAGAIN)
		return false;
	v->held = false;
	if (d->status & VIRTIO_STATUS_NEEDS_RESET)
		return false;
	if (virtq_push(&d->vq[TXQ], d->env, v->held_chain.head, 0)) {
		fail(d, TXQ, "used ring outside guest RAM");
		return false;
	}
	virtio_dev_used(d, TXQ);
	return true;
}

/* Transmit: packets in order, each checked then handed to the backend; bounded per call. */
static bool serve_tx(struct virtio_dev *d)
{
	struct virtio_vsock *v = d->priv;
	struct virtq *q = &d->vq[TXQ];
	struct virtq_chain ch;
	struct vsock_hdr h;
	char err[112];
	uint64_t bytes = 0;
	unsigned chains = 0;
	int rc;

	if (v->held && !retry_held(d))
		return false;   /* the backend wakes this queue when the receiver can take more */
	while (chains < VIRTIO_BUDGET_CHAINS && bytes < VIRTIO_BUDGET_BYTES) {
		struct vsock_payload p = { .ch = &ch, .env = d->env };

		rc = virtq_pop(q, d->env, &ch, err, sizeof(err));
		if (rc < 0) {
			fail(d, TXQ, err);
			return false;
		}
		if (rc == 0)
			break;
		if (ch.nread != ch.nseg || ch.read_len < VSOCK_HDR_SIZE) {
			fail(d, TXQ, ch.nread != ch.nseg ? "tx packet has writable segments"
							 : "tx packet shorter than its header");
			return false;
		}
		if (virtq_chain_read(&ch, d->env, 0, &h, sizeof(h))) {
			fail(d, TXQ, "tx packet left guest RAM");
			return false;
		}
		if (check_tx(v, &ch, &h, err, sizeof(err))) {
			fail(d, TXQ, err);
			return false;
		}
		p.len = h.len;
		chains++;
		bytes += h.len;
		if (v->be->send(v->be_ctx, &h, &p) == -EAGAIN) {
			v->held = true;
			v->held_hdr = h;
			v->held_chain = ch;
			v->held_p = p;
			v->held_p.ch = &v->held_chain;
			break;
		}
		if (d->status & VIRTIO_STATUS_NEEDS_RESET)
			return false;   /* an answer to it found this device's own RX ring broken */
		if (virtq_push(q, d->env, ch.head, 0)) {
			fail(d, TXQ, "used ring outside guest RAM");
			return false;
		}
	}
	if (chains)
		virtio_dev_used(d, TXQ);
	return !v->held && (chains == VIRTIO_BUDGET_CHAINS || bytes >= VIRTIO_BUDGET_BYTES);
}

static bool notify(struct virtio_dev *d, unsigned qi)
{
	struct virtio_vsock *v = d->priv;
	bool used = false;

	if (!v->be)
		return false;   /* not attached to a router: nothing to send to */
	if (qi == TXQ)
		return serve_tx(d);
	if (qi == RXQ) {
		if (flush_pending(d, &used)) {
			fail(d, RXQ, "receive queue broken");
			return false;
		}
		if (used)
			virtio_dev_used(d, RXQ);
		if (!v->pend_count && v->be->rx_ready)
			v->be->rx_ready(v->be_ctx);
	}
	return false;   /* the event queue's buffers stay posted: no events are sent */
}

static void reset(struct virtio_dev *d)
{
	struct virtio_vsock *v = d->priv;

	forget(v);
	if (v->be && v->be->reset)
		v->be->reset(v->be_ctx);
}

const struct virtio_dev_ops virtio_vsock_ops = {
	.device_id = VIRTIO_ID_VSOCK,
	.features = 0,
	.nr_queues = 3,
	.queue_max = VSOCK_QUEUE_MAX,
	.config_size = CFG_SIZE,
	.config_read = config_read,
	.config_write = config_write,
	.notify = notify,
	.reset = reset,
};
