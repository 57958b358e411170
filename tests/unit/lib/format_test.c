/* SPDX-License-Identifier: Apache-2.0 */
/* format_test.c: unit tests comparing lib/format.c's snprintf with the C library's. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/base.h"

/* lib/format.c, built with -Dvsnprintf=pvhv_vsnprintf -Dsnprintf=pvhv_snprintf. */
int pvhv_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int pvhv_snprintf(char *buf, size_t size, const char *fmt, ...);

#define BUF 512
#define GUARD 'Z'

static unsigned nchecks;

/*
 * Format with both implementations into every buffer size from 0 to the
 * full length + 2, comparing the return value, the bytes written and that
 * nothing past size was touched.
 */
static void PRINTF_LIKE(1, 2) check(const char *fmt, ...)
{
	char want[BUF], got[BUF];
	va_list ap, aq;
	int n, m;
	size_t size;

	va_start(ap, fmt);
	va_copy(aq, ap);
	n = vsnprintf(want, sizeof(want), fmt, aq);
	va_end(aq);
	cr_assert_lt(n, BUF - 2, "format %s too long for the test", fmt);
	for (size = 0; size <= (size_t)n + 2; size++) {
		memset(want, GUARD, sizeof(want));
		memset(got, GUARD, sizeof(got));
		va_copy(aq, ap);
		vsnprintf(want, size, fmt, aq);
		va_end(aq);
		va_copy(aq, ap);
		m = pvhv_vsnprintf(got, size, fmt, aq);
		va_end(aq);
		cr_assert_eq(m, n, "format \"%s\" size %zu: returned %d, libc %d",
			     fmt, size, m, n);
		cr_assert(memcmp(want, got, sizeof(want)) == 0,
			  "format \"%s\" size %zu: got \"%.*s\", libc \"%.*s\"",
			  fmt, size, (int)MIN(size, (size_t)n + 1), got,
			  (int)MIN(size, (size_t)n + 1), want);
		nchecks++;
	}
	va_end(ap);
}

/*
 * For formats that are valid C but that GCC's format checker warns about
 * (ignored flags, NULL %s): still compared with libc, just not warned on.
 */
#define CHECK_QUIRKY(...)                                              \
	_Pragma("GCC diagnostic push")                                  \
	_Pragma("GCC diagnostic ignored \"-Wformat\"")                  \
	_Pragma("GCC diagnostic ignored \"-Wformat-overflow\"")         \
	check(__VA_ARGS__);                                             \
	_Pragma("GCC diagnostic pop")

/*
 * Compare pvhv's output alone against an expected string; no format
 * attribute, as it takes deliberately non-standard formats.
 */
static void expect(const char *want, const char *fmt, ...)
{
	char got[BUF];
	va_list ap;
	int m;

	va_start(ap, fmt);
	m = pvhv_vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	cr_expect_str_eq(got, want, "format \"%s\"", fmt);
	cr_expect_eq(m, (int)strlen(want), "format \"%s\" returned %d", fmt, m);
}

Test(format, plain_text)
{
	check("%s", "");
	check("hello, world");
	check("%%");
	check("a%%b%%%%c");
	check("%s", "a string with\nnewline\tand tab");
}

Test(format, signed_decimal)
{
	static const int vals[] = { 0, 1, -1, 7, -7, 42, 1000000, INT_MAX,
				    INT_MIN, -123456789 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		int v = vals[i];

		check("%d", v);
		check("%i", v);
		check("%5d|%-5d|%05d", v, v, v);
		check("%+d|% d|%+5d|% 5d|%+05d|% 05d", v, v, v, v, v, v);
		CHECK_QUIRKY("%.3d|%.0d|%8.3d|%-8.3d|%08.3d", v, v, v, v, v);
		check("%+.0d|% .0d|%+12.10d|%-+12.10d", v, v, v, v);
		CHECK_QUIRKY("%.12d|%012d|%-012d", v, v, v);
		check("%1d|%2d|%20d", v, v, v);
	}
}

Test(format, length_modifiers)
{
	check("%hhd %hhd %hhd", 127, 128, -129);
	check("%hhu %hhx %hho", 255, 0x1ff, 0777);
	check("%hd %hd %hu %hx", 32767, 40000, 70000, 0x12345);
	check("%ld %ld %lu %lx", LONG_MAX, LONG_MIN, ULONG_MAX, ULONG_MAX);
	check("%lld %lld %llu %llX", LLONG_MAX, LLONG_MIN, ULLONG_MAX,
	      0xdeadbeefcafef00dULL);
	check("%zu %zx %zd", (size_t)-1, (size_t)12345, (ssize_t)-5);
	check("%td %tx", (ptrdiff_t)-77, (ptrdiff_t)0x55);
	check("%jd %ju %jx", (intmax_t)INT64_MIN, (uintmax_t)UINT64_MAX,
	      (uintmax_t)0xabc);
	check("%li %lli %hi %hhi", -3L, -4LL, (short)-5, (signed char)-6);
	/* Mixed widths keep the argument list aligned. */
	check("%hhd %lld %d %zu %hd %ld", 1, 2LL, 3, (size_t)4, 5, 6L);
}

Test(format, unsigned_hex_octal)
{
	static const unsigned vals[] = { 0, 1, 7, 8, 9, 15, 16, 255, 0x1234,
					 0xdeadbeef, UINT_MAX };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		unsigned v = vals[i];

		check("%u|%x|%X|%o", v, v, v, v);
		check("%#x|%#X|%#o", v, v, v);
		check("%10u|%-10x|%010X|%#010x|%-#10o", v, v, v, v, v);
		check("%.0u|%.0x|%.0o|%#.0o|%#.0x", v, v, v, v, v);
		check("%.5x|%#.5x|%#.5o|%#12.5X|%#-12.5o", v, v, v, v, v);
		CHECK_QUIRKY("%08.3x|%#08.3o|%#3o|%#1x", v, v, v, v);
		CHECK_QUIRKY("%+u|% u|%+x", v, v, v);
	}
	check("%#llo|%#llx|%llo", ULLONG_MAX, ULLONG_MAX, 01234567ULL);
}

Test(format, chars)
{
	check("%c", 'a');
	check("[%c%c%c]", 'x', 'y', 'z');
	check("[%5c][%-5c][%1c]", 'q', 'r', 's');
	check("%c", 0xe9);
	check("[%c]", ' ');
}

Test(format, strings)
{
	const char *s = "pvhv";
	static const char unterminated[3] = { 'a', 'b', 'c' };

	check("%s", s);
	check("[%10s][%-10s][%2s]", s, s, s);
	check("[%.2s][%.0s][%.10s][%6.2s][%-6.2s]", s, s, s, s, s);
	check("[%s][%s]", "", "x");
	check("%.3s", unterminated); /* must not read past the precision */
	check("%s and %s", "first", "second");
	check("%s", "a long string that certainly crosses several of the "
	      "buffer sizes tried by the checker loop, more than once");
}

Test(format, null_string)
{
	CHECK_QUIRKY("%s", (char *)NULL);
	CHECK_QUIRKY("[%10s][%-8s]", (char *)NULL, (char *)NULL);
	expect("(null)", "%s", (char *)NULL);
}

Test(format, pointers)
{
	int x;
	void *ps[] = { &x, (void *)1, (void *)0xffffffffffffffffULL,
		       (void *)0x1000 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ps); i++) {
		check("%p", ps[i]);
		check("[%20p][%-20p]", ps[i], ps[i]);
	}
	/* glibc prints (nil); pvhv prints 0x0. */
	expect("0x0", "%p", NULL);
	expect("0xdeadbeef", "%p", (void *)0xdeadbeef);
}

Test(format, star_width_precision)
{
	check("[%*d]", 6, 42);
	check("[%*d]", -6, 42);
	check("[%-*d]", -6, 42);
	check("[%.*d]", 4, 42);
	check("[%.*d]", -1, 42);
	check("[%*.*x]", 10, 6, 0xabc);
	check("[%*.*s]", -8, 2, "hello");
	check("[%.*s]", 3, "hello");
	check("[%*c]", 3, 'c');
	check("[%0*d]", 8, -42);
	check("[%*d][%d]", 0, 1, 2);
}

Test(format, truncation_and_return)
{
	char buf[8];
	int n;

	memset(buf, 'Z', sizeof(buf));
	n = pvhv_snprintf(buf, 5, "%d", 1234567);
	cr_expect_eq(n, 7);
	cr_expect_str_eq(buf, "1234");
	cr_expect_eq(buf[5], 'Z');
	memset(buf, 'Z', sizeof(buf));
	n = pvhv_snprintf(buf, 0, "%s", "abc");
	cr_expect_eq(n, 3);
	cr_expect_eq(buf[0], 'Z');
	n = pvhv_snprintf(NULL, 0, "%08x%s", 1, "tail");
	cr_expect_eq(n, 12);
	n = pvhv_snprintf(buf, 1, "xyz");
	cr_expect_eq(n, 3);
	cr_expect_eq(buf[0], '\0');
	n = pvhv_snprintf(buf, sizeof(buf), "1234567");
	cr_expect_eq(n, 7);
	cr_expect_str_eq(buf, "1234567");
	n = pvhv_snprintf(buf, sizeof(buf), "12345678");
	cr_expect_eq(n, 8);
	cr_expect_str_eq(buf, "1234567");
	/* Every size, for a format of every kind (also done by check()). */
	check("%s=%#x (%d) %c %p %5.2s|", "key", 0xbeef, -12, '!', (void *)0x42,
	      "abcdef");
}

Test(format, no_floating_point)
{
	/* Unknown conversions are copied literally and consume nothing. */
	expect("%f", "%f");
	expect("[%5.2f] 7", "[%5.2f] %d", 7);
	expect("%e %g %a %Lf", "%e %g %a %Lf");
	expect("%n 3", "%n %d", 3);
	expect("%q%w", "%q%w");
	expect("%lf 9", "%lf %d", 9);
}

Test(format, odd_specs)
{
	/* A trailing lone % or unfinished spec is copied as it stands. */
	expect("abc%", "abc%");
	expect("x%-08", "x%-08");
	expect("x%l", "x%l");
	/* Repeated flags. */
	CHECK_QUIRKY("%--5d|%005d|%++d|%  d|%##x", 1, 2, 3, 4, 5);
	CHECK_QUIRKY("% +d|%+ d", 9, 9);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
Test(format, ignored_flag_combinations)
{
	/* Combinations libc accepts but GCC's format checker frowns on. */
	check("%-05d|%-05x|%05s|%05c|%+s|%#s", 42, 0x1f, "s", 'c', "p", "q");
	check("%#d|%#u|%+c|% c", 5, 6, 'a', 'b');
	expect("%|%|", "%05%|%-5%|"); /* flags on %% are ignored */
}
#pragma GCC diagnostic pop

Test(format, snprintf_wrapper)
{
	char buf[64];
	int n = pvhv_snprintf(buf, sizeof(buf), "%s-%u-%02x", "dom", 3u, 10u);

	cr_expect_eq(n, 8);
	cr_expect_str_eq(buf, "dom-3-0a");
}

Test(format, many_checks_ran)
{
	/* Smoke test that the table driver really exercises sizes. */
	nchecks = 0;
	check("%d", 12345);
	cr_expect_eq(nchecks, 8); /* sizes 0..7 */
}
