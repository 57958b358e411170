/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gpt.h: walker for a guest's own page tables, used to find the
 * guest-physical address of the instruction bytes at a guest RIP
 * (SDM vol. 3, chapter 4; APM vol. 2, 5.2-5.3).
 */
#ifndef PVHV_ARCH_X86_GPT_H
#define PVHV_ARCH_X86_GPT_H

#include "lib/base.h"

/*
 * Reads len bytes of guest-physical memory at gpa into buf; returns 0 or
 * a negative errno.  ctx is the one given to gpt_translate().
 */
typedef int (*gpt_read_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);

/*
 * Translate the linear address va with the guest's CR0, CR3, CR4 and
 * EFER as the CPU would:
 *  - CR0.PG clear: no paging, *gpa_out = va truncated to 32 bits
 *    (linear addresses are 32-bit outside long mode);
 *  - CR4.PAE clear: 32-bit paging, 4 KiB pages and, with CR4.PSE, 4 MiB
 *    pages (PSE-36 bits 20:13 give address bits 39:32);
 *  - CR4.PAE set, EFER.LMA clear: PAE paging, the four PDPTEs read from
 *    CR3[31:5], 2 MiB and 4 KiB pages;
 *  - EFER.LMA set (or EFER.LME with CR0.PG, the state in which the CPU
 *    sets LMA): 4-level paging, or 5-level with CR4.LA57; 1 GiB, 2 MiB
 *    and 4 KiB pages.
 * Entries are read with read_gpa, 4 bytes each for 32-bit paging, 8
 * otherwise.  Only the present bit is checked: permissions, reserved
 * bits and accessed/dirty updates are not, since the caller only fetches
 * the bytes of an instruction the guest has just executed.
 *
 * Returns 0 with *gpa_out set, -EFAULT if an entry is not present or
 * read_gpa fails, or -EINVAL if va is not canonical in long mode.
 */
int gpt_translate(uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
		  uint64_t va, gpt_read_fn read_gpa, void *ctx, uint64_t *gpa_out);

#endif
