/* SPDX-License-Identifier: Apache-2.0 */
/* store.c: pvhd's image files on the control domain's disk, written atomically and checked on the way back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store.h"

bool store_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > STORE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int final_path(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, STORE_PATH_MAX, "%s/%s%s", dir, name, STORE_SUFFIX);

	return n < 0 || n >= STORE_PATH_MAX ? -ENAMETOOLONG : 0;
}

/* fsync of the directory: a rename or unlink in it is then on the disk. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		rc = -errno;
	close(fd);
	return rc;
}

int store_check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat sb;

	if (stat(dir, &sb))
		return errorf(-errno, err, errlen, "store %s: %s", dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return errorf(-ENOTDIR, err, errlen, "store %s: not a directory", dir);
	if (access(dir, W_OK | X_OK))
		return errorf(-errno, err, errlen, "store %s: %s", dir, strerror(errno));
	if (strlen(dir) + 1 + STORE_NAME_MAX + 32 >= STORE_PATH_MAX)
		return errorf(-ENAMETOOLONG, err, errlen, "store %s: path too long", dir);
	return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int store_put_begin(struct store_put *p, const char *dir, const char *name, uint64_t size, char *err,
		    size_t errlen)
{
	static const uint8_t zero[STORE_HEAD];
	struct statvfs vfs;
	uint64_t avail;
	int rc;

	p->fd = -1;
	p->tmp[0] = 0;
	if (!store_name_ok(name))
		return errorf(-EINVAL, err, errlen, "store %s: \"%.64s\" is not an image name", dir, name);
	if (!size || size > UINT64_MAX - STORE_HEAD)
		return errorf(-EINVAL, err, errlen, "store %s: %s: size %llu", dir, name, (unsigned long long)size);
	if (statvfs(dir, &vfs))
		return errorf(-errno, err, errlen, "store %s: %s", dir, strerror(errno));
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail < size + STORE_HEAD)
		return errorf(-ENOSPC, err, errlen, "store %s: %s needs %llu bytes, %llu free", dir, name,
			    (unsigned long long)(size + STORE_HEAD), (unsigned long long)avail);
	p->dir = dir;
	strcpy(p->name, name);
	p->size = size;
	p->done = 0;
	sha256_init(&p->sha);
	snprintf(p->tmp, sizeof(p->tmp), "%s/" STORE_TMP_PREFIX "%s-%ld", dir, name, (long)getpid());
	p->fd = open(p->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (p->fd < 0) {
		rc = -errno;
		p->tmp[0] = 0;
		return errorf(rc, err, errlen, "store %s: %s: %s", dir, name, strerror(-rc));
	}
	/* The whole file's blocks now, so that a full disk refuses here rather than midway. */
	rc = posix_fallocate(p->fd, 0, (off_t)(size + STORE_HEAD));
	if (rc && rc != EOPNOTSUPP && rc != EINVAL) {
		store_put_abort(p);
		return errorf(-rc, err, errlen, "store %s: %s: reserving %llu bytes: %s", dir, name,
			    (unsigned long long)(size + STORE_HEAD), strerror(rc));
	}
	rc = write_all(p->fd, zero, sizeof(zero));
	if (rc) {
		store_put_abort(p);
		return errorf(rc, err, errlen, "store %s: %s: %s", dir, name, strerror(-rc));
	}
	return 0;
}

int store_put_write(struct store_put *p, const void *buf, size_t n, char *err, size_t errlen)
{
	int rc;

	if (p->fd < 0)
		return errorf(-EBADF, err, errlen, "store %s: %s: not being written", p->dir, p->name);
	if (n > p->size - p->done)
		return errorf(-EFBIG, err, errlen, "store %s: %s: %zu bytes at %llu go beyond its %llu", p->dir,
			    p->name, n, (unsigned long long)p->done, (unsigned long long)p->size);
	rc = write_all(p->fd, buf, n);
	if (rc)
		return errorf(rc, err, errlen, "store %s: %s: writing at byte %llu: %s", p->dir, p->name,
			    (unsigned long long)p->done, strerror(-rc));
	sha256_update(&p->sha, buf, n);
	p->done += n;
	return 0;
}

int store_put_commit(struct store_put *p, char *err, size_t errlen)
{
	uint8_t head[STORE_HEAD] = { 0 };
	char hex[65], path[STORE_PATH_MAX];
	int rc;

	if (p->fd < 0)
		return errorf(-EBADF, err, errlen, "store %s: %s: not being written", p->dir, p->name);
	if (p->done != p->size) {
		rc = errorf(-EINVAL, err, errlen, "store %s: %s: %llu of %llu bytes written", p->dir, p->name,
			  (unsigned long long)p->done, (unsigned long long)p->size);
		goto abort;
	}
	sha256_hex(&p->sha, hex);
	memcpy(head, STORE_MAGIC, 8);
	for (int k = 0; k < 8; k++)
		head[8 + k] = (uint8_t)(p->size >> (8 * k));
	memcpy(head + 16, hex, 64);
	if (pwrite(p->fd, head, sizeof(head), 0) != (ssize_t)sizeof(head)) {
		rc = errorf(errno ? -errno : -EIO, err, errlen, "store %s: %s: writing its head: %s", p->dir, p->name,
			  strerror(errno ? errno : EIO));
		goto abort;
	}
	if (fsync(p->fd)) {
		rc = errorf(-errno, err, errlen, "store %s: %s: fsync: %s", p->dir, p->name, strerror(errno));
		goto abort;
	}
	if (close(p->fd)) {
		p->fd = -1;
		rc = errorf(-errno, err, errlen, "store %s: %s: close: %s", p->dir, p->name, strerror(errno));
		goto abort;
	}
	p->fd = -1;
	if (final_path(path, p->dir, p->name) || rename(p->tmp, path)) {
		rc = errorf(errno ? -errno : -ENAMETOOLONG, err, errlen, "store %s: %s: rename: %s", p->dir, p->name,
			  strerror(errno ? errno : ENAMETOOLONG));
		goto abort;
	}
	p->tmp[0] = 0;
	rc = sync_dir(p->dir);
	if (rc)
		return errorf(rc, err, errlen, "store %s: %s: fsync of the directory: %s", p->dir, p->name,
			    strerror(-rc));
	return 0;
abort:
	store_put_abort(p);
	return rc;
}

void store_put_abort(struct store_put *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->tmp[0])
		unlink(p->tmp);
	p->tmp[0] = 0;
}

int store_remove(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[STORE_PATH_MAX];
	int rc;

	if (!store_name_ok(name) || final_path(path, dir, name))
		return errorf(-EINVAL, err, errlen, "store %s: \"%.64s\" is not an image name", dir, name);
	if (unlink(path))
		return errorf(-errno, err, errlen, "store %s: %s: %s", dir, name, strerror(errno));
	rc = sync_dir(dir);
	if (rc)
		return errorf(rc, err, errlen, "store %s: %s: fsync of the directory: %s", dir, name, strerror(-rc));
	return 0;
}

static int read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (int)got;
}

int store_get_open(struct store_get *g, const char *dir, const char *name, char *err, size_t errlen)
{
	uint8_t head[STORE_HEAD];
	char path[STORE_PATH_MAX];
	struct stat sb;
	int rc;

	g->fd = -1;
	if (!store_name_ok(name) || final_path(path, dir, name))
		return errorf(-EINVAL, err, errlen, "store %s: \"%.64s\" is not an image name", dir, name);
	strcpy(g->name, name);
	g->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (g->fd < 0)
		return errorf(-errno, err, errlen, "store %s: %s: %s", dir, name, strerror(errno));
	if (fstat(g->fd, &sb) || !S_ISREG(sb.st_mode)) {
		rc = errorf(-EBADMSG, err, errlen, "store %s: %s: not a regular file", dir, name);
		goto close;
	}
	rc = read_full(g->fd, head, sizeof(head));
	if (rc < 0) {
		rc = errorf(rc, err, errlen, "store %s: %s: reading its head: %s", dir, name, strerror(-rc));
		goto close;
	}
	if (rc < (int)sizeof(head) || memcmp(head, STORE_MAGIC, 8)) {
		rc = errorf(-EBADMSG, err, errlen, "store %s: %s: no " STORE_MAGIC " head", dir, name);
		goto close;
	}
	g->size = 0;
	for (int k = 7; k >= 0; k--)
		g->size = g->size << 8 | head[8 + k];
	memcpy(g->want, head + 16, 64);
	g->want[64] = 0;
	if (strspn(g->want, "0123456789abcdef") != 64) {
		rc = errorf(-EBADMSG, err, errlen, "store %s: %s: its checksum is not 64 hex digits", dir, name);
		goto close;
	}
	if (!g->size || (uint64_t)sb.st_size - STORE_HEAD != g->size) {
		rc = errorf(-EBADMSG, err, errlen, "store %s: %s: its head says %llu bytes, the file holds %llu", dir,
			  name, (unsigned long long)g->size, (unsigned long long)(sb.st_size - STORE_HEAD));
		goto close;
	}
	g->done = 0;
	sha256_init(&g->sha);
	return 0;
close:
	store_get_close(g);
	return rc;
}

long store_get_read(struct store_get *g, void *buf, size_t n, char *err, size_t errlen)
{
	int rc;

	if (n > g->size - g->done)
		n = (size_t)(g->size - g->done);
	if (n > (1u << 30))
		n = 1u << 30;
	if (!n)
		return 0;
	rc = read_full(g->fd, buf, n);
	if (rc < 0)
		return errorf(rc, err, errlen, "store: %s: reading at byte %llu: %s", g->name,
			    (unsigned long long)g->done, strerror(-rc));
	if (rc == 0)
		return errorf(-EBADMSG, err, errlen, "store: %s: ends at byte %llu of %llu", g->name,
			    (unsigned long long)g->done, (unsigned long long)g->size);
	sha256_update(&g->sha, buf, (size_t)rc);
	g->done += (uint64_t)rc;
	return rc;
}

int store_get_check(struct store_get *g, char *err, size_t errlen)
{
	char got[65];

	if (g->done != g->size)
		return errorf(-EBADMSG, err, errlen, "store: %s: %llu of %llu bytes read", g->name,
			    (unsigned long long)g->done, (unsigned long long)g->size);
	sha256_hex(&g->sha, got);
	if (strcmp(got, g->want))
		return errorf(-EBADMSG, err, errlen, "store: %s: checksum mismatch: the data hash to %.16s..., its head "
			    "says %.16s...", g->name, got, g->want);
	return 0;
}

void store_get_close(struct store_get *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int store_list(const char *dir, char (**names)[STORE_NAME_MAX + 1], unsigned *count, unsigned *stale, char *err,
	       size_t errlen)
{
	char (*v)[STORE_NAME_MAX + 1] = NULL;
	unsigned n = 0, cap = 0;
	DIR *d = opendir(dir);
	struct dirent *e;

	*stale = 0;
	if (!d)
		return errorf(-errno, err, errlen, "store %s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name), sl = strlen(STORE_SUFFIX);
		struct stat sb;

		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISREG(sb.st_mode))
			continue;
		if (!strncmp(e->d_name, STORE_TMP_PREFIX, strlen(STORE_TMP_PREFIX))) {
			/* A write that never reached its rename: a crash, or a pvhd killed midway. */
			if (!unlinkat(dirfd(d), e->d_name, 0))
				(*stale)++;
			continue;
		}
		if (len <= sl || len - sl > STORE_NAME_MAX || strcmp(e->d_name + len - sl, STORE_SUFFIX))
			continue;
		if (n == cap) {
			void *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				free(v);
				closedir(d);
				return errorf(-ENOMEM, err, errlen, "store %s: no memory for the list", dir);
			}
			v = nv;
		}
		memcpy(v[n], e->d_name, len - sl);
		v[n][len - sl] = 0;
		if (store_name_ok(v[n]))
			n++;
	}
	closedir(d);
	if (*stale)
		sync_dir(dir);
	if (n)
		qsort(v, n, sizeof(*v), by_name);
	*names = v;
	*count = n;
	return 0;
}

/* Appends "sep name" to a list in buf (cut with "..." when it would not fit). */
static void add_name(char *buf, size_t cap, const char *name)
{
	size_t len = strlen(buf);

	if (len + strlen(name) + 6 < cap)
		snprintf(buf + len, cap - len, "%s%s", len ? " " : "", name);
	else if (len + 5 < cap && strcmp(buf + len - 3, "..."))
		snprintf(buf + len, cap - len, " ...");
}

/* One image back into pvhv: 0, -EBADMSG (damaged: never published), or another -errno. */
static int restore_one(const char *dir, const char *name, const struct store_restore_ops *ops, void *ctx,
		       char *err, size_t errlen)
{
	static uint8_t buf[1 << 16];
	struct store_get g;
	int rc = store_get_open(&g, dir, name, err, errlen);

	if (rc)
		return rc;
	rc = ops->begin(ctx, name, g.size, err, errlen);
	if (rc)
		goto close;
	for (;;) {
		long n = store_get_read(&g, buf, sizeof(buf), err, errlen);

		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0) {
			rc = store_get_check(&g, err, errlen);
			break;
		}
		rc = ops->data(ctx, buf, (size_t)n, err, errlen);
		if (rc)
			break;
	}
	if (rc) {
		char ignored[STORE_ERRLEN];

		ops->end(ctx, false, ignored, sizeof(ignored));
	} else {
		rc = ops->end(ctx, true, err, errlen);
	}
close:
	store_get_close(&g);
	return rc;
}

int store_restore(const char *dir, const struct store_restore_ops *ops, void *ctx,
		  void (*report)(void *ctx, const char *line), struct store_restore_result *res, char *err,
		  size_t errlen)
{
	char (*names)[STORE_NAME_MAX + 1];
	char good[900] = "", bad[600] = "", msg[STORE_ERRLEN], line[STORE_ERRLEN + 128];
	unsigned n;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = store_list(dir, &names, &n, &res->stale, err, errlen);
	if (rc)
		return rc;
	for (unsigned k = 0; k < n; k++) {
		if (ops->has(ctx, names[k])) {
			res->present++;
			continue;
		}
		rc = restore_one(dir, names[k], ops, ctx, msg, sizeof(msg));
		if (!rc) {
			res->restored++;
			add_name(good, sizeof(good), names[k]);
			continue;
		}
		if (rc == -EBADMSG)
			res->damaged++;
		else
			res->failed++;
		add_name(bad, sizeof(bad), names[k]);
		snprintf(line, sizeof(line), "pvhd: store %s: image %s %s, not loaded: %s", dir, names[k],
			 rc == -EBADMSG ? "damaged" : "could not be restored", msg);
		report(ctx, line);
	}
	free(names);
	snprintf(res->line, sizeof(res->line),
		 "pvhd: store %s: restored %u image%s%s%s%s, %u already in pvhv, %u damaged and %u failed%s%s%s, "
		 "%u half-written file%s removed", dir, res->restored, res->restored == 1 ? "" : "s",
		 good[0] ? " (" : "", good, good[0] ? ")" : "", res->present, res->damaged, res->failed,
		 bad[0] ? " (skipped: " : "", bad, bad[0] ? ")" : "", res->stale, res->stale == 1 ? "" : "s");
	return 0;
}
