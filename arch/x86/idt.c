/* SPDX-License-Identifier: Apache-2.0 */
/* idt.c: per-CPU GDT and TSS, the IDT, and what happens on a host trap. */
#include "arch/x86/arch.h"
#include "arch/x86/x86.h"
#include "arch/x86/hw.h"

/* Frame built by entry.asm's trap_common. */
struct trap_frame {
	uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} PACKED;

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} PACKED;

#define IST_STACK_SIZE 8192

static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint64_t gdt[MAX_CPUS][GDT_ENTRIES] __attribute__((aligned(16)));
static struct tss tss[MAX_CPUS] __attribute__((aligned(16)));
static uint8_t ist_stack[MAX_CPUS][IST_STACK_SIZE] __attribute__((aligned(16)));
extern void *trap_stubs[256];

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound", "#UD invalid opcode", "#NM no FPU", "#DF double fault",
	"coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved",
	"#MF x87 error", "#AC alignment", "#MC machine check", "#XM SIMD error",
	"#VE virtualization", "#CP control protection",
};

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)(uintptr_t)trap_stubs[v];

		idt[v] = (struct idt_gate){
			.off_lo = a & 0xffff,
			.sel = GDT_CODE64,
			/* #DF, NMI and #MC get a known-good stack. */
			.ist = (v == X86_EXC_DF || v == X86_EXC_NMI || v == X86_EXC_MC) ? 1 : 0,
			.type = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
			.off_mid = (a >> 16) & 0xffff,
			.off_hi = a >> 32,
		};
	}
}

/* Loads this CPU's GDT, TSS and the shared IDT. */
void cpu_tables_load(unsigned idx)
{
	uint64_t *g = gdt[idx];
	uint64_t t = (uint64_t)(uintptr_t)&tss[idx];
	struct {
		uint16_t limit;
		uint64_t base;
	} PACKED gdtr = { sizeof(gdt[0]) - 1, (uint64_t)(uintptr_t)g },
		 idtr = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	g[0] = 0;
	g[GDT_CODE64 / 8] = 0x00af9a000000ffffULL;
	g[GDT_DATA / 8] = 0x00cf92000000ffffULL;
	g[GDT_CODE32 / 8] = 0x00cf9a000000ffffULL;
	/* 64-bit available TSS, 16 bytes (SDM vol. 3, 8.2.3). */
	g[GDT_TSS / 8] = (sizeof(struct tss) - 1) | ((t & 0xffffff) << 16) |
			 (0x89ULL << 40) | (((t >> 24) & 0xff) << 56);
	g[GDT_TSS / 8 + 1] = t >> 32;
	tss[idx].ist[0] = (uint64_t)(uintptr_t)&ist_stack[idx][IST_STACK_SIZE];
	tss[idx].iomap_base = sizeof(struct tss);

	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %2, %%ds\n\t"
			 "mov %2, %%es\n\t"
			 "mov %2, %%ss\n\t"
			 "ltr %w3\n\t"
			 "lidt %4"
			 :
			 : "m"(gdtr), "i"(GDT_CODE64), "r"((uint64_t)GDT_DATA), "r"(GDT_TSS), "m"(idtr)
			 : "rax", "memory");
}

static void dump(const struct trap_frame *f)
{
	struct percpu *c = this_cpu();
	const char *name = f->vector < 32 && exc_names[f->vector] ? exc_names[f->vector] : "interrupt";

	kprintf("pvhv: FATAL exception on cpu %u (apic %u): vector %lu %s, error 0x%lx\n",
		c->index, c->apic_id, f->vector, name, f->error);
	kprintf("  rip %016lx cs %04lx rflags %016lx rsp %016lx ss %04lx\n", f->rip, f->cs,
		f->rflags, f->rsp, f->ss);
	kprintf("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	kprintf("  rsi %016lx rdi %016lx rbp %016lx r8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
	kprintf("  r9  %016lx r10 %016lx r11 %016lx r12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
	kprintf("  r13 %016lx r14 %016lx r15 %016lx\n", f->r13, f->r14, f->r15);
	kprintf("  cr0 %016lx cr2 %016lx cr3 %016lx cr4 %016lx\n", read_cr0(), read_cr2(),
		read_cr3(), read_cr4());
}

void trap_handler(struct trap_frame *f);
void trap_handler(struct trap_frame *f)
{
	switch (f->vector) {
	case VEC_TIMER:
		this_cpu()->timer_ticks++;
		lapic_eoi();
		return;
	case VEC_KICK:
		lapic_eoi();
		return;
	case VEC_SPURIOUS:
		return;
	case HOSTIRQ_FIRST ... HOSTIRQ_LAST:
		/* A device's MSI, routed or not: noted for msi_poll(), never a panic. */
		hostirq_note((unsigned)f->vector);
		lapic_eoi();
		return;
	case X86_EXC_NMI:
		/*
		 * A host NMI (a watchdog, the platform, or one that arrived while
		 * a guest ran and was handed over at the exit): nothing in pvhv
		 * uses NMIs, so count it and go on (IST stack, no locks taken).
		 */
		__atomic_fetch_add(&this_cpu()->nmis, 1, __ATOMIC_RELAXED);
		return;
	default:
		if (f->vector >= VEC_PIC_BASE)
			return; /* legacy PIC spurious interrupt: no EOI */
		break;
	}
	dump(f);
	panic("unhandled %s", f->vector < 32 ? "exception" : "interrupt");
}
