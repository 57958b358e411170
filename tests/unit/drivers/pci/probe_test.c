/* SPDX-License-Identifier: Apache-2.0 */
/* probe_test.c: unit tests for drivers/pci/probe.c on fake functions. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "drivers/pci/pci.h"
#include "tests/unit/drivers/pci/fake_pci.h"

static struct fake_pci d;
static struct pci_func f;
static char err[160], line[256];

static int probe(void)
{
	struct pci_cfg_ops ops = fake_ops(&d);

	return pci_probe_func(&ops, &f, err, sizeof(err));
}

/* Shaped like QEMU's virtio-net-pci (modern): I/O, MMIO for MSI-X, 64-bit prefetchable. */
static void virtio_net(void)
{
	fake_init(&d, 0x1af4, 0x1000, 0x020000);
	d.wmask[PCI_COMMAND / 4] = 0x0547;
	fake_put(&d, PCI_COMMAND, PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER, 2);
	fake_bar(&d, 0, PCI_BAR_IO, 0xc040, 0x20, false);
	fake_bar(&d, 1, PCI_BAR_MEM32, 0xfebd1000, 0x1000, false);
	fake_bar(&d, 4, PCI_BAR_MEM64, 0x380000000000ULL, 0x4000, true);
	fake_cap(&d, 0x98, PCI_CAP_MSIX, 2);            /* 3 entries */
	fake_put(&d, 0x98 + 4, 0x0000 | 1, 4);          /* table bar1+0 */
	fake_put(&d, 0x98 + 8, 0x0800 | 1, 4);          /* PBA bar1+0x800 */
	fake_cap(&d, 0x84, 0x09, 0);                    /* vendor specific: skipped */
	fake_cap(&d, 0x70, PCI_CAP_MSI, (1u << 7) | (1u << 8) | (2u << 1));
}

Test(probe, identity_bars_caps)
{
	virtio_net();
	cr_assert_eq(probe(), 0);
	cr_assert_eq(f.vendor, 0x1af4);
	cr_assert_eq(f.device, 0x1000);
	cr_assert_eq(f.class_code, 0x020000);
	cr_assert_eq(f.header_type, 0);
	cr_assert_eq(f.bar[0].kind, PCI_BAR_IO);
	cr_assert_eq(f.bar[0].addr, 0xc040);
	cr_assert_eq(f.bar[0].size, 0x20);
	cr_assert_eq(f.bar[1].kind, PCI_BAR_MEM32);
	cr_assert_eq(f.bar[1].addr, 0xfebd1000);
	cr_assert_eq(f.bar[1].size, 0x1000);
	cr_assert_eq(f.bar[2].kind, PCI_BAR_NONE);
	cr_assert_eq(f.bar[4].kind, PCI_BAR_MEM64);
	cr_assert_eq(f.bar[4].addr, 0x380000000000ULL);
	cr_assert_eq(f.bar[4].size, 0x4000);
	cr_assert(f.bar[4].prefetch);
	cr_assert_eq(f.bar[5].kind, PCI_BAR_MEM64_HI);
	cr_assert_eq(f.msix_cap, 0x98);
	cr_assert_eq(f.msix_size, 3);
	cr_assert_eq(f.msix_bir, 1);
	cr_assert_eq(f.msix_offset, 0);
	cr_assert_eq(f.pba_bir, 1);
	cr_assert_eq(f.pba_offset, 0x800);
	cr_assert_eq(f.msi_cap, 0x70);
	cr_assert(f.msi_64 && f.msi_maskable);
	cr_assert_eq(f.msi_vectors, 4);
	cr_assert_eq(err[0], 0, "%s", err);
}

Test(probe, sizing_restores_bars_and_command)
{
	uint8_t before[PCI_CFG_SIZE];

	virtio_net();
	memcpy(before, d.cfg, sizeof(before));
	cr_assert_eq(probe(), 0);
	cr_assert_eq(memcmp(before, d.cfg, sizeof(before)), 0);
	cr_assert_gt(d.writes, 6);
	cr_assert_eq(d.outside, 0);
}

/* Decoding must be off while a BAR holds all-ones (PCI 3.0, 6.2.5.1). */
static unsigned decode_on_while_sizing;
static uint32_t watch_read(void *ctx, unsigned off, unsigned size) { return fake_read(ctx, off, size); }
static void watch_write(void *ctx, unsigned off, unsigned size, uint32_t v)
{
	struct fake_pci *p = ctx;

	if (off >= PCI_BAR0 && off < PCI_BAR0 + 24 && v == ~0u &&
	    (fake_get(p, PCI_COMMAND) & (PCI_CMD_IO | PCI_CMD_MEM)))
		decode_on_while_sizing++;
	fake_write(ctx, off, size, v);
}

Test(probe, decoding_off_while_sizing)
{
	struct pci_cfg_ops ops = { .read = watch_read, .write = watch_write, .ctx = &d };

	virtio_net();
	cr_assert_eq(pci_probe_func(&ops, &f, err, sizeof(err)), 0);
	cr_assert_eq(decode_on_while_sizing, 0);
}

Test(probe, big_mem64_and_full_io)
{
	fake_init(&d, 0x8086, 0x10d3, 0x020000);
	fake_bar(&d, 0, PCI_BAR_MEM64, 0x4000000000ULL, GIB(16), false);
	fake_put(&d, PCI_BAR0 + 8, 0x1001, 4); /* 32-bit I/O decode */
	d.wmask[(PCI_BAR0 + 8) / 4] = ~0x7fu;
	cr_assert_eq(probe(), 0);
	cr_assert_eq(f.bar[0].size, GIB(16));
	cr_assert_eq(f.bar[2].kind, PCI_BAR_IO);
	cr_assert_eq(f.bar[2].size, 0x80);
	cr_assert_eq(f.bar[2].addr, 0x1000);
}

Test(probe, absent_function)
{
	memset(&d, 0xff, sizeof(d.cfg));
	cr_assert_eq(probe(), -ENODEV);
	memset(&d, 0, sizeof(d));
	cr_assert_eq(probe(), -ENODEV);
}

Test(probe, mem64_in_last_slot_is_not_decoded)
{
	fake_init(&d, 0x1234, 0x5678, 0x010802);
	fake_put(&d, PCI_BAR0 + 20, 0xfe000004, 4);
	d.wmask[(PCI_BAR0 + 20) / 4] = 0xffffc000;
	cr_assert_eq(probe(), 0);
	cr_assert_eq(f.bar[5].kind, PCI_BAR_NONE);
}

Test(probe, bridge_bars_untouched)
{
	fake_init(&d, 0x1b36, 0x000c, 0x060400);
	d.cfg[PCI_HEADER_TYPE] = 0x81;
	fake_bar(&d, 0, PCI_BAR_MEM32, 0xfe800000, 0x1000, false);
	cr_assert_eq(probe(), 0);
	cr_assert_eq(f.header_type, 1);
	cr_assert(f.multi);
	cr_assert_eq(f.bar[0].kind, PCI_BAR_NONE);
	cr_assert_eq(d.writes, 0);
	pci_func_format(&f, 1, 0x80, 0x1f, 7, line, sizeof(line));
	cr_assert_str_eq(line, "0001:80:1f.7 1b36:000c class 060400 bridge");
}

Test(probe, capability_loop_and_bad_pointer_end_the_walk)
{
	virtio_net();
	d.cfg[0x70 + 1] = 0x98; /* MSI -> MSI-X -> vendor -> MSI ... */
	cr_assert_eq(probe(), 0);
	cr_assert_eq(f.msi_cap, 0x70);
	cr_assert_eq(f.msix_cap, 0x98);
	virtio_net();
	d.cfg[0x70 + 1] = 0x20; /* into the header */
	d.cfg[PCI_CAP_PTR] = 0x70;
	cr_assert_eq(probe(), 0);
	cr_assert_eq(f.msi_cap, 0x70);
	cr_assert_eq(f.msix_cap, 0);
}

Test(probe, msix_table_outside_bar_is_dropped)
{
	virtio_net();
	fake_put(&d, 0x98 + 4, 0x0ff8 | 1, 4); /* 3 x 16 bytes from 0xff8 passes bar1's end */
	cr_assert_eq(probe(), 0);
	cr_assert_eq(f.msix_cap, 0);
	cr_assert(strstr(err, "msi-x table bar1+0xff8"), "%s", err);
	virtio_net();
	fake_put(&d, 0x98 + 4, 2, 4); /* BIR 2: no BAR there */
	cr_assert_eq(probe(), 0);
	cr_assert_eq(f.msix_cap, 0);
	virtio_net();
	fake_put(&d, 0x98 + 8, 0 | 0, 4); /* PBA in the I/O BAR */
	cr_assert_eq(probe(), 0);
	cr_assert_eq(f.msix_cap, 0);
}

Test(probe, boot_line)
{
	virtio_net();
	cr_assert_eq(probe(), 0);
	pci_func_format(&f, 0, 0, 3, 0, line, sizeof(line));
	cr_assert_str_eq(line, "0000:00:03.0 1af4:1000 class 020000 bar0 io 0xc040+0x20 "
			 "bar1 mem32 0xfebd1000+0x1000 bar4 mem64pf 0x380000000000+0x4000 "
			 "msi 4 64 mask msix 3@bar1+0x0");
	pci_func_format(&f, 0, 0, 3, 0, line, 20); /* truncated, still terminated */
	cr_assert_eq(strlen(line), 19);
}

static void ext_cap(unsigned off, uint16_t id, unsigned next)
{
	fake_put(&d, off, id | 1u << 16 | (uint32_t)next << 20, 4);
}

Test(probe, extended_list_locks_sriov_and_rebar)
{
	virtio_net();
	fake_cap(&d, 0xa0, PCI_CAP_PCIE, 2);
	ext_cap(0x100, 0x0001, 0x140);          /* AER: not locked */
	ext_cap(0x140, PCI_EXT_REBAR, 0x180);
	ext_cap(0x180, PCI_EXT_SRIOV, 0xfd0);
	ext_cap(0xfd0, PCI_EXT_VF_REBAR, 0x100); /* loops back: the walk ends */
	cr_assert_eq(probe(), 0, "%s", err);
	cr_assert_eq(f.pcie_cap, 0xa0);
	cr_assert_eq(f.nr_locked, 3);
	cr_assert_eq(f.locked[0].off, 0x140);
	cr_assert_eq(f.locked[0].len, 0x34);
	cr_assert_eq(f.locked[1].off, 0x180);
	cr_assert_eq(f.locked[1].len, 0x40);
	cr_assert_eq(f.locked[2].off, 0xfd0);
	cr_assert_eq(f.locked[2].len, 0x30); /* clipped at the end of the space */
}

Test(probe, extended_list_only_for_pcie_and_bounded)
{
	virtio_net();
	ext_cap(0x100, PCI_EXT_REBAR, 0);
	cr_assert_eq(probe(), 0);
	cr_assert_eq(f.nr_locked, 0); /* conventional PCI: no extended space */
	fake_cap(&d, 0xa0, PCI_CAP_PCIE, 2);
	for (unsigned i = 0; i < 5; i++)
		ext_cap(0x100 + 0x40 * i, PCI_EXT_REBAR, 0x140 + 0x40 * i);
	cr_assert_eq(probe(), -E2BIG);
	cr_assert(strstr(err, "more than 4"), "%s", err);
	ext_cap(0x100, 0x0001, 0x0c0); /* next below 0x100 ends the walk */
	cr_assert_eq(probe(), 0);
	cr_assert_eq(f.nr_locked, 0);
}
