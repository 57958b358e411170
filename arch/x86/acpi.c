/* SPDX-License-Identifier: Apache-2.0 */
/* acpi.c: reads the host's ACPI tables: CPUs (MADT), how to power off (FADT, \_S5), where MCFG is. */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"

struct acpi_info acpi_info;

struct sdt_header {
	char sig[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem[6];
	char oem_table[8];
	uint32_t oem_rev;
	uint32_t creator;
	uint32_t creator_rev;
} PACKED;

struct gas {
	uint8_t space, bit_width, bit_offset, access;
	uint64_t addr;
} PACKED;

static uint8_t sum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s += *b++;
	return s;
}

static const uint8_t *find_rsdp_in(uint64_t start, uint64_t len)
{
	for (uint64_t a = start; a + 20 <= start + len; a += 16) {
		const uint8_t *p = hpa_to_ptr(a);

		if (!memcmp(p, "RSD PTR ", 8) && sum(p, 20) == 0)
			return p;
	}
	return NULL;
}

static const struct sdt_header *table_at(uint64_t pa)
{
	const struct sdt_header *h;

	/* Tables must lie in the identity map (below 4 GiB, as firmware puts them). */
	if (!pa || pa >= GIB(4) - sizeof(*h))
		return NULL;
	h = hpa_to_ptr(pa);
	if (h->length < sizeof(*h) || pa + h->length > GIB(4) || sum(h, h->length)) {
		kprintf("pvhv: acpi: table at 0x%lx has a bad length or checksum, ignored\n", pa);
		return NULL;
	}
	return h;
}

static void parse_madt(const struct sdt_header *h)
{
	const uint8_t *p = (const uint8_t *)h + sizeof(*h) + 8; /* local APIC addr, flags */
	const uint8_t *end = (const uint8_t *)h + h->length;

	while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
		uint32_t id = ~0u;
		uint32_t flags = 0;

		if (p[0] == 0 && p[1] >= 8) { /* processor local APIC */
			id = p[3];
			flags = *(const uint32_t *)(p + 4);
		} else if (p[0] == 9 && p[1] >= 16) { /* local x2APIC */
			id = *(const uint32_t *)(p + 4);
			flags = *(const uint32_t *)(p + 8);
		}
		if (id != ~0u && (flags & 1)) {
			if (acpi_info.nr_cpus < MAX_CPUS)
				acpi_info.apic_ids[acpi_info.nr_cpus++] = id;
			else
				kprintf("pvhv: acpi: more than %d CPUs, ignoring apic %u\n", MAX_CPUS, id);
		}
		p += p[1];
	}
}

/* Finds \_S5's SLP_TYP values in the DSDT's AML: Name(_S5_, Package(){a, b, ...}). */
static void parse_s5(const struct sdt_header *dsdt)
{
	const uint8_t *p = (const uint8_t *)dsdt + sizeof(*dsdt);
	const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
	uint16_t vals[2];

	for (; p + 8 < end; p++) {
		const uint8_t *q;
		unsigned n = 0;

		if (memcmp(p, "_S5_", 4) || p[4] != 0x12) /* PackageOp */
			continue;
		q = p + 5;
		q += ((*q >> 6) & 3) + 1; /* PkgLength */
		q++;                      /* NumElements */
		while (n < 2 && q < end) {
			if (*q == 0x0a && q + 1 < end) { /* BytePrefix */
				vals[n++] = q[1];
				q += 2;
			} else if (*q == 0x00 || *q == 0x01) { /* ZeroOp, OneOp */
				vals[n++] = *q;
				q++;
			} else {
				break;
			}
		}
		if (n == 2) {
			acpi_info.have_s5 = true;
			acpi_info.slp_typ_a = vals[0];
			acpi_info.slp_typ_b = vals[1];
		}
		return;
	}
}

static void parse_fadt(const struct sdt_header *h)
{
	const uint8_t *f = (const uint8_t *)h;
	const struct sdt_header *dsdt = NULL;

	if (h->length >= 68) {
		acpi_info.pm1a_cnt = *(const uint32_t *)(f + 64);
		acpi_info.pm1b_cnt = *(const uint32_t *)(f + 68);
		dsdt = table_at(*(const uint32_t *)(f + 40));
	}
	if (h->length >= 116) {
		uint32_t flags = *(const uint32_t *)(f + 112);
		const struct gas *reset = (const struct gas *)(f + 116);

		acpi_info.hw_reduced = flags & (1u << 20);
		if ((flags & (1u << 10)) && h->length >= 129) {
			acpi_info.have_reset = true;
			acpi_info.reset_space = reset->space;
			acpi_info.reset_addr = reset->addr;
			acpi_info.reset_value = f[128];
		}
	}
	if (h->length >= 148 && *(const uint64_t *)(f + 140))
		dsdt = table_at(*(const uint64_t *)(f + 140));
	if (h->length >= 256) {
		const struct gas *slp = (const struct gas *)(f + 244);

		acpi_info.sleep_ctl_addr = slp->addr;
		acpi_info.sleep_ctl_space = slp->space;
	}
	if (dsdt && !memcmp(dsdt->sig, "DSDT", 4))
		parse_s5(dsdt);
}

void acpi_init(void)
{
	const uint8_t *rsdp = boot_info.rsdp ? hpa_to_ptr(boot_info.rsdp) : NULL;
	uint64_t ebda = (uint64_t)(*(volatile uint16_t *)hpa_to_ptr(0x40e)) << 4;
	const struct sdt_header *root;
	bool xsdt;
	unsigned n;

	if (rsdp && (memcmp(rsdp, "RSD PTR ", 8) || sum(rsdp, 20)))
		rsdp = NULL;
	if (!rsdp && ebda >= 0x80000 && ebda < 0xa0000)
		rsdp = find_rsdp_in(ebda, 1024);
	if (!rsdp)
		rsdp = find_rsdp_in(0xe0000, 0x20000);
	if (!rsdp) {
		kprintf("pvhv: acpi: no RSDP; running on the boot CPU only\n");
		return;
	}
	xsdt = rsdp[15] >= 2 && *(const uint64_t *)(rsdp + 24);
	root = table_at(xsdt ? *(const uint64_t *)(rsdp + 24) : *(const uint32_t *)(rsdp + 16));
	if (!root) {
		kprintf("pvhv: acpi: unusable RSDT/XSDT; running on the boot CPU only\n");
		return;
	}
	n = (root->length - sizeof(*root)) / (xsdt ? 8 : 4);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *e = (const uint8_t *)root + sizeof(*root) + i * (xsdt ? 8 : 4);
		uint64_t pa = xsdt ? *(const uint64_t *)e : *(const uint32_t *)e;
		const struct sdt_header *h = table_at(pa);

		if (!h)
			continue;
		if (!memcmp(h->sig, "APIC", 4))
			parse_madt(h);
		else if (!memcmp(h->sig, "FACP", 4))
			parse_fadt(h);
		else if (!memcmp(h->sig, "MCFG", 4) && !acpi_info.mcfg) {
			acpi_info.mcfg = pa; /* pci.c parses it */
			acpi_info.mcfg_len = h->length;
		}
	}
}
