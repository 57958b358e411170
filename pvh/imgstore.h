/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imgstore.h: pvhv's one image store (pvh/images.c) under its lock: the
 * files of the boot bundle and the images uploaded through the management
 * protocol, whose bytes live in pages of the host allocator.  Domains hold
 * references to the images their kernel, initrd and disks name, so an
 * image in use cannot be deleted.
 */
#ifndef PVHV_PVH_IMGSTORE_H
#define PVHV_PVH_IMGSTORE_H

#include "lib/base.h"
#include "pvh/images.h"
#include "pvhv/mgmt.h"

struct domain;

/* A reference to image name (an uploaded image or a bundle file): see image_get(). *loaded: fetched now. */
int imgstore_get(const char *name, uint64_t max_size, struct image **out, bool *loaded,
		 unsigned *users, char *err, size_t errlen);
void imgstore_put(struct image *img);

/*
 * 0 when name is an uploaded image or a bundle file; else -ENOENT with the
 * bundle's message.  When it is an uploaded image, *pin is a reference to
 * it (else NULL), so that it cannot go before the domain that names it is
 * built (bundle files never go): drop it with imgstore_put().
 */
int imgstore_check(const char *name, struct image **pin, char *err, size_t errlen);

/*
 * The domain's kernel and initrd: references taken at its first build
 * (kept over reboots), dom->kernel/initrd pointed at their bytes.  0, or a
 * negative errno with "kernel: ..." or "initrd ..." in err.
 */
int imgstore_hold_boot(struct domain *d, char *err, size_t errlen);
/* Drops them (the domain ended for good). */
void imgstore_release_boot(struct domain *d);

/* The management protocol's image operations (owner: the connection). */
int imgstore_begin(uint32_t owner, const char *name, uint64_t size, uint32_t *handle, char *err,
		   size_t errlen);
int imgstore_data(uint32_t owner, uint32_t handle, uint64_t offset, const uint8_t *p, size_t n,
		  char *err, size_t errlen);
int imgstore_end(uint32_t owner, uint32_t handle, char *err, size_t errlen);
/* The connection owner closed: its unfinished uploads go. */
void imgstore_abort(uint32_t owner);
/* Bundle files, then uploaded images, from index first: see struct mgmt_image_ops.list. */
unsigned imgstore_list(uint32_t first, struct pvhv_mgmt_image *out, unsigned max, uint32_t *total);
int imgstore_delete(const char *name, char *err, size_t errlen);

#endif
