/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msr.c: the guest's MSRs.  An allowlist: EFER and PAT (kept in the
 * backend's guest state), the TSC, the local x2APIC (vlapic.c) and the
 * KVM-compatible paravirtual clock, TSC_AUX and SPEC_CTRL per vCPU, the
 * speculation commands and ARCH_CAPABILITIES the host CPU allows
 * (arch/x86/spec.c); every other MSR raises #GP.
 */
#include "pvh/pvh.h"
#include "arch/x86/x86.h"
#include "arch/x86/spec.h"
#include "pvhv/kvmclock.h"

#define EFER_GUEST_BITS (X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_IA32_TSC_DEADLINE 0x6e0


static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (pat >> (i * 8)) & 0xff;

		if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
			return false;
	}
	return true;
}

/*
 * ns = ((tsc_delta << shift) * mul) >> 32 with mul < 2^32: pick the
 * smallest shift for which ns per tick / 2^shift is below 1.
 */
static void pvclock_scale(uint64_t khz, uint32_t *mul, int8_t *shift)
{
	uint64_t hz = khz * 1000;
	int s = 0;

	while ((hz << s) <= 1000000000ULL)
		s++;
	*shift = (int8_t)s;
	*mul = (uint32_t)((1000000000ULL << 32) / (hz << s));
}

/*
 * The guest registers its per-vCPU time structure (bit 0 = enable).  The
 * TSC is the host's, constant and synchronized, so one write at
 * registration stays valid: system_time counts from the domain's start.
 */
static int pvclock_register(struct vcpu *v, uint64_t val)
{
	struct pvhv_pvclock *t;
	gpa_t gpa = val & ~1ULL;
	uint64_t now;
	uint32_t mul;
	int8_t shift;

	if (!(val & 1)) {
		v->pvclock_gpa = 0;
		return 0;
	}
	/* The structure must lie in RAM and not cross a page (KVM's rule). */
	if ((gpa & (PAGE_SIZE - 1)) > PAGE_SIZE - sizeof(*t))
		return -EPERM;
	t = dom_gpa_ptr(v->dom, gpa, sizeof(*t));
	if (!t)
		return -EPERM;
	now = rdtsc();
	t->version = 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->tsc_timestamp = now;
	t->system_time = tsc_to_us(now - v->dom->start_tsc) * 1000;
	pvclock_scale(tsc_khz(), &mul, &shift);
	t->tsc_to_system_mul = mul;
	t->tsc_shift = shift;
	t->flags = PVHV_PVCLOCK_TSC_STABLE;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t->version = 2;
	v->pvclock_gpa = gpa;
	return 0;
}

/* Wall clock at system_time 0: pvhv has no RTC of its own, so the epoch. */
static int wall_clock(struct vcpu *v, uint64_t gpa)
{
	uint32_t w[3] = { 2, 0, 0 }; /* version (even), sec, nsec */

	return dom_copy_to_guest(v->dom, gpa, w, sizeof(w)) ? -EPERM : 0;
}

int msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	if (irq_owns_msr(msr))
		return vcpu_lapic_rdmsr(v, msr, val);
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
	case MSR_IA32_MISC_ENABLE:
		*val = 1; /* fast strings */
		return 0;
	case 0x17: /* IA32_PLATFORM_ID */
	case 0x8b: /* IA32_BIOS_SIGN_ID: no microcode revision to report */
	case 0xc0010055: /* AMD interrupt-pending message: no C1E, so erratum 400 needs nothing */
		*val = 0;
		return 0;
	case PVHV_MSR_KVM_SYSTEM_TIME_NEW:
	case PVHV_MSR_KVM_SYSTEM_TIME:
		*val = v->pvclock_gpa ? v->pvclock_gpa | 1 : 0;
		return 0;
	case MSR_TSC_AUX:
		if (!vcpu_rdtscp_ok)
			return -EPERM;
		*val = v->hw.tsc_aux;
		return 0;
	case MSR_IA32_SPEC_CTRL:
		if (!spec->guest_spec_ctrl_mask)
			return -EPERM;
		*val = v->hw.spec_ctrl;
		return 0;
	case MSR_AMD_VIRT_SPEC_CTRL:
		if (!spec->guest_virt_spec_ctrl)
			return -EPERM;
		*val = v->hw.virt_spec_ctrl;
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!spec->guest_arch_cap_msr)
			return -EPERM;
		*val = spec->guest_arch_cap;
		return 0;
	default:
		return -EPERM;
	}
}

int msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	if (irq_owns_msr(msr))
		return vcpu_lapic_wrmsr(v, msr, val);
	switch (msr) {
	case MSR_EFER: {
		uint64_t old = vcpu_ops->get_reg(&v->hw, VREG_EFER);

		if (val & ~EFER_GUEST_BITS)
			return -EPERM;
		/* Toggling LME with paging on is a #GP (SDM vol. 3, 9.8.5). */
		if (((val ^ old) & X86_EFER_LME) && (vcpu_ops->get_reg(&v->hw, VREG_CR0) & X86_CR0_PG))
			return -EPERM;
		vcpu_ops->set_reg(&v->hw, VREG_EFER, val);
		return 0;
	}
	case MSR_IA32_PAT:
		if (!pat_valid(val))
			return -EPERM;
		vcpu_ops->set_reg(&v->hw, VREG_PAT, val);
		return 0;
	case MSR_IA32_MISC_ENABLE:
		return val == 1 ? 0 : -EPERM;
	case 0x8b: /* microcode revision probe: writes of 0 are how it starts */
		return val ? -EPERM : 0;
	case PVHV_MSR_KVM_SYSTEM_TIME_NEW:
	case PVHV_MSR_KVM_SYSTEM_TIME:
		return pvclock_register(v, val);
	case PVHV_MSR_KVM_WALL_CLOCK_NEW:
	case PVHV_MSR_KVM_WALL_CLOCK:
		return wall_clock(v, val);
	case MSR_IA32_SPEC_CTRL:
		/*
		 * IBRS/STIBP/SSBD as this CPU offers them: kept per vCPU and in
		 * the CPU only while the vCPU runs (spec_guest_enter()).
		 */
		if (!spec->guest_spec_ctrl_mask || (val & ~spec->guest_spec_ctrl_mask))
			return -EPERM;
		v->hw.spec_ctrl = val;
		return 0;
	case MSR_AMD_VIRT_SPEC_CTRL:
		if (!spec->guest_virt_spec_ctrl || (val & ~(uint64_t)SPEC_CTRL_SSBD))
			return -EPERM;
		v->hw.virt_spec_ctrl = val;
		return 0;
	case MSR_IA32_PRED_CMD:
		/* IBPB on the guest's request: it only ever helps the guest itself. */
		if (!spec->guest_pred_cmd_mask || (val & ~spec->guest_pred_cmd_mask))
			return -EPERM;
		if (val)
			wrmsr(MSR_IA32_PRED_CMD, val);
		return 0;
	case MSR_IA32_FLUSH_CMD:
		if (!spec->guest_flush_cmd_mask || (val & ~spec->guest_flush_cmd_mask))
			return -EPERM;
		if (val)
			wrmsr(MSR_IA32_FLUSH_CMD, val);
		return 0;
	case MSR_TSC_AUX:
		/* Bits 63:32 are reserved (SDM vol. 4, table 2-2); each vCPU has its own. */
		if (!vcpu_rdtscp_ok || (val >> 32))
			return -EPERM;
		vcpu_set_tsc_aux(&v->hw, val);
		return 0;
	default:
		return -EPERM;
	}
}
