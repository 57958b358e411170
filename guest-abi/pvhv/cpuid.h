/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cpuid.h: the CPUID leaves pvhv adds for its guests.
 *
 * CPUID.1:ECX[31] (hypervisor present) is set.  Leaf PVHV_CPUID_BASE
 * returns the highest pvhv leaf in EAX and "pvhvpvhvpvhv" in EBX, ECX, EDX.
 */
#ifndef PVHV_GUEST_ABI_CPUID_H
#define PVHV_GUEST_ABI_CPUID_H

#define PVHV_CPUID_BASE 0x40000000u
#define PVHV_CPUID_SIGNATURE_EBX 0x76687670u /* "pvhv" */
#define PVHV_CPUID_SIGNATURE_ECX 0x76687670u
#define PVHV_CPUID_SIGNATURE_EDX 0x76687670u

/*
 * Leaf PVHV_CPUID_BASE + 1:
 *   EAX OUT: PVHV_ABI_VERSION
 *   EBX OUT: feature flags (PVHV_CPUID_F_*)
 *   ECX OUT: this vCPU's index in its domain
 *   EDX OUT: the domain's vCPU count
 */
#define PVHV_CPUID_INFO (PVHV_CPUID_BASE + 1)

/* Hypercalls are made with VMMCALL (AMD) when set, VMCALL (Intel) when clear. */
#define PVHV_CPUID_F_VMMCALL (1u << 0)
/* The domain has a 16550 at 0x3F8 (always set in ABI 1.0). */
#define PVHV_CPUID_F_COM1 (1u << 1)

#endif
