/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tar.h: a checked, streaming reader of tar archives (POSIX ustar and pax, GNU long names).
 *
 * Pure: the archive comes through a read callback, nothing is allocated, and
 * every header field is checked before it is used.  What it accepts:
 *   - ustar ("ustar\0" "00") and GNU ("ustar  \0") headers with a correct
 *     checksum (unsigned, or the historic signed sum); other magics are refused;
 *   - numeric fields in octal (NUL/space terminated) or GNU base-256;
 *   - types regular ('0', '\0', '7'), hard link, symlink, char/block device,
 *     directory, FIFO; GNU 'L'/'K' long names; pax 'x' records path,
 *     linkpath, size, uid, gid, mtime (others ignored, GNU.sparse.* refused)
 *     and 'g' records that change none of these;
 *   - paths made relative and normalised: "./" and empty components dropped;
 *     absolute paths, ".." components and control characters are refused.
 * An all-zero block ends the archive.  Errors name the entry (or the header's
 * offset when its name cannot be trusted yet).
 */
#ifndef PVHV_TOOLS_TAR_H
#define PVHV_TOOLS_TAR_H

#include "lib/base.h"

#define TAR_BLOCK 512
#define TAR_PATH_MAX 4096       /* longest path or link target, NUL included */
#define TAR_EXT_MAX 16384       /* longest pax extended header accepted */
#define TAR_SIZE_MAX GIB(1024)  /* largest member accepted */

enum tar_type {
	TAR_REG = 1,
	TAR_HARDLINK,
	TAR_SYMLINK,
	TAR_CHR,
	TAR_BLK,
	TAR_DIR,
	TAR_FIFO,
};

struct tar_entry {
	char path[TAR_PATH_MAX]; /* normalised; "" is the archive's root directory */
	char link[TAR_PATH_MAX]; /* symlink: the target as stored; hard link: normalised path */
	enum tar_type type;
	uint32_t mode;           /* permission bits only (07777) */
	uint32_t uid, gid;
	uint64_t size;           /* of the data; 0 for everything but TAR_REG */
	int64_t mtime;           /* seconds since the epoch */
	uint32_t devmajor, devminor;
};

/*
 * Reads up to len bytes into buf.  Returns how many (fewer than len only at
 * the end of the input), or a negative errno with a message in err.
 */
typedef long (*tar_read_fn)(void *ctx, void *buf, size_t len, char *err, size_t errlen);

struct tar_reader {
	tar_read_fn read;
	void *ctx;
	uint64_t offset;     /* bytes of the archive consumed so far */
	uint64_t data_left;  /* of the current entry's data */
	uint64_t skip_left;  /* padding, or data of a type that carries none for us */
	bool ended;
	char cur[96];        /* the current entry's name, printable, for messages */
	char err[320];
	/* Extension headers waiting for the entry they apply to. */
	bool has_path, has_link, has_size, has_uid, has_gid, has_mtime;
	uint64_t x_size, x_uid, x_gid;
	int64_t x_mtime;
	char x_path[TAR_PATH_MAX], x_link[TAR_PATH_MAX];
	uint8_t ext[TAR_EXT_MAX];
};

/* Starts reading an archive through fn(ctx, ...). */
void tar_init(struct tar_reader *r, tar_read_fn fn, void *ctx);

/*
 * Skips what is left of the previous entry and reads the next one into *e.
 * Returns 1 with *e set, 0 at the end of the archive, or a negative errno
 * with r->err set; after an error the reader must not be used again.
 */
int tar_next(struct tar_reader *r, struct tar_entry *e);

/*
 * Reads up to len bytes of the current entry's data.  Returns how many
 * (0 when it has all been read), or a negative errno with r->err set (for
 * an archive that ends inside the data).
 */
long tar_read(struct tar_reader *r, void *buf, size_t len);

/*
 * Normalises a member path into out (see above): returns 0, or -EINVAL with
 * a message saying what is wrong.  Shared with the manifest readers.
 */
int tar_normalize(const char *in, size_t inlen, char *out, size_t outlen, char *err, size_t errlen);

#endif
