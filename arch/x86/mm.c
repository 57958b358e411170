/* SPDX-License-Identifier: Apache-2.0 */
/* mm.c: host physical memory (the page allocator) and stage-2 tables. */
#include "arch/x86/arch.h"
#include "arch/x86/hw.h"
#include "arch/x86/x86.h"
#include "lib/pagealloc.h"

/* RAM above this is ignored (the bitmap is static: 2 MiB of .bss). */
#define MM_MAX_PHYS GIB(64)
#define MM_NPAGES (MM_MAX_PHYS >> PAGE_SHIFT)

static uint64_t bitmap[MM_NPAGES / 64];
bool host_has_nx;
static struct page_alloc pa;
static struct spinlock pa_lock;
static hpa_t ram_top;
extern char __image_start[], __image_end[];
extern uint64_t boot_pml4[];

/*
 * When the host allocator runs dry, the guest RAM pool gives back free
 * chunks it does not owe any domain, one at a time (mempool.c).
 */
int page_alloc(uint64_t npages, uint64_t align_pages, hpa_t *out)
{
	int err;

	for (;;) {
		spin_lock(&pa_lock);
		err = pa_alloc(&pa, npages, align_pages, out);
		spin_unlock(&pa_lock);
		if (err != -ENOMEM || mempool_give_back())
			break;
	}
	if (!err)
		memset(hpa_to_ptr(*out), 0, npages * PAGE_SIZE);
	return err;
}

void page_free(hpa_t p, uint64_t npages)
{
	int err;

	spin_lock(&pa_lock);
	err = pa_free(&pa, p, npages);
	spin_unlock(&pa_lock);
	if (err)
		panic("page_free(0x%lx, %lu): not allocated", p, npages);
}

int page_claim(hpa_t p, uint64_t npages)
{
	int err;

	spin_lock(&pa_lock);
	err = pa_claim(&pa, p, npages);
	spin_unlock(&pa_lock);
	return err;
}

const char *page_holder(hpa_t start, uint64_t size)
{
	bool ram = false, busy = false;

	for (unsigned i = 0; i < boot_info.nr_regions; i++) {
		const struct mem_region *r = &boot_info.region[i];

		if (r->type == 1 && range_within(start, size, r->addr, r->size))
			ram = true;
	}
	if (!ram || start + size > ram_top)
		return "no RAM of the host's";
	if (start < ptr_to_hpa(__image_end) && ptr_to_hpa(__image_start) < start + size)
		return "pvhv's image";
	for (unsigned i = 0; i < nr_boot_modules; i++)
		if (start < boot_modules[i].start + boot_modules[i].size && boot_modules[i].start < start + size)
			return "a boot module (the bundle)";
	if (start < MIB(1))
		return "firmware";
	spin_lock(&pa_lock);
	for (hpa_t p = start; p < start + size && !busy; p += PAGE_SIZE)
		busy = pa_claim(&pa, p, 1) != 0 || pa_free(&pa, p, 1) != 0;
	spin_unlock(&pa_lock);
	return busy ? "pvhv's own allocations" : NULL;
}

hpa_t mm_ram_top(void)
{
	return ram_top;
}

uint64_t page_free_count(void)
{
	return pa_nfree(&pa);
}

static void *host_to_virt(void *ctx, hpa_t p)
{
	return hpa_to_ptr(p);
}

static int host_alloc_table(void *ctx, hpa_t *out)
{
	int err = page_alloc(1, 1, out);

	if (!err && ctx)
		(*(uint64_t *)ctx)++;
	return err;
}

static void host_free_table(void *ctx, hpa_t p)
{
	page_free(p, 1);
	if (ctx)
		(*(uint64_t *)ctx)--;
}

const struct pt_ops host_pt_ops = {
	.to_virt = host_to_virt,
	.alloc_table = host_alloc_table,
	.free_table = host_free_table,
};

void mm_init(void)
{
	uint64_t top = 0;

	pa_init(&pa, 0, MM_NPAGES, bitmap);
	for (unsigned i = 0; i < boot_info.nr_regions; i++) {
		const struct mem_region *r = &boot_info.region[i];

		if (r->type == 1)
			pa_release_range(&pa, r->addr, r->size);
	}
	/* Then take back what is in use, whatever the map said. */
	for (unsigned i = 0; i < boot_info.nr_regions; i++) {
		const struct mem_region *r = &boot_info.region[i];

		if (r->type != 1)
			pa_reserve_range(&pa, r->addr, r->size);
		else if (r->addr + r->size > top)
			top = r->addr + r->size;
	}
	pa_reserve_range(&pa, 0, MIB(1)); /* firmware, trampoline, loader data */
	pa_reserve_range(&pa, ptr_to_hpa(__image_start), __image_end - __image_start);
	for (unsigned i = 0; i < nr_boot_modules; i++)
		pa_reserve_range(&pa, boot_modules[i].start, boot_modules[i].size);
	ram_top = MIN(top, MM_MAX_PHYS);
	if (top > MM_MAX_PHYS)
		kprintf("pvhv: mm: ignoring RAM above %lu GiB\n", MM_MAX_PHYS >> 30);

	/* The boot tables map 4 GiB; map the rest of RAM before anyone allocates it. */
	if (top > GIB(4)) {
		uint64_t end = MIN(ALIGN_UP(top, LARGE_PAGE_SIZE), MM_MAX_PHYS);
		int err = pt_map(&pt_format_x86, &host_pt_ops, ptr_to_hpa(boot_pml4), GIB(4),
				 GIB(4), end - GIB(4), 0x3);

		if (err)
			panic("mm: cannot map RAM above 4 GiB (%d)", err);
	}
}

/*
 * P | RW | PWT | PCD: with the power-on PAT (pvhv keeps it) that selects
 * entry 3, UC (SDM vol. 3, 11.12.4 and table 11-11).  Device registers
 * such as PCI configuration space must not be cached, combined or
 * reordered (PCIe Base 4.0, 7.2.2).
 */
#define PTE_UNCACHED 0x1bULL

int mm_map_uncached(hpa_t start, uint64_t size)
{
	hpa_t root = ptr_to_hpa(boot_pml4);
	int err = pt_unmap(&pt_format_x86, &host_pt_ops, root, start, size);

	if (!err)
		err = pt_map(&pt_format_x86, &host_pt_ops, root, start, start, size, PTE_UNCACHED);
	write_cr3(read_cr3()); /* the boot map has no global pages: this drops every stale entry */
	return err;
}

/* ------------------------------------------------------------ stage 2 */

int stage2_create(hpa_t *root)
{
	return page_alloc(1, 1, root);
}

/*
 * 4 KiB stage-2 leaves only.  On Intel CPUs without PSCHANGE_MC_NO an
 * executable page whose size changes can take a machine check (iTLB
 * multihit, CVE-2018-12207); a guest controls its own page sizes, so
 * executable 2 MiB stage-2 leaves would let it crash the host.  With 4 KiB
 * leaves only there is no large executable page to split.  The cost is one
 * table page per 2 MiB of guest RAM.  "stage2=4k" on pvhv's command line
 * forces it anywhere.
 */
static bool stage2_small;

bool cmdline_has(const char *c, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = c; p && *p; ) {
		while (*p == ' ')
			p++;
		if (strncmp(p, word, n) == 0 && (p[n] == ' ' || p[n] == 0))
			return true;
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

void stage2_init(bool itlb_multihit)
{
	bool forced = cmdline_has(boot_info.cmdline, "stage2=4k");

	stage2_small = forced || itlb_multihit;
	kprintf("pvhv: stage2: %s\n", !stage2_small ? "2 MiB pages" :
		forced ? "4 KiB pages (stage2=4k)" : "4 KiB pages (iTLB multihit: no executable 2 MiB pages)");
}

bool stage2_small_pages(void)
{
	return stage2_small;
}

static int map(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size, uint64_t flags)
{
	int err;

	if (!stage2_small || size < PAGE_SIZE * 2)
		return pt_map(vcpu_ops->stage2_fmt, &host_pt_ops, root, gpa, hpa, size, flags);
	/*
	 * Per 2 MiB piece, one 4 KiB page first: pt_map() then finds the page
	 * directory entry pointing at a table and uses 4 KiB leaves for the
	 * rest of the piece too.
	 */
	for (uint64_t off = 0; off < size; ) {
		uint64_t piece = MIN(size - off, LARGE_PAGE_SIZE - ((gpa + off) & (LARGE_PAGE_SIZE - 1)));

		err = pt_map(vcpu_ops->stage2_fmt, &host_pt_ops, root, gpa + off, hpa + off, PAGE_SIZE, flags);
		if (!err && piece > PAGE_SIZE)
			err = pt_map(vcpu_ops->stage2_fmt, &host_pt_ops, root, gpa + off + PAGE_SIZE,
				     hpa + off + PAGE_SIZE, piece - PAGE_SIZE, flags);
		if (err)
			return err;
		off += piece;
	}
	return 0;
}

int stage2_map(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size)
{
	return map(root, gpa, hpa, size, vcpu_ops->stage2_ram_flags);
}

int stage2_map_noexec(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size)
{
	uint64_t flags = vcpu_ops->stage2_noexec_flags;

	if (!host_has_nx && (flags >> 63))
		flags = vcpu_ops->stage2_ram_flags;
	return map(root, gpa, hpa, size, flags);
}

int stage2_map_readonly(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size)
{
	return map(root, gpa, hpa, size, vcpu_ops->stage2_readonly_flags);
}

int stage2_map_mmio(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size)
{
	uint64_t flags = vcpu_ops->stage2_mmio_flags;

	if (!host_has_nx)
		flags &= ~(1ULL << 63);
	return map(root, gpa, hpa, size, flags);
}

int stage2_unmap(hpa_t root, gpa_t gpa, uint64_t size)
{
	return pt_unmap(vcpu_ops->stage2_fmt, &host_pt_ops, root, gpa, size);
}

int stage2_remap(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size)
{
	/* A whole 2 MiB leaf (or a table's 4 KiB leaves) is cleared: no split, no allocation. */
	int err = pt_unmap(vcpu_ops->stage2_fmt, &host_pt_ops, root, gpa, size);

	return err ? err : stage2_map(root, gpa, hpa, size);
}

void stage2_destroy(hpa_t root)
{
	pt_destroy(vcpu_ops->stage2_fmt, &host_pt_ops, root);
}

uint64_t stage2_count_tables(hpa_t root)
{
	return pt_count_tables(vcpu_ops->stage2_fmt, &host_pt_ops, root);
}
