/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net_fuzz.c: libFuzzer target: a hostile guest's transmit queue and a
 * hostile port configuration against the virtio-net model and the switch.
 * Device A's transmit ring, descriptors and frames are guest RAM taken from
 * the input; each frame it sends goes through switch_route() to port B and
 * into device B's receive ring (also from the input).  Separately the
 * input's tail is checked as a raw frame by switch_check_tx().
 *
 * Beyond ASan/UBSan it checks the contracts of devices.h and switch.h:
 * transmit() gets frames from the model's own buffer whose header (checksum
 * place, segmentation fields) fits them, at most the budget per
 * notification, and the receiver takes every one of them (never -EINVAL); the counters add up; a failure logs
 * one line; switch_check_tx() answers 0, -EINVAL or -EPERM with a reason,
 * and what it lets through has the port's MAC, no tag, and a source
 * address the port may use (re-read here apart from switch.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base.h"
#include "drivers/virtio/devices.h"
#include "drivers/virtio/switch.h"

#define RAM_SIZE 0x20000u   /* room for a 64 KiB receive buffer past the input */
#define TX_DESC 0x000u
#define TX_AVAIL 0x100u
#define TX_USED 0x140u
#define RX_DESC 0x200u
#define RX_AVAIL 0x300u
#define RX_USED 0x340u
#define FRAME_GPA 0x100cu   /* where the seeds put their first frame, after its header */
#define CFG_BYTES (2u + 6u + 6u + 4u * 4u + 4u * 16u)

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                               \
		}                                                                              \
	} while (0)

static uint8_t ram[RAM_SIZE];
static struct switch_port port_a, port_b;
static struct virtio_net net_a, net_b;
static struct virtio_dev dev_a, dev_b;

static struct {
	unsigned logs[2];
	unsigned sent, routed;             /* this input */
	uint64_t delivered;                /* frames and segments */
	unsigned sent_now;                 /* this notification */
	uint64_t bytes_now;
} st;

static int env_read(void *ctx, gpa_t gpa, void *dst, size_t len)
{
	if (!range_within(gpa, len, 0, RAM_SIZE))
		return -EFAULT;
	memcpy(dst, ram + gpa, len);
	return 0;
}

static int env_write(void *ctx, gpa_t gpa, const void *src, size_t len)
{
	if (!range_within(gpa, len, 0, RAM_SIZE))
		return -EFAULT;
	memcpy(ram + gpa, src, len);
	return 0;
}

static void env_irq(void *ctx)
{
}

static void env_log(void *ctx, const char *msg)
{
	unsigned *logs = ctx;

	CHECK(msg[0] != 0 && strlen(msg) < 200);
	CHECK(++*logs == 1);   /* one line per device: nothing is reset here */
}

static const struct virtio_env env_a = { env_read, env_write, env_irq, env_log, &st.logs[0] };
static const struct virtio_env env_b = { env_read, env_write, env_irq, env_log, &st.logs[1] };

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool has4(const struct switch_port *p, const uint8_t *a)
{
	for (unsigned i = 0; i < p->nr_ipv4; i++)
		if (!memcmp(p->ipv4[i], a, 4))
			return true;
	return false;
}

static bool has6(const struct switch_port *p, const uint8_t *a)
{
	uint8_t ll[16] = { 0xfe, 0x80 };

	ll[8] = p->mac[0] ^ 2;
	memcpy(ll + 9, p->mac + 1, 2);
	ll[11] = 0xff;
	ll[12] = 0xfe;
	memcpy(ll + 13, p->mac + 3, 3);
	if (!memcmp(a, ll, 16))
		return true;
	for (unsigned i = 0; i < p->nr_ipv6; i++)
		if (!memcmp(p->ipv6[i], a, 16))
			return true;
	return false;
}

/* What switch_check_tx() let through, re-read plainly. */
static void check_passed(const struct switch_port *p, const uint8_t *f, size_t len)
{
	static const uint8_t zero[16];
	unsigned type;

	CHECK(len >= 14 && len <= SWITCH_MAX_FRAME);
	CHECK(!memcmp(f + 6, p->mac, 6));
	type = be16(f + 12);
	CHECK(type != 0x8100 && type != 0x88a8 && type != 0x9100);
	if (!p->nr_ipv4 && !p->nr_ipv6)
		return;
	CHECK((p->nr_ipv4 && (type == 0x0800 || type == 0x0806)) || (p->nr_ipv6 && type == 0x86dd));
	if (type == 0x0800) {
		CHECK(len >= 34 && f[14] >> 4 == 4);
		CHECK(has4(p, f + 26) || (!memcmp(f + 26, zero, 4) && f[23] == 17));
	} else if (type == 0x0806) {
		CHECK(len >= 42 && !memcmp(f + 22, p->mac, 6));
		CHECK(has4(p, f + 28) || (!memcmp(f + 28, zero, 4) && has4(p, f + 38)));
	} else {
		CHECK(len >= 54 && f[14] >> 4 == 6);
		CHECK(has6(p, f + 22) || !memcmp(f + 22, zero, 16));
		if (f[20] == 58 && len >= 55)   /* ICMPv6 right after the fixed header */
			CHECK(f[54] != 134 && f[54] != 137);
	}
}

static void check_frame(const struct switch_port *p, const uint8_t *f, size_t len)
{
	char why[128] = "";
	int rc = switch_check_tx(p, f, len, why, sizeof(why));

	CHECK(rc == 0 || rc == -EINVAL || rc == -EPERM);
	if (rc)
		CHECK(why[0] != 0);
	else
		check_passed(p, f, len);
}

/* Device A's backend: the frame goes through the switch to device B. */
static void transmit(void *ctx, const struct virtio_net_hdr *hdr, const uint8_t *frame, size_t len)
{
	struct switch_port *to;
	uint64_t frames, segmented;
	char why[128] = "";
	int rc;

	CHECK(ctx == &port_a && frame == net_a.frame);
	CHECK(hdr->flags == 0 || hdr->flags == VIRTIO_NET_HDR_F_NEEDS_CSUM);
	if (hdr->flags)
		CHECK((size_t)hdr->csum_start + hdr->csum_offset + 2 <= len);
	if (hdr->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		CHECK(len >= 14 && len <= VIRTIO_NET_MAX_FRAME);
	} else {
		CHECK(hdr->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 || hdr->gso_type == VIRTIO_NET_HDR_GSO_TCPV6);
		CHECK(hdr->flags && hdr->gso_size && len > hdr->hdr_len && len <= VIRTIO_NET_MAX_GSO_FRAME);
		CHECK(hdr->hdr_len + hdr->gso_size <= 14 + VIRTIO_NET_MTU);
	}
	CHECK(++st.sent_now <= VIRTIO_BUDGET_CHAINS);
	CHECK(st.bytes_now < VIRTIO_BUDGET_BYTES);   /* nothing starts past the budget */
	st.bytes_now += VIRTIO_NET_HDR_SIZE + len;
	st.sent++;
	check_frame(&port_a, frame, len);
	to = switch_route(&port_a, frame, len, why, sizeof(why));
	if (!to) {
		CHECK(why[0] != 0);
		return;
	}
	CHECK(to == &port_b);
	st.routed++;
	frames = net_b.stats.rx_frames;
	segmented = net_b.stats.rx_segmented;
	rc = virtio_net_receive(&dev_b, hdr, frame, len);
	CHECK(rc == 0 || rc == -EAGAIN || rc == -ENOSPC || rc == -EIO);
	if (rc == -EIO)
		CHECK(dev_b.status & VIRTIO_STATUS_NEEDS_RESET);
	frames = net_b.stats.rx_frames - frames;
	/* Segmented: all segments arrived, or fewer and the reason came back. */
	if (net_b.stats.rx_segmented != segmented) {
		uint64_t nseg = (len - hdr->hdr_len + hdr->gso_size - 1) / hdr->gso_size;

		CHECK(hdr->gso_type != VIRTIO_NET_HDR_GSO_NONE && net_b.stats.rx_segmented == segmented + 1);
		CHECK(rc == 0 ? frames == nseg : frames < nseg);
	} else {
		CHECK(frames == (rc == 0));
	}
	st.delivered += frames;
}

static void port_from(struct switch_port *p, const uint8_t *c)
{
	p->nr_ipv4 = c[0] % (SWITCH_ADDRS_MAX + 1);
	p->nr_ipv6 = c[1] % (SWITCH_ADDRS_MAX + 1);
	memcpy(p->mac, c + 2, 6);
	p->mac[0] &= 0xfe;   /* unicast, as the configuration guarantees */
	for (unsigned i = 0; i < SWITCH_ADDRS_MAX; i++) {
		memcpy(p->ipv4[i], c + 14 + 4 * i, 4);
		memcpy(p->ipv6[i], c + 30 + 16 * i, 16);
	}
}

/* What a driver took: bits 0..6 pick CSUM, GUEST_CSUM, HOST_TSO4/6, GUEST_TSO4/6, MRG_RXBUF. */
static uint64_t features(uint8_t pick)
{
	static const unsigned bit[7] = { 0, 1, 11, 12, 7, 8, 15 };
	uint64_t f = VIRTIO_F_VERSION_1 | (1ULL << 5) | (1ULL << 3) | (1ULL << 16);

	for (unsigned i = 0; i < 7; i++)
		if (pick & (1u << i))
			f |= 1ULL << bit[i];
	CHECK((f & ~VIRTIO_F_VERSION_1 & ~virtio_net_ops.features) == 0);
	return f;
}

static void queue(struct virtq *q, gpa_t desc, gpa_t avail, gpa_t used, uint8_t how)
{
	*q = (struct virtq){ .size = (uint16_t)(1u << (how % 5)), .ready = true, .desc = desc,
			     .avail = avail, .used = used, .event_idx = how & 0x20, .indirect = how & 0x40 };
}

static void device(struct virtio_dev *d, struct virtio_net *n, const struct virtio_env *env,
		   struct switch_port *p, const char *name)
{
	memset(n, 0, sizeof(*n));
	memcpy(n->mac, p->mac, 6);
	n->transmit = transmit;
	n->ctx = p;
	virtio_dev_init(d, &virtio_net_ops, env, n, name);
	d->status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		    VIRTIO_STATUS_DRIVER_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t cfg[CFG_BYTES + 5] = { 0 };
	size_t n = MIN(size, sizeof(cfg)), frames;
	uint64_t drops = 0;

	memcpy(cfg, data, n);
	data += n;
	size -= n;
	memset(&st, 0, sizeof(st));
	memset(&port_a, 0, sizeof(port_a));
	memset(&port_b, 0, sizeof(port_b));
	port_from(&port_a, cfg);
	memcpy(port_b.mac, cfg + 8, 6);   /* the second MAC field: B's */
	port_b.mac[0] &= 0xfe;
	port_a.peer = &port_b;
	port_b.peer = &port_a;

	/* The rest is guest RAM for the devices; from FRAME_GPA on also a raw frame for the policy. */
	n = MIN(size, (size_t)FRAME_GPA);
	check_frame(&port_a, data + n, MIN(size - n, (size_t)2048));
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data, MIN(size, sizeof(ram)));
	device(&dev_a, &net_a, &env_a, &port_a, "a");
	device(&dev_b, &net_b, &env_b, &port_b, "b");
	dev_a.driver_features = features(cfg[CFG_BYTES + 3]);
	dev_b.driver_features = features(cfg[CFG_BYTES + 4]);
	queue(&dev_a.vq[1], TX_DESC, TX_AVAIL, TX_USED, cfg[CFG_BYTES]);
	queue(&dev_b.vq[0], RX_DESC, RX_AVAIL, RX_USED, cfg[CFG_BYTES + 1]);
	for (unsigned k = 0; k < 4; k++) {
		bool more;

		st.sent_now = 0;
		st.bytes_now = 0;
		more = virtio_dev_kick(&dev_a, 1);
		if (!more)
			break;
		if (cfg[CFG_BYTES + 2] & 1)
			CHECK(!virtio_dev_kick(&dev_b, 0));   /* posting receive buffers is no work */
	}
	frames = st.sent;
	CHECK(net_a.stats.tx_frames == frames);
	for (unsigned r = 0; r < SWITCH_DROP_NR; r++)
		drops += port_a.drops[r];
	CHECK(port_a.tx_frames == st.routed && port_a.tx_frames + drops == frames);
	CHECK(net_b.stats.rx_frames == st.delivered);
	return 0;
}
