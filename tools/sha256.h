/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sha256.h: SHA-256 (FIPS 180-4), to check OCI descriptors' digests.
 *
 * Pure: no allocation, any split of the input into sha256_update() calls
 * gives the same digest.
 */
#ifndef PVHV_TOOLS_SHA256_H
#define PVHV_TOOLS_SHA256_H

#include "lib/base.h"

struct sha256 {
	uint32_t h[8];
	uint64_t len;      /* bytes so far */
	uint8_t buf[64];   /* a block not yet complete */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);

/* Writes the digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(struct sha256 *s, char out[65]);

#endif
