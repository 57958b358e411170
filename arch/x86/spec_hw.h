/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_hw.h: the instructions that carry out spec.c's decisions, for the
 * backends and the scheduler.  Each helper is unconditional: the caller
 * checks the policy (`spec->verw_on_entry` and so on) first.
 */
#ifndef PVHV_ARCH_X86_SPEC_HW_H
#define PVHV_ARCH_X86_SPEC_HW_H

#include "arch/x86/hw.h"
#include "arch/x86/spec.h"
#include "arch/x86/x86.h"

/* The host's decisions, set by spec_init(); NULL before it ran. */
extern const struct spec_policy *spec;

/* Boot CPU, once: reads the host, decides, logs two lines. */
void spec_init(void);
/* Every CPU after spec_init(): TSX off, pvhv's SPEC_CTRL value, AutoIBRS. */
void spec_cpu_init(void);
/* Intel's software L1D flush, for CPUs without FLUSH_CMD (SPEC_L1D_SOFTWARE). */
void spec_l1d_flush_sw(void);

/*
 * Policy-checked sequences.  spec_domain_switch(): before running a vCPU
 * of a domain other than the one this CPU ran last (IBPB, and the RSB
 * refill AMD needs after it).  spec_before_entry(): last thing in C
 * before the entry stub, interrupts off (L1D flush, VERW).
 * spec_restore_host_spec_ctrl(): after an exit, with the guest's
 * SPEC_CTRL value as read back.  The RSB fill after an exit belongs in the
 * entry stub, before its first RET (spec.inc); in C it comes too late.
 */
void spec_domain_switch(void);
void spec_before_entry(void);
void spec_restore_host_spec_ctrl(uint64_t guest_spec_ctrl);
/*
 * Around each entry: the guest's SPEC_CTRL (and AMD VIRT_SPEC_CTRL) in the
 * CPU while it runs, pvhv's own after the exit.  MSR writes are skipped
 * when the values agree (each one is an exit in a nested VM).
 */
void spec_guest_enter(const struct vcpu_hw *v);
void spec_guest_exit(const struct vcpu_hw *v);

/* Indirect branch prediction barrier.  Caller: spec->has_ibpb. */
static inline void spec_ibpb(void)
{
	wrmsr(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
}

/* L1D writeback and invalidate.  Caller: spec->has_flush_cmd. */
static inline void spec_l1d_flush(void)
{
	wrmsr(MSR_IA32_FLUSH_CMD, FLUSH_CMD_L1D);
}

/*
 * Clears the CPU buffers (MDS, TAA, RFDS, AMD TSA).  Only the memory
 * form of VERW does so, and any valid selector works; the host's data
 * selector, as Linux uses __KERNEL_DS.  Put it as late as possible before
 * VMRUN/VMRESUME: a load after it may refill a buffer.
 */
static inline void spec_verw(void)
{
	static const uint16_t sel = GDT_DATA;

	__asm__ volatile("verw %0" ::"m"(sel) : "cc");
}

/*
 * Overwrites the 32-entry return stack buffer so that pvhv's RETs cannot
 * speculate to targets a guest left there: 32 CALLs, two per loop, whose
 * return addresses are INT3 traps, then RSP back to where it was.  The
 * LFENCE stops the loop's own mispredicted exit (Intel's "Retpoline"
 * paper, RSB stuffing).  Needs no red zone: the image has none.
 */
static inline void spec_rsb_fill(void)
{
	unsigned long n;

	__asm__ volatile("mov $16, %0\n\t"
			 "1: call 2f\n\t"
			 "int3\n\t"
			 "2: call 3f\n\t"
			 "int3\n\t"
			 "3: dec %0\n\t"
			 "jnz 1b\n\t"
			 "add $(32 * 8), %%rsp\n\t"
			 "lfence"
			 : "=&r"(n)
			 :
			 : "memory", "cc");
}


#endif
