/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vsock.h: the virtio-vsock device model (virtio 1.2, 5.10) and pvhv's
 * stream router between the domains' vsock devices and pvhv's own local
 * services at the host CID.  Pure, like the rest of drivers/virtio/.
 *
 * Locking: the router reaches into every attached device (it writes a
 * packet from domain A straight into domain B's receive queue), so ONE lock
 * must cover the router and every vsock device's transport and model:
 * virtio_mmio_access() and virtio_dev_kick() on a vsock device, and every
 * vsock_router_* / vsock_local_* call.  Callbacks (wake, log, allow, the
 * services') run with that lock held and must not call back in, except that
 * a service's recv, peer_shutdown and wake may call vsock_local_send,
 * vsock_local_consumed and vsock_local_close (accept may not: the RESPONSE
 * goes out after it returns).  A device's env->irq is raised from whichever
 * CPU delivers to it.
 *
 * Where packets wait: a TX packet whose receiver has no room stays in its
 * sender's TX queue (the chain is held, the queue stalls, the router wakes
 * the sender when the receiver posts buffers); control packets that found
 * no receive buffer wait in the receiver's bounded pending queue; data is
 * never queued in pvhv, so the credit a receiver grants costs pvhv nothing.
 */
#ifndef PVHV_DRIVERS_VIRTIO_VSOCK_H
#define PVHV_DRIVERS_VIRTIO_VSOCK_H

#include "drivers/virtio/virtio.h"

/* ------------------------------------------------------------ the packet (5.10.6) */

#define VSOCK_HDR_SIZE 44u
#define VSOCK_TYPE_STREAM 1u
#define VSOCK_OP_REQUEST 1u
#define VSOCK_OP_RESPONSE 2u
#define VSOCK_OP_RST 3u
#define VSOCK_OP_SHUTDOWN 4u
#define VSOCK_OP_RW 5u
#define VSOCK_OP_CREDIT_UPDATE 6u
#define VSOCK_OP_CREDIT_REQUEST 7u
#define VSOCK_SHUTDOWN_RCV 1u
#define VSOCK_SHUTDOWN_SEND 2u
#define VSOCK_SHUTDOWN_BOTH 3u

/* The largest payload one TX packet may carry (Linux sends at most 64 KiB). */
#define VSOCK_MAX_PAYLOAD (64u * 1024u)

/* Little-endian on the wire, like x86: copied as is. */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;        /* payload bytes after the header */
	uint16_t type;
	uint16_t op;
	uint32_t flags;      /* SHUTDOWN: VSOCK_SHUTDOWN_* */
	uint32_t buf_alloc;  /* the sender's receive buffer for this stream */
	uint32_t fwd_cnt;    /* bytes the sender has taken out of it, ever (mod 2^32) */
} PACKED;

_Static_assert(sizeof(struct vsock_hdr) == VSOCK_HDR_SIZE, "virtio 1.2, 5.10.6");

/*
 * A packet's payload: len bytes, either after the header of a guest's TX
 * chain (ch, env) or in host memory (buf).  done counts the bytes already
 * delivered: a payload may reach a receiver in pieces, one per receive
 * buffer.  cookie is the router's (which connection a held packet is for).
 */
struct vsock_payload {
	const struct virtq_chain *ch;
	const struct virtio_env *env;
	const uint8_t *buf;
	uint32_t len;
	uint32_t done;
	uint32_t cookie;
};

/* Copies [off, off + n) of the payload into dst: 0, -ERANGE past len, -EFAULT (guest RAM). */
int vsock_payload_read(const struct vsock_payload *p, uint32_t off, void *dst, size_t n);

/* ------------------------------------------------------------ the device */

/*
 * What a device hands its packets to (the router, or a test's fake).
 * send: one TX packet, header checked (see virtio_vsock_ops): 0 when the
 * packet is done with (delivered, answered or dropped), -EAGAIN when it
 * must wait (the device then holds the chain, serves nothing more on its
 * TX queue, and retries the same h and p, done kept, when its TX queue is
 * served again -- the backend arranges that kick).  rx_ready: the driver
 * posted receive buffers.  reset: the device was reset or failed, every
 * stream of this CID is gone.
 */
struct vsock_backend {
	int (*send)(void *ctx, const struct vsock_hdr *h, struct vsock_payload *p);
	void (*rx_ready)(void *ctx);
	void (*reset)(void *ctx);
};

/*
 * Control packets (no payload) waiting for a receive buffer, per device.
 * Forwarded packets may fill VSOCK_PENDING_FORWARD slots; the rest is kept
 * for the resets the router makes up itself.
 */
#define VSOCK_PENDING 64u
#define VSOCK_PENDING_FORWARD 48u

/* The model's state (dev->priv).  The owner sets cid; the router sets be and be_ctx. */
struct virtio_vsock {
	uint64_t cid;
	const struct vsock_backend *be;
	void *be_ctx;
	/* private */
	struct vsock_hdr pend[VSOCK_PENDING];
	unsigned pend_head, pend_count;
	bool held;                     /* a TX packet waits for its receiver */
	struct vsock_hdr held_hdr;
	struct vsock_payload held_p;
	struct virtq_chain held_chain;
};

/*
 * virtio-vsock (device 19): queue 0 rx, 1 tx, 2 event (never used: no
 * transport reset events are sent); config space: le64 guest_cid.  No
 * feature bits: stream sockets only (SEQPACKET not offered, 5.10.3).
 *
 * Each TX packet's header is read once into private memory and checked;
 * the device fails (NEEDS_RESET, one log line, its streams reset through
 * be->reset) when a chain has writable segments or is shorter than the
 * header, src_cid is not the device's CID (no spoofing), len is above
 * VSOCK_MAX_PAYLOAD or differs from the bytes after the header, type is
 * not STREAM, op is not 1..7, a packet other than RW carries payload, or
 * SHUTDOWN's flags are 0 or beyond RCV|SEND.  Everything else about a
 * packet (where it goes, whether it belongs to a stream) is the backend's.
 * At most VIRTIO_BUDGET_CHAINS packets and VIRTIO_BUDGET_BYTES of payload
 * are served per notification.
 */
extern const struct virtio_dev_ops virtio_vsock_ops;

/* True when the driver is up and the receive queue usable (DRIVER_OK, no NEEDS_RESET). */
bool virtio_vsock_live(const struct virtio_dev *d);

/*
 * Delivers one packet to the guest (h with its payload p; h->len is
 * ignored, p->len counts).  Control packets (p->len 0) go into a receive
 * buffer, or wait in the device's pending queue when there is none or
 * others wait already (urgent ones may use all VSOCK_PENDING slots, others
 * VSOCK_PENDING_FORWARD).  Data goes only when nothing is pending: one
 * packet per receive buffer, each with as much of the payload as fits,
 * p->done advanced.  0 when all of it was taken or queued; -EAGAIN when
 * (the rest of) it must wait for receive buffers; -EPIPE when the device
 * is not live or the driver's receive buffer broke a rule (the device is
 * then failed WITHOUT be->reset: the caller drops the device's streams).
 */
int virtio_vsock_deliver(struct virtio_dev *d, const struct vsock_hdr *h, struct vsock_payload *p,
			 bool urgent);

/* Free pending slots for a packet of this urgency (0 when not live). */
unsigned virtio_vsock_room(const struct virtio_dev *d, bool urgent);

/* True when the device holds a TX packet its receiver has no room for (its TX queue stalls). */
bool virtio_vsock_held(const struct virtio_dev *d);

/*
 * Completes the held TX packet unsent (the router has dealt with its
 * stream).  0 (also when nothing is held), or -EPIPE when the used ring
 * broke a rule (the device is failed WITHOUT be->reset, as in deliver).
 */
int virtio_vsock_drop_held(struct virtio_dev *d);

/* ------------------------------------------------------------ the router */

#define VSOCK_ROUTER_EPS_LIMIT 65535u    /* endpoints at most (a stream names its ends in 16 bits) */
#define VSOCK_ROUTER_MAX_SERVICES 4u     /* local ports at the host CID */
#define VSOCK_ROUTER_MAX_CONNS 1024u     /* streams in all */
#define VSOCK_CONNS_PER_DOMAIN 256u      /* default quota per device, either end */
#define VSOCK_ROUTER_HASH 256u

/*
 * A local service at the host CID (PVHV_VSOCK_CID_HOST), on one port.
 * A stream is named by a handle (never 0).  accept: a guest asks to
 * connect; 0 accepts (RESPONSE sent), < 0 refuses (RST).  recv: payload,
 * at most buf_alloc - (bytes received - bytes consumed) at a time (the
 * router holds the guest to that credit); the service reports what it has
 * taken out with vsock_local_consumed().  peer_shutdown: the guest sent
 * SHUTDOWN with these flags.  closed: the stream is gone (RST either way,
 * the guest's device reset, its domain ended); the handle is dead.  wake:
 * a vsock_local_send() that returned short may be retried.
 */
struct vsock_service {
	uint32_t port;
	uint32_t buf_alloc;
	int (*accept)(void *ctx, uint32_t conn, uint64_t cid, uint32_t port);
	void (*recv)(void *ctx, uint32_t conn, const uint8_t *data, size_t n);
	void (*peer_shutdown)(void *ctx, uint32_t conn, uint32_t flags);
	void (*closed)(void *ctx, uint32_t conn);
	void (*wake)(void *ctx);
	void *ctx;
};

enum vsock_conn_state { VSOCK_FREE, VSOCK_REQUESTED, VSOCK_ESTABLISHED, VSOCK_CLOSING };

/* A stream: side 0 asked, side 1 answered. */
struct vsock_conn {
	uint64_t cid[2];
	uint32_t port[2];
	uint32_t buf_alloc[2], fwd_cnt[2];  /* as each side last advertised */
	uint32_t tx_cnt[2];                 /* payload bytes each side sent */
	uint16_t ep[2];                     /* endpoint index of each side */
	uint32_t born;                      /* creation order (for the oldest half-open one) */
	uint16_t gen;                       /* bumped on every free: stale handles miss */
	int16_t next;                       /* hash chain or free list */
	uint8_t state;
	uint8_t shut[2];                    /* SHUTDOWN flags each side sent */
};

struct vsock_router;

/* An attached device (dev NULL: slot 0, the host CID's local services). */
struct vsock_ep {
	struct vsock_router *r;
	struct virtio_dev *dev;
	uint64_t cid;
	unsigned nconns, max_conns;
	int blocked_on;                     /* endpoint whose receive queue it waits for, or -1 */
	bool dead;                          /* it failed in a delivery: its streams are to be dropped */
};

/*
 * The router.  The owner fills the first block and calls vsock_router_init.
 * ep: the owner's array of max_eps endpoints (2..VSOCK_ROUTER_EPS_LIMIT):
 * slot 0 is the host CID's, so max_eps - 1 devices may be attached at
 * once (pvhv sizes it by its domain table: no fixed limit here).
 * allow: may src_cid open a stream to dst_cid:dst_port (dst_cid may be the
 * host CID)?  wake: d holds a TX packet that may go now; serve d's TX
 * queue (virtio_dev_kick(d, 1)) soon, outside this call.  log: one line
 * about a guest's misbehaviour or a lost reset.  hash_key: a secret (random
 * at boot) that keys the stream table's hash.
 */
struct vsock_router {
	bool (*allow)(void *ctx, uint64_t src_cid, uint64_t dst_cid, uint32_t dst_port);
	void (*wake)(void *ctx, struct virtio_dev *d);
	void (*log)(void *ctx, const char *msg);
	void *ctx;
	uint64_t hash_key;
	struct vsock_ep *ep;
	unsigned max_eps;
	/* private */
	unsigned eps_used;                  /* endpoints [0, eps_used) may be attached */
	const struct vsock_service *svc[VSOCK_ROUTER_MAX_SERVICES];
	struct vsock_conn conn[VSOCK_ROUTER_MAX_CONNS];
	int16_t bucket[VSOCK_ROUTER_HASH];
	int16_t free_head;
	unsigned nconns;
	uint32_t born;                      /* streams created so far */
	bool dirty;                         /* some ep is dead */
};

void vsock_router_init(struct vsock_router *r);

/*
 * Quotas: a stream counts against both ends' max_conns.  When a REQUEST
 * finds its sender's quota full, the sender's oldest stream still waiting
 * for its RESPONSE is reset to make room (a Linux client gave up on it
 * after its connect timeout, and the peer may never answer); otherwise the
 * REQUEST is refused.
 *
 * Attaches a vsock device (dev->priv a struct virtio_vsock with its cid
 * set, dev->ops &virtio_vsock_ops) with a quota of max_conns streams (0:
 * VSOCK_CONNS_PER_DOMAIN).  0; -EINVAL for a CID below PVHV_VSOCK_CID_MIN,
 * at or above 2^32 - 1 (upper half reserved, 5.10.4), -EEXIST when the
 * CID is taken, -ENOSPC when max_eps - 1 are attached.
 */
int vsock_router_attach(struct vsock_router *r, struct virtio_dev *dev, unsigned max_conns);

/* The domain ended: every stream of dev gets RST at its other end; dev is forgotten. */
void vsock_router_detach(struct vsock_router *r, struct virtio_dev *dev);

/*
 * For the owner's timer: dev has held a TX packet for too long (see
 * virtio_vsock_held; its receiver posts no buffers, and dev's other
 * streams wait behind it).  The packet's stream is reset at both ends (or
 * its sender gets RST when there is no stream yet), the packet is dropped
 * and dev's TX queue woken.  Nothing happens when dev holds nothing.
 */
void vsock_router_unstall(struct vsock_router *r, struct virtio_dev *dev);

/* Registers a local service on svc->port at the host CID: 0, -EEXIST, -ENOSPC, -EINVAL (port or buf_alloc 0). */
int vsock_router_listen(struct vsock_router *r, const struct vsock_service *svc);

/* The stream behind a handle, or NULL when it is gone (for tests and stats). */
const struct vsock_conn *vsock_router_conn(const struct vsock_router *r, uint32_t handle);

/*
 * For a local service: sends up to n bytes to the guest at the other end
 * of conn, as much as its credit and receive buffers take now.  Returns
 * the bytes sent (0: wait for wake), -ENOENT when conn is gone, -EPIPE when
 * the service has shut down sending or the guest its receiving.
 */
int vsock_local_send(struct vsock_router *r, uint32_t conn, const void *data, size_t n);

/* The service took n more bytes out of its buffer: the guest gets a credit update. */
int vsock_local_consumed(struct vsock_router *r, uint32_t conn, uint32_t n);

/*
 * Ends the service's side: SHUTDOWN(RCV|SEND) to the guest, or RST (and
 * the stream is freed, no closed callback) when the guest had shut down
 * both ways already or reset is true.  0 or -ENOENT.
 */
int vsock_local_close(struct vsock_router *r, uint32_t conn, bool reset);

#endif
