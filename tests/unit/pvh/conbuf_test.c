/* SPDX-License-Identifier: Apache-2.0 */
/* conbuf_test.c: unit tests for pvh/conbuf.c: lines, the rate limit, drop markers, kept lines. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/base.h"
#include "pvh/conbuf.h"

static struct conbuf cb;
static char out[CONBUF_LINE_MAX + 1];

/* 100 bytes per second, 1000 in the bucket, 10 bytes of prefix per line. */
static void setup(void)
{
	conbuf_init(&cb, 100, 1000, 10, 5000000);
}

static void feed(const char *s, uint64_t now_us)
{
	conbuf_feed(&cb, CONBUF_SERIAL, s, strlen(s), now_us);
}

/* A line of n 'x' and a newline: it costs n + 10. */
static void feed_x(unsigned n, uint64_t now_us)
{
	char buf[CONBUF_LINE_MAX + 2];

	cr_assert_leq(n, CONBUF_LINE_MAX);
	memset(buf, 'x', n);
	buf[n] = '\n';
	conbuf_feed(&cb, CONBUF_SERIAL, buf, n + 1, now_us);
}

/* The line feed_x(n, ...) wrote: n times 'x' (static, one at a time). */
static const char *x_line(unsigned n)
{
	static char line[CONBUF_LINE_MAX + 1];

	memset(line, 'x', n);
	line[n] = 0;
	return line;
}

/* Takes the next line and checks it. */
static void expect_line(const char *want)
{
	int n = conbuf_peek(&cb, out);

	cr_assert_geq(n, 0, "no line where \"%s\" was expected", want);
	cr_assert_str_eq(out, want);
	cr_assert_eq((size_t)n, strlen(want));
	conbuf_pop(&cb);
}

static void expect_none(void)
{
	cr_assert_eq(conbuf_peek(&cb, out), -1, "unexpected line \"%s\"", out);
	cr_assert(!conbuf_pending(&cb));
	cr_assert_eq(cb.cost, 0);
}

static unsigned drain(void)
{
	unsigned lines = 0;

	while (conbuf_peek(&cb, out) >= 0) {
		conbuf_pop(&cb);
		lines++;
	}
	return lines;
}

TestSuite(conbuf, .init = setup);

Test(conbuf, lines_in_order_and_cleaned)
{
	feed("hello\r\nwor", 5000000);
	expect_line("hello");
	expect_none(); /* "wor" is not a line yet */
	feed("ld\n\ntab\there\x1b[2J\x7f\x80\xff!\n", 5000000);
	expect_line("world");
	expect_line("");
	expect_line("tab\there?[2J??" "?!");
	expect_none();
}

/* The serial port's half-written line and the virtio console's lines stay apart (linux-virtio). */
Test(conbuf, sources_keep_their_own_lines)
{
	static const char hvc[] = "from hvc0\n";

	feed("PVHV-HWRNG-BYTES=1024", 5000000);
	conbuf_feed(&cb, CONBUF_VIRTIO, hvc, sizeof(hvc) - 1, 5000000);
	feed("\n", 5000000);
	expect_line("from hvc0");
	expect_line("PVHV-HWRNG-BYTES=1024");
	expect_none();
	/* An end flushes both halves. */
	feed("serial half", 5000000);
	conbuf_feed(&cb, CONBUF_VIRTIO, "virtio half", 11, 5000000);
	conbuf_flush(&cb, 5000000);
	expect_line("serial half");
	expect_line("virtio half");
	expect_none();
}

Test(conbuf, long_lines_are_split)
{
	char big[2 * CONBUF_LINE_MAX + 11];

	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	conbuf_init(&cb, 100000, 100000, 10, 0);
	conbuf_feed(&cb, CONBUF_SERIAL, big, sizeof(big), 0);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(conbuf_peek(&cb, out), CONBUF_LINE_MAX);
		conbuf_pop(&cb);
	}
	expect_line("aaaaaaaaaa");
	expect_none();
}

Test(conbuf, rate_limit_drops_whole_lines_and_marks_them)
{
	/* 1000 in the bucket: ten 90-byte lines pass, the next two do not. */
	for (int i = 0; i < 12; i++)
		feed_x(90, 5000000);
	cr_assert_eq(drain(), 10);
	cr_assert_eq(cb.dropped, 2 * 91);
	/* 1.5 s later the bucket holds 150: enough for a line, but below a quarter (250). */
	feed_x(90, 6500000);
	cr_assert_eq(drain(), 0);
	cr_assert_eq(cb.dropped, 3 * 91);
	/* At 2.5 s it is back to 250 (the dropped lines cost nothing): marker, then the line. */
	feed_x(5, 7500000);
	expect_line("... 273 bytes dropped (console rate limit)");
	expect_line(x_line(5));
	expect_none();
	cr_assert_eq(cb.dropped, 273, "the total stays");
	cr_assert_eq(cb.unreported, 0);
}

Test(conbuf, empty_lines_cost_the_prefix)
{
	char nl[4096];

	memset(nl, '\n', sizeof(nl));
	conbuf_feed(&cb, CONBUF_SERIAL, nl, sizeof(nl), 5000000);
	/* Each costs its 10 bytes of prefix: 100 of them fit in 1000. */
	cr_assert_eq(drain(), 100);
	cr_assert_eq(cb.dropped, sizeof(nl) - 100);
}

Test(conbuf, flush_ends_the_line_and_reports_drops)
{
	for (int i = 0; i < 11; i++)
		feed_x(90, 5000000);
	feed("partial", 5000000);
	cr_assert_eq(drain(), 10);
	/* The bucket is empty, yet the marker gets out when the domain ends. */
	conbuf_flush(&cb, 5000000);
	expect_line("... 98 bytes dropped (console rate limit)");
	expect_none();
	cr_assert_eq(cb.dropped, 91 + 7);
	conbuf_flush(&cb, 5000000);
	expect_none();
}

Test(conbuf, full_ring_drops_and_keeps_room_for_the_marker)
{
	unsigned lines;

	/* Unlimited rate: only the ring stops lines that nobody takes out. */
	conbuf_init(&cb, 1000000000, 1000000000, 10, 0);
	for (int i = 0; i < 200; i++)
		feed_x(90, 0);
	cr_assert_leq(cb.cost, CONBUF_RING);
	cr_assert_gt(cb.dropped, 0);
	conbuf_flush(&cb, 0);
	lines = drain();
	cr_assert_eq(lines, (CONBUF_RING - CONBUF_MARKER_MAX - 10) / 100 + 1);
	conbuf_init(&cb, 1000000000, 1000000000, 10, 0);
	for (int i = 0; i < 200; i++)
		feed_x(90, 0);
	conbuf_flush(&cb, 0);
	for (unsigned i = 0; i + 1 < lines; i++)
		conbuf_pop(&cb);
	cr_assert_geq(conbuf_peek(&cb, out), 0);
	cr_assert_str_eq(out, "... 10829 bytes dropped (console buffer full)");
	conbuf_pop(&cb);
	expect_none();
	cr_assert_eq(cb.dropped, 200 * 91 - (lines - 1) * 91);
}

Test(conbuf, marker_comes_after_the_ring_drains)
{
	conbuf_init(&cb, 1000000000, 1000000000, 10, 0);
	for (int i = 0; i < 100; i++)
		feed_x(90, 0);
	cr_assert_gt(cb.dropped, 0);
	drain();
	feed("next\n", 0);
	cr_assert_geq(conbuf_peek(&cb, out), 0);
	cr_assert(strstr(out, "bytes dropped (console buffer full)"), "got \"%s\"", out);
	conbuf_pop(&cb);
	expect_line("next");
	expect_none();
}

Test(conbuf, kept_lines_are_the_last_written)
{
	char line[32];

	for (int i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "line %d\n\n", i);
		feed(line, 5000000); /* most are dropped: they are kept all the same */
	}
	cr_assert_eq(cb.nkeep, CONBUF_KEEP_LINES);
	cr_assert_eq(cb.kept_total, 100, "empty lines are not kept, nor counted");
	cr_assert_str_eq(conbuf_kept(&cb, 0), "line 36");
	cr_assert_str_eq(conbuf_kept(&cb, CONBUF_KEEP_LINES - 1), "line 99");
	cr_assert_null(conbuf_kept(&cb, CONBUF_KEEP_LINES));
}

Test(conbuf, kept_lines_are_cut)
{
	char big[CONBUF_LINE_MAX + 1];

	memset(big, 'k', CONBUF_LINE_MAX);
	big[CONBUF_LINE_MAX] = '\n';
	conbuf_feed(&cb, CONBUF_SERIAL, big, sizeof(big), 5000000);
	cr_assert_eq(cb.nkeep, 1);
	cr_assert_eq(strlen(conbuf_kept(&cb, 0)), CONBUF_KEEP_LEN - 1);
	cr_assert_null(conbuf_kept(&cb, 1));
	/* The newline right after a split ends nothing more: no empty line follows. */
	cr_assert_eq(conbuf_peek(&cb, out), CONBUF_LINE_MAX);
	conbuf_pop(&cb);
	expect_none();
}

Test(conbuf, time_far_ahead_fills_the_bucket_without_overflow)
{
	for (int i = 0; i < 20; i++)
		feed_x(90, 5000000);
	drain();
	feed_x(90, UINT64_MAX / 2);
	cr_assert_eq(cb.tokens, (1000 - 100 - CONBUF_MARKER_MAX - 10) * 1000000ULL);
	/* A clock going backwards refills nothing and breaks nothing. */
	feed_x(90, 1);
	cr_assert_eq(cb.tokens, (1000 - 200 - CONBUF_MARKER_MAX - 10) * 1000000ULL);
}

Test(conbuf, peek_and_pop_on_empty)
{
	expect_none();
	conbuf_pop(&cb);
	expect_none();
	cr_assert_null(conbuf_kept(&cb, 0));
}
