/* SPDX-License-Identifier: Apache-2.0 */
/* vguest.h: what the virtio guest's modes (main.c) and hostile cases (attack.c) share. */
#ifndef VGUEST_H
#define VGUEST_H

#include "virtio.h"

#define ARENA_FILL 0x5a
#define KIB ((uint64_t)1024)

/*
 * The arena: a stretch of free RAM filled with ARENA_FILL, from which a
 * case takes its rings, buffers and tables (each followed by a gap of
 * fill).  arena_check() finds any byte outside the taken pieces that is no
 * longer the fill, i.e. a device write outside what the guest offered.
 */
void arena_reset(void);
/* A zeroed piece of n bytes aligned to align (a power of two); dies when the arena is full. */
uint64_t arena_take(uint64_t n, uint64_t align);
/* check() that the arena outside its pieces is intact; "what: no stray writes". */
int arena_check(const char *what);

/* Where the device under test lives (cmdline base/stride/slot). */
uint64_t device_base(void);
/*
 * Probes the device for want_id and brings it up: negotiate (VERSION_1 |
 * want), the queues [0, nq) of qsize entries from the arena, DRIVER_OK.
 * 0, or -1 after a failed check().
 */
int device_up(struct vio_dev *d, uint32_t want_id, uint64_t want, unsigned nq, uint16_t qsize);
/* The queue size: qsize= (16), lowered to a power of two <= QueueNumMax of queue 0 and 1024. */
uint16_t pick_qsize(struct vio_dev *d);

/*
 * Fills [buf, buf + len) with the fill, asks the rng device on queue 0 for
 * len bytes and checks the used length (1..len) and that nothing after it
 * changed.  Returns the used length, or 0 after a failed check.
 */
uint32_t rng_good_request(struct vio_dev *d, uint64_t buf, uint32_t len, const char *what);

/* mode=blk and mode=batch (blk.c). */
void mode_blk(struct vio_dev *d);
void mode_batch(struct vio_dev *d);
/* The features asked for by cmdline indirect=1 / event_idx=1. */
uint64_t wanted_features(void);

/* mode=attack: runs the cases named in what ("all" or a comma list). */
void run_attacks(const char *what);

#endif
