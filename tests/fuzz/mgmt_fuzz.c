/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mgmt_fuzz.c: libFuzzer over pvh/mgmt.c.  The input is a byte stream from
 * a hostile client, cut into pieces of the sizes the first bytes say (as
 * vsock would hand them over); each piece is appended to a receive buffer
 * of the service's size and every complete frame answered, as
 * pvh/mgmt_svc.c does.  Checks: every reply is a well-formed frame within
 * MGMT_REPLY_MAX with the request's seq, a status of 0 or a known negative
 * errno, and a result only when the status is 0; a stale or unknown handle
 * never reaches destroy.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base.h"
#include "pvh/mgmt.h"
#include "pvh/images.h"

static unsigned destroys;

static void hello(void *ctx, struct pvhv_mgmt_hello *out)
{
	(void)ctx;
	out->host_cpus = 2;
}

static unsigned slots(void *ctx)
{
	(void)ctx;
	return 4;
}

static int domain(void *ctx, unsigned id, struct pvhv_mgmt_domain *out)
{
	(void)ctx;
	if (id >= 4)
		abort(); /* the handler asked beyond slots() */
	if (id == 3)
		return -ENOENT;
	*out = (struct pvhv_mgmt_domain){ .id = id, .gen = id + 1 };
	snprintf(out->name, sizeof(out->name), "d%u", id);
	return 0;
}

static int destroy(void *ctx, unsigned id, char *msg, size_t len)
{
	(void)ctx, (void)msg, (void)len;
	if (id >= 3)
		abort();
	destroys++;
	return 0;
}

static size_t console(void *ctx, unsigned id, char *buf, size_t cap)
{
	(void)ctx, (void)id;
	memset(buf, 'x', cap);   /* as much as the handler allows */
	return cap;
}

/* Events 1..5 happened; the log holds 3..5 (1 and 2 are lost). */
static unsigned events(void *ctx, uint64_t after, struct pvhv_mgmt_event *out, unsigned max, uint32_t *lost)
{
	unsigned n = 0;

	(void)ctx;
	*lost = after < 2 ? (uint32_t)(2 - after) : 0;
	for (uint64_t seq = after < 2 ? 3 : after + 1; seq <= 5 && n < max; seq++)
		out[n++] = (struct pvhv_mgmt_event){ .seq = seq, .id = 2, .gen = 5, .end = PVHV_MGMT_END_CRASH };
	return n;
}

/* Creation: "bad" is refused with a message; anything else gets slot 3, generation 9. */
static unsigned creates;

static int create(void *ctx, const char *name, const struct config_prop *props, unsigned n,
		  struct pvhv_mgmt_ref *ref, char *msg, size_t msglen)
{
	(void)ctx;
	if (!n || strcmp(props[0].name, "kernel") || props[0].len < 1 ||
	    ((const char *)props[0].val)[props[0].len - 1])
		abort(); /* the kernel comes first, NUL-terminated */
	for (unsigned i = 0; i < n; i++)
		if ((!strcmp(props[i].name, "net-mac") || !strcmp(props[i].name, "net-ipv4")) &&
		    (props[i].len < 8 || ((const char *)props[i].val)[props[i].len - 1]))
			abort(); /* the port's text: NUL-terminated, at least "a.b.c.d" */
	if (!strcmp(name, "bad"))
		return errorf(-PVHV_MGMT_EINVAL, msg, msglen, "memory-mib %u is below 2", 1u);
	creates++;
	*ref = (struct pvhv_mgmt_ref){ 3, 9 };
	return 0;
}

/* Domain life: only handles the handler checked may arrive here. */
static int create_paused(void *ctx, const char *name, const struct config_prop *props, unsigned n,
			 struct pvhv_mgmt_ref *ref, char *msg, size_t msglen)
{
	return create(ctx, name, props, n, ref, msg, msglen);
}

static int life_step(void *ctx, unsigned id, char *msg, size_t len)
{
	(void)ctx;
	if (id >= 3)
		abort();
	return id == 0 ? errorf(-PVHV_MGMT_EPERM, msg, len, "d0 is the control domain") : 0;
}

static void stats(void *ctx, unsigned id, struct pvhv_mgmt_stats *out)
{
	(void)ctx;
	if (id >= 3)
		abort();
	memset(out, 0xff, sizeof(*out));
}

static int console_write(void *ctx, unsigned id, const char *buf, size_t n, char *msg, size_t len)
{
	(void)ctx, (void)buf;
	if (id >= 3 || n == 0 || n > PVHV_MGMT_CONSOLE_WRITE_MAX)
		abort();
	return id == 1 ? errorf(-PVHV_MGMT_EPIPE, msg, len, "d1 reads no input") : (int)n;
}

static const struct mgmt_life_ops life_ops = {
	.create_paused = create_paused, .start = life_step, .pause = life_step, .resume = life_step,
	.stats = stats, .console_write = console_write,
};
/*
 * Images: the real store (pvh/images.c) on malloc, with a 64 KiB budget
 * and a bundle file "kernel"; each input is one connection, closed at its
 * end: its uploads go, then every uploaded image is deleted, and no byte
 * may stay held.
 */
static struct image_store store;
static size_t held;
static const uint8_t kernel[16];

static int fetch(void *ctx, const char *name, const void **data, size_t *size, char *err, size_t errlen)
{
	(void)ctx;
	if (strcmp(name, "kernel"))
		return errorf(-ENOENT, err, errlen, "no file \"%s\" in bundle", name);
	*data = kernel;
	*size = sizeof(kernel);
	return 0;
}

static int m_alloc(void *ctx, uint64_t size, uint8_t **p)
{
	(void)ctx;
	if (size > 65536 - held || !(*p = malloc(size)))
		return -ENOMEM;
	held += size;
	return 0;
}

static void m_free(void *ctx, uint8_t *p, uint64_t size)
{
	(void)ctx;
	if (size > held)
		abort();
	held -= size;
	free(p);
}

static const struct image_mem mem = { m_alloc, m_free, NULL };

static int i_begin(void *ctx, const char *name, uint64_t size, uint32_t *handle, char *msg, size_t len)
{
	(void)ctx;
	return image_upload_begin(&store, name, size, 65536, 1, fetch, NULL, &mem, handle, msg, len);
}

static int i_data(void *ctx, uint32_t handle, uint64_t offset, const uint8_t *p, size_t n, char *msg,
		  size_t len)
{
	(void)ctx;
	if (!n || n > PVHV_MGMT_IMAGE_CHUNK)
		abort();
	return image_upload_data(&store, handle, 1, offset, p, n, msg, len);
}

static int i_end(void *ctx, uint32_t handle, char *msg, size_t len)
{
	(void)ctx;
	return image_upload_end(&store, handle, 1, &mem, msg, len);
}

static unsigned i_list(void *ctx, uint32_t first, struct pvhv_mgmt_image *e, unsigned max, uint32_t *total)
{
	unsigned n = 0, at = 0;

	(void)ctx;
	for (unsigned i = 0; i < IMAGES_MAX; i++)
		if (store.img[i].state == IMAGE_READY && at++ >= first && n < max) {
			memset(&e[n], 0, sizeof(e[n]));
			memcpy(e[n].name, store.img[i].name, strlen(store.img[i].name));
			e[n++].size = store.img[i].size;
		}
	*total = at;
	return n;
}

static int i_remove(void *ctx, const char *name, char *msg, size_t len)
{
	(void)ctx;
	return image_delete(&store, name, fetch, NULL, &mem, msg, len);
}

static const struct mgmt_image_ops image_ops = {
	.begin = i_begin, .data = i_data, .end = i_end, .list = i_list, .remove = i_remove,
};
/* HOST_STOP: only a request without payload may arrive here; the first one is taken. */
static int host_stop(void *ctx, char *msg, size_t len)
{
	static unsigned stops;

	(void)ctx;
	return stops++ ? errorf(-PVHV_MGMT_EBUSY, msg, len, "stopping already") : 0;
}

static const struct mgmt_ops ops = {
	.hello = hello, .slots = slots, .domain = domain, .destroy = destroy, .console = console,
	.events = events, .create = create, .host_stop = host_stop, .image = &image_ops, .life = &life_ops,
};

static void close_connection(void)
{
	image_upload_abort(&store, 1, &mem);
	for (unsigned i = 0; i < IMAGES_MAX; i++)
		if (store.img[i].state == IMAGE_READY && store.img[i].origin == IMAGE_UPLOADED &&
		    image_delete(&store, store.img[i].name, fetch, NULL, &mem, NULL, 0))
			abort();
	if (held || image_count(&store))
		abort(); /* an upload leaked */
}
static uint8_t rx[MGMT_FRAME_MAX], out[MGMT_REPLY_MAX];

static void check_reply(const uint8_t *req, size_t n)
{
	struct pvhv_mgmt_hdr q, h;
	struct pvhv_mgmt_status st;

	memcpy(&q, req, sizeof(q));
	if (n < sizeof(h) + sizeof(st) || n > MGMT_REPLY_MAX)
		abort();
	memcpy(&h, out, sizeof(h));
	memcpy(&st, out + sizeof(h), sizeof(st));
	if (h.magic != PVHV_MGMT_MAGIC || h.version != PVHV_MGMT_VERSION || h.len + sizeof(h) != n ||
	    !(h.type & PVHV_MGMT_REPLY) || h.seq != q.seq)
		abort();
	if (st.status > 0 || (st.status && n != sizeof(h) + sizeof(st)))
		abort();
	if (st.status && st.status != -PVHV_MGMT_EINVAL && st.status != -PVHV_MGMT_ENOENT &&
	    st.status != -PVHV_MGMT_ENOSYS && st.status != -PVHV_MGMT_EPROTO && st.status != -PVHV_MGMT_EPERM &&
	    st.status != -PVHV_MGMT_EPIPE && st.status != -PVHV_MGMT_ENOMEM && st.status != -PVHV_MGMT_EEXIST &&
	    st.status != -PVHV_MGMT_EBUSY && st.status != -PVHV_MGMT_ENOSPC)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t rx_len = 0, at = 0;
	char err[80];

	destroys = 0;
	while (at < size) {
		/* One byte: the size of the next piece (1..256). */
		size_t piece = (size_t)data[at++] + 1;

		piece = MIN(piece, size - at);
		piece = MIN(piece, sizeof(rx) - rx_len);
		memcpy(rx + rx_len, data + at, piece);
		rx_len += piece;
		at += piece;
		for (;;) {
			int64_t len = mgmt_frame(rx, rx_len, err, sizeof(err));

			if (len < 0) {
				check_reply(rx, mgmt_proto_error(rx, rx_len, err, out));
				close_connection();
				return 0; /* the stream is closed */
			}
			if (len == 0)
				break;
			check_reply(rx, mgmt_handle(&ops, rx, (size_t)len, out));
			memmove(rx, rx + len, rx_len - (size_t)len);
			rx_len -= (size_t)len;
		}
		if (rx_len == sizeof(rx) && !piece)
			abort(); /* a full buffer always holds a complete frame */
	}
	close_connection();
	return 0;
}
