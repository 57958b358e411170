/* SPDX-License-Identifier: Apache-2.0 */
/* spec_test.c: the speculation decision table of arch/x86/spec.c on recorded CPUs. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "arch/x86/spec.h"

/*
 * The CPUs.  Raw whole words where a dump was at hand (QEMU's two TCG
 * models, recorded by booting pvhv under QEMU 7.2 with spec_init()'s host
 * line; a Ryzen 5 5600G from a published cpuid_dump run).  Elsewhere each
 * word holds the bits spec.c reads, as that CPU and microcode enumerate
 * them (Linux /proc/cpuinfo flags and Intel's affected-processor tables
 * for the CPUID bits; Intel's guidance per bit for ARCH_CAPABILITIES);
 * the word's other feature bits decide nothing here and are left 0.
 */
#define L7_SPEC_ALL (SPEC_L7_EDX_MD_CLEAR | SPEC_L7_EDX_IBRS_IBPB | SPEC_L7_EDX_STIBP | \
		     SPEC_L7_EDX_FLUSH_L1D | SPEC_L7_EDX_ARCH_CAP | SPEC_L7_EDX_SSBD)

/* Core i7-4770 (06_3CH), 2018 microcode: IBRS/IBPB, STIBP, L1D_FLUSH, SSBD;
 * no MD_CLEAR, no ARCH_CAPABILITIES; TSX off since the HSW136 microcode. */
static const struct spec_host haswell = {
	.vendor = SPEC_VENDOR_INTEL, .family = 6, .model = 0x3c, .stepping = 3,
	.l7_ebx = 0x000027ab,
	.l7_edx = SPEC_L7_EDX_IBRS_IBPB | SPEC_L7_EDX_STIBP | SPEC_L7_EDX_FLUSH_L1D |
		  SPEC_L7_EDX_SSBD,
};

/* Xeon Gold 6148 (06_55H stepping 4), May 2019 microcode: MD_CLEAR, TSX on,
 * no ARCH_CAPABILITIES. */
static const struct spec_host skylake_sp = {
	.vendor = SPEC_VENDOR_INTEL, .family = 6, .model = 0x55, .stepping = 4,
	.l7_ebx = SPEC_L7_EBX_RTM,
	.l7_edx = L7_SPEC_ALL & ~SPEC_L7_EDX_ARCH_CAP,
};

/* The same Skylake-SP as a KVM guest sees it: KVM adds ARCH_CAPABILITIES with
 * SKIP_L1DFL_VMENTRY (it flushes itself) and PSCHANGE_MC_NO. */
static const struct spec_host skylake_sp_kvm = {
	.vendor = SPEC_VENDOR_INTEL, .family = 6, .model = 0x55, .stepping = 4,
	.l7_ebx = SPEC_L7_EBX_RTM,
	.l7_edx = L7_SPEC_ALL,
	.arch_cap = ARCH_CAP_SKIP_L1DFL_VMENTRY | ARCH_CAP_PSCHANGE_MC_NO,
};

/* Xeon Gold 6248 (06_55H stepping 7), 2023 microcode: MDS_NO but TSX on and
 * TAA_NO clear, TSX_CTRL, FB_CLEAR (MMIO stale data), GDS_CTRL. */
static const struct spec_host cascade_lake = {
	.vendor = SPEC_VENDOR_INTEL, .family = 6, .model = 0x55, .stepping = 7,
	.l7_ebx = SPEC_L7_EBX_RTM,
	.l7_edx = L7_SPEC_ALL,
	.arch_cap = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY |
		    ARCH_CAP_MDS_NO | ARCH_CAP_TSX_CTRL | ARCH_CAP_FB_CLEAR | ARCH_CAP_GDS_CTRL,
};

/* The same Cascade Lake on its May 2019 microcode: no TSX_CTRL yet. */
static const struct spec_host cascade_lake_2019 = {
	.vendor = SPEC_VENDOR_INTEL, .family = 6, .model = 0x55, .stepping = 7,
	.l7_ebx = SPEC_L7_EBX_RTM,
	.l7_edx = L7_SPEC_ALL,
	.arch_cap = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY |
		    ARCH_CAP_MDS_NO,
};

/* Xeon Platinum 8380 (06_6AH): TAA_NO and PSCHANGE_MC_NO, still MMIO stale
 * data (FB_CLEAR) and GDS (GDS_CTRL) affected. */
static const struct spec_host ice_lake_sp = {
	.vendor = SPEC_VENDOR_INTEL, .family = 6, .model = 0x6a, .stepping = 6,
	.l7_ebx = SPEC_L7_EBX_RTM,
	.l7_edx = L7_SPEC_ALL,
	.arch_cap = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY |
		    ARCH_CAP_MDS_NO | ARCH_CAP_PSCHANGE_MC_NO | ARCH_CAP_TAA_NO |
		    ARCH_CAP_FB_CLEAR | ARCH_CAP_GDS_CTRL,
};

/* Xeon Platinum 8480+ (06_8FH): MMIO _NO bits, GDS_NO, RRSBA; 7.2 EDX has
 * PSFD, IPRED_CTRL, RRSBA_CTRL and BHI_CTRL. */
static const struct spec_host sapphire_rapids = {
	.vendor = SPEC_VENDOR_INTEL, .family = 6, .model = 0x8f, .stepping = 8,
	.l7_ebx = SPEC_L7_EBX_RTM,
	.l7_edx = L7_SPEC_ALL,
	.l7_2_edx = 0x17,
	.arch_cap = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY |
		    ARCH_CAP_MDS_NO | ARCH_CAP_PSCHANGE_MC_NO | ARCH_CAP_TAA_NO |
		    ARCH_CAP_SBDR_SSDP_NO | ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO |
		    ARCH_CAP_RRSBA | ARCH_CAP_GDS_NO,
};

/* EPYC 7702 (Rome, family 17h model 31h): IBPB, IBRS, STIBP, SSBD; no
 * BTC_NO, no IBPB_RET, no leaf 80000021h. */
static const struct spec_host zen2 = {
	.vendor = SPEC_VENDOR_AMD, .family = 0x17, .model = 0x31, .stepping = 0,
	.x8_ebx = SPEC_X8_EBX_IBPB | SPEC_X8_EBX_IBRS | SPEC_X8_EBX_STIBP | SPEC_X8_EBX_SSBD,
};

/* Ryzen 5 5600G (Cezanne, family 19h model 50h), raw words; microcode
 * before the SRSO fix (80000021h.EAX has no IBPB_BRTYPE). */
static const struct spec_host zen3 = {
	.vendor = SPEC_VENDOR_AMD, .family = 0x19, .model = 0x50, .stepping = 0,
	.l7_ebx = 0x219c97a9, .l7_edx = 0x00000010,
	.x8_ebx = 0x191ef657,
	.x21_eax = 0x0000004d,
};

/* EPYC 9654 (Genoa, family 19h model 11h), SRSO microcode: AutoIBRS,
 * SBPB and IBPB_BRTYPE in 80000021h.EAX. */
static const struct spec_host zen4 = {
	.vendor = SPEC_VENDOR_AMD, .family = 0x19, .model = 0x11, .stepping = 1,
	.x8_ebx = SPEC_X8_EBX_IBPB | SPEC_X8_EBX_IBRS | SPEC_X8_EBX_STIBP |
		  SPEC_X8_EBX_STIBP_ALWAYS_ON | SPEC_X8_EBX_IBRS_PREFERRED |
		  SPEC_X8_EBX_IBRS_SAME_MODE | SPEC_X8_EBX_SSBD,
	.x21_eax = (1u << 0) | SPEC_X21_EAX_LFENCE_RDTSC | (1u << 6) | SPEC_X21_EAX_AUTOIBRS |
		   SPEC_X21_EAX_SBPB | SPEC_X21_EAX_IBPB_BRTYPE,
};

/* QEMU 7.2 TCG "-cpu qemu64,+svm,+npt" and "-cpu max", recorded. */
static const struct spec_host tcg_qemu64 = {
	.vendor = SPEC_VENDOR_AMD, .family = 0xf, .model = 0x6b, .stepping = 1,
};
static const struct spec_host tcg_max = {
	.vendor = SPEC_VENDOR_AMD, .family = 0xf, .model = 0x6b, .stepping = 1,
	.l7_ebx = 0x01d843a9,
};

static struct spec_policy decide(const struct spec_host *h)
{
	struct spec_policy p;

	memset(&p, 0xa5, sizeof(p)); /* spec_decide() must set every field */
	spec_decide(h, &p);
	return p;
}

static void assert_line(const struct spec_host *h, const char *want)
{
	struct spec_policy p = decide(h);
	char buf[320];

	spec_format(&p, buf, sizeof(buf));
	cr_assert_str_eq(buf, want);
}

Test(spec, haswell_without_md_clear)
{
	struct spec_policy p = decide(&haswell);

	cr_assert_eq(p.bugs, SPEC_BUG_L1TF | SPEC_BUG_MDS | SPEC_BUG_ITLB_MULTIHIT);
	cr_assert_eq(p.unmitigated, SPEC_BUG_MDS, "VERW clears nothing without MD_CLEAR");
	cr_assert_eq(p.l1d_on_entry, SPEC_L1D_MSR);
	cr_assert_not(p.verw_on_entry);
	cr_assert_eq(p.host_ibrs, SPEC_IBRS_LEGACY);
	cr_assert_eq(p.host_spec_ctrl, SPEC_CTRL_IBRS);
	cr_assert_eq(p.spec_ctrl_exit, SPEC_CTRL_EXIT_ALWAYS);
	cr_assert_eq(p.rsb_after_exit, SPEC_RSB_FILL);
	cr_assert(p.ibpb_on_switch && !p.ibpb_on_exit && !p.rsb_fill_after_ibpb);
	cr_assert_eq(p.ssbd, SPEC_SSBD_SPEC_CTRL);
	cr_assert(p.smt_risk);
	cr_assert_not(p.tsx_disable);
	cr_assert_eq(p.guest_spec_ctrl_mask, SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD);
	cr_assert_eq(p.guest_l7_edx, haswell.l7_edx | SPEC_L7_EDX_ARCH_CAP,
		     "ARCH_CAPABILITIES is emulated even where the host has none");
	cr_assert_eq(p.guest_arch_cap, ARCH_CAP_SKIP_L1DFL_VMENTRY);
	assert_line(&haswell, "ibpb=switch rsb=fill verw=no l1d=msr tsx=as-is ibrs=legacy "
			      "spec_ctrl=always ssbd=spec_ctrl smt=risk bugs=l1tf,mds,itlb_multihit "
			      "open=mds");
}

Test(spec, skylake_sp_l1d_flush_covers_verw)
{
	struct spec_policy p = decide(&skylake_sp);

	cr_assert_eq(p.bugs, SPEC_BUG_L1TF | SPEC_BUG_MDS | SPEC_BUG_TAA | SPEC_BUG_ITLB_MULTIHIT);
	cr_assert_eq(p.unmitigated, 0);
	cr_assert_eq(p.l1d_on_entry, SPEC_L1D_MSR);
	cr_assert_not(p.verw_on_entry, "FLUSH_CMD with MD_CLEAR clears the buffers too");
	cr_assert_not(p.tsx_disable, "no TSX_CTRL on this microcode");
	cr_assert_eq(p.rsb_after_exit, SPEC_RSB_FILL);
	cr_assert_eq(p.spec_ctrl_exit, SPEC_CTRL_EXIT_ALWAYS);
	cr_assert(p.smt_risk);
	cr_assert_eq(p.guest_l7_edx, L7_SPEC_ALL);
	cr_assert_eq(p.guest_flush_cmd_mask, FLUSH_CMD_L1D);
	cr_assert_eq(p.guest_pred_cmd_mask, PRED_CMD_IBPB);
}

Test(spec, skylake_sp_nested_under_kvm)
{
	struct spec_policy p = decide(&skylake_sp_kvm);

	cr_assert_eq(p.bugs, SPEC_BUG_L1TF | SPEC_BUG_MDS | SPEC_BUG_TAA);
	cr_assert_eq(p.l1d_on_entry, SPEC_L1D_NONE, "the hypervisor below flushes");
	cr_assert(p.verw_on_entry, "so MDS needs VERW again");
	cr_assert_eq(p.guest_arch_cap, ARCH_CAP_SKIP_L1DFL_VMENTRY | ARCH_CAP_PSCHANGE_MC_NO);
}

Test(spec, cascade_lake_turns_tsx_off)
{
	struct spec_policy p = decide(&cascade_lake);

	cr_assert_eq(p.bugs, SPEC_BUG_TAA | SPEC_BUG_PBRSB | SPEC_BUG_ITLB_MULTIHIT);
	cr_assert(p.tsx_disable);
	cr_assert_not(p.verw_on_entry, "TAA ends with TSX; MDS_NO; MMIO needs device MMIO");
	cr_assert_eq(p.l1d_on_entry, SPEC_L1D_NONE);
	cr_assert_eq(p.host_ibrs, SPEC_IBRS_ENHANCED);
	cr_assert_eq(p.spec_ctrl_exit, SPEC_CTRL_EXIT_IF_DIFFERENT);
	cr_assert_eq(p.rsb_after_exit, SPEC_RSB_ONE_CALL);
	cr_assert_not(p.smt_risk);
	cr_assert_eq(p.guest_arch_cap, ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL |
		     ARCH_CAP_SKIP_L1DFL_VMENTRY | ARCH_CAP_MDS_NO | ARCH_CAP_FB_CLEAR,
		     "TSX_CTRL and GDS_CTRL are host controls");
	assert_line(&cascade_lake, "ibpb=switch rsb=one-call verw=no l1d=no tsx=off ibrs=enhanced "
				   "spec_ctrl=if-different ssbd=spec_ctrl smt=ok "
				   "bugs=taa,pbrsb,itlb_multihit");
}

Test(spec, cascade_lake_without_tsx_ctrl_uses_verw)
{
	struct spec_policy p = decide(&cascade_lake_2019);

	cr_assert_eq(p.bugs, SPEC_BUG_TAA | SPEC_BUG_PBRSB | SPEC_BUG_ITLB_MULTIHIT);
	cr_assert_not(p.tsx_disable);
	cr_assert(p.verw_on_entry);
	cr_assert(p.smt_risk);
}

Test(spec, ice_lake_sp)
{
	struct spec_policy p = decide(&ice_lake_sp);

	cr_assert_eq(p.bugs, SPEC_BUG_PBRSB);
	cr_assert_not(p.verw_on_entry);
	cr_assert_eq(p.l1d_on_entry, SPEC_L1D_NONE);
	cr_assert_not(p.tsx_disable);
	cr_assert_eq(p.rsb_after_exit, SPEC_RSB_ONE_CALL);
	cr_assert_eq(p.host_spec_ctrl, SPEC_CTRL_IBRS);
	cr_assert_eq(p.guest_arch_cap, ice_lake_sp.arch_cap & ~ARCH_CAP_GDS_CTRL);
	cr_assert_eq(p.guest_arch_cap & ARCH_CAP_ITS_NO, 0, "Ice Lake is affected by ITS");
}

Test(spec, sapphire_rapids)
{
	struct spec_policy p = decide(&sapphire_rapids);

	cr_assert_eq(p.bugs, SPEC_BUG_PBRSB);
	cr_assert_eq(p.unmitigated, 0);
	cr_assert_not(p.verw_on_entry);
	cr_assert_eq(p.l1d_on_entry, SPEC_L1D_NONE);
	cr_assert_eq(p.rsb_after_exit, SPEC_RSB_ONE_CALL);
	cr_assert_eq(p.guest_arch_cap, sapphire_rapids.arch_cap | ARCH_CAP_ITS_NO,
		     "BHI_CTRL parts are not affected by ITS");
	cr_assert_eq(p.guest_x8_ebx | p.guest_x21_eax | p.guest_x21_ecx, 0);
	cr_assert_not(p.guest_virt_spec_ctrl);
}

Test(spec, pbrsb_no_needs_no_rsb_work)
{
	struct spec_host h = sapphire_rapids;
	struct spec_policy p;

	h.arch_cap |= ARCH_CAP_PBRSB_NO;
	p = decide(&h);
	cr_assert_eq(p.bugs, 0);
	cr_assert_eq(p.rsb_after_exit, SPEC_RSB_NONE);
	cr_assert(p.guest_arch_cap & ARCH_CAP_PBRSB_NO);
}

Test(spec, zen2)
{
	struct spec_policy p = decide(&zen2);

	cr_assert_eq(p.bugs, SPEC_BUG_RETBLEED | SPEC_BUG_SRSO);
	cr_assert_eq(p.unmitigated, 0);
	cr_assert(p.ibpb_on_exit, "Zen 2 IBPB flushes return-typed predictions");
	cr_assert(p.rsb_fill_after_ibpb, "no IBPB_RET");
	cr_assert_eq(p.rsb_after_exit, SPEC_RSB_FILL);
	cr_assert_eq(p.host_ibrs, SPEC_IBRS_LEGACY);
	cr_assert_eq(p.spec_ctrl_exit, SPEC_CTRL_EXIT_ALWAYS);
	cr_assert_not(p.verw_on_entry);
	cr_assert_eq(p.l1d_on_entry, SPEC_L1D_NONE);
	cr_assert_eq(p.ssbd, SPEC_SSBD_SPEC_CTRL);
	cr_assert_not(p.guest_arch_cap_msr);
	cr_assert_eq(p.guest_l7_edx, 0);
	cr_assert_eq(p.guest_x8_ebx, zen2.x8_ebx);
	cr_assert_eq(p.guest_x21_ecx, SPEC_X21_ECX_TSA_SQ_NO | SPEC_X21_ECX_TSA_L1_NO,
		     "Zen 2 is not affected by TSA; a guest must be told");
	assert_line(&zen2, "ibpb=switch+exit rsb=fill+ibpb verw=no l1d=no tsx=as-is ibrs=legacy "
			   "spec_ctrl=always ssbd=spec_ctrl smt=ok bugs=retbleed,srso");
}

Test(spec, zen3_before_srso_microcode)
{
	struct spec_policy p = decide(&zen3);

	cr_assert_eq(p.bugs, SPEC_BUG_SRSO | SPEC_BUG_TSA);
	cr_assert_eq(p.unmitigated, SPEC_BUG_SRSO, "IBPB does not flush return types yet");
	cr_assert_not(p.ibpb_on_exit);
	cr_assert(p.verw_on_entry, "TSA");
	cr_assert_eq(p.rsb_after_exit, SPEC_RSB_FILL);
	cr_assert_eq(p.host_ibrs, SPEC_IBRS_LEGACY);
	cr_assert(p.rsb_fill_after_ibpb);
	cr_assert_eq(p.guest_spec_ctrl_mask, SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD);
	cr_assert_eq(p.guest_x8_ebx, SPEC_X8_EBX_IBPB | SPEC_X8_EBX_IBRS | SPEC_X8_EBX_STIBP |
		     SPEC_X8_EBX_STIBP_ALWAYS_ON | SPEC_X8_EBX_IBRS_PREFERRED |
		     SPEC_X8_EBX_IBRS_SAME_MODE | SPEC_X8_EBX_SSBD,
		     "PSFD and the non-speculation bits are not this module's");
	cr_assert_eq(p.guest_x21_eax, SPEC_X21_EAX_LFENCE_RDTSC);
	cr_assert_eq(p.guest_x21_ecx, 0, "TSA-affected: no _NO bits for the guest");
}

Test(spec, zen4_auto_ibrs)
{
	struct spec_policy p = decide(&zen4);

	cr_assert_eq(p.bugs, SPEC_BUG_SRSO | SPEC_BUG_TSA);
	cr_assert_eq(p.unmitigated, 0);
	cr_assert(p.ibpb_on_exit);
	cr_assert_eq(p.host_ibrs, SPEC_IBRS_AUTO);
	cr_assert_eq(p.host_spec_ctrl, 0);
	cr_assert_eq(p.spec_ctrl_exit, SPEC_CTRL_EXIT_IF_DIFFERENT);
	cr_assert_eq(p.rsb_after_exit, SPEC_RSB_NONE, "AutoIBRS clears the RAS on VMEXIT");
	cr_assert(p.verw_on_entry);
	cr_assert_eq(p.guest_pred_cmd_mask, PRED_CMD_IBPB | PRED_CMD_SBPB);
	cr_assert_eq(p.guest_x21_eax, SPEC_X21_EAX_LFENCE_RDTSC | SPEC_X21_EAX_SBPB |
		     SPEC_X21_EAX_IBPB_BRTYPE, "AutoIBRS itself is not offered");
}

Test(spec, tcg_models_have_nothing)
{
	const struct spec_host *cpus[] = { &tcg_qemu64, &tcg_max };

	for (size_t i = 0; i < ARRAY_SIZE(cpus); i++) {
		struct spec_policy p = decide(cpus[i]);

		cr_assert_eq(p.bugs, 0);
		cr_assert_not(p.has_spec_ctrl || p.has_ibpb || p.has_flush_cmd);
		cr_assert_not(p.ibpb_on_switch || p.ibpb_on_exit || p.rsb_fill_after_ibpb);
		cr_assert_eq(p.rsb_after_exit, SPEC_RSB_FILL, "nothing says the RSB is safe");
		cr_assert_eq(p.host_ibrs, SPEC_IBRS_NONE);
		cr_assert_eq(p.spec_ctrl_exit, SPEC_CTRL_EXIT_NONE);
		cr_assert_not(p.verw_on_entry);
		cr_assert_eq(p.ssbd, SPEC_SSBD_NONE);
		cr_assert_eq(p.guest_spec_ctrl_mask | p.guest_pred_cmd_mask |
			     p.guest_flush_cmd_mask, 0);
		cr_assert_eq(p.guest_l7_edx | p.guest_x8_ebx | p.guest_x21_eax, 0);
	}
	assert_line(&tcg_qemu64, "ibpb=no rsb=fill verw=no l1d=no tsx=as-is ibrs=none "
				 "spec_ctrl=none ssbd=none smt=ok bugs=none");
}

/* An L1TF CPU whose microcode lacks FLUSH_CMD gets Intel's software flush. */
Test(spec, l1tf_without_flush_cmd)
{
	struct spec_host h = skylake_sp;
	struct spec_policy p;

	h.l7_edx &= ~SPEC_L7_EDX_FLUSH_L1D;
	p = decide(&h);
	cr_assert_eq(p.l1d_on_entry, SPEC_L1D_SOFTWARE);
	cr_assert(p.verw_on_entry, "the software flush does not clear the buffers");
	cr_assert_eq(p.guest_flush_cmd_mask, 0);
	cr_assert_eq(p.guest_l7_edx & SPEC_L7_EDX_FLUSH_L1D, 0);
}

/* Intel Atom with RFDS: VERW even on an MDS_NO part. */
Test(spec, rfds_needs_verw)
{
	struct spec_host h = {
		.vendor = SPEC_VENDOR_INTEL, .family = 6, .model = 0xbe, .stepping = 0,
		.l7_edx = L7_SPEC_ALL,
		.arch_cap = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_MDS_NO |
			    ARCH_CAP_PSCHANGE_MC_NO | ARCH_CAP_TAA_NO | ARCH_CAP_PBRSB_NO |
			    ARCH_CAP_RFDS_CLEAR,
	};
	struct spec_policy p = decide(&h);

	cr_assert_eq(p.bugs, SPEC_BUG_RFDS);
	cr_assert(p.verw_on_entry);
	cr_assert(p.guest_arch_cap & ARCH_CAP_RFDS_CLEAR);
	h.arch_cap |= ARCH_CAP_RFDS_NO;
	p = decide(&h);
	cr_assert_eq(p.bugs, 0);
	cr_assert_not(p.verw_on_entry);
}

/* ARCH_CAPABILITIES bits without the CPUID enumeration are not believed. */
Test(spec, arch_cap_needs_enumeration)
{
	struct spec_host h = skylake_sp;
	struct spec_policy p;

	h.arch_cap = ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO | ARCH_CAP_IBRS_ALL;
	p = decide(&h);
	cr_assert_eq(p.bugs, SPEC_BUG_L1TF | SPEC_BUG_MDS | SPEC_BUG_TAA | SPEC_BUG_ITLB_MULTIHIT);
	cr_assert_eq(p.host_ibrs, SPEC_IBRS_LEGACY);
	cr_assert_eq(p.guest_arch_cap, ARCH_CAP_SKIP_L1DFL_VMENTRY);
}

/* AMD under a hypervisor that offers VIRT_SSBD only (KVM on Zen 1). */
Test(spec, amd_virt_ssbd)
{
	struct spec_host h = {
		.vendor = SPEC_VENDOR_AMD, .family = 0x17, .model = 0x01, .stepping = 2,
		.x8_ebx = SPEC_X8_EBX_IBPB | SPEC_X8_EBX_VIRT_SSBD,
	};
	struct spec_policy p = decide(&h);

	cr_assert_eq(p.ssbd, SPEC_SSBD_VIRT);
	cr_assert(p.guest_virt_spec_ctrl);
	cr_assert_not(p.has_spec_ctrl);
	cr_assert_eq(p.guest_spec_ctrl_mask, 0);
	cr_assert_eq(p.guest_x8_ebx, SPEC_X8_EBX_IBPB | SPEC_X8_EBX_VIRT_SSBD);
	cr_assert_eq(p.host_ibrs, SPEC_IBRS_NONE);
	cr_assert_eq(p.spec_ctrl_exit, SPEC_CTRL_EXIT_NONE);
}

/* Whatever the CPU, every bit a guest is shown is one pvhv honours. */
Test(spec, guest_view_is_consistent)
{
	const struct spec_host *cpus[] = {
		&haswell, &skylake_sp, &skylake_sp_kvm, &cascade_lake, &cascade_lake_2019,
		&ice_lake_sp, &sapphire_rapids, &zen2, &zen3, &zen4, &tcg_qemu64, &tcg_max,
	};
	const uint64_t host_controls = ARCH_CAP_TSX_CTRL | ARCH_CAP_MCU_CONTROL |
				       ARCH_CAP_FB_CLEAR_CTRL | ARCH_CAP_GDS_CTRL;

	for (size_t i = 0; i < ARRAY_SIZE(cpus); i++) {
		struct spec_policy p = decide(cpus[i]);

		cr_assert_eq(p.guest_l7_edx & ~SPEC_GUEST_L7_EDX_BITS, 0, "cpu %zu", i);
		cr_assert_eq(p.guest_x8_ebx & ~SPEC_GUEST_X8_EBX_BITS, 0, "cpu %zu", i);
		cr_assert_eq(p.guest_x21_eax & ~SPEC_GUEST_X21_EAX_BITS, 0, "cpu %zu", i);
		cr_assert_eq(p.guest_x21_ecx & ~SPEC_GUEST_X21_ECX_BITS, 0, "cpu %zu", i);
		if (p.guest_l7_edx & SPEC_L7_EDX_IBRS_IBPB || p.guest_x8_ebx & SPEC_X8_EBX_IBRS)
			cr_assert(p.guest_spec_ctrl_mask & SPEC_CTRL_IBRS, "cpu %zu", i);
		if (p.guest_l7_edx & SPEC_L7_EDX_IBRS_IBPB || p.guest_x8_ebx & SPEC_X8_EBX_IBPB)
			cr_assert(p.guest_pred_cmd_mask & PRED_CMD_IBPB, "cpu %zu", i);
		if (p.guest_l7_edx & SPEC_L7_EDX_STIBP || p.guest_x8_ebx & SPEC_X8_EBX_STIBP)
			cr_assert(p.guest_spec_ctrl_mask & SPEC_CTRL_STIBP, "cpu %zu", i);
		if (p.guest_l7_edx & SPEC_L7_EDX_SSBD || p.guest_x8_ebx & SPEC_X8_EBX_SSBD)
			cr_assert(p.guest_spec_ctrl_mask & SPEC_CTRL_SSBD, "cpu %zu", i);
		if (p.guest_x8_ebx & SPEC_X8_EBX_VIRT_SSBD)
			cr_assert(p.guest_virt_spec_ctrl, "cpu %zu", i);
		cr_assert_eq(!!(p.guest_l7_edx & SPEC_L7_EDX_FLUSH_L1D),
			     !!(p.guest_flush_cmd_mask & FLUSH_CMD_L1D), "cpu %zu", i);
		cr_assert_eq(!!(p.guest_l7_edx & SPEC_L7_EDX_ARCH_CAP), p.guest_arch_cap_msr,
			     "cpu %zu", i);
		cr_assert_eq(p.guest_arch_cap & host_controls, 0, "cpu %zu", i);
		/* Nothing is offered that the host lacks. */
		cr_assert_eq(p.guest_spec_ctrl_mask & ~(SPEC_CTRL_IBRS | SPEC_CTRL_STIBP |
							SPEC_CTRL_SSBD), 0, "cpu %zu", i);
		if (!p.has_spec_ctrl)
			cr_assert_eq(p.guest_spec_ctrl_mask, 0, "cpu %zu", i);
		if (!p.has_ibpb)
			cr_assert_eq(p.guest_pred_cmd_mask, 0, "cpu %zu", i);
	}
}

Test(spec, format_truncates_safely)
{
	struct spec_policy p = decide(&haswell);
	char full[320], small[24];
	int n = spec_format(&p, full, sizeof(full));

	cr_assert_eq((size_t)n, strlen(full));
	memset(small, 'x', sizeof(small));
	cr_assert_eq(spec_format(&p, small, sizeof(small)), n, "returns the length it wanted");
	cr_assert_eq(small[sizeof(small) - 1], '\0');
	cr_assert_eq(strncmp(small, full, sizeof(small) - 1), 0);
	cr_assert_eq(spec_format(&p, NULL, 0), n);
}

Test(spec, format_host)
{
	char buf[200];

	spec_format_host(&zen3, buf, sizeof(buf));
	cr_assert_str_eq(buf, "amd 19/50/0 7.0 ebx=219c97a9 edx=00000010 7.2 edx=00000000 "
			      "80000008 ebx=191ef657 80000021 eax=0000004d ecx=00000000 arch_cap=0");
}

/* ---------------------------------------------------------------- reading the host */

/* A fake CPU: leaves answered from a table, everything else 0. */
struct leaf {
	uint32_t leaf, sub, r[4];
};
static const struct leaf *fake_leaves;
static size_t fake_n;
static unsigned cpuid_calls, rdmsr_calls;
static int rdmsr_rc;
static uint32_t asked[32][2];

static void fake_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	if (cpuid_calls < ARRAY_SIZE(asked)) {
		asked[cpuid_calls][0] = leaf;
		asked[cpuid_calls][1] = sub;
	}
	cpuid_calls++;
	memset(r, 0, 16);
	for (size_t i = 0; i < fake_n; i++)
		if (fake_leaves[i].leaf == leaf && fake_leaves[i].sub == sub)
			memcpy(r, fake_leaves[i].r, 16);
}

static int fake_rdmsr(uint32_t msr, uint64_t *v)
{
	rdmsr_calls++;
	cr_assert_eq(msr, MSR_IA32_ARCH_CAPABILITIES);
	*v = 0x20200abULL;
	return rdmsr_rc;
}

static void read_fake(const struct leaf *l, size_t n, struct spec_host *h)
{
	fake_leaves = l;
	fake_n = n;
	cpuid_calls = rdmsr_calls = 0;
	memset(asked, 0, sizeof(asked));
	memset(h, 0x5a, sizeof(*h));
	spec_read_host(h, fake_cpuid, fake_rdmsr);
}

static bool was_asked(uint32_t leaf, uint32_t sub)
{
	for (unsigned i = 0; i < MIN(cpuid_calls, ARRAY_SIZE(asked)); i++)
		if (asked[i][0] == leaf && asked[i][1] == sub)
			return true;
	return false;
}

/* "GenuineIntel", Cascade Lake signature 0x50657. */
static const struct leaf intel_leaves[] = {
	{ 0, 0, { 0x16, 0x756e6547, 0x6c65746e, 0x49656e69 } },
	{ 1, 0, { 0x00050657, 0, 0, 0 } },
	{ 7, 0, { 0, SPEC_L7_EBX_RTM, 0, L7_SPEC_ALL } },
	{ 7, 2, { 0, 0, 0, 0xffffffff } },
	{ 0x80000000u, 0, { 0x80000008u, 0, 0, 0 } },
	{ 0x80000008u, 0, { 0x3027, 0x1234, 0, 0 } },
	{ 0x80000021u, 0, { 0xffffffff, 0, 0xffffffff, 0 } },
};

Test(spec_read, intel)
{
	struct spec_host h;

	rdmsr_rc = 0;
	read_fake(intel_leaves, ARRAY_SIZE(intel_leaves), &h);
	cr_assert_eq(h.vendor, SPEC_VENDOR_INTEL);
	cr_assert_eq(h.family, 6);
	cr_assert_eq(h.model, 0x55);
	cr_assert_eq(h.stepping, 7);
	cr_assert_eq(h.l7_ebx, SPEC_L7_EBX_RTM);
	cr_assert_eq(h.l7_edx, L7_SPEC_ALL);
	cr_assert_eq(h.l7_2_edx, 0, "7.0 EAX says subleaf 2 does not exist");
	cr_assert_not(was_asked(7, 2));
	cr_assert_eq(h.x8_ebx, 0x1234);
	cr_assert_eq(h.x21_eax, 0, "beyond the maximum extended leaf");
	cr_assert_not(was_asked(0x80000021u, 0));
	cr_assert_eq(rdmsr_calls, 1);
	cr_assert_eq(h.arch_cap, 0x20200abULL);
}

Test(spec_read, failed_rdmsr_drops_enumeration)
{
	struct spec_host h;

	rdmsr_rc = -EIO;
	read_fake(intel_leaves, ARRAY_SIZE(intel_leaves), &h);
	cr_assert_eq(h.arch_cap, 0);
	cr_assert_eq(h.l7_edx, L7_SPEC_ALL & ~SPEC_L7_EDX_ARCH_CAP);
}

/* "AuthenticAMD", the Ryzen 5 5600G's leaves. */
static const struct leaf amd_leaves[] = {
	{ 0, 0, { 0x10, 0x68747541, 0x444d4163, 0x69746e65 } },
	{ 1, 0, { 0x00a50f00, 0, 0, 0 } },
	{ 7, 0, { 0, 0x219c97a9, 0x0040068c, 0x00000010 } },
	{ 0x80000000u, 0, { 0x80000023u, 0, 0, 0 } },
	{ 0x80000008u, 0, { 0x3030, 0x191ef657, 0x400b, 0x10000 } },
	{ 0x80000021u, 0, { 0x4d, 0, 0, 0 } },
};

Test(spec_read, amd_matches_the_record)
{
	struct spec_host h;

	rdmsr_rc = 0;
	read_fake(amd_leaves, ARRAY_SIZE(amd_leaves), &h);
	cr_assert_eq(memcmp(&h, &zen3, sizeof(h)), 0);
	cr_assert_eq(rdmsr_calls, 0, "ARCH_CAPABILITIES is not enumerated");
}

Test(spec_read, qemu64_signature_and_hygon)
{
	static const struct leaf qemu64[] = {
		{ 0, 0, { 0xd, 0x68747541, 0x444d4163, 0x69746e65 } },
		{ 1, 0, { 0x00060fb1, 0, 0, 0 } },
		{ 0x80000000u, 0, { 0x8000000au, 0, 0, 0 } },
	};
	static const struct leaf hygon[] = {
		{ 0, 0, { 0xd, 0x6f677948, 0x656e6975, 0x6e65476e } },
		{ 1, 0, { 0x00900f01, 0, 0, 0 } },
	};
	static const struct leaf via[] = {
		{ 0, 0, { 0x1, 0x746e6543, 0x736c7561, 0x48727561 } },
		{ 1, 0, { 0x000006a9, 0, 0, 0 } },
	};
	struct spec_host h;

	read_fake(qemu64, ARRAY_SIZE(qemu64), &h);
	cr_assert_eq(memcmp(&h, &tcg_qemu64, sizeof(h)), 0);
	cr_assert_not(was_asked(0x80000021u, 0));
	read_fake(hygon, ARRAY_SIZE(hygon), &h);
	cr_assert_eq(h.vendor, SPEC_VENDOR_AMD);
	cr_assert_eq(h.family, 0x18);
	read_fake(via, ARRAY_SIZE(via), &h);
	cr_assert_eq(h.vendor, SPEC_VENDOR_OTHER);
	cr_assert_eq(h.family, 6);
	cr_assert_eq(h.model, 0xa, "extended model applies to family 6 outside AMD");
	cr_assert_not(was_asked(7, 0));
}

/* A bogus maximum extended leaf (no extended leaves: 0 or garbage) is not followed. */
Test(spec_read, no_extended_leaves)
{
	static const struct leaf old[] = {
		{ 0, 0, { 0x2, 0x756e6547, 0x6c65746e, 0x49656e69 } },
		{ 1, 0, { 0x00000633, 0, 0, 0 } },
		{ 0x80000000u, 0, { 0x00000002u, 0, 0, 0 } },
	};
	struct spec_host h;

	read_fake(old, ARRAY_SIZE(old), &h);
	cr_assert_not(was_asked(0x80000008u, 0));
	cr_assert_eq(h.x8_ebx, 0);
	cr_assert_eq(h.model, 3);
}

/* x87 error pointers: AMD parts without RstrFpErrPtrs need the FILD scrub. */
Test(spec, fp_error_pointer_scrub)
{
	struct spec_policy p;

	spec_decide(&tcg_qemu64, &p);
	cr_assert(p.fp_ptr_scrub, "AMD family 0Fh without 80000008h.EBX[2] leaks FIP/FDP");
	spec_decide(&zen3, &p);
	cr_assert(!p.fp_ptr_scrub, "Zen 3 reports RstrFpErrPtrs");
	spec_decide(&skylake_sp, &p);
	cr_assert(!p.fp_ptr_scrub, "Intel saves the pointers always");
}
