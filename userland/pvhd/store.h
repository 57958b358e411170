/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h: pvhd's image store on the control domain's disk (pvhd --store DIR).
 *
 * Each image is one file DIR/NAME.pvhd: a STORE_HEAD-byte head (the magic
 * "PVHDIMG1", the size as 8 bytes little-endian, the data's SHA-256 as 64
 * lower-case hex digits, 16 zero bytes) and then the image's bytes.  A file is
 * written under a temporary name (".tmp-NAME-PID", never a valid image
 * name: image names do not start with '.'), fsync'd, renamed to its final
 * name and the directory fsync'd, so a final name only ever holds a whole
 * image with its checksum; whatever a crash leaves under a temporary name
 * is removed at the next scan.  Reads check the head against the file's
 * size and the data against the checksum before an image counts as good.
 *
 * Every function returns 0 or a negative errno with a message in err that
 * names the store and the image (e.g. "store /s: web.ext4: ..."); nothing
 * here prints or exits.
 */
#ifndef USERLAND_PVHD_STORE_H
#define USERLAND_PVHD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/sha256.h"

#define STORE_HEAD 96u
#define STORE_MAGIC "PVHDIMG1"
#define STORE_SUFFIX ".pvhd"
#define STORE_TMP_PREFIX ".tmp-"
#define STORE_PATH_MAX 4096
#define STORE_ERRLEN 512
#define STORE_NAME_MAX 63

/* An image being written: from store_put_begin to store_put_commit or store_put_abort. */
struct store_put {
	int fd;
	const char *dir;
	char name[STORE_NAME_MAX + 1];
	char tmp[STORE_PATH_MAX];
	uint64_t size, done;
	struct sha256 sha;
};

/* An image being read back: from store_get_open to store_get_close. */
struct store_get {
	int fd;
	char name[STORE_NAME_MAX + 1];
	uint64_t size, done;
	char want[65];
	struct sha256 sha;
};

/* True for an image name the store keeps: 1..63 bytes of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool store_name_ok(const char *name);

/* DIR is a directory we may write in: 0, or -errno with why. */
int store_check_dir(const char *dir, char *err, size_t errlen);

/*
 * Starts writing image NAME of SIZE bytes (> 0) in DIR (p keeps the dir
 * pointer): -ENOSPC when the file system has not SIZE + STORE_HEAD bytes
 * free (said with both figures), other -errno when the temporary file
 * cannot be made.  Nothing is left behind on failure.
 */
int store_put_begin(struct store_put *p, const char *dir, const char *name, uint64_t size, char *err,
		    size_t errlen);

/* Appends n bytes (at most what is left of SIZE): 0 or -errno (-ENOSPC, -EIO, -EFBIG beyond SIZE). */
int store_put_write(struct store_put *p, const void *buf, size_t n, char *err, size_t errlen);

/*
 * All SIZE bytes written: the head with the checksum, fsync, rename to
 * DIR/NAME.pvhd (replacing an older file of that name), fsync of DIR.
 * On failure the temporary file is removed and nothing changed under the
 * final name.  Either way p is finished.
 */
int store_put_commit(struct store_put *p, char *err, size_t errlen);

/* Gives up: the temporary file goes.  Safe on a finished p. */
void store_put_abort(struct store_put *p);

/* Removes DIR/NAME.pvhd (and syncs DIR): 0, -ENOENT when there is none, or -errno. */
int store_remove(const char *dir, const char *name, char *err, size_t errlen);

/*
 * Opens DIR/NAME.pvhd and checks its head (magic, size against the
 * file's): -EBADMSG with what is wrong for a damaged head, -errno else.
 */
int store_get_open(struct store_get *g, const char *dir, const char *name, char *err, size_t errlen);

/* Reads the next bytes (hashing them): the count, 0 at the end, or -errno. */
long store_get_read(struct store_get *g, void *buf, size_t n, char *err, size_t errlen);

/* After reading it all: 0 when the data match the head's checksum, else -EBADMSG with both digests. */
int store_get_check(struct store_get *g, char *err, size_t errlen);

void store_get_close(struct store_get *g);

/*
 * The images in DIR, sorted by name, into a malloc'd array of
 * STORE_NAME_MAX + 1-byte names (*names, the caller frees it) and their
 * count; temporary files left by an interrupted write are removed
 * (*stale counts them).  Files of other names are left alone.
 */
int store_list(const char *dir, char (**names)[STORE_NAME_MAX + 1], unsigned *count, unsigned *stale, char *err,
	       size_t errlen);

/*
 * What pvhd does at its start, through these callbacks to pvhv: every
 * image in DIR that pvhv lacks is read, checked and uploaded; the upload
 * is published (end with commit) only after the checksum matched, and
 * discarded otherwise, so a damaged file is never loaded.
 */
struct store_restore_ops {
	bool (*has)(void *ctx, const char *name);          /* pvhv has an image of that name */
	int (*begin)(void *ctx, const char *name, uint64_t size, char *err, size_t errlen);
	int (*data)(void *ctx, const void *buf, size_t n, char *err, size_t errlen);
	int (*end)(void *ctx, bool commit, char *err, size_t errlen);   /* commit false: discard */
};

struct store_restore_result {
	unsigned restored, present, damaged, failed, stale;
	char line[2048];   /* the one line that says it all */
};

/*
 * Restores DIR into pvhv; each damaged or failed image gets its own line
 * through report (with its name and why), the summary goes into res->line.
 * -errno only when DIR cannot be listed.
 */
int store_restore(const char *dir, const struct store_restore_ops *ops, void *ctx,
		  void (*report)(void *ctx, const char *line), struct store_restore_result *res, char *err,
		  size_t errlen);

#endif
