/* SPDX-License-Identifier: Apache-2.0 */
/* mkimage_stage.c: pvhv-mkimage's staging tree, metadata table, and mke2fs/debugfs steps. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/mkimage.h"

#define TOMB ((char *)1)

/* What the image's inode gets; the staging file has only the name and contents. */
struct meta {
	char *path;        /* NULL: free slot; TOMB: deleted */
	uint32_t mode;     /* S_IFMT bits and permissions */
	uint32_t uid, gid;
	int64_t mtime;
	uint32_t major, minor;
	uint64_t size;
	unsigned layer;    /* the last layer that wrote it or something below it */
};


/* ---------------------------------------------------------------- the table */

static size_t hash(const char *s)
{
	size_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct meta *lookup(const struct stage *st, const char *path)
{
	if (!st->cap)
		return NULL;
	for (size_t i = hash(path) & (st->cap - 1);; i = (i + 1) & (st->cap - 1)) {
		struct meta *m = &st->tab[i];

		if (!m->path)
			return NULL;
		if (m->path != TOMB && !strcmp(m->path, path))
			return m;
	}
}

static int grow(struct stage *st)
{
	struct meta *old = st->tab;
	size_t oldcap = st->cap;

	st->cap = oldcap ? oldcap * 2 : 1024;
	st->tab = calloc(st->cap, sizeof(*st->tab));
	if (!st->tab)
		return -ENOMEM;
	st->used = 0;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].path || old[i].path == TOMB)
			continue;
		size_t j = hash(old[i].path) & (st->cap - 1);
		while (st->tab[j].path)
			j = (j + 1) & (st->cap - 1);
		st->tab[j] = old[i];
		st->used++;
	}
	free(old);
	return 0;
}

/* The entry for path, added (zeroed) when missing; NULL when out of memory. */
static struct meta *insert(struct stage *st, const char *path)
{
	struct meta *m = lookup(st, path);

	if (m)
		return m;
	if ((st->used + 1) * 10 >= st->cap * 7 && grow(st))
		return NULL;
	size_t i = hash(path) & (st->cap - 1);
	while (st->tab[i].path && st->tab[i].path != TOMB)
		i = (i + 1) & (st->cap - 1);
	if (!st->tab[i].path)
		st->used++;
	st->tab[i] = (struct meta){ .path = strdup(path) };
	return st->tab[i].path ? &st->tab[i] : NULL;
}

static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (!n)
		return path[0] != 0;
	return !strncmp(path, dir, n) && path[n] == '/';
}

/* Forgets path and everything below it. */
static void forget(struct stage *st, const char *path)
{
	for (size_t i = 0; i < st->cap; i++) {
		struct meta *m = &st->tab[i];

		if (m->path && m->path != TOMB && (!strcmp(m->path, path) || under(m->path, path))) {
			free(m->path);
			m->path = TOMB;
		}
	}
}

size_t stage_count(const struct stage *st)
{
	size_t n = 0;

	for (size_t i = 0; i < st->cap; i++)
		n += st->tab[i].path && st->tab[i].path != TOMB;
	return n;
}

/* ---------------------------------------------------------------- the directory */

/* Removes name in dirfd, recursively; a missing name is fine. */
static int rm_rf(int dirfd, const char *name)
{
	struct stat sb;

	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(sb.st_mode))
		return unlinkat(dirfd, name, 0) ? -errno : 0;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = rm_rf(fd, de->d_name);
	closedir(d);
	if (!rc && unlinkat(dirfd, name, AT_REMOVEDIR))
		rc = -errno;
	return rc;
}

/*
 * Opens the directory that holds path (last component returned in *base).
 * Every component must be a real directory of the tree; with create, missing
 * ones are made (root-owned 0755 in the table) and all are marked as touched
 * by the current layer.  Returns the fd, or -errno with a message.
 */
static int open_parent(struct stage *st, const char *path, bool create, const char **base,
		       char *err, size_t errlen)
{
	char sofar[TAR_PATH_MAX];
	const char *p = path, *slash;
	int fd = dup(st->rootfd);

	if (fd < 0)
		return errorf(-errno, err, errlen, "%s: %s", path, strerror(errno));
	if (create)
		lookup(st, "")->layer = st->layer;
	while ((slash = strchr(p, '/'))) {
		size_t n = (size_t)(slash - path);
		char comp[256];
		struct stat sb;

		memcpy(sofar, path, n);
		sofar[n] = 0;
		if ((size_t)(slash - p) >= sizeof(comp)) {
			close(fd);
			return errorf(-ENAMETOOLONG, err, errlen, "%s: component too long", path);
		}
		memcpy(comp, p, (size_t)(slash - p));
		comp[slash - p] = 0;
		if (fstatat(fd, comp, &sb, AT_SYMLINK_NOFOLLOW)) {
			if (errno != ENOENT || !create) {
				int e = errno;
				close(fd);
				return errorf(-e, err, errlen, "%s: \"%s\": %s", path, sofar, strerror(e));
			}
			struct meta *m = insert(st, sofar);
			if (!m || mkdirat(fd, comp, 0700)) {
				close(fd);
				return errorf(-ENOMEM, err, errlen, "%s: cannot make \"%s\"", path, sofar);
			}
			m->mode = S_IFDIR | 0755;
		} else if (S_ISLNK(sb.st_mode)) {
			close(fd);
			return errorf(-ELOOP, err, errlen,
				    "%s: \"%s\" is a symlink; refusing to write through it", path, sofar);
		} else if (!S_ISDIR(sb.st_mode)) {
			close(fd);
			return errorf(-ENOTDIR, err, errlen, "%s: \"%s\" is not a directory", path, sofar);
		}
		if (create) {
			struct meta *m = lookup(st, sofar);
			if (m)
				m->layer = st->layer;
		}
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		close(fd);
		if (next < 0)
			return errorf(-errno, err, errlen, "%s: \"%s\": %s", path, sofar, strerror(errno));
		fd = next;
		p = slash + 1;
	}
	*base = p;
	return fd;
}

int stage_init(struct stage *st, const char *dir, char *err, size_t errlen)
{
	memset(st, 0, sizeof(*st));
	st->rootfd = -1;
	if (mkdir(dir, 0700))
		return errorf(-errno, err, errlen, "staging directory %s: %s", dir, strerror(errno));
	st->dir = strdup(dir);
	st->rootfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct meta *m = st->dir && st->rootfd >= 0 ? insert(st, "") : NULL;
	if (!m)
		return errorf(-ENOMEM, err, errlen, "staging directory %s: cannot open", dir);
	m->mode = S_IFDIR | 0755;
	return 0;
}

void stage_free(struct stage *st)
{
	if (st->rootfd >= 0)
		close(st->rootfd);
	if (st->dir)
		rm_rf(AT_FDCWD, st->dir);
	for (size_t i = 0; i < st->cap; i++)
		if (st->tab[i].path && st->tab[i].path != TOMB)
			free(st->tab[i].path);
	free(st->tab);
	free(st->dir);
	memset(st, 0, sizeof(*st));
	st->rootfd = -1;
}

/* ".wh.NAME": NAME of a lower layer goes. */
static int whiteout(struct stage *st, const char *path, char *err, size_t errlen)
{
	struct meta *m = lookup(st, path);
	const char *base;

	if (!m || m->layer == st->layer)
		return 0; /* nothing below to hide */
	int fd = open_parent(st, path, false, &base, err, errlen);
	if (fd < 0)
		return fd;
	int rc = rm_rf(fd, base);
	close(fd);
	if (rc)
		return errorf(rc, err, errlen, "whiteout of %s: %s", path, strerror(-rc));
	forget(st, path);
	return 0;
}

/* ".wh..wh..opq" in dir: everything lower inside dir goes. */
static int opaque(struct stage *st, const char *dir, char *err, size_t errlen)
{
	for (size_t i = 0; i < st->cap; i++) {
		struct meta *m = &st->tab[i];

		if (m->path && m->path != TOMB && m->layer != st->layer && under(m->path, dir)) {
			char path[TAR_PATH_MAX];

			snprintf(path, sizeof(path), "%s", m->path);
			int rc = whiteout(st, path, err, errlen);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int copy_data(int fd, const struct tar_entry *e, stage_read_fn fn, void *ctx, char *err,
		     size_t errlen)
{
	static char buf[1 << 16];
	uint64_t left = e->size;

	while (left) {
		long n = fn(ctx, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf), err, errlen);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return errorf(-EIO, err, errlen, "%s: data ends %llu bytes early", e->path,
				    (unsigned long long)left);
		for (long off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0)
				return errorf(-errno, err, errlen, "%s: staging write: %s", e->path, strerror(errno));
			off += w;
		}
		left -= (uint64_t)n;
	}
	return 0;
}

static const uint32_t type_bits[] = {
	[TAR_REG] = S_IFREG, [TAR_HARDLINK] = S_IFREG, [TAR_SYMLINK] = S_IFLNK, [TAR_CHR] = S_IFCHR,
	[TAR_BLK] = S_IFBLK, [TAR_DIR] = S_IFDIR, [TAR_FIFO] = S_IFIFO,
};

/* Makes the staging object for e at (fd, base); fills *m for everything but hard links. */
static int create(struct stage *st, int fd, const char *base, const struct tar_entry *e,
		  stage_read_fn fn, void *ctx, struct meta *m, char *err, size_t errlen)
{
	int rc = 0, f;

	switch (e->type) {
	case TAR_DIR:
		rc = mkdirat(fd, base, 0700);
		break;
	case TAR_SYMLINK:
		rc = symlinkat(e->link, fd, base);
		break;
	case TAR_FIFO:
		rc = mkfifoat(fd, base, 0600);
		break;
	case TAR_HARDLINK: {
		const char *tbase;
		struct meta *t = lookup(st, e->link);
		struct stat sb;
		char msg[TAR_PATH_MAX + 128];
		int tfd = open_parent(st, e->link, false, &tbase, msg, sizeof(msg));

		if (tfd < 0)
			return errorf(tfd, err, errlen, "%s: hard link target: %s", e->path, msg);
		if (!t || fstatat(tfd, tbase, &sb, AT_SYMLINK_NOFOLLOW) || S_ISDIR(sb.st_mode)) {
			close(tfd);
			return errorf(-ENOENT, err, errlen, "%s: hard link target %s is missing or a directory",
				    e->path, e->link);
		}
		rc = linkat(tfd, tbase, fd, base, 0);
		close(tfd);
		if (!rc) {
			unsigned layer = m->layer;
			char *path = m->path;
			*m = *t;
			m->path = path;
			m->layer = layer;
			return 0;
		}
		break;
	}
	default: /* regular, and device nodes (an empty file now, mknod by debugfs later) */
		f = openat(fd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
		if (f < 0) {
			rc = -1;
			break;
		}
		rc = e->type == TAR_REG ? copy_data(f, e, fn, ctx, err, errlen) : 0;
		if (close(f) && !rc)
			rc = errorf(-errno, err, errlen, "%s: staging close: %s", e->path, strerror(errno));
		if (rc)
			return rc;
	}
	if (rc)
		return errorf(-errno, err, errlen, "%s: staging: %s", e->path, strerror(errno));
	m->mode = type_bits[e->type] | (e->type == TAR_SYMLINK ? 0777 : e->mode);
	m->uid = e->uid;
	m->gid = e->gid;
	m->mtime = e->mtime;
	m->major = e->devmajor;
	m->minor = e->devminor;
	m->size = e->size;
	return 0;
}

/* A relative path of plain names: the readers normalise, this guards the tree whatever they do. */
static bool path_ok(const char *p)
{
	if (p[0] == '/')
		return false;
	for (const char *c = p; *c;) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		if (*c && !*++c)
			return false; /* trailing slash */
	}
	return true;
}

int stage_apply(struct stage *st, const struct tar_entry *e, stage_read_fn fn, void *ctx,
		char *err, size_t errlen)
{
	const char *base;
	struct stat sb;
	struct meta *m;
	int fd, rc;

	if (!path_ok(e->path) || (e->type == TAR_HARDLINK && (!e->link[0] || !path_ok(e->link))))
		return errorf(-EINVAL, err, errlen, "%s: not a plain relative path", e->path);
	if (!e->path[0]) {
		m = lookup(st, "");
		*m = (struct meta){ .path = m->path, .mode = S_IFDIR | e->mode, .uid = e->uid,
				    .gid = e->gid, .mtime = e->mtime, .layer = st->layer };
		return 0;
	}
	base = strrchr(e->path, '/');
	base = base ? base + 1 : e->path;
	if (!strncmp(base, ".wh.", 4)) {
		/* A whiteout makes nothing, not even its directory. */
		char parent[TAR_PATH_MAX], target[TAR_PATH_MAX];
		size_t plen = (size_t)(base - e->path);

		memcpy(parent, e->path, plen ? plen - 1 : 0);
		parent[plen ? plen - 1 : 0] = 0;
		if (!strcmp(base, ".wh..wh..opq"))
			return opaque(st, parent, err, errlen);
		if (!strncmp(base, ".wh..wh.", 8))
			return 0; /* aufs bookkeeping (.wh..wh.plnk and the like): not content */
		if (!base[4])
			return errorf(-EINVAL, err, errlen, "%s: whiteout without a name", e->path);
		if (snprintf(target, sizeof(target), "%s%s%s", parent, plen ? "/" : "", base + 4) >=
		    (int)sizeof(target))
			return errorf(-ENAMETOOLONG, err, errlen, "%s: path too long", e->path);
		return whiteout(st, target, err, errlen);
	}
	fd = open_parent(st, e->path, true, &base, err, errlen);
	if (fd < 0)
		return fd;
	if (!fstatat(fd, base, &sb, AT_SYMLINK_NOFOLLOW)) {
		m = lookup(st, e->path);
		if (S_ISDIR(sb.st_mode) && e->type == TAR_DIR && m) {
			close(fd);
			*m = (struct meta){ .path = m->path, .mode = S_IFDIR | e->mode, .uid = e->uid,
					    .gid = e->gid, .mtime = e->mtime, .layer = st->layer };
			return 0;
		}
		rc = rm_rf(fd, base);
		if (rc) {
			close(fd);
			return errorf(rc, err, errlen, "%s: replacing: %s", e->path, strerror(-rc));
		}
		forget(st, e->path);
	}
	m = insert(st, e->path);
	if (!m) {
		close(fd);
		return errorf(-ENOMEM, err, errlen, "%s: out of memory", e->path);
	}
	m->layer = st->layer;
	rc = create(st, fd, base, e, fn, ctx, m, err, errlen);
	close(fd);
	if (rc)
		forget(st, e->path);
	return rc;
}

/* ---------------------------------------------------------------- the agent */

static long fd_read(void *ctx, void *buf, size_t len, char *err, size_t errlen)
{
	ssize_t n = read(*(int *)ctx, buf, len);

	return n < 0 ? errorf(-errno, err, errlen, "read: %s", strerror(errno)) : (long)n;
}

/*
 * Resolves the directory path dir inside the tree as a chroot would (symlinks
 * followed, ".." stops at the root) into out; components that do not exist
 * are kept as they are (stage_apply makes them).
 */
static int resolve_dir(struct stage *st, const char *dir, char *out, char *err, size_t errlen)
{
	char rest[TAR_PATH_MAX], tmp[TAR_PATH_MAX];
	unsigned hops = 0;

	snprintf(rest, sizeof(rest), "%s", dir);
	out[0] = 0;
	while (rest[0]) {
		char *slash = strchr(rest, '/'), comp[256], cand[TAR_PATH_MAX];
		struct stat sb;

		snprintf(comp, sizeof(comp), "%.*s", (int)(slash ? slash - rest : (long)strlen(rest)), rest);
		memmove(rest, slash ? slash + 1 : rest + strlen(rest), strlen(slash ? slash + 1 : "") + 1);
		if (!comp[0] || !strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *up = strrchr(out, '/');
			*(up ? up : out) = 0;
			continue;
		}
		snprintf(cand, sizeof(cand), "%s%s%s", out, out[0] ? "/" : "", comp);
		if (fstatat(st->rootfd, cand, &sb, AT_SYMLINK_NOFOLLOW) || !S_ISLNK(sb.st_mode)) {
			strcpy(out, cand);
			continue;
		}
		ssize_t n = readlinkat(st->rootfd, cand, tmp, sizeof(tmp) - 1);
		if (n <= 0 || ++hops > 40)
			return errorf(-ELOOP, err, errlen, "/%s: cannot follow the symlink", cand);
		tmp[n] = 0;
		if (tmp[0] == '/')
			out[0] = 0;
		if (snprintf(cand, sizeof(cand), "%s/%s", tmp, rest) >= (int)sizeof(cand))
			return errorf(-ENAMETOOLONG, err, errlen, "/%s: symlink target too long", cand);
		strcpy(rest, cand);
	}
	return 0;
}

int stage_add_agent(struct stage *st, const char *agent, char *err, size_t errlen)
{
	static const struct { const char *path; uint32_t mode; } dirs[] = {
		{ "dev", 0755 }, { "proc", 0555 }, { "sys", 0555 }, { "tmp", 01777 }, { "sbin", 0755 },
	};
	struct tar_entry *e = calloc(1, sizeof(*e));
	char dir[TAR_PATH_MAX];
	struct stat sb;
	int fd = -1, rc = 0;

	if (!e)
		return errorf(-ENOMEM, err, errlen, "agent: out of memory");
	st->layer++;
	for (unsigned i = 0; !rc && i < ARRAY_SIZE(dirs); i++) {
		rc = resolve_dir(st, dirs[i].path, dir, err, errlen);
		if (rc || !fstatat(st->rootfd, dir, &sb, AT_SYMLINK_NOFOLLOW))
			continue; /* there already (whatever it is, the image's choice) */
		*e = (struct tar_entry){ .type = TAR_DIR, .mode = dirs[i].mode };
		snprintf(e->path, sizeof(e->path), "%s", dir);
		rc = stage_apply(st, e, NULL, NULL, err, errlen);
	}
	if (!rc)
		rc = resolve_dir(st, "sbin", dir, err, errlen);
	if (!rc) {
		fd = open(agent, O_RDONLY);
		if (fd < 0 || fstat(fd, &sb) || !S_ISREG(sb.st_mode))
			rc = errorf(-ENOENT, err, errlen, "agent %s: not a readable regular file", agent);
	}
	if (!rc) {
		*e = (struct tar_entry){ .type = TAR_REG, .mode = 0755, .size = (uint64_t)sb.st_size,
					 .mtime = sb.st_mtime };
		if (snprintf(e->path, sizeof(e->path), "%s%sinit", dir, dir[0] ? "/" : "") >=
		    (int)sizeof(e->path))
			rc = errorf(-ENAMETOOLONG, err, errlen, "agent: /sbin resolves to a path too long");
		else
			rc = stage_apply(st, e, fd_read, &fd, err, errlen);
	}
	if (fd >= 0)
		close(fd);
	free(e);
	return rc;
}

/* ---------------------------------------------------------------- the image */

/* Runs argv (stdout to /dev/null); stderr goes to errfd when >= 0.  Exit status or -errno. */
static int run(char *const argv[], int errfd)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 1);
		if (errfd >= 0)
			dup2(errfd, 2);
		/* e2fsprogs lives in /sbin, which a user's PATH may lack. */
		char path[64];
		snprintf(path, sizeof(path), "/usr/sbin/%s", argv[0]);
		execv(path, argv);
		snprintf(path, sizeof(path), "/sbin/%s", argv[0]);
		execv(path, argv);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s (install Debian's e2fsprogs)\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A path as a debugfs argument: absolute, in double quotes, quotes doubled (libss). */
static void quoted(FILE *f, const char *path, bool absolute)
{
	fputs(absolute ? "\"/" : "\"", f);
	for (; *path; path++) {
		if (*path == '"')
			fputc('"', f);
		fputc(*path, f);
	}
	fputc('"', f);
}

/* The debugfs commands that give every inode its mode, owner and time (and devices their numbers). */
static int write_fixups(struct stage *st, FILE *f)
{
	for (size_t i = 0; i < st->cap; i++) {
		struct meta *m = &st->tab[i];
		static const char *const fields[] = { "mode", "uid", "gid", "mtime" };

		if (!m->path || m->path == TOMB)
			continue;
		if (S_ISCHR(m->mode) || S_ISBLK(m->mode)) {
			/* debugfs's mknod makes its name in the current directory. */
			const char *slash = strrchr(m->path, '/');
			char parent[TAR_PATH_MAX];

			snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - m->path) : 0, m->path);
			fputs("rm ", f), quoted(f, m->path, true), fputc('\n', f);
			fputs("cd ", f), quoted(f, parent, true), fputc('\n', f);
			fputs("mknod ", f), quoted(f, slash ? slash + 1 : m->path, false);
			fprintf(f, " %c %u %u\ncd /\n", S_ISCHR(m->mode) ? 'c' : 'b', m->major, m->minor);
		}
		for (unsigned j = 0; j < ARRAY_SIZE(fields); j++) {
			fputs("sif ", f), quoted(f, m->path, true);
			if (j == 0)
				fprintf(f, " mode 0%o\n", m->mode);
			else if (j == 3)
				fprintf(f, " mtime @%lld\n", (long long)(m->mtime > 0 ? m->mtime : 0));
			else
				fprintf(f, " %s %u\n", fields[j], j == 1 ? m->uid : m->gid);
		}
	}
	return fflush(f) ? -errno : 0;
}

/* Enough room for the files, their inodes and directories, a journal, and a margin. */
static uint64_t estimate_mib(const struct stage *st, size_t n)
{
	uint64_t bytes = (uint64_t)n * 512, mib;

	for (size_t i = 0; i < st->cap; i++) {
		const struct meta *m = &st->tab[i];

		if (m->path && m->path != TOMB)
			bytes += S_ISDIR(m->mode) ? 4096 : ALIGN_UP(m->size, 4096) + m->size / 128;
	}
	mib = bytes * 11 / 10 / MIB(1) + 8;
	/* mke2fs's default journal: 4 MiB below 128 MiB, 16 below 1 GiB, then 32, 64, 128. */
	mib += mib < 128 ? 4 : mib < 1024 ? 16 : mib < 2048 ? 32 : mib < 16384 ? 64 : 128;
	return mib < 16 ? 16 : mib;
}

int stage_make_image(struct stage *st, const char *out, uint64_t size_mib, char *err, size_t errlen)
{
	size_t n = stage_count(st);
	char tmp[4096], cmds[4096], inodes[32], size[32];
	int rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= (int)sizeof(tmp) ||
	    snprintf(cmds, sizeof(cmds), "%s.debugfs", st->dir) >= (int)sizeof(cmds))
		return errorf(-ENAMETOOLONG, err, errlen, "%s: path too long", out);
	if (!size_mib)
		size_mib = estimate_mib(st, n);
	snprintf(size, sizeof(size), "%lluM", (unsigned long long)size_mib);
	snprintf(inodes, sizeof(inodes), "%zu", n + n / 4 + 1024);
	unlink(tmp);
	char *mkfs[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-m", "0", "-N", inodes, "-E",
			 "root_owner=0:0", "-d", st->dir, tmp, size, NULL };
	rc = run(mkfs, -1);
	if (rc) {
		unlink(tmp);
		return errorf(-EIO, err, errlen, "mke2fs -d failed (status %d) for %s MiB%s", rc, size,
			    " (too small? try --size)");
	}

	FILE *f = fopen(cmds, "w+");
	if (!f || write_fixups(st, f)) {
		if (f)
			fclose(f);
		unlink(tmp);
		return errorf(-EIO, err, errlen, "%s: cannot write debugfs commands", cmds);
	}
	fclose(f);
	FILE *errs = tmpfile();
	char *debugfs[] = { "debugfs", "-w", "-f", cmds, tmp, NULL };
	rc = errs ? run(debugfs, fileno(errs)) : -ENOMEM;
	unlink(cmds);
	/* debugfs exits 0 whatever its commands did; any line but its banner is an error. */
	char line[512], first[512] = "";
	unsigned bad = rc != 0;
	if (errs) {
		rewind(errs);
		while (fgets(line, sizeof(line), errs)) {
			if (!strncmp(line, "debugfs ", 8))
				continue;
			if (!first[0])
				snprintf(first, sizeof(first), "%s", line);
			bad++;
		}
		fclose(errs);
	}
	if (bad) {
		unlink(tmp);
		first[strcspn(first, "\n")] = 0;
		return errorf(-EIO, err, errlen, "debugfs could not set inode fields (status %d): %s", rc, first);
	}
	if (rename(tmp, out)) {
		unlink(tmp);
		return errorf(-errno, err, errlen, "%s: %s", out, strerror(errno));
	}
	return 0;
}
