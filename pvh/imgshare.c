/* SPDX-License-Identifier: Apache-2.0 */
/* imgshare.c: which chunks of guest RAM an image's pages can back as they are. */
#include "pvh/imgshare.h"

static bool wraps(const struct imgshare_seg *s)
{
	return s->gpa + s->span < s->gpa || s->host + s->len < s->host || s->len > s->span;
}

void imgshare_candidates(const struct imgshare_seg *s, uint64_t *first, uint64_t *end)
{
	uint64_t lo, hi;

	*first = *end = 0;
	/* Congruent mod 2 MiB: a whole chunk of the segment is a whole aligned 2 MiB of the image. */
	if (wraps(s) || (s->gpa ^ s->host) & (IMGSHARE_CHUNK - 1))
		return;
	lo = ALIGN_UP(s->gpa, IMGSHARE_CHUNK);
	hi = ALIGN_DOWN(s->gpa + s->len, IMGSHARE_CHUNK);
	if (lo < s->gpa || lo >= hi)    /* ALIGN_UP wrapped, or no whole chunk */
		return;
	*first = lo / IMGSHARE_CHUNK;
	*end = hi / IMGSHARE_CHUNK;
}

bool imgshare_piece(const struct imgshare_seg *s, uint64_t i, uint64_t *off, uint64_t *host,
		    uint64_t *len)
{
	uint64_t lo = i * IMGSHARE_CHUNK, a, b;

	if (wraps(s) || i > UINT64_MAX / IMGSHARE_CHUNK - 1)
		return false;
	a = MAX(lo, s->gpa);
	b = MIN(lo + IMGSHARE_CHUNK, s->gpa + s->len);
	if (a >= b)
		return false;
	*off = a - lo;
	*host = s->host + (a - s->gpa);
	*len = b - a;
	return true;
}

bool imgshare_chunk(const struct imgshare_seg *segs, unsigned n, uint64_t i, uint64_t *host)
{
	uint64_t lo = i * IMGSHARE_CHUNK, hi = lo + IMGSHARE_CHUNK;
	int owner = -1;

	if (i > UINT64_MAX / IMGSHARE_CHUNK - 1)
		return false;
	for (unsigned k = 0; k < n; k++) {
		const struct imgshare_seg *s = &segs[k];
		uint64_t first, end;

		if (wraps(s))
			return false; /* its extent is unknown: it may touch anything */
		if (s->span == 0 || s->gpa >= hi || s->gpa + s->span <= lo)
			continue;
		imgshare_candidates(s, &first, &end);
		if (owner >= 0 || i < first || i >= end)
			return false; /* a second segment touches it, or this one does not fill it */
		owner = (int)k;
	}
	if (owner < 0)
		return false;
	*host = segs[owner].host + (lo - segs[owner].gpa);
	return true;
}
