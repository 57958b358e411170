/* SPDX-License-Identifier: Apache-2.0 */
/* jsonw.c: JSON text built piece by piece, escaped and bounded (see jsonw.h). */
#include "jsonw.h"

static void put(struct jsonw *w, const char *s, size_t n)
{
	if (w->overflow)
		return;
	if (n >= w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = 0;
}

static void putc1(struct jsonw *w, char c)
{
	put(w, &c, 1);
}

/* Before any value: a comma unless it is the first in its container or follows a key. */
static void value_start(struct jsonw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		putc1(w, ',');
	w->first[w->depth] = false;
}

void jsonw_init(struct jsonw *w, char *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
	w->first[0] = true;
	if (cap)
		buf[0] = 0;
	else
		w->overflow = true;
}

static void open(struct jsonw *w, char c)
{
	value_start(w);
	if (w->depth == JSONW_DEPTH) {
		w->overflow = true;
		return;
	}
	putc1(w, c);
	w->first[++w->depth] = true;
	w->closer[w->depth] = c == '{' ? '}' : ']';
}

void jsonw_object(struct jsonw *w)
{
	open(w, '{');
}

void jsonw_array(struct jsonw *w)
{
	open(w, '[');
}

void jsonw_end(struct jsonw *w)
{
	if (w->depth == 0) {
		w->overflow = true;
		return;
	}
	putc1(w, w->closer[w->depth--]);
}

void jsonw_key(struct jsonw *w, const char *key)
{
	jsonw_str(w, key);
	putc1(w, ':');
	w->after_key = true;
}

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlongs, surrogates or > U+10FFFF), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t want;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		want = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		want = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		want = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < want)
		return 0;
	for (size_t k = 1; k < want; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if ((want == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (want == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return want;
}

void jsonw_strn(struct jsonw *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char esc[8];

	value_start(w);
	putc1(w, '"');
	for (size_t k = 0; k < n && !w->overflow;) {
		size_t l = utf8_len(u + k, n - k);

		if (l == 0) {
			put(w, "\xef\xbf\xbd", 3);
			k++;
		} else if (u[k] == '"' || u[k] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)u[k];
			put(w, esc, 2);
			k++;
		} else if (u[k] < 0x20 || u[k] == 0x7f) {
			static const char hex[] = "0123456789abcdef";
			const char *named = u[k] == '\n' ? "\\n" : u[k] == '\t' ? "\\t" : u[k] == '\r' ? "\\r" : NULL;

			if (named) {
				put(w, named, 2);
			} else {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[u[k] >> 4];
				esc[5] = hex[u[k] & 15];
				put(w, esc, 6);
			}
			k++;
		} else {
			put(w, s + k, l);
			k += l;
		}
	}
	putc1(w, '"');
}

void jsonw_str(struct jsonw *w, const char *s)
{
	jsonw_strn(w, s, strlen(s));
}

void jsonw_u64(struct jsonw *w, uint64_t v)
{
	char d[24];
	int n = 0;

	value_start(w);
	do {
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, d + sizeof(d) - n, (size_t)n);
}

void jsonw_i64(struct jsonw *w, int64_t v)
{
	if (v >= 0) {
		jsonw_u64(w, (uint64_t)v);
		return;
	}
	value_start(w);
	putc1(w, '-');
	w->after_key = true; /* the digits continue this value: no comma */
	jsonw_u64(w, -(uint64_t)v);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	value_start(w);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_null(struct jsonw *w)
{
	value_start(w);
	put(w, "null", 4);
}

void jsonw_kstr(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	jsonw_str(w, s);
}

void jsonw_ku64(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_key(w, key);
	jsonw_u64(w, v);
}

void jsonw_kbool(struct jsonw *w, const char *key, bool v)
{
	jsonw_key(w, key);
	jsonw_bool(w, v);
}
