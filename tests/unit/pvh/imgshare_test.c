/* SPDX-License-Identifier: Apache-2.0 */
/* imgshare_test.c: unit tests for pvh/imgshare.c (which chunks an image's pages can back). */
#include <criterion/criterion.h>

#include "lib/base.h"
#include "pvh/imgshare.h"

#define C IMGSHARE_CHUNK
#define IMG 0x40000000ull /* a 2 MiB-aligned image buffer */

/* Which of chunks [0, 64) can be shared, as a bit mask, checking each host address. */
static uint64_t shared_mask(const struct imgshare_seg *s, unsigned n)
{
	uint64_t mask = 0, host;

	for (uint64_t i = 0; i < 64; i++) {
		host = 0x1234;
		if (imgshare_chunk(s, n, i, &host)) {
			cr_assert(IS_ALIGNED(host, C), "chunk %lu: host 0x%lx not 2 MiB aligned", i, host);
			mask |= 1ull << i;
		} else {
			cr_assert_eq(host, 0x1234, "chunk %lu: host written though not shared", i);
		}
	}
	return mask;
}

/* A vmlinux-like layout: text at 16 MiB from file offset 2 MiB, data after it, bss at the end. */
Test(imgshare, kernel_segments)
{
	struct imgshare_seg s[] = {
		{ MIB(16), IMG + MIB(2), MIB(7) + 0x1000, MIB(7) + 0x1000 },      /* chunks 8-10 whole, 11 partly */
		{ MIB(24), IMG + MIB(10), MIB(4), MIB(4) + 0x5000 },              /* 12, 13 whole; bss in 14 */
	};
	uint64_t host = 0;

	cr_assert_eq(shared_mask(s, 2), 0x7ull << 8 | 0x3ull << 12);
	cr_assert(imgshare_chunk(s, 2, 9, &host));
	cr_assert_eq(host, IMG + MIB(4));
	cr_assert(imgshare_chunk(s, 2, 13, &host));
	cr_assert_eq(host, IMG + MIB(12));
}

Test(imgshare, not_congruent_shares_nothing)
{
	/* The image buffer only page aligned (a cpio member, say): every chunk is copied. */
	struct imgshare_seg s[] = { { MIB(16), IMG + 0x1000, MIB(8), MIB(8) } };
	uint64_t first = 1, end = 1;

	cr_assert_eq(shared_mask(s, 1), 0);
	imgshare_candidates(&s[0], &first, &end);
	cr_assert_eq(first, end);
}

Test(imgshare, unaligned_start_congruent)
{
	/* Starts mid-chunk but congruent: the chunks after the first are whole. */
	struct imgshare_seg s[] = { { MIB(17), IMG + MIB(1), MIB(6), MIB(6) } };
	uint64_t first, end;

	imgshare_candidates(&s[0], &first, &end);
	cr_assert_eq(first, 9);
	cr_assert_eq(end, 11);
	cr_assert_eq(shared_mask(s, 1), 0x3ull << 9);
}

Test(imgshare, overlap_is_copied)
{
	/* A second segment's span (its bss too) reaching into a chunk makes that chunk a copy. */
	struct imgshare_seg s[] = {
		{ MIB(16), IMG, MIB(8), MIB(8) },
		{ MIB(22) + 0x1000, IMG + MIB(30), 0, 0x2000 },
	};

	cr_assert_eq(shared_mask(s, 2), 0x7ull << 8);
}

Test(imgshare, initrd_tail_partly_covered)
{
	/* An initrd at a 2 MiB boundary: its last, partial chunk is copied. */
	struct imgshare_seg s[] = { { MIB(56), IMG, MIB(5) + 12, MIB(5) + 12 } };

	cr_assert_eq(shared_mask(s, 1), 0x3ull << 28);
}

Test(imgshare, hostile_ranges)
{
	uint64_t host = 0, first = 5, end = 5;
	struct imgshare_seg wrap[] = { { ~0ull - MIB(2) + 1, IMG, MIB(4), MIB(4) } };
	struct imgshare_seg hostwrap[] = { { MIB(16), ~0ull & ~(C - 1), MIB(4), MIB(4) } };
	struct imgshare_seg longer[] = { { MIB(16), IMG, MIB(4), MIB(2) } };    /* len beyond span */
	struct imgshare_seg fine[] = { { MIB(16), IMG, MIB(4), MIB(4) } };

	cr_assert_not(imgshare_chunk(wrap, 1, (~0ull - MIB(2) + 1) / C, &host));
	imgshare_candidates(&wrap[0], &first, &end);
	cr_assert_eq(first, end);
	cr_assert_eq(shared_mask(hostwrap, 1), 0);
	cr_assert_eq(shared_mask(longer, 1), 0);
	cr_assert_not(imgshare_chunk(fine, 1, UINT64_MAX / C, &host));
	cr_assert_not(imgshare_chunk(fine, 0, 8, &host));
}

Test(imgshare, pieces_of_partial_chunks)
{
	/* Text from 16 MiB + 4 KiB to 19 MiB + 12 bytes: pieces in chunks 8 and 9 only. */
	struct imgshare_seg s = { MIB(16) + 0x1000, IMG + 0x1000, MIB(3) - 0x1000 + 12, MIB(4) };
	uint64_t off = 1, host = 1, len = 1;

	cr_assert(imgshare_piece(&s, 8, &off, &host, &len));
	cr_assert_eq(off, 0x1000);
	cr_assert_eq(host, IMG + 0x1000);
	cr_assert_eq(len, MIB(2) - 0x1000);
	cr_assert(imgshare_piece(&s, 9, &off, &host, &len));
	cr_assert_eq(off, 0);
	cr_assert_eq(host, IMG + MIB(2));
	cr_assert_eq(len, MIB(1) + 12);
	/* Chunk 10 holds only bss (span, not len): nothing to copy; nor before the segment. */
	off = host = len = 7;
	cr_assert_not(imgshare_piece(&s, 10, &off, &host, &len));
	cr_assert_not(imgshare_piece(&s, 7, &off, &host, &len));
	cr_assert_eq(off + host + len, 21, "outputs written without a piece");
	/* Wrapping or absurd chunk numbers give nothing. */
	cr_assert_not(imgshare_piece(&s, UINT64_MAX, &off, &host, &len));
	s.host = ~0ull - 0x100;
	cr_assert_not(imgshare_piece(&s, 8, &off, &host, &len));
}
