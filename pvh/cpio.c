/* SPDX-License-Identifier: Apache-2.0 */
/* cpio.c: bounds-checked reader for "newc" cpio archives (the pvhv bundle format). */
#include "lib/base.h"
#include "pvh/cpio.h"

/*
 * newc header: "070701" then 13 fields of 8 ASCII hex digits: ino, mode,
 * uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
 * rdevminor, namesize, check.  The name (namesize bytes with its NUL)
 * follows, padded so header + name is a multiple of 4; the data follows,
 * padded to 4 (cpio(5), "New ASCII Format").
 */
#define HDR_SIZE 110
#define MAGIC "070701"
#define FIELD_MODE 1
#define FIELD_FILESIZE 6
#define FIELD_NAMESIZE 11
#define NR_FIELDS 13
#define TRAILER "TRAILER!!!"

static const char *const field_names[NR_FIELDS] = {
	"ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
	"devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check",
};

static bool parse_hex8(const char *s, uint32_t *v)
{
	uint32_t r = 0;
	unsigned i;

	for (i = 0; i < 8; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		r = r << 4 | d;
	}
	*v = r;
	return true;
}

int cpio_next(const void *ar, size_t len, size_t *off, struct cpio_file *out,
	      char *err, size_t errlen)
{
	const char *b = ar, *hdr, *name;
	uint32_t f[NR_FIELDS];
	uint64_t pos = *off, name_off, data_off, namesz, filesz;
	unsigned i;

	if (pos >= len)
		return errorf(-EINVAL, err, errlen,
			     "cpio: no trailer (archive ends at offset 0x%llx)",
			     (unsigned long long)len);
	if (len - pos < HDR_SIZE)
		return errorf(-EINVAL, err, errlen,
			     "cpio: truncated header at offset 0x%llx (%llu bytes left, need %u)",
			     (unsigned long long)pos,
			     (unsigned long long)(len - pos), HDR_SIZE);
	hdr = b + pos;
	if (memcmp(hdr, MAGIC, 6) != 0)
		return errorf(-EINVAL, err, errlen,
			     "cpio: bad magic at offset 0x%llx (want \"070701\", newc)",
			     (unsigned long long)pos);
	for (i = 0; i < NR_FIELDS; i++)
		if (!parse_hex8(hdr + 6 + 8 * i, &f[i]))
			return errorf(-EINVAL, err, errlen,
				     "cpio: header at offset 0x%llx: %s field is not 8 hex digits",
				     (unsigned long long)pos, field_names[i]);

	namesz = f[FIELD_NAMESIZE];
	filesz = f[FIELD_FILESIZE];
	name_off = pos + HDR_SIZE;
	if (namesz == 0)
		return errorf(-EINVAL, err, errlen,
			     "cpio: header at offset 0x%llx: empty name (namesize 0)",
			     (unsigned long long)pos);
	/* pos < len and both sizes < 2^32: no overflow in 64 bits. */
	if (name_off + namesz > len)
		return errorf(-EINVAL, err, errlen,
			     "cpio: header at offset 0x%llx: name (0x%llx bytes) beyond the archive (0x%llx bytes)",
			     (unsigned long long)pos, (unsigned long long)namesz,
			     (unsigned long long)len);
	name = b + name_off;
	if (name[namesz - 1] != '\0' || strnlen(name, namesz) != namesz - 1)
		return errorf(-EINVAL, err, errlen,
			     "cpio: header at offset 0x%llx: name is not NUL-terminated",
			     (unsigned long long)pos);
	data_off = ALIGN_UP(name_off + namesz, 4);
	if (data_off + filesz > len)
		return errorf(-EINVAL, err, errlen,
			     "cpio: \"%s\" at offset 0x%llx: data (0x%llx bytes) beyond the archive (0x%llx bytes)",
			     name, (unsigned long long)pos,
			     (unsigned long long)filesz, (unsigned long long)len);

	memset(out, 0, sizeof(*out));
	if (namesz == sizeof(TRAILER) && memcmp(name, TRAILER, namesz) == 0)
		return 0;
	out->name = name;
	out->namelen = namesz - 1;
	out->data = b + data_off;
	out->size = filesz;
	out->mode = f[FIELD_MODE];
	*off = ALIGN_UP(data_off + filesz, 4);
	return 1;
}

static const char *strip_dot_slash(const char *s)
{
	while (s[0] == '.' && s[1] == '/')
		s += 2;
	return s;
}

int cpio_find(const void *ar, size_t len, const char *name,
	      struct cpio_file *out, char *err, size_t errlen)
{
	const char *want = strip_dot_slash(name);
	struct cpio_file f;
	size_t off = 0;
	int rc;

	while ((rc = cpio_next(ar, len, &off, &f, err, errlen)) == 1) {
		if ((f.mode & CPIO_MODE_TYPE) != CPIO_MODE_REG)
			continue;
		if (strcmp(strip_dot_slash(f.name), want) == 0) {
			*out = f;
			return 0;
		}
	}
	if (rc < 0)
		return rc;
	return errorf(-ENOENT, err, errlen, "no file \"%s\" in bundle", name);
}
