/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pcisel.h: which host PCI functions a control domain gets (pure; the
 * rules pvh/passthru.c applies at build): "all" but what pvhv keeps, or
 * the domain's list, and never a function whose BARs a domain could not
 * be given safely.
 */
#ifndef PVHV_PVH_PCISEL_H
#define PVHV_PVH_PCISEL_H

#include "lib/base.h"
#include "drivers/pci/pci.h"
#include "pvh/config.h"
#include "pvh/ramlayout.h"

/* One host function as probed. */
struct pcisel_func {
	uint16_t seg;
	uint8_t bus, dev, fn;
	const struct pci_func *f;
};

/* The host: its functions and ECAM windows, and the domain's RAM. */
struct pcisel_host {
	const struct pcisel_func *funcs;
	unsigned nr_funcs;
	const struct pci_segment *segs;
	unsigned nr_segs;
	const struct ram_layout *ram;
};

/*
 * Memory BAR i of f as whole pages: their count in bytes and *start, or
 * 0 when BAR i is not a memory BAR with a size.
 */
uint64_t pcisel_bar_pages(const struct pci_func *f, unsigned i, uint64_t *start);

/*
 * Why function i (< nr_funcs) may not be given at all, in buf (NULL: it
 * may): not header type 0; a bridge (class 06); a function other than 0
 * of a device without function 0; a memory BAR whose pages wrap or reach
 * 2^48, or overlap the domain's RAM, pvhv's LAPIC or I/O APIC page or
 * virtio-mmio window, an ECAM window, or another function's BAR pages.
 */
const char *pcisel_refused(const struct pcisel_host *h, unsigned i, char *buf, size_t len);

/* Why "all" leaves function f with pvhv (NULL: it goes): not type 0, a bridge, a display. */
const char *pcisel_kept(const struct pci_func *f);

/*
 * Chooses c's functions (c->pci_all or c->nr_pci): their indexes, in
 * host order, go to out[0 .. *nr) (at most max; past that "all" keeps the
 * rest).  say (may be NULL) hears each function's fate: why NULL for
 * given, else why pvhv keeps it (under "all", or "not listed").  An
 * entry of c's list that names no host function, or one refused, fails:
 * -ENODEV or -EINVAL with err set.  Under "all" a function refused, or
 * whose function 0 is not given (an OS scans function 0 first), is kept.
 */
int pcisel_choose(const struct pcisel_host *h, const struct domain_config *c, unsigned *out, unsigned max,
		  unsigned *nr, void (*say)(void *ctx, unsigned i, const char *why), void *ctx, char *err,
		  size_t errlen);

#endif
