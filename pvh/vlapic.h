/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vlapic.h: one virtual local APIC per vCPU, x2APIC mode only.
 *
 * The guest reaches its APIC only through MSRs: IA32_APIC_BASE (0x1B), the
 * x2APIC block 0x800-0x8FF (Intel SDM vol. 3A, 10.12.1.2, Table 10-6) and
 * IA32_TSC_DEADLINE (0x6E0).  There is no MMIO page.  The APIC starts (and
 * stays) in x2APIC mode; Linux, seeing it already enabled, keeps it
 * ("x2apic: enabled by BIOS").
 *
 * Time is a TSC value passed in by the caller.  Timer convention: the APIC
 * timer's input clock is the TSC itself, so one count of the timer lasts
 * (divide value) TSC ticks, i.e. the timer runs at tsc_khz * 1000 / divide
 * Hz.  This needs no scaling (exact integer arithmetic, no drift).  Linux
 * never has to measure it: with TSC-deadline advertised (CPUID.1:ECX[24])
 * it does not calibrate the APIC timer at all, and without it 6.1 polls the
 * counter against the TSC, whose frequency pvclock gives it.  If pvhv also
 * reports CPUID 0x15, it must say crystal = TSC (EAX = EBX = 1, ECX = TSC
 * Hz): Linux then presets lapic_timer_period = crystal_khz * 1000 / HZ,
 * which matches this convention.
 *
 * The module holds no global state and never allocates; every function
 * works on the struct it is given.  The caller serialises access (one
 * vCPU's APIC is touched by its own vCPU and by senders of interrupts to it,
 * under the domain's lock).
 */
#ifndef PVHV_PVH_VLAPIC_H
#define PVHV_PVH_VLAPIC_H

#include "lib/base.h"

#define VLAPIC_MSR_APIC_BASE 0x1bu
#define VLAPIC_MSR_TSC_DEADLINE 0x6e0u
#define VLAPIC_MSR_FIRST 0x800u
#define VLAPIC_MSR_LAST 0x8ffu

/* x2APIC MSR numbers (0x800 + xAPIC offset / 16). */
#define VLAPIC_MSR_ID 0x802u
#define VLAPIC_MSR_VERSION 0x803u
#define VLAPIC_MSR_TPR 0x808u
#define VLAPIC_MSR_PPR 0x80au
#define VLAPIC_MSR_EOI 0x80bu
#define VLAPIC_MSR_LDR 0x80du
#define VLAPIC_MSR_SVR 0x80fu
#define VLAPIC_MSR_ISR0 0x810u
#define VLAPIC_MSR_TMR0 0x818u
#define VLAPIC_MSR_IRR0 0x820u
#define VLAPIC_MSR_ESR 0x828u
#define VLAPIC_MSR_ICR 0x830u
#define VLAPIC_MSR_LVT_TIMER 0x832u
#define VLAPIC_MSR_LVT_THERMAL 0x833u
#define VLAPIC_MSR_LVT_PERF 0x834u
#define VLAPIC_MSR_LVT_LINT0 0x835u
#define VLAPIC_MSR_LVT_LINT1 0x836u
#define VLAPIC_MSR_LVT_ERROR 0x837u
#define VLAPIC_MSR_TIMER_INIT 0x838u
#define VLAPIC_MSR_TIMER_CUR 0x839u
#define VLAPIC_MSR_TIMER_DIV 0x83eu
#define VLAPIC_MSR_SELF_IPI 0x83fu

/* IA32_APIC_BASE: base 0xFEE00000, EN (11), EXTD (10), BSP (8). */
#define VLAPIC_BASE_ADDR 0xfee00000ull
#define VLAPIC_BASE_BSP (1ull << 8)
#define VLAPIC_BASE_EXTD (1ull << 10)
#define VLAPIC_BASE_EN (1ull << 11)

/* Version 0x14 (integrated APIC, as KVM), max LVT entry 5 (no CMCI), no
 * EOI-broadcast suppression (bit 24 clear). */
#define VLAPIC_VERSION (0x14u | (5u << 16))

#define VLAPIC_SVR_ENABLE (1u << 8)
#define VLAPIC_LVT_MASKED (1u << 16)
#define VLAPIC_TIMER_ONESHOT (0u << 17)
#define VLAPIC_TIMER_PERIODIC (1u << 17)
#define VLAPIC_TIMER_DEADLINE (2u << 17)
#define VLAPIC_TIMER_MODE_MASK (3u << 17)

/* ESR bits (SDM 10.5.3). */
#define VLAPIC_ESR_SEND_ILLEGAL (1u << 5)
#define VLAPIC_ESR_RECV_ILLEGAL (1u << 6)

/* Index into vlapic.lvt[]. */
enum vlapic_lvt {
	VLAPIC_LVT_TIMER,
	VLAPIC_LVT_THERMAL,
	VLAPIC_LVT_PERF,
	VLAPIC_LVT_LINT0,
	VLAPIC_LVT_LINT1,
	VLAPIC_LVT_ERROR,
	VLAPIC_LVT_COUNT
};

struct vlapic {
	uint32_t id;               /* x2APIC ID = vCPU index */
	bool bsp;
	uint64_t tsc_khz;          /* TSC (= APIC timer input) frequency */

	uint32_t tpr, svr, ldr;
	uint32_t isr[8], tmr[8], irr[8]; /* bit v of word v / 32 */
	uint32_t esr;              /* as read: latched by the last ESR write */
	uint32_t esr_pending;      /* errors seen since then */
	uint64_t icr;
	uint32_t lvt[VLAPIC_LVT_COUNT];
	uint32_t timer_init;       /* initial count */
	uint32_t timer_div;        /* divide configuration register */
	uint64_t tsc_deadline;     /* IA32_TSC_DEADLINE as the guest wrote it */

	/* Timer engine. */
	uint64_t deadline_tsc;     /* next expiry; 0 = not armed */
	uint64_t period_tsc;       /* periodic mode: TSC ticks per period, else 0 */
	uint32_t count_div;        /* TSC ticks per count, fixed when armed */
};

/*
 * What a WRMSR asks of the hypervisor.  vlapic_wrmsr() zeroes it first;
 * fields are meaningful only when their flag is set.
 *   send_ipi: an ICR write.  dest is an x2APIC ID (physical), a logical
 *     x2APIC ID (cluster << 16 | bitmap) when logical is set, or 0xFFFFFFFF
 *     (broadcast); ignore it when shorthand != 0.  mode is 0 fixed, 1
 *     lowest priority, 4 NMI, 5 INIT (assert only), 6 SIPI.  Fixed and
 *     lowest-priority IPIs are edge-triggered; deliver them with
 *     vlapic_accept_irq(target, vector, false).
 *   eoi: an EOI retired eoi_vector from the ISR.  eoi_level says its TMR
 *     bit was set: tell the I/O APIC (vioapic_eoi()).
 *   timer_changed: the timer was armed, re-armed or disarmed; re-read
 *     vlapic_timer_deadline() (it may already be due).
 */
struct vlapic_effect {
	bool send_ipi;
	uint32_t dest;
	uint8_t shorthand; /* 0 none, 1 self, 2 all incl. self, 3 all excl. self */
	uint8_t mode;
	uint8_t vector;
	bool logical;
	bool eoi;
	uint8_t eoi_vector;
	bool eoi_level;
	bool timer_changed;
};

#define VLAPIC_DEST_BROADCAST 0xffffffffu
#define VLAPIC_SH_NONE 0
#define VLAPIC_SH_SELF 1
#define VLAPIC_SH_ALL 2
#define VLAPIC_SH_OTHERS 3
#define VLAPIC_DM_FIXED 0
#define VLAPIC_DM_LOWEST 1
#define VLAPIC_DM_SMI 2
#define VLAPIC_DM_NMI 4
#define VLAPIC_DM_INIT 5
#define VLAPIC_DM_SIPI 6

/*
 * Put *a in its power-on/INIT state (SDM 10.4.7.1): IRR, ISR, TMR, ICR,
 * TPR, ESR and the timer zero, SVR 0xFF (software-disabled), every LVT
 * masked, timer disarmed.  id and bsp fix IA32_APIC_BASE and the LDR;
 * tsc_khz must be non-zero.
 */
void vlapic_init(struct vlapic *a, uint32_t id, bool bsp, uint64_t tsc_khz);

/* True for the MSRs vlapic_rdmsr()/vlapic_wrmsr() own: 0x1B, 0x6E0 and
 * 0x800-0x8FF. */
bool vlapic_owns_msr(uint32_t msr);

/*
 * RDMSR of an MSR vlapic_owns_msr() accepts.  Returns 0 with *val set, or
 * -EPERM (inject #GP) for write-only registers (EOI, SELF_IPI), unused
 * x2APIC offsets and anything else.  Reading the current count or
 * IA32_TSC_DEADLINE uses now_tsc.
 */
int vlapic_rdmsr(struct vlapic *a, uint32_t msr, uint64_t now_tsc, uint64_t *val);

/*
 * WRMSR.  Returns 0 and fills *fx (zeroed first), or -EPERM (inject #GP,
 * nothing changed) for: read-only or unused registers; bits 63:32 set on
 * any register but ICR; reserved bits set (SDM 10.12.1.3); a non-zero
 * write to EOI or ESR; an IA32_APIC_BASE value that moves the base, sets
 * reserved bits or leaves x2APIC mode (the BSP bit is ignored).
 * IA32_TSC_DEADLINE writes outside TSC-deadline mode are ignored
 * (SDM 10.5.4.1).  SELF_IPI is delivered to this APIC directly, not
 * through fx.
 */
int vlapic_wrmsr(struct vlapic *a, uint32_t msr, uint64_t val, uint64_t now_tsc,
		 struct vlapic_effect *fx);

/*
 * An interrupt arrives with vector and trigger mode (level: set the TMR bit
 * so its EOI is reported).  Sets IRR.  Vectors below 16 are dropped and
 * set "received illegal vector" in ESR; while the APIC is
 * software-disabled (SVR bit 8 clear) fixed interrupts are dropped, as
 * KVM does.  NMI, INIT and SIPI are not APIC-register business; the caller
 * handles them.
 */
void vlapic_accept_irq(struct vlapic *a, uint8_t vector, bool level);

/*
 * The vector the vCPU should take next: the highest IRR vector whose
 * priority class (vector >> 4) is above PPR's, or -1 if there is none or
 * the APIC is software-disabled.  The caller checks RFLAGS.IF and
 * interrupt shadows.
 */
int vlapic_pending_vector(const struct vlapic *a);

/* The vCPU took vector (one vlapic_pending_vector() returned): IRR -> ISR. */
void vlapic_ack(struct vlapic *a, uint8_t vector);

/*
 * Run the timer at now_tsc.  If it is armed and due, it expires: the LVT
 * timer vector is accepted unless masked; periodic mode re-arms for the
 * first period boundary after now_tsc (missed periods are dropped, the
 * phase is kept, so no drift and no burst), one-shot and TSC-deadline
 * disarm (IA32_TSC_DEADLINE then reads 0).  Returns true if an interrupt
 * was accepted.
 */
bool vlapic_timer_fire(struct vlapic *a, uint64_t now_tsc);

/* The TSC value at which the timer next expires, 0 if it is not armed. */
uint64_t vlapic_timer_deadline(const struct vlapic *a);

/* The processor-priority register (SDM 10.8.3.1). */
uint32_t vlapic_ppr(const struct vlapic *a);

#endif
