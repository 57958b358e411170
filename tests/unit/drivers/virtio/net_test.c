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
#define F_GUEST_TSO6 (1ULL << 8)
#define F_GUEST_ECN (1ULL << 9)
#define F_GUEST_UFO (1ULL << 10)
#define F_HOST_TSO4 (1ULL << 11)
#define F_HOST_TSO6 (1ULL << 12)
#define F_HOST_ECN (1ULL << 13)
#define F_HOST_UFO (1ULL << 14)
#define F_MRG_RXBUF (1ULL << 15)
#define F_STATUS (1ULL << 16)
#define F_CTRL_VQ (1ULL << 17)
#define F_MQ (1ULL << 22)

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* What transmit() was given, frames back to back. */
static struct {
	unsigned frames;
	size_t len[512];
	struct virtio_net_hdr hdr[512];
	uint8_t data[256 * 1024];
	size_t used;
} sent;

static void transmit(void *ctx, const struct virtio_net_hdr *hdr, const uint8_t *frame, size_t len)
{
	cr_assert_eq(ctx, &sent);
	cr_assert(sent.frames < 512 && sent.used + len <= sizeof(sent.data));
	sent.hdr[sent.frames] = *hdr;
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
	cr_assert_eq(f & (F_CSUM | F_GUEST_CSUM | F_GUEST_TSO4 | F_GUEST_TSO6 | F_HOST_TSO4 | F_HOST_TSO6),
		     F_CSUM | F_GUEST_CSUM | F_GUEST_TSO4 | F_GUEST_TSO6 | F_HOST_TSO4 | F_HOST_TSO6);
	cr_assert(!(f & (F_GUEST_ECN | F_GUEST_UFO | F_HOST_ECN | F_HOST_UFO)), "no ECN or UFO");
	cr_assert(f & F_MRG_RXBUF);
	cr_assert(!(f & (F_CTRL_VQ | F_MQ)), "no control queue, one queue pair");
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
	cr_assert(negotiate(VIRTIO_F_VERSION_1 | F_MAC | F_CSUM | F_GUEST_CSUM | F_HOST_TSO4 |
			    F_HOST_TSO6 | F_GUEST_TSO4 | F_GUEST_TSO6));
	cr_assert(!negotiate(VIRTIO_F_VERSION_1 | F_MAC | F_HOST_UFO), "UFO was never offered");
	cr_assert(!negotiate(VIRTIO_F_VERSION_1 | F_MRG_RXBUF | F_CTRL_VQ));
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
	set_desc(TX_DESC, 0, BUFS, HDR + VIRTIO_NET_MAX_GSO_FRAME + 1, 0, 0);
	ring_add(&tx, 0);
	notify(1);
	expect_broken("of 65562 bytes");
}

Test(virtio_net, transmit_chain_of_the_largest_frame_is_dropped_not_fatal, .init = setup)
{
	set_desc(TX_DESC, 0, BUFS, HDR + VIRTIO_NET_MAX_GSO_FRAME, 0, 0);
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
	expect_broken("flags 0x1 gso_type 0x0, not negotiated");
	setup();
	tx_frame(0, BUFS, 0, 60);
	g.ram[BUFS + 1] = 1;   /* GSO_TCPV4 */
	notify(1);
	expect_broken("gso_type 0x1, not negotiated");
	setup();
	dev.driver_features = F_CSUM | F_HOST_TSO4;
	tx_frame(0, BUFS, 0, 60);
	g.ram[BUFS] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	g.ram[BUFS + 1] = 0x81;   /* TCPV4 with ECN: HOST_ECN was not offered */
	notify(1);
	expect_broken("gso_type 0x81");
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

static uint8_t pkt[VIRTIO_NET_MAX_GSO_FRAME];
static size_t tcp_frame(bool v6, size_t payload, uint8_t flags);
static struct virtio_net_hdr tso_hdr(bool v6, unsigned mss);

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
	struct virtio_net_hdr csum = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 50, .csum_offset = 9 };
	struct virtio_net_hdr gso = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = 1, .gso_size = 100 };
	struct virtio_net_hdr udp = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = 3, .gso_size = 100 };
	struct virtio_net_hdr rx_only = { .flags = 2 };

	fill_in();
	set_desc(RX_DESC, 0, BUFS, 4096, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&rx, 0);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 13), -EINVAL);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, VIRTIO_NET_MAX_FRAME + 1), -EINVAL);
	cr_assert_eq(virtio_net_receive(&dev, &csum, in, 60), -EINVAL, "checksum past the frame");
	cr_assert_eq(virtio_net_receive(&dev, &gso, in, 60), -EINVAL, "no TCP frame");
	cr_assert_eq(virtio_net_receive(&dev, &udp, in, 60), -EINVAL, "UFO");
	cr_assert_eq(virtio_net_receive(&dev, &rx_only, in, 60), -EINVAL, "DATA_VALID is no sender's");
	gso = tso_hdr(false, 1448);
	gso.flags = 0;
	cr_assert_eq(virtio_net_receive(&dev, &gso, pkt, tcp_frame(false, 3000, 0x10)), -EINVAL,
		     "segmentation without the partial checksum");
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

/* ---------------------------------------------------------------- offloads */

static void be16_at(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned at16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t at32(const uint8_t *p)
{
	return (uint32_t)at16(p) << 16 | at16(p + 2);
}

/* Plain 16-bit ones' complement sum, written apart from net.c. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* The pseudo-header sum of the L4 segment at l4 (len bytes) of frame f, IPv4 or IPv6. */
static uint32_t pseudo(const uint8_t *f, bool v6, unsigned proto, size_t len)
{
	uint32_t sum = sum16(0, f + (v6 ? 22 : 26), v6 ? 32 : 8);

	return sum16(sum + proto + (uint32_t)len, NULL, 0);
}

/* True when the L4 checksum of frame f (l4 at off, len bytes) verifies. */
static bool l4_ok(const uint8_t *f, bool v6, unsigned proto, size_t off, size_t len)
{
	return sum16(pseudo(f, v6, proto, len), f + off, len) == 0xffff;
}

/*
 * A TCP frame as Linux hands a TSO / checksum-offload one to its device:
 * Ethernet, IPv4 (ID 0x1234, DF) or IPv6, TCP (20 bytes, seq 1000, flags)
 * with the folded pseudo-header sum in its checksum field, payload bytes.
 */
static size_t tcp_frame(bool v6, size_t payload, uint8_t flags)
{
	size_t l4 = v6 ? 54 : 34, len = l4 + 20 + payload;

	memset(pkt, 0, l4 + 20);
	memcpy(pkt, (uint8_t[6]){ 0x52, 0x54, 0, 0, 0, 2 }, 6);
	memcpy(pkt + 6, mac, 6);
	if (v6) {
		be16_at(pkt + 12, 0x86dd);
		pkt[14] = 0x60;
		be16_at(pkt + 18, (unsigned)(len - 54));
		pkt[20] = 6;
		pkt[21] = 64;
		pkt[22] = 0xfd;
		pkt[37] = 1;
		pkt[38] = 0xfd;
		pkt[53] = 2;
	} else {
		be16_at(pkt + 12, 0x0800);
		pkt[14] = 0x45;
		be16_at(pkt + 16, (unsigned)(len - 14));
		be16_at(pkt + 18, 0x1234);
		be16_at(pkt + 20, 0x4000);
		pkt[22] = 64;
		pkt[23] = 6;
		memcpy(pkt + 26, (uint8_t[8]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
		be16_at(pkt + 24, 0xffff ^ sum16(0, pkt + 14, 20));
	}
	be16_at(pkt + l4, 40000);
	be16_at(pkt + l4 + 2, 80);
	be16_at(pkt + l4 + 4, 0);
	be16_at(pkt + l4 + 6, 1000);
	pkt[l4 + 12] = 0x50;
	pkt[l4 + 13] = flags;
	for (size_t i = 0; i < payload; i++)
		pkt[l4 + 20 + i] = frame_byte(5, i);
	be16_at(pkt + l4 + 16, pseudo(pkt, v6, 6, len - l4));
	return len;
}

static struct virtio_net_hdr tso_hdr(bool v6, unsigned mss)
{
	return (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
					.gso_size = (uint16_t)mss, .csum_start = v6 ? 54 : 34,
					.csum_offset = 16 };
}

/* Queues pkt[0, len) with header h for transmit as descriptor d, at its own place (8 KiB apart). */
static void tx_pkt(uint16_t d, const struct virtio_net_hdr *h, size_t len)
{
	gpa_t at = BUFS + 0x2000u * d;

	cr_assert(d == 0 || HDR + len <= 0x2000, "a large frame only as descriptor 0");
	memcpy(g.ram + at, h, HDR);
	memcpy(g.ram + at + HDR, pkt, len);
	set_desc(TX_DESC, d, at, (uint32_t)(HDR + len), 0, 0);
	ring_add(&tx, d);
}

Test(virtio_net, transmit_with_checksum_offload, .init = setup)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM | 2, .hdr_len = 7,
				    .csum_start = 34, .csum_offset = 16 };
	size_t len = tcp_frame(false, 100, 0x18);

	dev.driver_features = F_CSUM;
	tx_pkt(0, &h, len);
	cr_assert(!notify(1));
	cr_assert_eq(sent.frames, 1);
	cr_assert_eq(sent.hdr[0].flags, VIRTIO_NET_HDR_F_NEEDS_CSUM, "DATA_VALID is ignored (5.1.6.2.2)");
	cr_assert(sent.hdr[0].csum_start == 34 && sent.hdr[0].csum_offset == 16);
	cr_assert(sent.hdr[0].hdr_len == 0 && sent.hdr[0].gso_type == 0);
	cr_assert(memcmp(sent.data, pkt, len) == 0, "the frame as it was, checksum still partial");
	h.csum_start = (uint16_t)(len - 17);   /* the checksum would end one byte past the frame */
	tx_pkt(1, &h, len);
	notify(1);
	cr_assert_eq(sent.frames, 1);
	cr_assert_eq(net.stats.tx_bad_offload, 1);
	cr_assert(!broken(), "one frame dropped, nothing more");
}

Test(virtio_net, transmit_tcp_segmentation_frame, .init = setup)
{
	struct virtio_net_hdr h = tso_hdr(false, 1448);
	size_t len = tcp_frame(false, 60000, 0x18);

	dev.driver_features = F_CSUM | F_HOST_TSO4;
	h.hdr_len = 3;   /* only a hint (5.1.6.2.2) */
	tx_pkt(0, &h, len);
	cr_assert(!notify(1));
	cr_assert_eq(sent.frames, 1);
	cr_assert_eq(sent.len[0], len);
	cr_assert_eq(sent.hdr[0].gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	cr_assert_eq(sent.hdr[0].gso_size, 1448);
	cr_assert_eq(sent.hdr[0].hdr_len, 54, "computed from the frame");
	cr_assert(memcmp(sent.data, pkt, len) == 0);
}

Test(virtio_net, transmit_tcp_segmentation_frames_that_do_not_fit, .init = setup)
{
	struct virtio_net_hdr h = tso_hdr(false, 1461);   /* 54 + 1461 > 1514 */
	size_t len = tcp_frame(false, 5000, 0x18), len6;
	uint16_t d = 0;

	dev.driver_features = F_CSUM | F_HOST_TSO4 | F_HOST_TSO6;
	tx_pkt(d++, &h, len);
	h = tso_hdr(false, 1448);
	h.flags = 0;   /* segmentation needs the partial checksum */
	tx_pkt(d++, &h, len);
	h = tso_hdr(false, 1448);
	h.csum_start = 35;
	tx_pkt(d++, &h, len);
	h = tso_hdr(true, 1400);   /* an IPv4 frame called IPv6 */
	tx_pkt(d++, &h, len);
	h = tso_hdr(false, 1448);
	pkt[23] = 17;   /* UDP */
	tx_pkt(d++, &h, len);
	tcp_frame(false, 5000, 0x18);
	be16_at(pkt + 16, 5000);   /* IPv4 total length short of the frame */
	tx_pkt(d++, &h, len);
	tcp_frame(false, 5000, 0x18);
	be16_at(pkt + 20, 0x2000);   /* a fragment */
	tx_pkt(d++, &h, len);
	h = tso_hdr(false, 0);
	tcp_frame(false, 5000, 0x18);
	tx_pkt(d++, &h, len);
	h = tso_hdr(false, 1448);
	be16_at(pkt + 12, 0x86dd);   /* IPv4 inside, the ethertype says IPv6 */
	tx_pkt(d++, &h, len);
	h = tso_hdr(true, 1440);
	len6 = tcp_frame(true, 5000, 0x18);
	be16_at(pkt + 18, 5000);   /* IPv6 payload length short of the frame */
	tx_pkt(d++, &h, len6);
	tcp_frame(true, 5000, 0x18);
	be16_at(pkt + 12, 0x0800);
	tx_pkt(d++, &h, len6);
	cr_assert(!notify(1));
	cr_assert_eq(sent.frames, 0);
	cr_assert_eq(net.stats.tx_bad_offload, d);
	cr_assert(!broken());
	h = tso_hdr(false, 1460);   /* the largest that fit */
	tcp_frame(false, 5000, 0x18);
	tx_pkt(d++, &h, len);
	notify(1);
	h = tso_hdr(true, 1440);
	tcp_frame(true, 5000, 0x18);
	tx_pkt(d++, &h, len6);
	notify(1);
	cr_assert_eq(sent.frames, 2);
	cr_assert_eq(sent.hdr[1].hdr_len, 74);
}

/* Posts n receive buffers of size bytes each at BUFS + 0x10000 * i. */
static void post(unsigned n, uint32_t size)
{
	for (uint16_t i = 0; i < n; i++) {
		set_desc(RX_DESC, i, BUFS + 0x10000u * i, size, VIRTQ_DESC_F_WRITE, 0);
		ring_add(&rx, i);
	}
}

static const uint8_t *rx_buf(unsigned i)
{
	return g.ram + BUFS + 0x10000u * i;
}

Test(virtio_net, receive_offloads_the_guest_took_pass_through, .init = setup)
{
	struct virtio_net_hdr h = tso_hdr(false, 1448), got;
	size_t len = tcp_frame(false, 40000, 0x18);

	dev.driver_features = F_GUEST_CSUM | F_GUEST_TSO4;
	h.hdr_len = 54;
	set_desc(RX_DESC, 0, BUFS, HDR + (uint32_t)len, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&rx, 0);
	cr_assert_eq(virtio_net_receive(&dev, &h, pkt, len), 0);
	cr_assert_eq(used_len(&rx, 0), HDR + len);
	memcpy(&got, g.ram + BUFS, HDR);
	cr_assert(got.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && got.gso_type == VIRTIO_NET_HDR_GSO_TCPV4);
	cr_assert(got.gso_size == 1448 && got.hdr_len == 54 && got.csum_start == 34 && got.csum_offset == 16);
	cr_assert_eq(got.num_buffers, 1);
	cr_assert(memcmp(g.ram + BUFS + HDR, pkt, len) == 0, "unchanged");
	cr_assert_eq(net.stats.rx_segmented, 0);
}

Test(virtio_net, receive_completes_a_checksum_for_a_guest_without_guest_csum, .init = setup)
{
	/* A UDP datagram: the pseudo-header sum in its checksum field, as Linux leaves it. */
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6 };
	size_t len = tcp_frame(false, 0, 0);
	struct virtio_net_hdr got;

	pkt[23] = 17;
	len = 34 + 8 + 301;
	be16_at(pkt + 16, (unsigned)(len - 14));
	be16_at(pkt + 24, 0);
	be16_at(pkt + 24, 0xffff ^ sum16(0, pkt + 14, 20));
	be16_at(pkt + 38, 8 + 301);
	for (size_t i = 42; i < len; i++)
		pkt[i] = frame_byte(3, i);
	be16_at(pkt + 40, pseudo(pkt, false, 17, len - 34));
	cr_assert(!l4_ok(pkt, false, 17, 34, len - 34), "partial before");
	post(2, 1526);
	cr_assert_eq(virtio_net_receive(&dev, &h, pkt, len), 0);
	memcpy(&got, rx_buf(0), HDR);
	cr_assert_eq(got.flags, 0, "the guest did not take GUEST_CSUM");
	cr_assert(l4_ok(rx_buf(0) + HDR, false, 17, 34, len - 34), "complete in the guest");
	cr_assert(memcmp(rx_buf(0) + HDR, pkt, 40) == 0 && memcmp(rx_buf(0) + HDR + 42, pkt + 42, len - 42) == 0,
		  "nothing else changed");
	dev.driver_features = F_GUEST_CSUM;
	cr_assert_eq(virtio_net_receive(&dev, &h, pkt, len), 0);
	memcpy(&got, rx_buf(1), HDR);
	cr_assert(got.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && got.csum_start == 34 && got.csum_offset == 6);
	cr_assert(memcmp(rx_buf(1) + HDR, pkt, len) == 0, "left partial for a guest that took GUEST_CSUM");
}

/* Checks the n segments in receive buffers 0..n-1 against the frame in pkt (payload bytes, mss). */
static void check_segments(bool v6, size_t payload, unsigned mss, unsigned n)
{
	unsigned flags = pkt[(v6 ? 54 : 34) + 13];

	size_t l4 = v6 ? 54 : 34, done = 0;

	cr_assert_eq(n, (payload + mss - 1) / mss);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *s = rx_buf(i) + HDR;
		size_t take = MIN((size_t)mss, payload - done), slen = l4 + 20 + take;
		struct virtio_net_hdr got;

		memcpy(&got, rx_buf(i), HDR);
		cr_assert(got.flags == 0 && got.gso_type == 0 && got.num_buffers == 1, "segment %u", i);
		cr_assert_eq(used_len(&rx, (uint16_t)i), HDR + slen, "segment %u", i);
		cr_assert(memcmp(s, pkt, 14) == 0);
		if (v6) {
			cr_assert_eq(at16(s + 18), slen - 54);
			cr_assert(memcmp(s + 20, pkt + 20, 34) == 0, "next header, hops, addresses");
		} else {
			cr_assert_eq(at16(s + 16), slen - 14, "segment %u total length", i);
			cr_assert_eq(at16(s + 18), 0x1234 + i, "IPv4 ID");
			cr_assert_eq(sum16(0, s + 14, 20), 0xffff, "IPv4 header checksum of segment %u", i);
			cr_assert(memcmp(s + 20, pkt + 20, 4) == 0 && memcmp(s + 26, pkt + 26, 8) == 0);
		}
		cr_assert_eq(at32(s + l4 + 4), 1000 + done, "sequence of segment %u", i);
		cr_assert_eq(s[l4 + 13], flags & (i + 1 < n ? ~0x09u : ~0u) & (i ? ~0x80u : ~0u),
			     "FIN and PSH on the last only, CWR on the first only (%u)", i);
		cr_assert(l4_ok(s, v6, 6, l4, slen - l4), "TCP checksum of segment %u", i);
		cr_assert(memcmp(s + l4 + 20, pkt + l4 + 20 + done, take) == 0, "payload of segment %u", i);
		done += take;
	}
	cr_assert_eq(net.stats.rx_frames, n);
}

Test(virtio_net, receive_segments_tcpv4_for_a_guest_without_guest_tso, .init = setup)
{
	struct virtio_net_hdr h = tso_hdr(false, 1448);
	size_t len = tcp_frame(false, 4000, 0x19);   /* ACK PSH FIN */

	dev.driver_features = F_GUEST_CSUM;   /* but not GUEST_TSO4 */
	post(4, 1526);
	cr_assert_eq(virtio_net_receive(&dev, &h, pkt, len), 0);
	cr_assert_eq(used_idx(&rx), 3);
	check_segments(false, 4000, 1448, 3);
	cr_assert_eq(net.stats.rx_segmented, 1);
	cr_assert_eq(g.irqs, 1, "one interrupt for the three");
}

Test(virtio_net, receive_segments_tcpv6, .init = setup)
{
	struct virtio_net_hdr h = tso_hdr(true, 1440);
	size_t len = tcp_frame(true, 2881, 0x98);   /* CWR ACK PSH */

	dev.driver_features = F_GUEST_CSUM | F_GUEST_TSO4;   /* TSO4 is not TSO6 */
	post(3, 1526);
	cr_assert_eq(virtio_net_receive(&dev, &h, pkt, len), 0);
	check_segments(true, 2881, 1440, 3);
}

Test(virtio_net, receive_segments_until_the_buffers_run_out, .init = setup)
{
	struct virtio_net_hdr h = tso_hdr(false, 1000);
	size_t len = tcp_frame(false, 5000, 0x10);

	post(2, 1526);
	cr_assert_eq(virtio_net_receive(&dev, &h, pkt, len), -EAGAIN);
	cr_assert_eq(used_idx(&rx), 2);
	cr_assert_eq(net.stats.rx_frames, 2);
	cr_assert_eq(at32(rx_buf(1) + HDR + 34 + 4), 2000, "the second segment");
	cr_assert_eq(g.irqs, 1, "what was delivered is signalled");
}

/* ---------------------------------------------------------------- merged receive buffers */

Test(virtio_net, merged_buffers_take_as_many_chains_as_the_frame_needs, .init = setup)
{
	struct virtio_net_hdr got;

	dev.driver_features = F_MRG_RXBUF;
	fill_in();
	post(4, 1024);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 60), 0);
	memcpy(&got, rx_buf(0), HDR);
	cr_assert_eq(got.num_buffers, 1);
	cr_assert_eq(used_len(&rx, 0), HDR + 60);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 1514), 0);
	cr_assert_eq(used_idx(&rx), 3, "1514 + 12 bytes in two 1024-byte chains");
	memcpy(&got, rx_buf(1), HDR);
	cr_assert_eq(got.num_buffers, 2);
	cr_assert_eq(used_id(&rx, 1), 1);
	cr_assert_eq(used_len(&rx, 1), 1024);
	cr_assert_eq(used_id(&rx, 2), 2);
	cr_assert_eq(used_len(&rx, 2), HDR + 1514 - 1024);
	cr_assert(memcmp(rx_buf(1) + HDR, in, 1024 - HDR) == 0);
	cr_assert(memcmp(rx_buf(2), in + 1024 - HDR, 1514 - (1024 - HDR)) == 0);
	cr_assert_eq(net.stats.rx_frames, 2);
	cr_assert_eq(g.irqs, 2);
}

Test(virtio_net, merged_buffers_carry_a_segmentation_frame_whole, .init = setup)
{
	struct virtio_net_hdr h = tso_hdr(false, 1448), got;
	size_t len = tcp_frame(false, 20000, 0x18), done = 0;
	unsigned k = (unsigned)((HDR + len + 4095) / 4096);

	dev.driver_features = F_MRG_RXBUF | F_GUEST_CSUM | F_GUEST_TSO4;
	post(k, 4096);
	cr_assert_eq(virtio_net_receive(&dev, &h, pkt, len), 0);
	cr_assert_eq(used_idx(&rx), k);
	memcpy(&got, rx_buf(0), HDR);
	cr_assert(got.num_buffers == k && got.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && got.hdr_len == 54);
	for (unsigned i = 0; i < k; i++) {
		size_t at = i ? 0 : HDR, take = MIN(4096 - at, len - done);

		cr_assert_eq(used_len(&rx, (uint16_t)i), at + take, "chain %u", i);
		cr_assert(memcmp(rx_buf(i) + at, pkt + done, take) == 0, "chain %u", i);
		done += take;
	}
	cr_assert_eq(done, len);
}

Test(virtio_net, merged_buffers_too_few_are_given_back_untouched, .init = setup)
{
	struct virtio_net_hdr got;

	dev.driver_features = F_MRG_RXBUF;
	fill_in();
	post(1, 1024);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 1514), -EAGAIN);
	cr_assert_eq(used_idx(&rx), 0, "nothing used");
	cr_assert_eq(g.irqs, 0);
	cr_assert_eq(net.stats.rx_no_buffer, 1);
	set_desc(RX_DESC, 1, BUFS + 0x10000, 1024, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&rx, 1);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 1514), 0, "the first chain again, and the new one");
	cr_assert_eq(used_id(&rx, 0), 0);
	cr_assert_eq(used_id(&rx, 1), 1);
	memcpy(&got, rx_buf(0), HDR);
	cr_assert_eq(got.num_buffers, 2);
}

Test(virtio_net, merged_buffers_first_chain_must_hold_the_header, .init = setup)
{
	dev.driver_features = F_MRG_RXBUF;
	fill_in();
	post(2, HDR - 1);
	cr_assert_eq(virtio_net_receive(&dev, &plain, in, 60), -EIO);
	cr_assert(broken());
	cr_assert(strstr(g.last_log, "receive chain 0 of 11 bytes cannot hold the header"), "%s", g.last_log);
}

Test(virtio_net, merged_buffers_segments_for_a_guest_without_guest_tso, .init = setup)
{
	struct virtio_net_hdr h = tso_hdr(false, 1448);
	size_t len = tcp_frame(false, 4000, 0x19);

	dev.driver_features = F_MRG_RXBUF;
	post(4, 1526);
	cr_assert_eq(virtio_net_receive(&dev, &h, pkt, len), 0);
	check_segments(false, 4000, 1448, 3);
}
