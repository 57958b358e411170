/* SPDX-License-Identifier: Apache-2.0 */
/* devices_test.c: the virtio console and entropy models over a fake guest. */
#include <criterion/criterion.h>
#include <string.h>

#include "drivers/virtio/devices.h"

#define RAM_SIZE (1u << 20)
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define BUFS 0x10000u

static uint8_t ram[RAM_SIZE];
static unsigned irqs;
static char logged[256];

static int g_read(void *ctx, gpa_t gpa, void *dst, size_t len)
{
	(void)ctx;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -EFAULT;
	memcpy(dst, ram + gpa, len);
	return 0;
}

static int g_write(void *ctx, gpa_t gpa, const void *src, size_t len)
{
	(void)ctx;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -EFAULT;
	memcpy(ram + gpa, src, len);
	return 0;
}

static void g_irq(void *ctx)
{
	(void)ctx;
	irqs++;
}

static void g_log(void *ctx, const char *msg)
{
	(void)ctx;
	snprintf(logged, sizeof(logged), "%s", msg);
}

static const struct virtio_env env = { g_read, g_write, g_irq, g_log, NULL };
static struct virtio_dev dev;

/* Queue qi of dev at the fixed rings, ready, as a driver with nothing negotiated would leave it. */
static void queue(unsigned qi, uint16_t size)
{
	struct virtq *q = &dev.vq[qi];

	memset(ram, 0, BUFS);
	q->size = size;
	q->desc = DESC;
	q->avail = AVAIL;
	q->used = USED;
	q->ready = true;
	dev.status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		     VIRTIO_STATUS_DRIVER_OK;
}

static void desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = ram + DESC + 16u * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

/* Offers head as the avail entry number n (0-based); avail->idx becomes n + 1. */
static void offer(uint16_t n, uint16_t size, uint16_t head)
{
	uint16_t idx = n + 1;

	memcpy(ram + AVAIL + 4 + 2u * (n % size), &head, 2);
	memcpy(ram + AVAIL + 2, &idx, 2);
}

static uint16_t used_idx(void)
{
	uint16_t v;

	memcpy(&v, ram + USED + 2, 2);
	return v;
}

static uint32_t used_len(uint16_t n, uint16_t size)
{
	uint32_t v;

	memcpy(&v, ram + USED + 4 + 8u * (n % size) + 4, 4);
	return v;
}

/* ---------------------------------------------------------------- rng */

static unsigned fills;

static int fill_pattern(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	memset(buf, 0xa5, n);
	fills++;
	return 0;
}

static struct virtio_rng rng = { fill_pattern, NULL };

Test(virtio_rng, fills_the_writable_buffer)
{
	virtio_dev_init(&dev, &virtio_rng_ops, &env, &rng, "rng");
	queue(0, 16);
	desc(0, BUFS, 300, VIRTQ_DESC_F_WRITE, 0);
	offer(0, 16, 0);
	irqs = 0;
	cr_assert(!virtio_rng_ops.notify(&dev, 0), "one request leaves no work");
	cr_assert_eq(used_idx(), 1);
	cr_assert_eq(used_len(0, 16), 300);
	for (unsigned i = 0; i < 300; i++)
		cr_assert_eq(ram[BUFS + i], 0xa5, "byte %u", i);
	cr_assert_eq(ram[BUFS + 300], 0, "nothing written past the buffer");
	cr_assert_eq(irqs, 1);
}

Test(virtio_rng, bounded_work_per_notification)
{
	virtio_dev_init(&dev, &virtio_rng_ops, &env, &rng, "rng");
	queue(0, 64);
	for (uint16_t i = 0; i < 64; i++) {
		desc(i, BUFS + 64u * i, 64, VIRTQ_DESC_F_WRITE, 0);
		offer(i, 64, i);
	}
	/* 64 chains is the budget: the call says work may be left. */
	cr_assert(virtio_rng_ops.notify(&dev, 0));
	cr_assert_eq(used_idx(), VIRTIO_BUDGET_CHAINS);
	cr_assert(!virtio_rng_ops.notify(&dev, 0), "nothing left the second time");
}

Test(virtio_rng, a_readable_buffer_gets_nothing)
{
	virtio_dev_init(&dev, &virtio_rng_ops, &env, &rng, "rng");
	queue(0, 16);
	desc(0, BUFS, 64, 0, 0); /* device-readable: nothing for the device to fill */
	offer(0, 16, 0);
	virtio_rng_ops.notify(&dev, 0);
	cr_assert_eq(used_idx(), 1);
	cr_assert_eq(used_len(0, 16), 0);
	cr_assert_eq(ram[BUFS], 0);
}

Test(virtio_rng, outside_ram_is_needs_reset)
{
	virtio_dev_init(&dev, &virtio_rng_ops, &env, &rng, "rng");
	queue(0, 16);
	desc(0, 0x100000000ull, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(0, 16, 0);
	logged[0] = 0;
	virtio_rng_ops.notify(&dev, 0);
	cr_assert(dev.status & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_neq(logged[0], 0, "one line says why");
	cr_assert_eq(used_idx(), 0, "nothing completed");
}

/* ---------------------------------------------------------------- console */

static char out[4096];
static size_t nout;

static void output(void *ctx, const char *buf, size_t n)
{
	(void)ctx;
	cr_assert(nout + n <= sizeof(out));
	memcpy(out + nout, buf, n);
	nout += n;
}

static struct virtio_console con = { output, NULL };

Test(virtio_console, transmit_reaches_the_backend)
{
	static const char a[] = "hello ", b[] = "world\n";

	virtio_dev_init(&dev, &virtio_console_ops, &env, &con, "console");
	queue(1, 16);
	memcpy(ram + BUFS, a, 6);
	memcpy(ram + BUFS + 0x100, b, 6);
	desc(0, BUFS, 6, VIRTQ_DESC_F_NEXT, 1);
	desc(1, BUFS + 0x100, 6, 0, 0);
	offer(0, 16, 0);
	nout = 0;
	cr_assert(!virtio_console_ops.notify(&dev, 1));
	cr_assert_eq(nout, 12);
	cr_assert(memcmp(out, "hello world\n", 12) == 0);
	cr_assert_eq(used_idx(), 1);
}

Test(virtio_console, input_fills_receive_buffers)
{
	virtio_dev_init(&dev, &virtio_console_ops, &env, &con, "console");
	queue(0, 16);
	desc(0, BUFS, 4, VIRTQ_DESC_F_WRITE, 0);
	desc(1, BUFS + 0x100, 4, VIRTQ_DESC_F_WRITE, 0);
	offer(0, 16, 0);
	offer(1, 16, 1);
	cr_assert_eq(virtio_console_input(&dev, "abcdefghij", 10), 8, "two 4-byte buffers");
	cr_assert(memcmp(ram + BUFS, "abcd", 4) == 0);
	cr_assert(memcmp(ram + BUFS + 0x100, "efgh", 4) == 0);
	cr_assert_eq(used_len(1, 16), 4);
	cr_assert_eq(virtio_console_input(&dev, "ij", 2), 0, "no buffer left");
}

Test(virtio_console, input_before_driver_ok_is_refused)
{
	virtio_dev_init(&dev, &virtio_console_ops, &env, &con, "console");
	queue(0, 16);
	dev.status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	desc(0, BUFS, 4, VIRTQ_DESC_F_WRITE, 0);
	offer(0, 16, 0);
	cr_assert_eq(virtio_console_input(&dev, "ab", 2), 0);
	cr_assert_eq(used_idx(), 0);
}
