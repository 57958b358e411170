/* SPDX-License-Identifier: Apache-2.0 */
/* pvhv-mkimage.c: host tool that builds a sandbox's ext4 root image from a directory, a docker save tar or an OCI layout. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>

#include "tools/json.h"
#include "tools/mkimage.h"
#include "tools/sha256.h"
#include "tools/tar.h"

#define PROG "pvhv-mkimage"
#define JSON_MAX_BYTES MIB(16)
#define JSON_MAX_TOKENS 200000
#define NEST_MAX 4 /* image indexes inside image indexes */

static const char usage_text[] =
	"usage: " PROG " [--size MIB|auto] [--agent PATH] (--dir DIR | --docker-save TAR | --oci DIR|TAR) OUT.ext4\n"
	"\n"
	"Builds an ext4 root image for a pvhv sandbox.  --dir copies a directory;\n"
	"--docker-save applies the layers named by manifest.json of a `docker save`\n"
	"tar, --oci those of an OCI image layout's index.json (the linux/amd64\n"
	"manifest when there are several), in order, honouring whiteouts.  Modes,\n"
	"owners (numeric), symlinks, hard links and devices are kept without root:\n"
	"mke2fs -d and debugfs (Debian's e2fsprogs) write them.  --agent installs\n"
	"a static pvhv-agent as /sbin/init.  --size defaults to auto (an estimate).\n";

static char err[8192];

NORETURN PRINTF_LIKE(1, 2) static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---------------------------------------------------------------- byte streams */

/* A byte range of a file, gunzipped when it starts with gzip's magic. */
struct stream {
	int fd;
	uint64_t off, left;
	bool gz, zdone;
	z_stream z;
	uint8_t in[1 << 16];
};

static long raw_read(struct stream *s, void *buf, size_t len, char *e, size_t elen)
{
	if (len > s->left)
		len = (size_t)s->left;
	if (!len)
		return 0;
	ssize_t n = pread(s->fd, buf, len, (off_t)s->off);
	if (n < 0)
		return errorf(-errno, e, elen, "read: %s", strerror(errno));
	if (n == 0)
		return errorf(-EIO, e, elen, "file ends %llu bytes early", (unsigned long long)s->left);
	s->off += (uint64_t)n;
	s->left -= (uint64_t)n;
	return (long)n;
}

static long stream_read(void *ctx, void *buf, size_t len, char *e, size_t elen)
{
	struct stream *s = ctx;

	if (!s->gz)
		return raw_read(s, buf, len, e, elen);
	s->z.next_out = buf;
	s->z.avail_out = (uInt)(len > (1u << 30) ? 1u << 30 : len);
	while (!s->zdone && s->z.avail_out == len) {
		if (!s->z.avail_in) {
			long n = raw_read(s, s->in, sizeof(s->in), e, elen);
			if (n < 0)
				return n;
			if (n == 0)
				return errorf(-EINVAL, e, elen, "gzip data truncated");
			s->z.next_in = s->in;
			s->z.avail_in = (uInt)n;
		}
		int rc = inflate(&s->z, Z_NO_FLUSH);
		if (rc == Z_STREAM_END) {
			/* Another gzip member may follow (RFC 1952, 2.2). */
			if (s->z.avail_in || s->left)
				inflateReset(&s->z);
			else
				s->zdone = true;
		} else if (rc != Z_OK) {
			return errorf(-EINVAL, e, elen, "gzip: %s", s->z.msg ? s->z.msg : "corrupt data");
		}
	}
	return (long)(len - s->z.avail_out);
}

static int stream_open(struct stream *s, int fd, uint64_t off, uint64_t size, char *e, size_t elen)
{
	uint8_t magic[4] = { 0 };

	memset(s, 0, offsetof(struct stream, in));
	s->fd = fd, s->off = off, s->left = size;
	if (size >= 4 && pread(fd, magic, 4, (off_t)off) != 4)
		return errorf(-EIO, e, elen, "cannot read");
	if (!memcmp(magic, "\x28\xb5\x2f\xfd", 4))
		return errorf(-EINVAL, e, elen, "zstd-compressed layers are not supported");
	if (magic[0] == 0x1f && magic[1] == 0x8b) {
		s->gz = true;
		if (inflateInit2(&s->z, 15 + 16) != Z_OK) /* 16: gzip wrapper (zlib.h) */
			return errorf(-ENOMEM, e, elen, "zlib init failed");
	}
	return 0;
}

static void stream_close(struct stream *s)
{
	if (s->gz)
		inflateEnd(&s->z);
}

/* ---------------------------------------------------------------- archives */

/* A regular file (or a symlink to one) inside an outer tar. */
struct member {
	char *path, *link;
	uint64_t off, size;
};

/* Where docker save and OCI files come from: a directory, or a tar read in place. */
struct archive {
	const char *name;
	int fd;          /* the tar, or the directory */
	bool is_dir;
	struct member *m;
	size_t n;
};

static long fd_stream_read(void *ctx, void *buf, size_t len, char *e, size_t elen)
{
	return raw_read(ctx, buf, len, e, elen);
}

static void archive_open(struct archive *ar, const char *path)
{
	struct stat sb;
	static struct stream s;
	static struct tar_reader r;
	static struct tar_entry e;
	int rc;

	memset(ar, 0, sizeof(*ar));
	ar->name = path;
	ar->fd = open(path, O_RDONLY);
	if (ar->fd < 0 || fstat(ar->fd, &sb))
		die("%s: %s", path, strerror(errno));
	ar->is_dir = S_ISDIR(sb.st_mode);
	if (ar->is_dir)
		return;
	uint8_t magic[2] = { 0 };
	if (pread(ar->fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		die("%s: gzip-compressed; decompress it first (gunzip)", path);
	memset(&s, 0, offsetof(struct stream, in));
	s.fd = ar->fd, s.left = (uint64_t)sb.st_size;
	tar_init(&r, fd_stream_read, &s);
	while ((rc = tar_next(&r, &e)) > 0) {
		if (e.type != TAR_REG && e.type != TAR_SYMLINK && e.type != TAR_HARDLINK)
			continue;
		struct member *m = reallocarray(ar->m, ar->n + 1, sizeof(*m));
		if (!m)
			die("%s: out of memory", path);
		ar->m = m;
		m += ar->n++;
		*m = (struct member){ .path = strdup(e.path), .off = r.offset, .size = e.size };
		if (e.type != TAR_REG)
			m->link = strdup(e.link);
		if (e.type == TAR_HARDLINK) { /* its target comes earlier in the archive */
			size_t i;
			for (i = 0; i + 1 < ar->n && strcmp(ar->m[i].path, e.link); i++)
				;
			if (i + 1 == ar->n || ar->m[i].link)
				die("%s: %s: hard link to %s, not a file before it", path, e.path, e.link);
			m->off = ar->m[i].off, m->size = ar->m[i].size, free(m->link), m->link = NULL;
		}
		if (!m->path || (e.type != TAR_REG && !m->link && e.type != TAR_HARDLINK))
			die("%s: out of memory", path);
	}
	if (rc < 0)
		die("%s: %s", path, r.err);
}

/*
 * Joins a symlink's target to the directory of the member holding it, with
 * ".." allowed but never above the archive's root (docker save links layers
 * as "../ID/layer.tar").  0, or -EINVAL.
 */
static int join_link(const char *member, const char *target, char *out, size_t outlen)
{
	char buf[TAR_PATH_MAX * 2];
	const char *slash = strrchr(member, '/');
	size_t o = 0;

	if (target[0] == '/')
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%.*s/%s", slash ? (int)(slash - member) : 0, member, target);
	out[0] = 0;
	for (char *tok = strtok(buf, "/"); tok; tok = strtok(NULL, "/")) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			if (!o)
				return -EINVAL;
			while (o && out[o - 1] != '/')
				o--;
			o = o ? o - 1 : 0;
			out[o] = 0;
			continue;
		}
		if (o + strlen(tok) + 2 > outlen)
			return -EINVAL;
		o += (size_t)sprintf(out + o, "%s%s", o ? "/" : "", tok);
	}
	return 0;
}

/* Finds a file of the archive: its fd (close it when is_dir), offset and size. */
static int archive_find(struct archive *ar, const char *name, int *fd, uint64_t *off, uint64_t *size)
{
	char path[TAR_PATH_MAX], next[TAR_PATH_MAX], msg[128];

	if (tar_normalize(name, strlen(name), path, sizeof(path), msg, sizeof(msg)))
		return errorf(-EINVAL, err, sizeof(err), "%s: file name \"%s\": %s", ar->name, name, msg);
	if (ar->is_dir) {
		struct stat sb;

		*fd = openat(ar->fd, path, O_RDONLY);
		if (*fd < 0 || fstat(*fd, &sb) || !S_ISREG(sb.st_mode)) {
			if (*fd >= 0)
				close(*fd);
			return errorf(-ENOENT, err, sizeof(err), "%s: no file %s", ar->name, path);
		}
		*off = 0, *size = (uint64_t)sb.st_size;
		return 0;
	}
	for (unsigned hops = 0; hops < 8; hops++) {
		size_t i;

		for (i = 0; i < ar->n && strcmp(ar->m[i].path, path); i++)
			;
		if (i == ar->n)
			return errorf(-ENOENT, err, sizeof(err), "%s: no file %s in the archive", ar->name, path);
		if (!ar->m[i].link) {
			*fd = ar->fd, *off = ar->m[i].off, *size = ar->m[i].size;
			return 0;
		}
		if (join_link(path, ar->m[i].link, next, sizeof(next)))
			return errorf(-EINVAL, err, sizeof(err), "%s: %s: symlink leaves the archive",
				      ar->name, path);
		strcpy(path, next);
	}
	return errorf(-ELOOP, err, sizeof(err), "%s: %s: too many symlinks", ar->name, name);
}

static void archive_close(struct archive *ar, int fd)
{
	if (ar->is_dir)
		close(fd);
}

/* sha256 of a byte range as 64 hex digits. */
static void sha256_range(int fd, uint64_t off, uint64_t size, char out[65])
{
	static uint8_t buf[1 << 16];
	struct sha256 s;

	sha256_init(&s);
	while (size) {
		ssize_t n = pread(fd, buf, size < sizeof(buf) ? (size_t)size : sizeof(buf), (off_t)off);
		if (n <= 0)
			die("sha256: read failed at offset %llu", (unsigned long long)off);
		sha256_update(&s, buf, (size_t)n);
		off += (uint64_t)n, size -= (uint64_t)n;
	}
	sha256_hex(&s, out);
}

/* Reads a JSON file of the archive and parses it; dies with a message naming it. */
static void read_json(struct archive *ar, const char *name, const char *digest_hex,
		      struct json_doc *doc, char **text)
{
	uint64_t off, size;
	int fd;

	if (archive_find(ar, name, &fd, &off, &size))
		die("%s", err);
	if (size > JSON_MAX_BYTES)
		die("%s: %s: %llu bytes of JSON (at most %llu)", ar->name, name, (unsigned long long)size,
		    (unsigned long long)JSON_MAX_BYTES);
	if (digest_hex) {
		char got[65];
		sha256_range(fd, off, size, got);
		if (strcmp(got, digest_hex))
			die("%s: %s: sha256 is %s, not as its descriptor says", ar->name, name, got);
	}
	*text = malloc((size_t)size + 1);
	struct json_tok *toks = calloc(JSON_MAX_TOKENS, sizeof(*toks));
	if (!*text || !toks || pread(fd, *text, (size_t)size, (off_t)off) != (ssize_t)size)
		die("%s: %s: cannot read", ar->name, name);
	archive_close(ar, fd);
	if (json_parse(doc, *text, (size_t)size, toks, JSON_MAX_TOKENS, err, sizeof(err)))
		die("%s: %s: %s", ar->name, name, err);
}

/* ---------------------------------------------------------------- layers */

static struct stage stage;
static unsigned nr_layers;

static long entry_read(void *ctx, void *buf, size_t len, char *e, size_t elen)
{
	struct tar_reader *r = ctx;
	long n = tar_read(r, buf, len);

	if (n < 0)
		snprintf(e, elen, "%s", r->err);
	return n;
}

/* Applies one layer tar (plain or gzip) of the archive. */
static void apply_layer(struct archive *ar, const char *name, const char *digest_hex,
			uint64_t want_size)
{
	static struct stream s;
	static struct tar_reader r;
	static struct tar_entry e;
	uint64_t off, size;
	int fd, rc;

	if (archive_find(ar, name, &fd, &off, &size))
		die("%s", err);
	if (digest_hex) {
		char got[65];
		if (want_size != UINT64_MAX && size != want_size)
			die("%s: layer %s: %llu bytes, its descriptor says %llu", ar->name, name,
			    (unsigned long long)size, (unsigned long long)want_size);
		sha256_range(fd, off, size, got);
		if (strcmp(got, digest_hex))
			die("%s: layer %s: sha256 is %s, not as its descriptor says", ar->name, name, got);
	}
	if (stream_open(&s, fd, off, size, err, sizeof(err)))
		die("%s: layer %s: %s", ar->name, name, err);
	stage.layer = ++nr_layers;
	tar_init(&r, stream_read, &s);
	while ((rc = tar_next(&r, &e)) > 0)
		if (stage_apply(&stage, &e, entry_read, &r, err, sizeof(err)))
			die("%s: layer %s: %s", ar->name, name, err);
	if (rc < 0)
		die("%s: layer %s: %s", ar->name, name, r.err);
	stream_close(&s);
	archive_close(ar, fd);
}

/* docker save: manifest.json is [{"Config": ..., "RepoTags": [...], "Layers": ["ID/layer.tar", ...]}]. */
static void from_docker_save(const char *path)
{
	struct archive ar;
	struct json_doc doc;
	char *text, name[TAR_PATH_MAX];
	int img, layers, l;

	archive_open(&ar, path);
	if (archive_find(&ar, "manifest.json", &l, &(uint64_t){ 0 }, &(uint64_t){ 0 }))
		die("%s: no manifest.json: not made by docker save (an OCI layout? try --oci)", path);
	archive_close(&ar, l);
	read_json(&ar, "manifest.json", NULL, &doc, &text);
	if (doc.toks[0].type != JSON_ARRAY || doc.toks[0].size != 1)
		die("%s: manifest.json: want an array of exactly one image (save one image)", path);
	img = json_at(&doc, 0, 0);
	layers = json_get(&doc, (uint32_t)img, "Layers");
	if (layers < 0 || doc.toks[layers].type != JSON_ARRAY)
		die("%s: manifest.json: no \"Layers\" array", path);
	for (uint32_t i = 0; (l = json_at(&doc, (uint32_t)layers, i)) >= 0; i++) {
		const char *hex = name + 13;

		if (json_string(&doc, (uint32_t)l, name, sizeof(name)) <= 0)
			die("%s: manifest.json: Layers[%u] is not a usable string", path, i);
		/* Docker 25 and later save layers as OCI blobs: their names are their digests. */
		bool is_blob = !strncmp(name, "blobs/sha256/", 13) && strlen(hex) == 64 &&
			       strspn(hex, "0123456789abcdef") == 64;
		apply_layer(&ar, name, is_blob ? hex : NULL, UINT64_MAX);
	}
	free(text);
	free(doc.toks);
}

static const char *const index_types[] = {
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
};
static const char *const manifest_types[] = {
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
};
static const char *const layer_types[] = {
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.nondistributable.v1.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.docker.image.rootfs.diff.tar",
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
};

static int type_in(const char *type, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(type, list[i]))
			return (int)i;
	return -1;
}

/* A descriptor {mediaType, digest "sha256:<64 hex>", size}: its type, blob path and hex digest. */
static void descriptor(const char *where, struct json_doc *doc, int d, char *type, size_t typelen,
		       char path[96], char hex[65], uint64_t *size)
{
	char digest[128];
	int t = json_get(doc, (uint32_t)d, "mediaType"), g = json_get(doc, (uint32_t)d, "digest");
	int s = json_get(doc, (uint32_t)d, "size");

	if (t < 0 || g < 0 || s < 0 || json_string(doc, (uint32_t)t, type, typelen) < 0 ||
	    json_string(doc, (uint32_t)g, digest, sizeof(digest)) < 0 ||
	    json_u64(doc, (uint32_t)s, TAR_SIZE_MAX, size))
		die("%s: descriptor without a usable mediaType, digest and size", where);
	if (strncmp(digest, "sha256:", 7) || strlen(digest) != 7 + 64 ||
	    strspn(digest + 7, "0123456789abcdef") != 64)
		die("%s: digest \"%s\" is not sha256:<64 lowercase hex digits>", where, digest);
	strcpy(hex, digest + 7);
	snprintf(path, 96, "blobs/sha256/%s", hex);
}

/* Among an index's manifests: the only one, or the one for linux/amd64. */
static int pick_manifest(const char *where, struct json_doc *doc, int arr)
{
	int d, chosen = -1;

	if (arr < 0 || doc->toks[arr].type != JSON_ARRAY || !doc->toks[arr].size)
		die("%s: no \"manifests\" array, or it is empty", where);
	if (doc->toks[arr].size == 1)
		return json_at(doc, (uint32_t)arr, 0);
	for (uint32_t i = 0; (d = json_at(doc, (uint32_t)arr, i)) >= 0; i++) {
		int p = json_get(doc, (uint32_t)d, "platform"), os, arch;

		if (p < 0 || (os = json_get(doc, (uint32_t)p, "os")) < 0 ||
		    (arch = json_get(doc, (uint32_t)p, "architecture")) < 0)
			continue;
		if (json_string_is(doc, (uint32_t)os, "linux") && json_string_is(doc, (uint32_t)arch, "amd64")) {
			chosen = d;
			break;
		}
	}
	if (chosen < 0)
		die("%s: %u manifests and none for linux/amd64", where, doc->toks[arr].size);
	return chosen;
}

static void from_oci(const char *path)
{
	struct archive ar;
	struct json_doc doc;
	char *text, type[128], blob[96], hex[65], where[160], *layout;
	uint64_t size, off, bsize;
	int d, fd, layers;

	archive_open(&ar, path);
	read_json(&ar, "oci-layout", NULL, &doc, &layout);
	d = json_get(&doc, 0, "imageLayoutVersion");
	if (d < 0 || !json_string_is(&doc, (uint32_t)d, "1.0.0"))
		die("%s: oci-layout: imageLayoutVersion is not \"1.0.0\"", path);
	free(layout), free(doc.toks);

	read_json(&ar, "index.json", NULL, &doc, &text);
	snprintf(where, sizeof(where), "%s: index.json", path);
	for (unsigned depth = 0;; depth++) {
		d = pick_manifest(where, &doc, json_get(&doc, 0, "manifests"));
		descriptor(where, &doc, d, type, sizeof(type), blob, hex, &size);
		if (archive_find(&ar, blob, &fd, &off, &bsize))
			die("%s", err);
		archive_close(&ar, fd);
		if (bsize != size)
			die("%s: %s has %llu bytes, its descriptor says %llu", where, blob,
			    (unsigned long long)bsize, (unsigned long long)size);
		free(text), free(doc.toks);
		read_json(&ar, blob, hex, &doc, &text);
		snprintf(where, sizeof(where), "%s: %s", path, blob);
		if (type_in(type, manifest_types, ARRAY_SIZE(manifest_types)) >= 0)
			break;
		if (type_in(type, index_types, ARRAY_SIZE(index_types)) < 0)
			die("%s: media type %s is neither an image index nor a manifest", where, type);
		if (depth == NEST_MAX)
			die("%s: image indexes nested more than %d deep", where, NEST_MAX);
	}
	layers = json_get(&doc, 0, "layers");
	if (layers < 0 || doc.toks[layers].type != JSON_ARRAY)
		die("%s: no \"layers\" array", where);
	for (uint32_t i = 0; (d = json_at(&doc, (uint32_t)layers, i)) >= 0; i++) {
		descriptor(where, &doc, d, type, sizeof(type), blob, hex, &size);
		int t = type_in(type, layer_types, ARRAY_SIZE(layer_types));
		if (t < 0)
			die("%s: layer %u: media type %s not supported (tar or tar+gzip only)", where, i, type);
		apply_layer(&ar, blob, hex, size);
	}
	free(text), free(doc.toks);
}

/* ---------------------------------------------------------------- a directory */

struct seen { dev_t dev; ino_t ino; char *path; };
static struct seen *seen;
static size_t nr_seen;

static long file_read(void *ctx, void *buf, size_t len, char *e, size_t elen)
{
	ssize_t n = read(*(int *)ctx, buf, len);

	return n < 0 ? errorf(-errno, e, elen, "read: %s", strerror(errno)) : (long)n;
}

/* Copies directory dirfd (the tree's path rel) into the stage, depth first. */
static void walk(int dirfd, const char *rel, const char *top)
{
	static struct tar_entry e;
	DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d)
		die("%s/%s: %s", top, rel, strerror(errno));
	while ((de = readdir(d))) {
		struct stat sb;
		int fd = -1;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char path[TAR_PATH_MAX * 2];
		snprintf(path, sizeof(path), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		if (tar_normalize(path, strlen(path), e.path, sizeof(e.path), err, sizeof(err)))
			die("%s/%s: %s", top, path, err);
		if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW))
			die("%s/%s: %s", top, path, strerror(errno));
		e.mode = sb.st_mode & 07777, e.uid = sb.st_uid, e.gid = sb.st_gid, e.mtime = sb.st_mtime;
		e.size = 0, e.link[0] = 0, e.devmajor = e.devminor = 0;
		if (S_ISREG(sb.st_mode) && sb.st_nlink > 1) {
			size_t i;
			for (i = 0; i < nr_seen && (seen[i].dev != sb.st_dev || seen[i].ino != sb.st_ino); i++)
				;
			if (i < nr_seen) {
				e.type = TAR_HARDLINK;
				snprintf(e.link, sizeof(e.link), "%s", seen[i].path);
				if (stage_apply(&stage, &e, NULL, NULL, err, sizeof(err)))
					die("%s: %s", top, err);
				continue;
			}
			seen = reallocarray(seen, nr_seen + 1, sizeof(*seen));
			if (!seen || !(seen[nr_seen].path = strdup(e.path)))
				die("out of memory");
			seen[nr_seen].dev = sb.st_dev, seen[nr_seen++].ino = sb.st_ino;
		}
		if (S_ISREG(sb.st_mode)) {
			e.type = TAR_REG, e.size = (uint64_t)sb.st_size;
			fd = openat(dirfd, de->d_name, O_RDONLY | O_NOFOLLOW);
			if (fd < 0)
				die("%s/%s: %s", top, path, strerror(errno));
		} else if (S_ISDIR(sb.st_mode)) {
			e.type = TAR_DIR;
		} else if (S_ISLNK(sb.st_mode)) {
			ssize_t n = readlinkat(dirfd, de->d_name, e.link, sizeof(e.link) - 1);
			if (n <= 0)
				die("%s/%s: readlink failed", top, path);
			e.link[n] = 0, e.type = TAR_SYMLINK;
		} else if (S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode)) {
			e.type = S_ISCHR(sb.st_mode) ? TAR_CHR : TAR_BLK;
			e.devmajor = major(sb.st_rdev), e.devminor = minor(sb.st_rdev);
		} else if (S_ISFIFO(sb.st_mode)) {
			e.type = TAR_FIFO;
		} else {
			fprintf(stderr, PROG ": %s/%s: a socket; left out\n", top, path);
			continue;
		}
		int rc = stage_apply(&stage, &e, file_read, &fd, err, sizeof(err));
		if (fd >= 0)
			close(fd);
		if (rc)
			die("%s: %s", top, err);
		if (e.type == TAR_DIR) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
			char here[TAR_PATH_MAX];
			if (sub < 0)
				die("%s/%s: %s", top, path, strerror(errno));
			snprintf(here, sizeof(here), "%s", e.path);
			walk(sub, here, top);
		}
	}
	closedir(d);
}

static void from_dir(const char *dir)
{
	static struct tar_entry root;
	struct stat sb;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if (fd < 0 || fstat(fd, &sb))
		die("%s: %s", dir, strerror(errno));
	root = (struct tar_entry){ .type = TAR_DIR, .mode = sb.st_mode & 07777, .uid = sb.st_uid,
				   .gid = sb.st_gid, .mtime = sb.st_mtime };
	stage.layer = nr_layers = 1;
	if (stage_apply(&stage, &root, NULL, NULL, err, sizeof(err)))
		die("%s: %s", dir, err);
	walk(fd, "", dir);
}

/* ---------------------------------------------------------------- main */

static void cleanup(void)
{
	stage_free(&stage);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *docker = NULL, *oci = NULL, *agent = NULL, *out = NULL;
	uint64_t size_mib = 0;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage_text, stdout);
			return 0;
		}
		if (a[0] != '-' || !strcmp(a, "--")) {
			if (!strcmp(a, "--"))
				i++;
			break;
		}
		if (!v) {
			fprintf(stderr, PROG ": %s needs a value\n%s", a, usage_text);
			return 2;
		}
		if (!strcmp(a, "--dir"))
			dir = v;
		else if (!strcmp(a, "--docker-save"))
			docker = v;
		else if (!strcmp(a, "--oci"))
			oci = v;
		else if (!strcmp(a, "--agent"))
			agent = v;
		else if (!strcmp(a, "--size")) {
			char *end;
			if (strcmp(v, "auto")) {
				errno = 0;
				size_mib = strtoull(v, &end, 10);
				if (errno || *end || !size_mib || size_mib > 1 << 24 || v[0] == '-') {
					fprintf(stderr, PROG ": --size %s: want MiB (1..16777216) or auto\n", v);
					return 2;
				}
			}
		} else {
			fprintf(stderr, PROG ": unknown option %s\n%s", a, usage_text);
			return 2;
		}
		i++;
	}
	if (i != argc - 1 || !!dir + !!docker + !!oci != 1) {
		fprintf(stderr, PROG ": want exactly one of --dir, --docker-save, --oci and one OUT\n%s",
			usage_text);
		return 2;
	}
	out = argv[i];

	char staging[4096];
	snprintf(staging, sizeof(staging), "%s.stage-%d", out, (int)getpid());
	if (stage_init(&stage, staging, err, sizeof(err)))
		die("%s", err);
	atexit(cleanup);
	if (dir)
		from_dir(dir);
	else if (docker)
		from_docker_save(docker);
	else
		from_oci(oci);
	if (agent && stage_add_agent(&stage, agent, err, sizeof(err)))
		die("%s", err);
	if (stage_make_image(&stage, out, size_mib, err, sizeof(err)))
		die("%s", err);
	struct stat sb;
	if (!stat(out, &sb))
		printf(PROG ": wrote %s: %llu MiB, %zu entries from %u layer(s)%s\n", out,
		       (unsigned long long)(sb.st_size >> 20), stage_count(&stage), nr_layers,
		       agent ? ", agent as /sbin/init" : "");
	return 0;
}
