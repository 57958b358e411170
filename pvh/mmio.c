/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mmio.c: stage-2 faults.  A fault in the domain's RAM is its first touch
 * of a 2 MiB chunk (taken and mapped then, see dom_ram_fault()), or a write
 * to a chunk that is still a kernel's or initrd's own page (copied then).  A fault in one of the domain's emulated device
 * windows (its registry in devices.c: the I/O APIC, virtio-mmio) is emulated: the faulting instruction is fetched at CS.base +
 * RIP through the guest's page tables, decoded and carried out against
 * the device, since not every CPU reports the instruction (TCG has no
 * decode assists).  A fault anywhere else is an access outside the
 * domain's RAM and stops it, as does one the CPU made while delivering an
 * event.
 */
#include "pvh/pvh.h"
#include "arch/x86/decode.h"
#include "arch/x86/x86.h"
#include "pvhv/abi.h"

struct mmio_ctx {
	struct domain *dom;
	const struct mmio_dev *r;
	uint64_t off;
};

static int dev_read(void *c, uint64_t *val, unsigned size)
{
	struct mmio_ctx *m = c;

	*val = 0;
	return m->r->access(m->dom, m->r->opaque, m->off, false, size, val);
}

static int dev_write(void *c, uint64_t val, unsigned size)
{
	struct mmio_ctx *m = c;

	return m->r->access(m->dom, m->r->opaque, m->off, true, size, &val);
}

static enum exit_action emulate(struct vcpu *v, struct vcpu_exit *e, const struct mmio_dev *r)
{
	struct mmio_ctx m = { v->dom, r, e->npf.gpa - r->base };
	struct insn_mem_ops ops = { dev_read, dev_write, &m };
	uint8_t code[INSN_MAX_LEN];
	unsigned mode;
	size_t n = insn_fetch(v, code, sizeof(code), &mode);
	struct insn in;
	uint64_t rflags, rsp;
	int rc = insn_decode(code, n, mode, &in);

	if (rc == -EFAULT) {
		/* The CPU just ran it: the guest changed its tables under it. */
		insn_unreadable(v, "device access");
		return ACT_DEAD;
	}
	if (rc) {
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
	/*
	 * RAM the domain has not touched yet: its chunk is taken from the
	 * domain's reservation and mapped, and the guest retries the access
	 * (an event whose delivery faulted is delivered again by the
	 * backend).  A RAM chunk that is mapped faults only for a fetch from
	 * the reset vector's page, or for a vCPU that raced another one to
	 * the same new chunk: that one just retries too.
	 */
	if (rl_chunk(&v->dom->ram, e->npf.gpa, 1, NULL) &&
	    !(e->npf.fetch && range_within(e->npf.gpa, 1, PVHV_RESET_PAGE_GPA, PAGE_SIZE))) {
		int rc = dom_ram_fault(v->dom, e->npf.gpa);

		if (rc == DOM_RAM_COW)
			e->reason = EXIT_COW; /* counted as such (run_vcpu() counts after handling) */
		if (rc >= 0)
			return ACT_CONTINUE;
		domain_end(v->dom, END_STOPPED, 0, "no memory to map its RAM at gpa 0x%lx (error %d)",
			   e->npf.gpa, rc);
		return ACT_DEAD;
	}
	/*
	 * The CPU faulted while delivering an event (the IDT, GDT or stack
	 * in a device window): RIP is the interrupted instruction, not an
	 * access to emulate, and emulating it would run the wrong instruction
	 * and lose the event.  KVM reports an emulation failure; pvhv stops
	 * the domain, naming the event.
	 */
	if (e->npf.in_event_delivery) {
		domain_end(v->dom, END_STOPPED, 0,
			   "nested page fault: %s at gpa 0x%lx while vcpu %u delivered vector %u (rip 0x%lx): not emulable",
			   e->npf.write ? "write" : "read", e->npf.gpa, v->id, e->npf.vector,
			   vcpu_ops->get_reg(&v->hw, VREG_RIP));
		return ACT_DEAD;
	}
	if (e->npf.fetch && range_within(e->npf.gpa, 1, PVHV_RESET_PAGE_GPA, PAGE_SIZE)) {
		domain_end(v->dom, END_REBOOT, 0, "jumped to the reset vector");
		return ACT_DEAD;
	}
	if (!e->npf.fetch) {
		const struct mmio_dev *r = dom_find_mmio(v->dom, e->npf.gpa);

		if (r)
			return emulate(v, e, r);
	}
	domain_end(v->dom, END_STOPPED, 0, "nested page fault: %s at gpa 0x%lx outside its RAM (rip 0x%lx)",
		   e->npf.fetch ? "fetch" : e->npf.write ? "write" : "read", e->npf.gpa,
		   vcpu_ops->get_reg(&v->hw, VREG_RIP));
	return ACT_DEAD;
}
