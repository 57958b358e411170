/* SPDX-License-Identifier: Apache-2.0 */
/* net_test.c: the virtio-net model over a fake guest: features, config, transmit, receive, hostile chains. */
#include <criterion/criterion.h>
#include <string.h>

#include "drivers/virtio/devices.h"
#include "tests/unit/drivers/virtio/fake_guest.h"

#define RX_DESC 0x1000u
#define RX_AVAIL 0x2000u
#define RX_USED 0x3000u
#define TX_DESC 0x5000u
#define TX_AVAIL 0x6000u
#define TX_USED 0x7000u
#define BUFS 0x10000u
#define QSIZE 256u
#define HDR VIRTIO_NET_HDR_SIZE

#define F_CSUM (1ULL << 0)
#define F_GUEST_CSUM (1ULL << 1)
#define F_MTU (1ULL << 3)
#define F_MAC (1ULL << 5)
#define F_GUEST_TSO4 (1ULL << 7)
#define F_HOST_TSO4 (1ULL << 11)
#define F_MRG_RXBUF (1ULL << 15)
#define F_STATUS (1ULL << 16)
#define F_CTRL_VQ (1ULL << 17)
#define F_MQ (1ULL << 22)

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* What transmit() was given, frames back to back. */
static struct {
	unsigned frames;
	size_t len[512];
	uint8_t data[256 * 1024];
	size_t used;
} sent;

static void transmit(void *ctx, const struct virtio_net_hdr *hdr, const uint8_t *frame, size_t len)
{
	cr_assert_eq(ctx, &sent);
	cr_assert(hdr->flags == 0 && hdr->gso_type == 0, "no offload reaches the backend");
	cr_assert(sent.frames < 512 && sent.used + len <= sizeof(sent.data));
	sent.len[sent.frames++] = len;
	memcpy(sent.data + sent.used, frame, len);
	sent.used += len;
}

static struct virtio_net net;
static struct virtio_dev dev;
static struct fake_ring rx, tx;

static void setup(void)
{
	fake_reset();
	memset(&sent, 0, sizeof(sent));
	memset(&net, 0, sizeof(net));
	memcpy(net.mac, mac, 6);
	net.transmit = transmit;
	net.ctx = &sent;
	virtio_dev_init(&dev, &virtio_net_ops, &env, &net, "net");
	dev.vq[0] = (struct virtq){ .size = QSIZE, .ready = true, .desc = RX_DESC, .avail = RX_AVAIL,
				    .used = RX_USED };
	dev.vq[1] = (struct virtq){ .size = QSIZE, .ready = true, .desc = TX_DESC, .avail = TX_AVAIL,
				    .used = TX_USED };
	dev.status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		     VIRTIO_STATUS_DRIVER_OK;
	ring_init(&rx, QSIZE, RX_DESC, RX_AVAIL, RX_USED);
	ring_init(&tx, QSIZE, TX_DESC, TX_AVAIL, TX_USED);
}

static uint8_t frame_byte(unsigned n, size_t i)
{
	return (uint8_t)(i * 7 + n * 31 + 1);
}

/* A frame of len bytes, pattern n, at gpa: a zero header then the frame (desc d, one segment). */
static void tx_frame(uint16_t d, gpa_t gpa, unsigned n, size_t len)
{
	memset(g.ram + gpa, 0, HDR);
	for (size_t i = 0; i < len; i++)
		g.ram[gpa + HDR + i] = frame_byte(n, i);
	set_desc(TX_DESC, d, gpa, (uint32_t)(HDR + len), 0, 0);
	ring_add(&tx, d);
}

static bool notify(unsigned qi)
{
	return dev.ops->notify(&dev, qi);
}

static bool broken(void)
{
	return dev.status & VIRTIO_STATUS_NEEDS_RESET;
}

/* ---------------------------------------------------------------- features and config */

Test(virtio_net, features_offered)
{
	uint64_t f = virtio_net_ops.features;

	cr_assert_eq(virtio_net_ops.device_id, 1);
	cr_assert_eq(virtio_net_ops.nr_queues, 2, "receiveq and transmitq only");
	cr_assert(f & F_MAC && f & F_MTU && f & F_STATUS);
	cr_assert(!(f & (F_CSUM | F_GUEST_CSUM | F_GUEST_TSO4 | F_HOST_TSO4)), "no offload offered");
	cr_assert(!(f & (F_MRG_RXBUF | F_CTRL_VQ | F_MQ)));
}

static uint64_t reg(uint64_t off)
{
	uint64_t v = 0;

	virtio_mmio_access(&dev, off, false, 4, &v);
	return v;
}

static void wreg(uint64_t off, uint64_t v)
{
	virtio_mmio_access(&dev, off, true, 4, &v);
}

/* The Linux driver's handshake through the transport: which feature sets FEATURES_OK takes. */
static bool negotiate(uint64_t want)
{
	wreg(0x070, 0);
	wreg(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wreg(0x024, 0);
	wreg(0x020, (uint32_t)want);
	wreg(0x024, 1);
	wreg(0x020, (uint32_t)(want >> 32));
	wreg(0x070, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return reg(0x070) & VIRTIO_STATUS_FEATURES_OK;
}

Test(virtio_net, negotiation_and_config_space, .init = setup)
{
	uint64_t v = 0;

	cr_assert_eq(reg(0x008), VIRTIO_ID_NET);
	wreg(0x014, 0);
	cr_assert_eq(reg(0x010) & (F_MAC | F_MTU | F_STATUS), F_MAC | F_MTU | F_STATUS);
	cr_assert(negotiate(VIRTIO_F_VERSION_1 | F_MAC | F_MTU | F_STATUS));
	cr_assert(!negotiate(VIRTIO_F_VERSION_1 | F_MAC | F_CSUM), "an offload was never offered");
	cr_assert(!negotiate(VIRTIO_F_VERSION_1 | F_MRG_RXBUF));
	cr_assert(negotiate(VIRTIO_F_VERSION_1), "a driver may take nothing");
	for (unsigned i = 0; i < 6; i++) {
		virtio_mmio_access(&dev, 0x100 + i, false, 1, &v);
		cr_assert_eq(v, mac[i], "mac byte %u", i);
	}
	virtio_mmio_access(&dev, 0x106, false, 2, &v);
	cr_assert_eq(v, 1, "status: link up");
	virtio_mmio_access(&dev, 0x10a, false, 2, &v);
	cr_assert_eq(v, 1500, "mtu");
	v = 0x77;
	virtio_mmio_access(&dev, 0x100, true, 1, &v);
	virtio_mmio_access(&dev, 0x100, false, 1, &v);
	cr_assert_eq(v, mac[0], "the mac is read-only");
}

/* ---------------------------------------------------------------- transmit */

Test(virtio_net, transmit_one_frame, .init = setup)
{
	tx_frame(0, BUFS, 1, 60);
	cr_assert(!notify(1));
	cr_assert_eq(sent.frames, 1);
	cr_assert_eq(sent.len[0], 60);
	for (size_t i = 0; i < 60; i++)
		cr_assert_eq(sent.data[i], frame_byte(1, i), "byte %zu", i);
	cr_assert_eq(used_idx(&tx), 1);
	cr_assert_eq(used_id(&tx, 0), 0);
	cr_assert_eq(used_len(&tx, 0), 0, "the device wrote nothing");
	cr_assert_eq(net.stats.tx_frames, 1);
	cr_assert_eq(net.stats.tx_bytes, 60);
	cr_assert_eq(g.irqs, 1);
	cr_assert(!broken());
}

Test(virtio_net, transmit_header_and_frame_in_pieces, .init = setup)
{
	/* As Linux sends it: the header in one descriptor, the frame across two more. */
	memset(g.ram + BUFS, 0, HDR);
	for (size_t i = 0; i < 1514; i++)
		g.ram[(i < 100 ? BUFS + 0x100 : BUFS + 0x1000 - 100) + i] = frame_byte(2, i);
	set_desc(TX_DESC, 0, BUFS, HDR, VIRTQ_DESC_F_NEXT, 1);
	set_desc(TX_DESC, 1, BUFS + 0x100, 100, VIRTQ_DESC_F_NEXT, 2);
	set_desc(TX_DESC, 2, BUFS + 0x1000, 1414, 0, 0);
	ring_add(&tx, 0);
	cr_assert(!notify(1));
	cr_assert_eq(sent.frames, 1);
	cr_assert_eq(sent.len[0], 1514);
	for (size_t i = 0; i < 1514; i++)
		cr_assert_eq(sent.data[i], frame_byte(2, i), "byte %zu", i);
}

Test(virtio_net, transmit_many_in_order, .init = setup)
{
	for (unsigned n = 0; n < 10; n++)
		tx_frame((uint16_t)n, BUFS + 0x800 * n, n, 64 + n);
	cr_assert(!notify(1));
	cr_assert_eq(sent.frames, 10);
	for (unsigned n = 0, off = 0; n < 10; off += 64 + n, n++) {
		cr_assert_eq(sent.len[n], 64 + n);
		cr_assert_eq(sent.data[off + 5], frame_byte(n, 5), "frame %u", n);
	}
	cr_assert_eq(used_idx(&tx), 10);
	cr_assert_eq(net.stats.tx_bytes, 10 * 64 + 45);
}

Test(virtio_net, transmit_budget_in_chains, .init = setup)
{
	for (unsigned n = 0; n < 100; n++)
		tx_frame((uint16_t)n, BUFS + 0x100 * n, n, 60);
	cr_assert(notify(1), "work left after the budget");
	cr_assert_eq(sent.frames, VIRTIO_BUDGET_CHAINS);
	cr_assert_eq(used_idx(&tx), VIRTIO_BUDGET_CHAINS);
	cr_assert(!notify(1), "the rest the second time");
	cr_assert_eq(sent.frames, 100);
}

Test(virtio_net, transmit_budget_in_bytes, .init = setup)
{
	unsigned per = HDR + 1514, want = (VIRTIO_BUDGET_BYTES + per - 1) / per;

	for (unsigned n = 0; n < 60; n++)
		tx_frame((uint16_t)n, BUFS + 0x800 * n, n, 1514);
	cr_assert(notify(1));
	cr_assert_eq(sent.frames, want, "stops once %u bytes are done", VIRTIO_BUDGET_BYTES);
	cr_assert(!notify(1));
	cr_assert_eq(sent.frames, 60);
}

Test(virtio_net, runt_and_oversize_frames_are_dropped, .init = setup)
{
	tx_frame(0, BUFS, 0, 13);
	tx_frame(1, BUFS + 0x1000, 1, VIRTIO_NET_MAX_FRAME + 1);
	tx_frame(2, BUFS + 0x2000, 2, VIRTIO_NET_MAX_FRAME);
	tx_frame(3, BUFS + 0x3000, 3, 14);
	cr_assert(!notify(1));
	cr_assert_eq(sent.frames, 2);
	cr_assert_eq(sent.len[0], VIRTIO_NET_MAX_FRAME);
	cr_assert_eq(sent.len[1], 14);
	cr_assert_eq(net.stats.tx_runt, 1);
	cr_assert_eq(net.stats.tx_oversize, 1);
	cr_assert_eq(used_idx(&tx), 4, "the dropped ones are given back too");
	cr_assert(!broken());
}

static void expect_broken(const char *words)
{
	cr_assert(broken());
	cr_assert_eq(g.logs, 1);
	cr_assert(strstr(g.last_log, words), "log \"%s\" says \"%s\"", g.last_log, words);
	cr_assert_eq(sent.frames, 0);
}

Test(virtio_net, transmit_chain_shorter_than_the_header, .init = setup)
{
	set_desc(TX_DESC, 0, BUFS, HDR - 1, 0, 0);
	ring_add(&tx, 0);
	cr_assert(!notify(1));
	expect_broken("virtq 1: transmit chain 0 of 11 bytes is not a 12-byte header");
	cr_assert_eq(used_idx(&tx), 0);
}

Test(virtio_net, transmit_chain_longer_than_any_frame, .init = setup)
{
	set_desc(TX_DESC, 0, BUFS, HDR + 65535 + 1, 0, 0);
	ring_add(&tx, 0);
	notify(1);
	expect_broken("of 65548 bytes");
}

Test(virtio_net, transmit_chain_of_the_largest_frame_is_dropped_not_fatal, .init = setup)
{
	set_desc(TX_DESC, 0, BUFS, HDR + 65535, 0, 0);
	ring_add(&tx, 0);
	notify(1);
	cr_assert(!broken());
	cr_assert_eq(net.stats.tx_oversize, 1);
}

Test(virtio_net, transmit_chain_with_a_writable_part, .init = setup)
{
	set_desc(TX_DESC, 0, BUFS, HDR + 60, VIRTQ_DESC_F_NEXT, 1);
	set_desc(TX_DESC, 1, BUFS + 0x1000, 16, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&tx, 0);
	notify(1);
	expect_broken("16 device-writable bytes");
}

Test(virtio_net, transmit_header_asking_for_offload, .init = setup)
{
	tx_frame(0, BUFS, 0, 60);
	g.ram[BUFS] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	notify(1);
	expect_broken("flags 0x1");
	setup();
	tx_frame(0, BUFS, 0, 60);
	g.ram[BUFS + 1] = 1;   /* GSO_TCPV4 */
	notify(1);
	expect_broken("gso_type 1");
}

Test(virtio_net, transmit_buffer_outside_ram, .init = setup)
{
	set_desc(TX_DESC, 0, RAM_SIZE - 40, 100, 0, 0);
	ring_add(&tx, 0);
	notify(1);
	cr_assert(broken());
	cr_assert_eq(sent.frames, 0);
}

/* ---------------------------------------------------------------- receive */

static const struct virtio_net_hdr plain = { 0 };
static uint8_t in[VIRTIO_NET_MAX_FRAME + 1];

static void fill_in(void)
{
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = frame_byte(9, i);
}

Test(virtio_net, receive_into_one_buffer, .init = setup)
{
	struct virtio_net_hdr h;

	fill_in();
	memset(g.ram + BUFS, 0xee, 2048);
	set_desc(RX_DESC, 0, BUFS, 1526, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&rx, 0);
	cr_assert(!notify(0), "posting buffers leaves no work");
	cr_assert_eq(used_idx(&rx), 0);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 98), 0);
	cr_assert_eq(used_idx(&rx), 1);
	cr_assert_eq(used_len(&rx, 0), HDR + 98);
	memcpy(&h, g.ram + BUFS, HDR);
	cr_assert(h.flags == 0 && h.gso_type == 0 && h.csum_start == 0);
	cr_assert_eq(h.num_buffers, 1, "5.1.6.4: 1 without MRG_RXBUF");
	cr_assert(memcmp(g.ram + BUFS + HDR, in, 98) == 0);
	cr_assert_eq(g.ram[BUFS + HDR + 98], 0xee, "nothing past the frame");
	cr_assert_eq(net.stats.rx_frames, 1);
	cr_assert_eq(net.stats.rx_bytes, 98);
	cr_assert_eq(g.irqs, 1);
}

Test(virtio_net, receive_across_segments, .init = setup)
{
	fill_in();
	set_desc(RX_DESC, 0, BUFS, HDR, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(RX_DESC, 1, BUFS + 0x1000, 1000, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(RX_DESC, 2, BUFS + 0x2000, 518, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&rx, 0);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, VIRTIO_NET_MAX_FRAME), 0);
	cr_assert_eq(used_len(&rx, 0), HDR + VIRTIO_NET_MAX_FRAME);
	cr_assert(memcmp(g.ram + BUFS + 0x1000, in, 1000) == 0);
	cr_assert(memcmp(g.ram + BUFS + 0x2000, in + 1000, 518) == 0);
}

Test(virtio_net, receive_fills_buffers_in_order, .init = setup)
{
	fill_in();
	for (uint16_t i = 0; i < 3; i++) {
		set_desc(RX_DESC, i, BUFS + 0x1000 * i, 1526, VIRTQ_DESC_F_WRITE, 0);
		ring_add(&rx, i);
	}
	for (unsigned i = 0; i < 3; i++)
		cr_assert_eq(virtio_net_receive(&dev, &plain, in + i, 60), 0);
	for (uint16_t i = 0; i < 3; i++) {
		cr_assert_eq(used_id(&rx, i), i);
		cr_assert_eq(g.ram[BUFS + 0x1000 * i + HDR], in[i]);
	}
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 60), -EAGAIN, "all three used");
}

Test(virtio_net, receive_without_a_buffer_writes_nothing, .init = setup)
{
	unsigned writes = g.writes;

	fill_in();
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 60), -EAGAIN);
	cr_assert_eq(g.writes, writes);
	cr_assert_eq(g.irqs, 0);
	cr_assert_eq(net.stats.rx_no_buffer, 1);
	dev.status &= ~VIRTIO_STATUS_DRIVER_OK;
	set_desc(RX_DESC, 0, BUFS, 1526, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&rx, 0);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 60), -EAGAIN, "not before DRIVER_OK");
	cr_assert_eq(used_idx(&rx), 0);
}

Test(virtio_net, receive_refuses_bad_frames, .init = setup)
{
	struct virtio_net_hdr csum = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM };
	struct virtio_net_hdr gso = { .gso_type = 1 };

	fill_in();
	set_desc(RX_DESC, 0, BUFS, 4096, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&rx, 0);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 13), -EINVAL);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, VIRTIO_NET_MAX_FRAME + 1), -EINVAL);
	cr_assert_eq(virtio_net_receive(&dev, &csum, in, 60), -EINVAL, "GUEST_CSUM not offered");
	cr_assert_eq(virtio_net_receive(&dev, &gso, in, 60), -EINVAL, "GUEST_TSO not offered");
	cr_assert_eq(used_idx(&rx), 0, "the buffer is still there");
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 14), 0);
}

Test(virtio_net, receive_into_a_small_buffer_drops_the_frame, .init = setup)
{
	fill_in();
	memset(g.ram + BUFS, 0xee, 256);
	set_desc(RX_DESC, 0, BUFS, HDR + 99, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&rx, 0);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 100), -ENOSPC);
	cr_assert_eq(used_idx(&rx), 1, "the buffer is given back");
	cr_assert_eq(used_len(&rx, 0), 0);
	cr_assert_eq(g.ram[BUFS], 0xee, "and left untouched");
	cr_assert_eq(net.stats.rx_small_buffer, 1);
	cr_assert(!broken());
}

Test(virtio_net, receive_chain_with_a_readable_part, .init = setup)
{
	fill_in();
	set_desc(RX_DESC, 0, BUFS, 64, VIRTQ_DESC_F_NEXT, 1);
	set_desc(RX_DESC, 1, BUFS + 0x1000, 1526, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&rx, 0);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 60), -EIO);
	cr_assert(broken());
	cr_assert(strstr(g.last_log, "virtq 0: receive chain 0 has 64 device-readable bytes"),
		  "%s", g.last_log);
	cr_assert_eq(used_idx(&rx), 0);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 60), -EAGAIN, "nothing after the failure");
	cr_assert_eq(g.logs, 1);
}

Test(virtio_net, receive_buffer_outside_ram, .init = setup)
{
	fill_in();
	set_desc(RX_DESC, 0, 0x200000, 1526, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&rx, 0);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 60), -EIO);
	cr_assert(broken());
}
