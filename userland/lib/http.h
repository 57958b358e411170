/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h: a checked parser for the head of an HTTP/1.1 request (RFC 9112)
 * and the few pieces of a response that pvhd writes.
 *
 * Pure (only lib/base.h): the daemon feeds it the bytes read so far and it
 * answers "complete", "need more" or a status with a message naming what
 * and where.  It accepts only what pvhd serves: origin-form targets of
 * printable ASCII, a body delimited by Content-Length (no Transfer-Encoding),
 * at most HTTP_HEADERS_MAX header lines, the whole head within HTTP_HEAD_MAX.
 */
#ifndef USERLAND_HTTP_H
#define USERLAND_HTTP_H

#include "lib/base.h"

#define HTTP_HEAD_MAX 8192        /* request line and headers, CRLFs included */
#define HTTP_LINE_MAX 2048        /* the request line */
#define HTTP_HEADERS_MAX 48
#define HTTP_PATH_MAX 256
#define HTTP_QUERY_MAX 256
#define HTTP_SEGS_MAX 8
#define HTTP_ERRLEN 160
#define HTTP_BEARER_MAX 128       /* bytes of an "Authorization: Bearer" credential */

enum http_method { HTTP_OTHER, HTTP_GET, HTTP_HEAD, HTTP_PUT, HTTP_POST, HTTP_DELETE, HTTP_PATCH };

struct http_request {
	enum http_method method;
	char method_name[16];
	char path[HTTP_PATH_MAX];   /* the target up to '?' (no percent-decoding: pvhd's names need none) */
	char query[HTTP_QUERY_MAX]; /* after '?', "" for none */
	bool has_length;
	uint64_t content_length;    /* 0 without Content-Length */
	bool keep_alive;            /* HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with keep-alive */
	bool expect_continue;       /* "Expect: 100-continue" */
	bool auth_seen;             /* an Authorization header came */
	bool has_bearer;            /* exactly one, "Bearer CREDENTIAL" with a credential of a sane size */
	char bearer[HTTP_BEARER_MAX + 1]; /* its CREDENTIAL ("" without) */
	size_t head_len;            /* bytes of the head, the blank line included */
};

/*
 * Parses the head at buf[0..len).  Returns 1 with *req filled when the
 * whole head (through the blank line) is there; 0 when it is not yet and
 * may still come (len < HTTP_HEAD_MAX); or a negative HTTP status with a
 * message in err: -400 (malformed, a duplicate or bad Content-Length, bytes
 * that are not allowed), -414 (target too long), -431 (head or a header too
 * large, too many headers), -501 (Transfer-Encoding), -505 (not HTTP/1.x).
 */
int http_parse_request(const char *buf, size_t len, struct http_request *req, char *err, size_t errlen);

/*
 * Splits a path "/a/b/c" into at most max segments (pointers into out,
 * which holds NUL-terminated copies; outlen >= strlen(path) + 1).  Returns
 * the count, or -1 for an empty segment ("//", a trailing '/' other than
 * the root's), "." or "..", or more than max segments.
 */
int http_split_path(const char *path, char *out, size_t outlen, const char **seg, int max);

/*
 * The value of parameter NAME in a query "a=1&b=2" as an unsigned decimal
 * number up to max: 1 found (into *v), 0 absent, -1 present but not such a number.
 */
int http_query_u64(const char *query, const char *name, uint64_t max, uint64_t *v);

/*
 * True when the request carries the bearer credential token[0..n): the
 * comparison takes the same time wherever the two differ (and for any
 * credential of n bytes), so a network client cannot find a token byte by
 * byte.  A missing or second Authorization header, another scheme, or a
 * credential of another length is false.
 */
bool http_bearer_ok(const struct http_request *req, const char *token, size_t n);

/* "OK", "Not Found", ... ("Unknown" for a status this file does not name). */
const char *http_reason(int status);

/*
 * Writes a response head (status line, Content-Type: application/json,
 * Content-Length, Connection: keep-alive or close) into buf.
 * Returns its length, or -1 if it does not fit in cap.
 */
int http_format_head(char *buf, size_t cap, int status, uint64_t content_length, bool keep_alive);

#endif
