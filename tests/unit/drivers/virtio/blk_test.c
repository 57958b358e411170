/* SPDX-License-Identifier: Apache-2.0 */
/* blk_test.c: the virtio-blk model over a fake guest and a copy-on-write overlay. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio/devices.h"
#include "tests/unit/drivers/virtio/fake_guest.h"

#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define HDR 0x8000u
#define STATUS 0x9000u
#define DATA 0x10000u
#define QSIZE 256u   /* room for 85 three-descriptor requests at once */

#define T_IN 0u
#define T_OUT 1u
#define T_FLUSH 4u
#define T_GET_ID 8u
#define T_DISCARD 11u
#define T_WRITE_ZEROES 13u
#define S_OK 0u
#define S_IOERR 1u
#define S_UNSUPP 2u

static unsigned live;

static int alloc_page(void *ctx, void **page)
{
	(void)ctx;
	*page = aligned_alloc(4096, 4096);
	live++;
	return 0;
}

static void free_page(void *ctx, void *page)
{
	(void)ctx;
	free(page);
	live--;
}

static const struct overlay_pages pages = { alloc_page, free_page, NULL };

/* A 16 KiB image on a 64 KiB disk (128 sectors). */
static uint8_t image[16384];
static struct overlay ov;
static struct virtio_blk blk = { &ov, "disk-0" };
static struct virtio_dev dev;
static struct fake_ring ring;

static uint8_t image_byte(uint64_t i)
{
	return i < sizeof(image) ? (uint8_t)(i * 13 + 5) : 0;
}

static void setup(const struct virtio_dev_ops *ops, uint64_t limit)
{
	fake_reset();
	live = 0;
	for (unsigned i = 0; i < sizeof(image); i++)
		image[i] = image_byte(i);
	cr_assert_eq(overlay_init(&ov, image, sizeof(image), 65536, limit, &pages), 0);
	virtio_dev_init(&dev, ops, &env, &blk, "blk");
	dev.vq[0] = (struct virtq){ .size = QSIZE, .ready = true, .desc = DESC, .avail = AVAIL,
				    .used = USED };
	dev.status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		     VIRTIO_STATUS_DRIVER_OK;
	ring_init(&ring, QSIZE, DESC, AVAIL, USED);
}

static void teardown(void)
{
	overlay_destroy(&ov);
	cr_assert_eq(live, 0);
}

/* Queues one request at descriptors 3n..3n+2: header, data (if any), status. */
static void add(unsigned n, uint32_t type, uint64_t sector, gpa_t data, uint32_t len, bool dwrite)
{
	uint16_t d = (uint16_t)(3 * n);
	gpa_t hdr = HDR + 16 * n;

	put32(hdr, type);
	put32(hdr + 4, 0);
	put64(hdr + 8, sector);
	g.ram[STATUS + n] = 0xff;
	if (len) {
		set_desc(DESC, d, hdr, 16, VIRTQ_DESC_F_NEXT, d + 1);
		set_desc(DESC, d + 1, data, len,
			 VIRTQ_DESC_F_NEXT | (dwrite ? VIRTQ_DESC_F_WRITE : 0), d + 2);
	} else {
		set_desc(DESC, d, hdr, 16, VIRTQ_DESC_F_NEXT, d + 2);
	}
	set_desc(DESC, d + 2, STATUS + n, 1, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&ring, d);
}

/* One request served alone; its status byte. */
static uint8_t run(uint32_t type, uint64_t sector, gpa_t data, uint32_t len, bool dwrite)
{
	uint16_t before = used_idx(&ring);

	add(0, type, sector, data, len, dwrite);
	cr_assert(!dev.ops->notify(&dev, 0));
	cr_assert_eq(used_idx(&ring), (uint16_t)(before + 1), "the request completed");
	return g.ram[STATUS];
}

static uint32_t last_used_len(void)
{
	return used_len(&ring, (uint16_t)(used_idx(&ring) - 1));
}

static uint32_t cfg32(uint32_t off)
{
	uint32_t v = 0;

	dev.ops->config_read(&dev, off, &v, 4);
	return v;
}

Test(virtio_blk, config_space)
{
	uint64_t cap = 0;

	setup(&virtio_blk_ops, 16);
	dev.ops->config_read(&dev, 0, &cap, 8);
	cr_assert_eq(cap, 128);
	cr_assert_eq(cfg32(12), VIRTIO_BLK_SEG_MAX);
	cr_assert_eq(cfg32(20), 512);
	cr_assert_eq(cfg32(36), VIRTIO_BLK_DZ_SECTORS);
	cr_assert_eq(cfg32(40), VIRTIO_BLK_DZ_SEG);
	cr_assert_eq(cfg32(48), VIRTIO_BLK_DZ_SECTORS);
	cr_assert(virtio_blk_ops.features & (1u << 13) && virtio_blk_ops.features & (1u << 14));
	cr_assert(!(virtio_blk_ops.features & (1u << 5)));
	cr_assert(virtio_blk_ro_ops.features & (1u << 5), "F_RO on the read-only disk");
	cr_assert(!(virtio_blk_ro_ops.features & (1u << 13)), "no DISCARD there");
	teardown();
	setup(&virtio_blk_ro_ops, 16);
	cr_assert_eq(cfg32(36), 0);
	teardown();
}

Test(virtio_blk, in_reads_the_image_and_zeros_past_it)
{
	setup(&virtio_blk_ops, 16);
	cr_assert_eq(run(T_IN, 30, DATA, 2048, true), S_OK);
	cr_assert_eq(last_used_len(), 2049, "data and status");
	for (unsigned i = 0; i < 2048; i++)
		cr_assert_eq(g.ram[DATA + i], image_byte(30 * 512 + i), "byte %u", i);
	cr_assert_eq(run(T_IN, 32, DATA, 512, true), S_OK);
	cr_assert_eq(g.ram[DATA], 0);
	teardown();
}

Test(virtio_blk, out_then_in_and_the_image_is_shared_unchanged)
{
	setup(&virtio_blk_ops, 16);
	memset(g.ram + DATA, 0xc3, 1024);
	cr_assert_eq(run(T_OUT, 1, DATA, 1024, false), S_OK);
	cr_assert_eq(last_used_len(), 1);
	cr_assert_eq(run(T_IN, 0, DATA + 0x1000, 2048, true), S_OK);
	for (unsigned i = 0; i < 2048; i++) {
		uint8_t want = i >= 512 && i < 1536 ? 0xc3 : image_byte(i);

		cr_assert_eq(g.ram[DATA + 0x1000 + i], want, "byte %u", i);
	}
	cr_assert_eq(image[600], image_byte(600));
	teardown();
}

Test(virtio_blk, flush_and_get_id)
{
	setup(&virtio_blk_ops, 16);
	cr_assert_eq(run(T_FLUSH, 0, 0, 0, false), S_OK);
	memset(g.ram + DATA, 0xff, 32);
	cr_assert_eq(run(T_GET_ID, 0, DATA, 32, true), S_OK);
	cr_assert_eq(last_used_len(), 21);
	cr_assert(memcmp(g.ram + DATA, "disk-0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20) == 0);
	cr_assert_eq(g.ram[DATA + 20], 0xff, "nothing past 20 bytes");
	teardown();
}

Test(virtio_blk, a_read_only_disk_refuses_writes)
{
	setup(&virtio_blk_ro_ops, 16);
	memset(g.ram + DATA, 0xc3, 512);
	cr_assert_eq(run(T_OUT, 0, DATA, 512, false), S_IOERR);
	put64(DATA, 0);
	put32(DATA + 8, 8);
	put32(DATA + 12, 0);
	cr_assert_eq(run(T_WRITE_ZEROES, 0, DATA, 16, false), S_IOERR);
	cr_assert_eq(run(T_DISCARD, 0, DATA, 16, false), S_IOERR);
	cr_assert_eq(ov.used, 0);
	cr_assert_eq(run(T_IN, 0, DATA, 512, true), S_OK);
	cr_assert_eq(g.ram[DATA + 1], image_byte(1));
	teardown();
}

Test(virtio_blk, ranges_past_the_capacity_are_ioerr)
{
	setup(&virtio_blk_ops, 16);
	cr_assert_eq(run(T_IN, 127, DATA, 1024, true), S_IOERR);
	cr_assert_eq(last_used_len(), 1, "no data claimed");
	cr_assert_eq(run(T_IN, 128, DATA, 512, true), S_IOERR);
	cr_assert_eq(run(T_OUT, UINT64_MAX / 256, DATA, 512, false), S_IOERR);
	cr_assert_eq(run(T_IN, UINT64_MAX, DATA, 512, true), S_IOERR);
	cr_assert_eq(run(T_IN, 0, DATA, 100, true), S_IOERR, "not whole sectors");
	cr_assert_eq(run(T_IN, 127, DATA, 512, true), S_OK);
	cr_assert_eq(ov.used, 0);
	teardown();
}

Test(virtio_blk, a_full_overlay_is_ioerr_for_that_write_only)
{
	setup(&virtio_blk_ops, 4);
	memset(g.ram + DATA, 0xc3, 8192);
	cr_assert_eq(run(T_OUT, 0, DATA, 512, false), S_OK);   /* 3 tables + 1 page */
	cr_assert_eq(run(T_OUT, 8, DATA, 8192, false), S_IOERR);
	cr_assert_eq(ov.used, 4);
	cr_assert_eq(run(T_IN, 8, DATA + 0x4000, 512, true), S_OK);
	cr_assert_eq(g.ram[DATA + 0x4000 + 3], image_byte(8 * 512 + 3), "nothing written");
	cr_assert_eq(run(T_OUT, 1, DATA, 512, false), S_OK, "its own block is still writable");
	teardown();
}

/* Writes discard/write-zeroes segment i at DATA. */
static void seg(unsigned i, uint64_t sector, uint32_t num, uint32_t flags)
{
	put64(DATA + 16 * i, sector);
	put32(DATA + 16 * i + 8, num);
	put32(DATA + 16 * i + 12, flags);
}

Test(virtio_blk, discard_and_write_zeroes_read_zero_and_give_pages_back)
{
	setup(&virtio_blk_ops, 16);
	memset(g.ram + DATA + 0x4000, 0xc3, 8192);
	cr_assert_eq(run(T_OUT, 40, DATA + 0x4000, 8192, false), S_OK);
	cr_assert_eq(ov.used, 5, "two pages over a zero image and three tables");
	seg(0, 40, 8, 0);
	cr_assert_eq(run(T_DISCARD, 0, DATA, 16, false), S_OK);
	seg(0, 48, 8, 1);
	cr_assert_eq(run(T_WRITE_ZEROES, 0, DATA, 16, false), S_OK);
	cr_assert_eq(ov.used, 0, "all given back");
	cr_assert_eq(live, 0);
	/* Over the image: two segments, one partial. */
	seg(0, 2, 1, 0);
	seg(1, 8, 8, 1);
	cr_assert_eq(run(T_WRITE_ZEROES, 0, DATA, 32, false), S_OK);
	cr_assert_eq(run(T_IN, 0, DATA + 0x8000, 8192, true), S_OK);
	for (unsigned i = 0; i < 8192; i++) {
		bool z = (i >= 1024 && i < 1536) || i >= 4096;

		cr_assert_eq(g.ram[DATA + 0x8000 + i], z ? 0 : image_byte(i), "byte %u", i);
	}
	teardown();
}

Test(virtio_blk, discard_segments_are_checked)
{
	setup(&virtio_blk_ops, 16);
	seg(0, 0, 8, 1);
	cr_assert_eq(run(T_DISCARD, 0, DATA, 16, false), S_UNSUPP, "UNMAP is for WRITE_ZEROES");
	seg(0, 0, 8, 2);
	cr_assert_eq(run(T_WRITE_ZEROES, 0, DATA, 16, false), S_UNSUPP, "unknown flag");
	seg(0, 0, VIRTIO_BLK_DZ_SECTORS + 1, 0);
	cr_assert_eq(run(T_DISCARD, 0, DATA, 16, false), S_UNSUPP, "too many sectors");
	for (unsigned i = 0; i <= VIRTIO_BLK_DZ_SEG; i++)
		seg(i, 0, 8, 0);
	cr_assert_eq(run(T_DISCARD, 0, DATA, 16 * (VIRTIO_BLK_DZ_SEG + 1), false), S_UNSUPP);
	cr_assert_eq(run(T_DISCARD, 0, DATA, 24, false), S_UNSUPP, "not whole segments");
	/* A bad second segment stops the first from being done. */
	seg(0, 0, 8, 0);
	seg(1, 125, 8, 0);
	cr_assert_eq(run(T_DISCARD, 0, DATA, 32, false), S_IOERR);
	seg(1, UINT64_MAX - 2, 8, 0);
	cr_assert_eq(run(T_DISCARD, 0, DATA, 32, false), S_IOERR);
	cr_assert_eq(run(T_IN, 0, DATA + 0x4000, 512, true), S_OK);
	cr_assert_eq(g.ram[DATA + 0x4000 + 7], image_byte(7), "nothing discarded");
	cr_assert_eq(ov.used, 0);
	teardown();
}

Test(virtio_blk, unknown_types_are_unsupported)
{
	setup(&virtio_blk_ops, 16);
	cr_assert_eq(run(10, 0, DATA, 16, true), S_UNSUPP);   /* GET_LIFETIME: not offered */
	cr_assert_eq(run(14, 0, DATA, 16, false), S_UNSUPP);  /* SECURE_ERASE */
	cr_assert_eq(run(0xdeadbeef, 0, 0, 0, false), S_UNSUPP);
	cr_assert_eq(dev.status & VIRTIO_STATUS_NEEDS_RESET, 0);
	teardown();
}

Test(virtio_blk, no_status_byte_is_needs_reset)
{
	setup(&virtio_blk_ops, 16);
	put32(HDR, T_IN);
	set_desc(DESC, 0, HDR, 16, 0, 0);
	ring_add(&ring, 0);
	dev.ops->notify(&dev, 0);
	cr_assert(dev.status & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_str_eq(g.last_log, "virtq 0: request has no status byte");
	cr_assert_eq(used_idx(&ring), 0);
	teardown();
}

Test(virtio_blk, a_short_header_is_needs_reset)
{
	setup(&virtio_blk_ops, 16);
	set_desc(DESC, 0, HDR, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&ring, 0);
	dev.ops->notify(&dev, 0);
	cr_assert(dev.status & VIRTIO_STATUS_NEEDS_RESET);
	cr_assert_str_eq(g.last_log, "virtq 0: request header short");
	teardown();
}

Test(virtio_blk, bounded_work_per_notification)
{
	setup(&virtio_blk_ops, 16);
	for (unsigned i = 0; i < 40; i++)
		add(i, T_FLUSH, 0, 0, 0, false);
	for (unsigned i = 40; i < 42; i++)
		add(i, T_IN, 0, DATA, 32768, true);   /* 64 KiB of data in two requests */
	add(42, T_FLUSH, 0, 0, 0, false);
	cr_assert(dev.ops->notify(&dev, 0), "the byte budget is spent: work is left");
	cr_assert_eq(used_idx(&ring), 42);
	cr_assert(!dev.ops->notify(&dev, 0));
	cr_assert_eq(used_idx(&ring), 43);
	teardown();
}

Test(virtio_blk, zeroing_counts_against_the_byte_budget)
{
	setup(&virtio_blk_ops, 16);
	seg(0, 0, 128, 1);   /* 64 KiB: the whole budget in one request */
	add(0, T_WRITE_ZEROES, 0, DATA, 16, false);
	add(1, T_FLUSH, 0, 0, 0, false);
	cr_assert(dev.ops->notify(&dev, 0), "work is left after 64 KiB zeroed");
	cr_assert_eq(used_idx(&ring), 1);
	cr_assert(!dev.ops->notify(&dev, 0));
	cr_assert_eq(used_idx(&ring), 2);
	teardown();
}

Test(virtio_blk, at_most_the_chain_budget_per_notification)
{
	setup(&virtio_blk_ops, 16);
	for (unsigned i = 0; i < 70; i++)
		add(i, T_FLUSH, 0, 0, 0, false);
	cr_assert(dev.ops->notify(&dev, 0), "64 requests is the chain budget");
	cr_assert_eq(used_idx(&ring), VIRTIO_BUDGET_CHAINS);
	cr_assert(!dev.ops->notify(&dev, 0));
	cr_assert_eq(used_idx(&ring), 70);
	teardown();
}
