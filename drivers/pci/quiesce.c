/* SPDX-License-Identifier: Apache-2.0 */
/* quiesce.c: a function stopped and reset before the memory its domain gave it is reused; pure. */
#include "drivers/pci/pci.h"

/* PCIe Base 4.0, 7.5.3: the PCI Express capability's device registers. */
#define EXP_DEVCAP 0x04
#define EXP_DEVCTL 0x08
#define EXP_DEVSTA 0x0a
#define EXP_DEVCAP_FLR (1u << 28)
#define EXP_DEVCTL_FLR (1u << 15)
#define EXP_DEVSTA_TRPND (1u << 5)
/* The Advanced Features capability (PCI Advanced Capabilities ECN): caps, control, status bytes. */
#define PCI_CAP_AF 0x13
#define AF_CAP 0x03
#define AF_CTRL 0x04
#define AF_STATUS 0x05
#define AF_CAP_TP (1u << 0)
#define AF_CAP_FLR (1u << 1)
#define AF_CTRL_FLR (1u << 0)
#define AF_STATUS_TP (1u << 0)
/* PCI 3.0, 6.8.1 and 6.8.2: message control. */
#define MSI_CTRL_ENABLE (1u << 0)
#define MSIX_CTRL_MASKALL (1u << 14)
#define MSIX_CTRL_ENABLE (1u << 15)

#define CAP_WALK_MAX 48
#define POLL_US 1000
#define PENDING_WAIT_US 100000 /* at most, for outstanding requests before the reset */
#define FLR_WAIT_US 100000     /* PCIe 4.0, 6.6.2: no request to it for 100 ms after FLR */
#define FLR_BACK_US 1000000    /* then up to 1 s more for it to answer its vendor ID */

static uint32_t rd(const struct pci_cfg_ops *o, unsigned off, unsigned size)
{
	return o->read(o->ctx, off, size);
}

static void wr(const struct pci_cfg_ops *o, unsigned off, unsigned size, uint32_t val)
{
	o->write(o->ctx, off, size, val);
}

/* The Advanced Features capability's offset, 0 when absent (a looping list ends the walk). */
static unsigned find_af(const struct pci_cfg_ops *o)
{
	uint8_t seen[256 / 8] = { 0 };
	unsigned ptr = rd(o, PCI_CAP_PTR, 1) & 0xfc;

	for (unsigned n = 0; ptr && n < CAP_WALK_MAX; n++) {
		uint32_t hdr;

		if (ptr < 0x40 || (seen[ptr / 8] & (1u << (ptr % 8))))
			break;
		seen[ptr / 8] |= 1u << (ptr % 8);
		hdr = rd(o, ptr, 4);
		if ((hdr & 0xff) == PCI_CAP_AF)
			return ptr;
		ptr = (hdr >> 8) & 0xfc;
	}
	return 0;
}

/* Polls until reg & bit reads clear, at most max_us: a device that never clears it is reset anyway. */
static void wait_clear(const struct pci_cfg_ops *o, unsigned reg, unsigned size, uint32_t bit,
		       uint64_t max_us, void (*delay_us)(uint64_t us))
{
	for (uint64_t t = 0; (rd(o, reg, size) & bit) && t < max_us; t += POLL_US)
		delay_us(POLL_US);
}

/*
 * Starts a function-level reset if the function offers one: the PCI
 * Express capability's (PCIe 4.0, 7.5.3.3 and 7.5.3.4) first, else the
 * Advanced Features capability's.  Outstanding requests get their time
 * first (PCIe 4.0, 6.6.2 implementation note).  True when one started.
 */
static bool start_flr(const struct pci_cfg_ops *o, const struct pci_func *f, void (*delay_us)(uint64_t us))
{
	unsigned af;

	if (f->pcie_cap && (rd(o, f->pcie_cap + EXP_DEVCAP, 4) & EXP_DEVCAP_FLR)) {
		wait_clear(o, f->pcie_cap + EXP_DEVSTA, 2, EXP_DEVSTA_TRPND, PENDING_WAIT_US, delay_us);
		wr(o, f->pcie_cap + EXP_DEVCTL, 2, rd(o, f->pcie_cap + EXP_DEVCTL, 2) | EXP_DEVCTL_FLR);
		return true;
	}
	af = find_af(o);
	if (af && (rd(o, af + AF_CAP, 1) & (AF_CAP_TP | AF_CAP_FLR)) == (AF_CAP_TP | AF_CAP_FLR)) {
		wait_clear(o, af + AF_STATUS, 1, AF_STATUS_TP, PENDING_WAIT_US, delay_us);
		wr(o, af + AF_CTRL, 1, AF_CTRL_FLR);
		return true;
	}
	return false;
}

static void restore_bars(const struct pci_cfg_ops *o, const struct pci_func *f)
{
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &f->bar[i];
		unsigned off = PCI_BAR0 + 4 * i;

		switch (b->kind) {
		case PCI_BAR_IO:
		case PCI_BAR_MEM32:
			wr(o, off, 4, (uint32_t)b->addr);
			break;
		case PCI_BAR_MEM64:
			wr(o, off, 4, (uint32_t)b->addr);
			if (i + 1 < PCI_NR_BARS)
				wr(o, off + 4, 4, (uint32_t)(b->addr >> 32));
			break;
		default:
			break; /* NONE; MEM64_HI went with its lower half */
		}
	}
}

int pci_quiesce(const struct pci_cfg_ops *hw, const struct pci_func *f, void (*delay_us)(uint64_t us),
		char *err, size_t errlen)
{
	uint32_t vendor = 0xffff;
	uint16_t cmd = (uint16_t)rd(hw, PCI_COMMAND, 2);

	/* No more DMA (and so no more MSI writes), no decode, no INTx (PCI 3.0, 6.2.2). */
	wr(hw, PCI_COMMAND, 2,
	   (cmd & ~(PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER)) | PCI_CMD_INTX_DISABLE);
	if (f->msi_cap)
		wr(hw, f->msi_cap + 2, 2, rd(hw, f->msi_cap + 2, 2) & ~MSI_CTRL_ENABLE);
	if (f->msix_cap)
		wr(hw, f->msix_cap + 2, 2,
		   (rd(hw, f->msix_cap + 2, 2) & ~MSIX_CTRL_ENABLE) | MSIX_CTRL_MASKALL);

	if (start_flr(hw, f, delay_us)) {
		delay_us(FLR_WAIT_US);
		/* Then it answers again; until then reads are all-ones (or CRS's 0x0001). */
		for (uint64_t t = 0;; t += POLL_US) {
			vendor = rd(hw, PCI_VENDOR, 2);
			if (vendor == f->vendor)
				break;
			if (t >= FLR_BACK_US)
				return errorf(-ETIMEDOUT, err, errlen,
					      "%04x:%04x did not come back from its function-level reset in %u ms "
					      "(vendor ID reads 0x%04x)",
					      f->vendor, f->device, (FLR_WAIT_US + FLR_BACK_US) / 1000, vendor);
			delay_us(POLL_US);
		}
	}
	restore_bars(hw, f);
	/* A reset cleared the command register; without one this keeps it so: decode and master off. */
	wr(hw, PCI_COMMAND, 2,
	   ((uint16_t)rd(hw, PCI_COMMAND, 2) & ~(PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER)) |
		   PCI_CMD_INTX_DISABLE);
	return 0;
}
