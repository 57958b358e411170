/* SPDX-License-Identifier: Apache-2.0 */
/* probe.c: one PCI function's identity, BAR sizes and capabilities, read through callbacks. */
#include "lib/base.h"
#include "drivers/pci/pci.h"

#define CAP_WALK_MAX 48 /* (0x100 - 0x40) / 4: more means a loop */

static uint32_t rd(const struct pci_cfg_ops *o, unsigned off, unsigned size)
{
	return o->read(o->ctx, off, size);
}

static void wr(const struct pci_cfg_ops *o, unsigned off, unsigned size, uint32_t v)
{
	o->write(o->ctx, off, size, v);
}

/* PCI 3.0, 6.2.5.1: write all-ones, read back the writable address bits, restore. */
static void size_bars(const struct pci_cfg_ops *o, struct pci_func *f)
{
	uint16_t cmd = (uint16_t)rd(o, PCI_COMMAND, 2);

	wr(o, PCI_COMMAND, 2, cmd & ~(PCI_CMD_IO | PCI_CMD_MEM));
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		unsigned off = PCI_BAR0 + 4 * i;
		uint32_t lo = rd(o, off, 4), hi = 0, mlo, mhi = 0;
		struct pci_bar *b = &f->bar[i];
		uint64_t mask;

		if (lo & 1) {
			wr(o, off, 4, ~0u);
			mlo = rd(o, off, 4);
			wr(o, off, 4, lo);
			/* Only the low 16 bits decode on many devices: the rest read 0. */
			mask = (mlo & ~3u) | ((mlo & 0xffff0000u) ? 0 : 0xffff0000u);
			if (mask & 0xffff) {
				b->kind = PCI_BAR_IO;
				b->addr = lo & ~3u;
				b->size = mask & -mask;
			}
			continue;
		}
		if (((lo >> 1) & 3) == 2 && i + 1 < PCI_NR_BARS) {
			hi = rd(o, off + 4, 4);
			wr(o, off, 4, ~0u);
			wr(o, off + 4, 4, ~0u);
			mlo = rd(o, off, 4);
			mhi = rd(o, off + 4, 4);
			wr(o, off, 4, lo);
			wr(o, off + 4, 4, hi);
			mask = ((uint64_t)mhi << 32) | (mlo & ~0xfu);
			if (mask) {
				b->kind = PCI_BAR_MEM64;
				b->addr = ((uint64_t)hi << 32) | (lo & ~0xfu);
				b->size = mask & -mask;
				b->prefetch = lo & 8;
			}
			f->bar[++i].kind = PCI_BAR_MEM64_HI;
			continue;
		}
		if (((lo >> 1) & 3) == 2 || ((lo >> 1) & 3) == 3)
			continue; /* 64-bit in the last slot, or a reserved type: not decodable */
		wr(o, off, 4, ~0u);
		mlo = rd(o, off, 4);
		wr(o, off, 4, lo);
		mask = mlo & ~0xfu;
		if (mask) {
			b->kind = PCI_BAR_MEM32;
			b->addr = lo & ~0xfu;
			b->size = mask & -mask;
			b->prefetch = lo & 8;
		}
	}
	wr(o, PCI_COMMAND, 2, cmd);
}

/* The table at (bir, offset) of bytes lies inside an implemented memory BAR. */
static bool in_mem_bar(const struct pci_func *f, uint8_t bir, uint32_t offset, uint64_t bytes)
{
	const struct pci_bar *b;

	if (bir >= PCI_NR_BARS)
		return false;
	b = &f->bar[bir];
	return (b->kind == PCI_BAR_MEM32 || b->kind == PCI_BAR_MEM64) &&
	       range_within(offset, bytes, 0, b->size);
}

static void walk_caps(const struct pci_cfg_ops *o, struct pci_func *f, char *err, size_t errlen)
{
	uint8_t seen[256 / 8] = { 0 };
	unsigned ptr = rd(o, PCI_CAP_PTR, 1) & 0xfc;

	for (unsigned n = 0; ptr && n < CAP_WALK_MAX; n++) {
		uint32_t hdr, ctrl;

		if (ptr < 0x40 || (seen[ptr / 8] & (1u << (ptr % 8))))
			break;
		seen[ptr / 8] |= 1u << (ptr % 8);
		hdr = rd(o, ptr, 4);
		ctrl = hdr >> 16;
		switch (hdr & 0xff) {
		case PCI_CAP_MSI: /* PCI 3.0, 6.8.1 */
			f->msi_cap = (uint8_t)ptr;
			f->msi_64 = ctrl & (1u << 7);
			f->msi_maskable = ctrl & (1u << 8);
			f->msi_vectors = (uint8_t)(1u << MIN((ctrl >> 1) & 7, 5u));
			break;
		case PCI_CAP_MSIX: { /* PCI 3.0, 6.8.2 */
			uint32_t table = rd(o, ptr + 4, 4), pba = rd(o, ptr + 8, 4);
			uint16_t size = (uint16_t)((ctrl & 0x7ff) + 1);

			if (!in_mem_bar(f, table & 7, table & ~7u, (uint64_t)size * 16) ||
			    !in_mem_bar(f, pba & 7, pba & ~7u, ALIGN_UP((uint64_t)size, 64) / 8)) {
				errorf(0, err, errlen, "msi-x table bar%u+0x%x or pba bar%u+0x%x outside its BAR",
				       table & 7, table & ~7u, pba & 7, pba & ~7u);
				break;
			}
			f->msix_cap = (uint8_t)ptr;
			f->msix_size = size;
			f->msix_bir = table & 7;
			f->msix_offset = table & ~7u;
			f->pba_bir = pba & 7;
			f->pba_offset = pba & ~7u;
			break;
		}
		case PCI_CAP_PCIE:
			f->pcie_cap = (uint8_t)ptr;
			break;
		}
		ptr = (hdr >> 8) & 0xfc;
	}
}

/* PCIe Base 4.0, 7.6: extended capabilities from 0x100, each header id:16 version:4 next:12. */
static int walk_ext_caps(const struct pci_cfg_ops *o, struct pci_func *f, char *err, size_t errlen)
{
	static const struct { uint16_t id, len; } lock[] = {
		{ PCI_EXT_SRIOV, 0x40 }, { PCI_EXT_REBAR, 0x34 }, { PCI_EXT_VF_REBAR, 0x34 },
	};
	uint8_t seen[PCI_CFG_SIZE / 4 / 8] = { 0 };
	unsigned off = PCI_EXT_CAP_START;

	while (off >= PCI_EXT_CAP_START && !(seen[off / 32] & (1u << (off / 4 % 8)))) {
		uint32_t hdr = rd(o, off, 4);

		if (hdr == 0 || hdr == ~0u)
			break;
		seen[off / 32] |= 1u << (off / 4 % 8);
		for (unsigned i = 0; i < ARRAY_SIZE(lock); i++) {
			if ((hdr & 0xffff) != lock[i].id)
				continue;
			if (f->nr_locked == PCI_MAX_LOCKED)
				return errorf(-E2BIG, err, errlen, "more than %u SR-IOV/resizable BAR capabilities",
					      PCI_MAX_LOCKED);
			f->locked[f->nr_locked].off = (uint16_t)off;
			f->locked[f->nr_locked++].len = (uint16_t)MIN(lock[i].len, PCI_CFG_SIZE - off);
		}
		off = (hdr >> 20) & 0xffc;
	}
	return 0;
}

int pci_probe_func(const struct pci_cfg_ops *ops, struct pci_func *f, char *err, size_t errlen)
{
	uint32_t id = rd(ops, PCI_VENDOR, 4);
	uint8_t ht;

	memset(f, 0, sizeof(*f));
	if (err && errlen)
		err[0] = 0;
	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return -ENODEV;
	f->vendor = (uint16_t)id;
	f->device = (uint16_t)(id >> 16);
	f->class_code = rd(ops, PCI_CLASS_REV, 4) >> 8;
	ht = (uint8_t)rd(ops, PCI_HEADER_TYPE, 1);
	f->header_type = ht & 0x7f;
	f->multi = ht & 0x80;
	if (f->header_type == 0)
		size_bars(ops, f);
	if (f->header_type <= 1 && (rd(ops, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		walk_caps(ops, f, err, errlen);
	if (f->pcie_cap)
		return walk_ext_caps(ops, f, err, errlen);
	return 0;
}

static const char *const kind_name[] = {
	[PCI_BAR_IO] = "io", [PCI_BAR_MEM32] = "mem32", [PCI_BAR_MEM64] = "mem64",
};

void pci_func_format(const struct pci_func *f, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
		     char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%04x:%02x:%02x.%u %04x:%04x class %06x", seg, bus, dev, fn,
				    f->vendor, f->device, f->class_code);

#define APPEND(...) do { if (n < len) n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); } while (0)
	if (f->header_type == 1)
		APPEND(" bridge");
	else if (f->header_type)
		APPEND(" header %u", f->header_type);
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &f->bar[i];

		if (b->kind == PCI_BAR_IO || b->kind == PCI_BAR_MEM32 || b->kind == PCI_BAR_MEM64)
			APPEND(" bar%u %s%s 0x%lx+0x%lx", i, kind_name[b->kind], b->prefetch ? "pf" : "",
			       (unsigned long)b->addr, (unsigned long)b->size);
	}
	if (f->msi_cap)
		APPEND(" msi %u%s%s", f->msi_vectors, f->msi_64 ? " 64" : "", f->msi_maskable ? " mask" : "");
	if (f->msix_cap)
		APPEND(" msix %u@bar%u+0x%x", f->msix_size, f->msix_bir, f->msix_offset);
	if (f->pcie_cap)
		APPEND(" pcie");
#undef APPEND
}
