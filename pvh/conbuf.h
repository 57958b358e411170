/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conbuf.h: one domain's console output on its way to the host console.
 *
 * The guest's bytes are cut into lines (control characters made harmless),
 * each line passes a token-bucket rate limit, and accepted lines wait in a
 * ring until pvhv's console writer takes them.  Lines over the limit are
 * dropped whole and counted; a marker line "... N bytes dropped (console
 * rate limit)" takes their place in the ring, in order.  The last lines
 * the guest wrote (printed or not) are kept for the summary of a domain
 * that failed.
 *
 * Pure: no locks, no clock, no output.  The caller serializes calls, passes
 * the time in microseconds (never going backwards) and prints what
 * conbuf_peek() gives.
 *
 * Costs are in bytes of host console output: a line of n bytes costs
 * n + overhead (the caller's prefix and line end).  The bucket holds at
 * most `burst` and refills at `rate` per second; once a line has been
 * dropped for want of tokens, lines are dropped until the bucket has
 * refilled to a quarter of `burst`, so a guest over its rate shows as
 * stretches of output each led by one marker, not a marker every line.
 * The ring holds at most CONBUF_RING bytes of that cost, so what waits for
 * the host console is bounded too.
 */
#ifndef PVHV_PVH_CONBUF_H
#define PVHV_PVH_CONBUF_H

#include "lib/base.h"

#define CONBUF_LINE_MAX 200     /* longer lines are split */
#define CONBUF_RING 8192        /* accepted output waiting for the host console (cost bytes) */
#define CONBUF_KEEP_LINES 64    /* a panic line with its stack trace and registers fits */
#define CONBUF_KEEP_LEN 80      /* kept lines are cut to 79 characters */
#define CONBUF_MARKER_MAX 64    /* "... N bytes dropped (console buffer full)" with N < 2^64 */

/*
 * Where the bytes come from: each source has its own line being written,
 * so a line the serial port has half written and one the virtio console
 * writes meanwhile stay two lines.
 */
enum conbuf_source { CONBUF_SERIAL, CONBUF_VIRTIO, CONBUF_SOURCES };

struct conbuf_line {
	char text[CONBUF_LINE_MAX];     /* the line being written */
	uint32_t len;
	bool split;                     /* the last byte filled a line: a '\n' next adds nothing */
};

struct conbuf {
	uint64_t rate, burst;   /* bytes per second, bytes */
	uint32_t overhead;      /* host bytes per line beyond its text */

	struct conbuf_line in[CONBUF_SOURCES];

	char ring[CONBUF_RING];         /* accepted lines, each ending in '\n' */
	uint32_t head, used;            /* bytes */
	uint32_t cost;                  /* cost of the lines in the ring */

	uint64_t tokens;                /* bytes * 10^6 (byte-microseconds: no fractions lost) */
	uint64_t refill_us;
	bool limited;                   /* dropping until the bucket is a quarter full */

	uint64_t dropped;               /* guest bytes dropped in all */
	uint64_t unreported;            /* ... since the last marker */
	bool unreported_rate;           /* some of them for the rate limit (else: ring full) */

	char keep[CONBUF_KEEP_LINES][CONBUF_KEEP_LEN];
	uint32_t keep_next, nkeep;
	uint64_t kept_total;            /* lines ever kept: a reader of the last lines finds the new ones */
};

/*
 * Starts empty with a full bucket.  overhead must be at least 1 and below
 * CONBUF_RING / 4, burst at least CONBUF_LINE_MAX + overhead.
 */
void conbuf_init(struct conbuf *c, uint64_t rate, uint64_t burst, uint32_t overhead,
		 uint64_t now_us);

/* The guest wrote n bytes (any values) through source src. */
void conbuf_feed(struct conbuf *c, enum conbuf_source src, const char *s, size_t n, uint64_t now_us);

/*
 * The guest has stopped writing (its domain ends): a partial line is
 * ended, and drops not yet reported get their marker whatever the bucket
 * holds (the ring always keeps room for that one).
 */
void conbuf_flush(struct conbuf *c, uint64_t now_us);

/* Lines wait in the ring. */
static inline bool conbuf_pending(const struct conbuf *c)
{
	return c->used != 0;
}

/*
 * Copies the oldest waiting line, without its '\n', NUL-terminated, into
 * out (CONBUF_LINE_MAX + 1 bytes) and returns its length, or -1 when none
 * waits.  The line stays until conbuf_pop().
 */
int conbuf_peek(const struct conbuf *c, char *out);
void conbuf_pop(struct conbuf *c);

/* The i-th oldest kept line (NUL-terminated), i < c->nkeep; NULL otherwise. */
const char *conbuf_kept(const struct conbuf *c, uint32_t i);

#endif
