/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ramlayout.h: where a domain's RAM lies in guest-physical space, and
 * which 2 MiB chunk of it holds a guest-physical address.
 *
 * RAM of ram_size bytes (a multiple of PVHV_RAM_ALIGN, at most
 * PVHV_RAM_MAX; callers check that) is low RAM [0, ram_low_size()) and
 * high RAM [PVHV_RAM_HIGH_GPA, ram_end()) (see pvhv/platform.h).  Chunks
 * of PVHV_RAM_ALIGN bytes are numbered 0 .. ram_size / PVHV_RAM_ALIGN - 1
 * through low RAM, then on through high RAM, with no gap.
 */
#ifndef PVHV_PVH_RAMLAYOUT_H
#define PVHV_PVH_RAMLAYOUT_H

#include "lib/base.h"

/* Bytes of low RAM: min(ram_size, PVHV_RAM_LOW_END). */
uint64_t ram_low_size(uint64_t ram_size);

/* The end of RAM's highest range: ram_low_size() with no high RAM. */
uint64_t ram_end(uint64_t ram_size);

/*
 * Whether [gpa, gpa + len) is RAM, inside one of its two ranges (len 0
 * counts as 1: gpa itself must be RAM).  If it is, and chunk is not NULL,
 * *chunk is the index of the chunk holding gpa; a range in one RAM range
 * has consecutive chunk indexes.  A range that wraps, touches the hole or
 * crosses the end of RAM is not RAM.
 */
bool ram_chunk(uint64_t ram_size, gpa_t gpa, uint64_t len, uint64_t *chunk);

/* The guest-physical address where chunk i starts; i < ram_size / PVHV_RAM_ALIGN. */
gpa_t ram_chunk_gpa(uint64_t ram_size, uint64_t i);

/* Whether [gpa, gpa + len) (len > 0; wrapping counts as overlapping) shares a byte with RAM. */
bool ram_overlaps(uint64_t ram_size, gpa_t gpa, uint64_t len);

/*
 * A domain's RAM as ranges of guest-physical space: ascending, disjoint,
 * each a whole number of PVHV_RAM_ALIGN chunks, with no range in the hole
 * [PVHV_RAM_LOW_END, PVHV_RAM_HIGH_GPA).  Chunks are numbered through the
 * ranges in order.  Range 0 always starts at 0 (chunk 0: boot info, ACPI,
 * the reset page).
 *
 * The plain layout is low RAM and high RAM as above.  The identity layout
 * (a control domain driving devices without an IOMMU) is chunk 0, private,
 * then ranges of host memory mapped at their own addresses: guest-physical
 * equals host-physical there.  Its guest memory map lists only the first
 * MiB of chunk 0 (pvh/bootinfo.c): a device told to DMA to a guest address
 * in [1 MiB, 2 MiB) would hit host memory that is not the domain's.
 */
#define RAM_MAX_RANGES 8
/* Where identity RAM starts looking: Linux under PVH loads at its ELF paddr, 16 MiB. */
#define RAM_IDENT_FIRST_GPA (16ull << 20)

struct ram_range {
	gpa_t start;
	uint64_t size;
};

struct ram_layout {
	uint64_t size;      /* bytes, the sum of the ranges */
	unsigned nr;        /* ranges in use, 1 .. RAM_MAX_RANGES */
	bool identity;
	struct ram_range r[RAM_MAX_RANGES];
};

/* The plain layout of ram_size bytes (checked by the caller as above). */
void ram_layout_plain(struct ram_layout *l, uint64_t ram_size);

/*
 * The identity layout of ram_size bytes (>= 2 chunks): chunk 0, then
 * ram_size - 2 MiB taken at host chunk indexes (hpa / PVHV_RAM_ALIGN).
 * take(ctx, idx) is asked for every index from RAM_IDENT_FIRST_GPA up to
 * (not including) limit_idx, in ascending order, skipping the hole, until
 * enough were taken; it says whether it took chunk idx for the domain.
 * Runs of taken chunks become the ranges.  Returns 0; -ENOMEM when the
 * indexes below limit_idx were not enough; -E2BIG when the chunks taken
 * would need more than RAM_MAX_RANGES ranges.  On failure the caller gives
 * back every chunk take() took.  *refused is the first run of indexes
 * take() refused, as guest-physical bytes (size 0: none); *scanned_end
 * where asking stopped (bytes).
 */
int ram_layout_identity(struct ram_layout *l, uint64_t ram_size, uint64_t limit_idx,
			bool (*take)(void *ctx, uint64_t idx), void *ctx,
			struct ram_range *refused, uint64_t *scanned_end);

/* ram_chunk(), ram_chunk_gpa(), ram_overlaps() and ram_end() for a layout. */
bool rl_chunk(const struct ram_layout *l, gpa_t gpa, uint64_t len, uint64_t *chunk);
gpa_t rl_chunk_gpa(const struct ram_layout *l, uint64_t i);
bool rl_overlaps(const struct ram_layout *l, gpa_t gpa, uint64_t len);
uint64_t rl_end(const struct ram_layout *l);

#endif
