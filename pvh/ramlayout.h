/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ramlayout.h: where a domain's RAM lies in guest-physical space, and
 * which 2 MiB chunk of it holds a guest-physical address.
 *
 * RAM of ram_size bytes (a multiple of PVHV_RAM_ALIGN, at most
 * PVHV_RAM_MAX; callers check that) is low RAM [0, ram_low_size()) and
 * high RAM [PVHV_RAM_HIGH_GPA, ram_end()) (see pvhv/platform.h).  Chunks
 * of PVHV_RAM_ALIGN bytes are numbered 0 .. ram_size / PVHV_RAM_ALIGN - 1
 * through low RAM, then on through high RAM, with no gap.
 */
#ifndef PVHV_PVH_RAMLAYOUT_H
#define PVHV_PVH_RAMLAYOUT_H

#include "lib/base.h"

/* Bytes of low RAM: min(ram_size, PVHV_RAM_LOW_END). */
uint64_t ram_low_size(uint64_t ram_size);

/* The end of RAM's highest range: ram_low_size() with no high RAM. */
uint64_t ram_end(uint64_t ram_size);

/*
 * Whether [gpa, gpa + len) is RAM, inside one of its two ranges (len 0
 * counts as 1: gpa itself must be RAM).  If it is, and chunk is not NULL,
 * *chunk is the index of the chunk holding gpa; a range in one RAM range
 * has consecutive chunk indexes.  A range that wraps, touches the hole or
 * crosses the end of RAM is not RAM.
 */
bool ram_chunk(uint64_t ram_size, gpa_t gpa, uint64_t len, uint64_t *chunk);

/* The guest-physical address where chunk i starts; i < ram_size / PVHV_RAM_ALIGN. */
gpa_t ram_chunk_gpa(uint64_t ram_size, uint64_t i);

/* Whether [gpa, gpa + len) (len > 0; wrapping counts as overlapping) shares a byte with RAM. */
bool ram_overlaps(uint64_t ram_size, gpa_t gpa, uint64_t len);

#endif
