/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pktq.h: a bounded FIFO of variable-length packets in one buffer, for
 * what one domain's device sends to another's (a network frame, a vsock
 * packet) until the receiver's driver has buffers for it.  Each packet is
 * stored contiguously (a packet that does not fit before the end of the
 * buffer starts again at its beginning), so a reader gets one pointer.
 *
 * Pure: includes only lib/base.h; the caller serializes (one lock each).
 */
#ifndef PVHV_DRIVERS_VIRTIO_PKTQ_H
#define PVHV_DRIVERS_VIRTIO_PKTQ_H

#include "lib/base.h"

struct pktq {
	uint8_t *buf;
	uint32_t size;       /* bytes of buf, a multiple of 8 */
	uint32_t head;       /* offset of the oldest entry */
	uint32_t tail;       /* offset where the next entry goes */
	uint32_t used;       /* bytes taken, padding and skipped ends included */
	uint32_t count;      /* packets queued */
	uint64_t dropped;    /* pushes refused for want of room */
};

/* buf of size bytes (a multiple of 8, at least 16) is the queue's; it starts empty. */
void pktq_init(struct pktq *q, void *buf, uint32_t size);

/*
 * Appends one packet: a + b (either may be empty, not both).  0, or
 * -ENOSPC (counted in dropped; nothing changes) when it does not fit now,
 * or -EMSGSIZE when it could never fit.
 */
int pktq_push(struct pktq *q, const void *a, size_t alen, const void *b, size_t blen);

/* The oldest packet: its length, and *p pointing at it; 0 when empty. */
size_t pktq_peek(const struct pktq *q, const uint8_t **p);

/* Drops the oldest packet (nothing when empty). */
void pktq_pop(struct pktq *q);

/* The largest packet the queue could ever take. */
size_t pktq_max_packet(const struct pktq *q);

#endif
