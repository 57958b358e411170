/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hypercall.h: pvhv hypercalls.
 *
 * Calling convention (64-bit and 32-bit guests alike):
 *   RAX IN: hypercall number        RAX OUT: result, >= 0 or -PVHV_E*
 *   RDI, RSI, RDX, R10, R8 IN: arguments 1-5 (a 32-bit guest passes
 *   EDI, ESI, EDX; pvhv masks arguments to the guest's mode).
 * Issue VMMCALL or VMCALL as PVHV_CPUID_F_VMMCALL says.  Only CPL 0 may
 * call; any other caller gets -PVHV_EPERM.  Unknown numbers give
 * -PVHV_ENOSYS; bad arguments give -PVHV_EINVAL or -PVHV_EFAULT and change
 * nothing.
 */
#ifndef PVHV_GUEST_ABI_HYPERCALL_H
#define PVHV_GUEST_ABI_HYPERCALL_H

/* Errors (negated in RAX), Linux errno values. */
#define PVHV_EPERM 1
#define PVHV_EFAULT 14
#define PVHV_EINVAL 22
#define PVHV_ENOSYS 38

/* RAX OUT: PVHV_ABI_VERSION. */
#define PVHV_HC_VERSION 0

/*
 * Write to the domain's console.
 *   arg1 IN: guest-physical address of the bytes
 *   arg2 IN: length, at most PVHV_CONSOLE_WRITE_MAX
 *   RAX OUT: bytes written
 * The buffer must lie in one range of the domain's RAM, below 3 GiB or
 * from 4 GiB (pvhv/platform.h); a zero length needs arg1 in RAM
 * (-PVHV_EFAULT otherwise).
 */
#define PVHV_HC_CONSOLE_WRITE 1
#define PVHV_CONSOLE_WRITE_MAX 4096

/* Give up the rest of this time slice.  RAX OUT: 0. */
#define PVHV_HC_YIELD 2

/*
 * End the domain.
 *   arg1 IN: reason, PVHV_SHUTDOWN_*
 *   arg2 IN: exit status (0-255), reported in the summary
 * Does not return on success; a bad reason or status gives -PVHV_EINVAL.
 * Reboot rebuilds the domain from its configuration (fresh memory).
 */
#define PVHV_HC_SHUTDOWN 3
#define PVHV_SHUTDOWN_POWEROFF 0
#define PVHV_SHUTDOWN_REBOOT 1
#define PVHV_SHUTDOWN_CRASH 2

#define PVHV_HC_MAX 3

#endif
