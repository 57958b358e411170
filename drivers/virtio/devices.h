/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devices.h: the virtio device models pvhv serves (pure, like the rest of
 * drivers/virtio/): console, entropy and block.  Each reaches the host through a
 * small backend struct of callbacks given at set-up.
 */
#ifndef PVHV_DRIVERS_VIRTIO_DEVICES_H
#define PVHV_DRIVERS_VIRTIO_DEVICES_H

#include "drivers/virtio/virtio.h"
#include "drivers/virtio/overlay.h"

/* Work one notification may do before it yields (the rest continues later). */
#define VIRTIO_BUDGET_CHAINS 64u
#define VIRTIO_BUDGET_BYTES (64u * 1024u)

/*
 * virtio-console (device 3), one port, no MULTIPORT: queue 0 receives
 * (host to guest), queue 1 transmits.  output() gets what the guest
 * wrote, at most VIRTIO_BUDGET_BYTES per notification.
 */
struct virtio_console {
	void (*output)(void *ctx, const char *buf, size_t n);
	void *ctx;
};

extern const struct virtio_dev_ops virtio_console_ops;

/*
 * Host input for the guest: fills the receive queue's buffers with up to n
 * bytes of buf.  Returns the bytes taken (0 when the driver is not ready or
 * has no buffer posted: the caller keeps them or drops them).
 */
size_t virtio_console_input(struct virtio_dev *d, const char *buf, size_t n);

/*
 * virtio-rng (device 4), one queue.  fill() writes n random bytes into
 * buf and returns 0, or -EIO when the source failed (the request then
 * completes with what was written so far).
 */
struct virtio_rng {
	int (*fill)(void *ctx, void *buf, size_t n);
	void *ctx;
};

extern const struct virtio_dev_ops virtio_rng_ops;

/*
 * virtio-blk (device 2, virtio 1.2 5.2), one request queue, 512-byte
 * sectors, capacity ov->size / 512.  Requests: IN, OUT, FLUSH, GET_ID
 * (id, NUL-padded, at most 20 bytes), DISCARD and WRITE_ZEROES (both make
 * the range read as zeros and give overlay pages back).  A request moves
 * at most VIRTIO_BLK_MAX_DATA bytes (seg_max x size_max, as offered).
 * virtio_blk_ops serves a writable disk; virtio_blk_ro_ops offers
 * VIRTIO_BLK_F_RO and answers OUT, DISCARD and WRITE_ZEROES with IOERR.
 */
#define VIRTIO_BLK_SEG_MAX 16u
#define VIRTIO_BLK_SIZE_MAX (64u * 1024u)
#define VIRTIO_BLK_MAX_DATA (VIRTIO_BLK_SEG_MAX * VIRTIO_BLK_SIZE_MAX)
#define VIRTIO_BLK_DZ_SECTORS 2048u   /* max_discard / max_write_zeroes sectors per segment */
#define VIRTIO_BLK_DZ_SEG 4u          /* and segments per request */
#define VIRTIO_BLK_ID_BYTES 20u

struct virtio_blk {
	struct overlay *ov;
	char id[VIRTIO_BLK_ID_BYTES];
};

extern const struct virtio_dev_ops virtio_blk_ops;
extern const struct virtio_dev_ops virtio_blk_ro_ops;

#endif
