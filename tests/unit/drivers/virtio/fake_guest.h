/* SPDX-License-Identifier: Apache-2.0 */
/* fake_guest.h: 1 MiB of guest RAM at gpa 0 behind a struct virtio_env, and split-ring builders, for the virtio tests. */
#ifndef PVHV_TESTS_FAKE_GUEST_H
#define PVHV_TESTS_FAKE_GUEST_H

#include <string.h>

#include "lib/base.h"
#include "drivers/virtio/virtio.h"

#define RAM_SIZE MIB(1)

/* Guest RAM and what the device did to it. */
struct fake_guest {
	uint8_t ram[RAM_SIZE];
	unsigned reads, writes, irqs, logs;
	uint64_t desc_lo, desc_hi;  /* reads of bytes in [desc_lo, desc_hi) are counted in desc_reads */
	unsigned desc_reads;
	void (*after_read)(gpa_t gpa, size_t len); /* e.g. another vCPU rewriting what was just read */
	char last_log[256];
};

static struct fake_guest g;

static int fake_read(void *ctx, gpa_t gpa, void *dst, size_t len)
{
	struct fake_guest *fg = ctx;

	if (!range_within(gpa, len, 0, RAM_SIZE))
		return -EFAULT;
	fg->reads++;
	if (gpa >= fg->desc_lo && gpa < fg->desc_hi)
		fg->desc_reads++;
	memcpy(dst, fg->ram + gpa, len);
	if (fg->after_read)
		fg->after_read(gpa, len);
	return 0;
}

static int fake_write(void *ctx, gpa_t gpa, const void *src, size_t len)
{
	struct fake_guest *fg = ctx;

	if (!range_within(gpa, len, 0, RAM_SIZE))
		return -EFAULT;
	fg->writes++;
	memcpy(fg->ram + gpa, src, len);
	return 0;
}

static void fake_irq(void *ctx)
{
	((struct fake_guest *)ctx)->irqs++;
}

static void fake_log(void *ctx, const char *msg)
{
	struct fake_guest *fg = ctx;

	fg->logs++;
	snprintf(fg->last_log, sizeof(fg->last_log), "%s", msg);
}

static const struct virtio_env env = {
	.read = fake_read, .write = fake_write, .irq = fake_irq, .log = fake_log, .ctx = &g,
};

static inline void fake_reset(void)
{
	memset(&g, 0, sizeof(g));
}

static inline uint16_t get16(gpa_t gpa)
{
	uint16_t v;

	memcpy(&v, g.ram + gpa, 2);
	return v;
}

static inline uint32_t get32(gpa_t gpa)
{
	uint32_t v;

	memcpy(&v, g.ram + gpa, 4);
	return v;
}

static inline void put16(gpa_t gpa, uint16_t v)
{
	memcpy(g.ram + gpa, &v, 2);
}

static inline void put32(gpa_t gpa, uint32_t v)
{
	memcpy(g.ram + gpa, &v, 4);
}

static inline void put64(gpa_t gpa, uint64_t v)
{
	memcpy(g.ram + gpa, &v, 8);
}

/* Descriptor i of the table at table (virtio 1.2, 2.7.5): addr, len, flags, next. */
static inline void set_desc(gpa_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
			    uint16_t next)
{
	put64(table + 16 * i, addr);
	put32(table + 16 * i + 8, len);
	put16(table + 16 * i + 12, flags);
	put16(table + 16 * i + 14, next);
}

/* The driver's side of a queue of size n: rings at fixed places, the avail index it has reached. */
struct fake_ring {
	uint16_t size;
	gpa_t desc, avail, used;
	uint16_t avail_idx;
};

static inline void ring_init(struct fake_ring *r, uint16_t size, gpa_t desc, gpa_t avail, gpa_t used)
{
	r->size = size;
	r->desc = desc;
	r->avail = avail;
	r->used = used;
	r->avail_idx = 0;
}

/* Makes head available and publishes the new avail->idx. */
static inline void ring_add(struct fake_ring *r, uint16_t head)
{
	put16(r->avail + 4 + 2 * (r->avail_idx % r->size), head);
	r->avail_idx++;
	put16(r->avail + 2, r->avail_idx);
}

static inline uint16_t used_idx(const struct fake_ring *r)
{
	return get16(r->used + 2);
}

static inline uint32_t used_id(const struct fake_ring *r, uint16_t i)
{
	return get32(r->used + 4 + 8 * (i % r->size));
}

static inline uint32_t used_len(const struct fake_ring *r, uint16_t i)
{
	return get32(r->used + 4 + 8 * (i % r->size) + 4);
}

static inline uint16_t avail_event(const struct fake_ring *r)
{
	return get16(r->used + 4 + 8 * r->size);
}

static inline void set_used_event(const struct fake_ring *r, uint16_t v)
{
	put16(r->avail + 4 + 2 * r->size, v);
}

#endif
