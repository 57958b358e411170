/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pagetable.h: generic builder for x86 4-level page tables, shared by the
 * host's own tables, AMD nested tables and Intel EPT (SDM vol. 3, 4.5 and
 * 29.3; APM vol. 2, 5.3 and 15.25).
 */
#ifndef PVHV_ARCH_X86_PAGETABLE_H
#define PVHV_ARCH_X86_PAGETABLE_H

#include "lib/base.h"

#define PT_ENTRIES 512
#define PT_ADDR_MASK 0x000ffffffffff000ULL
#define PT_VA_LIMIT (1ULL << 48)

/* What distinguishes one table format from another. */
struct pt_format {
	uint64_t present_mask; /* entry present if any of these bits is set */
	uint64_t table_flags;  /* flags written in non-leaf entries */
	uint64_t large_bit;    /* PS: marks a 2 MiB / 1 GiB leaf */
};

extern const struct pt_format pt_format_x86; /* P, P|RW|US tables, PS */
extern const struct pt_format pt_format_ept; /* R|W|X, RWX tables, PS */

/* How the module reaches table memory; ctx is passed back unchanged. */
struct pt_ops {
	void *(*to_virt)(void *ctx, hpa_t pa);
	int (*alloc_table)(void *ctx, hpa_t *out); /* a zeroed 4 KiB page */
	void (*free_table)(void *ctx, hpa_t pa);
	void *ctx;
};

/*
 * Map [va, va + size) to [pa, pa + size) with leaf_flags.  A 2 MiB leaf
 * (leaf_flags | large_bit) is used wherever va and pa are both 2 MiB
 * aligned and at least 2 MiB remains, 4 KiB leaves elsewhere.  A 2 MiB
 * chunk whose page-directory entry already points at a table (say, one
 * left empty by pt_unmap()) uses 4 KiB leaves in that table: pt_map()
 * never frees a table, so no stale paging-structure cache can reach a
 * reused page.
 *
 * Returns 0, or:
 *  -EINVAL  va, pa or size not 4 KiB aligned, size 0, va + size above
 *           2^48, pa + size above 2^52, leaf_flags with address bits or
 *           large_bit set, or without any present_mask bit;
 *  -EEXIST  a target entry is already present (leaf or larger leaf);
 *  -ENOMEM  alloc_table failed.
 * On error, mappings and tables made so far remain: the caller unmaps the
 * range or destroys the whole table.
 */
int pt_map(const struct pt_format *f, const struct pt_ops *ops, hpa_t root,
	   uint64_t va, hpa_t pa, uint64_t size, uint64_t leaf_flags);

/*
 * Clear every leaf covering [va, va + size).  Holes are skipped, so
 * unmapping an unmapped range succeeds.  A 2 MiB (or 1 GiB) leaf only
 * partly inside the range is split first into a new table carrying the
 * same flags.  Intermediate tables are kept even when they become empty.
 * The caller flushes TLBs.  -EINVAL for misaligned va/size, size 0 or
 * va + size above 2^48; -ENOMEM if a split cannot allocate (leaves
 * cleared so far stay cleared).
 */
int pt_unmap(const struct pt_format *f, const struct pt_ops *ops, hpa_t root,
	     uint64_t va, uint64_t size);

/*
 * Translate va.  Returns 0 with *pa (including va's offset in the page),
 * *leaf_flags (the entry without address bits; large_bit included for
 * 2 MiB / 1 GiB leaves) and *level (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB);
 * any output pointer may be NULL.  -ENOENT if unmapped, -EINVAL if
 * va >= 2^48.
 */
int pt_lookup(const struct pt_format *f, const struct pt_ops *ops, hpa_t root,
	      uint64_t va, hpa_t *pa, uint64_t *leaf_flags, unsigned *level);

/* Free every table below root and root itself (never the leaf pages). */
void pt_destroy(const struct pt_format *f, const struct pt_ops *ops,
		hpa_t root);

/* Number of tables in the tree, root included, for memory accounting. */
uint64_t pt_count_tables(const struct pt_format *f, const struct pt_ops *ops,
			 hpa_t root);

#endif
