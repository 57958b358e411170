/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jsonw.h: a JSON (RFC 8259) writer into a caller's buffer.
 *
 * Pure (only lib/base.h).  Commas and nesting are tracked for the caller;
 * strings are escaped, and bytes that are not valid UTF-8 (a command's
 * output may hold anything) become U+FFFD, so the text is always valid
 * JSON.  Running out of room or nesting deeper than JSONW_DEPTH sets
 * `overflow` and writes nothing more: check it once at the end.
 */
#ifndef USERLAND_JSONW_H
#define USERLAND_JSONW_H

#include "lib/base.h"

#define JSONW_DEPTH 16

struct jsonw {
	char *buf;
	size_t cap, len;      /* buf[len] is kept NUL while len < cap */
	bool overflow;
	int depth;
	bool first[JSONW_DEPTH + 1]; /* nothing written yet at this depth */
	char closer[JSONW_DEPTH + 1]; /* '}' or ']' for the container open at this depth */
	bool after_key;
};

void jsonw_init(struct jsonw *w, char *buf, size_t cap);
void jsonw_object(struct jsonw *w);   /* { */
void jsonw_array(struct jsonw *w);    /* [ */
void jsonw_end(struct jsonw *w);      /* } or ], whichever is open */
/* A member's key inside an object; the value comes next. */
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_str(struct jsonw *w, const char *s);
/* s[0..n), which may hold NUL and any other byte. */
void jsonw_strn(struct jsonw *w, const char *s, size_t n);
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_i64(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

/* Shorthands for a member: jsonw_key then the value. */
void jsonw_kstr(struct jsonw *w, const char *key, const char *s);
void jsonw_ku64(struct jsonw *w, const char *key, uint64_t v);
void jsonw_kbool(struct jsonw *w, const char *key, bool v);

#endif
