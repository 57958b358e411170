/* SPDX-License-Identifier: Apache-2.0 */
/* chunkpool_test.c: unit tests for the 2 MiB chunk pool's bookkeeping in lib/chunkpool.c. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "lib/base.h"
#include "lib/chunkpool.h"

#define CAP 64

static struct chunkpool p;
static void *store;

static void setup(void)
{
	store = malloc(cp_storage_bytes(CAP));
	cr_assert_not_null(store);
	cp_init(&p, CAP, store);
}

static void fini(void)
{
	free(store);
}

/* Every invariant the pool promises, checked from scratch against its arrays. */
static void check_consistent(void)
{
	uint32_t n[CP_TAKEN + 1] = { 0 };
	uint8_t seen[CAP] = { 0 };

	for (uint32_t i = 0; i < CAP; i++)
		n[p.state[i]]++;
	cr_assert_eq(n[CP_CLEAN], p.nclean);
	cr_assert_eq(n[CP_FRESH], p.nfresh);
	cr_assert_eq(n[CP_DIRTY], p.ndirty);
	cr_assert_eq(n[CP_SCRUBBING], p.nscrubbing);
	cr_assert_eq(n[CP_TAKEN], p.ntaken);
	for (uint32_t i = 0; i < p.nclean; i++) {
		cr_assert_eq(p.state[p.clean[i]], CP_CLEAN);
		cr_assert_eq(seen[p.clean[i]]++, 0, "chunk %u twice on the clean stack", p.clean[i]);
	}
	for (uint32_t i = 0; i < p.nfresh; i++) {
		cr_assert_eq(p.state[p.fresh[i]], CP_FRESH);
		cr_assert_eq(seen[p.fresh[i]]++, 0, "chunk %u twice in the stacks", p.fresh[i]);
	}
	for (uint32_t i = 0; i < p.ndirty; i++) {
		cr_assert_eq(p.state[p.dirty[i]], CP_DIRTY);
		cr_assert_eq(seen[p.dirty[i]]++, 0, "chunk %u twice in the stacks", p.dirty[i]);
	}
	cr_assert_leq(p.reserved, cp_free_count(&p));
}

static void add_range(uint32_t lo, uint32_t hi, bool clean)
{
	for (uint32_t i = lo; i < hi; i++)
		cr_assert_eq(cp_add(&p, i, clean), 0);
}

Test(chunkpool, add_and_counts, .init = setup, .fini = fini)
{
	add_range(0, 10, true);
	add_range(20, 25, false);
	cr_assert_eq(cp_free_count(&p), 15);
	cr_assert_eq(cp_available(&p), 15);
	cr_assert_eq(cp_add(&p, 3, false), -EINVAL, "added twice");
	cr_assert_eq(cp_add(&p, CAP, true), -EINVAL, "index past the end");
	cr_assert_eq(cp_free_count(&p), 15);
	check_consistent();
}

Test(chunkpool, reserve_is_all_or_nothing, .init = setup, .fini = fini)
{
	struct cp_account a = { 0 }, b = { 0 };

	add_range(0, 8, true);
	cr_assert_eq(cp_reserve(&p, &a, 5), 0);
	cr_assert_eq(cp_available(&p), 3);
	/* A second domain asking for more than is left gets nothing. */
	cr_assert_eq(cp_reserve(&p, &b, 4), -ENOMEM);
	cr_assert_eq(b.limit, 0);
	cr_assert_eq(cp_available(&p), 3);
	cr_assert_eq(cp_reserve(&p, &b, 3), 0);
	cr_assert_eq(cp_available(&p), 0);
	cr_assert_eq(cp_reserve(&p, &b, 1), -ENOMEM);
	cp_unreserve(&p, &a);
	cr_assert_eq(a.limit, 0);
	cr_assert_eq(cp_available(&p), 5);
	check_consistent();
}

Test(chunkpool, take_never_exceeds_reservation, .init = setup, .fini = fini)
{
	struct cp_account a = { 0 };
	uint32_t idx;
	bool dirty;

	add_range(0, 8, true);
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), -ENOSPC, "took without a reservation");
	cr_assert_eq(cp_reserve(&p, &a, 2), 0);
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), 0);
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), 0);
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), -ENOSPC);
	cr_assert_eq(a.taken, 2);
	cr_assert_eq(p.ntaken, 2);
	cr_assert_eq(cp_available(&p), 6);
	check_consistent();
}

Test(chunkpool, clean_first_then_dirty_then_fresh, .init = setup, .fini = fini)
{
	struct cp_account a = { 0 }, b = { 0 };
	uint32_t idx, d;
	bool dirty;

	cp_add(&p, 7, false);
	cp_add(&p, 9, true);
	cp_add(&p, 11, false);
	cr_assert_eq(p.state[7], CP_FRESH, "chunks from the host are not known zero");
	/* Make chunk 11 dirty: a domain had it. */
	cr_assert_eq(cp_reserve(&p, &b, 1), 0);
	cr_assert_eq(cp_take(&p, &b, &d, &dirty), 0);
	cr_assert_eq(d, 9);
	cr_assert_eq(cp_take(&p, &b, &d, &dirty), -ENOSPC);
	cr_assert_eq(cp_free(&p, &b, 9), 0);
	cp_unreserve(&p, &b);
	cr_assert_eq(p.state[9], CP_DIRTY);
	cr_assert_eq(cp_reserve(&p, &a, 3), 0);
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), 0);
	cr_assert_eq(idx, 9, "a freed chunk waits less in memory");
	cr_assert(dirty, "a dirty chunk handed out as clean");
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), 0);
	cr_assert_eq(idx, 11);
	cr_assert(dirty, "a fresh chunk handed out as clean");
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), 0);
	cr_assert_eq(idx, 7);
	cr_assert(dirty);
	check_consistent();
}

Test(chunkpool, fresh_chunks_are_not_scrubbed_ahead, .init = setup, .fini = fini)
{
	uint32_t idx;

	add_range(0, 4, false);
	cr_assert_eq(cp_scrub_begin(&p, &idx), -ENOENT);
	cr_assert_eq(cp_free_count(&p), 4);
}

Test(chunkpool, freed_chunks_are_dirty_until_scrubbed, .init = setup, .fini = fini)
{
	struct cp_account a = { 0 }, b = { 0 };
	uint32_t idx, s;
	bool dirty;

	cp_add(&p, 4, true);
	cr_assert_eq(cp_reserve(&p, &a, 1), 0);
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), 0);
	cr_assert(!dirty);
	cr_assert_eq(cp_free(&p, &a, idx), 0);
	cr_assert_eq(p.state[4], CP_DIRTY);
	cp_unreserve(&p, &a);
	/* Another domain gets it: marked dirty, so it is zeroed first. */
	cr_assert_eq(cp_reserve(&p, &b, 1), 0);
	cr_assert_eq(cp_take(&p, &b, &idx, &dirty), 0);
	cr_assert(dirty);
	cr_assert_eq(cp_free(&p, &b, idx), 0);
	/* Scrubbed ahead of time: clean again. */
	cr_assert_eq(cp_scrub_begin(&p, &s), 0);
	cr_assert_eq(s, 4);
	cr_assert_eq(p.state[4], CP_SCRUBBING);
	/* While it is being zeroed nobody may take it: retry later. */
	cr_assert_eq(cp_take(&p, &b, &idx, &dirty), -EBUSY);
	cr_assert_eq(cp_scrub_begin(&p, &s), -ENOENT);
	cr_assert_eq(cp_scrub_end(&p, 4), 0);
	cr_assert_eq(cp_scrub_end(&p, 4), -EINVAL, "ended a scrub twice");
	cr_assert_eq(cp_take(&p, &b, &idx, &dirty), 0);
	cr_assert(!dirty);
	check_consistent();
}

Test(chunkpool, scrub_abort_leaves_it_dirty, .init = setup, .fini = fini)
{
	struct cp_account a = { 0 };
	uint32_t idx, s;
	bool dirty;

	cp_add(&p, 5, true);
	cr_assert_eq(cp_reserve(&p, &a, 1), 0);
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), 0);
	cr_assert_eq(cp_free(&p, &a, idx), 0);
	cr_assert_eq(cp_scrub_begin(&p, &s), 0);
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), -EBUSY);
	cr_assert_eq(cp_scrub_abort(&p, s), 0);
	cr_assert_eq(cp_scrub_abort(&p, s), -EINVAL);
	cr_assert_eq(cp_scrub_end(&p, s), -EINVAL);
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), 0);
	cr_assert_eq(idx, 5);
	cr_assert(dirty, "a half-zeroed chunk handed out as clean");
	check_consistent();
}

Test(chunkpool, free_rejects_what_is_not_taken, .init = setup, .fini = fini)
{
	struct cp_account a = { 0 }, none = { 0 };
	uint32_t idx;
	bool dirty;

	add_range(0, 4, true);
	cr_assert_eq(cp_free(&p, &a, 0), -EINVAL, "freed a free chunk");
	cr_assert_eq(cp_reserve(&p, &a, 1), 0);
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), 0);
	cr_assert_eq(cp_free(&p, &none, idx), -EINVAL, "an account freed what it does not hold");
	cr_assert_eq(cp_free(&p, &a, CAP + 3), -EINVAL);
	cr_assert_eq(cp_free(&p, &a, idx), 0);
	cr_assert_eq(cp_free(&p, &a, idx), -EINVAL, "double free");
	check_consistent();
}

Test(chunkpool, release_keeps_reservations_covered, .init = setup, .fini = fini)
{
	struct cp_account a = { 0 };
	uint32_t idx;

	add_range(0, 3, true);
	cp_add(&p, 10, false);
	cr_assert_eq(cp_reserve(&p, &a, 2), 0);
	cr_assert_eq(cp_release(&p, &idx), 0);
	cr_assert_eq(idx, 10, "released a clean chunk before the fresh one");
	cr_assert_eq(p.state[10], CP_ABSENT);
	cr_assert_eq(cp_release(&p, &idx), 0);
	cr_assert_eq(cp_release(&p, &idx), -ENOMEM, "released a reserved chunk");
	cr_assert_eq(cp_free_count(&p), 2);
	check_consistent();
	/* A released chunk may come back later. */
	cr_assert_eq(cp_add(&p, 10, false), 0);
}

/* A fake host allocator for cp_reclaim(): chunks it has wholly free. */
static bool host_free[CAP];
static unsigned claims;

static bool fake_claim(void *ctx, uint32_t idx)
{
	claims++;
	cr_assert_eq(ctx, &claims);
	if (!host_free[idx])
		return false;
	host_free[idx] = false;
	return true;
}

Test(chunkpool, reclaim_takes_back_what_the_host_freed, .init = setup, .fini = fini)
{
	struct cp_account a = { 0 };
	uint32_t idx;

	add_range(0, 4, true);
	/* The host took two chunks and later freed one of them and another it had. */
	cr_assert_eq(cp_release(&p, &idx), 0);
	cr_assert_eq(cp_release(&p, &idx), 0);
	cr_assert_eq(cp_free_count(&p), 2);
	memset(host_free, 0, sizeof(host_free));
	host_free[idx] = true;
	host_free[40] = true;
	host_free[1] = true; /* in the pool already: never offered to claim */
	cr_assert_eq(cp_reserve(&p, &a, 4), -ENOMEM);
	claims = 0;
	cr_assert_eq(cp_reclaim(&p, 4, fake_claim, &claims), 2);
	cr_assert(host_free[1], "asked the host for a chunk the pool holds");
	cr_assert_eq(claims, CAP - 2);
	cr_assert_eq(p.state[idx], CP_FRESH);
	cr_assert_eq(p.state[40], CP_FRESH);
	cr_assert_eq(cp_reserve(&p, &a, 4), 0);
	check_consistent();
	/* Stops as soon as it has enough. */
	host_free[50] = host_free[60] = true;
	claims = 0;
	cr_assert_eq(cp_reclaim(&p, 1, fake_claim, &claims), 1);
	cr_assert_eq(p.state[50], CP_FRESH);
	cr_assert(host_free[60]);
	check_consistent();
}

/*
 * Many domains reserving, taking, freeing and ending, with scrubbing in
 * between: no chunk is lost or held twice, and the pool ends where it began.
 */
Test(chunkpool, random_cycles_return_to_start, .init = setup, .fini = fini)
{
	enum { DOMS = 5, ROUNDS = 20000 };
	struct cp_account acct[DOMS] = { 0 };
	uint32_t held[DOMS][CAP];
	uint32_t nheld[DOMS] = { 0 };
	uint32_t owner[CAP];
	uint64_t start;
	unsigned seed = 12345;

	add_range(0, 40, false);
	add_range(40, 60, true);
	start = cp_free_count(&p);
	memset(owner, 0xff, sizeof(owner));
	for (int r = 0; r < ROUNDS; r++) {
		unsigned d = (unsigned)rand_r(&seed) % DOMS, op = (unsigned)rand_r(&seed) % 6;
		uint32_t idx;
		bool dirty;

		if (op == 0) {
			uint64_t want = (unsigned)rand_r(&seed) % 20, avail = cp_available(&p);
			int rc = cp_reserve(&p, &acct[d], want);

			cr_assert_eq(rc, want <= avail ? 0 : -ENOMEM);
		} else if (op <= 2) {
			int rc = cp_take(&p, &acct[d], &idx, &dirty);

			if (rc == 0) {
				cr_assert_eq(owner[idx], UINT32_MAX, "chunk %u given to two domains", idx);
				owner[idx] = d;
				held[d][nheld[d]++] = idx;
			} else {
				cr_assert(rc == -ENOSPC || rc == -EBUSY, "take: %d", rc);
				cr_assert(rc != -ENOSPC || acct[d].taken == acct[d].limit);
			}
		} else if (op == 3 && nheld[d]) {
			uint32_t k = (unsigned)rand_r(&seed) % nheld[d];

			idx = held[d][k];
			held[d][k] = held[d][--nheld[d]];
			cr_assert_eq(cp_free(&p, &acct[d], idx), 0);
			owner[idx] = UINT32_MAX;
		} else if (op == 4) {
			if (cp_scrub_begin(&p, &idx) == 0) {
				check_consistent();
				if (rand_r(&seed) % 3)
					cr_assert_eq(cp_scrub_end(&p, idx), 0);
				else
					cr_assert_eq(cp_scrub_abort(&p, idx), 0);
			}
		} else if (op == 5 && (unsigned)rand_r(&seed) % 8 == 0) {
			/* The domain ends: frees all it holds, then its reservation. */
			while (nheld[d]) {
				idx = held[d][--nheld[d]];
				cr_assert_eq(cp_free(&p, &acct[d], idx), 0);
				owner[idx] = UINT32_MAX;
			}
			cp_unreserve(&p, &acct[d]);
			cr_assert_eq(acct[d].limit, 0);
		}
		cr_assert_eq(acct[d].taken, nheld[d]);
		if (r % 97 == 0)
			check_consistent();
	}
	for (unsigned d = 0; d < DOMS; d++) {
		while (nheld[d])
			cr_assert_eq(cp_free(&p, &acct[d], held[d][--nheld[d]]), 0);
		cp_unreserve(&p, &acct[d]);
	}
	check_consistent();
	cr_assert_eq(p.reserved, 0);
	cr_assert_eq(p.ntaken, 0);
	cr_assert_eq(cp_free_count(&p), start);
	cr_assert_eq(cp_available(&p), start);
}

/* ---------------------------------------------------------------- a chunk at a given address */

/* cp_take_at() takes exactly the chunk named, of any free state, beyond the reservation. */
Test(chunkpool, take_at_takes_that_chunk, .init = setup, .fini = fini)
{
	struct cp_account a = { 0 }, id = { 0 };
	uint32_t idx;
	bool dirty = true;

	add_range(0, 4, true);
	add_range(10, 14, false);
	cr_assert_eq(cp_reserve(&p, &a, 1), 0);
	cr_assert_eq(cp_take(&p, &a, &idx, &dirty), 0);
	cr_assert_eq(cp_free(&p, &a, idx), 0);          /* idx is dirty now */
	cp_unreserve(&p, &a);
	cr_assert_eq(cp_take_at(&p, &id, 2, &dirty), 0);
	cr_assert_not(dirty, "a clean chunk needs no zeroing");
	cr_assert_eq(cp_take_at(&p, &id, 12, &dirty), 0);
	cr_assert(dirty, "a fresh chunk must be zeroed");
	cr_assert_eq(cp_take_at(&p, &id, idx, &dirty), 0);
	cr_assert(dirty, "a dirty chunk must be zeroed");
	cr_assert_eq(p.state[2], CP_TAKEN);
	cr_assert_eq(p.state[12], CP_TAKEN);
	cr_assert_eq(id.limit, 3);
	cr_assert_eq(id.taken, 3);
	cr_assert_eq(cp_free_count(&p), 5);
	check_consistent();
	/* The fresh stack keeps its order: the highest comes out first still. */
	cr_assert_eq(p.fresh[p.nfresh - 1], 13);
	cr_assert_eq(p.fresh[0], 10);
	/* Given back as any taken chunk: dirty, then the account's reservation goes. */
	cr_assert_eq(cp_free(&p, &id, 12), 0);
	cr_assert_eq(cp_free(&p, &id, 2), 0);
	cr_assert_eq(cp_free(&p, &id, idx), 0);
	cp_unreserve(&p, &id);
	cr_assert_eq(id.limit, 0);
	cr_assert_eq(cp_available(&p), 8);
	check_consistent();
}

Test(chunkpool, take_at_refusals_change_nothing, .init = setup, .fini = fini)
{
	struct cp_account a = { 0 }, id = { 0 };
	uint32_t idx;
	bool dirty;

	add_range(0, 4, true);
	cr_assert_eq(cp_take_at(&p, &id, CAP, &dirty), -EINVAL, "index past the end");
	cr_assert_eq(cp_take_at(&p, &id, 9, &dirty), -ENOENT, "not the pool's");
	cr_assert_eq(cp_take_at(&p, &id, 1, &dirty), 0);
	cr_assert_eq(cp_take_at(&p, &id, 1, &dirty), -EBUSY, "taken already");
	cr_assert_eq(cp_scrub_begin(&p, &idx), -ENOENT);
	/* Every free chunk promised to another domain: none may be taken by address. */
	cr_assert_eq(cp_reserve(&p, &a, 3), 0);
	cr_assert_eq(cp_take_at(&p, &id, 2, &dirty), -ENOMEM);
	cr_assert_eq(p.state[2], CP_CLEAN);
	cr_assert_eq(id.limit, 1);
	cr_assert_eq(id.taken, 1);
	check_consistent();
	cp_unreserve(&p, &a);
	/* Being zeroed: busy. */
	cr_assert_eq(cp_free(&p, &id, 1), 0);
	cr_assert_eq(cp_scrub_begin(&p, &idx), 0);
	cr_assert_eq(idx, 1);
	cr_assert_eq(cp_take_at(&p, &id, 1, &dirty), -EBUSY);
	cr_assert_eq(cp_state_of(&p, 1), CP_SCRUBBING);
	cr_assert_eq(cp_state_of(&p, CAP + 5), CP_ABSENT);
	check_consistent();
}
