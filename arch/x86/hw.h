/* SPDX-License-Identifier: Apache-2.0 */
/* hw.h: what the files inside arch/x86 share with each other (not exported). */
#ifndef PVHV_ARCH_HW_H
#define PVHV_ARCH_HW_H

#include "arch/x86/arch.h"

#define GDT_CODE64 0x08
#define GDT_DATA 0x10
#define GDT_CODE32 0x18
#define GDT_TSS 0x20
#define GDT_ENTRIES 6

#define VEC_TIMER 0x20
#define VEC_KICK 0x21
#define VEC_PIC_BASE 0xf0 /* 0xf0-0xff: the masked legacy PIC, spurious only */
#define VEC_SPURIOUS 0xff

#define AP_TRAMPOLINE_PA 0x8000
#define CPU_STACK_SIZE (64 * 1024) /* rebuilds, ACPI and virtio work run on it */
#define STACK_PAINT 0x5a

/* Boot information in a loader-neutral form. */
#define MAX_MEM_REGIONS 64
struct mem_region {
	uint64_t addr, size;
	uint32_t type; /* 1 = usable RAM, as in e820 */
};
struct boot_info {
	const char *loader;
	unsigned nr_regions;
	struct mem_region region[MAX_MEM_REGIONS];
	hpa_t rsdp;
	const char *cmdline;
};
extern struct boot_info boot_info;
/* mm.c: word appears whole, space-separated, in pvhv's command line c (may be NULL). */
bool cmdline_has(const char *c, const char *word);

void serial_init(void);
void idt_init(void);
void cpu_tables_load(unsigned idx);
void mm_init(void);
/* mm.c for mempool.c: takes the npages free pages at p (0, or -EBUSY if one is used). */
int page_claim(hpa_t p, uint64_t npages);
/* One past the highest usable host RAM address pvhv manages. */
hpa_t mm_ram_top(void);
/*
 * Maps [start, start + size) (4 KiB aligned, not RAM) uncached in pvhv's
 * own tables, in place of whatever mapped it.  Boot CPU only, before the
 * others start and before anything reaches the range.  0 or pt_map()'s
 * and pt_unmap()'s errors (the range is then left partly unmapped).
 */
int mm_map_uncached(hpa_t start, uint64_t size);
/* mempool.c: carves the free 2 MiB chunks into the guest RAM pool (after mm_init). */
void mempool_init(void);
/* mempool.c for page_alloc(): hands one unreserved chunk back to the host allocator. */
int mempool_give_back(void);
void time_init(void);

/* ACPI: CPUs from the MADT, and poweroff/reset registers from the FADT. */
struct acpi_info {
	unsigned nr_cpus;
	uint32_t apic_ids[MAX_CPUS];
	bool have_s5;
	uint16_t pm1a_cnt, pm1b_cnt;
	uint16_t slp_typ_a, slp_typ_b;
	bool have_reset;
	uint8_t reset_space; /* 1 = I/O */
	uint64_t reset_addr;
	uint8_t reset_value;
	bool hw_reduced;
	uint64_t sleep_ctl_addr;
	uint8_t sleep_ctl_space;
	hpa_t mcfg;         /* the MCFG table (checksummed, below 4 GiB), 0 if none */
	uint32_t mcfg_len;
};
extern struct acpi_info acpi_info;
void acpi_init(void);
/* pci.c: maps each MCFG segment's ECAM window uncached and prints every function (after acpi_init). */
void pci_init(void);

/* hostirq.c: the trap handler notes an interrupt on a device vector (HOSTIRQ_FIRST-LAST). */
void hostirq_note(unsigned vec);

void lapic_init(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_init(uint32_t apic_id);
void lapic_send_sipi(uint32_t apic_id, uint8_t page);
void lapic_timer_calibrate(void);
void lapic_timer_oneshot_us(uint64_t us);

void udelay(uint64_t us);
extern bool host_has_nx;
void fpu_init(void);
void fpu_cpu_init(void);
void vcpu_state_cpu_init(void);

int svm_probe(char *why, size_t len);
extern const struct vcpu_ops svm_ops;
int vmx_probe(char *why, size_t len);
extern const struct vcpu_ops vmx_ops;

#endif
