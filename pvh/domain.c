/* SPDX-License-Identifier: Apache-2.0 */
/* domain.c: building a domain from its configuration, guest memory access, and ending it. */
#include "pvh/pvh.h"
#include "pvh/acpi_tables.h"
#include "pvh/bootinfo.h"
#include "pvh/elf.h"
#include "pvh/imgshare.h"
#include "pvh/imgstore.h"
#include "pvhv/abi.h"
#include "arch/x86/x86.h"

#define CHUNK_SIZE LARGE_PAGE_SIZE
#define CHUNK_PAGES (CHUNK_SIZE / PAGE_SIZE)
#define CHUNK_SHARED 1ull /* in chunk[i]: an image's page, mapped read-only (2 MiB-aligned: bit 0 free) */

struct domain **dom_table;
unsigned nr_domains;
static unsigned dom_capacity;

int domain_table_init(char *err, size_t errlen)
{
	uint64_t cap = mem_free_pages() * PAGE_SIZE / MIB(CONFIG_MEM_MIN_MIB);
	hpa_t pa;

	cap = MAX(cap, 1ull);
	cap = MIN(cap, (uint64_t)UINT32_MAX / 2);
	if (page_alloc(pages_for(cap * sizeof(*dom_table)), 1, &pa))
		return errorf(-ENOMEM, err, errlen, "no memory for a table of %lu domains", cap);
	dom_table = hpa_to_ptr(pa);
	dom_capacity = (unsigned)cap;
	return 0;
}

unsigned domain_table_capacity(void)
{
	return dom_capacity;
}

uint64_t domain_slot_pages(void)
{
	return pages_for(sizeof(struct domain));
}

int domain_slot_alloc(struct domain **out)
{
	hpa_t pa;

	if (page_alloc(domain_slot_pages(), 1, &pa))
		return -ENOMEM;
	*out = hpa_to_ptr(pa); /* page_alloc() zeroes */
	return 0;
}

void domain_slot_free(struct domain *d)
{
	if (d)
		page_free(ptr_to_hpa(d), domain_slot_pages());
}

void domain_slot_publish_locked(struct domain *d)
{
	unsigned id = nr_domains;

	d->id = id;
	__atomic_store_n(&dom_table[id], d, __ATOMIC_RELEASE);
	__atomic_store_n(&nr_domains, id + 1, __ATOMIC_RELEASE);
}

uint64_t pages_for(uint64_t bytes)
{
	return ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
}

/* ------------------------------------------------------------ guest memory */

static int map_chunk(struct domain *dom, uint64_t i, hpa_t base);

_Static_assert(DOM_IMG_SEGS == ELF_MAX_SEGMENTS + 1, "room for every kernel segment and the initrd");

/*
 * The kernel's and initrd's bytes that fall in chunk i, copied into its
 * new (zeroed) chunk c at first touch: a chunk they cover only partly
 * (segment edges, bss, the initrd's tail) costs the build nothing.
 */
static void fill_from_images(struct domain *dom, uint64_t i, hpa_t c)
{
	uint64_t off, host, len, g = rl_chunk_gpa(&dom->ram, i) / CHUNK_SIZE;
	bool any = false;

	for (unsigned k = 0; k < dom->nr_img_seg; k++)
		if (imgshare_piece(&dom->img_seg[k], g, &off, &host, &len)) {
			memcpy(hpa_to_ptr(c + off), hpa_to_ptr(host), len);
			any = true;
		}
	dom->img_copied += any;
}

/* Whether chunk i holds any kernel or initrd bytes (imgshare counts 2 MiB pieces of guest-physical space). */
static bool image_backed(const struct domain *dom, uint64_t i)
{
	uint64_t off, host, len, g = rl_chunk_gpa(&dom->ram, i) / CHUNK_SIZE;

	for (unsigned k = 0; k < dom->nr_img_seg; k++)
		if (imgshare_piece(&dom->img_seg[k], g, &off, &host, &len))
			return true;
	return false;
}

/*
 * Chunk i of the domain's RAM, taken from its reservation and mapped in
 * stage 2 on first use.  Every vCPU and device of the domain may get here
 * at once: ram_lock makes one of them take the chunk and the others find
 * it.  A chunk is published (chunk[i] set) only once it is zero (but for
 * the kernel's and initrd's bytes in it, copied in first).  If the
 * mapping fails half way (no page for a table), the chunk stays the
 * domain's so that teardown frees it after the tables that may point at
 * it are gone, and ram_failed makes every later fault fail: the chunk is
 * there but not wholly mapped.
 */
static int populate(struct domain *dom, uint64_t i, hpa_t *out)
{
	hpa_t c = __atomic_load_n(&dom->chunk[i], __ATOMIC_ACQUIRE);
	int err = 0;

	if (c) {
		*out = c;
		return 0;
	}
	spin_lock(&dom->ram_lock);
	c = dom->chunk[i];
	if (!c) {
		err = mempool_take(&dom->mem, &c);
		if (!err) {
			fill_from_images(dom, i, c);
			err = map_chunk(dom, i, c);
			if (err)
				dom->ram_failed = true;
			__atomic_store_n(&dom->chunk[i], c, __ATOMIC_RELEASE);
			dom->populated_peak = MAX(dom->populated_peak, dom->mem.taken + dom->ident.taken);
		}
	}
	spin_unlock(&dom->ram_lock);
	*out = c;
	return err;
}

/*
 * Every vCPU of the domain stops using stage-2 translations cached before
 * now: each one in the guest is kicked out and flushes at its next entry
 * (flush_stage2), and this returns once none can still run on an old
 * one.  A vCPU entering meanwhile reads the new s2_gen after saying it is
 * in the guest, so either it flushes or this waits for it (both sides
 * are sequentially consistent).  Only a vCPU in the guest is waited for:
 * nothing it does there needs this CPU or a lock.
 */
static void stage2_shootdown(struct domain *dom)
{
	uint32_t g = __atomic_add_fetch(&dom->s2_gen, 1, __ATOMIC_SEQ_CST);

	for (unsigned k = 0; k < dom->nr_vcpus; k++) {
		struct vcpu *v = &dom->vcpu[k];
		int kicked = -1;

		while (__atomic_load_n(&v->in_guest, __ATOMIC_SEQ_CST) &&
		       __atomic_load_n(&v->s2_gen, __ATOMIC_ACQUIRE) != g) {
			int cpu = __atomic_load_n(&v->cpu, __ATOMIC_RELAXED);

			if (cpu >= 0 && cpu != kicked && (unsigned)cpu != this_cpu()->index) {
				cpu_kick((unsigned)cpu);
				kicked = cpu;
			}
			cpu_relax();
		}
	}
}

/*
 * Chunk i stops being an image's page before anything writes to it: a
 * chunk of the reservation takes a copy and replaces it in stage 2, and
 * no vCPU keeps the read-only translation (stage2_shootdown()).  The
 * image itself is never written.  0 and the chunk, or -errno.
 */
static int unshare(struct domain *dom, uint64_t i, hpa_t *out)
{
	uint64_t t0 = rdtsc();
	hpa_t c, fresh;
	int err = 0;

	spin_lock(&dom->ram_lock);
	c = dom->chunk[i];
	if (c & CHUNK_SHARED) {
		err = mempool_take_to_overwrite(&dom->mem, &fresh);
		if (!err) {
			memcpy(hpa_to_ptr(fresh), hpa_to_ptr(c & ~CHUNK_SHARED), CHUNK_SIZE);
			err = stage2_remap(dom->stage2_root, rl_chunk_gpa(&dom->ram, i), fresh, CHUNK_SIZE);
			if (err)
				dom->ram_failed = true; /* unmapped now: the chunk stays for teardown */
			__atomic_store_n(&dom->chunk[i], fresh, __ATOMIC_RELEASE);
			stage2_shootdown(dom);
			c = fresh;
			dom->populated_peak = MAX(dom->populated_peak, dom->mem.taken + dom->ident.taken);
			dom->img_shared--;
			dom->img_unshared++;
			dom->cow_tsc += rdtsc() - t0;
		}
	}
	spin_unlock(&dom->ram_lock);
	*out = c;
	return err;
}

/* Chunk i, populated and not an image's: what pvhv may write to. */
static int writable(struct domain *dom, uint64_t i, hpa_t *out)
{
	int err = populate(dom, i, out);

	return err ? err : *out & CHUNK_SHARED ? unshare(dom, i, out) : 0;
}

void *dom_gpa_ptr(struct domain *dom, gpa_t gpa, size_t len)
{
	uint64_t i;
	hpa_t c;

	if (!rl_chunk(&dom->ram, gpa, len, &i) || !dom->chunk)
		return NULL;
	if (gpa % CHUNK_SIZE + len > CHUNK_SIZE)
		return NULL;
	if (writable(dom, i, &c))
		return NULL;
	return hpa_to_ptr(c + gpa % CHUNK_SIZE);
}

int dom_ram_fault(struct domain *dom, gpa_t gpa)
{
	uint64_t i;
	hpa_t c;
	int err;

	if (!rl_chunk(&dom->ram, gpa, 1, &i) || !dom->chunk)
		return -EFAULT;
	err = populate(dom, i, &c);
	/* A mapped image chunk faults only for a write: it is read-only and executable. */
	if (!err && (c & CHUNK_SHARED)) {
		err = unshare(dom, i, &c);
		if (!err && !__atomic_load_n(&dom->ram_failed, __ATOMIC_ACQUIRE))
			return DOM_RAM_COW;
	}
	return err ? err : __atomic_load_n(&dom->ram_failed, __ATOMIC_ACQUIRE) ? -ENOMEM : 0;
}

/* A range inside one RAM range (ram_chunk()) has consecutive chunks: i walks them. */
static int copy_guest(struct domain *dom, gpa_t gpa, void *buf, size_t len, bool to_guest)
{
	uint64_t i;

	if (!rl_chunk(&dom->ram, gpa, len, &i) || !dom->chunk)
		return -EFAULT;
	for (; len; i++) {
		size_t n = MIN(len, CHUNK_SIZE - gpa % CHUNK_SIZE);
		hpa_t c = __atomic_load_n(&dom->chunk[i], __ATOMIC_ACQUIRE);

		if (to_guest) {
			if ((!c || (c & CHUNK_SHARED)) && writable(dom, i, &c))
				return -ENOMEM;
			memcpy(hpa_to_ptr(c + gpa % CHUNK_SIZE), buf, n);
		} else if (c || (image_backed(dom, i) && !populate(dom, i, &c))) {
			memcpy(buf, hpa_to_ptr((c & ~CHUNK_SHARED) + gpa % CHUNK_SIZE), n); /* an image reads as it is */
		} else {
			memset(buf, 0, n); /* not touched yet: what it will hold when it is */
		}
		buf = (uint8_t *)buf + n;
		gpa += n;
		len -= n;
	}
	return 0;
}

int dom_copy_from_guest(struct domain *dom, void *dst, gpa_t gpa, size_t len)
{
	return copy_guest(dom, gpa, dst, len, false);
}

int dom_copy_to_guest(struct domain *dom, gpa_t gpa, const void *src, size_t len)
{
	return copy_guest(dom, gpa, (void *)src, len, true);
}

/* ------------------------------------------------------------ build */

static int fail(struct domain *dom, int err, const char *fmt, ...) PRINTF_LIKE(3, 4);
static int fail(struct domain *dom, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dom->reason, sizeof(dom->reason), fmt, ap);
	va_end(ap);
	return err;
}

/*
 * Where guest-physical addresses end for this CPU: guests see its width
 * (CPUID 0x80000008 EAX[7:0], passed through by pvh/cpuid.c), and stage 2
 * maps nothing above it.  36 bits without the leaf (SDM vol. 3 4.1.4).
 */
static uint64_t phys_addr_limit(void)
{
	uint32_t a, b, c, d, bits = 36;

	cpuid_count(0x80000000u, 0, &a, &b, &c, &d);
	if (a >= 0x80000008u && a < 0x8000ffffu) {
		cpuid_count(0x80000008u, 0, &a, &b, &c, &d);
		bits = MIN(MAX(a & 0xff, 36u), 52u);
	}
	return 1ull << bits;
}

/*
 * Pages the domain costs beyond its RAM: tables, vCPU state, bookkeeping.
 * Stage 2 needs a page directory per GiB that RAM touches, on each side of
 * the hole (RAM ends below 512 GiB: one PML4 and one PDPT).
 */
static uint64_t overhead_estimate(const struct domain_config *c, const struct ram_layout *l)
{
	uint64_t pt = 1 + 1 + pages_for(c->memory / CHUNK_SIZE);

	for (unsigned k = 0; k < l->nr; k++)
		pt += (ALIGN_UP(l->r[k].start + l->r[k].size, GIB(1)) - ALIGN_DOWN(l->r[k].start, GIB(1))) / GIB(1);

	if (stage2_small_pages())
		pt += c->memory / CHUNK_SIZE; /* a 4 KiB-leaf table per 2 MiB */

	return pt + c->vcpus + pages_for(c->vcpus * sizeof(struct vcpu)) +
	       pages_for(c->memory / CHUNK_SIZE * sizeof(hpa_t));
}

/*
 * Chunk i at its place in stage 2.  The first 2 MiB have the page of the
 * legacy reset vector (0xFFFF0) not executable: Linux's BIOS reboot path
 * (and any guest that jumps to the reset vector) then faults there, which
 * pvhv treats as a reset.  Adding a mapping needs no TLB flush: neither
 * NPT nor EPT caches a translation that was not present (APM vol. 2
 * 15.25.5; SDM vol. 3 28.4.2).  Called under ram_lock.
 */
static int map_chunk(struct domain *dom, uint64_t i, hpa_t base)
{
	int err;

	if (i)
		return stage2_map(dom->stage2_root, rl_chunk_gpa(&dom->ram, i), base, CHUNK_SIZE);
	err = stage2_map(dom->stage2_root, 0, base, PVHV_RESET_PAGE_GPA);
	if (!err)
		err = stage2_map_noexec(dom->stage2_root, PVHV_RESET_PAGE_GPA,
					base + PVHV_RESET_PAGE_GPA, PAGE_SIZE);
	if (!err)
		err = stage2_map(dom->stage2_root, PVHV_RESET_PAGE_GPA + PAGE_SIZE,
				 base + PVHV_RESET_PAGE_GPA + PAGE_SIZE,
				 CHUNK_SIZE - PVHV_RESET_PAGE_GPA - PAGE_SIZE);
	return err;
}

/*
 * The RAM's bookkeeping and an empty stage-2 root; chunks come at first
 * touch, out of the reservation the caller made.  Nothing here grows with
 * the RAM but the chunk array (8 bytes per 2 MiB).
 */
static int alloc_ram(struct domain *dom)
{
	dom->nr_chunks = dom->ram.size / CHUNK_SIZE;
	dom->chunk_array_pages = pages_for(dom->nr_chunks * sizeof(hpa_t));
	if (page_alloc(dom->chunk_array_pages, 1, &dom->chunk_array_pa))
		return -ENOMEM;
	dom->chunk = hpa_to_ptr(dom->chunk_array_pa);
	return stage2_create(&dom->stage2_root);
}

/*
 * Where the kernel's segments and the initrd go, kept for the chunks
 * they cover partly: those get their bytes at first touch
 * (fill_from_images()), so building copies nothing.
 */
static void set_segments(struct domain *dom, const struct elf_image *im, gpa_t initrd_gpa)
{
	struct imgshare_seg *seg = dom->img_seg;
	unsigned n = 0;

	for (unsigned k = 0; k < im->nr_segments; k++)
		seg[n++] = (struct imgshare_seg){ im->seg[k].paddr,
						  ptr_to_hpa((const uint8_t *)dom->kernel + im->seg[k].offset),
						  im->seg[k].filesz, im->seg[k].memsz };
	if (dom->initrd)
		seg[n++] = (struct imgshare_seg){ initrd_gpa, ptr_to_hpa(dom->initrd), dom->initrd_size,
						  dom->initrd_size };
	dom->nr_img_seg = n;
}

/*
 * The chunks the kernel's segments and the initrd fill whole, at
 * 2 MiB-aligned places of their images (pvh/imgshare.h), become the
 * images' own pages, read-only and executable: nothing is copied, and the
 * reservation gives a chunk only at the first write.  Chunk 0 never is
 * one (the reset vector's page, boot information and ACPI tables).
 * 0, or -ENOMEM (a table).
 */
static int share_images(struct domain *dom)
{
	const struct imgshare_seg *seg = dom->img_seg;
	unsigned n = dom->nr_img_seg;

	for (unsigned k = 0; k < n; k++) {
		uint64_t first, end, host;

		imgshare_candidates(&seg[k], &first, &end);
		/* g: a 2 MiB piece of guest-physical space; i: its chunk of RAM, if it is RAM. */
		for (uint64_t g = MAX(first, 1ull), i; g < end; g++) {
			if (!rl_chunk(&dom->ram, g * CHUNK_SIZE, CHUNK_SIZE, &i) ||
			    !imgshare_chunk(seg, n, g, &host))
				continue;
			dom->chunk[i] = host | CHUNK_SHARED; /* before the mapping: teardown must not free it */
			if (stage2_map_readonly(dom->stage2_root, g * CHUNK_SIZE, host, CHUNK_SIZE))
				return -ENOMEM;
			dom->img_shared++;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ identity RAM */

static bool take_identity(void *ctx, uint64_t idx)
{
	struct domain *dom = ctx;
	bool dirty;

	return mempool_take_at(&dom->ident, idx * CHUNK_SIZE, &dirty) == 0;
}

/* Gives every identity chunk back to the pool: the domain has ended for good, or its first build failed. */
static void release_identity(struct domain *dom, const struct ram_layout *l, hpa_t extra)
{
	for (unsigned k = 1; k < l->nr; k++)
		for (uint64_t off = 0; off < l->r[k].size; off += CHUNK_SIZE)
			mempool_free(&dom->ident, l->r[k].start + off);
	if (extra)
		mempool_free(&dom->ident, extra);
	mempool_unreserve(&dom->ident);
}

/*
 * The first build of an identity-ram domain: host chunks from 16 MiB up,
 * each at its own address (pvh/ramlayout.h), taken into dom->ident and
 * held until domain_release().  0, or -errno with the reason set: what
 * was missing and what holds the memory in the way.
 */
static int hold_identity(struct domain *dom, uint64_t limit)
{
	const struct domain_config *c = dom->cfg;
	uint64_t lim = MIN(mempool_capacity(), limit / CHUNK_SIZE), end;
	struct ram_layout l;
	struct ram_range held;
	char why[96] = "";
	int rc;

	rc = ram_layout_identity(&l, c->memory, lim, take_identity, dom, &held, &end);
	if (!rc) {
		dom->ram = l;
		return 0;
	}
	if (held.size)
		snprintf(why, sizeof(why), "; 0x%lx-0x%lx is %s", held.start, held.start + held.size,
			 mem_holder(held.start, held.size));
	release_identity(dom, &l, rc == -E2BIG ? end - CHUNK_SIZE : 0);
	if (rc == -E2BIG)
		return fail(dom, rc, "identity-ram: free host memory from 0x%llx to 0x%lx is in more than %u "
			    "pieces%s", RAM_IDENT_FIRST_GPA, end, RAM_MAX_RANGES - 1, why);
	return fail(dom, rc, "identity-ram: needs %lu MiB at guest-physical = host-physical from 0x%llx, "
		    "only %lu MiB free up to 0x%lx%s%s", (c->memory - CHUNK_SIZE) >> 20, RAM_IDENT_FIRST_GPA,
		    (l.size - CHUNK_SIZE) >> 20, end, end >= lim * CHUNK_SIZE ? " (the end of host RAM)" : "",
		    why);
}

/*
 * Every identity chunk zeroed (what a device or the last boot left there
 * is not the new guest's), filled with the image bytes that fall in it,
 * and mapped: eagerly, since a device may DMA into a page the guest never
 * touched.  No image chunk is shared: the kernel's pages are the domain's
 * own, at their own addresses.
 */
static int map_identity(struct domain *dom)
{
	for (uint64_t i = 1; i < dom->nr_chunks; i++) {
		hpa_t c = rl_chunk_gpa(&dom->ram, i);
		int err;

		memset(hpa_to_ptr(c), 0, CHUNK_SIZE);
		fill_from_images(dom, i, c);
		dom->chunk[i] = c;
		err = map_chunk(dom, i, c);
		if (err) {
			dom->ram_failed = true;
			return err;
		}
	}
	dom->populated_peak = MAX(dom->populated_peak, dom->mem.taken + dom->ident.taken);
	return 0;
}

/*
 * After a build: the trust it implies, once (its first build; later ones
 * are its reboots and restarts), and where its RAM is, every time.
 */
static void print_identity(const struct domain *dom)
{
	const struct ram_layout *l = &dom->ram;
	char buf[RAM_MAX_RANGES * 24 + 1];
	size_t n = 0;

	if (!dom->reboots)
		kprintf("pvhv: dom %s: RAM at guest-physical = host-physical (%lu MiB in %u range%s); "
			"no IOMMU: %s is trusted for DMA\n", dom->name, (l->size - CHUNK_SIZE) >> 20, l->nr - 1,
			l->nr == 2 ? "" : "s", dom->name);

	for (unsigned k = 1; k < dom->ram.nr && n < sizeof(buf); k++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " 0x%lx-0x%lx", dom->ram.r[k].start,
				      dom->ram.r[k].start + dom->ram.r[k].size);
	if (dom->reboots)
		kprintf("pvhv: dom %s: identity RAM%s kept over restart %u, zeroed and mapped\n", dom->name, buf,
			dom->reboots);
	else
		kprintf("pvhv: dom %s: identity RAM%s zeroed and mapped\n", dom->name, buf);
}

void domain_release(struct domain *dom)
{
	devices_release(dom);
	if (dom->ident.taken)
		release_identity(dom, &dom->ram, 0);
}

/* A new tenant tag for every build (reboots too): see vcpu_hw.tenant. */
static uint64_t tenant_seq;

static int create_vcpus(struct domain *dom, uint32_t entry)
{
	uint64_t tenant = __atomic_add_fetch(&tenant_seq, 1, __ATOMIC_RELAXED);
	int err;

	dom->nr_vcpus = dom->cfg->vcpus;
	dom->vcpu_array_pages = pages_for(dom->nr_vcpus * sizeof(struct vcpu));
	if (page_alloc(dom->vcpu_array_pages, 1, &dom->vcpu_array_pa))
		return -ENOMEM;
	dom->vcpu = hpa_to_ptr(dom->vcpu_array_pa);
	for (unsigned i = 0; i < dom->nr_vcpus; i++) {
		struct vcpu *v = &dom->vcpu[i];

		v->dom = dom;
		v->id = i;
		v->state = VCPU_OFFLINE;
		v->cpu = -1;
		v->hw.stage2_root = dom->stage2_root;
		v->pvclock_gpa = 0;
		vcpu_state_reset(&v->hw);
		v->hw.tenant = tenant;
		irq_vcpu_init(v);
		err = vcpu_ops->vcpu_init(&v->hw);
		if (!err)
			err = fpu_vcpu_init(&v->hw);
		if (err)
			return err;
	}
	/* PVH starts vCPU 0 only; the guest brings up the others. */
	vcpu_ops->reset_pvh(&dom->vcpu[0].hw, entry, PVHV_BOOTINFO_GPA);
	return 0;
}

/* ACPI tables at PVHV_ACPI_GPA, reported to the guest as ACPI memory. */
static int build_acpi(struct domain *dom, struct bootinfo_params *bp)
{
	struct acpi_params ap = { .nr_vcpus = dom->cfg->vcpus };
	void *buf = dom_gpa_ptr(dom, PVHV_ACPI_GPA, PVHV_ACPI_SIZE);
	char err[160];
	size_t used;
	int rc;

	if (!buf)
		return fail(dom, -EFAULT, "no room for ACPI tables");
	devices_acpi(dom->cfg, &ap);
	passthru_acpi(dom, &ap);
	rc = acpi_build(buf, PVHV_ACPI_SIZE, PVHV_ACPI_GPA, &ap, &bp->rsdp_gpa, &used, err, sizeof(err));
	if (rc)
		return fail(dom, rc, "ACPI tables: %s", err);
	bp->extra[bp->nr_extra++] = (struct bootinfo_region){ PVHV_ACPI_GPA, PVHV_ACPI_SIZE, PVHV_MEMMAP_ACPI };
	return 0;
}

/*
 * What the domain costs pvhv beyond its RAM, at its largest: stage-2
 * tables grow as the guest touches its RAM, so this is looked at again
 * at teardown.
 */
static void note_overhead(struct domain *dom)
{
	uint64_t b = (stage2_count_tables(dom->stage2_root) + dom->chunk_array_pages +
		      dom->vcpu_array_pages + domain_slot_pages() +
		      dom->nr_vcpus * (dom->vcpu[0].hw.ctl_pages + dom->vcpu[0].hw.fpu_pages)) * PAGE_SIZE +
		     devices_overhead(dom) + sizeof(struct domain *);

	if (!dom->cfg->runtime)
		b += sizeof(struct domain_config); /* its entry of the boot configuration */
	dom->overhead_bytes = MAX(dom->overhead_bytes, b);
}

int domain_build(struct domain *dom)
{
	const struct domain_config *c = dom->cfg;
	struct bootinfo_params bp = { 0 };
	struct elf_image im;
	char err[160];
	uint64_t need, have, pool_chunks;
	uint64_t initrd_gpa = 0, t0 = rdtsc();
	int rc, place_rc = 0;

	/* Check everything that can be checked before taking any memory. */
	if (!c->valid)
		return fail(dom, -EINVAL, "%s", c->error);
	rc = imgstore_hold_boot(dom, err, sizeof(err));
	if (rc)
		return fail(dom, rc, "%s", err);
	rc = elf_parse_pvh(dom->kernel, dom->kernel_size, &im, err, sizeof(err));
	if (rc)
		return fail(dom, rc, "kernel \"%s\": %s", c->kernel, err);
	/*
	 * Where its RAM lies: the plain layout, or host memory held at its
	 * own addresses (taken at the first build, kept over restarts).
	 */
	if (!c->identity_ram) {
		ram_layout_plain(&dom->ram, c->memory);
	} else if (!dom->ident.taken) {
		rc = hold_identity(dom, phys_addr_limit());
		if (rc)
			return rc;
	}
	/* The initrd goes above the kernel; a kernel that does not fit is reported first. */
	if (c->initrd)
		place_rc = bootinfo_place_initrd_in(&dom->ram, im.highest, dom->initrd_size, &initrd_gpa);
	rc = elf_check_fits(&im, &dom->ram, initrd_gpa, place_rc ? 0 : dom->initrd_size, err, sizeof(err));
	if (rc)
		return fail(dom, rc, "kernel \"%s\": %s", c->kernel, err);
	if (place_rc)
		return fail(dom, place_rc, "initrd \"%s\" (%zu bytes) does not fit in low RAM above the kernel",
			    c->initrd, dom->initrd_size);
	if (rl_end(&dom->ram) > phys_addr_limit())
		return fail(dom, -ERANGE, "%lu MiB of RAM would end at 0x%lx, beyond this CPU's 0x%lx",
			    c->memory >> 20, rl_end(&dom->ram), phys_addr_limit());
	/*
	 * Tables, vCPU state and the writable disks' overlay budget (less
	 * what they hold over a reboot) come from the host allocator, which
	 * may take unreserved chunks: count them first, then reserve the RAM
	 * itself, all of it or nothing, under the pool's lock.  An identity
	 * domain reserves chunk 0 only: the rest it holds already.
	 */
	pool_chunks = c->identity_ram ? 1 : c->memory / CHUNK_SIZE;
	need = overhead_estimate(c, &dom->ram);
	for (unsigned i = 0; i < c->nr_disks; i++)
		if (!c->disk[i].read_only) {
			need += c->overlay / PAGE_SIZE - MIN(dom->overlay_pages, c->overlay / PAGE_SIZE);
			break;
		}
	have = page_free_count() + mempool_available() * CHUNK_PAGES;
	if (pool_chunks * CHUNK_PAGES + need > have)
		return fail(dom, -ENOMEM, "needs %lu MiB (RAM and tables), only %lu MiB free",
			    (pool_chunks * CHUNK_PAGES + need + 255) / 256, have / 256);
	if (mempool_reserve(&dom->mem, pool_chunks)) {
		have = mempool_available();
		return fail(dom, -ENOMEM, "needs %lu MiB of RAM, only %lu MiB of the RAM pool unreserved",
			    pool_chunks * CHUNK_SIZE >> 20, have * 2);
	}

	dom->ram_size = c->memory;
	dom->ram_failed = false;
	dom->img_shared = dom->img_copied = dom->img_unshared = dom->cow_tsc = 0;
	dom->nr_img_seg = 0;
	rc = alloc_ram(dom);
	if (!rc) {
		set_segments(dom, &im, initrd_gpa);
		/* An identity domain's kernel pages are its own, at their own addresses: never shared. */
		rc = c->identity_ram ? map_identity(dom) : share_images(dom);
	}
	if (rc) {
		domain_teardown(dom);
		return fail(dom, rc, "out of memory while allocating %lu MiB of RAM", c->memory >> 20);
	}
	rc = passthru_build(dom, err, sizeof(err));
	if (rc) {
		domain_teardown(dom);
		return fail(dom, rc, "%s", err);
	}
	rc = build_acpi(dom, &bp);
	if (rc) {
		domain_teardown(dom);
		return rc;
	}
	bp.ram_size = dom->ram_size;
	bp.layout = &dom->ram;
	bp.cmdline = c->cmdline;
	bp.initrd_gpa = initrd_gpa;
	bp.initrd_size = dom->initrd_size;
	rc = bootinfo_build(dom_gpa_ptr(dom, PVHV_BOOTINFO_GPA, PVHV_BOOTINFO_SIZE), PVHV_BOOTINFO_SIZE,
			    &bp, err, sizeof(err));
	if (rc) {
		domain_teardown(dom);
		return fail(dom, rc, "boot information: %s", err);
	}
	irq_domain_init(dom);
	rc = devices_build(dom, err, sizeof(err));
	if (rc) {
		domain_teardown(dom);
		return fail(dom, rc, "devices: %s", err);
	}
	rc = create_vcpus(dom, im.entry32);
	if (rc) {
		domain_teardown(dom);
		return fail(dom, rc, "out of memory for vCPU state");
	}
	note_overhead(dom);
	if (c->identity_ram)
		print_identity(dom);
	t0 = tsc_to_us(rdtsc() - t0);
	if (!dom->reboots)
		dom->build_us = t0;
	else
		dom->rebuild_us_max = MAX(dom->rebuild_us_max, t0);
	return 0;
}

void domain_teardown(struct domain *dom)
{
	if (dom->vcpu && dom->stage2_root)
		note_overhead(dom);
	devices_teardown(dom);
	if (dom->vcpu) {
		for (unsigned i = 0; i < dom->nr_vcpus; i++) {
			vcpu_ops->vcpu_free(&dom->vcpu[i].hw);
			fpu_vcpu_free(&dom->vcpu[i].hw);
		}
		page_free(dom->vcpu_array_pa, dom->vcpu_array_pages);
		dom->vcpu = NULL;
		dom->nr_vcpus = 0;
	}
	/* The tables first: no chunk goes back while a table still maps it. */
	if (dom->stage2_root) {
		stage2_destroy(dom->stage2_root);
		dom->stage2_root = 0;
	}
	if (dom->chunk) {
		/* An image's page is not the pool's; identity chunks stay held (domain_release()). */
		for (uint64_t i = 0; i < dom->nr_chunks; i++)
			if (dom->chunk[i] && !(dom->chunk[i] & CHUNK_SHARED) && !(dom->ram.identity && i))
				mempool_free(&dom->mem, dom->chunk[i]);
		page_free(dom->chunk_array_pa, dom->chunk_array_pages);
		dom->chunk = NULL;
	}
	dom->nr_img_seg = 0;
	mempool_unreserve(&dom->mem);
}

/* ------------------------------------------------------------ ending */

static const char *const end_names[] = {
	[END_NONE] = "none", [END_POWEROFF] = "poweroff", [END_REBOOT] = "reboot",
	[END_CRASH] = "crash", [END_STOPPED] = "stopped", [END_NOT_STARTED] = "not-started",
};

const char *domain_end_name(enum dom_end e)
{
	return e < ARRAY_SIZE(end_names) ? end_names[e] : "?";
}

/* ------------------------------------------------------------ the event log */

static struct domain_event evlog[DOMAIN_EVENTS];
static uint64_t ev_next = 1;   /* seq of the next event (under sched_lock) */

static void log_event_locked(const struct domain *dom)
{
	struct domain_event *e = &evlog[ev_next % DOMAIN_EVENTS];

	*e = (struct domain_event){ .seq = ev_next++, .id = dom->id, .gen = dom->gen, .end = dom->end,
				    .status = dom->exit_status, .time_us = dom->end_us };
	snprintf(e->reason, sizeof(e->reason), "%s", dom->reason);
}

void domain_event_not_started(struct domain *dom)
{
	sched_lock();
	dom->end_us = time_us();
	log_event_locked(dom);
	sched_unlock();
}

unsigned domain_events(uint64_t after, struct domain_event *out, unsigned max, uint32_t *lost)
{
	unsigned n = 0;
	uint64_t first;

	sched_lock();
	first = ev_next > DOMAIN_EVENTS ? ev_next - DOMAIN_EVENTS : 1;   /* the oldest still held */
	*lost = after + 1 < first ? (uint32_t)MIN(first - after - 1, (uint64_t)UINT32_MAX) : 0;
	for (uint64_t seq = MAX(after + 1, first); seq < ev_next && n < max; seq++)
		out[n++] = evlog[seq % DOMAIN_EVENTS];
	sched_unlock();
	return n;
}

void domain_end(struct domain *dom, enum dom_end how, unsigned status, const char *fmt, ...)
{
	va_list ap;

	sched_lock();
	if (dom->state != DOM_RUNNING) {
		sched_unlock();
		return;
	}
	__atomic_store_n(&dom->state, DOM_DYING, __ATOMIC_SEQ_CST); /* pairs with dom_get() */
	dom->end = how;
	dom->exit_status = status;
	dom->reason[0] = 0;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(dom->reason, sizeof(dom->reason), fmt, ap);
		va_end(ap);
	}
	dom->end_us = time_us();
	log_event_locked(dom);
	/* Kick every CPU running one of its vCPUs; the last to leave finishes it. */
	for (unsigned i = 0; i < dom->nr_vcpus; i++)
		if (dom->vcpu[i].state == VCPU_RUNNING && dom->vcpu[i].cpu >= 0)
			sched_kick_locked((unsigned)dom->vcpu[i].cpu);
	dom_quiesce_locked(dom); /* teardown queued if no vCPU or walker holds it */
	sched_unlock();

	console_flush(dom);
	if (how == END_STOPPED)
		kprintf("pvhv: dom %s stopped: %s\n", dom->name, dom->reason);
	else if (how == END_REBOOT)
		kprintf("pvhv: dom %s ended: reboot\n", dom->name);
	else
		kprintf("pvhv: dom %s ended: %s, status %u%s%s\n", dom->name, domain_end_name(how),
			status, dom->reason[0] ? ": " : "", dom->reason);
	/* A sandbox made at run time: pvhv's work for it (the summary has the boot bundle's). */
	if (how != END_REBOOT && dom->cfg == &dom->runtime_cfg)
		kprintf("pvhv: dom %s work: built in %lu us, %lu copy-on-write faults in %lu us, "
			"image chunks %lu shared, %lu filled at first touch\n", dom->name, dom->build_us,
			dom->exits[EXIT_COW], tsc_to_us(dom->cow_tsc), dom->img_shared, dom->img_copied);
}
