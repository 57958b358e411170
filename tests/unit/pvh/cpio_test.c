/* SPDX-License-Identifier: Apache-2.0 */
/* cpio_test.c: unit tests for pvh/cpio.c, with newc archives written in memory. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lib/base.h"
#include "pvh/cpio.h"

static char ar[8192];
static size_t arlen;
static char err[256];

/* Append one newc entry; returns the offset of its header. */
static size_t add(const char *name, uint32_t mode, const void *data, size_t size)
{
	size_t hdr = arlen, namesz = strlen(name) + 1;

	arlen += sprintf(ar + arlen,
			 "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
			 1u, mode, 0u, 0u, 1u, 0u, size, 0u, 0u, 0u, 0u, namesz, 0u);
	memcpy(ar + arlen, name, namesz);
	arlen = ALIGN_UP(arlen + namesz, 4);
	memcpy(ar + arlen, data, size);
	arlen = ALIGN_UP(arlen + size, 4);
	return hdr;
}

static size_t add_file(const char *name, const char *text)
{
	return add(name, 0100644, text, strlen(text));
}

static void trailer(void)
{
	add("TRAILER!!!", 0, "", 0);
}

static void reset(void)
{
	memset(ar, 0, sizeof(ar));
	arlen = 0;
	err[0] = 0;
}

/* Overwrite header field i (0 = ino ... 12 = check) of the entry at hdr. */
static void set_field(size_t hdr, unsigned i, const char *eight)
{
	memcpy(ar + hdr + 6 + 8 * i, eight, 8);
}

static void expect_next_fail(size_t len, size_t off, const char *msg)
{
	struct cpio_file f;

	err[0] = 0;
	cr_assert_eq(cpio_next(ar, len, &off, &f, err, sizeof(err)), -EINVAL,
		     "expected -EINVAL for \"%s\" (message \"%s\")", msg, err);
	cr_assert(strstr(err, msg), "message \"%s\" lacks \"%s\"", err, msg);
}

static void expect_find_fail(size_t len, const char *name, const char *msg)
{
	struct cpio_file f;

	err[0] = 0;
	cr_assert_eq(cpio_find(ar, len, name, &f, err, sizeof(err)), -EINVAL,
		     "message \"%s\"", err);
	cr_assert(strstr(err, msg), "message \"%s\" lacks \"%s\"", err, msg);
}

Test(cpio, walk_all_entries)
{
	struct cpio_file f;
	size_t off = 0;

	reset();
	add(".", 040755, "", 0);
	add_file("config.dtb", "DTB!");
	add_file("kernel", "hello, kernel");
	add_file("e", "");
	trailer();

	cr_assert_eq(cpio_next(ar, arlen, &off, &f, err, sizeof(err)), 1, "%s", err);
	cr_assert_str_eq(f.name, ".");
	cr_assert_eq(f.mode & CPIO_MODE_TYPE, CPIO_MODE_DIR);
	cr_assert_eq(cpio_next(ar, arlen, &off, &f, err, sizeof(err)), 1, "%s", err);
	cr_assert_str_eq(f.name, "config.dtb");
	cr_assert_eq(f.namelen, 10);
	cr_assert_eq(f.size, 4);
	cr_assert_eq(f.mode, 0100644);
	cr_assert_eq(memcmp(f.data, "DTB!", 4), 0);
	cr_assert_eq(((uintptr_t)f.data - (uintptr_t)ar) % 4, 0);
	cr_assert_eq(cpio_next(ar, arlen, &off, &f, err, sizeof(err)), 1, "%s", err);
	cr_assert_str_eq(f.name, "kernel");
	cr_assert_eq(f.size, 13);
	cr_assert_eq(memcmp(f.data, "hello, kernel", 13), 0);
	cr_assert_eq(cpio_next(ar, arlen, &off, &f, err, sizeof(err)), 1, "%s", err);
	cr_assert_str_eq(f.name, "e");
	cr_assert_eq(f.size, 0);
	cr_assert_eq(cpio_next(ar, arlen, &off, &f, err, sizeof(err)), 0, "%s", err);
}

Test(cpio, trailer_padding_after_end_ignored)
{
	struct cpio_file f;

	reset();
	add_file("a", "x");
	trailer();
	arlen += 500; /* cpio(1) pads to 512 */
	cr_assert_eq(cpio_find(ar, arlen, "a", &f, err, sizeof(err)), 0, "%s", err);
}

Test(cpio, find_with_dot_slash)
{
	struct cpio_file f;

	reset();
	add("./sub", 040755, "", 0);
	add_file("./sub/k", "kk");
	add_file("./initrd", "ird");
	add_file("plain", "pl");
	trailer();
	cr_assert_eq(cpio_find(ar, arlen, "initrd", &f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(f.size, 3);
	cr_assert_eq(memcmp(f.data, "ird", 3), 0);
	cr_assert_eq(cpio_find(ar, arlen, "./plain", &f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(f.size, 2);
	cr_assert_eq(cpio_find(ar, arlen, "sub/k", &f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(memcmp(f.data, "kk", 2), 0);
}

Test(cpio, find_missing)
{
	struct cpio_file f;

	reset();
	add_file("kernel", "k");
	trailer();
	cr_assert_eq(cpio_find(ar, arlen, "initrd", &f, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "no file \"initrd\" in bundle");
	/* A prefix of a name does not match. */
	cr_assert_eq(cpio_find(ar, arlen, "kern", &f, err, sizeof(err)), -ENOENT);
}

Test(cpio, find_skips_directories)
{
	struct cpio_file f;

	reset();
	add("kernel", 040755, "", 0);
	trailer();
	cr_assert_eq(cpio_find(ar, arlen, "kernel", &f, err, sizeof(err)), -ENOENT);
}

Test(cpio, find_reports_malformed)
{
	size_t h;

	reset();
	add_file("a", "x");
	h = add_file("b", "y");
	trailer();
	set_field(h, 6, "0000000g");
	expect_find_fail(arlen, "zzz", "filesize field is not 8 hex digits");
}

Test(cpio, empty_archive_has_no_trailer)
{
	reset();
	expect_next_fail(0, 0, "no trailer");
}

Test(cpio, missing_trailer)
{
	struct cpio_file f;

	reset();
	add_file("a", "x");
	cr_assert_eq(cpio_find(ar, arlen, "a", &f, err, sizeof(err)), 0, "%s", err);
	expect_find_fail(arlen, "b", "no trailer (archive ends at offset 0x74)");
}

Test(cpio, truncated_header)
{
	reset();
	add_file("a", "x");
	trailer();
	expect_next_fail(50, 0, "truncated header at offset 0x0 (50 bytes left, need 110)");
	/* Second header cut. */
	expect_find_fail(0x74 + 109, "zz", "truncated header at offset 0x74");
}

Test(cpio, bad_magic)
{
	reset();
	add_file("a", "x");
	trailer();
	ar[5] = '7'; /* "070707": old portable format */
	expect_next_fail(arlen, 0, "bad magic at offset 0x0");
	reset();
	add_file("a", "x");
	trailer();
	ar[0x74] = 'X';
	expect_find_fail(arlen, "zz", "bad magic at offset 0x74");
}

Test(cpio, bad_hex_every_field)
{
	static const char *const names[] = {
		"ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
		"devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check",
	};
	char msg[80];
	unsigned i;

	for (i = 0; i < 13; i++) {
		size_t h;

		reset();
		h = add_file("a", "x");
		trailer();
		set_field(h, i, i % 2 ? "0000 001" : "-0000001");
		snprintf(msg, sizeof(msg), "%s field is not 8 hex digits", names[i]);
		expect_next_fail(arlen, 0, msg);
	}
}

Test(cpio, mixed_case_hex_ok)
{
	struct cpio_file f;
	size_t h, off = 0;

	reset();
	h = add_file("a", "x");
	trailer();
	set_field(h, 1, "000081a4");
	cr_assert_eq(cpio_next(ar, arlen, &off, &f, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(f.mode, 0100644);
}

Test(cpio, huge_filesize)
{
	size_t h;

	reset();
	h = add_file("a", "x");
	trailer();
	set_field(h, 6, "FFFFFFFF");
	expect_next_fail(arlen, 0, "\"a\" at offset 0x0: data (0xffffffff bytes) beyond the archive");
}

Test(cpio, data_just_beyond_archive)
{
	reset();
	add_file("abc", "0123456789");
	/* header 110 + name 4 = 114 -> data at 116, 10 bytes -> 126 */
	expect_next_fail(125, 0, "data (0xa bytes) beyond the archive (0x7d bytes)");
}

Test(cpio, huge_namesize)
{
	size_t h;

	reset();
	h = add_file("a", "x");
	trailer();
	set_field(h, 11, "FFFFFFFF");
	expect_next_fail(arlen, 0, "name (0xffffffff bytes) beyond the archive");
}

Test(cpio, zero_namesize)
{
	size_t h;

	reset();
	h = add_file("a", "x");
	trailer();
	set_field(h, 11, "00000000");
	expect_next_fail(arlen, 0, "empty name (namesize 0)");
}

Test(cpio, name_without_nul)
{
	size_t h;

	reset();
	h = add_file("abc", "x");
	trailer();
	set_field(h, 11, "00000003"); /* "abc" without its NUL */
	expect_next_fail(arlen, 0, "name is not NUL-terminated");
}

Test(cpio, name_with_embedded_nul)
{
	size_t h;

	reset();
	h = add_file("abc", "x");
	trailer();
	ar[h + 110 + 1] = '\0';
	expect_next_fail(arlen, 0, "name is not NUL-terminated");
}

Test(cpio, name_cut_by_archive_end)
{
	reset();
	add_file("abcdef", "x");
	expect_next_fail(113, 0, "name (0x7 bytes) beyond the archive (0x71 bytes)");
}

Test(cpio, offset_beyond_len)
{
	reset();
	add_file("a", "x");
	trailer();
	expect_next_fail(arlen, arlen + 100, "no trailer");
}

Test(cpio, trailer_is_not_a_file)
{
	struct cpio_file f;

	reset();
	trailer();
	add_file("after", "x");
	cr_assert_eq(cpio_find(ar, arlen, "TRAILER!!!", &f, err, sizeof(err)), -ENOENT);
	cr_assert_eq(cpio_find(ar, arlen, "after", &f, err, sizeof(err)), -ENOENT);
}
