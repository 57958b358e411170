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
extern char __image_start[], __image_end[];
extern uint64_t boot_pml4[];

int page_alloc(uint64_t npages, uint64_t align_pages, hpa_t *out)
{
	int err;

	spin_lock(&pa_lock);
	err = pa_alloc(&pa, npages, align_pages, out);
	spin_unlock(&pa_lock);
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

/* ------------------------------------------------------------ stage 2 */

int stage2_create(hpa_t *root)
{
	return page_alloc(1, 1, root);
}

int stage2_map(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size)
{
	return pt_map(vcpu_ops->stage2_fmt, &host_pt_ops, root, gpa, hpa, size,
		      vcpu_ops->stage2_ram_flags);
}

int stage2_map_noexec(hpa_t root, gpa_t gpa, hpa_t hpa, uint64_t size)
{
	uint64_t flags = vcpu_ops->stage2_noexec_flags;

	if (!host_has_nx && (flags >> 63))
		flags = vcpu_ops->stage2_ram_flags;
	return pt_map(vcpu_ops->stage2_fmt, &host_pt_ops, root, gpa, hpa, size, flags);
}

void stage2_destroy(hpa_t root)
{
	pt_destroy(vcpu_ops->stage2_fmt, &host_pt_ops, root);
}

uint64_t stage2_count_tables(hpa_t root)
{
	return pt_count_tables(vcpu_ops->stage2_fmt, &host_pt_ops, root);
}
