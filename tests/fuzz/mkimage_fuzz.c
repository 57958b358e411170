/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mkimage_fuzz.c: libFuzzer over pvhv-mkimage's readers, tools/tar.c and tools/json.c.
 * The first byte picks: even, the rest is a tar archive handed over in pieces of at most
 * (byte >> 1) + 1 bytes, every entry's data read; odd, the rest is JSON, parsed and walked
 * with every lookup.  Checks: paths come out normalised (relative, no "." or ".." or empty
 * component), sizes within TAR_SIZE_MAX, data never more than the entry's size; JSON
 * tokens nest inside their parent and strings decode into what was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base.h"
#include "tools/json.h"
#include "tools/tar.h"

struct input {
	const uint8_t *p;
	size_t len, piece;
};

static long piece_read(void *ctx, void *buf, size_t len, char *err, size_t errlen)
{
	struct input *in = ctx;
	size_t n = MIN(MIN(len, in->len), in->piece);

	(void)err, (void)errlen;
	memcpy(buf, in->p, n);
	in->p += n;
	in->len -= n;
	return (long)n;
}

static void check_path(const char *p)
{
	if (p[0] == '/')
		abort();
	for (const char *c = p; *c;) {
		size_t n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			abort();
		c += n + (c[n] == '/');
		if (c[-1] == '/' && !*c)
			abort(); /* trailing slash */
	}
}

static void fuzz_tar(const uint8_t *data, size_t size, size_t piece)
{
	static struct tar_reader r;
	static struct tar_entry e;
	static uint8_t buf[777];
	struct input in = { data, size, piece };
	int rc;

	tar_init(&r, piece_read, &in);
	while ((rc = tar_next(&r, &e)) > 0) {
		uint64_t got = 0;
		long n;

		check_path(e.path);
		if (e.type == TAR_HARDLINK)
			check_path(e.link);
		if (e.size > TAR_SIZE_MAX || (e.type != TAR_REG && e.size) || e.mode > 07777)
			abort();
		while ((n = tar_read(&r, buf, sizeof(buf))) > 0)
			got += (uint64_t)n;
		if (n == 0 && got != e.size)
			abort();
		if (n < 0)
			break;
	}
	if (r.offset > size)
		abort();
}

static void fuzz_json(const uint8_t *data, size_t size)
{
	static struct json_tok toks[4096];
	static char s[65536];
	struct json_doc doc;

	if (json_parse(&doc, (const char *)data, size, toks, ARRAY_SIZE(toks), NULL, 0))
		return;
	for (uint32_t i = 0; i < doc.ntoks; i++) {
		const struct json_tok *t = &toks[i];
		uint64_t v;

		if (t->next <= i || t->next > doc.ntoks || t->end > size || t->start > t->end)
			abort();
		if (t->type == JSON_STRING) {
			int n = json_string(&doc, i, s, sizeof(s));
			if (n >= 0 && (strlen(s) != (size_t)n || (size_t)n > 4 * (t->end - t->start)))
				abort();
			if (n >= 0 && n < 200 && !memchr(s, 0, (size_t)n) && !json_string_is(&doc, i, s))
				abort();
		}
		if (t->type == JSON_NUMBER)
			json_u64(&doc, i, UINT64_MAX, &v);
		if (t->type == JSON_OBJECT) {
			json_get(&doc, i, "Layers");
			json_get(&doc, i, "mediaType");
		}
		if (t->type == JSON_ARRAY && t->size) {
			int last = json_at(&doc, i, t->size - 1);
			if (last <= (int)i || toks[last].next != t->next || json_at(&doc, i, t->size) != -ENOENT)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		fuzz_json(data + 1, size - 1);
	else
		fuzz_tar(data + 1, size - 1, (size_t)(data[0] >> 1) + 1);
	return 0;
}
