/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec.h: which speculative-execution mitigations the host CPU needs, and
 * what a guest may see of them, decided from CPUID and
 * IA32_ARCH_CAPABILITIES alone.  Pure: spec.c includes only lib/base.h, so
 * the decision table is unit-tested on recorded values of real CPUs.  The
 * instructions that carry the decisions out are in spec_hw.h.
 *
 * Bit positions: Intel's "CPUID Enumeration and Architectural MSRs"
 * (speculative-execution guidance) and SDM vol. 4; AMD's "Indirect Branch
 * Control Extension" white paper and APM vol. 3, CPUID Fn8000_0008 and
 * Fn8000_0021; names follow Linux's msr-index.h and cpufeatures.h.
 */
#ifndef PVHV_ARCH_X86_SPEC_H
#define PVHV_ARCH_X86_SPEC_H

#include "lib/base.h"

/* CPUID.(EAX=7,ECX=0):EBX */
#define SPEC_L7_EBX_RTM (1u << 11)
/* CPUID.(EAX=7,ECX=0):EDX */
#define SPEC_L7_EDX_MD_CLEAR (1u << 10)     /* VERW (memory form) clears CPU buffers */
#define SPEC_L7_EDX_IBRS_IBPB (1u << 26)    /* SPEC_CTRL.IBRS and PRED_CMD.IBPB */
#define SPEC_L7_EDX_STIBP (1u << 27)        /* SPEC_CTRL.STIBP */
#define SPEC_L7_EDX_FLUSH_L1D (1u << 28)    /* IA32_FLUSH_CMD */
#define SPEC_L7_EDX_ARCH_CAP (1u << 29)     /* IA32_ARCH_CAPABILITIES */
#define SPEC_L7_EDX_SSBD (1u << 31)         /* SPEC_CTRL.SSBD */
/* CPUID.(EAX=7,ECX=2):EDX */
#define SPEC_L7_2_EDX_BHI_CTRL (1u << 4)
/* CPUID.80000008h:EBX (AMD) */
#define SPEC_X8_EBX_IBPB (1u << 12)
#define SPEC_X8_EBX_IBRS (1u << 14)
#define SPEC_X8_EBX_STIBP (1u << 15)
#define SPEC_X8_EBX_IBRS_ALWAYS_ON (1u << 16)
#define SPEC_X8_EBX_STIBP_ALWAYS_ON (1u << 17)
#define SPEC_X8_EBX_IBRS_PREFERRED (1u << 18)
#define SPEC_X8_EBX_IBRS_SAME_MODE (1u << 19)
#define SPEC_X8_EBX_SSBD (1u << 24)         /* SPEC_CTRL.SSBD */
#define SPEC_X8_EBX_RSTR_FP_ERR_PTRS (1u << 2) /* FXSAVE/XSAVE always save the x87 error pointers */
#define SPEC_X8_EBX_VIRT_SSBD (1u << 25)    /* VIRT_SPEC_CTRL (MSR C001_011Fh).SSBD */
#define SPEC_X8_EBX_SSB_NO (1u << 26)
#define SPEC_X8_EBX_BTC_NO (1u << 29)       /* no branch type confusion (retbleed) */
#define SPEC_X8_EBX_IBPB_RET (1u << 30)     /* IBPB also clears return predictions */
/* CPUID.80000021h:EAX and ECX (AMD) */
#define SPEC_X21_EAX_LFENCE_RDTSC (1u << 2) /* LFENCE is always serializing */
#define SPEC_X21_EAX_VERW_CLEAR (1u << 5)   /* VERW (memory form) mitigates TSA */
#define SPEC_X21_EAX_AUTOIBRS (1u << 8)     /* EFER.AIBRSE */
#define SPEC_X21_EAX_SBPB (1u << 27)        /* PRED_CMD.SBPB */
#define SPEC_X21_EAX_IBPB_BRTYPE (1u << 28) /* IBPB flushes all branch types */
#define SPEC_X21_EAX_SRSO_NO (1u << 29)
#define SPEC_X21_ECX_TSA_SQ_NO (1u << 1)
#define SPEC_X21_ECX_TSA_L1_NO (1u << 2)

/* The bits of each CPUID word this module decides for the guest. */
#define SPEC_GUEST_L7_EDX_BITS (SPEC_L7_EDX_MD_CLEAR | SPEC_L7_EDX_IBRS_IBPB | \
				SPEC_L7_EDX_STIBP | SPEC_L7_EDX_FLUSH_L1D | \
				SPEC_L7_EDX_ARCH_CAP | SPEC_L7_EDX_SSBD)
#define SPEC_GUEST_X8_EBX_BITS (SPEC_X8_EBX_IBPB | SPEC_X8_EBX_IBRS | SPEC_X8_EBX_STIBP | \
				SPEC_X8_EBX_IBRS_ALWAYS_ON | SPEC_X8_EBX_STIBP_ALWAYS_ON | \
				SPEC_X8_EBX_IBRS_PREFERRED | SPEC_X8_EBX_IBRS_SAME_MODE | \
				SPEC_X8_EBX_SSBD | SPEC_X8_EBX_VIRT_SSBD | SPEC_X8_EBX_SSB_NO | \
				SPEC_X8_EBX_BTC_NO | SPEC_X8_EBX_IBPB_RET)
#define SPEC_GUEST_X21_EAX_BITS (SPEC_X21_EAX_LFENCE_RDTSC | SPEC_X21_EAX_VERW_CLEAR | \
				 SPEC_X21_EAX_SBPB | SPEC_X21_EAX_IBPB_BRTYPE | \
				 SPEC_X21_EAX_SRSO_NO)
#define SPEC_GUEST_X21_ECX_BITS (SPEC_X21_ECX_TSA_SQ_NO | SPEC_X21_ECX_TSA_L1_NO)

#define MSR_IA32_SPEC_CTRL 0x48
#define MSR_IA32_PRED_CMD 0x49
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define MSR_IA32_FLUSH_CMD 0x10b
#define MSR_IA32_TSX_CTRL 0x122
#define MSR_AMD_VIRT_SPEC_CTRL 0xc001011f

#define SPEC_CTRL_IBRS (1ULL << 0)
#define SPEC_CTRL_STIBP (1ULL << 1)
#define SPEC_CTRL_SSBD (1ULL << 2)
#define PRED_CMD_IBPB (1ULL << 0)
#define PRED_CMD_SBPB (1ULL << 7)
#define FLUSH_CMD_L1D (1ULL << 0)
#define TSX_CTRL_RTM_DISABLE (1ULL << 0)
#define TSX_CTRL_CPUID_CLEAR (1ULL << 1)
#define X86_EFER_AIBRSE (1ULL << 21)

/* IA32_ARCH_CAPABILITIES */
#define ARCH_CAP_RDCL_NO (1ULL << 0)
#define ARCH_CAP_IBRS_ALL (1ULL << 1)
#define ARCH_CAP_RSBA (1ULL << 2)
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ULL << 3)
#define ARCH_CAP_SSB_NO (1ULL << 4)
#define ARCH_CAP_MDS_NO (1ULL << 5)
#define ARCH_CAP_PSCHANGE_MC_NO (1ULL << 6)
#define ARCH_CAP_TSX_CTRL (1ULL << 7)
#define ARCH_CAP_TAA_NO (1ULL << 8)
#define ARCH_CAP_MCU_CONTROL (1ULL << 9)
#define ARCH_CAP_SBDR_SSDP_NO (1ULL << 13)
#define ARCH_CAP_FBSDP_NO (1ULL << 14)
#define ARCH_CAP_PSDP_NO (1ULL << 15)
#define ARCH_CAP_FB_CLEAR (1ULL << 17)
#define ARCH_CAP_FB_CLEAR_CTRL (1ULL << 18)
#define ARCH_CAP_RRSBA (1ULL << 19)
#define ARCH_CAP_BHI_NO (1ULL << 20)
#define ARCH_CAP_PBRSB_NO (1ULL << 24)
#define ARCH_CAP_GDS_CTRL (1ULL << 25)
#define ARCH_CAP_GDS_NO (1ULL << 26)
#define ARCH_CAP_RFDS_NO (1ULL << 27)
#define ARCH_CAP_RFDS_CLEAR (1ULL << 28)
#define ARCH_CAP_ITS_NO (1ULL << 62)        /* set only by hypervisors, for guests */

enum spec_vendor { SPEC_VENDOR_OTHER, SPEC_VENDOR_INTEL, SPEC_VENDOR_AMD };

/* What spec_decide() reads: raw host values, nothing interpreted yet. */
struct spec_host {
	enum spec_vendor vendor;     /* Hygon counts as AMD */
	uint32_t family, model, stepping; /* display values, as /proc/cpuinfo shows */
	uint32_t l7_ebx, l7_edx;     /* CPUID.(7,0), 0 if leaf 7 is absent */
	uint32_t l7_2_edx;           /* CPUID.(7,2).EDX, 0 if absent */
	uint32_t x8_ebx;             /* CPUID.80000008h.EBX, 0 if absent */
	uint32_t x21_eax, x21_ecx;   /* CPUID.80000021h, 0 if absent */
	uint64_t arch_cap;           /* ignored unless l7_edx has SPEC_L7_EDX_ARCH_CAP */
};

/* Flaws the host CPU has that a guest could use against pvhv or another guest. */
#define SPEC_BUG_L1TF (1u << 0)   /* Intel, no RDCL_NO */
#define SPEC_BUG_MDS (1u << 1)    /* Intel, no MDS_NO */
#define SPEC_BUG_TAA (1u << 2)    /* Intel TSX without TAA_NO */
#define SPEC_BUG_RFDS (1u << 3)   /* Intel Atom register file (RFDS_CLEAR, no RFDS_NO) */
#define SPEC_BUG_PBRSB (1u << 4)  /* Intel eIBRS without PBRSB_NO */
#define SPEC_BUG_RETBLEED (1u << 5) /* AMD families 15h-18h without BTC_NO */
#define SPEC_BUG_SRSO (1u << 6)   /* AMD families 17h-19h without SRSO_NO */
#define SPEC_BUG_TSA (1u << 7)    /* AMD family 19h without TSA_SQ_NO and TSA_L1_NO */
#define SPEC_BUG_ITLB_MULTIHIT (1u << 8) /* Intel, no PSCHANGE_MC_NO: info for stage-2 */
#define SPEC_BUG_COUNT 9

enum spec_rsb {
	SPEC_RSB_NONE,     /* eIBRS with PBRSB_NO, or AMD AutoIBRS (clears the RAS on VMEXIT) */
	SPEC_RSB_ONE_CALL, /* eIBRS with PBRSB: one CALL before the first RET after an exit */
	SPEC_RSB_FILL,     /* overwrite all 32 entries after every exit */
};
enum spec_l1d { SPEC_L1D_NONE, SPEC_L1D_MSR, SPEC_L1D_SOFTWARE };
enum spec_ssbd { SPEC_SSBD_NONE, SPEC_SSBD_SPEC_CTRL, SPEC_SSBD_VIRT };
enum spec_host_ibrs {
	SPEC_IBRS_NONE,     /* nothing protects pvhv from guest-trained indirect branches */
	SPEC_IBRS_LEGACY,   /* SPEC_CTRL.IBRS, rewritten after every exit */
	SPEC_IBRS_ENHANCED, /* Intel eIBRS: SPEC_CTRL.IBRS set once */
	SPEC_IBRS_AUTO,     /* AMD Automatic IBRS: EFER.AIBRSE */
};
enum spec_ctrl_exit {
	SPEC_CTRL_EXIT_NONE,         /* no SPEC_CTRL MSR */
	SPEC_CTRL_EXIT_IF_DIFFERENT, /* write host_spec_ctrl only if the guest's value differs */
	SPEC_CTRL_EXIT_ALWAYS,       /* write host_spec_ctrl after every exit (legacy IBRS) */
};

/* What spec_decide() writes: what pvhv does, and what a guest is shown. */
struct spec_policy {
	uint32_t bugs;        /* SPEC_BUG_* */
	uint32_t unmitigated; /* SPEC_BUG_* that this CPU's microcode leaves open */
	bool has_spec_ctrl;   /* MSR 48h exists */
	bool has_ibpb;        /* MSR 49h bit 0 exists */
	bool has_flush_cmd;   /* MSR 10Bh exists */

	/* Host side: what the backends and the scheduler do. */
	bool ibpb_on_switch;      /* IBPB when a host CPU runs a vCPU of a different domain */
	bool ibpb_on_exit;        /* IBPB after every exit (AMD retbleed/SRSO, no return thunks) */
	bool rsb_fill_after_ibpb; /* IBPB leaves return predictions (AMD without IBPB_RET) */
	enum spec_rsb rsb_after_exit;
	bool verw_on_entry;       /* VERW as late as possible before VMRUN/VMRESUME */
	enum spec_l1d l1d_on_entry;
	bool tsx_disable;         /* every CPU: TSX_CTRL = RTM_DISABLE | CPUID_CLEAR */
	enum spec_host_ibrs host_ibrs;
	uint64_t host_spec_ctrl;  /* the SPEC_CTRL value pvhv itself runs with */
	enum spec_ctrl_exit spec_ctrl_exit;
	enum spec_ssbd ssbd;      /* how a guest's SSBD request reaches the hardware */
	bool smt_risk;            /* sibling threads can leak across domains anyway */
	/*
	 * AMD without RstrFpErrPtrs keeps the x87 FIP/FDP/FOP of the last
	 * tenant across an FXRSTOR/XRSTOR without a pending x87 exception:
	 * scrub them (a FILD) when a host CPU changes tenant.
	 */
	bool fp_ptr_scrub;

	/* Guest side: MSR writes outside a mask get #GP; a mask of 0 means the MSR is absent. */
	uint64_t guest_spec_ctrl_mask;
	uint64_t guest_pred_cmd_mask;
	uint64_t guest_flush_cmd_mask;
	bool guest_virt_spec_ctrl; /* MSR C001_011Fh with bit 2 (SSBD) only */
	bool guest_arch_cap_msr;   /* MSR 10Ah reads guest_arch_cap */
	uint64_t guest_arch_cap;
	/*
	 * CPUID: in each word, the bits of SPEC_GUEST_*_BITS are replaced by
	 * these (guest = (allowed & ~SPEC_GUEST_x_BITS) | guest_x); leaf
	 * 80000021h only matters once the guest's maximum extended leaf reaches it.
	 */
	uint32_t guest_l7_edx;
	uint32_t guest_x8_ebx;
	uint32_t guest_x21_eax, guest_x21_ecx;
};

/*
 * Fills *p from *h.  Never fails: unknown vendors and missing leaves get
 * the conservative answer (flush/fill where a mechanism exists).
 */
void spec_decide(const struct spec_host *h, struct spec_policy *p);

/*
 * One line for the boot log, without the "pvhv: spec: " prefix or a
 * newline.  Returns what snprintf() returns.
 */
int spec_format(const struct spec_policy *p, char *buf, size_t len);
/* The raw inputs in one line, so a report names the CPU it came from. */
int spec_format_host(const struct spec_host *h, char *buf, size_t len);

/*
 * Reads *h through the callbacks: CPUID leaf/subleaf into r[EAX..EDX],
 * and RDMSR returning 0 or a negative errno.  MSR 10Ah is read only when
 * CPUID enumerates it; if that read fails, the enumeration is dropped.
 */
typedef void (*spec_cpuid_fn)(uint32_t leaf, uint32_t sub, uint32_t r[4]);
typedef int (*spec_rdmsr_fn)(uint32_t msr, uint64_t *v);
void spec_read_host(struct spec_host *h, spec_cpuid_fn cpuid, spec_rdmsr_fn rdmsr);

#endif
