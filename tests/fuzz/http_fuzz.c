/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_fuzz.c: libFuzzer over what pvhd reads from a client: the input is
 * a request (head and body).  The head goes through userland/lib/http.c
 * (then the path split and the query lookup), the body through the JSON
 * decoder of the resource the path names (userland/pvhd/spec.c on
 * tools/json.c).  Oracles besides ASan/UBSan: a head that parses is whole
 * and within its limits; and whatever bytes jsonw.c writes as a string,
 * tools/json.c parses back as one valid JSON string.
 */
#include <stdlib.h>
#include <string.h>

#include "tools/json.h"
#include "userland/lib/http.h"
#include "userland/lib/jsonw.h"
#include "userland/pvhd/spec.h"

static struct spec_exec ex;
static struct pvhv_mgmt_create create;
static struct spec_net net;

static void check(bool ok)
{
	if (!ok)
		abort();
}

/* jsonw's escaping of any bytes is JSON that parses back into one string. */
static void writer_round_trip(const char *p, size_t n)
{
	static char out[6 * 4096 + 64];
	static struct json_tok toks[4];
	struct json_doc doc;
	struct jsonw w;
	char err[64];

	n = n > 4096 ? 4096 : n;
	jsonw_init(&w, out, sizeof(out));
	jsonw_strn(&w, p, n);
	check(!w.overflow);
	check(json_parse(&doc, out, w.len, toks, 4, err, sizeof(err)) == 0 && doc.toks[0].type == JSON_STRING);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct http_request req;
	char err[HTTP_ERRLEN], serr[SPEC_ERRLEN], buf[HTTP_PATH_MAX];
	const char *seg[HTTP_SEGS_MAX], *body;
	enum spec_action a;
	uint64_t v;
	size_t blen;
	int rc, n;

	/* Exactly size bytes, so ASan sees a read past them. */
	char *copy = malloc(size ? size : 1);

	memcpy(copy, in, size);
	rc = http_parse_request(copy, size, &req, err, sizeof(err));
	check(rc == 1 || rc == 0 || (rc <= -400 && rc > -600));
	check(rc != 0 || size < HTTP_HEAD_MAX);
	if (rc == 1) {
		check(req.head_len >= 4 && req.head_len <= size && req.head_len <= HTTP_HEAD_MAX);
		check(req.path[0] == '/' && strlen(req.path) < HTTP_PATH_MAX);
		body = copy + req.head_len;
		blen = size - req.head_len;
		n = http_split_path(req.path, buf, sizeof(buf), seg, HTTP_SEGS_MAX);
		check(n <= HTTP_SEGS_MAX);
		http_query_u64(req.query, "after", UINT64_MAX, &v);
		if (n > 0 && !strcmp(seg[n - 1], "exec")) {
			if (!spec_decode_exec(body, blen, &ex, serr, sizeof(serr)))
				check(ex.argc >= 1 && ex.argv[0][0] && !ex.argv[ex.argc] && (!ex.cwd[0] || ex.cwd[0] == '/'));
		} else if (n > 0 && !strcmp(seg[n - 1], "actions")) {
			if (!spec_decode_action(body, blen, &a, serr, sizeof(serr)))
				check(a >= SPEC_START && a <= SPEC_STOP);
		} else if (!spec_decode_create("fuzz", body, blen, &create, &net, serr, sizeof(serr))) {
			check(create.memory_mib >= 1 && create.vcpus >= 1 && create.vcpus <= SPEC_VCPUS_MAX);
			check(memchr(create.cmdline, 0, sizeof(create.cmdline)) && memchr(create.kernel, 0, sizeof(create.kernel)));
			for (unsigned k = 0; k < 4; k++)
				check(memchr(create.disks[k], 0, sizeof(create.disks[k])) != NULL);
		}
		writer_round_trip(body, blen);
	}
	free(copy);
	return 0;
}
