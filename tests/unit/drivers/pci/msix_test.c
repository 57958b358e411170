/* SPDX-License-Identifier: Apache-2.0 */
/* msix_test.c: unit tests for drivers/pci/msix.c: the domain's messages kept, the device given host ones. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "drivers/pci/pci.h"
#include "tests/unit/drivers/pci/fake_pci.h"

#define NR 8

/* The device's table: what it would send, and every write in order. */
static uint32_t table[NR * 4];
static unsigned writes;
static struct pci_msix m;
static struct pci_msix_entry e[NR];

/* The fake router: host message i is (0xfee01000 + i, 0x80 + i); bound[i] says whether it is routed. */
static bool bound[NR];
static uint64_t bound_addr[NR];
static uint32_t bound_data[NR];
static unsigned binds, unbinds;
static int bind_rc;

static uint32_t t_read(void *ctx, unsigned off, unsigned size)
{
	(void)ctx;
	cr_assert_eq(size, 4);
	return table[off / 4];
}

static void t_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	(void)ctx;
	cr_assert_eq(size, 4, "table written %u bytes wide", size);
	cr_assert_lt(off, sizeof(table), "table written at 0x%x", off);
	/* 6.8.2.9: a message changes only while its entry is masked. */
	if (off % 16 != 12)
		cr_assert(table[off / 16 * 4 + 3] & 1, "entry %u's message written unmasked", off / 16);
	table[off / 4] = val;
	writes++;
}

static int bind(void *ctx, unsigned i, uint64_t addr, uint32_t data, uint64_t *haddr, uint32_t *hdata)
{
	(void)ctx;
	binds++;
	if (bind_rc)
		return bind_rc;
	bound[i] = true;
	bound_addr[i] = addr;
	bound_data[i] = data;
	*haddr = 0xfee01000 + i;
	*hdata = 0x80 + i;
	return 0;
}

static void unbind(void *ctx, unsigned i)
{
	(void)ctx;
	if (bound[i])
		unbinds++;
	bound[i] = false;
}

static const struct pci_cfg_ops hw = { t_read, t_write, NULL };
static const struct pci_msg_ops msg = { bind, unbind, NULL };

static void setup(void)
{
	memset(table, 0, sizeof(table));
	memset(bound, 0, sizeof(bound));
	writes = binds = unbinds = 0;
	bind_rc = 0;
	cr_assert_eq(pci_msix_init(&m, e, NR, &hw, &msg), 0);
}

static uint64_t rd(uint64_t off, unsigned size)
{
	uint64_t v;

	cr_assert_eq(pci_msix_read(&m, off, size, &v), 0);
	return v;
}

static void wr(uint64_t off, unsigned size, uint64_t val)
{
	cr_assert_eq(pci_msix_write(&m, off, size, val), 0);
}

/* Entry i programmed the way Linux does: address, data, then unmask. */
static void program(unsigned i, uint32_t vector)
{
	wr(i * 16, 4, 0xfee00000);
	wr(i * 16 + 4, 4, 0);
	wr(i * 16 + 8, 4, vector);
	wr(i * 16 + 12, 4, 0);
}

Test(msix, reset_state_masked, .init = setup)
{
	for (unsigned i = 0; i < NR; i++) {
		cr_assert_eq(rd(i * 16 + 12, 4), 1, "entry %u not masked after reset", i);
		cr_assert_eq(table[i * 4 + 3], 1, "device entry %u not masked", i);
	}
	cr_assert_eq(pci_msix_init(&m, e, 0, &hw, &msg), -EINVAL);
	cr_assert_eq(pci_msix_init(&m, e, PCI_MSIX_MAX + 1, &hw, &msg), -EINVAL);
}

Test(msix, nothing_fires_before_enable, .init = setup)
{
	program(0, 0x41);
	cr_assert_eq(binds, 0);
	cr_assert_eq(table[3], 1, "device entry unmasked while MSI-X is off");
	/* The domain reads back its own message, not a host one. */
	cr_assert_eq(rd(0, 8), 0xfee00000);
	cr_assert_eq(rd(8, 4), 0x41);
	cr_assert_eq(rd(12, 4), 0);
}

Test(msix, enable_binds_unmasked_entries_only, .init = setup)
{
	program(0, 0x41);
	program(3, 0x42);
	wr(5 * 16 + 8, 4, 0x43);   /* written but left masked */
	pci_msix_control(&m, 0x8000);
	cr_assert_eq(binds, 2);
	cr_assert(bound[0] && bound[3] && !bound[5]);
	cr_assert_eq(bound_addr[3], 0xfee00000);
	cr_assert_eq(bound_data[3], 0x42);
	/* The device sends the host messages, and only those two entries are unmasked. */
	cr_assert_eq(table[0], 0xfee01000);
	cr_assert_eq(table[1], 0);
	cr_assert_eq(table[2], 0x80);
	cr_assert_eq(table[3 * 4 + 0], 0xfee01003);
	cr_assert_eq(table[3 * 4 + 2], 0x83);
	for (unsigned i = 0; i < NR; i++)
		cr_assert_eq(table[i * 4 + 3], i == 0 || i == 3 ? 0 : 1, "entry %u mask", i);
	cr_assert_eq(rd(3 * 16 + 8, 4), 0x42, "the domain sees its own data");
}

Test(msix, function_mask_and_disable, .init = setup)
{
	program(1, 0x50);
	pci_msix_control(&m, 0x8000);
	cr_assert_eq(table[1 * 4 + 3], 0);
	pci_msix_control(&m, 0xc000);   /* function mask */
	cr_assert_eq(table[1 * 4 + 3], 1);
	cr_assert(bound[1], "a masked entry keeps its route (a pending message still arrives)");
	pci_msix_control(&m, 0x8000);
	cr_assert_eq(table[1 * 4 + 3], 0);
	pci_msix_control(&m, 0);        /* disable: every route goes */
	cr_assert_eq(table[1 * 4 + 3], 1);
	cr_assert(!bound[1]);
	cr_assert_eq(unbinds, 1);
}

Test(msix, message_change_while_live_rebinds_masked, .init = setup)
{
	program(2, 0x60);
	pci_msix_control(&m, 0x8000);
	wr(2 * 16 + 8, 4, 0x61);        /* Linux moving the vector: t_write checks the mask */
	cr_assert_eq(bound_data[2], 0x61);
	cr_assert_eq(table[2 * 4 + 2], 0x82);
	cr_assert_eq(table[2 * 4 + 3], 0);
	/* The same value again changes nothing on the device. */
	writes = 0;
	wr(2 * 16 + 8, 4, 0x61);
	cr_assert_eq(writes, 0);
}

Test(msix, refused_bind_leaves_entry_masked, .init = setup)
{
	bind_rc = -EINVAL;
	program(4, 0x05);
	pci_msix_control(&m, 0x8000);
	cr_assert_eq(table[4 * 4 + 3], 1);
	cr_assert_eq(m.bind_failed, 1);
	cr_assert_eq(m.last_error, -EINVAL);
	cr_assert_eq(m.last_index, 4);
}

Test(msix, bad_accesses_refused, .init = setup)
{
	uint64_t v = 0;

	cr_assert_eq(pci_msix_read(&m, 2, 4, &v), -EINVAL);
	cr_assert_eq(v, ~0ULL);
	cr_assert_eq(pci_msix_read(&m, 0, 2, &v), -EINVAL);
	cr_assert_eq(pci_msix_read(&m, 4, 8, &v), -EINVAL);
	cr_assert_eq(pci_msix_read(&m, NR * 16, 4, &v), -EINVAL);
	cr_assert_eq(pci_msix_write(&m, NR * 16 - 4 + 8, 4, 0), -EINVAL);
	cr_assert_eq(pci_msix_write(&m, 1, 1, 0), -EINVAL);
	cr_assert_eq(pci_msix_write(&m, ~0ULL - 3, 4, 0), -EINVAL);
	cr_assert_eq(m.refused, 7);
	cr_assert_eq(writes, NR, "only init's masking reached the device");
	/* 8-byte accesses split into the two dwords; reserved bits read 0. */
	wr(16, 8, 0x00000001fee00003ULL);
	cr_assert_eq(rd(16, 8), 0x00000001fee00000ULL);
	wr(16 + 8, 8, 0xfffffffe00000033ULL);
	cr_assert_eq(rd(16 + 12, 4), 0, "vector control keeps only the mask bit");
}

Test(msix, release_masks_and_unbinds_all, .init = setup)
{
	program(0, 0x41);
	program(7, 0x47);
	pci_msix_control(&m, 0x8000);
	pci_msix_release(&m);
	for (unsigned i = 0; i < NR; i++) {
		cr_assert_eq(table[i * 4 + 3], 1);
		cr_assert(!bound[i]);
	}
	cr_assert_eq(unbinds, 2);
}

/* ------------------------------------------------------------ MSI capability */

static struct fake_pci d;
static struct pci_vcfg v;

static void msi_setup(void)
{
	struct pci_func f;
	struct pci_cfg_ops ops;
	char err[120];

	setup();
	fake_init(&d, 0x8086, 0x10d3, 0x020000);
	fake_bar(&d, 0, PCI_BAR_MEM32, 0xfeb80000, 0x20000, false);
	fake_cap(&d, 0x50, PCI_CAP_MSI, (1u << 7) | (1u << 8) | (3u << 1)); /* 64-bit, maskable, 8 vectors */
	for (unsigned i = 0x40 / 4; i < PCI_CFG_SIZE / 4; i++)
		d.wmask[i] = ~0u;
	ops = fake_ops(&d);
	cr_assert_eq(pci_probe_func(&ops, &f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(pci_vcfg_init(&v, &f, &ops, err, sizeof(err)), 0, "%s", err);
}

Test(msix, msi_bound_and_programmed, .init = msi_setup)
{
	cr_assert_eq(pci_vcfg_write(&v, 0x54, 4, 0xfee00000), 0);
	cr_assert_eq(pci_vcfg_write(&v, 0x58, 4, 0), 0);
	cr_assert_eq(pci_vcfg_write(&v, 0x5c, 2, 0x4031), 0);
	cr_assert_eq(pci_vcfg_write(&v, 0x52, 2, 0x0031), 0);  /* enable, asks for 8 messages */
	cr_assert(v.changed & PCI_VCFG_MSI_CHANGED);
	cr_assert_eq(pci_vcfg_msi_sync(&v, &msg), 0);
	cr_assert_eq(v.changed & PCI_VCFG_MSI_CHANGED, 0);
	cr_assert(bound[0]);
	cr_assert_eq(bound_data[0], 0x4031);
	cr_assert_eq(fake_get(&d, 0x54), 0xfee01000, "the device has the host address");
	cr_assert_eq(fake_get(&d, 0x5c) & 0xffff, 0x80);
	cr_assert_eq((fake_get(&d, 0x50) >> 16) & 0x71, 0x01, "enabled with one message");
	/* The domain still reads its own programming. */
	uint32_t val;
	cr_assert_eq(pci_vcfg_read(&v, 0x5c, 2, &val), 0);
	cr_assert_eq(val, 0x4031);

	/* Masked vector 0: off in the device, unbound. */
	cr_assert_eq(pci_vcfg_write(&v, 0x60, 4, 1), 0);
	cr_assert_eq(pci_vcfg_msi_sync(&v, &msg), 0);
	cr_assert(!bound[0]);
	cr_assert_eq((fake_get(&d, 0x50) >> 16) & 1, 0);
}

/* Linux parks a freed vector with a zero message while MSI stays enabled (e1000e's self-test). */
Test(msix, msi_zero_message_parks_until_rewritten, .init = msi_setup)
{
	cr_assert_eq(pci_vcfg_write(&v, 0x54, 4, 0xfee00000), 0);
	cr_assert_eq(pci_vcfg_write(&v, 0x5c, 2, 0x22), 0);
	cr_assert_eq(pci_vcfg_write(&v, 0x52, 2, 0x0001), 0);
	cr_assert_eq(pci_vcfg_msi_sync(&v, &msg), 0);
	cr_assert(bound[0]);
	/* Address first, the data still the old vector's: parked already, no bind asked. */
	binds = 0;
	cr_assert_eq(pci_vcfg_write(&v, 0x54, 4, 0), 0);
	cr_assert_eq(pci_vcfg_msi_sync(&v, &msg), 0, "parked, not an error");
	cr_assert(!bound[0]);
	cr_assert_eq(binds, 0);
	cr_assert_eq((fake_get(&d, 0x50) >> 16) & 1, 0, "off in the device");
	cr_assert_eq(pci_vcfg_write(&v, 0x58, 4, 0), 0);
	cr_assert_eq(pci_vcfg_write(&v, 0x5c, 2, 0), 0);
	cr_assert_eq(pci_vcfg_msi_sync(&v, &msg), 0);
	cr_assert(!bound[0]);
	cr_assert_eq(binds, 0);
	uint32_t val;
	cr_assert_eq(pci_vcfg_read(&v, 0x50, 4, &val), 0);
	cr_assert_eq((val >> 16) & 1, 1, "the domain still reads its enable");
	/* A real message again: bound and on. */
	cr_assert_eq(pci_vcfg_write(&v, 0x5c, 2, 0x22), 0);
	cr_assert_eq(pci_vcfg_write(&v, 0x54, 4, 0xfee00000), 0);
	cr_assert_eq(pci_vcfg_msi_sync(&v, &msg), 0);
	cr_assert(bound[0]);
	cr_assert_eq(bound_addr[0], 0xfee00000);
	cr_assert_eq((fake_get(&d, 0x50) >> 16) & 1, 1, "on again");
}

Test(msix, msi_refused_bind_stays_off, .init = msi_setup)
{
	bind_rc = -ENOSPC;
	cr_assert_eq(pci_vcfg_write(&v, 0x54, 4, 0xfee00000), 0);
	cr_assert_eq(pci_vcfg_write(&v, 0x52, 2, 0x0001), 0);
	cr_assert_eq(pci_vcfg_msi_sync(&v, &msg), -ENOSPC);
	cr_assert_eq((fake_get(&d, 0x50) >> 16) & 1, 0);
}

/* Found by msix_fuzz: an entry refused for its address fires once the domain fixes the address. */
Test(msix, refused_entry_fixed_later, .init = setup)
{
	wr(0, 4, 0xfed00000);
	wr(8, 4, 0x41);
	wr(12, 4, 0);
	bind_rc = -EINVAL;
	pci_msix_control(&m, 0x8000);
	cr_assert_eq(table[3], 1);
	bind_rc = 0;
	wr(0, 4, 0xfee00000);
	cr_assert(bound[0]);
	cr_assert_eq(table[3], 0, "the entry stays masked after its address was fixed");
}
