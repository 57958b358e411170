/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exit.c: what a vCPU's exits mean, for every backend: the CPUID and MSR
 * policies, port I/O, halts, stage-2 faults and the fatal cases.
 */
#include "pvh/pvh.h"
#include "arch/x86/x86.h"
#include "pvhv/abi.h"

static const char *const reason_names[EXIT_NR] = {
	[EXIT_INTR] = "intr", [EXIT_CPUID] = "cpuid", [EXIT_MSR_READ] = "rdmsr",
	[EXIT_MSR_WRITE] = "wrmsr", [EXIT_IO] = "io", [EXIT_HLT] = "hlt",
	[EXIT_HYPERCALL] = "hypercall", [EXIT_NPF] = "npf", [EXIT_TRIPLE_FAULT] = "triple_fault",
	[EXIT_BAD_INSN] = "bad_insn", [EXIT_XSETBV] = "xsetbv", [EXIT_WBINVD] = "wbinvd", [EXIT_IRQ_WINDOW] = "irq_window",
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

/* Leaf 1 ECX/EDX and leaf 7 EBX bits a guest may see (the rest is not virtualized). */
#define L1_ECX_ALLOW (0x1u /* SSE3 */ | 0x2u /* PCLMUL */ | 0x200u /* SSSE3 */ | \
		      0x2000u /* CX16 */ | \
		      0x80000u /* SSE4.1 */ | 0x100000u /* SSE4.2 */ | 0x400000u /* MOVBE */ | \
		      0x800000u /* POPCNT */ | 0x2000000u /* AES */ | 0x40000000u /* RDRAND */)
#define L1_EDX_ALLOW (0x1u /* FPU */ | 0x2u /* VME */ | 0x4u /* DE */ | 0x8u /* PSE */ | \
		      0x10u /* TSC */ | 0x20u /* MSR */ | 0x40u /* PAE */ | 0x100u /* CX8 */ | \
		      0x800u /* SEP */ | 0x2000u /* PGE */ | 0x8000u /* CMOV */ | 0x10000u /* PAT */ | \
		      0x20000u /* PSE36 */ | 0x80000u /* CLFLUSH */ | 0x800000u /* MMX */ | \
		      0x1000000u /* FXSR */ | 0x2000000u /* SSE */ | 0x4000000u /* SSE2 */)
#define L7_EBX_ALLOW ((1u << 0) /* FSGSBASE */ | (1u << 3) /* BMI1 */ | (1u << 7) /* SMEP */ | \
		      (1u << 8) /* BMI2 */ | (1u << 9) /* ERMS */ | (1u << 18) /* RDSEED */ | \
		      (1u << 19) /* ADX */ | (1u << 20) /* SMAP */ | (1u << 23) /* CLFLUSHOPT */ | \
		      (1u << 24) /* CLWB */ | (1u << 29) /* SHA */)
#define X1_ECX_ALLOW ((1u << 0) /* LAHF */ | (1u << 4) /* AltMovCr8 */ | (1u << 5) /* ABM */ | \
		      (1u << 6) /* SSE4A */ | (1u << 7) /* MisAlignSse */ | (1u << 8) /* PREFETCHW */)
#define X1_EDX_ALLOW ((1u << 11) /* SYSCALL */ | (1u << 20) /* NX */ | (1u << 22) /* MmxExt */ | \
		      (1u << 26) /* 1 GiB pages */ | (1u << 29) /* LM */ | L1_EDX_ALLOW)

#define CPUID_MAX_BASIC 0xd
#define CPUID_MAX_EXT 0x80000008u

/* The guest's view of CPUID: host values filtered through an allowlist. */
static void cpuid_policy(struct vcpu *v, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	uint32_t h[4];

	r[0] = r[1] = r[2] = r[3] = 0;
	if (leaf == PVHV_CPUID_BASE) {
		r[0] = PVHV_CPUID_INFO;
		r[1] = PVHV_CPUID_SIGNATURE_EBX;
		r[2] = PVHV_CPUID_SIGNATURE_ECX;
		r[3] = PVHV_CPUID_SIGNATURE_EDX;
		return;
	}
	if (leaf == PVHV_CPUID_INFO) {
		r[0] = PVHV_ABI_VERSION;
		r[1] = vcpu_ops->hypercall_flag | PVHV_CPUID_F_COM1;
		r[2] = v->id;
		r[3] = v->dom->nr_vcpus;
		return;
	}
	host_cpuid(leaf, sub, h);
	switch (leaf) {
	case 0:
		r[0] = MIN(h[0], CPUID_MAX_BASIC);
		r[1] = h[1], r[2] = h[2], r[3] = h[3]; /* vendor */
		break;
	case 1:
		r[0] = h[0];
		/* APIC ID, logical CPU count, CLFLUSH size. */
		r[1] = (v->id << 24) | (MIN(v->dom->nr_vcpus, 255u) << 16) | (h[1] & 0xff00);
		r[2] = (h[2] & L1_ECX_ALLOW) | (1u << 31); /* hypervisor present */
		r[3] = h[3] & L1_EDX_ALLOW;
		if (v->dom->nr_vcpus > 1)
			r[3] |= 1u << 28; /* HTT: the logical count above is valid */
		break;
	case 7:
		if (sub == 0)
			r[1] = h[1] & L7_EBX_ALLOW;
		break;
	case 0x80000000:
		r[0] = MIN(h[0], CPUID_MAX_EXT);
		r[1] = h[1], r[2] = h[2], r[3] = h[3];
		break;
	case 0x80000001:
		r[0] = h[0];
		r[2] = h[2] & X1_ECX_ALLOW;
		r[3] = h[3] & X1_EDX_ALLOW;
		break;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004: /* brand string */
	case 0x80000005:
	case 0x80000006: /* caches */
		r[0] = h[0], r[1] = h[1], r[2] = h[2], r[3] = h[3];
		break;
	case 0x80000007:
		r[3] = h[3] & (1u << 8); /* invariant TSC only */
		break;
	case 0x80000008:
		r[0] = h[0] & 0xffff; /* address sizes; no core counts or speculation controls */
		break;
	default:
		break; /* 2, 4, 6, 0xa (PMU), 0xb, 0xd (XSAVE): hidden until virtualized */
	}
}

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

#define EFER_GUEST_BITS (X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)

static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (pat >> (i * 8)) & 0xff;

		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}

/* 0 and the value, or -EPERM: the access raises #GP. */
static int msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_EFER:
		*val = vcpu_ops->get_reg(&v->hw, VREG_EFER);
		return 0;
	case MSR_IA32_PAT:
		*val = vcpu_ops->get_reg(&v->hw, VREG_PAT);
		return 0;
	case MSR_IA32_TSC:
		*val = rdtsc();
		return 0;
	case 0x17: /* IA32_PLATFORM_ID */
	case 0x8b: /* IA32_BIOS_SIGN_ID: no microcode revision to report */
		*val = 0;
		return 0;
	default:
		return -EPERM;
	}
}

static int msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	switch (msr) {
	case MSR_EFER: {
		uint64_t old = vcpu_ops->get_reg(&v->hw, VREG_EFER);

		if (val & ~EFER_GUEST_BITS)
			return -EPERM;
		/* Toggling LME with paging on is a #GP (SDM vol. 3, 9.8.5). */
		if (((val ^ old) & X86_EFER_LME) &&
		    (vcpu_ops->get_reg(&v->hw, VREG_CR0) & X86_CR0_PG))
			return -EPERM;
		vcpu_ops->set_reg(&v->hw, VREG_EFER, val);
		return 0;
	}
	case MSR_IA32_PAT:
		if (!pat_valid(val))
			return -EPERM;
		vcpu_ops->set_reg(&v->hw, VREG_PAT, val);
		return 0;
	case 0x8b: /* microcode revision probe: writes of 0 are how it starts */
		return val ? -EPERM : 0;
	default:
		return -EPERM;
	}
}

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

static enum exit_action handle_io(struct vcpu *v, const struct vcpu_exit *e)
{
	uint64_t *g = v->hw.regs;
	uint16_t port = e->io.port;
	uint32_t mask = e->io.size == 1 ? 0xff : e->io.size == 2 ? 0xffff : 0xffffffff;
	uint32_t val = e->io.in ? mask : (uint32_t)g[GPR_RAX] & mask;

	if (e->io.string) {
		domain_end(v->dom, END_STOPPED, 0, "string I/O (ins/outs) at port 0x%x is not supported (rip 0x%lx)",
			   port, rip(v));
		return ACT_DEAD;
	}
	if (port >= PVHV_COM1_PORT && port < PVHV_COM1_PORT + 8)
		uart_io(v->dom, port - PVHV_COM1_PORT, e->io.in, e->io.size, &val);
	/* Any other port: reads are all-ones, writes are dropped. */
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
	/*
	 * Nothing in a domain raises interrupts yet, so a halted vCPU could
	 * never wake: end the domain rather than leave it hung.
	 */
	domain_end(v->dom, END_STOPPED, 0, "vcpu %u halted with interrupts %s and nothing can wake it (rip 0x%lx)",
		   v->id, irqs ? "enabled" : "disabled", rip(v));
	return ACT_DEAD;
}

static enum exit_action handle_npf(struct vcpu *v, const struct vcpu_exit *e)
{
	domain_end(v->dom, END_STOPPED, 0, "nested page fault: %s at gpa 0x%lx outside its RAM (rip 0x%lx)",
		   e->npf.fetch ? "fetch" : e->npf.write ? "write" : "read", e->npf.gpa, rip(v));
	return ACT_DEAD;
}

enum exit_action vcpu_handle_exit(struct vcpu *v, struct vcpu_exit *e)
{
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
		return handle_npf(v, e);
	case EXIT_WBINVD:
		return skip(v, e);
	case EXIT_BAD_INSN:
	case EXIT_XSETBV: /* XSAVE is hidden */
		return inject(v, X86_EXC_UD, false, 0);
	case EXIT_TRIPLE_FAULT:
		domain_end(v->dom, END_STOPPED, 0, "triple fault (rip 0x%lx)", rip(v));
		return ACT_DEAD;
	case EXIT_INVALID:
		domain_end(v->dom, END_STOPPED, 0, "vcpu %u: VM entry failed: invalid guest state (rip 0x%lx)",
			   v->id, rip(v));
		return ACT_DEAD;
	case EXIT_INTR:
		return ACT_CONTINUE;
	case EXIT_UNEXPECTED:
	default:
		domain_end(v->dom, END_STOPPED, 0,
			   "vcpu %u: unexpected exit 0x%lx (info 0x%lx 0x%lx, rip 0x%lx)", v->id,
			   e->raw.code, e->raw.info1, e->raw.info2, rip(v));
		return ACT_DEAD;
	}
}
