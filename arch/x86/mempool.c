/* SPDX-License-Identifier: Apache-2.0 */
/* mempool.c: the guest RAM pool of 2 MiB host chunks (lib/chunkpool.c under one lock). */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "arch/x86/x86.h"

#define CHUNK_PAGES (LARGE_PAGE_SIZE / PAGE_SIZE)

/* Scrubbing goes in pieces, so that whoever needs the CPU or the chunk waits one piece at most. */
#define SCRUB_PIECE KIB(256)

static struct chunkpool pool;
static struct spinlock lock;
static bool ready;
static unsigned waiters; /* takers waiting for a chunk being scrubbed (atomic) */

static hpa_t chunk_hpa(uint32_t idx)
{
	return (hpa_t)idx * LARGE_PAGE_SIZE;
}

/*
 * Every 2 MiB-aligned run the host allocator has free goes into the pool,
 * fresh: what firmware, a loader or a previous boot left there is not
 * known to be zero, so it is zeroed when a domain takes it (not ahead of
 * time: that would touch all of the host's memory at every boot).  The
 * rest (the partial chunks around the image and modules) stays with the
 * host allocator.
 */
void mempool_init(void)
{
	uint32_t cap = (uint32_t)(mm_ram_top() / LARGE_PAGE_SIZE);
	hpa_t store;
	uint64_t n = 0;

	if (page_alloc(ALIGN_UP(cp_storage_bytes(cap), PAGE_SIZE) / PAGE_SIZE, 1, &store))
		panic("mempool: no memory for the bookkeeping of %u chunks", cap);
	cp_init(&pool, cap, hpa_to_ptr(store));
	for (uint32_t i = 0; i < cap; i++)
		if (page_claim(chunk_hpa(i), CHUNK_PAGES) == 0) {
			cp_add(&pool, i, false);
			n++;
		}
	__atomic_store_n(&ready, true, __ATOMIC_RELEASE);
	kprintf("pvhv: mempool: %lu MiB in %lu chunks of 2 MiB, %lu KiB left to the host allocator\n",
		n * 2, n, page_free_count() * 4);
}

int mempool_give_back(void)
{
	uint32_t idx;
	int err;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE))
		return -ENOMEM;
	spin_lock(&lock);
	err = cp_release(&pool, &idx);
	spin_unlock(&lock);
	if (!err)
		page_free(chunk_hpa(idx), CHUNK_PAGES);
	return err;
}

static bool claim_from_host(void *ctx, uint32_t idx)
{
	return page_claim(chunk_hpa(idx), CHUNK_PAGES) == 0;
}

/*
 * Chunks given back to the host allocator (tables, vCPU state, overlays)
 * stay there when it frees them: when the pool is short, it claims back
 * every whole 2 MiB the host has free before refusing.
 */
int mempool_reserve(struct cp_account *a, uint64_t chunks)
{
	int err;

	spin_lock(&lock);
	err = cp_reserve(&pool, a, chunks);
	if (err) {
		cp_reclaim(&pool, chunks - cp_available(&pool), claim_from_host, NULL);
		err = cp_reserve(&pool, a, chunks);
	}
	spin_unlock(&lock);
	return err;
}

void mempool_unreserve(struct cp_account *a)
{
	if (a->taken)
		panic("mempool: reservation returned while holding %lu chunks", a->taken);
	spin_lock(&lock);
	cp_unreserve(&pool, a);
	spin_unlock(&lock);
}

static int take(struct cp_account *a, hpa_t *chunk, bool zero)
{
	bool dirty, waiting = false;
	uint32_t idx;
	int err;

	for (;;) {
		spin_lock(&lock);
		err = cp_take(&pool, a, &idx, &dirty);
		spin_unlock(&lock);
		if (err != -EBUSY)
			break;
		/* The only free chunks are being zeroed: their scrubbers give up after a piece. */
		if (!waiting)
			__atomic_add_fetch(&waiters, 1, __ATOMIC_SEQ_CST);
		waiting = true;
		cpu_relax();
	}
	if (waiting)
		__atomic_sub_fetch(&waiters, 1, __ATOMIC_SEQ_CST);
	if (err == -ENOMEM)
		panic("mempool: a reservation of %lu chunks is not covered", a->limit);
	if (err)
		return err;
	*chunk = chunk_hpa(idx);
	if (dirty && zero)
		memset(hpa_to_ptr(*chunk), 0, LARGE_PAGE_SIZE);
	return 0;
}

int mempool_take(struct cp_account *a, hpa_t *chunk)
{
	return take(a, chunk, true);
}

int mempool_take_to_overwrite(struct cp_account *a, hpa_t *chunk)
{
	return take(a, chunk, false);
}

void mempool_free(struct cp_account *a, hpa_t chunk)
{
	int err;

	spin_lock(&lock);
	err = IS_ALIGNED(chunk, LARGE_PAGE_SIZE) ? cp_free(&pool, a, (uint32_t)(chunk / LARGE_PAGE_SIZE))
						 : -EINVAL;
	spin_unlock(&lock);
	if (err)
		panic("mempool: freeing chunk 0x%lx that the domain does not hold", chunk);
}

int mempool_take_at(struct cp_account *a, hpa_t chunk, bool *dirty)
{
	uint32_t idx = (uint32_t)(chunk / LARGE_PAGE_SIZE);
	int err;

	if (!IS_ALIGNED(chunk, LARGE_PAGE_SIZE) || chunk / LARGE_PAGE_SIZE >= pool.cap)
		return -ENOENT;
	spin_lock(&lock);
	err = cp_take_at(&pool, a, idx, dirty);
	/* The host allocator may have it (given back when it ran dry) and no longer use it. */
	if (err == -ENOENT && page_claim(chunk, CHUNK_PAGES) == 0 && cp_add(&pool, idx, false) == 0)
		err = cp_take_at(&pool, a, idx, dirty);
	spin_unlock(&lock);
	return err;
}

uint64_t mempool_capacity(void)
{
	return pool.cap;
}

const char *mem_holder(hpa_t start, uint64_t size)
{
	enum cp_state st;

	for (hpa_t c = ALIGN_DOWN(start, LARGE_PAGE_SIZE); c < start + size; c += LARGE_PAGE_SIZE) {
		spin_lock(&lock);
		st = cp_state_of(&pool, (uint32_t)MIN(c / LARGE_PAGE_SIZE, (uint64_t)UINT32_MAX));
		spin_unlock(&lock);
		if (st == CP_TAKEN)
			return "another domain's RAM";
		if (st == CP_SCRUBBING)
			return "a chunk being zeroed";
		if (st == CP_ABSENT) {
			const char *h = page_holder(c, LARGE_PAGE_SIZE);

			if (h)
				return h;
		}
	}
	return "nothing now (it was busy)";
}

bool mempool_scrub_step(bool (*give_up)(void))
{
	uint8_t *p;
	uint32_t idx;
	int err;

	if (!__atomic_load_n(&pool.ndirty, __ATOMIC_RELAXED))
		return false;
	spin_lock(&lock);
	err = cp_scrub_begin(&pool, &idx);
	spin_unlock(&lock);
	if (err)
		return false;
	p = hpa_to_ptr(chunk_hpa(idx));
	for (uint64_t off = 0; off < LARGE_PAGE_SIZE; off += SCRUB_PIECE) {
		if (off && (__atomic_load_n(&waiters, __ATOMIC_SEQ_CST) || (give_up && give_up()))) {
			/* Dirty again, as a whole: a taker zeroes it all. */
			spin_lock(&lock);
			cp_scrub_abort(&pool, idx);
			spin_unlock(&lock);
			return false;
		}
		memset(p + off, 0, SCRUB_PIECE);
	}
	spin_lock(&lock);
	cp_scrub_end(&pool, idx);
	spin_unlock(&lock);
	return true;
}

uint64_t mempool_available(void)
{
	uint64_t n;

	spin_lock(&lock);
	n = cp_available(&pool);
	spin_unlock(&lock);
	return n;
}

uint64_t mempool_dirty(void)
{
	return __atomic_load_n(&pool.ndirty, __ATOMIC_RELAXED);
}

uint64_t mem_free_pages(void)
{
	uint64_t n;

	spin_lock(&lock);
	n = cp_free_count(&pool);
	spin_unlock(&lock);
	return page_free_count() + n * CHUNK_PAGES;
}
