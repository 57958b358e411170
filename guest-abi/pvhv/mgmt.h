/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mgmt.h: pvhv's management protocol, version 1.  The control domain (the
 * domain whose configuration says `control = <1>;`) opens a vsock stream
 * to PVHV_VSOCK_CID_HOST port PVHV_MGMT_PORT; every other domain's connect
 * is refused.  On the stream, each request is one frame:
 *
 *   struct pvhv_mgmt_hdr, then hdr.len payload bytes (<= PVHV_MGMT_MAX_PAYLOAD)
 *
 * and pvhv answers each in order with one frame of type
 * (request type | PVHV_MGMT_REPLY), the same seq, whose payload starts with
 * struct pvhv_mgmt_status; what follows it is the operation's result, only
 * when status is 0.  Fields are little-endian and of fixed size; strings
 * are NUL-padded and need not be NUL-terminated when they fill their field.
 *
 * pvhv checks every field.  A request with a bad payload gets status
 * -PVHV_EINVAL (or the operation's error) and a message, and changes
 * nothing.  A frame pvhv cannot delimit (bad magic, a version it does not
 * speak, len above the maximum) gets one reply with -PVHV_EPROTO and the
 * stream is closed.  Domains are named by id and generation: a handle whose
 * generation is not the domain's current one gets -PVHV_ENOENT, so a stale
 * handle never reaches a newer domain in the same slot.
 */
#ifndef PVHV_GUEST_ABI_MGMT_H
#define PVHV_GUEST_ABI_MGMT_H

#include <stdint.h>
#include "pvhv/vsock.h"

#define PVHV_MGMT_PORT PVHV_VSOCK_MGMT_PORT
#define PVHV_MGMT_MAGIC 0x474d5650u /* "PVMG" */
#define PVHV_MGMT_VERSION 2u /* 2: list pages, cpu_share, network port, image chunks in stats */
#define PVHV_MGMT_MAX_PAYLOAD 4096u

/* Errors (negated in status), Linux errno values. */
#define PVHV_MGMT_EPERM 1
#define PVHV_MGMT_ENOENT 2
#define PVHV_MGMT_ENOMEM 12
#define PVHV_MGMT_EBUSY 16
#define PVHV_MGMT_EEXIST 17
#define PVHV_MGMT_EINVAL 22
#define PVHV_MGMT_ENOSPC 28
#define PVHV_MGMT_EPIPE 32  /* CONSOLE_WRITE: the domain reads no console input */
#define PVHV_MGMT_ENOSYS 38
#define PVHV_MGMT_EPROTO 71

struct pvhv_mgmt_hdr {
	uint32_t magic;    /* PVHV_MGMT_MAGIC */
	uint16_t version;  /* PVHV_MGMT_VERSION */
	uint16_t type;     /* PVHV_MGMT_* (| PVHV_MGMT_REPLY in replies) */
	uint32_t seq;      /* chosen by the client, echoed in the reply */
	uint32_t len;      /* payload bytes after the header */
};

#define PVHV_MGMT_REPLY 0x8000u

/* Requests. */
#define PVHV_MGMT_HELLO 1u          /* payload: none.  Result: struct pvhv_mgmt_hello */
#define PVHV_MGMT_DOMAIN_LIST 2u    /* payload: none, or uint32_t first (a slot id).  Result:
				       uint32_t count, then count struct pvhv_mgmt_domain with
				       id >= first, as many as one reply holds: ask again from
				       the last id + 1 until a reply has none */
#define PVHV_MGMT_DOMAIN_INFO 3u    /* payload: struct pvhv_mgmt_ref.  Result: struct pvhv_mgmt_domain */
#define PVHV_MGMT_DOMAIN_DESTROY 4u /* payload: struct pvhv_mgmt_ref.  Result: none (the domain
				       ends as "stopped"; the control domain cannot destroy itself) */
#define PVHV_MGMT_CONSOLE_READ 5u   /* payload: struct pvhv_mgmt_ref.  Result: the domain's last
				       console lines, each ending in '\n', at most the payload limit */
#define PVHV_MGMT_DOMAIN_CREATE 7u  /* payload: struct pvhv_mgmt_create.  Result: struct
				       pvhv_mgmt_ref of the new, running domain */
#define PVHV_MGMT_EVENTS 6u         /* payload: uint64_t after (a seq, 0 for all).  Result: struct
				       pvhv_mgmt_events, then count struct pvhv_mgmt_event with
				       seq > after, oldest first (ask again after the last one) */

/* At the head of every reply payload. */
struct pvhv_mgmt_status {
	int32_t status;    /* 0, or -PVHV_MGMT_E* */
	char msg[92];      /* why, when status < 0 (e.g. "domain 7: generation 2 is stale, now 3") */
};

struct pvhv_mgmt_hello {
	uint32_t version;          /* the protocol version pvhv speaks (PVHV_MGMT_VERSION) */
	uint32_t abi_version;      /* PVHV_ABI_VERSION */
	uint32_t host_cpus;        /* host CPUs pvhv runs vCPUs on */
	uint32_t max_domains;      /* domains the table holds */
	uint64_t host_mem_bytes;   /* memory pvhv manages */
	uint64_t free_mem_bytes;   /* of which free now (pool and host allocator) */
	uint32_t tsc_khz;
	uint32_t vendor;           /* 1 AMD-V (SVM), 2 VT-x (VMX) */
	char name[32];             /* "pvhv" and its version */
	uint64_t table_bytes;      /* of the rest, what the domain table grew by since boot: slots
				      made at run time, kept for reuse (free + table is what live
				      domains and images do not hold) */
};

/* A domain: id is its slot, gen its generation (both from a list or info reply). */
struct pvhv_mgmt_ref {
	uint32_t id;
	uint32_t gen;
};

/* Domain states and ends. */
#define PVHV_MGMT_STATE_RUNNING 1u
#define PVHV_MGMT_STATE_ENDING 2u    /* ending or rebuilding for a reboot */
#define PVHV_MGMT_STATE_ENDED 3u
#define PVHV_MGMT_STATE_STARTING 4u  /* made through DOMAIN_CREATE, being built */
#define PVHV_MGMT_END_NONE 0u
#define PVHV_MGMT_END_POWEROFF 1u
#define PVHV_MGMT_END_REBOOT 2u
#define PVHV_MGMT_END_CRASH 3u
#define PVHV_MGMT_END_STOPPED 4u
#define PVHV_MGMT_END_NOT_STARTED 5u

struct pvhv_mgmt_domain {
	uint32_t id, gen;
	char name[32];
	uint32_t state;            /* PVHV_MGMT_STATE_* */
	uint32_t end;              /* PVHV_MGMT_END_* (how it ended, once ended) */
	uint32_t exit_status;
	uint32_t vcpus;
	uint64_t memory_bytes;
	uint64_t runtime_us;       /* since its first start, reboots included */
	uint64_t cpu_us;           /* CPU time charged to it */
	uint64_t exits;            /* VM exits */
	uint32_t reboots;
	uint32_t flags;            /* PVHV_MGMT_DOM_CONTROL */
	uint32_t cpu_share;        /* its CPU weight (10-400; 100 unless created with another) */
	uint32_t reserved;         /* 0 */
};

#define PVHV_MGMT_DOM_CONTROL 1u

/*
 * A domain made at run time, checked by the same rules as a domain of the
 * boot configuration (README "Configuring domains"); every string is
 * NUL-terminated inside its field.  Images are files of the boot bundle
 * or images uploaded with IMAGE_PUT_*.  It gets a free slot, or the slot
 * of an ended domain with the next generation.  It may reach the control
 * domain over vsock, and the control domain it.
 */
struct pvhv_mgmt_create {
	char name[32];
	char kernel[64];           /* image name */
	char initrd[64];           /* image name, "" for none */
	char cmdline[1024];
	char disks[4][68];         /* "[ro:]IMAGE" each, "" for none (the first empty one ends the list) */
	uint32_t memory_mib;
	uint32_t vcpus;            /* 0: 1 */
	uint32_t vsock_cid;        /* 0: no vsock device */
	uint32_t max_runtime_ms;   /* 0: no limit */
	uint32_t overlay_mib;      /* 0: the default */
	uint32_t flags;            /* PVHV_MGMT_CREATE_* */
	uint32_t cpu_share;        /* relative CPU weight against other domains, 10-400 (a vCPU's
				      time slice grows with it); 0: the default, 100 */
	uint8_t net_mac[6];        /* with PVHV_MGMT_CREATE_NET: its port's MAC (unicast) */
	uint8_t net_pad[2];        /* zero */
	uint32_t net_ipv4[2];      /* with PVHV_MGMT_CREATE_NET: the IPv4 sources it may use
				      (network byte order); [0] is required, [1] may be 0.
				      Without the flag all of net_* are 0 */
};

#define PVHV_MGMT_CREATE_CONSOLE 1u  /* a virtio console */
#define PVHV_MGMT_CREATE_RNG 2u      /* a virtio entropy device */

/* Events: a domain ended (each end, a reboot's too), numbered from 1. */
struct pvhv_mgmt_events {
	uint32_t count;            /* events that follow */
	uint32_t lost;             /* events after `after` that pvhv no longer holds (its log wrapped) */
};

struct pvhv_mgmt_event {
	uint64_t seq;
	uint32_t id, gen;          /* the domain */
	uint32_t end;              /* PVHV_MGMT_END_* */
	uint32_t exit_status;
	uint64_t time_us;          /* pvhv's clock at the end */
	char reason[64];           /* e.g. "triple fault (rip 0xfff0)"; empty for a plain poweroff */
};

/*
 * Images (ops 8..12).  An image is a file a domain's kernel, initrd or
 * disks name: a file of the boot bundle, or one uploaded at run time into
 * pvhv's memory.  An upload is a stream on one management connection:
 * PUT_BEGIN reserves all its memory (an upload that does not fit is
 * refused there, -PVHV_MGMT_ENOMEM) and returns a handle; PUT_DATA sends
 * the bytes in order (each at the offset where the last ended); PUT_END
 * makes the image appear, whole, under its name.  An END before all bytes
 * are in fails and discards the upload; a bad DATA (wrong offset, beyond
 * the size) fails and changes nothing; closing the connection discards its
 * unfinished uploads.  Names: 1-63 bytes of [A-Za-z0-9._-], not starting
 * with '.', unique among uploaded images and the bundle's files.  An image
 * in use by a domain (kernel, initrd or disk) cannot be deleted
 * (-PVHV_MGMT_EBUSY); nor can a bundle file (-PVHV_MGMT_EPERM).
 */
#define PVHV_MGMT_IMAGE_PUT_BEGIN 8u  /* payload: struct pvhv_mgmt_image_begin.  Result: uint32_t handle */
#define PVHV_MGMT_IMAGE_PUT_DATA 9u   /* payload: struct pvhv_mgmt_image_data, then 1 to
					 PVHV_MGMT_IMAGE_CHUNK bytes.  Result: none */
#define PVHV_MGMT_IMAGE_PUT_END 10u   /* payload: uint32_t handle.  Result: none */
#define PVHV_MGMT_IMAGE_LIST 11u      /* payload: uint32_t first (0 to start).  Result: struct
					 pvhv_mgmt_images, then count struct pvhv_mgmt_image
					 (ask again from first + count while below total) */
#define PVHV_MGMT_IMAGE_DELETE 12u    /* payload: char name[64] (NUL-terminated).  Result: none */

#define PVHV_MGMT_IMAGE_NAME 64       /* bytes of a name field, NUL included */
#define PVHV_MGMT_IMAGE_CHUNK (PVHV_MGMT_MAX_PAYLOAD - 16u)

struct pvhv_mgmt_image_begin {
	char name[PVHV_MGMT_IMAGE_NAME];  /* IN, NUL-terminated */
	uint64_t size;                    /* IN, bytes, > 0 */
	uint32_t flags;                   /* IN, 0 (none defined yet) */
	uint32_t reserved;                /* IN, 0 */
};

struct pvhv_mgmt_image_data {
	uint32_t handle;                  /* IN, from PUT_BEGIN on this connection */
	uint32_t reserved;                /* IN, 0 */
	uint64_t offset;                  /* IN, bytes received so far */
};

#define PVHV_MGMT_IMAGE_BUNDLE 1u
#define PVHV_MGMT_IMAGE_UPLOADED 2u

struct pvhv_mgmt_images {
	uint32_t count;                   /* OUT, entries that follow */
	uint32_t total;                   /* OUT, images there are */
};

struct pvhv_mgmt_image {
	char name[PVHV_MGMT_IMAGE_NAME];  /* OUT */
	uint64_t size;                    /* OUT, bytes */
	uint32_t users;                   /* OUT, domains' kernels, initrds and disks using it (and
					     domains created but not yet built that name it) */
	uint32_t origin;                  /* OUT, PVHV_MGMT_IMAGE_BUNDLE or _UPLOADED */
};

/*
 * Domain life after create: start, pause, resume, stats, console input.
 * Each takes a ref first; a stale one gets -PVHV_MGMT_ENOENT.
 *
 * DOMAIN_START: a domain created with PVHV_MGMT_CREATE_PAUSED runs (its
 * time limit counts from here).  -EINVAL for any other domain.
 * DOMAIN_PAUSE: a running domain's vCPUs leave their host CPUs and are not
 * scheduled until DOMAIN_RESUME.  Its devices keep working and its timers
 * keep firing into its interrupt controllers: what comes in while it is
 * paused is delivered at resume.  It is charged no CPU time meanwhile; its
 * time limit (max_runtime_ms) counts wall time and runs on.  It can be
 * destroyed while paused.  The control domain cannot be paused (-EPERM).
 * DOMAIN_RESUME: a paused domain runs again.  -EINVAL if it is not paused.
 * CONSOLE_WRITE: bytes for the domain's console input: its virtio console
 * once the guest's driver is ready, else COM1 once the guest enabled its
 * receive interrupt.  The result is how many it took (fewer when its input
 * buffer is full; the client sends the rest later).  A domain with neither
 * gets -PVHV_MGMT_EPIPE.
 */
#define PVHV_MGMT_DOMAIN_START 13u   /* payload: struct pvhv_mgmt_ref.  Result: none */
#define PVHV_MGMT_DOMAIN_PAUSE 14u   /* payload: struct pvhv_mgmt_ref.  Result: none */
#define PVHV_MGMT_DOMAIN_RESUME 15u  /* payload: struct pvhv_mgmt_ref.  Result: none */
#define PVHV_MGMT_DOMAIN_STATS 16u   /* payload: struct pvhv_mgmt_ref.  Result: struct pvhv_mgmt_stats */
#define PVHV_MGMT_CONSOLE_WRITE 17u  /* payload: struct pvhv_mgmt_console_write, then len bytes.
					Result: uint32_t bytes taken */

#define PVHV_MGMT_CREATE_PAUSED 4u   /* built, but runs only at DOMAIN_START */
#define PVHV_MGMT_CREATE_NET 8u      /* a virtio-net port linked to the control domain's trunk */
#define PVHV_MGMT_STATE_PAUSED 5u    /* paused, or created paused and not started yet */
#define PVHV_MGMT_DOM_NOT_STARTED 2u /* (flags) created paused, waiting for DOMAIN_START */
#define PVHV_MGMT_CONSOLE_WRITE_MAX 1024u

/*
 * HOST_STOP: pvhv stops.  Every running domain ends as stopped (reason
 * "pvhv is stopping", the control domain too), no domain is built or
 * restarted any more, and once all have ended pvhv prints its summary and
 * powers off; the domains it ended count as ended well for its exit
 * status.  The reply comes first: the domains end about 100 ms later.
 * The way to end a pvhv that serves (a boot bundle with "serve;"); it
 * works without serve too.  A second HOST_STOP changes nothing.
 */
#define PVHV_MGMT_HOST_STOP 18u      /* payload: none.  Result: none */

struct pvhv_mgmt_console_write {
	uint32_t id, gen;          /* the domain */
	uint32_t len;              /* bytes after this struct: 1..PVHV_MGMT_CONSOLE_WRITE_MAX */
	uint32_t flags;            /* 0 */
};

/* Exit counters in struct pvhv_mgmt_stats, by reason. */
#define PVHV_MGMT_EXIT_INTR 0u        /* host interrupt: a slice ended, a kick */
#define PVHV_MGMT_EXIT_CPUID 1u
#define PVHV_MGMT_EXIT_MSR_READ 2u
#define PVHV_MGMT_EXIT_MSR_WRITE 3u
#define PVHV_MGMT_EXIT_IO 4u
#define PVHV_MGMT_EXIT_HLT 5u
#define PVHV_MGMT_EXIT_HYPERCALL 6u
#define PVHV_MGMT_EXIT_NPF 7u          /* stage-2 fault: MMIO or first touch of RAM */
#define PVHV_MGMT_EXIT_TRIPLE_FAULT 8u
#define PVHV_MGMT_EXIT_BAD_INSN 9u
#define PVHV_MGMT_EXIT_XSETBV 10u
#define PVHV_MGMT_EXIT_WBINVD 11u
#define PVHV_MGMT_EXIT_RDPMC 12u
#define PVHV_MGMT_EXIT_EXC_DB 13u
#define PVHV_MGMT_EXIT_EXC_AC 14u
#define PVHV_MGMT_EXIT_EXC_MC 15u
#define PVHV_MGMT_EXIT_IRQ_WINDOW 16u
#define PVHV_MGMT_EXIT_PAUSE 17u
#define PVHV_MGMT_EXIT_INVALID 18u
#define PVHV_MGMT_EXIT_UNEXPECTED 19u
#define PVHV_MGMT_EXIT_COW 20u         /* a write to a chunk of an image (kernel, initrd): copied then */
#define PVHV_MGMT_EXIT_REASONS 24u    /* room in exits[] (the unused ones are 0) */

struct pvhv_mgmt_stats {
	uint32_t id, gen;
	uint32_t state;            /* PVHV_MGMT_STATE_* */
	uint32_t flags;            /* PVHV_MGMT_DOM_* */
	uint32_t vcpus;
	uint32_t vsock_cid;        /* 0: no vsock device */
	uint64_t runtime_us;       /* since its first start */
	uint64_t cpu_us;           /* CPU time charged to it */
	uint64_t paused_us;        /* time spent paused (the current pause included) */
	uint64_t exits_total;
	uint64_t exits[PVHV_MGMT_EXIT_REASONS];  /* by PVHV_MGMT_EXIT_* */
	uint64_t memory_bytes;     /* its RAM */
	uint64_t populated_bytes;  /* of which backed by host memory now */
	uint64_t populated_peak_bytes;
	uint64_t overlay_pages;    /* copy-on-write pages its disks hold now */
	uint64_t overlay_peak_pages;
	uint64_t console_out_bytes;     /* console bytes it wrote */
	uint64_t console_dropped_bytes; /* of which dropped (rate limit, full buffer) */
	uint64_t console_in_bytes;      /* bytes CONSOLE_WRITE gave it */
	uint64_t console_lines;         /* lines CONSOLE_READ could have shown so far: the last
					   (console_lines - an earlier value) of its reply are new */
	uint64_t vsock_refused;    /* streams it asked for that its configuration does not allow */
	uint64_t net_tx_frames, net_tx_bytes;  /* its network port: carried to the peer */
	uint64_t net_drops;        /* frames the switch dropped */
	uint32_t reboots;
	uint32_t cpu_share;        /* as in struct pvhv_mgmt_domain */
	uint8_t net_mac[6];        /* its network port's MAC; 0 without a port */
	uint16_t net_flags;        /* PVHV_MGMT_NET_* */
	uint32_t net_ipv4[2];      /* the IPv4 sources its port may use (network byte order), 0 for none */
	uint64_t net_drops_spoof;  /* of net_drops: a source MAC or address that is not the port's */
	uint64_t net_drops_isolated; /* of net_drops: to another sandbox, or (the trunk) to no sandbox */
	/* Its RAM from the kernel and initrd images, this boot (2 MiB chunks): */
	uint64_t image_chunks_shared;   /* the images' own pages, read-only, now */
	uint64_t image_chunks_copied;   /* copied: partly covered ones at first touch, others at a write */
};

/* net_flags in struct pvhv_mgmt_stats. */
#define PVHV_MGMT_NET_PORT 1u      /* it has a network port */
#define PVHV_MGMT_NET_TRUNK 2u     /* the port is the control domain's trunk */
#define PVHV_MGMT_NET_MEMBER 4u    /* the port is a member of the trunk (a sandbox's) */

_Static_assert(sizeof(struct pvhv_mgmt_hdr) == 16, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_status) == 96, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_hello) == 80, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_ref) == 8, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_domain) == 104, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_events) == 8, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_create) == 1500, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_event) == 96, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_console_write) == 16, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_stats) == 408, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_image_begin) == 80, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_image_data) == 16, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_images) == 8, "mgmt ABI");
_Static_assert(sizeof(struct pvhv_mgmt_image) == 80, "mgmt ABI");

#endif
