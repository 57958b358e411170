/* SPDX-License-Identifier: Apache-2.0 */
/* acpi_tables.c: build a domain's hardware-reduced ACPI tables and the AML of its DSDT. */
#include "lib/base.h"
#include "pvh/acpi_tables.h"
#include "pvhv/abi.h"

/* Section numbers below are from the ACPI 6.4 specification. */

#define OEM_ID "PVHV  "
#define OEM_REVISION 1
#define CREATOR_ID "PVHV"
#define CREATOR_REVISION 1

/* 5.2.6: the header every system description table starts with. */
struct sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} PACKED;
_Static_assert(sizeof(struct sdt_header) == 36, "SDT header is 36 bytes");

/* 5.2.5.3: RSDP, revision 2. */
struct rsdp {
	char signature[8];
	uint8_t checksum;       /* over bytes 0-19 */
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t ext_checksum;   /* over all 36 bytes */
	uint8_t reserved[3];
} PACKED;
_Static_assert(sizeof(struct rsdp) == 36, "RSDP is 36 bytes");
_Static_assert(ACPI_XSDT_OFF >= ACPI_RSDP_OFF + sizeof(struct rsdp), "RSDP overlaps XSDT");

/* 5.2.3.2: Generic Address Structure. */
struct gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} PACKED;
_Static_assert(sizeof(struct gas) == 12, "GAS is 12 bytes");

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

/* 5.2.9: FADT, revision 6. */
struct fadt {
	struct sdt_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct gas sleep_control_reg;
	struct gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} PACKED;
_Static_assert(sizeof(struct fadt) == 276, "FADT rev 6 is 276 bytes");
_Static_assert(__builtin_offsetof(struct fadt, dsdt) == 40, "FADT.DSDT");
_Static_assert(__builtin_offsetof(struct fadt, iapc_boot_arch) == 109, "FADT.IAPC_BOOT_ARCH");
_Static_assert(__builtin_offsetof(struct fadt, flags) == 112, "FADT.Flags");
_Static_assert(__builtin_offsetof(struct fadt, reset_reg) == 116, "FADT.RESET_REG");
_Static_assert(__builtin_offsetof(struct fadt, minor_version) == 131, "FADT minor");
_Static_assert(__builtin_offsetof(struct fadt, x_dsdt) == 140, "FADT.X_DSDT");
_Static_assert(__builtin_offsetof(struct fadt, sleep_control_reg) == 244, "FADT.SLEEP_CONTROL_REG");
_Static_assert(__builtin_offsetof(struct fadt, hypervisor_vendor_id) == 268, "FADT.HV id");

#define FADT_REVISION 6
#define FADT_MINOR_VERSION 5 /* as Firecracker; the layout is unchanged since 6.0 */

/* 5.2.9.3, Table 5.10: IA-PC boot architecture flags. */
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define IAPC_MSI_NOT_SUPPORTED (1u << 3)
#define IAPC_PCIE_ASPM_CONTROLS (1u << 4)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

/*
 * 5.2.9, Table 5.9.  PWR_BUTTON / SLP_BUTTON set mean "no fixed-feature
 * button".  LEGACY_DEVICES and 8042 stay clear: pvhv has neither.
 */
#define FADT_PWR_BUTTON (1u << 4)
#define FADT_SLP_BUTTON (1u << 5)
#define FADT_RESET_REG_SUP (1u << 10)
#define FADT_HW_REDUCED_ACPI (1u << 20)

/* 5.2.12: MADT, revision 5 (ACPI 6.3/6.4). */
struct madt {
	struct sdt_header h;
	uint32_t lapic_addr;
	uint32_t flags;
} PACKED;
_Static_assert(sizeof(struct madt) == 44, "MADT header is 44 bytes");

#define MADT_REVISION 5
#define MADT_LAPIC 0         /* 5.2.12.2, 8 bytes */
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC 1        /* 5.2.12.3, 12 bytes */
#define MADT_IOAPIC_LEN 12
#define MADT_LAPIC_NMI 4     /* 5.2.12.7, 6 bytes */
#define MADT_LAPIC_NMI_LEN 6
#define MADT_LAPIC_ENABLED 1

/* FADT, MADT, and the MCFG when there is PCI. */
static size_t xsdt_len(const struct acpi_params *p)
{
	return sizeof(struct sdt_header) + (p->nr_pci ? 3 : 2) * sizeof(uint64_t);
}

/* PCI Firmware 3.2, 4.1.2: MCFG header (8 reserved bytes), then 16-byte allocations. */
#define MCFG_HDR_LEN (sizeof(struct sdt_header) + 8)
#define MCFG_ENTRY_LEN 16
#define DSDT_REVISION 2 /* 64-bit AML integers */

static uint8_t checksum(const uint8_t *b, size_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum += *b++;
	return (uint8_t)-sum;
}

/* ------------------------------------------------------------------ AML */

/* 20.2: the opcodes and prefixes used here. */
#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_WORD 0x0b
#define AML_DWORD 0x0c
#define AML_STRING 0x0d
#define AML_QWORD 0x0e
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT 0x5b
#define AML_EXT_DEVICE 0x82
#define AML_ROOT '\\'

/*
 * An AML stream.  With p NULL it only counts, so the same code sizes the
 * DSDT before anything is written.  Nested packages are emitted body first;
 * pkg_end() then shifts the body up to make room for its PkgLength, which
 * keeps len exactly what the counting pass computed.
 */
struct aml {
	uint8_t *p;
	size_t len;
};

size_t acpi_aml_pkglen(uint8_t out[4], size_t body)
{
	size_t n, total, i;

	/* One byte holds 6 bits; n bytes hold 4 + 8 (n - 1) bits. */
	if (body + 1 <= 0x3f)
		n = 1;
	else if (body + 2 <= 0xfff)
		n = 2;
	else if (body + 3 <= 0xfffff)
		n = 3;
	else if (body + 4 <= 0xfffffff)
		n = 4;
	else
		return 0;
	total = body + n;
	if (n == 1) {
		out[0] = (uint8_t)total;
		return 1;
	}
	out[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
	for (i = 1; i < n; i++)
		out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	return n;
}

static void put(struct aml *a, const void *src, size_t n)
{
	if (a->p)
		memcpy(a->p + a->len, src, n);
	a->len += n;
}

static void op(struct aml *a, uint8_t b)
{
	put(a, &b, 1);
}

static size_t pkg_begin(struct aml *a)
{
	return a->len;
}

/* The DSDT is a few hundred bytes, far from the 28-bit PkgLength limit. */
static void pkg_end(struct aml *a, size_t start)
{
	uint8_t enc[4];
	size_t body = a->len - start;
	size_t n = acpi_aml_pkglen(enc, body);

	if (a->p) {
		memmove(a->p + start + n, a->p + start, body);
		memcpy(a->p + start, enc, n);
	}
	a->len += n;
}

/* 20.2.2: a NameSeg is exactly four characters, '_'-padded by the caller. */
static void name_seg(struct aml *a, const char *seg)
{
	put(a, seg, 4);
}

/* 20.2.3: the shortest of ZeroOp, OneOp and the Byte/Word/DWord/QWord consts. */
static void integer(struct aml *a, uint64_t v)
{
	uint8_t le[8];
	unsigned i, n;

	if (v == 0 || v == 1) {
		op(a, v ? AML_ONE : AML_ZERO);
		return;
	}
	if (v <= 0xff) {
		op(a, AML_BYTE);
		n = 1;
	} else if (v <= 0xffff) {
		op(a, AML_WORD);
		n = 2;
	} else if (v <= 0xffffffffu) {
		op(a, AML_DWORD);
		n = 4;
	} else {
		op(a, AML_QWORD);
		n = 8;
	}
	for (i = 0; i < n; i++)
		le[i] = (uint8_t)(v >> (8 * i));
	put(a, le, n);
}

static void string(struct aml *a, const char *s)
{
	op(a, AML_STRING);
	put(a, s, strlen(s) + 1);
}

/* 19.6.35 EISAID(): three 5-bit letters then four hex digits, big-endian. */
static void eisa_id(struct aml *a, const char *id)
{
	static const char hex[] = "0123456789ABCDEF";
	uint32_t v, digit;
	unsigned i;

	v = (uint32_t)((id[0] - 0x40) & 0x1f) << 10 |
	    (uint32_t)((id[1] - 0x40) & 0x1f) << 5 |
	    (uint32_t)((id[2] - 0x40) & 0x1f);
	for (i = 3; i < 7; i++) {
		digit = (uint32_t)(strchr(hex, id[i]) - hex);
		v = v << 4 | digit;
	}
	/* The bytes go out in the order written, so the DWord is byte-swapped. */
	op(a, AML_DWORD);
	op(a, (uint8_t)(v >> 24));
	op(a, (uint8_t)(v >> 16));
	op(a, (uint8_t)(v >> 8));
	op(a, (uint8_t)v);
}

/* Name (seg, ...): the caller emits the value. */
static void name(struct aml *a, const char *seg)
{
	op(a, AML_NAME);
	name_seg(a, seg);
}

static size_t scope_begin_root(struct aml *a, const char *seg)
{
	size_t start;

	op(a, AML_SCOPE);
	start = pkg_begin(a);
	op(a, AML_ROOT);
	name_seg(a, seg);
	return start;
}

static size_t device_begin(struct aml *a, const char *seg)
{
	size_t start;

	op(a, AML_EXT);
	op(a, AML_EXT_DEVICE);
	start = pkg_begin(a);
	name_seg(a, seg);
	return start;
}

static void buffer(struct aml *a, const uint8_t *bytes, size_t n)
{
	size_t start;

	op(a, AML_BUFFER);
	start = pkg_begin(a);
	integer(a, n);
	put(a, bytes, n);
	pkg_end(a, start);
}

/* ------------------------------------------------- resource templates (6.4) */

struct restemp {
	uint8_t b[640]; /* a host bridge's: bus range, ACPI_MAX_PCI_WIN QWord windows, end tag */
	size_t n;
};

static void res_put(struct restemp *r, const uint8_t *bytes, size_t n)
{
	memcpy(r->b + r->n, bytes, n);
	r->n += n;
}

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* 6.4.2.5: I/O port descriptor, 16-bit decode, fixed base. */
static void res_io(struct restemp *r, uint16_t base, uint8_t len)
{
	uint8_t d[8] = { 0x47, 0x01, (uint8_t)base, (uint8_t)(base >> 8),
			 (uint8_t)base, (uint8_t)(base >> 8), 0x00, len };

	res_put(r, d, sizeof(d));
}

/* 6.4.2.1: IRQ descriptor without flags (edge, active high, exclusive). */
static void res_irq_noflags(struct restemp *r, unsigned irq)
{
	uint8_t d[3] = { 0x22, (uint8_t)(1u << irq), (uint8_t)((1u << irq) >> 8) };

	res_put(r, d, sizeof(d));
}

/* 6.4.3.4: 32-bit fixed memory range, read/write. */
static void res_mem32_fixed(struct restemp *r, uint32_t base, uint32_t len)
{
	uint8_t d[12] = { 0x86, 0x09, 0x00, 0x01 };

	le32(d + 4, base);
	le32(d + 8, len);
	res_put(r, d, sizeof(d));
}

/*
 * 6.4.3.6: Extended Interrupt descriptor, one interrupt.  Flags: bit 0
 * consumer, bit 1 edge, bit 2 active low, bit 3 shared; so consumer, edge,
 * active high, exclusive is 0x03.  Edge because pvhv's I/O APIC model
 * injects virtio interrupts as edges (level would need remote-IRR/EOI).
 */
static void res_ext_irq(struct restemp *r, uint32_t gsi)
{
	uint8_t d[9] = { 0x89, 0x06, 0x00, 0x03, 0x01 };

	le32(d + 5, gsi);
	res_put(r, d, sizeof(d));
}

static void le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

/* 6.4.3.5.1, Table 6.44: general flags: MinFixed, MaxFixed, and Consumer (bit 0) or producer. */
#define RES_ADDR_FIXED 0x0c
#define RES_ADDR_CONSUMER 0x01
#define RES_TYPE_MEM 0
#define RES_TYPE_IO 1
#define RES_TYPE_BUS 2

/* 6.4.3.5.1: QWord Address Space Descriptor (46 bytes): [min, min + len). */
static void res_qword(struct restemp *r, uint8_t type, uint8_t gflags, uint8_t tflags, uint64_t min,
		      uint64_t len)
{
	uint8_t d[46] = { 0x8a, 43, 0, type, gflags, tflags };

	le64(d + 6, 0);            /* granularity */
	le64(d + 14, min);
	le64(d + 22, min + len - 1);
	le64(d + 30, 0);           /* translation offset */
	le64(d + 38, len);
	res_put(r, d, sizeof(d));
}

/* 6.4.3.5.3: Word Address Space Descriptor (16 bytes), for the bus range and I/O windows. */
static void res_word(struct restemp *r, uint8_t type, uint8_t gflags, uint8_t tflags, uint16_t min,
		     uint32_t len)
{
	uint8_t d[16] = { 0x88, 13, 0, type, gflags, tflags };

	le16(d + 6, 0);
	le16(d + 8, min);
	le16(d + 10, (uint16_t)(min + len - 1));
	le16(d + 12, 0);
	le16(d + 14, (uint16_t)len);
	res_put(r, d, sizeof(d));
}

/* 6.4.2.9: End Tag; its checksum makes the template's bytes sum to zero. */
static void res_end(struct restemp *r)
{
	uint8_t d[2] = { 0x79, 0 };

	res_put(r, d, sizeof(d));
	r->b[r->n - 1] = checksum(r->b, r->n - 1);
}

/* ----------------------------------------------------------------- DSDT */

static void dsdt_com1(struct aml *a)
{
	struct restemp r = { .n = 0 };
	size_t dev;

	dev = device_begin(a, "COM1");
	name(a, "_HID");
	eisa_id(a, "PNP0501");
	name(a, "_UID");
	integer(a, 0);
	res_io(&r, PVHV_COM1_PORT, 8);
	res_irq_noflags(&r, PVHV_COM1_GSI);
	res_end(&r);
	name(a, "_CRS");
	buffer(a, r.b, r.n);
	pkg_end(a, dev);
}

/*
 * QEMU's pvpanic device (Linux's pvpanic-mmio driver binds "QEMU0001" and
 * takes an I/O port): the guest kernel writes 1 there when it panics, so
 * the domain ends as "crash" instead of spinning.
 */
static void dsdt_pvpanic(struct aml *a)
{
	struct restemp r = { .n = 0 };
	size_t dev;

	dev = device_begin(a, "PEVT");
	name(a, "_HID");
	string(a, "QEMU0001");
	res_io(&r, PVHV_PVPANIC_PORT, 1);
	res_end(&r);
	name(a, "_CRS");
	buffer(a, r.b, r.n);
	pkg_end(a, dev);
}

static void dsdt_virtio(struct aml *a, unsigned i, const struct acpi_virtio_dev *v)
{
	struct restemp r = { .n = 0 };
	char seg[5] = { 'V', (char)('0' + i / 100 % 10), (char)('0' + i / 10 % 10),
			(char)('0' + i % 10), 0 };
	size_t dev;

	dev = device_begin(a, seg);
	name(a, "_HID");
	string(a, "LNRO0005");
	name(a, "_UID");
	integer(a, i);
	/* Cache-coherent DMA: without _CCA Linux treats the device as non-coherent. */
	name(a, "_CCA");
	integer(a, 1);
	res_mem32_fixed(&r, (uint32_t)v->addr, v->size);
	res_ext_irq(&r, v->gsi);
	res_end(&r);
	name(a, "_CRS");
	buffer(a, r.b, r.n);
	pkg_end(a, dev);
}

static uint64_t ecam_base(const struct acpi_pci_seg *s)
{
	return s->ecam + ((uint64_t)s->bus_start << 20);
}

static uint64_t ecam_size(const struct acpi_pci_seg *s)
{
	return ((uint64_t)s->bus_end - s->bus_start + 1) << 20;
}

/*
 * Host bridge i (19.6.x Device; PCI Firmware 3.2, 4.1): PNP0A08 with
 * PNP0A03 as compatible ID for older OSes, its segment and first bus, and
 * the bus range and BAR windows it produces (read/write, non-cacheable
 * memory; 6.4.3.5.4 type-specific flags: I/O 3 = both ISA and non-ISA ranges).
 */
static void dsdt_pci_root(struct aml *a, unsigned i, const struct acpi_pci_seg *s)
{
	struct restemp r = { .n = 0 };
	char seg[5] = { 'P', 'C', 'I', (char)('0' + i), 0 };
	size_t dev;

	dev = device_begin(a, seg);
	name(a, "_HID");
	eisa_id(a, "PNP0A08");
	name(a, "_CID");
	eisa_id(a, "PNP0A03");
	name(a, "_UID");
	integer(a, i);
	name(a, "_SEG");
	integer(a, s->seg);
	name(a, "_BBN");
	integer(a, s->bus_start);
	res_word(&r, RES_TYPE_BUS, RES_ADDR_FIXED, 0, s->bus_start, (uint32_t)s->bus_end - s->bus_start + 1u);
	for (unsigned w = 0; w < s->nr_win; w++) {
		const struct acpi_pci_win *win = &s->win[w];

		if (win->io)
			res_word(&r, RES_TYPE_IO, RES_ADDR_FIXED, 3, (uint16_t)win->base, (uint32_t)win->size);
		else
			res_qword(&r, RES_TYPE_MEM, RES_ADDR_FIXED, 1, win->base, win->size);
	}
	res_end(&r);
	name(a, "_CRS");
	buffer(a, r.b, r.n);
	pkg_end(a, dev);
}

/* A motherboard resource (PNP0C02) consuming host bridge i's ECAM window. */
static void dsdt_ecam_res(struct aml *a, unsigned i, const struct acpi_pci_seg *s)
{
	struct restemp r = { .n = 0 };
	char seg[5] = { 'R', 'E', 'S', (char)('0' + i), 0 };
	size_t dev;

	dev = device_begin(a, seg);
	name(a, "_HID");
	eisa_id(a, "PNP0C02");
	name(a, "_UID");
	integer(a, 0x100 + i);   /* apart from the bridges' */
	res_qword(&r, RES_TYPE_MEM, RES_ADDR_FIXED | RES_ADDR_CONSUMER, 1, ecam_base(s), ecam_size(s));
	res_end(&r);
	name(a, "_CRS");
	buffer(a, r.b, r.n);
	pkg_end(a, dev);
}

/*
 * The DSDT's AML.  \_S5_ is what Linux needs to register acpi_power_off();
 * in hardware-reduced mode ACPICA (acpi_hw_extended_sleep()) writes
 * package element 0 (SLP_TYPa) as (SLP_TYPa << 2) | SLP_EN to
 * SLEEP_CONTROL_REG, 0x34 here; the other elements are unused.
 */
static void dsdt_body(struct aml *a, const struct acpi_params *p)
{
	size_t pkg, sb;
	unsigned i;

	op(a, AML_NAME);
	op(a, AML_ROOT);
	name_seg(a, "_S5_");
	op(a, AML_PACKAGE);
	pkg = pkg_begin(a);
	op(a, 4);
	integer(a, 5);
	integer(a, 0);
	integer(a, 0);
	integer(a, 0);
	pkg_end(a, pkg);

	sb = scope_begin_root(a, "_SB_");
	dsdt_com1(a);
	dsdt_pvpanic(a);
	for (i = 0; i < p->nr_virtio; i++)
		dsdt_virtio(a, i, &p->virtio[i]);
	for (i = 0; i < p->nr_pci; i++) {
		dsdt_pci_root(a, i, &p->pci[i]);
		dsdt_ecam_res(a, i, &p->pci[i]);
	}
	pkg_end(a, sb);
}

/* --------------------------------------------------------------- tables */

struct layout {
	size_t fadt, madt, madt_len, dsdt, dsdt_len, mcfg, mcfg_len, end;
};

static void plan(const struct acpi_params *p, struct layout *l)
{
	struct aml count = { .p = NULL, .len = 0 };

	dsdt_body(&count, p);
	l->fadt = ALIGN_UP(ACPI_XSDT_OFF + xsdt_len(p), (size_t)ACPI_TABLE_ALIGN);
	l->madt = ALIGN_UP(l->fadt + sizeof(struct fadt), (size_t)ACPI_TABLE_ALIGN);
	l->madt_len = sizeof(struct madt) + p->nr_vcpus * MADT_LAPIC_LEN +
		      MADT_IOAPIC_LEN + MADT_LAPIC_NMI_LEN;
	l->dsdt = ALIGN_UP(l->madt + l->madt_len, (size_t)ACPI_TABLE_ALIGN);
	l->dsdt_len = sizeof(struct sdt_header) + count.len;
	l->mcfg = ALIGN_UP(l->dsdt + l->dsdt_len, (size_t)ACPI_TABLE_ALIGN);
	l->mcfg_len = p->nr_pci ? MCFG_HDR_LEN + p->nr_pci * MCFG_ENTRY_LEN : 0;
	l->end = p->nr_pci ? l->mcfg + l->mcfg_len : l->dsdt + l->dsdt_len;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int check_pci(const struct acpi_params *p, char *err, size_t errlen)
{
	if (p->nr_pci > ACPI_MAX_PCI_SEGS)
		return errorf(-EINVAL, err, errlen, "%u PCI segments, limit %u", p->nr_pci, ACPI_MAX_PCI_SEGS);
	for (unsigned i = 0; i < p->nr_pci; i++) {
		const struct acpi_pci_seg *s = &p->pci[i];

		if (s->bus_start > s->bus_end || !IS_ALIGNED(s->ecam, MIB(1)) || s->ecam >= (1ULL << 52) - MIB(256))
			return errorf(-EINVAL, err, errlen, "pci %u: ECAM 0x%llx buses %02x-%02x unusable", i,
				      (unsigned long long)s->ecam, s->bus_start, s->bus_end);
		if (s->nr_win > ACPI_MAX_PCI_WIN)
			return errorf(-EINVAL, err, errlen, "pci %u: %u windows, limit %u", i, s->nr_win,
				      ACPI_MAX_PCI_WIN);
		for (unsigned j = 0; j < i; j++)
			if (p->pci[j].seg == s->seg)
				return errorf(-EINVAL, err, errlen, "pci %u: segment %u is also pci %u's", i, s->seg, j);
		for (unsigned w = 0; w < s->nr_win; w++) {
			const struct acpi_pci_win *win = &s->win[w];

			if (!win->size || win->base + win->size < win->base ||
			    (win->io && win->base + win->size > 0x10000))
				return errorf(-EINVAL, err, errlen, "pci %u: window %u [0x%llx, +0x%llx) unusable",
					      i, w, (unsigned long long)win->base, (unsigned long long)win->size);
		}
	}
	return 0;
}

static int check_params(size_t buflen, uint64_t buf_gpa, const struct acpi_params *p,
			char *err, size_t errlen)
{
	unsigned i, j;

	if (!IS_ALIGNED(buf_gpa, (uint64_t)ACPI_TABLE_ALIGN) ||
	    !range_within(buf_gpa, buflen, 0, GIB(4)))
		return errorf(-EINVAL, err, errlen,
			     "ACPI area [0x%llx, +0x%llx) is not 16-byte aligned below 4 GiB",
			     (unsigned long long)buf_gpa, (unsigned long long)buflen);
	if (p->nr_vcpus < 1 || p->nr_vcpus > ACPI_MAX_VCPUS)
		return errorf(-EINVAL, err, errlen, "%u vCPUs, MADT takes 1 to %u",
			     p->nr_vcpus, ACPI_MAX_VCPUS);
	if (p->nr_virtio > PVHV_VIRTIO_MAX_DEVICES)
		return errorf(-EINVAL, err, errlen, "%u virtio devices, limit %u",
			     p->nr_virtio, PVHV_VIRTIO_MAX_DEVICES);
	for (i = 0; i < p->nr_virtio; i++) {
		const struct acpi_virtio_dev *v = &p->virtio[i];

		if (v->size == 0 || !range_within(v->addr, v->size, 0, GIB(4)))
			return errorf(-EINVAL, err, errlen,
				     "virtio %u: window [0x%llx, +0x%x) is empty or not below 4 GiB",
				     i, (unsigned long long)v->addr, v->size);
		if (v->gsi >= PVHV_IOAPIC_PINS || v->gsi == PVHV_COM1_GSI)
			return errorf(-EINVAL, err, errlen,
				     "virtio %u: GSI %u is not an I/O APIC pin other than COM1's (%u)",
				     i, v->gsi, PVHV_COM1_GSI);
		for (j = 0; j < i; j++) {
			if (overlaps(v->addr, v->size, p->virtio[j].addr, p->virtio[j].size))
				return errorf(-EINVAL, err, errlen,
					     "virtio %u: window overlaps virtio %u", i, j);
			if (v->gsi == p->virtio[j].gsi)
				return errorf(-EINVAL, err, errlen,
					     "virtio %u: GSI %u is also virtio %u's", i,
					     v->gsi, j);
		}
	}
	return check_pci(p, err, errlen);
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev,
		   const char *table_id)
{
	struct sdt_header *h = (struct sdt_header *)t;

	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, table_id, 8);
	h->oem_revision = OEM_REVISION;
	memcpy(h->creator_id, CREATOR_ID, 4);
	h->creator_revision = CREATOR_REVISION;
}

/* Last step for each table, once every byte of it is in place. */
static void seal(uint8_t *t)
{
	struct sdt_header *h = (struct sdt_header *)t;

	h->checksum = 0;
	h->checksum = checksum(t, h->length);
}

static struct gas io_gas8(uint16_t port)
{
	return (struct gas){ .space_id = GAS_SYSTEM_IO, .bit_width = 8,
			     .bit_offset = 0, .access_size = GAS_ACCESS_BYTE,
			     .address = port };
}

static void write_fadt(uint8_t *t, uint64_t dsdt_gpa, bool pci)
{
	struct fadt *f = (struct fadt *)t;
	static const char hv_id[8] = "pvhv";

	header(t, "FACP", sizeof(*f), FADT_REVISION, "PVHVFACP");
	f->dsdt = (uint32_t)dsdt_gpa;
	f->x_dsdt = dsdt_gpa;
	/*
	 * No VGA, no MSI unless PCI functions are passed through (then MSI
	 * and MSI-X are their only interrupts: Linux's pci_no_msi() must not
	 * run), ASPM not ours to control, and no CMOS RTC: pvhv's unlisted
	 * ports read all-ones, so Linux must not register rtc_cmos.  As
	 * Firecracker, plus the RTC bit.
	 */
	f->iapc_boot_arch = IAPC_VGA_NOT_PRESENT | (pci ? 0 : IAPC_MSI_NOT_SUPPORTED) |
			    IAPC_PCIE_ASPM_CONTROLS | IAPC_CMOS_RTC_NOT_PRESENT;
	f->flags = FADT_HW_REDUCED_ACPI | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
		   FADT_RESET_REG_SUP;
	/* Linux's acpi_reboot() wants an 8-bit register at bit offset 0. */
	f->reset_reg = io_gas8(PVHV_ACPI_RESET_PORT);
	f->reset_value = PVHV_ACPI_RESET_VALUE;
	f->minor_version = FADT_MINOR_VERSION;
	f->sleep_control_reg = io_gas8(PVHV_ACPI_SLEEP_CTL_PORT);
	f->sleep_status_reg = io_gas8(PVHV_ACPI_SLEEP_STS_PORT);
	memcpy(&f->hypervisor_vendor_id, hv_id, sizeof(hv_id));
	seal(t);
}

static void write_madt(uint8_t *t, size_t len, unsigned nr_vcpus)
{
	struct madt *m = (struct madt *)t;
	uint8_t *e = t + sizeof(*m);
	unsigned i;

	header(t, "APIC", (uint32_t)len, MADT_REVISION, "PVHVAPIC");
	m->lapic_addr = PVHV_LAPIC_GPA;
	m->flags = 0; /* no PCAT_COMPAT: there are no 8259s to mask */
	for (i = 0; i < nr_vcpus; i++, e += MADT_LAPIC_LEN) {
		e[0] = MADT_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)i; /* APIC ID */
		le32(e + 4, MADT_LAPIC_ENABLED);
	}
	e[0] = MADT_IOAPIC;
	e[1] = MADT_IOAPIC_LEN;
	e[2] = (uint8_t)nr_vcpus; /* I/O APIC ID, past the local APIC IDs */
	le32(e + 4, PVHV_IOAPIC_GPA);
	le32(e + 8, 0); /* GSI base */
	e += MADT_IOAPIC_LEN;
	/* NMI on LINT1 of every processor, bus-conformant polarity and trigger. */
	e[0] = MADT_LAPIC_NMI;
	e[1] = MADT_LAPIC_NMI_LEN;
	e[2] = 0xff;
	e[3] = 0;
	e[4] = 0;
	e[5] = 1;
	seal(t);
}

static void write_dsdt(uint8_t *t, size_t len, const struct acpi_params *p)
{
	struct aml a = { .p = t + sizeof(struct sdt_header), .len = 0 };

	header(t, "DSDT", (uint32_t)len, DSDT_REVISION, "PVHVDSDT");
	dsdt_body(&a, p);
	seal(t);
}

static void write_mcfg(uint8_t *t, size_t len, const struct acpi_params *p)
{
	uint8_t *e = t + MCFG_HDR_LEN;

	header(t, "MCFG", (uint32_t)len, 1, "PVHVMCFG");
	for (unsigned i = 0; i < p->nr_pci; i++, e += MCFG_ENTRY_LEN) {
		le64(e, p->pci[i].ecam);
		le16(e + 8, p->pci[i].seg);
		e[10] = p->pci[i].bus_start;
		e[11] = p->pci[i].bus_end;
	}
	seal(t);
}

static void write_xsdt(uint8_t *t, size_t len, uint64_t fadt_gpa, uint64_t madt_gpa, uint64_t mcfg_gpa)
{
	uint8_t *e = t + sizeof(struct sdt_header);

	header(t, "XSDT", (uint32_t)len, 1, "PVHVXSDT");
	memcpy(e, &fadt_gpa, 8);
	memcpy(e + 8, &madt_gpa, 8);
	if (len > sizeof(struct sdt_header) + 16)
		memcpy(e + 16, &mcfg_gpa, 8);
	seal(t);
}

static void write_rsdp(uint8_t *t, uint64_t xsdt_gpa)
{
	struct rsdp *r = (struct rsdp *)t;

	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, OEM_ID, 6);
	r->revision = 2;
	r->rsdt_address = 0;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt_gpa;
	r->checksum = checksum(t, 20);
	r->ext_checksum = checksum(t, sizeof(*r));
}

int acpi_build(void *buf, size_t buflen, uint64_t buf_gpa,
	       const struct acpi_params *p, uint64_t *rsdp_gpa, size_t *used,
	       char *err, size_t errlen)
{
	uint8_t *b = buf;
	struct layout l;
	int rc;

	if (!buf || !p)
		return errorf(-EINVAL, err, errlen, "ACPI: no buffer or parameters");
	rc = check_params(buflen, buf_gpa, p, err, errlen);
	if (rc)
		return rc;
	plan(p, &l);
	if (l.end > buflen)
		return errorf(-ENOSPC, err, errlen,
			     "ACPI tables need %llu bytes, buffer has %llu",
			     (unsigned long long)l.end, (unsigned long long)buflen);

	memset(b, 0, buflen);
	write_dsdt(b + l.dsdt, l.dsdt_len, p);
	write_madt(b + l.madt, l.madt_len, p->nr_vcpus);
	if (p->nr_pci)
		write_mcfg(b + l.mcfg, l.mcfg_len, p);
	write_fadt(b + l.fadt, buf_gpa + l.dsdt, p->nr_pci != 0);
	write_xsdt(b + ACPI_XSDT_OFF, xsdt_len(p), buf_gpa + l.fadt, buf_gpa + l.madt, buf_gpa + l.mcfg);
	write_rsdp(b + ACPI_RSDP_OFF, buf_gpa + ACPI_XSDT_OFF);
	if (rsdp_gpa)
		*rsdp_gpa = buf_gpa + ACPI_RSDP_OFF;
	if (used)
		*used = l.end;
	return 0;
}
