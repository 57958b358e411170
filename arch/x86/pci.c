/* SPDX-License-Identifier: Apache-2.0 */
/* pci.c: finds the host's PCI segments in MCFG, maps their ECAM windows uncached, lists every function. */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "drivers/pci/pci.h"

static struct pci_host_func funcs[PCI_HOST_MAX_FUNCS];
static unsigned nr_funcs;
static struct pci_segment segs[PCI_HOST_MAX_SEGS];
static unsigned nr_segs;

static bool quiesce_all; /* "pci-quiesce-test" */

static uint32_t ecam_read(void *ctx, unsigned off, unsigned size)
{
	volatile uint8_t *p = (volatile uint8_t *)ctx + off;

	if (size == 1)
		return *p;
	if (size == 2)
		return *(volatile uint16_t *)p;
	return *(volatile uint32_t *)p;
}

static void ecam_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	volatile uint8_t *p = (volatile uint8_t *)ctx + off;

	if (size == 1)
		*p = (uint8_t)val;
	else if (size == 2)
		*(volatile uint16_t *)p = (uint16_t)val;
	else
		*(volatile uint32_t *)p = val;
}

/* The window must not be RAM the allocator hands out (a lying MCFG). */
static bool overlaps_ram(hpa_t start, uint64_t size)
{
	for (unsigned i = 0; i < boot_info.nr_regions; i++) {
		const struct mem_region *r = &boot_info.region[i];

		if (r->type == 1 && start < r->addr + r->size && r->addr < start + size)
			return true;
	}
	return false;
}

int arch_pci_quiesce(const struct pci_cfg_ops *hw, const struct pci_func *f, char *err, size_t errlen)
{
	return pci_quiesce(hw, f, udelay, err, errlen);
}

/*
 * "pci-quiesce-test" on pvhv's command line (tests only): every endpoint
 * is quiesced right after it is listed, and what it reads back then is
 * checked: bus master and decode off, each BAR where the firmware put it.
 * Nothing of pvhv's own is on PCI, so this stops nothing it needs.
 */
static void quiesce_test(const struct pci_cfg_ops *ops, const struct pci_func *f, const char *bdf)
{
	uint64_t t0 = time_us(), ms;
	char err[160];
	unsigned bad = 0;
	int rc = arch_pci_quiesce(ops, f, err, sizeof(err));

	ms = (time_us() - t0) / 1000;
	if (rc) {
		kprintf("pvhv: pci %s: quiesce: %s\n", bdf, err);
		return;
	}
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		const struct pci_bar *b = &f->bar[i];
		uint32_t lo = ops->read(ops->ctx, PCI_BAR0 + 4 * i, 4);
		uint32_t mask = b->kind == PCI_BAR_IO ? ~3u : ~15u;

		if ((b->kind == PCI_BAR_IO || b->kind == PCI_BAR_MEM32 || b->kind == PCI_BAR_MEM64) &&
		    (lo & mask) != (uint32_t)b->addr)
			bad++;
		if (b->kind == PCI_BAR_MEM64 && i + 1 < PCI_NR_BARS &&
		    ops->read(ops->ctx, PCI_BAR0 + 4 * (i + 1), 4) != (uint32_t)(b->addr >> 32))
			bad++;
	}
	kprintf("pvhv: pci %s: quiesced in %lu ms: command 0x%04x, %u BARs moved\n", bdf, ms,
		ops->read(ops->ctx, PCI_COMMAND, 2), bad);
}

/*
 * The pages of f's MSI-X table, mapped uncached in pvhv's own tables: a
 * domain given f reaches the table only through pvhv (pvh/passthru.c).
 */
static int map_msix(const struct pci_func *f)
{
	hpa_t t, end;

	if (!f->msix_cap || !f->msix_size)
		return 0;
	t = f->bar[f->msix_bir].addr + f->msix_offset;
	end = ALIGN_UP(t + (uint64_t)f->msix_size * 16, (uint64_t)PAGE_SIZE);
	t &= ~(hpa_t)(PAGE_SIZE - 1);
	return mm_map_uncached(t, end - t);
}

static unsigned scan_bus(const struct pci_segment *s, unsigned bus)
{
	unsigned found = 0;
	char line[200], why[120];

	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			hpa_t a = s->base + ((uint64_t)bus << 20) + ((uint64_t)dev << 15) + ((uint64_t)fn << 12);
			struct pci_cfg_ops ops = { .read = ecam_read, .write = ecam_write, .ctx = hpa_to_ptr(a) };
			struct pci_func f;
			int rc = pci_probe_func(&ops, &f, why, sizeof(why));

			if (rc == -ENODEV) {
				if (fn == 0)
					break; /* no function 0, no device (PCI 3.0, 6.2.1) */
				continue;
			}
			found++;
			if (rc) {
				kprintf("pvhv: pci %04x:%02x:%02x.%u %04x:%04x: %s\n", s->seg, bus, dev, fn,
					f.vendor, f.device, why);
			} else if (nr_funcs == PCI_HOST_MAX_FUNCS) {
				kprintf("pvhv: pci %04x:%02x:%02x.%u: more than %u functions, not kept\n", s->seg,
					bus, dev, fn, PCI_HOST_MAX_FUNCS);
			} else if (map_msix(&f)) {
				kprintf("pvhv: pci %04x:%02x:%02x.%u: cannot map its MSI-X table, not kept\n", s->seg,
					bus, dev, fn);
			} else {
				funcs[nr_funcs++] = (struct pci_host_func){ s->seg, (uint8_t)bus, (uint8_t)dev,
									    (uint8_t)fn, a, f };
				pci_func_format(&f, s->seg, (uint8_t)bus, (uint8_t)dev, (uint8_t)fn, line, sizeof(line));
				kprintf("pvhv: pci %s\n", line);
				if (why[0])
					kprintf("pvhv: pci %04x:%02x:%02x.%u: %s\n", s->seg, bus, dev, fn, why);
				if (quiesce_all && f.header_type == 0 && f.class_code >> 16 != 0x06) {
					char bdf[16];

					snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%u", s->seg, bus, dev, fn);
					quiesce_test(&ops, &f, bdf);
				}
			}
			if (fn == 0 && !f.multi)
				break;
		}
	}
	return found;
}

unsigned pci_host_nr_funcs(void)
{
	return nr_funcs;
}

const struct pci_host_func *pci_host_func(unsigned i)
{
	return i < nr_funcs ? &funcs[i] : NULL;
}

const struct pci_host_func *pci_host_find(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
	for (unsigned i = 0; i < nr_funcs; i++)
		if (funcs[i].seg == seg && funcs[i].bus == bus && funcs[i].dev == dev && funcs[i].fn == fn)
			return &funcs[i];
	return NULL;
}

unsigned pci_host_nr_segs(void)
{
	return nr_segs;
}

const struct pci_segment *pci_host_seg(unsigned i)
{
	return i < nr_segs ? &segs[i] : NULL;
}

struct pci_cfg_ops pci_host_cfg(const struct pci_host_func *h)
{
	return (struct pci_cfg_ops){ .read = ecam_read, .write = ecam_write, .ctx = hpa_to_ptr(h->cfg) };
}

void pci_init(void)
{
	struct pci_segment all[PCI_HOST_MAX_SEGS];
	unsigned nr, found = 0;
	char err[120];
	int rc;

	quiesce_all = cmdline_has(boot_info.cmdline, "pci-quiesce-test");
	if (!acpi_info.mcfg) {
		kprintf("pvhv: pci: no MCFG table; host PCI not enumerated (ECAM only)\n");
		return;
	}
	rc = pci_mcfg_parse(hpa_to_ptr(acpi_info.mcfg), acpi_info.mcfg_len, all, PCI_HOST_MAX_SEGS, &nr,
			    err, sizeof(err));
	if (rc) {
		kprintf("pvhv: pci: %s; host PCI not enumerated\n", err);
		return;
	}
	for (unsigned i = 0; i < nr; i++) {
		const struct pci_segment *s = &all[i];
		hpa_t start = s->base + ((uint64_t)s->bus_start << 20);
		uint64_t size = ((uint64_t)s->bus_end - s->bus_start + 1) << 20;

		if (overlaps_ram(start, size)) {
			kprintf("pvhv: pci: segment %u ECAM 0x%lx+0x%lx overlaps RAM, skipped\n", s->seg, start, size);
			continue;
		}
		rc = mm_map_uncached(start, size);
		if (rc) {
			kprintf("pvhv: pci: segment %u ECAM 0x%lx+0x%lx: cannot map (%d), skipped\n", s->seg,
				start, size, rc);
			continue;
		}
		kprintf("pvhv: pci: segment %u buses %02x-%02x ECAM 0x%lx (uncached)\n", s->seg, s->bus_start,
			s->bus_end, start);
		segs[nr_segs++] = *s;
		for (unsigned bus = s->bus_start; bus <= s->bus_end; bus++)
			found += scan_bus(s, bus);
	}
	kprintf("pvhv: pci: %u functions\n", found);
}
