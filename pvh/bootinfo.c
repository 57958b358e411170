/* SPDX-License-Identifier: Apache-2.0 */
/* bootinfo.c: build a domain's PVH start_info, module list, memory map and command line. */
#include "lib/base.h"
#include "pvh/bootinfo.h"
#include "pvh/ramlayout.h"
#include "pvhv/abi.h"

#define BOOTINFO_END (PVHV_BOOTINFO_GPA + PVHV_BOOTINFO_SIZE)
#define RSDP_V2_SIZE 36 /* ACPI 6.4, 5.2.5.3 */
#define MEMMAP_TYPE_MAX 7 /* PMEM, the highest type in hvm_start_info */

_Static_assert(BOOTINFO_MODLIST_OFF >= sizeof(struct pvhv_start_info),
	       "start_info overlaps the module list");
_Static_assert(BOOTINFO_MEMMAP_OFF >= BOOTINFO_MODLIST_OFF +
	       sizeof(struct pvhv_modlist_entry), "modlist overlaps memmap");
_Static_assert(BOOTINFO_END <= BOOTINFO_LOW_RAM_END, "boot info above low RAM");

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Where the map's RAM from 1 MiB in range 0 ends: an identity layout lists none of it. */
static uint64_t range0_map_end(const struct ram_layout *l)
{
	return l->identity ? BOOTINFO_HIGH_RAM_START : l->r[0].size;
}

/* Whether [a, a + s) is inside one RAM range of the map, from 1 MiB on. */
static bool in_mapped_ram(const struct ram_layout *l, uint64_t a, uint64_t s)
{
	return a >= BOOTINFO_HIGH_RAM_START && rl_chunk(l, a, s, NULL) &&
	       (a >= l->r[0].size || range_within(a, s, 0, range0_map_end(l)));
}

/* Extras must sit in one RAM range of the base map: low RAM above the boot
 * info, RAM from 1 MiB to the end of low RAM, or RAM above 4 GiB. */
static bool extra_in_ram(const struct bootinfo_region *r, const struct ram_layout *l)
{
	return range_within(r->addr, r->size, BOOTINFO_END,
			    BOOTINFO_LOW_RAM_END - BOOTINFO_END) ||
	       in_mapped_ram(l, r->addr, r->size);
}

/* The initrd in one range of the map below PVHV_RAM_LOW_END. */
static bool initrd_in_ram(const struct ram_layout *l, uint64_t a, uint64_t s)
{
	return in_mapped_ram(l, a, s) && a + s <= PVHV_RAM_LOW_END;
}

static int check_params(const struct bootinfo_params *p, const struct ram_layout *l, char *err,
			size_t errlen)
{
	unsigned i, j;
	size_t n;

	if (p->cmdline) {
		n = strnlen(p->cmdline, PVHV_CMDLINE_MAX);
		if (n >= PVHV_CMDLINE_MAX) {
			n += strlen(p->cmdline + n);
			return errorf(-E2BIG, err, errlen,
				     "command line is %llu bytes, limit %u",
				     (unsigned long long)n, PVHV_CMDLINE_MAX - 1);
		}
	}
	if (p->nr_extra > BOOTINFO_MAX_EXTRA)
		return errorf(-EINVAL, err, errlen, "%u extra regions, limit %u",
			     p->nr_extra, BOOTINFO_MAX_EXTRA);
	for (i = 0; i < p->nr_extra; i++) {
		const struct bootinfo_region *r = &p->extra[i];

		if (r->size == 0 || r->type == 0 || r->type > MEMMAP_TYPE_MAX)
			return errorf(-EINVAL, err, errlen,
				     "extra region %u: size 0x%llx / type %u invalid",
				     i, (unsigned long long)r->size, r->type);
		if (!extra_in_ram(r, l) && l->identity)
			return errorf(-EINVAL, err, errlen,
				     "extra region %u [0x%llx, +0x%llx) is not inside RAM at [0x%x, 0x%x) or in one identity range",
				     i, (unsigned long long)r->addr, (unsigned long long)r->size, BOOTINFO_END,
				     BOOTINFO_LOW_RAM_END);
		if (!extra_in_ram(r, l))
			return errorf(-EINVAL, err, errlen,
				     "extra region %u [0x%llx, +0x%llx) is not inside RAM at [0x%x, 0x%x), [0x%x, 0x%llx) or [0x%llx, 0x%llx)",
				     i, (unsigned long long)r->addr,
				     (unsigned long long)r->size, BOOTINFO_END,
				     BOOTINFO_LOW_RAM_END, BOOTINFO_HIGH_RAM_START,
				     (unsigned long long)ram_low_size(p->ram_size),
				     PVHV_RAM_HIGH_GPA, (unsigned long long)ram_end(p->ram_size));
		for (j = 0; j < i; j++)
			if (overlaps(r->addr, r->size, p->extra[j].addr,
				     p->extra[j].size))
				return errorf(-EINVAL, err, errlen,
					     "extra region %u overlaps extra region %u",
					     i, j);
	}
	if (p->initrd_size) {
		uint64_t a = p->initrd_gpa, s = p->initrd_size;

		if (l->identity && !initrd_in_ram(l, a, s))
			return errorf(-EINVAL, err, errlen,
				     "initrd [0x%llx, +0x%llx) is not inside one identity RAM range below 3 GiB",
				     (unsigned long long)a, (unsigned long long)s);
		if (!l->identity && !range_within(a, s, 0, ram_low_size(p->ram_size)))
			return errorf(-EINVAL, err, errlen,
				     "initrd [0x%llx, +0x%llx) is not inside low RAM [0, 0x%llx)",
				     (unsigned long long)a, (unsigned long long)s,
				     (unsigned long long)ram_low_size(p->ram_size));
		if (overlaps(a, s, PVHV_BOOTINFO_GPA, PVHV_BOOTINFO_SIZE))
			return errorf(-EINVAL, err, errlen,
				     "initrd [0x%llx, +0x%llx) overlaps the boot-info area [0x%x, 0x%x)",
				     (unsigned long long)a, (unsigned long long)s,
				     PVHV_BOOTINFO_GPA, BOOTINFO_END);
		for (i = 0; i < p->nr_extra; i++)
			if (overlaps(a, s, p->extra[i].addr, p->extra[i].size))
				return errorf(-EINVAL, err, errlen,
					     "initrd [0x%llx, +0x%llx) overlaps extra region %u",
					     (unsigned long long)a,
					     (unsigned long long)s, i);
	}
	if (p->rsdp_gpa && !rl_chunk(l, p->rsdp_gpa, RSDP_V2_SIZE, NULL))
		return errorf(-EINVAL, err, errlen,
			     "RSDP at 0x%llx is not inside RAM (0x%llx bytes)",
			     (unsigned long long)p->rsdp_gpa,
			     (unsigned long long)p->ram_size);
	return 0;
}

/* Four ranges below 1 MiB, one per RAM range, and each extra splits a RAM range in up to three. */
#define MEMMAP_ENTRIES (4 + RAM_MAX_RANGES + 2 * BOOTINFO_MAX_EXTRA)
_Static_assert(MEMMAP_ENTRIES <= BOOTINFO_MEMMAP_MAX, "memmap overruns cmdline");

struct memmap {
	struct pvhv_memmap_entry e[MEMMAP_ENTRIES];
	unsigned n;
};

static void emit(struct memmap *m, uint64_t addr, uint64_t end, uint32_t type)
{
	if (end > addr && m->n < MEMMAP_ENTRIES)
		m->e[m->n++] = (struct pvhv_memmap_entry){
			.addr = addr, .size = end - addr, .type = type };
}

/* RAM [addr, end), with the (sorted, checked) extras inside it carved out. */
static void emit_ram(struct memmap *m, uint64_t addr, uint64_t end,
		     const struct bootinfo_region *x, unsigned nx)
{
	uint64_t cur = addr;
	unsigned i;

	for (i = 0; i < nx; i++) {
		if (x[i].addr < addr || x[i].addr >= end)
			continue;
		emit(m, cur, x[i].addr, PVHV_MEMMAP_RAM);
		emit(m, x[i].addr, x[i].addr + x[i].size, x[i].type);
		cur = x[i].addr + x[i].size;
	}
	emit(m, cur, end, PVHV_MEMMAP_RAM);
}

static void build_memmap(const struct bootinfo_params *p, const struct ram_layout *l, struct memmap *m)
{
	struct bootinfo_region x[BOOTINFO_MAX_EXTRA];
	unsigned i, j, nx = p->nr_extra;

	/* Insertion sort by address; they are known not to overlap. */
	for (i = 0; i < nx; i++) {
		for (j = i; j > 0 && x[j - 1].addr > p->extra[i].addr; j--)
			x[j] = x[j - 1];
		x[j] = p->extra[i];
	}
	m->n = 0;
	emit(m, 0, PVHV_BOOTINFO_GPA, PVHV_MEMMAP_RAM);
	emit(m, PVHV_BOOTINFO_GPA, BOOTINFO_END, PVHV_MEMMAP_RESERVED);
	emit_ram(m, BOOTINFO_END, BOOTINFO_LOW_RAM_END, x, nx);
	emit(m, BOOTINFO_LOW_RAM_END, BOOTINFO_HIGH_RAM_START, PVHV_MEMMAP_RESERVED);
	emit_ram(m, BOOTINFO_HIGH_RAM_START, range0_map_end(l), x, nx);
	/* The hole up to 4 GiB is device space: not in the map, as on a PC. */
	for (i = 1; i < l->nr; i++)
		emit_ram(m, l->r[i].start, l->r[i].start + l->r[i].size, x, nx);
}

int bootinfo_build(void *buf, size_t buflen, const struct bootinfo_params *p,
		   char *err, size_t errlen)
{
	uint8_t *b = buf;
	struct pvhv_start_info si;
	struct pvhv_modlist_entry mod;
	struct memmap map;
	struct ram_layout l;
	int rc;

	if (buflen < PVHV_BOOTINFO_SIZE)
		return errorf(-ENOSPC, err, errlen,
			     "boot-info buffer is %llu bytes, need %u",
			     (unsigned long long)buflen, PVHV_BOOTINFO_SIZE);
	memset(b, 0, buflen);
	if (p->ram_size < PVHV_RAM_ALIGN || !IS_ALIGNED(p->ram_size, PVHV_RAM_ALIGN) ||
	    p->ram_size > PVHV_RAM_MAX)
		return errorf(-EINVAL, err, errlen,
			     "RAM size 0x%llx is not a non-zero multiple of 2 MiB up to 0x%llx",
			     (unsigned long long)p->ram_size, PVHV_RAM_MAX);
	if (p->layout && (p->layout->size != p->ram_size || !p->layout->nr ||
			  p->layout->nr > RAM_MAX_RANGES || p->layout->r[0].start))
		return errorf(-EINVAL, err, errlen, "RAM layout of 0x%llx bytes in %u ranges for RAM size 0x%llx",
			     (unsigned long long)p->layout->size, p->layout->nr,
			     (unsigned long long)p->ram_size);
	if (p->layout)
		l = *p->layout;
	else
		ram_layout_plain(&l, p->ram_size);
	rc = check_params(p, &l, err, errlen);
	if (rc)
		return rc;

	build_memmap(p, &l, &map);
	memcpy(b + BOOTINFO_MEMMAP_OFF, map.e, map.n * sizeof(map.e[0]));

	if (p->cmdline)
		memcpy(b + BOOTINFO_CMDLINE_OFF, p->cmdline, strlen(p->cmdline));

	memset(&si, 0, sizeof(si));
	si.magic = PVHV_START_MAGIC;
	si.version = PVHV_START_VERSION;
	si.cmdline_paddr = PVHV_BOOTINFO_GPA + BOOTINFO_CMDLINE_OFF;
	si.rsdp_paddr = p->rsdp_gpa;
	si.memmap_paddr = PVHV_BOOTINFO_GPA + BOOTINFO_MEMMAP_OFF;
	si.memmap_entries = map.n;
	if (p->initrd_size) {
		memset(&mod, 0, sizeof(mod));
		mod.paddr = p->initrd_gpa;
		mod.size = p->initrd_size;
		memcpy(b + BOOTINFO_MODLIST_OFF, &mod, sizeof(mod));
		si.nr_modules = 1;
		si.modlist_paddr = PVHV_BOOTINFO_GPA + BOOTINFO_MODLIST_OFF;
	}
	memcpy(b + BOOTINFO_START_OFF, &si, sizeof(si));
	return 0;
}

int bootinfo_place_initrd(uint64_t ram_size, uint64_t kernel_end,
			  uint64_t initrd_size, uint64_t *gpa_out)
{
	struct ram_layout l;

	ram_layout_plain(&l, ram_size);
	return bootinfo_place_initrd_in(&l, kernel_end, initrd_size, gpa_out);
}

/* In [start, top): as high as possible, at or above low. */
static int place_in(uint64_t start, uint64_t top, uint64_t kernel_end, uint64_t initrd_size,
		    uint64_t *gpa_out)
{
	uint64_t low = MAX(MAX(kernel_end, (uint64_t)BOOTINFO_HIGH_RAM_START), start);
	uint64_t gpa;

	if (initrd_size > top)
		return -ENOSPC;
	gpa = ALIGN_DOWN(top - initrd_size, PAGE_SIZE);
	if (gpa < low)
		return -ENOSPC;
	/*
	 * At a 2 MiB boundary when it has a whole chunk and that costs no
	 * room it needs: each whole chunk can then be the image's own page
	 * (see pvh/imgshare.h) rather than a copy.
	 */
	if (initrd_size >= LARGE_PAGE_SIZE && ALIGN_DOWN(gpa, LARGE_PAGE_SIZE) >= low)
		gpa = ALIGN_DOWN(gpa, LARGE_PAGE_SIZE);
	*gpa_out = gpa;
	return 0;
}

int bootinfo_place_initrd_in(const struct ram_layout *ram, uint64_t kernel_end,
			     uint64_t initrd_size, uint64_t *gpa_out)
{
	if (initrd_size == 0)
		return -EINVAL;
	for (unsigned k = ram->nr; k-- > (ram->identity ? 1u : 0u); ) {
		const struct ram_range *r = &ram->r[k];

		if (r->start + r->size <= PVHV_RAM_LOW_END &&
		    place_in(r->start, r->start + r->size, kernel_end, initrd_size, gpa_out) == 0)
			return 0;
	}
	return -ENOSPC;
}
