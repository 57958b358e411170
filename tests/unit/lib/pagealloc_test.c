/* SPDX-License-Identifier: Apache-2.0 */
/* pagealloc_test.c: unit tests for the bitmap page allocator in lib/pagealloc.c. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "lib/base.h"
#include "lib/pagealloc.h"

#define BASE 0x100000ULL /* 1 MiB: deliberately not 2 MiB aligned */

static struct page_alloc pa;
static uint64_t *bm;

static void setup_span(uint64_t base, uint64_t npages)
{
	bm = malloc(pa_bitmap_bytes(npages));
	cr_assert_not_null(bm);
	pa_init(&pa, base, npages, bm);
}

static void teardown(void)
{
	free(bm);
	bm = NULL;
}

/* Reference count of free bits, to check nfree bookkeeping. */
static uint64_t count_free(void)
{
	uint64_t i, n = 0;

	for (i = 0; i < pa.npages; i++)
		n += !((pa.bitmap[i / 64] >> (i % 64)) & 1);
	return n;
}

static bool page_used(hpa_t a)
{
	uint64_t i = (a - pa.base) >> PAGE_SHIFT;

	return (pa.bitmap[i / 64] >> (i % 64)) & 1;
}

TestSuite(pagealloc, .fini = teardown);

Test(pagealloc, bitmap_bytes)
{
	cr_expect_eq(pa_bitmap_bytes(0), 0);
	cr_expect_eq(pa_bitmap_bytes(1), 8);
	cr_expect_eq(pa_bitmap_bytes(64), 8);
	cr_expect_eq(pa_bitmap_bytes(65), 16);
	cr_expect_eq(pa_bitmap_bytes(1ULL << 20), (1ULL << 20) / 8);
}

Test(pagealloc, init_all_used)
{
	hpa_t a = 0xdead;

	setup_span(BASE, 100);
	cr_expect_eq(pa_nfree(&pa), 0);
	cr_expect_eq(pa_alloc(&pa, 1, 1, &a), -ENOMEM);
	cr_expect_eq(a, 0xdead);
	/* Padding bits past npages are used. */
	cr_expect_eq(pa.bitmap[1] >> 36, (1ULL << 28) - 1);
}

Test(pagealloc, release_rounds_inward_and_clips)
{
	setup_span(BASE, 100);
	/* Partial pages at both ends are not released. */
	pa_release_range(&pa, BASE + 0x800, 3 * PAGE_SIZE);
	cr_expect_eq(pa_nfree(&pa), 2);
	cr_expect(page_used(BASE));
	cr_expect(!page_used(BASE + PAGE_SIZE));
	cr_expect(!page_used(BASE + 2 * PAGE_SIZE));
	cr_expect(page_used(BASE + 3 * PAGE_SIZE));
	/* Range inside one page releases nothing. */
	pa_release_range(&pa, BASE + 10 * PAGE_SIZE + 1, PAGE_SIZE - 2);
	cr_expect_eq(pa_nfree(&pa), 2);
	/* Clipped below and above the span; re-release counts once. */
	pa_release_range(&pa, 0, ~0ULL);
	cr_expect_eq(pa_nfree(&pa), 100);
	cr_expect_eq(count_free(), 100);
	/* Padding stays used. */
	cr_expect_eq(pa.bitmap[1] >> 36, (1ULL << 28) - 1);
}

Test(pagealloc, release_outside_span_ignored)
{
	setup_span(BASE, 100);
	pa_release_range(&pa, 0, BASE);
	pa_release_range(&pa, BASE + 100 * PAGE_SIZE, GIB(1));
	pa_release_range(&pa, BASE, 0);
	pa_release_range(&pa, ~0ULL - 10, 100); /* wraps */
	cr_expect_eq(pa_nfree(&pa), 0);
}

Test(pagealloc, reserve_rounds_outward_and_clips)
{
	setup_span(BASE, 200);
	pa_release_range(&pa, BASE, 200 * PAGE_SIZE);
	pa_reserve_range(&pa, BASE + PAGE_SIZE - 1, 2);
	cr_expect_eq(pa_nfree(&pa), 198);
	cr_expect(page_used(BASE));
	cr_expect(page_used(BASE + PAGE_SIZE));
	cr_expect(!page_used(BASE + 2 * PAGE_SIZE));
	/* Overlapping reserve counts each page once. */
	pa_reserve_range(&pa, BASE, 3 * PAGE_SIZE);
	cr_expect_eq(pa_nfree(&pa), 197);
	pa_reserve_range(&pa, BASE, 0);
	cr_expect_eq(pa_nfree(&pa), 197);
	pa_reserve_range(&pa, 0, BASE); /* entirely below */
	cr_expect_eq(pa_nfree(&pa), 197);
	pa_reserve_range(&pa, 0, BASE + 1); /* touches page 0 */
	cr_expect_eq(pa_nfree(&pa), 197);
	pa_reserve_range(&pa, BASE + 199 * PAGE_SIZE, ~0ULL); /* wraps, clipped */
	cr_expect_eq(pa_nfree(&pa), 196);
	cr_expect_eq(count_free(), 196);
	pa_reserve_range(&pa, BASE + 200 * PAGE_SIZE, PAGE_SIZE); /* above */
	cr_expect_eq(pa_nfree(&pa), 196);
}

Test(pagealloc, alloc_single_first_fit)
{
	hpa_t a, b, c;

	setup_span(BASE, 128);
	pa_release_range(&pa, BASE, 128 * PAGE_SIZE);
	cr_assert_eq(pa_alloc(&pa, 1, 1, &a), 0);
	cr_assert_eq(pa_alloc(&pa, 1, 1, &b), 0);
	cr_assert_eq(pa_alloc(&pa, 1, 1, &c), 0);
	cr_expect_eq(a, BASE);
	cr_expect_eq(b, BASE + PAGE_SIZE);
	cr_expect_eq(c, BASE + 2 * PAGE_SIZE);
	cr_expect_eq(pa_nfree(&pa), 125);
	/* Freed low page is reused first (hint moves back). */
	cr_assert_eq(pa_free(&pa, b, 1), 0);
	cr_assert_eq(pa_alloc(&pa, 1, 1, &a), 0);
	cr_expect_eq(a, b);
}

Test(pagealloc, alloc_exhaustion)
{
	hpa_t a;
	uint64_t i;

	setup_span(BASE, 70);
	pa_release_range(&pa, BASE, 70 * PAGE_SIZE);
	for (i = 0; i < 70; i++) {
		cr_assert_eq(pa_alloc(&pa, 1, 1, &a), 0);
		cr_assert_eq(a, BASE + i * PAGE_SIZE);
	}
	cr_expect_eq(pa_nfree(&pa), 0);
	cr_expect_eq(pa_alloc(&pa, 1, 1, &a), -ENOMEM);
	cr_assert_eq(pa_free(&pa, BASE + 69 * PAGE_SIZE, 1), 0);
	cr_expect_eq(pa_alloc(&pa, 2, 1, &a), -ENOMEM);
	cr_expect_eq(pa_alloc(&pa, 1, 1, &a), 0);
	cr_expect_eq(a, BASE + 69 * PAGE_SIZE);
}

Test(pagealloc, alloc_bad_args)
{
	hpa_t a = 1;

	setup_span(BASE, 64);
	pa_release_range(&pa, BASE, 64 * PAGE_SIZE);
	cr_expect_eq(pa_alloc(&pa, 0, 1, &a), -EINVAL);
	cr_expect_eq(pa_alloc(&pa, 1, 0, &a), -EINVAL);
	cr_expect_eq(pa_alloc(&pa, 1, 3, &a), -EINVAL);
	cr_expect_eq(pa_alloc(&pa, 1, 6, &a), -EINVAL);
	cr_expect_eq(pa_alloc(&pa, 1, (1ULL << 63) + 1, &a), -EINVAL);
	cr_expect_eq(a, 1);
	cr_expect_eq(pa_alloc(&pa, 65, 1, &a), -ENOMEM);
	cr_expect_eq(pa_alloc(&pa, ~0ULL, 1, &a), -ENOMEM);
	/* Huge but valid alignment: no aligned page in the span. */
	cr_expect_eq(pa_alloc(&pa, 1, 1ULL << 63, &a), -ENOMEM);
	cr_expect_eq(pa_alloc(&pa, 1, 1ULL << 40, &a), -ENOMEM);
	cr_expect_eq(pa_nfree(&pa), 64);
}

Test(pagealloc, alloc_alignment_is_physical)
{
	hpa_t a;

	/* base pfn 0x100: an 512-page (2 MiB) aligned run starts at 2 MiB. */
	setup_span(BASE, 2048);
	pa_release_range(&pa, BASE, 2048 * PAGE_SIZE);
	cr_assert_eq(pa_alloc(&pa, 1, 1, &a), 0);
	cr_assert_eq(pa_alloc(&pa, 512, 512, &a), 0);
	cr_expect_eq(a, MIB(2));
	cr_expect(IS_ALIGNED(a, MIB(2)));
	cr_assert_eq(pa_alloc(&pa, 3, 4, &a), 0);
	cr_expect(IS_ALIGNED(a, 4 * PAGE_SIZE));
	cr_expect_eq(a, BASE + 4 * PAGE_SIZE);
	cr_expect_eq(pa_nfree(&pa), 2048 - 516);
	cr_expect_eq(count_free(), 2048 - 516);
}

Test(pagealloc, alloc_skips_fragmented_holes)
{
	hpa_t a;
	uint64_t i;

	setup_span(0, 1024);
	pa_release_range(&pa, 0, 1024 * PAGE_SIZE);
	/* Every 8th page used: no run of 8 exists below 512. */
	for (i = 0; i < 512; i += 8)
		pa_reserve_range(&pa, i * PAGE_SIZE, 1);
	cr_assert_eq(pa_alloc(&pa, 8, 1, &a), 0);
	cr_expect_eq(a, 505 * PAGE_SIZE); /* 505..511 free, then all free */
	cr_assert_eq(pa_alloc(&pa, 7, 1, &a), 0);
	cr_expect_eq(a, PAGE_SIZE);
	/* Run crossing a word boundary. */
	cr_assert_eq(pa_alloc(&pa, 7, 1, &a), 0);
	cr_expect_eq(a, 9 * PAGE_SIZE);
	cr_assert_eq(pa_alloc(&pa, 100, 1, &a), 0);
	cr_expect_eq(a, 513 * PAGE_SIZE);
	for (i = 0; i < 100; i++)
		cr_expect(page_used(a + i * PAGE_SIZE));
	cr_expect_eq(pa_nfree(&pa), count_free());
}

Test(pagealloc, alloc_whole_span)
{
	hpa_t a;

	setup_span(BASE, 130);
	pa_release_range(&pa, BASE, 130 * PAGE_SIZE);
	cr_assert_eq(pa_alloc(&pa, 130, 1, &a), 0);
	cr_expect_eq(a, BASE);
	cr_expect_eq(pa_nfree(&pa), 0);
	cr_expect_eq(count_free(), 0);
	cr_assert_eq(pa_free(&pa, BASE, 130), 0);
	cr_expect_eq(pa_nfree(&pa), 130);
	cr_expect_eq(pa_alloc(&pa, 131, 1, &a), -ENOMEM);
}

Test(pagealloc, free_rejects_misuse)
{
	hpa_t a;

	setup_span(BASE, 64);
	pa_release_range(&pa, BASE, 64 * PAGE_SIZE);
	cr_assert_eq(pa_alloc(&pa, 4, 1, &a), 0);
	cr_expect_eq(pa_free(&pa, a + 1, 1), -EINVAL);       /* unaligned */
	cr_expect_eq(pa_free(&pa, a, 0), -EINVAL);           /* empty */
	cr_expect_eq(pa_free(&pa, BASE - PAGE_SIZE, 1), -EINVAL); /* below */
	cr_expect_eq(pa_free(&pa, BASE + 64 * PAGE_SIZE, 1), -EINVAL); /* above */
	cr_expect_eq(pa_free(&pa, BASE + 60 * PAGE_SIZE, 5), -EINVAL); /* past end */
	cr_expect_eq(pa_free(&pa, a, ~0ULL), -EINVAL);       /* wraps */
	/* Run overlapping a free page: double free, nothing changes. */
	cr_expect_eq(pa_free(&pa, a, 5), -EINVAL);
	cr_expect_eq(pa_nfree(&pa), 60);
	cr_expect(page_used(a));
	cr_assert_eq(pa_free(&pa, a + PAGE_SIZE, 2), 0);
	cr_expect_eq(pa_free(&pa, a, 4), -EINVAL);
	cr_expect(page_used(a));
	cr_expect(page_used(a + 3 * PAGE_SIZE));
	cr_expect_eq(pa_free(&pa, a + 2 * PAGE_SIZE, 1), -EINVAL);
	cr_expect_eq(pa_nfree(&pa), 62);
	cr_assert_eq(pa_free(&pa, a, 1), 0);
	cr_assert_eq(pa_free(&pa, a + 3 * PAGE_SIZE, 1), 0);
	cr_expect_eq(pa_free(&pa, a, 1), -EINVAL);
	cr_expect_eq(pa_nfree(&pa), 64);
	cr_expect_eq(count_free(), 64);
}

Test(pagealloc, free_never_released_page)
{
	setup_span(BASE, 64);
	/* Reserved pages look "used": freeing them is allowed (caller's word). */
	cr_expect_eq(pa_free(&pa, BASE, 1), 0);
	cr_expect_eq(pa_nfree(&pa), 1);
	cr_expect_eq(pa_free(&pa, BASE, 1), -EINVAL);
}

Test(pagealloc, empty_span)
{
	hpa_t a;

	setup_span(BASE, 0);
	pa_release_range(&pa, 0, ~0ULL);
	cr_expect_eq(pa_nfree(&pa), 0);
	cr_expect_eq(pa_alloc(&pa, 1, 1, &a), -ENOMEM);
	cr_expect_eq(pa_free(&pa, BASE, 1), -EINVAL);
}

/* 4 GiB span: 2048 runs of 512 pages, 512 aligned, then singles; fast. */
Test(pagealloc, large_span_aligned_runs, .timeout = 10)
{
	uint64_t npages = 1ULL << 20, i;
	hpa_t a, prev = 0;

	setup_span(0, npages);
	pa_release_range(&pa, 0, GIB(4));
	cr_assert_eq(pa_alloc(&pa, 1, 1, &a), 0); /* misalign the first run */
	for (i = 0; i < 2047; i++) {
		cr_assert_eq(pa_alloc(&pa, 512, 512, &a), 0);
		cr_assert(IS_ALIGNED(a, MIB(2)));
		cr_assert_gt(a, prev);
		prev = a;
	}
	cr_expect_eq(pa_alloc(&pa, 512, 512, &a), -ENOMEM);
	cr_expect_eq(pa_nfree(&pa), 511);
	for (i = 0; i < 511; i++)
		cr_assert_eq(pa_alloc(&pa, 1, 1, &a), 0);
	cr_expect_eq(pa_alloc(&pa, 1, 1, &a), -ENOMEM);
	/* Free every other run and allocate them again. */
	for (i = MIB(2); i < GIB(4); i += MIB(4))
		cr_assert_eq(pa_free(&pa, i, 512), 0);
	for (i = MIB(2); i < GIB(4); i += MIB(4)) {
		cr_assert_eq(pa_alloc(&pa, 512, 512, &a), 0);
		cr_assert_eq(a, i);
	}
	cr_expect_eq(pa_nfree(&pa), 0);
}

/* Random alloc/free against a shadow model. */
Test(pagealloc, randomized_consistency)
{
	enum { N = 777, SLOTS = 64 };
	struct { hpa_t a; uint64_t n; } live[SLOTS] = { 0 };
	uint64_t seed = 12345, i;

	setup_span(BASE, N);
	pa_release_range(&pa, BASE, N * PAGE_SIZE);
	for (i = 0; i < 20000; i++) {
		unsigned s;
		uint64_t n, al;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		s = (seed >> 33) % SLOTS;
		if (live[s].n) {
			cr_assert_eq(pa_free(&pa, live[s].a, live[s].n), 0);
			cr_assert_eq(pa_free(&pa, live[s].a, 1), -EINVAL);
			live[s].n = 0;
		} else {
			uint64_t j;
			hpa_t a;

			n = 1 + ((seed >> 20) % 40);
			al = 1ULL << ((seed >> 10) % 6);
			if (pa_alloc(&pa, n, al, &a) == 0) {
				cr_assert(IS_ALIGNED(a, al * PAGE_SIZE));
				cr_assert_geq(a, BASE);
				cr_assert_leq(a + n * PAGE_SIZE, BASE + N * PAGE_SIZE);
				for (j = 0; j < n; j++)
					cr_assert(page_used(a + j * PAGE_SIZE));
				live[s].a = a;
				live[s].n = n;
			}
		}
		cr_assert_eq(pa_nfree(&pa), count_free());
		/* Hint invariant: nothing free below it. */
		for (n = 0; n < pa.hint && n < N; n++)
			cr_assert(page_used(BASE + n * PAGE_SIZE));
	}
}

/* pa_claim: takes exactly a free run, refuses a run with any used page. */
Test(pagealloc, claim_exact_run, .fini = teardown)
{
	hpa_t p;

	setup_span(0, 2048);
	pa_release_range(&pa, 0, 2048 * PAGE_SIZE);
	cr_assert_eq(pa_claim(&pa, 512 * PAGE_SIZE, 512), 0);
	cr_assert_eq(pa_nfree(&pa), 1536);
	cr_assert_eq(count_free(), 1536);
	cr_assert(page_used(512 * PAGE_SIZE) && page_used(1023 * PAGE_SIZE));
	cr_assert(!page_used(511 * PAGE_SIZE) && !page_used(1024 * PAGE_SIZE));
	/* Claimed again, or overlapping: busy, nothing changes. */
	cr_assert_eq(pa_claim(&pa, 512 * PAGE_SIZE, 512), -EBUSY);
	cr_assert_eq(pa_claim(&pa, 1000 * PAGE_SIZE, 100), -EBUSY);
	cr_assert_eq(pa_nfree(&pa), 1536);
	/* The hint still lets pa_alloc find the lowest free page. */
	cr_assert_eq(pa_alloc(&pa, 1, 1, &p), 0);
	cr_assert_eq(p, 0);
	cr_assert_eq(pa_free(&pa, 512 * PAGE_SIZE, 512), 0);
	cr_assert_eq(pa_nfree(&pa), 2047);
}

Test(pagealloc, claim_at_hint_moves_it, .fini = teardown)
{
	hpa_t p;

	setup_span(0, 1024);
	pa_release_range(&pa, 0, 1024 * PAGE_SIZE);
	cr_assert_eq(pa_claim(&pa, 0, 512), 0);
	cr_assert_eq(pa_alloc(&pa, 1, 1, &p), 0);
	cr_assert_eq(p, 512 * PAGE_SIZE);
	cr_assert_eq(count_free(), pa_nfree(&pa));
}

Test(pagealloc, claim_rejects_bad_runs, .fini = teardown)
{
	setup_span(BASE, 64);
	pa_release_range(&pa, BASE, 64 * PAGE_SIZE);
	cr_assert_eq(pa_claim(&pa, BASE + 1, 1), -EINVAL);
	cr_assert_eq(pa_claim(&pa, BASE, 0), -EINVAL);
	cr_assert_eq(pa_claim(&pa, BASE - PAGE_SIZE, 2), -EINVAL);
	cr_assert_eq(pa_claim(&pa, BASE + 60 * PAGE_SIZE, 5), -EINVAL);
	cr_assert_eq(pa_claim(&pa, BASE + 64 * PAGE_SIZE, 1), -EINVAL);
	cr_assert_eq(pa_claim(&pa, BASE + PAGE_SIZE, UINT64_MAX), -EINVAL);
	cr_assert_eq(pa_nfree(&pa), 64);
}
