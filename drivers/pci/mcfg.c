/* SPDX-License-Identifier: Apache-2.0 */
/* mcfg.c: reads the ACPI MCFG table's ECAM windows, every length and count checked. */
#include "lib/base.h"
#include "drivers/pci/pci.h"

#define SDT_HEADER 36
#define MCFG_RESERVED 8 /* after the header, before the entries */
#define MCFG_ENTRY 16   /* base (8), segment (2), start bus, end bus, reserved (4) */
#define PHYS_LIMIT (1ULL << 52)

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

int pci_mcfg_parse(const void *table, size_t len, struct pci_segment *out, unsigned max,
		   unsigned *nr, char *err, size_t errlen)
{
	const uint8_t *t = table;
	uint32_t length;
	uint8_t sum = 0;
	unsigned n;

	*nr = 0;
	if (len < SDT_HEADER)
		return errorf(-EINVAL, err, errlen, "mcfg: %zu bytes, shorter than a table header", len);
	if (memcmp(t, "MCFG", 4))
		return errorf(-EINVAL, err, errlen, "mcfg: signature is not MCFG");
	length = get32(t + 4);
	if (length > len)
		return errorf(-EINVAL, err, errlen, "mcfg: length %u beyond the %zu bytes mapped", length, len);
	if (length < SDT_HEADER + MCFG_RESERVED)
		return errorf(-EINVAL, err, errlen, "mcfg: length %u shorter than %u", length,
			      SDT_HEADER + MCFG_RESERVED);
	if ((length - SDT_HEADER - MCFG_RESERVED) % MCFG_ENTRY)
		return errorf(-EINVAL, err, errlen, "mcfg: length %u is not a whole number of entries", length);
	for (uint32_t i = 0; i < length; i++)
		sum += t[i];
	if (sum)
		return errorf(-EINVAL, err, errlen, "mcfg: bad checksum");
	n = (length - SDT_HEADER - MCFG_RESERVED) / MCFG_ENTRY;
	if (n > max)
		return errorf(-E2BIG, err, errlen, "mcfg: %u entries, at most %u", n, max);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = t + SDT_HEADER + MCFG_RESERVED + i * MCFG_ENTRY;
		struct pci_segment s = {
			.base = get64(e), .seg = (uint16_t)(e[8] | e[9] << 8),
			.bus_start = e[10], .bus_end = e[11],
		};
		uint64_t end = s.base + ((uint64_t)s.bus_end + 1) * PCI_ECAM_BUS_SIZE;

		if (s.bus_start > s.bus_end)
			return errorf(-EINVAL, err, errlen, "mcfg: entry %u: start bus %u > end bus %u", i,
				      s.bus_start, s.bus_end);
		if (!IS_ALIGNED(s.base, PCI_ECAM_BUS_SIZE))
			return errorf(-EINVAL, err, errlen, "mcfg: entry %u: base 0x%lx not 1 MiB aligned", i,
				      (unsigned long)s.base);
		if (s.base >= PHYS_LIMIT || end > PHYS_LIMIT)
			return errorf(-EINVAL, err, errlen, "mcfg: entry %u: window 0x%lx-0x%lx beyond 2^52", i,
				      (unsigned long)s.base, (unsigned long)end);
		for (unsigned j = 0; j < i; j++) {
			if (out[j].seg == s.seg && s.bus_start <= out[j].bus_end && out[j].bus_start <= s.bus_end)
				return errorf(-EINVAL, err, errlen,
					      "mcfg: entry %u: segment %u buses %u-%u overlap entry %u", i,
					      s.seg, s.bus_start, s.bus_end, j);
		}
		out[i] = s;
	}
	*nr = n;
	return 0;
}
