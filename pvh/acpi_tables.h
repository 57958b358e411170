/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acpi_tables.h: build a domain's hardware-reduced ACPI tables (RSDP,
 * XSDT, FADT, MADT, DSDT) for the guest to find at PVHV_ACPI_GPA.
 *
 * Layout, as offsets from the start of the area (every address written
 * into a table is guest-physical, buf_gpa + offset):
 *   ACPI_RSDP_OFF  RSDP revision 2, pointing at the XSDT (no RSDT)
 *   ACPI_XSDT_OFF  XSDT: FADT, MADT
 *   then FADT (276 bytes), MADT, DSDT, each ACPI_TABLE_ALIGN aligned.
 *
 * The FADT says HW_REDUCED_ACPI, so Linux wants no SCI, PM1, GPE or PM
 * timer; power-off and reset go through the FADT's SLEEP_CONTROL_REG /
 * SLEEP_STATUS_REG / RESET_REG (the PVHV_ACPI_*_PORT ports) and the DSDT's
 * \_S5_ object.  The DSDT lists COM1 and one LNRO0005 (virtio-mmio) device
 * per entry of acpi_params.virtio, in that order (Linux's /dev/vdX order).
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

struct acpi_params {
	unsigned nr_vcpus;  /* 1..ACPI_MAX_VCPUS, APIC ID = ACPI UID = index */
	unsigned nr_virtio; /* 0..PVHV_VIRTIO_MAX_DEVICES */
	struct acpi_virtio_dev virtio[PVHV_VIRTIO_MAX_DEVICES];
};

/*
 * Write the tables for *p into buf, which the guest sees at buf_gpa.
 * Checks everything first: buf_gpa 16-byte aligned with [buf_gpa,
 * buf_gpa + buflen) below 4 GiB; nr_vcpus and nr_virtio in range; each
 * virtio window non-empty, below 4 GiB and overlapping no other; each GSI a
 * pin of the I/O APIC, unique and not PVHV_COM1_GSI; and buflen large
 * enough.  Then zeroes buf and writes the tables.
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
