/* SPDX-License-Identifier: Apache-2.0 */
/* tar_test.c: unit tests for tools/tar.c, with archives written in memory header by header. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lib/base.h"
#include "tools/tar.h"

static uint8_t ar[65536];
static size_t arlen, rdpos;
static struct tar_reader r;
static struct tar_entry e;

static long mem_read(void *ctx, void *buf, size_t len, char *err, size_t errlen)
{
	size_t n = MIN(len, arlen - rdpos);

	memcpy(buf, ar + rdpos, n);
	rdpos += n;
	return (long)n;
}

static void reset(void)
{
	memset(ar, 0, sizeof(ar));
	arlen = rdpos = 0;
	tar_init(&r, mem_read, NULL);
}

/* A header's fields as text; NULL leaves the field zero (empty). */
struct hdr {
	const char *name, *mode, *uid, *gid, *size, *mtime, *link, *magic, *prefix, *major, *minor;
	char type;
};

static void put(uint8_t *h, size_t off, size_t len, const char *s)
{
	if (s)
		memcpy(h + off, s, MIN(strlen(s), len));
}

static void fix_checksum(uint8_t *h)
{
	unsigned sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

/* Appends a header (checksummed), then size bytes of data padded to a block; returns the header. */
static uint8_t *add(struct hdr hd, const void *data, size_t size)
{
	uint8_t *h = ar + arlen;

	put(h, 0, 100, hd.name);
	put(h, 100, 8, hd.mode ? hd.mode : "0000644");
	put(h, 108, 8, hd.uid ? hd.uid : "0000000");
	put(h, 116, 8, hd.gid ? hd.gid : "0000000");
	put(h, 124, 12, hd.size);
	if (!hd.size) {
		char sz[16];
		snprintf(sz, sizeof(sz), "%011zo", size);
		put(h, 124, 12, sz);
	}
	put(h, 136, 12, hd.mtime ? hd.mtime : "14700000000");
	h[156] = (uint8_t)(hd.type ? hd.type : '0');
	put(h, 157, 100, hd.link);
	memcpy(h + 257, hd.magic ? hd.magic : "ustar\0" "00", 8);
	put(h, 329, 8, hd.major);
	put(h, 337, 8, hd.minor);
	put(h, 345, 155, hd.prefix);
	fix_checksum(h);
	arlen += 512;
	if (data)
		memcpy(ar + arlen, data, size);
	arlen += ALIGN_UP(size, 512);
	return h;
}

static void end(void)
{
	arlen += 1024;
}

/* A pax 'x' header with the records given as "key=value" strings. */
static void pax(char type, const char *const *recs, int n)
{
	char buf[4096];
	size_t len = 0;

	for (int i = 0; i < n; i++) {
		size_t body = strlen(recs[i]) + 2, digits = 1, total;
		for (;;) {
			total = body + digits;
			char tmp[24];
			if ((size_t)snprintf(tmp, sizeof(tmp), "%zu", total) == digits)
				break;
			digits++;
		}
		len += (size_t)sprintf(buf + len, "%zu %s\n", total, recs[i]);
	}
	add((struct hdr){ .name = "PaxHeaders/x", .type = type }, buf, len);
}

static int next(void)
{
	return tar_next(&r, &e);
}

Test(tar, regular_file_fields_and_data)
{
	char data[5];

	reset();
	add((struct hdr){ .name = "./usr//bin/./tool", .mode = "0004755", .uid = "0001750",
			  .gid = "0001751", .mtime = "14700000001" }, "hello", 5);
	end();
	cr_assert_eq(next(), 1, "%s", r.err);
	cr_assert_str_eq(e.path, "usr/bin/tool");
	cr_assert_eq(e.type, TAR_REG);
	cr_assert_eq(e.mode, 04755);
	cr_assert_eq(e.uid, 01750);
	cr_assert_eq(e.gid, 01751);
	cr_assert_eq(e.size, 5);
	cr_assert_eq(e.mtime, 014700000001);
	cr_assert_eq(tar_read(&r, data, 3), 3);
	cr_assert_eq(tar_read(&r, data + 3, 10), 2);
	cr_assert_eq(memcmp(data, "hello", 5), 0);
	cr_assert_eq(tar_read(&r, data, 10), 0);
	cr_assert_eq(next(), 0);
	cr_assert_eq(next(), 0);
}

Test(tar, unread_data_is_skipped_and_types_mapped)
{
	static const struct { char t; enum tar_type type; } types[] = {
		{ '5', TAR_DIR }, { '6', TAR_FIFO }, { '7', TAR_REG }, { 0, TAR_REG },
	};

	reset();
	add((struct hdr){ .name = "a" }, "0123456789", 10);
	for (unsigned i = 0; i < ARRAY_SIZE(types); i++)
		add((struct hdr){ .name = "t", .type = types[i].t ? types[i].t : '\0' }, NULL, 0);
	ar[arlen - 512 + 156] = 0; /* the last one really has type NUL */
	fix_checksum(ar + arlen - 512);
	add((struct hdr){ .name = "dev", .type = '3', .major = "0000001", .minor = "0000003" }, NULL, 0);
	add((struct hdr){ .name = "ln", .type = '1', .link = "./x/../" }, NULL, 0);
	end();
	cr_assert_eq(next(), 1);
	for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
		cr_assert_eq(next(), 1, "%s", r.err);
		cr_assert_eq(e.type, types[i].type, "type %u", i);
	}
	cr_assert_eq(next(), 1);
	cr_assert_eq(e.type, TAR_CHR);
	cr_assert_eq(e.devmajor, 1);
	cr_assert_eq(e.devminor, 3);
	cr_assert_eq(next(), -EINVAL, "hard link target with ..");
	cr_assert(strstr(r.err, "\"ln\""), "%s", r.err);
}

Test(tar, root_prefix_and_symlink)
{
	reset();
	add((struct hdr){ .name = "./", .type = '5', .mode = "0000700" }, NULL, 0);
	add((struct hdr){ .name = "name", .prefix = "some/prefix" }, NULL, 0);
	add((struct hdr){ .name = "name", .prefix = "ignored", .magic = "ustar  \0" }, NULL, 0);
	add((struct hdr){ .name = "s", .type = '2', .link = "/etc/../abs" }, NULL, 0);
	end();
	cr_assert_eq(next(), 1);
	cr_assert_str_eq(e.path, "");
	cr_assert_eq(e.type, TAR_DIR);
	cr_assert_eq(e.mode, 0700);
	cr_assert_eq(next(), 1);
	cr_assert_str_eq(e.path, "some/prefix/name");
	cr_assert_eq(next(), 1, "GNU magic: the prefix area is not a prefix");
	cr_assert_str_eq(e.path, "name");
	cr_assert_eq(next(), 1);
	cr_assert_eq(e.type, TAR_SYMLINK);
	cr_assert_str_eq(e.link, "/etc/../abs", "a symlink target is kept as stored");
}

Test(tar, gnu_long_names)
{
	char longname[300], longlink[200];

	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	memset(longlink, 'l', sizeof(longlink) - 1);
	longlink[sizeof(longlink) - 1] = 0;
	reset();
	add((struct hdr){ .name = "././@LongLink", .type = 'L', .magic = "ustar  \0" }, longname,
	    sizeof(longname));
	add((struct hdr){ .name = "././@LongLink", .type = 'K', .magic = "ustar  \0" }, longlink,
	    sizeof(longlink) - 1);
	add((struct hdr){ .name = "short", .type = '2', .link = "short", .magic = "ustar  \0" }, NULL, 0);
	add((struct hdr){ .name = "after" }, NULL, 0);
	end();
	cr_assert_eq(next(), 1, "%s", r.err);
	cr_assert_str_eq(e.path, longname);
	cr_assert_str_eq(e.link, longlink);
	cr_assert_eq(next(), 1);
	cr_assert_str_eq(e.path, "after", "long names apply to one entry only");
}

Test(tar, pax_records)
{
	static const char *const recs[] = {
		"path=pax/name/that/is/long", "linkpath=target", "size=3", "uid=4000000000",
		"gid=70000", "mtime=1700000000.123456", "uname=someone", "SCHILY.xattr.user.x=1",
	};
	static const char *const global[] = { "comment=git" };
	char buf[8];

	reset();
	pax('g', global, 1);
	pax('x', recs, ARRAY_SIZE(recs));
	add((struct hdr){ .name = "short", .size = "00000000000" }, "abc", 3);
	end();
	cr_assert_eq(next(), 1, "%s", r.err);
	cr_assert_str_eq(e.path, "pax/name/that/is/long");
	cr_assert_eq(e.size, 3, "pax size overrides the header's");
	cr_assert_eq(e.uid, 4000000000u);
	cr_assert_eq(e.gid, 70000);
	cr_assert_eq(e.mtime, 1700000000);
	cr_assert_eq(tar_read(&r, buf, sizeof(buf)), 3);
	cr_assert_eq(next(), 0);
}

Test(tar, base256_numbers)
{
	uint8_t *h;

	reset();
	h = add((struct hdr){ .name = "big" }, NULL, 0);
	memset(h + 108, 0, 8);
	h[108] = 0x80;
	h[115] = 0x42; /* uid 0x42 */
	fix_checksum(h);
	end();
	cr_assert_eq(next(), 1, "%s", r.err);
	cr_assert_eq(e.uid, 0x42);
}

Test(tar, signed_checksum_accepted)
{
	uint8_t *h;
	int sum = 0;

	reset();
	h = add((struct hdr){ .name = "\xe9t\xe9" }, NULL, 0);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += (int8_t)h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	end();
	cr_assert_eq(next(), 1, "%s", r.err);
}

/* One header, edited after it was checksummed when recheck is false. */
static void refuse_one(struct hdr hd, size_t off, const char *bytes, size_t n, bool recheck,
		       const char *want1, const char *want2)
{
	reset();
	uint8_t *h = add(hd, NULL, 0);
	if (bytes)
		memcpy(h + off, bytes, n);
	if (recheck)
		fix_checksum(h);
	end();
	cr_assert_eq(next(), -EINVAL, "accepted (%s)", want2);
	cr_assert(strstr(r.err, want1) && strstr(r.err, want2), "message: %s", r.err);
}

Test(tar, hostile_headers)
{
	refuse_one((struct hdr){ .name = "f" }, 0, "g", 1, false, "\"g\"", "checksum");
	refuse_one((struct hdr){ .name = "f" }, 148, "0000x00", 7, false, "\"f\"", "checksum");
	refuse_one((struct hdr){ .name = "f", .magic = "ustar\0" "99" }, 0, NULL, 0, true, "\"f\"", "magic");
	refuse_one((struct hdr){ .name = "f", .mode = "0000648" }, 0, NULL, 0, true, "\"f\"", "mode");
	refuse_one((struct hdr){ .name = "f", .mode = "07 0000" }, 0, NULL, 0, true, "\"f\"", "mode");
	refuse_one((struct hdr){ .name = "f", .mode = "1000000" }, 0, NULL, 0, true, "\"f\"", "mode");
	refuse_one((struct hdr){ .name = "f", .uid = "0000000" }, 108, "\xff\xff\xff\xff\xff\xff\xff\xff",
		   8, true, "\"f\"", "uid");
	refuse_one((struct hdr){ .name = "f" }, 108, "\x80\0\0\x01\0\0\0\0", 8, true, "\"f\"", "uid");
	refuse_one((struct hdr){ .name = "f", .size = "77777777777" }, 124, "\x80\0\0\0\x01\0\0\0\0\0\0\0",
		   12, true, "\"f\"", "size");
	refuse_one((struct hdr){ .name = "../up" }, 0, NULL, 0, true, "\"../up\"", "\"..\"");
	refuse_one((struct hdr){ .name = "a/b/../../../up" }, 0, NULL, 0, true, "a/b/../../../up", "\"..\"");
	refuse_one((struct hdr){ .name = "/etc/passwd" }, 0, NULL, 0, true, "/etc/passwd", "absolute");
	refuse_one((struct hdr){ .name = "new\nline" }, 0, NULL, 0, true, "new?line", "control");
	refuse_one((struct hdr){ .name = "x", .type = 'S' }, 0, NULL, 0, true, "\"x\"", "type 'S'");
	refuse_one((struct hdr){ .name = "x", .type = '2' }, 0, NULL, 0, true, "\"x\"", "empty link");
	refuse_one((struct hdr){ .name = "x", .type = '1', .link = "/abs" }, 0, NULL, 0, true, "\"x\"",
		   "absolute");
	refuse_one((struct hdr){ .name = "x", .type = '2', .link = "a\tb" }, 0, NULL, 0, true, "\"x\"",
		   "control");
	refuse_one((struct hdr){ .name = "./" }, 0, NULL, 0, true, "\".\"", "directory");
	refuse_one((struct hdr){ .name = "d", .type = '3', .major = "0010000" }, 0, NULL, 0, true, "\"d\"",
		   "device");
}

Test(tar, hostile_extensions)
{
	static const char *const sparse[] = { "GNU.sparse.major=1" };
	static const char *const gpath[] = { "path=everything" };
	static const char *const badsize[] = { "size=12x" };
	static const char *const hugeuid[] = { "uid=4294967296" };

	reset();
	pax('x', sparse, 1);
	add((struct hdr){ .name = "f" }, NULL, 0);
	cr_assert_eq(next(), -EINVAL);
	cr_assert(strstr(r.err, "sparse"), "%s", r.err);

	reset();
	pax('g', gpath, 1);
	cr_assert_eq(next(), -EINVAL);
	cr_assert(strstr(r.err, "global"), "%s", r.err);

	reset();
	pax('x', badsize, 1);
	cr_assert_eq(next(), -EINVAL);
	cr_assert(strstr(r.err, "size"), "%s", r.err);

	reset();
	pax('x', hugeuid, 1);
	cr_assert_eq(next(), -EINVAL);
	cr_assert(strstr(r.err, "uid"), "%s", r.err);

	/* Records whose length lies, or that lack the newline or the '='. */
	static const char *const bad[] = { "8 path=a\n", "30 path=a\n", "9 path=ab", "8 pathab\n", "07 p=ab\n",
					   "x path=a\n" };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		reset();
		add((struct hdr){ .name = "P", .type = 'x' }, bad[i], strlen(bad[i]));
		add((struct hdr){ .name = "f" }, NULL, 0);
		cr_assert_eq(next(), -EINVAL, "record %u accepted", i);
		cr_assert(strstr(r.err, "pax record"), "record %u: %s", i, r.err);
	}

	reset();
	pax('x', gpath, 1);
	end();
	cr_assert_eq(next(), -EINVAL);
	cr_assert(strstr(r.err, "extension header"), "%s", r.err);

	reset();
	add((struct hdr){ .name = "P", .type = 'x', .size = "00000100001" }, NULL, 0);
	cr_assert_eq(next(), -EINVAL);
	cr_assert(strstr(r.err, "at most"), "%s", r.err);

	reset();
	add((struct hdr){ .name = "L", .type = 'L' }, "", 1);
	add((struct hdr){ .name = "f" }, NULL, 0);
	cr_assert_eq(next(), -EINVAL);
	cr_assert(strstr(r.err, "long name"), "%s", r.err);
}

Test(tar, truncated_archives)
{
	char buf[64];

	reset();
	add((struct hdr){ .name = "f" }, "0123456789", 10);
	arlen = 512 + 4; /* cut inside the data */
	cr_assert_eq(next(), 1);
	cr_assert_eq(tar_read(&r, buf, sizeof(buf)), -EINVAL);
	cr_assert(strstr(r.err, "\"f\"") && strstr(r.err, "ends"), "%s", r.err);

	reset();
	add((struct hdr){ .name = "f" }, "0123456789", 10);
	arlen = 512 + 100; /* cut inside the padding: found when skipping to the next */
	cr_assert_eq(next(), 1);
	cr_assert_eq(next(), -EINVAL);
	cr_assert(strstr(r.err, "\"f\""), "%s", r.err);

	reset();
	add((struct hdr){ .name = "f" }, NULL, 0);
	arlen = 200;
	cr_assert_eq(next(), -EINVAL);
	cr_assert(strstr(r.err, "offset 0") && strstr(r.err, "ends"), "%s", r.err);

	reset(); /* no end-of-archive blocks at all */
	add((struct hdr){ .name = "f" }, NULL, 0);
	cr_assert_eq(next(), 1);
	cr_assert_eq(next(), -EINVAL);
}

Test(tar, normalize)
{
	char out[16], err[64];

	cr_assert_eq(tar_normalize("./a//b/.", 8, out, sizeof(out), err, sizeof(err)), 0);
	cr_assert_str_eq(out, "a/b");
	cr_assert_eq(tar_normalize("", 0, out, sizeof(out), err, sizeof(err)), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(tar_normalize("a\0b", 3, out, sizeof(out), err, sizeof(err)), -EINVAL);
	cr_assert_eq(tar_normalize("a/..", 4, out, sizeof(out), err, sizeof(err)), -EINVAL);
	cr_assert_eq(tar_normalize("..a/b..", 7, out, sizeof(out), err, sizeof(err)), 0, "..a is a name");
	cr_assert_eq(tar_normalize("0123456789/abcde", 16, out, sizeof(out), err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "longer"), "%s", err);
}
