/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hcfuzz: random and hostile hypercalls must all fail cleanly, and CPL 3
 * must get -PVHV_EPERM.
 *
 * Random numbers in [0, 64) plus huge ones, random arguments; valid
 * shutdowns are skipped and console writes get only invalid arguments
 * (beyond RAM, too long, straddling the end of RAM), so a correct pvhv
 * neither stops nor prints.  Every result must be >= 0 for VERSION and
 * YIELD, -PVHV_EINVAL for SHUTDOWN, -PVHV_EINVAL/-PVHV_EFAULT for
 * CONSOLE_WRITE and -PVHV_ENOSYS for anything else.
 *
 * cmdline: seed=N (default 1), count=M (default 20000), mem=MIB (domain
 * size; default: the memmap).
 */
#include "guest.h"

GUEST_NAME("hcfuzz");

#define MAX_REPORTS 10
#define GDT_KCODE 0x08
#define GDT_KDATA 0x10
#define GDT_TSS 0x28
#define PTE_US 4ull

/* ring3.asm */
int64_t ring3_call(uint64_t nr, uint64_t a1, uint64_t a2, int mode, void *user_stack_top);
void ring3_isr(void);
extern volatile uint64_t r3_cpl;

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t top;    /* end of RAM */
static char big[PVHV_CONSOLE_WRITE_MAX + 1];

struct counts {
	uint64_t version, yield, enosys, einval, efault, eperm, other, skipped, bad;
};
static struct counts cnt;

static void tally(int64_t rc)
{
	if (rc == -PVHV_ENOSYS)
		cnt.enosys++;
	else if (rc == -PVHV_EINVAL)
		cnt.einval++;
	else if (rc == -PVHV_EFAULT)
		cnt.efault++;
	else if (rc == -PVHV_EPERM)
		cnt.eperm++;
	else if (rc < 0)
		cnt.other++;
}

/* Arguments for a console write that must fail. */
static void bad_console_args(uint64_t *gpa, uint64_t *len)
{
	switch (rnd() % 4) {
	case 0:         /* beyond RAM */
		*gpa = top + rnd() % (1ull << 40);
		*len = 1 + rnd() % PVHV_CONSOLE_WRITE_MAX;
		break;
	case 1:         /* anywhere, far too long */
		*gpa = rnd() % (top ? top : 1);
		*len = PVHV_CONSOLE_WRITE_MAX + 1 + rnd() % (1ull << 32);
		break;
	case 2: {       /* straddling the end of RAM */
		uint64_t in = 1 + rnd() % (PVHV_CONSOLE_WRITE_MAX - 1);
		*gpa = top - in;
		*len = in + 1 + rnd() % (PVHV_CONSOLE_WRITE_MAX - in);
		break;
	}
	default:        /* high addresses, wrapping */
		*gpa = ~0ull - rnd() % (2 * PVHV_CONSOLE_WRITE_MAX);
		*len = 1 + rnd() % PVHV_CONSOLE_WRITE_MAX;
		break;
	}
}

static uint64_t rnd_arg(uint64_t small)
{
	return rnd() & 1 ? rnd() % small : rnd();
}

static void fuzz(uint64_t count)
{
	static const uint64_t huge[] = {
		~0ull, 0x8000000000000000ull, 0x7fffffffffffffffull, 0x100000000ull,
		0x100000000ull + PVHV_HC_SHUTDOWN, 0x100000000ull + PVHV_HC_CONSOLE_WRITE,
		0xffffffffull, 0xffffffff00000000ull, 64, 0x40000000,
	};

	for (uint64_t i = 0; i < count; i++) {
		uint64_t nr = rnd() % 16 ? rnd() % 64 : rnd() % 2 ? huge[rnd() % ARRAY_SIZE(huge)] : rnd();
		uint64_t a[5];
		for (int j = 0; j < 5; j++)
			a[j] = rnd_arg(j == 1 ? 512 : 8);
		int ok;

		if (nr == PVHV_HC_SHUTDOWN && a[0] <= PVHV_SHUTDOWN_CRASH && a[1] <= 255) {
			cnt.skipped++;
			continue;
		}
		if (nr == PVHV_HC_CONSOLE_WRITE)
			bad_console_args(&a[0], &a[1]);
		int64_t rc = hypercall(nr, a[0], a[1], a[2], a[3], a[4]);
		tally(rc);
		switch (nr) {
		case PVHV_HC_VERSION:
			ok = rc == PVHV_ABI_VERSION;
			cnt.version += ok;
			break;
		case PVHV_HC_YIELD:
			ok = rc >= 0;
			cnt.yield += ok;
			break;
		case PVHV_HC_CONSOLE_WRITE:
			ok = rc == -PVHV_EINVAL || rc == -PVHV_EFAULT;
			break;
		case PVHV_HC_SHUTDOWN:
			ok = rc == -PVHV_EINVAL;
			break;
		default:
			ok = rc == -PVHV_ENOSYS;
			break;
		}
		if (!ok && cnt.bad++ < MAX_REPORTS)
			gprintf("call %lu: hypercall(0x%lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx, 0x%lx) = %ld\n",
				i, nr, a[0], a[1], a[2], a[3], a[4], rc);
	}
}

static void targeted(void)
{
	int64_t rc;

	rc = hc_version();
	check(rc == PVHV_ABI_VERSION, "version returns 0x%lx (ABI 0x%x)", rc, PVHV_ABI_VERSION);
	rc = hypercall(PVHV_HC_CONSOLE_WRITE, 0xfffffffffffff000ull, 0x2000, 0, 0, 0);
	check(rc == -PVHV_EFAULT || rc == -PVHV_EINVAL,
	      "console write gpa 0xfffffffffffff000 len 0x2000 returns %ld (EFAULT or EINVAL)", rc);
	rc = hypercall(PVHV_HC_CONSOLE_WRITE, 0xfffffffffffff800ull, PVHV_CONSOLE_WRITE_MAX, 0, 0,
		       0);
	check(rc == -PVHV_EFAULT, "console write gpa 0xfffffffffffff800 len 0x%x (wraps) returns %ld",
	      PVHV_CONSOLE_WRITE_MAX, rc);
	rc = hypercall(PVHV_HC_CONSOLE_WRITE, 0xfffffffffffff000ull, PVHV_CONSOLE_WRITE_MAX, 0, 0,
		       0);
	check(rc == -PVHV_EFAULT, "console write gpa 0xfffffffffffff000 len 0x%x (ends at 2^64) returns %ld",
	      PVHV_CONSOLE_WRITE_MAX, rc);
	rc = hc_console_write(big, sizeof(big));
	check(rc == -PVHV_EINVAL, "console write len 0x%lx (max + 1) returns %ld", sizeof(big), rc);
	rc = hypercall(PVHV_HC_CONSOLE_WRITE, top - 16, 32, 0, 0, 0);
	check(rc == -PVHV_EFAULT, "console write straddling the end of RAM 0x%lx returns %ld", top, rc);
	rc = hypercall(PVHV_HC_CONSOLE_WRITE, top, 1, 0, 0, 0);
	check(rc == -PVHV_EFAULT, "console write at the end of RAM returns %ld", rc);
	rc = hc_shutdown(3, 0);
	check(rc == -PVHV_EINVAL, "shutdown(3, 0) returns %ld", rc);
	rc = hc_shutdown(PVHV_SHUTDOWN_POWEROFF, 256);
	check(rc == -PVHV_EINVAL, "shutdown(0, 256) returns %ld", rc);
	rc = hc_shutdown(~0ull, 0);
	check(rc == -PVHV_EINVAL, "shutdown(~0, 0) returns %ld", rc);
	rc = hc_shutdown(0x100000000ull, 0);
	check(rc == -PVHV_EINVAL, "shutdown(0x100000000, 0) returns %ld (no truncation)", rc);
	rc = hypercall(0x100000000ull + PVHV_HC_VERSION, 0, 0, 0, 0, 0);
	check(rc == -PVHV_ENOSYS, "hypercall 0x100000000 returns %ld (no truncation)", rc);
	rc = hypercall(~0ull, 0, 0, 0, 0, 0);
	check(rc == -PVHV_ENOSYS, "hypercall 0xffffffffffffffff returns %ld", rc);
}

/* ---------------------------------------------------------------- CPL 3 */

static struct tss64 tss __attribute__((aligned(16)));
static uint64_t gdt[7] __attribute__((aligned(16)));
static uint8_t kstack[8192] __attribute__((aligned(16)));
static uint8_t ustack[8192] __attribute__((aligned(16)));
static char ring3_msg[] = "FAIL hcfuzz: console write from CPL 3 went through\n";

static void setup_ring3(void)
{
	uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;
	struct desc_ptr gp, ip;

	tss.rsp[0] = (uintptr_t)(kstack + sizeof(kstack));
	tss.iomap_base = sizeof(tss);
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull;  /* 0x08 kernel code, 64-bit */
	gdt[2] = 0x00cf92000000ffffull;  /* 0x10 kernel data */
	gdt[3] = 0x00cff2000000ffffull;  /* 0x18 user data, DPL 3 */
	gdt[4] = 0x00affa000000ffffull;  /* 0x20 user code, 64-bit, DPL 3 */
	gdt[5] = (limit & 0xffff) | (base & 0xffffff) << 16 | 0x89ull << 40 |
		 ((limit >> 16) & 0xf) << 48 | ((base >> 24) & 0xff) << 56;
	gdt[6] = base >> 32;             /* 0x28 available 64-bit TSS */
	gp.limit = sizeof(gdt) - 1;
	gp.base = (uintptr_t)gdt;
	__asm__ volatile("lgdt %0\n\t"
			 "mov %1, %%ds\n\tmov %1, %%es\n\tmov %1, %%ss\n\t"
			 "ltr %w2"
			 :
			 : "m"(gp), "r"(GDT_KDATA), "r"(GDT_TSS)
			 : "memory");

	/* Gate 0x80: interrupt gate, DPL 3, to ring3_isr. */
	__asm__ volatile("sidt %0" : "=m"(ip));
	uint64_t isr = (uintptr_t)ring3_isr;
	uint64_t *gate = (uint64_t *)(uintptr_t)(ip.base + 0x80 * 16);
	gate[0] = (isr & 0xffff) | (uint64_t)GDT_KCODE << 16 | 0xeeull << 40 |
		  ((isr >> 16) & 0xffff) << 48;
	gate[1] = isr >> 32;

	/* The image (code, data, both stacks) lies in the first 4 MiB. */
	guest_pml4[0] |= PTE_US;
	guest_pdpt[0] |= PTE_US;
	guest_pd[0] |= PTE_US;
	guest_pd[1] |= PTE_US;
	write_cr3(read_cr3());
}

static void ring3_checks(void)
{
	int mode = !guest_have_pvhv ? 0 : guest_use_vmmcall ? 1 : 2;
	void *sp = ustack + sizeof(ustack);

	if (!check((uintptr_t)_end <= (4u << 20), "image ends at %p, below 4 MiB", (void *)_end))
		return;
	setup_ring3();

	int64_t rc = ring3_call(PVHV_HC_VERSION, 0, 0, mode, sp);
	check(r3_cpl == 3, "reached CPL %lu and came back", r3_cpl);
	if (!mode) {
		check(rc == -1234, "CPL 3 round trip without a hypercall (no pvhv) returns %ld", rc);
		return;
	}
	check(rc == -PVHV_EPERM, "version from CPL 3 returns %ld", rc);
	r3_cpl = 0;
	rc = ring3_call(PVHV_HC_CONSOLE_WRITE, (uintptr_t)ring3_msg, sizeof(ring3_msg) - 1, mode, sp);
	check(rc == -PVHV_EPERM && r3_cpl == 3, "console write from CPL 3 returns %ld", rc);
	r3_cpl = 0;
	rc = ring3_call(PVHV_HC_SHUTDOWN, PVHV_SHUTDOWN_POWEROFF, 97, mode, sp);
	check(rc == -PVHV_EPERM && r3_cpl == 3, "shutdown(0, 97) from CPL 3 returns %ld", rc);
	rc = hc_version();
	check(rc == PVHV_ABI_VERSION, "version from CPL 0 afterwards returns 0x%lx", rc);
}

int main(const struct pvhv_start_info *si)
{
	uint64_t seed = cmdline_u64("seed", 1);
	uint64_t count = cmdline_u64("count", 20000);
	uint64_t mem = cmdline_u64("mem", 0) << 20;

	rng = seed ? seed : 0x9e3779b97f4a7c15ull;
	top = ram_top();
	if (mem > top)
		top = mem;
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	gprintf("end of RAM 0x%lx, seed %lu, %lu calls\n", top, seed, count);
	if (!check(top > (4u << 20), "know the end of RAM"))
		finish();

	targeted();
	ring3_checks();
	fuzz(count);
	gprintf("results: version %lu, yield %lu, ENOSYS %lu, EINVAL %lu, EFAULT %lu, EPERM %lu, "
		"other errors %lu, skipped %lu\n",
		cnt.version, cnt.yield, cnt.enosys, cnt.einval, cnt.efault, cnt.eperm, cnt.other,
		cnt.skipped);
	check(cnt.bad == 0, "%lu fuzzed calls, %lu unexpected results", count - cnt.skipped, cnt.bad);
	finish();
}
