/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec.c: the speculation decision table.  From the host's CPUID words and
 * IA32_ARCH_CAPABILITIES it decides what pvhv does around each VM entry,
 * exit and domain switch, and what the guest sees of the mitigation
 * interface.  Every rule below says which document or precedent it
 * follows; where only a model list would tell (Linux keeps such lists),
 * the rule errs towards mitigating.
 */
#include "lib/base.h"
#include "arch/x86/spec.h"

/* ARCH_CAPABILITIES bits that describe the CPU and mean the same to a guest. */
#define GUEST_ARCH_CAP_PASS (ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_RSBA | \
			     ARCH_CAP_SSB_NO | ARCH_CAP_MDS_NO | ARCH_CAP_PSCHANGE_MC_NO | \
			     ARCH_CAP_TAA_NO | ARCH_CAP_SBDR_SSDP_NO | ARCH_CAP_FBSDP_NO | \
			     ARCH_CAP_PSDP_NO | ARCH_CAP_FB_CLEAR | ARCH_CAP_RRSBA | \
			     ARCH_CAP_BHI_NO | ARCH_CAP_PBRSB_NO | ARCH_CAP_GDS_NO | \
			     ARCH_CAP_RFDS_NO | ARCH_CAP_RFDS_CLEAR | ARCH_CAP_ITS_NO)

static uint32_t find_bugs(const struct spec_host *h, uint64_t cap)
{
	bool intel = h->vendor == SPEC_VENDOR_INTEL, amd = h->vendor == SPEC_VENDOR_AMD;
	uint32_t b = 0;

	if (intel) {
		if (!(cap & ARCH_CAP_RDCL_NO))
			b |= SPEC_BUG_L1TF;
		if (!(cap & ARCH_CAP_MDS_NO))
			b |= SPEC_BUG_MDS;
		/* TSX can be on with CPUID cleared by TSX_CTRL: either shows it exists. */
		if (!(cap & ARCH_CAP_TAA_NO) &&
		    ((h->l7_ebx & SPEC_L7_EBX_RTM) || (cap & ARCH_CAP_TSX_CTRL)))
			b |= SPEC_BUG_TAA;
		/* Intel's RFDS guidance: RFDS_CLEAR is enumerated only where it is needed. */
		if ((cap & ARCH_CAP_RFDS_CLEAR) && !(cap & ARCH_CAP_RFDS_NO))
			b |= SPEC_BUG_RFDS;
		if ((cap & ARCH_CAP_IBRS_ALL) && !(cap & ARCH_CAP_PBRSB_NO))
			b |= SPEC_BUG_PBRSB;
		if (!(cap & ARCH_CAP_PSCHANGE_MC_NO))
			b |= SPEC_BUG_ITLB_MULTIHIT;
	}
	if (amd) {
		/* Branch type confusion: pre-Zen and Zen 1/2 (and Hygon's Zen 1). */
		if (h->family >= 0x15 && h->family <= 0x18 && !(h->x8_ebx & SPEC_X8_EBX_BTC_NO))
			b |= SPEC_BUG_RETBLEED;
		/* AMD-SB-7005: Zen 1 to Zen 4. */
		if (h->family >= 0x17 && h->family <= 0x19 && !(h->x21_eax & SPEC_X21_EAX_SRSO_NO))
			b |= SPEC_BUG_SRSO;
		/*
		 * AMD-SB-7029: Zen 3 and Zen 4.  On bare metal neither the _NO
		 * bits nor VERW_CLEAR are enumerated (Linux infers them from
		 * the family and microcode revision); a hypervisor below pvhv
		 * may set them.
		 */
		if (h->family == 0x19 && (h->x21_ecx & SPEC_GUEST_X21_ECX_BITS) != SPEC_GUEST_X21_ECX_BITS)
			b |= SPEC_BUG_TSA;
	}
	return b;
}

/*
 * What protects pvhv's own indirect branches and returns from a guest's
 * training.  pvhv is built without retpolines or return thunks, so IBRS in
 * some form is the only mitigation it has.
 */
static void host_branches(const struct spec_host *h, uint64_t cap, bool ibrs,
			  struct spec_policy *p)
{
	if (h->vendor == SPEC_VENDOR_INTEL && (cap & ARCH_CAP_IBRS_ALL)) {
		/*
		 * Enhanced IBRS: set once, it keeps guest-trained targets away
		 * from the host, RSB entries included, except for the
		 * post-barrier RSB prediction (PBRSB) of the last CALL before
		 * the exit, which one CALL defeats (Intel "Post-barrier Return
		 * Stack Buffer Predictions"; Linux: RSB_VMEXIT_LITE).
		 */
		p->host_ibrs = SPEC_IBRS_ENHANCED;
		p->rsb_after_exit = (cap & ARCH_CAP_PBRSB_NO) ? SPEC_RSB_NONE : SPEC_RSB_ONE_CALL;
	} else if (h->vendor == SPEC_VENDOR_AMD && (h->x21_eax & SPEC_X21_EAX_AUTOIBRS)) {
		/* AMD APM vol. 2, "Automatic IBRS": CPL0 protected, RAS cleared on VMEXIT. */
		p->host_ibrs = SPEC_IBRS_AUTO;
		p->rsb_after_exit = SPEC_RSB_NONE;
	} else {
		/*
		 * Everything else fills the RSB after every exit: a guest can
		 * leave its own return targets there, and pvhv's first RETs
		 * after the exit would speculate to them (SpectreRSB; Linux's
		 * KVM fills on every VMEXIT unless eIBRS/AutoIBRS covers it).
		 * Legacy IBRS only restrains predictions made before it was
		 * last written, so it is rewritten after every exit, as Linux
		 * does in its "IBRS" mode for Skylake-class retbleed.
		 */
		p->host_ibrs = ibrs ? SPEC_IBRS_LEGACY : SPEC_IBRS_NONE;
		p->rsb_after_exit = SPEC_RSB_FILL;
	}
	p->host_spec_ctrl = (p->host_ibrs == SPEC_IBRS_ENHANCED ||
			     p->host_ibrs == SPEC_IBRS_LEGACY) ? SPEC_CTRL_IBRS : 0;
	if (!p->has_spec_ctrl)
		p->spec_ctrl_exit = SPEC_CTRL_EXIT_NONE;
	else if (p->host_ibrs == SPEC_IBRS_LEGACY)
		p->spec_ctrl_exit = SPEC_CTRL_EXIT_ALWAYS;
	else
		p->spec_ctrl_exit = SPEC_CTRL_EXIT_IF_DIFFERENT;
}

/* Buffers a guest could sample after pvhv or another domain ran: L1D and VERW. */
static void entry_flushes(const struct spec_host *h, uint64_t cap, struct spec_policy *p)
{
	uint32_t b = p->bugs;
	bool md_clear = h->l7_edx & SPEC_L7_EDX_MD_CLEAR;
	bool buffers;

	/*
	 * L1TF: a guest's not-present PTE names a host physical address that
	 * the L1D can serve speculatively, so the L1D is flushed before every
	 * entry unless the CPU says a VMM need not (SKIP_L1DFL_VMENTRY, which
	 * a hypervisor below pvhv sets when it flushes itself).  Without the
	 * FLUSH_CMD microcode, reading 64 KiB is Intel's software fallback
	 * ("Deep Dive: Intel Analysis of L1 Terminal Fault").
	 */
	p->l1d_on_entry = SPEC_L1D_NONE;
	if ((b & SPEC_BUG_L1TF) && !(cap & ARCH_CAP_SKIP_L1DFL_VMENTRY))
		p->l1d_on_entry = p->has_flush_cmd ? SPEC_L1D_MSR : SPEC_L1D_SOFTWARE;

	/*
	 * TSX: where TSX_CTRL exists, turning RTM off ends TAA outright (and
	 * pvhv never shows RTM to guests, which could still execute it).
	 */
	p->tsx_disable = (b & SPEC_BUG_TAA) && (cap & ARCH_CAP_TSX_CTRL);

	/*
	 * MDS and TAA: VERW clears the buffers, but only with MD_CLEAR
	 * microcode.  FLUSH_CMD's L1D flush does the same clearing on CPUs
	 * that enumerate MD_CLEAR (Intel's MDS guidance), so VERW is skipped
	 * then, as Linux's vmx_l1d_flush() path does.  RFDS needs VERW in
	 * any case.  MMIO stale data needs a guest with device MMIO of its
	 * own, which pvhv never gives (Linux's KVM also clears only for
	 * guests with assigned devices).
	 */
	buffers = (b & SPEC_BUG_MDS) || ((b & SPEC_BUG_TAA) && !p->tsx_disable);
	p->verw_on_entry = false;
	if (buffers && md_clear && p->l1d_on_entry != SPEC_L1D_MSR)
		p->verw_on_entry = true;
	if (buffers && !md_clear)
		p->unmitigated |= b & (SPEC_BUG_MDS | SPEC_BUG_TAA);
	if (b & SPEC_BUG_RFDS)
		p->verw_on_entry = true;
	/*
	 * TSA: AMD recommends VERW before VMRUN.  It only clears with the
	 * July 2025 microcode, which bare metal does not enumerate; without
	 * it VERW just checks a selector, so pvhv always does it.
	 */
	if (b & SPEC_BUG_TSA)
		p->verw_on_entry = true;

	p->smt_risk = (b & (SPEC_BUG_L1TF | SPEC_BUG_MDS | SPEC_BUG_RFDS)) ||
		      ((b & SPEC_BUG_TAA) && !p->tsx_disable);
}

/*
 * AMD's retbleed and SRSO let a guest steer pvhv's returns through the
 * BTB.  Linux answers with return thunks, or IBPB on every VMEXIT for
 * hypervisors ("spec_rstack_overflow=ibpb-vmexit"); pvhv has no thunks.
 * IBPB helps only if it flushes return-typed predictions: Zen 1/2 IBPB
 * does, Zen 3/4 only with the IBPB_BRTYPE microcode.
 */
static void return_predictions(const struct spec_host *h, struct spec_policy *p)
{
	uint32_t ret_bugs = p->bugs & (SPEC_BUG_RETBLEED | SPEC_BUG_SRSO);
	bool brtype = h->family <= 0x18 || (h->x21_eax & SPEC_X21_EAX_IBPB_BRTYPE);

	p->ibpb_on_exit = ret_bugs && p->has_ibpb && brtype;
	if (ret_bugs && !p->ibpb_on_exit)
		p->unmitigated |= ret_bugs;
	/* Linux's X86_BUG_IBPB_NO_RET: refill the RSB after such an IBPB. */
	p->rsb_fill_after_ibpb = p->has_ibpb && h->vendor == SPEC_VENDOR_AMD &&
				 !(h->x8_ebx & SPEC_X8_EBX_IBPB_RET);
}

static void guest_view(const struct spec_host *h, uint64_t cap, bool ibrs, bool stibp,
		       struct spec_policy *p)
{
	/*
	 * SPEC_CTRL: the guest runs with its own value (its IBRS, STIBP and
	 * SSBD take effect while it runs); pvhv restores host_spec_ctrl.
	 */
	p->guest_spec_ctrl_mask = (ibrs ? SPEC_CTRL_IBRS : 0) | (stibp ? SPEC_CTRL_STIBP : 0) |
				  (p->ssbd == SPEC_SSBD_SPEC_CTRL ? SPEC_CTRL_SSBD : 0);
	p->guest_pred_cmd_mask = p->has_ibpb ? PRED_CMD_IBPB : 0;
	if (p->has_ibpb && (h->x21_eax & SPEC_X21_EAX_SBPB))
		p->guest_pred_cmd_mask |= PRED_CMD_SBPB;
	/*
	 * FLUSH_CMD is shown where it exists: Linux wants FLUSH_L1D next to
	 * MD_CLEAR before it calls its MMIO stale data mitigation complete.
	 */
	p->guest_flush_cmd_mask = p->has_flush_cmd ? FLUSH_CMD_L1D : 0;
	p->guest_virt_spec_ctrl = p->ssbd == SPEC_SSBD_VIRT;

	/*
	 * CPUID: every bit shown names an MSR bit pvhv honours above, or
	 * describes the CPU (hints, _NO bits) and so stays true in a guest.
	 */
	p->guest_arch_cap_msr = h->vendor == SPEC_VENDOR_INTEL;
	p->guest_l7_edx = h->l7_edx & (SPEC_L7_EDX_MD_CLEAR | SPEC_L7_EDX_IBRS_IBPB |
				       SPEC_L7_EDX_STIBP | SPEC_L7_EDX_FLUSH_L1D | SPEC_L7_EDX_SSBD);
	if (p->guest_arch_cap_msr)
		p->guest_l7_edx |= SPEC_L7_EDX_ARCH_CAP;
	p->guest_x8_ebx = h->x8_ebx & SPEC_GUEST_X8_EBX_BITS & ~SPEC_X8_EBX_VIRT_SSBD;
	if (p->guest_virt_spec_ctrl)
		p->guest_x8_ebx |= SPEC_X8_EBX_VIRT_SSBD;
	p->guest_x21_eax = h->x21_eax & SPEC_GUEST_X21_EAX_BITS;
	p->guest_x21_ecx = h->x21_ecx & SPEC_GUEST_X21_ECX_BITS;
	/* Linux assumes a Zen guest is open to TSA unless the hypervisor says otherwise. */
	if (h->vendor == SPEC_VENDOR_AMD && !(p->bugs & SPEC_BUG_TSA))
		p->guest_x21_ecx = SPEC_GUEST_X21_ECX_BITS;

	/*
	 * IA32_ARCH_CAPABILITIES: the _NO bits and the bits that describe
	 * what VERW or IBRS do pass through; the host's controls (TSX_CTRL,
	 * MCU and FB_CLEAR controls, GDS_CTRL, ...) name MSRs a guest does
	 * not get and are dropped.  SKIP_L1DFL_VMENTRY is always set, as
	 * KVM does: pvhv flushes before entry itself where that is needed,
	 * and guests have no VMX of their own.  ITS_NO is a hypervisor's to
	 * set: CPUs with BHI_CTRL are not affected (Intel's ITS guidance;
	 * Linux's vulnerable_to_its()), and a guest without it assumes the worst.
	 */
	p->guest_arch_cap = 0;
	if (p->guest_arch_cap_msr) {
		p->guest_arch_cap = (cap & GUEST_ARCH_CAP_PASS) | ARCH_CAP_SKIP_L1DFL_VMENTRY;
		if (h->l7_2_edx & SPEC_L7_2_EDX_BHI_CTRL)
			p->guest_arch_cap |= ARCH_CAP_ITS_NO;
	}
}

void spec_decide(const struct spec_host *h, struct spec_policy *p)
{
	uint64_t cap = (h->l7_edx & SPEC_L7_EDX_ARCH_CAP) ? h->arch_cap : 0;
	bool ibrs = (h->l7_edx & SPEC_L7_EDX_IBRS_IBPB) || (h->x8_ebx & SPEC_X8_EBX_IBRS);
	bool stibp = (h->l7_edx & SPEC_L7_EDX_STIBP) || (h->x8_ebx & SPEC_X8_EBX_STIBP);
	bool ssbd = (h->l7_edx & SPEC_L7_EDX_SSBD) || (h->x8_ebx & SPEC_X8_EBX_SSBD);

	memset(p, 0, sizeof(*p));
	p->bugs = find_bugs(h, cap);
	p->has_spec_ctrl = ibrs || stibp || ssbd;
	p->has_ibpb = (h->l7_edx & SPEC_L7_EDX_IBRS_IBPB) || (h->x8_ebx & SPEC_X8_EBX_IBPB);
	p->has_flush_cmd = h->l7_edx & SPEC_L7_EDX_FLUSH_L1D;
	p->fp_ptr_scrub = h->vendor == SPEC_VENDOR_AMD && !(h->x8_ebx & SPEC_X8_EBX_RSTR_FP_ERR_PTRS);

	/*
	 * Domains do not trust each other, vCPUs of one domain do: IBPB on a
	 * switch between domains, as Linux's KVM does between VMs.
	 */
	p->ibpb_on_switch = p->has_ibpb;
	host_branches(h, cap, ibrs, p);
	entry_flushes(h, cap, p);
	return_predictions(h, p);

	if (ssbd)
		p->ssbd = SPEC_SSBD_SPEC_CTRL;
	else if (h->vendor == SPEC_VENDOR_AMD && (h->x8_ebx & SPEC_X8_EBX_VIRT_SSBD))
		p->ssbd = SPEC_SSBD_VIRT;
	else
		p->ssbd = SPEC_SSBD_NONE;
	guest_view(h, cap, ibrs, stibp, p);
}

static const char *const bug_names[SPEC_BUG_COUNT] = {
	"l1tf", "mds", "taa", "rfds", "pbrsb", "retbleed", "srso", "tsa", "itlb_multihit",
};

/* Appends "name,name" for the bits of mask; "none" when there are none. */
static size_t put_bugs(char *buf, size_t len, uint32_t mask)
{
	size_t n = 0;
	int r;

	if (!mask)
		return (size_t)snprintf(buf, len, "none");
	for (unsigned i = 0; i < SPEC_BUG_COUNT; i++) {
		if (!(mask & (1u << i)))
			continue;
		r = snprintf(buf + MIN(n, len), len - MIN(n, len), "%s%s", n ? "," : "",
			     bug_names[i]);
		n += (size_t)r;
	}
	return n;
}

int spec_format(const struct spec_policy *p, char *buf, size_t len)
{
	static const char *const rsb[] = { "no", "one-call", "fill" };
	static const char *const l1d[] = { "no", "msr", "software" };
	static const char *const ssbd[] = { "none", "spec_ctrl", "virt_spec_ctrl" };
	static const char *const ibrs[] = { "none", "legacy", "enhanced", "auto" };
	static const char *const ctrl[] = { "none", "if-different", "always" };
	size_t n;

	n = (size_t)snprintf(buf, len,
			     "ibpb=%s%s rsb=%s%s verw=%s l1d=%s tsx=%s ibrs=%s spec_ctrl=%s "
			     "ssbd=%s smt=%s bugs=",
			     p->ibpb_on_switch ? "switch" : "no", p->ibpb_on_exit ? "+exit" : "",
			     rsb[p->rsb_after_exit], p->rsb_fill_after_ibpb ? "+ibpb" : "",
			     p->verw_on_entry ? "entry" : "no", l1d[p->l1d_on_entry],
			     p->tsx_disable ? "off" : "as-is", ibrs[p->host_ibrs],
			     ctrl[p->spec_ctrl_exit], ssbd[p->ssbd], p->smt_risk ? "risk" : "ok");
	n += put_bugs(buf + MIN(n, len), len - MIN(n, len), p->bugs);
	if (p->unmitigated) {
		n += (size_t)snprintf(buf + MIN(n, len), len - MIN(n, len), " open=");
		n += put_bugs(buf + MIN(n, len), len - MIN(n, len), p->unmitigated);
	}
	return (int)n;
}

int spec_format_host(const struct spec_host *h, char *buf, size_t len)
{
	static const char *const vendor[] = { "other", "intel", "amd" };

	return snprintf(buf, len,
			"%s %x/%x/%x 7.0 ebx=%08x edx=%08x 7.2 edx=%08x 80000008 ebx=%08x "
			"80000021 eax=%08x ecx=%08x arch_cap=%llx",
			vendor[h->vendor], h->family, h->model, h->stepping, h->l7_ebx, h->l7_edx,
			h->l7_2_edx, h->x8_ebx, h->x21_eax, h->x21_ecx,
			(unsigned long long)h->arch_cap);
}

/* Display family and model, as the SDM (CPUID leaf 1) and APM define them. */
static void signature(uint32_t eax, enum spec_vendor v, struct spec_host *h)
{
	uint32_t base_family = (eax >> 8) & 0xf;

	h->family = base_family;
	if (base_family == 0xf)
		h->family += (eax >> 20) & 0xff;
	h->model = (eax >> 4) & 0xf;
	if (base_family == 0xf || (base_family == 6 && v != SPEC_VENDOR_AMD))
		h->model |= ((eax >> 16) & 0xf) << 4;
	h->stepping = eax & 0xf;
}

void spec_read_host(struct spec_host *h, spec_cpuid_fn cpuid, spec_rdmsr_fn rdmsr)
{
	uint32_t r[4], max, max_ext, max_sub7;

	memset(h, 0, sizeof(*h));
	cpuid(0, 0, r);
	max = r[0];
	/* Vendor string in EBX, EDX, ECX. */
	if (r[1] == 0x756e6547 && r[3] == 0x49656e69 && r[2] == 0x6c65746e)
		h->vendor = SPEC_VENDOR_INTEL; /* "GenuineIntel" */
	else if ((r[1] == 0x68747541 && r[3] == 0x69746e65 && r[2] == 0x444d4163) ||
		 (r[1] == 0x6f677948 && r[3] == 0x6e65476e && r[2] == 0x656e6975))
		h->vendor = SPEC_VENDOR_AMD; /* "AuthenticAMD", "HygonGenuine" */
	if (max >= 1) {
		cpuid(1, 0, r);
		signature(r[0], h->vendor, h);
	}
	if (max >= 7) {
		cpuid(7, 0, r);
		max_sub7 = r[0];
		h->l7_ebx = r[1];
		h->l7_edx = r[3];
		if (max_sub7 >= 2) {
			cpuid(7, 2, r);
			h->l7_2_edx = r[3];
		}
	}
	cpuid(0x80000000u, 0, r);
	max_ext = r[0];
	if (max_ext >= 0x80000008u && max_ext < 0x8000ffffu) {
		cpuid(0x80000008u, 0, r);
		h->x8_ebx = r[1];
	}
	if (max_ext >= 0x80000021u && max_ext < 0x8000ffffu) {
		cpuid(0x80000021u, 0, r);
		h->x21_eax = r[0];
		h->x21_ecx = r[2];
	}
	if ((h->l7_edx & SPEC_L7_EDX_ARCH_CAP) && rdmsr(MSR_IA32_ARCH_CAPABILITIES, &h->arch_cap)) {
		h->arch_cap = 0;
		h->l7_edx &= ~SPEC_L7_EDX_ARCH_CAP;
	}
}
