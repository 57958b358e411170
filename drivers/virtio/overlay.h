/* SPDX-License-Identifier: Apache-2.0 */
/*
 * overlay.h: a copy-on-write block overlay over a shared read-only base
 * image, at 4 KiB granularity, whose private pages come from a callback
 * (the owning domain's budget) and are capped by a page limit.
 *
 * The map from block number to private page is a fixed-depth radix tree:
 * a root table, mid tables and leaf tables, each one page of 512 pointers
 * (9 bits of block number per level, so at most 2^27 blocks = 512 GiB).
 * Lookups are three loads; memory grows only with what was written; table
 * pages come from the same callback and count against the same limit, so
 * the limit bounds everything the overlay holds.  A leaf entry is NULL
 * (read the base), OVERLAY_ZERO (reads zeros, no page: a discarded block
 * whose base is not zero) or a private page.
 *
 * Pure: includes only lib/base.h.  Offsets and lengths come from guests
 * and are checked against the disk size with overflow checks.
 */
#ifndef PVHV_DRIVERS_VIRTIO_OVERLAY_H
#define PVHV_DRIVERS_VIRTIO_OVERLAY_H

#include "lib/base.h"

#define OVERLAY_BLOCK 4096u
#define OVERLAY_MAX_SIZE (1ULL << (27 + 12))   /* 512 GiB: three 9-bit levels */

/*
 * Where private pages come from: alloc_page stores a 4 KiB-aligned page
 * of 4 KiB (contents undefined) in *page and returns 0, or a negative
 * errno; free_page gives one back.  ctx is passed back unchanged.
 */
struct overlay_pages {
	int (*alloc_page)(void *ctx, void **page);
	void (*free_page)(void *ctx, void *page);
	void *ctx;
};

struct overlay {
	const uint8_t *base;
	uint64_t base_size;    /* bytes of the base image; reads past it are zeros */
	uint64_t size;         /* bytes of the disk, >= base_size */
	uint64_t limit;        /* pages (data + tables) the overlay may hold */
	uint64_t used;         /* pages it holds now */
	struct overlay_pages pg;
	void **root;           /* NULL until the first private page */
};

/*
 * Sets up ov over base (not copied; must outlive ov).  0, or -EINVAL when
 * size < base_size, size > OVERLAY_MAX_SIZE, or base is NULL with a
 * non-zero base_size, or the callbacks are missing.  Allocates nothing.
 */
int overlay_init(struct overlay *ov, const void *base, uint64_t base_size, uint64_t size,
		 uint64_t limit, const struct overlay_pages *pg);

/* Gives every page back; ov then reads as the base again (used == 0). */
void overlay_destroy(struct overlay *ov);

/* Copies [off, off + len) of the disk into dst.  0, or -ERANGE outside the disk. */
int overlay_read(const struct overlay *ov, uint64_t off, void *dst, size_t len);

/*
 * Writes src at [off, off + len), copying each touched block first (a
 * partial block keeps the rest of its old contents).  0; -ERANGE outside
 * the disk; -ENOSPC when the pages it needs would pass the limit (nothing
 * changed); -ENOMEM or the callback's error when a page could not be had
 * (reads unchanged, but copies of the old contents may stay as pages).
 */
int overlay_write(struct overlay *ov, uint64_t off, const void *src, size_t len);

/*
 * Makes [off, off + len) read as zeros (DISCARD and WRITE_ZEROES): whole
 * blocks give their page back (and their table pages when those empty),
 * partial ones are zeroed in place or, where the old contents are not
 * zero, copied first.  Errors as overlay_write (a callback failure may
 * leave a prefix done).  Work is linear in len / 4 KiB: callers bound len.
 */
int overlay_zero(struct overlay *ov, uint64_t off, uint64_t len);

/*
 * Pages (data + tables) that overlay_write (zero false) or overlay_zero
 * (zero true) of that range would take, or UINT64_MAX when the range is
 * outside the disk.  Lets a caller check a request split in pieces as a
 * whole: used + needed <= limit.
 */
uint64_t overlay_pages_needed(const struct overlay *ov, uint64_t off, uint64_t len, bool zero);

#endif
