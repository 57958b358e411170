/* SPDX-License-Identifier: Apache-2.0 */
/* conbuf.c: a domain's console lines, their rate limit and the ring they wait in (see conbuf.h). */
#include "pvh/conbuf.h"

#define US_PER_S 1000000ULL
#define RING_MASK (CONBUF_RING - 1)

_Static_assert((CONBUF_RING & RING_MASK) == 0, "CONBUF_RING is a power of two");
_Static_assert(CONBUF_LINE_MAX < CONBUF_RING / 4, "a line fits the ring many times over");

void conbuf_init(struct conbuf *c, uint64_t rate, uint64_t burst, uint32_t overhead,
		 uint64_t now_us)
{
	memset(c, 0, sizeof(*c));
	c->rate = rate;
	c->burst = burst;
	c->overhead = overhead;
	c->tokens = burst * US_PER_S;
	c->refill_us = now_us;
}

static void refill(struct conbuf *c, uint64_t now_us)
{
	uint64_t full = c->burst * US_PER_S;
	uint64_t dt;

	if (now_us <= c->refill_us)
		return;
	dt = now_us - c->refill_us;
	c->refill_us = now_us;
	/* Past the time an empty bucket takes to fill, it is full (and dt * rate cannot overflow). */
	if (dt >= full / c->rate)
		c->tokens = full;
	else
		c->tokens = MIN(full, c->tokens + dt * c->rate);
}

static void keep(struct conbuf *c, const char *s, uint32_t n)
{
	char *slot = c->keep[c->keep_next];

	n = MIN(n, CONBUF_KEEP_LEN - 1);
	memcpy(slot, s, n);
	slot[n] = 0;
	c->keep_next = (c->keep_next + 1) % CONBUF_KEEP_LINES;
	if (c->nkeep < CONBUF_KEEP_LINES)
		c->nkeep++;
	c->kept_total++;
}

const char *conbuf_kept(const struct conbuf *c, uint32_t i)
{
	uint32_t first = (c->keep_next + CONBUF_KEEP_LINES - c->nkeep) % CONBUF_KEEP_LINES;

	return i < c->nkeep ? c->keep[(first + i) % CONBUF_KEEP_LINES] : NULL;
}

/* Appends s[0..n) and '\n'; the caller checked the cost, which bounds the bytes. */
static void ring_put(struct conbuf *c, const char *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		c->ring[(c->head + c->used++) & RING_MASK] = s[i];
	c->ring[(c->head + c->used++) & RING_MASK] = '\n';
	c->cost += n + c->overhead;
}

/* One marker's worth of the ring is always left free by accepted lines. */
static uint32_t marker_cost(const struct conbuf *c)
{
	return CONBUF_MARKER_MAX + c->overhead;
}

/* The marker for the drops not yet reported, if it fits. */
static void put_marker(struct conbuf *c)
{
	char m[CONBUF_MARKER_MAX];
	int n = snprintf(m, sizeof(m), "... %lu bytes dropped (%s)", (unsigned long)c->unreported,
			 c->unreported_rate ? "console rate limit" : "console buffer full");

	if (n <= 0 || (size_t)n >= sizeof(m) || c->cost + n + c->overhead > CONBUF_RING)
		return;
	ring_put(c, m, (uint32_t)n);
	c->unreported = 0;
	c->unreported_rate = false;
}

static bool rate_allows(struct conbuf *c, uint64_t cost, uint64_t now_us)
{
	refill(c, now_us);
	if (c->limited && c->tokens < c->burst * US_PER_S / 4)
		return false;
	c->limited = c->tokens < cost * US_PER_S;
	return !c->limited;
}

/* The line in l is complete (newline: the guest ended it). */
static void commit(struct conbuf *c, struct conbuf_line *l, bool newline, uint64_t now_us)
{
	uint32_t n = l->len;
	uint64_t cost = n + c->overhead + (c->unreported ? marker_cost(c) : 0);
	bool rate_ok;

	l->len = 0;
	if (n)
		keep(c, l->text, n);
	rate_ok = rate_allows(c, cost, now_us);
	if (!rate_ok || c->cost + cost + marker_cost(c) > CONBUF_RING) {
		c->dropped += n + newline;
		c->unreported += n + newline;
		c->unreported_rate |= !rate_ok;
		return;
	}
	c->tokens -= cost * US_PER_S;
	if (c->unreported)
		put_marker(c);
	ring_put(c, l->text, n);
}

/*
 * Guests are not trusted with the host terminal: control characters other
 * than tab, DEL and bytes above 0x7f become '?', so no escape sequence
 * reaches it; carriage returns vanish.
 */
void conbuf_feed(struct conbuf *c, enum conbuf_source src, const char *s, size_t n, uint64_t now_us)
{
	struct conbuf_line *l = &c->in[(unsigned)src < CONBUF_SOURCES ? src : CONBUF_SERIAL];

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\n') {
			/* A line just split at CONBUF_LINE_MAX ends here: no empty line after it. */
			if (!l->split)
				commit(c, l, true, now_us);
			l->split = false;
			continue;
		}
		if (ch == '\r')
			continue;
		if ((ch < 0x20 && ch != '\t') || ch >= 0x7f)
			ch = '?';
		l->text[l->len++] = (char)ch;
		l->split = false;
		if (l->len == CONBUF_LINE_MAX) {
			commit(c, l, false, now_us);
			l->split = true;
		}
	}
}

void conbuf_flush(struct conbuf *c, uint64_t now_us)
{
	for (unsigned k = 0; k < CONBUF_SOURCES; k++) {
		c->in[k].split = false;
		if (c->in[k].len)
			commit(c, &c->in[k], false, now_us);
	}
	if (c->unreported)
		put_marker(c);
}

static uint32_t first_len(const struct conbuf *c)
{
	uint32_t n = 0;

	while (n < c->used && c->ring[(c->head + n) & RING_MASK] != '\n')
		n++;
	return n;
}

int conbuf_peek(const struct conbuf *c, char *out)
{
	uint32_t n;

	if (!c->used)
		return -1;
	n = MIN(first_len(c), (uint32_t)CONBUF_LINE_MAX);
	for (uint32_t i = 0; i < n; i++)
		out[i] = c->ring[(c->head + i) & RING_MASK];
	out[n] = 0;
	return (int)n;
}

void conbuf_pop(struct conbuf *c)
{
	uint32_t n;

	if (!c->used)
		return;
	n = first_len(c);
	c->head = (c->head + n + 1) & RING_MASK;
	c->used -= MIN(c->used, n + 1);
	c->cost -= MIN(c->cost, n + c->overhead);
}
