/* SPDX-License-Identifier: Apache-2.0 */
/*
 * spec_hw.c: reads the host CPU for spec.c, keeps the resulting policy,
 * and applies the per-CPU part of it (TSX, pvhv's own SPEC_CTRL value,
 * AMD's Automatic IBRS).
 */
#include "arch/x86/arch.h"
#include "arch/x86/spec_hw.h"

#define L1D_FLUSH_SIZE (64 * 1024) /* twice any L1D of an L1TF-affected CPU */

static struct spec_policy policy;
const struct spec_policy *spec;
/* Read by SPEC_RSB_AFTER_EXIT in the entry stubs: enum spec_rsb. */
uint8_t spec_rsb_exit_mode;
static uint8_t *l1d_flush_buf;

/* Only MSRs that CPUID enumerated are read, so RDMSR cannot fault. */
static int read_msr(uint32_t msr, uint64_t *v)
{
	*v = rdmsr(msr);
	return 0;
}

void spec_init(void)
{
	struct spec_host h;
	char line[320];
	hpa_t pa;

	spec_read_host(&h, host_cpuid, read_msr);
	spec_decide(&h, &policy);
	if (policy.l1d_on_entry == SPEC_L1D_SOFTWARE) {
		if (page_alloc(L1D_FLUSH_SIZE / PAGE_SIZE, 1, &pa) == 0) {
			l1d_flush_buf = hpa_to_ptr(pa);
		} else {
			kprintf("pvhv: spec: no memory for the software L1D flush\n");
			policy.l1d_on_entry = SPEC_L1D_NONE;
			policy.unmitigated |= SPEC_BUG_L1TF;
		}
	}
	spec_format_host(&h, line, sizeof(line));
	kprintf("pvhv: spec: host %s\n", line);
	spec_format(&policy, line, sizeof(line));
	kprintf("pvhv: spec: %s\n", line);
	spec_rsb_exit_mode = (uint8_t)policy.rsb_after_exit;
	spec = &policy;
}

void spec_cpu_init(void)
{
	if (!spec)
		return;
	if (spec->tsx_disable)
		wrmsr(MSR_IA32_TSX_CTRL, TSX_CTRL_RTM_DISABLE | TSX_CTRL_CPUID_CLEAR);
	/* VMRUN saves host EFER and #VMEXIT restores it, so this stays on. */
	if (spec->host_ibrs == SPEC_IBRS_AUTO)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | X86_EFER_AIBRSE);
	if (spec->has_spec_ctrl)
		wrmsr(MSR_IA32_SPEC_CTRL, spec->host_spec_ctrl);
}

void spec_domain_switch(void)
{
	if (!spec || !spec->ibpb_on_switch)
		return;
	spec_ibpb();
	if (spec->rsb_fill_after_ibpb)
		spec_rsb_fill();
}

void spec_before_entry(void)
{
	if (!spec)
		return;
	if (spec->l1d_on_entry == SPEC_L1D_MSR)
		spec_l1d_flush();
	else if (spec->l1d_on_entry == SPEC_L1D_SOFTWARE)
		spec_l1d_flush_sw();
	if (spec->verw_on_entry)
		spec_verw();
}

void spec_restore_host_spec_ctrl(uint64_t guest_spec_ctrl)
{
	if (!spec || spec->spec_ctrl_exit == SPEC_CTRL_EXIT_NONE)
		return;
	if (spec->spec_ctrl_exit == SPEC_CTRL_EXIT_ALWAYS || guest_spec_ctrl != spec->host_spec_ctrl)
		wrmsr(MSR_IA32_SPEC_CTRL, spec->host_spec_ctrl);
}

/*
 * Intel's L1TF software sequence: first touch every page so the loads
 * below do not stall on page walks, then load every line, which evicts
 * whatever the L1D held.
 */
void spec_l1d_flush_sw(void)
{
	const volatile uint8_t *b = l1d_flush_buf;

	if (!b)
		return;
	for (size_t i = 0; i < L1D_FLUSH_SIZE; i += PAGE_SIZE)
		(void)b[i];
	for (size_t i = 0; i < L1D_FLUSH_SIZE; i += 64)
		(void)b[i];
}

void spec_guest_enter(const struct vcpu_hw *v)
{
	if (!spec)
		return;
	if (spec->has_spec_ctrl && v->spec_ctrl != spec->host_spec_ctrl)
		wrmsr(MSR_IA32_SPEC_CTRL, v->spec_ctrl);
	if (spec->guest_virt_spec_ctrl && v->virt_spec_ctrl)
		wrmsr(MSR_AMD_VIRT_SPEC_CTRL, v->virt_spec_ctrl);
}

void spec_guest_exit(const struct vcpu_hw *v)
{
	if (!spec)
		return;
	spec_restore_host_spec_ctrl(v->spec_ctrl);
	if (spec->guest_virt_spec_ctrl && v->virt_spec_ctrl)
		wrmsr(MSR_AMD_VIRT_SPEC_CTRL, 0);
}
