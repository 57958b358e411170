/* SPDX-License-Identifier: Apache-2.0 */
/* pagetable_test.c: unit tests for the page-table builder in arch/x86/pagetable.c. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "lib/base.h"
#include "arch/x86/pagetable.h"

#define MAX_TABLES 4096
#define FLAGS_RW 0x3ULL          /* P|RW */
#define FLAGS_NX (1ULL << 63)

/* Hosted table memory: aligned_alloc pages, identity to_virt. */
struct pool {
	void *live[MAX_TABLES];
	unsigned nlive;
	unsigned allocs, frees;
	int budget; /* allocations left before -ENOMEM; < 0 = unlimited */
};

static struct pool pool;

static void *h_to_virt(void *ctx, hpa_t pa)
{
	return (void *)(uintptr_t)pa;
}

static int h_alloc(void *ctx, hpa_t *out)
{
	struct pool *p = ctx;
	void *page;

	if (p->budget == 0)
		return -ENOMEM;
	if (p->budget > 0)
		p->budget--;
	page = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	cr_assert_not_null(page);
	memset(page, 0, PAGE_SIZE);
	cr_assert_lt(p->nlive, MAX_TABLES);
	p->live[p->nlive++] = page;
	p->allocs++;
	*out = (hpa_t)(uintptr_t)page;
	return 0;
}

static void h_free(void *ctx, hpa_t pa)
{
	struct pool *p = ctx;
	unsigned i;

	for (i = 0; i < p->nlive; i++) {
		if (p->live[i] == (void *)(uintptr_t)pa) {
			p->live[i] = p->live[--p->nlive];
			p->frees++;
			free((void *)(uintptr_t)pa);
			return;
		}
	}
	cr_assert_fail("free_table(%#llx): not a live table",
		       (unsigned long long)pa);
}

static const struct pt_ops ops = {
	.to_virt = h_to_virt,
	.alloc_table = h_alloc,
	.free_table = h_free,
	.ctx = &pool,
};

static const struct pt_format *X86 = &pt_format_x86;
static const struct pt_format *EPT = &pt_format_ept;
static hpa_t root;

static void setup(void)
{
	memset(&pool, 0, sizeof(pool));
	pool.budget = -1;
	cr_assert_eq(h_alloc(&pool, &root), 0);
}

static void teardown(void)
{
	while (pool.nlive)
		free(pool.live[--pool.nlive]);
}

static uint64_t *tbl(hpa_t pa)
{
	return (uint64_t *)(uintptr_t)(pa & PT_ADDR_MASK);
}

/* Expect va to translate to pa at level with flags. */
static void expect_map(const struct pt_format *f, uint64_t va, hpa_t pa,
		       unsigned level, uint64_t flags)
{
	hpa_t got = 0;
	uint64_t fl = 0;
	unsigned lv = 0;
	int rc = pt_lookup(f, &ops, root, va, &got, &fl, &lv);

	cr_expect_eq(rc, 0, "lookup %#llx rc %d", (unsigned long long)va, rc);
	cr_expect_eq(got, pa, "lookup %#llx -> %#llx, want %#llx",
		     (unsigned long long)va, (unsigned long long)got,
		     (unsigned long long)pa);
	cr_expect_eq(lv, level, "lookup %#llx level %u want %u",
		     (unsigned long long)va, lv, level);
	cr_expect_eq(fl, flags, "lookup %#llx flags %#llx want %#llx",
		     (unsigned long long)va, (unsigned long long)fl,
		     (unsigned long long)flags);
}

static void expect_unmapped(const struct pt_format *f, uint64_t va)
{
	cr_expect_eq(pt_lookup(f, &ops, root, va, NULL, NULL, NULL), -ENOENT,
		     "va %#llx should be unmapped", (unsigned long long)va);
}

TestSuite(pagetable, .init = setup, .fini = teardown);

Test(pagetable, formats)
{
	cr_expect_eq(pt_format_x86.present_mask, 1);
	cr_expect_eq(pt_format_x86.table_flags, 7);
	cr_expect_eq(pt_format_x86.large_bit, 0x80);
	cr_expect_eq(pt_format_ept.present_mask, 7);
	cr_expect_eq(pt_format_ept.table_flags, 7);
	cr_expect_eq(pt_format_ept.large_bit, 0x80);
}

Test(pagetable, map_4k_and_lookup)
{
	uint64_t va = 0x7f1234567000ULL;
	uint64_t *pml4 = tbl(root), *pdpt, *pd, *pt;

	cr_assert_eq(pt_map(X86, &ops, root, va, 0xabcdef000ULL, PAGE_SIZE,
			    FLAGS_RW | FLAGS_NX), 0);
	expect_map(X86, va + 0x123, 0xabcdef123ULL, 1, FLAGS_RW | FLAGS_NX);
	expect_unmapped(X86, va + PAGE_SIZE);
	expect_unmapped(X86, va - PAGE_SIZE);
	cr_expect_eq(pt_count_tables(X86, &ops, root), 4);
	cr_expect_eq(pool.allocs, 4);
	/* Table entries carry P|RW|US; the leaf is exact. */
	pdpt = tbl(pml4[(va >> 39) & 511]);
	cr_expect_eq(pml4[(va >> 39) & 511] & 0xfff, 7);
	pd = tbl(pdpt[(va >> 30) & 511]);
	cr_expect_eq(pdpt[(va >> 30) & 511] & 0xfff, 7);
	pt = tbl(pd[(va >> 21) & 511]);
	cr_expect_eq(pd[(va >> 21) & 511] & 0xfff, 7);
	cr_expect_eq(pt[(va >> 12) & 511], 0xabcdef000ULL | FLAGS_RW | FLAGS_NX);
	/* NULL outputs are allowed. */
	cr_expect_eq(pt_lookup(X86, &ops, root, va, NULL, NULL, NULL), 0);
}

Test(pagetable, map_2m_when_aligned)
{
	cr_assert_eq(pt_map(X86, &ops, root, GIB(1), GIB(3), MIB(4), FLAGS_RW), 0);
	expect_map(X86, GIB(1), GIB(3), 2, FLAGS_RW | 0x80);
	expect_map(X86, GIB(1) + MIB(3) + 0x1234, GIB(3) + MIB(3) + 0x1234, 2,
		   FLAGS_RW | 0x80);
	expect_unmapped(X86, GIB(1) + MIB(4));
	cr_expect_eq(pt_count_tables(X86, &ops, root), 3);
}

Test(pagetable, map_4k_when_pa_misaligned)
{
	cr_assert_eq(pt_map(X86, &ops, root, MIB(2), MIB(2) + PAGE_SIZE, MIB(2),
			    FLAGS_RW), 0);
	expect_map(X86, MIB(2), MIB(2) + PAGE_SIZE, 1, FLAGS_RW);
	expect_map(X86, MIB(4) - PAGE_SIZE, MIB(4), 1, FLAGS_RW);
	cr_expect_eq(pt_count_tables(X86, &ops, root), 4);
}

Test(pagetable, map_mixed_head_body_tail)
{
	/* 4K head up to 2M, two 2M leaves, 4K tail; PT tables for head+tail. */
	uint64_t va = MIB(2) - 2 * PAGE_SIZE, pa = GIB(2) - 2 * PAGE_SIZE;
	uint64_t size = 2 * PAGE_SIZE + MIB(4) + 3 * PAGE_SIZE, off;

	cr_assert_eq(pt_map(X86, &ops, root, va, pa, size, FLAGS_RW), 0);
	for (off = 0; off < size; off += PAGE_SIZE) {
		uint64_t v = va + off;
		bool big = v >= MIB(2) && v < MIB(6);

		expect_map(X86, v, pa + off, big ? 2 : 1,
			   FLAGS_RW | (big ? 0x80 : 0));
	}
	expect_unmapped(X86, va - PAGE_SIZE);
	expect_unmapped(X86, va + size);
	/* PML4, PDPT, PD, PT for head, PT for tail. */
	cr_expect_eq(pt_count_tables(X86, &ops, root), 5);
}

Test(pagetable, map_crosses_1g_and_512g)
{
	uint64_t va = (1ULL << 39) - MIB(2);

	cr_assert_eq(pt_map(X86, &ops, root, va, 0, MIB(4), FLAGS_RW), 0);
	expect_map(X86, va, 0, 2, FLAGS_RW | 0x80);
	expect_map(X86, 1ULL << 39, MIB(2), 2, FLAGS_RW | 0x80);
	/* PML4 + 2 PDPT + 2 PD. */
	cr_expect_eq(pt_count_tables(X86, &ops, root), 5);
}

Test(pagetable, map_top_of_va_space)
{
	uint64_t va = PT_VA_LIMIT - PAGE_SIZE;

	cr_assert_eq(pt_map(X86, &ops, root, va, 0x5000, PAGE_SIZE, 1), 0);
	expect_map(X86, va + 0xfff, 0x5fff, 1, 1);
	cr_expect_eq(pt_map(X86, &ops, root, va, 0x5000, 2 * PAGE_SIZE, 1),
		     -EINVAL);
}

Test(pagetable, map_highest_pa)
{
	hpa_t pa = (1ULL << 52) - MIB(2);

	cr_assert_eq(pt_map(X86, &ops, root, 0, pa, MIB(2), 1), 0);
	expect_map(X86, 0x1234, pa + 0x1234, 2, 0x81);
	cr_expect_eq(pt_map(X86, &ops, root, MIB(2), pa, MIB(4), 1), -EINVAL);
}

Test(pagetable, eexist)
{
	cr_assert_eq(pt_map(X86, &ops, root, 0, 0, MIB(2), FLAGS_RW), 0);
	cr_assert_eq(pt_map(X86, &ops, root, MIB(2), 0, PAGE_SIZE, FLAGS_RW), 0);
	/* 4K inside an existing 2M leaf. */
	cr_expect_eq(pt_map(X86, &ops, root, PAGE_SIZE, 0, PAGE_SIZE, 1), -EEXIST);
	/* 4K over an existing 4K leaf. */
	cr_expect_eq(pt_map(X86, &ops, root, MIB(2), 0x9000, PAGE_SIZE, 1),
		     -EEXIST);
	/* 2M over an existing leaf: 2M slot taken. */
	cr_expect_eq(pt_map(X86, &ops, root, 0, GIB(1), MIB(2), 1), -EEXIST);
	/* 2M over a PT containing a leaf: 4K fallback then collision. */
	cr_expect_eq(pt_map(X86, &ops, root, MIB(2), GIB(1), MIB(2), 1), -EEXIST);
	/* Originals untouched. */
	expect_map(X86, 0, 0, 2, FLAGS_RW | 0x80);
	expect_map(X86, MIB(2), 0, 1, FLAGS_RW);
	/* Partial success before the collision stays (documented). */
	cr_assert_eq(pt_map(X86, &ops, root, MIB(2) + 10 * PAGE_SIZE, 0,
			    PAGE_SIZE, 1), 0);
	cr_expect_eq(pt_map(X86, &ops, root, MIB(2) + PAGE_SIZE, GIB(1),
			    20 * PAGE_SIZE, 1), -EEXIST);
	expect_map(X86, MIB(2) + PAGE_SIZE, GIB(1), 1, 1);
	expect_map(X86, MIB(2) + 9 * PAGE_SIZE, GIB(1) + 8 * PAGE_SIZE, 1, 1);
	expect_map(X86, MIB(2) + 10 * PAGE_SIZE, 0, 1, 1);
	expect_unmapped(X86, MIB(2) + 11 * PAGE_SIZE);
}

Test(pagetable, eexist_1g_leaf_made_elsewhere)
{
	uint64_t *pml4 = tbl(root), *pdpt;
	hpa_t t;

	cr_assert_eq(h_alloc(&pool, &t), 0);
	pml4[0] = t | 7;
	pdpt = tbl(t);
	pdpt[1] = GIB(5) | 0x80 | FLAGS_RW;     /* 1 GiB leaf at va 1 GiB */
	expect_map(X86, GIB(1) + 0x12345678, GIB(5) + 0x12345678, 3,
		   FLAGS_RW | 0x80);
	cr_expect_eq(pt_map(X86, &ops, root, GIB(1) + MIB(2), 0, PAGE_SIZE, 1),
		     -EEXIST);
	cr_expect_eq(pt_map(X86, &ops, root, GIB(1), 0, MIB(2), 1), -EEXIST);
	cr_expect_eq(pt_count_tables(X86, &ops, root), 2);
}

Test(pagetable, map_into_empty_table_after_unmap)
{
	cr_assert_eq(pt_map(X86, &ops, root, 0, 0, PAGE_SIZE, 1), 0);
	cr_assert_eq(pt_unmap(X86, &ops, root, 0, PAGE_SIZE), 0);
	expect_unmapped(X86, 0);
	/* The PT stays; a 2M-eligible map fills it with 4K leaves. */
	cr_assert_eq(pt_map(X86, &ops, root, 0, MIB(2), MIB(2), 1), 0);
	expect_map(X86, 0, MIB(2), 1, 1);
	expect_map(X86, MIB(2) - 1, MIB(4) - 1, 1, 1);
	cr_expect_eq(pt_count_tables(X86, &ops, root), 4);
}

Test(pagetable, unmap_4k)
{
	cr_assert_eq(pt_map(X86, &ops, root, 0x10000, 0x20000, 4 * PAGE_SIZE, 3), 0);
	cr_assert_eq(pt_unmap(X86, &ops, root, 0x11000, 2 * PAGE_SIZE), 0);
	expect_map(X86, 0x10000, 0x20000, 1, 3);
	expect_unmapped(X86, 0x11000);
	expect_unmapped(X86, 0x12000);
	expect_map(X86, 0x13000, 0x23000, 1, 3);
}

Test(pagetable, unmap_whole_2m_no_split)
{
	cr_assert_eq(pt_map(X86, &ops, root, MIB(4), 0, MIB(4), 3), 0);
	cr_assert_eq(pt_unmap(X86, &ops, root, MIB(4), MIB(2)), 0);
	expect_unmapped(X86, MIB(4));
	expect_unmapped(X86, MIB(6) - 1);
	expect_map(X86, MIB(6), MIB(2), 2, 0x83);
	cr_expect_eq(pool.allocs, 3);
}

Test(pagetable, unmap_splits_2m)
{
	uint64_t flags = FLAGS_RW | FLAGS_NX | (1ULL << 4) /* PCD */, off;

	cr_assert_eq(pt_map(X86, &ops, root, MIB(2), GIB(1), MIB(2), flags), 0);
	cr_expect_eq(pt_count_tables(X86, &ops, root), 3);
	cr_assert_eq(pt_unmap(X86, &ops, root, MIB(3), PAGE_SIZE), 0);
	cr_expect_eq(pt_count_tables(X86, &ops, root), 4);
	for (off = 0; off < MIB(2); off += PAGE_SIZE) {
		if (off == MIB(1))
			expect_unmapped(X86, MIB(2) + off);
		else
			expect_map(X86, MIB(2) + off, GIB(1) + off, 1, flags);
	}
}

Test(pagetable, unmap_range_spanning_partial_leaves)
{
	/* Unmap from the middle of one 2M leaf to the middle of the next. */
	cr_assert_eq(pt_map(X86, &ops, root, 0, 0, MIB(6), 1), 0);
	cr_assert_eq(pt_unmap(X86, &ops, root, MIB(1), MIB(4)), 0);
	expect_map(X86, MIB(1) - PAGE_SIZE, MIB(1) - PAGE_SIZE, 1, 1);
	expect_unmapped(X86, MIB(1));
	expect_unmapped(X86, MIB(3));
	expect_unmapped(X86, MIB(5) - PAGE_SIZE);
	expect_map(X86, MIB(5), MIB(5), 1, 1);
	expect_map(X86, MIB(6) - PAGE_SIZE, MIB(6) - PAGE_SIZE, 1, 1);
	/* PML4, PDPT, PD, two split PTs; middle 2M cleared whole. */
	cr_expect_eq(pt_count_tables(X86, &ops, root), 5);
}

Test(pagetable, unmap_splits_1g_made_elsewhere)
{
	uint64_t *pml4 = tbl(root), *pdpt;
	hpa_t t;

	cr_assert_eq(h_alloc(&pool, &t), 0);
	pml4[0] = t | 7;
	pdpt = tbl(t);
	pdpt[0] = 0x80 | 3;                    /* 1 GiB leaf va 0 -> pa 0 */
	cr_assert_eq(pt_unmap(X86, &ops, root, MIB(4) + PAGE_SIZE, PAGE_SIZE), 0);
	expect_map(X86, 0, 0, 2, 0x83);
	expect_map(X86, GIB(1) - 1, GIB(1) - 1, 2, 0x83);
	expect_map(X86, MIB(4), MIB(4), 1, 3);
	expect_unmapped(X86, MIB(4) + PAGE_SIZE);
	expect_map(X86, MIB(4) + 2 * PAGE_SIZE, MIB(4) + 2 * PAGE_SIZE, 1, 3);
	cr_expect_eq(pt_count_tables(X86, &ops, root), 4);
}

Test(pagetable, unmap_holes_and_bad_args)
{
	cr_expect_eq(pt_unmap(X86, &ops, root, 0, GIB(4)), 0);
	cr_assert_eq(pt_map(X86, &ops, root, GIB(2), 0, PAGE_SIZE, 1), 0);
	cr_expect_eq(pt_unmap(X86, &ops, root, 0, PT_VA_LIMIT), 0);
	expect_unmapped(X86, GIB(2));
	cr_expect_eq(pt_unmap(X86, &ops, root, 1, PAGE_SIZE), -EINVAL);
	cr_expect_eq(pt_unmap(X86, &ops, root, 0, 1), -EINVAL);
	cr_expect_eq(pt_unmap(X86, &ops, root, 0, 0), -EINVAL);
	cr_expect_eq(pt_unmap(X86, &ops, root, PT_VA_LIMIT, PAGE_SIZE), -EINVAL);
	cr_expect_eq(pt_unmap(X86, &ops, root, PAGE_SIZE, ~0xfffULL), -EINVAL);
}

Test(pagetable, unmap_split_enomem)
{
	cr_assert_eq(pt_map(X86, &ops, root, 0, 0, MIB(2), 1), 0);
	pool.budget = 0;
	cr_expect_eq(pt_unmap(X86, &ops, root, 0, PAGE_SIZE), -ENOMEM);
	expect_map(X86, 0, 0, 2, 0x81);
}

Test(pagetable, map_bad_args)
{
	cr_expect_eq(pt_map(X86, &ops, root, 1, 0, PAGE_SIZE, 1), -EINVAL);
	cr_expect_eq(pt_map(X86, &ops, root, 0, 0x800, PAGE_SIZE, 1), -EINVAL);
	cr_expect_eq(pt_map(X86, &ops, root, 0, 0, 100, 1), -EINVAL);
	cr_expect_eq(pt_map(X86, &ops, root, 0, 0, 0, 1), -EINVAL);
	cr_expect_eq(pt_map(X86, &ops, root, PT_VA_LIMIT, 0, PAGE_SIZE, 1),
		     -EINVAL);
	cr_expect_eq(pt_map(X86, &ops, root, 0xffff800000000000ULL, 0,
			    PAGE_SIZE, 1), -EINVAL);
	cr_expect_eq(pt_map(X86, &ops, root, PAGE_SIZE, 0, ~0xfffULL, 1),
		     -EINVAL);
	cr_expect_eq(pt_map(X86, &ops, root, 0, 1ULL << 52, PAGE_SIZE, 1),
		     -EINVAL);
	cr_expect_eq(pt_map(X86, &ops, root, 0, ~0xfffULL, MIB(2), 1), -EINVAL);
	/* Flags: address bits, large bit, not present. */
	cr_expect_eq(pt_map(X86, &ops, root, 0, 0, PAGE_SIZE, 0x1001), -EINVAL);
	cr_expect_eq(pt_map(X86, &ops, root, 0, 0, PAGE_SIZE, 0x81), -EINVAL);
	cr_expect_eq(pt_map(X86, &ops, root, 0, 0, PAGE_SIZE, 2), -EINVAL);
	cr_expect_eq(pt_map(EPT, &ops, root, 0, 0, PAGE_SIZE, 0x30), -EINVAL);
	cr_expect_eq(pt_lookup(X86, &ops, root, PT_VA_LIMIT, NULL, NULL, NULL),
		     -EINVAL);
	/* Nothing was allocated by the rejected calls. */
	cr_expect_eq(pool.allocs, 1);
}

Test(pagetable, map_enomem)
{
	pool.budget = 2;
	cr_expect_eq(pt_map(X86, &ops, root, 0, 0, PAGE_SIZE, 1), -ENOMEM);
	expect_unmapped(X86, 0);
	pool.budget = -1;
	cr_expect_eq(pt_map(X86, &ops, root, 0, 0, PAGE_SIZE, 1), 0);
	expect_map(X86, 0, 0, 1, 1);
	pt_destroy(X86, &ops, root);
	cr_expect_eq(pool.nlive, 0);
	cr_expect_eq(pool.allocs, pool.frees);
}

Test(pagetable, ept_format)
{
	uint64_t *pml4 = tbl(root);
	uint64_t wb = 6ULL << 3; /* memory type WB */

	/* Execute-only is present in EPT. */
	cr_assert_eq(pt_map(EPT, &ops, root, 0, GIB(4), PAGE_SIZE, 4 | wb), 0);
	expect_map(EPT, 0x10, GIB(4) + 0x10, 1, 4 | wb);
	cr_expect_eq(pml4[0] & 0xfff, 7);
	cr_assert_eq(pt_map(EPT, &ops, root, MIB(2), GIB(2), MIB(2), 7 | wb), 0);
	expect_map(EPT, MIB(3), GIB(2) + MIB(1), 2, 0x80 | 7 | wb);
	/* Under the x86 format, the execute-only leaf is not present. */
	expect_unmapped(X86, 0);
	/* Split keeps EPT flags on 4K leaves. */
	cr_assert_eq(pt_unmap(EPT, &ops, root, MIB(2), PAGE_SIZE), 0);
	expect_unmapped(EPT, MIB(2));
	expect_map(EPT, MIB(2) + PAGE_SIZE, GIB(2) + PAGE_SIZE, 1, 7 | wb);
	/* An entry with only memory-type bits is not present: can map over it. */
	tbl(tbl(tbl(pml4[0])[0])[0])[5] = wb;
	expect_unmapped(EPT, 5 * PAGE_SIZE);
	cr_expect_eq(pt_map(EPT, &ops, root, 5 * PAGE_SIZE, 0, PAGE_SIZE, 1), 0);
	pt_destroy(EPT, &ops, root);
	cr_expect_eq(pool.nlive, 0);
}

Test(pagetable, destroy_frees_everything)
{
	uint64_t i;

	/* Scatter mappings over several PML4 slots and levels. */
	for (i = 0; i < 8; i++) {
		uint64_t va = i * (1ULL << 39) + i * GIB(1) + i * MIB(2);

		cr_assert_eq(pt_map(X86, &ops, root, va, 0, PAGE_SIZE * (i + 1), 1), 0);
		cr_assert_eq(pt_map(X86, &ops, root, va + GIB(2), 0, MIB(4), 1), 0);
	}
	cr_assert_eq(pt_unmap(X86, &ops, root, GIB(2), PAGE_SIZE), 0);
	cr_expect_eq(pt_count_tables(X86, &ops, root), pool.nlive);
	pt_destroy(X86, &ops, root);
	cr_expect_eq(pool.nlive, 0);
	cr_expect_eq(pool.frees, pool.allocs);
}

Test(pagetable, large_identity_map)
{
	uint64_t off;

	/* 4 GiB identity map: 2048 2M leaves in 4 PDs. */
	cr_assert_eq(pt_map(X86, &ops, root, 0, 0, GIB(4), 0x3), 0);
	cr_expect_eq(pt_count_tables(X86, &ops, root), 6);
	for (off = 0x1234; off < GIB(4); off += MIB(7) + 0x111)
		expect_map(X86, off, off, 2, 0x83);
	pt_destroy(X86, &ops, root);
	cr_expect_eq(pool.nlive, 0);
}
