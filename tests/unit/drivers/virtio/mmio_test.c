/* SPDX-License-Identifier: Apache-2.0 */
/* mmio_test.c: unit tests for drivers/virtio/mmio.c: registers, negotiation, queue setup, reset, notify, NEEDS_RESET. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/drivers/virtio/fake_guest.h"

/* Register offsets, typed again from virtio 1.2, 4.2.2 as a cross-check of mmio.c's. */
#define MAGIC 0x000
#define VERSION 0x004
#define DEVICE_ID 0x008
#define VENDOR_ID 0x00c
#define DEV_FEATURES 0x010
#define DEV_FEATURES_SEL 0x014
#define DRV_FEATURES 0x020
#define DRV_FEATURES_SEL 0x024
#define QUEUE_SEL 0x030
#define QUEUE_NUM_MAX 0x034
#define QUEUE_NUM 0x038
#define QUEUE_READY 0x044
#define QUEUE_NOTIFY 0x050
#define INT_STATUS 0x060
#define INT_ACK 0x064
#define STATUS 0x070
#define DESC_LO 0x080
#define DESC_HI 0x084
#define DRIVER_LO 0x090
#define DRIVER_HI 0x094
#define DEVICE_LO 0x0a0
#define DEVICE_HI 0x0a4
#define SHM_SEL 0x0ac
#define SHM_LEN_LO 0x0b0
#define QUEUE_RESET 0x0c0
#define CONFIG_GEN 0x0fc
#define CONFIG 0x100

#define ACK VIRTIO_STATUS_ACKNOWLEDGE
#define DRV VIRTIO_STATUS_DRIVER
#define FOK VIRTIO_STATUS_FEATURES_OK
#define DOK VIRTIO_STATUS_DRIVER_OK

#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define BUF 0x10000u

#define DEV_OWN_FEATURE (1ULL << 5)
#define RING_PACKED (1ULL << 34)   /* transport range: the model cannot offer it */
#define ALL_OFFERED (DEV_OWN_FEATURE | VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX | VIRTIO_F_VERSION_1)

/* The test device: notify pops up to budget chains, echoes readable bytes into writable ones. */
struct tdev {
	unsigned notifies, last_q, resets, budget, processed;
	uint8_t cfg[12];
	unsigned cfg_reads, cfg_writes;
	uint32_t cfg_off;
	unsigned cfg_len;
};

static struct tdev t;
static struct virtio_dev dev;
static struct fake_ring r;

static bool t_notify(struct virtio_dev *d, unsigned qi)
{
	struct virtq_chain c;
	char err[128];

	t.notifies++;
	t.last_q = qi;
	for (unsigned n = 0; n < t.budget; n++) {
		uint8_t buf[64];
		size_t len;
		int rc = virtq_pop(&d->vq[qi], d->env, &c, err, sizeof(err));

		if (rc < 0) {
			virtio_dev_fail(d, qi, err);
			return false;
		}
		if (rc == 0) {
			virtio_dev_used(d, qi);
			return false;
		}
		len = MIN(MIN(c.read_len, c.write_len), sizeof(buf));
		cr_assert_eq(virtq_chain_read(&c, d->env, 0, buf, len), 0);
		cr_assert_eq(virtq_chain_write(&c, d->env, 0, buf, len), 0);
		cr_assert_eq(virtq_push(&d->vq[qi], d->env, c.head, len), 0);
		t.processed++;
	}
	virtio_dev_used(d, qi);
	return true;
}

static void t_reset(struct virtio_dev *d)
{
	t.resets++;
}

static void t_config_read(struct virtio_dev *d, uint32_t off, void *buf, unsigned len)
{
	cr_assert_leq(off + len, sizeof(t.cfg));
	t.cfg_reads++;
	memcpy(buf, t.cfg + off, len);
}

static void t_config_write(struct virtio_dev *d, uint32_t off, const void *buf, unsigned len)
{
	cr_assert_leq(off + len, sizeof(t.cfg));
	t.cfg_writes++;
	t.cfg_off = off;
	t.cfg_len = len;
	memcpy(t.cfg + off, buf, len);
}

static const struct virtio_dev_ops tops = {
	.device_id = VIRTIO_ID_RNG,
	.features = DEV_OWN_FEATURE | RING_PACKED,
	.nr_queues = 2,
	.queue_max = 16,
	.config_size = sizeof(t.cfg),
	.config_read = t_config_read,
	.config_write = t_config_write,
	.notify = t_notify,
	.reset = t_reset,
};

static void setup(void)
{
	fake_reset();
	memset(&t, 0, sizeof(t));
	t.budget = 100;
	virtio_dev_init(&dev, &tops, &env, &t, "rng");
	ring_init(&r, 16, DESC, AVAIL, USED);
}

static uint64_t mr_sized(uint64_t off, unsigned size)
{
	uint64_t v = 0xdeadbeefdeadbeefULL;

	cr_assert(!virtio_mmio_access(&dev, off, false, size, &v));
	return v;
}

static uint32_t mr(uint64_t off)
{
	return (uint32_t)mr_sized(off, 4);
}

static bool mw_sized(uint64_t off, unsigned size, uint64_t val)
{
	return virtio_mmio_access(&dev, off, true, size, &val);
}

static bool mw(uint64_t off, uint32_t val)
{
	return mw_sized(off, 4, val);
}

static void ack_features(uint64_t f)
{
	mw(DRV_FEATURES_SEL, 0);
	mw(DRV_FEATURES, (uint32_t)f);
	mw(DRV_FEATURES_SEL, 1);
	mw(DRV_FEATURES, (uint32_t)(f >> 32));
}

static void setup_queue(unsigned qi, uint32_t size, gpa_t desc, gpa_t avail, gpa_t used)
{
	mw(QUEUE_SEL, qi);
	mw(QUEUE_NUM, size);
	mw(DESC_LO, (uint32_t)desc);
	mw(DESC_HI, (uint32_t)(desc >> 32));
	mw(DRIVER_LO, (uint32_t)avail);
	mw(DRIVER_HI, (uint32_t)(avail >> 32));
	mw(DEVICE_LO, (uint32_t)used);
	mw(DEVICE_HI, (uint32_t)(used >> 32));
	mw(QUEUE_READY, 1);
}

/* The Linux driver's sequence (virtio 1.2, 3.1.1) with queue 0 of size 16. */
static void bring_up(uint64_t features)
{
	mw(STATUS, ACK);
	mw(STATUS, ACK | DRV);
	ack_features(features);
	mw(STATUS, ACK | DRV | FOK);
	cr_assert_eq(mr(STATUS), ACK | DRV | FOK);
	setup_queue(0, 16, DESC, AVAIL, USED);
	cr_assert_eq(mr(QUEUE_READY), 1);
	mw(STATUS, ACK | DRV | FOK | DOK);
	cr_assert_eq(mr(STATUS), ACK | DRV | FOK | DOK);
}

/* An echo chain at desc i, i + 1: n readable bytes at BUF + 0x100 * i, n writable after them. */
static void add_echo(unsigned i, uint32_t n)
{
	set_desc(DESC, i, BUF + 0x100 * i, n, VIRTQ_DESC_F_NEXT, i + 1);
	set_desc(DESC, i + 1, BUF + 0x100 * i + 0x80, n, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&r, i);
}

TestSuite(virtio_mmio, .init = setup);

Test(virtio_mmio, identity_registers)
{
	cr_assert_eq(mr(MAGIC), 0x74726976);
	cr_assert_eq(mr(VERSION), 2);
	cr_assert_eq(mr(DEVICE_ID), VIRTIO_ID_RNG);
	cr_assert_eq(mr(VENDOR_ID), 0x70766876);
	cr_assert_eq(mr(SHM_LEN_LO), 0xffffffff, "no shared memory region");
	cr_assert_eq(mr(QUEUE_RESET), 0);
	cr_assert_eq(mr(CONFIG_GEN), 0);
	cr_assert_eq(mr(QUEUE_NUM), 0, "write-only registers read 0");
	cr_assert_eq(mr(0x028), 0, "no legacy GuestPageSize");
}

Test(virtio_mmio, device_features)
{
	mw(DEV_FEATURES_SEL, 0);
	cr_assert_eq(mr(DEV_FEATURES), (uint32_t)ALL_OFFERED);
	mw(DEV_FEATURES_SEL, 1);
	cr_assert_eq(mr(DEV_FEATURES), (uint32_t)(ALL_OFFERED >> 32), "VERSION_1 but not RING_PACKED");
	mw(DEV_FEATURES_SEL, 2);
	cr_assert_eq(mr(DEV_FEATURES), 0);
}

Test(virtio_mmio, features_accepted_then_fixed)
{
	mw(STATUS, ACK | DRV);
	ack_features(VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX | DEV_OWN_FEATURE);
	mw(STATUS, ACK | DRV | FOK);
	cr_assert_eq(mr(STATUS), ACK | DRV | FOK);
	cr_assert_eq(dev.driver_features, VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX | DEV_OWN_FEATURE);
	/* After FEATURES_OK the driver's words change nothing. */
	ack_features(VIRTIO_F_VERSION_1);
	cr_assert_eq(dev.driver_features, VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX | DEV_OWN_FEATURE);
	setup_queue(0, 16, DESC, AVAIL, USED);
	cr_assert(dev.vq[0].event_idx);
	cr_assert(!dev.vq[0].indirect);
}

static void expect_refused(uint64_t features)
{
	setup();
	mw(STATUS, ACK | DRV);
	ack_features(features);
	mw(STATUS, ACK | DRV | FOK);
	cr_assert_eq(mr(STATUS), ACK | DRV, "FEATURES_OK accepted for %#llx", (unsigned long long)features);
	/* Without FEATURES_OK no queue comes up and DRIVER_OK is refused too. */
	setup_queue(0, 16, DESC, AVAIL, USED);
	cr_assert_eq(mr(QUEUE_READY), 0);
	mw(STATUS, ACK | DRV | FOK | DOK);
	cr_assert_eq(mr(STATUS), ACK | DRV);
	cr_assert_eq(g.logs, 0, "refusing features is not a violation");
}

Test(virtio_mmio, features_refused)
{
	expect_refused(VIRTIO_F_VERSION_1 | (1ULL << 1));      /* never offered */
	expect_refused(VIRTIO_F_VERSION_1 | RING_PACKED);      /* the model's, but transport range */
	expect_refused(VIRTIO_F_VERSION_1 | (1ULL << 63));
	expect_refused(VIRTIO_F_EVENT_IDX | DEV_OWN_FEATURE);  /* no VERSION_1 */
	expect_refused(0);
}

Test(virtio_mmio, queue_setup_and_negotiated_ring_features)
{
	mw(QUEUE_SEL, 0);
	cr_assert_eq(mr(QUEUE_NUM_MAX), 16);
	mw(QUEUE_SEL, 1);
	cr_assert_eq(mr(QUEUE_NUM_MAX), 16);
	mw(QUEUE_SEL, 2);
	cr_assert_eq(mr(QUEUE_NUM_MAX), 0, "no queue 2");
	bring_up(ALL_OFFERED);
	cr_assert_eq(dev.vq[0].size, 16);
	cr_assert_eq(dev.vq[0].desc, DESC);
	cr_assert_eq(dev.vq[0].avail, AVAIL);
	cr_assert_eq(dev.vq[0].used, USED);
	cr_assert(dev.vq[0].event_idx);
	cr_assert(dev.vq[0].indirect);
	cr_assert(!dev.vq[1].ready);

	setup();
	bring_up(VIRTIO_F_VERSION_1);
	cr_assert(!dev.vq[0].event_idx);
	cr_assert(!dev.vq[0].indirect);
}

Test(virtio_mmio, queue_registers_written_only_at_setup_time)
{
	mw(STATUS, ACK | DRV);
	ack_features(VIRTIO_F_VERSION_1);
	/* Before FEATURES_OK: the addresses are taken, QueueReady=1 is not. */
	setup_queue(0, 16, DESC, AVAIL, USED);
	cr_assert_eq(mr(QUEUE_READY), 0);
	mw(STATUS, ACK | DRV | FOK);
	mw(QUEUE_READY, 1);
	cr_assert_eq(mr(QUEUE_READY), 1);
	/* While ready: ignored. */
	mw(QUEUE_NUM, 8);
	mw(DESC_LO, 0x5000);
	mw(DRIVER_HI, 1);
	mw(DEVICE_LO, 0x6000);
	cr_assert_eq(dev.vq[0].size, 16);
	cr_assert_eq(dev.vq[0].desc, DESC);
	cr_assert_eq(dev.vq[0].avail, AVAIL);
	cr_assert_eq(dev.vq[0].used, USED);
	/* After DRIVER_OK, queue 1 cannot be set up any more (no RING_RESET). */
	mw(STATUS, ACK | DRV | FOK | DOK);
	setup_queue(1, 16, 0x4000, 0x5000, 0x6000);
	cr_assert_eq(mr(QUEUE_READY), 0);
	cr_assert_eq(dev.vq[1].size, 0);
	cr_assert_eq(dev.vq[1].desc, 0);
	/* A queue that does not exist takes nothing. */
	mw(QUEUE_SEL, 7);
	mw(QUEUE_READY, 1);
	cr_assert_eq(mr(QUEUE_READY), 0);
	for (unsigned i = 2; i < VIRTIO_MAX_QUEUES; i++)
		cr_assert(!dev.vq[i].ready);
	cr_assert_eq(g.logs, 0);
}

Test(virtio_mmio, ring_address_high_halves)
{
	mw(STATUS, ACK | DRV);
	ack_features(VIRTIO_F_VERSION_1);
	mw(STATUS, ACK | DRV | FOK);
	setup_queue(0, 16, 0x100001000ULL, 0x200002000ULL, 0x300003000ULL);
	cr_assert_eq(dev.vq[0].desc, 0x100001000ULL);
	cr_assert_eq(dev.vq[0].avail, 0x200002000ULL);
	cr_assert_eq(dev.vq[0].used, 0x300003000ULL);
	cr_assert_eq(mr(QUEUE_READY), 0);
	cr_assert_str_eq(g.last_log, "virtq 0: desc ring [0x100001000, +0x100) is not inside RAM");
	/* After reset the low halves alone are taken again. */
	mw(STATUS, 0);
	bring_up(VIRTIO_F_VERSION_1);
	cr_assert_eq(dev.vq[0].desc, DESC);
}

Test(virtio_mmio, queue_num_above_16_bits)
{
	mw(STATUS, ACK | DRV);
	ack_features(VIRTIO_F_VERSION_1);
	mw(STATUS, ACK | DRV | FOK);
	setup_queue(0, 0x10010, DESC, AVAIL, USED);
	cr_assert_eq(mr(QUEUE_READY), 0);
	cr_assert(mr(STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_str_eq(g.last_log, "virtq 0: size 0 is not a power of two <= 16");
}

Test(virtio_mmio, bad_queue_config_needs_reset)
{
	mw(STATUS, ACK | DRV);
	ack_features(VIRTIO_F_VERSION_1);
	mw(STATUS, ACK | DRV | FOK);
	setup_queue(1, 3, DESC, AVAIL, USED);
	cr_assert_eq(mr(QUEUE_READY), 0);
	cr_assert_eq(mr(STATUS), ACK | DRV | FOK | VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_eq(g.logs, 1);
	cr_assert_str_eq(g.last_log, "virtq 1: size 3 is not a power of two <= 16");
	cr_assert_eq(g.irqs, 0, "no interrupt before DRIVER_OK");
	/* Until reset nothing comes up, and nothing more is logged. */
	setup_queue(0, 16, DESC, AVAIL, USED);
	cr_assert_eq(mr(QUEUE_READY), 0);
	setup_queue(1, 32, DESC, AVAIL + 1, USED);
	cr_assert_eq(g.logs, 1);
	/* The driver cannot clear NEEDS_RESET but by reset. */
	mw(STATUS, ACK | DRV | FOK);
	cr_assert(mr(STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	mw(STATUS, 0);
	cr_assert_eq(mr(STATUS), 0);
	bring_up(VIRTIO_F_VERSION_1);
}

Test(virtio_mmio, misaligned_ring_named_in_log)
{
	mw(STATUS, ACK | DRV);
	ack_features(VIRTIO_F_VERSION_1);
	mw(STATUS, ACK | DRV | FOK);
	setup_queue(0, 16, DESC, AVAIL, USED + 2);
	cr_assert_eq(mr(QUEUE_READY), 0);
	cr_assert_str_eq(g.last_log, "virtq 0: used ring 0x3002 is not 4-byte aligned");
}

Test(virtio_mmio, status_bits)
{
	mw(STATUS, ACK | DRV);
	/* Clearing DRIVER is ignored, and NEEDS_RESET is the device's to set. */
	mw(STATUS, ACK | VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_eq(mr(STATUS), ACK | DRV);
	mw(STATUS, ACK | DRV | VIRTIO_STATUS_FAILED);
	cr_assert_eq(mr(STATUS), ACK | DRV | VIRTIO_STATUS_FAILED);
}

Test(virtio_mmio, reset_clears_everything)
{
	bring_up(ALL_OFFERED);
	mw(QUEUE_SEL, 1);
	mw(DEV_FEATURES_SEL, 1);
	add_echo(0, 4);
	mw(QUEUE_NOTIFY, 0);
	cr_assert_eq(t.processed, 1);
	cr_assert_neq(mr(INT_STATUS), 0);

	mw(STATUS, 0);
	cr_assert_eq(t.resets, 1);
	cr_assert_eq(mr(STATUS), 0);
	cr_assert_eq(mr(INT_STATUS), 0);
	cr_assert_eq(dev.driver_features, 0);
	cr_assert_eq(dev.queue_sel, 0);
	cr_assert_eq(dev.dev_features_sel, 0);
	cr_assert_eq(mr(QUEUE_READY), 0);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		cr_assert(!dev.vq[i].ready);
		cr_assert_eq(dev.vq[i].size, 0);
		cr_assert_eq(dev.vq[i].desc, 0);
		cr_assert_eq(dev.vq[i].last_avail, 0);
		cr_assert_eq(dev.vq[i].used_idx, 0);
	}
	/* A kick now reaches nothing. */
	add_echo(2, 4);
	mw(QUEUE_NOTIFY, 0);
	cr_assert_eq(t.notifies, 1);

	/* The driver starts again with fresh rings. */
	memset(g.ram + AVAIL, 0, 0x2000);
	ring_init(&r, 16, DESC, AVAIL, USED);
	bring_up(VIRTIO_F_VERSION_1);
	add_echo(4, 4);
	mw(QUEUE_NOTIFY, 0);
	cr_assert_eq(t.processed, 2);
	cr_assert_eq(used_idx(&r), 1);
	cr_assert_eq(used_id(&r, 0), 4);
}

Test(virtio_mmio, config_generation_and_interrupt)
{
	cr_assert_eq(mr(CONFIG_GEN), 0);
	virtio_dev_config_changed(&dev);
	cr_assert_eq(mr(CONFIG_GEN), 1);
	cr_assert_eq(g.irqs, 0, "no interrupt before DRIVER_OK");
	bring_up(VIRTIO_F_VERSION_1);
	virtio_dev_config_changed(&dev);
	cr_assert_eq(mr(CONFIG_GEN), 2);
	cr_assert_eq(g.irqs, 1);
	cr_assert_eq(mr(INT_STATUS), 2);
	mw(INT_ACK, 2);
	cr_assert_eq(mr(INT_STATUS), 0);
	mw(CONFIG_GEN, 0);
	cr_assert_eq(mr(CONFIG_GEN), 2, "read-only");
}

Test(virtio_mmio, config_space_bounds_and_sizes)
{
	for (unsigned i = 0; i < sizeof(t.cfg); i++)
		t.cfg[i] = (uint8_t)(0x10 + i);
	cr_assert_eq(mr_sized(CONFIG + 0, 1), 0x10);
	cr_assert_eq(mr_sized(CONFIG + 2, 2), 0x1312);
	cr_assert_eq(mr_sized(CONFIG + 8, 4), 0x1b1a1918);
	cr_assert_eq(mr_sized(CONFIG + 0, 8), 0x1716151413121110ULL);
	cr_assert_eq(t.cfg_reads, 4);
	/* Past the end, straddling it, misaligned, odd sizes, past the window: 0 and no call. */
	cr_assert_eq(mr_sized(CONFIG + 12, 1), 0);
	cr_assert_eq(mr_sized(CONFIG + 8, 8), 0);
	cr_assert_eq(mr_sized(CONFIG + 1, 2), 0);
	cr_assert_eq(mr_sized(CONFIG + 2, 4), 0);
	cr_assert_eq(mr_sized(CONFIG + 0, 3), 0);
	cr_assert_eq(mr_sized(CONFIG + 0xefc, 4), 0);
	cr_assert_eq(mr_sized(VIRTIO_MMIO_SIZE, 4), 0);
	cr_assert_eq(mr_sized(UINT64_MAX, 1), 0);
	cr_assert_eq(t.cfg_reads, 4);

	mw_sized(CONFIG + 4, 2, 0xffffabcdULL);
	cr_assert_eq(t.cfg_writes, 1);
	cr_assert_eq(t.cfg_off, 4);
	cr_assert_eq(t.cfg_len, 2);
	cr_assert_eq(t.cfg[4], 0xcd);
	cr_assert_eq(t.cfg[5], 0xab);
	cr_assert_eq(t.cfg[6], 0x16, "only the access's bytes");
	mw_sized(CONFIG + 10, 4, 0);
	mw_sized(CONFIG + 5, 2, 0);
	mw_sized(CONFIG + 12, 1, 0);
	cr_assert_eq(t.cfg_writes, 1);
}

Test(virtio_mmio, wrong_size_register_access_ignored)
{
	cr_assert_eq(mr_sized(MAGIC, 1), 0);
	cr_assert_eq(mr_sized(MAGIC, 2), 0);
	cr_assert_eq(mr_sized(MAGIC, 8), 0);
	cr_assert_eq(mr_sized(MAGIC + 1, 4), 0);
	cr_assert_eq(mr_sized(VERSION + 2, 2), 0);
	mw_sized(STATUS, 1, ACK);
	mw_sized(STATUS, 2, ACK);
	mw_sized(STATUS, 8, ACK);
	mw_sized(STATUS + 1, 4, ACK);
	cr_assert_eq(mr(STATUS), 0);

	bring_up(VIRTIO_F_VERSION_1);
	add_echo(0, 4);
	cr_assert(!mw_sized(QUEUE_NOTIFY, 2, 0));
	cr_assert(!mw_sized(QUEUE_NOTIFY, 1, 0));
	cr_assert(!mw_sized(QUEUE_NOTIFY + 2, 4, 0));
	cr_assert_eq(t.notifies, 0);
	mw(QUEUE_NOTIFY, 0);
	cr_assert_eq(t.notifies, 1);
}

Test(virtio_mmio, notify_calls_the_model)
{
	bring_up(VIRTIO_F_VERSION_1);
	memcpy(g.ram + BUF, "ping", 4);
	add_echo(0, 4);
	cr_assert(!mw(QUEUE_NOTIFY, 0));
	cr_assert_eq(t.notifies, 1);
	cr_assert_eq(t.last_q, 0);
	cr_assert_eq(t.processed, 1);
	cr_assert_arr_eq(g.ram + BUF + 0x80, "ping", 4);
	cr_assert_eq(used_idx(&r), 1);
	cr_assert_eq(used_len(&r, 0), 4);
	cr_assert_eq(g.irqs, 1);
	cr_assert_eq(mr(INT_STATUS), 1);
	mw(INT_ACK, 1);
	cr_assert_eq(mr(INT_STATUS), 0);

	/* Queues not ready, beyond nr_queues, or absurd: no call. */
	mw(QUEUE_NOTIFY, 1);
	mw(QUEUE_NOTIFY, 2);
	mw(QUEUE_NOTIFY, 0xffffffff);
	cr_assert_eq(t.notifies, 1);
	cr_assert_eq(g.logs, 0);
}

Test(virtio_mmio, notify_before_driver_ok_ignored)
{
	mw(STATUS, ACK | DRV);
	ack_features(VIRTIO_F_VERSION_1);
	mw(STATUS, ACK | DRV | FOK);
	setup_queue(0, 16, DESC, AVAIL, USED);
	add_echo(0, 4);
	mw(QUEUE_NOTIFY, 0);
	cr_assert_eq(t.notifies, 0);
	mw(STATUS, ACK | DRV | FOK | DOK);
	mw(QUEUE_NOTIFY, 0);
	cr_assert_eq(t.processed, 1);
	/* Nor after the driver gave up. */
	mw(STATUS, ACK | DRV | FOK | DOK | VIRTIO_STATUS_FAILED);
	add_echo(2, 4);
	mw(QUEUE_NOTIFY, 0);
	cr_assert_eq(t.notifies, 1);
}

Test(virtio_mmio, bounded_work_reports_more)
{
	bring_up(VIRTIO_F_VERSION_1);
	for (unsigned i = 0; i < 5; i++)
		add_echo(2 * i, 4);
	t.budget = 2;
	cr_assert(mw(QUEUE_NOTIFY, 0), "work left after 2 of 5");
	cr_assert_eq(t.processed, 2);
	cr_assert(mw(QUEUE_NOTIFY, 0));
	cr_assert_eq(t.processed, 4);
	cr_assert(!mw(QUEUE_NOTIFY, 0), "the ring ran empty");
	cr_assert_eq(t.processed, 5);
	cr_assert_eq(used_idx(&r), 5);
}

Test(virtio_mmio, no_interrupt_when_driver_suppresses)
{
	bring_up(VIRTIO_F_VERSION_1);
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	add_echo(0, 4);
	mw(QUEUE_NOTIFY, 0);
	cr_assert_eq(t.processed, 1);
	cr_assert_eq(g.irqs, 0);
	cr_assert_eq(mr(INT_STATUS), 0);
}

Test(virtio_mmio, queue_ready_zero_takes_queue_away)
{
	bring_up(VIRTIO_F_VERSION_1);
	mw(QUEUE_SEL, 0);
	mw(QUEUE_READY, 0);
	cr_assert_eq(mr(QUEUE_READY), 0);
	add_echo(0, 4);
	mw(QUEUE_NOTIFY, 0);
	cr_assert_eq(t.notifies, 0);
	/* And it cannot come back after DRIVER_OK. */
	mw(QUEUE_READY, 1);
	cr_assert_eq(mr(QUEUE_READY), 0);
}

Test(virtio_mmio, violation_needs_reset_and_stops_processing)
{
	bring_up(ALL_OFFERED);
	add_echo(0, 4);
	ring_add(&r, 17);
	add_echo(2, 4);
	cr_assert(!mw(QUEUE_NOTIFY, 0));
	cr_assert_eq(t.processed, 1, "the good chain before the bad one");
	cr_assert(mr(STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_eq(g.logs, 1);
	cr_assert_str_eq(g.last_log, "virtq 0: desc 17 >= size 16");
	cr_assert(mr(INT_STATUS) & 2, "config change interrupt");
	cr_assert_geq(g.irqs, 1);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		cr_assert(dev.vq[i].broken);

	/* Nothing is processed afterwards, however the driver kicks. */
	unsigned notifies = t.notifies, reads = g.reads;
	mw(QUEUE_NOTIFY, 0);
	mw(QUEUE_NOTIFY, 0);
	cr_assert_eq(t.notifies, notifies);
	cr_assert_eq(t.processed, 1);
	cr_assert_eq(g.reads, reads);
	/* A second failure (say from another path of the model) logs nothing more. */
	virtio_dev_fail(&dev, 1, "again");
	cr_assert_eq(g.logs, 1);

	/* Reset brings it back. */
	mw(STATUS, 0);
	memset(g.ram + AVAIL, 0, 0x2000);
	ring_init(&r, 16, DESC, AVAIL, USED);
	bring_up(ALL_OFFERED);
	add_echo(0, 4);
	mw(QUEUE_NOTIFY, 0);
	cr_assert_eq(t.processed, 2);
}

Test(virtio_mmio, fail_without_a_queue)
{
	virtio_dev_fail(&dev, VIRTIO_MAX_QUEUES, "bad request header");
	cr_assert_str_eq(g.last_log, "bad request header");
	cr_assert(mr(STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}
