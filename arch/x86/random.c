/* SPDX-License-Identifier: Apache-2.0 */
/*
 * random.c: entropy for guests (virtio-rng) from the CPU's RDSEED, or
 * RDRAND where RDSEED is missing (SDM vol. 1, 7.3.17).  Both may fail
 * transiently (CF = 0); each is retried a bounded number of times.
 */
#include "arch/x86/arch.h"

#define RETRIES 64

static int have = -1; /* -1 unknown, 0 none, 1 RDRAND, 2 RDSEED */

static int probe(void)
{
	uint32_t r[4];

	if (have >= 0)
		return have;
	host_cpuid(7, 0, r);
	if (r[1] & (1u << 18))
		return have = 2;
	host_cpuid(1, 0, r);
	return have = (r[2] & (1u << 30)) ? 1 : 0;
}

bool arch_has_random(void)
{
	return probe() != 0;
}

static bool one(uint64_t *v, int kind)
{
	uint8_t ok;

	for (int i = 0; i < RETRIES; i++) {
		if (kind == 2)
			__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
		else
			__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
		if (ok)
			return true;
		__asm__ volatile("pause");
	}
	/* RDSEED runs dry under load more easily: fall back to RDRAND, also seeded by hardware. */
	if (kind == 2) {
		uint32_t r[4];

		host_cpuid(1, 0, r);
		if (r[2] & (1u << 30))
			return one(v, 1);
	}
	return false;
}

int arch_random(void *buf, size_t n)
{
	uint8_t *p = buf;
	int kind = probe();

	if (!kind)
		return -EIO;
	while (n) {
		uint64_t v;
		size_t k = n < 8 ? n : 8;

		if (!one(&v, kind))
			return -EIO;
		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
	return 0;
}
