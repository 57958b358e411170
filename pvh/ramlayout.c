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
