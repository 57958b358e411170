/* SPDX-License-Identifier: Apache-2.0 */
/*
 * images.h: the image store: disk images held once in pvhv's memory,
 * read-only, shared by every domain whose disks name them, and counted by
 * reference so an image no domain uses any more can go (the control plane
 * will add images at run time; today they come from the boot bundle).
 *
 * Pure: includes only lib/base.h.  The caller serializes calls (one lock).
 */
#ifndef PVHV_PVH_IMAGES_H
#define PVHV_PVH_IMAGES_H

#include "lib/base.h"

#define IMAGES_MAX 64
#define IMAGE_NAME_MAX 64   /* including NUL */

struct image {
	char name[IMAGE_NAME_MAX];
	const uint8_t *data;   /* read-only for everyone: disks see it through an overlay */
	uint64_t size;
	unsigned refs;         /* disks using it; 0: the slot is free */
};

/*
 * Where images come from: fetch finds the named file and returns 0 with
 * its bytes, or a negative errno with a message in err.
 */
typedef int (*image_fetch_fn)(void *ctx, const char *name, const void **data, size_t *size,
			      char *err, size_t errlen);

struct image_store {
	struct image img[IMAGES_MAX];
	unsigned loads;        /* fetches done: each image is fetched once while it is in use */
};

/*
 * A reference to the image called name: the one in the store, or a new
 * entry fetched now.  0 and *out; -EINVAL for a name that is empty or too
 * long, an empty image, or one larger than max_size; -ENOSPC when the
 * store is full; or fetch's error.  err says which, naming the image.
 */
int image_get(struct image_store *s, const char *name, uint64_t max_size, image_fetch_fn fetch,
	      void *ctx, struct image **out, char *err, size_t errlen);

/* Drops a reference; the last one frees the slot. */
void image_put(struct image_store *s, struct image *img);

/* Images in use. */
unsigned image_count(const struct image_store *s);

#endif
