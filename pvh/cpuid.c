/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cpuid.c: the guest's view of CPUID.  Host values pass through an
 * allowlist: a feature is shown only when pvhv virtualizes it (the rest,
 * e.g. VMX/SVM, PMU, MONITOR/MWAIT, MCE, MTRR, RDPRU, is hidden).  Two
 * hypervisor leaves sit on top: pvhv's own at 0x40000000 and, at
 * 0x40000100, the KVM-compatible ones Linux uses for its paravirtual clock.
 */
#include "pvh/pvh.h"
#include "pvhv/abi.h"
#include "pvhv/kvmclock.h"
#include "arch/x86/spec.h"

#define L1_ECX_ALLOW ((1u << 0) /* SSE3 */ | (1u << 1) /* PCLMUL */ | (1u << 9) /* SSSE3 */ | \
		      (1u << 13) /* CX16 */ | (1u << 19) /* SSE4.1 */ | (1u << 20) /* SSE4.2 */ | \
		      (1u << 22) /* MOVBE */ | (1u << 23) /* POPCNT */ | (1u << 25) /* AES */ | \
		      (1u << 30) /* RDRAND */)
#define L1_ECX_AVX ((1u << 12) /* FMA */ | (1u << 28) /* AVX */ | (1u << 29) /* F16C */)
#define L1_ECX_X2APIC (1u << 21)
#define L1_ECX_TSC_DEADLINE (1u << 24)
#define L1_ECX_XSAVE (1u << 26)
#define L1_ECX_OSXSAVE (1u << 27)
#define L1_ECX_HYPERVISOR (1u << 31)
#define L1_EDX_ALLOW ((1u << 0) /* FPU */ | (1u << 1) /* VME */ | (1u << 2) /* DE */ | \
		      (1u << 3) /* PSE */ | (1u << 4) /* TSC */ | (1u << 5) /* MSR */ | \
		      (1u << 6) /* PAE */ | (1u << 8) /* CX8 */ | (1u << 9) /* APIC */ | \
		      (1u << 11) /* SEP */ | (1u << 13) /* PGE */ | (1u << 15) /* CMOV */ | \
		      (1u << 16) /* PAT */ | (1u << 17) /* PSE36 */ | (1u << 19) /* CLFLUSH */ | \
		      (1u << 23) /* MMX */ | (1u << 24) /* FXSR */ | (1u << 25) /* SSE */ | \
		      (1u << 26) /* SSE2 */)
#define L7_EBX_ALLOW ((1u << 0) /* FSGSBASE */ | (1u << 3) /* BMI1 */ | (1u << 7) /* SMEP */ | \
		      (1u << 8) /* BMI2 */ | (1u << 9) /* ERMS */ | (1u << 18) /* RDSEED */ | \
		      (1u << 19) /* ADX */ | (1u << 20) /* SMAP */ | (1u << 23) /* CLFLUSHOPT */ | \
		      (1u << 24) /* CLWB */ | (1u << 29) /* SHA */)
#define L7_EBX_AVX2 (1u << 5)
#define L7_EBX_AVX512 ((1u << 16) /* F */ | (1u << 17) /* DQ */ | (1u << 21) /* IFMA */ | \
		       (1u << 28) /* CD */ | (1u << 30) /* BW */ | (1u << 31) /* VL */)
#define L7_ECX_AVX ((1u << 8) /* GFNI */ | (1u << 9) /* VAES */ | (1u << 10) /* VPCLMULQDQ */)
#define L7_ECX_AVX512 ((1u << 1) /* VBMI */ | (1u << 6) /* VBMI2 */ | (1u << 11) /* VNNI */ | \
		       (1u << 12) /* BITALG */ | (1u << 14) /* VPOPCNTDQ */)
#define X1_ECX_ALLOW ((1u << 0) /* LAHF */ | (1u << 4) /* AltMovCr8 */ | (1u << 5) /* ABM */ | \
		      (1u << 6) /* SSE4A */ | (1u << 7) /* MisAlignSse */ | (1u << 8) /* PREFETCHW */)
#define X1_EDX_ALLOW ((1u << 11) /* SYSCALL */ | (1u << 20) /* NX */ | (1u << 22) /* MmxExt */ | \
		      (1u << 26) /* 1 GiB pages */ | (1u << 29) /* LM */ | \
		      (L1_EDX_ALLOW & ~(1u << 9)))

#define CPUID_MAX_BASIC 0xdu
#define CPUID_MAX_EXT 0x80000021u /* 0x80000021: AMD speculation bits; the rest up to it read 0 */
#define X86_CR4_OSXSAVE (1UL << 18)
#define X86_CR4_PKE (1UL << 22)
#define L7_ECX_PKU (1u << 3)
#define L7_ECX_OSPKE (1u << 4)
#define L7_ECX_RDPID (1u << 22)
#define X1_EDX_RDTSCP (1u << 27)

static void hypervisor_leaves(struct vcpu *v, uint32_t leaf, uint32_t r[4])
{
	switch (leaf) {
	case PVHV_CPUID_BASE:
		r[0] = PVHV_CPUID_INFO;
		r[1] = PVHV_CPUID_SIGNATURE_EBX;
		r[2] = PVHV_CPUID_SIGNATURE_ECX;
		r[3] = PVHV_CPUID_SIGNATURE_EDX;
		break;
	case PVHV_CPUID_INFO:
		r[0] = PVHV_ABI_VERSION;
		r[1] = vcpu_ops->hypercall_flag | PVHV_CPUID_F_COM1;
		r[2] = v->id;
		r[3] = v->dom->nr_vcpus;
		break;
	case PVHV_KVM_CPUID_BASE:
		r[0] = PVHV_KVM_CPUID_BASE + 1;
		r[1] = PVHV_KVM_SIG_EBX;
		r[2] = PVHV_KVM_SIG_ECX;
		r[3] = PVHV_KVM_SIG_EDX;
		break;
	case PVHV_KVM_CPUID_BASE + 1:
		r[0] = PVHV_KVM_FEATURE_NOP_IO_DELAY | PVHV_KVM_FEATURE_CLOCKSOURCE2 |
		       PVHV_KVM_FEATURE_CLOCKSOURCE_STABLE;
		break;
	default:
		break;
	}
}

/* Leaf 0xd: XSAVE components, limited to what fpu.c saves and restores. */
static void xsave_leaf(struct vcpu *v, uint32_t sub, const uint32_t h[4], uint32_t r[4])
{
	uint64_t mask = fpu_xcr0_supported();

	if (!mask)
		return;
	if (sub == 0) {
		r[0] = (uint32_t)mask;
		r[1] = h[1]; /* size for the XCR0 now loaded: the guest's own */
		r[2] = h[2];
		r[3] = (uint32_t)(mask >> 32);
	} else if (sub == 1) {
		r[0] = h[0] & ((1u << 0) /* XSAVEOPT */ | (1u << 1) /* XSAVEC */ | (1u << 2) /* XGETBV1 */);
	} else if (sub < 64 && (mask & (1ULL << sub))) {
		r[0] = h[0], r[1] = h[1], r[2] = h[2], r[3] = h[3];
	}
}

void cpuid_policy(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	uint64_t xcr0 = fpu_xcr0_supported();
	bool avx = xcr0 & 4, avx512 = (xcr0 & 0xe0) == 0xe0;
	uint32_t h[4];

	r[0] = r[1] = r[2] = r[3] = 0;
	if (leaf >= 0x40000000u && leaf < 0x50000000u) {
		hypervisor_leaves(v, leaf, r);
		return;
	}
	host_cpuid(leaf, sub, h);
	switch (leaf) {
	case 0:
		r[0] = MIN(h[0], CPUID_MAX_BASIC);
		r[1] = h[1], r[2] = h[2], r[3] = h[3]; /* vendor */
		break;
	case 1:
		r[0] = h[0];
		/* Initial APIC ID, logical CPU count, CLFLUSH line size. */
		r[1] = (v->id << 24) | (MIN(v->dom->nr_vcpus, 255u) << 16) | (h[1] & 0xff00);
		r[2] = (h[2] & L1_ECX_ALLOW) | L1_ECX_HYPERVISOR | L1_ECX_X2APIC | L1_ECX_TSC_DEADLINE;
		if (xcr0) {
			r[2] |= L1_ECX_XSAVE;
			if (vcpu_ops->get_reg(&v->hw, VREG_CR4) & X86_CR4_OSXSAVE)
				r[2] |= L1_ECX_OSXSAVE;
			if (avx)
				r[2] |= h[2] & L1_ECX_AVX;
		}
		r[3] = h[3] & L1_EDX_ALLOW;
		r[3] |= 1u << 9; /* APIC: pvhv's own x2APIC, whatever the host has */
		if (v->dom->nr_vcpus > 1)
			r[3] |= 1u << 28; /* HTT: the logical count is valid */
		break;
	case 6:
		r[0] = 1u << 2; /* ARAT: the APIC timer runs in every C-state */
		break;
	case 7:
		if (sub == 0) {
			r[1] = h[1] & (L7_EBX_ALLOW | (avx ? L7_EBX_AVX2 : 0) |
				       (avx512 ? L7_EBX_AVX512 : 0));
			r[2] = h[2] & ((avx ? L7_ECX_AVX : 0) | (avx512 ? L7_ECX_AVX512 : 0));
			/* PKRU and TSC_AUX are switched per vCPU (arch/x86/vcpu_state.c). */
			r[2] |= h[2] & (L7_ECX_PKU | (vcpu_rdtscp_ok ? L7_ECX_RDPID : 0));
			if ((r[2] & L7_ECX_PKU) && (vcpu_ops->get_reg(&v->hw, VREG_CR4) & X86_CR4_PKE))
				r[2] |= L7_ECX_OSPKE;
			/* Speculation controls: exactly what msr.c accepts (spec.c decides). */
			r[3] = spec->guest_l7_edx;
		}
		break;
	case 0xd:
		xsave_leaf(v, sub, h, r);
		break;
	case 0x80000000:
		r[0] = MIN(h[0], CPUID_MAX_EXT);
		r[1] = h[1], r[2] = h[2], r[3] = h[3];
		break;
	case 0x80000001:
		r[0] = h[0];
		r[2] = h[2] & X1_ECX_ALLOW;
		r[3] = h[3] & (X1_EDX_ALLOW | (vcpu_rdtscp_ok ? X1_EDX_RDTSCP : 0));
		break;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004: /* brand string */
	case 0x80000005:
	case 0x80000006: /* caches */
		r[0] = h[0], r[1] = h[1], r[2] = h[2], r[3] = h[3];
		break;
	case 0x80000007:
		/*
		 * Invariant TSC, always: pvhv keeps time with the TSC and requires
		 * it constant and synchronized; guests run on the host's TSC.
		 */
		r[3] = 1u << 8;
		break;
	case 0x80000008:
		r[0] = h[0] & 0xffff; /* address sizes; no core counts */
		r[1] = spec->guest_x8_ebx; /* speculation controls pvhv virtualizes */
		break;
	case 0x80000021:
		r[0] = spec->guest_x21_eax;
		r[2] = spec->guest_x21_ecx;
		break;
	default:
		break; /* 2, 4, 0xa (PMU), 0xb: hidden until virtualized */
	}
}
