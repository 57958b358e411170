/* SPDX-License-Identifier: Apache-2.0 */
/* pktq_test.c: unit tests for drivers/virtio/pktq.c: order, wrap, full, and a model check. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base.h"
#include "drivers/virtio/pktq.h"

static uint8_t mem[256];
static struct pktq q;

static void setup(void)
{
	memset(mem, 0xcc, sizeof(mem));
	pktq_init(&q, mem, sizeof(mem));
}

TestSuite(pktq, .init = setup);

static void expect_head(const char *s)
{
	const uint8_t *p = NULL;
	size_t n = pktq_peek(&q, &p);

	cr_assert_eq(n, strlen(s));
	cr_assert(!memcmp(p, s, n), "head is %.*s, want %s", (int)n, (const char *)p, s);
}

Test(pktq, fifo_of_two_parts)
{
	cr_assert_eq(pktq_push(&q, "he", 2, "llo", 3), 0);
	cr_assert_eq(pktq_push(&q, "world", 5, NULL, 0), 0);
	cr_assert_eq(pktq_push(&q, NULL, 0, "!", 1), 0);
	cr_assert_eq(q.count, 3);
	expect_head("hello");
	pktq_pop(&q);
	expect_head("world");
	pktq_pop(&q);
	expect_head("!");
	pktq_pop(&q);
	cr_assert_eq(pktq_peek(&q, &(const uint8_t *){ NULL }), 0);
	pktq_pop(&q); /* empty: nothing */
	cr_assert_eq(q.count, 0);
}

Test(pktq, sizes)
{
	static uint8_t big[256];

	cr_assert_eq(pktq_max_packet(&q), 248);
	cr_assert_eq(pktq_push(&q, big, 249, NULL, 0), -EMSGSIZE);
	cr_assert_eq(pktq_push(&q, NULL, 0, NULL, 0), -EMSGSIZE);
	cr_assert_eq(pktq_push(&q, big, 248, NULL, 0), 0);
	cr_assert_eq(pktq_push(&q, big, 1, NULL, 0), -ENOSPC);
	cr_assert_eq(q.dropped, 1);
	pktq_pop(&q);
	cr_assert_eq(pktq_push(&q, big, 248, NULL, 0), 0);
}

/* 100-byte packets (112 with the header) in 256 bytes: the third skips the end. */
Test(pktq, wraps_without_splitting)
{
	char a[100], b[100], c[100];
	const uint8_t *p;

	memset(a, 'a', 100);
	memset(b, 'b', 100);
	memset(c, 'c', 100);
	cr_assert_eq(pktq_push(&q, a, 100, NULL, 0), 0);
	cr_assert_eq(pktq_push(&q, b, 100, NULL, 0), 0);
	cr_assert_eq(pktq_push(&q, c, 100, NULL, 0), -ENOSPC); /* 32 at the end, 0 at the front */
	pktq_pop(&q);
	cr_assert_eq(pktq_push(&q, c, 100, NULL, 0), 0);      /* skips the end, goes to 0 */
	cr_assert_eq(pktq_peek(&q, &p), 100);
	cr_assert_eq(p[0], 'b');
	pktq_pop(&q);
	cr_assert_eq(pktq_peek(&q, &p), 100);
	cr_assert_eq(p, mem + 8);
	cr_assert_eq(p[99], 'c');
	pktq_pop(&q);
	cr_assert_eq(q.count, 0);
	cr_assert_eq(q.used, 0);
}

/* Random pushes and pops against a plain list: same packets, same order, nothing lost. */
Test(pktq, model)
{
	enum { MAXQ = 64 };
	static uint8_t buf[1000];
	struct { size_t len; uint8_t seed; } ref[MAXQ];
	unsigned rh = 0, rn = 0, pushed = 0, refused = 0;

	pktq_init(&q, buf, sizeof(buf));
	srand(7);
	for (int step = 0; step < 200000; step++) {
		if (rand() % 2 && rn < MAXQ) {
			size_t len = 1 + (size_t)rand() % 300;
			uint8_t seed = (uint8_t)rand(), data[300];

			for (size_t i = 0; i < len; i++)
				data[i] = (uint8_t)(seed + i);
			size_t split = (size_t)rand() % (len + 1);
			int rc = pktq_push(&q, data, split, data + split, len - split);
			if (rc == 0) {
				ref[(rh + rn) % MAXQ].len = len;
				ref[(rh + rn) % MAXQ].seed = seed;
				rn++;
				pushed++;
			} else {
				cr_assert_eq(rc, -ENOSPC);
				cr_assert_geq(q.used + 8 + ALIGN_UP(len, 8), 1000 - 300 - 8,
					      "refused %zu bytes with %u used", len, q.used);
				refused++;
			}
		} else if (rn) {
			const uint8_t *p;
			size_t n = pktq_peek(&q, &p);

			cr_assert_eq(n, ref[rh].len);
			for (size_t i = 0; i < n; i++)
				cr_assert_eq(p[i], (uint8_t)(ref[rh].seed + i));
			cr_assert(p >= buf && p + n <= buf + sizeof(buf));
			pktq_pop(&q);
			rh = (rh + 1) % MAXQ;
			rn--;
		}
		cr_assert_eq(q.count, rn);
		cr_assert_leq(q.used, sizeof(buf));
	}
	cr_assert_gt(pushed, 1000);
	cr_assert_gt(refused, 0);
}
