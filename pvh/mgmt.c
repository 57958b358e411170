/* SPDX-License-Identifier: Apache-2.0 */
/* mgmt.c: delimits, checks and answers management protocol requests. */
#include "pvh/mgmt.h"

int64_t mgmt_frame(const uint8_t *buf, size_t n, char *err, size_t errlen)
{
	struct pvhv_mgmt_hdr h;

	if (n < MGMT_HDR)
		return 0;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != PVHV_MGMT_MAGIC)
		return errorf(-EPROTO, err, errlen, "bad magic 0x%08x", h.magic);
	if (h.version != PVHV_MGMT_VERSION)
		return errorf(-EPROTO, err, errlen, "version %u, pvhv speaks %u", h.version,
			      PVHV_MGMT_VERSION);
	if (h.len > PVHV_MGMT_MAX_PAYLOAD)
		return errorf(-EPROTO, err, errlen, "payload of %u bytes, limit %u", h.len,
			      PVHV_MGMT_MAX_PAYLOAD);
	return n - MGMT_HDR < h.len ? 0 : (int64_t)(MGMT_HDR + h.len);
}

/* The reply header and status; returns where the result goes. */
static uint8_t *begin(uint8_t *out, const struct pvhv_mgmt_hdr *req, int status, const char *msg)
{
	struct pvhv_mgmt_hdr h = {
		.magic = PVHV_MGMT_MAGIC, .version = PVHV_MGMT_VERSION,
		.type = (uint16_t)(req->type | PVHV_MGMT_REPLY), .seq = req->seq,
		.len = sizeof(struct pvhv_mgmt_status),
	};
	struct pvhv_mgmt_status st = { .status = status };

	snprintf(st.msg, sizeof(st.msg), "%s", msg ? msg : "");
	memcpy(out, &h, sizeof(h));
	memcpy(out + MGMT_HDR, &st, sizeof(st));
	return out + MGMT_HDR + sizeof(st);
}

/* Closes a reply whose result ends at end. */
static size_t finish(uint8_t *out, const uint8_t *end)
{
	uint32_t len = (uint32_t)(end - out - MGMT_HDR);

	memcpy(out + offsetof(struct pvhv_mgmt_hdr, len), &len, sizeof(len));
	return (size_t)(end - out);
}

PRINTF_LIKE(4, 5)
static size_t fail(uint8_t *out, const struct pvhv_mgmt_hdr *req, int status, const char *fmt, ...)
{
	char msg[sizeof(((struct pvhv_mgmt_status *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return finish(out, begin(out, req, status, msg));
}

/* The domain ref names: 0 and *d filled, or a reply already written (*reply_len). */
static int resolve_ref(const struct mgmt_ops *ops, const struct pvhv_mgmt_hdr *req,
		       struct pvhv_mgmt_ref ref, struct pvhv_mgmt_domain *d, uint8_t *out, size_t *reply_len)
{
	if (ref.id >= ops->slots(ops->ctx) || ops->domain(ops->ctx, ref.id, d)) {
		*reply_len = fail(out, req, -PVHV_MGMT_ENOENT, "no domain %u", ref.id);
		return -1;
	}
	if (d->gen != ref.gen) {
		*reply_len = fail(out, req, -PVHV_MGMT_ENOENT, "domain %u: generation %u is stale, now %u",
				  ref.id, ref.gen, d->gen);
		return -1;
	}
	return 0;
}

/* The domain a ref payload names, checked: 0 and *d filled, or a reply already written (*reply_len). */
static int resolve(const struct mgmt_ops *ops, const struct pvhv_mgmt_hdr *req, const uint8_t *p,
		   struct pvhv_mgmt_domain *d, uint8_t *out, size_t *reply_len)
{
	struct pvhv_mgmt_ref ref;

	if (req->len != sizeof(ref)) {
		*reply_len = fail(out, req, -PVHV_MGMT_EINVAL, "payload of %u bytes, want a %zu-byte ref",
				  req->len, sizeof(ref));
		return -1;
	}
	memcpy(&ref, p, sizeof(ref));
	return resolve_ref(ops, req, ref, d, out, reply_len);
}

/* A fixed string field: its length, or -1 when it has no NUL inside the field. */
static int field_len(const char *f, size_t size)
{
	size_t n = strnlen(f, size);

	return n == size ? -1 : (int)n;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* The network port's fields as text for net-mac and net-ipv4 (config.c checks the values). */
struct net_text {
	char mac[18];
	char ipv4[2 * 16];
	int ipv4_len;
};

/*
 * The port fields of c, checked for shape: a MAC and a first address with
 * the flag, nothing without it, no address after a 0.  0 and t filled, or
 * -1 with msg set.
 */
static int net_fields(const struct pvhv_mgmt_create *c, struct net_text *t, char *msg, size_t msglen)
{
	static const uint8_t zero[6];
	const uint8_t *m = c->net_mac;

	if (!(c->flags & PVHV_MGMT_CREATE_NET)) {
		if (memcmp(m, zero, 6) || c->net_ipv4[0] || c->net_ipv4[1])
			return errorf(-1, msg, msglen, "net_mac or net_ipv4 set without the NET flag");
		return 0;
	}
	if (!c->net_ipv4[0])
		return errorf(-1, msg, msglen, "net_ipv4[0] is 0: a port needs the IPv4 address the switch "
			      "lets it use");
	snprintf(t->mac, sizeof(t->mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	t->ipv4_len = 0;
	for (unsigned i = 0; i < 2 && c->net_ipv4[i]; i++) {
		uint8_t a[4];

		memcpy(a, &c->net_ipv4[i], 4);   /* network byte order */
		t->ipv4_len += snprintf(t->ipv4 + t->ipv4_len, sizeof(t->ipv4) - (size_t)t->ipv4_len,
					"%u.%u.%u.%u", a[0], a[1], a[2], a[3]) + 1;
	}
	return 0;
}

/* DOMAIN_CREATE: the fields as configuration properties, each checked where config.c checks it. */
static size_t create(const struct mgmt_ops *ops, const struct pvhv_mgmt_hdr *h, const uint8_t *p,
		     uint8_t *out)
{
	static struct pvhv_mgmt_create c;
	static const struct { const char *what; size_t off, size; } strs[] = {
		{ "name", offsetof(struct pvhv_mgmt_create, name), sizeof(c.name) },
		{ "kernel", offsetof(struct pvhv_mgmt_create, kernel), sizeof(c.kernel) },
		{ "initrd", offsetof(struct pvhv_mgmt_create, initrd), sizeof(c.initrd) },
		{ "cmdline", offsetof(struct pvhv_mgmt_create, cmdline), sizeof(c.cmdline) },
	};
	struct config_prop props[14]; /* kernel, initrd, cmdline, 6 cells, disks, virtio, net-mac, net-ipv4 */
	struct net_text net;
	uint8_t cells[6][4];
	char disks[sizeof(c.disks)], virtio[16], msg[sizeof(((struct pvhv_mgmt_status *)0)->msg)] = "";
	struct pvhv_mgmt_ref ref;
	unsigned n = 0, nc = 0;
	size_t dl = 0, vl = 0;
	int rc;

	if (h->len != sizeof(c))
		return fail(out, h, -PVHV_MGMT_EINVAL, "payload of %u bytes, want %zu", h->len, sizeof(c));
	memcpy(&c, p, sizeof(c));
	for (unsigned i = 0; i < ARRAY_SIZE(strs); i++)
		if (field_len((const char *)&c + strs[i].off, strs[i].size) < 0)
			return fail(out, h, -PVHV_MGMT_EINVAL, "%s is not NUL-terminated in its %zu bytes",
				    strs[i].what, strs[i].size);
	if (c.flags & ~(PVHV_MGMT_CREATE_CONSOLE | PVHV_MGMT_CREATE_RNG | PVHV_MGMT_CREATE_PAUSED |
			PVHV_MGMT_CREATE_NET))
		return fail(out, h, -PVHV_MGMT_EINVAL, "unknown flags 0x%x", c.flags);
	if (c.net_pad[0] | c.net_pad[1])
		return fail(out, h, -PVHV_MGMT_EINVAL, "net_pad is not zero");
	if (net_fields(&c, &net, msg, sizeof(msg)))
		return fail(out, h, -PVHV_MGMT_EINVAL, "%s", msg);
	props[n++] = (struct config_prop){ "kernel", c.kernel, (int)strlen(c.kernel) + 1 };
	if (c.initrd[0])
		props[n++] = (struct config_prop){ "initrd", c.initrd, (int)strlen(c.initrd) + 1 };
	if (c.cmdline[0])
		props[n++] = (struct config_prop){ "cmdline", c.cmdline, (int)strlen(c.cmdline) + 1 };
#define CELL(prop, v)                                                              \
	do {                                                                      \
		be32(cells[nc], (v));                                             \
		props[n++] = (struct config_prop){ (prop), cells[nc++], 4 };      \
	} while (0)
	CELL("memory-mib", c.memory_mib);
	if (c.vcpus)
		CELL("vcpus", c.vcpus);
	if (c.vsock_cid)
		CELL("vsock-cid", c.vsock_cid);
	if (c.max_runtime_ms)
		CELL("max-runtime-ms", c.max_runtime_ms);
	if (c.overlay_mib)
		CELL("overlay-mib", c.overlay_mib);
	if (c.cpu_share)
		CELL("cpu-share", c.cpu_share);
#undef CELL
	for (unsigned i = 0; i < ARRAY_SIZE(c.disks) && c.disks[i][0]; i++) {
		int l = field_len(c.disks[i], sizeof(c.disks[i]));

		if (l < 0)
			return fail(out, h, -PVHV_MGMT_EINVAL, "disk %u is not NUL-terminated in its %zu bytes",
				    i, sizeof(c.disks[i]));
		memcpy(disks + dl, c.disks[i], (size_t)l + 1);
		dl += (size_t)l + 1;
	}
	if (dl)
		props[n++] = (struct config_prop){ "disks", disks, (int)dl };
	if (c.flags & PVHV_MGMT_CREATE_CONSOLE) {
		memcpy(virtio + vl, "console", 8);
		vl += 8;
	}
	if (c.flags & PVHV_MGMT_CREATE_RNG) {
		memcpy(virtio + vl, "rng", 4);
		vl += 4;
	}
	if (vl)
		props[n++] = (struct config_prop){ "virtio", virtio, (int)vl };
	/* The port joins the control domain's trunk (config.c: a run-time domain's port is a member). */
	if (c.flags & PVHV_MGMT_CREATE_NET) {
		props[n++] = (struct config_prop){ "net-mac", net.mac, (int)strlen(net.mac) + 1 };
		props[n++] = (struct config_prop){ "net-ipv4", net.ipv4, net.ipv4_len };
	}
	if (c.flags & PVHV_MGMT_CREATE_PAUSED) {
		if (!ops->life)
			return fail(out, h, -PVHV_MGMT_ENOSYS, "paused creation is not served here");
		rc = ops->life->create_paused(ops->ctx, c.name, props, n, &ref, msg, sizeof(msg));
	} else {
		rc = ops->create(ops->ctx, c.name, props, n, &ref, msg, sizeof(msg));
	}
	if (rc)
		return finish(out, begin(out, h, rc, msg));
	uint8_t *r = begin(out, h, 0, NULL);
	memcpy(r, &ref, sizeof(ref));
	return finish(out, r + sizeof(ref));
}

/* ------------------------------------------------------------ images (ops 8..12) */

#define MSG_DECL char msg[sizeof(((struct pvhv_mgmt_status *)0)->msg)] = ""

/* A reply with no result: status rc and, on failure, msg. */
static size_t done(uint8_t *out, const struct pvhv_mgmt_hdr *h, int rc, const char *msg)
{
	return finish(out, begin(out, h, rc, rc ? msg : NULL));
}

/* A name field of the request: 0, or a reply already written (*reply_len). */
static int image_name(const struct pvhv_mgmt_hdr *h, const char *name, uint8_t *out, size_t *reply_len)
{
	MSG_DECL;
	int rc = image_name_check(name, PVHV_MGMT_IMAGE_NAME, msg, sizeof(msg));

	if (rc)
		*reply_len = fail(out, h, -PVHV_MGMT_EINVAL, "%s", msg);
	return rc;
}

static size_t image_begin(const struct mgmt_image_ops *io, void *ctx, const struct pvhv_mgmt_hdr *h,
			  const uint8_t *p, uint8_t *out)
{
	struct pvhv_mgmt_image_begin b;
	uint32_t handle = 0;
	size_t n;
	MSG_DECL;
	int rc;

	if (h->len != sizeof(b))
		return fail(out, h, -PVHV_MGMT_EINVAL, "payload of %u bytes, want %zu", h->len, sizeof(b));
	memcpy(&b, p, sizeof(b));
	if (image_name(h, b.name, out, &n))
		return n;
	if (b.flags)
		return fail(out, h, -PVHV_MGMT_EINVAL, "unknown flags 0x%x", b.flags);
	if (b.reserved)
		return fail(out, h, -PVHV_MGMT_EINVAL, "reserved is 0x%x, not 0", b.reserved);
	if (!b.size)
		return fail(out, h, -PVHV_MGMT_EINVAL, "image \"%s\": size 0", b.name);
	rc = io->begin(ctx, b.name, b.size, &handle, msg, sizeof(msg));
	if (rc)
		return done(out, h, rc, msg);
	uint8_t *r = begin(out, h, 0, NULL);
	memcpy(r, &handle, sizeof(handle));
	return finish(out, r + sizeof(handle));
}

static size_t image_data(const struct mgmt_image_ops *io, void *ctx, const struct pvhv_mgmt_hdr *h,
			 const uint8_t *p, uint8_t *out)
{
	struct pvhv_mgmt_image_data d;
	size_t n = h->len - sizeof(d);
	MSG_DECL;

	if (h->len <= sizeof(d))
		return fail(out, h, -PVHV_MGMT_EINVAL, "payload of %u bytes, want %zu and 1 to %u data bytes",
			    h->len, sizeof(d), PVHV_MGMT_IMAGE_CHUNK);
	memcpy(&d, p, sizeof(d));
	if (!d.handle)
		return fail(out, h, -PVHV_MGMT_EINVAL, "handle 0");
	if (d.reserved)
		return fail(out, h, -PVHV_MGMT_EINVAL, "reserved is 0x%x, not 0", d.reserved);
	if (d.offset > UINT64_MAX - n)
		return fail(out, h, -PVHV_MGMT_EINVAL, "offset 0x%lx + %zu bytes overflows",
			    (unsigned long)d.offset, n);
	return done(out, h, io->data(ctx, d.handle, d.offset, p + sizeof(d), n, msg, sizeof(msg)), msg);
}

static size_t image_op(const struct mgmt_ops *ops, const struct pvhv_mgmt_hdr *h, const uint8_t *p,
		       uint8_t *out)
{
	const struct mgmt_image_ops *io = ops->image;
	uint32_t v;
	size_t n;
	MSG_DECL;

	if (!io)
		return fail(out, h, -PVHV_MGMT_ENOSYS, "no image store");
	switch (h->type) {
	case PVHV_MGMT_IMAGE_PUT_BEGIN:
		return image_begin(io, ops->ctx, h, p, out);
	case PVHV_MGMT_IMAGE_PUT_DATA:
		return image_data(io, ops->ctx, h, p, out);
	case PVHV_MGMT_IMAGE_PUT_END:
		if (h->len != sizeof(v))
			return fail(out, h, -PVHV_MGMT_EINVAL, "payload of %u bytes, want a 4-byte handle", h->len);
		memcpy(&v, p, sizeof(v));
		if (!v)
			return fail(out, h, -PVHV_MGMT_EINVAL, "handle 0");
		return done(out, h, io->end(ops->ctx, v, msg, sizeof(msg)), msg);
	case PVHV_MGMT_IMAGE_LIST: {
		struct pvhv_mgmt_images l = { 0 };
		struct pvhv_mgmt_image e[(PVHV_MGMT_MAX_PAYLOAD - sizeof(l)) / sizeof(struct pvhv_mgmt_image)];
		uint8_t *r;

		if (h->len != sizeof(v))
			return fail(out, h, -PVHV_MGMT_EINVAL, "payload of %u bytes, want a 4-byte index", h->len);
		memcpy(&v, p, sizeof(v));
		l.count = MIN(io->list(ops->ctx, v, e, ARRAY_SIZE(e), &l.total), (unsigned)ARRAY_SIZE(e));
		r = begin(out, h, 0, NULL);
		memcpy(r, &l, sizeof(l));
		memcpy(r + sizeof(l), e, l.count * sizeof(e[0]));
		return finish(out, r + sizeof(l) + l.count * sizeof(e[0]));
	}
	case PVHV_MGMT_IMAGE_DELETE: {
		char name[PVHV_MGMT_IMAGE_NAME];

		if (h->len != sizeof(name))
			return fail(out, h, -PVHV_MGMT_EINVAL, "payload of %u bytes, want a %zu-byte name", h->len,
				    sizeof(name));
		memcpy(name, p, sizeof(name));
		if (image_name(h, name, out, &n))
			return n;
		return done(out, h, io->remove(ops->ctx, name, msg, sizeof(msg)), msg);
	}
	}
	return fail(out, h, -PVHV_MGMT_ENOSYS, "unknown request type %u", h->type);
}

/* ------------------------------------------------------------ domain life (ops 13..17) */

/* CONSOLE_WRITE: a header naming the domain and the length, then exactly that many bytes. */
static size_t console_write(const struct mgmt_ops *ops, const struct pvhv_mgmt_hdr *h, const uint8_t *p,
			    uint8_t *out)
{
	char msg[sizeof(((struct pvhv_mgmt_status *)0)->msg)] = "";
	struct pvhv_mgmt_console_write cw;
	struct pvhv_mgmt_domain d;
	uint8_t *r;
	size_t n;
	int rc;

	if (h->len < sizeof(cw))
		return fail(out, h, -PVHV_MGMT_EINVAL, "payload of %u bytes, want a %zu-byte header and data",
			    h->len, sizeof(cw));
	memcpy(&cw, p, sizeof(cw));
	if (cw.flags)
		return fail(out, h, -PVHV_MGMT_EINVAL, "console write: unknown flags 0x%x", cw.flags);
	if (cw.len == 0 || cw.len > PVHV_MGMT_CONSOLE_WRITE_MAX)
		return fail(out, h, -PVHV_MGMT_EINVAL, "console write of %u bytes, want 1 to %u", cw.len,
			    PVHV_MGMT_CONSOLE_WRITE_MAX);
	if (h->len - sizeof(cw) != cw.len)
		return fail(out, h, -PVHV_MGMT_EINVAL, "console write says %u bytes, %zu follow", cw.len,
			    h->len - sizeof(cw));
	if (resolve_ref(ops, h, (struct pvhv_mgmt_ref){ cw.id, cw.gen }, &d, out, &n))
		return n;
	rc = ops->life->console_write(ops->ctx, d.id, (const char *)p + sizeof(cw), cw.len, msg, sizeof(msg));
	if (rc < 0)
		return finish(out, begin(out, h, rc, msg));
	r = begin(out, h, 0, NULL);
	memcpy(r, &(uint32_t){ (uint32_t)MIN((unsigned)rc, cw.len) }, sizeof(uint32_t));
	return finish(out, r + sizeof(uint32_t));
}

/* START, PAUSE, RESUME, STATS, CONSOLE_WRITE. */
static size_t life(const struct mgmt_ops *ops, const struct pvhv_mgmt_hdr *h, const uint8_t *p, uint8_t *out)
{
	char msg[sizeof(((struct pvhv_mgmt_status *)0)->msg)] = "";
	struct pvhv_mgmt_domain d;
	struct pvhv_mgmt_stats s;
	uint8_t *r;
	size_t n;
	int rc;

	if (!ops->life)
		return fail(out, h, -PVHV_MGMT_ENOSYS, "request type %u is not served here", h->type);
	if (h->type == PVHV_MGMT_CONSOLE_WRITE)
		return console_write(ops, h, p, out);
	if (resolve(ops, h, p, &d, out, &n))
		return n;
	switch (h->type) {
	case PVHV_MGMT_DOMAIN_STATS:
		memset(&s, 0, sizeof(s));
		ops->life->stats(ops->ctx, d.id, &s);
		s.id = d.id;
		s.gen = d.gen;
		r = begin(out, h, 0, NULL);
		memcpy(r, &s, sizeof(s));
		return finish(out, r + sizeof(s));
	case PVHV_MGMT_DOMAIN_START:
		rc = ops->life->start(ops->ctx, d.id, msg, sizeof(msg));
		break;
	case PVHV_MGMT_DOMAIN_PAUSE:
		rc = ops->life->pause(ops->ctx, d.id, msg, sizeof(msg));
		break;
	default:
		rc = ops->life->resume(ops->ctx, d.id, msg, sizeof(msg));
		break;
	}
	return finish(out, begin(out, h, rc, rc ? msg : NULL));
}

size_t mgmt_handle(const struct mgmt_ops *ops, const uint8_t *frame, size_t len, uint8_t *out)
{
	struct pvhv_mgmt_hdr h;
	struct pvhv_mgmt_domain d;
	const uint8_t *p = frame + MGMT_HDR;
	uint8_t *r;
	size_t n;

	memcpy(&h, frame, sizeof(h));
	if (len != MGMT_HDR + h.len) /* the caller delimited it; kept as a check */
		return fail(out, &h, -PVHV_MGMT_EPROTO, "frame of %zu bytes, header says %u", len,
			    (unsigned)(MGMT_HDR + h.len));
	if (h.type & PVHV_MGMT_REPLY)
		return fail(out, &h, -PVHV_MGMT_EINVAL, "type 0x%x is a reply", h.type);
	switch (h.type) {
	case PVHV_MGMT_HELLO: {
		struct pvhv_mgmt_hello hello = { 0 };

		if (h.len)
			return fail(out, &h, -PVHV_MGMT_EINVAL, "hello takes no payload (%u bytes)", h.len);
		ops->hello(ops->ctx, &hello);
		hello.version = PVHV_MGMT_VERSION;
		r = begin(out, &h, 0, NULL);
		memcpy(r, &hello, sizeof(hello));
		return finish(out, r + sizeof(hello));
	}
	case PVHV_MGMT_DOMAIN_LIST: {
		uint32_t count = 0, from = 0;
		uint8_t *at;

		if (h.len != 0 && h.len != sizeof(from))
			return fail(out, &h, -PVHV_MGMT_EINVAL,
				    "list takes no payload or a 4-byte first slot (%u bytes)", h.len);
		if (h.len)
			memcpy(&from, p, sizeof(from));
		r = begin(out, &h, 0, NULL);
		at = r + sizeof(count);
		for (unsigned i = from; i < ops->slots(ops->ctx); i++) {
			if (ops->domain(ops->ctx, i, &d))
				continue;
			if ((size_t)(at + sizeof(d) - r) > PVHV_MGMT_MAX_PAYLOAD)
				break; /* a page is full: the client asks again from the last id + 1 */
			memcpy(at, &d, sizeof(d));
			at += sizeof(d);
			count++;
		}
		memcpy(r, &count, sizeof(count));
		return finish(out, at);
	}
	case PVHV_MGMT_DOMAIN_INFO:
		if (resolve(ops, &h, p, &d, out, &n))
			return n;
		r = begin(out, &h, 0, NULL);
		memcpy(r, &d, sizeof(d));
		return finish(out, r + sizeof(d));
	case PVHV_MGMT_DOMAIN_DESTROY: {
		char msg[sizeof(((struct pvhv_mgmt_status *)0)->msg)] = "";
		int rc;

		if (resolve(ops, &h, p, &d, out, &n))
			return n;
		rc = ops->destroy(ops->ctx, d.id, msg, sizeof(msg));
		return finish(out, begin(out, &h, rc, rc ? msg : NULL));
	}
	case PVHV_MGMT_EVENTS: {
		struct pvhv_mgmt_events ev = { 0 };
		struct pvhv_mgmt_event e[(PVHV_MGMT_MAX_PAYLOAD - sizeof(ev)) / sizeof(struct pvhv_mgmt_event)];
		uint64_t after;

		if (h.len != sizeof(after))
			return fail(out, &h, -PVHV_MGMT_EINVAL, "payload of %u bytes, want an 8-byte seq", h.len);
		memcpy(&after, p, sizeof(after));
		ev.count = ops->events(ops->ctx, after, e, ARRAY_SIZE(e), &ev.lost);
		ev.count = MIN(ev.count, (uint32_t)ARRAY_SIZE(e));
		r = begin(out, &h, 0, NULL);
		memcpy(r, &ev, sizeof(ev));
		memcpy(r + sizeof(ev), e, ev.count * sizeof(e[0]));
		return finish(out, r + sizeof(ev) + ev.count * sizeof(e[0]));
	}
	case PVHV_MGMT_DOMAIN_CREATE:
		return create(ops, &h, p, out);
	case PVHV_MGMT_HOST_STOP: {
		char msg[sizeof(((struct pvhv_mgmt_status *)0)->msg)] = "";

		if (h.len)
			return fail(out, &h, -PVHV_MGMT_EINVAL, "host stop takes no payload (%u bytes)", h.len);
		if (!ops->host_stop)
			return fail(out, &h, -PVHV_MGMT_ENOSYS, "host stop is not served here");
		return done(out, &h, ops->host_stop(ops->ctx, msg, sizeof(msg)), msg);
	}
	case PVHV_MGMT_IMAGE_PUT_BEGIN:
	case PVHV_MGMT_IMAGE_PUT_DATA:
	case PVHV_MGMT_IMAGE_PUT_END:
	case PVHV_MGMT_IMAGE_LIST:
	case PVHV_MGMT_IMAGE_DELETE:
		return image_op(ops, &h, p, out);
	case PVHV_MGMT_CONSOLE_READ:
		if (resolve(ops, &h, p, &d, out, &n))
			return n;
		r = begin(out, &h, 0, NULL);
		n = ops->console(ops->ctx, d.id, (char *)r, PVHV_MGMT_MAX_PAYLOAD);
		return finish(out, r + MIN(n, (size_t)PVHV_MGMT_MAX_PAYLOAD));
	case PVHV_MGMT_DOMAIN_START:
	case PVHV_MGMT_DOMAIN_PAUSE:
	case PVHV_MGMT_DOMAIN_RESUME:
	case PVHV_MGMT_DOMAIN_STATS:
	case PVHV_MGMT_CONSOLE_WRITE:
		return life(ops, &h, p, out);
	}
	return fail(out, &h, -PVHV_MGMT_ENOSYS, "unknown request type %u", h.type);
}

size_t mgmt_proto_error(const uint8_t *buf, size_t n, const char *err, uint8_t *out)
{
	struct pvhv_mgmt_hdr h = { 0 };

	memcpy(&h, buf, MIN(n, sizeof(h)));
	h.type &= (uint16_t)~PVHV_MGMT_REPLY;
	return fail(out, &h, -PVHV_MGMT_EPROTO, "%s", err);
}
