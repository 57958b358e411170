/* SPDX-License-Identifier: Apache-2.0 */
/*
 * abi.h: pvhv guest ABI, version and the one include a guest needs.
 *
 * Self-contained C99.  Field comments say IN (guest to pvhv) or OUT
 * (pvhv to guest).  Guest-physical addresses have type pvhv_gpa_t: an
 * integer, never a host pointer.
 */
#ifndef PVHV_GUEST_ABI_H
#define PVHV_GUEST_ABI_H

#include <stdint.h>

/* Major changes break guests; minor ones only add. */
#define PVHV_ABI_MAJOR 1
#define PVHV_ABI_MINOR 0
#define PVHV_ABI_VERSION ((PVHV_ABI_MAJOR << 16) | PVHV_ABI_MINOR)

typedef uint64_t pvhv_gpa_t;

#include "cpuid.h"
#include "hypercall.h"
#include "start_info.h"
#include "platform.h"

#endif
