/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mgmt.h: the management protocol's request handling (guest-abi/pvhv/mgmt.h),
 * pure: frames are delimited and checked here, and answered through the
 * callbacks of struct mgmt_ops, which the service glue (pvh/mgmt_svc.c)
 * fills from pvhv's domain table.  Every byte of a request is hostile.
 */
#ifndef PVHV_PVH_MGMT_H
#define PVHV_PVH_MGMT_H

#include "lib/base.h"
#include "pvhv/mgmt.h"
#include "pvh/config.h"
#include "pvh/images.h"

#define MGMT_HDR sizeof(struct pvhv_mgmt_hdr)
#define MGMT_FRAME_MAX (MGMT_HDR + PVHV_MGMT_MAX_PAYLOAD)
#define MGMT_REPLY_MAX (MGMT_HDR + sizeof(struct pvhv_mgmt_status) + PVHV_MGMT_MAX_PAYLOAD)

/*
 * The image operations (IMAGE_*), for the connection ctx names: each
 * returns 0, or a negative errno (a PVHV_MGMT_E* value) with why in msg.
 * begin: an upload of size bytes called name (checked by
 * image_name_check); *handle.  data: n bytes (1..PVHV_MGMT_IMAGE_CHUNK) at
 * offset (offset + n does not overflow).  end: commits or discards.
 * list: fills out[0, max) with images from index first on, returns how
 * many, *total the images there are.  remove: deletes the image name.
 */
struct mgmt_image_ops {
	int (*begin)(void *ctx, const char *name, uint64_t size, uint32_t *handle, char *msg,
		     size_t msglen);
	int (*data)(void *ctx, uint32_t handle, uint64_t offset, const uint8_t *p, size_t n, char *msg,
		    size_t msglen);
	int (*end)(void *ctx, uint32_t handle, char *msg, size_t msglen);
	unsigned (*list)(void *ctx, uint32_t first, struct pvhv_mgmt_image *out, unsigned max,
			 uint32_t *total);
	int (*remove)(void *ctx, const char *name, char *msg, size_t msglen);
};

/*
 * Domain life (ops 13..17); the handler has checked the request and the
 * ref, and asks for domain id.  start, pause, resume: 0, or a negative
 * PVHV_MGMT_E* with why in msg.  stats: fills out.  console_write: puts up
 * to n bytes into the domain's console input; returns how many it took
 * (0..n), or -PVHV_MGMT_EPIPE (msg: why) when it reads none.
 */
struct mgmt_life_ops {
	/* As mgmt_ops.create, for PVHV_MGMT_CREATE_PAUSED: built, but held until start. */
	int (*create_paused)(void *ctx, const char *name, const struct config_prop *props, unsigned n,
			     struct pvhv_mgmt_ref *ref, char *msg, size_t msglen);
	int (*start)(void *ctx, unsigned id, char *msg, size_t msglen);
	int (*pause)(void *ctx, unsigned id, char *msg, size_t msglen);
	int (*resume)(void *ctx, unsigned id, char *msg, size_t msglen);
	void (*stats)(void *ctx, unsigned id, struct pvhv_mgmt_stats *out);
	int (*console_write)(void *ctx, unsigned id, const char *buf, size_t n, char *msg, size_t msglen);
};

/*
 * What the handler asks of pvhv.  domain: fills out for slot id (0..slots-1)
 * and returns 0, or -ENOENT for an empty slot.  destroy: ends domain id;
 * 0, or a negative errno with why in msg.  console: copies the domain's
 * last console lines (each with '\n') into buf, returns the bytes.
 * events: see below.
 */
struct mgmt_ops {
	void (*hello)(void *ctx, struct pvhv_mgmt_hello *out);
	unsigned (*slots)(void *ctx);
	int (*domain)(void *ctx, unsigned id, struct pvhv_mgmt_domain *out);
	int (*destroy)(void *ctx, unsigned id, char *msg, size_t msglen);
	size_t (*console)(void *ctx, unsigned id, char *buf, size_t cap);
	/* Up to max events with seq > after, oldest first; *lost: those after `after` already gone. */
	unsigned (*events)(void *ctx, uint64_t after, struct pvhv_mgmt_event *out, unsigned max,
			   uint32_t *lost);
	/*
	 * Makes and starts a domain named name from props (config_prop, checked
	 * by pvh/config.c's rules): 0 and *ref, or a negative errno with why in msg.
	 */
	int (*create)(void *ctx, const char *name, const struct config_prop *props, unsigned n,
		      struct pvhv_mgmt_ref *ref, char *msg, size_t msglen);
	/* HOST_STOP: pvhv stops (pvh/serve.c); 0, or a negative errno with why in msg.  NULL: -ENOSYS. */
	int (*host_stop)(void *ctx, char *msg, size_t msglen);
	const struct mgmt_image_ops *image;  /* NULL: IMAGE_* get -ENOSYS */
	const struct mgmt_life_ops *life;    /* NULL: ops 13..17 and CREATE_PAUSED get -ENOSYS */
	void *ctx;
};

/*
 * The first frame in buf[0, n): its length when it is complete (header and
 * payload), 0 when more bytes are needed, or -EPROTO (message in err) when
 * it cannot be delimited: bad magic, another version, len above
 * PVHV_MGMT_MAX_PAYLOAD.  Checks the header as soon as it is in.
 */
int64_t mgmt_frame(const uint8_t *buf, size_t n, char *err, size_t errlen);

/*
 * Answers one complete frame (as mgmt_frame delimited it) into out (room
 * for MGMT_REPLY_MAX bytes); returns the reply's length.
 */
size_t mgmt_handle(const struct mgmt_ops *ops, const uint8_t *frame, size_t len, uint8_t *out);

/*
 * The reply to a frame that could not be delimited: status -EPROTO with
 * err, type and seq taken from the header bytes that are there (0 when not).
 */
size_t mgmt_proto_error(const uint8_t *buf, size_t n, const char *err, uint8_t *out);

#endif
