/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.h: a checked JSON (RFC 8259) tokenizer with the few lookups image manifests need.
 *
 * Pure: json_parse() checks the whole text against the grammar (strings,
 * escapes, numbers, literals, nesting at most JSON_DEPTH_MAX deep, nothing
 * after the value) and fills a caller's token array in document order:
 * a container's token is followed by its children (an object's as key, value,
 * key, value ...); each token's `next` is the index just past its subtree.
 * Strings are decoded only on request (json_string), into the caller's buffer.
 */
#ifndef PVHV_TOOLS_JSON_H
#define PVHV_TOOLS_JSON_H

#include "lib/base.h"

#define JSON_DEPTH_MAX 32

enum json_type { JSON_NULL = 1, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_tok {
	enum json_type type;
	uint32_t start, end; /* bytes of the text; a string's exclude its quotes */
	uint32_t size;       /* array: elements; object: members; else 0 */
	uint32_t next;       /* index of the token after this one's subtree */
};

struct json_doc {
	const char *text;
	size_t len;
	struct json_tok *toks;
	uint32_t ntoks;
};

/*
 * Parses text[0..len) into toks[0..max).  Returns 0 with doc filled (the top
 * value is token 0), or -EINVAL (bad syntax, with the byte offset) /
 * -E2BIG (more than max tokens, or text of 4 GiB or more) with a message.
 */
int json_parse(struct json_doc *doc, const char *text, size_t len, struct json_tok *toks,
	       uint32_t max, char *err, size_t errlen);

/* Index of object obj's member called key (the value's token), or -ENOENT; -EINVAL if obj is no object. */
int json_get(const struct json_doc *doc, uint32_t obj, const char *key);

/* Index of array arr's element i, or -ENOENT past the end; -EINVAL if arr is no array. */
int json_at(const struct json_doc *doc, uint32_t arr, uint32_t i);

/*
 * Decodes string token t into out (UTF-8, NUL-terminated).  Returns its
 * length, or -EINVAL (not a string, or it holds U+0000 or a lone surrogate)
 * or -E2BIG (does not fit in outlen).
 */
int json_string(const struct json_doc *doc, uint32_t t, char *out, size_t outlen);

/* True when token t is a string equal to s once decoded. */
bool json_string_is(const struct json_doc *doc, uint32_t t, const char *s);

/* Token t as a non-negative integer up to max: 0, or -EINVAL. */
int json_u64(const struct json_doc *doc, uint32_t t, uint64_t max, uint64_t *out);

#endif
