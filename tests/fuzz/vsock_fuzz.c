/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vsock_fuzz.c: libFuzzer target: three hostile guests, each with a
 * virtio-vsock device on pvhv's router, plus a local service at the host
 * CID.  The input is a sequence of steps -- TX packets with any header,
 * receive buffers of any size, device resets, domains ending, the service
 * sending and consuming, stall timers firing, stray writes into the rings.
 *
 * Beyond ASan/UBSan it checks: each device touches only its own guest's
 * RAM; the router's table stays consistent (hash chains, free list,
 * per-domain counts within quota); a guest receives only well-formed
 * packets addressed to it, and nothing but RST from a CID the policy does
 * not pair it with; the local service is never sent more than the credit
 * it advertised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base.h"
#include "drivers/virtio/vsock.h"
#include "pvhv/vsock.h"

#define NG 3u
#define SLICE 0x10000u        /* each guest's RAM, its own GPA space [0, SLICE) */
#define QS 16u
#define RX_DESC 0x0000u
#define RX_AVAIL 0x0100u
#define RX_USED 0x0200u
#define TX_DESC 0x0400u
#define TX_AVAIL 0x0500u
#define TX_USED 0x0600u
#define RXBUF 0x1000u         /* 16 buffers of up to 2 KiB */
#define RXBUF_MAX 0x800u
#define TXBUF 0x9000u         /* packets up to 4 KiB, two slots */
#define MAX_CONN_QUOTA 8u
#define PAY_MAX 2048u

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                               \
		}                                                                              \
	} while (0)

static uint8_t ram[NG][SLICE];

struct guest {
	struct virtio_dev dev;
	struct virtio_vsock vs;
	struct virtio_env env;
	uint16_t rx_avail, tx_avail, rx_seen;
	uint32_t rx_len[QS];       /* size of the buffer posted at each descriptor */
	bool attached, woken;
	bool scribbled;            /* stray writes hit its rings since it was brought up */
	struct vsock_hdr last;     /* the last packet it received that was not an RST */
	uint32_t rx_bytes;         /* payload it received, for a plausible fwd_cnt */
};

static struct guest gs[NG];
static struct vsock_router r;
#define FUZZ_EPS (NG + 1)   /* the guests and the host CID: the router's array is ours to size */
static struct vsock_ep eps[FUZZ_EPS];
static const uint64_t cids[NG] = { 3, 4, 5 };

static int env_read(void *ctx, gpa_t gpa, void *dst, size_t len)
{
	uint8_t *mem = ctx;

	if (!range_within(gpa, len, 0, SLICE))
		return -EFAULT;
	memcpy(dst, mem + gpa, len);
	return 0;
}

static int env_write(void *ctx, gpa_t gpa, const void *src, size_t len)
{
	uint8_t *mem = ctx;

	if (!range_within(gpa, len, 0, SLICE))
		return -EFAULT;
	memcpy(mem + gpa, src, len);
	return 0;
}

static void env_irq(void *ctx)
{
}

static void env_log(void *ctx, const char *msg)
{
	CHECK(msg[0] != 0 && strlen(msg) < 200);
}

/* 3 <-> 4 freely, 5 -> 3 on port 7 only, only 3 to the management port. */
static bool pair_allowed(uint64_t src, uint64_t dst, uint32_t port)
{
	if (dst == PVHV_VSOCK_CID_HOST)
		return src == 3 && port == PVHV_VSOCK_MGMT_PORT;
	return (src == 3 && dst == 4) || (src == 4 && dst == 3) || (src == 5 && dst == 3 && port == 7);
}

static bool allow(void *ctx, uint64_t src, uint64_t dst, uint32_t port)
{
	return pair_allowed(src, dst, port);
}

static void wake(void *ctx, struct virtio_dev *d)
{
	for (unsigned i = 0; i < NG; i++)
		if (d == &gs[i].dev)
			gs[i].woken = true;
}

static void rlog(void *ctx, const char *msg)
{
	CHECK(msg[0] != 0 && strlen(msg) < 200);
}

/* ------------------------------------------------------------ the local service */

#define SVC_BUF 512u

static struct {
	uint32_t handle[8];
	uint32_t unconsumed[8];
	unsigned n;
	bool refuse;
} svc;

static int slot_of(uint32_t handle)
{
	for (unsigned i = 0; i < svc.n; i++)
		if (svc.handle[i] == handle)
			return (int)i;
	return -1;
}

static int svc_accept(void *ctx, uint32_t conn, uint64_t cid, uint32_t port)
{
	CHECK(cid == 3);
	if (svc.refuse || svc.n == 8)
		return -EPERM;
	svc.handle[svc.n] = conn;
	svc.unconsumed[svc.n++] = 0;
	return 0;
}

static void svc_recv(void *ctx, uint32_t conn, const uint8_t *data, size_t n)
{
	int i = slot_of(conn);

	CHECK(i >= 0);
	svc.unconsumed[i] += (uint32_t)n;
	CHECK(svc.unconsumed[i] <= SVC_BUF);   /* the router held the guest to our credit */
}

static void svc_closed(void *ctx, uint32_t conn)
{
	int i = slot_of(conn);

	CHECK(i >= 0);
	svc.n--;
	svc.handle[i] = svc.handle[svc.n];
	svc.unconsumed[i] = svc.unconsumed[svc.n];
}

static const struct vsock_service service = {
	.port = PVHV_VSOCK_MGMT_PORT, .buf_alloc = SVC_BUF, .accept = svc_accept,
	.recv = svc_recv, .closed = svc_closed,
};

/* ------------------------------------------------------------ input */

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in->n; i++, in->n--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static void bring_up(unsigned i, bool event_idx)
{
	struct guest *g = &gs[i];

	g->dev.vq[0] = (struct virtq){ .size = QS, .ready = true, .desc = RX_DESC, .avail = RX_AVAIL,
				       .used = RX_USED, .event_idx = event_idx };
	g->dev.vq[1] = (struct virtq){ .size = QS, .ready = true, .desc = TX_DESC, .avail = TX_AVAIL,
				       .used = TX_USED, .event_idx = event_idx };
	g->dev.status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;
	g->rx_avail = g->tx_avail = g->rx_seen = 0;
	g->scribbled = false;
	memset(ram[i], 0, TXBUF);
}

static void put16(unsigned i, gpa_t gpa, uint16_t v)
{
	memcpy(ram[i] + gpa, &v, 2);
}

static void set_desc(unsigned i, gpa_t table, unsigned k, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	memcpy(ram[i] + table + 16 * k, &addr, 8);
	memcpy(ram[i] + table + 16 * k + 8, &len, 4);
	put16(i, table + 16 * k + 12, flags);
	put16(i, table + 16 * k + 14, next);
}

/* Writes one TX packet (header, then payload of len bytes when there is some) and kicks. */
static void tx_packet(unsigned i, const struct vsock_hdr *h, uint32_t len)
{
	struct guest *g = &gs[i];
	uint16_t k = (uint16_t)((g->tx_avail * 2u) % QS);
	gpa_t at = TXBUF + (g->tx_avail % 2u) * 0x3000u;

	memcpy(ram[i] + at, h, sizeof(*h));
	memset(ram[i] + at + sizeof(*h), 0xa5, len);
	if (len) {
		set_desc(i, TX_DESC, k, at, sizeof(*h), VIRTQ_DESC_F_NEXT, k + 1);
		set_desc(i, TX_DESC, k + 1, at + sizeof(*h), len, 0, 0);
	} else {
		set_desc(i, TX_DESC, k, at, sizeof(*h), 0, 0);
	}
	put16(i, TX_AVAIL + 4 + 2 * (g->tx_avail % QS), k);
	g->tx_avail++;
	put16(i, TX_AVAIL + 2, g->tx_avail);
	virtio_dev_kick(&g->dev, 1);
}

/*
 * Any packet from guest i: byte i, byte how (bit 0 spoofed src_cid, 1 odd
 * type, 2 len unlike the payload), then in this order: [src_cid], dst
 * choice, src port, [type], op, flags, buf_alloc (2 bytes) and its shift,
 * fwd_cnt (2), [payload length (2) for RW], dst port choice, [len (2)].
 */
static void step_tx(struct input *in)
{
	static const uint64_t dsts[] = { 3, 4, 5, PVHV_VSOCK_CID_HOST, 0, 1, 77 };
	unsigned i = take(in, 1) % NG, how = take(in, 1);
	struct vsock_hdr h = { .src_cid = cids[i], .type = VSOCK_TYPE_STREAM };
	uint32_t len = 0;

	if (how & 1)
		h.src_cid = take(in, 1);
	h.dst_cid = dsts[take(in, 1) % ARRAY_SIZE(dsts)];
	h.src_port = 1000 + (uint32_t)take(in, 1) % 4;
	if (how & 2)
		h.type = (uint16_t)take(in, 1);
	h.op = (uint16_t)(take(in, 1) % 9);
	h.flags = (uint32_t)take(in, 1) % 5;
	h.buf_alloc = (uint32_t)take(in, 2);
	h.buf_alloc <<= take(in, 1) % 6;
	h.fwd_cnt = (uint32_t)take(in, 2);
	if (h.op == VSOCK_OP_RW)
		len = (uint32_t)take(in, 2) % PAY_MAX;
	h.dst_port = take(in, 1) % 9;
	h.dst_port = h.dst_port == 8 ? PVHV_VSOCK_MGMT_PORT : 1000 + h.dst_port;
	h.len = how & 4 ? (uint32_t)take(in, 2) : len;
	tx_packet(i, &h, len);
}

/*
 * Guest i answers the last packet it received, as a driver following the
 * protocol would (mostly): byte i, byte how (bits 0-2 op, 3 SHUTDOWN both
 * ways, 4 buf_alloc 64 KiB, 5 fwd_cnt from the input), then [buf_alloc
 * (2)], [fwd_cnt (2)], [payload length (2) for RW].
 */
static void step_reply(struct input *in)
{
	static const uint16_t ops[] = { VSOCK_OP_RESPONSE, VSOCK_OP_RW, VSOCK_OP_RW, VSOCK_OP_CREDIT_UPDATE,
					VSOCK_OP_CREDIT_REQUEST, VSOCK_OP_SHUTDOWN, VSOCK_OP_RST,
					VSOCK_OP_REQUEST };
	unsigned i = take(in, 1) % NG, how = take(in, 1);
	struct guest *g = &gs[i];
	struct vsock_hdr h = {
		.src_cid = cids[i], .dst_cid = g->last.src_cid,
		.src_port = g->last.dst_port, .dst_port = g->last.src_port,
		.type = VSOCK_TYPE_STREAM, .op = ops[how % ARRAY_SIZE(ops)],
		.buf_alloc = 65536, .fwd_cnt = g->rx_bytes,
	};

	if (h.op == VSOCK_OP_SHUTDOWN)
		h.flags = how & 8 ? VSOCK_SHUTDOWN_BOTH : VSOCK_SHUTDOWN_SEND;
	if (!(how & 16))
		h.buf_alloc = (uint32_t)take(in, 2);
	if (how & 32)
		h.fwd_cnt = (uint32_t)take(in, 2);
	if (h.op == VSOCK_OP_RW)
		h.len = (uint32_t)take(in, 2) % PAY_MAX;
	if (!g->last.op)
		return;
	tx_packet(i, &h, h.len);
}

static void step_rx(struct input *in)
{
	static const uint32_t sizes[] = { 44, 45, 100, 1024, RXBUF_MAX, 20 };
	unsigned i = take(in, 1) % NG, n = take(in, 1) % 8 + 1;
	struct guest *g = &gs[i];

	for (unsigned j = 0; j < n; j++) {
		uint16_t k = g->rx_avail % QS;
		uint32_t len = sizes[take(in, 1) % ARRAY_SIZE(sizes)];

		if ((uint16_t)(g->rx_avail - g->rx_seen) >= QS)
			break;   /* a sane driver: no more than the ring holds */
		g->rx_len[k] = len;
		set_desc(i, RX_DESC, k, RXBUF + k * RXBUF_MAX, len,
			 len == 20 ? 0 : VIRTQ_DESC_F_WRITE, 0);
		put16(i, RX_AVAIL + 4 + 2 * (g->rx_avail % QS), k);
		g->rx_avail++;
		put16(i, RX_AVAIL + 2, g->rx_avail);
	}
	virtio_dev_kick(&g->dev, 0);
}

/* Every packet a guest received is addressed to it, well formed, and from a CID it may talk to. */
static void step_drain(struct input *in)
{
	unsigned i = take(in, 1) % NG;
	struct guest *g = &gs[i];
	uint16_t used;

	memcpy(&used, ram[i] + RX_USED + 2, 2);
	if ((uint16_t)(used - g->rx_seen) > QS)
		return;   /* the guest scribbled on its own used ring */
	for (; g->rx_seen != used; g->rx_seen++) {
		uint32_t id, len;
		struct vsock_hdr h;

		memcpy(&id, ram[i] + RX_USED + 4 + 8 * (g->rx_seen % QS), 4);
		memcpy(&len, ram[i] + RX_USED + 8 + 8 * (g->rx_seen % QS), 4);
		if (id >= QS)
			continue;
		if (g->scribbled)
			continue;   /* its rings were written at random: nothing to expect */
		memcpy(&h, ram[i] + RXBUF + id * RXBUF_MAX, sizeof(h));
		CHECK(len == VSOCK_HDR_SIZE + h.len);
		CHECK(len <= g->rx_len[id] || g->rx_len[id] == 0);
		CHECK(h.dst_cid == cids[i]);
		CHECK(h.type == VSOCK_TYPE_STREAM);
		CHECK(h.op >= VSOCK_OP_REQUEST && h.op <= VSOCK_OP_CREDIT_REQUEST);
		if (h.op != VSOCK_OP_RST) {
			g->last = h;
			if (h.op == VSOCK_OP_RW)
				g->rx_bytes += h.len;
			if (h.src_cid == PVHV_VSOCK_CID_HOST)
				CHECK(pair_allowed(cids[i], h.src_cid, h.src_port));
			else
				CHECK(pair_allowed(h.src_cid, cids[i], h.dst_port) ||
				      pair_allowed(cids[i], h.src_cid, h.src_port));
		}
	}
}

static void step_service(struct input *in)
{
	static uint8_t data[4096];
	unsigned what = take(in, 1), k;
	uint32_t n = (uint32_t)take(in, 2) % sizeof(data);

	if (!svc.n) {
		svc.refuse = what & 1;
		return;
	}
	k = (what >> 2) % svc.n;
	switch (what & 3) {
	case 0:
		vsock_local_send(&r, svc.handle[k], data, n);
		break;
	case 1:
		n = MIN(n, svc.unconsumed[k]);
		if (vsock_local_consumed(&r, svc.handle[k], n) == 0)
			svc.unconsumed[k] -= n;
		break;
	case 2: {
		uint32_t handle = svc.handle[k];
		int j;

		CHECK(vsock_local_close(&r, handle, what & 4) == 0);
		/* Gone without closed(): a reset, or the guest had shut down both ways. */
		j = slot_of(handle);
		if (j >= 0 && !vsock_router_conn(&r, handle)) {
			svc.n--;
			svc.handle[j] = svc.handle[svc.n];
			svc.unconsumed[j] = svc.unconsumed[svc.n];
		}
		break;
	}
	default:
		CHECK(vsock_router_conn(&r, svc.handle[k]) != NULL);
	}
}

static void step(struct input *in)
{
	unsigned op = take(in, 1) % 10, i;

	switch (op) {
	case 0:
	case 1:
		step_tx(in);
		break;
	case 2:
	case 9:
		step_reply(in);
		break;
	case 3:
		step_rx(in);
		break;
	case 4:
		step_drain(in);
		break;
	case 5:
		i = take(in, 1);
		if (i & 4)
			vsock_router_unstall(&r, &gs[i % NG].dev);   /* the owner's stall timer fired */
		for (i = 0; i < NG; i++) {
			if (gs[i].woken) {
				gs[i].woken = false;
				virtio_dev_kick(&gs[i].dev, 1);
			}
		}
		break;
	case 6:
		i = take(in, 1) % NG;
		if (take(in, 1) & 1) {
			uint64_t zero = 0;

			virtio_mmio_access(&gs[i].dev, 0x70, true, 4, &zero);   /* Status = 0: reset */
			bring_up(i, take(in, 1) & 1);
		} else if (gs[i].attached) {
			vsock_router_detach(&r, &gs[i].dev);
			gs[i].attached = false;
		} else {
			CHECK(vsock_router_attach(&r, &gs[i].dev, MAX_CONN_QUOTA) == 0);
			gs[i].attached = true;
		}
		break;
	case 7:
		step_service(in);
		break;
	case 8: {
		/* A stray write into a guest's rings. */
		i = take(in, 1) % NG;
		gpa_t at = take(in, 2) % 0x700u;

		ram[i][at] = (uint8_t)take(in, 1);
		gs[i].scribbled = true;
	}
	}
}

/* The table: chains hold exactly the live streams, counts agree, quotas hold. */
static void check_router(void)
{
	unsigned live = 0, chained = 0, free_n = 0, per[FUZZ_EPS] = { 0 };

	for (unsigned k = 0; k < VSOCK_ROUTER_MAX_CONNS; k++) {
		const struct vsock_conn *c = &r.conn[k];

		if (c->state == VSOCK_FREE)
			continue;
		live++;
		CHECK(c->ep[0] < r.eps_used && c->ep[1] < r.eps_used);
		CHECK(c->ep[0] != c->ep[1]);
		CHECK(r.ep[c->ep[0]].cid == c->cid[0] && r.ep[c->ep[1]].cid == c->cid[1]);
		per[c->ep[0]]++;
		per[c->ep[1]]++;
	}
	CHECK(live == r.nconns);
	for (unsigned b = 0; b < VSOCK_ROUTER_HASH; b++)
		for (int k = r.bucket[b]; k >= 0 && chained <= live; k = r.conn[k].next, chained++)
			CHECK(r.conn[k].state != VSOCK_FREE);
	CHECK(chained == live);
	for (int k = r.free_head; k >= 0 && free_n <= VSOCK_ROUTER_MAX_CONNS; k = r.conn[k].next, free_n++)
		CHECK(r.conn[k].state == VSOCK_FREE);
	CHECK(free_n + live == VSOCK_ROUTER_MAX_CONNS);
	for (unsigned e = 0; e < FUZZ_EPS; e++) {
		CHECK(per[e] == r.ep[e].nconns);
		CHECK(r.ep[e].nconns <= r.ep[e].max_conns || (!r.ep[e].dev && e));
	}
	CHECK(svc.n <= r.ep[0].nconns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };

	memset(ram, 0, sizeof(ram));
	memset(&svc, 0, sizeof(svc));
	r = (struct vsock_router){ .allow = allow, .wake = wake, .log = rlog, .ep = eps, .max_eps = FUZZ_EPS };
	vsock_router_init(&r);
	CHECK(vsock_router_listen(&r, &service) == 0);
	for (unsigned i = 0; i < NG; i++) {
		struct guest *g = &gs[i];

		memset(g, 0, sizeof(*g));
		g->vs.cid = cids[i];
		g->env = (struct virtio_env){ env_read, env_write, env_irq, env_log, ram[i] };
		virtio_dev_init(&g->dev, &virtio_vsock_ops, &g->env, &g->vs, "vsock");
		bring_up(i, false);
		CHECK(vsock_router_attach(&r, &g->dev, MAX_CONN_QUOTA) == 0);
		g->attached = true;
	}
	for (unsigned n = 0; in.n > 0 && n < 2048; n++) {
		step(&in);
		check_router();
	}
	return 0;
}
