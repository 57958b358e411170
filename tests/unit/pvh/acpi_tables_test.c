/* SPDX-License-Identifier: Apache-2.0 */
/*
 * acpi_tables_test.c: unit tests for pvh/acpi_tables.c: parse the built
 * tables back, and round-trip them through iasl (acpica-tools, which the
 * project installs: a missing iasl fails the test).
 */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/base.h"
#include "pvh/acpi_tables.h"
#include "pvhv/abi.h"

static uint8_t buf[PVHV_ACPI_SIZE];
static char err[256];
static uint64_t rsdp_gpa;
static size_t used;

#define GPA PVHV_ACPI_GPA

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

static struct acpi_params params(unsigned vcpus, unsigned nvirtio)
{
	struct acpi_params p;
	unsigned i;

	memset(&p, 0, sizeof(p));
	p.nr_vcpus = vcpus;
	p.nr_virtio = nvirtio;
	for (i = 0; i < nvirtio; i++) {
		p.virtio[i].addr = PVHV_VIRTIO_MMIO_GPA + i * PVHV_VIRTIO_MMIO_STRIDE;
		p.virtio[i].size = PVHV_VIRTIO_MMIO_STRIDE;
		p.virtio[i].gsi = PVHV_VIRTIO_GSI_BASE + i;
	}
	return p;
}

static int build_at(const struct acpi_params *p, uint64_t gpa, size_t len)
{
	memset(buf, 0xaa, sizeof(buf));
	err[0] = 0;
	rsdp_gpa = 0x1234;
	used = 0x5678;
	return acpi_build(buf, len, gpa, p, &rsdp_gpa, &used, err, sizeof(err));
}

static void build_ok(const struct acpi_params *p)
{
	cr_assert_eq(build_at(p, GPA, sizeof(buf)), 0, "acpi_build: %s", err);
	cr_assert_eq(rsdp_gpa, GPA);
	cr_assert_gt(used, 36);
	cr_assert_leq(used, sizeof(buf));
}

/* A table at gpa: inside [GPA, GPA + used), right signature, sane header. */
static const uint8_t *table(uint64_t gpa, const char *sig, uint8_t rev)
{
	const uint8_t *t;
	uint32_t len;

	cr_assert(range_within(gpa, 36, GPA, used), "%s at 0x%llx outside [0x%x, +0x%zx)",
		  sig, (unsigned long long)gpa, GPA, used);
	cr_assert(IS_ALIGNED(gpa, 8), "%s at 0x%llx misaligned", sig, (unsigned long long)gpa);
	t = buf + (gpa - GPA);
	cr_assert_arr_eq(t, sig, 4, "signature at 0x%llx is not %s", (unsigned long long)gpa, sig);
	len = rd32(t + 4);
	cr_assert(range_within(gpa, len, GPA, used), "%s length %u overruns", sig, len);
	cr_assert_eq(t[8], rev, "%s revision %u", sig, t[8]);
	cr_assert_eq(sum(t, len), 0, "%s checksum", sig);
	cr_assert_arr_eq(t + 10, "PVHV  ", 6);
	cr_assert_arr_eq(t + 16, "PVHV", 4);
	cr_assert_arr_eq(t + 20, sig, 4, "OEM table id is PVHV + signature");
	cr_assert_arr_eq(t + 28, "PVHV", 4);
	return t;
}

static const uint8_t *xsdt(void)
{
	const uint8_t *r = buf;

	cr_assert_arr_eq(r, "RSD PTR ", 8);
	cr_assert_eq(sum(r, 20), 0, "RSDP checksum");
	cr_assert_eq(sum(r, 36), 0, "RSDP extended checksum");
	cr_assert_arr_eq(r + 9, "PVHV  ", 6);
	cr_assert_eq(r[15], 2, "RSDP revision");
	cr_assert_eq(rd32(r + 16), 0, "RsdtAddress");
	cr_assert_eq(rd32(r + 20), 36, "RSDP length");
	return table(rd64(r + 24), "XSDT", 1);
}

static const uint8_t *xsdt_entry(unsigned i, const char *sig, uint8_t rev)
{
	const uint8_t *x = xsdt();

	cr_assert(rd32(x + 4) == 36 + 2 * 8 || rd32(x + 4) == 36 + 3 * 8,
		  "XSDT lists FADT, MADT and maybe MCFG: %u bytes", rd32(x + 4));
	return table(rd64(x + 36 + 8 * i), sig, rev);
}

static const uint8_t *fadt(void) { return xsdt_entry(0, "FACP", 6); }
static const uint8_t *madt(void) { return xsdt_entry(1, "APIC", 5); }

static const uint8_t *dsdt(void)
{
	return table(rd64(fadt() + 140), "DSDT", 2);
}

/* 5.2.3.2: an 8-bit, byte-access SystemIO register at port. */
static void expect_io_gas(const uint8_t *g, uint16_t port)
{
	cr_assert_eq(g[0], 1, "space id %u", g[0]);
	cr_assert_eq(g[1], 8, "bit width %u", g[1]);
	cr_assert_eq(g[2], 0, "bit offset %u", g[2]);
	cr_assert_eq(g[3], 1, "access size %u", g[3]);
	cr_assert_eq(rd64(g + 4), port, "port 0x%llx", (unsigned long long)rd64(g + 4));
}

/* ------------------------------------------------------------ parsing */

Test(acpi_tables, rsdp_xsdt_and_layout)
{
	struct acpi_params p = params(1, 0);
	const uint8_t *x;
	size_t i;

	build_ok(&p);
	x = xsdt();
	cr_assert_eq(rd64(buf + 24), GPA + ACPI_XSDT_OFF);
	cr_assert_eq(rd32(x + 4), 52);
	fadt();
	madt();
	dsdt();
	/* The DSDT is the last table, and nothing was written past used. */
	cr_assert_eq((size_t)(rd64(fadt() + 140) - GPA) + rd32(dsdt() + 4), used);
	for (i = used; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0, "byte 0x%zx past the tables is 0x%x", i, buf[i]);
}

Test(acpi_tables, outputs_optional)
{
	struct acpi_params p = params(2, 1);

	cr_assert_eq(acpi_build(buf, sizeof(buf), GPA, &p, NULL, NULL, NULL, 0), 0);
	cr_assert_arr_eq(buf, "RSD PTR ", 8);
}

Test(acpi_tables, fadt_fields)
{
	struct acpi_params p = params(4, 2);
	const uint8_t *f, *d;
	uint32_t flags;
	uint16_t iapc;

	build_ok(&p);
	f = fadt();
	d = dsdt();
	cr_assert_eq(rd32(f + 4), 276);
	cr_assert_eq(rd32(f + 36), 0, "no FACS");
	cr_assert_eq(rd64(f + 132), 0, "no X_FACS");
	cr_assert_eq(rd64(f + 140), GPA + (uint64_t)(d - buf), "X_DSDT");
	cr_assert_eq(rd32(f + 40), rd64(f + 140), "DSDT and X_DSDT agree");
	cr_assert_eq(rd16(f + 46), 0, "no SCI in hardware-reduced mode");
	flags = rd32(f + 112);
	cr_assert_eq(flags, (1u << 20) | (1u << 4) | (1u << 5) | (1u << 10),
		     "flags 0x%x", flags);
	iapc = rd16(f + 109);
	cr_assert_eq(iapc & 3, 0, "no legacy devices or 8042: 0x%x", iapc);
	cr_assert(iapc & (1u << 2), "VGA not present");
	cr_assert(iapc & (1u << 3), "MSI not supported");
	cr_assert(iapc & (1u << 5), "CMOS RTC not present");
	expect_io_gas(f + 116, PVHV_ACPI_RESET_PORT);
	cr_assert_eq(f[128], PVHV_ACPI_RESET_VALUE);
	cr_assert_eq(f[131], 5, "FADT minor version");
	expect_io_gas(f + 244, PVHV_ACPI_SLEEP_CTL_PORT);
	expect_io_gas(f + 256, PVHV_ACPI_SLEEP_STS_PORT);
	cr_assert_arr_eq(f + 268, "pvhv\0\0\0\0", 8);
	/* Legacy fixed-hardware blocks all absent. */
	for (unsigned o = 48; o < 108; o++)
		cr_assert_eq(f[o], 0, "FADT byte %u is 0x%x", o, f[o]);
	for (unsigned o = 148; o < 244; o++)
		cr_assert_eq(f[o], 0, "FADT byte %u is 0x%x", o, f[o]);
}

static void check_madt(unsigned n)
{
	struct acpi_params p = params(n, 3);
	const uint8_t *m, *e, *end;
	unsigned lapics = 0, ioapics = 0, nmis = 0;

	build_ok(&p);
	m = madt();
	cr_assert_eq(rd32(m + 4), 44 + 8 * n + 12 + 6, "MADT length for %u vCPUs", n);
	cr_assert_eq(rd32(m + 36), PVHV_LAPIC_GPA);
	cr_assert_eq(rd32(m + 40), 0, "no PCAT_COMPAT");
	end = m + rd32(m + 4);
	for (e = m + 44; e < end; e += e[1]) {
		cr_assert_geq(e[1], 2);
		cr_assert_leq(e + e[1], end, "entry overruns the MADT");
		switch (e[0]) {
		case 0:
			cr_assert_eq(e[1], 8);
			cr_assert_eq(ioapics + nmis, 0, "Local APICs come first");
			cr_assert_eq(e[2], lapics, "UID");
			cr_assert_eq(e[3], lapics, "APIC ID");
			cr_assert_eq(rd32(e + 4), 1, "enabled");
			lapics++;
			break;
		case 1:
			cr_assert_eq(e[1], 12);
			cr_assert_eq(e[2], n, "I/O APIC ID %u", e[2]);
			cr_assert_eq(e[3], 0);
			cr_assert_eq(rd32(e + 4), PVHV_IOAPIC_GPA);
			cr_assert_eq(rd32(e + 8), 0, "GSI base");
			ioapics++;
			break;
		case 4:
			cr_assert_eq(e[1], 6);
			cr_assert_eq(e[2], 0xff, "all processors");
			cr_assert_eq(rd16(e + 3), 0);
			cr_assert_eq(e[5], 1, "LINT1");
			nmis++;
			break;
		default:
			cr_assert_fail("unexpected MADT entry type %u", e[0]);
		}
	}
	cr_assert_eq(e, end);
	cr_assert_eq(lapics, n);
	cr_assert_eq(ioapics, 1);
	cr_assert_eq(nmis, 1);
}

Test(acpi_tables, madt_1_vcpu) { check_madt(1); }
Test(acpi_tables, madt_2_vcpus) { check_madt(2); }
Test(acpi_tables, madt_16_vcpus) { check_madt(16); }
Test(acpi_tables, madt_255_vcpus) { check_madt(255); }

/* ------------------------------------------------------------------ AML */

/* 20.2.4, decoded independently of the encoder. */
static size_t pkglen_decode(const uint8_t *p, size_t *val)
{
	size_t n = (size_t)(p[0] >> 6) + 1, i;

	if (n == 1) {
		*val = p[0] & 0x3f;
		return 1;
	}
	cr_assert_eq(p[0] & 0x30, 0, "PkgLength lead byte bits 5:4 set");
	*val = p[0] & 0xf;
	for (i = 1; i < n; i++)
		*val |= (size_t)p[i] << (4 + 8 * (i - 1));
	return n;
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	return memmem(hay, n, needle, m);
}

static unsigned count(const uint8_t *hay, size_t n, const char *s)
{
	const uint8_t *p = hay, *end = hay + n;
	unsigned c = 0;

	while ((p = find(p, (size_t)(end - p), s, strlen(s)))) {
		c++;
		p++;
	}
	return c;
}

/*
 * Walk the DSDT: Name(\_S5_, Package{5, 0, 0, 0}), then Scope(\_SB_)
 * holding exactly COM1, PEVT (pvpanic) and V000.. in order, each package
 * length exact.
 */
static void check_dsdt(const struct acpi_params *p)
{
	static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x07,
				      0x04, 0x0a, 0x05, 0x00, 0x00, 0x00 };
	const uint8_t *d = dsdt(), *q, *end, *dev_end;
	size_t len = rd32(d + 4), v, n;
	unsigned ndev = 0;
	char want[5];

	cr_assert_arr_eq(d + 36, s5, sizeof(s5), "\\_S5_ package");
	q = d + 36 + sizeof(s5);
	cr_assert_eq(*q++, 0x10, "ScopeOp");
	n = pkglen_decode(q, &v);
	cr_assert_eq(q + v, d + len, "\\_SB_ scope ends with the table");
	end = q + v;
	q += n;
	cr_assert_arr_eq(q, "\\_SB_", 5);
	q += 5;
	while (q < end) {
		cr_assert_eq(q[0], 0x5b, "ExtOpPrefix at DSDT+0x%zx", (size_t)(q - d));
		cr_assert_eq(q[1], 0x82, "DeviceOp");
		q += 2;
		n = pkglen_decode(q, &v);
		dev_end = q + v;
		cr_assert_leq(dev_end, end);
		if (ndev == 0)
			memcpy(want, "COM1", 5);
		else if (ndev == 1)
			memcpy(want, "PEVT", 5);
		else
			snprintf(want, sizeof(want), "V%03u", ndev - 2);
		cr_assert_arr_eq(q + n, want, 4, "device %u name", ndev);
		if (ndev == 0) {
			static const uint8_t hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c,
						       0x41, 0xd0, 0x05, 0x01 };
			static const uint8_t crs[] = { 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03,
						       0x00, 0x08, 0x22, 0x10, 0x00, 0x79 };

			cr_assert(find(q, v, hid, sizeof(hid)), "COM1 _HID EisaId(PNP0501)");
			cr_assert(find(q, v, crs, sizeof(crs)), "COM1 _CRS IO + IRQNoFlags{4}");
		} else if (ndev == 1) {
			static const uint8_t crs[] = { 0x47, 0x01, 0x05, 0x05, 0x05, 0x05,
						       0x00, 0x01, 0x79 };

			cr_assert(find(q, v, "\x08_HID\x0dQEMU0001", 14), "pvpanic _HID");
			cr_assert(find(q, v, crs, sizeof(crs)), "pvpanic _CRS IO(0x505, 1)");
		} else {
			const struct acpi_virtio_dev *vd = &p->virtio[ndev - 2];
			unsigned vi = ndev - 2;
			uint8_t mem[12] = { 0x86, 0x09, 0x00, 0x01 };
			uint8_t irq[9] = { 0x89, 0x06, 0x00, 0x03, 0x01 };
			const uint8_t *r;

			memcpy(mem + 4, &(uint32_t){ (uint32_t)vd->addr }, 4);
			memcpy(mem + 8, &vd->size, 4);
			memcpy(irq + 5, &vd->gsi, 4);
			cr_assert(find(q, v, "\x08_HID\x0dLNRO0005", 14), "virtio %u _HID", vi);
			cr_assert(find(q, v, "\x08_CCA\x01", 6), "virtio %u _CCA One", vi);
			r = find(q, v, "\x08_UID", 5);
			cr_assert(r, "virtio %u _UID", vi);
			/* ZeroOp, OneOp or BytePrefix n: the index. */
			cr_assert_eq(r[5] <= 1 ? r[5] : r[5] == 0x0a ? r[6] : 0xffu, vi,
				     "virtio %u _UID value", vi);
			r = find(q, v, mem, sizeof(mem));
			cr_assert(r, "virtio %u Memory32Fixed", vi);
			cr_assert_arr_eq(r + 12, irq, sizeof(irq), "virtio %u Interrupt", vi);
			cr_assert_eq(r[21], 0x79, "EndTag");
			cr_assert_eq(sum(r, 23), 0, "resource template checksum");
		}
		ndev++;
		q = dev_end;
	}
	cr_assert_eq(q, end);
	cr_assert_eq(ndev, 2 + p->nr_virtio);
	cr_assert_eq(count(d, len, "LNRO0005"), p->nr_virtio);
	cr_assert_eq(count(d, len, "_S5_"), 1);
}

Test(acpi_tables, dsdt_no_virtio) { struct acpi_params p = params(1, 0); build_ok(&p); check_dsdt(&p); }
Test(acpi_tables, dsdt_one_virtio) { struct acpi_params p = params(2, 1); build_ok(&p); check_dsdt(&p); }
Test(acpi_tables, dsdt_max_virtio)
{
	struct acpi_params p = params(16, PVHV_VIRTIO_MAX_DEVICES);

	build_ok(&p);
	check_dsdt(&p);
}

/* Arbitrary windows and GSIs, in the caller's order. */
Test(acpi_tables, dsdt_custom_virtio)
{
	struct acpi_params p = params(3, 3);

	p.virtio[0] = (struct acpi_virtio_dev){ 0xfe000000, 0x200, 23 };
	p.virtio[1] = (struct acpi_virtio_dev){ 0x10000, 0x1000, 0 };
	p.virtio[2] = (struct acpi_virtio_dev){ 0xfffff000, 0x1000, 9 };
	build_ok(&p);
	check_dsdt(&p);
}

Test(acpi_tables, pkglen_encoding)
{
	static const struct {
		size_t body;
		size_t n;
		uint8_t enc[4];
	} cases[] = {
		{ 0, 1, { 0x01 } },
		{ 62, 1, { 0x3f } },
		{ 63, 2, { 0x41, 0x04 } },
		{ 4093, 2, { 0x4f, 0xff } },
		{ 4094, 3, { 0x81, 0x00, 0x01 } },
		{ 0xffffc, 3, { 0x8f, 0xff, 0xff } },
		{ 0xffffd, 4, { 0xc1, 0x00, 0x00, 0x01 } },
		{ 0xffffffb, 4, { 0xcf, 0xff, 0xff, 0xff } },
	};
	uint8_t out[4];
	size_t i, n, v;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(out, 0xee, sizeof(out));
		n = acpi_aml_pkglen(out, cases[i].body);
		cr_assert_eq(n, cases[i].n, "body %zu: %zu bytes", cases[i].body, n);
		cr_assert_arr_eq(out, cases[i].enc, n, "body %zu", cases[i].body);
		cr_assert_eq(pkglen_decode(out, &v), n);
		cr_assert_eq(v, cases[i].body + n);
	}
	cr_assert_eq(acpi_aml_pkglen(out, 0xffffffc), 0);
}

/* --------------------------------------------------------- rejections */

static void expect_fail_at(const struct acpi_params *p, uint64_t gpa, size_t len,
			   int rc, const char *msg)
{
	size_t i;

	cr_assert_eq(build_at(p, gpa, len), rc, "rc for \"%s\" (message \"%s\")", msg, err);
	cr_assert(strstr(err, msg), "message \"%s\" lacks \"%s\"", err, msg);
	cr_assert_eq(rsdp_gpa, 0x1234, "rsdp_gpa written on failure");
	cr_assert_eq(used, 0x5678, "used written on failure");
	for (i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0xaa, "buffer byte 0x%zx touched on failure", i);
}

static void expect_fail(const struct acpi_params *p, int rc, const char *msg)
{
	expect_fail_at(p, GPA, sizeof(buf), rc, msg);
}

Test(acpi_tables, reject_vcpus)
{
	struct acpi_params p = params(0, 0);

	expect_fail(&p, -EINVAL, "0 vCPUs");
	p.nr_vcpus = 256;
	expect_fail(&p, -EINVAL, "256 vCPUs");
	p.nr_vcpus = ~0u;
	expect_fail(&p, -EINVAL, "vCPUs");
}

Test(acpi_tables, reject_too_many_virtio)
{
	struct acpi_params p = params(1, PVHV_VIRTIO_MAX_DEVICES);

	p.nr_virtio = PVHV_VIRTIO_MAX_DEVICES + 1;
	expect_fail(&p, -EINVAL, "virtio devices, limit");
}

Test(acpi_tables, reject_virtio_windows)
{
	struct acpi_params p = params(1, 3);

	p.virtio[1].size = 0;
	expect_fail(&p, -EINVAL, "virtio 1: window");
	p = params(1, 3);
	p.virtio[2].addr = GIB(4);
	expect_fail(&p, -EINVAL, "virtio 2: window");
	p = params(1, 3);
	p.virtio[0].addr = 0xfffff001;
	expect_fail(&p, -EINVAL, "not below 4 GiB");
	p = params(1, 3);
	p.virtio[0].addr = ~0ull - 0x10;
	expect_fail(&p, -EINVAL, "virtio 0: window");
	p = params(1, 3);
	p.virtio[2].addr = p.virtio[0].addr + 0xfff;
	expect_fail(&p, -EINVAL, "virtio 2: window overlaps virtio 0");
	p = params(1, 3);
	p.virtio[1].size = 0x1001; /* one byte into virtio 2's window */
	expect_fail(&p, -EINVAL, "virtio 2: window overlaps virtio 1");
}

Test(acpi_tables, reject_virtio_gsis)
{
	struct acpi_params p = params(1, 3);

	p.virtio[1].gsi = PVHV_IOAPIC_PINS;
	expect_fail(&p, -EINVAL, "virtio 1: GSI 24");
	p = params(1, 3);
	p.virtio[0].gsi = PVHV_COM1_GSI;
	expect_fail(&p, -EINVAL, "virtio 0: GSI 4");
	p = params(1, 3);
	p.virtio[2].gsi = p.virtio[0].gsi;
	expect_fail(&p, -EINVAL, "also virtio 0");
}

Test(acpi_tables, reject_area)
{
	struct acpi_params p = params(1, 1);

	expect_fail_at(&p, GPA + 8, sizeof(buf), -EINVAL, "16-byte aligned");
	expect_fail_at(&p, GIB(4) - 0x1000, sizeof(buf), -EINVAL, "below 4 GiB");
	expect_fail_at(&p, ~0ull & ~0xfull, sizeof(buf), -EINVAL, "below 4 GiB");
	/* The very top of the 32-bit space is fine. */
	cr_assert_eq(build_at(&p, GIB(4) - sizeof(buf), sizeof(buf)), 0, "%s", err);
	cr_assert_eq(rsdp_gpa, GIB(4) - sizeof(buf));
}

Test(acpi_tables, reject_short_buffer)
{
	struct acpi_params p = params(255, PVHV_VIRTIO_MAX_DEVICES);
	size_t need;

	build_ok(&p);
	need = used;
	expect_fail_at(&p, GPA, 0, -ENOSPC, "need");
	expect_fail_at(&p, GPA, 64, -ENOSPC, "need");
	expect_fail_at(&p, GPA, need - 1, -ENOSPC, "need");
	cr_assert_eq(build_at(&p, GPA, need), 0, "%s", err);
	cr_assert_eq(used, need);
}

Test(acpi_tables, reject_null)
{
	struct acpi_params p = params(1, 0);

	cr_assert_eq(acpi_build(buf, sizeof(buf), GPA, NULL, NULL, NULL, err, sizeof(err)),
		     -EINVAL);
	cr_assert_eq(acpi_build(NULL, sizeof(buf), GPA, &p, NULL, NULL, err, sizeof(err)),
		     -EINVAL);
}

/* ----------------------------------------------------------------- iasl */

static char tmpdir[64];

static void write_file(const char *name, const uint8_t *t)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	cr_assert(f, "open %s", path);
	cr_assert_eq(fwrite(t, 1, rd32(t + 4), f), rd32(t + 4));
	cr_assert_eq(fclose(f), 0);
}

static char *read_file(const char *name, size_t *len)
{
	char path[128], *s;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "rb");
	cr_assert(f, "iasl left no %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	cr_assert(s);
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return s;
}

static int run(const char *cmd)
{
	char full[512];
	int st;

	snprintf(full, sizeof(full), "cd '%s' && %s >>iasl.log 2>&1", tmpdir, cmd);
	st = system(full);
	cr_assert(st != -1 && WIFEXITED(st), "could not run \"%s\"", cmd);
	return WEXITSTATUS(st);
}

static void cleanup(void)
{
	char cmd[128];

	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		(void)system(cmd);
		tmpdir[0] = 0;
	}
}

static void setup(void)
{
	strcpy(tmpdir, "/tmp/pvhv-acpi-XXXXXX");
	cr_assert(mkdtemp(tmpdir), "mkdtemp");
}

/*
 * Disassemble a table with iasl -d, check the listing, recompile it with
 * optimisations off and compare with ours: the header may differ only in
 * checksum and compiler id/revision, and (for AML) a resource template's
 * EndTag checksum, which iasl writes as 0 and we compute.
 */
static char *iasl_roundtrip(const char *base, const uint8_t *t)
{
	char dat[32], dsl[32], aml[32], cmd[160], *text, *bin;
	size_t len = rd32(t + 4), blen, i;

	snprintf(dat, sizeof(dat), "%s.dat", base);
	snprintf(dsl, sizeof(dsl), "%s.dsl", base);
	snprintf(aml, sizeof(aml), "%s.aml", base);
	write_file(dat, t);
	snprintf(cmd, sizeof(cmd), "iasl -d %s", dat);
	cr_assert_eq(run(cmd), 0, "%s failed: see %s/iasl.log", cmd, tmpdir);
	text = read_file(dsl, NULL);
	cr_assert_null(strstr(text, "Error"), "%s has an error:\n%s", dsl, text);
	cr_assert_null(strstr(text, "**** Unknown"), "%s has an unknown field:\n%s", dsl, text);
	cr_assert_null(strstr(text, "Invalid"), "%s has an invalid field:\n%s", dsl, text);

	snprintf(cmd, sizeof(cmd), "iasl -oa -p %s-re %s", base, dsl);
	cr_assert_eq(run(cmd), 0, "%s failed: see %s/iasl.log", cmd, tmpdir);
	snprintf(aml, sizeof(aml), "%s-re.aml", base);
	bin = read_file(aml, &blen);
	cr_assert_eq(blen, len, "%s recompiles to %zu bytes, not %zu", base, blen, len);
	for (i = 0; i < len; i++) {
		if (i == 9 || (i >= 28 && i < 36))
			continue;
		if (i > 36 && t[i - 1] == 0x79 && (uint8_t)bin[i] == 0)
			continue;
		cr_assert_eq((uint8_t)bin[i], t[i], "%s byte 0x%zx: iasl 0x%02x, ours 0x%02x",
			     base, i, (uint8_t)bin[i], t[i]);
	}
	free(bin);
	return text;
}

static void iasl_check(const struct acpi_params *p)
{
	char *s;
	unsigned i;

	cr_assert_eq(system("command -v iasl >/dev/null 2>&1"), 0,
		     "iasl is not on PATH: install acpica-tools (scripts/deps.sh)");
	build_ok(p);
	free(iasl_roundtrip("xsdt", xsdt()));
	s = iasl_roundtrip("facp", fadt());
	cr_assert(strstr(s, "Hardware Reduced (V5) : 1"), "FADT listing:\n%s", s);
	free(s);
	free(iasl_roundtrip("apic", madt()));
	s = iasl_roundtrip("dsdt", dsdt());
	cr_assert(strstr(s, "_S5_"), "no _S5_ in:\n%s", s);
	cr_assert(strstr(s, "Name (\\_S5, Package (0x04)"), "no \\_S5 package in:\n%s", s);
	cr_assert(strstr(s, "EisaId (\"PNP0501\")"), "no COM1 in:\n%s", s);
	cr_assert_eq(count((uint8_t *)s, strlen(s), "Name (_HID, \"LNRO0005\")"), p->nr_virtio);
	cr_assert_eq(count((uint8_t *)s, strlen(s),
			   "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )"),
		     p->nr_virtio);
	for (i = 0; i < p->nr_virtio; i++) {
		char want[64];

		snprintf(want, sizeof(want), "Device (V%03u)", i);
		cr_assert(strstr(s, want), "no %s in:\n%s", want, s);
		snprintf(want, sizeof(want), "0x%08X,         // Address Base",
			 (unsigned)p->virtio[i].addr);
		cr_assert(strstr(s, want), "no %s in:\n%s", want, s);
		snprintf(want, sizeof(want), "0x%08X,\n", p->virtio[i].gsi);
		cr_assert(strstr(s, want), "no GSI %s in:\n%s", want, s);
	}
	free(s);
}

Test(acpi_tables, iasl_minimal, .init = setup, .fini = cleanup)
{
	struct acpi_params p = params(1, 0);

	iasl_check(&p);
}

Test(acpi_tables, iasl_full, .init = setup, .fini = cleanup)
{
	struct acpi_params p = params(16, PVHV_VIRTIO_MAX_DEVICES);

	iasl_check(&p);
}

Test(acpi_tables, iasl_255_vcpus, .init = setup, .fini = cleanup)
{
	struct acpi_params p = params(255, 2);

	iasl_check(&p);
}

/* ------------------------------------------------------------ PCI host bridges */

/* Two segments as a control domain with passed-through functions gets them. */
static struct acpi_params pci_params(void)
{
	struct acpi_params p = params(2, 3);

	p.nr_pci = 2;
	p.pci[0] = (struct acpi_pci_seg){ .ecam = 0xb0000000, .seg = 0, .bus_start = 0, .bus_end = 0xff, .nr_win = 3 };
	p.pci[0].win[0] = (struct acpi_pci_win){ 0xfebc0000, 0x4000, false };
	p.pci[0].win[1] = (struct acpi_pci_win){ 0x800000000ULL, 0x100000, false };
	p.pci[0].win[2] = (struct acpi_pci_win){ 0xc040, 0x20, true };
	p.pci[1] = (struct acpi_pci_seg){ .ecam = 0x3f000000000ULL, .seg = 1, .bus_start = 0x10, .bus_end = 0x1f,
					  .nr_win = 1 };
	p.pci[1].win[0] = (struct acpi_pci_win){ 0xfd000000, 0x1000, false };
	return p;
}

static const uint8_t *mcfg(void) { return xsdt_entry(2, "MCFG", 1); }

Test(acpi_tables, pci_mcfg_and_fadt)
{
	struct acpi_params p = pci_params();
	const uint8_t *m, *f;

	build_ok(&p);
	cr_assert_eq(rd32(xsdt() + 4), 36 + 3 * 8);
	m = mcfg();
	cr_assert_eq(rd32(m + 4), 36 + 8 + 2 * 16);
	cr_assert_eq(rd64(m + 44), 0xb0000000);
	cr_assert_eq(rd16(m + 52), 0);
	cr_assert_eq(m[54], 0);
	cr_assert_eq(m[55], 0xff);
	cr_assert_eq(rd64(m + 60), 0x3f000000000ULL);
	cr_assert_eq(rd16(m + 68), 1);
	cr_assert_eq(m[70], 0x10);
	cr_assert_eq(m[71], 0x1f);
	/* The MCFG is last: used ends with it. */
	cr_assert_eq((size_t)(rd64(xsdt() + 36 + 16) - GPA) + rd32(m + 4), used);
	f = fadt();
	cr_assert_eq(rd16(f + 109) & (1u << 3), 0, "FADT says MSI not supported with PCI");

	/* Without PCI: no MCFG, and "MSI not supported" as before. */
	p.nr_pci = 0;
	build_ok(&p);
	cr_assert_eq(rd32(xsdt() + 4), 36 + 2 * 8);
	cr_assert_neq(rd16(fadt() + 109) & (1u << 3), 0);
}

Test(acpi_tables, pci_refused)
{
	struct acpi_params p = pci_params();

	p.pci[1].seg = 0;
	cr_assert_eq(build_at(&p, GPA, sizeof(buf)), -EINVAL);
	cr_assert_str_eq(err, "pci 1: segment 0 is also pci 0's");
	p = pci_params();
	p.pci[0].win[2].base = 0xfff0;
	cr_assert_eq(build_at(&p, GPA, sizeof(buf)), -EINVAL);
	cr_assert_str_eq(err, "pci 0: window 2 [0xfff0, +0x20) unusable");
	p = pci_params();
	p.pci[0].win[0].size = 0;
	cr_assert_eq(build_at(&p, GPA, sizeof(buf)), -EINVAL);
	p = pci_params();
	p.pci[1].ecam = 0x3f000080000ULL;
	cr_assert_eq(build_at(&p, GPA, sizeof(buf)), -EINVAL);
	cr_assert_str_eq(err, "pci 1: ECAM 0x3f000080000 buses 10-1f unusable");
	p = pci_params();
	p.pci[1].bus_start = 0x20;
	cr_assert_eq(build_at(&p, GPA, sizeof(buf)), -EINVAL);
	p = pci_params();
	p.pci[0].nr_win = ACPI_MAX_PCI_WIN + 1;
	cr_assert_eq(build_at(&p, GPA, sizeof(buf)), -EINVAL);
	p = pci_params();
	p.nr_pci = ACPI_MAX_PCI_SEGS + 1;
	cr_assert_eq(build_at(&p, GPA, sizeof(buf)), -EINVAL);
}

/* iasl reads our host bridges and ECAM reservations back as written. */
Test(acpi_tables, iasl_pci, .init = setup, .fini = cleanup)
{
	struct acpi_params p = pci_params();
	char *s;

	iasl_check(&p);
	s = iasl_roundtrip("mcfg", mcfg());
	cr_assert(strstr(s, "Base Address : 00000000B0000000"), "MCFG listing:\n%s", s);
	cr_assert(strstr(s, "Base Address : 000003F000000000"), "MCFG listing:\n%s", s);
	free(s);
	s = iasl_roundtrip("dsdt", dsdt());
	cr_assert_eq(count((uint8_t *)s, strlen(s), "Name (_HID, EisaId (\"PNP0A08\")"), 2, "%s", s);
	cr_assert_eq(count((uint8_t *)s, strlen(s), "Name (_HID, EisaId (\"PNP0C02\")"), 2, "%s", s);
	cr_assert(strstr(s, "Device (PCI0)") && strstr(s, "Device (PCI1)") && strstr(s, "Device (RES1)"), "%s", s);
	cr_assert(strstr(s, "Name (_SEG, One)  // _SEG"), "%s", s);
	cr_assert(strstr(s, "Name (_BBN, 0x10)  // _BBN"), "%s", s);
	cr_assert(strstr(s, "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,"), "%s", s);
	cr_assert(strstr(s, "0x00000000FEBC0000, // Range Minimum"), "%s", s);
	cr_assert(strstr(s, "0x00000000FEBC3FFF, // Range Maximum"), "%s", s);
	cr_assert(strstr(s, "0x0000000800000000, // Range Minimum"), "%s", s);
	cr_assert(strstr(s, "0xC05F,             // Range Maximum"), "%s", s);
	/* The reservations: consumers of the whole ECAM windows. */
	cr_assert(strstr(s, "QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite,"),
		  "%s", s);
	cr_assert(strstr(s, "0x00000000BFFFFFFF, // Range Maximum"), "%s", s);
	cr_assert(strstr(s, "0x000003F001000000, // Range Minimum"), "%s", s);
	cr_assert(strstr(s, "0x000003F001FFFFFF, // Range Maximum"), "%s", s);
	free(s);
}
