/* SPDX-License-Identifier: Apache-2.0 */
/*
 * share.h: a domain's CPU share (the configuration's cpu-share) and the
 * time slice it gives each of its vCPUs (pure: pvh/sched.c uses it, and
 * the unit tests).  Slices are proportional to shares over the whole
 * range: with every vCPU runnable, round-robin then gives each domain's
 * vCPUs CPU time in proportion to its share.  Why the range is what it
 * is: pvh/sched.c's header.
 */
#ifndef PVHV_PVH_SHARE_H
#define PVHV_PVH_SHARE_H

#include "lib/base.h"

#define SHARE_DEFAULT 100          /* a domain without cpu-share */
#define SHARE_MIN 10
#define SHARE_MAX 400
#define SHARE_DEFAULT_SLICE_US 10000 /* the slice of SHARE_DEFAULT: 1 ms at SHARE_MIN, 40 ms at SHARE_MAX */

/*
 * The slice of a vCPU whose domain has share (0: SHARE_DEFAULT), in
 * microseconds: SHARE_DEFAULT_SLICE_US * share / SHARE_DEFAULT.  A share
 * outside [SHARE_MIN, SHARE_MAX] (the configuration refuses those) is
 * taken as the nearer bound.
 */
uint64_t share_slice_us(uint32_t share);

#endif
