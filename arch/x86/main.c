/* SPDX-License-Identifier: Apache-2.0 */
/* main.c: the boot CPU's path from the loader's hand-off to the scheduler. */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "arch/x86/x86.h"
#include "arch/x86/spec_hw.h"
#include "pvhv/start_info.h"

#define BOOT_PVH 1
#define BOOT_MB2 2

struct percpu cpus[MAX_CPUS];
unsigned nr_cpus = 1;
struct boot_info boot_info;
struct boot_module boot_modules[MAX_BOOT_MODULES];
unsigned nr_boot_modules;
const struct vcpu_ops *vcpu_ops;
uint64_t boot_tsc;

static void add_region(uint64_t addr, uint64_t size, uint32_t type)
{
	if (boot_info.nr_regions < MAX_MEM_REGIONS)
		boot_info.region[boot_info.nr_regions++] = (struct mem_region){ addr, size, type };
	else
		kprintf("pvhv: boot: memory map has more than %d entries, ignoring the rest\n",
			MAX_MEM_REGIONS);
}

static void add_module(uint64_t start, uint64_t size, const char *cmdline)
{
	if (nr_boot_modules >= MAX_BOOT_MODULES) {
		kprintf("pvhv: boot: more than %d modules, ignoring the rest\n", MAX_BOOT_MODULES);
		return;
	}
	boot_modules[nr_boot_modules++] = (struct boot_module){ start, size, cmdline ? cmdline : "" };
}

/* PVH: struct hvm_start_info (Xen's arch-x86/hvm/start_info.h). */
static void parse_pvh(const struct pvhv_start_info *si)
{
	boot_info.loader = "PVH";
	if (si->magic != PVHV_START_MAGIC)
		panic("boot: PVH start_info magic 0x%x is wrong", si->magic);
	if (si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
		const struct pvhv_memmap_entry *m = hpa_to_ptr(si->memmap_paddr);

		for (uint32_t i = 0; i < si->memmap_entries; i++)
			add_region(m[i].addr, m[i].size, m[i].type);
	} else {
		panic("boot: PVH start_info v%u has no memory map", si->version);
	}
	if (si->modlist_paddr) {
		const struct pvhv_modlist_entry *m = hpa_to_ptr(si->modlist_paddr);

		for (uint32_t i = 0; i < si->nr_modules; i++)
			add_module(m[i].paddr, m[i].size,
				   m[i].cmdline_paddr ? hpa_to_ptr(m[i].cmdline_paddr) : "");
	}
	boot_info.rsdp = si->rsdp_paddr;
	boot_info.cmdline = si->cmdline_paddr ? hpa_to_ptr(si->cmdline_paddr) : "";
}

/* multiboot2 information structure (The Multiboot2 Specification, 3.6). */
static void parse_mb2(const uint8_t *mbi)
{
	uint32_t total = *(const uint32_t *)mbi;

	boot_info.loader = "multiboot2";
	boot_info.cmdline = "";
	for (uint32_t off = 8; off + 8 <= total;) {
		uint32_t type = *(const uint32_t *)(mbi + off);
		uint32_t size = *(const uint32_t *)(mbi + off + 4);
		const uint8_t *t = mbi + off;

		if (type == 0 || size < 8)
			break;
		switch (type) {
		case 1: /* boot command line */
			boot_info.cmdline = (const char *)(t + 8);
			break;
		case 3: /* module */
			add_module(*(const uint32_t *)(t + 8),
				   *(const uint32_t *)(t + 12) - *(const uint32_t *)(t + 8),
				   (const char *)(t + 16));
			break;
		case 6: { /* memory map */
			uint32_t esize = *(const uint32_t *)(t + 8);

			for (uint32_t e = 16; esize && e + esize <= size; e += esize)
				add_region(*(const uint64_t *)(t + e), *(const uint64_t *)(t + e + 8),
					   *(const uint32_t *)(t + e + 16));
			break;
		}
		case 14: /* ACPI old RSDP (a copy) */
		case 15: /* ACPI new RSDP */
			if (!boot_info.rsdp)
				boot_info.rsdp = ptr_to_hpa(t + 8);
			break;
		default:
			break;
		}
		off += ALIGN_UP(size, 8);
	}
}

/*
 * FXSAVE/FXRSTOR switch guest x87/SSE state; without CR4.OSFXSR they may
 * skip the XMM registers (SDM vol. 2, FXSAVE), leaking them between guests.
 */
static void cpu_control_init(void)
{
	uint32_t r[4];

	/* NX in the nested page tables takes host EFER.NXE (APM vol. 2, 15.25.1). */
	host_cpuid(0x80000001, 0, r);
	host_has_nx = r[3] & (1u << 20);
	if (host_has_nx)
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | X86_EFER_NXE);
	write_cr4(read_cr4() | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
	write_cr0((read_cr0() & ~(X86_CR0_EM | X86_CR0_TS)) | X86_CR0_MP | X86_CR0_NE);
	fpu_cpu_init();
	vcpu_state_cpu_init();
}

/* VT-x where CPUID.1:ECX.VMX is set, AMD-V otherwise; the probe says what is missing. */
static void pick_backend(void)
{
	char why[160];
	uint32_t r[4];
	int err;

	host_cpuid(1, 0, r);
	if (r[2] & (1u << 5)) {
		err = vmx_probe(why, sizeof(why));
		vcpu_ops = &vmx_ops;
	} else {
		err = svm_probe(why, sizeof(why));
		vcpu_ops = &svm_ops;
	}
	if (err == 0)
		return;
	vcpu_ops = NULL;
	kprintf("pvhv: no usable hardware virtualization: %s\n", why);
	kprintf("pvhv: pvhv needs Intel VT-x with EPT and unrestricted guest, or AMD-V with nested paging\n");
	machine_poweroff(PVHV_EXIT_NO_VIRT);
}

void boot_main(uint32_t kind, uint64_t info) __attribute__((no_stack_protector));
void boot_main(uint32_t kind, uint64_t info)
{
	struct percpu *bsp = &cpus[0];
	int err;

	bsp->self = bsp;
	{
		/* Paint the boot stack below us for stack_used() (BOOT_STACK = CPU_STACK_SIZE). */
		extern char boot_stack_top[];
		uint8_t *bottom = (uint8_t *)boot_stack_top - CPU_STACK_SIZE;
		uint8_t *sp = __builtin_frame_address(0);

		bsp->stack_top = ptr_to_hpa(boot_stack_top);
		for (uint8_t *p = bottom; p < sp - 512; p++)
			*p = STACK_PAINT;
	}
	bsp->canary = rdtsc() * 0x9e3779b97f4a7c15ULL ^ 0x5a17c0de;
	boot_tsc = rdtsc();
	serial_init();
	kprintf("\npvhv: booting\n");
	if (kind == BOOT_PVH)
		parse_pvh(hpa_to_ptr(info));
	else if (kind == BOOT_MB2)
		parse_mb2(hpa_to_ptr(info));
	else
		panic("boot: unknown boot protocol (neither PVH nor multiboot2)");
	idt_init();
	cpu_tables_load(0);
	fpu_init();
	cpu_control_init();
	mm_init();
	time_init();
	acpi_init();
	pci_init();
	lapic_init();
	bsp->apic_id = lapic_id();
	bsp->online = true;
	lapic_timer_calibrate();
	spec_init();
	spec_cpu_init();
	stage2_init(spec->bugs & SPEC_BUG_ITLB_MULTIHIT);
	pick_backend();
	err = vcpu_ops->cpu_init(bsp);
	if (err)
		panic("%s: cannot enable virtualization on cpu 0 (%d)", vcpu_ops->name, err);
	kprintf("pvhv: loader %s, %lu MiB free, tsc %lu kHz, backend %s\n", boot_info.loader,
		page_free_count() >> 8, tsc_khz(), vcpu_ops->name);
	mempool_init();
	smp_boot();
	pvh_main();
}

/* Secondary CPUs arrive here from the trampoline with %fs and a stack set. */
NORETURN void ap_main(struct percpu *cpu);
NORETURN void ap_main(struct percpu *cpu)
{
	int err;

	cpu_tables_load(cpu->index);
	cpu_control_init();
	spec_cpu_init();
	lapic_init();
	err = vcpu_ops->cpu_init(cpu);
	if (err)
		panic("%s: cannot enable virtualization on cpu %u (%d)", vcpu_ops->name,
		      cpu->index, err);
	__atomic_store_n(&cpu->online, true, __ATOMIC_RELEASE);
	sched_cpu_loop();
}

void host_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	cpuid_count(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
}
