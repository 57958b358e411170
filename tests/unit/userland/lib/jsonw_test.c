/* SPDX-License-Identifier: Apache-2.0 */
/* jsonw_test.c: unit tests for userland/lib/jsonw.c: commas, nesting, escapes, invalid UTF-8, overflow. */
#include <criterion/criterion.h>
#include <string.h>

#include "userland/lib/jsonw.h"

static char buf[512];
static struct jsonw w;

TestSuite(jsonw);

Test(jsonw, nesting_and_commas)
{
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_object(&w);
	jsonw_kstr(&w, "a", "x");
	jsonw_key(&w, "b");
	jsonw_array(&w);
	jsonw_u64(&w, 0);
	jsonw_i64(&w, -12);
	jsonw_i64(&w, INT64_MIN);
	jsonw_object(&w);
	jsonw_end(&w);
	jsonw_null(&w);
	jsonw_end(&w);
	jsonw_kbool(&w, "c", false);
	jsonw_ku64(&w, "d", UINT64_MAX);
	jsonw_end(&w);
	cr_assert(!w.overflow);
	cr_assert_str_eq(buf, "{\"a\":\"x\",\"b\":[0,-12,-9223372036854775808,{},null],\"c\":false,"
			      "\"d\":18446744073709551615}");
}

Test(jsonw, escapes_and_bad_utf8)
{
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_strn(&w, "q\"b\\n\n\t\x01\x7f\0z", 11);
	cr_assert_str_eq(buf, "\"q\\\"b\\\\n\\n\\t\\u0001\\u007f\\u0000z\"");
	jsonw_init(&w, buf, sizeof(buf));
	/* Valid: é, €, U+1F600.  Invalid: a lone continuation, an overlong '/', a surrogate, a cut sequence. */
	jsonw_str(&w, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82");
	cr_assert_str_eq(buf, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
			      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\"");
}

Test(jsonw, overflow_is_sticky_and_bounded)
{
	char small[8];

	memset(small, 'X', sizeof(small));
	jsonw_init(&w, small, 6);
	jsonw_str(&w, "abcdef");
	cr_assert(w.overflow);
	cr_assert_eq(small[6], 'X');
	cr_assert_lt(strlen(small), 6);
	jsonw_init(&w, buf, sizeof(buf));
	for (int k = 0; k <= JSONW_DEPTH; k++)
		jsonw_array(&w);
	cr_assert(w.overflow);
	jsonw_init(&w, buf, sizeof(buf));
	jsonw_end(&w);
	cr_assert(w.overflow);
}
