/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.c: pvhd's resources (/api/v1/...), each a handful of management calls.
 * Names in paths are checked before pvhv sees them; pvhv's refusals come
 * back with its message and a status that says whose fault it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pvhd.h"
#include "store.h"

#define STOP_WAIT_S 30
#define BUILD_WAIT_S 30
#define UPLOAD_WINDOW 32  /* DATA frames sent ahead of their replies */
#define LIST_REPLY_MAX (1 << 20) /* a listing of every domain: about 300 bytes each */

typedef void handler_fn(struct client *cl, struct reply *r, const char *name);

/* The body of a JSON request, whole, NUL-terminated (in a buffer of its own until the next call); NULL with r filled. */
static const char *json_body(struct client *cl, struct reply *r, size_t *len)
{
	static char b[SPEC_BODY_MAX + 1];
	size_t got = 0;

	if (cl->req.content_length > SPEC_BODY_MAX) {
		reply_fault(r, 413, "body: %llu bytes, at most %u", (unsigned long long)cl->req.content_length,
			    SPEC_BODY_MAX);
		return NULL;
	}
	while (got < cl->req.content_length) {
		long n = client_body(cl, b + got, (size_t)cl->req.content_length - got);

		if (n <= 0) {
			r->close = true;
			reply_fault(r, 400, "body: %zu of %llu bytes came", got, (unsigned long long)cl->req.content_length);
			return NULL;
		}
		got += (size_t)n;
	}
	b[got] = 0;
	*len = got;
	return b;
}

/* A spec_decode_* result: true when it decoded, else a 400 with its message. */
static bool decoded(struct reply *r, int rc, const char *err)
{
	if (rc)
		reply_fault(r, 400, "%s", err);
	return !rc;
}

/* The management connection, or a 503 in r. */
static bool mgmt(struct client *cl, struct reply *r)
{
	if (!client_mgmt(cl))
		return true;
	reply_fault(r, 503, "pvhv unreachable: %s", cl->mgmt.err);
	return false;
}

/* A call whose failure becomes r's fault (what: for the message). */
static bool call(struct client *cl, struct reply *r, const char *what, uint16_t type, const void *p, uint32_t len,
		 void *res, size_t cap)
{
	int rc;

	if (!mgmt(cl, r))
		return false;
	rc = mgmt_call_exact(&cl->mgmt, type, p, len, res, cap);
	if (rc)
		reply_mgmt_fault(r, cl, rc, what);
	return !rc;
}

/* A sandbox named in a path (a name, ID or ID:GEN) -> its ref, or a 400/404 in r. */
static bool sandbox_ref(struct client *cl, struct reply *r, const char *name, struct pvhv_mgmt_ref *ref)
{
	char what[80];
	int rc;

	if (strlen(name) > 63 || strspn(name, "0123456789:") != strlen(name)) {
		if (!spec_sandbox_name_ok(name)) {
			reply_fault(r, 400, "sandbox name \"%.64s\": 1-31 bytes of A-Za-z0-9._- expected", name);
			return false;
		}
	}
	if (!mgmt(cl, r))
		return false;
	rc = mgmt_resolve(&cl->mgmt, name, ref);
	if (rc) {
		snprintf(what, sizeof(what), "sandbox %s", name);
		reply_mgmt_fault(r, cl, rc, what);
	}
	return !rc;
}

static void domain_json(struct jsonw *w, const struct pvhv_mgmt_domain *d)
{
	jsonw_object(w);
	jsonw_ku64(w, "id", d->id);
	jsonw_ku64(w, "gen", d->gen);
	jsonw_key(w, "name");
	jsonw_strn(w, d->name, strnlen(d->name, sizeof(d->name)));
	jsonw_kstr(w, "state", mgmt_state_name(d->state, d->flags));
	jsonw_kstr(w, "end", mgmt_end_name(d->end));
	jsonw_ku64(w, "exit_status", d->exit_status);
	jsonw_ku64(w, "vcpus", d->vcpus);
	jsonw_ku64(w, "memory_mib", d->memory_bytes >> 20);
	jsonw_ku64(w, "runtime_us", d->runtime_us);
	jsonw_ku64(w, "cpu_us", d->cpu_us);
	jsonw_ku64(w, "exits", d->exits);
	jsonw_ku64(w, "reboots", d->reboots);
	jsonw_kbool(w, "control", d->flags & PVHV_MGMT_DOM_CONTROL);
	jsonw_ku64(w, "cpu_share", d->cpu_share);
	jsonw_end(w);
}

/* ------------------------------------------------------------------ host */

static void get_info(struct client *cl, struct reply *r, const char *unused)
{
	struct pvhv_mgmt_hello h;

	if (!call(cl, r, "info", PVHV_MGMT_HELLO, NULL, 0, &h, sizeof(h)) || !reply_json(r, 200, 1024))
		return;
	jsonw_object(&r->w);
	jsonw_key(&r->w, "name");
	jsonw_strn(&r->w, h.name, strnlen(h.name, sizeof(h.name)));
	jsonw_kstr(&r->w, "api", "v1");
	jsonw_ku64(&r->w, "protocol", h.version);
	jsonw_ku64(&r->w, "abi_major", h.abi_version >> 16);
	jsonw_ku64(&r->w, "abi_minor", h.abi_version & 0xffff);
	jsonw_ku64(&r->w, "cpus", h.host_cpus);
	jsonw_kstr(&r->w, "vendor", h.vendor == 1 ? "svm" : h.vendor == 2 ? "vmx" : "?");
	jsonw_ku64(&r->w, "tsc_khz", h.tsc_khz);
	jsonw_ku64(&r->w, "memory_bytes", h.host_mem_bytes);
	jsonw_ku64(&r->w, "free_bytes", h.free_mem_bytes);
	jsonw_ku64(&r->w, "table_bytes", h.table_bytes);
	jsonw_ku64(&r->w, "max_domains", h.max_domains);
	jsonw_end(&r->w);
}

static void get_events(struct client *cl, struct reply *r, const char *unused)
{
	static uint8_t buf[PVHV_MGMT_MAX_PAYLOAD];
	struct pvhv_mgmt_events ev;
	uint64_t after = 0;
	size_t got = 0;
	int rc;

	if (http_query_u64(cl->req.query, "after", UINT64_MAX, &after) < 0) {
		reply_fault(r, 400, "query: after=N (a number) expected in \"%s\"", cl->req.query);
		return;
	}
	if (!mgmt(cl, r))
		return;
	rc = mgmt_call(&cl->mgmt, PVHV_MGMT_EVENTS, &after, sizeof(after), buf, sizeof(buf), &got);
	if (rc) {
		reply_mgmt_fault(r, cl, rc, "events");
		return;
	}
	memcpy(&ev, buf, got < sizeof(ev) ? 0 : sizeof(ev));
	if (got < sizeof(ev) || got != sizeof(ev) + (size_t)ev.count * sizeof(struct pvhv_mgmt_event)) {
		reply_fault(r, 502, "events: a reply of %zu bytes from pvhv", got);
		return;
	}
	if (!reply_json(r, 200, LIST_REPLY_MAX))
		return;
	jsonw_object(&r->w);
	jsonw_ku64(&r->w, "lost", ev.lost);
	jsonw_key(&r->w, "events");
	jsonw_array(&r->w);
	for (unsigned k = 0; k < ev.count; k++) {
		struct pvhv_mgmt_event e;

		memcpy(&e, buf + sizeof(ev) + k * sizeof(e), sizeof(e));
		jsonw_object(&r->w);
		jsonw_ku64(&r->w, "seq", e.seq);
		jsonw_ku64(&r->w, "id", e.id);
		jsonw_ku64(&r->w, "gen", e.gen);
		jsonw_kstr(&r->w, "end", mgmt_end_name(e.end));
		jsonw_ku64(&r->w, "exit_status", e.exit_status);
		jsonw_ku64(&r->w, "time_us", e.time_us);
		jsonw_key(&r->w, "reason");
		jsonw_strn(&r->w, e.reason, strnlen(e.reason, sizeof(e.reason)));
		jsonw_end(&r->w);
	}
	jsonw_end(&r->w);
	jsonw_end(&r->w);
}

/* ------------------------------------------------------------------ images */

/* Calls fn for each image pvhv has until it returns true; 0, or a fault in r. */
static int each_image(struct client *cl, struct reply *r, bool (*fn)(const struct pvhv_mgmt_image *, void *),
		      void *arg)
{
	static struct pvhv_mgmt_image e[MGMT_CLIENT_MAX_IMAGES];
	uint32_t first = 0;
	unsigned count, total;

	if (!mgmt(cl, r))
		return -1;
	do {
		int rc = mgmt_images(&cl->mgmt, first, e, &count, &total);

		if (rc) {
			reply_mgmt_fault(r, cl, rc, "images");
			return -1;
		}
		for (unsigned k = 0; k < count; k++)
			if (fn(&e[k], arg))
				return 0;
		first += count;
	} while (count && first < total);
	return 0;
}

static bool image_json(const struct pvhv_mgmt_image *e, void *arg)
{
	struct jsonw *w = arg;

	jsonw_object(w);
	jsonw_key(w, "name");
	jsonw_strn(w, e->name, strnlen(e->name, sizeof(e->name)));
	jsonw_ku64(w, "size", e->size);
	jsonw_ku64(w, "users", e->users);
	jsonw_kstr(w, "origin", e->origin == PVHV_MGMT_IMAGE_BUNDLE ? "bundle" :
				e->origin == PVHV_MGMT_IMAGE_UPLOADED ? "uploaded" : "?");
	jsonw_end(w);
	return false;
}

static void get_images(struct client *cl, struct reply *r, const char *unused)
{
	if (!mgmt(cl, r) || !reply_json(r, 200, 1 << 20))
		return;
	jsonw_array(&r->w);
	if (each_image(cl, r, image_json, &r->w))
		return;
	jsonw_end(&r->w);
}

/* A DATA or BEGIN reply read after its request; false with a fault in r (the upload is then abandoned). */
static bool upload_reply(struct client *cl, struct reply *r, uint16_t type, const char *name, void *res, size_t cap)
{
	char what[96];
	int rc = mgmt_reply(&cl->mgmt, type, res, cap, NULL);

	if (!rc)
		return true;
	snprintf(what, sizeof(what), "image %s", name);
	reply_mgmt_fault(r, cl, rc, what);
	return false;
}

/* A failure of pvhd's own store (a full disk, an I/O error) as a 507 that says why. */
static void store_fault(struct reply *r, const char *err)
{
	reply_fault(r, 507, "%s", err);
}

/*
 * PUT /api/v1/images/{name}: the body streamed to pvhv as it comes, a
 * window of DATA frames ahead of their replies; any failure closes the
 * management stream, which makes pvhv discard the upload.  With --store,
 * every piece goes to the store's temporary file first, and the file is
 * committed (fsync, rename) before pvhv publishes the image: an image pvhv
 * shows is on the disk, and a PUT the disk cannot take is a 507 with
 * nothing left under the image's name.
 */
static void put_image(struct client *cl, struct reply *r, const char *name)
{
	static uint8_t chunk[PVHV_MGMT_IMAGE_CHUNK];
	struct pvhv_mgmt_image_begin b = { 0 };
	struct store_put sp = { .fd = -1 };
	char serr[STORE_ERRLEN];
	uint64_t off = 0;
	unsigned ahead = 0;
	uint32_t handle = 0;

	if (!spec_image_name_ok(name)) {
		reply_fault(r, 400, "image name \"%.64s\": 1-63 bytes of A-Za-z0-9._- expected", name);
		return;
	}
	if (!cl->req.has_length) {
		reply_fault(r, 411, "image %s: Content-Length required (the upload's size is reserved first)", name);
		return;
	}
	if (!cl->req.content_length) {
		reply_fault(r, 400, "image %s: an empty body", name);
		return;
	}
	strcpy(b.name, name);
	b.size = cl->req.content_length;
	if (!mgmt(cl, r) || mgmt_send(&cl->mgmt, PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), NULL, 0) ||
	    !upload_reply(cl, r, PVHV_MGMT_IMAGE_PUT_BEGIN, name, &handle, sizeof(handle)))
		goto fail;
	if (cl->store && store_put_begin(&sp, cl->store, name, b.size, serr, sizeof(serr))) {
		store_fault(r, serr);
		goto fail;
	}
	while (off < b.size) {
		struct pvhv_mgmt_image_data d = { .handle = handle, .offset = off };
		long n = client_body(cl, chunk, sizeof(chunk));

		if (n <= 0) {
			r->close = true;
			reply_fault(r, 400, "image %s: the body stopped after %llu of %llu bytes", name,
				    (unsigned long long)off, (unsigned long long)b.size);
			goto fail;
		}
		if (cl->store && store_put_write(&sp, chunk, (size_t)n, serr, sizeof(serr))) {
			store_fault(r, serr);
			goto fail;
		}
		if (mgmt_send(&cl->mgmt, PVHV_MGMT_IMAGE_PUT_DATA, &d, sizeof(d), chunk, (uint32_t)n)) {
			reply_mgmt_fault(r, cl, MGMT_CLIENT_EIO, name);
			goto fail;
		}
		off += (uint64_t)n;
		if (++ahead == UPLOAD_WINDOW) {
			if (!upload_reply(cl, r, PVHV_MGMT_IMAGE_PUT_DATA, name, NULL, 0))
				goto fail;
			ahead--;
		}
	}
	for (; ahead; ahead--)
		if (!upload_reply(cl, r, PVHV_MGMT_IMAGE_PUT_DATA, name, NULL, 0))
			goto fail;
	if (cl->store && store_put_commit(&sp, serr, sizeof(serr))) {
		store_fault(r, serr);
		goto fail;
	}
	if (!call(cl, r, name, PVHV_MGMT_IMAGE_PUT_END, &handle, sizeof(handle), NULL, 0)) {
		/* pvhv did not take it: its file goes too, or a restart would bring back what was refused. */
		if (cl->store)
			store_remove(cl->store, name, serr, sizeof(serr));
		return;
	}
	if (!reply_json(r, 201, 256))
		return;
	jsonw_object(&r->w);
	jsonw_kstr(&r->w, "name", name);
	jsonw_ku64(&r->w, "size", b.size);
	jsonw_end(&r->w);
	return;
fail:
	store_put_abort(&sp);
	if (r->status != 503 && cl->mgmt_open) {
		/* Replies still due would come out of order for the next request: start a new stream. */
		mgmt_close(&cl->mgmt);
		cl->mgmt_open = false;
	}
	if (!r->status)
		reply_fault(r, 503, "image %s: pvhv unreachable: %s", name, cl->mgmt.err);
}

/*
 * DELETE /api/v1/images/{name}: from pvhv, then from the store.  An image
 * pvhv lacks but the store has (one a restore skipped as damaged) is
 * removed from the store alone.
 */
static void delete_image(struct client *cl, struct reply *r, const char *name)
{
	char n[PVHV_MGMT_IMAGE_NAME] = { 0 }, what[96], serr[STORE_ERRLEN];
	int rc;

	if (!spec_image_name_ok(name)) {
		reply_fault(r, 400, "image name \"%.64s\": 1-63 bytes of A-Za-z0-9._- expected", name);
		return;
	}
	strcpy(n, name);
	snprintf(what, sizeof(what), "image %s", name);
	if (!mgmt(cl, r))
		return;
	rc = mgmt_call_exact(&cl->mgmt, PVHV_MGMT_IMAGE_DELETE, n, sizeof(n), NULL, 0);
	if (rc && !(rc == -PVHV_MGMT_ENOENT && cl->store)) {
		reply_mgmt_fault(r, cl, rc, what);
		return;
	}
	if (cl->store) {
		int src = store_remove(cl->store, name, serr, sizeof(serr));

		if (src == -ENOENT && rc) {
			reply_mgmt_fault(r, cl, rc, what);
			return;
		}
		if (src && src != -ENOENT) {
			reply_fault(r, 500, "image %s: deleted from pvhv, but its file stays: %s", name, serr);
			return;
		}
	}
	r->status = 204;
}

/* ------------------------------------------------------------------ sandboxes */

static void get_sandboxes(struct client *cl, struct reply *r, const char *unused)
{
	struct pvhv_mgmt_domain *d;
	unsigned n;
	int rc;

	if (!mgmt(cl, r))
		return;
	rc = mgmt_list(&cl->mgmt, &d, &n);
	if (rc) {
		reply_mgmt_fault(r, cl, rc, "sandboxes");
		return;
	}
	if (reply_json(r, 200, LIST_REPLY_MAX)) {
		jsonw_array(&r->w);
		for (unsigned k = 0; k < n; k++)
			domain_json(&r->w, &d[k]);
		jsonw_end(&r->w);
	}
	free(d);
}

struct image_find {
	const char *name;
	bool found;
};

static bool image_is(const struct pvhv_mgmt_image *e, void *arg)
{
	struct image_find *f = arg;

	f->found = !strncmp(e->name, f->name, sizeof(e->name));
	return f->found;
}

/* Every image c names exists: else a 404 naming it and the field. */
static bool images_exist(struct client *cl, struct reply *r, const struct pvhv_mgmt_create *c)
{
	const char *names[2 + ARRAY_SIZE(c->disks)], *fields[2 + ARRAY_SIZE(c->disks)];
	char drive[ARRAY_SIZE(c->disks)][24];
	unsigned n = 0;

	names[n] = c->kernel, fields[n++] = "boot-source.kernel_image";
	if (c->initrd[0])
		names[n] = c->initrd, fields[n++] = "boot-source.initrd";
	for (unsigned k = 0; k < ARRAY_SIZE(c->disks) && c->disks[k][0]; k++) {
		snprintf(drive[k], sizeof(drive[k]), "drives[%u].image", k);
		names[n] = strncmp(c->disks[k], "ro:", 3) ? c->disks[k] : c->disks[k] + 3;
		fields[n++] = drive[k];
	}
	for (unsigned k = 0; k < n; k++) {
		struct image_find f = { names[k], false };

		if (each_image(cl, r, image_is, &f))
			return false;
		if (!f.found) {
			reply_fault(r, 404, "%s: no image \"%s\"", fields[k], names[k]);
			return false;
		}
	}
	return true;
}

/* A live sandbox of that name already: a 409 in r. */
static bool name_taken(struct client *cl, struct reply *r, const char *name)
{
	struct pvhv_mgmt_domain *d;
	unsigned n;
	int rc = mgmt_list(&cl->mgmt, &d, &n);
	bool taken = false;

	if (rc) {
		reply_mgmt_fault(r, cl, rc, "sandboxes");
		return true;
	}
	for (unsigned k = 0; k < n && !taken; k++)
		if (!strncmp(d[k].name, name, sizeof(d[k].name)) && d[k].state != PVHV_MGMT_STATE_ENDED) {
			reply_fault(r, 409, "sandbox %s exists (%u:%u, %s)", name, d[k].id, d[k].gen,
				    mgmt_state_name(d[k].state, d[k].flags));
			taken = true;
		}
	free(d);
	return taken;
}

/* Why domain ref ended, from pvhv's events (the last page that has it); "" if they no longer say. */
static void end_reason(struct client *cl, struct pvhv_mgmt_ref ref, char *out, size_t len)
{
	static uint8_t buf[PVHV_MGMT_MAX_PAYLOAD];
	struct pvhv_mgmt_events ev;
	uint64_t after = 0;

	out[0] = 0;
	for (;;) {
		size_t got = 0;

		if (mgmt_call(&cl->mgmt, PVHV_MGMT_EVENTS, &after, sizeof(after), buf, sizeof(buf), &got) ||
		    got < sizeof(ev))
			return;
		memcpy(&ev, buf, sizeof(ev));
		if (!ev.count || got != sizeof(ev) + (size_t)ev.count * sizeof(struct pvhv_mgmt_event))
			return;
		for (unsigned k = 0; k < ev.count; k++) {
			struct pvhv_mgmt_event e;

			memcpy(&e, buf + sizeof(ev) + k * sizeof(e), sizeof(e));
			if (e.id == ref.id && e.gen == ref.gen)
				snprintf(out, len, "%.*s", (int)strnlen(e.reason, sizeof(e.reason)), e.reason);
			after = e.seq;
		}
	}
}

/*
 * pvhv answers a create at once and builds the domain afterwards (its
 * memory is reserved then): waits while it is being built, so that a
 * sandbox that could not be built is this request's failure (507 when
 * memory was short), not a surprise for the next one.
 */
static bool built(struct client *cl, struct reply *r, const char *what, struct pvhv_mgmt_ref ref)
{
	struct pvhv_mgmt_domain d;
	char why[80];

	for (int k = 0; k < BUILD_WAIT_S * 20; k++) {
		if (!call(cl, r, what, PVHV_MGMT_DOMAIN_INFO, &ref, sizeof(ref), &d, sizeof(d)))
			return false;
		if (d.state != PVHV_MGMT_STATE_STARTING)
			break;
		usleep(50000);
	}
	if (d.state != PVHV_MGMT_STATE_ENDED || d.end != PVHV_MGMT_END_NOT_STARTED)
		return true;
	end_reason(cl, ref, why, sizeof(why));
	reply_fault(r, strstr(why, "MiB") && strstr(why, "free") ? 507 : 502, "%s: pvhv could not build it: %s", what,
		    why[0] ? why : "(no reason kept)");
	return false;
}

static void put_sandbox(struct client *cl, struct reply *r, const char *name)
{
	static struct pvhv_mgmt_create c;
	static struct spec_net net;
	struct pvhv_mgmt_ref ref;
	char err[SPEC_ERRLEN], what[64];
	const char *body;
	size_t len;
	bool pick;
	int rc = 0;

	if (!spec_sandbox_name_ok(name)) {
		reply_fault(r, 400, "sandbox name \"%.64s\": 1-31 bytes of A-Za-z0-9._- expected", name);
		return;
	}
	body = json_body(cl, r, &len);
	if (!body || !decoded(r, spec_decode_create(name, body, len, &c, &net, err, sizeof(err)), err) || !mgmt(cl, r) ||
	    name_taken(cl, r, name) || !images_exist(cl, r, &c) || !uplink_prepare(cl, r, name, &c, &net))
		return;
	/* No CID given: a free one above 1000; pvhv refuses one in use, so try the next. */
	pick = !c.vsock_cid;
	for (unsigned tries = 0; tries < 16; tries++) {
		if (pick)
			c.vsock_cid = 1000 + ((unsigned)getpid() * 31u + tries * 7919u) % 1000000u;
		rc = mgmt_call_exact(&cl->mgmt, PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &ref, sizeof(ref));
		if (!rc || !pick || rc == MGMT_CLIENT_EIO || !strstr(cl->mgmt.err, "vsock"))
			break;
	}
	snprintf(what, sizeof(what), "sandbox %s", name);
	if (rc) {
		if (net.present)
			uplink_drop(name);
		reply_mgmt_fault(r, cl, rc, what);
		return;
	}
	/* Bound before it is built: a domain that fails to build ends, and its end removes the rules. */
	if (net.present)
		uplink_bind(name, ref);
	if (!built(cl, r, what, ref) || !reply_json(r, 201, 512))
		return;
	jsonw_object(&r->w);
	jsonw_ku64(&r->w, "id", ref.id);
	jsonw_ku64(&r->w, "gen", ref.gen);
	jsonw_kstr(&r->w, "name", name);
	jsonw_ku64(&r->w, "vsock_cid", c.vsock_cid);
	jsonw_kstr(&r->w, "state", c.flags & PVHV_MGMT_CREATE_PAUSED ? "created" : "running");
	if (net.present) {
		char ip[16], mac[18];
		const uint8_t *a = (const uint8_t *)&c.net_ipv4[0], *m = c.net_mac;

		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		jsonw_key(&r->w, "network");
		jsonw_object(&r->w);
		jsonw_kstr(&r->w, "ipv4", ip);
		jsonw_kstr(&r->w, "mac", mac);
		jsonw_end(&r->w);
	}
	jsonw_end(&r->w);
}

static void get_sandbox(struct client *cl, struct reply *r, const char *name)
{
	struct pvhv_mgmt_ref ref;
	struct pvhv_mgmt_domain d;

	if (!sandbox_ref(cl, r, name, &ref) || !call(cl, r, name, PVHV_MGMT_DOMAIN_INFO, &ref, sizeof(ref), &d, sizeof(d)) ||
	    !reply_json(r, 200, 1024))
		return;
	domain_json(&r->w, &d);
}

static void get_stats(struct client *cl, struct reply *r, const char *name)
{
	struct pvhv_mgmt_ref ref;
	struct pvhv_mgmt_stats s;

	if (!sandbox_ref(cl, r, name, &ref) ||
	    !call(cl, r, name, PVHV_MGMT_DOMAIN_STATS, &ref, sizeof(ref), &s, sizeof(s)) || !reply_json(r, 200, 4096))
		return;
	const struct {
		const char *key;
		uint64_t v;
	} fields[] = {
		{ "runtime_us", s.runtime_us }, { "cpu_us", s.cpu_us }, { "paused_us", s.paused_us },
		{ "exits", s.exits_total }, { "memory_bytes", s.memory_bytes }, { "populated_bytes", s.populated_bytes },
		{ "populated_peak_bytes", s.populated_peak_bytes }, { "overlay_pages", s.overlay_pages },
		{ "overlay_peak_pages", s.overlay_peak_pages }, { "console_out_bytes", s.console_out_bytes },
		{ "console_dropped_bytes", s.console_dropped_bytes }, { "console_in_bytes", s.console_in_bytes },
		{ "console_lines", s.console_lines }, { "vsock_refused", s.vsock_refused },
		{ "net_tx_frames", s.net_tx_frames }, { "net_tx_bytes", s.net_tx_bytes }, { "net_drops", s.net_drops },
		{ "reboots", s.reboots }, { "cpu_share", s.cpu_share }, { "image_chunks_shared", s.image_chunks_shared },
		{ "image_chunks_copied", s.image_chunks_copied },
	};

	jsonw_object(&r->w);
	jsonw_ku64(&r->w, "id", s.id);
	jsonw_ku64(&r->w, "gen", s.gen);
	jsonw_kstr(&r->w, "name", name);
	jsonw_kstr(&r->w, "state", mgmt_state_name(s.state, s.flags));
	jsonw_ku64(&r->w, "vcpus", s.vcpus);
	jsonw_ku64(&r->w, "vsock_cid", s.vsock_cid);
	for (size_t k = 0; k < ARRAY_SIZE(fields); k++)
		jsonw_ku64(&r->w, fields[k].key, fields[k].v);
	jsonw_key(&r->w, "exits_by_reason");
	jsonw_object(&r->w);
	for (unsigned k = 0; k < PVHV_MGMT_EXIT_REASONS; k++)
		if (mgmt_exit_name(k) && s.exits[k])
			jsonw_ku64(&r->w, mgmt_exit_name(k), s.exits[k]);
	jsonw_end(&r->w);
	jsonw_end(&r->w);
}

/*
 * GET .../console?after=N: the kept console lines numbered above N.
 * CONSOLE_READ gives the last lines and console_lines (in the stats) how
 * many were ever kept, so a read that two equal counts enclose numbers its
 * lines: the last one is console_lines.
 */
static void get_console(struct client *cl, struct reply *r, const char *name)
{
	static char buf[PVHV_MGMT_MAX_PAYLOAD];
	struct pvhv_mgmt_ref ref;
	struct pvhv_mgmt_stats a, b;
	uint64_t after = 0, lines = 0, first;
	size_t got = 0;
	int rc = 0;

	if (http_query_u64(cl->req.query, "after", UINT64_MAX, &after) < 0) {
		reply_fault(r, 400, "query: after=N (a number) expected in \"%s\"", cl->req.query);
		return;
	}
	if (!sandbox_ref(cl, r, name, &ref))
		return;
	for (int tries = 0; tries < 5; tries++) {
		if (!call(cl, r, name, PVHV_MGMT_DOMAIN_STATS, &ref, sizeof(ref), &a, sizeof(a)))
			return;
		rc = mgmt_call(&cl->mgmt, PVHV_MGMT_CONSOLE_READ, &ref, sizeof(ref), buf, sizeof(buf), &got);
		if (rc) {
			reply_mgmt_fault(r, cl, rc, name);
			return;
		}
		if (!call(cl, r, name, PVHV_MGMT_DOMAIN_STATS, &ref, sizeof(ref), &b, sizeof(b)))
			return;
		if (a.console_lines == b.console_lines)
			break;
	}
	for (size_t k = 0; k < got; k++)
		lines += buf[k] == '\n';
	if (lines > b.console_lines)
		lines = b.console_lines;
	first = b.console_lines - lines + 1;
	if (!reply_json(r, 200, sizeof(buf) * 6 + 256))
		return;
	jsonw_object(&r->w);
	jsonw_ku64(&r->w, "next", b.console_lines);
	jsonw_ku64(&r->w, "missed", after < first - 1 ? first - 1 - after : 0);   /* first >= 1 */
	jsonw_key(&r->w, "lines");
	jsonw_array(&r->w);
	for (size_t k = 0, start = 0; k < got; k++) {
		if (buf[k] != '\n')
			continue;
		if (first > after)
			jsonw_strn(&r->w, buf + start, k - start);
		first++;
		start = k + 1;
	}
	jsonw_end(&r->w);
	jsonw_end(&r->w);
}

/* Polls until the sandbox has ended or its slot went to another (true), for at most STOP_WAIT_S. */
static bool wait_ended(struct client *cl, struct reply *r, const char *name, struct pvhv_mgmt_ref ref)
{
	for (int k = 0; k < STOP_WAIT_S * 10; k++) {
		struct pvhv_mgmt_domain d;
		int rc = mgmt_call_exact(&cl->mgmt, PVHV_MGMT_DOMAIN_INFO, &ref, sizeof(ref), &d, sizeof(d));

		if (rc == -PVHV_MGMT_ENOENT || (!rc && d.state == PVHV_MGMT_STATE_ENDED))
			return true;
		if (rc) {
			reply_mgmt_fault(r, cl, rc, name);
			return false;
		}
		usleep(100000);
	}
	reply_fault(r, 504, "sandbox %s has not ended after %d s", name, STOP_WAIT_S);
	return false;
}

/* Destroys it unless it has ended, and waits until it has: 204, or a fault. */
static void stop(struct client *cl, struct reply *r, const char *name, struct pvhv_mgmt_ref ref)
{
	struct pvhv_mgmt_domain d;

	if (!call(cl, r, name, PVHV_MGMT_DOMAIN_INFO, &ref, sizeof(ref), &d, sizeof(d)))
		return;
	if (d.state != PVHV_MGMT_STATE_ENDED &&
	    !call(cl, r, name, PVHV_MGMT_DOMAIN_DESTROY, &ref, sizeof(ref), NULL, 0))
		return;
	if (wait_ended(cl, r, name, ref))
		r->status = 204;
}

static void put_actions(struct client *cl, struct reply *r, const char *name)
{
	static const uint16_t ops[] = { [SPEC_START] = PVHV_MGMT_DOMAIN_START, [SPEC_PAUSE] = PVHV_MGMT_DOMAIN_PAUSE,
					[SPEC_RESUME] = PVHV_MGMT_DOMAIN_RESUME };
	struct pvhv_mgmt_ref ref;
	enum spec_action a;
	char err[SPEC_ERRLEN];
	size_t len;
	const char *body = json_body(cl, r, &len);

	if (!body || !decoded(r, spec_decode_action(body, len, &a, err, sizeof(err)), err) ||
	    !sandbox_ref(cl, r, name, &ref))
		return;
	if (a == SPEC_STOP)
		stop(cl, r, name, ref);
	else if (call(cl, r, name, ops[a], &ref, sizeof(ref), NULL, 0))
		r->status = 204;
}

static void delete_sandbox(struct client *cl, struct reply *r, const char *name)
{
	struct pvhv_mgmt_ref ref;

	if (sandbox_ref(cl, r, name, &ref))
		stop(cl, r, name, ref);
}

static void post_exec(struct client *cl, struct reply *r, const char *name)
{
	static struct spec_exec ex;
	struct pvhv_mgmt_ref ref;
	struct pvhv_mgmt_stats s;
	char err[SPEC_ERRLEN];
	size_t len;
	const char *body = json_body(cl, r, &len);

	if (!body || !decoded(r, spec_decode_exec(body, len, &ex, err, sizeof(err)), err) ||
	    !sandbox_ref(cl, r, name, &ref) ||
	    !call(cl, r, name, PVHV_MGMT_DOMAIN_STATS, &ref, sizeof(ref), &s, sizeof(s)))
		return;
	if (s.state != PVHV_MGMT_STATE_RUNNING)
		reply_fault(r, 409, "sandbox %s is %s: exec needs a running sandbox", name,
			    mgmt_state_name(s.state, s.flags));
	else if (!s.vsock_cid)
		reply_fault(r, 409, "sandbox %s has no vsock device: no agent to exec through", name);
	else
		exec_run(cl, r, s.vsock_cid, &ex);
}

/* ------------------------------------------------------------------ routing */

/* /api/v1/COLLECTION[/{name}[/SUB]] and who serves each method there. */
static const struct route {
	const char *collection;
	bool named;
	const char *sub;
	enum http_method method;
	handler_fn *fn;
} routes[] = {
	{ "info", false, NULL, HTTP_GET, get_info },
	{ "events", false, NULL, HTTP_GET, get_events },
	{ "images", false, NULL, HTTP_GET, get_images },
	{ "images", true, NULL, HTTP_PUT, put_image },
	{ "images", true, NULL, HTTP_DELETE, delete_image },
	{ "sandboxes", false, NULL, HTTP_GET, get_sandboxes },
	{ "sandboxes", true, NULL, HTTP_GET, get_sandbox },
	{ "sandboxes", true, NULL, HTTP_PUT, put_sandbox },
	{ "sandboxes", true, NULL, HTTP_DELETE, delete_sandbox },
	{ "sandboxes", true, "stats", HTTP_GET, get_stats },
	{ "sandboxes", true, "console", HTTP_GET, get_console },
	{ "sandboxes", true, "actions", HTTP_PUT, put_actions },
	{ "sandboxes", true, "exec", HTTP_POST, post_exec },
};

void api_serve(struct client *cl, struct reply *r)
{
	char buf[HTTP_PATH_MAX], allowed[64] = "";
	const char *seg[HTTP_SEGS_MAX];
	int n = http_split_path(cl->req.path, buf, sizeof(buf), seg, HTTP_SEGS_MAX);

	if (n >= 3 && n <= 5 && !strcmp(seg[0], "api") && !strcmp(seg[1], "v1")) {
		for (size_t k = 0; k < ARRAY_SIZE(routes); k++) {
			const struct route *t = &routes[k];

			if (strcmp(seg[2], t->collection) || n != 3 + t->named + !!t->sub ||
			    (t->sub && strcmp(seg[4], t->sub)))
				continue;
			if (t->method == cl->req.method) {
				t->fn(cl, r, t->named ? seg[3] : NULL);
				if (!r->status)
					reply_fault(r, 500, "%s %s: no reply made", cl->req.method_name, cl->req.path);
				return;
			}
			snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%s",
				 allowed[0] ? ", " : "", t->method == HTTP_GET ? "GET" : t->method == HTTP_PUT ? "PUT" :
				 t->method == HTTP_POST ? "POST" : "DELETE");
		}
	}
	if (allowed[0])
		reply_fault(r, 405, "%s %s: method not allowed (allowed: %s)", cl->req.method_name, cl->req.path,
			    allowed);
	else
		reply_fault(r, 404, "%s: no such resource", cl->req.path);
}
