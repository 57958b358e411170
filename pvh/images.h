/* SPDX-License-Identifier: Apache-2.0 */
/*
 * images.h: the image store: images held once in pvhv's memory, read-only,
 * shared by every domain whose kernel, initrd or disks name them, and
 * counted by reference so an image in use cannot go.  An image is a file
 * of the boot bundle (an entry lives while some domain uses it) or one
 * uploaded at run time through the management protocol (it stays until
 * deleted, and only when no domain uses it).  An upload is built in a
 * slot of its own that nobody can reference until it is complete.
 *
 * Pure: includes only lib/base.h.  The caller serializes calls (one lock).
 */
#ifndef PVHV_PVH_IMAGES_H
#define PVHV_PVH_IMAGES_H

#include "lib/base.h"

#define IMAGES_MAX 64
#define IMAGE_NAME_MAX 64   /* including NUL */

enum image_state { IMAGE_FREE, IMAGE_READY, IMAGE_UPLOADING };
enum image_origin { IMAGE_BUNDLE = 1, IMAGE_UPLOADED = 2 };

struct image {
	char name[IMAGE_NAME_MAX];
	const uint8_t *data;   /* read-only for everyone: disks see it through an overlay */
	uint64_t size;
	unsigned refs;         /* kernels, initrds and disks using it */
	uint8_t state;         /* enum image_state */
	uint8_t origin;        /* enum image_origin */
	/* An upload (state IMAGE_UPLOADING, origin IMAGE_UPLOADED): */
	uint8_t *buf;          /* the memory from image_mem.alloc: data once complete */
	uint64_t filled;       /* bytes received, in order */
	uint32_t handle;       /* nonzero, unique among uploads */
	uint32_t owner;        /* the connection that may send to it */
};

/*
 * Where images come from: fetch finds the named file and returns 0 with
 * its bytes, or a negative errno with a message in err.
 */
typedef int (*image_fetch_fn)(void *ctx, const char *name, const void **data, size_t *size,
			      char *err, size_t errlen);

/*
 * Memory for uploads: alloc returns size bytes (0), or -ENOMEM; free gives
 * back what alloc returned, with the same size.
 */
struct image_mem {
	int (*alloc)(void *ctx, uint64_t size, uint8_t **out);
	void (*free)(void *ctx, uint8_t *p, uint64_t size);
	void *ctx;
};

struct image_store {
	struct image img[IMAGES_MAX];
	unsigned loads;        /* bundle fetches done: each is fetched once while it is in use */
	uint32_t next_handle;
};

/*
 * A reference to the image called name: a ready image of the store, or a
 * new entry fetched now from the bundle.  0 and *out; -EINVAL for a name
 * that is empty or too long, an empty image, or one larger than max_size;
 * -ENOSPC when the store is full; or fetch's error.  err says which,
 * naming the image.
 */
int image_get(struct image_store *s, const char *name, uint64_t max_size, image_fetch_fn fetch,
	      void *ctx, struct image **out, char *err, size_t errlen);

/* Drops a reference; the last one frees a bundle image's slot (uploaded ones stay). */
void image_put(struct image_store *s, struct image *img);

/* Slots in use (ready images and uploads). */
unsigned image_count(const struct image_store *s);

/*
 * Whether name is one an upload may take: 1-63 bytes of [A-Za-z0-9._-],
 * not starting with '.'.  0, or -EINVAL with why in err.
 */
int image_name_check(const char *name, size_t field, char *err, size_t errlen);

/*
 * Starts an upload of size bytes called name for connection owner: checks
 * the name, size (1..max_size), that no image of the store or file of the
 * bundle (fetch) has the name (-EEXIST) and that a slot is free (-ENOSPC),
 * then takes the memory (-ENOMEM).  0 and *handle; on failure nothing
 * changed and err says why.
 */
int image_upload_begin(struct image_store *s, const char *name, uint64_t size, uint64_t max_size,
		       uint32_t owner, image_fetch_fn fetch, void *ctx, const struct image_mem *m,
		       uint32_t *handle, char *err, size_t errlen);

/*
 * The n bytes at offset of owner's upload handle: -ENOENT (no such upload
 * of owner's), -EINVAL (offset is not where the last bytes ended, or they
 * go beyond the size; nothing changes), else 0.
 */
int image_upload_data(struct image_store *s, uint32_t handle, uint32_t owner, uint64_t offset,
		      const void *p, size_t n, char *err, size_t errlen);

/*
 * Ends owner's upload handle: complete, the image becomes ready (0);
 * incomplete, it is discarded and its memory freed (-EINVAL); -ENOENT for
 * no such upload of owner's.
 */
int image_upload_end(struct image_store *s, uint32_t handle, uint32_t owner,
		     const struct image_mem *m, char *err, size_t errlen);

/* Discards owner's unfinished uploads (its connection closed); returns how many. */
unsigned image_upload_abort(struct image_store *s, uint32_t owner, const struct image_mem *m);

/*
 * Deletes the uploaded image name and frees its memory: -EPERM for a file
 * of the bundle (fetch finds it), -ENOENT when there is no such image,
 * -EBUSY while domains use it; nothing changes on failure.
 */
int image_delete(struct image_store *s, const char *name, image_fetch_fn fetch, void *ctx,
		 const struct image_mem *m, char *err, size_t errlen);

/* The ready image name, or NULL (no reference taken). */
const struct image *image_find(const struct image_store *s, const char *name);

#endif
