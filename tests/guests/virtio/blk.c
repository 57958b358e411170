/* SPDX-License-Identifier: Apache-2.0 */
/*
 * blk.c: the virtio guest's mode=blk (a disk whose image is the harness's
 * pattern: byte i of the image is PATTERN(i)) and mode=batch (a whole ring of
 * requests behind one notification).
 */
#include "vguest.h"

#define BLK_T_IN 0u
#define BLK_T_OUT 1u
#define BLK_T_FLUSH 4u
#define BLK_T_GET_ID 8u
#define BLK_T_DISCARD 11u
#define BLK_S_OK 0u
#define BLK_S_IOERR 1u
#define BLK_F_RO (1ull << 5)

/* The image's bytes (tests/integration/run.py gen_pattern writes the same). */
#define PATTERN(i) ((uint8_t)(((i) * 131u + ((i) >> 9)) & 0xff))

struct blk_req {
	uint32_t type, reserved;
	uint64_t sector;
};

/* One request: header, data (in or out, may be 0 bytes), status.  The status byte, or -1. */
static int blk_do(struct vio_dev *d, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
		  bool data_in, uint32_t *used)
{
	uint64_t hdr = arena_take(sizeof(struct blk_req), 16), st = arena_take(1, 1);
	struct blk_req *r = (struct blk_req *)(uintptr_t)hdr;
	struct vio_buf b[3];
	unsigned n = 0;

	r->type = type;
	r->sector = sector;
	*(volatile uint8_t *)(uintptr_t)st = 0xee;
	b[n++] = (struct vio_buf){ hdr, sizeof(*r), false };
	if (len)
		b[n++] = (struct vio_buf){ data, len, data_in };
	b[n++] = (struct vio_buf){ st, 1, true };
	if (vio_request(d, 0, b, n, 0, used) < 0)
		return -1;
	return *(volatile uint8_t *)(uintptr_t)st;
}

static unsigned pattern_mismatch(const uint8_t *p, uint64_t off, uint32_t len)
{
	unsigned bad = 0;

	for (uint32_t i = 0; i < len; i++)
		bad += p[i] != PATTERN(off + i);
	return bad;
}

/*
 * mode=blk [ro=1] [name=IMAGE]: capacity from config space; sectors 0-7 and
 * the last sector read the pattern; GET_ID is the image name; a read past
 * the end is IOERR.  Writable: a write, a read back, FLUSH, and a DISCARD
 * that reads back as zeros.  ro=1: RO is offered and a write is IOERR.
 */
void mode_blk(struct vio_dev *d)
{
	bool ro = cmdline_u64("ro", 0) != 0;
	const char *name = cmdline_get("name");
	uint64_t buf = arena_take(4096, 16), cap;
	const uint8_t *p = (const uint8_t *)(uintptr_t)buf;
	uint32_t used;
	int st;

	if (device_up(d, VIO_ID_BLOCK, wanted_features() | BLK_F_RO, 1, pick_qsize(d)) < 0)
		return;
	cap = vio_config_read(d, 0, 4) | (uint64_t)vio_config_read(d, 4, 4) << 32;
	check(cap >= 16, "capacity %lu sectors", cap);
	check(!!(d->features & BLK_F_RO) == ro, "RO %s", ro ? "offered" : "not offered");

	st = blk_do(d, BLK_T_IN, 0, buf, 4096, true, &used);
	check(st == BLK_S_OK && used == 4097, "read of sectors 0-7: status %d, used %u", st, used);
	check(!pattern_mismatch(p, 0, 4096), "sectors 0-7 hold the image (%u bytes differ)",
	      pattern_mismatch(p, 0, 4096));
	st = blk_do(d, BLK_T_IN, cap - 1, buf, 512, true, &used);
	check(st == BLK_S_OK && !pattern_mismatch(p, (cap - 1) * 512, 512), "the last sector holds the image");
	st = blk_do(d, BLK_T_IN, cap, buf, 512, true, &used);
	check(st == BLK_S_IOERR, "a read past the end is IOERR (status %d)", st);
	memset((void *)(uintptr_t)buf, 0, 32);
	st = blk_do(d, BLK_T_GET_ID, 0, buf, 20, true, &used);
	size_t nl = name ? strlen(name) : 0;
	check(st == BLK_S_OK && nl && nl <= 20 && !memcmp(p, name, nl) && (nl == 20 || !p[nl]),
	      "GET_ID is the image name \"%s\"", name ? name : "");

	memset((void *)(uintptr_t)buf, 0xa5, 1024);
	st = blk_do(d, BLK_T_OUT, 2, buf, 1024, false, &used);
	if (ro) {
		check(st == BLK_S_IOERR, "a write to the read-only disk is IOERR (status %d)", st);
	} else {
		check(st == BLK_S_OK, "a write of sectors 2-3 (status %d)", st);
		st = blk_do(d, BLK_T_IN, 0, buf, 4096, true, &used);
		unsigned bad = 0;
		for (unsigned i = 0; i < 4096; i++)
			bad += p[i] != (i >= 1024 && i < 2048 ? 0xa5 : PATTERN(i));
		check(st == BLK_S_OK && !bad, "sectors 0-7 read back the write around the image (%u differ)", bad);
		st = blk_do(d, BLK_T_FLUSH, 0, 0, 0, false, &used);
		check(st == BLK_S_OK, "FLUSH (status %d)", st);
		struct { uint64_t sector; uint32_t num, flags; } *seg = (void *)(uintptr_t)arena_take(16, 16);
		seg->sector = 8;
		seg->num = 8;
		seg->flags = 0;
		st = blk_do(d, BLK_T_DISCARD, 0, (uint64_t)(uintptr_t)seg, 16, false, &used);
		check(st == BLK_S_OK, "DISCARD of sectors 8-15 (status %d)", st);
		st = blk_do(d, BLK_T_IN, 8, buf, 4096, true, &used);
		unsigned nz = 0;
		for (unsigned i = 0; i < 4096; i++)
			nz += p[i] != 0;
		check(st == BLK_S_OK && !nz, "discarded sectors read as zeros (%u not)", nz);
	}
	check(!(vio_status(d) & (VIO_S_NEEDS_RESET | VIO_S_FAILED)), "status 0x%x is healthy", vio_status(d));
	arena_check("blk");
}

/*
 * mode=batch: a full ring of one-descriptor rng requests of 4 KiB each
 * behind a single notification.  pvhv serves at most 64 KiB per
 * notification and must finish the rest on its own (devices_poll), with
 * no further kick.
 */
#define BATCH_LEN 4096u
void mode_batch(struct vio_dev *d)
{
	struct vio_queue *q = &d->q[0];
	uint64_t buf, start;
	unsigned n, done, bad = 0;
	int known;

	if (device_up(d, VIO_ID_RNG, 0, 1, pick_qsize(d)) < 0)
		return;
	n = q->size;
	buf = arena_take(n * (uint64_t)BATCH_LEN, 16);
	for (unsigned i = 0; i < n; i++) {
		vio_raw_desc(q, (uint16_t)i, buf + i * (uint64_t)BATCH_LEN, BATCH_LEN, VIO_DESC_F_WRITE, 0);
		q->avail[2 + i] = (uint16_t)i;
	}
	vio_raw_avail_idx(q, (uint16_t)n);
	vio_notify(d, 0);
	start = tsc_read();
	while ((done = vio_used_idx(q)) != (uint16_t)n &&
	       tsc_read() - start < 2000 * vio_ticks_per_ms(&known))
		cpu_relax();
	check(done == n, "all %u requests behind one notification completed (%u did)", n, done);
	volatile uint32_t *el = (volatile uint32_t *)&q->used[2];
	for (unsigned i = 0; i < done; i++)
		bad += el[2 * i] >= n || el[2 * i + 1] != BATCH_LEN;
	check(!bad, "each used entry names a posted request, all %u bytes filled (%u bad)", BATCH_LEN, bad);
	check(!(vio_status(d) & (VIO_S_NEEDS_RESET | VIO_S_FAILED)), "status 0x%x is healthy", vio_status(d));
}
