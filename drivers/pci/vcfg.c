/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vcfg.c: a passed-through function's configuration space as its domain
 * sees it: which fields pass to the device, which the model answers
 * (BARs, command, interrupt pin, MSI and MSI-X), and what is refused.
 * Rules in pci.h; register layouts from PCI 3.0, 6.1, 6.2 and 6.8.
 */
#include "lib/base.h"
#include "drivers/pci/pci.h"

#define MSI_CTRL_WRITABLE 0x0071u   /* MSI enable, multiple message enable */
#define MSIX_CTRL_WRITABLE 0xc000u  /* MSI-X enable, function mask */
#define CMD_PASSED (PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER)
#define STATUS_RW1C 0xf900u         /* error bits the domain may clear */
#define MSIX_CAP_LEN 12

static uint32_t hw_read(struct pci_vcfg *v, unsigned off, unsigned size)
{
	return v->hw.read(v->hw.ctx, off, size);
}

static void hw_write(struct pci_vcfg *v, unsigned off, unsigned size, uint32_t val)
{
	v->hw.write(v->hw.ctx, off, size, val);
}

static unsigned msi_len(const struct pci_func *f)
{
	return (f->msi_64 ? 0x10 : 0x0c) + (f->msi_maskable ? 8 : 0);
}

static bool in_cap(unsigned dw, uint8_t cap, unsigned len)
{
	return cap && dw >= cap && dw < (unsigned)cap + len;
}

/* The BAR register's value with the host address and its read-only type bits. */
static uint32_t bar_host_reg(const struct pci_func *f, unsigned i)
{
	const struct pci_bar *b = &f->bar[i];
	uint32_t pf = b->prefetch ? 8 : 0;

	switch (b->kind) {
	case PCI_BAR_IO:
		return (uint32_t)b->addr | 1;
	case PCI_BAR_MEM32:
		return (uint32_t)b->addr | pf;
	case PCI_BAR_MEM64:
		return (uint32_t)b->addr | 4 | pf;
	case PCI_BAR_MEM64_HI:
		return (uint32_t)(f->bar[i - 1].addr >> 32);
	}
	return 0;
}

/* What the register reads after all-ones: the size mask with the type bits. */
static uint32_t bar_size_reg(const struct pci_func *f, unsigned i)
{
	const struct pci_bar *b = &f->bar[i];
	uint32_t low = bar_host_reg(f, i) & (b->kind == PCI_BAR_IO ? 3u : 0xfu);

	switch (b->kind) {
	case PCI_BAR_IO:
	case PCI_BAR_MEM32:
	case PCI_BAR_MEM64:
		return ((uint32_t)~(b->size - 1) & ~(b->kind == PCI_BAR_IO ? 3u : 0xfu)) | low;
	case PCI_BAR_MEM64_HI:
		return (uint32_t)(~(f->bar[i - 1].size - 1) >> 32);
	}
	return 0;
}

/* A BAR write never reaches the device: it sizes, restores, or is a move (ignored). */
static void bar_write(struct pci_vcfg *v, unsigned i, uint32_t val)
{
	uint8_t kind = v->f.bar[i].kind;
	uint32_t ro = kind == PCI_BAR_IO ? 3u : kind == PCI_BAR_MEM64_HI ? 0u : 0xfu;
	uint32_t host = bar_host_reg(&v->f, i);

	if (kind == PCI_BAR_NONE)
		return;
	if ((val | ro) == 0xffffffffu) {
		v->bar_reg[i] = bar_size_reg(&v->f, i);
		return;
	}
	if ((val & ~ro) != (host & ~ro))
		v->bar_moves++;
	v->bar_reg[i] = host;
}

static void msi_write(struct pci_vcfg *v, unsigned rel, uint32_t val)
{
	unsigned data = v->f.msi_64 ? 0x0c : 0x08;

	if (rel == 0) {
		v->msi.ctrl = (uint16_t)((val >> 16) & MSI_CTRL_WRITABLE);
	} else if (rel == 4) {
		v->msi.addr = (v->msi.addr & ~0xffffffffULL) | (val & ~3u);
	} else if (rel == 8 && v->f.msi_64) {
		v->msi.addr = (v->msi.addr & 0xffffffffULL) | (uint64_t)val << 32;
	} else if (rel == data) {
		v->msi.data = (uint16_t)val;
	} else if (rel == data + 4) {
		v->msi.mask = val & (uint32_t)((1ULL << v->f.msi_vectors) - 1);
	} else {
		return; /* pending bits: read-only */
	}
	v->changed |= PCI_VCFG_MSI_CHANGED;
}

static uint32_t msi_read(struct pci_vcfg *v, unsigned rel)
{
	unsigned data = v->f.msi_64 ? 0x0c : 0x08;

	if (rel == 0)
		return (hw_read(v, v->f.msi_cap, 4) & ~(MSI_CTRL_WRITABLE << 16)) | (uint32_t)v->msi.ctrl << 16;
	if (rel == 4)
		return (uint32_t)v->msi.addr;
	if (rel == 8 && v->f.msi_64)
		return (uint32_t)(v->msi.addr >> 32);
	if (rel == data)
		return v->msi.data;
	if (rel == data + 4)
		return v->msi.mask;
	return hw_read(v, v->f.msi_cap + rel, 4);
}

/* The dword at dw as the domain sees it. */
static uint32_t vread32(struct pci_vcfg *v, unsigned dw)
{
	if (dw >= PCI_BAR0 && dw < PCI_BAR0 + 4 * PCI_NR_BARS)
		return v->bar_reg[(dw - PCI_BAR0) / 4];
	if (dw == PCI_ROM || dw == 0x38)
		return 0;
	if (dw == PCI_INT_LINE) /* pin 0: no INTx */
		return (hw_read(v, dw, 4) & 0xffff0000u) | v->int_line;
	if (in_cap(dw, v->f.msi_cap, msi_len(&v->f)))
		return msi_read(v, dw - v->f.msi_cap);
	if (in_cap(dw, v->f.msix_cap, 4))
		return (hw_read(v, dw, 4) & ~(MSIX_CTRL_WRITABLE << 16)) | (uint32_t)v->msix_ctrl << 16;
	return hw_read(v, dw, 4);
}

/* Header registers other than the BARs: only these bytes go to the device. */
static void header_write(struct pci_vcfg *v, unsigned off, unsigned size, uint32_t val)
{
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));

		if (o == 0x0c || o == 0x0d) /* cache line size, latency timer */
			hw_write(v, o, 1, b);
		else if (o == PCI_INT_LINE)
			v->int_line = b;
	}
	if (off <= PCI_COMMAND + 1 && off + size > PCI_COMMAND) {
		uint16_t cur = (uint16_t)hw_read(v, PCI_COMMAND, 2), g = cur;

		for (unsigned o = MAX(off, (unsigned)PCI_COMMAND); o < MIN(off + size, PCI_COMMAND + 2u); o++) {
			unsigned sh = 8 * (o - PCI_COMMAND);

			g = (uint16_t)((g & ~(0xffu << sh)) | ((val >> (8 * (o - off))) & 0xff) << sh);
		}
		hw_write(v, PCI_COMMAND, 2, (cur & ~CMD_PASSED) | (g & CMD_PASSED) | PCI_CMD_INTX_DISABLE);
	}
	if (off <= PCI_STATUS + 1 && off + size > PCI_STATUS) {
		uint32_t s = 0;

		for (unsigned o = MAX(off, (unsigned)PCI_STATUS); o < off + size; o++)
			s |= ((val >> (8 * (o - off))) & 0xff) << (8 * (o - PCI_STATUS));
		if (s & STATUS_RW1C)
			hw_write(v, PCI_STATUS, 2, s & STATUS_RW1C);
	}
}

static bool locked(const struct pci_func *f, unsigned off)
{
	for (unsigned i = 0; i < f->nr_locked && i < PCI_MAX_LOCKED; i++)
		if (off >= f->locked[i].off && off < (unsigned)f->locked[i].off + f->locked[i].len)
			return true;
	return false;
}

static bool access_ok(uint32_t off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off % size == 0 &&
	       range_within(off, size, 0, PCI_CFG_SIZE);
}

int pci_vcfg_init(struct pci_vcfg *v, const struct pci_func *f, const struct pci_cfg_ops *hw,
		  char *err, size_t errlen)
{
	if (f->header_type != 0)
		return errorf(-EINVAL, err, errlen, "pci %04x:%04x: header type %u, only type 0 passes through",
			      f->vendor, f->device, f->header_type);
	memset(v, 0, sizeof(*v));
	v->f = *f;
	v->hw = *hw;
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		v->bar_reg[i] = bar_host_reg(f, i);
	v->int_line = 0xff; /* "unknown or no connection" */
	/* Interrupts reach the domain by MSI or MSI-X only, from the start. */
	hw_write(v, PCI_COMMAND, 2, (hw_read(v, PCI_COMMAND, 2) & 0xffff) | PCI_CMD_INTX_DISABLE);
	return 0;
}

int pci_vcfg_read(struct pci_vcfg *v, uint32_t off, unsigned size, uint32_t *val)
{
	unsigned dw = off & ~3u;
	uint32_t mask;

	if (!access_ok(off, size)) {
		v->refused++;
		*val = ~0u;
		return -EINVAL;
	}
	mask = size == 4 ? ~0u : (1u << (8 * size)) - 1;
	if (dw < 0x40 || in_cap(dw, v->f.msi_cap, msi_len(&v->f)) || in_cap(dw, v->f.msix_cap, 4))
		*val = (vread32(v, dw) >> (8 * (off & 3))) & mask;
	else
		*val = hw_read(v, off, size) & mask;
	return 0;
}

int pci_vcfg_write(struct pci_vcfg *v, uint32_t off, unsigned size, uint32_t val)
{
	unsigned dw = off & ~3u, sh = 8 * (off & 3);
	bool bar = dw >= PCI_BAR0 && dw < PCI_BAR0 + 4 * PCI_NR_BARS;
	bool msi = in_cap(dw, v->f.msi_cap, msi_len(&v->f));
	bool msix = in_cap(dw, v->f.msix_cap, 4);
	uint32_t mask;

	if (!access_ok(off, size)) {
		v->refused++;
		return -EINVAL;
	}
	mask = size == 4 ? ~0u : (1u << (8 * size)) - 1;
	val &= mask;
	if (bar || msi || msix) {
		/* Emulated dwords: merge the bytes written into what the domain sees. */
		uint32_t cur = vread32(v, dw), merged = (cur & ~(mask << sh)) | (val << sh);

		if (bar) {
			bar_write(v, (dw - PCI_BAR0) / 4, merged);
		} else if (msi) {
			msi_write(v, dw - v->f.msi_cap, merged);
		} else if (off + size > dw + 2) { /* the control word, not the capability header */
			v->msix_ctrl = (uint16_t)((merged >> 16) & MSIX_CTRL_WRITABLE);
			v->changed |= PCI_VCFG_MSIX_CHANGED;
		}
		return 0;
	}
	if (in_cap(dw, v->f.msix_cap, MSIX_CAP_LEN))
		return 0; /* table and PBA location: read-only */
	if (dw < 0x40)
		header_write(v, off, size, val);
	else if (!locked(&v->f, dw))
		hw_write(v, off, size, val);
	return 0;
}
