/* SPDX-License-Identifier: Apache-2.0 */
/*
 * msix_fuzz.c: libFuzzer target: a hostile domain's accesses to a
 * passed-through function's MSI-X table (drivers/pci/msix.c) and its
 * MSI-X control word, over a fake device table and a fake router that
 * refuses messages outside 0xfee00000-0xfeefffff.
 *
 * Input: 1 byte of table size (1-64 entries), then 11-byte operations: op
 * (bit 0 write; bits 1-2 width 4, 8, 2 or 1; bit 3 a control-word write
 * instead), offset (2 bytes, may run past the table), value (8 bytes).
 *
 * Beyond ASan/UBSan it checks msix.c's promises after every operation: the
 * device's table is reached only inside it and 4 bytes wide; an entry's
 * message changes in the device only while that entry is masked there;
 * an entry is unmasked in the device exactly when the domain wants it
 * (MSI-X enabled, not function-masked, entry unmasked) and its message is
 * bound, and then carries that entry's host message; a disabled table
 * holds no route; refusals are counted exactly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base.h"
#include "drivers/pci/pci.h"

#define NR_MAX 64
#define OP_LEN 11

static uint32_t table[NR_MAX * 4];
static unsigned nr;
static bool bound[NR_MAX];

static void check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "msix_fuzz: %s\n", what);
		abort();
	}
}

static uint32_t t_read(void *ctx, unsigned off, unsigned size)
{
	(void)ctx;
	check(size == 4 && off % 4 == 0 && off < nr * 16, "device table read outside it or not 4 bytes");
	return table[off / 4];
}

static void t_write(void *ctx, unsigned off, unsigned size, uint32_t val)
{
	(void)ctx;
	check(size == 4 && off % 4 == 0 && off < nr * 16, "device table written outside it or not 4 bytes");
	if (off % 16 != 12 && table[off / 4] != val)
		check(table[off / 16 * 4 + 3] & 1, "a message changed in an unmasked device entry");
	table[off / 4] = val;
}

static bool deliverable(uint64_t addr)
{
	return (addr >> 20) == 0xfee;
}

static int bind(void *ctx, unsigned i, uint64_t addr, uint32_t data, uint64_t *haddr, uint32_t *hdata)
{
	(void)ctx;
	(void)data;
	check(i < nr, "bind of an entry past the table");
	if (!deliverable(addr))
		return -EINVAL;
	bound[i] = true;
	*haddr = 0xfee00000 | (uint64_t)i << 12;
	*hdata = 0x30 + i;
	return 0;
}

static void unbind(void *ctx, unsigned i)
{
	(void)ctx;
	check(i < nr, "unbind of an entry past the table");
	bound[i] = false;
}

static void invariants(const struct pci_msix *m)
{
	for (unsigned i = 0; i < nr; i++) {
		const struct pci_msix_entry *e = &m->e[i];
		bool want = m->enabled && !m->fmask && !(e->ctrl & 1) && deliverable(e->addr);
		bool open = !(table[i * 4 + 3] & 1);

		check(open == want, "device entry's mask disagrees with the domain's programming");
		if (open) {
			check(bound[i], "an unmasked device entry without a route");
			check(table[i * 4] == (0xfee00000u | i << 12) && table[i * 4 + 1] == 0 &&
			      table[i * 4 + 2] == 0x30 + i, "an unmasked device entry without its host message");
		}
		if (!m->enabled)
			check(!bound[i], "a route left bound while MSI-X is off");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
	static const unsigned widths[4] = { 4, 8, 2, 1 };
	static struct pci_msix_entry e[NR_MAX];
	const struct pci_cfg_ops hw = { t_read, t_write, NULL };
	const struct pci_msg_ops msg = { bind, unbind, NULL };
	struct pci_msix m;
	uint64_t refused = 0;

	if (len < 1)
		return 0;
	nr = in[0] % NR_MAX + 1;
	memset(table, 0, sizeof(table));
	memset(bound, 0, sizeof(bound));
	check(pci_msix_init(&m, e, nr, &hw, &msg) == 0, "init refused a valid size");
	invariants(&m);
	for (size_t p = 1; p + OP_LEN <= len; p += OP_LEN) {
		const uint8_t *o = in + p;
		unsigned size = widths[(o[0] >> 1) & 3];
		uint64_t off = (uint64_t)o[1] | (uint64_t)o[2] << 8, val = 0, got = 0;
		bool ok = (size == 4 || size == 8) && off % size == 0 && off + size <= nr * 16u;

		for (unsigned i = 0; i < 8; i++)
			val |= (uint64_t)o[3 + i] << (8 * i);
		if (o[0] & 8) {
			pci_msix_control(&m, (uint16_t)val);
		} else if (o[0] & 1) {
			check((pci_msix_write(&m, off, size, val) == 0) == ok, "write accepted or refused wrongly");
			refused += !ok;
		} else {
			check((pci_msix_read(&m, off, size, &got) == 0) == ok, "read accepted or refused wrongly");
			check(ok || got == ~0ULL, "a refused read is not all-ones");
			refused += !ok;
		}
		check(m.refused == refused, "refusals miscounted");
		invariants(&m);
	}
	pci_msix_release(&m);
	for (unsigned i = 0; i < nr; i++)
		check((table[i * 4 + 3] & 1) && !bound[i], "release left an entry unmasked or bound");
	return 0;
}
