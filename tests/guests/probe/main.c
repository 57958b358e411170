/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe: isolation test.  Writes and verifies a pattern over its own free
 * RAM, then touches one address outside it; pvhv must stop the domain
 * right there.
 *
 * cmdline: mem=MIB (domain size; default: the memmap), target=ADDR (the
 * guest-physical address to touch, required), op=read|write (default read).
 * Targets at 8 GiB and up are mapped on demand.
 */
#include "guest.h"

GUEST_NAME("probe");

#define TWO_MIB (2ull << 20)
#define PTE_P 1ull
#define PTE_RW 2ull
#define PTE_PS 0x80ull

static uint64_t probe_pdpt[512] __attribute__((aligned(4096)));
static uint64_t probe_pd[512] __attribute__((aligned(4096)));

static uint64_t pattern(uint64_t a)
{
	return a ^ 0x5a5aa5a5c3c33c3cull;
}

/* Map the 2 MiB page holding target if entry.asm's 0..8 GiB does not cover it. */
static int map_target(uint64_t target)
{
	uint32_t a, b, c, d;
	unsigned maxphys = 36;

	if (target < (8ull << 30))
		return 0;
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000008) {
		cpuid(0x80000008, 0, &a, &b, &c, &d);
		maxphys = a & 0xff;
	}
	if (maxphys < 64 && target >> maxphys) {
		gprintf("FAIL probe target 0x%lx beyond MAXPHYADDR (%u bits)\n", target, maxphys);
		return -1;
	}
	if (target >> 47) {
		gprintf("FAIL probe target 0x%lx not canonical\n", target);
		return -1;
	}
	unsigned i4 = (target >> 39) & 511, i3 = (target >> 30) & 511, i2 = (target >> 21) & 511;
	uint64_t *pdpt = guest_pdpt;
	if (i4) {
		guest_pml4[i4] = (uintptr_t)probe_pdpt | PTE_P | PTE_RW;
		pdpt = probe_pdpt;
	}
	pdpt[i3] = (uintptr_t)probe_pd | PTE_P | PTE_RW;
	probe_pd[i2] = (target & ~(TWO_MIB - 1)) | PTE_P | PTE_RW | PTE_PS;
	write_cr3(read_cr3());
	return 0;
}

int main(const struct pvhv_start_info *si)
{
	const char *t = cmdline_get("target"), *op = cmdline_get("op"), *end;
	uint64_t mem = cmdline_u64("mem", 0) << 20;
	uint64_t lo, hi;

	if (!op)
		op = "read";
	if (!t || (strtou64(t, &end), end == t || *end) ||
	    (!streq(op, "read") && !streq(op, "write"))) {
		gprintf("FAIL probe: usage: target=ADDR [op=read|write] [mem=MIB]\n");
		guest_shutdown(PVHV_SHUTDOWN_POWEROFF, 1);
	}
	uint64_t target = strtou64(t, NULL);

	if (free_ram(mem, &lo, &hi) < 0 || hi - lo <= (64u << 10)) {
		gprintf("FAIL probe: no free RAM above the image\n");
		guest_shutdown(PVHV_SHUTDOWN_POWEROFF, 1);
	}
	hi -= 64u << 10;
	gprintf("own RAM 0x%lx-0x%lx\n", lo, hi);
	for (uint64_t a = lo; a < hi; a += 8)
		*(volatile uint64_t *)(uintptr_t)a = pattern(a);
	uint64_t bad = 0, first = 0;
	for (uint64_t a = lo; a < hi; a += 8)
		if (*(volatile uint64_t *)(uintptr_t)a != pattern(a) && !bad++)
			first = a;
	if (!check(bad == 0, "own RAM pattern"))
		gprintf("%lu bad words, first at 0x%lx\n", bad, first);

	if (map_target(target) < 0)
		guest_shutdown(PVHV_SHUTDOWN_POWEROFF, 1);
	gprintf("probing 0x%lx (%s)\n", target, op);
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)target;
	uint64_t v = 0;
	if (streq(op, "write"))
		*p = 0xdeadbeefcafef00dull;
	else
		v = *p;
	gprintf("FAIL probe survived access to 0x%lx (read 0x%lx)\n", target, v);
	guest_shutdown(PVHV_SHUTDOWN_POWEROFF, 1);
}
