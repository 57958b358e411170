/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake_pci.h: a fake PCI function for the unit tests and the fuzzer: 4 KiB
 * of configuration space where each dword has its writable bits, so BARs
 * size as hardware does (the bits below the size read back 0).
 */
#ifndef PVHV_TESTS_FAKE_PCI_H
#define PVHV_TESTS_FAKE_PCI_H

#include "lib/base.h"
#include "drivers/pci/pci.h"

struct fake_pci {
	uint8_t cfg[PCI_CFG_SIZE];
	uint32_t wmask[PCI_CFG_SIZE / 4];
	unsigned outside;  /* accesses that broke pci_cfg_ops' contract */
	unsigned writes;
	uint32_t last_write_off, last_write_val;
};

static inline uint32_t fake_get(const struct fake_pci *d, unsigned off)
{
	return d->cfg[off] | (uint32_t)d->cfg[off + 1] << 8 | (uint32_t)d->cfg[off + 2] << 16 |
	       (uint32_t)d->cfg[off + 3] << 24;
}

static inline void fake_put(struct fake_pci *d, unsigned off, uint32_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		d->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

static inline bool fake_ok(unsigned off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off % size == 0 && off + size <= PCI_CFG_SIZE;
}

static inline uint32_t fake_read(void *ctx, unsigned off, unsigned size)
{
	struct fake_pci *d = ctx;

	if (!fake_ok(off, size)) {
		d->outside++;
		return ~0u;
	}
	return (fake_get(d, off & ~3u) >> (8 * (off & 3))) & (size == 4 ? ~0u : (1u << (8 * size)) - 1);
}

static inline void fake_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	struct fake_pci *d = ctx;
	unsigned dw = off & ~3u, sh = 8 * (off & 3);
	uint32_t bytes, wm, cur;

	if (!fake_ok(off, size)) {
		d->outside++;
		return;
	}
	d->writes++;
	d->last_write_off = off;
	d->last_write_val = val;
	bytes = (size == 4 ? ~0u : (1u << (8 * size)) - 1) << sh;
	wm = d->wmask[dw / 4] & bytes;
	cur = fake_get(d, dw);
	fake_put(d, dw, (cur & ~wm) | ((val << sh) & wm), 4);
}

static inline void fake_init(struct fake_pci *d, uint16_t vendor, uint16_t device, uint32_t class_code)
{
	memset(d, 0, sizeof(*d));
	fake_put(d, PCI_VENDOR, vendor | (uint32_t)device << 16, 4);
	fake_put(d, PCI_CLASS_REV, class_code << 8 | 1, 4);
	d->wmask[PCI_COMMAND / 4] = 0x0547;
	d->wmask[0x0c / 4] = 0xffff;
	d->wmask[PCI_INT_LINE / 4] = 0xff;
}

/* A BAR of size at addr: kind PCI_BAR_IO (16-bit decode), MEM32 or MEM64 (taking slot i + 1). */
static inline void fake_bar(struct fake_pci *d, unsigned i, unsigned kind, uint64_t addr, uint64_t size,
			    bool prefetch)
{
	unsigned off = PCI_BAR0 + 4 * i;
	uint64_t m = ~(size - 1);

	if (kind == PCI_BAR_IO) {
		fake_put(d, off, (uint32_t)addr | 1, 4);
		d->wmask[off / 4] = (uint32_t)m & 0xfffc;
		return;
	}
	fake_put(d, off, (uint32_t)addr | (kind == PCI_BAR_MEM64 ? 4 : 0) | (prefetch ? 8 : 0), 4);
	d->wmask[off / 4] = (uint32_t)m & ~0xfu;
	if (kind == PCI_BAR_MEM64) {
		fake_put(d, off + 4, (uint32_t)(addr >> 32), 4);
		d->wmask[off / 4 + 1] = (uint32_t)(m >> 32);
	}
}

/* Appends a capability of len bytes at off (dword aligned) to the list. */
static inline void fake_cap(struct fake_pci *d, unsigned off, uint8_t id, uint16_t ctrl)
{
	unsigned p = PCI_CAP_PTR;

	d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	while (d->cfg[p])
		p = d->cfg[p] + 1u;
	d->cfg[p] = (uint8_t)off;
	fake_put(d, off, id | (uint32_t)ctrl << 16, 4);
}

static inline struct pci_cfg_ops fake_ops(struct fake_pci *d)
{
	return (struct pci_cfg_ops){ .read = fake_read, .write = fake_write, .ctx = d };
}

#endif
