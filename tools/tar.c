/* SPDX-License-Identifier: Apache-2.0 */
/* tar.c: checked streaming reader of ustar/pax/GNU tar archives (see tar.h). */
#include "tools/tar.h"

/* ustar header layout (POSIX.1-2017, pax "ustar Interchange Format"). */
#define H_NAME 0
#define H_MODE 100
#define H_UID 108
#define H_GID 116
#define H_SIZE 124
#define H_MTIME 136
#define H_CHKSUM 148
#define H_TYPE 156
#define H_LINK 157
#define H_MAGIC 257
#define H_DEVMAJOR 329
#define H_DEVMINOR 337
#define H_PREFIX 345

#define FAIL(r, rc, ...) errorf((rc), (r)->err, sizeof((r)->err), __VA_ARGS__)

void tar_init(struct tar_reader *r, tar_read_fn fn, void *ctx)
{
	memset(r, 0, offsetof(struct tar_reader, ext));
	r->read = fn;
	r->ctx = ctx;
}

/* Reads exactly len bytes; what names the place when the archive ends early. */
static int read_full(struct tar_reader *r, void *buf, size_t len, const char *what)
{
	size_t got = 0;

	while (got < len) {
		long n = r->read(r->ctx, (uint8_t *)buf + got, len - got, r->err, sizeof(r->err));

		if (n < 0)
			return (int)n;
		if (n == 0 || (size_t)n > len - got)
			return FAIL(r, -EINVAL, "%s: archive ends at offset %llu", what,
				    (unsigned long long)(r->offset + got));
		got += (size_t)n;
	}
	r->offset += len;
	return 0;
}

static int skip(struct tar_reader *r, uint64_t n, const char *what)
{
	uint8_t buf[TAR_BLOCK];

	while (n) {
		size_t chunk = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		int rc = read_full(r, buf, chunk, what);

		if (rc)
			return rc;
		n -= chunk;
	}
	return 0;
}

/* Copies a possibly unterminated field into a printable string for messages. */
static void printable(char *out, size_t outlen, const uint8_t *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && s[i] && o + 1 < outlen; i++)
		out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	out[o] = 0;
}

/*
 * A numeric header field: octal digits after optional spaces, ended by NUL or
 * space with only NULs and spaces after them (all-empty is 0), or GNU base-256
 * (first byte 0x80, big-endian).  Fails on anything else or a value above max.
 */
static bool parse_num(const uint8_t *f, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return false; /* negative, or a marker we do not know */
		for (i = 1; i < n; i++) {
			if (v > (UINT64_MAX >> 8))
				return false;
			v = v << 8 | f[i];
		}
		*out = v;
		return v <= max;
	}
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v > (UINT64_MAX >> 3))
			return false;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != 0 && f[i] != ' ')
			return false;
	*out = v;
	return v <= max;
}

/* A decimal pax value: digits only (mtime: optional '-' and a fraction, dropped). */
static bool parse_dec(const uint8_t *s, size_t n, bool is_time, uint64_t max, int64_t *out)
{
	uint64_t v = 0;
	bool neg = false;
	size_t i = 0, digits = 0;

	if (is_time && n && s[0] == '-')
		neg = true, i++;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (!digits)
		return false;
	if (is_time && i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
	}
	if (i != n)
		return false;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

static bool has_ctl(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

int tar_normalize(const char *in, size_t inlen, char *out, size_t outlen, char *err, size_t errlen)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t i = 0, o = 0;

	if (memchr(in, 0, inlen))
		return errorf(-EINVAL, err, errlen, "NUL inside the path");
	if (has_ctl(s, inlen))
		return errorf(-EINVAL, err, errlen, "control character in the path");
	if (inlen && in[0] == '/')
		return errorf(-EINVAL, err, errlen, "absolute path refused");
	while (i < inlen) {
		size_t start = i, len;

		while (i < inlen && in[i] != '/')
			i++;
		len = i - start;
		if (i < inlen)
			i++; /* the slash */
		if (len == 0 || (len == 1 && in[start] == '.'))
			continue;
		if (len == 2 && in[start] == '.' && in[start + 1] == '.')
			return errorf(-EINVAL, err, errlen, "\"..\" in the path refused");
		if (o + (o ? 1 : 0) + len + 1 > outlen)
			return errorf(-EINVAL, err, errlen, "path longer than %zu bytes", outlen - 1);
		if (o)
			out[o++] = '/';
		memcpy(out + o, in + start, len);
		o += len;
	}
	out[o] = 0;
	return 0;
}

/* One pax record's key: global headers may not set what belongs to one entry. */
static int pax_record(struct tar_reader *r, bool global, const uint8_t *k, size_t klen,
		      const uint8_t *v, size_t vlen)
{
	static const char *const keys[] = { "path", "linkpath", "size", "uid", "gid", "mtime" };
	int64_t num;
	unsigned which;

	if (klen >= 11 && !memcmp(k, "GNU.sparse.", 11))
		return FAIL(r, -EINVAL, "%s: sparse files are not supported", r->cur);
	for (which = 0; which < ARRAY_SIZE(keys); which++)
		if (klen == strlen(keys[which]) && !memcmp(k, keys[which], klen))
			break;
	if (which == ARRAY_SIZE(keys))
		return 0; /* uname, gname, atime, ctime, comment, SCHILY.xattr.*: not kept */
	if (global)
		return FAIL(r, -EINVAL, "%s: global pax header sets \"%s\" (not supported)",
			    r->cur, keys[which]);
	switch (which) {
	case 0:
	case 1:
		if (vlen + 1 > TAR_PATH_MAX || memchr(v, 0, vlen))
			return FAIL(r, -EINVAL, "%s: pax %s too long or has a NUL", r->cur, keys[which]);
		memcpy(which ? r->x_link : r->x_path, v, vlen);
		(which ? r->x_link : r->x_path)[vlen] = 0;
		*(which ? &r->has_link : &r->has_path) = true;
		return 0;
	case 2:
		if (!parse_dec(v, vlen, false, TAR_SIZE_MAX, &num))
			return FAIL(r, -EINVAL, "%s: pax size is not a number up to %llu", r->cur,
				    (unsigned long long)TAR_SIZE_MAX);
		r->x_size = (uint64_t)num, r->has_size = true;
		return 0;
	case 3:
	case 4:
		if (!parse_dec(v, vlen, false, UINT32_MAX, &num))
			return FAIL(r, -EINVAL, "%s: pax %s is not a 32-bit number", r->cur, keys[which]);
		*(which == 3 ? &r->x_uid : &r->x_gid) = (uint64_t)num;
		*(which == 3 ? &r->has_uid : &r->has_gid) = true;
		return 0;
	default:
		if (!parse_dec(v, vlen, true, INT64_MAX, &num))
			return FAIL(r, -EINVAL, "%s: pax mtime is not a time", r->cur);
		r->x_mtime = num, r->has_mtime = true;
		return 0;
	}
}

/* pax extended header data: records "LEN KEY=VALUE\n", LEN counting the whole record. */
static int pax_parse(struct tar_reader *r, size_t size, bool global)
{
	size_t off = 0;

	while (off < size) {
		const uint8_t *rec = r->ext + off;
		size_t avail = size - off, len = 0, i = 0, eq;

		while (i < avail && rec[i] >= '0' && rec[i] <= '9' && i < 8)
			len = len * 10 + (size_t)(rec[i++] - '0');
		if (i == 0 || i >= avail || rec[i] != ' ' || rec[0] == '0' || len > avail || len < i + 4)
			return FAIL(r, -EINVAL, "%s: malformed pax record at byte %zu", r->cur, off);
		if (rec[len - 1] != '\n')
			return FAIL(r, -EINVAL, "%s: pax record at byte %zu does not end in a newline",
				    r->cur, off);
		for (eq = i + 1; eq < len - 1 && rec[eq] != '='; eq++)
			;
		if (eq == len - 1 || eq == i + 1)
			return FAIL(r, -EINVAL, "%s: pax record at byte %zu has no key=value", r->cur, off);
		int rc = pax_record(r, global, rec + i + 1, eq - i - 1, rec + eq + 1, len - eq - 2);
		if (rc)
			return rc;
		off += len;
	}
	return 0;
}

/* An extension header's data ('x', 'g', 'L', 'K'): read it whole into r->ext. */
static int read_ext(struct tar_reader *r, const uint8_t *h, uint64_t size)
{
	int rc;

	if (size > TAR_EXT_MAX)
		return FAIL(r, -EINVAL, "%s: extension header of %llu bytes (at most %u)", r->cur,
			    (unsigned long long)size, TAR_EXT_MAX);
	rc = read_full(r, r->ext, (size_t)size, r->cur);
	if (!rc)
		rc = skip(r, ALIGN_UP(size, TAR_BLOCK) - size, r->cur);
	if (rc)
		return rc;
	if (h[H_TYPE] == 'x' || h[H_TYPE] == 'g')
		return pax_parse(r, (size_t)size, h[H_TYPE] == 'g');
	/* GNU long name: the data up to its first NUL. */
	size_t len = strnlen((const char *)r->ext, (size_t)size);
	if (len == 0 || len + 1 > TAR_PATH_MAX)
		return FAIL(r, -EINVAL, "%s: GNU long name empty or longer than %u", r->cur,
			    TAR_PATH_MAX - 1);
	char *dst = h[H_TYPE] == 'L' ? r->x_path : r->x_link;
	memcpy(dst, r->ext, len);
	dst[len] = 0;
	*(h[H_TYPE] == 'L' ? &r->has_path : &r->has_link) = true;
	return 0;
}

static bool checksum_ok(const uint8_t *h)
{
	uint64_t want;
	uint32_t usum = 0;
	int32_t ssum = 0;

	if (!parse_num(h + H_CHKSUM, 8, 0777777, &want))
		return false;
	for (unsigned i = 0; i < TAR_BLOCK; i++) {
		uint8_t c = i >= H_CHKSUM && i < H_CHKSUM + 8 ? ' ' : h[i];

		usum += c;
		ssum += (int8_t)c;
	}
	return want == usum || (int64_t)want == ssum;
}

static enum tar_type type_of(uint8_t t)
{
	switch (t) {
	case '0': case 0: case '7': return TAR_REG;
	case '1': return TAR_HARDLINK;
	case '2': return TAR_SYMLINK;
	case '3': return TAR_CHR;
	case '4': return TAR_BLK;
	case '5': return TAR_DIR;
	case '6': return TAR_FIFO;
	default: return 0;
	}
}

/* Fills *e from header h and the pending extension records. */
static int make_entry(struct tar_reader *r, const uint8_t *h, bool posix, struct tar_entry *e)
{
	char raw[256 + 1 + 100], msg[160];
	size_t rawlen = 0;
	uint64_t mode, uid, gid, size, mtime, maj = 0, min = 0;
	int rc;

	e->type = type_of(h[H_TYPE]);
	if (!e->type)
		return FAIL(r, -EINVAL, "%s: type '%c' not supported", r->cur,
			    h[H_TYPE] >= 0x20 && h[H_TYPE] < 0x7f ? h[H_TYPE] : '?');
	if (r->has_path) {
		rc = tar_normalize(r->x_path, strlen(r->x_path), e->path, sizeof(e->path), msg, sizeof(msg));
	} else {
		if (posix && h[H_PREFIX]) {
			rawlen = strnlen((const char *)h + H_PREFIX, 155);
			memcpy(raw, h + H_PREFIX, rawlen);
			raw[rawlen++] = '/';
		}
		size_t n = strnlen((const char *)h + H_NAME, 100);
		memcpy(raw + rawlen, h + H_NAME, n);
		rawlen += n;
		rc = tar_normalize(raw, rawlen, e->path, sizeof(e->path), msg, sizeof(msg));
	}
	if (rc)
		return FAIL(r, rc, "%s: %s", r->cur, msg);
	if (e->path[0]) {
		char name[sizeof(r->cur) - 2];

		printable(name, sizeof(name), (const uint8_t *)e->path, strlen(e->path));
		snprintf(r->cur, sizeof(r->cur), "\"%s\"", name);
	} else
		memcpy(r->cur, "entry \".\"", sizeof("entry \".\""));

	if (!parse_num(h + H_MODE, 8, 0177777, &mode) || !parse_num(h + H_UID, 8, UINT32_MAX, &uid) ||
	    !parse_num(h + H_GID, 8, UINT32_MAX, &gid) || !parse_num(h + H_SIZE, 12, TAR_SIZE_MAX, &size) ||
	    !parse_num(h + H_MTIME, 12, INT64_MAX, &mtime))
		return FAIL(r, -EINVAL, "%s: bad mode, uid, gid, size or mtime field", r->cur);
	if ((e->type == TAR_CHR || e->type == TAR_BLK) &&
	    (!parse_num(h + H_DEVMAJOR, 8, 4095, &maj) || !parse_num(h + H_DEVMINOR, 8, 0xfffff, &min)))
		return FAIL(r, -EINVAL, "%s: bad device number", r->cur);
	e->mode = (uint32_t)mode & 07777;
	e->uid = r->has_uid ? (uint32_t)r->x_uid : (uint32_t)uid;
	e->gid = r->has_gid ? (uint32_t)r->x_gid : (uint32_t)gid;
	e->mtime = r->has_mtime ? r->x_mtime : (int64_t)mtime;
	e->devmajor = (uint32_t)maj;
	e->devminor = (uint32_t)min;
	if (r->has_size)
		size = r->x_size;

	e->link[0] = 0;
	if (e->type == TAR_SYMLINK || e->type == TAR_HARDLINK) {
		const char *l = r->has_link ? r->x_link : (const char *)h + H_LINK;
		size_t llen = r->has_link ? strlen(l) : strnlen(l, 100);

		if (e->type == TAR_HARDLINK) {
			rc = tar_normalize(l, llen, e->link, sizeof(e->link), msg, sizeof(msg));
			if (rc)
				return FAIL(r, rc, "%s: hard link target: %s", r->cur, msg);
		} else {
			if (has_ctl((const uint8_t *)l, llen))
				return FAIL(r, -EINVAL, "%s: control character in the symlink target", r->cur);
			memcpy(e->link, l, llen);
			e->link[llen] = 0;
		}
		if (!e->link[0])
			return FAIL(r, -EINVAL, "%s: empty link target", r->cur);
	}
	if (!e->path[0] && e->type != TAR_DIR)
		return FAIL(r, -EINVAL, "entry \".\": the root must be a directory");

	r->has_path = r->has_link = r->has_size = r->has_uid = r->has_gid = r->has_mtime = false;
	if (e->type == TAR_REG) {
		e->size = size;
		r->data_left = size;
		r->skip_left = ALIGN_UP(size, TAR_BLOCK) - size;
	} else {
		e->size = 0;
		r->data_left = 0;
		r->skip_left = ALIGN_UP(size, TAR_BLOCK); /* data of a type that carries none: skipped */
	}
	return 1;
}

int tar_next(struct tar_reader *r, struct tar_entry *e)
{
	uint8_t h[TAR_BLOCK];
	int rc;

	if (r->ended)
		return 0;
	rc = skip(r, r->data_left + r->skip_left, r->cur);
	if (rc)
		return rc;
	r->data_left = r->skip_left = 0;
	for (;;) {
		uint64_t at = r->offset, size;
		bool zero = true;

		snprintf(r->cur, sizeof(r->cur), "header at offset %llu", (unsigned long long)at);
		rc = read_full(r, h, sizeof(h), r->cur);
		if (rc)
			return rc;
		for (unsigned i = 0; i < TAR_BLOCK && zero; i++)
			zero = !h[i];
		if (zero) {
			if (r->has_path || r->has_link || r->has_size || r->has_uid || r->has_gid || r->has_mtime)
				return FAIL(r, -EINVAL, "archive ends after an extension header");
			r->ended = true;
			return 0;
		}
		char name[64];
		printable(name, sizeof(name), h + H_NAME, 100);
		snprintf(r->cur, sizeof(r->cur), "\"%s\" (header at offset %llu)", name, (unsigned long long)at);
		bool posix = !memcmp(h + H_MAGIC, "ustar\0" "00", 8);
		if (!posix && memcmp(h + H_MAGIC, "ustar  \0", 8))
			return FAIL(r, -EINVAL, "%s: not a ustar header (bad magic)", r->cur);
		if (!checksum_ok(h))
			return FAIL(r, -EINVAL, "%s: bad header checksum", r->cur);
		if (h[H_TYPE] != 'x' && h[H_TYPE] != 'g' && h[H_TYPE] != 'L' && h[H_TYPE] != 'K')
			return make_entry(r, h, posix, e);
		if (!parse_num(h + H_SIZE, 12, TAR_SIZE_MAX, &size))
			return FAIL(r, -EINVAL, "%s: bad size field", r->cur);
		rc = read_ext(r, h, size);
		if (rc)
			return rc;
	}
}

long tar_read(struct tar_reader *r, void *buf, size_t len)
{
	size_t n = r->data_left < len ? (size_t)r->data_left : len;
	int rc;

	if (!n)
		return 0;
	rc = read_full(r, buf, n, r->cur);
	if (rc)
		return rc;
	r->data_left -= n;
	return (long)n;
}
