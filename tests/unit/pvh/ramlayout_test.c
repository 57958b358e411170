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

/* ---------------------------------------------------------------- layouts of ranges */

/* The plain layout answers as the ram_size functions do, on both sides of the hole. */
Test(ramlayout, plain_layout_agrees)
{
	static const uint64_t sizes[] = { MIB(2), MIB(64), GIB(3), MIB(4608), PVHV_RAM_MAX };
	static const uint64_t probes[] = { 0, MIB(1), MIB(2) - 1, MIB(62), GIB(3) - 1, GIB(3), GIB(4),
					   GIB(4) + MIB(1023), MIB(5632), PVHV_RAM_MAX + GIB(1) - 1 };

	for (unsigned s = 0; s < ARRAY_SIZE(sizes); s++) {
		struct ram_layout l;

		ram_layout_plain(&l, sizes[s]);
		cr_assert_eq(l.size, sizes[s]);
		cr_assert_not(l.identity);
		cr_assert_eq(rl_end(&l), ram_end(sizes[s]));
		for (unsigned k = 0; k < ARRAY_SIZE(probes); k++) {
			uint64_t a = ~0ull, b = ~0ull;
			bool ra = ram_chunk(sizes[s], probes[k], 1, &a), rb = rl_chunk(&l, probes[k], 1, &b);

			cr_assert_eq(ra, rb, "ram 0x%llx gpa 0x%llx", (unsigned long long)sizes[s],
				     (unsigned long long)probes[k]);
			cr_assert_eq(a, b);
			cr_assert_eq(ram_overlaps(sizes[s], probes[k], MIB(1)), rl_overlaps(&l, probes[k], MIB(1)));
		}
		for (uint64_t i = 0; i < sizes[s] / CHUNK; i += 97)
			cr_assert_eq(rl_chunk_gpa(&l, i), ram_chunk_gpa(sizes[s], i));
	}
}

/* A fake host for ram_layout_identity(): refuses the chunks marked busy, records what it took. */
struct host {
	uint8_t busy[4096];   /* host chunk index -> refused */
	uint8_t asked[4096];
	unsigned taken;
};

static bool host_take(void *ctx, uint64_t idx)
{
	struct host *h = ctx;

	cr_assert_lt(idx, 4096);
	cr_assert_eq(h->asked[idx]++, 0, "chunk %llu asked for twice", (unsigned long long)idx);
	if (h->busy[idx])
		return false;
	h->taken++;
	return true;
}

static void busy(struct host *h, uint64_t from, uint64_t to)
{
	for (uint64_t a = from; a < to; a += CHUNK)
		h->busy[a / CHUNK] = 1;
}

/* All free: chunk 0, then one range from 16 MiB; nothing in between is RAM. */
Test(ramlayout, identity_all_free)
{
	static struct host h;
	struct ram_layout l;
	struct ram_range held;
	uint64_t end, i = 42;

	cr_assert_eq(ram_layout_identity(&l, MIB(256), 512, host_take, &h, &held, &end), 0);
	cr_assert(l.identity);
	cr_assert_eq(l.size, MIB(256));
	cr_assert_eq(l.nr, 2);
	cr_assert_eq(l.r[0].start, 0);
	cr_assert_eq(l.r[0].size, CHUNK);
	cr_assert_eq(l.r[1].start, MIB(16));
	cr_assert_eq(l.r[1].size, MIB(254));
	cr_assert_eq(h.taken, 127);
	cr_assert_eq(held.size, 0);
	cr_assert_eq(end, MIB(270));
	cr_assert_not(h.asked[7], "below 16 MiB asked for");
	cr_assert_not(h.asked[135], "asked past what it needed");
	/* Chunk 1 is host chunk 8, at its own address; [2 MiB, 16 MiB) is not RAM. */
	cr_assert(rl_chunk(&l, MIB(16), 1, &i));
	cr_assert_eq(i, 1);
	cr_assert_eq(rl_chunk_gpa(&l, 1), MIB(16));
	cr_assert_eq(rl_chunk_gpa(&l, 127), MIB(268));
	cr_assert(rl_chunk(&l, MIB(1), 1, &i));
	cr_assert_eq(i, 0);
	cr_assert_not(rl_chunk(&l, MIB(2), 1, NULL));
	cr_assert_not(rl_chunk(&l, MIB(16) - 1, 2, NULL), "across the gap");
	cr_assert_not(rl_chunk(&l, MIB(270), 1, NULL));
	cr_assert(rl_overlaps(&l, MIB(15), MIB(2)));
	cr_assert_not(rl_overlaps(&l, MIB(2), MIB(14)));
	cr_assert_eq(rl_end(&l), MIB(270));
}

/* Busy host memory splits the RAM into ranges; the first busy run is reported. */
Test(ramlayout, identity_around_busy_chunks)
{
	static struct host h;
	struct ram_layout l;
	struct ram_range held;
	uint64_t end, i;

	busy(&h, MIB(20), MIB(24));
	busy(&h, MIB(40), MIB(42));
	cr_assert_eq(ram_layout_identity(&l, MIB(32), 512, host_take, &h, &held, &end), 0);
	cr_assert_eq(l.size, MIB(32));
	cr_assert_eq(l.nr, 4);
	cr_assert_eq(l.r[1].start, MIB(16));
	cr_assert_eq(l.r[1].size, MIB(4));
	cr_assert_eq(l.r[2].start, MIB(24));
	cr_assert_eq(l.r[2].size, MIB(16));
	cr_assert_eq(l.r[3].start, MIB(42));
	cr_assert_eq(l.r[3].size, MIB(10));
	cr_assert_eq(held.start, MIB(20));
	cr_assert_eq(held.size, MIB(4), "the first busy run, whole");
	cr_assert_eq(end, MIB(52));
	/* Chunks count on through the ranges: 0, then 16-20 MiB, then 24-40, then 42-52. */
	cr_assert(rl_chunk(&l, MIB(24), 1, &i));
	cr_assert_eq(i, 3);
	cr_assert(rl_chunk(&l, MIB(42), 1, &i));
	cr_assert_eq(i, 11);
	cr_assert_eq(rl_chunk_gpa(&l, 2), MIB(18));
	cr_assert_eq(rl_chunk_gpa(&l, 3), MIB(24));
	cr_assert_eq(rl_chunk_gpa(&l, 15), MIB(50));
	cr_assert_not(rl_chunk(&l, MIB(22), 1, NULL));
	cr_assert_not(rl_chunk(&l, MIB(39), MIB(2), NULL), "across a busy chunk");
}

/* The guest's device hole is never identity RAM: the scan jumps to 4 GiB. */
Test(ramlayout, identity_skips_the_hole)
{
	static struct host h;
	struct ram_layout l;
	struct ram_range held;
	uint64_t end;

	busy(&h, MIB(16), GIB(3) - MIB(4));
	cr_assert_eq(ram_layout_identity(&l, MIB(8), 4096, host_take, &h, &held, &end), 0);
	cr_assert_eq(l.nr, 3);
	cr_assert_eq(l.r[1].start, GIB(3) - MIB(4));
	cr_assert_eq(l.r[1].size, MIB(4));
	cr_assert_eq(l.r[2].start, GIB(4));
	cr_assert_eq(l.r[2].size, MIB(2));
	cr_assert_not(h.asked[GIB(3) / CHUNK], "asked for the hole");
	cr_assert_not(h.asked[GIB(4) / CHUNK - 1], "asked for the hole");
	cr_assert(rl_chunk(&l, GIB(4), 1, NULL));
	cr_assert_not(rl_chunk(&l, GIB(3), 1, NULL));
}

/* Not enough below the limit: -ENOMEM, with how far it looked and what was in the way. */
Test(ramlayout, identity_not_enough)
{
	static struct host h;
	struct ram_layout l;
	struct ram_range held;
	uint64_t end;

	busy(&h, MIB(100), MIB(110));
	cr_assert_eq(ram_layout_identity(&l, MIB(2048), 512, host_take, &h, &held, &end), -ENOMEM);
	cr_assert_eq(end, GIB(1));
	cr_assert_eq(held.start, MIB(100));
	cr_assert_eq(held.size, MIB(10));
	cr_assert_eq(l.size, CHUNK + GIB(1) - MIB(16) - MIB(10), "what it took, for the caller to give back");
	cr_assert_eq(h.taken, (l.size - CHUNK) / CHUNK);
}

/* Host memory in more pieces than RAM_MAX_RANGES: -E2BIG, the last chunk taken named by end. */
Test(ramlayout, identity_too_many_pieces)
{
	static struct host h;
	struct ram_layout l;
	struct ram_range held;
	uint64_t end;

	for (uint64_t a = MIB(18); a < MIB(100); a += 2 * CHUNK)
		busy(&h, a, a + CHUNK);
	cr_assert_eq(ram_layout_identity(&l, MIB(64), 512, host_take, &h, &held, &end), -E2BIG);
	cr_assert_eq(l.nr, RAM_MAX_RANGES);
	cr_assert_eq(h.taken, RAM_MAX_RANGES, "the ranges' chunks and the one that did not fit");
	cr_assert_eq(end, MIB(16) + (RAM_MAX_RANGES - 1) * 2 * CHUNK + CHUNK);
	cr_assert_eq(held.start, MIB(18));
	cr_assert_eq(held.size, CHUNK, "only the first busy run");
}
