/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emul: instruction emulation pvhv must get right.  Exiting instructions
 * with prefixes (CPUID, RDMSR/WRMSR, the hypercall, INVD, XSETBV, HLT) must
 * be skipped whole even where the CPU does not report their length (SVM
 * without NRIP save: QEMU's TCG); I/O APIC accesses from 32- and 16-bit
 * code segments with a non-zero CS base must be fetched at CS.base + EIP.
 *
 * cmdline: only=cpuid|msr|hypercall|invd|csbase|hlt runs that group of
 * checks alone.  event=idt|stack instead makes a hostile event delivery
 * that touches the I/O APIC page (its IDT, or its stack): pvhv must stop
 * the domain, naming the vector, and not emulate the instruction at RIP.
 */
#include "guest.h"

GUEST_NAME("emul");

#define MSR_IA32_PAT 0x277u
#define MSR_X2APIC_SVR 0x80fu
#define MSR_X2APIC_SELF_IPI 0x83fu
#define CR4_OSXSAVE (1ull << 18)
#define IRQ_VECTOR 0x40u
#define GDT_CODE32_BASED 0x20u
#define GDT_CODE16_BASED 0x28u
#define C16_IP 0x100u

/* insns.asm */
void emul_cpuid_66(uint32_t leaf, uint32_t out[4]);
void emul_cpuid_2e3e(uint32_t leaf, uint32_t out[4]);
uint64_t emul_rdmsr_48(uint32_t msr);
void emul_wrmsr_48(uint32_t msr, uint64_t val);
void emul_wrmsr_662e48(uint32_t msr, uint64_t val);
int64_t emul_vmmcall_2e(uint64_t nr);
int64_t emul_vmcall_3e(uint64_t nr);
void emul_invd_2e(void);
void emul_xsetbv_2e(uint32_t xcr, uint64_t val);
void emul_sti_hlt_3e(void);
void emul_far_call(uint64_t cs, uint64_t eip);
void emul_idt_in_mmio(void) NORETURN;
void emul_stack_in_mmio(void) NORETURN;
extern char emul_irq_stub[], c32_decoy[], c32_start[], c32_end[], c16_start[], c16_end[];
extern volatile uint64_t emul_ioapic, emul_irqs;
extern volatile uint32_t c32_version, c32_vendor, c16_id;

static void prefixed_cpuid(void)
{
	uint32_t want[4], got[4];

	cpuid(0, 0, &want[0], &want[1], &want[2], &want[3]);
	emul_cpuid_66(0, got);
	check(!memcmp(got, want, sizeof(got)), "66 0f a2 (cpuid 0): eax 0x%x ebx 0x%x, want 0x%x 0x%x",
	      got[0], got[1], want[0], want[1]);
	/* Run twice from the middle, the second CPUID would see leaf = max leaf. */
	memset(got, 0, sizeof(got));
	emul_cpuid_2e3e(0, got);
	check(!memcmp(got, want, sizeof(got)), "2e 3e 0f a2 (cpuid 0): eax 0x%x ebx 0x%x, want 0x%x 0x%x",
	      got[0], got[1], want[0], want[1]);
	cpuid(PVHV_CPUID_BASE, 0, &want[0], &want[1], &want[2], &want[3]);
	emul_cpuid_66(PVHV_CPUID_BASE, got);
	check(!memcmp(got, want, sizeof(got)), "66 0f a2 (cpuid 0x%x): ebx 0x%x want 0x%x",
	      PVHV_CPUID_BASE, got[1], want[1]);
}

/* PAT: an MSR pvhv keeps for the guest, read back as written. */
static void prefixed_msrs(void)
{
	uint64_t pat = rdmsr(MSR_IA32_PAT), alt = 0x0007040600070106ull, v;

	v = emul_rdmsr_48(MSR_IA32_PAT);
	check(v == pat, "48 0f 32 (rdmsr PAT): 0x%lx want 0x%lx", v, pat);
	emul_wrmsr_48(MSR_IA32_PAT, alt);
	v = rdmsr(MSR_IA32_PAT);
	check(v == alt, "48 0f 30 (wrmsr PAT): reads back 0x%lx want 0x%lx", v, alt);
	emul_wrmsr_662e48(MSR_IA32_PAT, pat);
	v = rdmsr(MSR_IA32_PAT);
	check(v == pat, "66 2e 48 0f 30 (wrmsr PAT): reads back 0x%lx want 0x%lx", v, pat);
}

static void prefixed_hypercall(void)
{
	int64_t v;

	if (!guest_have_pvhv) {
		gprintf("skip - no pvhv: no hypercall\n");
		return;
	}
	if (guest_use_vmmcall) {
		v = emul_vmmcall_2e(PVHV_HC_VERSION);
		check(v == PVHV_ABI_VERSION, "2e 0f 01 d9 (vmmcall version): %ld want %d", v,
		      PVHV_ABI_VERSION);
	} else {
		v = emul_vmcall_3e(PVHV_HC_VERSION);
		check(v == PVHV_ABI_VERSION, "3e 0f 01 c1 (vmcall version): %ld want %d", v,
		      PVHV_ABI_VERSION);
	}
}

/*
 * QEMU's TCG ignores the INVD and XSETBV intercepts, so these exit only on
 * Bochs and hardware, where the CPU reports their length anyway.
 */
static void prefixed_invd_xsetbv(void)
{
	uint32_t a, b, c, d;
	uint64_t xcr0;

	emul_invd_2e();
	check(1, "2e 0f 08 (invd) came back");
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26))) {
		gprintf("skip - no XSAVE: no xsetbv\n");
		return;
	}
	write_cr4(read_cr4() | CR4_OSXSAVE);
	xcr0 = xgetbv(0);
	emul_xsetbv_2e(0, xcr0);
	check(xgetbv(0) == xcr0, "2e 0f 01 d1 (xsetbv 0x%lx) came back", xcr0);
}

/* A pending self-IPI wakes the HLT at once; the handler must return past it. */
static void prefixed_hlt(void)
{
	set_gate(IRQ_VECTOR, emul_irq_stub);
	wrmsr(MSR_X2APIC_SVR, 0x1ff); /* APIC on, spurious vector 0xff */
	wrmsr(MSR_X2APIC_SELF_IPI, IRQ_VECTOR);
	emul_sti_hlt_3e();
	check(emul_irqs == 1, "3e f4 (hlt) woken once, returned past it (%lu interrupts)",
	      (unsigned long)emul_irqs);
}

/* ------------------------------------------------------------ non-zero CS base */

static uint64_t code_desc(uint32_t base, uint32_t limit, unsigned flags)
{
	return (limit & 0xffffull) | ((uint64_t)(base & 0xffffff) << 16) | (0x9aull << 40) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)flags << 52) |
	       ((uint64_t)(base >> 24) << 56);
}

static uint64_t gdt[6] __attribute__((aligned(16)));

static void load_gdt(uint32_t base32, uint32_t base16)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) p = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };

	gdt[1] = 0x00af9a000000ffffull; /* the runtime's: 64-bit code, flat data, 32-bit code */
	gdt[2] = 0x00cf92000000ffffull;
	gdt[3] = 0x00cf9a000000ffffull;
	gdt[GDT_CODE32_BASED / 8] = code_desc(base32, 0xfffff, 0xc);  /* G, D */
	gdt[GDT_CODE16_BASED / 8] = code_desc(base16, 0xffff, 0);
	__asm__ volatile("lgdt %0" : : "m"(p) : "memory");
}

static void cs_base(void)
{
	uint32_t base32 = (uint32_t)(c32_start - c32_decoy);
	uint32_t base16 = (uint32_t)(uintptr_t)c16_start - C16_IP;
	uint32_t want_ver = 0x20 | ((PVHV_IOAPIC_PINS - 1) << 16), want[4];

	if (c32_end - c32_start > c32_start - c32_decoy) {
		check(0, "32-bit code (%ld bytes) longer than its decoy", (long)(c32_end - c32_start));
		return;
	}
	emul_ioapic = PVHV_IOAPIC_GPA;
	load_gdt(base32, base16);
	emul_far_call(GDT_CODE32_BASED, (uint64_t)(uintptr_t)c32_decoy);
	check(c32_version == want_ver, "32-bit code, CS.base 0x%x: I/O APIC version 0x%x want 0x%x",
	      base32, c32_version, want_ver);
	cpuid(0, 0, &want[0], &want[1], &want[2], &want[3]);
	check(c32_vendor == want[1], "32-bit code, CS.base 0x%x: 66 0f a2 gives ebx 0x%x want 0x%x",
	      base32, c32_vendor, want[1]);
	emul_far_call(GDT_CODE16_BASED, C16_IP);
	check(c16_id == 0x0a000000, "16-bit code, CS.base 0x%x: I/O APIC ID reads back 0x%x",
	      base16, c16_id);
}

static const struct {
	const char *name;
	void (*run)(void);
} groups[] = {
	{ "cpuid", prefixed_cpuid },
	{ "msr", prefixed_msrs },
	{ "hypercall", prefixed_hypercall },
	{ "invd", prefixed_invd_xsetbv },
	{ "csbase", cs_base },
	{ "hlt", prefixed_hlt }, /* last: on failure it never returns */
};

int main(const struct pvhv_start_info *si)
{
	const char *event = cmdline_get("event"), *only = cmdline_get("only");
	unsigned ran = 0;

	(void)si;
	emul_ioapic = PVHV_IOAPIC_GPA;
	if (event && streq(event, "idt")) {
		gprintf("delivering #UD through an IDT at 0x%x\n", PVHV_IOAPIC_GPA);
		emul_idt_in_mmio();
	}
	if (event && streq(event, "stack")) {
		gprintf("delivering #DE onto a stack at 0x%x\n", PVHV_IOAPIC_GPA + 0x800);
		emul_stack_in_mmio();
	}
	if (event) {
		check(0, "event=%s: unknown", event);
		finish();
	}
	for (unsigned i = 0; i < ARRAY_SIZE(groups); i++) {
		if (only && !streq(only, groups[i].name))
			continue;
		groups[i].run();
		ran++;
	}
	if (!ran)
		check(0, "only=%s: unknown", only);
	finish();
}
