/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vioapic.h: the domain's virtual I/O APIC, PVHV_IOAPIC_PINS pins at
 * PVHV_IOAPIC_GPA.
 *
 * Registers follow the 82093AA datasheet (IOREGSEL +0x00, IOWIN +0x10;
 * indirect registers ID 0x00, VER 0x01, ARB 0x02, redirection table
 * 0x10-0x3F as low/high dword pairs) plus the EOI register at +0x40 of
 * the later version-0x20 I/O xAPICs, which Linux uses to clear remote IRR.
 *
 * Pin levels are logical: level true means "asserted", whatever the
 * entry's polarity bit says (the polarity bit is stored and read back, as
 * in KVM).  Delivery is immediate, so delivery status (bit 12) reads 0.
 * The destination is the 8-bit field 63:56; Linux in x2APIC mode without
 * interrupt remapping programs physical APIC IDs below 256 there.
 *
 * No global state, no allocation; the caller serialises access.
 */
#ifndef PVHV_PVH_VIOAPIC_H
#define PVHV_PVH_VIOAPIC_H

#include "lib/base.h"
#include "pvhv/platform.h"

#define VIOAPIC_PINS PVHV_IOAPIC_PINS
#define VIOAPIC_VERSION 0x20u

/* MMIO offsets from PVHV_IOAPIC_GPA. */
#define VIOAPIC_IOREGSEL 0x00u
#define VIOAPIC_IOWIN 0x10u
#define VIOAPIC_EOI 0x40u
#define VIOAPIC_MMIO_SIZE 0x1000u

/* Indirect registers. */
#define VIOAPIC_REG_ID 0x00u
#define VIOAPIC_REG_VER 0x01u
#define VIOAPIC_REG_ARB 0x02u
#define VIOAPIC_REG_REDIR 0x10u /* + 2 * pin (low), + 2 * pin + 1 (high) */

/* Redirection entry bits. */
#define VIOAPIC_RTE_VECTOR 0xffull
#define VIOAPIC_RTE_LOGICAL (1ull << 11)
#define VIOAPIC_RTE_DELIVS (1ull << 12)
#define VIOAPIC_RTE_POLARITY (1ull << 13)
#define VIOAPIC_RTE_REMOTE_IRR (1ull << 14)
#define VIOAPIC_RTE_LEVEL (1ull << 15)
#define VIOAPIC_RTE_MASKED (1ull << 16)
#define VIOAPIC_RTE_DEST_SHIFT 56

struct vioapic {
	uint32_t id;                    /* 4-bit I/O APIC ID (ID register 27:24) */
	uint32_t ioregsel;              /* last IOREGSEL value, 8 bits */
	uint64_t redir[VIOAPIC_PINS];   /* redirection table */
	uint32_t pin_level;             /* bit n: input line n asserted */
};
_Static_assert(VIOAPIC_PINS <= 32, "pin_level is a 32-bit mask");

/*
 * How the I/O APIC hands an interrupt to the local APICs: dest is the
 * 8-bit destination field (an APIC ID, or a logical mask when logical is
 * set); mode is the delivery mode (0 fixed, 1 lowest priority, 2 SMI,
 * 4 NMI, 5 INIT, 7 ExtINT); level is the trigger mode, so the target sets
 * its TMR bit and reports the EOI back through vioapic_eoi().
 */
struct vioapic_deliver {
	void (*deliver)(void *ctx, uint32_t dest, bool logical, uint8_t mode,
			uint8_t vector, bool level);
	void *ctx;
};

/* Reset state: every pin masked, edge, vector 0, destination 0; lines low. */
void vioapic_init(struct vioapic *io, uint32_t id);

/*
 * An MMIO read at offset (from PVHV_IOAPIC_GPA, below VIOAPIC_MMIO_SIZE)
 * of size bytes.  Only 4-byte accesses at IOREGSEL and IOWIN read a
 * register; every other offset or size (including EOI, which is
 * write-only) reads all-ones of the access size.  Indirect registers that
 * do not exist also read 0xFFFFFFFF.  Always returns 0.
 */
int vioapic_mmio_read(struct vioapic *io, uint64_t offset, unsigned size, uint64_t *val);

/*
 * An MMIO write.  4-byte writes to IOREGSEL, IOWIN and EOI act; any other
 * offset or size is ignored.  Read-only bits (delivery status, remote IRR)
 * and registers (VER, ARB) ignore writes.  Unmasking a level-triggered
 * pin whose line is asserted and remote IRR clear delivers through d;
 * switching a pin to edge clears its remote IRR.  Always returns 0.
 */
int vioapic_mmio_write(struct vioapic *io, uint64_t offset, unsigned size,
		       uint64_t val, const struct vioapic_deliver *d);

/*
 * Drive input pin to level.  Edge-triggered pins deliver on a rising edge
 * when unmasked (an edge while masked is lost, as on the 82093AA);
 * level-triggered pins deliver while asserted, unmasked and remote IRR
 * clear, then set remote IRR.  pin >= VIOAPIC_PINS is ignored.
 */
void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level,
		     const struct vioapic_deliver *d);

/*
 * A level-triggered vector was EOI'd (a local APIC EOI with eoi_level, or
 * the EOI register): clear remote IRR on every level pin routed to vector
 * and deliver again on those whose line is still asserted and unmasked.
 */
void vioapic_eoi(struct vioapic *io, uint8_t vector, const struct vioapic_deliver *d);

#endif
