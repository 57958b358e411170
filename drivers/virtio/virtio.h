/* SPDX-License-Identifier: Apache-2.0 */
/*
 * virtio.h: the interface of drivers/virtio/ -- split virtqueues, the
 * virtio-mmio v2 transport and the device models behind it (virtio 1.2,
 * sections 2.7 and 4.2).
 *
 * Everything here is pure: it includes only lib/base.h, builds into the
 * image and hosted (unit tests, fuzzers), and reaches a guest's memory and
 * interrupt line only through struct virtio_env.  Every value read from
 * guest memory or a guest register is hostile: it is checked before use,
 * each descriptor is copied once into private memory, and the work done per
 * call is bounded.  A guest that breaks a rule gets NEEDS_RESET on that
 * device and one message (via env->log) naming device, queue and rule.
 */
#ifndef PVHV_DRIVERS_VIRTIO_H
#define PVHV_DRIVERS_VIRTIO_H

#include "lib/base.h"

/* ------------------------------------------------------------ the environment */

/*
 * How a device reaches its guest.  read/write copy [gpa, gpa + len) out
 * of or into guest RAM and return 0, or -EFAULT when any byte of it is not
 * RAM (they check overflow and may cross 2 MiB chunks).  irq raises the
 * device's interrupt (an edge).  log reports one line about a guest's
 * misbehaviour ("virtq 1: desc 17 >= size 16"); the env's owner prefixes
 * the domain and device (one env per device, or a ctx that names it).
 * ctx is passed back unchanged.
 */
struct virtio_env {
	int (*read)(void *ctx, gpa_t gpa, void *dst, size_t len);
	int (*write)(void *ctx, gpa_t gpa, const void *src, size_t len);
	void (*irq)(void *ctx);
	void (*log)(void *ctx, const char *msg);
	void *ctx;
};

/* Feature bits (virtio 1.2, 6). */
#define VIRTIO_F_INDIRECT_DESC (1ULL << 28)
#define VIRTIO_F_EVENT_IDX (1ULL << 29)
#define VIRTIO_F_VERSION_1 (1ULL << 32)

/* ------------------------------------------------------------ split virtqueues */

#define VIRTQ_MAX_SIZE 32768u
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

/* One guest buffer of a chain, copied out of the descriptor table. */
struct virtq_seg {
	gpa_t addr;
	uint32_t len;
	bool write;   /* device-writable (VIRTQ_DESC_F_WRITE) */
};

/*
 * A popped chain: segments in order, readable ones first (a readable
 * descriptor after a writable one is a rule violation).  A chain longer
 * than VIRTQ_CHAIN_MAX segments is refused as a rule violation too: no
 * real driver needs more, and it bounds the private copy.
 */
#define VIRTQ_CHAIN_MAX 64u

struct virtq_chain {
	uint16_t head;       /* descriptor index to give back in the used ring */
	unsigned nseg;
	unsigned nread;      /* segments [0, nread) are readable, the rest writable */
	uint64_t read_len;   /* total bytes of the readable / writable segments */
	uint64_t write_len;
	struct virtq_seg seg[VIRTQ_CHAIN_MAX];
};

/* A queue as the driver configured it, plus the device's private indexes. */
struct virtq {
	uint16_t size;        /* power of two, 1..VIRTQ_MAX_SIZE */
	bool ready;
	gpa_t desc, avail, used;
	bool event_idx;       /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;        /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint16_t last_avail;  /* next avail entry to take */
	uint16_t used_idx;    /* next used entry to fill (mirrors used->idx) */
	uint16_t signalled_used; /* used_idx at the last interrupt (EVENT_IDX) */
	bool broken;          /* a rule was broken: nothing more is done */
};

/*
 * Checks a queue's configuration when the driver sets QueueReady: size a
 * power of two no larger than max, desc 16-byte, avail 2-byte and used
 * 4-byte aligned, each ring wholly inside guest RAM (probed with env->read
 * of its first and last byte).  0, or -EINVAL with a message in err.
 */
int virtq_check_config(const struct virtq *q, uint16_t max, const struct virtio_env *env,
		       char *err, size_t errlen);

/*
 * Takes the next available chain, if any: 1 and *out filled, 0 when the
 * ring is empty or the queue not ready, or -EINVAL when the guest broke a
 * rule (message in err; the queue is then marked broken) or the queue was
 * already broken (err "queue is broken": nothing new to report).  Rules:
 * avail->idx may run at most size entries ahead of last_avail; head and
 * next indexes below the size of their table; at most size segments in
 * all, indirect ones included, and each table walked at most its own size
 * of steps (loops end there); INDIRECT only when negotiated, not together
 * with NEXT, table length a non-zero multiple of 16 and at most size * 16
 * bytes, first and last byte in RAM, no INDIRECT inside an indirect table
 * (a chain may be direct descriptors ending in one INDIRECT, 2.7.5.3.2);
 * every segment's len > 0 and addr + len inside RAM without overflow
 * (env->read probes of its first and last byte).  Each call reads at most
 * min(size, VIRTQ_CHAIN_MAX) + 2 descriptors.
 */
int virtq_pop(struct virtq *q, const struct virtio_env *env, struct virtq_chain *out,
	      char *err, size_t errlen);

/*
 * Returns a chain: writes the used element {head, len} and then used->idx
 * (with a barrier between).  0, -EINVAL when the queue is not ready or
 * broken or head >= size (nothing written), or -EFAULT.
 */
int virtq_push(struct virtq *q, const struct virtio_env *env, uint16_t head, uint32_t len);

/*
 * After pushes: true when the driver wants an interrupt now (EVENT_IDX:
 * used_event crossed; else avail->flags lacks NO_INTERRUPT).  Updates
 * signalled_used.  With EVENT_IDX the device also publishes avail_event =
 * last_avail in the used ring (virtq_pop does that).
 */
bool virtq_should_interrupt(struct virtq *q, const struct virtio_env *env);

/*
 * Copies from / into a chain's segments, starting at byte off of the
 * readable / writable part.  0; -ERANGE when [off, off + len) passes the
 * end of that part (nothing copied); -EFAULT when env refused a segment
 * (a prefix may have been copied).
 */
int virtq_chain_read(const struct virtq_chain *c, const struct virtio_env *env, uint64_t off,
		     void *dst, size_t len);
int virtq_chain_write(const struct virtq_chain *c, const struct virtio_env *env, uint64_t off,
		      const void *src, size_t len);

/* ------------------------------------------------------------ devices and the MMIO transport */

#define VIRTIO_ID_NET 1u
#define VIRTIO_ID_BLOCK 2u
#define VIRTIO_ID_CONSOLE 3u
#define VIRTIO_ID_RNG 4u
#define VIRTIO_ID_VSOCK 19u

#define VIRTIO_MAX_QUEUES 8u
#define VIRTIO_MMIO_SIZE 0x1000u

struct virtio_dev;

/*
 * A device model.  features: the device's own bits (the transport adds
 * VERSION_1, INDIRECT_DESC and EVENT_IDX, and drops the model's bits in
 * the transport range 28..41; VIRTIO_F_RING_RESET is not offered, so
 * QueueReset reads 0 and ignores writes).  config_read/config_write
 * access its configuration space at [0, config_size) (the transport
 * checks bounds and size).  notify: the driver kicked queue qi; the device
 * serves at most a bounded amount of work and returns true when work is
 * left (the caller calls notify again later, outside this exit).  reset:
 * back to the power-on state (queues are reset by the transport).
 */
struct virtio_dev_ops {
	uint32_t device_id;
	uint64_t features;
	unsigned nr_queues;          /* 1..VIRTIO_MAX_QUEUES */
	uint16_t queue_max;          /* QueueNumMax of every queue */
	uint32_t config_size;        /* bytes of config space, <= 0x100 */
	void (*config_read)(struct virtio_dev *d, uint32_t off, void *buf, unsigned len);
	void (*config_write)(struct virtio_dev *d, uint32_t off, const void *buf, unsigned len);
	bool (*notify)(struct virtio_dev *d, unsigned qi);
	void (*reset)(struct virtio_dev *d);
};

/* Status bits (virtio 1.2, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

/* One virtio-mmio device instance: transport state + its model. */
struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const struct virtio_env *env;
	void *priv;                  /* the model's own state */
	const char *name;            /* for messages: "console", "rng", ... */
	uint32_t status;
	uint32_t dev_features_sel, drv_features_sel;
	uint64_t driver_features;    /* what the driver acked (checked at FEATURES_OK) */
	uint32_t queue_sel;
	uint32_t interrupt_status;   /* bit 0 used buffer, bit 1 config change */
	uint32_t config_generation;
	struct virtq vq[VIRTIO_MAX_QUEUES];
};

/* Sets up d for ops/env/priv in the reset state (ops->reset is not called). */
void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		     const struct virtio_env *env, void *priv, const char *name);

/*
 * A guest access to the device's MMIO window at off (size 1, 2, 4 or 8;
 * registers below 0x100 take only 4-byte aligned 32-bit accesses, config
 * space naturally aligned ones inside config_size; others read 0 / are
 * ignored).  Writes to QueueNotify call ops->notify when DRIVER_OK is set,
 * NEEDS_RESET and FAILED are clear and the queue is ready; the return
 * value is true when that left work to do (see ops->notify).  Queue setup
 * registers take writes only while the queue is not ready and before
 * DRIVER_OK; QueueReady=1 also needs FEATURES_OK.  Wrong writes are ignored.
 */
bool virtio_mmio_access(struct virtio_dev *d, uint64_t off, bool write, unsigned size,
			uint64_t *val);

/*
 * For models: complete used buffers on queue qi and raise the interrupt
 * when the driver wants one; mark the device broken (NEEDS_RESET, every
 * queue broken, one env->log line "virtq qi: why" -- just "why" when qi is
 * no queue -- and, once DRIVER_OK is set, the config-change interrupt) on
 * a rule violation.  Later failures before a reset add nothing.
 */
/*
 * Serves queue qi as a QueueNotify write would (only with DRIVER_OK, no
 * NEEDS_RESET/FAILED, the queue ready and not broken): for work that an
 * earlier notification left.  Returns ops->notify's "work left".
 */
bool virtio_dev_kick(struct virtio_dev *d, unsigned qi);
void virtio_dev_used(struct virtio_dev *d, unsigned qi);
void virtio_dev_fail(struct virtio_dev *d, unsigned qi, const char *why);

/* For models: the config space changed (ConfigGeneration moves; interrupt once DRIVER_OK is set). */
void virtio_dev_config_changed(struct virtio_dev *d);

#endif
