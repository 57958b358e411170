/* SPDX-License-Identifier: Apache-2.0 */
/* http.c: the head of an HTTP/1.1 request, checked byte by byte before anything is believed (see http.h). */
#include "http.h"

/* tchar of RFC 9110 5.6.2: what a method or a header name is made of. */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* Case-insensitive: s[0..n) equals the lower-case word w. */
static bool word_is(const char *s, size_t n, const char *w)
{
	size_t k = 0;

	for (; k < n && w[k]; k++)
		if (lower(s[k]) != w[k])
			return false;
	return k == n && !w[k];
}

/* Case-insensitive: the comma-separated list s[0..n) holds the lower-case token w. */
static bool list_has(const char *s, size_t n, const char *w)
{
	size_t i = 0;

	while (i < n) {
		size_t a, b;

		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		a = i;
		while (i < n && s[i] != ',')
			i++;
		b = i;
		while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
			b--;
		if (b > a && word_is(s + a, b - a, w))
			return true;
	}
	return false;
}

static const struct {
	const char *name;
	enum http_method m;
} methods[] = {
	{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "PUT", HTTP_PUT }, { "POST", HTTP_POST },
	{ "DELETE", HTTP_DELETE }, { "PATCH", HTTP_PATCH },
};

/* The request line s[0..n) (no CRLF): METHOD SP TARGET SP HTTP/1.x. */
static int request_line(const char *s, size_t n, struct http_request *req, bool *http10, char *err,
			size_t errlen)
{
	size_t i = 0, t0, t1, q;

	while (i < n && is_tchar(s[i]))
		i++;
	if (i == 0 || i >= n || s[i] != ' ')
		return errorf(-400, err, errlen, "request line: no method at byte %zu", i);
	if (i >= sizeof(req->method_name))
		return errorf(-400, err, errlen, "request line: a method of %zu bytes", i);
	memcpy(req->method_name, s, i);
	req->method_name[i] = 0;
	req->method = HTTP_OTHER;
	for (size_t k = 0; k < ARRAY_SIZE(methods); k++)
		if (!strcmp(req->method_name, methods[k].name))
			req->method = methods[k].m;
	t0 = ++i;
	while (i < n && s[i] != ' ') {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return errorf(-400, err, errlen, "request target: byte 0x%02x at byte %zu",
				      (unsigned char)s[i], i);
		i++;
	}
	t1 = i;
	if (t1 == t0 || s[t0] != '/')
		return errorf(-400, err, errlen, "request target: not an absolute path at byte %zu", t0);
	if (i >= n || n - i != 9 || memcmp(s + i, " HTTP/1.", 8))
		return errorf(i + 6 <= n && !memcmp(s + i, " HTTP/", 6) ? -505 : -400, err, errlen,
			      "request line: no \"HTTP/1.x\" at byte %zu", i);
	if (s[n - 1] != '0' && s[n - 1] != '1')
		return errorf(-505, err, errlen, "request line: HTTP/1.%c", s[n - 1]);
	*http10 = s[n - 1] == '0';
	for (q = t0; q < t1 && s[q] != '?'; q++)
		;
	if (q - t0 >= sizeof(req->path) || (q < t1 && t1 - q - 1 >= sizeof(req->query)))
		return errorf(-414, err, errlen, "request target: %zu bytes, at most %zu of path and %zu of query",
			      t1 - t0, sizeof(req->path) - 1, sizeof(req->query) - 1);
	memcpy(req->path, s + t0, q - t0);
	req->path[q - t0] = 0;
	if (q < t1) {
		memcpy(req->query, s + q + 1, t1 - q - 1);
		req->query[t1 - q - 1] = 0;
	}
	return 0;
}

/* Content-Length's value v[0..n): digits only, at most 18 of them (no overflow). */
static int content_length(const char *v, size_t n, struct http_request *req, size_t at, char *err, size_t errlen)
{
	uint64_t x = 0;

	if (req->has_length)
		return errorf(-400, err, errlen, "Content-Length: a second one at byte %zu", at);
	if (n == 0 || n > 18)
		return errorf(-400, err, errlen, "Content-Length: %zu digits at byte %zu", n, at);
	for (size_t k = 0; k < n; k++) {
		if (v[k] < '0' || v[k] > '9')
			return errorf(-400, err, errlen, "Content-Length: not a number at byte %zu", at + k);
		x = x * 10 + (uint64_t)(v[k] - '0');
	}
	req->has_length = true;
	req->content_length = x;
	return 0;
}

/* One header line s[0..n) (no CRLF) starting at byte `at` of the head. */
static int header(const char *s, size_t n, size_t at, struct http_request *req, bool http10, bool *conn_seen,
		  char *err, size_t errlen)
{
	size_t i = 0, v0, v1;

	while (i < n && is_tchar(s[i]))
		i++;
	if (i == 0 || i >= n || s[i] != ':')
		return errorf(-400, err, errlen, "header at byte %zu: no \"name:\"", at);
	v0 = i + 1;
	while (v0 < n && (s[v0] == ' ' || s[v0] == '\t'))
		v0++;
	v1 = n;
	while (v1 > v0 && (s[v1 - 1] == ' ' || s[v1 - 1] == '\t'))
		v1--;
	for (size_t k = v0; k < v1; k++)
		if (((unsigned char)s[k] < 0x20 && s[k] != '\t') || s[k] == 0x7f)
			return errorf(-400, err, errlen, "header at byte %zu: control byte 0x%02x in its value", at,
				      (unsigned char)s[k]);
	if (word_is(s, i, "content-length"))
		return content_length(s + v0, v1 - v0, req, at + v0, err, errlen);
	if (word_is(s, i, "transfer-encoding"))
		return errorf(-501, err, errlen, "Transfer-Encoding is not supported: send Content-Length");
	if (word_is(s, i, "connection")) {
		*conn_seen = true;
		if (list_has(s + v0, v1 - v0, "close"))
			req->keep_alive = false;
		else if (list_has(s + v0, v1 - v0, "keep-alive"))
			req->keep_alive = true;
		else
			req->keep_alive = !http10;
	} else if (word_is(s, i, "authorization")) {
		/* A second one makes the request ambiguous: it is refused (as no credential) rather than guessed. */
		bool bearer = v1 - v0 > 7 && word_is(s + v0, 6, "bearer") && s[v0 + 6] == ' ';
		size_t c0 = v0 + 7;

		while (bearer && c0 < v1 && s[c0] == ' ')
			c0++;
		if (req->auth_seen || !bearer || v1 - c0 == 0 || v1 - c0 > HTTP_BEARER_MAX) {
			req->auth_seen = true;
			req->has_bearer = false;
			req->bearer[0] = 0;
			return 0;
		}
		req->auth_seen = true;
		memcpy(req->bearer, s + c0, v1 - c0);
		req->bearer[v1 - c0] = 0;
		req->has_bearer = true;
	} else if (word_is(s, i, "expect")) {
		if (!word_is(s + v0, v1 - v0, "100-continue"))
			return errorf(-417, err, errlen, "Expect: only 100-continue is understood");
		req->expect_continue = true;
	}
	return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req, char *err, size_t errlen)
{
	size_t end = 0, pos, lines = 0;
	bool http10 = false, conn_seen = false;
	int rc;

	/* Find the blank line first: nothing is believed before the whole head is in. */
	for (size_t k = 0; k + 3 < len && k + 4 <= HTTP_HEAD_MAX; k++)
		if (buf[k] == '\r' && buf[k + 1] == '\n' && buf[k + 2] == '\r' && buf[k + 3] == '\n') {
			end = k + 4;
			break;
		}
	if (!end) {
		for (size_t k = 0; k < len && k < HTTP_HEAD_MAX; k++)
			if (buf[k] == 0 || (buf[k] == '\n' && (k == 0 || buf[k - 1] != '\r')))
				return errorf(-400, err, errlen, "a %s at byte %zu (lines end in CRLF)",
					      buf[k] ? "bare LF" : "NUL byte", k);
		if (len >= HTTP_HEAD_MAX)
			return errorf(-431, err, errlen, "request head: no end within %d bytes", HTTP_HEAD_MAX);
		return 0;
	}
	memset(req, 0, sizeof(*req));
	for (pos = 0; pos < end - 2; lines++) {
		size_t e = pos;

		while (buf[e] != '\r' && buf[e] != '\n' && buf[e])
			e++;
		if (buf[e] != '\r' || buf[e + 1] != '\n')
			return errorf(-400, err, errlen, "a %s at byte %zu (lines end in CRLF)",
				      buf[e] ? "bare CR or LF" : "NUL byte", e);
		if (lines == 0) {
			if (e - pos > HTTP_LINE_MAX)
				return errorf(-414, err, errlen, "request line: %zu bytes, at most %d", e - pos,
					      HTTP_LINE_MAX);
			rc = request_line(buf, e, req, &http10, err, errlen);
		} else if (lines > HTTP_HEADERS_MAX) {
			return errorf(-431, err, errlen, "more than %d header lines", HTTP_HEADERS_MAX);
		} else if (buf[pos] == ' ' || buf[pos] == '\t') {
			return errorf(-400, err, errlen, "header at byte %zu: obsolete line folding", pos);
		} else {
			rc = header(buf + pos, e - pos, pos, req, http10, &conn_seen, err, errlen);
		}
		if (rc)
			return rc;
		pos = e + 2;
	}
	if (!conn_seen)
		req->keep_alive = !http10;
	req->head_len = end;
	return 1;
}

int http_split_path(const char *path, char *out, size_t outlen, const char **seg, int max)
{
	size_t n = strlen(path);
	int count = 0;

	if (n + 1 > outlen || path[0] != '/')
		return -1;
	memcpy(out, path, n + 1);
	if (n == 1)
		return 0;
	for (char *p = out + 1;;) {
		char *slash = strchr(p, '/');

		if (slash)
			*slash = 0;
		if (!*p || !strcmp(p, ".") || !strcmp(p, "..") || count == max)
			return -1;
		seg[count++] = p;
		if (!slash)
			return count;
		p = slash + 1;
	}
}

int http_query_u64(const char *query, const char *name, uint64_t max, uint64_t *v)
{
	size_t nl = strlen(name);

	for (const char *p = query; *p;) {
		const char *amp = strchr(p, '&'), *e = amp ? amp : p + strlen(p);

		if ((size_t)(e - p) > nl && !memcmp(p, name, nl) && p[nl] == '=') {
			uint64_t x = 0;
			const char *d = p + nl + 1;

			if (d == e || e - d > 20)
				return -1;
			for (; d < e; d++) {
				if (*d < '0' || *d > '9' || x > (max - (uint64_t)(*d - '0')) / 10)
					return -1;
				x = x * 10 + (uint64_t)(*d - '0');
			}
			*v = x;
			return 1;
		}
		p = amp ? amp + 1 : e;
	}
	return 0;
}

bool http_bearer_ok(const struct http_request *req, const char *token, size_t n)
{
	unsigned char diff = 0;

	if (!req->has_bearer || !n || strlen(req->bearer) != n)
		return false;
	/* No early exit: every byte is compared whatever the first difference. */
	for (size_t k = 0; k < n; k++)
		diff |= (unsigned char)(req->bearer[k] ^ token[k]);
	return diff == 0;
}

const char *http_reason(int status)
{
	static const struct {
		int status;
		const char *text;
	} reasons[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" }, { 204, "No Content" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 408, "Request Timeout" }, { 409, "Conflict" }, { 411, "Length Required" },
		{ 413, "Content Too Large" }, { 414, "URI Too Long" }, { 417, "Expectation Failed" },
		{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
		{ 501, "Not Implemented" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" }, { 507, "Insufficient Storage" },
	};

	for (size_t k = 0; k < ARRAY_SIZE(reasons); k++)
		if (reasons[k].status == status)
			return reasons[k].text;
	return "Unknown";
}

int http_format_head(char *buf, size_t cap, int status, uint64_t content_length, bool keep_alive)
{
	int n = snprintf(buf, cap,
			 "HTTP/1.1 %d %s\r\nServer: pvhd\r\nContent-Type: application/json\r\n"
			 "Content-Length: %llu\r\nConnection: %s\r\n\r\n",
			 status, http_reason(status), (unsigned long long)content_length,
			 keep_alive ? "keep-alive" : "close");

	return n < 0 || (size_t)n >= cap ? -1 : n;
}
