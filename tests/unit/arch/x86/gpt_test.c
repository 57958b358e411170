/* SPDX-License-Identifier: Apache-2.0 */
/* gpt_test.c: unit tests for the guest page-table walker in arch/x86/gpt.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "arch/x86/gpt.h"

#define CR0_PG (1ULL << 31)
#define CR0_PE 1ULL
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define P 1ULL
#define RW 2ULL
#define US 4ULL
#define PS 0x80ULL
#define NX (1ULL << 63)

#define MEM_SIZE (1u << 20)

/* Fake guest memory: [0, 1 MiB), page tables anywhere in it. */
static uint8_t *mem;
static unsigned nreads;
static gpa_t fail_gpa = ~0ULL;

static int read_gpa(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	cr_assert_eq(ctx, &mem);
	nreads++;
	if (!range_within(gpa, len, 0, MEM_SIZE) || gpa == fail_gpa)
		return -EFAULT;
	memcpy(buf, mem + gpa, len);
	return 0;
}

static void setup(void)
{
	static uint8_t buf[MEM_SIZE] __attribute__((aligned(4096)));

	mem = buf;
	memset(mem, 0, MEM_SIZE);
	nreads = 0;
	fail_gpa = ~0ULL;
}

TestSuite(gpt, .init = setup);

static void put32(gpa_t at, uint32_t v) { memcpy(mem + at, &v, 4); }
static void put64(gpa_t at, uint64_t v) { memcpy(mem + at, &v, 8); }

static int xlate(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer, uint64_t va,
		 uint64_t *gpa)
{
	*gpa = 0x5a5a5a5a;
	return gpt_translate(cr0, cr3, cr4, efer, va, read_gpa, &mem, gpa);
}

static void expect_gpa(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
		       uint64_t va, uint64_t want)
{
	uint64_t gpa;
	int rc = xlate(cr0, cr3, cr4, efer, va, &gpa);

	cr_expect_eq(rc, 0, "va %#llx: rc %d", (unsigned long long)va, rc);
	cr_expect_eq(gpa, want, "va %#llx -> %#llx, want %#llx", (unsigned long long)va,
		     (unsigned long long)gpa, (unsigned long long)want);
}

static void expect_err(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
		       uint64_t va, int want)
{
	uint64_t gpa;
	int rc = xlate(cr0, cr3, cr4, efer, va, &gpa);

	cr_expect_eq(rc, want, "va %#llx: rc %d want %d", (unsigned long long)va, rc, want);
}

Test(gpt, paging_off_is_identity)
{
	expect_gpa(0, 0, 0, 0, 0x1234, 0x1234);
	expect_gpa(CR0_PE, 0xdead000, CR4_PAE, 0, 0xfec00010, 0xfec00010);
	/* Linear addresses are 32-bit without paging. */
	expect_gpa(CR0_PE, 0, 0, 0, 0x100001000ULL, 0x1000);
	cr_expect_eq(nreads, 0);
}

/* ------------------------------------------------------------ 32-bit paging */

Test(gpt, legacy_4k)
{
	uint32_t va = 0x80401234;

	put32(0x1000 + 4 * (va >> 22), 0x2000 | P | RW);
	put32(0x2000 + 4 * ((va >> 12) & 0x3ff), 0xabcde000 | P | RW | 0x60);
	expect_gpa(CR0_PG | CR0_PE, 0x1000, 0, 0, va, 0xabcde234);
	cr_expect_eq(nreads, 2);
	/* CR3 flag bits (PWT, PCD) are not address bits. */
	expect_gpa(CR0_PG | CR0_PE, 0x1018, 0, 0, va, 0xabcde234);
	/* Bits 63:32 of va are not part of a 32-bit linear address. */
	expect_gpa(CR0_PG | CR0_PE, 0x1000, 0, 0, 0xffffffff00000000ULL | va, 0xabcde234);
	/* Neighbouring page: PTE not present. */
	expect_err(CR0_PG | CR0_PE, 0x1000, 0, 0, va + 0x1000, -EFAULT);
	/* Neighbouring 4 MiB: PDE not present. */
	expect_err(CR0_PG | CR0_PE, 0x1000, 0, 0, va + 0x400000, -EFAULT);
}

Test(gpt, legacy_4m_pse)
{
	uint32_t va = 0xc0123456;
	uint32_t pde = 0x7fc00000 | PS | P | RW | (0x5 << 13); /* PSE-36: bits 39:32 = 5 */

	put32(0x3000 + 4 * (va >> 22), pde);
	expect_gpa(CR0_PG, 0x3000, CR4_PSE, 0, va, 0x57fc00000ULL | (va & 0x3fffff));
	cr_expect_eq(nreads, 1);
	/* Without CR4.PSE, PS is ignored and the PDE points at a page table. */
	expect_err(CR0_PG, 0x3000, 0, 0, va, -EFAULT);
	/* A PDE with PS clear under CR4.PSE still walks to a PT. */
	put32(0x3000 + 4 * (va >> 22), 0x4000 | P);
	put32(0x4000 + 4 * ((va >> 12) & 0x3ff), 0x00345000 | P);
	expect_gpa(CR0_PG, 0x3000, CR4_PSE, 0, va, 0x00345456);
}

Test(gpt, legacy_ps_ignored_without_pse)
{
	uint32_t va = 0x00401abc;

	/* PS set, CR4.PSE clear: the entry's address is a page table. */
	put32(0x1000 + 4 * (va >> 22), 0x5000 | PS | P);
	put32(0x5000 + 4 * ((va >> 12) & 0x3ff), 0x9000 | P);
	expect_gpa(CR0_PG, 0x1000, 0, 0, va, 0x9abc);
}

/* ------------------------------------------------------------ PAE */

Test(gpt, pae_2m_and_4k)
{
	uint64_t cr3 = 0x6020; /* 32-byte aligned, not page aligned */
	uint32_t va4k = 0x80212345, va2m = 0x80654321;

	put64(cr3 + 8 * (va4k >> 30), 0x7000 | P);
	put64(0x7000 + 8 * ((va4k >> 21) & 511), 0x8000 | P | RW);
	put64(0x8000 + 8 * ((va4k >> 12) & 511), NX | 0x1234567000ULL | P);
	put64(0x7000 + 8 * ((va2m >> 21) & 511), 0x40000000ULL | (1 << 12) /* PAT */ | PS | P);
	expect_gpa(CR0_PG, cr3, CR4_PAE, 0, va4k, 0x1234567345ULL);
	cr_expect_eq(nreads, 3);
	expect_gpa(CR0_PG, cr3, CR4_PAE, 0, va2m, 0x40054321ULL);
	/* CR4.PSE does not matter under PAE. */
	expect_gpa(CR0_PG, cr3, CR4_PAE | CR4_PSE, 0, va2m, 0x40054321ULL);
	/* EFER.NXE alone does not make it long mode. */
	expect_gpa(CR0_PG, cr3, CR4_PAE, 1ULL << 11, va2m, 0x40054321ULL);
	/* Other PDPTEs are not present. */
	expect_err(CR0_PG, cr3, CR4_PAE, 0, 0x00001000, -EFAULT);
	expect_err(CR0_PG, cr3, CR4_PAE, 0, 0xc0001000, -EFAULT);
	/* Not-present PDE and PTE. */
	expect_err(CR0_PG, cr3, CR4_PAE, 0, va4k + 0x200000 * 8, -EFAULT);
	expect_err(CR0_PG, cr3, CR4_PAE, 0, va4k + 0x1000, -EFAULT);
}

/* ------------------------------------------------------------ long mode */

/* Builds PML4 0x10000 -> PDPT 0x11000 -> PD 0x12000 -> PT 0x13000 for va. */
static void build_4level(uint64_t va, uint64_t pte)
{
	put64(0x10000 + 8 * ((va >> 39) & 511), 0x11000 | P | RW | US);
	put64(0x11000 + 8 * ((va >> 30) & 511), 0x12000 | P | RW | US);
	put64(0x12000 + 8 * ((va >> 21) & 511), 0x13000 | P | RW | US);
	put64(0x13000 + 8 * ((va >> 12) & 511), pte);
}

#define LM_CR0 (CR0_PG | CR0_PE)
#define LM_CR4 CR4_PAE
#define LM_EFER (EFER_LME | EFER_LMA)

Test(gpt, long_4k)
{
	uint64_t va = 0xffffffff81234567ULL; /* a kernel text address */

	build_4level(va, NX | 0x0000000fedcba000ULL | P | RW | 0x60);
	expect_gpa(LM_CR0, 0x10000, LM_CR4, LM_EFER, va, 0xfedcba567ULL);
	cr_expect_eq(nreads, 4);
	/* CR3 PCID bits and bit 63 (no-flush) are not address bits. */
	expect_gpa(LM_CR0, 0x10000 | 0x123 | (1ULL << 63), LM_CR4 | (1ULL << 17), LM_EFER, va,
		   0xfedcba567ULL);
	/* LME with PG is long mode even if the LMA copy was not passed. */
	expect_gpa(LM_CR0, 0x10000, LM_CR4, EFER_LME, va, 0xfedcba567ULL);
	/* Low canonical half. */
	build_4level(0x00007f0000001000ULL, 0x2000 | P);
	expect_gpa(LM_CR0, 0x10000, LM_CR4, LM_EFER, 0x00007f0000001ffeULL, 0x2ffe);
}

Test(gpt, long_2m_and_1g)
{
	uint64_t va2m = 0x0000000040345678ULL, va1g = 0x0000008087654321ULL;

	/* 2 MiB: PML4[0] -> PDPT 0x11000 [1] -> PD 0x12000 [1] leaf. */
	put64(0x10000, 0x11000 | P);
	put64(0x11000 + 8 * 1, 0x12000 | P);
	put64(0x12000 + 8 * 1, 0x0000123400200000ULL | (1 << 12) | PS | P);
	expect_gpa(LM_CR0, 0x10000, LM_CR4, LM_EFER, va2m, 0x0000123400345678ULL);
	cr_expect_eq(nreads, 3);
	/* 1 GiB: PML4[1] -> PDPT 0x14000 [2] leaf, PAT bit 12 set. */
	put64(0x10000 + 8, 0x14000 | P);
	put64(0x14000 + 8 * 2, NX | 0x0000004c0000000ULL | (1 << 12) | PS | P);
	expect_gpa(LM_CR0, 0x10000, LM_CR4, LM_EFER, va1g, 0x4c0000000ULL + 0x07654321);
}

Test(gpt, long_not_present_at_each_level)
{
	uint64_t va = 0x0000123456789000ULL;

	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, va, -EFAULT);
	put64(0x10000 + 8 * ((va >> 39) & 511), 0x11000 | P);
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, va, -EFAULT);
	put64(0x11000 + 8 * ((va >> 30) & 511), 0x12000 | P);
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, va, -EFAULT);
	put64(0x12000 + 8 * ((va >> 21) & 511), 0x13000 | P);
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, va, -EFAULT);
	/* Address bits set but P clear is still not present. */
	put64(0x13000 + 8 * ((va >> 12) & 511), 0x9000 | RW);
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, va, -EFAULT);
	put64(0x13000 + 8 * ((va >> 12) & 511), 0x9000 | P);
	expect_gpa(LM_CR0, 0x10000, LM_CR4, LM_EFER, va, 0x9000);
}

Test(gpt, read_failure_is_efault)
{
	uint64_t va = 0x1000;

	/* The PDPT lies outside guest memory. */
	put64(0x10000, 0x7ff00000ULL | P);
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, va, -EFAULT);
	/* CR3 itself outside. */
	expect_err(LM_CR0, 0x40000000, LM_CR4, LM_EFER, va, -EFAULT);
	expect_err(CR0_PG, 0x40000000, 0, 0, va, -EFAULT);
	expect_err(CR0_PG, 0x40000000, CR4_PAE, 0, va, -EFAULT);
	/* The read callback's own failure. */
	build_4level(va, 0x9000 | P);
	fail_gpa = 0x12000;
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, va, -EFAULT);
	fail_gpa = ~0ULL;
	expect_gpa(LM_CR0, 0x10000, LM_CR4, LM_EFER, va, 0x9000);
}

Test(gpt, non_canonical)
{
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, 0x0000800000000000ULL, -EINVAL);
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, 0xffff7fffffffffffULL, -EINVAL);
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, 0x8000000000000000ULL, -EINVAL);
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, 0x0001000000000000ULL, -EINVAL);
	cr_expect_eq(nreads, 0);
	/* The canonical edges walk (and find nothing). */
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, 0x00007fffffffffffULL, -EFAULT);
	expect_err(LM_CR0, 0x10000, LM_CR4, LM_EFER, 0xffff800000000000ULL, -EFAULT);
	/* With LA57 the boundary moves to bit 56. */
	expect_err(LM_CR0, 0x10000, LM_CR4 | CR4_LA57, LM_EFER, 0x0100000000000000ULL, -EINVAL);
	expect_err(LM_CR0, 0x10000, LM_CR4 | CR4_LA57, LM_EFER, 0xfeffffffffffffffULL, -EINVAL);
	expect_err(LM_CR0, 0x10000, LM_CR4 | CR4_LA57, LM_EFER, 0x0000800000000000ULL, -EFAULT);
}

Test(gpt, five_level)
{
	uint64_t va = 0x00ab123456789abcULL; /* canonical only with LA57 */

	put64(0x20000 + 8 * ((va >> 48) & 511), 0x10000 | P);
	build_4level(va, 0x0000000abcdef000ULL | P);
	expect_gpa(LM_CR0, 0x20000, LM_CR4 | CR4_LA57, LM_EFER, va, 0xabcdefabcULL);
	cr_expect_eq(nreads, 5);
	expect_err(LM_CR0, 0x20000, LM_CR4, LM_EFER, va, -EINVAL);
	/* A high-half LA57 address: PML5 index 0x180. */
	va = 0xff80000000001234ULL;
	put64(0x20000 + 8 * 0x180, 0x10000 | P);
	build_4level(va, 0x5000 | P);
	expect_gpa(LM_CR0, 0x20000, LM_CR4 | CR4_LA57, LM_EFER, va, 0x5234);
	/* PML5 entry not present. */
	expect_err(LM_CR0, 0x20000, LM_CR4 | CR4_LA57, LM_EFER, 0x0001000000000000ULL, -EFAULT);
}

Test(gpt, ps_in_pml4_is_not_a_leaf)
{
	uint64_t va = 0x3000;

	/* PS is reserved in a PML4E; the walker treats the entry as a table. */
	put64(0x10000, 0x11000 | PS | P);
	put64(0x11000, 0x12000 | P);
	put64(0x12000, 0x13000 | P);
	put64(0x13000 + 8 * 3, 0x77000 | P);
	expect_gpa(LM_CR0, 0x10000, LM_CR4, LM_EFER, va, 0x77000);
}

/* ------------------------------------------------------------ code fetch at CS.base + RIP */

Test(gpt, code_va)
{
	struct gpt_code_pos at = { .mode = 64, .cs_base = 0x12340000, .rip = 0xffffffff81000000ULL };

	/* 64-bit mode: CS.base is not used. */
	cr_expect_eq(gpt_code_va(&at, 0), 0xffffffff81000000ULL);
	cr_expect_eq(gpt_code_va(&at, 3), 0xffffffff81000003ULL);
	/* Compatibility and 32-bit mode: base + EIP, 32 bits wide. */
	at.mode = 32;
	at.rip = 0x1000;
	cr_expect_eq(gpt_code_va(&at, 0), 0x12341000);
	at.cs_base = 0xfffff000;
	at.rip = 0x1ffe;
	cr_expect_eq(gpt_code_va(&at, 1), 0xfff);
	/* Real mode: CS.base = selector << 4. */
	at.mode = 16;
	at.cs_base = 0x9f000;
	at.rip = 0x10;
	cr_expect_eq(gpt_code_va(&at, 2), 0x9f012);
}

static size_t fetch(const struct gpt_code_pos *at, uint8_t *buf, size_t len)
{
	memset(buf, 0xee, len);
	return gpt_fetch_code(at, read_gpa, &mem, buf, len);
}

Test(gpt, fetch_real_mode_adds_cs_base)
{
	struct gpt_code_pos at = { .cr0 = 0, .mode = 16, .cs_base = 0x9000, .rip = 0x100 };
	uint8_t buf[15];

	memcpy(mem + 0x9100, "\x66\x0f\xa2\x90", 4);
	memcpy(mem + 0x100, "\xcc\xcc\xcc\xcc", 4); /* what RIP alone would give */
	cr_expect_eq(fetch(&at, buf, sizeof(buf)), sizeof(buf));
	cr_expect_eq(memcmp(buf, "\x66\x0f\xa2\x90", 4), 0);
}

Test(gpt, fetch_compat_mode_adds_cs_base_through_paging)
{
	/* va 0x401ffc..0x40200a spans two 4 KiB pages mapped far apart. */
	struct gpt_code_pos at = { .cr0 = LM_CR0, .cr3 = 0x10000, .cr4 = LM_CR4, .efer = LM_EFER,
				   .mode = 32, .cs_base = 0x400000, .rip = 0x1ffc };
	uint8_t buf[15];

	build_4level(0x401000, 0x30000 | P);
	put64(0x13000 + 8 * 2, 0x50000 | P); /* 0x402000 */
	memcpy(mem + 0x30ffc, "\x2e\x0f\x01\xd9", 4);
	memcpy(mem + 0x50000, "\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb", 11);
	cr_expect_eq(fetch(&at, buf, sizeof(buf)), sizeof(buf));
	cr_expect_eq(memcmp(buf, "\x2e\x0f\x01\xd9\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb", 15), 0);
	/* 64-bit mode with the same RIP ignores the base: va 0x1ffc is not mapped. */
	at.mode = 64;
	cr_expect_eq(fetch(&at, buf, sizeof(buf)), 0);
}

Test(gpt, fetch_stops_at_a_missing_page)
{
	struct gpt_code_pos at = { .cr0 = LM_CR0, .cr3 = 0x10000, .cr4 = LM_CR4, .efer = LM_EFER,
				   .mode = 64, .rip = 0x7ffa };
	uint8_t buf[15];

	build_4level(0x7000, 0x30000 | P);
	memcpy(mem + 0x30ffa, "\x66\x66\x66\x66\x0f\xa2", 6);
	cr_expect_eq(fetch(&at, buf, sizeof(buf)), 6);
	cr_expect_eq(memcmp(buf, "\x66\x66\x66\x66\x0f\xa2", 6), 0);
	cr_expect_eq(buf[6], 0xee, "nothing written past what was read");
	/* A page whose bytes lie outside guest memory, and a non-canonical RIP. */
	build_4level(0x8000, 0x7ff00000ULL | P);
	cr_expect_eq(fetch(&at, buf, sizeof(buf)), 6);
	at.rip = 0x0000800000000000ULL;
	cr_expect_eq(fetch(&at, buf, sizeof(buf)), 0);
}

Test(gpt, fetch_wraps_at_4g_outside_64bit_mode)
{
	/* 32-bit paging: va 0xfffff000 -> 0x30000, va 0 -> 0x50000. */
	struct gpt_code_pos at = { .cr0 = CR0_PG | CR0_PE, .cr3 = 0x1000, .mode = 32,
				   .cs_base = 0xffff0000, .rip = 0xfffe };
	uint8_t buf[6];

	put32(0x1000 + 4 * 0x3ff, 0x2000 | P);
	put32(0x2000 + 4 * 0x3ff, 0x30000 | P);
	put32(0x1000, 0x3000 | P);
	put32(0x3000, 0x50000 | P);
	memcpy(mem + 0x30ffe, "\x2e\x48", 2);
	memcpy(mem + 0x50000, "\x0f\x32\x90\x90", 4);
	/* CS.base + EIP = 0xfffffffe: the instruction continues at linear 0. */
	cr_expect_eq(fetch(&at, buf, sizeof(buf)), 6);
	cr_expect_eq(memcmp(buf, "\x2e\x48\x0f\x32\x90\x90", 6), 0);
	/* The same with the sum itself past 4 GiB. */
	at.cs_base = 0xfffffff0;
	at.rip = 0xfffffff0; /* + base = 0x1ffffffe0 -> 0xffffffe0 */
	memcpy(mem + 0x30fe0, "\xf4", 1);
	cr_expect_eq(fetch(&at, buf, 1), 1);
	cr_expect_eq(buf[0], 0xf4);
}
