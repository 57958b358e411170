/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chunkpool.h: the pool of 2 MiB chunks guest RAM comes from, as pure
 * bookkeeping.  A chunk is named by its index (hpa / 2 MiB); the pool never
 * touches chunk memory.  Each chunk is in one state: absent (not the pool's),
 * clean (known zero), fresh (from the host, content unknown, no domain had
 * it: zeroed when taken), dirty (freed by a domain: zeroed ahead of time,
 * or when taken), scrubbing (being zeroed by someone who popped it) or
 * taken (a domain holds it).  Domains reserve chunks up front (struct cp_account) and
 * take them one by one later, never more than they reserved; the free chunks
 * always cover every outstanding reservation.  The caller provides locking.
 */
#ifndef PVHV_LIB_CHUNKPOOL_H
#define PVHV_LIB_CHUNKPOOL_H

#include "lib/base.h"

enum cp_state { CP_ABSENT, CP_CLEAN, CP_FRESH, CP_DIRTY, CP_SCRUBBING, CP_TAKEN };

struct chunkpool {
	uint32_t cap;           /* chunk indexes 0 .. cap - 1 */
	uint8_t *state;         /* enum cp_state per index */
	uint32_t *clean;        /* stack of clean indexes */
	uint32_t *fresh;        /* stack of fresh indexes */
	uint32_t *dirty;        /* stack of dirty indexes */
	uint32_t nclean, nfresh, ndirty, nscrubbing, ntaken;
	uint64_t reserved;      /* promised to accounts and not taken yet */
};

/* A domain's share: limit chunks reserved, taken of them held now. */
struct cp_account {
	uint64_t limit;
	uint64_t taken;
};

/* Bytes of storage cp_init() needs for cap chunks. */
size_t cp_storage_bytes(uint32_t cap);
/* An empty pool (every chunk absent) over storage of cp_storage_bytes(cap) bytes. */
void cp_init(struct chunkpool *p, uint32_t cap, void *storage);

/* Adds chunk idx, clean or fresh.  -EINVAL if idx >= cap or it is in the pool already. */
int cp_add(struct chunkpool *p, uint32_t idx, bool clean);

/* Chunks in the pool and not taken (clean, fresh, dirty, scrubbing). */
uint64_t cp_free_count(const struct chunkpool *p);
/* Of those, the ones no account has reserved. */
uint64_t cp_available(const struct chunkpool *p);

/*
 * Reserves n more chunks for a: 0, or -ENOMEM changing nothing when fewer
 * than n are available.
 */
int cp_reserve(struct chunkpool *p, struct cp_account *a, uint64_t n);
/* Gives back what a reserved and does not hold; a keeps only the chunks it holds. */
void cp_unreserve(struct chunkpool *p, struct cp_account *a);

/*
 * Takes a chunk for a out of its reservation: a clean one if any, else a
 * dirty one, else a fresh one, with *dirty set for those two (the caller
 * zeroes it before anyone sees it).
 * -ENOSPC when a holds all it reserved, -EBUSY when the only free chunks
 * are being scrubbed (retry), -ENOMEM if the reservation is not covered
 * (a broken invariant).  Nothing changes on failure.
 */
int cp_take(struct chunkpool *p, struct cp_account *a, uint32_t *idx, bool *dirty);
/*
 * Takes chunk idx itself for a, beyond what a reserved (a->limit grows by
 * one): for memory that must be at one host address.  *dirty as for
 * cp_take().  -EINVAL for idx >= cap, -ENOENT when idx is not the pool's,
 * -EBUSY when it is taken or being scrubbed, -ENOMEM when every free chunk
 * is promised to some account.  Nothing changes on failure.  Cost is
 * linear in the free chunks (it keeps their order).
 */
int cp_take_at(struct chunkpool *p, struct cp_account *a, uint32_t idx, bool *dirty);
/* The state of chunk idx (CP_ABSENT for idx >= cap). */
enum cp_state cp_state_of(const struct chunkpool *p, uint32_t idx);
/*
 * a gives chunk idx back, dirty; its reservation stays (cp_unreserve()
 * returns it).  -EINVAL, changing nothing, if idx is not taken or a holds none.
 */
int cp_free(struct chunkpool *p, struct cp_account *a, uint32_t idx);

/* Pops a dirty chunk to zero (state scrubbing).  -ENOENT when none is dirty. */
int cp_scrub_begin(struct chunkpool *p, uint32_t *idx);
/* The chunk popped by cp_scrub_begin() is zero now.  -EINVAL if it was not being scrubbed. */
int cp_scrub_end(struct chunkpool *p, uint32_t idx);

/* Gives up zeroing it: the chunk popped by cp_scrub_begin() is dirty again.  -EINVAL as above. */
int cp_scrub_abort(struct chunkpool *p, uint32_t idx);

/*
 * Removes a free chunk no account needs (fresh first, then dirty: neither
 * needs scrubbing to be useful to the host, which zeroes what it hands
 * out) so the host can use its memory.
 * -ENOMEM when none is available, -EBUSY when the only ones are being scrubbed.
 */
int cp_release(struct chunkpool *p, uint32_t *idx);

/*
 * Takes back chunks the host no longer uses: for each absent index, lowest
 * first, until n were added, claim(ctx, idx) says whether the host gave
 * that chunk up (it must then be the pool's); those become fresh.
 * Returns how many were added.  Cost is linear in the pool's capacity.
 */
uint64_t cp_reclaim(struct chunkpool *p, uint64_t n, bool (*claim)(void *ctx, uint32_t idx),
		    void *ctx);

#endif
