/* SPDX-License-Identifier: Apache-2.0 */
/* pcisel_test.c: unit tests for pvh/pcisel.c: which host functions a control domain gets, and why not. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "pvh/pcisel.h"
#include "pvhv/platform.h"

/* A q35-like host: host bridge, virtio-net, nvme, ISA bridge 1f.0, AHCI 1f.2, a display. */
static struct pci_func fn[8];
static struct pcisel_func funcs[8];
static struct pci_segment seg = { 0xb0000000, 0, 0, 0xff };
static struct ram_layout ram;
static struct pcisel_host host;
static struct domain_config cfg;
static char err[160];

static void mem_bar(struct pci_func *f, unsigned i, uint64_t addr, uint64_t size)
{
	f->bar[i] = (struct pci_bar){ .kind = PCI_BAR_MEM32, .addr = addr, .size = size };
}

static void add(unsigned i, uint8_t dev, uint8_t f, uint32_t class_code)
{
	fn[i] = (struct pci_func){ .vendor = 0x1af4, .device = 0x1000 + i, .class_code = class_code };
	funcs[i] = (struct pcisel_func){ 0, 0, dev, f, &fn[i] };
}

static void setup(void)
{
	memset(fn, 0, sizeof(fn));
	add(0, 0, 0, 0x060000);
	add(1, 1, 0, 0x020000);
	mem_bar(&fn[1], 1, 0xfebc4000, 0x1000);
	fn[1].bar[0] = (struct pci_bar){ .kind = PCI_BAR_IO, .addr = 0xc040, .size = 0x20 };
	add(2, 2, 0, 0x010802);
	mem_bar(&fn[2], 0, 0xfebc0000, 0x4000);
	add(3, 0x1f, 0, 0x060100);
	add(4, 0x1f, 2, 0x010601);
	mem_bar(&fn[4], 5, 0xfebc5000, 0x1000);
	add(5, 3, 0, 0x030000);
	mem_bar(&fn[5], 0, 0xfd000000, 0x1000000);
	ram_layout_plain(&ram, 256ull << 20);
	host = (struct pcisel_host){ funcs, 6, &seg, 1, &ram };
	memset(&cfg, 0, sizeof(cfg));
}

static unsigned out[8], nr;
static char said[8][120];
static bool heard[8];

static void say(void *ctx, unsigned i, const char *w)
{
	(void)ctx;
	heard[i] = true;
	snprintf(said[i], sizeof(said[i]), "%s", w ? w : "given");
}

static int choose(void)
{
	memset(heard, 0, sizeof(heard));
	return pcisel_choose(&host, &cfg, out, 8, &nr, say, NULL, err, sizeof(err));
}

TestSuite(pcisel, .init = setup);

Test(pcisel, all_keeps_bridges_displays_and_orphans)
{
	cfg.pci_all = true;
	cr_assert_eq(choose(), 0, "%s", err);
	cr_assert_eq(nr, 2);
	cr_assert_eq(out[0], 1);
	cr_assert_eq(out[1], 2);
	cr_assert_str_eq(said[0], "a bridge");
	cr_assert_str_eq(said[1], "given");
	cr_assert_str_eq(said[3], "a bridge");
	cr_assert_str_eq(said[4], "function 0 of its device stays with pvhv");
	cr_assert_str_eq(said[5], "a display");
	for (unsigned i = 0; i < 6; i++)
		cr_assert(heard[i], "function %u not said", i);
}

Test(pcisel, all_keeps_a_function_with_a_bad_bar)
{
	cfg.pci_all = true;
	mem_bar(&fn[2], 0, PVHV_IOAPIC_GPA, 0x1000);
	cr_assert_eq(choose(), 0, "%s", err);
	cr_assert_eq(nr, 1);
	cr_assert_str_eq(said[2], "bar0 0xfec00000+0x1000 overlaps pvhv's LAPIC, I/O APIC or virtio window");
}

Test(pcisel, list_gives_exactly_the_list)
{
	cfg.nr_pci = 1;
	cfg.pci[0] = (struct config_pci){ 0, 0, 2, 0 };
	cr_assert_eq(choose(), 0, "%s", err);
	cr_assert_eq(nr, 1);
	cr_assert_eq(out[0], 2);
	cr_assert_str_eq(said[1], "not listed");
}

static void list_fails(uint8_t dev, uint8_t f, int rc, const char *msg)
{
	cfg.nr_pci = 1;
	cfg.pci[0] = (struct config_pci){ 0, 0, dev, f };
	cr_assert_eq(choose(), rc, "dev %u fn %u: %s", dev, f, err);
	cr_assert_str_eq(err, msg);
}

Test(pcisel, list_refuses_what_cannot_go)
{
	list_fails(7, 0, -ENODEV, "pci 0000:00:07.0: no such function on this host");
	list_fails(0, 0, -EINVAL, "pci 0000:00:00.0: a bridge (class 060000): bridges stay with pvhv");
	list_fails(0x1f, 2, -EINVAL, "pci 0000:00:1f.2: function 0 of its device stays with pvhv");
	fn[2].header_type = 1;
	list_fails(2, 0, -EINVAL, "pci 0000:00:02.0: header type 1: only endpoints (type 0) pass through");
}

Test(pcisel, bars_that_cannot_be_mapped)
{
	/* Over the domain's RAM (256 MiB from 0), e.g. a BAR the firmware left at 0. */
	mem_bar(&fn[2], 0, 0, 0x4000);
	list_fails(2, 0, -EINVAL, "pci 0000:00:02.0: bar0 0x0+0x4000 overlaps the domain's RAM");
	setup();
	mem_bar(&fn[2], 0, PVHV_LAPIC_GPA, 0x1000);
	list_fails(2, 0, -EINVAL, "pci 0000:00:02.0: bar0 0xfee00000+0x1000 overlaps pvhv's LAPIC, I/O APIC or virtio window");
	setup();
	mem_bar(&fn[2], 0, PVHV_VIRTIO_MMIO_GPA + 0x3000, 0x1000);
	list_fails(2, 0, -EINVAL, "pci 0000:00:02.0: bar0 0xd0003000+0x1000 overlaps pvhv's LAPIC, I/O APIC or virtio window");
	setup();
	mem_bar(&fn[2], 0, 0xbff00000, 0x200000);
	list_fails(2, 0, -EINVAL, "pci 0000:00:02.0: bar0 overlaps segment 0's ECAM window");
	setup();
	/* A 256-byte BAR in the page of another function's: a domain gets whole pages. */
	mem_bar(&fn[2], 0, 0xfebc4800, 0x100);
	list_fails(2, 0, -EINVAL, "pci 0000:00:02.0: bar0 shares a page with 0000:00:01.0 bar1");
	setup();
	fn[2].bar[0] = (struct pci_bar){ .kind = PCI_BAR_MEM64, .addr = 0xfffffffffffff000ULL, .size = 0x2000 };
	list_fails(2, 0, -EINVAL,
		   "pci 0000:00:02.0: bar0 0xfffffffffffff000+0x2000 lies beyond what a domain can map");
}

Test(pcisel, identity_ram_is_what_counts)
{
	/* The same BAR address is fine for a domain whose RAM lies elsewhere. */
	mem_bar(&fn[2], 0, 0x8000000, 0x4000);
	list_fails(2, 0, -EINVAL, "pci 0000:00:02.0: bar0 0x8000000+0x4000 overlaps the domain's RAM");
	ram_layout_plain(&ram, 64ull << 20);
	cfg.nr_pci = 1;
	cr_assert_eq(choose(), 0, "%s", err);
	cr_assert_eq(nr, 1);
}

Test(pcisel, page_rounding)
{
	uint64_t s = 0;

	cr_assert_eq(pcisel_bar_pages(&fn[2], 0, &s), 0x4000);
	cr_assert_eq(s, 0xfebc0000);
	mem_bar(&fn[2], 0, 0xfebc0f00, 0x200);
	cr_assert_eq(pcisel_bar_pages(&fn[2], 0, &s), 0x2000);
	cr_assert_eq(s, 0xfebc0000);
	cr_assert_eq(pcisel_bar_pages(&fn[1], 0, &s), 0, "an I/O BAR has no pages");
	cr_assert_eq(pcisel_bar_pages(&fn[0], 0, &s), 0);
}

Test(pcisel, at_most_max)
{
	cfg.pci_all = true;
	memset(heard, 0, sizeof(heard));
	cr_assert_eq(pcisel_choose(&host, &cfg, out, 1, &nr, say, NULL, err, sizeof(err)), 0);
	cr_assert_eq(nr, 1);
	cr_assert_str_eq(said[2], "more functions than pvhv passes through");
}
