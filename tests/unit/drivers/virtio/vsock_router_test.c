/* SPDX-License-Identifier: Apache-2.0 */
/* vsock_router_test.c: streams between fake domains and a local service through pvhv's vsock router. */
#include <criterion/criterion.h>
#include <string.h>

#include "pvhv/vsock.h"
#include "tests/unit/drivers/virtio/fake_vsock.h"

/* Domains: ctl (cid 3), web (cid 4), db (cid 5). */
#define CTL 3u
#define WEB 4u
#define DB 5u
#define MGMT PVHV_VSOCK_MGMT_PORT
#define HOST PVHV_VSOCK_CID_HOST

#define EPS 300u   /* the router's endpoints: the owner's array, any size */
static struct vsock_router r;
static struct vsock_ep eps[EPS];
static struct fdom ctl, web, db;
static unsigned woken[3], router_logs;
static char router_log[200];

/* ctl and web talk to each other; db to nobody; only ctl reaches pvhv's management port. */
static bool allow(void *ctx, uint64_t src, uint64_t dst, uint32_t port)
{
	(void)ctx;
	if (dst == HOST)
		return src == CTL && port == MGMT;
	return (src == CTL && dst == WEB) || (src == WEB && dst == CTL);
}

static void wake(void *ctx, struct virtio_dev *d)
{
	(void)ctx;
	woken[d == &ctl.dev ? 0 : d == &web.dev ? 1 : 2]++;
}

static void rlog(void *ctx, const char *msg)
{
	(void)ctx;
	router_logs++;
	snprintf(router_log, sizeof(router_log), "%s", msg);
}

static void setup(void)
{
	fake_reset();
	memset(woken, 0, sizeof(woken));
	router_logs = 0;
	router_log[0] = 0;
	r = (struct vsock_router){ .allow = allow, .wake = wake, .log = rlog, .ep = eps, .max_eps = EPS };
	vsock_router_init(&r);
	dom_init(&ctl, 0, CTL);
	dom_init(&web, 1, WEB);
	dom_init(&db, 2, DB);
	cr_assert_eq(vsock_router_attach(&r, &ctl.dev, 0), 0);
	cr_assert_eq(vsock_router_attach(&r, &web.dev, 0), 0);
	cr_assert_eq(vsock_router_attach(&r, &db.dev, 0), 0);
	post_rx(&ctl, 8, 4096, true);
	post_rx(&web, 8, 4096, true);
	post_rx(&db, 8, 4096, true);
}

/* The next packet d received must be op from src:sport to d's dport; returns its header. */
static struct vsock_hdr expect(struct fdom *d, uint16_t op, uint64_t src, uint32_t sport,
			       uint32_t dport, uint8_t *buf)
{
	struct vsock_hdr h = { 0 };

	cr_assert(rx_pop(d, &h, buf), "cid %llu received a packet", (unsigned long long)d->vs.cid);
	cr_assert_eq(h.op, op, "op %u, expected %u", h.op, op);
	cr_assert_eq(h.src_cid, src);
	cr_assert_eq(h.src_port, sport);
	cr_assert_eq(h.dst_cid, d->vs.cid);
	cr_assert_eq(h.dst_port, dport);
	cr_assert_eq(h.type, VSOCK_TYPE_STREAM);
	return h;
}

static void send_op(struct fdom *from, uint32_t sport, uint64_t dst, uint32_t dport, uint16_t op)
{
	struct vsock_hdr h = mkhdr(from->vs.cid, sport, dst, dport, op, 0);

	h.fwd_cnt = from->fwd_cnt;
	if (op == VSOCK_OP_SHUTDOWN)
		h.flags = VSOCK_SHUTDOWN_BOTH;
	tx(from, &h, NULL, 0);
}

static void send_data(struct fdom *from, uint32_t sport, uint64_t dst, uint32_t dport,
		      const void *data, uint32_t n, uint32_t fwd_cnt)
{
	struct vsock_hdr h = mkhdr(from->vs.cid, sport, dst, dport, VSOCK_OP_RW, n);

	h.fwd_cnt = fwd_cnt;
	tx(from, &h, data, n);
}

/* ctl:sport connects to web:dport; web answers with buf_alloc. */
static void connect(uint32_t sport, uint32_t dport, uint32_t buf_alloc)
{
	struct vsock_hdr h;

	send_op(&ctl, sport, WEB, dport, VSOCK_OP_REQUEST);
	expect(&web, VSOCK_OP_REQUEST, CTL, sport, dport, NULL);
	h = mkhdr(WEB, dport, CTL, sport, VSOCK_OP_RESPONSE, 0);
	h.buf_alloc = buf_alloc;
	tx(&web, &h, NULL, 0);
	h = expect(&ctl, VSOCK_OP_RESPONSE, WEB, dport, sport, NULL);
	cr_assert_eq(h.buf_alloc, buf_alloc);
}

static bool nothing(const struct fdom *d)
{
	return rx_ready_count(d) == 0;
}

Test(vsock_router, connect_data_credit_shutdown_and_close)
{
	uint8_t msg[100], got[4096];
	struct vsock_hdr h;

	setup();
	connect(1000, 80, 4096);
	cr_assert_eq(r.nconns, 1);
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i + 3);
	send_data(&ctl, 1000, WEB, 80, msg, sizeof(msg), 0);
	h = expect(&web, VSOCK_OP_RW, CTL, 1000, 80, got);
	cr_assert_eq(h.len, sizeof(msg));
	cr_assert(memcmp(got, msg, sizeof(msg)) == 0);
	/* web read it: its credit comes back to ctl. */
	h = mkhdr(WEB, 80, CTL, 1000, VSOCK_OP_CREDIT_UPDATE, 0);
	h.buf_alloc = 4096;
	h.fwd_cnt = sizeof(msg);
	tx(&web, &h, NULL, 0);
	h = expect(&ctl, VSOCK_OP_CREDIT_UPDATE, WEB, 80, 1000, NULL);
	cr_assert_eq(h.fwd_cnt, sizeof(msg));
	web.fwd_cnt = sizeof(msg);
	send_op(&ctl, 1000, WEB, 80, VSOCK_OP_CREDIT_REQUEST);
	expect(&web, VSOCK_OP_CREDIT_REQUEST, CTL, 1000, 80, NULL);
	/* Close: both SHUTDOWNs, then the RST ends it. */
	send_op(&ctl, 1000, WEB, 80, VSOCK_OP_SHUTDOWN);
	h = expect(&web, VSOCK_OP_SHUTDOWN, CTL, 1000, 80, NULL);
	cr_assert_eq(h.flags, VSOCK_SHUTDOWN_BOTH);
	send_op(&web, 80, CTL, 1000, VSOCK_OP_SHUTDOWN);
	expect(&ctl, VSOCK_OP_SHUTDOWN, WEB, 80, 1000, NULL);
	cr_assert_eq(r.nconns, 1);
	send_data(&ctl, 1000, WEB, 80, msg, 10, 0);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1000, NULL);
	expect(&web, VSOCK_OP_RST, CTL, 1000, 80, NULL);
	cr_assert_eq(r.nconns, 0, "data after both SHUTDOWNs resets the stream");
	web.fwd_cnt = 0;
	connect(1001, 80, 4096);
	send_op(&ctl, 1001, WEB, 80, VSOCK_OP_SHUTDOWN);
	expect(&web, VSOCK_OP_SHUTDOWN, CTL, 1001, 80, NULL);
	send_op(&web, 80, CTL, 1001, VSOCK_OP_RST);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1001, NULL);
	cr_assert_eq(r.nconns, 0);
	cr_assert(nothing(&ctl) && nothing(&web) && nothing(&db));
	cr_assert_eq(router_logs, 1);
}

Test(vsock_router, refused_connections_get_rst_and_reach_nobody)
{
	setup();
	send_op(&ctl, 1000, DB, 80, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RST, DB, 80, 1000, NULL);
	send_op(&db, 1000, WEB, 80, VSOCK_OP_REQUEST);
	expect(&db, VSOCK_OP_RST, WEB, 80, 1000, NULL);
	send_op(&ctl, 1000, 77, 80, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RST, 77, 80, 1000, NULL);
	send_op(&ctl, 1000, CTL, 80, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RST, CTL, 80, 1000, NULL);
	send_op(&web, 1000, HOST, MGMT, VSOCK_OP_REQUEST);
	expect(&web, VSOCK_OP_RST, HOST, MGMT, 1000, NULL);
	send_op(&ctl, 1000, HOST, MGMT, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RST, HOST, MGMT, 1000, NULL);   /* no service listens yet */
	cr_assert(nothing(&web) && nothing(&db) && nothing(&ctl));
	cr_assert_eq(r.nconns, 0);
	cr_assert(!(ctl.dev.status & VIRTIO_STATUS_NEEDS_RESET));
}

Test(vsock_router, a_spoofing_guest_fails_its_device_and_its_streams_reset)
{
	setup();
	connect(1000, 80, 4096);
	send_op(&web, 80, CTL, 1000, VSOCK_OP_CREDIT_UPDATE);
	expect(&ctl, VSOCK_OP_CREDIT_UPDATE, WEB, 80, 1000, NULL);
	/* web claims to be db, on db's behalf towards ctl. */
	struct vsock_hdr h = mkhdr(DB, 80, CTL, 1000, VSOCK_OP_RW, 0);
	tx(&web, &h, NULL, 0);
	cr_assert(web.dev.status & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_str_eq(g.last_log, "virtq 1: tx packet from cid 5, the device's is 4");
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1000, NULL);
	cr_assert(nothing(&ctl) && nothing(&db));
	cr_assert_eq(r.nconns, 0);
}

Test(vsock_router, packets_of_streams_that_do_not_exist_are_answered_with_rst_only)
{
	uint8_t msg[8] = "injected";

	setup();
	connect(1000, 80, 4096);
	/* db tries to inject into ctl's stream with web from its own CID: no such stream. */
	send_data(&db, 80, CTL, 1000, msg, sizeof(msg), 0);
	expect(&db, VSOCK_OP_RST, CTL, 1000, 80, NULL);
	send_op(&db, 80, CTL, 1000, VSOCK_OP_RST);
	send_op(&db, 80, WEB, 80, VSOCK_OP_CREDIT_UPDATE);
	expect(&db, VSOCK_OP_RST, WEB, 80, 80, NULL);
	/* ctl on a port it never connected from. */
	send_data(&ctl, 1001, WEB, 80, msg, sizeof(msg), 0);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1001, NULL);
	send_op(&ctl, 1001, WEB, 80, VSOCK_OP_RESPONSE);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1001, NULL);
	cr_assert(nothing(&web) && nothing(&db) && nothing(&ctl), "no RST answers an RST");
	cr_assert_eq(r.nconns, 1, "the real stream is untouched");
	send_data(&ctl, 1000, WEB, 80, msg, sizeof(msg), 0);
	expect(&web, VSOCK_OP_RW, CTL, 1000, 80, NULL);
}

Test(vsock_router, out_of_place_packets_reset_the_stream)
{
	setup();
	send_op(&ctl, 1000, WEB, 80, VSOCK_OP_REQUEST);
	expect(&web, VSOCK_OP_REQUEST, CTL, 1000, 80, NULL);
	send_op(&ctl, 1000, WEB, 80, VSOCK_OP_RESPONSE);   /* the asker cannot answer itself */
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1000, NULL);
	expect(&web, VSOCK_OP_RST, CTL, 1000, 80, NULL);
	cr_assert_eq(r.nconns, 0);
	cr_assert_str_eq(router_log, "vsock: cid 3 port 1000 -> cid 4 port 80: RESPONSE out of place: stream reset");
	send_op(&ctl, 1000, WEB, 80, VSOCK_OP_REQUEST);
	expect(&web, VSOCK_OP_REQUEST, CTL, 1000, 80, NULL);
	send_data(&ctl, 1000, WEB, 80, "x", 1, 0);          /* data before the RESPONSE */
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1000, NULL);
	expect(&web, VSOCK_OP_RST, CTL, 1000, 80, NULL);
	connect(1000, 80, 4096);
	send_op(&ctl, 1000, WEB, 80, VSOCK_OP_REQUEST);      /* again, on a live stream */
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1000, NULL);
	expect(&web, VSOCK_OP_RST, CTL, 1000, 80, NULL);
	cr_assert_eq(r.nconns, 0);
}

Test(vsock_router, credit_overrun_resets_both_sides)
{
	static uint8_t data[700];
	uint8_t got[4096];

	setup();
	connect(1000, 80, 1000);
	send_data(&ctl, 1000, WEB, 80, data, 600, 0);
	expect(&web, VSOCK_OP_RW, CTL, 1000, 80, got);
	send_data(&ctl, 1000, WEB, 80, data, 401, 0);       /* 1001 > 1000 */
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1000, NULL);
	expect(&web, VSOCK_OP_RST, CTL, 1000, 80, NULL);
	cr_assert(nothing(&web), "the overrunning data is not forwarded");
	cr_assert_eq(r.nconns, 0);
	cr_assert_str_eq(router_log,
			 "vsock: cid 3 port 1000 -> cid 4 port 80: data beyond the receiver's credit: stream reset");
	/* Credit returned lets more through, exactly up to the limit. */
	connect(1001, 80, 1000);
	send_data(&ctl, 1001, WEB, 80, data, 700, 0);
	expect(&web, VSOCK_OP_RW, CTL, 1001, 80, NULL);
	struct vsock_hdr h = mkhdr(WEB, 80, CTL, 1001, VSOCK_OP_CREDIT_UPDATE, 0);
	h.buf_alloc = 1000;
	h.fwd_cnt = 700;
	tx(&web, &h, NULL, 0);
	expect(&ctl, VSOCK_OP_CREDIT_UPDATE, WEB, 80, 1001, NULL);
	send_data(&ctl, 1001, WEB, 80, data, 700, 0);
	send_data(&ctl, 1001, WEB, 80, data, 300, 0);
	expect(&web, VSOCK_OP_RW, CTL, 1001, 80, NULL);
	expect(&web, VSOCK_OP_RW, CTL, 1001, 80, NULL);
	cr_assert_eq(r.nconns, 1);
	/* A receiver may not claim to have read more than it was sent. */
	h.fwd_cnt = 1701;
	tx(&web, &h, NULL, 0);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1001, NULL);
	expect(&web, VSOCK_OP_RST, CTL, 1001, 80, NULL);
	cr_assert_eq(r.nconns, 0);
}

Test(vsock_router, the_table_is_bounded_per_domain)
{
	setup();
	vsock_router_detach(&r, &ctl.dev);
	cr_assert_eq(vsock_router_attach(&r, &ctl.dev, 3), 0);
	for (uint32_t p = 0; p < 3; p++)
		connect(2000 + p, 80, 4096);
	send_op(&ctl, 2003, WEB, 80, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 2003, NULL);
	cr_assert(nothing(&web));
	send_op(&web, 80, CTL, 2001, VSOCK_OP_RST);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 2001, NULL);
	connect(2003, 80, 4096);
	cr_assert_eq(r.nconns, 3);
	/* web asking ctl counts against ctl's quota too. */
	send_op(&web, 3000, CTL, 22, VSOCK_OP_REQUEST);
	expect(&web, VSOCK_OP_RST, CTL, 22, 3000, NULL);
}

Test(vsock_router, attach_checks_the_cid)
{
	struct fdom x;

	setup();
	dom_init(&x, 3, WEB);
	cr_assert_eq(vsock_router_attach(&r, &x.dev, 0), -EEXIST);
	x.vs.cid = 2;
	cr_assert_eq(vsock_router_attach(&r, &x.dev, 0), -EINVAL);
	x.vs.cid = 0xffffffffull;
	cr_assert_eq(vsock_router_attach(&r, &x.dev, 0), -EINVAL);
	x.vs.cid = 1ull << 32 | 7;
	cr_assert_eq(vsock_router_attach(&r, &x.dev, 0), -EINVAL);
}

/*
 * No fixed number of devices (once 63): the owner's array is the limit,
 * and a device at an endpoint past 64 carries streams like the first.
 */
Test(vsock_router, as_many_devices_as_the_owner_gives_endpoints)
{
	static struct fdom many[EPS];
	uint8_t buf[8] = { 0 };
	unsigned n = 0, at = 0;

	setup();
	vsock_router_detach(&r, &web.dev);
	for (unsigned i = 0; i < EPS - 3; i++, n++) {   /* ctl and db hold two, the host CID one */
		dom_init(&many[i], 3, 100 + i);
		cr_assert_eq(vsock_router_attach(&r, &many[i].dev, 0), 0, "device %u", i);
	}
	cr_assert_eq(n, EPS - 3);
	cr_assert_eq(vsock_router_attach(&r, &web.dev, 0), -ENOSPC);
	for (unsigned i = 0; i < EPS; i++)
		if (r.ep[i].dev == &many[200].dev)
			at = i;
	cr_assert_gt(at, 64);
	vsock_router_detach(&r, &many[200].dev);
	cr_assert_eq(vsock_router_attach(&r, &web.dev, 0), 0);
	cr_assert_eq(r.ep[at].dev, &web.dev, "web took the endpoint freed at %u", at);
	connect(2000, 80, 4096);
	send_data(&ctl, 2000, WEB, 80, "far", 3, 0);
	expect(&web, VSOCK_OP_RW, CTL, 2000, 80, buf);
	cr_assert_str_eq((char *)buf, "far");
}

Test(vsock_router, a_domain_that_ends_resets_its_peers)
{
	setup();
	connect(1000, 80, 4096);
	connect(1001, 81, 4096);
	send_op(&web, 5000, CTL, 22, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_REQUEST, WEB, 5000, 22, NULL);
	cr_assert_eq(r.nconns, 3);
	vsock_router_detach(&r, &web.dev);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1000, NULL);
	expect(&ctl, VSOCK_OP_RST, WEB, 81, 1001, NULL);
	expect(&ctl, VSOCK_OP_RST, WEB, 5000, 22, NULL);
	cr_assert(nothing(&web));
	cr_assert_eq(r.nconns, 0);
	send_op(&ctl, 1002, WEB, 80, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1002, NULL);
}

Test(vsock_router, a_device_reset_resets_its_peers)
{
	setup();
	connect(1000, 80, 4096);
	web.dev.ops->reset(&web.dev);
	web.dev.status = 0;
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1000, NULL);
	cr_assert_eq(r.nconns, 0);
	send_op(&ctl, 1001, WEB, 80, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1001, NULL);   /* its driver is not up */
}

Test(vsock_router, data_waits_for_receive_buffers_and_holds_only_its_sender)
{
	static uint8_t data[10000], got[4096];
	struct vsock_hdr h;
	uint32_t off = 0;

	setup();
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ 0x5a);
	connect(1000, 80, 65536);
	/* web's 7 remaining buffers are used up by REQUESTs from ctl. */
	for (uint32_t p = 0; p < 7; p++) {
		send_op(&ctl, 3000 + p, WEB, 90, VSOCK_OP_REQUEST);
		expect(&web, VSOCK_OP_REQUEST, CTL, 3000 + p, 90, NULL);
	}
	send_data(&ctl, 1000, WEB, 80, data, sizeof(data), 0);
	cr_assert_eq(tx_done(&ctl), 8, "the data packet is held");
	send_op(&ctl, 1001, DB, 80, VSOCK_OP_REQUEST);
	cr_assert(nothing(&ctl), "ctl's later packets wait behind it");
	cr_assert_eq(woken[0], 0);
	post_rx(&web, 2, 4096, true);
	cr_assert_eq(woken[0], 1, "web's buffers wake ctl");
	ctl.dev.ops->notify(&ctl.dev, 1);
	cr_assert_eq(tx_done(&ctl), 8, "two buffers are not enough for 10000 bytes");
	post_rx(&web, 4, 4096, true);
	cr_assert_eq(woken[0], 2);
	ctl.dev.ops->notify(&ctl.dev, 1);
	cr_assert_eq(tx_done(&ctl), 10);
	expect(&ctl, VSOCK_OP_RST, DB, 80, 1001, NULL);
	for (unsigned k = 0; k < 3; k++) {
		h = expect(&web, VSOCK_OP_RW, CTL, 1000, 80, got);
		cr_assert(memcmp(got, data + off, h.len) == 0);
		off += h.len;
	}
	cr_assert_eq(off, sizeof(data));
	cr_assert(nothing(&web));
}

Test(vsock_router, control_packets_wait_in_the_receivers_queue)
{
	setup();
	connect(1000, 80, 4096);
	for (uint32_t p = 0; p < 7; p++) {
		send_op(&ctl, 3000 + p, WEB, 90, VSOCK_OP_REQUEST);
		expect(&web, VSOCK_OP_REQUEST, CTL, 3000 + p, 90, NULL);
	}
	send_op(&ctl, 1000, WEB, 80, VSOCK_OP_CREDIT_REQUEST);
	send_op(&ctl, 1000, WEB, 80, VSOCK_OP_SHUTDOWN);
	cr_assert_eq(tx_done(&ctl), 10, "queued: ctl goes on");
	cr_assert_eq(web.vs.pend_count, 2);
	post_rx(&web, 4, 4096, true);
	expect(&web, VSOCK_OP_CREDIT_REQUEST, CTL, 1000, 80, NULL);
	expect(&web, VSOCK_OP_SHUTDOWN, CTL, 1000, 80, NULL);
	cr_assert(nothing(&web));
}

Test(vsock_router, a_held_packet_of_a_stream_that_ends_is_dropped)
{
	static uint8_t data[8000];

	setup();
	connect(1000, 80, 65536);
	for (uint32_t p = 0; p < 7; p++) {
		send_op(&ctl, 3000 + p, WEB, 90, VSOCK_OP_REQUEST);
		expect(&web, VSOCK_OP_REQUEST, CTL, 3000 + p, 90, NULL);
	}
	send_data(&ctl, 1000, WEB, 80, data, sizeof(data), 0);
	cr_assert(ctl.vs.held);
	post_rx(&ctl, 4, 4096, true);
	vsock_router_detach(&r, &web.dev);
	cr_assert_eq(woken[0], 1);
	for (unsigned k = 0; k < 8; k++)
		expect(&ctl, VSOCK_OP_RST, WEB, k ? 90 : 80, k ? 3000 + k - 1 : 1000, NULL);
	ctl.dev.ops->notify(&ctl.dev, 1);
	cr_assert(!ctl.vs.held);
	cr_assert_eq(tx_done(&ctl), 9);
}

Test(vsock_router, a_receiver_with_broken_buffers_fails_alone)
{
	setup();
	connect(1000, 80, 4096);
	/* web's next receive buffer is too short: its fault, its device. */
	post_rx(&ctl, 4, 4096, true);
	for (unsigned k = 0; k < 7; k++) {
		send_op(&ctl, 3000 + k, WEB, 90, VSOCK_OP_REQUEST);
		expect(&web, VSOCK_OP_REQUEST, CTL, 3000 + k, 90, NULL);
	}
	post_rx(&web, 1, 20, false);
	send_op(&ctl, 1000, WEB, 80, VSOCK_OP_CREDIT_UPDATE);
	cr_assert(web.dev.status & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert(!(ctl.dev.status & VIRTIO_STATUS_NEEDS_RESET));
	for (unsigned k = 0; k < 8; k++)
		expect(&ctl, VSOCK_OP_RST, WEB, k ? 90 : 80, k ? 3000 + k - 1 : 1000, NULL);
	cr_assert_eq(r.nconns, 0);
}

/* ------------------------------------------------------------ the local port */

/* An echo service: what it receives it sends back, then reports consumed. */
static struct {
	uint32_t conn;
	unsigned accepts, closes, shutdowns, wakes;
	bool refuse;
} svc_st;

static struct vsock_router *svc_r;

static int echo_accept(void *ctx, uint32_t conn, uint64_t cid, uint32_t port)
{
	(void)ctx, (void)port;
	cr_assert_eq(cid, CTL);
	svc_st.accepts++;
	svc_st.conn = conn;
	return svc_st.refuse ? -EPERM : 0;
}

static void echo_recv(void *ctx, uint32_t conn, const uint8_t *data, size_t n)
{
	(void)ctx;
	cr_assert_eq(vsock_local_send(svc_r, conn, data, n), (int)n);
	cr_assert_eq(vsock_local_consumed(svc_r, conn, (uint32_t)n), 0);
}

static void echo_shutdown(void *ctx, uint32_t conn, uint32_t flags)
{
	(void)ctx, (void)flags;
	svc_st.shutdowns++;
	vsock_local_close(svc_r, conn, false);
}

static void echo_closed(void *ctx, uint32_t conn)
{
	(void)ctx;
	svc_st.closes++;
	cr_assert_eq(vsock_local_send(svc_r, conn, "x", 1), -ENOENT, "told after the stream is gone");
}

static void echo_wake(void *ctx)
{
	(void)ctx;
	svc_st.wakes++;
}

static const struct vsock_service echo = {
	.port = MGMT, .buf_alloc = 1024, .accept = echo_accept, .recv = echo_recv,
	.peer_shutdown = echo_shutdown, .closed = echo_closed, .wake = echo_wake,
};

static void setup_local(void)
{
	setup();
	memset(&svc_st, 0, sizeof(svc_st));
	svc_r = &r;
	cr_assert_eq(vsock_router_listen(&r, &echo), 0);
	cr_assert_eq(vsock_router_listen(&r, &echo), -EEXIST);
}

Test(vsock_router, the_local_port_accepts_echoes_and_closes)
{
	uint8_t got[4096];
	struct vsock_hdr h;

	setup_local();
	send_op(&ctl, 1000, HOST, MGMT, VSOCK_OP_REQUEST);
	h = expect(&ctl, VSOCK_OP_RESPONSE, HOST, MGMT, 1000, NULL);
	cr_assert_eq(h.buf_alloc, 1024);
	cr_assert_eq(svc_st.accepts, 1);
	send_data(&ctl, 1000, HOST, MGMT, "version?", 8, 0);
	h = expect(&ctl, VSOCK_OP_RW, HOST, MGMT, 1000, got);
	cr_assert_eq(h.len, 8);
	cr_assert(memcmp(got, "version?", 8) == 0);
	h = expect(&ctl, VSOCK_OP_CREDIT_UPDATE, HOST, MGMT, 1000, NULL);
	cr_assert_eq(h.fwd_cnt, 8);
	send_op(&ctl, 1000, HOST, MGMT, VSOCK_OP_CREDIT_REQUEST);
	h = expect(&ctl, VSOCK_OP_CREDIT_UPDATE, HOST, MGMT, 1000, NULL);
	cr_assert_eq(h.buf_alloc, 1024);
	/* The guest's SHUTDOWN: the service closes, the service's side sends RST. */
	send_op(&ctl, 1000, HOST, MGMT, VSOCK_OP_SHUTDOWN);
	cr_assert_eq(svc_st.shutdowns, 1);
	expect(&ctl, VSOCK_OP_RST, HOST, MGMT, 1000, NULL);
	cr_assert_eq(r.nconns, 0);
	cr_assert_null(vsock_router_conn(&r, svc_st.conn), "the handle is dead");
	cr_assert_eq(vsock_local_send(&r, svc_st.conn, "x", 1), -ENOENT);
}

Test(vsock_router, the_local_port_holds_guests_to_its_credit)
{
	static uint8_t data[1025];
	uint8_t got[4096];

	setup_local();
	send_op(&ctl, 1000, HOST, MGMT, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RESPONSE, HOST, MGMT, 1000, NULL);
	send_data(&ctl, 1000, HOST, MGMT, data, 1025, 0);
	expect(&ctl, VSOCK_OP_RST, HOST, MGMT, 1000, NULL);
	cr_assert_eq(svc_st.closes, 1);
	cr_assert_eq(r.nconns, 0);
	/* And sends no more than the guest's credit. */
	send_op(&ctl, 1001, HOST, MGMT, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RESPONSE, HOST, MGMT, 1001, NULL);
	struct vsock_hdr h = mkhdr(CTL, 1001, HOST, MGMT, VSOCK_OP_CREDIT_UPDATE, 0);
	h.buf_alloc = 10;
	tx(&ctl, &h, NULL, 0);
	cr_assert_eq(svc_st.wakes, 1);
	cr_assert_eq(vsock_local_send(&r, svc_st.conn, data, 100), 10);
	cr_assert_eq(vsock_local_send(&r, svc_st.conn, data, 100), 0);
	expect(&ctl, VSOCK_OP_RW, HOST, MGMT, 1001, got);
	cr_assert_eq(vsock_local_close(&r, svc_st.conn, true), 0);
	expect(&ctl, VSOCK_OP_RST, HOST, MGMT, 1001, NULL);
	cr_assert_eq(r.nconns, 0);
}

Test(vsock_router, the_local_port_can_refuse_and_ends_with_the_domain)
{
	setup_local();
	svc_st.refuse = true;
	send_op(&ctl, 1000, HOST, MGMT, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RST, HOST, MGMT, 1000, NULL);
	cr_assert_eq(r.nconns, 0);
	svc_st.refuse = false;
	send_op(&ctl, 1001, HOST, MGMT, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RESPONSE, HOST, MGMT, 1001, NULL);
	vsock_router_detach(&r, &ctl.dev);
	cr_assert_eq(svc_st.closes, 1);
	cr_assert_eq(r.nconns, 0);
	cr_assert_eq(vsock_local_send(&r, svc_st.conn, "x", 1), -ENOENT);
}

Test(vsock_router, listen_checks_its_service)
{
	struct vsock_service bad = echo, more[VSOCK_ROUTER_MAX_SERVICES];

	setup_local();
	bad.port = 0;
	cr_assert_eq(vsock_router_listen(&r, &bad), -EINVAL);
	bad = echo;
	bad.buf_alloc = 0;
	cr_assert_eq(vsock_router_listen(&r, &bad), -EINVAL);
	for (unsigned k = 0; k < VSOCK_ROUTER_MAX_SERVICES; k++) {
		more[k] = echo;
		more[k].port = 2000 + k;
	}
	for (unsigned k = 0; k + 1 < VSOCK_ROUTER_MAX_SERVICES; k++)
		cr_assert_eq(vsock_router_listen(&r, &more[k]), 0);
	cr_assert_eq(vsock_router_listen(&r, &more[VSOCK_ROUTER_MAX_SERVICES - 1]), -ENOSPC);
}

Test(vsock_router, a_guest_cannot_pile_its_streams_into_one_hash_chain)
{
	unsigned longest = 0;

	setup();
	r.hash_key = 0x8a5cd789635d2dffull;
	/* Port pairs with one XOR: a hash of (cid ^ cid, port ^ port) puts them all in one bucket. */
	for (uint32_t i = 0; i < 16; i++) {
		send_op(&ctl, 2000 + i, WEB, (2000 + i) ^ 0x55u, VSOCK_OP_REQUEST);
		expect(&web, VSOCK_OP_REQUEST, CTL, 2000 + i, (2000 + i) ^ 0x55u, NULL);
		if (i % 7 == 6)
			post_rx(&web, 7, 4096, true);
	}
	cr_assert_eq(r.nconns, 16);
	for (unsigned b = 0; b < VSOCK_ROUTER_HASH; b++) {
		unsigned n = 0;

		for (int k = r.bucket[b]; k >= 0; k = r.conn[k].next)
			n++;
		longest = MAX(longest, n);
	}
	cr_assert_leq(longest, 3, "longest chain %u", longest);
}

Test(vsock_router, a_full_quota_gives_up_the_oldest_unanswered_request)
{
	setup();
	vsock_router_detach(&r, &ctl.dev);
	cr_assert_eq(vsock_router_attach(&r, &ctl.dev, 3), 0);
	connect(2000, 80, 4096);
	for (uint32_t p = 2001; p < 2003; p++) {
		send_op(&ctl, p, WEB, 80, VSOCK_OP_REQUEST);
		expect(&web, VSOCK_OP_REQUEST, CTL, p, 80, NULL);
	}
	send_op(&ctl, 2003, WEB, 80, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 2001, NULL);
	expect(&web, VSOCK_OP_RST, CTL, 2001, 80, NULL);
	expect(&web, VSOCK_OP_REQUEST, CTL, 2003, 80, NULL);
	cr_assert_eq(r.nconns, 3);
	cr_assert_str_eq(router_log, "vsock: cid 3: quota of 3 streams full: its oldest unanswered one "
				     "(port 2001 -> cid 4 port 80) is reset");
	/* Requests towards ctl that it never answered are not ctl's to give up. */
	post_rx(&web, 4, 4096, true);
	send_op(&web, 80, CTL, 2002, VSOCK_OP_RST);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 2002, NULL);
	send_op(&web, 5000, CTL, 22, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_REQUEST, WEB, 5000, 22, NULL);
	send_op(&ctl, 2004, WEB, 80, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 2003, NULL);
	expect(&web, VSOCK_OP_RST, CTL, 2003, 80, NULL);
	expect(&web, VSOCK_OP_REQUEST, CTL, 2004, 80, NULL);
	send_op(&ctl, 2005, WEB, 80, VSOCK_OP_REQUEST);
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 2004, NULL);
	expect(&web, VSOCK_OP_RST, CTL, 2004, 80, NULL);
	expect(&web, VSOCK_OP_REQUEST, CTL, 2005, 80, NULL);
	cr_assert_eq(r.nconns, 3, "2000 (established), web's 5000 -> 22, 2005");
}

Test(vsock_router, a_stalled_sender_is_unstuck_by_resetting_the_stream_it_waits_for)
{
	static uint8_t data[2000];

	setup();
	connect(1000, 80, 65536);
	connect(1001, 81, 65536);
	for (uint32_t p = 0; p < 6; p++) {
		send_op(&ctl, 3000 + p, WEB, 90, VSOCK_OP_REQUEST);
		expect(&web, VSOCK_OP_REQUEST, CTL, 3000 + p, 90, NULL);
	}
	/* web posts no more buffers: ctl's data for 1000 -> 80 waits, and its next packet behind it. */
	send_data(&ctl, 1000, WEB, 80, data, sizeof(data), 0);
	send_data(&ctl, 1001, WEB, 81, data, 10, 0);
	cr_assert(virtio_vsock_held(&ctl.dev));
	vsock_router_unstall(&r, &web.dev);
	cr_assert(virtio_vsock_held(&ctl.dev), "web holds nothing: nothing to do");
	cr_assert_eq(router_logs, 0);
	vsock_router_unstall(&r, &ctl.dev);
	cr_assert(!virtio_vsock_held(&ctl.dev));
	cr_assert_eq(woken[0], 1, "ctl's TX queue is served again");
	cr_assert_str_eq(router_log, "vsock: cid 3 port 1000 -> cid 4 port 80: no room at the receiver "
				     "for too long: stream reset");
	expect(&ctl, VSOCK_OP_RST, WEB, 80, 1000, NULL);
	cr_assert_eq(r.nconns, 7);
	cr_assert_eq(web.vs.pend_count, 1, "web's RST waits for a buffer");
	ctl.dev.ops->notify(&ctl.dev, 1);
	cr_assert(virtio_vsock_held(&ctl.dev), "the next packet for web waits in turn");
	post_rx(&web, 4, 4096, true);
	ctl.dev.ops->notify(&ctl.dev, 1);
	expect(&web, VSOCK_OP_RST, CTL, 1000, 80, NULL);
	expect(&web, VSOCK_OP_RW, CTL, 1001, 81, NULL);
	cr_assert(!virtio_vsock_held(&ctl.dev));
}
