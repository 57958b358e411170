/* SPDX-License-Identifier: Apache-2.0 */
/* vsock_test.c: the virtio-vsock model alone, over a fake guest and a recording backend. */
#include <criterion/criterion.h>
#include <string.h>

#include "drivers/virtio/devices.h"
#include "tests/unit/drivers/virtio/fake_vsock.h"

/* What the backend saw. */
static struct {
	unsigned sends, resets, rx_ready;
	struct vsock_hdr last;
	uint8_t payload[VSOCK_MAX_PAYLOAD];
	uint32_t payload_len;
	int answer;          /* what send returns */
	uint32_t take;       /* with -EAGAIN: bytes to mark done first */
} be;

static int be_send(void *ctx, const struct vsock_hdr *h, struct vsock_payload *p)
{
	(void)ctx;
	be.sends++;
	be.last = *h;
	cr_assert_eq(p->len, h->len);
	be.payload_len = p->len;
	cr_assert_eq(vsock_payload_read(p, 0, be.payload, p->len), 0);
	cr_assert_eq(vsock_payload_read(p, 0, be.payload, p->len + 1), -ERANGE);
	if (be.answer == -EAGAIN)
		p->done += be.take;
	return be.answer;
}

static void be_rx_ready(void *ctx)
{
	(void)ctx;
	be.rx_ready++;
}

static void be_reset(void *ctx)
{
	(void)ctx;
	be.resets++;
}

static const struct vsock_backend backend = { be_send, be_rx_ready, be_reset };

static struct fdom a;

static void setup(void)
{
	fake_reset();
	memset(&be, 0, sizeof(be));
	dom_init(&a, 0, 3);
	a.vs.be = &backend;
	a.vs.be_ctx = &be;
}

static bool failed(void)
{
	return a.dev.status & VIRTIO_STATUS_NEEDS_RESET;
}

Test(virtio_vsock, device_id_queues_and_guest_cid)
{
	uint64_t v = 0;
	uint32_t hi = 0;

	setup();
	a.vs.cid = 0x12345678ull;
	cr_assert_eq(virtio_vsock_ops.device_id, 19);
	cr_assert_eq(virtio_vsock_ops.nr_queues, 3);
	cr_assert_eq(virtio_vsock_ops.features, 0, "stream only: SEQPACKET not offered");
	cr_assert_eq(virtio_vsock_ops.config_size, 8);
	virtio_vsock_ops.config_read(&a.dev, 0, &v, 8);
	cr_assert_eq(v, 0x12345678ull);
	virtio_vsock_ops.config_read(&a.dev, 4, &hi, 4);
	cr_assert_eq(hi, 0);
	v = 99;
	virtio_vsock_ops.config_write(&a.dev, 0, &v, 8);
	virtio_vsock_ops.config_read(&a.dev, 0, &v, 8);
	cr_assert_eq(v, 0x12345678ull, "read-only");
}

Test(virtio_vsock, a_packet_goes_to_the_backend_whole)
{
	struct vsock_hdr h = mkhdr(3, 1000, 4, 80, VSOCK_OP_RW, 300);
	uint8_t data[300];

	setup();
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	h.buf_alloc = 4096;
	h.fwd_cnt = 17;
	cr_assert(!tx(&a, &h, data, sizeof(data)));
	cr_assert_eq(be.sends, 1);
	cr_assert(memcmp(&be.last, &h, sizeof(h)) == 0);
	cr_assert(memcmp(be.payload, data, sizeof(data)) == 0);
	cr_assert_eq(tx_done(&a), 1);
	cr_assert_eq(used_len(&a.tx, 0), 0, "nothing written into a TX buffer");
	cr_assert(!failed());
}

/* One bad TX packet: the device fails with why, the backend gets nothing but a reset. */
static void refused(const struct vsock_hdr *h, const void *payload, uint32_t n, const char *why)
{
	setup();
	tx(&a, h, payload, n);
	cr_assert(failed(), "%s", why);
	cr_assert_eq(be.sends, 0);
	cr_assert_eq(be.resets, 1, "its streams are reset");
	cr_assert_str_eq(g.last_log, why);
	cr_assert_eq(tx_done(&a), 0);
}

Test(virtio_vsock, spoofed_src_cid_fails_the_device)
{
	struct vsock_hdr h = mkhdr(4, 1000, 3, 80, VSOCK_OP_REQUEST, 0);

	refused(&h, NULL, 0, "virtq 1: tx packet from cid 4, the device's is 3");
	h.src_cid = 3 | 1ull << 32;
	refused(&h, NULL, 0, "virtq 1: tx packet from cid 4294967299, the device's is 3");
}

Test(virtio_vsock, bad_lengths_types_ops_and_flags_fail_the_device)
{
	static uint8_t big[VSOCK_MAX_PAYLOAD + 1];
	struct vsock_hdr h = mkhdr(3, 1000, 4, 80, VSOCK_OP_RW, 10);

	refused(&h, big, 9, "virtq 1: tx packet len 10, its buffer carries 9 bytes (at most 65536)");
	refused(&h, big, 11, "virtq 1: tx packet len 10, its buffer carries 11 bytes (at most 65536)");
	h.len = sizeof(big);
	refused(&h, big, sizeof(big),
		"virtq 1: tx packet len 65537, its buffer carries 65537 bytes (at most 65536)");
	h = mkhdr(3, 1000, 4, 80, VSOCK_OP_REQUEST, 0);
	h.type = 2;
	refused(&h, NULL, 0, "virtq 1: tx packet type 2 is not STREAM");
	h.type = VSOCK_TYPE_STREAM;
	h.op = 0;
	refused(&h, NULL, 0, "virtq 1: tx packet op 0 unknown");
	h.op = 8;
	refused(&h, NULL, 0, "virtq 1: tx packet op 8 unknown");
	h = mkhdr(3, 1000, 4, 80, VSOCK_OP_REQUEST, 4);
	refused(&h, big, 4, "virtq 1: tx packet op 1 carries 4 bytes");
	h = mkhdr(3, 1000, 4, 80, VSOCK_OP_SHUTDOWN, 0);
	refused(&h, NULL, 0, "virtq 1: tx SHUTDOWN flags 0");
	h.flags = 4 | VSOCK_SHUTDOWN_SEND;
	refused(&h, NULL, 0, "virtq 1: tx SHUTDOWN flags 0x6");
}

Test(virtio_vsock, short_or_writable_tx_chains_fail_the_device)
{
	setup();
	set_desc(a.tx.desc, 0, a.base + TXBUF, 40, 0, 0);
	ring_add(&a.tx, 0);
	a.dev.ops->notify(&a.dev, 1);
	cr_assert(failed());
	cr_assert_str_eq(g.last_log, "virtq 1: tx packet shorter than its header");
	setup();
	set_desc(a.tx.desc, 0, a.base + TXBUF, 44, VIRTQ_DESC_F_NEXT, 1);
	set_desc(a.tx.desc, 1, a.base + TXBUF + 64, 8, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&a.tx, 0);
	a.dev.ops->notify(&a.dev, 1);
	cr_assert_str_eq(g.last_log, "virtq 1: tx packet has writable segments");
	cr_assert_eq(be.sends, 0);
}

/* Another vCPU rewrites the header right after the device read it. */
static void rewrite_src(gpa_t gpa, size_t len)
{
	if (len == VSOCK_HDR_SIZE)
		memset(g.ram + gpa, 0x44, 8);
}

Test(virtio_vsock, the_header_is_read_once)
{
	struct vsock_hdr h = mkhdr(3, 1000, 4, 80, VSOCK_OP_REQUEST, 0);

	setup();
	g.after_read = rewrite_src;
	tx(&a, &h, NULL, 0);
	g.after_read = NULL;
	cr_assert(!failed());
	cr_assert_eq(be.sends, 1);
	cr_assert_eq(be.last.src_cid, 3, "the backend got the checked copy");
}

Test(virtio_vsock, a_waiting_packet_holds_the_queue_and_resumes)
{
	struct vsock_hdr h = mkhdr(3, 1000, 4, 80, VSOCK_OP_RW, 100);
	struct vsock_hdr c = mkhdr(3, 1000, 4, 80, VSOCK_OP_CREDIT_UPDATE, 0);
	uint8_t data[100] = { 1, 2, 3 };

	setup();
	be.answer = -EAGAIN;
	be.take = 40;
	tx_add(&a, &h, data, sizeof(data));
	tx_add(&a, &c, NULL, 0);
	cr_assert(!a.dev.ops->notify(&a.dev, 1), "nothing to do until the backend wakes it");
	cr_assert_eq(be.sends, 1);
	cr_assert_eq(tx_done(&a), 0, "the chain is held");
	a.dev.ops->notify(&a.dev, 1);
	cr_assert_eq(be.sends, 2, "the same packet again, not the next one");
	cr_assert_eq(be.last.op, VSOCK_OP_RW);
	cr_assert_eq(a.vs.held_p.done, 80, "progress is kept");
	be.answer = 0;
	a.dev.ops->notify(&a.dev, 1);
	cr_assert_eq(be.sends, 4);
	cr_assert_eq(be.last.op, VSOCK_OP_CREDIT_UPDATE);
	cr_assert_eq(tx_done(&a), 2);
}

Test(virtio_vsock, at_most_the_chain_budget_per_notification)
{
	struct vsock_hdr h = mkhdr(3, 1000, 4, 80, VSOCK_OP_CREDIT_UPDATE, 0);

	setup();
	a.dev.vq[1].size = 128;
	a.tx.size = 128;
	for (unsigned i = 0; i < 70; i++)
		tx_add(&a, &h, NULL, 0);
	cr_assert(a.dev.ops->notify(&a.dev, 1), "64 packets is the chain budget");
	cr_assert_eq(be.sends, VIRTIO_BUDGET_CHAINS);
	cr_assert_eq(tx_done(&a), VIRTIO_BUDGET_CHAINS);
	cr_assert(!a.dev.ops->notify(&a.dev, 1));
	cr_assert_eq(be.sends, 70);
}

Test(virtio_vsock, at_most_the_byte_budget_per_notification)
{
	static uint8_t data[20000];
	struct vsock_hdr h = mkhdr(3, 1000, 4, 80, VSOCK_OP_RW, sizeof(data));

	setup();
	for (unsigned i = 0; i < 4; i++)
		tx_add(&a, &h, data, sizeof(data));
	cr_assert(a.dev.ops->notify(&a.dev, 1), "64 KiB served: work is left");
	cr_assert_eq(be.sends, 4);
	tx_add(&a, &h, data, sizeof(data));
	cr_assert(!a.dev.ops->notify(&a.dev, 1));
	cr_assert_eq(be.sends, 5);
}

Test(virtio_vsock, control_packets_wait_for_receive_buffers_in_order)
{
	struct vsock_payload none = { 0 };
	struct vsock_hdr h, got;

	setup();
	for (uint32_t i = 0; i < 3; i++) {
		h = mkhdr(4, 80, 3, 1000 + i, VSOCK_OP_RST, 0);
		cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &none, false), 0);
	}
	cr_assert_eq(rx_ready_count(&a), 0);
	post_rx(&a, 2, 4096, true);
	cr_assert_eq(be.rx_ready, 0, "one still waits: no room for others yet");
	post_rx(&a, 2, 4096, true);
	cr_assert_eq(be.rx_ready, 1);
	for (uint32_t i = 0; i < 3; i++) {
		cr_assert(rx_pop(&a, &got, NULL));
		cr_assert_eq(got.dst_port, 1000 + i);
		cr_assert_eq(got.op, VSOCK_OP_RST);
		cr_assert_eq(got.len, 0);
	}
	h = mkhdr(4, 80, 3, 2000, VSOCK_OP_RST, 0);
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &none, false), 0);
	cr_assert(rx_pop(&a, &got, NULL), "a buffer was free: straight in");
	cr_assert_eq(got.dst_port, 2000);
	cr_assert(a.dev.interrupt_status & 1);
}

Test(virtio_vsock, the_pending_queue_is_bounded_and_keeps_room_for_urgent_packets)
{
	struct vsock_payload none = { 0 };
	struct vsock_hdr h = mkhdr(4, 80, 3, 1000, VSOCK_OP_CREDIT_UPDATE, 0);

	setup();
	for (unsigned i = 0; i < VSOCK_PENDING_FORWARD; i++)
		cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &none, false), 0);
	cr_assert_eq(virtio_vsock_room(&a.dev, false), 0);
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &none, false), -EAGAIN);
	for (unsigned i = VSOCK_PENDING_FORWARD; i < VSOCK_PENDING; i++)
		cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &none, true), 0);
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &none, true), -EAGAIN);
	cr_assert_eq(virtio_vsock_room(&a.dev, true), 0);
}

Test(virtio_vsock, data_is_split_over_receive_buffers_and_never_passes_control)
{
	static uint8_t data[10000], got[4096];
	struct vsock_payload p = { .buf = data, .len = sizeof(data) };
	struct vsock_payload none = { 0 };
	struct vsock_hdr h = mkhdr(4, 80, 3, 1000, VSOCK_OP_RW, sizeof(data)), r;
	struct vsock_hdr shut = mkhdr(4, 80, 3, 1000, VSOCK_OP_SHUTDOWN, 0);
	uint32_t off = 0;

	setup();
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 1);
	post_rx(&a, 1, 4096, false);
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &p, false), -EAGAIN);
	cr_assert_eq(p.done, 4096 - 44);
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &shut, &none, false), 0, "queued");
	post_rx(&a, 1, 4096, false);
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &p, false), -EAGAIN,
		     "the SHUTDOWN took the buffer and the data may not pass it");
	cr_assert_eq(p.done, 4096 - 44);
	post_rx(&a, 2, 4096, false);
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &p, false), 0);
	for (unsigned k = 0; k < 4; k++) {
		cr_assert(rx_pop(&a, &r, got));
		if (k == 1) {
			cr_assert_eq(r.op, VSOCK_OP_SHUTDOWN);
			continue;
		}
		cr_assert_eq(r.op, VSOCK_OP_RW);
		cr_assert_eq(r.len, MIN(sizeof(data) - off, 4096u - 44u));
		cr_assert(memcmp(got, data + off, r.len) == 0, "piece %u", k);
		off += r.len;
	}
	cr_assert_eq(off, sizeof(data));
}

Test(virtio_vsock, bad_receive_buffers_fail_the_device_without_a_backend_reset)
{
	struct vsock_payload none = { 0 };
	struct vsock_hdr h = mkhdr(4, 80, 3, 1000, VSOCK_OP_RST, 0);

	setup();
	post_rx(&a, 1, 43, false);
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &none, true), -EPIPE);
	cr_assert(failed());
	cr_assert_str_eq(g.last_log, "virtq 0: receive buffer shorter than a packet header");
	cr_assert_eq(be.resets, 0, "the caller drops the streams");
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &none, true), -EPIPE, "not live any more");
	setup();
	set_desc(a.rx.desc, 0, a.base + RXBUF, 4096, 0, 0);
	ring_add(&a.rx, 0);
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &none, true), -EPIPE);
	cr_assert_str_eq(g.last_log, "virtq 0: receive buffer has readable segments");
	setup();
	a.dev.status = 0;
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &none, true), -EPIPE, "driver not ready");
	cr_assert_eq(g.logs, 0);
}

Test(virtio_vsock, reset_forgets_waiting_packets_and_tells_the_backend)
{
	struct vsock_payload none = { 0 };
	struct vsock_hdr h = mkhdr(3, 1000, 4, 80, VSOCK_OP_REQUEST, 0);

	setup();
	be.answer = -EAGAIN;
	tx(&a, &h, NULL, 0);
	cr_assert(a.vs.held);
	virtio_vsock_deliver(&a.dev, &h, &none, false);
	cr_assert_eq(a.vs.pend_count, 1);
	a.dev.ops->reset(&a.dev);
	cr_assert(!a.vs.held);
	cr_assert_eq(a.vs.pend_count, 0);
	cr_assert_eq(be.resets, 1);
}

/* Another vCPU posts a receive buffer right after the device found the ring empty. */
static bool post_armed;

static void post_after_empty(gpa_t gpa, size_t len)
{
	if (post_armed && gpa == a.rx.avail + 2 && len == 2) {
		post_armed = false;
		post_rx(&a, 1, 4096, false);
	}
}

Test(virtio_vsock, data_never_passes_waiting_control_even_when_a_buffer_appears_meanwhile)
{
	static const uint8_t data[100] = { 9 };
	struct vsock_payload p = { .buf = data, .len = sizeof(data) };
	struct vsock_payload none = { 0 };
	struct vsock_hdr h = mkhdr(4, 80, 3, 1000, VSOCK_OP_CREDIT_UPDATE, 0), got;

	setup();
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &none, false), 0);
	cr_assert_eq(a.vs.pend_count, 1);
	post_armed = true;
	g.after_read = post_after_empty;
	h.op = VSOCK_OP_RW;
	cr_assert_eq(virtio_vsock_deliver(&a.dev, &h, &p, false), -EAGAIN);
	g.after_read = NULL;
	cr_assert(!post_armed, "the buffer was posted during the call");
	cr_assert_eq(p.done, 0);
	cr_assert_eq(rx_ready_count(&a), 0);
	a.dev.ops->notify(&a.dev, 0);
	cr_assert(rx_pop(&a, &got, NULL));
	cr_assert_eq(got.op, VSOCK_OP_CREDIT_UPDATE, "the waiting packet went first");
}
