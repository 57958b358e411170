/* SPDX-License-Identifier: Apache-2.0 */
/* imgstore.c: the image store's one instance, its lock, bundle fetches and upload memory. */
#include "pvh/pvh.h"
#include "pvh/imgstore.h"

/*
 * Uploads are at most this large: an image must fit in memory whole and
 * contiguous (disks read it through an overlay, the ELF loader in place).
 */
#define UPLOAD_MAX (GIB(4))

static struct image_store store;
static struct spinlock lock;

/*
 * Kernels and initrds of the bundle sit in it wherever the archive put
 * them (a cpio member is 4-byte aligned).  A domain's RAM can use an
 * image's own pages only where they are 2 MiB-congruent with the guest
 * addresses (pvh/imgshare.h), so a kernel or initrd of 2 MiB or more is
 * copied once, when the store loads it, to 2 MiB-aligned memory that
 * lives as long as the store holds the image: every domain built from it
 * while it is held shares those pages.  By slot of the store.
 */
static struct {
	hpa_t pa;
	uint64_t pages;
} aligned_copy[IMAGES_MAX];

static void align_loaded(struct image *img)
{
	unsigned slot = (unsigned)(img - store.img);
	uint64_t pages = ALIGN_UP(img->size, PAGE_SIZE) / PAGE_SIZE;
	hpa_t pa;

	if (img->size < LARGE_PAGE_SIZE || IS_ALIGNED((uintptr_t)img->data, LARGE_PAGE_SIZE) ||
	    pages > page_free_count() + mempool_available() * (LARGE_PAGE_SIZE / PAGE_SIZE) ||
	    page_alloc(pages, LARGE_PAGE_SIZE / PAGE_SIZE, &pa))
		return; /* shared where it can be, copied into each domain elsewhere */
	memcpy(hpa_to_ptr(pa), img->data, img->size);
	img->data = hpa_to_ptr(pa);
	aligned_copy[slot].pa = pa;
	aligned_copy[slot].pages = pages;
}

/* Drops a reference (under lock); the image's aligned copy goes with its slot. */
static void put_locked(struct image *img)
{
	unsigned slot;

	if (!img)
		return;
	slot = (unsigned)(img - store.img);
	image_put(&store, img);
	if (img->state == IMAGE_FREE && aligned_copy[slot].pa) {
		page_free(aligned_copy[slot].pa, aligned_copy[slot].pages);
		aligned_copy[slot].pa = 0;
	}
}

static int fetch_bundle_file(void *ctx, const char *name, const void **data, size_t *size, char *err,
			     size_t errlen)
{
	(void)ctx;
	return bundle_file(name, data, size, err, errlen);
}

/*
 * Upload memory: contiguous pages of the host allocator, which, when it
 * runs dry, takes free chunks of the guest RAM pool that no domain has
 * reserved (mm.c, mempool.c).  So an upload competes with domains under
 * the same admission (a reservation is never taken from), and the free
 * memory hello reports counts it.  The pool's own chunks are 2 MiB apart
 * in no particular order: an image must be one contiguous run.  One of
 * 2 MiB or more starts at a 2 MiB boundary, so that domains built from it
 * can map its pages instead of copying them (pvh/imgshare.h).
 */
static int mem_alloc(void *ctx, uint64_t size, uint8_t **out)
{
	uint64_t pages = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE;
	hpa_t pa;

	(void)ctx;
	/* More than is free at all: refused without moving the pool's chunks to the host allocator. */
	if (pages > page_free_count() + mempool_available() * (LARGE_PAGE_SIZE / PAGE_SIZE) ||
	    page_alloc(pages, pages >= LARGE_PAGE_SIZE / PAGE_SIZE ? LARGE_PAGE_SIZE / PAGE_SIZE : 1, &pa))
		return -ENOMEM;
	*out = hpa_to_ptr(pa);
	return 0;
}

static void mem_free(void *ctx, uint8_t *p, uint64_t size)
{
	(void)ctx;
	page_free(ptr_to_hpa(p), ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE);
}

static const struct image_mem mem = { mem_alloc, mem_free, NULL };

int imgstore_get(const char *name, uint64_t max_size, struct image **out, bool *loaded,
		 unsigned *users, char *err, size_t errlen)
{
	unsigned loads;
	int rc;

	spin_lock(&lock);
	loads = store.loads;
	rc = image_get(&store, name, max_size, fetch_bundle_file, NULL, out, err, errlen);
	*loaded = store.loads != loads;
	*users = rc ? 0 : (*out)->refs;
	spin_unlock(&lock);
	return rc;
}

void imgstore_put(struct image *img)
{
	spin_lock(&lock);
	put_locked(img);
	spin_unlock(&lock);
}

int imgstore_check(const char *name, struct image **pin, char *err, size_t errlen)
{
	const void *data;
	size_t size;
	int rc = 0;

	*pin = NULL;
	spin_lock(&lock);
	if (image_find(&store, name) && image_find(&store, name)->origin == IMAGE_UPLOADED)
		rc = image_get(&store, name, UINT64_MAX, fetch_bundle_file, NULL, pin, err, errlen);
	else
		rc = bundle_file(name, &data, &size, err, errlen);
	spin_unlock(&lock);
	return rc;
}

/* A reference for the kernel or initrd, with the messages the bundle's files always had. */
static int hold(const char *what, const char *name, struct image **img, char *err, size_t errlen)
{
	char why[128];
	const void *data;
	size_t size;
	int rc = 0;

	spin_lock(&lock);
	if (!image_find(&store, name)) {
		rc = bundle_file(name, &data, &size, why, sizeof(why));
		if (rc)
			errorf(rc, err, errlen, "%s: %s", what, why);
		else if (!size)
			rc = errorf(-EINVAL, err, errlen, "%s \"%s\" is empty", what, name);
	}
	if (!rc) {
		unsigned loads = store.loads;

		rc = image_get(&store, name, UINT64_MAX, fetch_bundle_file, NULL, img, why, sizeof(why));
		if (rc)
			errorf(rc, err, errlen, "%s: %s", what, why);
		else if (store.loads != loads)
			align_loaded(*img);
	}
	spin_unlock(&lock);
	return rc;
}

int imgstore_hold_boot(struct domain *d, char *err, size_t errlen)
{
	const struct domain_config *c = d->cfg;
	int rc;

	if (!d->kernel_img) {
		rc = hold("kernel", c->kernel, &d->kernel_img, err, errlen);
		if (rc)
			return rc;
	}
	if (c->initrd && !d->initrd_img) {
		rc = hold("initrd", c->initrd, &d->initrd_img, err, errlen);
		if (rc)
			return rc;
	}
	d->kernel = d->kernel_img->data;
	d->kernel_size = d->kernel_img->size;
	d->initrd = d->initrd_img ? d->initrd_img->data : NULL;
	d->initrd_size = d->initrd_img ? d->initrd_img->size : 0;
	return 0;
}

void imgstore_release_boot(struct domain *d)
{
	spin_lock(&lock);
	put_locked(d->kernel_img);
	put_locked(d->initrd_img);
	spin_unlock(&lock);
	d->kernel_img = d->initrd_img = NULL;
	d->kernel = d->initrd = NULL;
	d->kernel_size = d->initrd_size = 0;
}

/* ------------------------------------------------------------ the management protocol */

int imgstore_begin(uint32_t owner, const char *name, uint64_t size, uint32_t *handle, char *err,
		   size_t errlen)
{
	int rc;

	spin_lock(&lock);
	rc = image_upload_begin(&store, name, size, UPLOAD_MAX, owner, fetch_bundle_file, NULL, &mem,
				handle, err, errlen);
	spin_unlock(&lock);
	if (!rc)
		kprintf("pvhv: image %s: upload %u of %lu KiB begins\n", name, *handle, size >> 10);
	return rc;
}

int imgstore_data(uint32_t owner, uint32_t handle, uint64_t offset, const uint8_t *p, size_t n,
		  char *err, size_t errlen)
{
	int rc;

	spin_lock(&lock);
	rc = image_upload_data(&store, handle, owner, offset, p, n, err, errlen);
	spin_unlock(&lock);
	return rc;
}

int imgstore_end(uint32_t owner, uint32_t handle, char *err, size_t errlen)
{
	int rc;

	spin_lock(&lock);
	rc = image_upload_end(&store, handle, owner, &mem, err, errlen);
	spin_unlock(&lock);
	if (rc)
		kprintf("pvhv: upload %u: %s\n", handle, err);
	else
		kprintf("pvhv: upload %u complete\n", handle);
	return rc;
}

void imgstore_abort(uint32_t owner)
{
	unsigned n;

	spin_lock(&lock);
	n = image_upload_abort(&store, owner, &mem);
	spin_unlock(&lock);
	if (n)
		kprintf("pvhv: %u unfinished upload%s discarded (the connection closed)\n", n, n == 1 ? "" : "s");
}

static void entry(struct pvhv_mgmt_image *e, const char *name, uint64_t size, unsigned users,
		  uint32_t origin)
{
	*e = (struct pvhv_mgmt_image){ .size = size, .users = users, .origin = origin };
	memcpy(e->name, name, MIN(strlen(name), sizeof(e->name) - 1));
}

unsigned imgstore_list(uint32_t first, struct pvhv_mgmt_image *out, unsigned max, uint32_t *total)
{
	char name[IMAGE_NAME_MAX];
	size_t size;
	unsigned n = 0, at = 0;

	spin_lock(&lock);
	for (unsigned i = 0; bundle_file_at(i, name, sizeof(name), &size) == 0; i++, at++)
		if (at >= first && n < max) {
			const struct image *img = image_find(&store, name);

			entry(&out[n++], name, size, img ? img->refs : 0, PVHV_MGMT_IMAGE_BUNDLE);
		}
	for (unsigned i = 0; i < IMAGES_MAX; i++) {
		const struct image *img = &store.img[i];

		if (img->state != IMAGE_READY || img->origin != IMAGE_UPLOADED)
			continue;
		if (at >= first && n < max)
			entry(&out[n++], img->name, img->size, img->refs, PVHV_MGMT_IMAGE_UPLOADED);
		at++;
	}
	spin_unlock(&lock);
	*total = at;
	return n;
}

int imgstore_delete(const char *name, char *err, size_t errlen)
{
	int rc;

	spin_lock(&lock);
	rc = image_delete(&store, name, fetch_bundle_file, NULL, &mem, err, errlen);
	spin_unlock(&lock);
	if (!rc)
		kprintf("pvhv: image %s deleted\n", name);
	return rc;
}
