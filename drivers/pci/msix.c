/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msix.c: a passed-through function's interrupt messages: the domain's
 * MSI capability and MSI-X table kept in the model, the device programmed
 * with the host messages they are bound to.  Rules in pci.h; layouts
 * from PCI 3.0, 6.8.1 (MSI) and 6.8.2 (MSI-X).
 */
#include "lib/base.h"
#include "drivers/pci/pci.h"

#define MSI_ENABLE 0x0001u
#define MSI_MME 0x0070u
#define MSIX_ENABLE 0x8000u
#define MSIX_FMASK 0x4000u

/* ------------------------------------------------------------ MSI */

int pci_vcfg_msi_sync(struct pci_vcfg *v, const struct pci_msg_ops *ops)
{
	const struct pci_func *f = &v->f;
	unsigned cap = f->msi_cap, data = f->msi_64 ? 0x0c : 0x08;
	/*
	 * Address 0 (the reset value) is parked, not a message: Linux writes a
	 * zero message, address first, when it frees the vector of a function
	 * whose MSI it leaves enabled (msi_domain_deactivate(); e1000e's MSI
	 * self-test does so twice), so it is kept off like a masked vector
	 * instead of refused as a bad address at each of those writes.
	 */
	bool parked = !v->msi.addr;
	bool want = (v->msi.ctrl & MSI_ENABLE) && !(f->msi_maskable && (v->msi.mask & 1)) && !parked;
	uint16_t hw_ctrl;
	uint64_t haddr;
	uint32_t hdata;
	int rc;

	v->changed &= ~PCI_VCFG_MSI_CHANGED;
	if (!cap)
		return 0;
	hw_ctrl = (uint16_t)v->hw.read(v->hw.ctx, cap + 2, 2);
	/* Off first: the device must not send a half-written message (6.8.1.3). */
	v->hw.write(v->hw.ctx, cap + 2, 2, hw_ctrl & ~(MSI_ENABLE | MSI_MME));
	if (!want) {
		ops->unbind(ops->ctx, 0);
		return 0;
	}
	rc = ops->bind(ops->ctx, 0, v->msi.addr, v->msi.data, &haddr, &hdata);
	if (rc)
		return rc;
	v->hw.write(v->hw.ctx, cap + 4, 4, (uint32_t)haddr);
	if (f->msi_64)
		v->hw.write(v->hw.ctx, cap + 8, 4, (uint32_t)(haddr >> 32));
	v->hw.write(v->hw.ctx, cap + data, 2, (uint16_t)hdata);
	if (f->msi_maskable)
		v->hw.write(v->hw.ctx, cap + data + 4, 4, 0);
	v->hw.write(v->hw.ctx, cap + 2, 2, (hw_ctrl & ~MSI_MME) | MSI_ENABLE);
	return 0;
}

/* ------------------------------------------------------------ MSI-X */

static void hw_mask(struct pci_msix *m, unsigned i, bool masked)
{
	m->hw.write(m->hw.ctx, i * PCI_MSIX_ENTRY + 12, 4, masked ? PCI_MSIX_MASKBIT : 0);
}

/*
 * Entry i as the domain's programming says it should be now: masked in
 * the device while anything changes (6.8.2.9: a message may change only
 * while masked), then bound and unmasked if it is to fire.
 */
static void apply(struct pci_msix *m, unsigned i)
{
	struct pci_msix_entry *e = &m->e[i];
	bool want = m->enabled && !m->fmask && !(e->ctrl & PCI_MSIX_MASKBIT);
	uint64_t haddr;
	uint32_t hdata;
	int rc;

	hw_mask(m, i, true);
	e->live = false;
	if (!want)
		return; /* the route stays bound: masking is frequent, a pending message still arrives */
	rc = m->msg.bind(m->msg.ctx, i, e->addr, e->data, &haddr, &hdata);
	if (rc) {
		m->bind_failed++;
		m->last_error = rc;
		m->last_index = i;
		return;
	}
	m->hw.write(m->hw.ctx, i * PCI_MSIX_ENTRY, 4, (uint32_t)haddr);
	m->hw.write(m->hw.ctx, i * PCI_MSIX_ENTRY + 4, 4, (uint32_t)(haddr >> 32));
	m->hw.write(m->hw.ctx, i * PCI_MSIX_ENTRY + 8, 4, hdata);
	hw_mask(m, i, false);
	e->live = true;
}

int pci_msix_init(struct pci_msix *m, struct pci_msix_entry *e, unsigned nr, const struct pci_cfg_ops *hw,
		  const struct pci_msg_ops *msg)
{
	if (nr < 1 || nr > PCI_MSIX_MAX)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->nr = nr;
	m->e = e;
	m->hw = *hw;
	m->msg = *msg;
	for (unsigned i = 0; i < nr; i++) {
		e[i] = (struct pci_msix_entry){ .ctrl = PCI_MSIX_MASKBIT };
		hw_mask(m, i, true);
	}
	return 0;
}

static bool access_ok(const struct pci_msix *m, uint64_t off, unsigned size)
{
	return (size == 4 || size == 8) && off % size == 0 && range_within(off, size, 0, (uint64_t)m->nr * 16);
}

static uint32_t read32(const struct pci_msix *m, uint64_t off)
{
	const struct pci_msix_entry *e = &m->e[off / PCI_MSIX_ENTRY];

	switch (off % PCI_MSIX_ENTRY) {
	case 0:
		return (uint32_t)e->addr;
	case 4:
		return (uint32_t)(e->addr >> 32);
	case 8:
		return e->data;
	}
	return e->ctrl;
}

int pci_msix_read(struct pci_msix *m, uint64_t off, unsigned size, uint64_t *val)
{
	if (!access_ok(m, off, size)) {
		m->refused++;
		*val = ~0ULL;
		return -EINVAL;
	}
	*val = read32(m, off);
	if (size == 8)
		*val |= (uint64_t)read32(m, off + 4) << 32;
	return 0;
}

/* One dword; true when the entry must be applied again (its mask, or an unmasked entry's message changed). */
static bool write32(struct pci_msix *m, uint64_t off, uint32_t val)
{
	struct pci_msix_entry *e = &m->e[off / PCI_MSIX_ENTRY];
	uint32_t old = read32(m, off);

	switch (off % PCI_MSIX_ENTRY) {
	case 0:
		e->addr = (e->addr & ~0xffffffffULL) | (val & ~3u); /* bits 1:0 are reserved, read 0 */
		break;
	case 4:
		e->addr = (e->addr & 0xffffffffULL) | (uint64_t)val << 32;
		break;
	case 8:
		e->data = val;
		break;
	default:
		e->ctrl = val & PCI_MSIX_MASKBIT; /* the other bits are reserved */
		return (old ^ e->ctrl) != 0;
	}
	/* A live entry's message moved, or one whose bind was refused may now be bindable. */
	return read32(m, off) != old && (e->live || !(e->ctrl & PCI_MSIX_MASKBIT));
}

int pci_msix_write(struct pci_msix *m, uint64_t off, unsigned size, uint64_t val)
{
	bool changed;

	if (!access_ok(m, off, size)) {
		m->refused++;
		return -EINVAL;
	}
	changed = write32(m, off, (uint32_t)val);
	if (size == 8)
		changed |= write32(m, off + 4, (uint32_t)(val >> 32));
	if (changed)
		apply(m, (unsigned)(off / PCI_MSIX_ENTRY));
	return 0;
}

void pci_msix_control(struct pci_msix *m, uint16_t ctrl)
{
	bool enabled = (ctrl & MSIX_ENABLE) != 0, fmask = (ctrl & MSIX_FMASK) != 0;

	if (enabled == m->enabled && fmask == m->fmask)
		return;
	m->enabled = enabled;
	m->fmask = fmask;
	for (unsigned i = 0; i < m->nr; i++) {
		apply(m, i);
		if (!enabled)
			m->msg.unbind(m->msg.ctx, i);
	}
}

void pci_msix_release(struct pci_msix *m)
{
	for (unsigned i = 0; i < m->nr; i++) {
		hw_mask(m, i, true);
		m->e[i].live = false;
		m->msg.unbind(m->msg.ctx, i);
	}
	m->enabled = false;
}
