/* SPDX-License-Identifier: Apache-2.0 */
/* overlay.c: a copy-on-write 4 KiB block overlay over a read-only image (see overlay.h). */
#include "drivers/virtio/overlay.h"

#define TABLE_ENTRIES 512u
#define BLOCK_SHIFT 12

/* The marker of a block that reads as zeros without a page of its own. */
static const char zero_marker;
#define OVERLAY_ZERO ((void *)&zero_marker)

static unsigned idx(uint64_t b, unsigned level)
{
	return (unsigned)(b >> (9 * level)) & (TABLE_ENTRIES - 1);
}

static bool is_page(const void *e)
{
	return e && e != OVERLAY_ZERO;
}

/* The leaf table holding block b, or NULL when none exists yet. */
static void **leaf_of(const struct overlay *ov, uint64_t b)
{
	void **mid;

	if (!ov->root)
		return NULL;
	mid = ov->root[idx(b, 2)];
	if (!mid)
		return NULL;
	return mid[idx(b, 1)];
}

static void *entry(const struct overlay *ov, uint64_t b)
{
	void **leaf = leaf_of(ov, b);

	return leaf ? leaf[idx(b, 0)] : NULL;
}

int overlay_init(struct overlay *ov, const void *base, uint64_t base_size, uint64_t size,
		 uint64_t limit, const struct overlay_pages *pg)
{
	if (size < base_size || size > OVERLAY_MAX_SIZE || (!base && base_size) || !pg ||
	    !pg->alloc_page || !pg->free_page)
		return -EINVAL;
	memset(ov, 0, sizeof(*ov));
	ov->base = base;
	ov->base_size = base_size;
	ov->size = size;
	ov->limit = limit;
	ov->pg = *pg;
	return 0;
}

static int get_page(struct overlay *ov, void **out)
{
	int rc;

	if (ov->used >= ov->limit)
		return -ENOSPC;
	rc = ov->pg.alloc_page(ov->pg.ctx, out);
	if (rc)
		return rc < 0 ? rc : -ENOMEM;
	if (!*out)
		return -ENOMEM;
	ov->used++;
	return 0;
}

static void put_page(struct overlay *ov, void *p)
{
	ov->pg.free_page(ov->pg.ctx, p);
	ov->used--;
}

static int get_table(struct overlay *ov, void ***out)
{
	void *p;
	int rc = get_page(ov, &p);

	if (rc)
		return rc;
	memset(p, 0, OVERLAY_BLOCK);
	*out = p;
	return 0;
}

/* The leaf slot of block b, making the tables on the way. */
static int slot(struct overlay *ov, uint64_t b, void ***out)
{
	void **mid, **leaf;
	int rc;

	if (!ov->root && (rc = get_table(ov, &ov->root)))
		return rc;
	mid = ov->root[idx(b, 2)];
	if (!mid) {
		if ((rc = get_table(ov, &mid)))
			return rc;
		ov->root[idx(b, 2)] = mid;
	}
	leaf = mid[idx(b, 1)];
	if (!leaf) {
		if ((rc = get_table(ov, &leaf)))
			return rc;
		mid[idx(b, 1)] = leaf;
	}
	*out = &leaf[idx(b, 0)];
	return 0;
}

/* Bytes [o, o + n) of block b as they read now. */
static void block_read(const struct overlay *ov, uint64_t b, unsigned o, unsigned n, uint8_t *dst)
{
	const void *e = entry(ov, b);
	uint64_t at = (b << BLOCK_SHIFT) + o;

	if (is_page(e)) {
		memcpy(dst, (const uint8_t *)e + o, n);
	} else if (e == OVERLAY_ZERO || at >= ov->base_size) {
		memset(dst, 0, n);
	} else {
		uint64_t from_base = MIN((uint64_t)n, ov->base_size - at);

		memcpy(dst, ov->base + at, from_base);
		memset(dst + from_base, 0, n - from_base);
	}
}

/*
 * True when base bytes [at, at + n) are all zero (bytes past base_size
 * are).  Eight bytes a step where it can (DISCARD checks every block of
 * the range, twice: a byte loop cost 11 instructions per discarded byte).
 */
static bool base_zero(const struct overlay *ov, uint64_t at, uint64_t n)
{
	uint64_t end = MIN(at + n, ov->base_size), i = at;

	for (; i < end && (i & 7); i++)
		if (ov->base[i])
			return false;
	for (; i + 8 <= end; i += 8) {
		uint64_t w;

		memcpy(&w, ov->base + i, 8);
		if (w)
			return false;
	}
	for (; i < end; i++)
		if (ov->base[i])
			return false;
	return true;
}

/* Bytes of block b inside the disk (the last block may be short). */
static unsigned block_len(const struct overlay *ov, uint64_t b)
{
	return (unsigned)MIN((uint64_t)OVERLAY_BLOCK, ov->size - (b << BLOCK_SHIFT));
}

/*
 * What touching [o, o + n) of block b takes: *page when a private page
 * must be made, and the return value true when the leaf slot is set.
 */
static bool block_needs(const struct overlay *ov, uint64_t b, unsigned o, unsigned n, bool zero,
			bool *page)
{
	const void *e = entry(ov, b);
	uint64_t at = (b << BLOCK_SHIFT);

	*page = false;
	if (!zero) {
		*page = !is_page(e);
		return *page;
	}
	if (o == 0 && n == block_len(ov, b))   /* whole: NULL or the marker */
		return !e && !base_zero(ov, at, n);
	if (e)
		return false;                   /* zeroed in place, or already zeros */
	*page = !base_zero(ov, at + o, n);
	return *page;
}

uint64_t overlay_pages_needed(const struct overlay *ov, uint64_t off, uint64_t len, bool zero)
{
	uint64_t need = 0, last_mid = UINT64_MAX, last_leaf = UINT64_MAX;
	bool root = ov->root != NULL;

	if (!range_within(off, len, 0, ov->size))
		return UINT64_MAX;
	for (uint64_t pos = off; pos < off + len;) {
		uint64_t b = pos >> BLOCK_SHIFT;
		unsigned o = (unsigned)(pos & (OVERLAY_BLOCK - 1));
		unsigned n = (unsigned)MIN(off + len - pos, (uint64_t)block_len(ov, b) - o);
		bool page;

		if (block_needs(ov, b, o, n, zero, &page)) {
			need += page;
			if (!root) {
				need++;
				root = true;
			}
			/* Missing tables are counted once each: blocks come in order. */
			if (!leaf_of(ov, b) && (b >> 9) != last_leaf) {
				last_leaf = b >> 9;
				need++;
				if ((!ov->root || !ov->root[idx(b, 2)]) && (b >> 18) != last_mid) {
					last_mid = b >> 18;
					need++;
				}
			}
		}
		pos += n;
	}
	return need;
}

int overlay_read(const struct overlay *ov, uint64_t off, void *dst, size_t len)
{
	uint8_t *d = dst;

	if (!range_within(off, len, 0, ov->size))
		return -ERANGE;
	for (uint64_t pos = off; pos < off + len;) {
		uint64_t b = pos >> BLOCK_SHIFT;
		unsigned o = (unsigned)(pos & (OVERLAY_BLOCK - 1));
		unsigned n = (unsigned)MIN(off + len - pos, (uint64_t)OVERLAY_BLOCK - o);

		block_read(ov, b, o, n, d + (pos - off));
		pos += n;
	}
	return 0;
}

/* Gives block b a private page holding what it reads as now. */
static int materialize(struct overlay *ov, uint64_t b, uint8_t **out)
{
	void **s, *p;
	int rc;

	if ((rc = slot(ov, b, &s)))
		return rc;
	if (!is_page(*s)) {
		if ((rc = get_page(ov, &p)))
			return rc;
		memset(p, 0, OVERLAY_BLOCK);
		block_read(ov, b, 0, block_len(ov, b), p);
		*s = p;
	}
	*out = *s;
	return 0;
}

static bool table_empty(void **t)
{
	for (unsigned i = 0; i < TABLE_ENTRIES; i++)
		if (t[i])
			return false;
	return true;
}

/* Frees the leaf and mid tables of blocks [first, last] that hold nothing any more. */
static void prune(struct overlay *ov, uint64_t first, uint64_t last)
{
	if (!ov->root)
		return;
	for (uint64_t m = first >> 18; m <= last >> 18; m++) {
		void **mid = ov->root[idx(m << 18, 2)];

		if (!mid)
			continue;
		for (uint64_t l = MAX(first >> 9, m << 9); l <= MIN(last >> 9, (m << 9) + 511); l++) {
			void **leaf = mid[idx(l << 9, 1)];

			if (leaf && table_empty(leaf)) {
				put_page(ov, leaf);
				mid[idx(l << 9, 1)] = NULL;
			}
		}
		if (table_empty(mid)) {
			put_page(ov, mid);
			ov->root[idx(m << 18, 2)] = NULL;
		}
	}
	if (table_empty(ov->root)) {
		put_page(ov, ov->root);
		ov->root = NULL;
	}
}

int overlay_write(struct overlay *ov, uint64_t off, const void *src, size_t len)
{
	const uint8_t *s = src;
	uint64_t need = overlay_pages_needed(ov, off, len, false);
	int rc;

	if (need == UINT64_MAX)
		return -ERANGE;
	if (need > ov->limit - ov->used)
		return -ENOSPC;
	/* Copy first, then write: a failed copy leaves what reads return unchanged. */
	for (uint64_t pos = off; pos < off + len;) {
		uint64_t b = pos >> BLOCK_SHIFT;
		uint8_t *p;

		if ((rc = materialize(ov, b, &p)))
			return rc;
		pos = (b + 1) << BLOCK_SHIFT;
	}
	for (uint64_t pos = off; pos < off + len;) {
		uint64_t b = pos >> BLOCK_SHIFT;
		unsigned o = (unsigned)(pos & (OVERLAY_BLOCK - 1));
		unsigned n = (unsigned)MIN(off + len - pos, (uint64_t)OVERLAY_BLOCK - o);

		memcpy((uint8_t *)entry(ov, b) + o, s + (pos - off), n);
		pos += n;
	}
	return 0;
}

int overlay_zero(struct overlay *ov, uint64_t off, uint64_t len)
{
	uint64_t need = overlay_pages_needed(ov, off, len, true);
	int rc;

	if (need == UINT64_MAX)
		return -ERANGE;
	if (need > ov->limit - ov->used)
		return -ENOSPC;
	if (!len)
		return 0;
	for (uint64_t pos = off; pos < off + len;) {
		uint64_t b = pos >> BLOCK_SHIFT;
		unsigned o = (unsigned)(pos & (OVERLAY_BLOCK - 1));
		unsigned n = (unsigned)MIN(off + len - pos, (uint64_t)block_len(ov, b) - o);
		void **leaf = leaf_of(ov, b), **s;
		void *e = leaf ? leaf[idx(b, 0)] : NULL;
		uint8_t *p;

		if (o == 0 && n == block_len(ov, b)) {
			bool marker = !base_zero(ov, b << BLOCK_SHIFT, n);

			if (is_page(e)) {
				put_page(ov, e);
				leaf[idx(b, 0)] = NULL;
			}
			if (marker) {
				if ((rc = slot(ov, b, &s)))
					return rc;
				*s = OVERLAY_ZERO;
			}
		} else if (is_page(e)) {
			memset((uint8_t *)e + o, 0, n);
		} else if (!e && !base_zero(ov, (b << BLOCK_SHIFT) + o, n)) {
			if ((rc = materialize(ov, b, &p)))
				return rc;
			memset(p + o, 0, n);
		}
		pos += n;
	}
	prune(ov, off >> BLOCK_SHIFT, (off + len - 1) >> BLOCK_SHIFT);
	return 0;
}

void overlay_destroy(struct overlay *ov)
{
	if (!ov->root)
		return;
	for (unsigned i = 0; i < TABLE_ENTRIES; i++) {
		void **mid = ov->root[i];

		if (!mid)
			continue;
		for (unsigned j = 0; j < TABLE_ENTRIES; j++) {
			void **leaf = mid[j];

			if (!leaf)
				continue;
			for (unsigned k = 0; k < TABLE_ENTRIES; k++)
				if (is_page(leaf[k]))
					put_page(ov, leaf[k]);
			put_page(ov, leaf);
		}
		put_page(ov, mid);
	}
	put_page(ov, ov->root);
	ov->root = NULL;
}
