/* SPDX-License-Identifier: Apache-2.0 */
/* pagetable.c: builds, walks and frees x86 4-level tables in host, NPT or EPT format. */
#include "lib/base.h"
#include "arch/x86/pagetable.h"

/*
 * Levels count up from the leaf: 1 = page table (4 KiB leaves), 2 = page
 * directory (2 MiB leaves with PS), 3 = PDPT (1 GiB leaves with PS),
 * 4 = PML4 (always tables; PS there is reserved).  SDM vol. 3, 4.5.
 */
#define PT_LEVELS 4

const struct pt_format pt_format_x86 = {
	.present_mask = 1ULL << 0,              /* P */
	.table_flags = (1ULL << 0) | (1ULL << 1) | (1ULL << 2), /* P|RW|US */
	.large_bit = 1ULL << 7,                 /* PS */
};

/* SDM vol. 3, 29.3.2: an EPT entry is present if any of R, W, X is set. */
const struct pt_format pt_format_ept = {
	.present_mask = 7,
	.table_flags = 7,                       /* R|W|X */
	.large_bit = 1ULL << 7,                 /* "page size" in PDE/PDPTE */
};

static unsigned level_shift(unsigned level)
{
	return PAGE_SHIFT + 9 * (level - 1);
}

static uint64_t level_size(unsigned level)
{
	return 1ULL << level_shift(level);
}

static unsigned level_index(uint64_t va, unsigned level)
{
	return (unsigned)((va >> level_shift(level)) & (PT_ENTRIES - 1));
}

static uint64_t *table_of(const struct pt_ops *ops, hpa_t pa)
{
	return ops->to_virt(ops->ctx, pa & PT_ADDR_MASK);
}

static bool is_present(const struct pt_format *f, uint64_t e)
{
	return (e & f->present_mask) != 0;
}

/* A present entry at this level maps memory rather than a table. */
static bool is_leaf(const struct pt_format *f, uint64_t e, unsigned level)
{
	return level == 1 || ((level == 2 || level == 3) && (e & f->large_bit));
}

/* Point *e at a new zeroed table. */
static int new_table(const struct pt_format *f, const struct pt_ops *ops,
		     uint64_t *e)
{
	hpa_t t;
	int rc = ops->alloc_table(ops->ctx, &t);

	if (rc)
		return rc < 0 ? rc : -ENOMEM;
	*e = (t & PT_ADDR_MASK) | f->table_flags;
	return 0;
}

/*
 * Map one leaf at va: a 2 MiB one if want_2m and the page directory slot
 * is empty, else a 4 KiB one.  *step gets the size mapped.
 */
static int map_one(const struct pt_format *f, const struct pt_ops *ops,
		   hpa_t root, uint64_t va, hpa_t pa, uint64_t flags,
		   bool want_2m, uint64_t *step)
{
	uint64_t *t = table_of(ops, root);
	unsigned level;
	int rc;

	for (level = PT_LEVELS; level >= 1; level--) {
		uint64_t *e = &t[level_index(va, level)];

		if (level == 1 || (level == 2 && want_2m)) {
			if (is_present(f, *e)) {
				if (level == 1 || is_leaf(f, *e, level))
					return -EEXIST;
				/* A table already here: fill it with 4 KiB leaves. */
				want_2m = false;
				t = table_of(ops, *e);
				continue;
			}
			*e = pa | flags | (level == 2 ? f->large_bit : 0);
			*step = level_size(level);
			return 0;
		}
		if (!is_present(f, *e)) {
			rc = new_table(f, ops, e);
			if (rc)
				return rc;
		} else if (level < PT_LEVELS && is_leaf(f, *e, level)) {
			return -EEXIST;
		}
		t = table_of(ops, *e);
	}
	return -EINVAL; /* not reached */
}

int pt_map(const struct pt_format *f, const struct pt_ops *ops, hpa_t root,
	   uint64_t va, hpa_t pa, uint64_t size, uint64_t leaf_flags)
{
	if (size == 0 || !IS_ALIGNED(va | pa | size, PAGE_SIZE))
		return -EINVAL;
	if (!range_within(va, size, 0, PT_VA_LIMIT) ||
	    !range_within(pa, size, 0, PT_ADDR_MASK + PAGE_SIZE))
		return -EINVAL;
	if ((leaf_flags & (PT_ADDR_MASK | f->large_bit)) ||
	    !(leaf_flags & f->present_mask))
		return -EINVAL;

	while (size) {
		bool want_2m = IS_ALIGNED(va | pa, LARGE_PAGE_SIZE) &&
			       size >= LARGE_PAGE_SIZE;
		uint64_t step = 0;
		int rc = map_one(f, ops, root, va, pa, leaf_flags, want_2m,
				 &step);

		if (rc)
			return rc;
		va += step;
		pa += step;
		size -= step;
	}
	return 0;
}

/*
 * Replace the large leaf *e at level (2 or 3) by a table of 512 leaves one
 * level down covering the same memory with the same flags.  The PAT bit of
 * a large leaf (bit 12, inside the address field) is not carried over.
 */
static int split_leaf(const struct pt_format *f, const struct pt_ops *ops,
		      uint64_t *e, unsigned level)
{
	uint64_t old = *e, child = old & ~PT_ADDR_MASK, *t, e_new = 0;
	hpa_t base = old & PT_ADDR_MASK & ~(level_size(level) - 1);
	unsigned i;
	int rc;

	if (level - 1 == 1)
		child &= ~f->large_bit;
	rc = new_table(f, ops, &e_new);
	if (rc)
		return rc;
	t = table_of(ops, e_new);
	for (i = 0; i < PT_ENTRIES; i++)
		t[i] = (base + i * level_size(level - 1)) | child;
	*e = e_new;
	return 0;
}

int pt_unmap(const struct pt_format *f, const struct pt_ops *ops, hpa_t root,
	     uint64_t va, uint64_t size)
{
	if (size == 0 || !IS_ALIGNED(va | size, PAGE_SIZE) ||
	    !range_within(va, size, 0, PT_VA_LIMIT))
		return -EINVAL;

	while (size) {
		uint64_t *t = table_of(ops, root), step = PAGE_SIZE;
		unsigned level;

		for (level = PT_LEVELS; level >= 1; level--) {
			uint64_t *e = &t[level_index(va, level)];
			uint64_t span = level_size(level);
			uint64_t off = va & (span - 1);
			int rc;

			if (!is_present(f, *e)) {
				/* Hole: skip the rest of this entry's span. */
				step = span - off;
				break;
			}
			if (level < PT_LEVELS && is_leaf(f, *e, level)) {
				if (off == 0 && size >= span) {
					*e = 0;
					step = span;
					break;
				}
				rc = split_leaf(f, ops, e, level);
				if (rc)
					return rc;
			}
			t = table_of(ops, *e);
		}
		step = MIN(step, size);
		va += step;
		size -= step;
	}
	return 0;
}

int pt_lookup(const struct pt_format *f, const struct pt_ops *ops, hpa_t root,
	      uint64_t va, hpa_t *pa, uint64_t *leaf_flags, unsigned *level)
{
	uint64_t *t = table_of(ops, root);
	unsigned l;

	if (va >= PT_VA_LIMIT)
		return -EINVAL;
	for (l = PT_LEVELS; l >= 1; l--) {
		uint64_t e = t[level_index(va, l)];

		if (!is_present(f, e))
			return -ENOENT;
		if (l < PT_LEVELS && is_leaf(f, e, l)) {
			uint64_t mask = level_size(l) - 1;

			if (pa)
				*pa = (e & PT_ADDR_MASK & ~mask) | (va & mask);
			if (leaf_flags)
				*leaf_flags = e & ~PT_ADDR_MASK;
			if (level)
				*level = l;
			return 0;
		}
		t = table_of(ops, e);
	}
	return -ENOENT; /* not reached */
}

/* Free (or just count) the tables below the table at t, then t itself. */
static uint64_t walk_tables(const struct pt_format *f,
			    const struct pt_ops *ops, hpa_t t, unsigned level,
			    bool free_them)
{
	uint64_t n = 1;

	if (level > 1) {
		uint64_t *v = table_of(ops, t);
		unsigned i;

		for (i = 0; i < PT_ENTRIES; i++) {
			uint64_t e = v[i];

			if (!is_present(f, e) ||
			    (level < PT_LEVELS && is_leaf(f, e, level)))
				continue;
			n += walk_tables(f, ops, e & PT_ADDR_MASK, level - 1,
					 free_them);
		}
	}
	if (free_them)
		ops->free_table(ops->ctx, t);
	return n;
}

void pt_destroy(const struct pt_format *f, const struct pt_ops *ops,
		hpa_t root)
{
	walk_tables(f, ops, root, PT_LEVELS, true);
}

uint64_t pt_count_tables(const struct pt_format *f, const struct pt_ops *ops,
			 hpa_t root)
{
	return walk_tables(f, ops, root, PT_LEVELS, false);
}
