/* SPDX-License-Identifier: Apache-2.0 */
/* store_test.c: unit tests for userland/pvhd/store.c: atomic writes, checksums, damaged files, a full disk, restore. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "userland/pvhd/store.h"

static char dir[64];
static char err[STORE_ERRLEN];

static void setup(void)
{
	strcpy(dir, "/tmp/store-test-XXXXXX");
	cr_assert(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	umount2(dir, MNT_DETACH);   /* a tiny_fs test that failed before its own umount */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(store, .init = setup, .fini = teardown);

/* The names in dir, sorted, space-separated (hidden ones too). */
static const char *entries(void)
{
	static char out[1024];
	struct dirent **v;
	int n = scandir(dir, &v, NULL, alphasort);

	out[0] = 0;
	cr_assert(n >= 0);
	for (int k = 0; k < n; k++) {
		if (strcmp(v[k]->d_name, ".") && strcmp(v[k]->d_name, ".."))
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", out[0] ? " " : "", v[k]->d_name);
		free(v[k]);
	}
	free(v);
	return out;
}

static void put(const char *name, const void *data, size_t len)
{
	struct store_put p;

	cr_assert_eq(store_put_begin(&p, dir, name, len, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_put_write(&p, data, len, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_put_commit(&p, err, sizeof(err)), 0, "%s", err);
}

/* The whole image NAME read back and checked: its check's rc; the data into out. */
static int get(const char *name, char *out, size_t cap, size_t *len)
{
	struct store_get g;
	int rc = store_get_open(&g, dir, name, err, sizeof(err));
	long n;

	*len = 0;
	if (rc)
		return rc;
	while ((n = store_get_read(&g, out + *len, cap - *len, err, sizeof(err))) > 0)
		*len += (size_t)n;
	rc = n < 0 ? (int)n : store_get_check(&g, err, sizeof(err));
	store_get_close(&g);
	return rc;
}

/* Flips one byte of dir/FILE at offset off. */
static void flip(const char *file, long off)
{
	char path[256];
	unsigned char c;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_RDWR);
	cr_assert(fd >= 0);
	cr_assert_eq(pread(fd, &c, 1, off), 1);
	c ^= 0x20;
	cr_assert_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

Test(store, written_read_back_with_head)
{
	char buf[64], path[256];
	size_t len;
	struct store_put p;
	FILE *f;
	char head[STORE_HEAD];

	cr_assert_eq(store_put_begin(&p, dir, "web.ext4", 11, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_put_write(&p, "hello ", 6, err, sizeof(err)), 0);
	cr_assert_eq(store_put_write(&p, "world", 5, err, sizeof(err)), 0);
	cr_assert_eq(store_put_commit(&p, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(entries(), "web.ext4.pvhd");
	cr_assert_eq(get("web.ext4", buf, sizeof(buf), &len), 0, "%s", err);
	cr_assert_eq(len, 11);
	cr_assert(!memcmp(buf, "hello world", 11));
	snprintf(path, sizeof(path), "%s/web.ext4.pvhd", dir);
	f = fopen(path, "rb");
	cr_assert(f);
	cr_assert_eq(fread(head, 1, sizeof(head), f), sizeof(head));
	fclose(f);
	cr_assert(!memcmp(head, "PVHDIMG1\x0b\0\0\0\0\0\0\0", 16));
	/* sha256("hello world") */
	cr_assert(!memcmp(head + 16, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9", 64));
}

Test(store, no_final_name_before_commit_and_nothing_after_abort)
{
	struct store_put p;
	char want[128];

	cr_assert_eq(store_put_begin(&p, dir, "a.img", 8, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_put_write(&p, "1234", 4, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), ".tmp-a.img-%ld", (long)getpid());
	cr_assert_str_eq(entries(), want);
	store_put_abort(&p);
	cr_assert_str_eq(entries(), "");
}

Test(store, commit_of_a_short_image_refused_and_removed)
{
	struct store_put p;

	cr_assert_eq(store_put_begin(&p, dir, "a.img", 8, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_put_write(&p, "1234", 4, err, sizeof(err)), 0);
	cr_assert_eq(store_put_commit(&p, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "a.img: 4 of 8 bytes written"), "%s", err);
	cr_assert_str_eq(entries(), "");
	cr_assert_eq(store_put_write(&p, "5678", 4, err, sizeof(err)), -EBADF);
}

Test(store, write_beyond_size_refused)
{
	struct store_put p;

	cr_assert_eq(store_put_begin(&p, dir, "a.img", 4, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_put_write(&p, "12345", 5, err, sizeof(err)), -EFBIG);
	store_put_abort(&p);
}

Test(store, old_image_stays_until_the_new_one_is_committed)
{
	struct store_put p;
	char buf[16];
	size_t len;

	put("a.img", "old", 3);
	cr_assert_eq(store_put_begin(&p, dir, "a.img", 3, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_put_write(&p, "new", 3, err, sizeof(err)), 0);
	cr_assert_eq(get("a.img", buf, sizeof(buf), &len), 0, "%s", err);
	cr_assert(!memcmp(buf, "old", 3));
	cr_assert_eq(store_put_commit(&p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(get("a.img", buf, sizeof(buf), &len), 0, "%s", err);
	cr_assert(!memcmp(buf, "new", 3));
	cr_assert_str_eq(entries(), "a.img.pvhd");
}

Test(store, bad_names_refused)
{
	struct store_put p;

	cr_assert_eq(store_put_begin(&p, dir, ".hidden", 3, err, sizeof(err)), -EINVAL);
	cr_assert_eq(store_put_begin(&p, dir, "a/b", 3, err, sizeof(err)), -EINVAL);
	cr_assert_eq(store_put_begin(&p, dir, "", 3, err, sizeof(err)), -EINVAL);
	cr_assert_eq(store_put_begin(&p, dir, "a", 0, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(entries(), "");
}

Test(store, flipped_data_byte_is_a_checksum_mismatch)
{
	char buf[16];
	size_t len;

	put("a.img", "0123456789", 10);
	flip("a.img.pvhd", STORE_HEAD + 4);
	cr_assert_eq(get("a.img", buf, sizeof(buf), &len), -EBADMSG);
	cr_assert(strstr(err, "a.img: checksum mismatch"), "%s", err);
}

Test(store, damaged_heads_refused_with_why)
{
	char buf[16], path[256];
	size_t len;

	put("a.img", "0123456789", 10);
	flip("a.img.pvhd", 0);
	cr_assert_eq(get("a.img", buf, sizeof(buf), &len), -EBADMSG);
	cr_assert(strstr(err, "a.img: no PVHDIMG1 head"), "%s", err);

	put("b.img", "0123456789", 10);
	snprintf(path, sizeof(path), "%s/b.img.pvhd", dir);
	cr_assert_eq(truncate(path, STORE_HEAD + 7), 0);
	cr_assert_eq(get("b.img", buf, sizeof(buf), &len), -EBADMSG);
	cr_assert(strstr(err, "b.img: its head says 10 bytes, the file holds 7"), "%s", err);

	put("c.img", "0123456789", 10);
	flip("c.img.pvhd", 20);   /* a hex digit of the checksum becomes upper case or punctuation */
	cr_assert_eq(get("c.img", buf, sizeof(buf), &len), -EBADMSG);

	cr_assert_eq(get("none.img", buf, sizeof(buf), &len), -ENOENT);
}

Test(store, list_sorted_and_half_written_files_removed)
{
	char (*names)[STORE_NAME_MAX + 1];
	char path[256];
	unsigned n, stale;
	FILE *f;

	put("zz.img", "z", 1);
	put("aa.img", "a", 1);
	snprintf(path, sizeof(path), "%s/.tmp-mid.img-4242", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fputs("half", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	f = fopen(path, "w");
	cr_assert(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/lost+found", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_eq(store_list(dir, &names, &n, &stale, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 2);
	cr_assert_eq(stale, 1);
	cr_assert_str_eq(names[0], "aa.img");
	cr_assert_str_eq(names[1], "zz.img");
	free(names);
	cr_assert_str_eq(entries(), "aa.img.pvhd lost+found notes.txt zz.img.pvhd");
}

Test(store, remove)
{
	put("a.img", "a", 1);
	cr_assert_eq(store_remove(dir, "a.img", err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(entries(), "");
	cr_assert_eq(store_remove(dir, "a.img", err, sizeof(err)), -ENOENT);
}

/* A tiny tmpfs in a mount namespace of this test's own (Criterion forks each test). */
static void tiny_fs(const char *size)
{
	char opt[32];

	cr_assert_eq(geteuid(), 0, "this test mounts a tmpfs: run the unit tests as root");
	cr_assert_eq(unshare(CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	snprintf(opt, sizeof(opt), "size=%s", size);
	cr_assert_eq(mount("tmpfs", dir, "tmpfs", 0, opt), 0, "mount: %s", strerror(errno));
}

Test(store, full_disk_refused_before_anything_is_written)
{
	struct store_put p;

	tiny_fs("64k");
	cr_assert_eq(store_put_begin(&p, dir, "big.img", 1 << 20, err, sizeof(err)), -ENOSPC);
	cr_assert(strstr(err, "big.img needs 1048672 bytes, 65536 free"), "%s", err);
	cr_assert_str_eq(entries(), "");
	/* What fits is taken. */
	put("small.img", "s", 1);
	cr_assert_str_eq(entries(), "small.img.pvhd");
	umount2(dir, MNT_DETACH);
}

Test(store, a_reservation_counts_against_the_next_upload)
{
	struct store_put p1, p2;

	tiny_fs("64k");
	/* Each fits alone, not both: the first one's blocks are reserved at its begin, so the second is refused. */
	cr_assert_eq(store_put_begin(&p1, dir, "a.img", 40000, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(store_put_begin(&p2, dir, "b.img", 20000, err, sizeof(err)), 0, "%s", err);
	store_put_abort(&p2);
	cr_assert_neq(store_put_begin(&p2, dir, "b.img", 30000, err, sizeof(err)), 0);
	cr_assert(strstr(err, "b.img"), "%s", err);
	store_put_abort(&p1);
	cr_assert_str_eq(entries(), "");
	umount2(dir, MNT_DETACH);
}

/* ------------------------------------------------------------ restore through fake pvhv callbacks */

struct fake {
	const char *have[4];
	char cur[64];
	char got[4][64];      /* images published, in order */
	char data[4][64];
	size_t len[4];
	unsigned published, discarded, begun;
	char buf[64];
	size_t blen;
	char lines[4][STORE_ERRLEN + 128];
	unsigned nlines;
};

static bool f_has(void *ctx, const char *name)
{
	struct fake *f = ctx;

	for (unsigned k = 0; k < 4 && f->have[k]; k++)
		if (!strcmp(f->have[k], name))
			return true;
	return false;
}

static int f_begin(void *ctx, const char *name, uint64_t size, char *e, size_t el)
{
	struct fake *f = ctx;

	(void)e, (void)el, (void)size;
	snprintf(f->cur, sizeof(f->cur), "%s", name);
	f->blen = 0;
	f->begun++;
	return 0;
}

static int f_data(void *ctx, const void *b, size_t n, char *e, size_t el)
{
	struct fake *f = ctx;

	(void)e, (void)el;
	cr_assert(f->blen + n <= sizeof(f->buf));
	memcpy(f->buf + f->blen, b, n);
	f->blen += n;
	return 0;
}

static int f_end(void *ctx, bool commit, char *e, size_t el)
{
	struct fake *f = ctx;

	(void)e, (void)el;
	if (!commit) {
		f->discarded++;
		return 0;
	}
	cr_assert(f->published < 4);
	strcpy(f->got[f->published], f->cur);
	memcpy(f->data[f->published], f->buf, f->blen);
	f->len[f->published++] = f->blen;
	return 0;
}

static void f_report(void *ctx, const char *line)
{
	struct fake *f = ctx;

	cr_assert(f->nlines < 4);
	snprintf(f->lines[f->nlines++], sizeof(f->lines[0]), "%s", line);
}

Test(store, restore_good_skip_present_and_damaged)
{
	static const struct store_restore_ops ops = { f_has, f_begin, f_data, f_end };
	struct store_restore_result res;
	struct fake f = { .have = { "kept.img" } };
	char path[256];
	FILE *tmp;

	put("good.img", "good-data", 9);
	put("kept.img", "kept", 4);
	put("bad.img", "bad-data!", 9);
	flip("bad.img.pvhd", STORE_HEAD + 2);
	snprintf(path, sizeof(path), "%s/.tmp-half.img-1", dir);
	tmp = fopen(path, "w");
	cr_assert(tmp);
	fclose(tmp);
	cr_assert_eq(store_restore(dir, &ops, &f, f_report, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(f.published, 1);
	cr_assert_str_eq(f.got[0], "good.img");
	cr_assert_eq(f.len[0], 9);
	cr_assert(!memcmp(f.data[0], "good-data", 9));
	/* bad.img was streamed, then discarded at its checksum: never published. */
	cr_assert_eq(f.begun, 2);
	cr_assert_eq(f.discarded, 1);
	cr_assert_eq(res.restored, 1);
	cr_assert_eq(res.present, 1);
	cr_assert_eq(res.damaged, 1);
	cr_assert_eq(res.stale, 1);
	cr_assert_eq(f.nlines, 1);
	cr_assert(strstr(f.lines[0], "image bad.img damaged, not loaded: store: bad.img: checksum mismatch"), "%s",
		  f.lines[0]);
	cr_assert(strstr(res.line, "restored 1 image (good.img), 1 already in pvhv, 1 damaged and 0 failed "
			 "(skipped: bad.img), 1 half-written file removed"), "%s", res.line);
	/* The damaged file stays for a person to look at. */
	cr_assert_str_eq(entries(), "bad.img.pvhd good.img.pvhd kept.img.pvhd");
}

Test(store, restore_of_a_bad_head_never_begins_an_upload)
{
	static const struct store_restore_ops ops = { f_has, f_begin, f_data, f_end };
	struct store_restore_result res;
	struct fake f = { 0 };

	put("bad.img", "bad-data!", 9);
	flip("bad.img.pvhd", 3);
	cr_assert_eq(store_restore(dir, &ops, &f, f_report, &res, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(f.begun, 0);
	cr_assert_eq(res.damaged, 1);
	cr_assert(strstr(f.lines[0], "image bad.img damaged, not loaded: store "), "%s", f.lines[0]);
	cr_assert(strstr(res.line, "restored 0 images, 0 already in pvhv, 1 damaged and 0 failed (skipped: bad.img), "
			 "0 half-written files removed"), "%s", res.line);
}
