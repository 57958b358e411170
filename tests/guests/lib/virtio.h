/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio.h: a minimal polling virtio-mmio v2 driver for the test guests
 * (virtio 1.2, 2.7 split virtqueues and 4.2 the MMIO transport).
 *
 * One request at a time per queue: vio_submit() writes a chain starting at
 * a rotating descriptor index, publishes it and vio_wait() polls the used
 * ring; no interrupts are taken (the guests run with IF=0), the driver only
 * reads InterruptStatus and acknowledges it.  The raw helpers write
 * descriptors and avail entries as given, unchecked, so hostile tests can
 * build broken rings.
 *
 * Memory for rings, buffers and indirect tables comes from the caller as
 * guest-physical addresses; the runtime identity-maps 0..8 GiB, so a GPA is
 * also the pointer.  Nothing here allocates.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include <stdbool.h>
#include "guest.h"

/* MMIO registers (virtio 1.2, 4.2.2), 32-bit little-endian. */
#define VIO_MAGIC 0x000
#define VIO_VERSION 0x004
#define VIO_DEVICE_ID 0x008
#define VIO_VENDOR_ID 0x00c
#define VIO_DEV_FEATURES 0x010
#define VIO_DEV_FEATURES_SEL 0x014
#define VIO_DRV_FEATURES 0x020
#define VIO_DRV_FEATURES_SEL 0x024
#define VIO_QUEUE_SEL 0x030
#define VIO_QUEUE_NUM_MAX 0x034
#define VIO_QUEUE_NUM 0x038
#define VIO_QUEUE_READY 0x044
#define VIO_QUEUE_NOTIFY 0x050
#define VIO_INT_STATUS 0x060
#define VIO_INT_ACK 0x064
#define VIO_STATUS 0x070
#define VIO_QUEUE_DESC_LO 0x080
#define VIO_QUEUE_DESC_HI 0x084
#define VIO_QUEUE_AVAIL_LO 0x090
#define VIO_QUEUE_AVAIL_HI 0x094
#define VIO_QUEUE_USED_LO 0x0a0
#define VIO_QUEUE_USED_HI 0x0a4
#define VIO_CONFIG_GEN 0x0fc
#define VIO_CONFIG 0x100

#define VIO_MAGIC_VALUE 0x74726976u /* "virt" */
#define VIO_INT_USED 1u
#define VIO_INT_CONFIG 2u

#define VIO_ID_BLOCK 2u
#define VIO_ID_CONSOLE 3u
#define VIO_ID_RNG 4u

#define VIO_F_INDIRECT_DESC (1ull << 28)
#define VIO_F_EVENT_IDX (1ull << 29)
#define VIO_F_VERSION_1 (1ull << 32)

#define VIO_S_ACKNOWLEDGE 1u
#define VIO_S_DRIVER 2u
#define VIO_S_DRIVER_OK 4u
#define VIO_S_FEATURES_OK 8u
#define VIO_S_NEEDS_RESET 64u
#define VIO_S_FAILED 128u

#define VIO_DESC_F_NEXT 1u
#define VIO_DESC_F_WRITE 2u
#define VIO_DESC_F_INDIRECT 4u

#define VIO_MAX_QUEUES 4u
#define VIO_MAX_SIZE 32768u

/* A split-ring descriptor (virtio 1.2, 2.7.5). */
struct vio_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct vio_desc) == 16, "virtq_desc is 16 bytes");

struct vio_used_elem {
	uint32_t id;
	uint32_t len;
};

/* A queue as this driver set it up; the ring pointers are the GPAs. */
struct vio_queue {
	uint16_t size;                    /* 0: not set up */
	volatile struct vio_desc *desc;
	volatile uint16_t *avail;         /* flags, idx, ring[size], used_event */
	volatile uint16_t *used;          /* flags, idx, then the elements */
	uint16_t avail_idx;               /* the next avail->idx to publish */
	uint16_t last_used;               /* used entries taken so far */
	uint16_t next_desc;               /* first descriptor of the next chain */
	bool busy;                        /* a chain is out */
};

/* One probed device. */
struct vio_dev {
	uint64_t base;                    /* GPA of its MMIO window */
	uint32_t device_id;
	uint64_t dev_features;            /* what the device offers */
	uint64_t features;                /* what was negotiated */
	struct vio_queue q[VIO_MAX_QUEUES];
};

/* A buffer of a chain: device-readable, or device-writable if write. */
struct vio_buf {
	uint64_t addr;
	uint32_t len;
	bool write;
};

/* ------------------------------------------------------------ registers */
uint32_t vio_read32(const struct vio_dev *d, uint32_t off);
void vio_write32(const struct vio_dev *d, uint32_t off, uint32_t val);
/* A 64-bit register pair (low at off, high at off + 4). */
void vio_write64(const struct vio_dev *d, uint32_t off, uint64_t val);
/* Device config space at VIO_CONFIG + off, size 1, 2 or 4. */
uint32_t vio_config_read(const struct vio_dev *d, uint32_t off, unsigned size);
uint32_t vio_status(const struct vio_dev *d);
/* Reads InterruptStatus and writes the bits it found to InterruptACK; returns them. */
uint32_t vio_irq_ack(const struct vio_dev *d);

/* ------------------------------------------------------------ bring-up */
/*
 * Fills d for the window at base when it holds a v2 device with device ID
 * want_id: 0, or -1 after printing what was found instead (magic, version,
 * ID).  Touches only the ID registers.
 */
int vio_probe(struct vio_dev *d, uint64_t base, uint32_t want_id);
/*
 * Writes Status 0 and waits (bounded) until it reads 0 (4.2.3.1): 0, or -1
 * after printing the status it kept.  Forgets the queues.
 */
int vio_reset(struct vio_dev *d);
/*
 * Reset, ACKNOWLEDGE, DRIVER, then accepts VERSION_1 plus what of want the
 * device offers, sets FEATURES_OK and reads it back (3.1.1): 0, or -1 with
 * a message (no VERSION_1, FEATURES_OK not kept).  Leaves DRIVER_OK clear.
 */
int vio_negotiate(struct vio_dev *d, uint64_t want);
/* Bytes of guest memory a queue of size entries needs at vio_queue_setup(); 16-byte aligned. */
uint64_t vio_queue_bytes(uint16_t size);
/*
 * Sets up queue qi (size a power of two <= QueueNumMax) with its rings laid
 * out from mem (16-byte aligned, vio_queue_bytes(size) long, zeroed here):
 * descriptors, then avail, then used at the next 4-byte boundary.  0, or -1
 * with a message (no such queue, QueueReady already set, size too big,
 * QueueReady not kept).
 */
int vio_queue_setup(struct vio_dev *d, unsigned qi, uint16_t size, uint64_t mem);
/* Sets DRIVER_OK: 0, or -1 if the status read back lacks it or shows NEEDS_RESET/FAILED. */
int vio_driver_ok(struct vio_dev *d);

/* ------------------------------------------------------------ requests */
/*
 * Writes n buffers as one chain and publishes its head (readable buffers
 * must come first).  With indirect != 0 (a 16-byte aligned GPA with room
 * for n descriptors) the chain goes into that table behind one INDIRECT
 * descriptor.  With EVENT_IDX negotiated, used_event asks for an interrupt
 * at this chain.  Returns the head, or -1 (queue busy or not set up, n is 0
 * or more than the ring holds).  Does not notify.
 */
int vio_submit(struct vio_dev *d, unsigned qi, const struct vio_buf *b, unsigned n,
	       uint64_t indirect);
void vio_notify(const struct vio_dev *d, unsigned qi);
/*
 * Polls queue qi's used ring for up to timeout_ms (TSC; pvclock rate, else
 * assumed 4 GHz so the wait is never shorter).  0 and the element in *e,
 * or -1 on timeout.  Marks the queue idle either way.
 */
int vio_wait(struct vio_dev *d, unsigned qi, uint64_t timeout_ms, struct vio_used_elem *e);
/*
 * submit + notify + wait, checking the used id is the head: 0 and the used
 * length in *len, or -1 with a message.
 */
int vio_request(struct vio_dev *d, unsigned qi, const struct vio_buf *b, unsigned n,
		uint64_t indirect, uint32_t *len);

/* ------------------------------------------------------------ raw ring access */
/*
 * Programs queue qi as given, unchecked: QueueSel, QueueNum, the three ring
 * addresses, QueueReady = 1.  Returns QueueReady as read back.  The
 * driver's view (d->q[qi]) is left alone.
 */
uint32_t vio_raw_queue(struct vio_dev *d, unsigned qi, uint32_t size, uint64_t desc,
		       uint64_t avail, uint64_t used);
/* Writes descriptor i (taken mod size) as given. */
void vio_raw_desc(struct vio_queue *q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		  uint16_t next);
/* Puts head in the next avail slot and publishes avail->idx + 1. */
void vio_raw_avail(struct vio_queue *q, uint16_t head);
/* Publishes avail->idx = idx as it stands (the driver's count follows it). */
void vio_raw_avail_idx(struct vio_queue *q, uint16_t idx);
/* used->idx as the device last wrote it. */
uint16_t vio_used_idx(const struct vio_queue *q);

/* ------------------------------------------------------------ time */
/* TSC ticks per ms for timeouts and reports; *known = 0 when assumed (no pvclock). */
uint64_t vio_ticks_per_ms(int *known);

#endif
