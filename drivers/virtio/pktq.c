/* SPDX-License-Identifier: Apache-2.0 */
/* pktq.c: the bounded packet FIFO between one domain's device and another's. */
#include "drivers/virtio/pktq.h"

#define HDR 8u                 /* u32 length, u32 padding */
#define SKIP 0xffffffffu       /* length of a marker: the rest of the buffer is unused */

static uint32_t entry_size(size_t len)
{
	return HDR + (uint32_t)ALIGN_UP(len, 8);
}

void pktq_init(struct pktq *q, void *buf, uint32_t size)
{
	*q = (struct pktq){ .buf = buf, .size = size & ~7u };
}

size_t pktq_max_packet(const struct pktq *q)
{
	return q->size > HDR ? q->size - HDR : 0;
}

int pktq_push(struct pktq *q, const void *a, size_t alen, const void *b, size_t blen)
{
	size_t len = alen + blen;
	uint32_t need, at_end;

	if (!len || len > pktq_max_packet(q))
		return -EMSGSIZE;
	need = entry_size(len);
	at_end = q->size - q->tail;
	/* Room: after the tail up to the end (or the head), or from 0 after skipping the end. */
	if (q->count && q->tail <= q->head) {
		if (q->head - q->tail < need)
			goto full;
	} else if (at_end < need) {
		if ((q->count ? q->head : q->size) < need || q->used + at_end + need > q->size)
			goto full;
		if (at_end >= 4)
			memcpy(q->buf + q->tail, &(uint32_t){ SKIP }, 4);
		q->used += at_end;
		q->tail = 0;
		if (!q->count)
			q->head = 0;
	}
	memcpy(q->buf + q->tail, &(uint32_t){ (uint32_t)len }, 4);
	if (alen)
		memcpy(q->buf + q->tail + HDR, a, alen);
	if (blen)
		memcpy(q->buf + q->tail + HDR + alen, b, blen);
	q->tail = (q->tail + need) % q->size;
	q->used += need;
	q->count++;
	return 0;
full:
	q->dropped++;
	return -ENOSPC;
}

/* The head entry's offset, past a skip marker at the end. */
static uint32_t head_entry(const struct pktq *q, uint32_t *len)
{
	uint32_t h = q->head, l = 0;

	if (q->size - h >= 4)
		memcpy(&l, q->buf + h, 4);
	if (q->size - h < HDR || l == SKIP) {
		h = 0;
		memcpy(&l, q->buf, 4);
	}
	*len = l;
	return h;
}

size_t pktq_peek(const struct pktq *q, const uint8_t **p)
{
	uint32_t len, h;

	if (!q->count)
		return 0;
	h = head_entry(q, &len);
	*p = q->buf + h + HDR;
	return len;
}

void pktq_pop(struct pktq *q)
{
	uint32_t len, h;

	if (!q->count)
		return;
	h = head_entry(q, &len);
	q->used -= (h == q->head ? 0 : q->size - q->head) + entry_size(len);
	q->head = (h + entry_size(len)) % q->size;
	if (--q->count == 0)
		q->head = q->tail = q->used = 0;
}
