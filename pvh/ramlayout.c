/* SPDX-License-Identifier: Apache-2.0 */
/* ramlayout.c: a domain's RAM ranges, and the one mapping from guest-physical address to RAM chunk. */
#include "lib/base.h"
#include "pvh/ramlayout.h"
#include "pvhv/platform.h"

uint64_t ram_low_size(uint64_t ram_size)
{
	return MIN(ram_size, PVHV_RAM_LOW_END);
}

static uint64_t high_size(uint64_t ram_size)
{
	return ram_size - ram_low_size(ram_size);
}

uint64_t ram_end(uint64_t ram_size)
{
	return high_size(ram_size) ? PVHV_RAM_HIGH_GPA + high_size(ram_size) : ram_low_size(ram_size);
}

bool ram_chunk(uint64_t ram_size, gpa_t gpa, uint64_t len, uint64_t *chunk)
{
	uint64_t off;

	len = MAX(len, 1ull);
	if (range_within(gpa, len, 0, ram_low_size(ram_size)))
		off = gpa;
	else if (range_within(gpa, len, PVHV_RAM_HIGH_GPA, high_size(ram_size)))
		off = ram_low_size(ram_size) + (gpa - PVHV_RAM_HIGH_GPA);
	else
		return false;
	if (chunk)
		*chunk = off / PVHV_RAM_ALIGN;
	return true;
}

gpa_t ram_chunk_gpa(uint64_t ram_size, uint64_t i)
{
	uint64_t off = i * PVHV_RAM_ALIGN, low = ram_low_size(ram_size);

	return off < low ? off : PVHV_RAM_HIGH_GPA + (off - low);
}

bool ram_overlaps(uint64_t ram_size, gpa_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;

	if (end < gpa)
		return true;
	return gpa < ram_low_size(ram_size) ||
	       (high_size(ram_size) && gpa < ram_end(ram_size) && end > PVHV_RAM_HIGH_GPA);
}

/* ------------------------------------------------------------ layouts of ranges */

void ram_layout_plain(struct ram_layout *l, uint64_t ram_size)
{
	*l = (struct ram_layout){ .size = ram_size, .nr = 1 };
	l->r[0] = (struct ram_range){ 0, ram_low_size(ram_size) };
	if (high_size(ram_size))
		l->r[l->nr++] = (struct ram_range){ PVHV_RAM_HIGH_GPA, high_size(ram_size) };
}

/* Chunk idx extends the last range, or starts a new one: false when there is no room for it. */
static bool append_chunk(struct ram_layout *l, uint64_t idx)
{
	gpa_t gpa = idx * PVHV_RAM_ALIGN;
	struct ram_range *last = &l->r[l->nr - 1];

	if (last->start + last->size == gpa) {
		last->size += PVHV_RAM_ALIGN;
	} else {
		if (l->nr == RAM_MAX_RANGES)
			return false;
		l->r[l->nr++] = (struct ram_range){ gpa, PVHV_RAM_ALIGN };
	}
	l->size += PVHV_RAM_ALIGN;
	return true;
}

int ram_layout_identity(struct ram_layout *l, uint64_t ram_size, uint64_t limit_idx,
			bool (*take)(void *ctx, uint64_t idx), void *ctx,
			struct ram_range *refused, uint64_t *scanned_end)
{
	uint64_t idx = RAM_IDENT_FIRST_GPA / PVHV_RAM_ALIGN;
	bool in_refused = false;

	*l = (struct ram_layout){ .size = PVHV_RAM_ALIGN, .nr = 1, .identity = true };
	l->r[0] = (struct ram_range){ 0, PVHV_RAM_ALIGN };
	*refused = (struct ram_range){ 0, 0 };
	for (; l->size < ram_size && idx < limit_idx; idx++) {
		gpa_t gpa = idx * PVHV_RAM_ALIGN;

		if (gpa >= PVHV_RAM_LOW_END && gpa < PVHV_RAM_HIGH_GPA) {
			idx = PVHV_RAM_HIGH_GPA / PVHV_RAM_ALIGN - 1; /* the guest's device hole */
			in_refused = false;
			continue;
		}
		if (!take(ctx, idx)) {
			if (!refused->size || in_refused) {
				if (!refused->size)
					refused->start = gpa;
				refused->size += PVHV_RAM_ALIGN;
				in_refused = true;
			}
			continue;
		}
		in_refused = false;
		if (!append_chunk(l, idx)) {
			*scanned_end = gpa + PVHV_RAM_ALIGN;
			return -E2BIG;
		}
	}
	*scanned_end = idx * PVHV_RAM_ALIGN;
	return l->size < ram_size ? -ENOMEM : 0;
}

/* The range holding [gpa, gpa + len) (len 0 counts as 1), or -1. */
static int range_of(const struct ram_layout *l, gpa_t gpa, uint64_t len, uint64_t *chunk)
{
	uint64_t before = 0;

	len = MAX(len, 1ull);
	for (unsigned k = 0; k < l->nr; k++) {
		if (range_within(gpa, len, l->r[k].start, l->r[k].size)) {
			if (chunk)
				*chunk = (before + gpa - l->r[k].start) / PVHV_RAM_ALIGN;
			return (int)k;
		}
		before += l->r[k].size;
	}
	return -1;
}

bool rl_chunk(const struct ram_layout *l, gpa_t gpa, uint64_t len, uint64_t *chunk)
{
	return range_of(l, gpa, len, chunk) >= 0;
}

gpa_t rl_chunk_gpa(const struct ram_layout *l, uint64_t i)
{
	uint64_t off = i * PVHV_RAM_ALIGN;
	unsigned k = 0;

	while (k + 1 < l->nr && off >= l->r[k].size)
		off -= l->r[k++].size;
	return l->r[k].start + off;
}

bool rl_overlaps(const struct ram_layout *l, gpa_t gpa, uint64_t len)
{
	uint64_t end = gpa + len;

	if (end < gpa)
		return true;
	for (unsigned k = 0; k < l->nr; k++)
		if (gpa < l->r[k].start + l->r[k].size && l->r[k].start < end)
			return true;
	return false;
}

uint64_t rl_end(const struct ram_layout *l)
{
	return l->r[l->nr - 1].start + l->r[l->nr - 1].size;
}
