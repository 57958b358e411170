/* SPDX-License-Identifier: Apache-2.0 */
/* pagealloc.c: first-fit physical page allocator on a bitmap, 1 bit per 4 KiB page. */
#include "lib/base.h"
#include "lib/pagealloc.h"

#define WORD_BITS 64
#define ALL_ONES (~(uint64_t)0)

/*
 * Invariants: bits past npages in the last word are 1 (used) and never
 * cleared, so word scans need no tail special case; every page below
 * pa->hint is used, so searches may start there.
 */

static uint64_t nwords(uint64_t npages)
{
	return (npages + WORD_BITS - 1) / WORD_BITS;
}

/* Open-coded: __builtin_popcountll would call libgcc, which the image lacks. */
static unsigned popcount64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

/* Mask of bits [lo, hi) within one word, 0 <= lo < hi <= 64. */
static uint64_t bit_mask(unsigned lo, unsigned hi)
{
	uint64_t m = ALL_ONES << lo;

	if (hi < WORD_BITS)
		m &= ~(ALL_ONES << hi);
	return m;
}

/* First free page index >= from, or pa->npages when there is none. */
static uint64_t find_free(const struct page_alloc *pa, uint64_t from)
{
	uint64_t w, n = nwords(pa->npages), word;

	if (from >= pa->npages)
		return pa->npages;
	w = from / WORD_BITS;
	word = ~pa->bitmap[w] & (ALL_ONES << (from % WORD_BITS));
	while (word == 0) {
		if (++w >= n)
			return pa->npages;
		word = ~pa->bitmap[w];
	}
	return MIN(w * WORD_BITS + (uint64_t)__builtin_ctzll(word), pa->npages);
}

/* First used page index in [from, limit), or limit.  limit <= npages. */
static uint64_t find_used(const struct page_alloc *pa, uint64_t from,
			  uint64_t limit)
{
	uint64_t w, word, i;

	if (from >= limit)
		return limit;
	w = from / WORD_BITS;
	word = pa->bitmap[w] & (ALL_ONES << (from % WORD_BITS));
	while (word == 0) {
		if ((++w) * WORD_BITS >= limit)
			return limit;
		word = pa->bitmap[w];
	}
	i = w * WORD_BITS + (uint64_t)__builtin_ctzll(word);
	return MIN(i, limit);
}

/*
 * Set (used = true) or clear bits [lo, hi); returns how many bits changed.
 * hi <= npages, so the padding bits are never touched.
 */
static uint64_t set_bits(struct page_alloc *pa, uint64_t lo, uint64_t hi,
			 bool used)
{
	uint64_t changed = 0;

	while (lo < hi) {
		uint64_t w = lo / WORD_BITS;
		unsigned b = lo % WORD_BITS;
		unsigned e = (hi - w * WORD_BITS) >= WORD_BITS ?
			WORD_BITS : (unsigned)(hi - w * WORD_BITS);
		uint64_t m = bit_mask(b, e);
		uint64_t old = pa->bitmap[w];

		if (used) {
			changed += popcount64(~old & m);
			pa->bitmap[w] = old | m;
		} else {
			changed += popcount64(old & m);
			pa->bitmap[w] = old & ~m;
		}
		lo = w * WORD_BITS + e;
	}
	return changed;
}

size_t pa_bitmap_bytes(uint64_t npages)
{
	return (size_t)(nwords(npages) * sizeof(uint64_t));
}

void pa_init(struct page_alloc *pa, uint64_t base, uint64_t npages,
	     uint64_t *bitmap)
{
	uint64_t i, n = nwords(npages);

	pa->base = base;
	pa->npages = npages;
	pa->bitmap = bitmap;
	pa->nfree = 0;
	pa->hint = npages;
	for (i = 0; i < n; i++)
		bitmap[i] = ALL_ONES;
}

void pa_release_range(struct page_alloc *pa, hpa_t start, uint64_t len)
{
	uint64_t end, s, e, si, ei;

	if (len == 0 || start > ALL_ONES - (PAGE_SIZE - 1))
		return;
	end = start + len < start ? ALL_ONES : start + len;
	s = ALIGN_UP(start, PAGE_SIZE);
	e = ALIGN_DOWN(end, PAGE_SIZE);
	if (s >= e || e <= pa->base)
		return;
	si = s < pa->base ? 0 : (s - pa->base) >> PAGE_SHIFT;
	ei = MIN((e - pa->base) >> PAGE_SHIFT, pa->npages);
	if (si >= ei)
		return;
	pa->nfree += set_bits(pa, si, ei, false);
	if (si < pa->hint)
		pa->hint = si;
}

void pa_reserve_range(struct page_alloc *pa, hpa_t start, uint64_t len)
{
	uint64_t last, si, ei;

	if (len == 0)
		return;
	last = start + len - 1 < start ? ALL_ONES : start + len - 1;
	if (last < pa->base)
		return;
	si = start < pa->base ? 0 : (start - pa->base) >> PAGE_SHIFT;
	ei = MIN(((last - pa->base) >> PAGE_SHIFT) + 1, pa->npages);
	if (si >= ei)
		return;
	pa->nfree -= set_bits(pa, si, ei, true);
}

int pa_alloc(struct page_alloc *pa, uint64_t npages, uint64_t align_pages,
	     hpa_t *out)
{
	uint64_t basepfn = pa->base >> PAGE_SHIFT, amask, from, cand, used;
	uint64_t first = ALL_ONES;

	if (npages == 0 || align_pages == 0 ||
	    (align_pages & (align_pages - 1)) != 0)
		return -EINVAL;
	if (npages > pa->nfree)
		return -ENOMEM;
	amask = align_pages - 1;
	from = pa->hint;
	for (;;) {
		uint64_t f = find_free(pa, from), r, pfn;

		if (first == ALL_ONES)
			first = f;
		if (f >= pa->npages || pa->npages - f < npages)
			return -ENOMEM;
		/* Align the page frame number, not the index into the span. */
		pfn = basepfn + f;
		r = pfn & amask;
		cand = f;
		if (r != 0) {
			uint64_t add = align_pages - r;

			if (add > pa->npages - f - npages)
				return -ENOMEM;
			cand = f + add;
		}
		used = find_used(pa, cand, cand + npages);
		if (used == cand + npages)
			break;
		from = used + 1;
	}
	set_bits(pa, cand, cand + npages, true);
	pa->nfree -= npages;
	/*
	 * The first free page found from the hint bounds the hint; when the
	 * run starts there, everything up to its end is now used too.
	 */
	if (first != ALL_ONES && first > pa->hint)
		pa->hint = first;
	if (cand == first)
		pa->hint = cand + npages;
	*out = pa->base + (cand << PAGE_SHIFT);
	return 0;
}

int pa_free(struct page_alloc *pa, hpa_t start, uint64_t npages)
{
	uint64_t si;

	if (npages == 0 || !IS_ALIGNED(start, PAGE_SIZE) || start < pa->base)
		return -EINVAL;
	si = (start - pa->base) >> PAGE_SHIFT;
	if (si >= pa->npages || npages > pa->npages - si)
		return -EINVAL;
	/* Double free: any page of the run already free.  Check before acting. */
	if (find_free(pa, si) < si + npages)
		return -EINVAL;
	set_bits(pa, si, si + npages, false);
	pa->nfree += npages;
	if (si < pa->hint)
		pa->hint = si;
	return 0;
}

int pa_claim(struct page_alloc *pa, hpa_t start, uint64_t npages)
{
	uint64_t si;

	if (npages == 0 || !IS_ALIGNED(start, PAGE_SIZE) || start < pa->base)
		return -EINVAL;
	si = (start - pa->base) >> PAGE_SHIFT;
	if (si >= pa->npages || npages > pa->npages - si)
		return -EINVAL;
	if (find_used(pa, si, si + npages) < si + npages)
		return -EBUSY;
	set_bits(pa, si, si + npages, true);
	pa->nfree -= npages;
	if (si == pa->hint)
		pa->hint = find_free(pa, si + npages);
	return 0;
}

uint64_t pa_nfree(const struct page_alloc *pa)
{
	return pa->nfree;
}
