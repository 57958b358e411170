/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hostile: a guest that attacks what one tenant shares with the others on a
 * host CPU.  mode=dbloop makes the CPU deliver #DB forever (a data
 * breakpoint on its own IST stack, CVE-2015-8104); mode=insns runs the
 * instructions that reach host state (WBINVD, INVD, RDPMC, RDPRU);
 * mode=isolate checks that debug registers, TSC_AUX and PKRU keep the
 * values this guest wrote across many yields beside other tenants, and
 * that its own hardware breakpoints keep firing.
 */
#include "guest.h"

GUEST_NAME("hostile");

#define RF (1ULL << 16)

/* ---------------------------------------------------------------- helpers */
static uint64_t read_dr(int n)
{
	uint64_t v = 0;

	switch (n) {
	case 0: __asm__ volatile("mov %%db0, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%db1, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%db2, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%db3, %0" : "=r"(v)); break;
	case 6: __asm__ volatile("mov %%db6, %0" : "=r"(v)); break;
	case 7: __asm__ volatile("mov %%db7, %0" : "=r"(v)); break;
	}
	return v;
}

static void write_dr(int n, uint64_t v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%db0" : : "r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%db1" : : "r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%db2" : : "r"(v)); break;
	case 3: __asm__ volatile("mov %0, %%db3" : : "r"(v)); break;
	case 6: __asm__ volatile("mov %0, %%db6" : : "r"(v)); break;
	case 7: __asm__ volatile("mov %0, %%db7" : : "r"(v)); break;
	}
}

/* Runs one instruction given as bytes in .text; 0 or -vector. */
#define TRY_INSN(bytes, ...)                                                        \
	({                                                                          \
		guest_fixup_vector = 0;                                             \
		__asm__ volatile("leaq 2f(%%rip), %%r11\n\t"                        \
				 "movq %%r11, guest_fixup_target(%%rip)\n\t"        \
				 "leaq 1f(%%rip), %%r11\n\t"                        \
				 "movq %%r11, guest_fixup_rip(%%rip)\n\t"           \
				 "1: .byte " bytes "\n\t"                           \
				 "2:"                                               \
				 : "+a"(ax), "+d"(dx)                               \
				 : "c"(cx)                                          \
				 : "r11", "memory");                                \
		guest_fixup_rip = 0;                                                \
		-(int)guest_fixup_vector;                                           \
	})

extern volatile uint64_t guest_fixup_rip, guest_fixup_target, guest_fixup_vector;

/* ---------------------------------------------------------------- dbloop */

static struct tss64 tss __attribute__((aligned(16)));
static uint64_t gdt[7] __attribute__((aligned(16)));
static uint8_t ist_stack[4096] __attribute__((aligned(16)));
static volatile uint64_t db_handled;

static int count_db(struct guest_regs *r)
{
	if (r->vector != 1)
		return 0;
	db_handled++;
	return 1;
}

/*
 * #DB is delivered on IST stack 1, which starts at the same address every
 * time; a write breakpoint on its first slot (where the CPU pushes SS)
 * makes every delivery raise a new #DB trap before the handler's first
 * instruction.  Without an intercept the CPU never leaves this loop.
 */
static void dbloop(void)
{
	uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;
	uint64_t top = (uintptr_t)(ist_stack + sizeof(ist_stack));
	struct desc_ptr gp, ip;
	uint64_t *gate;

	tss.ist[0] = top;
	tss.iomap_base = sizeof(tss);
	gdt[1] = 0x00af9a000000ffffull; /* 0x08 code, as entry.asm */
	gdt[2] = 0x00cf92000000ffffull; /* 0x10 data */
	gdt[5] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
		 ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt[6] = base >> 32; /* 0x28 TSS */
	gp.limit = sizeof(gdt) - 1;
	gp.base = (uintptr_t)gdt;
	__asm__ volatile("lgdt %0; ltr %w1" : : "m"(gp), "r"(0x28) : "memory");
	__asm__ volatile("sidt %0" : "=m"(ip));
	gate = (uint64_t *)(uintptr_t)(ip.base + 1 * 16);
	gate[0] |= 1ull << 32; /* IST 1 */
	guest_exception_hook = count_db;

	write_dr(0, top - 8);
	write_dr(7, 0x400 | 1 /* L0 */ | (1ull << 16) /* RW0 = write */ | (3ull << 18) /* 4 bytes */);
	gprintf("looping on #DB (data breakpoint on the IST stack)\n");
	__asm__ volatile("pushfq; orq $0x100, (%%rsp); popfq; nop; nop" ::: "memory", "cc");
	/* Only an emulator that does not model the loop gets here. */
	write_dr(7, 0x400);
	gprintf("no #DB loop: the handler ran %lu times\n", db_handled);
}

/* ---------------------------------------------------------------- insns */
static void insns(void)
{
	uint32_t a, b, c, d;
	uint64_t ax, dx, cx;
	unsigned n = (unsigned)cmdline_u64("wbinvd", 1000);
	int rc;

	for (unsigned i = 0; i < n; i++)
		__asm__ volatile("wbinvd" ::: "memory");
	for (unsigned i = 0; i < 10; i++)
		__asm__ volatile("invd" ::: "memory");
	check(1, "ran %u WBINVD and 10 INVD", n);

	ax = dx = 0, cx = 0;
	rc = TRY_INSN("0x0f, 0x33"); /* RDPMC counter 0 */
	check(rc == -13, "RDPMC at CPL 0 raises #GP (no virtual PMU): got %d, eax 0x%lx", rc, ax);

	cpuid(0x80000000, 0, &a, &b, &c, &d);
	b = 0;
	if (a >= 0x80000008)
		cpuid(0x80000008, 0, &a, &b, &c, &d);
	check(!(b & (1u << 4)), "CPUID hides RDPRU");
	ax = dx = 0, cx = 0;
	rc = TRY_INSN("0x0f, 0x01, 0xfd"); /* RDPRU ecx=0 (MPERF) */
	check(rc == -6, "RDPRU raises #UD: got %d", rc);
}

/* ---------------------------------------------------------------- isolate */
static volatile uint64_t bp_hits, bp_dr6;
static uint64_t seed;

__attribute__((noinline)) static void bp_target(void)
{
	__asm__ volatile("nop");
}

static int count_bp(struct guest_regs *r)
{
	uint64_t dr6;

	if (r->vector != 1)
		return 0;
	dr6 = read_dr(6);
	if (r->rip == (uintptr_t)bp_target)
		bp_hits++;
	if (dr6 & 1)
		bp_dr6++;
	write_dr(6, 0xffff0ff0);
	r->rflags |= RF; /* an instruction breakpoint is a fault: resume past it */
	return 1;
}

static uint64_t dr_value(int i)
{
	return 0x100000ULL * (seed + 1) + 0x40ULL * (uint64_t)i;
}

static inline uint32_t rdpkru(void)
{
	uint32_t a, d;

	__asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(a), "=d"(d) : "c"(0));
	return a;
}

static inline void wrpkru(uint32_t v)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}

static void isolate(void)
{
	unsigned rounds = (unsigned)cmdline_u64("rounds", 2000);
	uint32_t a, b, c, d, aux = (uint32_t)(0x5a00 + seed), pkru = (uint32_t)((seed * 0x04040404u) & ~3u);
	int rdtscp, rdpid, pku;
	unsigned bad_dr = 0, bad_aux = 0, bad_pkru = 0;
	uint64_t first_bad = 0;

	cpuid(0x80000001, 0, &a, &b, &c, &d);
	rdtscp = !!(d & (1u << 27));
	cpuid(7, 0, &a, &b, &c, &d);
	rdpid = !!(c & (1u << 22));
	pku = !!(c & (1u << 3));
	if (cmdline_u64("need_aux", 0))
		check(rdtscp, "CPUID shows RDTSCP (RDPID %d)", rdpid);
	if (cmdline_u64("need_pku", 0))
		check(pku, "CPUID shows PKU");

	for (int i = 0; i < 4; i++)
		write_dr(i, dr_value(i));
	write_dr(6, 0xffff0ff0 | (seed & 0xf));
	if (rdtscp)
		check(try_wrmsr(0xc0000103, aux) == 0, "TSC_AUX written (0x%x)", aux);
	if (pku) {
		write_cr4(read_cr4() | (1ul << 22));
		wrpkru(pkru);
	}
	for (unsigned r = 0; r < rounds; r++) {
		hc_yield();
		for (int i = 0; i < 4; i++) {
			uint64_t got = read_dr(i);

			if (got != dr_value(i) && !bad_dr++)
				first_bad = got;
		}
		if ((read_dr(6) & 0xf) != (seed & 0xf) && !bad_dr++)
			first_bad = read_dr(6);
		if (rdtscp) {
			uint32_t lo, hi, ecx;
			uint64_t pid = 0;

			__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(ecx));
			if (rdpid)
				__asm__ volatile(".byte 0xf3, 0x0f, 0xc7, 0xf8" : "=a"(pid)); /* rdpid rax */
			if (ecx != aux || (rdpid && (uint32_t)pid != aux))
				bad_aux++;
		}
		if (pku && rdpkru() != pkru)
			bad_pkru++;
	}
	check(!bad_dr, "DR0-DR3/DR6 kept this guest's values over %u yields (%u wrong, first 0x%lx)",
	      rounds, bad_dr, first_bad);
	if (rdtscp)
		check(!bad_aux, "RDTSCP%s returned this vCPU's TSC_AUX over %u yields (%u wrong)",
		      rdpid ? "/RDPID" : "", rounds, bad_aux);
	else
		gprintf("skip - no RDTSCP\n");
	if (pku)
		check(!bad_pkru, "PKRU kept 0x%x over %u yields (%u wrong)", pkru, rounds, bad_pkru);
	else
		gprintf("skip - no PKU\n");

	/* The guest's own instruction breakpoint fires every time, wherever it runs. */
	guest_exception_hook = count_bp;
	write_dr(0, (uintptr_t)bp_target);
	write_dr(7, 0x400 | 1); /* L0, execute, 1 byte */
	for (unsigned r = 0; r < rounds; r++) {
		bp_target();
		if (r % 4 == 0)
			hc_yield();
	}
	write_dr(7, 0x400);
	check(bp_hits == rounds, "hardware breakpoint fired %lu times for %u calls", bp_hits, rounds);
	if (cmdline_u64("dr6", 1))
		check(bp_dr6 == bp_hits, "DR6.B0 named the breakpoint in %lu of %lu #DBs", bp_dr6, bp_hits);
}

int main(const struct pvhv_start_info *si)
{
	const char *mode = cmdline_get("mode");

	(void)si;
	seed = cmdline_u64("seed", 1);
	if (streq(mode, "dbloop"))
		dbloop();
	else if (streq(mode, "insns"))
		insns();
	else if (streq(mode, "isolate"))
		isolate();
	else
		check(0, "mode=dbloop|insns|isolate, not %s", mode ? mode : "(none)");
	finish();
}
