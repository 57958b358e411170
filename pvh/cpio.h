/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cpio.h: read "newc" (SVR4, magic "070701") cpio archives in place.
 *
 * Pure and zero-copy: returned names and data point into the archive.
 * The archive is untrusted; every field is checked against its length.
 */
#ifndef PVHV_PVH_CPIO_H
#define PVHV_PVH_CPIO_H

#include "lib/base.h"

#define CPIO_MODE_TYPE 0170000u
#define CPIO_MODE_DIR 0040000u
#define CPIO_MODE_REG 0100000u

struct cpio_file {
	const char *name;   /* NUL-terminated, inside the archive */
	size_t namelen;     /* without NUL */
	const void *data;   /* inside the archive */
	size_t size;
	uint32_t mode;
};

/*
 * Read the entry at *off (start with *off = 0).  Returns 1 with *out set
 * and *off advanced to the next entry (directories and other types
 * included; filter by mode), 0 when the "TRAILER!!!" entry is reached, or
 * -EINVAL with a message naming the offset when the archive is malformed
 * (including running out of data before the trailer).
 */
int cpio_next(const void *ar, size_t len, size_t *off, struct cpio_file *out,
	      char *err, size_t errlen);

/*
 * Find the regular file called name; a leading "./" on either side is
 * ignored.  Returns 0 with *out set, -ENOENT ("no file \"name\" in bundle")
 * when the trailer is reached first, or the -EINVAL from cpio_next().
 */
int cpio_find(const void *ar, size_t len, const char *name,
	      struct cpio_file *out, char *err, size_t errlen);

#endif
