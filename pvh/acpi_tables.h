/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acpi_tables.h: build a domain's hardware-reduced ACPI tables (RSDP,
 * XSDT, FADT, MADT, DSDT) for the guest to find at PVHV_ACPI_GPA.
 *
 * Layout, as offsets from the start of the area (every address written
 * into a table is guest-physical, buf_gpa + offset):
 *   ACPI_RSDP_OFF  RSDP revision 2, pointing at the XSDT (no RSDT)
 *   ACPI_XSDT_OFF  XSDT: FADT, MADT, and MCFG when it has PCI segments
 *   then FADT (276 bytes), MADT, DSDT, MCFG, each ACPI_TABLE_ALIGN aligned.
 *
 * The FADT says HW_REDUCED_ACPI, so Linux wants no SCI, PM1, GPE or PM
 * timer; power-off and reset go through the FADT's SLEEP_CONTROL_REG /
 * SLEEP_STATUS_REG / RESET_REG (the PVHV_ACPI_*_PORT ports) and the DSDT's
 * \_S5_ object.  The DSDT lists COM1 and one LNRO0005 (virtio-mmio) device
 * per entry of acpi_params.virtio, in that order (Linux's /dev/vdX order).
 *
 * A domain with passed-through PCI functions (the control domain) also
 * gets, per entry of acpi_params.pci: an MCFG allocation (its ECAM window
 * at the host's address), a PNP0A08 host bridge PCIn (_SEG, _BBN, _UID n,
 * _CRS: the bus range and one window per given BAR, so Linux claims the
 * BARs where they are) and a PNP0C02 device RESn reserving the ECAM
 * window (Linux uses MMCONFIG only when it is reserved in E820 or in
 * motherboard resources, PCI Firmware 3.2, 4.1.2).  No _PRT: INTx stays
 * off, interrupts come by MSI or MSI-X, which the FADT then allows.
 */
#ifndef PVHV_PVH_ACPI_TABLES_H
#define PVHV_PVH_ACPI_TABLES_H

#include "lib/base.h"
#include "pvhv/abi.h"

#define ACPI_RSDP_OFF 0x0u
#define ACPI_XSDT_OFF 0x30u
#define ACPI_TABLE_ALIGN 16u

#define ACPI_MAX_VCPUS 255u /* Processor Local APIC entries: IDs 0..254 */

struct acpi_virtio_dev {
	uint64_t addr; /* MMIO window: 32-bit, non-zero size */
	uint32_t size;
	uint32_t gsi;  /* I/O APIC pin, < PVHV_IOAPIC_PINS, not COM1's */
};

#define ACPI_MAX_PCI_SEGS 4
#define ACPI_MAX_PCI_WIN 12  /* windows per host bridge */

struct acpi_pci_win {
	uint64_t base, size;  /* non-empty; an I/O window lies below 0x10000 */
	bool io;
};

struct acpi_pci_seg {
	uint64_t ecam;        /* bus 0's ECAM address (MCFG base), 1 MiB aligned */
	uint16_t seg;
	uint8_t bus_start, bus_end;
	unsigned nr_win;
	struct acpi_pci_win win[ACPI_MAX_PCI_WIN];
};

struct acpi_params {
	unsigned nr_vcpus;  /* 1..ACPI_MAX_VCPUS, APIC ID = ACPI UID = index */
	unsigned nr_virtio; /* 0..PVHV_VIRTIO_MAX_DEVICES */
	struct acpi_virtio_dev virtio[PVHV_VIRTIO_MAX_DEVICES];
	unsigned nr_pci;    /* 0..ACPI_MAX_PCI_SEGS host bridges; 0: no MCFG, and the FADT says "no MSI" */
	struct acpi_pci_seg pci[ACPI_MAX_PCI_SEGS];
};

/*
 * Write the tables for *p into buf, which the guest sees at buf_gpa.
 * Checks everything first: buf_gpa 16-byte aligned with [buf_gpa,
 * buf_gpa + buflen) below 4 GiB; nr_vcpus and nr_virtio in range; each
 * virtio window non-empty, below 4 GiB and overlapping no other; each GSI a
 * pin of the I/O APIC, unique and not PVHV_COM1_GSI; each PCI segment
 * unique, bus_start <= bus_end, its ECAM window 1 MiB aligned below 2^52,
 * its windows within ACPI_MAX_PCI_WIN, non-empty, not wrapping (I/O below
 * 0x10000); and buflen large enough.  Then zeroes buf and writes the tables.
 *
 * Returns 0 with *rsdp_gpa = buf_gpa + ACPI_RSDP_OFF and *used = bytes
 * written (either pointer may be NULL).  On failure returns -EINVAL (bad
 * parameter) or -ENOSPC (buflen too small) with a message in err, and buf
 * is left untouched.
 */
int acpi_build(void *buf, size_t buflen, uint64_t buf_gpa,
	       const struct acpi_params *p, uint64_t *rsdp_gpa, size_t *used,
	       char *err, size_t errlen);

/*
 * Encode an AML PkgLength (ACPI 6.4, 20.2.4) for a package whose contents
 * after the PkgLength are body bytes: the encoded value counts itself too.
 * Writes 1-4 bytes to out and returns how many, or 0 when body is too big
 * for 28 bits.  Exposed for the unit tests.
 */
size_t acpi_aml_pkglen(uint8_t out[4], size_t body);

#endif
