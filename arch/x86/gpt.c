/* SPDX-License-Identifier: Apache-2.0 */
/* gpt.c: translates guest linear addresses through the guest's own page tables and fetches code. */
#include "lib/base.h"
#include "arch/x86/gpt.h"

#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define PTE_P (1ULL << 0)
#define PTE_PS (1ULL << 7)
/* Address bits of a 64-bit entry: 51:12 (SDM vol. 3, tables 4-14 to 4-20). */
#define PTE_ADDR 0x000ffffffffff000ULL

static int read_entry(gpt_read_fn read_gpa, void *ctx, uint64_t gpa,
		      unsigned size, uint64_t *e)
{
	uint32_t e32;
	uint64_t e64;

	if (size == 4) {
		if (read_gpa(ctx, gpa, &e32, 4))
			return -EFAULT;
		*e = e32;
	} else {
		if (read_gpa(ctx, gpa, &e64, 8))
			return -EFAULT;
		*e = e64;
	}
	return (*e & PTE_P) ? 0 : -EFAULT;
}

/* SDM vol. 3, 4.3: 32-bit paging. */
static int walk_32(uint64_t cr3, uint64_t cr4, uint32_t va, gpt_read_fn read_gpa,
		   void *ctx, uint64_t *gpa)
{
	uint64_t pde, pte;

	if (read_entry(read_gpa, ctx, (cr3 & 0xfffff000ULL) + 4 * (va >> 22), 4, &pde))
		return -EFAULT;
	if ((pde & PTE_PS) && (cr4 & CR4_PSE)) {
		/* 4 MiB page; PDE bits 20:13 are address bits 39:32 (table 4-4). */
		*gpa = (pde & 0xffc00000ULL) | (((pde >> 13) & 0xff) << 32) |
		       (va & 0x3fffff);
		return 0;
	}
	if (read_entry(read_gpa, ctx, (pde & 0xfffff000ULL) + 4 * ((va >> 12) & 0x3ff),
		       4, &pte))
		return -EFAULT;
	*gpa = (pte & 0xfffff000ULL) | (va & 0xfff);
	return 0;
}

/*
 * Walk 64-bit entries from table (a gpa) down levels..1, where level n
 * indexes va bits 12 + 9n - 1 : 12 + 9(n - 1).  PS makes a leaf at
 * level 2 (2 MiB) and, when allowed, level 3 (1 GiB).
 */
static int walk_64(uint64_t table, unsigned levels, bool leaf_1g, uint64_t va,
		   gpt_read_fn read_gpa, void *ctx, uint64_t *gpa)
{
	unsigned level;
	uint64_t e;

	for (level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t page_mask = (1ULL << shift) - 1;

		if (read_entry(read_gpa, ctx, table + 8 * ((va >> shift) & 511), 8, &e))
			return -EFAULT;
		if (level == 1 || ((level == 2 || (level == 3 && leaf_1g)) && (e & PTE_PS))) {
			*gpa = (e & PTE_ADDR & ~page_mask) | (va & page_mask);
			return 0;
		}
		table = e & PTE_ADDR;
	}
	return -EFAULT; /* not reached */
}

int gpt_translate(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
		  uint64_t va, gpt_read_fn read_gpa, void *ctx, uint64_t *gpa_out)
{
	uint64_t pdpte;
	uint32_t va32 = (uint32_t)va;

	if (!(cr0 & CR0_PG)) {
		*gpa_out = va32;
		return 0;
	}
	if ((efer & EFER_LMA) || (efer & EFER_LME)) {
		/* SDM vol. 3, 4.5: canonical means bits 63:47 (63:56 with LA57) all equal. */
		unsigned bits = (cr4 & CR4_LA57) ? 57 : 48;
		int64_t top = (int64_t)va >> (bits - 1);

		if (top != 0 && top != -1)
			return -EINVAL;
		return walk_64(cr3 & PTE_ADDR, (cr4 & CR4_LA57) ? 5 : 4, true, va,
			       read_gpa, ctx, gpa_out);
	}
	if (!(cr4 & CR4_PAE))
		return walk_32(cr3, cr4, va32, read_gpa, ctx, gpa_out);
	/* SDM vol. 3, 4.4.1: four PDPTEs at CR3[31:5], indexed by va[31:30]. */
	if (read_entry(read_gpa, ctx, (cr3 & 0xffffffe0ULL) + 8 * (va32 >> 30), 8, &pdpte))
		return -EFAULT;
	return walk_64(pdpte & PTE_ADDR, 2, false, va32, read_gpa, ctx, gpa_out);
}

uint64_t gpt_code_va(const struct gpt_code_pos *at, size_t off)
{
	if (at->mode == 64)
		return at->rip + off;
	return (uint32_t)(at->cs_base + (uint32_t)at->rip + off);
}

size_t gpt_fetch_code(const struct gpt_code_pos *at, gpt_read_fn read_gpa, void *ctx,
		      uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		uint64_t va = gpt_code_va(at, got), gpa;
		size_t n = MIN(len - got, PAGE_SIZE - (va & (PAGE_SIZE - 1)));

		if (gpt_translate(at->cr0, at->cr3, at->cr4, at->efer, va, read_gpa, ctx, &gpa) ||
		    read_gpa(ctx, gpa, buf + got, n))
			break;
		got += n;
	}
	return got;
}
