/* SPDX-License-Identifier: Apache-2.0 */
/*
 * svm.c: the AMD-V backend: VMCB set-up, ASIDs, and turning #VMEXIT codes
 * into neutral exits (AMD APM vol. 2, chapter 15; VMCB layout in appendix B).
 */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "arch/x86/x86.h"
#include "arch/x86/spec_hw.h"

/* Control area. */
#define VMCB_INTERCEPT_CR 0x000
#define VMCB_INTERCEPT_EXC 0x008
#define VMCB_INTERCEPT_MISC1 0x00c
#define VMCB_INTERCEPT_MISC2 0x010
#define VMCB_PAUSE_FILTER_COUNT 0x03e
#define VMCB_IOPM_BASE 0x040
#define VMCB_MSRPM_BASE 0x048
#define VMCB_TSC_OFFSET 0x050
#define VMCB_ASID 0x058
#define VMCB_TLB_CONTROL 0x05c
#define VMCB_INT_CTL 0x060
#define VMCB_INT_VECTOR 0x064
#define VMCB_INT_STATE 0x068
#define VMCB_EXITCODE 0x070
#define VMCB_EXITINFO1 0x078
#define VMCB_EXITINFO2 0x080
#define VMCB_EXITINTINFO 0x088
#define VMCB_NP_ENABLE 0x090
#define VMCB_EVENTINJ 0x0a8
#define VMCB_NCR3 0x0b0
#define VMCB_CLEAN 0x0c0
#define VMCB_NRIP 0x0c8

/* State save area. */
#define VMCB_ES 0x400
#define VMCB_CS 0x410
#define VMCB_SS 0x420
#define VMCB_DS 0x430
#define VMCB_FS 0x440
#define VMCB_GS 0x450
#define VMCB_GDTR 0x460
#define VMCB_LDTR 0x470
#define VMCB_IDTR 0x480
#define VMCB_TR 0x490
#define VMCB_CPL 0x4cb
#define VMCB_EFER 0x4d0
#define VMCB_CR4 0x548
#define VMCB_CR3 0x550
#define VMCB_CR0 0x558
#define VMCB_DR7 0x560
#define VMCB_DR6 0x568
#define VMCB_RFLAGS 0x570
#define VMCB_RIP 0x578
#define VMCB_RSP 0x5d8
#define VMCB_RAX 0x5f8
#define VMCB_G_PAT 0x668

/* Intercept bits (vector 3 = MISC1, vector 4 = MISC2). */
#define I1_INTR (1u << 0)
#define I1_NMI (1u << 1)
#define I1_SMI (1u << 2)
#define I1_VINTR (1u << 4)
#define I1_RDPMC (1u << 15)
#define I1_CPUID (1u << 18)
#define I1_INVD (1u << 22)
#define I1_PAUSE (1u << 23)
#define I1_HLT (1u << 24)
#define I1_INVLPGA (1u << 26)
#define I1_IOIO (1u << 27)
#define I1_MSR (1u << 28)
#define I1_SHUTDOWN (1u << 31)
#define I2_VMRUN (1u << 0)
#define I2_VMMCALL (1u << 1)
#define I2_VMLOAD (1u << 2)
#define I2_VMSAVE (1u << 3)
#define I2_STGI (1u << 4)
#define I2_CLGI (1u << 5)
#define I2_SKINIT (1u << 6)
#define I2_WBINVD (1u << 9)
#define I2_MONITOR (1u << 10)
#define I2_MWAIT (1u << 11)
#define I2_MWAIT_COND (1u << 12)
#define I2_XSETBV (1u << 13)
#define I2_RDPRU (1u << 14)

/* Exceptions intercepted in every guest (VMCB offset 0x008, a bit per vector). */
#define EXC_INTERCEPTS ((1u << X86_EXC_DB) | (1u << X86_EXC_AC) | (1u << X86_EXC_MC))

/* Exit codes (appendix C). */
#define SVM_EXIT_EXC_BASE 0x40 /* + vector */
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_RDPMC 0x6f
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_PAUSE 0x77
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_INVLPGA 0x7a
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_WBINVD 0x89
#define SVM_EXIT_MONITOR 0x8a
#define SVM_EXIT_MWAIT 0x8b
#define SVM_EXIT_MWAIT_COND 0x8c
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_RDPRU 0x8e
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID ((uint64_t)-1)

#define EVENTINJ_VALID (1ULL << 31)
#define EVENTINJ_TYPE_INTR (0ULL << 8)
#define EVENTINJ_TYPE_EXC (3ULL << 8)
#define EVENTINJ_TYPE_MASK (7ULL << 8)
#define INT_CTL_V_IRQ (1u << 8)
#define INT_CTL_V_IGN_TPR (1u << 20)
#define INT_CTL_V_INTR_MASKING (1u << 24)
#define INT_CTL_V_PRIO_SHIFT 16
#define INT_CTL_V_PRIO_MASK (0xfu << INT_CTL_V_PRIO_SHIFT)
/* The fields of an offer made by svm_inject_irq(); V_IGN_TPR is set only while one stands. */
#define INT_CTL_OFFER (INT_CTL_V_IRQ | INT_CTL_V_IGN_TPR | INT_CTL_V_PRIO_MASK)
#define EVENTINJ_EV (1ULL << 11)

#define SVM_FEATURE_NP (1u << 0)
#define SVM_FEATURE_NRIPS (1u << 3)
#define SVM_FEATURE_FLUSH_BY_ASID (1u << 6)
#define SVM_FEATURE_PAUSE_FILTER (1u << 10)

void svm_vmrun(uint64_t *regs, hpa_t guest_vmcb, hpa_t host_vmcb);

static hpa_t iopm_pa, msrpm_pa;
static uint32_t max_asid;
static bool has_nrips, has_pause_filter, has_flush_by_asid;
/* The CPU takes a pending V_IRQ before the first instruction of a guest entered with IF set. */
static bool virq_at_entry = true;

/*
 * PAUSEs a guest may execute per entry before it exits (KVM's default).  A
 * vCPU spinning on PAUSE then comes back to the scheduler now and then even
 * where host interrupts fail to make it exit: Bochs 2.7 masks them for a
 * guest entered with RFLAGS.IF=0 (see run_vcpu() in pvh/sched.c).
 */
#define PAUSE_FILTER_COUNT 3000

#define F(v, off, type) (*(volatile type *)((uint8_t *)(v)->ctl + (off)))
#define F64(v, off) F(v, off, uint64_t)
#define F32(v, off) F(v, off, uint32_t)

int svm_probe(char *why, size_t len)
{
	uint32_t r[4];

	host_cpuid(0x80000000, 0, r);
	if (r[0] < 0x8000000a) {
		snprintf(why, len, "no CPUID leaf 0x8000000a (neither SVM nor VMX found)");
		return -ENOSYS;
	}
	host_cpuid(0x80000001, 0, r);
	if (!(r[2] & (1u << 2))) {
		snprintf(why, len, "CPUID reports no SVM");
		return -ENOSYS;
	}
	if (rdmsr(MSR_VM_CR) & (1u << 4)) {
		snprintf(why, len, "SVM is disabled by firmware (VM_CR.SVMDIS)");
		return -ENOSYS;
	}
	host_cpuid(0x8000000a, 0, r);
	if (!(r[3] & SVM_FEATURE_NP)) {
		snprintf(why, len, "SVM without nested paging (NPT) is not supported");
		return -ENOSYS;
	}
	max_asid = r[1];
	has_nrips = r[3] & SVM_FEATURE_NRIPS;
	has_pause_filter = r[3] & SVM_FEATURE_PAUSE_FILTER;
	has_flush_by_asid = r[3] & SVM_FEATURE_FLUSH_BY_ASID;
	/* RDTSCP and RDPID run natively; vcpu_state.c gives each vCPU its TSC_AUX. */
	vcpu_rdtscp_ok = host_has_rdtscp();
	if (max_asid < 2) {
		snprintf(why, len, "SVM offers %u ASIDs, need at least 2", max_asid);
		return -ENOSYS;
	}
	return 0;
}

/* MSRs that VMRUN/VMLOAD switch: the guest may own them without exits. */
static const uint32_t passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
	MSR_SFMASK, 0x174, 0x175, 0x176, /* SYSENTER_CS/ESP/EIP */
};

static void msrpm_allow(uint8_t *pm, uint32_t msr)
{
	uint32_t off;

	if (msr < 0x2000)
		off = 0;
	else if (msr - 0xc0000000u < 0x2000)
		off = 0x800, msr -= 0xc0000000u;
	else if (msr - 0xc0010000u < 0x2000)
		off = 0x1000, msr -= 0xc0010000u;
	else
		return;
	/* Two bits per MSR: read intercept, write intercept (APM 15.11). */
	pm[off + msr / 4] &= (uint8_t)~(3u << ((msr % 4) * 2));
}

static int svm_global_init(void)
{
	uint8_t *pm;

	/* I/O: every port intercepted (3 pages, 1 bit per port + 1 byte). */
	if (page_alloc(3, 1, &iopm_pa) || page_alloc(2, 1, &msrpm_pa))
		return -ENOMEM;
	memset(hpa_to_ptr(iopm_pa), 0xff, 3 * PAGE_SIZE);
	pm = hpa_to_ptr(msrpm_pa);
	memset(pm, 0xff, 2 * PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		msrpm_allow(pm, passthrough_msrs[i]);
	return 0;
}

static int probe_virq_at_entry(struct percpu *cpu);

static int svm_cpu_init(struct percpu *cpu)
{
	static struct spinlock once_lock;
	static bool once;
	int err = 0;

	spin_lock(&once_lock);
	if (!once)
		err = svm_global_init();
	once = true;
	spin_unlock(&once_lock);
	if (err)
		return err;
	if (page_alloc(1, 1, &cpu->host_save_pa) || page_alloc(1, 1, &cpu->host_vmcb_pa))
		return -ENOMEM;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | X86_EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, cpu->host_save_pa);
	cpu->asid_next = 1;
	cpu->asid_gen = 1;
	if (cpu->index == 0)
		return probe_virq_at_entry(cpu);
	return 0;
}

static int svm_vcpu_init(struct vcpu_hw *v)
{
	int err = page_alloc(1, 1, &v->ctl_pa);

	if (err)
		return err;
	v->ctl = hpa_to_ptr(v->ctl_pa);
	v->ctl_pages = 1;
	v->last_cpu = -1;
	v->irq_taken = -1;
	return 0;
}

static void svm_vcpu_free(struct vcpu_hw *v)
{
	if (v->ctl)
		page_free(v->ctl_pa, 1);
	v->ctl = NULL;
}

static void set_seg(struct vcpu_hw *v, unsigned off, uint16_t sel, uint16_t attr,
		    uint32_t limit, uint64_t base)
{
	F(v, off, uint16_t) = sel;
	F(v, off + 2, uint16_t) = attr;
	F32(v, off + 4) = limit;
	F64(v, off + 8) = base;
}

/* PVH entry state (Xen docs/misc/pvh.pandoc): 32-bit flat, paging off, EBX = start_info. */
static void svm_reset_pvh(struct vcpu_hw *v, uint32_t entry, uint32_t ebx)
{
	memset(v->ctl, 0, PAGE_SIZE);
	memset(v->regs, 0, sizeof(v->regs));
	v->regs[GPR_RBX] = ebx;

	/*
	 * #DB and #AC always exit: a guest can make their delivery raise the
	 * same exception again, which the CPU would loop on in microcode with
	 * no instruction boundary for an interrupt to stop it (CVE-2015-5307,
	 * CVE-2015-8104).  Intercepted, each delivery is an exit and the
	 * scheduler keeps control.  #MC exits so that pvhv learns the guest
	 * was hit.  WBINVD/INVD would flush caches every tenant shares; RDPMC
	 * would read host counters; RDPRU host performance registers.
	 */
	F32(v, VMCB_INTERCEPT_EXC) = EXC_INTERCEPTS;
	F32(v, VMCB_INTERCEPT_MISC1) = I1_INTR | I1_NMI | I1_SMI | I1_RDPMC | I1_CPUID | I1_INVD |
				       I1_HLT | I1_INVLPGA | I1_IOIO | I1_MSR | I1_SHUTDOWN;
	F32(v, VMCB_INTERCEPT_MISC2) = I2_VMRUN | I2_VMMCALL | I2_VMLOAD | I2_VMSAVE | I2_STGI |
				       I2_CLGI | I2_SKINIT | I2_WBINVD | I2_MONITOR | I2_MWAIT |
				       I2_MWAIT_COND | I2_XSETBV | I2_RDPRU;
	if (has_pause_filter) {
		F32(v, VMCB_INTERCEPT_MISC1) |= I1_PAUSE;
		F(v, VMCB_PAUSE_FILTER_COUNT, uint16_t) = PAUSE_FILTER_COUNT;
	}
	F64(v, VMCB_IOPM_BASE) = iopm_pa;
	F64(v, VMCB_MSRPM_BASE) = msrpm_pa;
	F32(v, VMCB_INT_CTL) = INT_CTL_V_INTR_MASKING; /* the guest's IF masks only virtual interrupts */
	F64(v, VMCB_NP_ENABLE) = 1;
	F64(v, VMCB_NCR3) = v->stage2_root;

	set_seg(v, VMCB_CS, 0x10, 0xc9b, 0xffffffff, 0);
	set_seg(v, VMCB_DS, 0x18, 0xc93, 0xffffffff, 0);
	set_seg(v, VMCB_ES, 0x18, 0xc93, 0xffffffff, 0);
	set_seg(v, VMCB_SS, 0x18, 0xc93, 0xffffffff, 0);
	set_seg(v, VMCB_FS, 0x18, 0xc93, 0xffffffff, 0);
	set_seg(v, VMCB_GS, 0x18, 0xc93, 0xffffffff, 0);
	set_seg(v, VMCB_TR, 0x20, 0x08b, 0x67, 0);
	set_seg(v, VMCB_LDTR, 0, 0x082, 0, 0);
	set_seg(v, VMCB_GDTR, 0, 0, 0xffff, 0);
	set_seg(v, VMCB_IDTR, 0, 0, 0xffff, 0);
	F(v, VMCB_CPL, uint8_t) = 0;
	v->guest_efer = 0;
	F64(v, VMCB_EFER) = X86_EFER_SVME; /* VMRUN requires it; the guest never sees it */
	F64(v, VMCB_CR0) = X86_CR0_PE | X86_CR0_ET;
	F64(v, VMCB_CR3) = 0;
	F64(v, VMCB_CR4) = 0;
	F64(v, VMCB_DR6) = 0xffff0ff0;
	F64(v, VMCB_DR7) = 0x400;
	F64(v, VMCB_RFLAGS) = 0x2;
	F64(v, VMCB_RIP) = entry;
	F64(v, VMCB_RSP) = 0;
	F64(v, VMCB_RAX) = 0;
	F64(v, VMCB_G_PAT) = 0x0007040600070406ULL;
	v->asid_gen = 0; /* take a fresh ASID on next entry */
}

/*
 * Bochs 2.7 computes its interrupt masks at VMRUN before it marks the CPU
 * as in the guest, so a V_IRQ stays masked until the guest itself changes
 * IF: entered with IF set, a guest would never take it (the same flaw that
 * masks host interrupts, see run_vcpu() in pvh/sched.c).  A guest of one
 * CPUID, entered once at boot with IF set and a V_IRQ requested under the
 * VINTR intercept, finds out: a CPU that takes it at entry exits with VINTR
 * before the CPUID (APM vol. 2, 15.21.4).  Paging and NPT are off: the code
 * page is reached by its host address.  It runs under ASID 1 with every
 * ASID flushed first, and ASID 1 is then left alone until the next flush.
 */
static int probe_virq_at_entry(struct percpu *cpu)
{
	static const uint8_t code[] = { 0x0f, 0xa2, 0xf4 }; /* CPUID; HLT */
	struct vcpu_hw v = { 0 };
	hpa_t code_pa;
	uint64_t exit = SVM_EXIT_INTR;
	int err;

	if ((err = svm_vcpu_init(&v)))
		return err;
	if ((err = page_alloc(1, 1, &code_pa))) {
		svm_vcpu_free(&v);
		return err;
	}
	memcpy(hpa_to_ptr(code_pa), code, sizeof(code));
	/* A host interrupt may end the run first: try again a few times. */
	for (int tries = 0; tries < 8 && exit == SVM_EXIT_INTR; tries++) {
		svm_reset_pvh(&v, (uint32_t)code_pa, 0);
		F64(&v, VMCB_NP_ENABLE) = 0;
		F32(&v, VMCB_INTERCEPT_MISC1) |= I1_VINTR;
		F32(&v, VMCB_ASID) = 1;
		F(&v, VMCB_TLB_CONTROL, uint8_t) = 1;
		F64(&v, VMCB_RFLAGS) = 0x2 | X86_RFLAGS_IF;
		F32(&v, VMCB_INT_VECTOR) = 0x20;
		F32(&v, VMCB_INT_CTL) |= INT_CTL_V_IRQ | INT_CTL_V_IGN_TPR | INT_CTL_V_PRIO_MASK;
		svm_vmrun(v.regs, v.ctl_pa, cpu->host_vmcb_pa);
		exit = F64(&v, VMCB_EXITCODE);
	}
	virq_at_entry = exit == SVM_EXIT_VINTR;
	kprintf("svm: a V_IRQ is taken at entry: %s (probe exit 0x%lx)%s\n", virq_at_entry ? "yes" : "no",
		(unsigned long)exit, virq_at_entry ? "" : "; interrupts a guest can take at entry go in through EVENTINJ");
	cpu->asid_next = 2;
	page_free(code_pa, 1);
	svm_vcpu_free(&v);
	return 0;
}

/* Gives the vCPU an ASID valid on this CPU, flushing the TLB when they run out. */
static void assign_asid(struct vcpu_hw *v, struct percpu *cpu)
{
	F(v, VMCB_TLB_CONTROL, uint8_t) = 0;
	if (v->last_cpu == (int)cpu->index && v->asid_gen == cpu->asid_gen)
		return;
	if (cpu->asid_next >= max_asid) {
		cpu->asid_gen++;
		cpu->asid_next = 1;
		F(v, VMCB_TLB_CONTROL, uint8_t) = 1; /* flush every ASID */
	}
	v->asid = cpu->asid_next++;
	v->asid_gen = cpu->asid_gen;
	v->last_cpu = cpu->index;
	F32(v, VMCB_ASID) = v->asid;
}

static void decode_exit(struct vcpu_hw *v, struct vcpu_exit *e)
{
	uint64_t code = F64(v, VMCB_EXITCODE);
	uint64_t info1 = F64(v, VMCB_EXITINFO1);
	uint64_t info2 = F64(v, VMCB_EXITINFO2);
	uint64_t intinfo;
	bool skips = false; /* completed by moving RIP past the instruction */

	e->insn_len = 0;
	e->insn_len_unknown = false;
	e->raw.code = code;
	e->raw.info1 = info1;
	e->raw.info2 = info2;
	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
		e->reason = EXIT_INTR;
		break;
	case SVM_EXIT_PAUSE:
		e->reason = EXIT_PAUSE; /* RIP is still at the PAUSE: it runs again */
		break;
	case SVM_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		skips = true;
		break;
	case SVM_EXIT_HLT:
		e->reason = EXIT_HLT;
		skips = true;
		break;
	case SVM_EXIT_INVD:
	case SVM_EXIT_WBINVD:
		e->reason = EXIT_WBINVD;
		skips = true;
		break;
	case SVM_EXIT_RDPMC:
		e->reason = EXIT_RDPMC;
		break;
	case SVM_EXIT_EXC_BASE + X86_EXC_DB:
		/*
		 * DR6 in the VMCB already holds the cause (APM vol. 2, 15.12);
		 * the guest gets the #DB it would have had.  RIP is where the
		 * exception leaves it (after a trap, at a fault).
		 */
		F64(v, VMCB_EVENTINJ) = EVENTINJ_VALID | EVENTINJ_TYPE_EXC | X86_EXC_DB;
		e->reason = EXIT_EXC_DB;
		break;
	case SVM_EXIT_EXC_BASE + X86_EXC_AC:
		F64(v, VMCB_EVENTINJ) = EVENTINJ_VALID | EVENTINJ_TYPE_EXC | EVENTINJ_EV | X86_EXC_AC;
		e->reason = EXIT_EXC_AC;
		break;
	case SVM_EXIT_EXC_BASE + X86_EXC_MC:
		e->reason = EXIT_EXC_MC;
		break;
	case SVM_EXIT_IOIO:
		e->reason = EXIT_IO;
		e->io.in = info1 & 1;
		e->io.string = info1 & 4;
		e->io.rep = info1 & 8;
		e->io.size = (info1 & 0x10) ? 1 : (info1 & 0x20) ? 2 : 4;
		e->io.port = info1 >> 16;
		/* EXITINFO2 holds the next RIP for IOIO, with or without NRIPS. */
		e->insn_len = (uint8_t)(info2 - F64(v, VMCB_RIP));
		break;
	case SVM_EXIT_MSR:
		e->reason = info1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		e->msr.index = (uint32_t)v->regs[GPR_RCX];
		skips = true;
		break;
	case SVM_EXIT_SHUTDOWN:
		e->reason = EXIT_TRIPLE_FAULT;
		break;
	case SVM_EXIT_VMMCALL:
		e->reason = EXIT_HYPERCALL;
		skips = true;
		break;
	case SVM_EXIT_XSETBV:
		e->reason = EXIT_XSETBV;
		skips = true;
		break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_MONITOR:
	case SVM_EXIT_MWAIT:
	case SVM_EXIT_MWAIT_COND:
	case SVM_EXIT_RDPRU:
		e->reason = EXIT_BAD_INSN;
		break;
	case SVM_EXIT_NPF:
		e->reason = EXIT_NPF;
		e->npf.gpa = info2;
		e->npf.write = info1 & 2;
		e->npf.fetch = info1 & 16;
		/* EXITINTINFO: the event whose delivery the fault cut short (APM 15.7.2). */
		intinfo = F64(v, VMCB_EXITINTINFO);
		e->npf.in_event_delivery = intinfo & EVENTINJ_VALID;
		e->npf.vector = (uint8_t)intinfo;
		break;
	case SVM_EXIT_INVALID:
	case (uint32_t)SVM_EXIT_INVALID: /* some implementations store it 32 bits wide */
		e->reason = EXIT_INVALID;
		break;
	default:
		e->reason = EXIT_UNEXPECTED;
		break;
	}
	/*
	 * With NRIPS the CPU tells where the instruction ends (APM 15.7.1).
	 * Without it neutral code decodes the instruction: prefixes make its
	 * length vary, and a guess would leave RIP inside it.
	 */
	if (skips) {
		uint64_t nrip = has_nrips ? F64(v, VMCB_NRIP) : 0;

		if (nrip)
			e->insn_len = (uint8_t)(nrip - F64(v, VMCB_RIP));
		else
			e->insn_len_unknown = true;
	}
}

/*
 * What became of an interrupt offered for the run that just ended (inj:
 * EVENTINJ as it was at VMRUN): the vector the guest took, or -1.  #VMEXIT
 * writes V_IRQ back, and the CPU clears it when the guest takes the
 * interrupt.  A delivery the exit cut short (EXITINTINFO of type INTR) is
 * not taken: the vector stays pending in the vLAPIC and is offered again.
 * The offer ends here either way, so none outlives the run it was made for.
 */
static int offer_outcome(struct vcpu_hw *v, uint64_t inj)
{
	uint32_t ctl = F32(v, VMCB_INT_CTL);
	uint64_t intinfo = F64(v, VMCB_EXITINTINFO);
	bool cut_short = (intinfo & EVENTINJ_VALID) && (intinfo & EVENTINJ_TYPE_MASK) == EVENTINJ_TYPE_INTR;
	int vector = (uint8_t)F32(v, VMCB_INT_VECTOR);

	if ((inj & EVENTINJ_VALID) && (inj & EVENTINJ_TYPE_MASK) == EVENTINJ_TYPE_INTR)
		return cut_short ? -1 : (uint8_t)inj;
	if (!(ctl & INT_CTL_V_IGN_TPR))
		return -1; /* nothing offered */
	F32(v, VMCB_INT_CTL) = ctl & ~INT_CTL_OFFER;
	F32(v, VMCB_INT_VECTOR) = 0;
	return (ctl & INT_CTL_V_IRQ) || cut_short ? -1 : vector;
}

static void svm_run(struct vcpu_hw *v, struct vcpu_exit *e)
{
	struct percpu *cpu = this_cpu();
	uint64_t intinfo;

	uint64_t inj = F64(v, VMCB_EVENTINJ);

	assign_asid(v, cpu);
	/*
	 * Nested translations are tagged with the ASID: TLB_CONTROL 3 drops
	 * this guest's (with FlushByAsid), 1 every ASID's (APM vol. 2,
	 * 15.16.1).  assign_asid() may have asked for 1 already.
	 */
	if (v->flush_stage2) {
		if (!F(v, VMCB_TLB_CONTROL, uint8_t))
			F(v, VMCB_TLB_CONTROL, uint8_t) = has_flush_by_asid ? 3 : 1;
		v->flush_stage2 = false;
	}
	F64(v, VMCB_RAX) = v->regs[GPR_RAX];
	spec_guest_enter(v);
	spec_before_entry(); /* L1D flush / VERW where the CPU needs them */
	svm_vmrun(v->regs, v->ctl_pa, cpu->host_vmcb_pa);
	spec_guest_exit(v);
	v->regs[GPR_RAX] = F64(v, VMCB_RAX);
	v->irq_taken = offer_outcome(v, inj);
	F64(v, VMCB_EVENTINJ) = 0;
	/*
	 * An event cut short by the exit (say an exception whose delivery hit
	 * an NPF) is re-injected on the next entry (APM 15.7.2).  An external
	 * interrupt is not: it can only be a V_IRQ offer, which the vLAPIC
	 * still holds (svm_irq_taken() reports it not taken) and which is
	 * offered again.
	 */
	intinfo = F64(v, VMCB_EXITINTINFO);
	if ((intinfo & EVENTINJ_VALID) && (intinfo & EVENTINJ_TYPE_MASK) != EVENTINJ_TYPE_INTR)
		F64(v, VMCB_EVENTINJ) = intinfo;
	decode_exit(v, e);
}

static uint64_t svm_get_reg(struct vcpu_hw *v, enum vcpu_reg r)
{
	switch (r) {
	case VREG_RIP: return F64(v, VMCB_RIP);
	case VREG_RSP: return F64(v, VMCB_RSP);
	case VREG_RFLAGS: return F64(v, VMCB_RFLAGS);
	case VREG_CR0: return F64(v, VMCB_CR0);
	case VREG_CR3: return F64(v, VMCB_CR3);
	case VREG_CR4: return F64(v, VMCB_CR4);
	case VREG_EFER: return F64(v, VMCB_EFER) & ~X86_EFER_SVME;
	case VREG_PAT: return F64(v, VMCB_G_PAT);
	case VREG_CPL: return F(v, VMCB_CPL, uint8_t);
	case VREG_CS_BASE: return F64(v, VMCB_CS + 8);
	case VREG_CS_MODE: {
		uint16_t attr = F(v, VMCB_CS + 2, uint16_t);

		if (!(F64(v, VMCB_CR0) & X86_CR0_PE))
			return 16;
		if ((F64(v, VMCB_EFER) & X86_EFER_LMA) && (attr & (1u << 9)))
			return 64;
		return (attr & (1u << 10)) ? 32 : 16;
	}
	}
	return 0;
}

static void svm_set_reg(struct vcpu_hw *v, enum vcpu_reg r, uint64_t val)
{
	switch (r) {
	case VREG_RIP: F64(v, VMCB_RIP) = val; break;
	case VREG_RSP: F64(v, VMCB_RSP) = val; break;
	case VREG_RFLAGS: F64(v, VMCB_RFLAGS) = val; break;
	case VREG_CR0: F64(v, VMCB_CR0) = val; break;
	case VREG_CR3: F64(v, VMCB_CR3) = val; break;
	case VREG_CR4: F64(v, VMCB_CR4) = val; break;
	case VREG_EFER: {
		/* LMA is the CPU's to set; keep it as it is now. */
		uint64_t lma = F64(v, VMCB_EFER) & X86_EFER_LMA;

		F64(v, VMCB_EFER) = (val & ~X86_EFER_LMA) | lma | X86_EFER_SVME;
		break;
	}
	case VREG_PAT: F64(v, VMCB_G_PAT) = val; break;
	case VREG_CPL:
	case VREG_CS_MODE:
	case VREG_CS_BASE:
		break;
	}
}

static void svm_skip_insn(struct vcpu_hw *v, const struct vcpu_exit *e)
{
	F64(v, VMCB_RIP) += e->insn_len;
	F64(v, VMCB_INT_STATE) &= ~1ULL; /* the instruction completed: no interrupt shadow */
}

static void svm_inject_exception(struct vcpu_hw *v, uint8_t vector, bool has_error, uint32_t error)
{
	F64(v, VMCB_EVENTINJ) = EVENTINJ_VALID | EVENTINJ_TYPE_EXC | vector |
				(has_error ? EVENTINJ_EV | ((uint64_t)error << 32) : 0);
}

/* State after INIT-SIPI (AMD APM vol. 2, 14.1.3 and 15.4): real mode at vector << 12. */
static void svm_reset_sipi(struct vcpu_hw *v, uint8_t vector)
{
	svm_reset_pvh(v, 0, 0); /* intercepts, NPT, ASID: everything but the CPU mode */
	v->regs[GPR_RBX] = 0;
	set_seg(v, VMCB_CS, (uint16_t)(vector << 8), 0x09b, 0xffff, (uint64_t)vector << 12);
	set_seg(v, VMCB_DS, 0, 0x093, 0xffff, 0);
	set_seg(v, VMCB_ES, 0, 0x093, 0xffff, 0);
	set_seg(v, VMCB_SS, 0, 0x093, 0xffff, 0);
	set_seg(v, VMCB_FS, 0, 0x093, 0xffff, 0);
	set_seg(v, VMCB_GS, 0, 0x093, 0xffff, 0);
	set_seg(v, VMCB_TR, 0, 0x08b, 0xffff, 0);
	F64(v, VMCB_CR0) = X86_CR0_ET;
	F64(v, VMCB_RIP) = 0;
	v->regs[GPR_RDX] = 0; /* processor signature: unspecified, and nothing reads it */
}

/*
 * External interrupts go in as a virtual interrupt request (V_IRQ), not
 * through EVENTINJ: the CPU holds the request until the guest's IF and
 * interrupt shadow let it in, so no window exit is needed, and the vLAPIC
 * acknowledges the vector only once the guest has taken it (APM vol. 2,
 * 15.21.4).  QEMU's TCG delivers an EVENTINJ interrupt a second time when
 * an exit request reaches its vCPU thread soon after VMRUN
 * (docs/ARCHITECTURE.md, "Emulator quirks"); a V_IRQ goes through its
 * ordinary interrupt path.  Where the CPU does not take a V_IRQ at entry
 * (virq_at_entry, probed at boot) an interrupt the guest can take at entry
 * goes through EVENTINJ instead.  Exceptions in EVENTINJ come first; the
 * request waits behind them.
 */
static bool svm_irq_injectable(struct vcpu_hw *v)
{
	(void)v;
	return true;
}

static bool takes_irq_at_entry(struct vcpu_hw *v)
{
	return (F64(v, VMCB_RFLAGS) & X86_RFLAGS_IF) && !(F64(v, VMCB_INT_STATE) & 1) &&
	       !(F64(v, VMCB_EVENTINJ) & EVENTINJ_VALID);
}

/* V_IGN_TPR: V_TPR (the guest's CR8 under V_INTR_MASKING) must not gate it; the vLAPIC's PPR did. */
static void svm_inject_irq(struct vcpu_hw *v, uint8_t vector)
{
	uint32_t ctl = F32(v, VMCB_INT_CTL) & ~INT_CTL_OFFER;

	if (!virq_at_entry && takes_irq_at_entry(v)) {
		F64(v, VMCB_EVENTINJ) = EVENTINJ_VALID | EVENTINJ_TYPE_INTR | vector;
		return;
	}
	F32(v, VMCB_INT_VECTOR) = vector;
	F32(v, VMCB_INT_CTL) = ctl | INT_CTL_V_IRQ | INT_CTL_V_IGN_TPR |
			       ((uint32_t)(vector >> 4) << INT_CTL_V_PRIO_SHIFT);
}

static int svm_irq_taken(struct vcpu_hw *v)
{
	int vector = v->irq_taken;

	v->irq_taken = -1;
	return vector;
}

const struct vcpu_ops svm_ops = {
	.name = "svm",
	.hypercall_flag = 1u << 0, /* PVHV_CPUID_F_VMMCALL */
	.stage2_fmt = &pt_format_x86,
	/* Present, writable, user: NPT walks treat every guest access as a user access. */
	.stage2_ram_flags = 0x7,
	.stage2_noexec_flags = 0x7 | (1ULL << 63),
	.stage2_readonly_flags = 0x5, /* P and U/S without R/W (APM vol. 2, 15.25.5) */
	/*
	 * PCD|PWT: host PAT entry 3, UC in the power-on PAT pvhv keeps; the
	 * combined type with any guest type is then UC (APM vol. 2, 15.25.8).
	 */
	.stage2_mmio_flags = 0x7 | 0x18 | (1ULL << 63),
	.cpu_init = svm_cpu_init,
	.vcpu_init = svm_vcpu_init,
	.vcpu_free = svm_vcpu_free,
	.reset_pvh = svm_reset_pvh,
	.reset_sipi = svm_reset_sipi,
	.run = svm_run,
	.get_reg = svm_get_reg,
	.set_reg = svm_set_reg,
	.skip_insn = svm_skip_insn,
	.inject_exception = svm_inject_exception,
	.irq_injectable = svm_irq_injectable,
	.inject_irq = svm_inject_irq,
	.irq_taken = svm_irq_taken,
};
