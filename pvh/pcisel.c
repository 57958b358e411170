/* SPDX-License-Identifier: Apache-2.0 */
/* pcisel.c: the rules for the host PCI functions a control domain gets (see pcisel.h). */
#include "lib/base.h"
#include "pvh/pcisel.h"
#include "pvhv/platform.h"

#define PAGE 4096ULL

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

uint64_t pcisel_bar_pages(const struct pci_func *f, unsigned i, uint64_t *start)
{
	const struct pci_bar *b = &f->bar[i];
	uint64_t end;

	if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) || !b->size)
		return 0;
	*start = b->addr & ~(PAGE - 1);
	end = b->addr + b->size;
	if (end < b->addr || end > ~0ULL - PAGE)
		return ~0ULL - *start; /* wraps: refused below */
	return ALIGN_UP(end, PAGE) - *start;
}

static int find(const struct pcisel_host *h, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
	for (unsigned i = 0; i < h->nr_funcs; i++) {
		const struct pcisel_func *x = &h->funcs[i];

		if (x->seg == seg && x->bus == bus && x->dev == dev && x->fn == fn)
			return (int)i;
	}
	return -1;
}

static const char *bar_problem(const struct pcisel_host *h, unsigned fi, char *buf, size_t len)
{
	const struct pci_func *f = h->funcs[fi].f;

	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		uint64_t s, n = pcisel_bar_pages(f, i, &s);

		if (!n)
			continue;
		if (s + n < s || s + n > (1ULL << 48)) {
			snprintf(buf, len, "bar%u 0x%llx+0x%llx lies beyond what a domain can map", i,
				 (unsigned long long)f->bar[i].addr, (unsigned long long)f->bar[i].size);
			return buf;
		}
		if (rl_overlaps(h->ram, s, n)) {
			snprintf(buf, len, "bar%u 0x%llx+0x%llx overlaps the domain's RAM", i,
				 (unsigned long long)f->bar[i].addr, (unsigned long long)f->bar[i].size);
			return buf;
		}
		if (overlap(s, n, PVHV_LAPIC_GPA, PAGE) || overlap(s, n, PVHV_IOAPIC_GPA, PAGE) ||
		    overlap(s, n, PVHV_VIRTIO_MMIO_GPA, PVHV_VIRTIO_MAX_DEVICES * PVHV_VIRTIO_MMIO_STRIDE)) {
			snprintf(buf, len, "bar%u 0x%llx+0x%llx overlaps pvhv's LAPIC, I/O APIC or virtio window", i,
				 (unsigned long long)f->bar[i].addr, (unsigned long long)f->bar[i].size);
			return buf;
		}
		for (unsigned k = 0; k < h->nr_segs; k++) {
			const struct pci_segment *g = &h->segs[k];

			if (overlap(s, n, g->base + ((uint64_t)g->bus_start << 20),
				    ((uint64_t)g->bus_end - g->bus_start + 1) << 20)) {
				snprintf(buf, len, "bar%u overlaps segment %u's ECAM window", i, g->seg);
				return buf;
			}
		}
		for (unsigned k = 0; k < h->nr_funcs; k++) {
			const struct pcisel_func *o = &h->funcs[k];

			for (unsigned j = 0; j < PCI_NR_BARS; j++) {
				uint64_t os, on = pcisel_bar_pages(o->f, j, &os);

				if (on && (k != fi || j != i) && overlap(s, n, os, on)) {
					snprintf(buf, len, "bar%u shares a page with %04x:%02x:%02x.%u bar%u", i, o->seg,
						 o->bus, o->dev, o->fn, j);
					return buf;
				}
			}
		}
	}
	return NULL;
}

const char *pcisel_kept(const struct pci_func *f)
{
	uint8_t base = (uint8_t)(f->class_code >> 16);

	if (f->header_type != 0)
		return "not an endpoint (header type not 0)";
	if (base == 0x06)
		return "a bridge";
	if (base == 0x03)
		return "a display";
	return NULL;
}

const char *pcisel_refused(const struct pcisel_host *h, unsigned i, char *buf, size_t len)
{
	const struct pcisel_func *x = &h->funcs[i];

	if (x->f->header_type != 0) {
		snprintf(buf, len, "header type %u: only endpoints (type 0) pass through", x->f->header_type);
		return buf;
	}
	if ((x->f->class_code >> 16) == 0x06) {
		snprintf(buf, len, "a bridge (class %06x): bridges stay with pvhv", x->f->class_code);
		return buf;
	}
	if (x->fn && find(h, x->seg, x->bus, x->dev, 0) < 0) {
		snprintf(buf, len, "its device has no function 0 pvhv found");
		return buf;
	}
	return bar_problem(h, i, buf, len);
}

static bool listed(const struct domain_config *c, const struct pcisel_func *x)
{
	for (unsigned i = 0; i < c->nr_pci; i++)
		if (c->pci[i].seg == x->seg && c->pci[i].bus == x->bus && c->pci[i].dev == x->dev &&
		    c->pci[i].fn == x->fn)
			return true;
	return false;
}

static bool chosen(const unsigned *out, unsigned nr, int i)
{
	for (unsigned k = 0; k < nr; k++)
		if ((int)out[k] == i)
			return true;
	return false;
}

int pcisel_choose(const struct pcisel_host *h, const struct domain_config *c, unsigned *out, unsigned max,
		  unsigned *nr, void (*say)(void *ctx, unsigned i, const char *why), void *ctx, char *err,
		  size_t errlen)
{
	char why[120];

	*nr = 0;
	for (unsigned i = 0; i < c->nr_pci; i++) {
		const struct config_pci *a = &c->pci[i];

		if (find(h, a->seg, a->bus, a->dev, a->fn) < 0)
			return errorf(-ENODEV, err, errlen, "pci %04x:%02x:%02x.%u: no such function on this host",
				      a->seg, a->bus, a->dev, a->fn);
	}
	/* Host order puts function 0 before the others of its device. */
	for (unsigned i = 0; i < h->nr_funcs; i++) {
		const struct pcisel_func *x = &h->funcs[i];
		const char *no = NULL;

		if (c->pci_all)
			no = pcisel_kept(x->f);
		else if (!listed(c, x))
			no = "not listed";
		if (!no)
			no = pcisel_refused(h, i, why, sizeof(why));
		if (!no && x->fn && !chosen(out, *nr, find(h, x->seg, x->bus, x->dev, 0)))
			no = "function 0 of its device stays with pvhv";
		if (no && !c->pci_all && listed(c, x))
			return errorf(-EINVAL, err, errlen, "pci %04x:%02x:%02x.%u: %s", x->seg, x->bus, x->dev, x->fn,
				      no);
		if (!no && *nr == max)
			no = "more functions than pvhv passes through";
		if (!no)
			out[(*nr)++] = i;
		if (say)
			say(ctx, i, no);
	}
	return 0;
}
