/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pagealloc.h: physical page allocator over a caller-provided bitmap
 * (one bit per 4 KiB page, 1 = used).  The caller provides locking.
 */
#ifndef PVHV_LIB_PAGEALLOC_H
#define PVHV_LIB_PAGEALLOC_H

#include "lib/base.h"

struct page_alloc {
	uint64_t base;     /* hpa of page 0, page aligned */
	uint64_t npages;   /* pages managed, starting at base */
	uint64_t *bitmap;  /* pa_bitmap_bytes(npages) bytes, 1 = used */
	uint64_t nfree;    /* pages currently free */
	uint64_t hint;     /* every page below hint is used */
};

/* Bytes of bitmap storage pa_init() needs for npages (a multiple of 8). */
size_t pa_bitmap_bytes(uint64_t npages);

/*
 * Set up pa over [base, base + npages * PAGE_SIZE).  base must be page
 * aligned and the span must not wrap (the caller checks; the boot memory
 * map is trusted).  bitmap must hold pa_bitmap_bytes(npages) bytes.  Every
 * page starts USED: pa_release_range() then adds usable RAM.
 */
void pa_init(struct page_alloc *pa, uint64_t base, uint64_t npages,
	     uint64_t *bitmap);

/*
 * Mark free every whole page inside [start, start + len): start is rounded
 * up and the end down to page boundaries, and the range is clipped to the
 * managed span (a range wrapping past 2^64 is clipped at 2^64).  Pages that
 * were already free stay free; nfree counts each page once.
 */
void pa_release_range(struct page_alloc *pa, hpa_t start, uint64_t len);

/*
 * Mark used every page touching [start, start + len): start is rounded
 * down and the end up, clipped to the managed span.  len 0 does nothing.
 */
void pa_reserve_range(struct page_alloc *pa, hpa_t start, uint64_t len);

/*
 * Allocate npages contiguous pages whose first hpa is a multiple of
 * align_pages * PAGE_SIZE (align_pages a power of two, >= 1), lowest
 * address first.  Returns 0 and *out, -EINVAL for npages 0 or a bad
 * align_pages, -ENOMEM when no such run is free (*out untouched).
 * Cost is linear in bitmap words and used runs crossed, never quadratic.
 */
int pa_alloc(struct page_alloc *pa, uint64_t npages, uint64_t align_pages,
	     hpa_t *out);

/*
 * Free npages pages at start.  -EINVAL, changing nothing, if start is not
 * page aligned, npages is 0, the run is not wholly inside the span, or any
 * page of it is already free (double free).
 */
int pa_free(struct page_alloc *pa, hpa_t start, uint64_t npages);

/*
 * Take the npages pages at start, which must all be free: 0, -EBUSY when
 * one is used, -EINVAL (changing nothing) for a run that is not page
 * aligned, empty or wholly inside the span.  Cost is linear in npages / 64.
 */
int pa_claim(struct page_alloc *pa, hpa_t start, uint64_t npages);

/* Pages currently free. */
uint64_t pa_nfree(const struct page_alloc *pa);

#endif
