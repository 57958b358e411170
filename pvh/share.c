/* SPDX-License-Identifier: Apache-2.0 */
/* share.c: the time slice a domain's CPU share gives its vCPUs. */
#include "pvh/share.h"

uint64_t share_slice_us(uint32_t share)
{
	if (!share)
		share = SHARE_DEFAULT;
	share = MAX(share, (uint32_t)SHARE_MIN);
	share = MIN(share, (uint32_t)SHARE_MAX);
	return (uint64_t)SHARE_DEFAULT_SLICE_US * share / SHARE_DEFAULT;
}
