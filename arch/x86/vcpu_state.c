/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcpu_state.c: host-CPU state that belongs to the vCPU on the CPU but that
 * neither VMRUN/#VMEXIT nor VM entry/exit switch: x87/SSE/AVX (fpu.c),
 * DR0-DR3 and DR6, TSC_AUX and PKRU.  It is moved at every switch between
 * vCPUs on a host CPU, so no tenant ever reads another's values.
 */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "arch/x86/x86.h"
#include "arch/x86/spec_hw.h"

#define X86_CR4_PKE (1UL << 22)

#define DR6_INIT 0xffff0ff0ULL /* power-on value (SDM vol. 3, table 10-1) */

static bool has_rdtscp, has_pku;
bool vcpu_rdtscp_ok;
/* TSC_AUX value now in each host CPU's MSR (written only on change). */
static uint64_t loaded_tsc_aux[MAX_CPUS];
/*
 * DR0-DR3 and DR6 as they are in each host CPU (index 4 is DR6): a switch
 * writes only the registers that differ.  Most guests never touch them, so
 * a switch between two such vCPUs costs no MOV to a debug register (each
 * one can be an exit when pvhv itself runs in a VM).
 */
static uint64_t loaded_dr[MAX_CPUS][5];

static inline uint64_t read_dr(int n)
{
	uint64_t v = 0;

	switch (n) {
	case 0: __asm__ volatile("mov %%db0, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%db1, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%db2, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%db3, %0" : "=r"(v)); break;
	case 6: __asm__ volatile("mov %%db6, %0" : "=r"(v)); break;
	}
	return v;
}

static inline void write_dr(int n, uint64_t v)
{
	switch (n) {
	case 0: __asm__ volatile("mov %0, %%db0" : : "r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%db1" : : "r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%db2" : : "r"(v)); break;
	case 3: __asm__ volatile("mov %0, %%db3" : : "r"(v)); break;
	case 6: __asm__ volatile("mov %0, %%db6" : : "r"(v)); break;
	}
}

static inline uint32_t rdpkru(void)
{
	uint32_t eax, edx;

	__asm__ volatile(".byte 0x0f, 0x01, 0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static inline void wrpkru(uint32_t v)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}

/*
 * Per host CPU, at boot: RDPKRU/WRPKRU need CR4.PKE in the host too.  PKRU
 * only restricts user-mode pages and pvhv has none, so this changes nothing
 * for pvhv itself.
 */
void vcpu_state_cpu_init(void)
{
	uint32_t r[4];

	host_cpuid(0x80000001, 0, r);
	has_rdtscp = r[3] & (1u << 27);
	host_cpuid(0, 0, r);
	if (r[0] >= 7) {
		host_cpuid(7, 0, r);
		has_rdtscp |= !!(r[2] & (1u << 22)); /* RDPID reads TSC_AUX too */
		has_pku = r[2] & (1u << 3);
	}
	if (has_pku)
		write_cr4(read_cr4() | X86_CR4_PKE);
	if (has_rdtscp) {
		wrmsr(MSR_TSC_AUX, 0);
		loaded_tsc_aux[this_cpu()->index] = 0;
	}
	for (int i = 0; i < 4; i++)
		write_dr(i, 0);
	write_dr(6, DR6_INIT);
	memset(loaded_dr[this_cpu()->index], 0, 4 * sizeof(uint64_t));
	loaded_dr[this_cpu()->index][4] = DR6_INIT;
}

bool arch_has_mca(void)
{
	uint32_t r[4];

	host_cpuid(1, 0, r);
	return (r[3] & (1u << 7)) && (r[3] & (1u << 14)); /* MCE, MCA */
}

bool host_has_rdtscp(void)
{
	return has_rdtscp;
}

void vcpu_set_tsc_aux(struct vcpu_hw *v, uint64_t val)
{
	v->tsc_aux = val;
	if (has_rdtscp) {
		wrmsr(MSR_TSC_AUX, val);
		loaded_tsc_aux[this_cpu()->index] = val;
	}
}

/*
 * AMD CPUs without CPUID 0x80000008:EBX[2] (RstrFpErrPtrs, spec.c decides) save and
 * restore the x87 FIP/FDP/FOP only while an x87 exception is pending, so
 * the pointers of the previous tenant survive an FXRSTOR/XRSTOR of a state
 * without one.  Loading a value with FILD sets them to pvhv's own (AMD
 * "Software Optimization Guide" and Linux's X86_BUG_FXSAVE_LEAK).
 */
static const uint32_t fp_scrub_zero;

static void scrub_fp_pointers(void)
{
	__asm__ volatile("fnclex; emms; fildl %0" : : "m"(fp_scrub_zero));
}

/* A different tenant takes this host CPU: barriers against what the last one left. */
static void switch_tenant(struct vcpu_hw *v)
{
	struct percpu *c = this_cpu();

	if (c->last_tenant == v->tenant)
		return;
	c->last_tenant = v->tenant;
	if (spec && spec->fp_ptr_scrub)
		scrub_fp_pointers();
	spec_domain_switch();
}

void vcpu_switch_in(struct vcpu_hw *v)
{
	unsigned me = this_cpu()->index;

	switch_tenant(v);
	fpu_switch_in(v);
	/*
	 * Debug registers: the guest moves to and from DR0-DR3/DR6 without
	 * exits, so they hold whatever the previous vCPU left.  DR7 is guest
	 * state in the VMCB/VMCS and is 0x400 (all breakpoints off) in pvhv
	 * after every exit (APM vol. 2, 15.5.1; SDM vol. 3, 28.5.1).
	 */
	for (int i = 0; i < 4; i++) {
		if (loaded_dr[me][i] != v->dr[i]) {
			write_dr(i, v->dr[i]);
			loaded_dr[me][i] = v->dr[i];
		}
	}
	if (loaded_dr[me][4] != v->dr6) {
		write_dr(6, v->dr6);
		loaded_dr[me][4] = v->dr6;
	}
	if (has_rdtscp && loaded_tsc_aux[me] != v->tsc_aux) {
		wrmsr(MSR_TSC_AUX, v->tsc_aux);
		loaded_tsc_aux[me] = v->tsc_aux;
	}
	if (has_pku && rdpkru() != v->pkru)
		wrpkru(v->pkru);
}

void vcpu_switch_out(struct vcpu_hw *v)
{
	uint64_t *cached = loaded_dr[this_cpu()->index];

	/* The guest writes them without exits: read back what it left. */
	for (int i = 0; i < 4; i++)
		v->dr[i] = cached[i] = read_dr(i);
	v->dr6 = cached[4] = read_dr(6);
	if (has_pku)
		v->pkru = rdpkru();
	fpu_switch_out(v);
}

/* Initial values of a new or reset vCPU (SDM vol. 3, table 10-1). */
void vcpu_state_reset(struct vcpu_hw *v)
{
	memset(v->dr, 0, sizeof(v->dr));
	v->dr6 = DR6_INIT;
	v->tsc_aux = 0;
	v->pkru = 0;
	v->spec_ctrl = 0;
}

