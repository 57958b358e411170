/* SPDX-License-Identifier: Apache-2.0 */
/* ramlayout_test.c: unit tests for pvh/ramlayout.c, guest-physical address to RAM chunk. */
#include <criterion/criterion.h>

#include "lib/base.h"
#include "pvh/ramlayout.h"
#include "pvhv/platform.h"

#define CHUNK MIB(2)

static uint64_t chunk_of(uint64_t ram, gpa_t gpa, uint64_t len)
{
	uint64_t i = ~0ull;

	cr_assert(ram_chunk(ram, gpa, len, &i), "ram 0x%llx: [0x%llx, +0x%llx) not RAM",
		  (unsigned long long)ram, (unsigned long long)gpa, (unsigned long long)len);
	return i;
}

static void not_ram(uint64_t ram, gpa_t gpa, uint64_t len)
{
	uint64_t i = 42;

	cr_assert_not(ram_chunk(ram, gpa, len, &i), "ram 0x%llx: [0x%llx, +0x%llx) is RAM",
		      (unsigned long long)ram, (unsigned long long)gpa, (unsigned long long)len);
	cr_assert_eq(i, 42, "chunk written for a range that is not RAM");
}

Test(ramlayout, sizes)
{
	cr_assert_eq(ram_low_size(MIB(64)), MIB(64));
	cr_assert_eq(ram_end(MIB(64)), MIB(64));
	cr_assert_eq(ram_low_size(GIB(3)), GIB(3));
	cr_assert_eq(ram_end(GIB(3)), GIB(3));
	cr_assert_eq(ram_low_size(MIB(4608)), GIB(3));
	cr_assert_eq(ram_end(MIB(4608)), MIB(5632));
	cr_assert_eq(ram_end(PVHV_RAM_MAX), PVHV_RAM_MAX + GIB(1));
}

Test(ramlayout, low_only)
{
	uint64_t ram = MIB(64);

	cr_assert_eq(chunk_of(ram, 0, 1), 0);
	cr_assert_eq(chunk_of(ram, CHUNK, 4096), 1);
	cr_assert_eq(chunk_of(ram, MIB(64) - 1, 1), 31);
	cr_assert_eq(chunk_of(ram, 0, MIB(64)), 0);
	not_ram(ram, MIB(64), 1);
	not_ram(ram, MIB(64) - 4096, 8192);
	not_ram(ram, GIB(4), 1);          /* no high RAM at all */
	not_ram(ram, GIB(4) + MIB(2), 1);
}

Test(ramlayout, len_zero_needs_gpa_in_ram)
{
	cr_assert_eq(chunk_of(MIB(64), MIB(4), 0), 2);
	not_ram(MIB(64), MIB(64), 0);
	not_ram(MIB(4608), GIB(3), 0);
	cr_assert(ram_chunk(MIB(64), 0, 0, NULL));
}

Test(ramlayout, high_ram_after_the_hole)
{
	uint64_t ram = MIB(4608); /* 3 GiB low, 1.5 GiB from 4 GiB */

	cr_assert_eq(chunk_of(ram, GIB(3) - 8, 8), 1535);
	cr_assert_eq(chunk_of(ram, GIB(4), 8), 1536);
	cr_assert_eq(chunk_of(ram, GIB(4) + CHUNK + 5, 1), 1537);
	cr_assert_eq(chunk_of(ram, MIB(5632) - 1, 1), 2303);
	cr_assert_eq(chunk_of(ram, GIB(4), MIB(1536)), 1536);
	not_ram(ram, GIB(3), 1);                       /* the hole */
	not_ram(ram, 0xd0000000, 4096);                /* devices */
	not_ram(ram, GIB(4) - 1, 1);
	not_ram(ram, GIB(3) - 4096, 8192);             /* into the hole */
	not_ram(ram, GIB(4) - 4096, 8192);             /* out of the hole */
	not_ram(ram, GIB(3) - 4096, GIB(1) + 8192);    /* across it */
	not_ram(ram, MIB(5632), 1);
	not_ram(ram, MIB(5632) - 4096, 8192);
	not_ram(ram, 0, MIB(4608));                    /* RAM's size from 0 */
	not_ram(ram, ~0ull - 7, 16);                   /* wraps */
	not_ram(ram, GIB(4), ~0ull);
}

Test(ramlayout, three_gib_exactly_has_no_high_ram)
{
	cr_assert_eq(chunk_of(GIB(3), GIB(3) - 1, 1), 1535);
	not_ram(GIB(3), GIB(4), 1);
	cr_assert_eq(chunk_of(GIB(3) + CHUNK, GIB(4), CHUNK), 1536);
	not_ram(GIB(3) + CHUNK, GIB(4) + CHUNK, 1);
}

Test(ramlayout, chunk_gpa_is_the_inverse)
{
	uint64_t ram = MIB(4608), prev = 0;

	cr_assert_eq(ram_chunk_gpa(ram, 0), 0);
	cr_assert_eq(ram_chunk_gpa(ram, 1535), GIB(3) - CHUNK);
	cr_assert_eq(ram_chunk_gpa(ram, 1536), GIB(4));
	cr_assert_eq(ram_chunk_gpa(ram, 2303), MIB(5632) - CHUNK);
	cr_assert_eq(ram_chunk_gpa(MIB(64), 31), MIB(62));
	for (uint64_t i = 0; i < ram / CHUNK; i++) {
		gpa_t g = ram_chunk_gpa(ram, i);

		cr_assert(IS_ALIGNED(g, CHUNK));
		cr_assert(i == 0 || g > prev, "chunk %llu at 0x%llx", (unsigned long long)i,
			  (unsigned long long)g);
		cr_assert_eq(chunk_of(ram, g, CHUNK), i);
		prev = g;
	}
}

Test(ramlayout, overlaps)
{
	uint64_t ram = MIB(5120);

	cr_assert_not(ram_overlaps(ram, 0xd0000000, 4096));
	cr_assert_not(ram_overlaps(ram, 0xfec00000, 4096));
	cr_assert_not(ram_overlaps(ram, GIB(3), GIB(1)));
	cr_assert(ram_overlaps(ram, GIB(3) - 1, 2));
	cr_assert(ram_overlaps(ram, GIB(4) - 1, 2));
	cr_assert(ram_overlaps(ram, GIB(2), GIB(4)));
	cr_assert(ram_overlaps(ram, MIB(6143), MIB(1)));
	cr_assert_not(ram_overlaps(ram, GIB(6), GIB(1)));
	cr_assert(ram_overlaps(ram, ~0ull - 7, 16)); /* wraps */
	cr_assert_not(ram_overlaps(MIB(64), GIB(4), 4096));
	cr_assert_not(ram_overlaps(GIB(3), GIB(4) - 4096, 8192));
	cr_assert(ram_overlaps(MIB(64), MIB(63), MIB(2)));
}
