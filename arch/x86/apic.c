/* SPDX-License-Identifier: Apache-2.0 */
/* apic.c: the host's local APIC (xAPIC MMIO): IPIs, EOI and the one-shot timer. */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "arch/x86/x86.h"

#define LAPIC_BASE 0xfee00000UL
#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0

#define ICR_PENDING (1u << 12)
#define LVT_MASKED (1u << 16)

static uint64_t ticks_per_ms;

static inline uint32_t lapic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(LAPIC_BASE + reg);
}

static inline void lapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC_BASE + reg) = v;
}

/*
 * The legacy 8259 pair is left by the BIOS delivering the PIT at vector 8.
 * LINT0 is masked below, but not every machine honours that for the
 * PIC's INTR line (Bochs does not), so remap it above every vector pvhv
 * uses (spurious IRQ 7/15 then land on ignored vectors) and mask it.
 */
static void pic_disable(void)
{
	static const uint16_t port[2] = { 0x20, 0xa0 };
	static const uint8_t icw3[2] = { 1u << 2, 2 };

	for (int i = 0; i < 2; i++) {
		outb(port[i], 0x11);                          /* ICW1: init, ICW4 follows */
		outb(port[i] + 1, (uint8_t)(VEC_PIC_BASE + 8 * i)); /* ICW2: vector base */
		outb(port[i] + 1, icw3[i]);                   /* ICW3: cascade on IRQ 2 */
		outb(port[i] + 1, 0x01);                      /* ICW4: 8086 mode */
		outb(port[i] + 1, 0xff);                      /* OCW1: mask everything */
	}
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	if (this_cpu()->index == 0)
		pic_disable();

	if ((base & ~0xfffUL) != LAPIC_BASE)
		panic("apic: local APIC at 0x%lx, expected 0x%lx", base & ~0xfffUL, LAPIC_BASE);
	wrmsr(MSR_IA32_APIC_BASE, base | (1UL << 11)); /* global enable, xAPIC mode */
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	lapic_write(LAPIC_TIMER_DIV, 0x3); /* divide by 16 */
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	lapic_write(LAPIC_ESR, 0);
	lapic_write(LAPIC_EOI, 0);
}

uint32_t lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

static void icr_send(uint32_t apic_id, uint32_t lo)
{
	unsigned spins = 0;

	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, lo);
	while ((lapic_read(LAPIC_ICR_LO) & ICR_PENDING) && ++spins < 1000000)
		cpu_relax();
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	icr_send(apic_id, vector); /* fixed, physical, edge */
}

void lapic_send_init(uint32_t apic_id)
{
	icr_send(apic_id, 0x4500); /* INIT, level assert */
}

void lapic_send_sipi(uint32_t apic_id, uint8_t page)
{
	icr_send(apic_id, 0x4600 | page); /* start-up, vector = page number */
}

void lapic_timer_calibrate(void)
{
	uint32_t left;

	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	udelay(10000);
	left = lapic_read(LAPIC_TIMER_CUR);
	lapic_write(LAPIC_TIMER_INIT, 0);
	ticks_per_ms = (0xffffffffULL - left) / 10;
	if (!ticks_per_ms)
		panic("apic: timer does not count");
}

void lapic_timer_oneshot_us(uint64_t us)
{
	uint64_t ticks = us * ticks_per_ms / 1000;

	if (!us) {
		lapic_write(LAPIC_TIMER_INIT, 0);
		return;
	}
	if (ticks == 0)
		ticks = 1;
	if (ticks > 0xffffffffULL)
		ticks = 0xffffffffULL;
	lapic_write(LAPIC_LVT_TIMER, VEC_TIMER); /* one-shot, unmasked */
	lapic_write(LAPIC_TIMER_INIT, (uint32_t)ticks);
}
