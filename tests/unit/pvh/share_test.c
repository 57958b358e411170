/* SPDX-License-Identifier: Apache-2.0 */
/* share_test.c: unit tests for pvh/share.c: slices in proportion to CPU shares, and their bounds. */
#include <criterion/criterion.h>

#include "lib/base.h"
#include "pvh/share.h"

Test(share, default_is_the_old_slice)
{
	cr_assert_eq(share_slice_us(SHARE_DEFAULT), 10000);
	cr_assert_eq(share_slice_us(0), 10000, "0 means the default");
}

Test(share, proportional_over_the_whole_range)
{
	cr_assert_eq(share_slice_us(300), 3 * share_slice_us(100));
	cr_assert_eq(share_slice_us(SHARE_MIN), 1000);
	cr_assert_eq(share_slice_us(SHARE_MAX), 40000);
	for (uint32_t a = SHARE_MIN; a <= SHARE_MAX; a++)
		cr_assert_eq(share_slice_us(a) * SHARE_DEFAULT, (uint64_t)a * share_slice_us(SHARE_DEFAULT),
			     "share %u", a);
}

Test(share, outside_the_range_takes_the_bound)
{
	cr_assert_eq(share_slice_us(1), share_slice_us(SHARE_MIN));
	cr_assert_eq(share_slice_us(SHARE_MIN - 1), share_slice_us(SHARE_MIN));
	cr_assert_eq(share_slice_us(SHARE_MAX + 1), share_slice_us(SHARE_MAX));
	cr_assert_eq(share_slice_us(UINT32_MAX), share_slice_us(SHARE_MAX));
}
