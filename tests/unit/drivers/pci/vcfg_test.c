/* SPDX-License-Identifier: Apache-2.0 */
/* vcfg_test.c: unit tests for drivers/pci/vcfg.c, one rule of pci.h's list each. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "drivers/pci/pci.h"
#include "tests/unit/drivers/pci/fake_pci.h"

static struct fake_pci d;
static struct pci_func f;
static struct pci_vcfg v;
static struct pci_cfg_ops ops;
static char err[160];

/* An NVMe-like function: 64-bit BAR0 with MSI-X in it, I/O BAR2, MSI (64-bit, maskable). */
static void setup(void)
{
	fake_init(&d, 0x1b36, 0x0010, 0x010802);
	fake_put(&d, PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_MASTER, 2);
	fake_put(&d, PCI_STATUS, 0x8000 | 0x0010, 2);
	fake_put(&d, PCI_INT_LINE, 0x010b, 4); /* pin A, line 11 */
	fake_bar(&d, 0, PCI_BAR_MEM64, 0xfebf0000, 0x4000, false);
	fake_bar(&d, 2, PCI_BAR_IO, 0xc000, 0x100, false);
	fake_cap(&d, 0x40, PCI_CAP_MSIX, 63);
	fake_put(&d, 0x44, 0x2000, 4);
	fake_put(&d, 0x48, 0x3000, 4);
	fake_cap(&d, 0x50, PCI_CAP_MSI, (1u << 7) | (1u << 8) | (3u << 1));
	fake_cap(&d, 0x80, PCI_CAP_PCIE, 2);
	fake_put(&d, 0x100, 0x0001 | 1u << 16 | 0x200u << 20, 4); /* AER, then resizable BAR */
	fake_put(&d, 0x200, PCI_EXT_REBAR | 1u << 16, 4);
	/* Make everything writable beyond the header so a leak to the device shows. */
	for (unsigned i = 0x40 / 4; i < PCI_CFG_SIZE / 4; i++)
		d.wmask[i] = ~0u;
	ops = fake_ops(&d);
	cr_assert_eq(pci_probe_func(&ops, &f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pci_vcfg_init(&v, &f, &ops, err, sizeof(err)), 0, "%s", err);
}

static uint32_t rd(uint32_t off, unsigned size)
{
	uint32_t val;

	cr_assert_eq(pci_vcfg_read(&v, off, size, &val), 0, "read 0x%x/%u", off, size);
	return val;
}

static void wr(uint32_t off, unsigned size, uint32_t val)
{
	cr_assert_eq(pci_vcfg_write(&v, off, size, val), 0, "write 0x%x/%u", off, size);
}

TestSuite(vcfg, .init = setup);

Test(vcfg, identity_passes_and_is_read_only)
{
	cr_assert_eq(rd(0, 4), 0x00101b36);
	cr_assert_eq(rd(2, 2), 0x0010);
	cr_assert_eq(rd(0x0b, 1), 0x01);
	wr(0, 4, 0x12345678);
	cr_assert_eq(fake_get(&d, 0), 0x00101b36);
}

Test(vcfg, bar_sizing_answered_from_probe)
{
	unsigned writes = d.writes;

	wr(0x10, 4, ~0u);
	wr(0x14, 4, ~0u);
	cr_assert_eq(rd(0x10, 4), 0xffffc004);
	cr_assert_eq(rd(0x14, 4), 0xffffffff);
	wr(0x10, 4, 0xfebf0004);
	wr(0x14, 4, 0);
	cr_assert_eq(rd(0x10, 4), 0xfebf0004);
	cr_assert_eq(rd(0x14, 4), 0);
	wr(0x18, 4, ~0u);
	cr_assert_eq(rd(0x18, 4), 0xffffff01);
	wr(0x18, 4, 0xc001);
	cr_assert_eq(rd(0x18, 4), 0xc001);
	cr_assert_eq(v.bar_moves, 0);
	cr_assert_eq(d.writes, writes); /* the device never saw any of it */
}

Test(vcfg, bar_move_ignored_and_counted)
{
	wr(0x10, 4, 0x80000000);
	cr_assert_eq(rd(0x10, 4), 0xfebf0004);
	wr(0x14, 4, 1);
	cr_assert_eq(rd(0x14, 4), 0);
	wr(0x18, 2, 0xd000);
	cr_assert_eq(rd(0x18, 4), 0xc001);
	wr(0x12, 1, 0x00); /* one byte of the address */
	cr_assert_eq(rd(0x10, 4), 0xfebf0004);
	cr_assert_eq(v.bar_moves, 4);
	cr_assert_eq(fake_get(&d, 0x10), 0xfebf0004);
	cr_assert_eq(fake_get(&d, 0x14), 0);
	cr_assert_eq(fake_get(&d, 0x18), 0xc001);
	wr(0x1c, 4, 0x1234); /* no BAR there: nothing to move */
	cr_assert_eq(rd(0x1c, 4), 0);
	cr_assert_eq(v.bar_moves, 4);
}

Test(vcfg, rom_bar_absent)
{
	fake_put(&d, PCI_ROM, 0xfeb80000, 4);
	cr_assert_eq(rd(PCI_ROM, 4), 0);
	wr(PCI_ROM, 4, ~0u);
	cr_assert_eq(rd(PCI_ROM, 4), 0);
}

Test(vcfg, command_rules)
{
	cr_assert(fake_get(&d, PCI_COMMAND) & PCI_CMD_INTX_DISABLE, "init forces INTx disable");
	wr(PCI_COMMAND, 2, PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER | (1u << 8) | (1u << 6));
	cr_assert_eq(fake_get(&d, PCI_COMMAND) & 0xffff, PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER |
		     PCI_CMD_INTX_DISABLE);
	wr(PCI_COMMAND, 2, 0);
	cr_assert_eq(fake_get(&d, PCI_COMMAND) & 0xffff, PCI_CMD_INTX_DISABLE);
	wr(PCI_COMMAND, 1, PCI_CMD_MASTER);
	cr_assert_eq(fake_get(&d, PCI_COMMAND) & 0xffff, PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE);
	wr(PCI_COMMAND + 1, 1, 0); /* clearing INTx disable's byte */
	cr_assert(fake_get(&d, PCI_COMMAND) & PCI_CMD_INTX_DISABLE);
	cr_assert_eq(rd(PCI_COMMAND, 2), PCI_CMD_MASTER | PCI_CMD_INTX_DISABLE);
}

Test(vcfg, status_error_bits_only)
{
	unsigned writes;

	/* A dword write: command and status each get their own write, status only its RW1C bits. */
	wr(PCI_COMMAND, 4, (0x8010u << 16) | PCI_CMD_MEM);
	cr_assert_eq(d.last_write_off, PCI_STATUS);
	cr_assert_eq(d.last_write_val, 0x8000);
	cr_assert_eq(fake_get(&d, PCI_COMMAND) & 0xffff, PCI_CMD_MEM | PCI_CMD_INTX_DISABLE);
	writes = d.writes;
	wr(PCI_STATUS, 2, 0x0010); /* capability list bit only: nothing to send */
	cr_assert_eq(d.writes, writes);
	wr(PCI_STATUS + 1, 1, 0x81);
	cr_assert_eq(d.last_write_off, PCI_STATUS);
	cr_assert_eq(d.last_write_val, 0x8100);
}

Test(vcfg, interrupt_pin_hidden_line_emulated)
{
	cr_assert_eq(rd(0x3d, 1), 0);
	cr_assert_eq(rd(0x3c, 1), 0xff);
	wr(0x3c, 1, 5);
	cr_assert_eq(rd(0x3c, 2), 5);
	cr_assert_eq(fake_get(&d, 0x3c) & 0xffff, 0x010b);
}

Test(vcfg, msi_intercepted_and_recorded)
{
	uint8_t before[0x20];

	memcpy(before, d.cfg + 0x50, sizeof(before));
	wr(0x54, 4, 0xfee01003);
	wr(0x58, 4, 0x1);
	wr(0x5c, 2, 0x4041);
	wr(0x60, 4, 0xffffffff);
	cr_assert_eq(v.changed, PCI_VCFG_MSI_CHANGED);
	wr(0x52, 2, 0x0031); /* enable, 8 messages */
	cr_assert_eq(memcmp(before, d.cfg + 0x50, sizeof(before)), 0, "MSI writes reached the device");
	cr_assert_eq(v.msi.addr, 0x1fee01000ULL);
	cr_assert_eq(v.msi.data, 0x4041);
	cr_assert_eq(v.msi.mask, 0xff);
	cr_assert_eq(v.msi.ctrl, 0x31);
	cr_assert_eq(rd(0x50, 4) >> 16, 0x0031 | (1u << 7) | (1u << 8) | (3u << 1));
	cr_assert_eq(rd(0x54, 4), 0xfee01000);
	cr_assert_eq(rd(0x58, 4), 1);
	cr_assert_eq(rd(0x5c, 2), 0x4041);
	cr_assert_eq(rd(0x50, 1), PCI_CAP_MSI);
}

Test(vcfg, msix_control_intercepted)
{
	wr(0x42, 2, 0xc000 | 0x3f);
	cr_assert_eq(v.changed, PCI_VCFG_MSIX_CHANGED);
	cr_assert_eq(v.msix_ctrl, 0xc000);
	cr_assert_eq(fake_get(&d, 0x40) >> 16, 63, "MSI-X enable reached the device");
	cr_assert_eq(rd(0x42, 2), 0xc000 | 63);
	wr(0x44, 4, 0x1000); /* table location: read-only */
	cr_assert_eq(fake_get(&d, 0x44), 0x2000);
	cr_assert_eq(rd(0x44, 4), 0x2000);
	v.changed = 0;
	wr(0x41, 1, 0x00); /* next pointer byte: not the control word */
	cr_assert_eq(v.changed, 0);
	cr_assert_eq(rd(0x41, 1), 0x50);
}

Test(vcfg, other_capabilities_and_extended_space_pass)
{
	wr(0x88, 2, 0x8000);
	cr_assert_eq(fake_get(&d, 0x88) & 0xffff, 0x8000);
	wr(0x104, 4, 0xdeadbeef);
	cr_assert_eq(fake_get(&d, 0x104), 0xdeadbeef);
	cr_assert_eq(rd(0xffc, 4), 0);
	wr(0xfff, 1, 0x7f);
	cr_assert_eq(rd(0xfff, 1), 0x7f);
}

Test(vcfg, resizable_bar_read_only)
{
	unsigned writes = d.writes;

	fake_put(&d, 0x208, 0x00000100, 4);
	wr(0x208, 4, 0x00000d00); /* would make BAR0 bigger and move its low address bits */
	wr(0x230, 1, 0xff);       /* the last dword of the capability */
	cr_assert_eq(d.writes, writes);
	cr_assert_eq(rd(0x208, 4), 0x100);
	wr(0x234, 4, 7);          /* just past it: passes */
	cr_assert_eq(fake_get(&d, 0x234), 7);
}

Test(vcfg, outside_misaligned_and_odd_sizes_refused)
{
	uint32_t val = 0;
	unsigned writes = d.writes;

	cr_assert_eq(pci_vcfg_read(&v, 0x1000, 1, &val), -EINVAL);
	cr_assert_eq(val, ~0u);
	cr_assert_eq(pci_vcfg_read(&v, 0xffe, 4, &val), -EINVAL);
	cr_assert_eq(pci_vcfg_write(&v, 0xfffffffc, 4, 0), -EINVAL);
	cr_assert_eq(pci_vcfg_write(&v, 0x11, 2, 0), -EINVAL);
	cr_assert_eq(pci_vcfg_write(&v, 0x10, 3, 0), -EINVAL);
	cr_assert_eq(pci_vcfg_write(&v, 0x10, 8, 0), -EINVAL);
	cr_assert_eq(pci_vcfg_read(&v, 0x10, 0, &val), -EINVAL);
	cr_assert_eq(v.refused, 7);
	cr_assert_eq(d.writes, writes);
	cr_assert_eq(d.outside, 0);
}

Test(vcfg, bridges_refused)
{
	struct pci_func b = f;

	b.header_type = 1;
	cr_assert_eq(pci_vcfg_init(&v, &b, &ops, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "header type 1"), "%s", err);
}
