/* SPDX-License-Identifier: Apache-2.0 */
/* vioapic.c: a virtual I/O APIC (82093AA registers plus the version-0x20 EOI register). */
#include "lib/base.h"
#include "pvh/vioapic.h"

/*
 * Guest-writable redirection-entry bits: vector, delivery mode 10:8,
 * destination mode 11, polarity 13, trigger mode 15, mask 16 and the
 * destination 63:56 (82093AA 3.2.4).  Everything else reads 0.
 */
#define RTE_RW (0xff00000000000000ull | 0x1afffull)
#define ID_MASK (0xfu << 24)

#define ALL_ONES(size) ((size) >= 8 ? ~0ull : (1ull << ((size) * 8)) - 1)

static bool pin_asserted(const struct vioapic *io, unsigned pin)
{
	return io->pin_level & (1u << pin);
}

/* Send pin's interrupt; level-triggered entries then wait for an EOI. */
static void deliver(struct vioapic *io, unsigned pin, const struct vioapic_deliver *d)
{
	uint64_t e = io->redir[pin];
	bool level = e & VIOAPIC_RTE_LEVEL;

	if (level)
		io->redir[pin] |= VIOAPIC_RTE_REMOTE_IRR;
	d->deliver(d->ctx, (uint32_t)(e >> VIOAPIC_RTE_DEST_SHIFT),
		   e & VIOAPIC_RTE_LOGICAL, (e >> 8) & 7, e & VIOAPIC_RTE_VECTOR, level);
}

/* A level pin with its line up, unmasked and not waiting for an EOI. */
static bool level_ready(const struct vioapic *io, unsigned pin)
{
	uint64_t e = io->redir[pin];

	return (e & VIOAPIC_RTE_LEVEL) && !(e & VIOAPIC_RTE_MASKED) &&
	       !(e & VIOAPIC_RTE_REMOTE_IRR) && pin_asserted(io, pin);
}

void vioapic_init(struct vioapic *io, uint32_t id)
{
	unsigned i;

	memset(io, 0, sizeof(*io));
	io->id = id & 0xf;
	for (i = 0; i < VIOAPIC_PINS; i++)
		io->redir[i] = VIOAPIC_RTE_MASKED;
}

static uint32_t read_indirect(const struct vioapic *io)
{
	uint32_t reg = io->ioregsel;
	unsigned pin;

	switch (reg) {
	case VIOAPIC_REG_ID:
	case VIOAPIC_REG_ARB: /* arbitration ID = I/O APIC ID after reset */
		return io->id << 24;
	case VIOAPIC_REG_VER:
		return VIOAPIC_VERSION | ((VIOAPIC_PINS - 1) << 16);
	}
	if (reg < VIOAPIC_REG_REDIR || reg >= VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS)
		return 0xffffffffu;
	pin = (reg - VIOAPIC_REG_REDIR) / 2;
	return reg & 1 ? (uint32_t)(io->redir[pin] >> 32) : (uint32_t)io->redir[pin];
}

static void write_redir(struct vioapic *io, unsigned pin, bool high, uint32_t val,
			const struct vioapic_deliver *d)
{
	uint64_t old = io->redir[pin], e;

	if (high)
		e = (old & 0xffffffffull) | ((uint64_t)val << 32);
	else
		e = (old & ~0xffffffffull) | val;
	e &= RTE_RW;
	/* Remote IRR is read-only but only means something for level pins:
	 * going to edge drops it (KVM does the same, and Linux's pre-0x20
	 * EOI trick relies on it). */
	if (e & VIOAPIC_RTE_LEVEL)
		e |= old & VIOAPIC_RTE_REMOTE_IRR;
	io->redir[pin] = e;
	if (level_ready(io, pin))
		deliver(io, pin, d);
}

static void write_indirect(struct vioapic *io, uint32_t val, const struct vioapic_deliver *d)
{
	uint32_t reg = io->ioregsel;

	if (reg == VIOAPIC_REG_ID) {
		io->id = (val & ID_MASK) >> 24;
		return;
	}
	if (reg < VIOAPIC_REG_REDIR || reg >= VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS)
		return; /* VER and ARB are read-only; the rest do not exist */
	write_redir(io, (reg - VIOAPIC_REG_REDIR) / 2, reg & 1, val, d);
}

int vioapic_mmio_read(struct vioapic *io, uint64_t offset, unsigned size, uint64_t *val)
{
	*val = ALL_ONES(size);
	if (size != 4)
		return 0;
	if (offset == VIOAPIC_IOREGSEL)
		*val = io->ioregsel;
	else if (offset == VIOAPIC_IOWIN)
		*val = read_indirect(io);
	return 0;
}

int vioapic_mmio_write(struct vioapic *io, uint64_t offset, unsigned size,
		       uint64_t val, const struct vioapic_deliver *d)
{
	if (size != 4)
		return 0;
	switch (offset) {
	case VIOAPIC_IOREGSEL:
		io->ioregsel = (uint32_t)val & 0xff;
		break;
	case VIOAPIC_IOWIN:
		write_indirect(io, (uint32_t)val, d);
		break;
	case VIOAPIC_EOI:
		vioapic_eoi(io, (uint8_t)val, d);
		break;
	}
	return 0;
}

void vioapic_set_irq(struct vioapic *io, unsigned pin, bool level,
		     const struct vioapic_deliver *d)
{
	bool was;
	uint64_t e;

	if (pin >= VIOAPIC_PINS)
		return;
	was = pin_asserted(io, pin);
	if (level)
		io->pin_level |= 1u << pin;
	else
		io->pin_level &= ~(1u << pin);
	e = io->redir[pin];
	if (e & VIOAPIC_RTE_LEVEL) {
		if (level_ready(io, pin))
			deliver(io, pin, d);
	} else if (level && !was && !(e & VIOAPIC_RTE_MASKED)) {
		deliver(io, pin, d);
	}
}

void vioapic_eoi(struct vioapic *io, uint8_t vector, const struct vioapic_deliver *d)
{
	unsigned pin;

	for (pin = 0; pin < VIOAPIC_PINS; pin++) {
		uint64_t e = io->redir[pin];

		if ((e & VIOAPIC_RTE_VECTOR) != vector || !(e & VIOAPIC_RTE_LEVEL))
			continue;
		io->redir[pin] &= ~VIOAPIC_RTE_REMOTE_IRR;
		if (level_ready(io, pin))
			deliver(io, pin, d);
	}
}
