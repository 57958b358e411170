/* SPDX-License-Identifier: Apache-2.0 */
/* json.c: checked JSON tokenizer and lookups (see json.h). */
#include "tools/json.h"

struct parser {
	const char *s;
	size_t len, pos;
	struct json_tok *toks;
	uint32_t n, max;
	char *err;
	size_t errlen;
};

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
				   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int syntax(struct parser *p, const char *what)
{
	return errorf(-EINVAL, p->err, p->errlen, "JSON: %s at byte %zu", what, p->pos);
}

static int new_tok(struct parser *p, enum json_type type, size_t start)
{
	if (p->n >= p->max)
		return errorf(-E2BIG, p->err, p->errlen, "JSON: more than %u tokens", p->max);
	p->toks[p->n] = (struct json_tok){ .type = type, .start = (uint32_t)start };
	return (int)p->n++;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string starting at the opening quote: checks escapes and control characters. */
static int parse_string(struct parser *p)
{
	int t = new_tok(p, JSON_STRING, ++p->pos);

	if (t < 0)
		return t;
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->s[p->pos];

		if (c == '"') {
			p->toks[t].end = (uint32_t)p->pos++;
			return t;
		}
		if (c < 0x20)
			return syntax(p, "control character in a string");
		if (c == '\\') {
			if (++p->pos >= p->len)
				break;
			c = (unsigned char)p->s[p->pos];
			if (c == 'u') {
				for (int i = 1; i <= 4; i++)
					if (p->pos + i >= p->len || !is_hex(p->s[p->pos + i]))
						return syntax(p, "bad \\u escape");
				p->pos += 4;
			} else if (!strchr("\"\\/bfnrt", c) || !c) {
				return syntax(p, "bad escape");
			}
		}
		p->pos++;
	}
	return syntax(p, "unterminated string");
}

static int parse_number(struct parser *p)
{
	size_t start = p->pos, d;
	int t;

	if (p->pos < p->len && p->s[p->pos] == '-')
		p->pos++;
	d = p->pos;
	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
		p->pos++;
	if (p->pos == d || (p->s[d] == '0' && p->pos - d > 1))
		return syntax(p, "bad number");
	if (p->pos < p->len && p->s[p->pos] == '.') {
		d = ++p->pos;
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
		if (p->pos == d)
			return syntax(p, "bad fraction");
	}
	if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
			p->pos++;
		d = p->pos;
		while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
		if (p->pos == d)
			return syntax(p, "bad exponent");
	}
	t = new_tok(p, JSON_NUMBER, start);
	if (t >= 0)
		p->toks[t].end = (uint32_t)p->pos;
	return t;
}

static int parse_value(struct parser *p, unsigned depth)
{
	static const struct { const char *word; enum json_type type; } lits[] = {
		{ "true", JSON_BOOL }, { "false", JSON_BOOL }, { "null", JSON_NULL },
	};
	int t, rc;

	skip_ws(p);
	if (p->pos >= p->len)
		return syntax(p, "value expected");
	char c = p->s[p->pos];
	if (c == '"')
		return parse_string(p);
	if (c == '-' || (c >= '0' && c <= '9'))
		return parse_number(p);
	for (unsigned i = 0; i < ARRAY_SIZE(lits); i++) {
		size_t n = strlen(lits[i].word);

		if (p->len - p->pos >= n && !memcmp(p->s + p->pos, lits[i].word, n)) {
			t = new_tok(p, lits[i].type, p->pos);
			if (t < 0)
				return t;
			p->pos += n;
			p->toks[t].end = (uint32_t)p->pos;
			return t;
		}
	}
	if (c != '[' && c != '{')
		return syntax(p, "unexpected character");
	if (depth >= JSON_DEPTH_MAX)
		return syntax(p, "nested too deep");
	t = new_tok(p, c == '[' ? JSON_ARRAY : JSON_OBJECT, p->pos++);
	if (t < 0)
		return t;
	char close = c == '[' ? ']' : '}';
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close) {
		p->pos++;
	} else {
		for (;;) {
			if (close == '}') {
				skip_ws(p);
				if (p->pos >= p->len || p->s[p->pos] != '"')
					return syntax(p, "member name expected");
				rc = parse_string(p);
				if (rc < 0)
					return rc;
				skip_ws(p);
				if (p->pos >= p->len || p->s[p->pos] != ':')
					return syntax(p, "':' expected");
				p->pos++;
			}
			rc = parse_value(p, depth + 1);
			if (rc < 0)
				return rc;
			p->toks[t].size++;
			skip_ws(p);
			if (p->pos < p->len && p->s[p->pos] == ',') {
				p->pos++;
				continue;
			}
			if (p->pos < p->len && p->s[p->pos] == close) {
				p->pos++;
				break;
			}
			return syntax(p, close == ']' ? "',' or ']' expected" : "',' or '}' expected");
		}
	}
	p->toks[t].end = (uint32_t)p->pos;
	return t;
}

int json_parse(struct json_doc *doc, const char *text, size_t len, struct json_tok *toks,
	       uint32_t max, char *err, size_t errlen)
{
	struct parser p = { .s = text, .len = len, .toks = toks, .max = max, .err = err, .errlen = errlen };
	int rc;

	if (len >= UINT32_MAX)
		return errorf(-E2BIG, err, errlen, "JSON: text of %zu bytes", len);
	rc = parse_value(&p, 0);
	if (rc < 0)
		return rc;
	skip_ws(&p);
	if (p.pos != len)
		return syntax(&p, "text after the value");
	/* Every token's subtree ends where the next sibling starts: set next from the end. */
	for (uint32_t i = p.n; i-- > 0;) {
		uint32_t j = i + 1;

		if (toks[i].type == JSON_ARRAY || toks[i].type == JSON_OBJECT) {
			uint32_t items = toks[i].size * (toks[i].type == JSON_OBJECT ? 2 : 1);

			for (uint32_t k = 0; k < items; k++)
				j = toks[j].next;
		}
		toks[i].next = j;
	}
	doc->text = text;
	doc->len = len;
	doc->toks = toks;
	doc->ntoks = p.n;
	return 0;
}

int json_get(const struct json_doc *doc, uint32_t obj, const char *key)
{
	if (obj >= doc->ntoks || doc->toks[obj].type != JSON_OBJECT)
		return -EINVAL;
	uint32_t k = obj + 1;
	for (uint32_t i = 0; i < doc->toks[obj].size; i++) {
		uint32_t v = doc->toks[k].next;

		if (json_string_is(doc, k, key))
			return (int)v;
		k = doc->toks[v].next;
	}
	return -ENOENT;
}

int json_at(const struct json_doc *doc, uint32_t arr, uint32_t i)
{
	if (arr >= doc->ntoks || doc->toks[arr].type != JSON_ARRAY)
		return -EINVAL;
	if (i >= doc->toks[arr].size)
		return -ENOENT;
	uint32_t e = arr + 1;
	while (i--)
		e = doc->toks[e].next;
	return (int)e;
}

static unsigned hex4(const char *s)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v = v << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

int json_string(const struct json_doc *doc, uint32_t t, char *out, size_t outlen)
{
	if (t >= doc->ntoks || doc->toks[t].type != JSON_STRING || !outlen)
		return -EINVAL;
	const char *s = doc->text + doc->toks[t].start, *end = doc->text + doc->toks[t].end;
	size_t o = 0;

	while (s < end) {
		unsigned cp;
		char buf[4];
		size_t n;

		if (*s != '\\') {
			buf[0] = *s++;
			n = 1;
		} else {
			char c = s[1];
			s += 2;
			if (c != 'u') {
				static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
				buf[0] = to[strchr(from, c) - from];
				n = 1;
			} else {
				cp = hex4(s);
				s += 4;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return -EINVAL;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (end - s < 6 || s[0] != '\\' || s[1] != 'u')
						return -EINVAL;
					unsigned lo = hex4(s + 2);
					if (lo < 0xdc00 || lo > 0xdfff)
						return -EINVAL;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					s += 6;
				}
				if (cp == 0)
					return -EINVAL;
				if (cp < 0x80) {
					buf[0] = (char)cp, n = 1;
				} else if (cp < 0x800) {
					buf[0] = (char)(0xc0 | cp >> 6), buf[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
				} else if (cp < 0x10000) {
					buf[0] = (char)(0xe0 | cp >> 12), buf[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
					buf[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
				} else {
					buf[0] = (char)(0xf0 | cp >> 18), buf[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
					buf[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), buf[3] = (char)(0x80 | (cp & 0x3f));
					n = 4;
				}
			}
		}
		if (o + n + 1 > outlen)
			return -E2BIG;
		memcpy(out + o, buf, n);
		o += n;
	}
	out[o] = 0;
	return (int)o;
}

bool json_string_is(const struct json_doc *doc, uint32_t t, const char *s)
{
	char buf[256];
	int n = json_string(doc, t, buf, sizeof(buf));

	return n >= 0 && (size_t)n == strlen(s) && !memcmp(buf, s, (size_t)n);
}

int json_u64(const struct json_doc *doc, uint32_t t, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (t >= doc->ntoks || doc->toks[t].type != JSON_NUMBER)
		return -EINVAL;
	for (uint32_t i = doc->toks[t].start; i < doc->toks[t].end; i++) {
		char c = doc->text[i];

		if (c < '0' || c > '9' || v > (max - (uint64_t)(c - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(c - '0');
	}
	*out = v;
	return 0;
}
