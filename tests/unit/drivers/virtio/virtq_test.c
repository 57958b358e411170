/* SPDX-License-Identifier: Apache-2.0 */
/* virtq_test.c: unit tests for drivers/virtio/virtq.c: every rejection rule, chains, wrap-around, EVENT_IDX. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/unit/drivers/virtio/fake_guest.h"

#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define TABLE 0x8000u   /* indirect tables */
#define TABLE2 0x9000u
#define BUF 0x10000u    /* data buffers */

static struct virtq q;
static struct fake_ring r;
static struct virtq_chain c;
static char err[128];

/* A ready queue of size n over the fixed rings, with the given features. */
static void setup_q(uint16_t n, bool indirect, bool event_idx)
{
	fake_reset();
	memset(&q, 0, sizeof(q));
	memset(&c, 0, sizeof(c));
	err[0] = 0;
	q.size = n;
	q.desc = DESC;
	q.avail = AVAIL;
	q.used = USED;
	q.indirect = indirect;
	q.event_idx = event_idx;
	q.ready = true;
	ring_init(&r, n, DESC, AVAIL, USED);
	g.desc_lo = DESC;
	g.desc_hi = DESC + 16u * n;
}

static void setup16(void)
{
	setup_q(16, true, false);
}

/* Pops and expects a violation whose message contains want; the queue is then broken. */
static void expect_violation(const char *want)
{
	int rc = virtq_pop(&q, &env, &c, err, sizeof(err));

	cr_assert_eq(rc, -EINVAL, "pop returned %d (%s), wanted a violation \"%s\"", rc, err, want);
	cr_assert(strstr(err, want), "message \"%s\" lacks \"%s\"", err, want);
	cr_assert(q.broken);
	/* Nothing more is done: the next pop fails without reading the rings. */
	unsigned reads = g.reads;
	cr_assert_eq(virtq_pop(&q, &env, &c, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "queue is broken");
	cr_assert_eq(g.reads, reads);
	cr_assert_eq(virtq_push(&q, &env, 0, 0), -EINVAL);
}

static void expect_pop(void)
{
	int rc = virtq_pop(&q, &env, &c, err, sizeof(err));

	cr_assert_eq(rc, 1, "pop returned %d (%s)", rc, err);
	cr_assert(!q.broken);
}

/* ---------------------------------------------------------------- configuration */

static int check(uint16_t size, gpa_t desc, gpa_t avail, gpa_t used, uint16_t max)
{
	struct virtq cq = { .size = size, .desc = desc, .avail = avail, .used = used };

	fake_reset();
	err[0] = 0;
	return virtq_check_config(&cq, max, &env, err, sizeof(err));
}

Test(virtq_config, good_layouts_pass)
{
	cr_assert_eq(check(1, 0, 16, 32, 1), 0, "%s", err);
	cr_assert_eq(check(256, DESC, AVAIL, USED, 256), 0, "%s", err);
	/* Rings ending on RAM's last byte: desc 16*16, avail 6+2*16, used 6+8*16. */
	cr_assert_eq(check(16, RAM_SIZE - 256, RAM_SIZE - 38, RAM_SIZE - 134 - 2, 16), 0, "%s", err);
	cr_assert_eq(check(32768, 0, 0x80000, 0x92000, 32768), 0, "%s", err);
}

Test(virtq_config, size_not_a_power_of_two_or_above_max)
{
	cr_assert_eq(check(0, DESC, AVAIL, USED, 16), -EINVAL);
	cr_assert(strstr(err, "size 0"), "%s", err);
	cr_assert_eq(check(3, DESC, AVAIL, USED, 16), -EINVAL);
	cr_assert(strstr(err, "size 3 is not a power of two <= 16"), "%s", err);
	cr_assert_eq(check(24, DESC, AVAIL, USED, 32), -EINVAL);
	cr_assert_eq(check(32, DESC, AVAIL, USED, 16), -EINVAL);
	cr_assert(strstr(err, "size 32"), "%s", err);
	cr_assert_eq(check(16, DESC, AVAIL, USED, 0), -EINVAL);
}

Test(virtq_config, misaligned_rings)
{
	cr_assert_eq(check(16, DESC + 8, AVAIL, USED, 16), -EINVAL);
	cr_assert(strstr(err, "desc ring 0x1008 is not 16-byte aligned"), "%s", err);
	cr_assert_eq(check(16, DESC, AVAIL + 1, USED, 16), -EINVAL);
	cr_assert(strstr(err, "avail ring 0x2001 is not 2-byte aligned"), "%s", err);
	cr_assert_eq(check(16, DESC, AVAIL, USED + 2, 16), -EINVAL);
	cr_assert(strstr(err, "used ring 0x3002 is not 4-byte aligned"), "%s", err);
}

Test(virtq_config, rings_outside_ram)
{
	/* A few bytes past the end of RAM, for each ring. */
	cr_assert_eq(check(16, RAM_SIZE - 240, AVAIL, USED, 16), -EINVAL);
	cr_assert(strstr(err, "desc ring"), "%s", err);
	cr_assert_eq(check(16, DESC, RAM_SIZE - 36, USED, 16), -EINVAL);
	cr_assert(strstr(err, "avail ring"), "%s", err);
	cr_assert_eq(check(16, DESC, AVAIL, RAM_SIZE - 132, 16), -EINVAL);
	cr_assert(strstr(err, "used ring"), "%s", err);
	/* Wrapping around the top of the address space. */
	cr_assert_eq(check(16, 0xfffffffffffffff0ULL, AVAIL, USED, 16), -EINVAL);
	cr_assert_eq(check(16, DESC, AVAIL, 0xfffffffffffffffcULL, 16), -EINVAL);
}

/* ---------------------------------------------------------------- good chains */

Test(virtq_pop, empty_ring_and_not_ready, .init = setup16)
{
	cr_assert_eq(virtq_pop(&q, &env, &c, err, sizeof(err)), 0);
	q.ready = false;
	set_desc(DESC, 0, BUF, 8, 0, 0);
	ring_add(&r, 0);
	cr_assert_eq(virtq_pop(&q, &env, &c, err, sizeof(err)), 0);
	cr_assert_eq(q.last_avail, 0);
}

Test(virtq_pop, direct_chain_read_write_push, .init = setup16)
{
	uint8_t out[10], want[10];

	/* 4 + 6 readable bytes, then 3 + 5 writable bytes; descriptors out of order. */
	set_desc(DESC, 5, BUF, 4, VIRTQ_DESC_F_NEXT, 2);
	set_desc(DESC, 2, BUF + 0x100, 6, VIRTQ_DESC_F_NEXT, 9);
	set_desc(DESC, 9, BUF + 0x200, 3, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	set_desc(DESC, 0, BUF + 0x300, 5, VIRTQ_DESC_F_WRITE, 7);  /* next is ignored without NEXT */
	memcpy(g.ram + BUF, "abcd", 4);
	memcpy(g.ram + BUF + 0x100, "efghij", 6);
	ring_add(&r, 5);

	expect_pop();
	cr_assert_eq(c.head, 5);
	cr_assert_eq(c.nseg, 4);
	cr_assert_eq(c.nread, 2);
	cr_assert_eq(c.read_len, 10);
	cr_assert_eq(c.write_len, 8);
	cr_assert_eq(c.seg[1].addr, BUF + 0x100);
	cr_assert_eq(c.seg[1].len, 6);
	cr_assert(!c.seg[1].write);
	cr_assert(c.seg[2].write);
	cr_assert_eq(q.last_avail, 1);
	/* Each descriptor was read once. */
	cr_assert_eq(g.desc_reads, 4);

	cr_assert_eq(virtq_chain_read(&c, &env, 0, out, 10), 0);
	cr_assert_arr_eq(out, "abcdefghij", 10);
	cr_assert_eq(virtq_chain_read(&c, &env, 3, out, 3), 0);
	cr_assert_arr_eq(out, "def", 3);
	cr_assert_eq(virtq_chain_read(&c, &env, 8, out, 3), -ERANGE);
	cr_assert_eq(virtq_chain_read(&c, &env, 11, out, 0), -ERANGE);
	cr_assert_eq(virtq_chain_read(&c, &env, UINT64_MAX, out, 2), -ERANGE);

	memcpy(want, "0123456789", 10);
	cr_assert_eq(virtq_chain_write(&c, &env, 1, want, 7), 0);
	cr_assert_arr_eq(g.ram + BUF + 0x201, "01", 2);
	cr_assert_arr_eq(g.ram + BUF + 0x300, "23456", 5);
	/* Past the end: refused whole, nothing copied. */
	cr_assert_eq(virtq_chain_write(&c, &env, 2, "abcdefg", 7), -ERANGE);
	cr_assert_arr_eq(g.ram + BUF + 0x201, "01", 2);
	cr_assert_arr_eq(g.ram + BUF + 0x300, "23456", 5);
	/* The readable buffers were never written. */
	cr_assert_arr_eq(g.ram + BUF, "abcd", 4);

	cr_assert_eq(virtq_pop(&q, &env, &c, err, sizeof(err)), 0);
	cr_assert_eq(virtq_push(&q, &env, 5, 8), 0);
	cr_assert_eq(used_idx(&r), 1);
	cr_assert_eq(used_id(&r, 0), 5);
	cr_assert_eq(used_len(&r, 0), 8);
	cr_assert_eq(virtq_push(&q, &env, 16, 0), -EINVAL);
	cr_assert_eq(used_idx(&r), 1);
}

/* Another vCPU rewrites descriptor 0 as soon as the device has read it. */
static void rewrite_desc0(gpa_t gpa, size_t len)
{
	if (gpa == DESC && len == 16)
		set_desc(DESC, 0, RAM_SIZE + 0x1000, 0xffffffff, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 99);
}

Test(virtq_pop, descriptor_read_once_into_private_copy, .init = setup16)
{
	/* What was checked is what is used: a second read would see the rewritten values. */
	set_desc(DESC, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF + 0x100, 4, 0, 0);
	ring_add(&r, 0);
	g.after_read = rewrite_desc0;
	expect_pop();
	cr_assert_eq(g.desc_reads, 2);
	cr_assert_eq(c.nseg, 2);
	cr_assert_eq(c.seg[0].addr, BUF);
	cr_assert_eq(c.seg[0].len, 16);
	cr_assert(!c.seg[0].write);
	cr_assert_eq(c.seg[1].addr, BUF + 0x100);
}

Test(virtq_pop, indirect_chains, .init = setup16)
{
	uint8_t out[6];

	/* Head 3 is indirect: a table of 3 (1 readable, 2 writable), walked from 0: 0 -> 2 -> 1. */
	set_desc(DESC, 3, TABLE, 48, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(TABLE, 0, BUF, 6, VIRTQ_DESC_F_NEXT, 2);
	set_desc(TABLE, 2, BUF + 0x100, 10, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(TABLE, 1, BUF + 0x200, 20, VIRTQ_DESC_F_WRITE, 0);
	memcpy(g.ram + BUF, "123456", 6);
	ring_add(&r, 3);
	/* Head 4: one direct readable descriptor, then an indirect table of one writable (2.7.5.3.2). */
	set_desc(DESC, 4, BUF + 0x300, 2, VIRTQ_DESC_F_NEXT, 6);
	set_desc(DESC, 6, TABLE2, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(TABLE2, 0, BUF + 0x400, 7, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&r, 4);

	expect_pop();
	cr_assert_eq(c.head, 3);
	cr_assert_eq(c.nseg, 3);
	cr_assert_eq(c.nread, 1);
	cr_assert_eq(c.read_len, 6);
	cr_assert_eq(c.write_len, 30);
	cr_assert_eq(c.seg[2].addr, BUF + 0x200);
	cr_assert_eq(virtq_chain_read(&c, &env, 0, out, 6), 0);
	cr_assert_arr_eq(out, "123456", 6);

	expect_pop();
	cr_assert_eq(c.head, 4);
	cr_assert_eq(c.nseg, 2);
	cr_assert_eq(c.nread, 1);
	cr_assert_eq(c.seg[1].addr, BUF + 0x400);
	cr_assert_eq(c.write_len, 7);
}

Test(virtq_pop, full_size_chain_and_chain_max)
{
	/* size 16: a chain of all 16 descriptors is fine. */
	setup_q(16, false, false);
	for (unsigned i = 0; i < 16; i++)
		set_desc(DESC, i, BUF + 0x10 * i, 8, i < 15 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	ring_add(&r, 0);
	expect_pop();
	cr_assert_eq(c.nseg, 16);

	/* size 128: 64 segments are accepted, 65 refused. */
	setup_q(128, false, false);
	for (unsigned i = 0; i < 65; i++)
		set_desc(DESC, i, BUF + 0x10 * i, 8, i < 63 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	ring_add(&r, 0);
	expect_pop();
	cr_assert_eq(c.nseg, VIRTQ_CHAIN_MAX);
	set_desc(DESC, 63, BUF, 8, VIRTQ_DESC_F_NEXT, 64);
	ring_add(&r, 0);
	expect_violation("chain longer than 64 segments");
}

Test(virtq_pop, indexes_wrap_around_65535)
{
	setup_q(4, false, false);
	/* Both sides start just below the wrap (as after 65534 earlier chains). */
	q.last_avail = q.used_idx = q.signalled_used = 65534;
	r.avail_idx = 65534;
	put16(USED + 2, 65534);
	for (unsigned i = 0; i < 4; i++)
		set_desc(DESC, i, BUF + 0x10 * i, 8, 0, 0);
	for (unsigned i = 0; i < 4; i++)
		ring_add(&r, (uint16_t)(3 - i));
	cr_assert_eq(get16(AVAIL + 2), 2);
	for (unsigned i = 0; i < 4; i++) {
		expect_pop();
		cr_assert_eq(c.head, 3 - i);
		cr_assert_eq(virtq_push(&q, &env, c.head, 10 + i), 0);
	}
	cr_assert_eq(q.last_avail, 2);
	cr_assert_eq(virtq_pop(&q, &env, &c, err, sizeof(err)), 0);
	cr_assert_eq(used_idx(&r), 2);
	/* 65534 % 4 == 2: the first element sits in slot 2, the last in slot 1. */
	cr_assert_eq(get32(USED + 4 + 8 * 2), 3);
	cr_assert_eq(get32(USED + 4 + 8 * 1), 0);
	cr_assert_eq(used_len(&r, 1), 13);
	cr_assert(virtq_should_interrupt(&q, &env));
	cr_assert_eq(q.signalled_used, 2);
}

/* ---------------------------------------------------------------- rejections */

Test(virtq_reject, head_index_out_of_range, .init = setup16)
{
	ring_add(&r, 17);
	expect_violation("desc 17 >= size 16");
	cr_assert_eq(q.last_avail, 0);
}

Test(virtq_reject, head_index_equal_to_size, .init = setup16)
{
	/* The entry just past the table is RAM here: only the index check stops it. */
	set_desc(DESC, 16, BUF, 8, 0, 0);
	ring_add(&r, 16);
	expect_violation("desc 16 >= size 16");
	cr_assert_eq(g.desc_reads, 0);
}

Test(virtq_reject, next_index_out_of_range, .init = setup16)
{
	set_desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 16);
	ring_add(&r, 0);
	expect_violation("desc 0: next 16 >= size 16");
}

Test(virtq_reject, descriptor_loop, .init = setup16)
{
	set_desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	ring_add(&r, 0);
	expect_violation("loops or is longer than 16");
	/* The walk stopped at the size: 17 descriptor reads, not more. */
	cr_assert_leq(g.desc_reads, 17);
}

Test(virtq_reject, self_loop_in_huge_queue_is_bounded)
{
	setup_q(32768, false, false);
	g.desc_hi = DESC + 16; /* the table covers the other rings here; count descriptor 0 only */
	set_desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	ring_add(&r, 0);
	expect_violation("chain longer than 64 segments");
	cr_assert_leq(g.desc_reads, VIRTQ_CHAIN_MAX + 2);
}

Test(virtq_reject, chain_longer_than_size_through_indirect)
{
	/* size 4: two direct descriptors and an indirect table of 3 make 5 buffers. */
	setup_q(4, true, false);
	set_desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc(DESC, 2, TABLE, 48, VIRTQ_DESC_F_INDIRECT, 0);
	for (unsigned i = 0; i < 3; i++)
		set_desc(TABLE, i, BUF, 8, i < 2 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	ring_add(&r, 0);
	expect_violation("chain longer than size 4");
}

Test(virtq_reject, indirect_not_negotiated)
{
	setup_q(16, false, false);
	set_desc(DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(TABLE, 0, BUF, 8, 0, 0);
	ring_add(&r, 0);
	expect_violation("desc 0: INDIRECT not negotiated");
}

Test(virtq_reject, indirect_with_next, .init = setup16)
{
	set_desc(DESC, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 8, 0, 0);
	set_desc(TABLE, 0, BUF, 8, 0, 0);
	ring_add(&r, 0);
	expect_violation("INDIRECT together with NEXT");
}

Test(virtq_reject, indirect_inside_indirect, .init = setup16)
{
	set_desc(DESC, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(TABLE, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(TABLE, 1, TABLE2, 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(TABLE2, 0, BUF, 8, 0, 0);
	ring_add(&r, 0);
	expect_violation("indirect desc 1: INDIRECT inside an indirect table");
}

static void bad_table_len(uint32_t len)
{
	setup16();
	set_desc(DESC, 0, TABLE, len, VIRTQ_DESC_F_INDIRECT, 0);
	for (unsigned i = 0; i < 17; i++)
		set_desc(TABLE, i, BUF, 8, 0, 0);
	ring_add(&r, 0);
	expect_violation("indirect table of");
}

Test(virtq_reject, indirect_table_lengths)
{
	bad_table_len(0);
	bad_table_len(24);
	bad_table_len(15);
	bad_table_len(16 * 17);
	/* 16 * size itself is fine. */
	setup16();
	set_desc(DESC, 0, TABLE, 16 * 16, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(TABLE, 0, BUF, 8, 0, 0);
	ring_add(&r, 0);
	expect_pop();
}

Test(virtq_reject, indirect_table_outside_ram, .init = setup16)
{
	set_desc(DESC, 0, RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	ring_add(&r, 0);
	expect_violation("indirect table [0xffff0, +0x20) is not inside RAM");
}

Test(virtq_reject, indirect_next_out_of_table, .init = setup16)
{
	set_desc(DESC, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(TABLE, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc(TABLE, 2, BUF, 8, 0, 0);
	ring_add(&r, 0);
	expect_violation("indirect desc 0: next 2 >= size 2");
}

Test(virtq_reject, indirect_loop, .init = setup16)
{
	set_desc(DESC, 0, TABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	set_desc(TABLE, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(TABLE, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
	ring_add(&r, 0);
	expect_violation("indirect desc chain from 0 loops or is longer than 2");
}

Test(virtq_reject, addr_plus_len_overflows, .init = setup16)
{
	set_desc(DESC, 0, 0xfffffffffffffff0ULL, 0x20, 0, 0);
	ring_add(&r, 0);
	expect_violation("desc 0: [0xfffffffffffffff0, +0x20) is not inside RAM");
}

Test(virtq_reject, segment_outside_ram, .init = setup16)
{
	/* Starts inside RAM, ends one byte past it. */
	set_desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, RAM_SIZE - 8, 9, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&r, 0);
	expect_violation("desc 1: [0xffff8, +0x9) is not inside RAM");
}

Test(virtq_reject, segment_entirely_outside_ram, .init = setup16)
{
	set_desc(DESC, 0, RAM_SIZE, 1, 0, 0);
	ring_add(&r, 0);
	expect_violation("is not inside RAM");
}

Test(virtq_reject, zero_length, .init = setup16)
{
	set_desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 0, VIRTQ_DESC_F_WRITE, 0);
	ring_add(&r, 0);
	expect_violation("desc 1: length 0");
}

Test(virtq_reject, readable_after_writable, .init = setup16)
{
	set_desc(DESC, 0, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(DESC, 1, BUF, 8, 0, 0);
	ring_add(&r, 0);
	expect_violation("desc 1: readable after writable");
}

Test(virtq_reject, avail_idx_jumps_by_65535, .init = setup16)
{
	set_desc(DESC, 0, BUF, 8, 0, 0);
	put16(AVAIL + 2, 65535);
	expect_violation("avail idx 65535 is 65535 entries ahead of 0 (size 16)");
	cr_assert_eq(g.desc_reads, 0);
}

Test(virtq_reject, avail_idx_jumps_by_size_plus_one, .init = setup16)
{
	set_desc(DESC, 0, BUF, 8, 0, 0);
	/* size entries ahead is a full ring and fine; size + 1 is not. */
	put16(AVAIL + 2, 16);
	expect_pop();
	setup16();
	set_desc(DESC, 0, BUF, 8, 0, 0);
	put16(AVAIL + 2, 17);
	expect_violation("avail idx 17 is 17 entries ahead of 0 (size 16)");
}

Test(virtq_reject, rings_unreadable_at_pop, .init = setup16)
{
	/* A queue whose avail ring left RAM (never passes virtq_check_config, but pop must not trust it). */
	q.avail = RAM_SIZE;
	expect_violation("avail ring is not readable");
}

/* ---------------------------------------------------------------- interrupts */

Test(virtq_irq, no_interrupt_flag, .init = setup16)
{
	cr_assert(!virtq_should_interrupt(&q, &env), "nothing used yet");
	set_desc(DESC, 0, BUF, 8, 0, 0);
	ring_add(&r, 0);
	ring_add(&r, 0);
	expect_pop();
	cr_assert_eq(virtq_push(&q, &env, 0, 0), 0);
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	cr_assert(!virtq_should_interrupt(&q, &env));
	cr_assert(!virtq_should_interrupt(&q, &env));
	expect_pop();
	cr_assert_eq(virtq_push(&q, &env, 0, 0), 0);
	put16(AVAIL, 0);
	cr_assert(virtq_should_interrupt(&q, &env));
	cr_assert(!virtq_should_interrupt(&q, &env), "nothing new since");
}

/* With EVENT_IDX: pushes from old to now, used_event ev -> should we interrupt? */
static bool event_case(uint16_t old, uint16_t now, uint16_t ev)
{
	setup_q(16, false, true);
	q.signalled_used = q.used_idx = old;
	set_used_event(&r, ev);
	for (uint16_t i = old; i != now; i++)
		cr_assert_eq(virtq_push(&q, &env, 0, 0), 0);
	/* NO_INTERRUPT means nothing under EVENT_IDX. */
	put16(AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
	return virtq_should_interrupt(&q, &env);
}

Test(virtq_irq, event_idx_suppression)
{
	cr_assert(event_case(0, 1, 0), "used_event 0 crossed by 0 -> 1");
	cr_assert(!event_case(0, 3, 5));
	cr_assert(event_case(3, 6, 5), "used_event 5 crossed by 3 -> 6");
	cr_assert(event_case(3, 6, 3));
	cr_assert(!event_case(3, 6, 6), "6 not yet used");
	cr_assert(!event_case(3, 6, 2), "2 was passed before");
	cr_assert(event_case(65534, 2, 65535), "across the wrap");
	cr_assert(event_case(65534, 2, 1));
	cr_assert(!event_case(65534, 2, 2));
	cr_assert(!event_case(65534, 2, 65533));
	cr_assert_eq(q.signalled_used, 2);
	cr_assert(!virtq_should_interrupt(&q, &env), "nothing new since");
}

Test(virtq_irq, event_idx_publishes_avail_event)
{
	setup_q(8, false, true);
	put16(USED + 4 + 8 * 8, 0x5555);
	/* An empty ring publishes last_avail too, so the next addition notifies. */
	cr_assert_eq(virtq_pop(&q, &env, &c, err, sizeof(err)), 0);
	cr_assert_eq(avail_event(&r), 0);
	set_desc(DESC, 0, BUF, 8, 0, 0);
	ring_add(&r, 0);
	ring_add(&r, 0);
	ring_add(&r, 0);
	expect_pop();
	cr_assert_eq(avail_event(&r), 1);
	expect_pop();
	cr_assert_eq(avail_event(&r), 2);
	/* Without EVENT_IDX the used ring's tail is never written. */
	q.event_idx = false;
	put16(USED + 4 + 8 * 8, 0x5555);
	expect_pop();
	cr_assert_eq(avail_event(&r), 0x5555);
}
