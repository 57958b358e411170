/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exit.c: what a vCPU's exits mean, for every backend: dispatch to the
 * CPUID and MSR policies, platform ports, halts, and the fatal cases.
 */
#include "pvh/pvh.h"
#include "arch/x86/x86.h"
#include "pvhv/abi.h"

static const char *const reason_names[EXIT_NR] = {
	[EXIT_INTR] = "intr", [EXIT_CPUID] = "cpuid", [EXIT_MSR_READ] = "rdmsr",
	[EXIT_MSR_WRITE] = "wrmsr", [EXIT_IO] = "io", [EXIT_HLT] = "hlt",
	[EXIT_HYPERCALL] = "hypercall", [EXIT_NPF] = "npf", [EXIT_COW] = "cow", [EXIT_TRIPLE_FAULT] = "triple_fault",
	[EXIT_BAD_INSN] = "bad_insn", [EXIT_XSETBV] = "xsetbv", [EXIT_WBINVD] = "wbinvd", [EXIT_IRQ_WINDOW] = "irq_window",
	[EXIT_PAUSE] = "pause", [EXIT_RDPMC] = "rdpmc", [EXIT_EXC_DB] = "exc_db",
	[EXIT_EXC_AC] = "exc_ac", [EXIT_EXC_MC] = "exc_mc",
	[EXIT_INVALID] = "invalid", [EXIT_UNEXPECTED] = "unexpected",
};

const char *exit_reason_name(enum vcpu_exit_reason r)
{
	return r < EXIT_NR && reason_names[r] ? reason_names[r] : "?";
}

static uint64_t rip(struct vcpu *v)
{
	return vcpu_ops->get_reg(&v->hw, VREG_RIP);
}

static enum exit_action inject(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	vcpu_ops->inject_exception(&v->hw, vector, has_error, error);
	return ACT_CONTINUE;
}

static enum exit_action skip(struct vcpu *v, const struct vcpu_exit *e)
{
	vcpu_ops->skip_insn(&v->hw, e);
	return ACT_CONTINUE;
}

/* ------------------------------------------------------------ CPUID */

static enum exit_action handle_cpuid(struct vcpu *v, const struct vcpu_exit *e)
{
	uint64_t *g = v->hw.regs;
	uint32_t r[4];

	cpuid_policy(v, (uint32_t)g[GPR_RAX], (uint32_t)g[GPR_RCX], r);
	g[GPR_RAX] = r[0];
	g[GPR_RBX] = r[1];
	g[GPR_RCX] = r[2];
	g[GPR_RDX] = r[3];
	return skip(v, e);
}

/* ------------------------------------------------------------ MSRs */

static enum exit_action handle_msr(struct vcpu *v, const struct vcpu_exit *e)
{
	uint64_t *g = v->hw.regs;
	uint64_t val;

	if (e->reason == EXIT_MSR_READ) {
		if (msr_read(v, e->msr.index, &val))
			return inject(v, X86_EXC_GP, true, 0);
		g[GPR_RAX] = (uint32_t)val;
		g[GPR_RDX] = val >> 32;
	} else {
		val = (uint32_t)g[GPR_RAX] | (g[GPR_RDX] << 32);
		if (msr_write(v, e->msr.index, val))
			return inject(v, X86_EXC_GP, true, 0);
	}
	return skip(v, e);
}

/* ------------------------------------------------------------ port I/O */

#define PORT_KBD_CTL 0x64    /* 8042: 0xfe pulses the reset line */
#define PORT_PVPANIC PVHV_PVPANIC_PORT /* bit 0 = guest panicked */
#define PVPANIC_PANICKED 1
#define SLP_EN 0x20

/*
 * The platform's ports: the ACPI sleep/reset registers, the 8042's reset
 * line and pvpanic, one handler each, registered per domain by
 * devices_build() through platform_ports_add().  Returns ACT_DEAD when the
 * write ended the domain.
 */
static enum exit_action acpi_io(struct vcpu *v, void *opaque, uint16_t off, bool in, uint8_t size,
				uint32_t *val)
{
	uint16_t port = PVHV_ACPI_SLEEP_CTL_PORT + off;

	if (in) {
		*val = 0; /* sleep status and control read 0; so does the reset register */
		return ACT_CONTINUE;
	}
	/* Hardware-reduced sleep: SLP_TYP in bits 4:2 with SLP_EN; S5 is soft-off. */
	if (port == PVHV_ACPI_SLEEP_CTL_PORT && (*val & SLP_EN) && ((*val >> 2) & 7) == 5) {
		domain_end(v->dom, END_POWEROFF, 0, NULL);
		return ACT_DEAD;
	}
	if (port == PVHV_ACPI_RESET_PORT && (*val & 0xff) == PVHV_ACPI_RESET_VALUE) {
		domain_end(v->dom, END_REBOOT, 0, NULL);
		return ACT_DEAD;
	}
	return ACT_CONTINUE;
}

static enum exit_action kbd_io(struct vcpu *v, void *opaque, uint16_t off, bool in, uint8_t size,
			       uint32_t *val)
{
	if (!in && (*val & 0xff) == 0xfe) { /* pulse the reset line */
		domain_end(v->dom, END_REBOOT, 0, NULL);
		return ACT_DEAD;
	}
	return ACT_CONTINUE; /* reads: all-ones, as set by the caller */
}

static enum exit_action pvpanic_io(struct vcpu *v, void *opaque, uint16_t off, bool in, uint8_t size,
				   uint32_t *val)
{
	if (in) {
		*val = PVPANIC_PANICKED; /* the events this device supports */
		return ACT_CONTINUE;
	}
	if (*val & PVPANIC_PANICKED) {
		domain_end(v->dom, END_CRASH, 0, "guest kernel panicked (pvpanic)");
		return ACT_DEAD;
	}
	return ACT_CONTINUE;
}

int platform_ports_add(struct domain *d, int (*add)(struct domain *, uint16_t, uint16_t, port_io_fn, void *))
{
	int rc = add(d, PVHV_ACPI_SLEEP_CTL_PORT, 3, acpi_io, NULL);

	if (!rc)
		rc = add(d, PORT_KBD_CTL, 1, kbd_io, NULL);
	if (!rc)
		rc = add(d, PORT_PVPANIC, 1, pvpanic_io, NULL);
	return rc;
}

static enum exit_action handle_io(struct vcpu *v, const struct vcpu_exit *e)
{
	uint64_t *g = v->hw.regs;
	uint16_t port = e->io.port;
	uint32_t mask = e->io.size == 1 ? 0xff : e->io.size == 2 ? 0xffff : 0xffffffff;
	uint32_t val = e->io.in ? mask : (uint32_t)g[GPR_RAX] & mask;
	const struct port_dev *p;

	if (e->io.string) {
		domain_end(v->dom, END_STOPPED, 0, "string I/O (ins/outs) at port 0x%x is not supported (rip 0x%lx)",
			   port, rip(v));
		return ACT_DEAD;
	}
	/* Any port nobody claims: reads are all-ones, writes are dropped. */
	p = dom_find_port(v->dom, port);
	if (p && p->io(v, p->opaque, (uint16_t)(port - p->base), e->io.in, e->io.size, &val) == ACT_DEAD)
		return ACT_DEAD;
	if (e->io.in) {
		if (e->io.size == 4)
			g[GPR_RAX] = val; /* 32-bit IN zero-extends into RAX */
		else
			g[GPR_RAX] = (g[GPR_RAX] & ~(uint64_t)mask) | (val & mask);
	}
	return skip(v, e);
}

/* ------------------------------------------------------------ the rest */

static enum exit_action handle_hlt(struct vcpu *v, const struct vcpu_exit *e)
{
	bool irqs = vcpu_ops->get_reg(&v->hw, VREG_RFLAGS) & X86_RFLAGS_IF;

	vcpu_ops->skip_insn(&v->hw, e);
	if (irqs && irq_pending(v))
		return ACT_CONTINUE;
	if (irqs)
		return ACT_BLOCK;
	/*
	 * Interrupts off: nothing pvhv delivers can wake it.  That is how Linux
	 * parks the other CPUs before powering off, so the domain ends only
	 * when no vCPU is left that could still run.
	 */
	v->halted_for_good = true;
	for (unsigned i = 0; i < v->dom->nr_vcpus; i++) {
		const struct vcpu *o = &v->dom->vcpu[i];

		if (o->state != VCPU_OFFLINE && !o->halted_for_good)
			return ACT_BLOCK;
	}
	domain_end(v->dom, END_STOPPED, 0, "every vcpu halted with interrupts disabled (vcpu %u at rip 0x%lx)",
		   v->id, rip(v));
	return ACT_DEAD;
}

/*
 * An interrupt about to be injected while the guest's next instruction is
 * a HLT (with interrupts enabled: the caller only injects then).  QEMU's
 * nested SVM (7.2, TCG) lets pvhv inject inside the one-instruction shadow
 * of "sti; hlt" and reports no shadow (at an interrupt-window exit and at
 * exits for other reasons between the two): the handler ran before the
 * HLT, the HLT then halted the vCPU with nothing pending, and the wake-up
 * was lost until some later interrupt (Linux: its next timer tick, 4 ms;
 * a guest with no timer: for ever).  The HLT completes first instead, and
 * the interrupt returns past it: what a CPU does when an interrupt arrives
 * just after a HLT began, so right whichever way the guest got there.
 */
#define X86_OP_HLT 0xf4

void exit_complete_hlt(struct vcpu *v)
{
	struct vcpu_exit hlt = { .reason = EXIT_HLT, .insn_len = 1 };
	uint8_t op;
	unsigned mode;

	if (insn_fetch(v, &op, 1, &mode) == 1 && op == X86_OP_HLT)
		skip(v, &hlt);
}

#define X86_CR4_OSXSAVE (1UL << 18)

static enum exit_action handle_xsetbv(struct vcpu *v, const struct vcpu_exit *e)
{
	uint64_t *g = v->hw.regs;

	if (!(vcpu_ops->get_reg(&v->hw, VREG_CR4) & X86_CR4_OSXSAVE))
		return inject(v, X86_EXC_UD, false, 0);
	if (vcpu_ops->get_reg(&v->hw, VREG_CPL) != 0 ||
	    fpu_set_xcr0(&v->hw, (uint32_t)g[GPR_RCX], (uint32_t)g[GPR_RAX] | (g[GPR_RDX] << 32)))
		return inject(v, X86_EXC_GP, true, 0);
	return skip(v, e);
}

/*
 * A machine check arrived while the guest ran (an intercepted #MC): the
 * error is reported against the memory or cache the guest was using, so
 * the domain stops; pvhv and the other domains go on.  MCG_STATUS.MCIP is
 * cleared, else a second machine check would shut the CPU down (SDM vol.
 * 3, 16.3.1.2).
 */
static enum exit_action machine_check(struct vcpu *v)
{
	uint64_t mcg = 0;

	if (arch_has_mca()) {
		mcg = rdmsr(MSR_IA32_MCG_STATUS);
		wrmsr(MSR_IA32_MCG_STATUS, 0);
	}
	domain_end(v->dom, END_STOPPED, 0, "machine check while vcpu %u ran (MCG_STATUS 0x%lx, rip 0x%lx)",
		   v->id, mcg, rip(v));
	return ACT_DEAD;
}

enum exit_action vcpu_handle_exit(struct vcpu *v, struct vcpu_exit *e)
{
	enum exit_action act;

	/*
	 * Check first: the length of an instruction the backend could not
	 * measure is decoded before anything acts on the exit, so that bytes
	 * which are not that instruction leave the exit without effect.
	 */
	if (e->insn_len_unknown && !insn_exit_len(v, e, &act))
		return act;
	switch (e->reason) {
	case EXIT_CPUID:
		return handle_cpuid(v, e);
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
		return handle_msr(v, e);
	case EXIT_IO:
		return handle_io(v, e);
	case EXIT_HLT:
		return handle_hlt(v, e);
	case EXIT_HYPERCALL:
		return hypercall_dispatch(v, e);
	case EXIT_NPF:
		return mmio_handle(v, e);
	case EXIT_WBINVD:
		/*
		 * A no-op: the caches are shared with every other tenant, and a
		 * guest's memory is write-back and coherent, so no guest needs
		 * the flush to be correct (ARCHITECTURE.md, threat model).
		 */
		return skip(v, e);
	case EXIT_RDPMC:
		/* No virtual PMU: the guest sees no counters (CPUID leaf 0xa is hidden). */
		return inject(v, X86_EXC_GP, true, 0);
	case EXIT_EXC_DB:
	case EXIT_EXC_AC:
		return ACT_CONTINUE; /* reflected by the backend: the exit was only a reschedule point */
	case EXIT_EXC_MC:
		return machine_check(v);
	case EXIT_XSETBV:
		return handle_xsetbv(v, e);
	case EXIT_BAD_INSN:
		return inject(v, X86_EXC_UD, false, 0);
	case EXIT_IRQ_WINDOW:
		v->irq_window = false;
		if (vcpu_ops->irq_window)
			vcpu_ops->irq_window(&v->hw, false);
		return ACT_CONTINUE; /* irq_before_entry() injects (past a HLT: exit_complete_hlt) */
	case EXIT_TRIPLE_FAULT:
		domain_end(v->dom, END_STOPPED, 0, "triple fault (rip 0x%lx)", rip(v));
		return ACT_DEAD;
	case EXIT_INVALID:
		domain_end(v->dom, END_STOPPED, 0, "vcpu %u: VM entry failed: invalid guest state (rip 0x%lx)",
			   v->id, rip(v));
		return ACT_DEAD;
	case EXIT_INTR:
	case EXIT_PAUSE:
		return ACT_CONTINUE;
	case EXIT_UNEXPECTED:
	default:
		domain_end(v->dom, END_STOPPED, 0,
			   "vcpu %u: unexpected exit 0x%lx (info 0x%lx 0x%lx, rip 0x%lx)", v->id,
			   e->raw.code, e->raw.info1, e->raw.info2, rip(v));
		return ACT_DEAD;
	}
}
