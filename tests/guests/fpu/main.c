/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpu: x87 and SSE register state must survive preemption and yields.
 *
 * Loads distinctive values into ST0-7, XMM0-15, FCW and MXCSR (inline asm
 * only: the C code is built general-registers-only, so the compiler never
 * touches these registers), then spins with a yield every 10000 iterations
 * and compares an FXSAVE image against the one taken right after loading.
 * entry.asm sets CR4.OSFXSR|OSXMMEXCPT, CR0.MP and clears CR0.EM.
 *
 * When CPUID shows XSAVE and AVX (1:ECX[26], 1:ECX[28], 0xD.0:EAX[2]) it
 * also sets CR4.OSXSAVE and XCR0 = x87|SSE|AVX, loads all 16 YMM registers
 * (full 256 bits; the low halves equal the XMM values) and checks after
 * every yield that the upper halves are intact as well.
 *
 * cmdline: rounds=N (busy-loop iterations, default 2000000), seed=N (value
 * seed, default 1: give sibling fpu guests different seeds), avx=1 (AVX must
 * be there; without it a missing AVX only prints "skip - no AVX").
 */
#include "guest.h"

GUEST_NAME("fpu");

#define YIELD_EVERY 10000
#define MAX_REPORTS 8

/* FXSAVE image offsets (Intel SDM vol. 1, 10.5.1; AMD APM vol. 5 FXSAVE). */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_MXCSR 24
#define FX_ST0 32
#define FX_XMM0 160

#define CR4_OSXSAVE (1ull << 18)
#define XCR0_X87_SSE_AVX 7

static uint8_t ref[512] __attribute__((aligned(16)));
static uint8_t cur[512] __attribute__((aligned(16)));
static uint8_t xmm_vals[16][16] __attribute__((aligned(16)));
static uint8_t ymm_vals[16][32] __attribute__((aligned(32)));
static uint8_t ymm_ref[16][32] __attribute__((aligned(32)));
static uint8_t ymm_cur[16][32] __attribute__((aligned(32)));
static int64_t st_vals[8];
static uint16_t fcw = 0x027f;           /* 53-bit precision, all masked */
static uint32_t mxcsr = 0x7f80;         /* round toward zero, all masked */

static void load_state(void)
{
	__asm__ volatile("fninit\n\t"
			 "fldcw %[cw]\n\t"
			 "fildq 0(%[st])\n\tfildq 8(%[st])\n\tfildq 16(%[st])\n\tfildq 24(%[st])\n\t"
			 "fildq 32(%[st])\n\tfildq 40(%[st])\n\tfildq 48(%[st])\n\tfildq 56(%[st])\n\t"
			 "ldmxcsr %[csr]\n\t"
			 "movdqu 0(%[x]), %%xmm0\n\tmovdqu 16(%[x]), %%xmm1\n\t"
			 "movdqu 32(%[x]), %%xmm2\n\tmovdqu 48(%[x]), %%xmm3\n\t"
			 "movdqu 64(%[x]), %%xmm4\n\tmovdqu 80(%[x]), %%xmm5\n\t"
			 "movdqu 96(%[x]), %%xmm6\n\tmovdqu 112(%[x]), %%xmm7\n\t"
			 "movdqu 128(%[x]), %%xmm8\n\tmovdqu 144(%[x]), %%xmm9\n\t"
			 "movdqu 160(%[x]), %%xmm10\n\tmovdqu 176(%[x]), %%xmm11\n\t"
			 "movdqu 192(%[x]), %%xmm12\n\tmovdqu 208(%[x]), %%xmm13\n\t"
			 "movdqu 224(%[x]), %%xmm14\n\tmovdqu 240(%[x]), %%xmm15"
			 :
			 : [cw] "m"(fcw), [st] "r"(st_vals), [csr] "m"(mxcsr), [x] "r"(xmm_vals)
			 : "memory");
}

static void save_state(uint8_t *img)
{
	__asm__ volatile("fxsave64 (%0)" : : "r"(img) : "memory");
}

/* Needs CR4.OSXSAVE and XCR0 bit 2.  Overwrites XMM0-15 with the same low halves. */
static void load_ymm(void)
{
	__asm__ volatile("vmovdqu 0(%0), %%ymm0\n\tvmovdqu 32(%0), %%ymm1\n\t"
			 "vmovdqu 64(%0), %%ymm2\n\tvmovdqu 96(%0), %%ymm3\n\t"
			 "vmovdqu 128(%0), %%ymm4\n\tvmovdqu 160(%0), %%ymm5\n\t"
			 "vmovdqu 192(%0), %%ymm6\n\tvmovdqu 224(%0), %%ymm7\n\t"
			 "vmovdqu 256(%0), %%ymm8\n\tvmovdqu 288(%0), %%ymm9\n\t"
			 "vmovdqu 320(%0), %%ymm10\n\tvmovdqu 352(%0), %%ymm11\n\t"
			 "vmovdqu 384(%0), %%ymm12\n\tvmovdqu 416(%0), %%ymm13\n\t"
			 "vmovdqu 448(%0), %%ymm14\n\tvmovdqu 480(%0), %%ymm15"
			 :
			 : "r"(ymm_vals)
			 : "memory");
}

static void save_ymm(uint8_t (*img)[32])
{
	__asm__ volatile("vmovdqu %%ymm0, 0(%0)\n\tvmovdqu %%ymm1, 32(%0)\n\t"
			 "vmovdqu %%ymm2, 64(%0)\n\tvmovdqu %%ymm3, 96(%0)\n\t"
			 "vmovdqu %%ymm4, 128(%0)\n\tvmovdqu %%ymm5, 160(%0)\n\t"
			 "vmovdqu %%ymm6, 192(%0)\n\tvmovdqu %%ymm7, 224(%0)\n\t"
			 "vmovdqu %%ymm8, 256(%0)\n\tvmovdqu %%ymm9, 288(%0)\n\t"
			 "vmovdqu %%ymm10, 320(%0)\n\tvmovdqu %%ymm11, 352(%0)\n\t"
			 "vmovdqu %%ymm12, 384(%0)\n\tvmovdqu %%ymm13, 416(%0)\n\t"
			 "vmovdqu %%ymm14, 448(%0)\n\tvmovdqu %%ymm15, 480(%0)"
			 :
			 : "r"(img)
			 : "memory");
}

/* CPUID: XSAVE, AVX and the AVX state component in leaf 0xD. */
static int have_avx(void)
{
	uint32_t a, b, c, d, max;

	cpuid(0, 0, &max, &b, &c, &d);
	if (max < 0xd)
		return 0;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26)) || !(c & (1u << 28)))
		return 0;
	cpuid(0xd, 0, &a, &b, &c, &d);
	return (a & 7) == 7;
}

/* The upper 128 bits of each YMM register (the low halves are in the FXSAVE image). */
static int same_ymm_upper(uint8_t (*a)[32], uint8_t (*b)[32], const char *when)
{
	static unsigned reports;

	for (int i = 0; i < 16; i++)
		if (memcmp(a[i] + 16, b[i] + 16, 16)) {
			if (reports++ < MAX_REPORTS)
				gprintf("%s: YMM%d upper half changed\n", when, i);
			return 0;
		}
	return 1;
}

/* Compares the architectural state, not FIP/FDP/FOP (vendors differ there). */
static int same_state(const uint8_t *a, const uint8_t *b, const char *when)
{
	static unsigned reports;
	int ok = 1;
	const char *what = NULL;

	if (memcmp(a + FX_FCW, b + FX_FCW, 5)) {
		what = "FCW/FSW/FTW";
		ok = 0;
	} else if (memcmp(a + FX_MXCSR, b + FX_MXCSR, 4)) {
		what = "MXCSR";
		ok = 0;
	}
	for (int i = 0; ok && i < 8; i++)
		if (memcmp(a + FX_ST0 + 16 * i, b + FX_ST0 + 16 * i, 10)) {
			what = "an ST register";
			ok = 0;
		}
	for (int i = 0; ok && i < 16; i++)
		if (memcmp(a + FX_XMM0 + 16 * i, b + FX_XMM0 + 16 * i, 16)) {
			what = "an XMM register";
			ok = 0;
		}
	if (!ok && reports++ < MAX_REPORTS)
		gprintf("%s: %s changed\n", when, what);
	return ok;
}

int main(const struct pvhv_start_info *si)
{
	uint64_t rounds = cmdline_u64("rounds", 2000000);
	uint64_t seed = cmdline_u64("seed", 1);
	int want_avx = cmdline_u64("avx", 0) != 0;

	gprintf("CR0 0x%lx CR4 0x%lx\n", read_cr0(), read_cr4());
	check((read_cr4() & 0x600) == 0x600 && !(read_cr0() & 4) && (read_cr0() & 2),
	      "CR4.OSFXSR|OSXMMEXCPT set, CR0.EM clear, CR0.MP set");
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			xmm_vals[i][j] = (uint8_t)(seed * 131 + i * 16 + j * 7 + 1);
	for (int i = 0; i < 8; i++)
		st_vals[i] = (int64_t)(seed * 1000003 + (uint64_t)i * 77777) * (i & 1 ? -1 : 1);
	/* Low halves = the XMM values, so the FXSAVE checks still hold; non-zero upper halves. */
	for (int i = 0; i < 16; i++) {
		memcpy(ymm_vals[i], xmm_vals[i], 16);
		for (int j = 0; j < 16; j++)
			ymm_vals[i][16 + j] = (uint8_t)(seed * 197 + i * 16 + j * 5 + 0x41) | 1;
	}

	int avx = have_avx();
	if (avx) {
		write_cr4(read_cr4() | CR4_OSXSAVE);
		int rc = try_xsetbv(0, XCR0_X87_SSE_AVX);
		avx = check(rc == 0 && (read_cr4() & CR4_OSXSAVE) && xgetbv(0) == XCR0_X87_SSE_AVX,
			    "CR4.OSXSAVE set, XCR0 = 0x%x (xsetbv rc %d)", XCR0_X87_SSE_AVX, rc);
	} else if (want_avx) {
		check(0, "AVX required (avx=1): CPUID shows XSAVE, AVX and XCR0 bit 2");
	} else {
		gprintf("skip - no AVX\n");
	}

	load_state();
	if (avx)
		load_ymm();
	save_state(ref);
	if (avx)
		save_ymm(ymm_ref);

	uint16_t cw;
	uint32_t csr;
	memcpy(&cw, ref + FX_FCW, 2);
	memcpy(&csr, ref + FX_MXCSR, 4);
	check(cw == fcw, "FCW loaded (0x%x)", cw);
	check(csr == mxcsr, "MXCSR loaded (0x%x)", csr);
	check(ref[FX_FTW] == 0xff, "all 8 ST registers valid (abridged FTW 0x%x)", ref[FX_FTW]);
	int xmm_ok = 1;
	for (int i = 0; i < 16; i++)
		xmm_ok &= memcmp(ref + FX_XMM0 + 16 * i, xmm_vals[i], 16) == 0;
	check(xmm_ok, "XMM0-15 loaded");
	if (avx)
		check(memcmp(ymm_ref, ymm_vals, sizeof(ymm_vals)) == 0, "YMM0-15 loaded (256 bits)");

	volatile uint64_t spin = 0;
	uint64_t yields = 0, yield_bad = 0, bad = 0, ybad = 0, compares = 0;
	for (uint64_t i = 1; i <= rounds; i++) {
		spin = spin * 6364136223846793005ull + i;
		if (i % YIELD_EVERY)
			continue;
		int64_t rc = hc_yield();
		yields++;
		yield_bad += rc != 0;
		save_state(cur);
		if (avx)
			save_ymm(ymm_cur);
		compares++;
		bad += !same_state(ref, cur, "after a yield");
		if (avx)
			ybad += !same_ymm_upper(ymm_ref, ymm_cur, "after a yield");
	}
	save_state(cur);
	if (avx)
		save_ymm(ymm_cur);
	compares++;
	bad += !same_state(ref, cur, "at the end");
	if (avx)
		ybad += !same_ymm_upper(ymm_ref, ymm_cur, "at the end");

	check(yield_bad == 0, "%lu yields returned 0 (%lu did not)", yields, yield_bad);
	check(bad == 0, "%lu iterations, FPU/SSE state intact in %lu of %lu snapshots", rounds,
	      compares - bad, compares);
	if (avx)
		check(ybad == 0, "YMM upper halves intact in %lu of %lu snapshots", compares - ybad,
		      compares);
	finish();
}
