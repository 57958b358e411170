/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imgshare.h: which 2 MiB chunks of a new domain's RAM can be an image's
 * own pages, mapped read-only, instead of a copy (pvh/domain.c maps them
 * and copies a chunk at the first write to it).
 *
 * Pure: includes only lib/base.h.
 */
#ifndef PVHV_PVH_IMGSHARE_H
#define PVHV_PVH_IMGSHARE_H

#include "lib/base.h"

#define IMGSHARE_CHUNK LARGE_PAGE_SIZE

/*
 * Bytes of an image placed in guest RAM: the len bytes at host address
 * host go to [gpa, gpa + len), and the segment covers [gpa, gpa + span)
 * of RAM (span >= len: the rest, an ELF segment's bss, reads zero).
 */
struct imgshare_seg {
	uint64_t gpa;
	uint64_t host;
	uint64_t len;
	uint64_t span;
};

/*
 * Whether chunk i ([i * 2 MiB, (i + 1) * 2 MiB) of guest RAM) can be
 * image pages: it lies wholly inside [gpa, gpa + len) of one segment, no
 * other segment's span touches it, and its bytes start at a 2 MiB-aligned
 * host address.  Then true and *host is that address; else false (the
 * chunk is copied, as a partly covered one must be).  Segments whose
 * ranges wrap around are never shared.
 */
bool imgshare_chunk(const struct imgshare_seg *segs, unsigned n, uint64_t i, uint64_t *host);

/*
 * The part of seg's image bytes that falls in chunk i: true with *off (its
 * offset in the chunk), *host (where the bytes are) and *len (> 0); false
 * when none does or the segment wraps.  What the chunk gets from seg when
 * it is copied rather than shared.
 */
bool imgshare_piece(const struct imgshare_seg *seg, uint64_t i, uint64_t *off, uint64_t *host,
		    uint64_t *len);

/*
 * The chunk indexes [*first, *end) that segment k could share if nothing
 * else overlapped it (empty when its bytes are not 2 MiB-congruent with
 * their guest addresses or cover no whole chunk): where to look with
 * imgshare_chunk().
 */
void imgshare_candidates(const struct imgshare_seg *seg, uint64_t *first, uint64_t *end);

#endif
