/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fpu.c: guest x87/SSE/AVX state.  Each vCPU has its own XSAVE area (or
 * FXSAVE area where XSAVE is missing) and XCR0; state moves between the
 * registers and the area only when a vCPU is switched in or out, since
 * pvhv itself never touches these registers (it is built with
 * -mgeneral-regs-only).  XCR0 is not part of the VMCB or VMCS, so this is
 * the same for both backends.
 */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "arch/x86/x86.h"

#define X86_CR4_OSXSAVE (1UL << 18)
/* x87, SSE, AVX, AVX-512 (opmask, ZMM_Hi256, Hi16_ZMM): user states only. */
#define XCR0_MANAGED 0xe7ULL

static bool use_xsave;
static uint64_t xcr0_max;
static uint32_t area_size = 512;

static inline void xsetbv(uint32_t idx, uint64_t v)
{
	__asm__ volatile("xsetbv" ::"c"(idx), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline uint64_t xgetbv(uint32_t idx)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(idx));
	return ((uint64_t)hi << 32) | lo;
}

static inline void xsave(void *area)
{
	__asm__ volatile("xsave64 (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
}

static inline void xrstor(const void *area)
{
	__asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
}

/* Boot CPU: what can be offered.  Every CPU then runs fpu_cpu_init(). */
void fpu_init(void)
{
	uint32_t r[4];

	host_cpuid(1, 0, r);
	if (!(r[2] & (1u << 26))) /* XSAVE */
		return;
	host_cpuid(0xd, 0, r);
	xcr0_max = (((uint64_t)r[3] << 32) | r[0]) & XCR0_MANAGED;
	if ((xcr0_max & 3) != 3)
		return;
	/* AVX-512 comes as three components or not at all. */
	if ((xcr0_max & 0xe0) != 0xe0 || !(xcr0_max & 4))
		xcr0_max &= ~0xe0ULL;
	use_xsave = true;
}

void fpu_cpu_init(void)
{
	uint32_t r[4];

	if (!use_xsave)
		return;
	write_cr4(read_cr4() | X86_CR4_OSXSAVE);
	xsetbv(0, xcr0_max);
	host_cpuid(0xd, 0, r);
	if (r[1] > area_size) /* EBX: size for the components now enabled */
		area_size = r[1];
}

uint64_t fpu_xcr0_supported(void)
{
	return use_xsave ? xcr0_max : 0;
}

int fpu_vcpu_init(struct vcpu_hw *v)
{
	uint64_t pages = ALIGN_UP(area_size, PAGE_SIZE) / PAGE_SIZE;
	uint8_t *a;
	int err = page_alloc(pages, 1, &v->fpu_pa);

	if (err)
		return err;
	v->fpu_pages = pages;
	a = hpa_to_ptr(v->fpu_pa);
	/* Power-on values: FCW 0x37f, MXCSR 0x1f80; the XSAVE header (XSTATE_BV 0) is all zero. */
	*(uint16_t *)(a + 0) = 0x37f;
	*(uint32_t *)(a + 24) = 0x1f80;
	if (use_xsave)
		*(uint64_t *)(a + 512) = 3; /* XSTATE_BV: x87 and SSE taken from the area */
	v->xcr0 = 1;
	return 0;
}

void fpu_vcpu_free(struct vcpu_hw *v)
{
	if (v->fpu_pa)
		page_free(v->fpu_pa, v->fpu_pages);
	v->fpu_pa = 0;
}

/*
 * XSAVE/XRSTOR run with XCR0 at its widest: SSE state is architecturally
 * usable whatever the guest's XCR0 says, so it must always travel, and a
 * component outside the guest's XCR0 must not keep another guest's value.
 * The guest's XCR0 goes in after the restore.  (XSETBV exits in a nested
 * VM, so the common case of a guest that enabled everything skips it.)
 */
void fpu_switch_in(struct vcpu_hw *v)
{
	if (use_xsave) {
		xsetbv(0, xcr0_max);
		xrstor(hpa_to_ptr(v->fpu_pa));
		if (v->xcr0 != xcr0_max)
			xsetbv(0, v->xcr0);
	} else {
		fxrstor(hpa_to_ptr(v->fpu_pa));
	}
}

void fpu_switch_out(struct vcpu_hw *v)
{
	if (use_xsave) {
		/*
		 * Read back the XCR0 in force rather than trust the copy kept by
		 * the XSETBV exit: QEMU's TCG runs a guest's XSETBV without the
		 * intercept, and the next switch-in must restore what the guest
		 * really set.
		 */
		v->xcr0 = xgetbv(0);
		if (v->xcr0 != xcr0_max)
			xsetbv(0, xcr0_max);
		xsave(hpa_to_ptr(v->fpu_pa));
	} else {
		fxsave(hpa_to_ptr(v->fpu_pa));
	}
}

/*
 * The guest's XSETBV, checked as the CPU would (SDM vol. 2, XSETBV).
 * Returns 0, or -EPERM for a #GP.  The vCPU is loaded on this CPU.
 */
int fpu_set_xcr0(struct vcpu_hw *v, uint32_t index, uint64_t val)
{
	if (!use_xsave || index != 0 || !(val & 1) || (val & ~xcr0_max))
		return -EPERM;
	if ((val & 4) && !(val & 2))
		return -EPERM;
	if ((val & 0xe0) && ((val & 0xe0) != 0xe0 || !(val & 4)))
		return -EPERM;
	v->xcr0 = val;
	xsetbv(0, val);
	return 0;
}

