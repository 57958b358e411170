/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkimage.h: pvhv-mkimage's staging tree, shared by its sources (directory, docker save, OCI).
 *
 * Entries (struct tar_entry, whatever their source) are applied in order to a
 * staging directory that holds only names, contents, symlinks and hard links;
 * modes, owners, times and device numbers live in a table beside it, so that
 * a user without CAP_CHOWN gets them right: Debian's mke2fs -d makes the
 * image from the directory, then debugfs sets each inode's fields from the
 * table.  Nothing is ever written through a symlink of the tree.
 */
#ifndef PVHV_TOOLS_MKIMAGE_H
#define PVHV_TOOLS_MKIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/tar.h"

struct meta;

struct stage {
	int rootfd;        /* the staging directory */
	char *dir;
	unsigned layer;    /* the layer being applied: whiteouts hide only lower ones */
	struct meta *tab;  /* open addressing, keyed by path ("" is the root) */
	size_t cap, used;  /* slots, and slots taken (tombstones included) */
};

/* Reads a regular entry's data: as tar_read_fn, for stage_apply(). */
typedef long (*stage_read_fn)(void *ctx, void *buf, size_t len, char *err, size_t errlen);

/* Creates the staging directory dir (must not exist).  0, or -errno with a message. */
int stage_init(struct stage *st, const char *dir, char *err, size_t errlen);

/*
 * Applies one entry of the current layer: ".wh.NAME" deletes NAME of lower
 * layers, ".wh..wh..opq" hides everything lower in its directory, anything
 * else replaces what is at its path (a directory over a directory only
 * updates its fields).  Refuses a path or hard-link target that goes through
 * a symlink or a non-directory, with a message naming the entry.
 */
int stage_apply(struct stage *st, const struct tar_entry *e, stage_read_fn fn, void *ctx,
		char *err, size_t errlen);

/*
 * Installs the file at agent as /sbin/init (mode 0755, root), following
 * symlinks of /sbin inside the tree, and makes sure /dev, /proc, /sys and
 * /tmp exist for the initramfs's switch_root and the agent's mounts.
 */
int stage_add_agent(struct stage *st, const char *agent, char *err, size_t errlen);

/*
 * Makes the ext4 image out (through out.tmp, renamed at the end) of size_mib
 * MiB, or of an estimate when 0.  Runs mke2fs and debugfs.
 */
int stage_make_image(struct stage *st, const char *out, uint64_t size_mib, char *err, size_t errlen);

/* Number of entries in the tree (root included). */
size_t stage_count(const struct stage *st);

/* Removes the staging directory and frees the table. */
void stage_free(struct stage *st);

#endif
