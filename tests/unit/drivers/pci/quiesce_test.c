/* SPDX-License-Identifier: Apache-2.0 */
/* quiesce_test.c: unit tests for drivers/pci/quiesce.c on a fake function that resets and takes time to come back. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "drivers/pci/pci.h"
#include "tests/unit/drivers/pci/fake_pci.h"

#define PCIE 0x80 /* PCI Express capability */
#define AF 0x70   /* Advanced Features capability */
#define MSI 0x60
#define MSIX 0x50

/* The fake function plus a clock and what a function-level reset does to it. */
static struct {
	struct fake_pci d;
	uint64_t now_us;
	uint64_t flr_at;        /* when the last reset started (flrs > 0) */
	unsigned flrs;
	uint64_t back_after_us; /* after the reset, reads are all-ones for this long (UINT64_MAX: never back) */
	uint64_t early_reads;   /* config reads within 100 ms of the reset */
	uint64_t pending_until; /* Transactions Pending reads set until then */
	uint64_t flr_issued_at;
	uint8_t saved_bars[24];
} s;
static struct pci_func f;
static char err[200];

static void fake_delay(uint64_t us)
{
	s.now_us += us;
}

static bool in_reset(void)
{
	return s.flrs && (s.back_after_us == UINT64_MAX || s.now_us < s.flr_at + s.back_after_us);
}

static uint32_t q_read(void *ctx, unsigned off, unsigned size)
{
	(void)ctx;
	if (s.flrs && s.now_us < s.flr_at + 100000)
		s.early_reads++;
	if (in_reset())
		return size == 4 ? ~0u : (1u << (8 * size)) - 1;
	if (s.pending_until) {
		uint32_t v = fake_read(&s.d, off, size);
		bool pending = s.now_us < s.pending_until;

		if (off == PCIE + 0x0a && size == 2)
			return pending ? v | (1u << 5) : v & ~(1u << 5);
		if (off == AF + 5 && size == 1)
			return pending ? v | 1u : v & ~1u;
		return v;
	}
	return fake_read(&s.d, off, size);
}

/* What a function-level reset does: command, BARs and message control back to 0. */
static void flr(void)
{
	s.flr_at = s.now_us;
	s.flr_issued_at = s.now_us;
	s.flrs++;
	fake_put(&s.d, PCI_COMMAND, 0, 2);
	for (unsigned i = 0; i < PCI_NR_BARS; i++)
		fake_put(&s.d, PCI_BAR0 + 4 * i, fake_get(&s.d, PCI_BAR0 + 4 * i) & 0xf, 4);
	fake_put(&s.d, MSI + 2, fake_get(&s.d, MSI) >> 16 & ~1u, 2);
	fake_put(&s.d, MSIX + 2, fake_get(&s.d, MSIX) >> 16 & 0x3fff, 2);
}

static void q_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	(void)ctx;
	if (in_reset())
		return;
	if (off == PCIE + 0x08 && size == 2 && (val & (1u << 15))) {
		flr();
		return;
	}
	if (off == AF + 4 && size == 1 && (val & 1u) && (s.d.cfg[AF + 3] & 2u)) {
		flr();
		return;
	}
	fake_write(&s.d, off, size, val);
}

static const struct pci_cfg_ops ops = { .read = q_read, .write = q_write };

/* A function with bus master on, MSI and MSI-X enabled, three BARs, probed as pvhv would at boot. */
static void device(uint32_t devcap)
{
	struct pci_cfg_ops plain;

	memset(&s, 0, sizeof(s));
	fake_init(&s.d, 0x8086, 0x10d3, 0x020000);
	fake_bar(&s.d, 0, PCI_BAR_MEM32, 0xfebc0000, 0x20000, false);
	fake_bar(&s.d, 2, PCI_BAR_IO, 0xc000, 0x20, false);
	fake_bar(&s.d, 3, PCI_BAR_MEM64, 0x800000000ULL, 0x4000, true);
	fake_cap(&s.d, MSIX, PCI_CAP_MSIX, 4);
	fake_put(&s.d, MSIX + 4, 3, 4);          /* table bar3+0 */
	fake_put(&s.d, MSIX + 8, 0x2000 | 3, 4); /* PBA bar3+0x2000 */
	s.d.wmask[MSIX / 4] = 0xc0000000;
	fake_cap(&s.d, MSI, PCI_CAP_MSI, 1u << 7);
	s.d.wmask[MSI / 4] = 0x00710000;
	if (devcap != ~0u) {
		fake_cap(&s.d, PCIE, PCI_CAP_PCIE, 2);
		fake_put(&s.d, PCIE + 4, devcap, 4);
		s.d.wmask[(PCIE + 8) / 4] = 0x7fff; /* device control; bit 15 is the write-only FLR trigger */
	}
	plain = fake_ops(&s.d);
	cr_assert_eq(pci_probe_func(&plain, &f, err, sizeof(err)), 0, "%s", err);
	/* Then the domain's driver turned everything on. */
	fake_put(&s.d, PCI_COMMAND, PCI_CMD_MEM | PCI_CMD_IO | PCI_CMD_MASTER, 2);
	fake_put(&s.d, MSI + 2, (1u << 7) | 1u, 2);
	fake_put(&s.d, MSIX + 2, (1u << 15) | 4, 2);
	memcpy(s.saved_bars, &s.d.cfg[PCI_BAR0], sizeof(s.saved_bars));
}

static void assert_quiet_and_bars_back(void)
{
	uint16_t cmd = (uint16_t)fake_get(&s.d, PCI_COMMAND);

	cr_assert_eq(cmd & (PCI_CMD_MASTER | PCI_CMD_MEM | PCI_CMD_IO), 0, "command 0x%x", cmd);
	cr_assert(cmd & PCI_CMD_INTX_DISABLE, "command 0x%x", cmd);
	cr_assert_eq(fake_get(&s.d, MSI) >> 16 & 1u, 0, "MSI still enabled");
	cr_assert_eq(fake_get(&s.d, MSIX) >> 31, 0, "MSI-X still enabled");
	cr_assert_eq(memcmp(s.saved_bars, &s.d.cfg[PCI_BAR0], sizeof(s.saved_bars)), 0, "BARs not restored");
	cr_assert_eq(s.d.outside, 0);
}

Test(quiesce, pcie_flr_waits_and_restores)
{
	device(1u << 28);
	s.back_after_us = 150000;
	cr_assert_eq(pci_quiesce(&ops, &f, fake_delay, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.flrs, 1);
	cr_assert_eq(s.early_reads, 0, "read within 100 ms of the reset");
	cr_assert_geq(s.now_us, 150000);
	cr_assert_lt(s.now_us, 150000 + 2000, "polled in small steps");
	assert_quiet_and_bars_back();
}

Test(quiesce, flr_back_at_once_still_waits_100ms)
{
	device(1u << 28);
	s.back_after_us = 0;
	cr_assert_eq(pci_quiesce(&ops, &f, fake_delay, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.flrs, 1);
	cr_assert_eq(s.early_reads, 0);
	cr_assert_geq(s.now_us, 100000);
	assert_quiet_and_bars_back();
}

Test(quiesce, never_back_times_out_with_master_off)
{
	device(1u << 28);
	s.back_after_us = UINT64_MAX;
	cr_assert_eq(pci_quiesce(&ops, &f, fake_delay, err, sizeof(err)), -ETIMEDOUT);
	cr_assert(strstr(err, "8086:10d3 did not come back"), "%s", err);
	cr_assert(strstr(err, "0xffff"), "%s", err);
	cr_assert_geq(s.now_us, 1100000);
	cr_assert_lt(s.now_us, 1100000 + 2000, "gives up after about 1.1 s");
	cr_assert_eq(fake_get(&s.d, PCI_COMMAND) & PCI_CMD_MASTER, 0);
}

Test(quiesce, waits_for_pending_transactions_before_flr)
{
	device(1u << 28);
	s.pending_until = 30000;
	cr_assert_eq(pci_quiesce(&ops, &f, fake_delay, err, sizeof(err)), 0, "%s", err);
	cr_assert_geq(s.flr_issued_at, 30000);
	cr_assert_lt(s.flr_issued_at, 32000);
	assert_quiet_and_bars_back();
}

Test(quiesce, resets_even_if_transactions_stay_pending)
{
	device(1u << 28);
	s.pending_until = UINT64_MAX;
	cr_assert_eq(pci_quiesce(&ops, &f, fake_delay, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.flrs, 1);
	cr_assert_geq(s.flr_issued_at, 100000);
	cr_assert_lt(s.flr_issued_at, 102000);
}

Test(quiesce, advanced_features_flr)
{
	device(~0u); /* conventional PCI: no PCI Express capability */
	fake_cap(&s.d, AF, 0x13, 0);
	s.d.cfg[AF + 2] = 6;           /* length */
	s.d.cfg[AF + 3] = 3;           /* TP and FLR capable */
	s.back_after_us = 120000;
	cr_assert_eq(pci_quiesce(&ops, &f, fake_delay, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.flrs, 1);
	cr_assert_eq(s.early_reads, 0);
	assert_quiet_and_bars_back();
}

Test(quiesce, advanced_features_without_flr_bit_is_no_reset)
{
	device(~0u);
	fake_cap(&s.d, AF, 0x13, 0);
	s.d.cfg[AF + 3] = 1; /* TP only */
	cr_assert_eq(pci_quiesce(&ops, &f, fake_delay, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.flrs, 0);
	cr_assert_eq(s.now_us, 0);
}

Test(quiesce, no_flr_offered_only_turns_off)
{
	device(0); /* PCI Express, FLR not capable */
	/* The domain moved a BAR (as far as the hardware goes): quiesce puts it back. */
	fake_put(&s.d, PCI_BAR0, 0xfe000000, 4);
	cr_assert_eq(pci_quiesce(&ops, &f, fake_delay, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.flrs, 0);
	cr_assert_eq(s.now_us, 0, "no reset, no wait");
	assert_quiet_and_bars_back();
}

Test(quiesce, looping_capability_list_ends)
{
	device(~0u);
	s.d.cfg[MSI + 1] = MSIX; /* MSI-X -> MSI -> MSI-X ... */
	s.d.cfg[MSIX + 1] = MSI;
	cr_assert_eq(pci_quiesce(&ops, &f, fake_delay, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.flrs, 0);
}
