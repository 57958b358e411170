/* SPDX-License-Identifier: Apache-2.0 */
/* http_test.c: unit tests for userland/lib/http.c: complete and partial heads, every rejection, limits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userland/lib/http.h"

static struct http_request req;
static char err[HTTP_ERRLEN];

TestSuite(http);

/* Parses s from a heap block of exactly its length, so ASan sees any read past it. */
static int parse_n(const char *s, size_t n)
{
	char *q = malloc(n ? n : 1);
	int rc;

	cr_assert(q);
	memcpy(q, s, n);
	err[0] = 0;
	rc = http_parse_request(q, n, &req, err, sizeof(err));
	free(q);
	return rc;
}

static int parse(const char *s)
{
	return parse_n(s, strlen(s));
}

Test(http, a_whole_head)
{
	const char *s = "PUT /api/v1/sandboxes/web?after=3 HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\n"
			"content-type: application/json\r\n\r\n{\"body\"";

	cr_assert_eq(parse(s), 1, "%s", err);
	cr_assert_eq(req.method, HTTP_PUT);
	cr_assert_str_eq(req.path, "/api/v1/sandboxes/web");
	cr_assert_str_eq(req.query, "after=3");
	cr_assert(req.has_length);
	cr_assert_eq(req.content_length, 42);
	cr_assert(req.keep_alive);
	cr_assert_eq(req.head_len, strlen(s) - strlen("{\"body\""));
}

Test(http, every_prefix_wants_more)
{
	const char *s = "GET /api/v1/info HTTP/1.1\r\nHost: x\r\n\r\n";

	for (size_t n = 0; n < strlen(s); n++)
		cr_assert_eq(parse_n(s, n), 0, "prefix %zu: %s", n, err);
	cr_assert_eq(parse(s), 1);
	cr_assert_eq(req.method, HTTP_GET);
	cr_assert(!req.has_length);
}

Test(http, connection_and_version)
{
	cr_assert_eq(parse("GET / HTTP/1.0\r\n\r\n"), 1);
	cr_assert(!req.keep_alive);
	cr_assert_eq(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 1);
	cr_assert(req.keep_alive);
	cr_assert_eq(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n"), 1);
	cr_assert(!req.keep_alive);
	cr_assert_eq(parse("PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n"), 1);
	cr_assert(req.expect_continue);
	cr_assert_eq(parse("BREW / HTTP/1.1\r\n\r\n"), 1);
	cr_assert_eq(req.method, HTTP_OTHER);
	cr_assert_str_eq(req.method_name, "BREW");
}

Test(http, rejections_name_what_and_where)
{
	static const struct {
		const char *in;
		int status;
		const char *msg;
	} bad[] = {
		{ "GET /\r\n\r\n", -400, "HTTP/1.x" },
		{ " / HTTP/1.1\r\n\r\n", -400, "no method" },
		{ "GET x HTTP/1.1\r\n\r\n", -400, "absolute path" },
		{ "GET /a\x01 HTTP/1.1\r\n\r\n", -400, "byte 0x01" },
		{ "GET / HTTP/2.0\r\n\r\n", -505, "HTTP/1.x" },
		{ "GET / HTTP/1.2\r\n\r\n", -505, "HTTP/1.2" },
		{ "GET / HTTP/1.1\nHost: x\r\n\r\n", -400, "bare" },
		{ "GET / HTTP/1.1\r\nHost x\r\n\r\n", -400, "name:" },
		{ "GET / HTTP/1.1\r\n folded\r\n\r\n", -400, "folding" },
		{ "GET / HTTP/1.1\r\nX: a\x02" "b\r\n\r\n", -400, "control byte" },
		{ "PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", -400, "second" },
		{ "PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -400, "not a number" },
		{ "PUT / HTTP/1.1\r\nContent-Length: 1234567890123456789\r\n\r\n", -400, "digits" },
		{ "PUT / HTTP/1.1\r\nContent-Length:\r\n\r\n", -400, "digits" },
		{ "PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", -501, "Transfer-Encoding" },
		{ "PUT / HTTP/1.1\r\nExpect: tea\r\n\r\n", -417, "100-continue" },
		{ "\r\n\r\n", -400, "no method" },
	};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		cr_assert_eq(parse(bad[k].in), bad[k].status, "case %zu: %d %s", k, parse(bad[k].in), err);
		cr_assert(strstr(err, bad[k].msg), "case %zu: %s", k, err);
	}
	/* A NUL before the head is complete is refused at once. */
	cr_assert_eq(parse_n("GET /\0", 6), -400);
	cr_assert(strstr(err, "NUL byte at byte 5"), "%s", err);
}

Test(http, limits)
{
	static char big[HTTP_HEAD_MAX * 2];
	size_t n;

	/* A head that never ends: refused once HTTP_HEAD_MAX bytes are in, not before. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX-Long: ", 24);
	cr_assert_eq(parse_n(big, HTTP_HEAD_MAX - 1), 0);
	cr_assert_eq(parse_n(big, HTTP_HEAD_MAX), -431);
	/* A target longer than the path buffer. */
	n = (size_t)snprintf(big, sizeof(big), "GET /%0*d HTTP/1.1\r\n\r\n", HTTP_PATH_MAX, 0);
	cr_assert_eq(parse_n(big, n), -414, "%s", err);
	/* A request line beyond HTTP_LINE_MAX. */
	n = (size_t)snprintf(big, sizeof(big), "GET /?%0*d HTTP/1.1\r\n\r\n", HTTP_LINE_MAX, 0);
	cr_assert_eq(parse_n(big, n), -414, "%s", err);
	/* Too many header lines. */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
	for (int k = 0; k <= HTTP_HEADERS_MAX; k++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X: %d\r\n", k);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
	cr_assert_eq(parse_n(big, n), -431, "%s", err);
}

Test(http, split_path)
{
	char buf[64];
	const char *seg[4];

	cr_assert_eq(http_split_path("/", buf, sizeof(buf), seg, 4), 0);
	cr_assert_eq(http_split_path("/api/v1/sandboxes/web", buf, sizeof(buf), seg, 4), 4);
	cr_assert_str_eq(seg[3], "web");
	cr_assert_eq(http_split_path("/api/v1/a/b/c", buf, sizeof(buf), seg, 4), -1);
	cr_assert_eq(http_split_path("/api//v1", buf, sizeof(buf), seg, 4), -1);
	cr_assert_eq(http_split_path("/api/v1/", buf, sizeof(buf), seg, 4), -1);
	cr_assert_eq(http_split_path("/api/../x", buf, sizeof(buf), seg, 4), -1);
	cr_assert_eq(http_split_path("/api/./x", buf, sizeof(buf), seg, 4), -1);
	cr_assert_eq(http_split_path("/abc", buf, 4, seg, 4), -1);
}

Test(http, query)
{
	uint64_t v = 7;

	cr_assert_eq(http_query_u64("", "after", 100, &v), 0);
	cr_assert_eq(http_query_u64("x=1&after=42", "after", 100, &v), 1);
	cr_assert_eq(v, 42);
	cr_assert_eq(http_query_u64("afterx=1", "after", 100, &v), 0);
	cr_assert_eq(http_query_u64("after=101", "after", 100, &v), -1);
	cr_assert_eq(http_query_u64("after=", "after", 100, &v), -1);
	cr_assert_eq(http_query_u64("after=1x", "after", 100, &v), -1);
	cr_assert_eq(http_query_u64("after=18446744073709551616", "after", UINT64_MAX, &v), -1);
	cr_assert_eq(http_query_u64("after=18446744073709551615", "after", UINT64_MAX, &v), 1);
	cr_assert_eq(v, UINT64_MAX);
}

Test(http, response_head)
{
	char buf[256];

	cr_assert_gt(http_format_head(buf, sizeof(buf), 507, 12, false), 0);
	cr_assert(strstr(buf, "HTTP/1.1 507 Insufficient Storage\r\n"), "%s", buf);
	cr_assert(strstr(buf, "Content-Length: 12\r\nConnection: close\r\n\r\n"), "%s", buf);
	cr_assert_eq(http_format_head(buf, 20, 200, 0, true), -1);
	cr_assert_str_eq(http_reason(999), "Unknown");
}

/* The head of a GET with the given header lines (each ending in CRLF). */
static int with_headers(const char *lines)
{
	char s[1024];

	snprintf(s, sizeof(s), "GET /api/v1/info HTTP/1.1\r\nHost: x\r\n%s\r\n", lines);
	return parse(s);
}

Test(http, bearer_token)
{
	static const char tok[] = "0123456789abcdef";
	static const struct {
		const char *lines;
		bool ok;
	} cases[] = {
		{ "Authorization: Bearer 0123456789abcdef\r\n", true },
		/* The scheme is case-insensitive (RFC 9110 11.1), the credential is not. */
		{ "authorization: bearer 0123456789abcdef \r\n", true },
		{ "Authorization: Bearer 0123456789ABCDEF\r\n", false },
		/* A difference in the last byte, a prefix, a longer credential. */
		{ "Authorization: Bearer 0123456789abcdee\r\n", false },
		{ "Authorization: Bearer 0123456789abcde\r\n", false },
		{ "Authorization: Bearer 0123456789abcdef0\r\n", false },
		/* No header, another scheme, an empty credential, two headers (even both right). */
		{ "", false },
		{ "Authorization: Basic 0123456789abcdef\r\n", false },
		{ "Authorization: Bearer \r\n", false },
		{ "Authorization: Bearer 0123456789abcdef\r\nAuthorization: Bearer 0123456789abcdef\r\n", false },
		{ "Authorization: Bearer x\r\nAuthorization: Bearer 0123456789abcdef\r\n", false },
	};

	for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
		cr_assert_eq(with_headers(cases[k].lines), 1, "case %zu: %s", k, err);
		cr_assert_eq(http_bearer_ok(&req, tok, 16), cases[k].ok, "case %zu: %s", k, cases[k].lines);
	}
	/* A credential past HTTP_BEARER_MAX is not kept (nor cut to a prefix that could match). */
	{
		char lines[400], big[HTTP_BEARER_MAX + 2];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		snprintf(lines, sizeof(lines), "Authorization: Bearer %s\r\n", big);
		cr_assert_eq(with_headers(lines), 1, "%s", err);
		cr_assert_not(req.has_bearer);
		big[HTTP_BEARER_MAX] = 0;
		cr_assert_not(http_bearer_ok(&req, big, HTTP_BEARER_MAX));
	}
	cr_assert_str_eq(http_reason(401), "Unauthorized");
}
