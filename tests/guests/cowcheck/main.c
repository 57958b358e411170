/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cowcheck: reads and runs its own image from RAM pvhv may back with the
 * kernel image's pages (read-only, copied at the first write), then, with
 * write=1, writes to two of those chunks and patches the code in one.
 * Every word must read what the image holds, before and after the writes
 * (so the copy is whole), the writes must stick, and the patched code
 * must run patched.  reboot=1 reboots when all passed: the next boot
 * checks that the image itself was never written.  rounds=N re-reads the
 * whole blob N times between yields (a sibling domain writing meanwhile).
 * smp=1 (2 vCPUs) first has vCPU 1 (pingpong's ap.asm) poll a word of a
 * shared chunk, having read it once, while vCPU 0 writes it: the copy
 * pvhv makes must reach vCPU 1 within 2 s (it stops using the image's
 * page) and vCPU 0 must get past its write (pvhv's wait for vCPU 1 ends).
 */
#include "guest.h"

GUEST_NAME("cowcheck");

#define COW_BYTES (5u << 20)
#define COW_TAG 0xC0C0000000000000ul
#define WORD0 8u /* the first patterned word (after cow_fn) */

/* What blob.asm put at off: the tag plus the offset of its 4 KiB page. */
static uint64_t expected(uint64_t off)
{
	return COW_TAG + (off & ~0xffful);
}

#define TRAMP_GPA 0x10000u /* below 1 MiB, past pvhv's ACPI tables */
#define MSR_X2APIC_SVR 0x80f
#define MSR_X2APIC_ICR 0x830
#define SMP_WORD ((2u << 20) + 0x3000) /* in the blob's second whole chunk */
#define SMP_NEW 0x4e65772076616c75ul

extern uint8_t cow_blob[];
extern uint8_t cow_fn_imm[];
uint32_t cow_fn(void);
extern char ap_tramp[], ap_tramp_end[];
void ap_main(void);
/* ap.asm's IPI handlers count here; none is used. */
volatile uint64_t ipi_seen[3], shadow_hits;
static volatile uint64_t ap_first, ap_saw;
static volatile int ap_up, ap_done;

/* vCPU 1: reads the word once (its TLB holds the image's page), then polls it. */
void ap_main(void)
{
	volatile uint64_t *x = (volatile uint64_t *)(cow_blob + SMP_WORD);
	uint64_t first = *x;

	ap_first = first;
	ap_up = 1;
	while (*x == first)
		cpu_relax();
	ap_saw = *x;
	ap_done = 1;
}

static void smp_check(void)
{
	uint64_t per_ms = tsc_per_ms(), t;

	if (!check(per_ms != 0, "TSC rate from the pvclock (%lu ticks per ms)", per_ms))
		return;
	wrmsr(MSR_X2APIC_SVR, 0x1ff);
	memcpy((void *)(uintptr_t)TRAMP_GPA, ap_tramp, (size_t)(ap_tramp_end - ap_tramp));
	wrmsr(MSR_X2APIC_ICR, (1ull << 32) | 0x4500u);                       /* INIT */
	wrmsr(MSR_X2APIC_ICR, (1ull << 32) | 0x4600u | (TRAMP_GPA >> 12));  /* SIPI */
	for (t = tsc_read(); !ap_up && tsc_read() - t < 2000 * per_ms;)
		cpu_relax();
	if (!check(ap_up && ap_first == expected(SMP_WORD), "vcpu 1 up, read 0x%lx from the shared chunk",
		   ap_first))
		return;
	for (t = tsc_read(); tsc_read() - t < 5 * per_ms;)
		cpu_relax(); /* vCPU 1 polls meanwhile */
	*(volatile uint64_t *)(cow_blob + SMP_WORD) = SMP_NEW;
	for (t = tsc_read(); !ap_done && tsc_read() - t < 2000 * per_ms;)
		cpu_relax();
	check(ap_done && ap_saw == SMP_NEW, "vcpu 1 sees vcpu 0's write to the copied chunk: 0x%lx", ap_saw);
}


/* Words that differ from the image's pattern, skipping the ones at skip[0..n). */
static uint64_t bad_words(const uint64_t *skip, unsigned n)
{
	uint64_t bad = 0;

	for (uint64_t off = WORD0; off < COW_BYTES; off += 8) {
		uint64_t v = *(volatile uint64_t *)(cow_blob + off);
		int skipped = 0;

		for (unsigned i = 0; i < n; i++)
			skipped |= off == skip[i];
		if (!skipped && v != expected(off) && bad++ < 4)
			gprintf("word at +0x%lx (0x%lx): 0x%016lx, image has 0x%016lx\n", off,
				(uint64_t)(uintptr_t)(cow_blob + off), v, expected(off));
	}
	return bad;
}

int main(const struct pvhv_start_info *si)
{
	/* One word in each whole chunk of the blob (it starts at a 2 MiB boundary). */
	uint64_t w[3] = { 0x1000, (2u << 20) + 0x2008, SMP_WORD };
	unsigned nw = 2;
	uint64_t rounds = cmdline_u64("rounds", 0);

	(void)si;
	check(((uintptr_t)cow_blob & ((2u << 20) - 1)) == 0, "blob at 0x%lx, a 2 MiB boundary",
	      (uint64_t)(uintptr_t)cow_blob);
	check(cow_fn() == 0x600dc0de, "code in the blob's first chunk runs: 0x%x", cow_fn());
	check(bad_words(NULL, 0) == 0, "%u KiB of the blob read as the image holds them", COW_BYTES >> 10);
	for (uint64_t r = 0; r < rounds; r++) {
		hc_yield();
		if (!check(bad_words(NULL, 0) == 0, "round %lu: the blob still reads as the image", r))
			break;
	}
	if (cmdline_u64("smp", 0)) {
		smp_check();
		nw = 3;
	}
	if (cmdline_u64("write", 0)) {
		for (unsigned i = 0; i < 2; i++)
			*(volatile uint64_t *)(cow_blob + w[i]) = 0x5772697474656e00ul + (uint64_t)i;
		check(*(volatile uint64_t *)(cow_blob + w[0]) == 0x5772697474656e00ul &&
		      *(volatile uint64_t *)(cow_blob + w[1]) == 0x5772697474656e01ul,
		      "writes to both chunks stick");
		check(bad_words(w, nw) == 0, "every other word still reads as the image");
		*(volatile uint32_t *)cow_fn_imm = 0xc0ffee;
		__asm__ volatile("" ::: "memory");
		check(cow_fn() == 0xc0ffee, "patched code runs patched: 0x%x", cow_fn());
	}
	if (cmdline_u64("reboot", 0) && !guest_failures) {
		gprintf("rebooting\n");
		guest_shutdown(PVHV_SHUTDOWN_REBOOT, 0);
	}
	finish();
}
