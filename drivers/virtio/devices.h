/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devices.h: the virtio device models pvhv serves (pure, like the rest of
 * drivers/virtio/): console, entropy, block and network.  Each reaches the host through a
 * small backend struct of callbacks given at set-up.  The network switch's
 * policy is apart, in switch.h.
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

/*
 * virtio-net (device 1, virtio 1.2 5.1): one receive queue (0) and one
 * transmit queue (1), no control queue, no multiqueue.  Offered: MAC (mac
 * below), MTU (1500), STATUS (link always up), MRG_RXBUF (a received frame
 * may span several receive chains, so a guest need not post 64 KiB ones
 * for segmentation frames), and the offloads that pay between two
 * guests on one host: CSUM and HOST_TSO4/6 (the guest sends TCP frames of
 * up to 64 KiB with the checksum left partial), GUEST_CSUM and
 * GUEST_TSO4/6 (it takes them).  virtio_net_receive() passes such a frame
 * on unchanged to a guest that took the matching GUEST_ features, and
 * otherwise completes the checksum / segments the frame in software first,
 * so every receiver gets what it negotiated.  No ECN, UFO or USO.
 *
 * The owner fills mac, transmit and ctx, then hands the struct to
 * virtio_dev_init() as priv; the rest is the model's (zeroed by the owner
 * once, kept across device resets).  transmit() gets each frame the guest
 * sends, copied once into frame[] (the pointer is valid during the call
 * only), with its header checked and rewritten: flags is 0 or NEEDS_CSUM
 * (then csum_start + csum_offset + 2 <= len), gso_type is NONE (then len
 * <= VIRTIO_NET_MAX_FRAME) or TCPV4 / TCPV6 (then the frame is one TCP
 * segment over IPv4 / IPv6 without options headers, hdr_len is its header
 * length, and every gso_size piece fits the MTU).  At most
 * VIRTIO_BUDGET_CHAINS frames / VIRTIO_BUDGET_BYTES per notification; it
 * is called from ops->notify, so under whatever lock the owner holds
 * around virtio_mmio_access() / virtio_dev_kick().
 */
#define VIRTIO_NET_MTU 1500u
#define VIRTIO_NET_QUEUE_MAX 256u
#define VIRTIO_NET_MAX_FRAME (14u + 4u + VIRTIO_NET_MTU)  /* Ethernet header, one 802.1Q tag, payload */
#define VIRTIO_NET_MAX_GSO_FRAME (14u + 65535u)          /* Ethernet header and the largest IP packet */
#define VIRTIO_NET_HDR_SIZE 12u                        /* struct virtio_net_hdr with VERSION_1 */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define VIRTIO_NET_HDR_GSO_NONE 0u
#define VIRTIO_NET_HDR_GSO_TCPV4 1u
#define VIRTIO_NET_HDR_GSO_TCPV6 4u

/* The header in front of every frame on both queues (5.1.6), little-endian. */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} PACKED;

/* What the model did, for the owner's statistics: frames and bytes, and drops by reason. */
struct virtio_net_stats {
	uint64_t tx_frames, tx_bytes;   /* handed to transmit() */
	uint64_t rx_frames, rx_bytes;   /* written into the guest (each segment counts) */
	uint64_t tx_runt;               /* dropped: shorter than an Ethernet header */
	uint64_t tx_oversize;           /* dropped: longer than VIRTIO_NET_MAX_FRAME / _GSO_FRAME */
	uint64_t tx_bad_offload;        /* dropped: checksum or segmentation request that does not fit the frame */
	uint64_t rx_no_buffer;          /* virtio_net_receive() said -EAGAIN */
	uint64_t rx_small_buffer;       /* dropped: the posted chain could not hold the frame */
	uint64_t rx_segmented;          /* frames segmented in software for this guest */
};

struct virtio_net {
	uint8_t mac[6];
	void (*transmit)(void *ctx, const struct virtio_net_hdr *hdr, const uint8_t *frame, size_t len);
	void *ctx;
	struct virtio_net_stats stats;
	uint8_t frame[VIRTIO_NET_MAX_GSO_FRAME];   /* the frame being sent */
	uint8_t seg[VIRTIO_NET_MAX_FRAME];         /* a segment being received */
	struct {
		uint16_t head;
		uint32_t len;
	} rx_used[VIRTIO_NET_QUEUE_MAX];           /* the chains a merged frame took */
};

extern const struct virtio_dev_ops virtio_net_ops;

/*
 * Puts one frame into the guest's receive chains.  hdr and frame are what
 * the sender's transmit() got (they are checked again the same way).  A
 * guest that took the matching GUEST_ features gets them as they are,
 * header fields included; otherwise a partial checksum is completed and a
 * TCP segmentation frame cut into MTU-sized segments (each with its IPv4
 * header checksum, IPv4 ID, sequence number, flags and TCP checksum).
 * Each frame or segment takes one receive chain, or with MRG_RXBUF as many
 * as it needs (num_buffers says how many).  The caller holds the lock of d
 * (the receiver's device).  Returns 0; -EINVAL for a bad frame or header
 * (nothing done); -EAGAIN when the device is not running or no receive
 * chain is posted, or with MRG_RXBUF not enough for the frame (nothing
 * more written: the segments so far were delivered, the rest dropped or
 * kept by the caller); -ENOSPC when, without MRG_RXBUF, a posted chain was
 * too small (the frame or segment dropped and the chain given back empty:
 * the guest posted less than 5.1.6.3.1 asks); -EIO when
 * the guest broke a rule on the receive queue (the device now needs a
 * reset).
 */
int virtio_net_receive(struct virtio_dev *d, const struct virtio_net_hdr *hdr, const uint8_t *frame,
		       size_t len);

#endif
