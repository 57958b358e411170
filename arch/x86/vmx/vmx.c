/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmx.c: the Intel VT-x backend: VMXON per host CPU, one VMCS per vCPU with
 * EPT, unrestricted guest and VPID, and turning VM exits into neutral exits
 * (SDM vol. 3, chapters 23-28; field encodings in appendix B, capability
 * MSRs in appendix A, exit reasons in appendix C).
 *
 * Design:
 *  - The vcpu_ops members other than run() and vcpu_put() never touch the
 *    VMCS: they work on a small cache of fields (struct vmx_vcpu.f[]), so
 *    any CPU may call them for a vCPU that is not running.  run() writes the
 *    dirty cached fields before entry and reads the guest-changeable ones
 *    back after every exit.  reset_pvh()/reset_sipi() describe the whole
 *    state; run() then rewrites the VMCS from scratch.
 *  - VMCS migration: a VMCS is active on at most one host CPU, from the
 *    run() that loads it until vcpu_put(), which the scheduler calls when
 *    the vCPU leaves the CPU; vcpu_put() VMCLEARs it (SDM 24.11.1).  So a
 *    vCPU arriving on any CPU finds its VMCS clear: VMPTRLD, host state for
 *    this CPU, VMLAUNCH, then VMRESUME until it leaves.
 *  - MSRs: FS/GS base and SYSENTER are VMCS guest state.  KERNEL_GS_BASE,
 *    STAR, LSTAR, CSTAR and SFMASK are not switched by VM entry/exit, but
 *    pvhv itself never uses them (no SYSCALL, no SWAPGS), so the guest owns
 *    them without intercepts while it runs: they are loaded on arrival and
 *    saved by vcpu_put(), once per time slice rather than once per exit.
 *  - EFER: "load/save IA32_EFER" on entry and exit.  When the guest turns
 *    paging on with LME set the CPU sets EFER.LMA itself; after each exit
 *    the "IA-32e mode guest" entry control is made equal to the saved LMA,
 *    as VM entry requires (SDM 26.3.1.1).
 *  - CR0.NE and CR4.VMXE must be 1 in VMX operation but the PVH entry state
 *    has them 0: they are host-owned (guest/host masks) with read shadows.
 *    A guest write that changes NE exits and is emulated here; one that
 *    sets VMXE (or another bit the CPU cannot take) gets #GP.
 *  - TLBs: guest-physical and combined mappings are tagged with the EPTP,
 *    so INVEPT for the vCPU's EPTP runs on its first entry after a reset
 *    and whenever it arrives on a CPU other than the one it last ran on.
 *    With VPID each vCPU has its own tag and keeps its TLB entries across
 *    exits; without it every entry and exit flushes them (SDM 28.3.3.3).
 */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "arch/x86/x86.h"
#include "arch/x86/spec_hw.h"

/* Capability MSRs (appendix A). */
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED 0x481
#define MSR_VMX_PROCBASED 0x482
#define MSR_VMX_EXIT 0x483
#define MSR_VMX_ENTRY 0x484
#define MSR_VMX_MISC 0x485
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_PROCBASED2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_VMX_TRUE_PINBASED 0x48d
#define MSR_VMX_TRUE_PROCBASED 0x48e
#define MSR_VMX_TRUE_EXIT 0x48f
#define MSR_VMX_TRUE_ENTRY 0x490
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

#define FEATURE_CONTROL_LOCK (1u << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1u << 2)
#define X86_CR4_VMXE (1UL << 13)

/* VMCS field encodings (appendix B). */
#define VPID 0x0000
#define GUEST_ES_SEL 0x0800 /* ES, CS, SS, DS, FS, GS, LDTR, TR: +2 each */
#define HOST_ES_SEL 0x0c00
#define HOST_CS_SEL 0x0c02
#define HOST_SS_SEL 0x0c04
#define HOST_DS_SEL 0x0c06
#define HOST_FS_SEL 0x0c08
#define HOST_GS_SEL 0x0c0a
#define HOST_TR_SEL 0x0c0c
#define IO_BITMAP_A 0x2000
#define IO_BITMAP_B 0x2002
#define MSR_BITMAP 0x2004
#define EPT_POINTER 0x201a
#define GUEST_PHYSICAL_ADDRESS 0x2400
#define VMCS_LINK_POINTER 0x2800
#define GUEST_IA32_DEBUGCTL 0x2802
#define GUEST_IA32_PAT 0x2804
#define GUEST_IA32_EFER 0x2806
#define GUEST_PDPTE0 0x280a /* PDPTE0-3: +2 each */
#define HOST_IA32_PAT 0x2c00
#define HOST_IA32_EFER 0x2c02
#define PIN_CONTROLS 0x4000
#define PROC_CONTROLS 0x4002
#define EXCEPTION_BITMAP 0x4004
#define CR3_TARGET_COUNT 0x400a
#define EXIT_CONTROLS 0x400c
#define EXIT_MSR_STORE_COUNT 0x400e
#define EXIT_MSR_LOAD_COUNT 0x4010
#define ENTRY_CONTROLS 0x4012
#define ENTRY_MSR_LOAD_COUNT 0x4014
#define ENTRY_INTR_INFO 0x4016
#define ENTRY_EXCEPTION_ERROR 0x4018
#define ENTRY_INSN_LEN 0x401a
#define PROC2_CONTROLS 0x401e
#define VM_INSTRUCTION_ERROR 0x4400
#define EXIT_REASON 0x4402
#define EXIT_INTR_INFO 0x4404
#define EXIT_INTR_ERROR 0x4406
#define IDT_VECTORING_INFO 0x4408
#define IDT_VECTORING_ERROR 0x440a
#define EXIT_INSN_LEN 0x440c
#define GUEST_ES_LIMIT 0x4800 /* ... TR: +2 each, then GDTR 0x4810, IDTR 0x4812 */
#define GUEST_GDTR_LIMIT 0x4810
#define GUEST_IDTR_LIMIT 0x4812
#define GUEST_ES_AR 0x4814 /* ... TR: +2 each */
#define GUEST_CS_AR 0x4816
#define GUEST_SS_AR 0x4818
#define GUEST_INTERRUPTIBILITY 0x4824
#define GUEST_ACTIVITY_STATE 0x4826
#define GUEST_SYSENTER_CS 0x482a
#define GUEST_PREEMPT_TIMER 0x482e
#define HOST_SYSENTER_CS 0x4c00
#define CR0_GUEST_HOST_MASK 0x6000
#define CR4_GUEST_HOST_MASK 0x6002
#define CR0_READ_SHADOW 0x6004
#define CR4_READ_SHADOW 0x6006
#define EXIT_QUALIFICATION 0x6400
#define GUEST_CR0 0x6800
#define GUEST_CR3 0x6802
#define GUEST_CR4 0x6804
#define GUEST_ES_BASE 0x6806 /* ... TR: +2 each, then GDTR 0x6816, IDTR 0x6818 */
#define GUEST_GDTR_BASE 0x6816
#define GUEST_IDTR_BASE 0x6818
#define GUEST_DR7 0x681a
#define GUEST_RSP 0x681c
#define GUEST_RIP 0x681e
#define GUEST_RFLAGS 0x6820
#define GUEST_PENDING_DBG 0x6822
#define GUEST_SYSENTER_ESP 0x6824
#define GUEST_SYSENTER_EIP 0x6826
#define HOST_CR0 0x6c00
#define HOST_CR3 0x6c02
#define HOST_CR4 0x6c04
#define HOST_FS_BASE 0x6c06
#define HOST_GS_BASE 0x6c08
#define HOST_TR_BASE 0x6c0a
#define HOST_GDTR_BASE 0x6c0c
#define HOST_IDTR_BASE 0x6c0e
#define HOST_SYSENTER_ESP 0x6c10
#define HOST_SYSENTER_EIP 0x6c12
#define HOST_RIP 0x6c16

/* Controls (SDM 24.6 - 24.8). */
#define PIN_EXT_INTR (1u << 0)
#define PIN_NMI (1u << 3)
#define PIN_PREEMPT_TIMER (1u << 6)
#define PROC_INTR_WINDOW (1u << 2)
#define PROC_HLT (1u << 7)
#define PROC_MWAIT (1u << 10)
#define PROC_RDPMC (1u << 11)
#define PROC_CR3_LOAD (1u << 15)
#define PROC_CR3_STORE (1u << 16)
#define PROC_CR8_LOAD (1u << 19)
#define PROC_CR8_STORE (1u << 20)
#define PROC_IO_BITMAPS (1u << 25)
#define PROC_MSR_BITMAPS (1u << 28)
#define PROC_MONITOR (1u << 29)
#define PROC_SECONDARY (1u << 31)
#define PROC2_EPT (1u << 1)
#define PROC2_RDTSCP (1u << 3)
#define PROC2_VPID (1u << 5)
#define PROC2_WBINVD (1u << 6)
#define PROC2_UNRESTRICTED (1u << 7)
#define EXIT_SAVE_DEBUG (1u << 2)
#define EXIT_HOST_64 (1u << 9)
#define EXIT_SAVE_PAT (1u << 18)
#define EXIT_LOAD_PAT (1u << 19)
#define EXIT_SAVE_EFER (1u << 20)
#define EXIT_SAVE_PREEMPT (1u << 22)
#define EXIT_LOAD_EFER (1u << 21)
#define ENTRY_LOAD_DEBUG (1u << 2)
#define ENTRY_IA32E (1u << 9)
#define ENTRY_LOAD_PAT (1u << 14)
#define ENTRY_LOAD_EFER (1u << 15)

/*
 * Bits the plain capability MSRs report as "default1" (24.6.1, A.3): with
 * no TRUE_* MSRs they must be 1.  Apart from CR3-load/store exiting they
 * are reserved or harmless (the debug-control ones), so they are tolerated.
 */
#define PIN_DEFAULT1 0x16u
#define PROC_DEFAULT1_OK 0x04006172u
#define EXIT_DEFAULT1 0x36dffu
#define ENTRY_DEFAULT1 0x11ffu

/* EPT and VPID capabilities (A.10). */
#define EPT_CAP_WALK4 (1ULL << 6)
#define EPT_CAP_WB (1ULL << 14)
#define EPT_CAP_2M (1ULL << 16)
#define EPT_CAP_INVEPT (1ULL << 20)
#define EPT_CAP_INVEPT_SINGLE (1ULL << 25)
#define EPT_CAP_INVEPT_ALL (1ULL << 26)
#define EPTP_WB_WALK4 ((3ULL << 3) | 6)
#define EPT_LEAF_RWX_WB (0x7ULL | (6ULL << 3))

/* Basic exit reasons (appendix C). */
#define VMX_EXIT_EXC_NMI 0
#define VMX_EXIT_EXT_INTR 1
#define VMX_EXIT_TRIPLE_FAULT 2
#define VMX_EXIT_INIT 3
#define VMX_EXIT_INTR_WINDOW 7
#define VMX_EXIT_CPUID 10
#define VMX_EXIT_GETSEC 11
#define VMX_EXIT_HLT 12
#define VMX_EXIT_INVD 13
#define VMX_EXIT_RDPMC 15
#define VMX_EXIT_VMCALL 18
#define VMX_EXIT_VMCLEAR 19 /* 19-27: VMCLEAR .. VMXON */
#define VMX_EXIT_VMXON 27
#define VMX_EXIT_CR_ACCESS 28
#define VMX_EXIT_IO 30
#define VMX_EXIT_RDMSR 31
#define VMX_EXIT_WRMSR 32
#define VMX_EXIT_BAD_GUEST 33
#define VMX_EXIT_MSR_LOADING 34
#define VMX_EXIT_MWAIT 36
#define VMX_EXIT_MONITOR 39
#define VMX_EXIT_MACHINE_CHECK 41
#define VMX_EXIT_EPT_VIOLATION 48
#define VMX_EXIT_EPT_MISCONFIG 49
#define VMX_EXIT_INVEPT 50
#define VMX_EXIT_PREEMPT_TIMER 52
#define VMX_EXIT_INVVPID 53
#define VMX_EXIT_WBINVD 54
#define VMX_EXIT_XSETBV 55
#define VMX_EXIT_VMFUNC 59
#define VMX_EXIT_ENTRY_FAILED (1u << 31)

/* Interruption information (24.8.3, 24.9.2). */
#define INTR_VALID (1u << 31)
#define INTR_HAS_ERROR (1u << 11)
#define INTR_TYPE_EXT (0u << 8)
#define INTR_TYPE_NMI (2u << 8)
#define INTR_TYPE_HW_EXC (3u << 8)
#define INTR_TYPE_PRIV_SW_EXC (5u << 8) /* INT1 (ICEBP) */
#define INTR_TYPE_MASK (7u << 8)
#define BLOCKING_STI_MOVSS 3u

/* Access rights (24.4.1). */
#define AR_UNUSABLE (1u << 16)
#define AR_L (1u << 13)
#define AR_DB (1u << 14)

int vmx_enter(uint64_t *regs, int launched, uint64_t *host_rsp);
extern const char vmx_exit[];

/* Cached VMCS fields: ops read and write these; run() moves them. */
enum {
	C_RIP, C_RSP, C_RFLAGS, C_CR0, C_CR3, C_CR4, C_EFER, C_INTR_STATE, C_CS_AR, C_SS_AR,
	C_PAT, C_CR0_SHADOW, C_PROC, C_ENTRY, C_ENTRY_INTR, C_ENTRY_ERR, C_ENTRY_LEN,
	C_NR
};
/* Fields before C_PAT change in the guest without exits: read back after each one. */

static const uint32_t cached_field[C_NR] = {
	[C_RIP] = GUEST_RIP, [C_RSP] = GUEST_RSP, [C_RFLAGS] = GUEST_RFLAGS,
	[C_CR0] = GUEST_CR0, [C_CR3] = GUEST_CR3, [C_CR4] = GUEST_CR4,
	[C_EFER] = GUEST_IA32_EFER, [C_INTR_STATE] = GUEST_INTERRUPTIBILITY,
	[C_CS_AR] = GUEST_CS_AR, [C_SS_AR] = GUEST_SS_AR, [C_PAT] = GUEST_IA32_PAT,
	[C_CR0_SHADOW] = CR0_READ_SHADOW, [C_PROC] = PROC_CONTROLS, [C_ENTRY] = ENTRY_CONTROLS,
	[C_ENTRY_INTR] = ENTRY_INTR_INFO, [C_ENTRY_ERR] = ENTRY_EXCEPTION_ERROR,
	[C_ENTRY_LEN] = ENTRY_INSN_LEN,
};

struct vmx_seg {
	uint16_t sel;
	uint32_t ar, limit;
	uint64_t base;
};

/* Segment order in the VMCS encodings. */
enum { S_ES, S_CS, S_SS, S_DS, S_FS, S_GS, S_LDTR, S_TR, S_NR };

/* Per-vCPU backend state: the page after the VMCS. */
struct vmx_vcpu {
	uint64_t f[C_NR];
	uint32_t dirty;          /* cached fields to write before the next entry */
	bool need_init;          /* rewrite the whole VMCS (after a reset) */
	bool need_flush;         /* INVEPT before the next entry */
	bool launched;
	int active_cpu;          /* where the VMCS is active, -1 when clear */
	uint16_t vpid;
	uint8_t tpr;             /* CR8 as the guest sees it */
	uint64_t preempt_deadline; /* exit_deadline_tsc the preemption timer was set for */
	uint64_t host_rsp;       /* HOST_RSP as last written into this VMCS (0: never) */
	struct vmx_seg seg[S_NR];/* reset state, written by need_init */
	uint64_t msr[5];         /* KERNEL_GS_BASE, STAR, LSTAR, CSTAR, SFMASK */
};
_Static_assert(sizeof(struct vmx_vcpu) <= PAGE_SIZE, "vmx_vcpu fits its page");

static const uint32_t switched_msrs[5] = {
	MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
};

/* What the probe found, shared by every CPU. */
static uint32_t vmcs_revision;
static uint32_t pin_ctl, proc_ctl, proc2_ctl, exit_ctl, entry_ctl;
static uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
static uint64_t cr0_mask, cr4_mask;
static bool has_vpid, invept_single;
static unsigned preempt_shift; /* the VMX-preemption timer counts TSC >> this (A.6) */
static hpa_t io_bitmap_pa, msr_bitmap_pa;

static struct spinlock vpid_lock;
static uint64_t vpid_used[65536 / 64];

static inline struct vmx_vcpu *priv(struct vcpu_hw *v)
{
	return (struct vmx_vcpu *)((uint8_t *)v->ctl + PAGE_SIZE);
}

/* ------------------------------------------------------------ instructions */

static inline uint64_t vmread(uint64_t field)
{
	uint64_t val;

	__asm__ volatile("vmread %1, %0" : "=r"(val) : "r"(field) : "cc");
	return val;
}

static inline void vmwrite(uint64_t field, uint64_t val)
{
	bool bad;

	__asm__ volatile("vmwrite %2, %1; setna %0" : "=qm"(bad) : "r"(field), "r"(val) : "cc");
	if (bad)
		panic("vmx: vmwrite of field 0x%lx failed (error %lu)", field,
		      vmread(VM_INSTRUCTION_ERROR));
}

static inline bool vmptrld(hpa_t pa)
{
	bool bad;

	__asm__ volatile("vmptrld %1; setna %0" : "=qm"(bad) : "m"(pa) : "cc", "memory");
	return !bad;
}

static inline bool vmclear(hpa_t pa)
{
	bool bad;

	__asm__ volatile("vmclear %1; setna %0" : "=qm"(bad) : "m"(pa) : "cc", "memory");
	return !bad;
}

static inline bool vmxon(hpa_t pa)
{
	bool bad;

	__asm__ volatile("vmxon %1; setna %0" : "=qm"(bad) : "m"(pa) : "cc", "memory");
	return !bad;
}

static inline void invept(uint64_t type, uint64_t eptp)
{
	struct {
		uint64_t eptp, zero;
	} desc = { eptp, 0 };

	__asm__ volatile("invept %0, %1" ::"m"(desc), "r"(type) : "cc", "memory");
}

/* ------------------------------------------------------------ probing */

/*
 * Fits wanted controls to a capability MSR (A.3-A.5: low word = bits that
 * must be 1, high word = bits that may be 1).  Returns the value to use, or
 * sets *missing to the required bits the CPU lacks.
 */
static uint32_t adjust_controls(uint32_t msr, uint32_t required, uint32_t optional,
				uint32_t tolerated, uint32_t *missing, uint32_t *forced)
{
	uint64_t cap = rdmsr(msr);
	uint32_t must = (uint32_t)cap, may = (uint32_t)(cap >> 32);

	*missing = required & ~may;
	*forced = must & ~(required | optional | tolerated);
	return ((required | optional) & may) | must;
}

/* Appends ", what" to the message. */
static void note(char *why, size_t len, const char *what)
{
	size_t n = strlen(why);

	if (n + 2 < len)
		snprintf(why + n, len - n, "%s%s", n ? ", " : "", what);
}

int vmx_probe(char *why, size_t len)
{
	uint32_t r[4], miss, forced;
	uint64_t basic, fc, ept;
	bool true_msrs;

	why[0] = 0;
	host_cpuid(1, 0, r);
	if (!(r[2] & (1u << 5))) {
		snprintf(why, len, "CPUID reports no VMX");
		return -ENOSYS;
	}
	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		snprintf(why, len, "VMX is disabled by firmware (IA32_FEATURE_CONTROL locked)");
		return -ENOSYS;
	}
	basic = rdmsr(MSR_VMX_BASIC);
	vmcs_revision = basic & 0x7fffffff;
	true_msrs = basic & (1ULL << 55);
	if (((basic >> 32) & 0x1fff) > PAGE_SIZE)
		note(why, len, "VMCS larger than a page");
	if (((basic >> 50) & 0xf) != 6)
		note(why, len, "VMCS not write-back");

	pin_ctl = adjust_controls(true_msrs ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED,
				  PIN_EXT_INTR | PIN_NMI, PIN_PREEMPT_TIMER, PIN_DEFAULT1, &miss,
				  &forced);
	if (pin_ctl & PIN_PREEMPT_TIMER)
		preempt_shift = rdmsr(MSR_VMX_MISC) & 0x1f;
	if (miss)
		note(why, len, "external-interrupt/NMI exiting");
	if (forced)
		note(why, len, "pin-based controls that cannot be turned off");

	proc_ctl = adjust_controls(true_msrs ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED,
				   PROC_HLT | PROC_MWAIT | PROC_RDPMC | PROC_MONITOR | PROC_CR8_LOAD |
					   PROC_CR8_STORE | PROC_IO_BITMAPS | PROC_MSR_BITMAPS |
					   PROC_SECONDARY,
				   0, PROC_DEFAULT1_OK, &miss, &forced);
	if (miss & PROC_SECONDARY)
		note(why, len, "secondary processor-based controls");
	if (miss & PROC_MSR_BITMAPS)
		note(why, len, "MSR bitmaps");
	if (miss & ~(PROC_SECONDARY | PROC_MSR_BITMAPS))
		note(why, len, "HLT/MWAIT/MONITOR/RDPMC/CR8/I/O-bitmap exiting");
	if (forced & (PROC_CR3_LOAD | PROC_CR3_STORE))
		note(why, len, "CR3 exiting cannot be turned off (no TRUE controls)");
	else if (forced)
		note(why, len, "processor-based controls that cannot be turned off");
	if (!((rdmsr(true_msrs ? MSR_VMX_TRUE_PROCBASED : MSR_VMX_PROCBASED) >> 32) &
	      PROC_INTR_WINDOW))
		note(why, len, "interrupt-window exiting");

	if (proc_ctl & PROC_SECONDARY) {
		/*
		 * WBINVD exiting: a guest must not flush the caches that every
		 * tenant shares.  RDTSCP (which also enables RDPID) where the
		 * host has it, with TSC_AUX switched per vCPU (vcpu_state.c).
		 */
		proc2_ctl = adjust_controls(MSR_VMX_PROCBASED2,
					    PROC2_EPT | PROC2_UNRESTRICTED | PROC2_WBINVD,
					    PROC2_VPID | (host_has_rdtscp() ? PROC2_RDTSCP : 0), 0,
					    &miss, &forced);
		if (miss & PROC2_WBINVD)
			note(why, len, "WBINVD exiting");
		vcpu_rdtscp_ok = proc2_ctl & PROC2_RDTSCP;
		if (miss & PROC2_EPT)
			note(why, len, "EPT");
		if (miss & PROC2_UNRESTRICTED)
			note(why, len, "unrestricted guest");
		if (forced)
			note(why, len, "secondary controls that cannot be turned off");
		has_vpid = proc2_ctl & PROC2_VPID;
		if (!(miss & PROC2_EPT)) {
			ept = rdmsr(MSR_VMX_EPT_VPID_CAP);
			if (!(ept & EPT_CAP_WALK4))
				note(why, len, "4-level EPT");
			if (!(ept & EPT_CAP_WB))
				note(why, len, "write-back EPT structures");
			if (!(ept & EPT_CAP_2M))
				note(why, len, "2 MiB EPT pages");
			if (!(ept & EPT_CAP_INVEPT) ||
			    !(ept & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL)))
				note(why, len, "INVEPT");
			invept_single = ept & EPT_CAP_INVEPT_SINGLE;
		}
	}

	exit_ctl = adjust_controls(true_msrs ? MSR_VMX_TRUE_EXIT : MSR_VMX_EXIT,
				   EXIT_HOST_64 | EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER |
					   EXIT_LOAD_EFER,
				   EXIT_SAVE_DEBUG | EXIT_SAVE_PREEMPT, EXIT_DEFAULT1, &miss, &forced);
	if (miss)
		note(why, len, "VM-exit PAT/EFER save and load");
	/*
	 * The preemption timer is a fallback (see vmx_run()); without "save
	 * its value" on exit it would need a VMWRITE before every entry, an
	 * extra exit each time in a nested VM without VMCS shadowing.
	 */
	if (!(exit_ctl & EXIT_SAVE_PREEMPT))
		pin_ctl &= ~PIN_PREEMPT_TIMER;
	/* Saving it with the timer off fails VM entry (SDM 26.2.1.2). */
	if (!(pin_ctl & PIN_PREEMPT_TIMER))
		exit_ctl &= ~EXIT_SAVE_PREEMPT;
	if (forced)
		note(why, len, "VM-exit controls that cannot be turned off");
	entry_ctl = adjust_controls(true_msrs ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY,
				    ENTRY_LOAD_PAT | ENTRY_LOAD_EFER, ENTRY_LOAD_DEBUG,
				    ENTRY_DEFAULT1, &miss, &forced);
	if (miss)
		note(why, len, "VM-entry PAT/EFER load");
	if (forced)
		note(why, len, "VM-entry controls that cannot be turned off");
	if (!((rdmsr(true_msrs ? MSR_VMX_TRUE_ENTRY : MSR_VMX_ENTRY) >> 32) & ENTRY_IA32E))
		note(why, len, "64-bit guests");

	if (why[0]) {
		char missing[160];

		snprintf(missing, sizeof(missing), "VMX lacks %s", why);
		snprintf(why, len, "%s", missing);
		return -ENOSYS;
	}

	cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	/*
	 * Unrestricted guest lifts PE and PG from CR0_FIXED0 (26.3.1.1).  Every
	 * other fixed bit is host-owned; the guest sees its own value in the
	 * read shadow (24.6.6).
	 */
	cr0_mask = ((cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG)) | ~cr0_fixed1) & 0xffffffffULL;
	cr4_mask = (cr4_fixed0 | ~cr4_fixed1) & 0xffffffffULL;
	return 0;
}

/* ------------------------------------------------------------ set-up */

static void msr_bitmap_allow(uint8_t *bm, uint32_t msr)
{
	uint32_t off = 0;

	if (msr - 0xc0000000u < 0x2000)
		off = 0x400, msr -= 0xc0000000u;
	else if (msr >= 0x2000)
		return;
	/* Read bitmaps at 0 / 0x400, write bitmaps at 0x800 / 0xc00 (24.6.9). */
	bm[off + msr / 8] &= (uint8_t)~(1u << (msr % 8));
	bm[off + 0x800 + msr / 8] &= (uint8_t)~(1u << (msr % 8));
}

/* MSRs the guest owns while it runs: VMCS guest state or switched per slice. */
static const uint32_t passthrough_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR,
	MSR_SFMASK, MSR_SYSENTER_CS, MSR_SYSENTER_ESP, MSR_SYSENTER_EIP,
};

static int vmx_global_init(void)
{
	uint8_t *bm;

	if (page_alloc(2, 1, &io_bitmap_pa) || page_alloc(1, 1, &msr_bitmap_pa))
		return -ENOMEM;
	memset(hpa_to_ptr(io_bitmap_pa), 0xff, 2 * PAGE_SIZE);
	bm = hpa_to_ptr(msr_bitmap_pa);
	memset(bm, 0xff, PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		msr_bitmap_allow(bm, passthrough_msrs[i]);
	return 0;
}

static int vmx_cpu_init(struct percpu *cpu)
{
	static struct spinlock once_lock;
	static bool once;
	uint64_t fc;
	int err = 0;

	spin_lock(&once_lock);
	if (!once)
		err = vmx_global_init();
	once = true;
	spin_unlock(&once_lock);
	if (err)
		return err;

	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	else if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		return -ENOSYS;
	/* VMXON needs CR0 and CR4 within the fixed bits (23.8). */
	write_cr0((read_cr0() | cr0_fixed0) & cr0_fixed1);
	write_cr4(((read_cr4() | cr4_fixed0) & cr4_fixed1) | X86_CR4_VMXE);
	if (page_alloc(1, 1, &cpu->host_save_pa))
		return -ENOMEM;
	*(uint32_t *)hpa_to_ptr(cpu->host_save_pa) = vmcs_revision;
	if (!vmxon(cpu->host_save_pa))
		return -EIO;
	return 0;
}

static int vpid_alloc(uint16_t *out)
{
	int err = -ENOSPC;

	spin_lock(&vpid_lock);
	for (unsigned i = 1; i < 65536; i++) {
		if (!(vpid_used[i / 64] & (1ULL << (i % 64)))) {
			vpid_used[i / 64] |= 1ULL << (i % 64);
			*out = (uint16_t)i;
			err = 0;
			break;
		}
	}
	spin_unlock(&vpid_lock);
	return err;
}

static void vpid_free(uint16_t vpid)
{
	spin_lock(&vpid_lock);
	vpid_used[vpid / 64] &= ~(1ULL << (vpid % 64));
	spin_unlock(&vpid_lock);
}

/* Page 0: the VMCS; page 1: struct vmx_vcpu. */
static int vmx_vcpu_init(struct vcpu_hw *v)
{
	struct vmx_vcpu *x;
	int err = page_alloc(2, 1, &v->ctl_pa);

	if (err)
		return err;
	v->ctl = hpa_to_ptr(v->ctl_pa);
	v->ctl_pages = 2;
	*(uint32_t *)v->ctl = vmcs_revision;
	v->last_cpu = -1;
	x = priv(v);
	x->active_cpu = -1;
	if (has_vpid && vpid_alloc(&x->vpid)) {
		page_free(v->ctl_pa, 2);
		v->ctl = NULL;
		return -ENOSPC;
	}
	return 0;
}

static void vmx_vcpu_put(struct vcpu_hw *v);

static void vmx_vcpu_free(struct vcpu_hw *v)
{
	struct vmx_vcpu *x;

	if (!v->ctl)
		return;
	x = priv(v);
	if (x->active_cpu == (int)this_cpu()->index)
		vmx_vcpu_put(v);
	if (x->active_cpu >= 0)
		panic("vmx: freeing a VMCS still active on cpu %d", x->active_cpu);
	if (x->vpid)
		vpid_free(x->vpid);
	page_free(v->ctl_pa, 2);
	v->ctl = NULL;
}

static void set_cached(struct vmx_vcpu *x, unsigned i, uint64_t val)
{
	x->f[i] = val;
	x->dirty |= 1u << i;
}

static void set_seg(struct vmx_vcpu *x, unsigned s, uint16_t sel, uint32_t ar, uint32_t limit,
		    uint64_t base)
{
	x->seg[s] = (struct vmx_seg){ sel, ar, limit, base };
}

/* Guest CR0 as VMX needs it, from the value the guest means. */
static uint64_t cr0_real(uint64_t val)
{
	return (val & ~cr0_mask) | (cr0_fixed0 & cr0_mask & ~(X86_CR0_PE | X86_CR0_PG));
}

static uint64_t cr4_real(uint64_t val)
{
	return (val & ~cr4_mask) | (cr4_fixed0 & cr4_mask);
}

/* PVH entry state (Xen docs/misc/pvh.pandoc): 32-bit flat, paging off, EBX = start_info. */
static void vmx_reset_pvh(struct vcpu_hw *v, uint32_t entry, uint32_t ebx)
{
	struct vmx_vcpu *x = priv(v);

	memset(v->regs, 0, sizeof(v->regs));
	v->regs[GPR_RBX] = ebx;
	memset(x->f, 0, sizeof(x->f));
	memset(x->msr, 0, sizeof(x->msr));
	x->tpr = 0;
	set_seg(x, S_CS, 0x10, 0xc09b, 0xffffffff, 0);
	set_seg(x, S_DS, 0x18, 0xc093, 0xffffffff, 0);
	set_seg(x, S_ES, 0x18, 0xc093, 0xffffffff, 0);
	set_seg(x, S_SS, 0x18, 0xc093, 0xffffffff, 0);
	set_seg(x, S_FS, 0x18, 0xc093, 0xffffffff, 0);
	set_seg(x, S_GS, 0x18, 0xc093, 0xffffffff, 0);
	set_seg(x, S_TR, 0x20, 0x008b, 0x67, 0);
	set_seg(x, S_LDTR, 0, AR_UNUSABLE, 0, 0);
	set_cached(x, C_RIP, entry);
	set_cached(x, C_RFLAGS, 0x2);
	set_cached(x, C_CR0, cr0_real(X86_CR0_PE | X86_CR0_ET));
	set_cached(x, C_CR0_SHADOW, X86_CR0_PE | X86_CR0_ET);
	set_cached(x, C_CR4, cr4_real(0));
	set_cached(x, C_CS_AR, x->seg[S_CS].ar);
	set_cached(x, C_SS_AR, x->seg[S_SS].ar);
	set_cached(x, C_PAT, 0x0007040600070406ULL);
	set_cached(x, C_PROC, proc_ctl);
	set_cached(x, C_ENTRY, entry_ctl);
	x->dirty = (1u << C_NR) - 1;
	x->need_init = true;
	x->preempt_deadline = 0;
	x->host_rsp = 0;
	x->need_flush = true;
	v->guest_efer = 0;
}

/* State after INIT-SIPI (SDM vol. 3, 9.1.1 and 9.4.4.1): real mode at vector << 12. */
static void vmx_reset_sipi(struct vcpu_hw *v, uint8_t vector)
{
	struct vmx_vcpu *x = priv(v);

	vmx_reset_pvh(v, 0, 0);
	set_seg(x, S_CS, (uint16_t)(vector << 8), 0x9b, 0xffff, (uint64_t)vector << 12);
	set_seg(x, S_DS, 0, 0x93, 0xffff, 0);
	set_seg(x, S_ES, 0, 0x93, 0xffff, 0);
	set_seg(x, S_SS, 0, 0x93, 0xffff, 0);
	set_seg(x, S_FS, 0, 0x93, 0xffff, 0);
	set_seg(x, S_GS, 0, 0x93, 0xffff, 0);
	set_seg(x, S_TR, 0, 0x8b, 0xffff, 0);
	set_cached(x, C_CS_AR, x->seg[S_CS].ar);
	set_cached(x, C_SS_AR, x->seg[S_SS].ar);
	set_cached(x, C_CR0, cr0_real(X86_CR0_ET));
	set_cached(x, C_CR0_SHADOW, X86_CR0_ET);
	set_cached(x, C_RIP, 0);
}

/* Everything in the VMCS that is not a cached field (run() with need_init). */
static void write_full_vmcs(struct vcpu_hw *v, struct vmx_vcpu *x)
{
	for (unsigned s = 0; s < S_NR; s++) {
		vmwrite(GUEST_ES_SEL + 2 * s, x->seg[s].sel);
		vmwrite(GUEST_ES_AR + 2 * s, x->seg[s].ar);
		vmwrite(GUEST_ES_LIMIT + 2 * s, x->seg[s].limit);
		vmwrite(GUEST_ES_BASE + 2 * s, x->seg[s].base);
	}
	vmwrite(GUEST_GDTR_BASE, 0);
	vmwrite(GUEST_GDTR_LIMIT, 0xffff);
	vmwrite(GUEST_IDTR_BASE, 0);
	vmwrite(GUEST_IDTR_LIMIT, 0xffff);
	vmwrite(GUEST_DR7, 0x400);
	vmwrite(GUEST_IA32_DEBUGCTL, 0);
	vmwrite(GUEST_SYSENTER_CS, 0);
	vmwrite(GUEST_SYSENTER_ESP, 0);
	vmwrite(GUEST_SYSENTER_EIP, 0);
	vmwrite(GUEST_PENDING_DBG, 0);
	vmwrite(GUEST_ACTIVITY_STATE, 0);
	for (unsigned i = 0; i < 4; i++)
		vmwrite(GUEST_PDPTE0 + 2 * i, 0);
	vmwrite(VMCS_LINK_POINTER, ~0ULL);

	vmwrite(PIN_CONTROLS, pin_ctl);
	vmwrite(PROC2_CONTROLS, proc2_ctl);
	vmwrite(EXIT_CONTROLS, exit_ctl);
	/* See svm_reset_pvh(): #DB and #AC can loop in microcode; #MC is the domain's. */
	vmwrite(EXCEPTION_BITMAP, (1u << X86_EXC_DB) | (1u << X86_EXC_AC) | (1u << X86_EXC_MC));
	vmwrite(CR3_TARGET_COUNT, 0);
	vmwrite(EXIT_MSR_STORE_COUNT, 0);
	vmwrite(EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(IO_BITMAP_A, io_bitmap_pa);
	vmwrite(IO_BITMAP_B, io_bitmap_pa + PAGE_SIZE);
	vmwrite(MSR_BITMAP, msr_bitmap_pa);
	vmwrite(EPT_POINTER, v->stage2_root | EPTP_WB_WALK4);
	if (has_vpid)
		vmwrite(VPID, x->vpid);
	vmwrite(CR0_GUEST_HOST_MASK, cr0_mask);
	vmwrite(CR4_GUEST_HOST_MASK, cr4_mask);
	vmwrite(CR4_READ_SHADOW, 0);
}

/* Host state of this CPU (27.5): written whenever the VMCS arrives on a CPU. */
static void write_host_state(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} PACKED gdtr, idtr;
	uint16_t tr;
	const uint8_t *d;

	__asm__ volatile("sgdt %0; sidt %1; str %2" : "=m"(gdtr), "=m"(idtr), "=r"(tr));
	d = (const uint8_t *)(uintptr_t)gdtr.base + (tr & ~7u);
	vmwrite(HOST_TR_BASE, (uint64_t)(d[2] | (d[3] << 8) | (d[4] << 16)) |
				      ((uint64_t)d[7] << 24) | ((uint64_t)*(const uint32_t *)(d + 8) << 32));
	vmwrite(HOST_GDTR_BASE, gdtr.base);
	vmwrite(HOST_IDTR_BASE, idtr.base);
	vmwrite(HOST_CR0, read_cr0());
	vmwrite(HOST_CR3, read_cr3());
	vmwrite(HOST_CR4, read_cr4());
	vmwrite(HOST_CS_SEL, GDT_CODE64);
	vmwrite(HOST_SS_SEL, GDT_DATA);
	vmwrite(HOST_DS_SEL, GDT_DATA);
	vmwrite(HOST_ES_SEL, GDT_DATA);
	vmwrite(HOST_FS_SEL, 0);
	vmwrite(HOST_GS_SEL, 0);
	vmwrite(HOST_TR_SEL, tr);
	vmwrite(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(HOST_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	vmwrite(HOST_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	vmwrite(HOST_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	vmwrite(HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmwrite(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(HOST_RIP, (uint64_t)(uintptr_t)vmx_exit);
}

/* ------------------------------------------------------------ emulation inside the backend */

static void inject_gp(struct vmx_vcpu *x)
{
	set_cached(x, C_ENTRY_INTR, INTR_VALID | INTR_TYPE_HW_EXC | INTR_HAS_ERROR | X86_EXC_GP);
	set_cached(x, C_ENTRY_ERR, 0);
}

static uint64_t guest_cr0(struct vmx_vcpu *x)
{
	return (x->f[C_CR0] & ~cr0_mask) | (x->f[C_CR0_SHADOW] & cr0_mask);
}

/* PAE paging without long mode takes its PDPTEs from the VMCS (26.3.2.4). */
static bool load_pdptes(struct vcpu_hw *v, uint64_t cr3)
{
	hpa_t pa;
	const uint64_t *p;

	if (pt_lookup(&pt_format_ept, &host_pt_ops, v->stage2_root, cr3 & 0xffffffe0ULL, &pa, NULL,
		      NULL))
		return false;
	p = hpa_to_ptr(pa);
	for (unsigned i = 0; i < 4; i++)
		vmwrite(GUEST_PDPTE0 + 2 * i, p[i]);
	return true;
}

/*
 * MOV to CR0 that changed a host-owned bit (NE): the whole write is done
 * here, including what the CPU would do for PG (EFER.LMA, PDPTEs).
 */
static void emulate_cr0_write(struct vcpu_hw *v, struct vmx_vcpu *x, uint64_t val)
{
	uint64_t old = guest_cr0(x), efer = x->f[C_EFER];

	if ((val >> 32) || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & (1UL << 29)) && !(val & (1UL << 30))) || (~cr0_fixed1 & val & 0xffffffffULL)) {
		inject_gp(x);
		return;
	}
	if ((val & X86_CR0_PG) && !(old & X86_CR0_PG) && (efer & X86_EFER_LME)) {
		if (!(x->f[C_CR4] & X86_CR4_PAE)) {
			inject_gp(x);
			return;
		}
		efer |= X86_EFER_LMA;
	} else if (!(val & X86_CR0_PG) && (old & X86_CR0_PG)) {
		efer &= ~X86_EFER_LMA;
	}
	if ((val & X86_CR0_PG) && !(efer & X86_EFER_LMA) && (x->f[C_CR4] & X86_CR4_PAE) &&
	    !load_pdptes(v, x->f[C_CR3])) {
		inject_gp(x);
		return;
	}
	set_cached(x, C_CR0, cr0_real(val));
	set_cached(x, C_CR0_SHADOW, val & cr0_mask);
	set_cached(x, C_EFER, efer);
	set_cached(x, C_ENTRY, (x->f[C_ENTRY] & ~ENTRY_IA32E) | ((efer & X86_EFER_LMA) ? ENTRY_IA32E : 0));
}

static void skip(struct vmx_vcpu *x, uint64_t len)
{
	set_cached(x, C_RIP, x->f[C_RIP] + len);
	set_cached(x, C_INTR_STATE, x->f[C_INTR_STATE] & ~BLOCKING_STI_MOVSS);
}

/*
 * Control-register exits (qualification in 27.2.1, table 27-3).  Returns
 * true when handled here: the guest is entered again without going back to
 * neutral code.
 */
static bool handle_cr(struct vcpu_hw *v, struct vmx_vcpu *x, uint64_t qual, uint64_t len)
{
	unsigned cr = qual & 15, type = (qual >> 4) & 3, gpr = (qual >> 8) & 15;
	uint64_t val;

	if (gpr == GPR_RSP)
		val = x->f[C_RSP];
	else
		val = v->regs[gpr];
	if (type == 0 && cr == 0) {
		emulate_cr0_write(v, x, val);
	} else if (type == 0 && cr == 4) {
		/* Only a change of a host-owned bit exits: VMXE or a bit the CPU lacks. */
		inject_gp(x);
	} else if (type == 0 && cr == 8) {
		if (val & ~0xfULL)
			inject_gp(x);
		else
			x->tpr = (uint8_t)val;
	} else if (type == 1 && cr == 8) {
		if (gpr == GPR_RSP)
			set_cached(x, C_RSP, x->tpr);
		else
			v->regs[gpr] = x->tpr;
	} else {
		return false;
	}
	if (!(x->f[C_ENTRY_INTR] & INTR_VALID))
		skip(x, len);
	return true;
}

/* ------------------------------------------------------------ entry and exit */

/*
 * An intercepted #DB or #AC goes back into the guest as the CPU would have
 * delivered it; the exit only gives pvhv a say between two deliveries.  A
 * #DB that exits leaves DR6 alone and reports its bits in the exit
 * qualification (SDM vol. 3, 27.1 and table 28-1): put them into DR6 (the
 * guest's, live in the CPU: vcpu_state.c switches it).  INT1 is a
 * privileged software exception and needs its instruction length.
 */
#define DR6_TRAP_BITS 0xfULL                  /* B0-B3 */
#define DR6_EXIT_QUAL_BITS (0xfULL | (1ULL << 13) | (1ULL << 14)) /* B0-B3, BD, BS */

static void reflect_exception(struct vcpu_hw *v, struct vmx_vcpu *x, struct vcpu_exit *e,
			      uint64_t qual)
{
	uint32_t info = (uint32_t)vmread(EXIT_INTR_INFO);
	uint32_t vector = info & 0xff, type = info & INTR_TYPE_MASK;

	switch (vector) {
	case X86_EXC_DB: {
		uint64_t dr6;

		__asm__ volatile("mov %%db6, %0" : "=r"(dr6));
		dr6 = (dr6 & ~DR6_TRAP_BITS) | (qual & DR6_EXIT_QUAL_BITS);
		__asm__ volatile("mov %0, %%db6" : : "r"(dr6));
		e->reason = EXIT_EXC_DB;
		break;
	}
	case X86_EXC_AC:
		e->reason = EXIT_EXC_AC;
		break;
	case X86_EXC_MC:
		e->reason = EXIT_EXC_MC;
		return;
	default:
		e->reason = EXIT_UNEXPECTED;
		return;
	}
	set_cached(x, C_ENTRY_INTR, INTR_VALID | type | vector | (info & INTR_HAS_ERROR));
	if (info & INTR_HAS_ERROR)
		set_cached(x, C_ENTRY_ERR, vmread(EXIT_INTR_ERROR));
	if (type == INTR_TYPE_PRIV_SW_EXC)
		set_cached(x, C_ENTRY_LEN, vmread(EXIT_INSN_LEN));
}

static void decode_exit(struct vcpu_hw *v, struct vmx_vcpu *x, uint32_t reason, struct vcpu_exit *e)
{
	uint64_t qual = vmread(EXIT_QUALIFICATION);
	uint32_t basic = reason & 0xffff, idt;

	e->insn_len = 0;
	e->insn_len_unknown = false; /* VM exits always report it (27.2.5) */
	e->raw.code = reason;
	e->raw.info1 = qual;
	e->raw.info2 = 0;
	if (reason & VMX_EXIT_ENTRY_FAILED) {
		e->reason = EXIT_INVALID;
		return;
	}
	switch (basic) {
	case VMX_EXIT_EXC_NMI:
		if ((vmread(EXIT_INTR_INFO) & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
			/* The NMI was consumed by the exit: hand it to the host, as SVM would. */
			__asm__ volatile("int $2");
			e->reason = EXIT_INTR;
			break;
		}
		reflect_exception(v, x, e, qual);
		break;
	case VMX_EXIT_MACHINE_CHECK:
		e->reason = EXIT_EXC_MC;
		break;
	case VMX_EXIT_RDPMC:
		e->reason = EXIT_RDPMC;
		break;
	case VMX_EXIT_EXT_INTR:
	case VMX_EXIT_PREEMPT_TIMER: /* exit_deadline_tsc reached */
	case VMX_EXIT_INIT: /* nothing sends INIT to a host CPU after boot: ignore it */
		e->reason = EXIT_INTR;
		break;
	case VMX_EXIT_INTR_WINDOW:
		e->reason = EXIT_IRQ_WINDOW;
		break;
	case VMX_EXIT_TRIPLE_FAULT:
		e->reason = EXIT_TRIPLE_FAULT;
		break;
	case VMX_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		break;
	case VMX_EXIT_HLT:
		e->reason = EXIT_HLT;
		break;
	case VMX_EXIT_INVD:
	case VMX_EXIT_WBINVD: /* both complete as no-ops: see EXIT_WBINVD */
		e->reason = EXIT_WBINVD;
		break;
	case VMX_EXIT_VMCALL:
		e->reason = EXIT_HYPERCALL;
		break;
	case VMX_EXIT_IO:
		e->reason = EXIT_IO;
		e->io.size = (uint8_t)((qual & 7) + 1);
		e->io.in = qual & 8;
		e->io.string = qual & 16;
		e->io.rep = qual & 32;
		e->io.port = (uint16_t)(qual >> 16);
		break;
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
		e->reason = basic == VMX_EXIT_RDMSR ? EXIT_MSR_READ : EXIT_MSR_WRITE;
		e->msr.index = (uint32_t)v->regs[GPR_RCX];
		break;
	case VMX_EXIT_XSETBV:
		e->reason = EXIT_XSETBV;
		break;
	case VMX_EXIT_EPT_VIOLATION:
		e->reason = EXIT_NPF;
		e->npf.gpa = vmread(GUEST_PHYSICAL_ADDRESS);
		e->npf.write = qual & 2;
		e->npf.fetch = qual & 4;
		/* The event whose delivery the violation cut short (27.2.4). */
		idt = (uint32_t)vmread(IDT_VECTORING_INFO);
		e->npf.in_event_delivery = idt & INTR_VALID;
		e->npf.vector = (uint8_t)idt;
		e->raw.info2 = e->npf.gpa;
		break;
	case VMX_EXIT_GETSEC:
	case VMX_EXIT_MWAIT:
	case VMX_EXIT_MONITOR:
	case VMX_EXIT_INVEPT:
	case VMX_EXIT_INVVPID:
	case VMX_EXIT_VMFUNC:
		e->reason = EXIT_BAD_INSN;
		break;
	default:
		e->reason = basic >= VMX_EXIT_VMCLEAR && basic <= VMX_EXIT_VMXON ? EXIT_BAD_INSN
										 : EXIT_UNEXPECTED;
		break;
	}
	switch (e->reason) {
	case EXIT_CPUID:
	case EXIT_HLT:
	case EXIT_WBINVD:
	case EXIT_HYPERCALL:
	case EXIT_IO:
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
	case EXIT_XSETBV:
		e->insn_len = (uint8_t)vmread(EXIT_INSN_LEN);
		break;
	default:
		break;
	}
}

/* Makes v's VMCS current on this CPU; it arrives here clear (vcpu_put). */
static void arrive(struct vcpu_hw *v, struct vmx_vcpu *x, unsigned me)
{
	if (x->active_cpu >= 0)
		panic("vmx: vcpu VMCS still active on cpu %d, wanted on %u (no vcpu_put?)",
		      x->active_cpu, me);
	if (!vmptrld(v->ctl_pa))
		panic("vmx: VMPTRLD 0x%lx failed", v->ctl_pa);
	x->active_cpu = (int)me;
	x->launched = false;
	write_host_state();
	for (unsigned i = 0; i < ARRAY_SIZE(switched_msrs); i++)
		wrmsr(switched_msrs[i], x->msr[i]);
	if (v->last_cpu != (int)me)
		x->need_flush = true;
	v->last_cpu = (int)me;
}

/*
 * The VMX-preemption timer value for a TSC deadline, at least 1 us ahead
 * like timer_arm_tsc().  It counts only in the guest, from this value at
 * every entry (25.5.1), and stops the guest whatever its RFLAGS.IF, which
 * also holds under Bochs 2.7 (see run_vcpu() in pvh/sched.c).
 */
static uint32_t preempt_ticks(uint64_t deadline)
{
	uint64_t now = rdtsc(), min = tsc_khz() / 1000, d;

	if (!deadline)
		return 0xffffffffu;
	d = (int64_t)(deadline - now) > (int64_t)min ? deadline - now : min;
	d >>= preempt_shift;
	return d > 0xffffffffu ? 0xffffffffu : (uint32_t)d;
}

static void vmx_run(struct vcpu_hw *v, struct vcpu_exit *e)
{
	struct vmx_vcpu *x = priv(v);
	unsigned me = this_cpu()->index;
	uint32_t reason, idt;
	int rc;

	if (x->active_cpu != (int)me)
		arrive(v, x, me);
again:
	if (x->need_init) {
		write_full_vmcs(v, x);
		x->need_init = false;
	}
	for (uint32_t d = x->dirty; d; d &= d - 1) {
		unsigned i = __builtin_ctz(d);

		vmwrite(cached_field[i], x->f[i]);
	}
	x->dirty = 0;
	/* INVEPT for the EPTP drops guest-physical and combined mappings of every VPID (SDM 29.4.3.1). */
	if (v->flush_stage2) {
		x->need_flush = true;
		v->flush_stage2 = false;
	}
	if (x->need_flush) {
		invept(invept_single ? 1 : 2, v->stage2_root | EPTP_WB_WALK4);
		x->need_flush = false;
	}

	/* The timer keeps counting across exits (EXIT_SAVE_PREEMPT): set it only for a new deadline. */
	if ((pin_ctl & PIN_PREEMPT_TIMER) && v->exit_deadline_tsc != x->preempt_deadline) {
		vmwrite(GUEST_PREEMPT_TIMER, preempt_ticks(v->exit_deadline_tsc));
		x->preempt_deadline = v->exit_deadline_tsc;
	}
	spec_guest_enter(v);
	spec_before_entry(); /* L1D flush / VERW where the CPU needs them */
	rc = vmx_enter(v->regs, x->launched, &x->host_rsp);
	spec_guest_exit(v);
	if (rc) {
		uint64_t err = rc == 2 ? vmread(VM_INSTRUCTION_ERROR) : ~0ULL;

		kprintf("vmx: %s failed: %s %lu\n", x->launched ? "VMRESUME" : "VMLAUNCH",
			rc == 2 ? "VM-instruction error" : "no current VMCS,", err);
		e->reason = EXIT_INVALID;
		e->insn_len = 0;
		e->insn_len_unknown = false;
		e->raw.code = ~0ULL;
		e->raw.info1 = err;
		e->raw.info2 = 0;
		return;
	}
	x->launched = true;
	for (unsigned i = 0; i < C_PAT; i++)
		x->f[i] = vmread(cached_field[i]);
	x->f[C_ENTRY_INTR] = 0; /* VM exits clear its valid bit (27.2.3) */
	/* VM entry needs "IA-32e mode guest" = EFER.LMA (26.2.4). */
	if (!!(x->f[C_EFER] & X86_EFER_LMA) != !!(x->f[C_ENTRY] & ENTRY_IA32E))
		set_cached(x, C_ENTRY, x->f[C_ENTRY] ^ ENTRY_IA32E);

	/* An event cut short by the exit is delivered again on the next entry (27.2.4). */
	idt = (uint32_t)vmread(IDT_VECTORING_INFO);
	if (idt & INTR_VALID) {
		set_cached(x, C_ENTRY_INTR, idt & ~0x7ffff000u);
		if (idt & INTR_HAS_ERROR)
			set_cached(x, C_ENTRY_ERR, vmread(IDT_VECTORING_ERROR));
		set_cached(x, C_ENTRY_LEN, vmread(EXIT_INSN_LEN));
	}

	reason = (uint32_t)vmread(EXIT_REASON);
	if (reason == VMX_EXIT_CR_ACCESS &&
	    handle_cr(v, x, vmread(EXIT_QUALIFICATION), vmread(EXIT_INSN_LEN)))
		goto again;
	decode_exit(v, x, reason, e);
	if (e->reason == EXIT_INVALID)
		kprintf("vmx: VM entry failed: exit reason 0x%x, qualification 0x%lx\n", reason,
			e->raw.info1);
}

/* The vCPU leaves this CPU: save what the VMCS does not hold, and VMCLEAR it. */
static void vmx_vcpu_put(struct vcpu_hw *v)
{
	struct vmx_vcpu *x = priv(v);

	if (x->active_cpu != (int)this_cpu()->index)
		return;
	for (unsigned i = 0; i < ARRAY_SIZE(switched_msrs); i++)
		x->msr[i] = rdmsr(switched_msrs[i]);
	if (!vmclear(v->ctl_pa))
		panic("vmx: VMCLEAR 0x%lx failed", v->ctl_pa);
	x->active_cpu = -1;
	x->launched = false;
}

/* ------------------------------------------------------------ registers and events */

static uint64_t vmx_get_reg(struct vcpu_hw *v, enum vcpu_reg r)
{
	struct vmx_vcpu *x = priv(v);

	switch (r) {
	case VREG_RIP: return x->f[C_RIP];
	case VREG_RSP: return x->f[C_RSP];
	case VREG_RFLAGS: return x->f[C_RFLAGS];
	case VREG_CR0: return guest_cr0(x);
	case VREG_CR3: return x->f[C_CR3];
	case VREG_CR4: return x->f[C_CR4] & ~cr4_mask;
	case VREG_EFER: return x->f[C_EFER];
	case VREG_PAT: return x->f[C_PAT];
	case VREG_CPL: return (x->f[C_SS_AR] >> 5) & 3;
	case VREG_CS_BASE:
		/*
		 * Not cached: only instruction fetches need it, while this
		 * vCPU's exit is handled and its VMCS is current here.
		 */
		if (x->need_init || x->active_cpu != (int)this_cpu()->index)
			return x->seg[S_CS].base;
		return vmread(GUEST_ES_BASE + 2 * S_CS);
	case VREG_CS_MODE:
		if (!(x->f[C_CR0] & X86_CR0_PE))
			return 16;
		if ((x->f[C_EFER] & X86_EFER_LMA) && (x->f[C_CS_AR] & AR_L))
			return 64;
		return (x->f[C_CS_AR] & AR_DB) ? 32 : 16;
	}
	return 0;
}

static void vmx_set_reg(struct vcpu_hw *v, enum vcpu_reg r, uint64_t val)
{
	struct vmx_vcpu *x = priv(v);

	switch (r) {
	case VREG_RIP: set_cached(x, C_RIP, val); break;
	case VREG_RSP: set_cached(x, C_RSP, val); break;
	case VREG_RFLAGS: set_cached(x, C_RFLAGS, val); break;
	case VREG_CR0:
		set_cached(x, C_CR0, cr0_real(val));
		set_cached(x, C_CR0_SHADOW, val & cr0_mask);
		break;
	case VREG_CR3: set_cached(x, C_CR3, val); break;
	case VREG_CR4: set_cached(x, C_CR4, cr4_real(val)); break;
	case VREG_EFER:
		/* LMA is the CPU's to set; keep it as it is now. */
		set_cached(x, C_EFER, (val & ~X86_EFER_LMA) | (x->f[C_EFER] & X86_EFER_LMA));
		break;
	case VREG_PAT: set_cached(x, C_PAT, val); break;
	case VREG_CPL:
	case VREG_CS_MODE:
	case VREG_CS_BASE:
		break;
	}
}

static void vmx_skip_insn(struct vcpu_hw *v, const struct vcpu_exit *e)
{
	skip(priv(v), e->insn_len);
}

static void vmx_inject_exception(struct vcpu_hw *v, uint8_t vector, bool has_error, uint32_t error)
{
	struct vmx_vcpu *x = priv(v);

	/* Real mode delivers no error code; VM entry insists (26.2.1.3). */
	if (!(x->f[C_CR0] & X86_CR0_PE))
		has_error = false;
	set_cached(x, C_ENTRY_INTR,
		   INTR_VALID | INTR_TYPE_HW_EXC | vector | (has_error ? INTR_HAS_ERROR : 0));
	if (has_error)
		set_cached(x, C_ENTRY_ERR, error);
}

static bool vmx_irq_injectable(struct vcpu_hw *v)
{
	struct vmx_vcpu *x = priv(v);

	return (x->f[C_RFLAGS] & X86_RFLAGS_IF) && !(x->f[C_INTR_STATE] & BLOCKING_STI_MOVSS) &&
	       !(x->f[C_ENTRY_INTR] & INTR_VALID);
}

static void vmx_inject_irq(struct vcpu_hw *v, uint8_t vector)
{
	set_cached(priv(v), C_ENTRY_INTR, INTR_VALID | INTR_TYPE_EXT | vector);
}

static void vmx_irq_window(struct vcpu_hw *v, bool on)
{
	struct vmx_vcpu *x = priv(v);
	uint64_t proc = on ? x->f[C_PROC] | PROC_INTR_WINDOW : x->f[C_PROC] & ~PROC_INTR_WINDOW;

	if (proc != x->f[C_PROC])
		set_cached(x, C_PROC, proc);
}

const struct vcpu_ops vmx_ops = {
	.name = "vmx",
	.hypercall_flag = 0, /* VMCALL */
	.stage2_fmt = &pt_format_ept,
	/* Read, write, execute; write-back memory type, guest PAT honoured (28.3.7). */
	.stage2_ram_flags = EPT_LEAF_RWX_WB,
	.stage2_noexec_flags = EPT_LEAF_RWX_WB & ~4ULL, /* EPT bit 2: execute */
	.stage2_readonly_flags = EPT_LEAF_RWX_WB & ~2ULL, /* EPT bit 1: write */
	/* Read, write; EPT memory type 0 (UC), which no guest PAT type overrides (SDM vol. 3, 29.3.7.2). */
	.stage2_mmio_flags = 0x3,
	.cpu_init = vmx_cpu_init,
	.vcpu_init = vmx_vcpu_init,
	.vcpu_free = vmx_vcpu_free,
	.vcpu_put = vmx_vcpu_put,
	.reset_pvh = vmx_reset_pvh,
	.reset_sipi = vmx_reset_sipi,
	.run = vmx_run,
	.get_reg = vmx_get_reg,
	.set_reg = vmx_set_reg,
	.skip_insn = vmx_skip_insn,
	.inject_exception = vmx_inject_exception,
	.irq_injectable = vmx_irq_injectable,
	.inject_irq = vmx_inject_irq,
	.irq_window = vmx_irq_window,
};
