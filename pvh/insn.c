/* SPDX-License-Identifier: Apache-2.0 */
/*
 * insn.c: the instruction a vCPU exited on: its bytes, fetched at
 * CS.base + RIP through the guest's page tables, and its length when the
 * backend could not tell it.
 */
#include "pvh/pvh.h"
#include "arch/x86/decode.h"
#include "arch/x86/gpt.h"

static int read_gpa(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return dom_copy_from_guest(ctx, buf, gpa, len);
}

static void code_pos(struct vcpu *v, struct gpt_code_pos *at)
{
	struct vcpu_hw *hw = &v->hw;

	at->cr0 = vcpu_ops->get_reg(hw, VREG_CR0);
	at->cr3 = vcpu_ops->get_reg(hw, VREG_CR3);
	at->cr4 = vcpu_ops->get_reg(hw, VREG_CR4);
	at->efer = vcpu_ops->get_reg(hw, VREG_EFER);
	at->mode = (unsigned)vcpu_ops->get_reg(hw, VREG_CS_MODE);
	at->cs_base = vcpu_ops->get_reg(hw, VREG_CS_BASE);
	at->rip = vcpu_ops->get_reg(hw, VREG_RIP);
}

size_t insn_fetch(struct vcpu *v, uint8_t *buf, size_t len, unsigned *mode)
{
	struct gpt_code_pos at;

	code_pos(v, &at);
	*mode = at.mode;
	return gpt_fetch_code(&at, read_gpa, v->dom, buf, len);
}

void insn_unreadable(struct vcpu *v, const char *what)
{
	struct gpt_code_pos at;

	code_pos(v, &at);
	domain_end(v->dom, END_STOPPED, 0,
		   "vcpu %u: %s: instruction at rip 0x%lx (cs base 0x%lx, linear 0x%lx) cannot be read",
		   v->id, what, at.rip, at.cs_base, gpt_code_va(&at, 0));
}

/* Whether op is an instruction that makes this exit. */
static bool op_fits(enum vcpu_exit_reason r, enum insn_sys_op op)
{
	switch (r) {
	case EXIT_CPUID:
		return op == INSN_SYS_CPUID;
	case EXIT_MSR_READ:
		return op == INSN_SYS_RDMSR;
	case EXIT_MSR_WRITE:
		return op == INSN_SYS_WRMSR;
	case EXIT_HLT:
		return op == INSN_SYS_HLT;
	case EXIT_XSETBV:
		return op == INSN_SYS_XSETBV;
	case EXIT_WBINVD:
		return op == INSN_SYS_INVD || op == INSN_SYS_WBINVD;
	case EXIT_HYPERCALL:
		/* The one the CPUID leaf tells the guest to use; the other is #UD. */
		return op == (vcpu_ops->hypercall_flag ? INSN_SYS_VMMCALL : INSN_SYS_VMCALL);
	default:
		return false;
	}
}

bool insn_exit_len(struct vcpu *v, struct vcpu_exit *e, enum exit_action *act)
{
	uint8_t code[INSN_MAX_LEN], len;
	enum insn_sys_op op;
	unsigned mode;
	size_t n = insn_fetch(v, code, sizeof(code), &mode);
	int rc = insn_decode_sys(code, n, mode, &op, &len);

	if (rc == -EFAULT) {
		insn_unreadable(v, exit_reason_name(e->reason));
		*act = ACT_DEAD;
		return false;
	}
	if (rc || !op_fits(e->reason, op)) {
		*act = ACT_CONTINUE;
		return false;
	}
	e->insn_len = len;
	e->insn_len_unknown = false;
	return true;
}
