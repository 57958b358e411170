/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pci_fuzz.c: libFuzzer target: a hostile domain's configuration accesses
 * against drivers/pci/vcfg.c, over a fake function whose BARs and
 * capability bytes come from the input too (probed by drivers/pci/probe.c).
 *
 * Input: 16 bytes of BAR kinds, sizes and the capability pointer, 192
 * bytes of capability space (0x40-0xff), 64 of extended space (from
 * 0x100), then 7-byte accesses: op (bit 0
 * write, bits 1-3 size 1/2/4 or an invalid one, bit 4 a far offset),
 * offset (2 bytes), value (4 bytes).
 *
 * Beyond ASan/UBSan it checks pci.h's promises: no access reaches the
 * device outside its 4 KiB; no BAR register of the device ever changes
 * and the domain only ever reads a BAR as its host address or its size
 * mask; INTx disable stays set; MSI and MSI-X control and the SR-IOV and
 * resizable BAR capabilities never reach the device; refusals are counted
 * exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base.h"
#include "drivers/pci/pci.h"
#include "tests/unit/drivers/pci/fake_pci.h"

#define PREAMBLE (16 + 192 + 64)

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "pci_fuzz: %s\n", what);
		abort();
	}
}

static uint32_t strict_read(void *ctx, unsigned off, unsigned size)
{
	check(fake_ok(off, size), "read outside the function's 4 KiB or misaligned");
	return fake_read(ctx, off, size);
}

static void strict_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	check(fake_ok(off, size), "write outside the function's 4 KiB or misaligned");
	fake_write(ctx, off, size, val);
}

static void build(struct fake_pci *d, const uint8_t *in)
{
	static const unsigned kinds[4] = { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

	fake_init(d, 0x1b36, 0x00ff, 0x020000);
	fake_put(d, PCI_COMMAND, in[12] & 7, 2);
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		unsigned kind = kinds[in[i] & 3];
		unsigned shift = kind == PCI_BAR_IO ? 2 + in[6 + i] % 7 : 4 + in[6 + i] % (kind == PCI_BAR_MEM64 ? 36 : 27);
		uint64_t size = 1ULL << shift;
		uint64_t addr = size * ((in[i] >> 2) + 1);

		if (kind == PCI_BAR_NONE || (kind == PCI_BAR_MEM64 && i == PCI_NR_BARS - 1))
			continue;
		if (kind == PCI_BAR_IO)
			addr &= 0xffff & ~(size - 1);
		else if (kind == PCI_BAR_MEM32)
			addr &= 0xffffffffu & ~(size - 1);
		fake_bar(d, i, kind, addr, size, in[i] & 0x80);
		if (kind == PCI_BAR_MEM64)
			i++;
	}
	memcpy(d->cfg + 0x40, in + 16, 192);
	memcpy(d->cfg + PCI_EXT_CAP_START, in + 16 + 192, 64);
	d->cfg[PCI_CAP_PTR] = in[13];
	if (in[14] & 1)
		d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	for (unsigned i = 0x40 / 4; i < PCI_CFG_SIZE / 4; i++)
		d->wmask[i] = ~0u;
	d->wmask[0x10 / 4 + 8] = ~0u; /* the ROM BAR, so a write reaching it would show */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake_pci d;
	static uint8_t before[PCI_CFG_SIZE];
	static const unsigned sizes[8] = { 1, 2, 4, 4, 2, 1, 3, 8 };
	uint8_t pre[PREAMBLE] = { 0 };
	struct pci_cfg_ops ops = { .read = strict_read, .write = strict_write, .ctx = &d };
	struct pci_func f;
	struct pci_vcfg v;
	uint64_t refused = 0;
	char err[128];

	memcpy(pre, data, MIN(size, sizeof(pre)));
	build(&d, pre);
	if (pci_probe_func(&ops, &f, err, sizeof(err)))
		return 0;
	memcpy(before, d.cfg, sizeof(before));
	check(pci_vcfg_init(&v, &f, &ops, err, sizeof(err)) == 0, "init refused a type 0 function");
	for (size_t p = sizeof(pre); p + 7 <= size; p += 7) {
		const uint8_t *a = data + p;
		unsigned sz = sizes[(a[0] >> 1) & 7];
		uint32_t off = a[1] | (uint32_t)a[2] << 8, val = a[3] | a[4] << 8 | a[5] << 16 | (uint32_t)a[6] << 24;
		bool bad;
		int rc;

		if (a[0] & 0x10)
			off |= (uint32_t)a[6] << 24;
		else
			off &= 0x1fff;
		bad = !(sz == 1 || sz == 2 || sz == 4) || off % sz || off + sz > PCI_CFG_SIZE;
		if (a[0] & 1) {
			rc = pci_vcfg_write(&v, off, sz, val);
		} else {
			uint32_t got;

			rc = pci_vcfg_read(&v, off, sz, &got);
			check(!bad || got == ~0u, "a refused read did not give all-ones");
		}
		check((rc == -EINVAL) == bad, "refusal does not match the access rules");
		refused += bad;
		check(v.refused == refused, "refusals miscounted");
		for (unsigned i = 0; i < PCI_NR_BARS; i++) {
			uint32_t got;

			check(!memcmp(d.cfg + PCI_BAR0, before + PCI_BAR0, 4 * PCI_NR_BARS + 4 + 8), "a BAR moved");
			check(pci_vcfg_read(&v, PCI_BAR0 + 4 * i, 4, &got) == 0, "BAR read refused");
			check(f.bar[i].kind == PCI_BAR_NONE ? got == 0 : true, "an absent BAR reads non-zero");
			if (f.bar[i].kind == PCI_BAR_MEM32 || f.bar[i].kind == PCI_BAR_IO ||
			    f.bar[i].kind == PCI_BAR_MEM64) {
				uint32_t host = fake_get(&d, PCI_BAR0 + 4 * i);
				uint32_t low = f.bar[i].kind == PCI_BAR_IO ? 3 : 0xf;
				uint32_t sized = ((uint32_t)~(f.bar[i].size - 1) & ~low) | (host & low);

				check(got == host || got == sized, "a BAR reads neither its address nor its size");
			}
		}
		v.refused = refused; /* the BAR reads above are not the domain's */
		check(fake_get(&d, PCI_COMMAND) & PCI_CMD_INTX_DISABLE, "INTx disable cleared");
		if (f.msi_cap)
			check(!memcmp(d.cfg + f.msi_cap, before + f.msi_cap, f.msi_64 ? 16 : 12),
			      "an MSI write reached the device");
		if (f.msix_cap)
			check(!memcmp(d.cfg + f.msix_cap, before + f.msix_cap, 12),
			      "an MSI-X control write reached the device");
		for (unsigned i = 0; i < f.nr_locked; i++)
			check(!memcmp(d.cfg + f.locked[i].off, before + f.locked[i].off, f.locked[i].len),
			      "a write reached an SR-IOV or resizable BAR capability");
	}
	return 0;
}
