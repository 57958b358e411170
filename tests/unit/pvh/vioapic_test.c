/* SPDX-License-Identifier: Apache-2.0 */
/* vioapic_test.c: unit tests for pvh/vioapic.c through its MMIO registers and pins. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "pvh/vioapic.h"

struct sent {
	uint32_t dest;
	bool logical;
	uint8_t mode, vector;
	bool level;
};

static struct vioapic io;
static struct sent log_[16];
static unsigned nsent;

static void record(void *ctx, uint32_t dest, bool logical, uint8_t mode,
		   uint8_t vector, bool level)
{
	cr_assert_eq(ctx, &io);
	cr_assert_lt(nsent, ARRAY_SIZE(log_));
	log_[nsent++] = (struct sent){ dest, logical, mode, vector, level };
}

static const struct vioapic_deliver dlv = { record, &io };

static void setup(void)
{
	vioapic_init(&io, 1);
	nsent = 0;
	memset(log_, 0, sizeof(log_));
}

static uint32_t reg_read(uint32_t reg)
{
	uint64_t v = 0;

	cr_assert_eq(vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 4, reg, &dlv), 0);
	cr_assert_eq(vioapic_mmio_read(&io, VIOAPIC_IOWIN, 4, &v), 0);
	return (uint32_t)v;
}

static void reg_write(uint32_t reg, uint32_t val)
{
	cr_assert_eq(vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 4, reg, &dlv), 0);
	cr_assert_eq(vioapic_mmio_write(&io, VIOAPIC_IOWIN, 4, val, &dlv), 0);
}

static void route(unsigned pin, uint64_t rte)
{
	reg_write(VIOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)(rte >> 32));
	reg_write(VIOAPIC_REG_REDIR + 2 * pin, (uint32_t)rte);
}

static uint64_t rte_of(unsigned pin)
{
	return ((uint64_t)reg_read(VIOAPIC_REG_REDIR + 2 * pin + 1) << 32) |
	       reg_read(VIOAPIC_REG_REDIR + 2 * pin);
}

#define DEST(x) ((uint64_t)(x) << VIOAPIC_RTE_DEST_SHIFT)

TestSuite(vioapic, .init = setup);

/* ------------------------------------------------------------- registers */

Test(vioapic, id_version_arb)
{
	cr_assert_eq(reg_read(VIOAPIC_REG_ID), 1u << 24);
	cr_assert_eq(reg_read(VIOAPIC_REG_VER), 0x20u | (23u << 16));
	cr_assert_eq(reg_read(VIOAPIC_REG_ARB), 1u << 24);
	reg_write(VIOAPIC_REG_ID, 0xffffffffu);
	cr_assert_eq(reg_read(VIOAPIC_REG_ID), 0xfu << 24, "only bits 27:24 stick");
	reg_write(VIOAPIC_REG_VER, 0);
	cr_assert_eq(reg_read(VIOAPIC_REG_VER), 0x170020u, "VER is read-only");
	reg_write(VIOAPIC_REG_ARB, 0);
	cr_assert_eq(reg_read(VIOAPIC_REG_ARB), 0xfu << 24, "ARB is read-only");
}

Test(vioapic, ioregsel_reads_back)
{
	uint64_t v;

	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 4, 0x1234, &dlv);
	cr_assert_eq(vioapic_mmio_read(&io, VIOAPIC_IOREGSEL, 4, &v), 0);
	cr_assert_eq(v, 0x34, "IOREGSEL is 8 bits");
}

Test(vioapic, reset_all_masked)
{
	unsigned pin;

	for (pin = 0; pin < VIOAPIC_PINS; pin++)
		cr_assert_eq(rte_of(pin), VIOAPIC_RTE_MASKED, "pin %u", pin);
}

Test(vioapic, redir_write_read)
{
	uint64_t rte = DEST(0x3) | VIOAPIC_RTE_LEVEL | VIOAPIC_RTE_POLARITY |
		       VIOAPIC_RTE_LOGICAL | (1u << 8) | 0x44;

	route(23, rte);
	cr_assert_eq(rte_of(23), rte);
	/* Read-only and reserved bits do not stick. */
	route(5, 0xffffffffffffffffull);
	cr_assert_eq(rte_of(5), DEST(0xff) | 0x1afffull);
	cr_assert_eq(nsent, 0);
}

Test(vioapic, missing_registers)
{
	cr_assert_eq(reg_read(0x03), 0xffffffffu);
	cr_assert_eq(reg_read(0x0f), 0xffffffffu);
	cr_assert_eq(reg_read(VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS), 0xffffffffu);
	cr_assert_eq(reg_read(0xff), 0xffffffffu);
	reg_write(0x40, 0); /* beyond the table: ignored */
	reg_write(0x05, 0);
	cr_assert_eq(rte_of(0), VIOAPIC_RTE_MASKED);
}

Test(vioapic, bad_offsets_and_sizes)
{
	uint64_t v;

	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 4, VIOAPIC_REG_VER, &dlv);
	cr_assert_eq(vioapic_mmio_read(&io, 0x04, 4, &v), 0);
	cr_assert_eq(v, 0xffffffffull);
	cr_assert_eq(vioapic_mmio_read(&io, VIOAPIC_EOI, 4, &v), 0);
	cr_assert_eq(v, 0xffffffffull, "EOI is write-only");
	cr_assert_eq(vioapic_mmio_read(&io, 0x20, 4, &v), 0);
	cr_assert_eq(v, 0xffffffffull);
	cr_assert_eq(vioapic_mmio_read(&io, VIOAPIC_IOWIN, 1, &v), 0);
	cr_assert_eq(v, 0xffull);
	cr_assert_eq(vioapic_mmio_read(&io, VIOAPIC_IOWIN, 2, &v), 0);
	cr_assert_eq(v, 0xffffull);
	cr_assert_eq(vioapic_mmio_read(&io, VIOAPIC_IOWIN, 8, &v), 0);
	cr_assert_eq(v, ~0ull);
	cr_assert_eq(vioapic_mmio_read(&io, 0xfff, 4, &v), 0);
	cr_assert_eq(v, 0xffffffffull);

	/* Odd-sized writes and unknown offsets change nothing. */
	cr_assert_eq(vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 1, 0x10, &dlv), 0);
	cr_assert_eq(vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 8, 0x10, &dlv), 0);
	cr_assert_eq(vioapic_mmio_write(&io, 0x08, 4, 0x10, &dlv), 0);
	cr_assert_eq(vioapic_mmio_read(&io, VIOAPIC_IOREGSEL, 4, &v), 0);
	cr_assert_eq(v, VIOAPIC_REG_VER);
	vioapic_mmio_write(&io, VIOAPIC_IOREGSEL, 4, VIOAPIC_REG_REDIR, &dlv);
	cr_assert_eq(vioapic_mmio_write(&io, VIOAPIC_IOWIN, 2, 0, &dlv), 0);
	cr_assert_eq(rte_of(0), VIOAPIC_RTE_MASKED);
}

/* ------------------------------------------------------------- edge */

Test(vioapic, edge_rising_only)
{
	route(4, DEST(2) | 0x34);
	vioapic_set_irq(&io, 4, true, &dlv);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(log_[0].dest, 2);
	cr_assert_eq(log_[0].vector, 0x34);
	cr_assert_eq(log_[0].mode, 0);
	cr_assert_not(log_[0].logical);
	cr_assert_not(log_[0].level);
	vioapic_set_irq(&io, 4, true, &dlv);
	cr_assert_eq(nsent, 1, "no edge while held high");
	vioapic_set_irq(&io, 4, false, &dlv);
	cr_assert_eq(nsent, 1);
	vioapic_set_irq(&io, 4, true, &dlv);
	cr_assert_eq(nsent, 2);
	cr_assert_eq(rte_of(4) & VIOAPIC_RTE_REMOTE_IRR, 0, "no remote IRR on edge");
}

Test(vioapic, edge_masked_lost)
{
	route(4, VIOAPIC_RTE_MASKED | 0x34);
	vioapic_set_irq(&io, 4, true, &dlv);
	cr_assert_eq(nsent, 0);
	route(4, 0x34);
	cr_assert_eq(nsent, 0, "unmasking an edge pin does not replay");
	vioapic_set_irq(&io, 4, false, &dlv);
	vioapic_set_irq(&io, 4, true, &dlv);
	cr_assert_eq(nsent, 1);
}

Test(vioapic, logical_and_mode_passed)
{
	route(9, DEST(0x0c) | VIOAPIC_RTE_LOGICAL | (1u << 8) | 0x61);
	vioapic_set_irq(&io, 9, true, &dlv);
	cr_assert_eq(nsent, 1);
	cr_assert(log_[0].logical);
	cr_assert_eq(log_[0].mode, 1);
	cr_assert_eq(log_[0].dest, 0x0c);
}

/* ------------------------------------------------------------- level */

Test(vioapic, level_remote_irr_and_eoi)
{
	route(5, DEST(1) | VIOAPIC_RTE_LEVEL | 0x45);
	vioapic_set_irq(&io, 5, true, &dlv);
	cr_assert_eq(nsent, 1);
	cr_assert(log_[0].level);
	cr_assert(rte_of(5) & VIOAPIC_RTE_REMOTE_IRR);
	vioapic_set_irq(&io, 5, true, &dlv);
	cr_assert_eq(nsent, 1, "remote IRR holds further delivery");

	/* Still asserted at EOI: delivered again. */
	vioapic_eoi(&io, 0x45, &dlv);
	cr_assert_eq(nsent, 2);
	cr_assert(rte_of(5) & VIOAPIC_RTE_REMOTE_IRR);

	/* Deasserted, then EOI: quiet. */
	vioapic_set_irq(&io, 5, false, &dlv);
	vioapic_eoi(&io, 0x45, &dlv);
	cr_assert_eq(nsent, 2);
	cr_assert_eq(rte_of(5) & VIOAPIC_RTE_REMOTE_IRR, 0);
	vioapic_set_irq(&io, 5, true, &dlv);
	cr_assert_eq(nsent, 3);
}

Test(vioapic, eoi_register)
{
	route(6, VIOAPIC_RTE_LEVEL | 0x46);
	vioapic_set_irq(&io, 6, true, &dlv);
	vioapic_set_irq(&io, 6, false, &dlv);
	cr_assert(rte_of(6) & VIOAPIC_RTE_REMOTE_IRR);
	vioapic_mmio_write(&io, VIOAPIC_EOI, 4, 0x99, &dlv);
	cr_assert(rte_of(6) & VIOAPIC_RTE_REMOTE_IRR, "other vector: no effect");
	vioapic_mmio_write(&io, VIOAPIC_EOI, 2, 0x46, &dlv);
	cr_assert(rte_of(6) & VIOAPIC_RTE_REMOTE_IRR, "2-byte write ignored");
	vioapic_mmio_write(&io, VIOAPIC_EOI, 4, 0x46, &dlv);
	cr_assert_eq(rte_of(6) & VIOAPIC_RTE_REMOTE_IRR, 0);
	cr_assert_eq(nsent, 1);
}

Test(vioapic, eoi_clears_all_matching_level_pins)
{
	route(7, VIOAPIC_RTE_LEVEL | 0x50);
	route(8, VIOAPIC_RTE_LEVEL | 0x50);
	route(10, 0x50); /* edge, same vector */
	vioapic_set_irq(&io, 7, true, &dlv);
	vioapic_set_irq(&io, 8, true, &dlv);
	cr_assert_eq(nsent, 2);
	vioapic_set_irq(&io, 7, false, &dlv);
	vioapic_eoi(&io, 0x50, &dlv);
	cr_assert_eq(rte_of(7) & VIOAPIC_RTE_REMOTE_IRR, 0);
	cr_assert_eq(nsent, 3, "pin 8 still asserted: redelivered");
	cr_assert(rte_of(8) & VIOAPIC_RTE_REMOTE_IRR);
	cr_assert_eq(rte_of(10) & VIOAPIC_RTE_REMOTE_IRR, 0);
}

Test(vioapic, level_masked_then_unmasked)
{
	route(3, VIOAPIC_RTE_MASKED | VIOAPIC_RTE_LEVEL | 0x33);
	vioapic_set_irq(&io, 3, true, &dlv);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(rte_of(3) & VIOAPIC_RTE_REMOTE_IRR, 0);
	route(3, VIOAPIC_RTE_LEVEL | 0x33);
	cr_assert_eq(nsent, 1, "unmask with line asserted delivers");
	cr_assert(rte_of(3) & VIOAPIC_RTE_REMOTE_IRR);
	/* Rewriting the entry while remote IRR is set does not redeliver. */
	route(3, VIOAPIC_RTE_LEVEL | 0x33);
	cr_assert_eq(nsent, 1);
	cr_assert(rte_of(3) & VIOAPIC_RTE_REMOTE_IRR, "remote IRR is read-only");
}

Test(vioapic, level_deasserted_while_masked)
{
	route(3, VIOAPIC_RTE_MASKED | VIOAPIC_RTE_LEVEL | 0x33);
	vioapic_set_irq(&io, 3, true, &dlv);
	vioapic_set_irq(&io, 3, false, &dlv);
	route(3, VIOAPIC_RTE_LEVEL | 0x33);
	cr_assert_eq(nsent, 0);
}

Test(vioapic, masked_eoi_no_redelivery)
{
	route(2, VIOAPIC_RTE_LEVEL | 0x22);
	vioapic_set_irq(&io, 2, true, &dlv);
	cr_assert_eq(nsent, 1);
	route(2, VIOAPIC_RTE_MASKED | VIOAPIC_RTE_LEVEL | 0x22);
	vioapic_eoi(&io, 0x22, &dlv);
	cr_assert_eq(nsent, 1);
	cr_assert_eq(rte_of(2) & VIOAPIC_RTE_REMOTE_IRR, 0);
	route(2, VIOAPIC_RTE_LEVEL | 0x22);
	cr_assert_eq(nsent, 2);
}

Test(vioapic, switch_to_edge_clears_remote_irr)
{
	route(11, VIOAPIC_RTE_LEVEL | 0x3b);
	vioapic_set_irq(&io, 11, true, &dlv);
	vioapic_set_irq(&io, 11, false, &dlv);
	cr_assert(rte_of(11) & VIOAPIC_RTE_REMOTE_IRR);
	route(11, 0x3b);
	cr_assert_eq(rte_of(11) & VIOAPIC_RTE_REMOTE_IRR, 0);
	route(11, VIOAPIC_RTE_LEVEL | 0x3b);
	cr_assert_eq(rte_of(11) & VIOAPIC_RTE_REMOTE_IRR, 0);
	cr_assert_eq(nsent, 1);
}

Test(vioapic, bad_pins_ignored)
{
	route(0, 0x30);
	vioapic_set_irq(&io, VIOAPIC_PINS, true, &dlv);
	vioapic_set_irq(&io, 1000, true, &dlv);
	vioapic_set_irq(&io, ~0u, true, &dlv);
	cr_assert_eq(nsent, 0);
	cr_assert_eq(io.pin_level, 0);
}
