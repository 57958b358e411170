/* SPDX-License-Identifier: Apache-2.0 */
/*
 * passthru.c: the host PCI functions the control domain drives.  Which
 * ones it gets ("all" but what pvhv keeps, or its list), their
 * configuration space behind trapped ECAM windows (drivers/pci/vcfg.c),
 * their memory BARs mapped uncached at the host's addresses except the
 * MSI-X table pages, which trap into drivers/pci/msix.c, their MSI and
 * MSI-X messages bound to host vectors (pvh/msi.h), their I/O BARs
 * forwarded port by port, and, before the domain's memory is reused,
 * every function quiesced (pci_quiesce()) and then its routes unbound.
 */
#include "pvh/pvh.h"
#include "pvh/acpi_tables.h"
#include "pvh/msi.h"
#include "pvh/pcisel.h"
#include "pvhv/abi.h"
#include "arch/x86/x86.h"

#define PT_MAX_FUNCS 32
#define PT_MAX_MSIX_WIN 16  /* trapped MSI-X table windows (one per function with MSI-X) */
#define PT_MAX_ERRORS 8     /* bind failures reported per function and build */

struct pt_func {
	struct domain *dom;
	const struct pci_host_func *h;
	struct pci_vcfg v;
	struct pci_msix msix;
	struct pci_msix_entry *msix_e;  /* msix.nr entries */
	struct msi_route *msix_route;   /* msix.nr routes */
	struct msi_route msi_route;
	gpa_t msix_table;               /* the table's address (host = guest) */
	gpa_t msix_win;                 /* the trapped pages around it */
	uint64_t msix_win_size;
	unsigned errors;
	char why[120];                  /* the last bind's error */
};

struct passthru {
	struct spinlock lock;   /* config space and MSI-X accesses from every vCPU */
	unsigned nr;
	struct pt_func f[PT_MAX_FUNCS];
	hpa_t extra_pa;         /* the MSI-X entries and routes of every function */
	uint64_t extra_pages;
};

static void bdf(const struct pci_host_func *h, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%u", h->seg, h->bus, h->dev, h->fn);
}

/* ------------------------------------------------------------ choosing */

static uint64_t page_down(uint64_t a) { return a & ~(uint64_t)(PAGE_SIZE - 1); }
static uint64_t page_up(uint64_t a) { return ALIGN_UP(a, (uint64_t)PAGE_SIZE); }

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

struct say_ctx {
	const struct domain *d;
};

static void say(void *ctx, unsigned i, const char *why)
{
	const struct say_ctx *sc = ctx;
	const struct pci_host_func *h = pci_host_func(i);
	char name[16];

	bdf(h, name, sizeof(name));
	if (!why)
		kprintf("pvhv: pci %s %04x:%04x class %06x -> dom %s\n", name, h->f.vendor, h->f.device,
			h->f.class_code, sc->d->name);
	else
		kprintf("pvhv: pci %s kept by pvhv: %s\n", name, why);
}

/* The functions d gets (pvh/pcisel.c's rules), said at its first build. */
static int choose(struct domain *d, struct passthru *pt, char *err, size_t errlen)
{
	struct pcisel_func funcs[PCI_HOST_MAX_FUNCS];
	struct pci_segment segs[PCI_HOST_MAX_SEGS];
	struct pcisel_host host = { funcs, pci_host_nr_funcs(), segs, pci_host_nr_segs(), &d->ram };
	struct say_ctx sc = { d };
	unsigned idx[PT_MAX_FUNCS];
	int rc;

	for (unsigned i = 0; i < host.nr_funcs; i++) {
		const struct pci_host_func *h = pci_host_func(i);

		funcs[i] = (struct pcisel_func){ h->seg, h->bus, h->dev, h->fn, &h->f };
	}
	for (unsigned i = 0; i < host.nr_segs; i++)
		segs[i] = *pci_host_seg(i);
	rc = pcisel_choose(&host, d->cfg, idx, PT_MAX_FUNCS, &pt->nr, d->reboots ? NULL : say, &sc, err, errlen);
	for (unsigned i = 0; !rc && i < pt->nr; i++)
		pt->f[i].h = pci_host_func(idx[i]);
	return rc;
}

/* ------------------------------------------------------------ MSI and MSI-X */

static int msix_bind(void *ctx, unsigned i, uint64_t addr, uint32_t data, uint64_t *haddr, uint32_t *hdata)
{
	struct pt_func *p = ctx;

	return msi_route_bind(&p->msix_route[i], p->dom, addr, data, haddr, hdata, p->why, sizeof(p->why));
}

static void msix_unbind(void *ctx, unsigned i)
{
	struct pt_func *p = ctx;

	msi_route_unbind(&p->msix_route[i]);
}

static int msi_bind(void *ctx, unsigned i, uint64_t addr, uint32_t data, uint64_t *haddr, uint32_t *hdata)
{
	struct pt_func *p = ctx;

	(void)i;
	return msi_route_bind(&p->msi_route, p->dom, addr, data, haddr, hdata, p->why, sizeof(p->why));
}

static void msi_unbind(void *ctx, unsigned i)
{
	struct pt_func *p = ctx;

	(void)i;
	msi_route_unbind(&p->msi_route);
}

static void bind_error(struct pt_func *p, const char *what, int rc)
{
	char name[16];

	if (p->errors++ >= PT_MAX_ERRORS)
		return;
	bdf(p->h, name, sizeof(name));
	kprintf("pvhv: dom %s pci %s: %s left off: %s (error %d)\n", p->dom->name, name, what,
		p->why[0] ? p->why : "cannot bind", rc);
}

/* The MSI-X control word as the domain wrote it, into the model's table and then the device. */
static void msix_control(struct pt_func *p)
{
	struct pci_cfg_ops hw = pci_host_cfg(p->h);
	unsigned off = p->h->f.msix_cap + 2;
	uint16_t cur = (uint16_t)hw.read(hw.ctx, off, 2);
	uint16_t want = (uint16_t)((cur & ~0xc000u) | (p->v.msix_ctrl & 0xc000u));
	uint64_t failed = p->msix.bind_failed;

	if (!(want & 0x8000))
		hw.write(hw.ctx, off, 2, want); /* off in the device before its routes go */
	pci_msix_control(&p->msix, p->v.msix_ctrl);
	if (want & 0x8000)
		hw.write(hw.ctx, off, 2, want);
	if (p->msix.bind_failed != failed) {
		char what[24];

		snprintf(what, sizeof(what), "msix %u", p->msix.last_index);
		bind_error(p, what, p->msix.last_error);
	}
}

static void after_write(struct pt_func *p)
{
	if (p->v.changed & PCI_VCFG_MSI_CHANGED) {
		const struct pci_msg_ops ops = { msi_bind, msi_unbind, p };
		int rc = pci_vcfg_msi_sync(&p->v, &ops);

		if (rc)
			bind_error(p, "msi", rc);
	}
	if (p->v.changed & PCI_VCFG_MSIX_CHANGED) {
		p->v.changed &= ~PCI_VCFG_MSIX_CHANGED;
		if (p->msix.nr)
			msix_control(p);
	}
}

/* ------------------------------------------------------------ traps */

static struct pt_func *find(struct passthru *pt, uint16_t seg, unsigned bus, unsigned dev, unsigned fn)
{
	for (unsigned i = 0; i < pt->nr; i++) {
		const struct pci_host_func *h = pt->f[i].h;

		if (h->seg == seg && h->bus == bus && h->dev == dev && h->fn == fn)
			return &pt->f[i];
	}
	return NULL;
}

/*
 * A configuration access through a trapped ECAM window (opaque: its
 * segment).  A function the domain was not given reads all-ones and
 * ignores writes, as an empty slot does (PCIe Base 4.0, 7.2.2.2).
 */
static int ecam_access(struct domain *d, void *opaque, uint64_t off, bool write, unsigned size, uint64_t *val)
{
	const struct pci_segment *g = opaque;
	struct passthru *pt = d->pt;
	struct pt_func *p;
	uint32_t v32 = ~0u;

	spin_lock(&pt->lock);
	p = find(pt, g->seg, g->bus_start + (unsigned)(off >> 20), (unsigned)(off >> 15) & 31,
		 (unsigned)(off >> 12) & 7);
	if (write) {
		if (p && size <= 4) {
			pci_vcfg_write(&p->v, (uint32_t)(off & 0xfff), size, (uint32_t)*val);
			after_write(p);
		}
	} else {
		if (p && size <= 4)
			pci_vcfg_read(&p->v, (uint32_t)(off & 0xfff), size, &v32);
		*val = size == 8 ? ~0ULL : v32;
	}
	spin_unlock(&pt->lock);
	return 0;
}

static uint64_t dev_read(hpa_t a, unsigned size)
{
	volatile void *p = hpa_to_ptr(a);

	switch (size) {
	case 1: return *(volatile uint8_t *)p;
	case 2: return *(volatile uint16_t *)p;
	case 4: return *(volatile uint32_t *)p;
	}
	return *(volatile uint64_t *)p;
}

static void dev_write(hpa_t a, unsigned size, uint64_t v)
{
	volatile void *p = hpa_to_ptr(a);

	switch (size) {
	case 1: *(volatile uint8_t *)p = (uint8_t)v; break;
	case 2: *(volatile uint16_t *)p = (uint16_t)v; break;
	case 4: *(volatile uint32_t *)p = (uint32_t)v; break;
	default: *(volatile uint64_t *)p = v; break;
	}
}

/*
 * An access to the pages holding a function's MSI-X table: the table is
 * the model's; the rest of the pages (other registers, a PBA sharing
 * them) goes to the device at the same width and address.
 */
static int msix_access(struct domain *d, void *opaque, uint64_t off, bool write, unsigned size, uint64_t *val)
{
	struct pt_func *p = opaque;
	gpa_t a = p->msix_win + off;
	uint64_t toff = a - p->msix_table;

	if (a >= p->msix_table && toff < (uint64_t)p->msix.nr * PCI_MSIX_ENTRY) {
		spin_lock(&d->pt->lock);
		if (write)
			pci_msix_write(&p->msix, toff, size, *val);
		else
			pci_msix_read(&p->msix, toff, size, val);
		if (write && p->msix.bind_failed && p->msix.last_error) {
			char what[24];

			snprintf(what, sizeof(what), "msix %u", p->msix.last_index);
			bind_error(p, what, p->msix.last_error);
			p->msix.last_error = 0;
		}
		spin_unlock(&d->pt->lock);
		return 0;
	}
	if ((size != 1 && size != 2 && size != 4 && size != 8) || !IS_ALIGNED(a, (uint64_t)size)) {
		if (!write)
			*val = ~0ULL;
		return 0; /* a device register is not reached misaligned */
	}
	if (write)
		dev_write(a, size, *val);
	else
		*val = dev_read(a, size);
	return 0;
}

/*
 * A port of one of a function's I/O BARs (opaque: the BAR), forwarded to
 * the device at the same width.  pvhv's I/O permission bitmap is shared by
 * every domain, so the ports are trapped rather than opened.
 */
static enum exit_action io_forward(struct vcpu *v, void *opaque, uint16_t off, bool in, uint8_t size,
				   uint32_t *val)
{
	const struct pci_bar *b = opaque;
	uint16_t port = (uint16_t)(b->addr + off);

	(void)v;
	if ((uint64_t)off + size > b->size)
		return ACT_CONTINUE; /* runs past the BAR: all-ones, dropped */
	if (in)
		*val = size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
	else if (size == 1)
		outb(port, (uint8_t)*val);
	else if (size == 2)
		outw(port, (uint16_t)*val);
	else
		outl(port, *val);
	return ACT_CONTINUE;
}

/* The device's own MSI-X table (4-byte accesses, the pci_cfg_ops shape). */
static uint32_t table_read(void *ctx, unsigned off, unsigned size)
{
	struct pt_func *p = ctx;

	(void)size;
	return (uint32_t)dev_read(p->msix_table + off, 4);
}

static void table_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	struct pt_func *p = ctx;

	(void)size;
	dev_write(p->msix_table + off, 4, val);
}

/* ------------------------------------------------------------ building */

static int map_bars(struct domain *d, struct pt_func *p, char *err, size_t errlen)
{
	for (unsigned i = 0; i < PCI_NR_BARS; i++) {
		uint64_t s, n = pcisel_bar_pages(&p->h->f, i, &s), e;
		int rc = 0;

		if (!n)
			continue;
		e = s + n;
		if (p->msix_win_size && overlap(s, n, p->msix_win, p->msix_win_size)) {
			/* Around the trapped table pages. */
			if (p->msix_win > s)
				rc = stage2_map_mmio(d->stage2_root, s, s, p->msix_win - s);
			if (!rc && p->msix_win + p->msix_win_size < e)
				rc = stage2_map_mmio(d->stage2_root, p->msix_win + p->msix_win_size,
						     p->msix_win + p->msix_win_size, e - p->msix_win - p->msix_win_size);
		} else {
			rc = stage2_map_mmio(d->stage2_root, s, s, n);
		}
		if (rc)
			return errorf(rc, err, errlen, "bar%u 0x%lx+0x%lx: cannot map (%d)", i, p->h->f.bar[i].addr,
				      p->h->f.bar[i].size, rc);
	}
	return 0;
}

static int setup_func(struct domain *d, struct pt_func *p, struct pci_msix_entry **e, struct msi_route **r,
		      char *err, size_t errlen)
{
	const struct pci_func *f = &p->h->f;
	struct pci_cfg_ops hw = pci_host_cfg(p->h);
	char why[120];
	int rc;

	p->dom = d;
	rc = pci_vcfg_init(&p->v, f, &hw, why, sizeof(why));
	if (rc)
		return errorf(rc, err, errlen, "%s", why);
	memset(&p->msi_route, 0, sizeof(p->msi_route));
	if (f->msix_cap && f->msix_size) {
		const struct pci_cfg_ops t = { table_read, table_write, p };
		const struct pci_msg_ops m = { msix_bind, msix_unbind, p };

		p->msix_table = f->bar[f->msix_bir].addr + f->msix_offset;
		p->msix_win = page_down(p->msix_table);
		p->msix_win_size = page_up(p->msix_table + (uint64_t)f->msix_size * PCI_MSIX_ENTRY) - p->msix_win;
		p->msix_e = *e;
		p->msix_route = *r;
		*e += f->msix_size;
		*r += f->msix_size;
		memset(p->msix_route, 0, f->msix_size * sizeof(*p->msix_route));
		rc = pci_msix_init(&p->msix, p->msix_e, f->msix_size, &t, &m);
		if (rc)
			return errorf(rc, err, errlen, "msix: %u entries", f->msix_size);
	}
	return map_bars(d, p, err, errlen);
}

int passthru_build(struct domain *d, char *err, size_t errlen)
{
	const struct domain_config *c = d->cfg;
	struct passthru *pt;
	struct pci_msix_entry *e;
	struct msi_route *r;
	unsigned entries = 0, wins = 0;
	char why[160], name[16];
	hpa_t pa;
	int rc;

	if (!c->pci_all && !c->nr_pci)
		return 0;
	if (page_alloc(pages_for(sizeof(*pt)), 1, &pa))
		return errorf(-ENOMEM, err, errlen, "pci: out of memory");
	pt = hpa_to_ptr(pa);
	memset(pt, 0, sizeof(*pt));
	d->pt = pt;
	d->pt_pa = pa;
	rc = choose(d, pt, err, errlen);
	if (rc)
		return rc;
	for (unsigned i = 0; i < pt->nr; i++) {
		entries += pt->f[i].h->f.msix_cap ? pt->f[i].h->f.msix_size : 0;
		wins += pt->f[i].h->f.msix_cap && pt->f[i].h->f.msix_size;
	}
	if (wins > PT_MAX_MSIX_WIN)
		return errorf(-E2BIG, err, errlen, "pci: %u functions with MSI-X, pvhv traps %u", wins,
			      PT_MAX_MSIX_WIN);
	pt->extra_pages = pages_for(entries * (sizeof(*e) + sizeof(*r)));
	if (entries && page_alloc(pt->extra_pages, 1, &pt->extra_pa))
		return errorf(-ENOMEM, err, errlen, "pci: out of memory for %u MSI-X entries", entries);
	e = entries ? hpa_to_ptr(pt->extra_pa) : NULL;
	r = entries ? (struct msi_route *)(e + entries) : NULL;
	for (unsigned i = 0; i < pt->nr; i++) {
		rc = setup_func(d, &pt->f[i], &e, &r, why, sizeof(why));
		if (rc) {
			bdf(pt->f[i].h, name, sizeof(name));
			pt->nr = i + 1; /* teardown quiesces what was set up */
			return errorf(rc, err, errlen, "pci %s: %s", name, why);
		}
	}
	return 0;
}

int passthru_devices(struct domain *d, int (*add)(struct domain *, gpa_t, uint64_t, mmio_access_fn, void *),
		     int (*add_ports)(struct domain *, uint16_t, uint16_t, port_io_fn, void *), char *err,
		     size_t errlen)
{
	struct passthru *pt = d->pt;

	if (!pt)
		return 0;
	for (unsigned k = 0; k < pci_host_nr_segs(); k++) {
		const struct pci_segment *g = pci_host_seg(k);
		gpa_t base = g->base + ((uint64_t)g->bus_start << 20);
		uint64_t size = ((uint64_t)g->bus_end - g->bus_start + 1) << 20;
		bool used = false;

		for (unsigned i = 0; i < pt->nr; i++)
			used |= pt->f[i].h->seg == g->seg;
		if (used && add(d, base, size, ecam_access, (void *)g))
			return errorf(-EINVAL, err, errlen,
				      "pci: segment %u ECAM 0x%lx+0x%lx overlaps the domain's RAM or devices", g->seg,
				      base, size);
	}
	for (unsigned i = 0; i < pt->nr; i++) {
		struct pt_func *p = &pt->f[i];

		if (p->msix_win_size && add(d, p->msix_win, p->msix_win_size, msix_access, p))
			return errorf(-EINVAL, err, errlen, "pci: MSI-X table window 0x%lx+0x%lx unusable",
				      p->msix_win, p->msix_win_size);
		for (unsigned b = 0; b < PCI_NR_BARS; b++) {
			const struct pci_bar *bar = &p->h->f.bar[b];
			char name[16];

			if (bar->kind != PCI_BAR_IO || !bar->size)
				continue;
			if (bar->addr + bar->size > 0x10000 ||
			    add_ports(d, (uint16_t)bar->addr, (uint16_t)bar->size, io_forward, (void *)bar)) {
				bdf(p->h, name, sizeof(name));
				return errorf(-EINVAL, err, errlen,
					      "pci %s: bar%u io 0x%lx+0x%lx overlaps pvhv's own ports, or too many",
					      name, b, bar->addr, bar->size);
			}
		}
	}
	return 0;
}

/* Adds [base, base + size) to s's windows, merged with one it touches. */
static void add_win(struct acpi_pci_seg *s, uint64_t base, uint64_t size, bool io)
{
	for (unsigned w = 0; w < s->nr_win; w++) {
		struct acpi_pci_win *x = &s->win[w];

		if (x->io == io && base <= x->base + x->size && x->base <= base + size) {
			uint64_t end = MAX(x->base + x->size, base + size);

			x->base = MIN(x->base, base);
			x->size = end - x->base;
			return;
		}
	}
	if (s->nr_win < ACPI_MAX_PCI_WIN)
		s->win[s->nr_win++] = (struct acpi_pci_win){ base, size, io };
	else
		s->nr_win = ACPI_MAX_PCI_WIN + 1; /* acpi_build() refuses it, naming the segment */
}

void passthru_acpi(const struct domain *d, struct acpi_params *ap)
{
	const struct passthru *pt = d->pt;

	ap->nr_pci = 0;
	if (!pt)
		return;
	for (unsigned k = 0; k < pci_host_nr_segs() && ap->nr_pci < ACPI_MAX_PCI_SEGS; k++) {
		const struct pci_segment *g = pci_host_seg(k);
		struct acpi_pci_seg *s = &ap->pci[ap->nr_pci];

		*s = (struct acpi_pci_seg){ .ecam = g->base, .seg = g->seg, .bus_start = g->bus_start,
					    .bus_end = g->bus_end };
		for (unsigned i = 0; i < pt->nr; i++) {
			const struct pci_func *f = &pt->f[i].h->f;

			if (pt->f[i].h->seg != g->seg)
				continue;
			for (unsigned b = 0; b < PCI_NR_BARS && s->nr_win <= ACPI_MAX_PCI_WIN; b++) {
				uint64_t start, n = pcisel_bar_pages(f, b, &start);

				if (n)
					add_win(s, start, n, false);
				else if (f->bar[b].kind == PCI_BAR_IO && f->bar[b].size)
					add_win(s, f->bar[b].addr, f->bar[b].size, true);
			}
		}
		if (s->nr_win)
			ap->nr_pci++;
	}
}

void passthru_teardown(struct domain *d)
{
	struct passthru *pt = d->pt;
	char why[120], name[16];

	if (!pt)
		return;
	for (unsigned i = 0; i < pt->nr; i++) {
		struct pt_func *p = &pt->f[i];
		struct pci_cfg_ops hw = pci_host_cfg(p->h);

		/* The device stops first: no message of it is left to reach a vector being freed. */
		bdf(p->h, name, sizeof(name));
		if (arch_pci_quiesce(&hw, &p->h->f, why, sizeof(why)))
			kprintf("pvhv: dom %s pci %s: %s\n", d->name, name, why);
		else
			kprintf("pvhv: dom %s pci %s quiesced\n", d->name, name);
		if (p->dom) {
			if (p->msix.nr)
				pci_msix_release(&p->msix);
			msi_route_unbind(&p->msi_route);
		}
	}
	for (unsigned i = 0; i < pt->nr; i++)
		if (pt->f[i].v.bar_moves) {
			bdf(pt->f[i].h, name, sizeof(name));
			kprintf("pvhv: dom %s pci %s: %lu BAR moves ignored (BARs stay at the host's addresses)\n",
				d->name, name, pt->f[i].v.bar_moves);
		}
	if (pt->extra_pages && pt->extra_pa)
		page_free(pt->extra_pa, pt->extra_pages);
	page_free(d->pt_pa, pages_for(sizeof(*pt)));
	d->pt = NULL;
}

uint64_t passthru_bar_moves(const struct domain *d)
{
	uint64_t n = 0;

	for (unsigned i = 0; d->pt && i < d->pt->nr; i++)
		n += d->pt->f[i].v.bar_moves;
	return n;
}
