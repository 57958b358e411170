/* SPDX-License-Identifier: Apache-2.0 */
/* json_test.c: unit tests for tools/json.c (grammar checks, lookups, string decoding). */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "tools/json.h"

static struct json_tok toks[256];
static struct json_doc doc;
static char err[128];

static int parse(const char *s)
{
	return json_parse(&doc, s, strlen(s), toks, ARRAY_SIZE(toks), err, sizeof(err));
}

Test(json, manifest_lookups)
{
	char s[64];
	uint64_t v;
	int img, layers, l, cfg;

	cr_assert_eq(parse(" [ {\"Config\": \"c.json\", \"RepoTags\": [\"a:1\", {\"x\": [1, 2]}],"
			   " \"Layers\": [\"l1/layer.tar\", \"l2/layer.tar\"], \"n\": 12345,"
			   " \"t\": true, \"f\": false, \"z\": null, \"e\": -1.5e+3} ]\n"), 0, "%s", err);
	cr_assert_eq(doc.toks[0].type, JSON_ARRAY);
	cr_assert_eq(doc.toks[0].size, 1);
	img = json_at(&doc, 0, 0);
	cr_assert_eq(json_at(&doc, 0, 1), -ENOENT);
	cr_assert_eq(doc.toks[img].size, 8);
	layers = json_get(&doc, (uint32_t)img, "Layers");
	cr_assert_geq(layers, 0, "the member after a nested array is found");
	l = json_at(&doc, (uint32_t)layers, 1);
	cr_assert_eq(json_string(&doc, (uint32_t)l, s, sizeof(s)), 12);
	cr_assert_str_eq(s, "l2/layer.tar");
	cfg = json_get(&doc, (uint32_t)img, "Config");
	cr_assert(json_string_is(&doc, (uint32_t)cfg, "c.json"));
	cr_assert_eq(json_u64(&doc, (uint32_t)json_get(&doc, (uint32_t)img, "n"), 1u << 20, &v), 0);
	cr_assert_eq(v, 12345);
	cr_assert_eq(json_u64(&doc, (uint32_t)json_get(&doc, (uint32_t)img, "n"), 12344, &v), -EINVAL);
	cr_assert_eq(json_u64(&doc, (uint32_t)json_get(&doc, (uint32_t)img, "e"), 1u << 20, &v), -EINVAL);
	cr_assert_eq(json_u64(&doc, (uint32_t)cfg, 1u << 20, &v), -EINVAL, "a string is no number");
	cr_assert_eq(doc.toks[json_get(&doc, (uint32_t)img, "t")].type, JSON_BOOL);
	cr_assert_eq(doc.toks[json_get(&doc, (uint32_t)img, "z")].type, JSON_NULL);
	cr_assert_eq(json_get(&doc, (uint32_t)img, "missing"), -ENOENT);
	cr_assert_eq(json_get(&doc, 0, "Layers"), -EINVAL, "an array has no members");
	cr_assert_eq(json_at(&doc, (uint32_t)img, 0), -EINVAL, "an object has no elements");
	cr_assert_eq(doc.toks[0].next, doc.ntoks);
}

Test(json, string_escapes)
{
	char s[32];

	cr_assert_eq(parse("[\"a\\\"b\\\\c\\/d\\n\\t\", \"\\u00e9\\u20ac\", \"\\ud83d\\ude00\", \"\\u0000\","
			   " \"\\ud83d\", \"\\ude00x\", \"\\u0041\"]"), 0, "%s", err);
	cr_assert_eq(json_string(&doc, (uint32_t)json_at(&doc, 0, 0), s, sizeof(s)), 9);
	cr_assert_str_eq(s, "a\"b\\c/d\n\t");
	cr_assert_eq(json_string(&doc, (uint32_t)json_at(&doc, 0, 1), s, sizeof(s)), 5);
	cr_assert_str_eq(s, "\xc3\xa9\xe2\x82\xac");
	cr_assert_eq(json_string(&doc, (uint32_t)json_at(&doc, 0, 2), s, sizeof(s)), 4);
	cr_assert_str_eq(s, "\xf0\x9f\x98\x80");
	cr_assert_eq(json_string(&doc, (uint32_t)json_at(&doc, 0, 3), s, sizeof(s)), -EINVAL, "U+0000");
	cr_assert_eq(json_string(&doc, (uint32_t)json_at(&doc, 0, 4), s, sizeof(s)), -EINVAL, "lone high");
	cr_assert_eq(json_string(&doc, (uint32_t)json_at(&doc, 0, 5), s, sizeof(s)), -EINVAL, "lone low");
	cr_assert_eq(json_string(&doc, (uint32_t)json_at(&doc, 0, 6), s, 1), -E2BIG);
	cr_assert_eq(json_string(&doc, 0, s, sizeof(s)), -EINVAL, "an array is no string");
}

Test(json, empty_containers_and_scalars)
{
	cr_assert_eq(parse("{}"), 0);
	cr_assert_eq(doc.ntoks, 1);
	cr_assert_eq(parse("[[], {}, []]"), 0);
	cr_assert_eq(doc.toks[0].size, 3);
	cr_assert_eq(json_at(&doc, 0, 2), 3);
	cr_assert_eq(parse("0"), 0);
	cr_assert_eq(parse("-0.5E-2"), 0);
}

Test(json, hostile_text)
{
	static const char *const bad[] = {
		"", " ", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{1:2}", "[01]", "[1.]", "[1e]", "[-]",
		"[\"a]", "[\"a\nb\"]", "[\"\\x\"]", "[\"\\u12g4\"]", "[\"\\u12\"]", "[tru]", "[nul]",
		"[1] [2]", "[1]x", "{\"a\":1", "[", "\"\\", "[+1]", "[.5]", "[\"\\\0\"]",
	};
	char deep[JSON_DEPTH_MAX + 3];

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(parse(bad[i]), -EINVAL, "accepted bad[%u] %s", i, bad[i]);
		cr_assert(strstr(err, "at byte"), "%s", err);
	}
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = 0;
	cr_assert_eq(parse(deep), -EINVAL);
	cr_assert(strstr(err, "deep"), "%s", err);
	cr_assert_eq(json_parse(&doc, "[1,2,3]", 7, toks, 3, err, sizeof(err)), -E2BIG);
	cr_assert_eq(json_parse(&doc, "[1,2,3]", 7, toks, 4, err, sizeof(err)), 0);
	cr_assert_eq(json_parse(&doc, "[1]\0", 4, toks, 4, err, sizeof(err)), -EINVAL, "NUL after the value");
}
