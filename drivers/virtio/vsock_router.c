/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vsock_router.c: pvhv's vsock switch: streams between domains' vsock
 * devices and pvhv's local services, by CID, under an allow policy, with
 * the stream state and credit of every connection checked (virtio 1.2,
 * 5.10.6).  Anything that belongs to no allowed, existing stream in the
 * right state is answered with a reset and never forwarded.
 */
#include "drivers/virtio/vsock.h"
#include "pvhv/vsock.h"

#define LOCAL 0   /* endpoint slot of the host CID */
#define NONE (-1)

static const struct vsock_backend router_backend;

/* ------------------------------------------------------------ the table */

static uint64_t mix(uint64_t x)
{
	x ^= x >> 31;
	x *= 0x7fb5d329728ea185ull;
	x ^= x >> 27;
	x *= 0x81dadef4bc2dd44dull;
	return x ^ (x >> 33);
}

/*
 * The bucket of a stream, the same from both ends (the lower end first),
 * keyed with the owner's secret so a guest cannot choose ports that pile
 * its streams into one chain that others' lookups must walk.
 */
static unsigned hash(const struct vsock_router *r, uint64_t c0, uint32_t p0, uint64_t c1, uint32_t p1)
{
	uint64_t x;

	if (c0 > c1 || (c0 == c1 && p0 > p1)) {
		uint64_t tc = c0;
		uint32_t tp = p0;

		c0 = c1, p0 = p1, c1 = tc, p1 = tp;
	}
	x = mix(r->hash_key ^ c0);
	x = mix(x ^ ((uint64_t)p0 << 32 | p1));
	x = mix(x ^ c1);
	return (unsigned)(x % VSOCK_ROUTER_HASH);
}

static uint32_t handle_of(const struct vsock_router *r, const struct vsock_conn *c)
{
	return (uint32_t)c->gen << 16 | (uint32_t)(c - r->conn + 1);
}

const struct vsock_conn *vsock_router_conn(const struct vsock_router *r, uint32_t handle)
{
	uint32_t i = (handle & 0xffff) - 1;

	if (i >= VSOCK_ROUTER_MAX_CONNS || r->conn[i].state == VSOCK_FREE ||
	    r->conn[i].gen != handle >> 16)
		return NULL;
	return &r->conn[i];
}

/* The stream (src, dst) belongs to, and which side src is. */
static struct vsock_conn *lookup(struct vsock_router *r, const struct vsock_hdr *h, int *side)
{
	for (int i = r->bucket[hash(r, h->src_cid, h->src_port, h->dst_cid, h->dst_port)]; i >= 0;
	     i = r->conn[i].next) {
		struct vsock_conn *c = &r->conn[i];

		for (int s = 0; s < 2; s++) {
			if (c->cid[s] == h->src_cid && c->port[s] == h->src_port &&
			    c->cid[!s] == h->dst_cid && c->port[!s] == h->dst_port) {
				*side = s;
				return c;
			}
		}
	}
	return NULL;
}

static bool quota_left(const struct vsock_router *r, unsigned a, unsigned b)
{
	return r->nconns < VSOCK_ROUTER_MAX_CONNS && r->ep[a].nconns < r->ep[a].max_conns &&
	       r->ep[b].nconns < r->ep[b].max_conns;
}

/* A new stream from h's source (endpoint a) to its destination (b); quota_left() checked. */
static struct vsock_conn *conn_new(struct vsock_router *r, unsigned a, unsigned b,
				   const struct vsock_hdr *h)
{
	struct vsock_conn *c = &r->conn[r->free_head];
	unsigned bk = hash(r, h->src_cid, h->src_port, h->dst_cid, h->dst_port);
	uint16_t gen = c->gen;

	r->free_head = c->next;
	*c = (struct vsock_conn){
		.cid = { h->src_cid, h->dst_cid }, .port = { h->src_port, h->dst_port },
		.buf_alloc = { h->buf_alloc, 0 }, .fwd_cnt = { h->fwd_cnt, 0 },
		.ep = { (uint16_t)a, (uint16_t)b }, .gen = gen, .next = r->bucket[bk],
		.state = VSOCK_REQUESTED, .born = r->born++,
	};
	r->bucket[bk] = (int16_t)(c - r->conn);
	r->nconns++;
	r->ep[a].nconns++;
	r->ep[b].nconns++;
	return c;
}

static void wake(struct vsock_router *r, unsigned i)
{
	struct vsock_ep *e = &r->ep[i];

	if (e->blocked_on == NONE)
		return;
	e->blocked_on = NONE;
	if (e->dev) {
		r->wake(r->ctx, e->dev);
		return;
	}
	for (unsigned k = 0; k < VSOCK_ROUTER_MAX_SERVICES; k++)
		if (r->svc[k] && r->svc[k]->wake)
			r->svc[k]->wake(r->svc[k]->ctx);
}

/* Every endpoint waiting for t's receive queue may try again. */
static void wake_waiting_for(struct vsock_router *r, unsigned t)
{
	for (unsigned i = 0; i < r->eps_used; i++)
		if (r->ep[i].blocked_on == (int)t)
			wake(r, i);
}

static void conn_free(struct vsock_router *r, struct vsock_conn *c)
{
	int idx = (int)(c - r->conn);
	int16_t *pp = &r->bucket[hash(r, c->cid[0], c->port[0], c->cid[1], c->port[1])];

	while (*pp != idx)
		pp = &r->conn[*pp].next;
	*pp = c->next;
	r->nconns--;
	r->ep[c->ep[0]].nconns--;
	r->ep[c->ep[1]].nconns--;
	/* A sender holding a packet for this stream drops it on its retry. */
	wake(r, c->ep[0]);
	wake(r, c->ep[1]);
	c->state = VSOCK_FREE;
	c->gen++;
	c->next = r->free_head;
	r->free_head = (int16_t)idx;
}

static const struct vsock_service *service(const struct vsock_router *r, uint32_t port)
{
	for (unsigned k = 0; k < VSOCK_ROUTER_MAX_SERVICES; k++)
		if (r->svc[k] && r->svc[k]->port == port)
			return r->svc[k];
	return NULL;
}

static int find_ep(const struct vsock_router *r, uint64_t cid)
{
	for (unsigned i = 0; i < r->eps_used; i++)
		if ((i == LOCAL || r->ep[i].dev) && r->ep[i].cid == cid)
			return (int)i;
	return NONE;
}

/* ------------------------------------------------------------ delivery */

PRINTF_LIKE(2, 3)
static void say(struct vsock_router *r, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (!r->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->log(r->ctx, msg);
}

/*
 * One packet to guest endpoint i (see virtio_vsock_deliver).  A device that
 * fails in the attempt is marked dead: its streams are dropped by settle(),
 * once the caller is done with its own stream pointers.
 */
static int put(struct vsock_router *r, unsigned i, const struct vsock_hdr *h,
	       struct vsock_payload *p, bool urgent)
{
	struct virtio_dev *d = r->ep[i].dev;
	bool was_live = virtio_vsock_live(d);
	int rc = virtio_vsock_deliver(d, h, p, urgent);

	if (rc == -EPIPE && was_live && (d->status & VIRTIO_STATUS_NEEDS_RESET)) {
		r->ep[i].dead = true;
		r->dirty = true;
	}
	return rc;
}

/* A header from side `from` of c, no payload. */
static struct vsock_hdr conn_hdr(const struct vsock_conn *c, int from, uint16_t op, uint32_t flags)
{
	return (struct vsock_hdr){
		.src_cid = c->cid[from], .dst_cid = c->cid[!from],
		.src_port = c->port[from], .dst_port = c->port[!from],
		.type = VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = c->buf_alloc[from], .fwd_cnt = c->fwd_cnt[from],
	};
}

/* Tells guest side s of c (not the local side: see conn_end()) that the stream is gone. */
static void tell_reset(struct vsock_router *r, const struct vsock_conn *c, int s)
{
	struct vsock_hdr rst = conn_hdr(c, !s, VSOCK_OP_RST, 0);
	struct vsock_payload none = { 0 };

	if (c->ep[s] == LOCAL)
		return;
	if (put(r, c->ep[s], &rst, &none, true) == -EAGAIN)
		say(r, "vsock: RST to cid %llu port %u lost: %u packets wait already",
		    (unsigned long long)c->cid[s], c->port[s], VSOCK_PENDING);
}

/*
 * Frees c, then tells a local service at its end that the handle is dead
 * (after the free: the callback may call vsock_local_* on other streams).
 */
static void conn_end(struct vsock_router *r, struct vsock_conn *c)
{
	const struct vsock_service *svc = NULL;
	uint32_t handle = handle_of(r, c);

	if (c->ep[1] == LOCAL && c->state != VSOCK_REQUESTED)
		svc = service(r, c->port[1]);
	conn_free(r, c);
	if (svc && svc->closed)
		svc->closed(svc->ctx, handle);
}

/* The stream ends badly: both sides told, the entry freed. */
static void reset_conn(struct vsock_router *r, struct vsock_conn *c)
{
	tell_reset(r, c, 0);
	tell_reset(r, c, 1);
	conn_end(r, c);
}

/* Every stream of endpoint i ends: the other sides are told. */
static void drop_conns(struct vsock_router *r, unsigned i)
{
	for (unsigned k = 0; k < VSOCK_ROUTER_MAX_CONNS && r->ep[i].nconns; k++) {
		struct vsock_conn *c = &r->conn[k];

		if (c->state == VSOCK_FREE || (c->ep[0] != i && c->ep[1] != i))
			continue;
		tell_reset(r, c, c->ep[0] == i ? 1 : 0);
		conn_end(r, c);
	}
	r->ep[i].blocked_on = NONE;
	wake_waiting_for(r, i);
}

/* Drops the streams of devices that failed while packets were delivered to them. */
static void settle(struct vsock_router *r)
{
	while (r->dirty) {
		r->dirty = false;
		for (unsigned i = 0; i < r->eps_used; i++) {
			if (r->ep[i].dead) {
				r->ep[i].dead = false;
				drop_conns(r, i);
			}
		}
	}
}

/*
 * Answers a packet from guest endpoint a with RST (never an RST with an
 * RST).  -EAGAIN when a has no room for it (a then waits for its own
 * receive queue), else 0: delivered, or a cannot receive at all.
 */
static int reply_rst(struct vsock_router *r, unsigned a, const struct vsock_hdr *h)
{
	struct vsock_hdr rst = {
		.src_cid = h->dst_cid, .dst_cid = h->src_cid, .src_port = h->dst_port,
		.dst_port = h->src_port, .type = VSOCK_TYPE_STREAM, .op = VSOCK_OP_RST,
	};
	struct vsock_payload none = { 0 };

	if (h->op == VSOCK_OP_RST)
		return 0;
	if (put(r, a, &rst, &none, true) == -EAGAIN) {
		r->ep[a].blocked_on = (int)a;
		return -EAGAIN;
	}
	return 0;
}

/* Room for one reply to guest endpoint a (or it cannot receive at all: the reply would be dropped). */
static bool reply_room(struct vsock_router *r, unsigned a)
{
	if (virtio_vsock_room(r->ep[a].dev, true) || !virtio_vsock_live(r->ep[a].dev))
		return true;
	r->ep[a].blocked_on = (int)a;
	return false;
}

/* ------------------------------------------------------------ packets from guests */

/* Makes room in a's full quota by resetting the oldest stream a asked for that was never answered. */
static void evict_half_open(struct vsock_router *r, unsigned a)
{
	struct vsock_conn *old = NULL;

	if (r->ep[a].nconns < r->ep[a].max_conns)
		return;
	for (unsigned k = 0; k < VSOCK_ROUTER_MAX_CONNS; k++) {
		struct vsock_conn *c = &r->conn[k];

		if (c->state == VSOCK_REQUESTED && c->ep[0] == a &&
		    (!old || (int32_t)(c->born - old->born) < 0))
			old = c;
	}
	if (!old)
		return;
	say(r, "vsock: cid %llu: quota of %u streams full: its oldest unanswered one (port %u -> cid %llu port %u) is reset",
	    (unsigned long long)old->cid[0], r->ep[a].max_conns, old->port[0],
	    (unsigned long long)old->cid[1], old->port[1]);
	reset_conn(r, old);
}

/* A REQUEST from guest endpoint a with no stream yet. */
static int request(struct vsock_router *r, unsigned a, const struct vsock_hdr *h)
{
	struct vsock_payload none = { 0 };
	const struct vsock_service *svc = NULL;
	int b = find_ep(r, h->dst_cid);
	struct vsock_hdr resp;
	struct vsock_conn *c;
	uint32_t handle;
	int rc;

	if (b == LOCAL)
		svc = service(r, h->dst_port);
	if (b == NONE || b == (int)a || (b == LOCAL && !svc) ||
	    !r->allow(r->ctx, h->src_cid, h->dst_cid, h->dst_port))
		return reply_rst(r, a, h);
	evict_half_open(r, a);
	if (!quota_left(r, a, (unsigned)b))
		return reply_rst(r, a, h);
	if (svc) {
		if (!reply_room(r, a))
			return -EAGAIN;
		c = conn_new(r, a, LOCAL, h);
		c->buf_alloc[1] = svc->buf_alloc;
		handle = handle_of(r, c);
		rc = svc->accept(svc->ctx, handle, h->src_cid, h->src_port);
		if (!vsock_router_conn(r, handle))
			return 0;   /* accept broke its contract and closed it: nothing more to do */
		if (rc < 0) {
			conn_free(r, c);
			return reply_rst(r, a, h);
		}
		c->state = VSOCK_ESTABLISHED;
		resp = conn_hdr(c, 1, VSOCK_OP_RESPONSE, 0);

		put(r, a, &resp, &none, true);
		return 0;
	}
	rc = put(r, (unsigned)b, h, &none, false);
	if (rc == -EAGAIN) {
		r->ep[a].blocked_on = b;
		return -EAGAIN;
	}
	if (rc == -EPIPE)
		return reply_rst(r, a, h);
	conn_new(r, a, (unsigned)b, h);
	return 0;
}

/*
 * Checks a packet from side s of its stream c against the stream's state
 * and credit: NULL when it may pass, else the rule it broke.
 */
static const char *check(const struct vsock_conn *c, int s, const struct vsock_hdr *h)
{
	int o = !s;
	uint32_t in_flight;

	/* fwd_cnt moves forward only, and never past what the other side sent. */
	if ((uint32_t)(h->fwd_cnt - c->fwd_cnt[s]) > (uint32_t)(c->tx_cnt[o] - c->fwd_cnt[s]))
		return "fwd_cnt beyond the bytes received";
	switch (h->op) {
	case VSOCK_OP_REQUEST:
		return "REQUEST on a live stream";
	case VSOCK_OP_RESPONSE:
		return c->state == VSOCK_REQUESTED && s == 1 ? NULL : "RESPONSE out of place";
	default:
		break;
	}
	if (c->state != VSOCK_ESTABLISHED)
		return "packet before RESPONSE or after both SHUTDOWNs";
	if (h->op != VSOCK_OP_RW)
		return NULL;
	if (c->shut[s] & VSOCK_SHUTDOWN_SEND)
		return "data after SHUTDOWN(SEND)";
	in_flight = c->tx_cnt[s] - c->fwd_cnt[o];
	if (in_flight > c->buf_alloc[o] || h->len > c->buf_alloc[o] - in_flight)
		return "data beyond the receiver's credit";
	return NULL;
}

/* Payload for a local service, handed over in pieces. */
static void local_recv(struct vsock_router *r, const struct vsock_service *svc,
		       const struct vsock_conn *c, struct vsock_payload *p)
{
	uint8_t buf[512];
	uint32_t handle = handle_of(r, c);

	/* The service may close the stream from inside recv: the rest is then dropped. */
	while (p->done < p->len && vsock_router_conn(r, handle)) {
		uint32_t n = MIN(p->len - p->done, (uint32_t)sizeof(buf));

		if (vsock_payload_read(p, p->done, buf, n))
			memset(buf, 0, n);   /* see rx_write() in vsock.c */
		p->done += n;
		svc->recv(svc->ctx, handle, buf, n);
	}
}

/* A packet from guest side s to the local service at the other end of c (check() passed). */
static int to_local(struct vsock_router *r, unsigned a, struct vsock_conn *c, int s,
		    const struct vsock_hdr *h, struct vsock_payload *p)
{
	const struct vsock_service *svc = service(r, c->port[!s]);
	struct vsock_payload none = { 0 };
	struct vsock_hdr out;

	if ((h->op == VSOCK_OP_CREDIT_REQUEST || h->op == VSOCK_OP_SHUTDOWN) && !reply_room(r, a))
		return -EAGAIN;
	c->buf_alloc[s] = h->buf_alloc;
	c->fwd_cnt[s] = h->fwd_cnt;
	switch (h->op) {
	case VSOCK_OP_RW:
		c->tx_cnt[s] += h->len;
		local_recv(r, svc, c, p);
		break;
	case VSOCK_OP_CREDIT_UPDATE:
		if (svc->wake)
			svc->wake(svc->ctx);
		break;
	case VSOCK_OP_CREDIT_REQUEST:
		out = conn_hdr(c, !s, VSOCK_OP_CREDIT_UPDATE, 0);
		put(r, a, &out, &none, true);
		break;
	case VSOCK_OP_SHUTDOWN:
		c->shut[s] |= (uint8_t)h->flags;
		if (c->shut[s] == VSOCK_SHUTDOWN_BOTH && c->shut[!s] == VSOCK_SHUTDOWN_BOTH) {
			/* Both ends are done: the service's side resets, as Linux's would. */
			out = conn_hdr(c, !s, VSOCK_OP_RST, 0);
			put(r, a, &out, &none, true);
			conn_end(r, c);
		} else if (svc->peer_shutdown) {
			svc->peer_shutdown(svc->ctx, handle_of(r, c), h->flags);
		}
		break;
	}
	return 0;
}

/* A packet from guest side s to the guest at the other end of c (check() passed). */
static int to_guest(struct vsock_router *r, unsigned a, struct vsock_conn *c, int s,
		    const struct vsock_hdr *h, struct vsock_payload *p)
{
	unsigned b = c->ep[!s];
	int rc;

	if (h->op == VSOCK_OP_RW) {
		/* Accepted once: credit taken now, the payload may go in pieces. */
		c->buf_alloc[s] = h->buf_alloc;
		c->fwd_cnt[s] = h->fwd_cnt;
		c->tx_cnt[s] += h->len;
		p->cookie = handle_of(r, c);
		rc = put(r, b, h, p, false);
	} else {
		rc = put(r, b, h, p, false);
		if (rc)
			goto out;
		c->buf_alloc[s] = h->buf_alloc;
		c->fwd_cnt[s] = h->fwd_cnt;
		if (h->op == VSOCK_OP_RESPONSE)
			c->state = VSOCK_ESTABLISHED;
		if (h->op == VSOCK_OP_SHUTDOWN) {
			c->shut[s] |= (uint8_t)h->flags;
			if (c->shut[s] == VSOCK_SHUTDOWN_BOTH && c->shut[!s] == VSOCK_SHUTDOWN_BOTH)
				c->state = VSOCK_CLOSING;   /* an RST from either side ends it */
		}
	}
out:
	if (rc == -EAGAIN) {
		r->ep[a].blocked_on = (int)b;
		return -EAGAIN;
	}
	return 0;   /* -EPIPE: b failed; settle() drops its streams, this one included */
}

/* The rest of an RW packet that went out in part. */
static int continue_rw(struct vsock_router *r, unsigned a, const struct vsock_hdr *h,
		       struct vsock_payload *p)
{
	const struct vsock_conn *c = vsock_router_conn(r, p->cookie);
	int s;

	if (!c || c->state != VSOCK_ESTABLISHED || lookup(r, h, &s) != c)
		return 0;   /* the stream is gone: the rest is dropped */
	if (put(r, c->ep[!s], h, p, false) == -EAGAIN) {
		r->ep[a].blocked_on = c->ep[!s];
		return -EAGAIN;
	}
	return 0;
}

static int route(struct vsock_router *r, unsigned a, const struct vsock_hdr *h,
		 struct vsock_payload *p)
{
	struct vsock_conn *c;
	const char *why;
	int s;

	if (p->cookie)
		return continue_rw(r, a, h, p);
	c = lookup(r, h, &s);
	if (!c)
		return h->op == VSOCK_OP_REQUEST ? request(r, a, h) : reply_rst(r, a, h);
	if (h->op == VSOCK_OP_RST) {
		tell_reset(r, c, !s);
		conn_end(r, c);
		return 0;
	}
	why = check(c, s, h);
	if (why) {
		say(r, "vsock: cid %llu port %u -> cid %llu port %u: %s: stream reset",
		     (unsigned long long)h->src_cid, h->src_port, (unsigned long long)h->dst_cid,
		     h->dst_port, why);
		reset_conn(r, c);
		return 0;
	}
	if (c->ep[!s] == LOCAL)
		return to_local(r, a, c, s, h, p);
	return to_guest(r, a, c, s, h, p);
}

/* ------------------------------------------------------------ the backend of every device */

static int be_send(void *ctx, const struct vsock_hdr *h, struct vsock_payload *p)
{
	struct vsock_ep *e = ctx;
	struct vsock_router *r = e->r;
	int rc = route(r, (unsigned)(e - r->ep), h, p);

	settle(r);
	return rc;
}

static void be_rx_ready(void *ctx)
{
	struct vsock_ep *e = ctx;

	wake_waiting_for(e->r, (unsigned)(e - e->r->ep));
}

static void be_reset(void *ctx)
{
	struct vsock_ep *e = ctx;

	drop_conns(e->r, (unsigned)(e - e->r->ep));
	settle(e->r);
}

static const struct vsock_backend router_backend = {
	.send = be_send,
	.rx_ready = be_rx_ready,
	.reset = be_reset,
};

/* ------------------------------------------------------------ set-up */

void vsock_router_init(struct vsock_router *r)
{
	memset(r->ep, 0, r->max_eps * sizeof(*r->ep));
	memset(r->svc, 0, sizeof(r->svc));
	memset(r->conn, 0, sizeof(r->conn));
	for (unsigned i = 0; i < VSOCK_ROUTER_HASH; i++)
		r->bucket[i] = NONE;
	for (unsigned i = 0; i < VSOCK_ROUTER_MAX_CONNS; i++)
		r->conn[i].next = i + 1 < VSOCK_ROUTER_MAX_CONNS ? (int16_t)(i + 1) : NONE;
	for (unsigned i = 0; i < r->max_eps; i++) {
		r->ep[i].r = r;
		r->ep[i].blocked_on = NONE;
	}
	r->eps_used = 1;   /* LOCAL */
	r->ep[LOCAL].cid = PVHV_VSOCK_CID_HOST;
	r->ep[LOCAL].max_conns = VSOCK_ROUTER_MAX_CONNS;
	r->free_head = 0;
	r->nconns = 0;
	r->dirty = false;
}

int vsock_router_attach(struct vsock_router *r, struct virtio_dev *dev, unsigned max_conns)
{
	struct virtio_vsock *v = dev->priv;

	if (v->cid < PVHV_VSOCK_CID_MIN || v->cid >= 0xffffffffull)
		return -EINVAL;
	if (find_ep(r, v->cid) != NONE)
		return -EEXIST;
	for (unsigned i = 1; i < r->max_eps; i++) {
		struct vsock_ep *e = &r->ep[i];

		if (e->dev)
			continue;
		*e = (struct vsock_ep){ .r = r, .dev = dev, .cid = v->cid, .blocked_on = NONE,
					.max_conns = max_conns ? max_conns : VSOCK_CONNS_PER_DOMAIN };
		r->eps_used = MAX(r->eps_used, i + 1);
		v->be = &router_backend;
		v->be_ctx = e;
		return 0;
	}
	return -ENOSPC;
}

void vsock_router_detach(struct vsock_router *r, struct virtio_dev *dev)
{
	struct virtio_vsock *v = dev->priv;

	for (unsigned i = 1; i < r->eps_used; i++) {
		if (r->ep[i].dev != dev)
			continue;
		drop_conns(r, i);
		settle(r);
		r->ep[i] = (struct vsock_ep){ .r = r, .blocked_on = NONE };
		v->be = NULL;
		v->be_ctx = NULL;
		return;
	}
}

void vsock_router_unstall(struct vsock_router *r, struct virtio_dev *dev)
{
	struct virtio_vsock *v = dev->priv;
	struct vsock_conn *c;
	struct vsock_hdr h;
	unsigned i;
	int s;

	for (i = 1; i < r->eps_used && r->ep[i].dev != dev; i++)
		;
	if (i == r->eps_used || !virtio_vsock_held(dev))
		return;
	h = v->held_hdr;
	say(r, "vsock: cid %llu port %u -> cid %llu port %u: no room at the receiver for too long: stream reset",
	    (unsigned long long)h.src_cid, h.src_port, (unsigned long long)h.dst_cid, h.dst_port);
	r->ep[i].blocked_on = NONE;   /* woken once, below */
	c = lookup(r, &h, &s);
	if (c)
		reset_conn(r, c);
	else
		reply_rst(r, i, &h);
	r->ep[i].blocked_on = NONE;
	if (virtio_vsock_drop_held(dev)) {
		r->ep[i].dead = true;
		r->dirty = true;
	}
	settle(r);
	r->wake(r->ctx, dev);
}

int vsock_router_listen(struct vsock_router *r, const struct vsock_service *svc)
{
	if (!svc->port || !svc->buf_alloc || !svc->accept || !svc->recv)
		return -EINVAL;
	if (service(r, svc->port))
		return -EEXIST;
	for (unsigned k = 0; k < VSOCK_ROUTER_MAX_SERVICES; k++) {
		if (!r->svc[k]) {
			r->svc[k] = svc;
			return 0;
		}
	}
	return -ENOSPC;
}

/* ------------------------------------------------------------ the local services' side */

/* The service's stream behind handle (the service is side 1), or NULL. */
static struct vsock_conn *local_conn(struct vsock_router *r, uint32_t handle)
{
	struct vsock_conn *c = (struct vsock_conn *)vsock_router_conn(r, handle);

	return c && c->ep[1] == LOCAL ? c : NULL;
}

int vsock_local_send(struct vsock_router *r, uint32_t handle, const void *data, size_t n)
{
	struct vsock_conn *c = local_conn(r, handle);
	struct vsock_payload p = { .buf = data };
	struct vsock_hdr h;
	uint32_t in_flight, credit;
	unsigned g;
	int rc;

	if (!c)
		return -ENOENT;
	if (c->state != VSOCK_ESTABLISHED || (c->shut[1] & VSOCK_SHUTDOWN_SEND) ||
	    (c->shut[0] & VSOCK_SHUTDOWN_RCV))
		return -EPIPE;
	in_flight = c->tx_cnt[1] - c->fwd_cnt[0];
	credit = in_flight > c->buf_alloc[0] ? 0 : c->buf_alloc[0] - in_flight;
	p.len = (uint32_t)MIN((uint64_t)n, (uint64_t)MIN(credit, VSOCK_MAX_PAYLOAD));
	if (!p.len)
		return 0;   /* the guest's CREDIT_UPDATE wakes the service */
	g = c->ep[0];
	h = conn_hdr(c, 1, VSOCK_OP_RW, 0);
	rc = put(r, g, &h, &p, false);
	c->tx_cnt[1] += p.done;
	if (rc == -EAGAIN)
		r->ep[LOCAL].blocked_on = (int)g;
	settle(r);
	if (rc == -EPIPE && !p.done)
		return -EPIPE;
	return (int)p.done;
}

int vsock_local_consumed(struct vsock_router *r, uint32_t handle, uint32_t n)
{
	struct vsock_conn *c = local_conn(r, handle);
	struct vsock_payload none = { 0 };
	struct vsock_hdr h;

	if (!c)
		return -ENOENT;
	if (n > c->tx_cnt[0] - c->fwd_cnt[1])
		return -EINVAL;
	if (!virtio_vsock_room(r->ep[c->ep[0]].dev, true) && virtio_vsock_live(r->ep[c->ep[0]].dev)) {
		r->ep[LOCAL].blocked_on = c->ep[0];
		return -EAGAIN;
	}
	c->fwd_cnt[1] += n;
	h = conn_hdr(c, 1, VSOCK_OP_CREDIT_UPDATE, 0);
	put(r, c->ep[0], &h, &none, true);   /* room was checked: delivered, or the guest is gone */
	settle(r);
	return 0;
}

int vsock_local_close(struct vsock_router *r, uint32_t handle, bool reset)
{
	struct vsock_conn *c = local_conn(r, handle);
	struct vsock_payload none = { 0 };
	struct vsock_hdr h;

	if (!c)
		return -ENOENT;
	if (reset || c->shut[0] == VSOCK_SHUTDOWN_BOTH || c->state != VSOCK_ESTABLISHED) {
		h = conn_hdr(c, 1, VSOCK_OP_RST, 0);
		if (put(r, c->ep[0], &h, &none, true) == -EAGAIN)
			say(r, "vsock: RST to cid %llu port %u lost: %u packets wait already",
			     (unsigned long long)c->cid[0], c->port[0], VSOCK_PENDING);
		conn_free(r, c);
	} else {
		h = conn_hdr(c, 1, VSOCK_OP_SHUTDOWN, VSOCK_SHUTDOWN_BOTH);
		c->shut[1] = VSOCK_SHUTDOWN_BOTH;
		put(r, c->ep[0], &h, &none, true);
	}
	settle(r);
	return 0;
}
