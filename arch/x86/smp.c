/* SPDX-License-Identifier: Apache-2.0 */
/* smp.c: starts every CPU the MADT lists (INIT-SIPI-SIPI) and kicks them later. */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "arch/x86/x86.h"

/* The data block at the end of trampoline.asm. */
struct ap_boot {
	uint64_t cr3;
	uint64_t stack;
	uint64_t percpu;
};

extern const uint8_t tramp_start[], tramp_end[], tramp_data[];

static bool init_delay_unneeded(void)
{
	uint32_t r[4], family;

	host_cpuid(1, 0, r);
	if (r[2] & (1u << 31)) /* a hypervisor is present */
		return true;
	family = (r[0] >> 8) & 0xf;
	return family >= 6;
}

static bool start_one(unsigned idx, uint32_t apic_id)
{
	struct percpu *c = &cpus[idx];
	struct ap_boot *ab = hpa_to_ptr(AP_TRAMPOLINE_PA + (tramp_data - tramp_start));
	hpa_t stack;

	if (page_alloc(CPU_STACK_SIZE / PAGE_SIZE, 1, &stack)) {
		kprintf("pvhv: smp: no memory for cpu %u's stack\n", idx);
		return false;
	}
	c->self = c;
	c->index = idx;
	c->apic_id = apic_id;
	c->stack_top = stack + CPU_STACK_SIZE;
	memset(hpa_to_ptr(stack), STACK_PAINT, CPU_STACK_SIZE); /* for stack_used() */
	c->canary = cpus[0].canary ^ (rdtsc() * 0x9e3779b97f4a7c15ULL);
	ab->cr3 = read_cr3();
	ab->stack = c->stack_top;
	ab->percpu = ptr_to_hpa(c);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	/*
	 * Intel SDM vol. 3, 9.4.4.1: INIT, 10 ms, SIPI, 200 us, SIPI.  Like
	 * Linux, skip the 10 ms on CPUs that do not need it (P6 and later, K8
	 * and later) and in a VM, where INIT is emulated.
	 */
	lapic_send_init(apic_id);
	if (!init_delay_unneeded())
		udelay(10000);
	for (int i = 0; i < 2 && !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE); i++) {
		lapic_send_sipi(apic_id, AP_TRAMPOLINE_PA >> 12);
		udelay(200);
	}
	for (int ms = 0; ms < 1000 && !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE); ms++)
		udelay(1000);
	if (!c->online) {
		kprintf("pvhv: smp: cpu %u (apic %u) did not start\n", idx, apic_id);
		page_free(stack, CPU_STACK_SIZE / PAGE_SIZE);
		return false;
	}
	return true;
}

void smp_boot(void)
{
	memcpy(hpa_to_ptr(AP_TRAMPOLINE_PA), tramp_start, tramp_end - tramp_start);
	for (unsigned i = 0; i < acpi_info.nr_cpus; i++) {
		uint32_t id = acpi_info.apic_ids[i];

		if (id == cpus[0].apic_id)
			continue;
		if (start_one(nr_cpus, id))
			nr_cpus++;
	}
	kprintf("pvhv: %u host cpu%s online\n", nr_cpus, nr_cpus == 1 ? "" : "s");
}

void cpu_kick(unsigned idx)
{
	struct percpu *c = &cpus[idx];

	__atomic_store_n(&c->kick, true, __ATOMIC_RELEASE);
	if (idx != this_cpu()->index)
		lapic_send_ipi(c->apic_id, VEC_KICK);
}

/*
 * Bytes of a CPU's stack ever used: the painted bytes still intact count
 * from the bottom (the boot CPU's stack is painted in boot_main()).
 */
uint64_t stack_used(const struct percpu *c)
{
	const uint8_t *bottom = hpa_to_ptr(c->stack_top - CPU_STACK_SIZE);
	uint64_t n = 0;

	while (n < CPU_STACK_SIZE && bottom[n] == STACK_PAINT)
		n++;
	return CPU_STACK_SIZE - n;
}
