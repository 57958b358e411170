/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mmio.c: stage-2 faults.  A fault in an emulated device's window (the
 * I/O APIC) is emulated: the faulting instruction is fetched through the
 * guest's page tables, decoded and carried out against the device, since
 * not every CPU reports the instruction (TCG has no decode assists).  A
 * fault anywhere else is an access outside the domain's RAM and stops it.
 */
#include "pvh/pvh.h"
#include "arch/x86/decode.h"
#include "arch/x86/gpt.h"
#include "arch/x86/x86.h"
#include "pvhv/abi.h"

#define INSN_MAX 15

struct mmio_region {
	gpa_t base;
	uint64_t size;
	int (*access)(struct domain *d, uint64_t off, bool write, unsigned size, uint64_t *val);
};

static const struct mmio_region regions[] = {
	{ PVHV_IOAPIC_GPA, 0x1000, irq_ioapic_mmio },
};

struct mmio_ctx {
	struct domain *dom;
	const struct mmio_region *r;
	uint64_t off;
};

static int read_gpa(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return dom_copy_from_guest(ctx, buf, gpa, len);
}

static int dev_read(void *c, uint64_t *val, unsigned size)
{
	struct mmio_ctx *m = c;

	*val = 0;
	return m->r->access(m->dom, m->off, false, size, val);
}

static int dev_write(void *c, uint64_t val, unsigned size)
{
	struct mmio_ctx *m = c;

	return m->r->access(m->dom, m->off, true, size, &val);
}

/* Copies up to INSN_MAX bytes at the guest's RIP; returns how many could be read. */
static size_t fetch_insn(struct vcpu *v, uint8_t *buf)
{
	struct vcpu_hw *hw = &v->hw;
	uint64_t cr0 = vcpu_ops->get_reg(hw, VREG_CR0), cr3 = vcpu_ops->get_reg(hw, VREG_CR3);
	uint64_t cr4 = vcpu_ops->get_reg(hw, VREG_CR4), efer = vcpu_ops->get_reg(hw, VREG_EFER);
	uint64_t va = vcpu_ops->get_reg(hw, VREG_RIP); /* flat CS: PVH and long mode */
	size_t got = 0;

	while (got < INSN_MAX) {
		size_t n = MIN(INSN_MAX - got, PAGE_SIZE - ((va + got) & (PAGE_SIZE - 1)));
		uint64_t gpa;

		if (gpt_translate(cr0, cr3, cr4, efer, va + got, read_gpa, v->dom, &gpa) ||
		    dom_copy_from_guest(v->dom, buf + got, gpa, n))
			break;
		got += n;
	}
	return got;
}

static enum exit_action emulate(struct vcpu *v, struct vcpu_exit *e, const struct mmio_region *r)
{
	struct mmio_ctx m = { v->dom, r, e->npf.gpa - r->base };
	struct insn_mem_ops ops = { dev_read, dev_write, &m };
	unsigned mode = (unsigned)vcpu_ops->get_reg(&v->hw, VREG_CS_MODE);
	uint8_t code[INSN_MAX];
	size_t n;
	struct insn in;
	uint64_t rflags, rsp;

	if (mode == 16) {
		vcpu_ops->inject_exception(&v->hw, X86_EXC_UD, false, 0);
		return ACT_CONTINUE;
	}
	n = fetch_insn(v, code);
	if (insn_decode(code, n, mode, &in)) {
		/* Not an instruction pvhv emulates against a device: the CPU's answer is #UD. */
		vcpu_ops->inject_exception(&v->hw, X86_EXC_UD, false, 0);
		return ACT_CONTINUE;
	}
	rflags = vcpu_ops->get_reg(&v->hw, VREG_RFLAGS);
	rsp = v->hw.regs[GPR_RSP] = vcpu_ops->get_reg(&v->hw, VREG_RSP);
	if (insn_emulate(&in, v->hw.regs, &rflags, &ops)) {
		domain_end(v->dom, END_STOPPED, 0, "device access at gpa 0x%lx failed (rip 0x%lx)",
			   e->npf.gpa, vcpu_ops->get_reg(&v->hw, VREG_RIP));
		return ACT_DEAD;
	}
	vcpu_ops->set_reg(&v->hw, VREG_RFLAGS, rflags);
	if (v->hw.regs[GPR_RSP] != rsp)
		vcpu_ops->set_reg(&v->hw, VREG_RSP, v->hw.regs[GPR_RSP]);
	e->insn_len = in.len;
	vcpu_ops->skip_insn(&v->hw, e);
	return ACT_CONTINUE;
}

enum exit_action mmio_handle(struct vcpu *v, struct vcpu_exit *e)
{
	if (e->npf.fetch && range_within(e->npf.gpa, 1, PVHV_RESET_PAGE_GPA, PAGE_SIZE)) {
		domain_end(v->dom, END_REBOOT, 0, "jumped to the reset vector");
		return ACT_DEAD;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(regions); i++)
		if (range_within(e->npf.gpa, 1, regions[i].base, regions[i].size) && !e->npf.fetch)
			return emulate(v, e, &regions[i]);
	domain_end(v->dom, END_STOPPED, 0, "nested page fault: %s at gpa 0x%lx outside its RAM (rip 0x%lx)",
		   e->npf.fetch ? "fetch" : e->npf.write ? "write" : "read", e->npf.gpa,
		   vcpu_ops->get_reg(&v->hw, VREG_RIP));
	return ACT_DEAD;
}
