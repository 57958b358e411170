/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kvmclock.h: the KVM-compatible paravirtual clock pvhv offers, as Linux's
 * arch/x86/kernel/kvm.c and kvmclock.c find and use it.  A guest reads
 * the TSC frequency from it instead of calibrating against a PIT.
 *
 * CPUID leaf PVHV_KVM_CPUID_BASE: EAX OUT the highest KVM leaf, EBX/ECX/EDX
 * OUT "KVMKVMKVM\0\0\0".  Leaf PVHV_KVM_CPUID_BASE + 1, EAX OUT: the
 * PVHV_KVM_FEATURE_* bits.  Writing GPA | 1 of a struct pvhv_pvclock (which
 * must not cross a page) to PVHV_MSR_KVM_SYSTEM_TIME_NEW registers it for
 * the writing vCPU; 0 stops it.
 */
#ifndef PVHV_GUEST_ABI_KVMCLOCK_H
#define PVHV_GUEST_ABI_KVMCLOCK_H

#include <stdint.h>

#define PVHV_KVM_CPUID_BASE 0x40000100u
#define PVHV_KVM_SIG_EBX 0x4b4d564bu /* "KVMK" */
#define PVHV_KVM_SIG_ECX 0x564b4d56u /* "VMKV" */
#define PVHV_KVM_SIG_EDX 0x0000004du /* "M\0\0\0" */
#define PVHV_KVM_FEATURE_NOP_IO_DELAY (1u << 1)
#define PVHV_KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define PVHV_KVM_FEATURE_CLOCKSOURCE_STABLE (1u << 24)

#define PVHV_MSR_KVM_WALL_CLOCK 0x11u
#define PVHV_MSR_KVM_SYSTEM_TIME 0x12u
#define PVHV_MSR_KVM_WALL_CLOCK_NEW 0x4b564d00u
#define PVHV_MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u

/*
 * struct pvclock_vcpu_time_info (32 bytes, OUT, written by pvhv).  The
 * version is odd while pvhv updates it.  Nanoseconds since boot:
 * system_time + (((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul >> 32),
 * shifting right instead when tsc_shift is negative.
 */
struct pvhv_pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;           /* PVHV_PVCLOCK_TSC_STABLE */
	uint8_t pad[2];
} __attribute__((packed));

#define PVHV_PVCLOCK_TSC_STABLE 1u

_Static_assert(sizeof(struct pvhv_pvclock) == 32, "pvclock ABI");

#endif
