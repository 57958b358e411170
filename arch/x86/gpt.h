/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gpt.h: walker for a guest's own page tables, used to fetch the
 * instruction bytes at a guest's CS.base + RIP (SDM vol. 3, chapter 4;
 * APM vol. 2, 5.2-5.3).
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

/* Where a vCPU executes: its paging registers, code size and CS:RIP. */
struct gpt_code_pos {
	uint64_t cr0, cr3, cr4, efer;
	unsigned mode;    /* 16, 32 or 64, as vcpu_ops' VREG_CS_MODE */
	uint64_t cs_base; /* not used in 64-bit mode */
	uint64_t rip;
};

/*
 * The linear address of the code byte off bytes past RIP.  In 64-bit mode
 * that is RIP + off: the CPU treats CS.base as 0 there (SDM vol. 3,
 * 3.4.4).  Otherwise (real, 16/32-bit protected and compatibility mode) it
 * is CS.base + EIP + off, and linear addresses are 32 bits wide (SDM vol.
 * 3, 3.4), so the sum wraps at 4 GiB.
 */
uint64_t gpt_code_va(const struct gpt_code_pos *at, size_t off);

/*
 * Copy up to len bytes of the code at at's CS.base + RIP into buf, page by
 * page through gpt_translate(), reading the bytes themselves with
 * read_gpa too.  Returns how many bytes were copied: fewer than len when a
 * page is not present, not canonical, or read_gpa fails for it.
 */
size_t gpt_fetch_code(const struct gpt_code_pos *at, gpt_read_fn read_gpa, void *ctx,
		      uint8_t *buf, size_t len);

#endif
