/* SPDX-License-Identifier: Apache-2.0 */
/*
 * platform.h: what a pvhv domain's guest-physical space looks like.
 *
 * RAM (the configured size, a multiple of 2 MiB, at most PVHV_RAM_MAX) is
 * laid out as on a PC: low RAM [0, min(size, PVHV_RAM_LOW_END)), and the
 * rest, if any, from PVHV_RAM_HIGH_GPA up.  The hole between the two is
 * for devices (virtio-mmio, I/O APIC, local APIC); the memory map reports
 * both RAM ranges.  pvhv puts the boot structures in low memory at
 * PVHV_BOOTINFO_GPA (reported as reserved in the memory map), the kernel
 * where its ELF program headers say, and the initrd page-aligned at the top
 * of low RAM.  Everything outside RAM and the devices is unmapped: an
 * access there (the hole too) stops the domain.  Ports: a 16550 UART at PVHV_COM1_PORT; every other
 * port reads all-ones and ignores writes.
 */
#ifndef PVHV_GUEST_ABI_PLATFORM_H
#define PVHV_GUEST_ABI_PLATFORM_H

#define PVHV_BOOTINFO_GPA 0x6000u
#define PVHV_BOOTINFO_SIZE 0x2000u /* start_info, modlist, memmap, cmdline */
#define PVHV_CMDLINE_MAX 2048u
#define PVHV_RAM_ALIGN (2u << 20)
#define PVHV_COM1_PORT 0x3f8u
#define PVHV_COM1_GSI 4u

/* ACPI tables (RSDP first) live here, reported as ACPI memory. */
#define PVHV_ACPI_GPA 0x8000u
#define PVHV_ACPI_SIZE 0x8000u

/*
 * Hardware-reduced ACPI registers (FADT SLEEP_CONTROL_REG,
 * SLEEP_STATUS_REG, RESET_REG), 8-bit system I/O ports.  Writing
 * (5 << 2) | 0x20 to the control port powers the domain off; writing
 * PVHV_ACPI_RESET_VALUE to the reset port reboots it.
 */
#define PVHV_ACPI_SLEEP_CTL_PORT 0x600u
#define PVHV_ACPI_SLEEP_STS_PORT 0x601u
#define PVHV_ACPI_RESET_PORT 0x602u
#define PVHV_ACPI_RESET_VALUE 0x01u

/*
 * The page holding the legacy reset vector (0xFFFF0) is RAM that cannot
 * be executed: jumping there, as a BIOS reboot does, reboots the domain.
 */
#define PVHV_RESET_PAGE_GPA 0xff000u

/* pvpanic (ACPI "QEMU0001"): writing 1 ends the domain as crashed. */
#define PVHV_PVPANIC_PORT 0x505u

/*
 * Tests only: the MSI test device of a domain with "test-msi" in its
 * configuration (pvh/msitest.c), 32-bit port accesses at
 * PVHV_MSITEST_PORT + offset.  Write a message (ADDR_LO, ADDR_HI, DATA) as
 * into a device's MSI capability, then CMD: BIND routes it through a host
 * vector, FIRE sends that host vector as the device would, UNBIND frees it
 * (FIRE then sends the old vector, which nobody owns).  Reading CMD gives
 * the last command's status (0 or a positive errno); DELIVERED, DROPPED
 * and UNROUTED count interrupts; VECTOR is the host vector (0: unbound).
 */
#define PVHV_MSITEST_PORT 0x5e0u
#define PVHV_MSITEST_PORTS 0x20u
#define PVHV_MSITEST_ADDR_LO 0x00u
#define PVHV_MSITEST_ADDR_HI 0x04u
#define PVHV_MSITEST_DATA 0x08u
#define PVHV_MSITEST_CMD 0x0cu
#define PVHV_MSITEST_DELIVERED 0x10u
#define PVHV_MSITEST_DROPPED 0x14u
#define PVHV_MSITEST_UNROUTED 0x18u
#define PVHV_MSITEST_VECTOR 0x1cu
#define PVHV_MSITEST_BIND 1u
#define PVHV_MSITEST_FIRE 2u
#define PVHV_MSITEST_UNBIND 3u
#define PVHV_MSITEST_FIRE_OTHER 4u /* FIRE, to a host CPU other than the one running this vCPU */

/* Interrupt controllers: one I/O APIC (24 pins, GSI 0-23); local x2APICs with ID = vCPU index. */
#define PVHV_IOAPIC_GPA 0xfec00000u
#define PVHV_IOAPIC_PINS 24u
#define PVHV_LAPIC_GPA 0xfee00000u

/* virtio-mmio slots (listed in the DSDT), GSIs from PVHV_VIRTIO_GSI_BASE. */
#define PVHV_VIRTIO_MMIO_GPA 0xd0000000u
#define PVHV_VIRTIO_MMIO_STRIDE 0x1000u
#define PVHV_VIRTIO_MAX_DEVICES 8u
#define PVHV_VIRTIO_GSI_BASE 5u

/*
 * Low RAM ends at 3 GiB at the latest; the rest of RAM starts at 4 GiB.
 * At most 64 GiB of RAM: pvhv manages at most 64 GiB of host memory, so
 * no pool could reserve more.  RAM then ends at 65 GiB at most; a domain
 * whose RAM would end beyond the physical addresses the CPU reports
 * (CPUID 0x80000008, which the guest sees too) is not built.
 */
#define PVHV_RAM_LOW_END (3072ull << 20)
#define PVHV_RAM_HIGH_GPA (4096ull << 20)
#define PVHV_RAM_MAX (65536ull << 20)

#endif
