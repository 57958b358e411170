/* SPDX-License-Identifier: Apache-2.0 */
/* mgmt_test.c: unit tests for pvh/mgmt.c: delimiting, each request, stale handles, hostile frames. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base.h"
#include "pvh/mgmt.h"

/* Three slots: 0 "ctl" (control), 1 empty, 2 "job" at generation 5 (more: "dN"). */
static unsigned destroyed = 99;
static unsigned nslots = 3;

static void hello(void *ctx, struct pvhv_mgmt_hello *out)
{
	(void)ctx;
	out->host_cpus = 2;
	snprintf(out->name, sizeof(out->name), "pvhv");
}

static unsigned slots(void *ctx)
{
	(void)ctx;
	return nslots;
}

static int domain(void *ctx, unsigned id, struct pvhv_mgmt_domain *out)
{
	(void)ctx;
	if (id == 1)
		return -ENOENT;
	*out = (struct pvhv_mgmt_domain){ .id = id, .gen = id == 2 ? 5 : 1, .state = PVHV_MGMT_STATE_RUNNING };
	if (id >= 3)
		snprintf(out->name, sizeof(out->name), "d%u", id);
	else
		snprintf(out->name, sizeof(out->name), "%s", id ? "job" : "ctl");
	return 0;
}

static int destroy(void *ctx, unsigned id, char *msg, size_t len)
{
	(void)ctx;
	if (id == 0)
		return errorf(-PVHV_MGMT_EPERM, msg, len, "ctl is the control domain");
	destroyed = id;
	return 0;
}

static size_t console(void *ctx, unsigned id, char *buf, size_t cap)
{
	(void)ctx, (void)id;
	snprintf(buf, cap, "line one\nline two\n");
	return strlen(buf);
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
static int64_t last_share;   /* the cpu-share cell of the last create (big-endian), -1: none */
static char created[512];   /* the last creation's properties: "name=value;", list entries joined by ',' */

static void note_props(const struct config_prop *props, unsigned n)
{
	size_t at = 0;

	created[0] = 0;
	for (unsigned i = 0; i < n; i++) {
		const char *v = props[i].val;

		at += (size_t)snprintf(created + at, sizeof(created) - at, "%s=", props[i].name);
		if (!strcmp(props[i].name, "net-mac") || !strcmp(props[i].name, "net-ipv4"))
			for (int k = 0; k < props[i].len; k++)
				created[at++] = v[k] ? v[k] : (k + 1 < props[i].len ? ',' : ';');
		else
			at += (size_t)snprintf(created + at, sizeof(created) - at, "?;");
		created[at] = 0;
	}
}

static int create(void *ctx, const char *name, const struct config_prop *props, unsigned n,
		  struct pvhv_mgmt_ref *ref, char *msg, size_t msglen)
{
	(void)ctx;
	if (!n || strcmp(props[0].name, "kernel") || props[0].len < 1 ||
	    ((const char *)props[0].val)[props[0].len - 1])
		abort(); /* the kernel comes first, NUL-terminated */
	last_share = -1;
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(props[i].name, "cpu-share")) {
			const uint8_t *b = props[i].val;

			if (props[i].len != 4)
				abort();
			last_share = (int64_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
		}
	if (!strcmp(name, "bad"))
		return errorf(-PVHV_MGMT_EINVAL, msg, msglen, "memory-mib %u is below 2", 1u);
	creates++;
	note_props(props, n);
	*ref = (struct pvhv_mgmt_ref){ 3, 9 };
	return 0;
}

/* Domain life: what each callback was asked, last. */
static struct { unsigned starts, pauses, resumes, held, writes; unsigned id; char data[64]; size_t n; } lf;

static int create_paused(void *ctx, const char *name, const struct config_prop *props, unsigned n,
			 struct pvhv_mgmt_ref *ref, char *msg, size_t msglen)
{
	(void)ctx, (void)name, (void)props, (void)n, (void)msg, (void)msglen;
	lf.held++;
	*ref = (struct pvhv_mgmt_ref){ 4, 2 };
	return 0;
}

static int start(void *ctx, unsigned id, char *msg, size_t len)
{
	(void)ctx, (void)msg, (void)len;
	lf.starts++, lf.id = id;
	return 0;
}

static int pause(void *ctx, unsigned id, char *msg, size_t len)
{
	(void)ctx;
	if (id == 0)
		return errorf(-PVHV_MGMT_EPERM, msg, len, "ctl is the control domain");
	lf.pauses++, lf.id = id;
	return 0;
}

static int resume(void *ctx, unsigned id, char *msg, size_t len)
{
	(void)ctx;
	if (!lf.pauses)
		return errorf(-PVHV_MGMT_EINVAL, msg, len, "job is not paused");
	lf.resumes++, lf.id = id;
	return 0;
}

static void stats(void *ctx, unsigned id, struct pvhv_mgmt_stats *out)
{
	(void)ctx;
	out->cpu_us = 1234;
	out->exits[PVHV_MGMT_EXIT_HLT] = 7;
	out->id = 99;   /* the handler names the domain itself */
	lf.id = id;
}

/* job takes at most 10 bytes a time; ctl reads no input. */
static int console_write(void *ctx, unsigned id, const char *buf, size_t n, char *msg, size_t len)
{
	(void)ctx;
	if (id == 0)
		return errorf(-PVHV_MGMT_EPIPE, msg, len, "ctl reads no console input");
	lf.writes++, lf.id = id;
	lf.n = MIN(n, (size_t)10);
	memcpy(lf.data, buf, lf.n);
	return (int)lf.n;
}

/* HOST_STOP: counted; the second one fails, as a service that is going away might. */
static unsigned host_stops;

static int host_stop(void *ctx, char *msg, size_t len)
{
	(void)ctx;
	if (host_stops++)
		return errorf(-PVHV_MGMT_EBUSY, msg, len, "stopping already");
	return 0;
}

static const struct mgmt_life_ops life_ops = {
	.create_paused = create_paused, .start = start, .pause = pause, .resume = resume, .stats = stats,
	.console_write = console_write,
};
static const struct mgmt_ops ops = { .hello = hello, .slots = slots, .domain = domain, .destroy = destroy,
				     .console = console, .events = events, .create = create, .host_stop = host_stop,
				     .life = &life_ops };
static const struct mgmt_ops old_ops = { .hello = hello, .slots = slots, .domain = domain, .destroy = destroy,
					 .console = console, .events = events, .create = create };
static uint8_t req[MGMT_FRAME_MAX + 64], out[MGMT_REPLY_MAX];
static struct pvhv_mgmt_status st;

static size_t frame(uint16_t type, const void *payload, uint32_t len)
{
	struct pvhv_mgmt_hdr h = { PVHV_MGMT_MAGIC, PVHV_MGMT_VERSION, type, 77, len };

	memcpy(req, &h, sizeof(h));
	if (len)
		memcpy(req + sizeof(h), payload, len);
	return sizeof(h) + len;
}

/* Sends one request through mgmt_frame + mgmt_handle; returns the result's bytes (after the status). */
static const uint8_t *ask(uint16_t type, const void *payload, uint32_t len, size_t *rlen)
{
	struct pvhv_mgmt_hdr h;
	char err[80];
	size_t n = frame(type, payload, len);

	cr_assert_eq(mgmt_frame(req, n, err, sizeof(err)), (int64_t)n);
	cr_assert_eq(mgmt_frame(req, n - 1, err, sizeof(err)), 0, "one byte short is incomplete");
	size_t r = mgmt_handle(&ops, req, n, out);
	memcpy(&h, out, sizeof(h));
	cr_assert_eq(h.magic, PVHV_MGMT_MAGIC);
	cr_assert_eq(h.type, type | PVHV_MGMT_REPLY);
	cr_assert_eq(h.seq, 77);
	cr_assert_eq(h.len + sizeof(h), r);
	cr_assert_geq(h.len, sizeof(st));
	memcpy(&st, out + sizeof(h), sizeof(st));
	*rlen = h.len - sizeof(st);
	return out + sizeof(h) + sizeof(st);
}

Test(mgmt, hello)
{
	struct pvhv_mgmt_hello hi;
	size_t n;
	const uint8_t *r = ask(PVHV_MGMT_HELLO, NULL, 0, &n);

	cr_assert_eq(st.status, 0);
	cr_assert_eq(n, sizeof(hi));
	memcpy(&hi, r, sizeof(hi));
	cr_assert_eq(hi.version, PVHV_MGMT_VERSION);
	cr_assert_eq(hi.host_cpus, 2);
	cr_assert_str_eq(hi.name, "pvhv");
	ask(PVHV_MGMT_HELLO, "x", 1, &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
	cr_assert_str_eq(st.msg, "hello takes no payload (1 bytes)");
}

Test(mgmt, list_skips_empty_slots)
{
	struct pvhv_mgmt_domain d[2];
	uint32_t count;
	size_t n;
	const uint8_t *r = ask(PVHV_MGMT_DOMAIN_LIST, NULL, 0, &n);

	cr_assert_eq(st.status, 0);
	memcpy(&count, r, 4);
	cr_assert_eq(count, 2);
	cr_assert_eq(n, 4 + 2 * sizeof(d[0]));
	memcpy(d, r + 4, sizeof(d));
	cr_assert_str_eq(d[0].name, "ctl");
	cr_assert_eq(d[1].id, 2);
	cr_assert_eq(d[1].gen, 5);
}

/* 250 slots (249 domains): pages as large as a reply holds, asked for from the last id + 1. */
Test(mgmt, list_pages_through_many_domains)
{
	struct pvhv_mgmt_domain d;
	uint32_t from = 0, count, seen = 0, pages = 0, expect = 0;
	size_t n;

	nslots = 250;
	for (;;) {
		const uint8_t *r = ask(PVHV_MGMT_DOMAIN_LIST, &from, sizeof(from), &n);

		cr_assert_eq(st.status, 0, "%s", st.msg);
		memcpy(&count, r, 4);
		cr_assert_eq(n, 4 + count * sizeof(d));
		if (!count)
			break;
		pages++;
		for (uint32_t k = 0; k < count; k++) {
			memcpy(&d, r + 4 + k * sizeof(d), sizeof(d));
			cr_assert_eq(d.id, expect, "domain %u of the list is id %u, want %u", seen, d.id, expect);
			expect = expect == 0 ? 2 : expect + 1; /* slot 1 is empty */
			seen++;
		}
		from = d.id + 1;
	}
	cr_assert_eq(seen, 249);
	cr_assert_gt(pages, 5, "%u pages", pages);
	nslots = 3;
	ask(PVHV_MGMT_DOMAIN_LIST, "abc", 3, &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
	cr_assert_str_eq(st.msg, "list takes no payload or a 4-byte first slot (3 bytes)");
}

Test(mgmt, info_destroy_console_check_the_handle)
{
	struct pvhv_mgmt_ref good = { 2, 5 }, stale = { 2, 4 }, empty = { 1, 1 }, far = { 3, 1 },
			     ctl = { 0, 1 };
	struct pvhv_mgmt_domain d;
	size_t n;
	const uint8_t *r = ask(PVHV_MGMT_DOMAIN_INFO, &good, sizeof(good), &n);

	cr_assert_eq(st.status, 0);
	cr_assert_eq(n, sizeof(d));
	memcpy(&d, r, sizeof(d));
	cr_assert_str_eq(d.name, "job");

	ask(PVHV_MGMT_DOMAIN_INFO, &stale, sizeof(stale), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_ENOENT);
	cr_assert_str_eq(st.msg, "domain 2: generation 4 is stale, now 5");
	cr_assert_eq(n, 0);
	ask(PVHV_MGMT_DOMAIN_DESTROY, &stale, sizeof(stale), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_ENOENT);
	cr_assert_eq(destroyed, 99, "a stale handle destroyed nothing");
	ask(PVHV_MGMT_DOMAIN_INFO, &empty, sizeof(empty), &n);
	cr_assert_str_eq(st.msg, "no domain 1");
	ask(PVHV_MGMT_DOMAIN_INFO, &far, sizeof(far), &n);
	cr_assert_str_eq(st.msg, "no domain 3");
	ask(PVHV_MGMT_DOMAIN_INFO, &good, 4, &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
	cr_assert_str_eq(st.msg, "payload of 4 bytes, want a 8-byte ref");

	ask(PVHV_MGMT_DOMAIN_DESTROY, &ctl, sizeof(ctl), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EPERM);
	cr_assert_str_eq(st.msg, "ctl is the control domain");
	ask(PVHV_MGMT_DOMAIN_DESTROY, &good, sizeof(good), &n);
	cr_assert_eq(st.status, 0);
	cr_assert_eq(destroyed, 2);

	r = ask(PVHV_MGMT_CONSOLE_READ, &good, sizeof(good), &n);
	cr_assert_eq(n, strlen("line one\nline two\n"));
	cr_assert(!memcmp(r, "line one\nline two\n", n));
}

Test(mgmt, unknown_and_reply_types)
{
	size_t n;

	ask(99, NULL, 0, &n);
	cr_assert_eq(st.status, -PVHV_MGMT_ENOSYS);
	cr_assert_str_eq(st.msg, "unknown request type 99");
	ask(PVHV_MGMT_HELLO | PVHV_MGMT_REPLY, NULL, 0, &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
}

Test(mgmt, frames_that_cannot_be_delimited)
{
	char err[80];
	struct pvhv_mgmt_hdr h = { PVHV_MGMT_MAGIC, PVHV_MGMT_VERSION, 1, 9, PVHV_MGMT_MAX_PAYLOAD + 1 };

	memcpy(req, &h, sizeof(h));
	cr_assert_eq(mgmt_frame(req, sizeof(h), err, sizeof(err)), -EPROTO);
	cr_assert_str_eq(err, "payload of 4097 bytes, limit 4096");
	h.len = 0;
	h.version = 1; /* before list pages, cpu_share and the network port */
	memcpy(req, &h, sizeof(h));
	cr_assert_eq(mgmt_frame(req, sizeof(h), err, sizeof(err)), -EPROTO);
	cr_assert_str_eq(err, "version 1, pvhv speaks 2");
	h.version = 2;
	h.magic = 0x12345678;
	memcpy(req, &h, sizeof(h));
	cr_assert_eq(mgmt_frame(req, sizeof(h), err, sizeof(err)), -EPROTO);
	cr_assert_eq(mgmt_frame(req, sizeof(h) - 1, err, sizeof(err)), 0, "a partial header waits");

	size_t r = mgmt_proto_error(req, sizeof(h), "bad magic 0x12345678", out);
	struct pvhv_mgmt_hdr rh;
	memcpy(&rh, out, sizeof(rh));
	memcpy(&st, out + sizeof(rh), sizeof(st));
	cr_assert_eq(r, sizeof(rh) + sizeof(st));
	cr_assert_eq(rh.seq, 9);
	cr_assert_eq(rh.type, 1 | PVHV_MGMT_REPLY);
	cr_assert_eq(st.status, -PVHV_MGMT_EPROTO);
	cr_assert_str_eq(st.msg, "bad magic 0x12345678");
}

Test(mgmt, events_after_a_seq_and_what_was_lost)
{
	struct pvhv_mgmt_events ev;
	struct pvhv_mgmt_event e[3];
	uint64_t after = 0;
	size_t n;
	const uint8_t *r = ask(PVHV_MGMT_EVENTS, &after, sizeof(after), &n);

	cr_assert_eq(st.status, 0);
	memcpy(&ev, r, sizeof(ev));
	cr_assert_eq(ev.count, 3);
	cr_assert_eq(ev.lost, 2);
	cr_assert_eq(n, sizeof(ev) + 3 * sizeof(e[0]));
	memcpy(e, r + sizeof(ev), sizeof(e));
	cr_assert_eq(e[0].seq, 3);
	cr_assert_eq(e[2].seq, 5);
	after = 4;
	r = ask(PVHV_MGMT_EVENTS, &after, sizeof(after), &n);
	memcpy(&ev, r, sizeof(ev));
	cr_assert_eq(ev.count, 1);
	cr_assert_eq(ev.lost, 0);
	ask(PVHV_MGMT_EVENTS, &after, 4, &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
}

Test(mgmt, create_checks_its_fields)
{
	struct pvhv_mgmt_create c = { .memory_mib = 64, .vcpus = 2, .flags = PVHV_MGMT_CREATE_RNG };
	struct pvhv_mgmt_ref ref;
	size_t n;
	const uint8_t *r;

	strcpy(c.name, "job");
	strcpy(c.kernel, "vmlinux");
	strcpy(c.disks[0], "root.ext4");
	strcpy(c.disks[1], "ro:tools.img");
	r = ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_eq(st.status, 0, "%s", st.msg);
	cr_assert_eq(n, sizeof(ref));
	memcpy(&ref, r, sizeof(ref));
	cr_assert_eq(ref.id, 3);
	cr_assert_eq(ref.gen, 9);

	strcpy(c.name, "bad");
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
	cr_assert_str_eq(st.msg, "memory-mib 1 is below 2");

	memset(c.kernel, 'k', sizeof(c.kernel));
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_str_eq(st.msg, "kernel is not NUL-terminated in its 64 bytes");
	strcpy(c.kernel, "vmlinux");
	memset(c.disks[1], 'd', sizeof(c.disks[1]));
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_str_eq(st.msg, "disk 1 is not NUL-terminated in its 68 bytes");
	c.disks[1][0] = 0;
	c.flags = 0x80;
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_str_eq(st.msg, "unknown flags 0x80");
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, 100, &n);
	cr_assert_str_eq(st.msg, "payload of 100 bytes, want 1500");
	cr_assert_eq(creates, 1);
}

/* cpu_share becomes the cpu-share property (checked by config.c's rules); 0 gives none: the default. */
Test(mgmt, create_passes_cpu_share)
{
	struct pvhv_mgmt_create c = { .memory_mib = 64, .cpu_share = 300 };
	size_t n;

	strcpy(c.name, "weighted");
	strcpy(c.kernel, "vmlinux");
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_eq(st.status, 0, "%s", st.msg);
	cr_assert_eq(last_share, 300);
	c.cpu_share = 0;
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_eq(st.status, 0, "%s", st.msg);
	cr_assert_eq(last_share, -1, "no property: the configuration's default");
}

Test(mgmt, life_requests_check_the_handle_first)
{
	static const uint16_t types[] = { PVHV_MGMT_DOMAIN_START, PVHV_MGMT_DOMAIN_PAUSE, PVHV_MGMT_DOMAIN_RESUME,
					  PVHV_MGMT_DOMAIN_STATS };
	struct pvhv_mgmt_ref stale = { 2, 4 }, empty = { 1, 1 }, far = { 7, 1 }, good = { 2, 5 };
	size_t n;

	for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
		ask(types[i], &stale, sizeof(stale), &n);
		cr_assert_eq(st.status, -PVHV_MGMT_ENOENT, "type %u", types[i]);
		cr_assert_str_eq(st.msg, "domain 2: generation 4 is stale, now 5");
		cr_assert_eq(n, 0);
		ask(types[i], &empty, sizeof(empty), &n);
		cr_assert_str_eq(st.msg, "no domain 1");
		ask(types[i], &far, sizeof(far), &n);
		cr_assert_str_eq(st.msg, "no domain 7");
		ask(types[i], &good, 7, &n);
		cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
		cr_assert_str_eq(st.msg, "payload of 7 bytes, want a 8-byte ref");
		ask(types[i], NULL, 0, &n);
		cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
	}
	cr_assert_eq(lf.starts + lf.pauses + lf.resumes, 0, "no bad request reached pvhv");
	cr_assert_eq(lf.id, 0);
}

Test(mgmt, start_pause_resume)
{
	struct pvhv_mgmt_ref good = { 2, 5 }, ctl = { 0, 1 };
	size_t n;

	ask(PVHV_MGMT_DOMAIN_RESUME, &good, sizeof(good), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
	cr_assert_str_eq(st.msg, "job is not paused");
	ask(PVHV_MGMT_DOMAIN_PAUSE, &ctl, sizeof(ctl), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EPERM);
	cr_assert_str_eq(st.msg, "ctl is the control domain");
	cr_assert_eq(lf.pauses, 0);
	ask(PVHV_MGMT_DOMAIN_PAUSE, &good, sizeof(good), &n);
	cr_assert_eq(st.status, 0);
	cr_assert_eq(n, 0);
	cr_assert_str_eq(st.msg, "");
	cr_assert_eq(lf.pauses, 1);
	cr_assert_eq(lf.id, 2);
	ask(PVHV_MGMT_DOMAIN_RESUME, &good, sizeof(good), &n);
	cr_assert_eq(st.status, 0);
	cr_assert_eq(lf.resumes, 1);
	ask(PVHV_MGMT_DOMAIN_START, &good, sizeof(good), &n);
	cr_assert_eq(st.status, 0);
	cr_assert_eq(lf.starts, 1);
}

Test(mgmt, stats_name_the_domain)
{
	struct pvhv_mgmt_ref good = { 2, 5 };
	struct pvhv_mgmt_stats s;
	size_t n;
	const uint8_t *r = ask(PVHV_MGMT_DOMAIN_STATS, &good, sizeof(good), &n);

	cr_assert_eq(st.status, 0);
	cr_assert_eq(n, sizeof(s));
	memcpy(&s, r, sizeof(s));
	cr_assert_eq(s.id, 2);
	cr_assert_eq(s.gen, 5);
	cr_assert_eq(s.cpu_us, 1234);
	cr_assert_eq(s.exits[PVHV_MGMT_EXIT_HLT], 7);
	cr_assert_eq(lf.id, 2);
}

/* A console write request: header then data, with len as given. */
static size_t cw(uint32_t id, uint32_t gen, uint32_t len, uint32_t flags, const char *data, size_t dlen,
		 uint8_t *buf)
{
	struct pvhv_mgmt_console_write h = { id, gen, len, flags };

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), data, dlen);
	return sizeof(h) + dlen;
}

Test(mgmt, console_write_checks_every_field)
{
	static uint8_t p[PVHV_MGMT_MAX_PAYLOAD];
	static char big[PVHV_MGMT_CONSOLE_WRITE_MAX + 1];
	uint32_t took;
	size_t n;
	const uint8_t *r;

	r = ask(PVHV_MGMT_CONSOLE_WRITE, p, (uint32_t)cw(2, 5, 20, 0, "echo hi; echo there\n", 20, p), &n);
	cr_assert_eq(st.status, 0, "%s", st.msg);
	cr_assert_eq(n, sizeof(took));
	memcpy(&took, r, sizeof(took));
	cr_assert_eq(took, 10, "the domain took 10 of 20");
	cr_assert(!memcmp(lf.data, "echo hi; e", 10));
	cr_assert_eq(lf.writes, 1);

	ask(PVHV_MGMT_CONSOLE_WRITE, p, (uint32_t)cw(2, 4, 3, 0, "abc", 3, p), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_ENOENT);
	cr_assert_str_eq(st.msg, "domain 2: generation 4 is stale, now 5");
	ask(PVHV_MGMT_CONSOLE_WRITE, p, (uint32_t)cw(1, 1, 3, 0, "abc", 3, p), &n);
	cr_assert_str_eq(st.msg, "no domain 1");
	ask(PVHV_MGMT_CONSOLE_WRITE, p, (uint32_t)cw(2, 5, 3, 1, "abc", 3, p), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
	cr_assert_str_eq(st.msg, "console write: unknown flags 0x1");
	ask(PVHV_MGMT_CONSOLE_WRITE, p, (uint32_t)cw(2, 5, 0, 0, "", 0, p), &n);
	cr_assert_str_eq(st.msg, "console write of 0 bytes, want 1 to 1024");
	memset(big, 'x', sizeof(big));
	ask(PVHV_MGMT_CONSOLE_WRITE, p, (uint32_t)cw(2, 5, sizeof(big), 0, big, sizeof(big), p), &n);
	cr_assert_str_eq(st.msg, "console write of 1025 bytes, want 1 to 1024");
	ask(PVHV_MGMT_CONSOLE_WRITE, p, (uint32_t)cw(2, 5, 4, 0, "abc", 3, p), &n);
	cr_assert_str_eq(st.msg, "console write says 4 bytes, 3 follow");
	ask(PVHV_MGMT_CONSOLE_WRITE, p, (uint32_t)cw(2, 5, 2, 0, "abc", 3, p), &n);
	cr_assert_str_eq(st.msg, "console write says 2 bytes, 3 follow");
	ask(PVHV_MGMT_CONSOLE_WRITE, p, 12, &n);
	cr_assert_str_eq(st.msg, "payload of 12 bytes, want a 16-byte header and data");
	cr_assert_eq(lf.writes, 1, "no bad request reached the domain");

	ask(PVHV_MGMT_CONSOLE_WRITE, p, (uint32_t)cw(0, 1, 3, 0, "abc", 3, p), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EPIPE);
	cr_assert_str_eq(st.msg, "ctl reads no console input");
	cr_assert_eq(n, 0);
}

Test(mgmt, create_maps_the_network_port)
{
	struct pvhv_mgmt_create c = { .memory_mib = 64, .flags = PVHV_MGMT_CREATE_NET,
				      .net_mac = { 0x02, 0, 0x0a, 0, 0, 0x02 } };
	size_t n;

	strcpy(c.name, "job");
	strcpy(c.kernel, "vmlinux");
	memcpy(&c.net_ipv4[0], (uint8_t[4]){ 10, 0, 0, 2 }, 4);
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_eq(st.status, 0, "%s", st.msg);
	cr_assert(strstr(created, "net-mac=02:00:0a:00:00:02;net-ipv4=10.0.0.2;"), "%s", created);
	memcpy(&c.net_ipv4[1], (uint8_t[4]){ 192, 168, 1, 200 }, 4);
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert(strstr(created, "net-ipv4=10.0.0.2,192.168.1.200;"), "%s", created);
	cr_assert_eq(creates, 2);

	/* The shape is checked here; the values (multicast, zero, broadcast, duplicates) by config.c. */
	c.net_ipv4[0] = 0;
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
	cr_assert_str_eq(st.msg, "net_ipv4[0] is 0: a port needs the IPv4 address the switch lets it use");
	c.flags = 0;
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_str_eq(st.msg, "net_mac or net_ipv4 set without the NET flag");
	memset(c.net_mac, 0, 6);
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_str_eq(st.msg, "net_mac or net_ipv4 set without the NET flag", "net_ipv4[1] alone");
	c.net_ipv4[1] = 0;
	c.net_pad[1] = 1;
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_str_eq(st.msg, "net_pad is not zero");
	c.net_pad[1] = 0;
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_eq(st.status, 0, "no port: %s", st.msg);
	cr_assert_null(strstr(created, "net-"), "%s", created);
	cr_assert_eq(creates, 3);
}

Test(mgmt, create_paused_is_its_own_request)
{
	struct pvhv_mgmt_create c = { .memory_mib = 64, .flags = PVHV_MGMT_CREATE_PAUSED };
	struct pvhv_mgmt_ref ref;
	size_t n;
	const uint8_t *r;

	strcpy(c.name, "held");
	strcpy(c.kernel, "vmlinux");
	r = ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_eq(st.status, 0, "%s", st.msg);
	memcpy(&ref, r, sizeof(ref));
	cr_assert_eq(ref.id, 4);
	cr_assert_eq(lf.held, 1);
	cr_assert_eq(creates, 0, "not made running");
	c.flags = PVHV_MGMT_CREATE_PAUSED | 0x40;
	ask(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &n);
	cr_assert_str_eq(st.msg, "unknown flags 0x44");
	cr_assert_eq(lf.held, 1);
}

Test(mgmt, host_stop)
{
	struct pvhv_mgmt_hdr h = { PVHV_MGMT_MAGIC, PVHV_MGMT_VERSION, PVHV_MGMT_HOST_STOP, 3, 0 };
	size_t n;

	ask(PVHV_MGMT_HOST_STOP, "x", 1, &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
	cr_assert_str_eq(st.msg, "host stop takes no payload (1 bytes)");
	cr_assert_eq(host_stops, 0, "a bad request changes nothing");
	ask(PVHV_MGMT_HOST_STOP, NULL, 0, &n);
	cr_assert_eq(st.status, 0);
	cr_assert_str_eq(st.msg, "");
	cr_assert_eq(n, 0);
	cr_assert_eq(host_stops, 1);
	ask(PVHV_MGMT_HOST_STOP, NULL, 0, &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EBUSY);
	cr_assert_str_eq(st.msg, "stopping already");
	/* A table without the callback: not served. */
	memcpy(req, &h, sizeof(h));
	mgmt_handle(&old_ops, req, sizeof(h), out);
	memcpy(&st, out + sizeof(h), sizeof(st));
	cr_assert_eq(st.status, -PVHV_MGMT_ENOSYS);
	cr_assert_str_eq(st.msg, "host stop is not served here");
	cr_assert_eq(host_stops, 2);
}

/* A table without the life callbacks (a service that does not offer them) answers ENOSYS. */
Test(mgmt, life_requests_without_callbacks)
{
	struct pvhv_mgmt_ref good = { 2, 5 };
	struct pvhv_mgmt_create c = { .memory_mib = 64, .flags = PVHV_MGMT_CREATE_PAUSED };
	struct pvhv_mgmt_hdr h = { PVHV_MGMT_MAGIC, PVHV_MGMT_VERSION, PVHV_MGMT_DOMAIN_PAUSE, 3, sizeof(good) };

	memcpy(req, &h, sizeof(h));
	memcpy(req + sizeof(h), &good, sizeof(good));
	mgmt_handle(&old_ops, req, sizeof(h) + sizeof(good), out);
	memcpy(&st, out + sizeof(h), sizeof(st));
	cr_assert_eq(st.status, -PVHV_MGMT_ENOSYS);
	cr_assert_str_eq(st.msg, "request type 14 is not served here");
	strcpy(c.name, "held");
	strcpy(c.kernel, "vmlinux");
	h.type = PVHV_MGMT_DOMAIN_CREATE;
	h.len = sizeof(c);
	memcpy(req, &h, sizeof(h));
	memcpy(req + sizeof(h), &c, sizeof(c));
	mgmt_handle(&old_ops, req, sizeof(h) + sizeof(c), out);
	memcpy(&st, out + sizeof(h), sizeof(st));
	cr_assert_eq(st.status, -PVHV_MGMT_ENOSYS);
	cr_assert_eq(lf.held + lf.pauses, 0);
}

/* ------------------------------------------------------------ images (ops 8..12) */

/* A recording image backend: any call of it by a refused request is a failure. */
static struct {
	unsigned calls;
	char name[80];
	uint64_t size, offset;
	uint32_t handle;
	size_t n;
	uint8_t first, last;
	void *ctx;
} seen;

static int i_begin(void *ctx, const char *name, uint64_t size, uint32_t *handle, char *msg, size_t len)
{
	seen.calls++, seen.ctx = ctx, seen.size = size;
	snprintf(seen.name, sizeof(seen.name), "%s", name);
	if (!strcmp(name, "huge"))
		return errorf(-PVHV_MGMT_ENOMEM, msg, len, "image \"huge\": no memory for 9 KiB");
	*handle = 5;
	return 0;
}

static int i_data(void *ctx, uint32_t handle, uint64_t offset, const uint8_t *p, size_t n, char *msg,
		  size_t len)
{
	seen.calls++, seen.ctx = ctx, seen.handle = handle, seen.offset = offset, seen.n = n;
	seen.first = p[0], seen.last = p[n - 1];
	if (offset == 3)
		return errorf(-PVHV_MGMT_EINVAL, msg, len, "data at offset 3, expected 0");
	return 0;
}

static int i_end(void *ctx, uint32_t handle, char *msg, size_t len)
{
	seen.calls++, seen.ctx = ctx, seen.handle = handle;
	(void)msg, (void)len;
	return 0;
}

/* Three images: i0 (bundle, 1 user), i1, i2 (uploaded). */
static unsigned i_list(void *ctx, uint32_t first, struct pvhv_mgmt_image *e, unsigned max, uint32_t *total)
{
	unsigned n = 0;

	seen.calls++, seen.ctx = ctx;
	for (uint32_t i = first; i < 3 && n < max; i++, n++) {
		e[n] = (struct pvhv_mgmt_image){ .size = 4096 * (i + 1), .users = i == 0,
						 .origin = i ? PVHV_MGMT_IMAGE_UPLOADED : PVHV_MGMT_IMAGE_BUNDLE };
		snprintf(e[n].name, sizeof(e[n].name), "i%u", i);
	}
	*total = 3;
	return n;
}

static int i_remove(void *ctx, const char *name, char *msg, size_t len)
{
	seen.calls++, seen.ctx = ctx;
	snprintf(seen.name, sizeof(seen.name), "%s", name);
	if (!strcmp(name, "busy"))
		return errorf(-PVHV_MGMT_EBUSY, msg, len, "image \"busy\" is in use (1 user)");
	return 0;
}

static const struct mgmt_image_ops image_ops = {
	.begin = i_begin, .data = i_data, .end = i_end, .list = i_list, .remove = i_remove,
};
static int conn_ctx;
static const struct mgmt_ops img_ops = { .hello = hello, .slots = slots, .domain = domain, .destroy = destroy,
					 .console = console, .events = events, .create = create,
					 .image = &image_ops, .ctx = &conn_ctx };

/* ask() through img_ops: the status in st, the result's bytes returned. */
static const uint8_t *ask_img(uint16_t type, const void *payload, uint32_t len, size_t *rlen)
{
	struct pvhv_mgmt_hdr h;
	char err[80];
	size_t n = frame(type, payload, len), r;

	cr_assert_eq(mgmt_frame(req, n, err, sizeof(err)), (int64_t)n);
	r = mgmt_handle(&img_ops, req, n, out);
	memcpy(&h, out, sizeof(h));
	cr_assert_eq(h.type, type | PVHV_MGMT_REPLY);
	cr_assert_eq(h.len + sizeof(h), r);
	memcpy(&st, out + sizeof(h), sizeof(st));
	*rlen = h.len - sizeof(st);
	return out + sizeof(h) + sizeof(st);
}

/* A refused request: status rc, message msg, no result, and the backend never called. */
static void refused(uint16_t type, const void *payload, uint32_t len, int rc, const char *msg)
{
	unsigned calls = seen.calls;
	size_t n;

	ask_img(type, payload, len, &n);
	cr_assert_eq(st.status, rc, "%s", st.msg);
	cr_assert_str_eq(st.msg, msg);
	cr_assert_eq(n, 0);
	cr_assert_eq(seen.calls, calls, "a refused request reached the image store");
}

static void img_setup(void)
{
	memset(&seen, 0, sizeof(seen));
}

Test(mgmt_image, begin, .init = img_setup)
{
	struct pvhv_mgmt_image_begin b = { .name = "root-2.ext4", .size = 9000 };
	uint32_t handle;
	size_t n;
	const uint8_t *r = ask_img(PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), &n);

	cr_assert_eq(st.status, 0, "%s", st.msg);
	cr_assert_eq(n, sizeof(handle));
	memcpy(&handle, r, sizeof(handle));
	cr_assert_eq(handle, 5);
	cr_assert_str_eq(seen.name, "root-2.ext4");
	cr_assert_eq(seen.size, 9000);
	cr_assert_eq(seen.ctx, &conn_ctx, "the connection reaches the store");
	/* The store's refusal comes back as it is. */
	snprintf(b.name, sizeof(b.name), "huge");
	ask_img(PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_ENOMEM);
	cr_assert_str_eq(st.msg, "image \"huge\": no memory for 9 KiB");
	cr_assert_eq(n, 0);
}

Test(mgmt_image, begin_checks_every_field, .init = img_setup)
{
	struct pvhv_mgmt_image_begin good = { .name = "x", .size = 1 }, b;

	refused(PVHV_MGMT_IMAGE_PUT_BEGIN, &good, sizeof(good) - 1, -PVHV_MGMT_EINVAL,
		"payload of 79 bytes, want 80");
	refused(PVHV_MGMT_IMAGE_PUT_BEGIN, NULL, 0, -PVHV_MGMT_EINVAL, "payload of 0 bytes, want 80");
	b = good;
	memset(b.name, 'a', sizeof(b.name));
	refused(PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), -PVHV_MGMT_EINVAL,
		"image name is longer than 63 bytes");
	b = good;
	b.name[0] = 0;
	refused(PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), -PVHV_MGMT_EINVAL, "image name is empty");
	snprintf(b.name, sizeof(b.name), "../etc");
	refused(PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), -PVHV_MGMT_EINVAL,
		"image name \"../etc\" starts with '.'");
	snprintf(b.name, sizeof(b.name), "a b");
	refused(PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), -PVHV_MGMT_EINVAL,
		"image name: byte 1 (0x20) is not one of A-Z a-z 0-9 . _ -");
	b = good;
	b.flags = 1;
	refused(PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), -PVHV_MGMT_EINVAL, "unknown flags 0x1");
	b = good;
	b.reserved = 2;
	refused(PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), -PVHV_MGMT_EINVAL, "reserved is 0x2, not 0");
	b = good;
	b.size = 0;
	refused(PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), -PVHV_MGMT_EINVAL, "image \"x\": size 0");
}

Test(mgmt_image, data_and_end, .init = img_setup)
{
	uint8_t buf[sizeof(struct pvhv_mgmt_image_data) + PVHV_MGMT_IMAGE_CHUNK];
	struct pvhv_mgmt_image_data d = { .handle = 5, .offset = 4096 };
	uint32_t h = 5;
	size_t n;

	memcpy(buf, &d, sizeof(d));
	memset(buf + sizeof(d), 0xab, PVHV_MGMT_IMAGE_CHUNK);
	buf[sizeof(d)] = 1;
	buf[sizeof(buf) - 1] = 2;
	ask_img(PVHV_MGMT_IMAGE_PUT_DATA, buf, sizeof(buf), &n);
	cr_assert_eq(st.status, 0, "%s", st.msg);
	cr_assert_eq(n, 0);
	cr_assert_eq(seen.handle, 5);
	cr_assert_eq(seen.offset, 4096);
	cr_assert_eq(seen.n, PVHV_MGMT_IMAGE_CHUNK);
	cr_assert_eq(seen.first, 1);
	cr_assert_eq(seen.last, 2);
	/* One byte is enough. */
	ask_img(PVHV_MGMT_IMAGE_PUT_DATA, buf, sizeof(d) + 1, &n);
	cr_assert_eq(st.status, 0);
	cr_assert_eq(seen.n, 1);
	/* The store's refusal comes back. */
	d.offset = 3;
	memcpy(buf, &d, sizeof(d));
	ask_img(PVHV_MGMT_IMAGE_PUT_DATA, buf, sizeof(d) + 1, &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EINVAL);
	cr_assert_str_eq(st.msg, "data at offset 3, expected 0");
	ask_img(PVHV_MGMT_IMAGE_PUT_END, &h, sizeof(h), &n);
	cr_assert_eq(st.status, 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(seen.handle, 5);
}

Test(mgmt_image, data_and_end_check_every_field, .init = img_setup)
{
	uint8_t buf[sizeof(struct pvhv_mgmt_image_data) + 1] = { 0 };
	struct pvhv_mgmt_image_data d = { .handle = 5 };
	uint32_t h = 0;

	memcpy(buf, &d, sizeof(d));
	refused(PVHV_MGMT_IMAGE_PUT_DATA, buf, sizeof(d), -PVHV_MGMT_EINVAL,
		"payload of 16 bytes, want 16 and 1 to 4080 data bytes");
	refused(PVHV_MGMT_IMAGE_PUT_DATA, buf, 3, -PVHV_MGMT_EINVAL,
		"payload of 3 bytes, want 16 and 1 to 4080 data bytes");
	d.handle = 0;
	memcpy(buf, &d, sizeof(d));
	refused(PVHV_MGMT_IMAGE_PUT_DATA, buf, sizeof(buf), -PVHV_MGMT_EINVAL, "handle 0");
	d = (struct pvhv_mgmt_image_data){ .handle = 5, .reserved = 1 };
	memcpy(buf, &d, sizeof(d));
	refused(PVHV_MGMT_IMAGE_PUT_DATA, buf, sizeof(buf), -PVHV_MGMT_EINVAL, "reserved is 0x1, not 0");
	d = (struct pvhv_mgmt_image_data){ .handle = 5, .offset = UINT64_MAX };
	memcpy(buf, &d, sizeof(d));
	refused(PVHV_MGMT_IMAGE_PUT_DATA, buf, sizeof(buf), -PVHV_MGMT_EINVAL,
		"offset 0xffffffffffffffff + 1 bytes overflows");
	refused(PVHV_MGMT_IMAGE_PUT_END, &h, sizeof(h), -PVHV_MGMT_EINVAL, "handle 0");
	h = 5;
	refused(PVHV_MGMT_IMAGE_PUT_END, &h, 2, -PVHV_MGMT_EINVAL, "payload of 2 bytes, want a 4-byte handle");
	refused(PVHV_MGMT_IMAGE_PUT_END, buf, 8, -PVHV_MGMT_EINVAL, "payload of 8 bytes, want a 4-byte handle");
}

Test(mgmt_image, list_pages, .init = img_setup)
{
	struct pvhv_mgmt_images l;
	struct pvhv_mgmt_image e[3];
	uint32_t first = 1;
	size_t n;
	const uint8_t *r = ask_img(PVHV_MGMT_IMAGE_LIST, &first, sizeof(first), &n);

	cr_assert_eq(st.status, 0);
	cr_assert_eq(n, sizeof(l) + 2 * sizeof(e[0]));
	memcpy(&l, r, sizeof(l));
	memcpy(e, r + sizeof(l), 2 * sizeof(e[0]));
	cr_assert_eq(l.count, 2);
	cr_assert_eq(l.total, 3);
	cr_assert_str_eq(e[0].name, "i1");
	cr_assert_eq(e[1].size, 3 * 4096);
	cr_assert_eq(e[1].origin, PVHV_MGMT_IMAGE_UPLOADED);
	first = 0;
	r = ask_img(PVHV_MGMT_IMAGE_LIST, &first, sizeof(first), &n);
	memcpy(&l, r, sizeof(l));
	memcpy(e, r + sizeof(l), sizeof(e));
	cr_assert_eq(l.count, 3);
	cr_assert_eq(e[0].users, 1);
	cr_assert_eq(e[0].origin, PVHV_MGMT_IMAGE_BUNDLE);
	refused(PVHV_MGMT_IMAGE_LIST, NULL, 0, -PVHV_MGMT_EINVAL, "payload of 0 bytes, want a 4-byte index");
}

Test(mgmt_image, delete, .init = img_setup)
{
	char name[PVHV_MGMT_IMAGE_NAME] = "busy";
	size_t n;

	ask_img(PVHV_MGMT_IMAGE_DELETE, name, sizeof(name), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_EBUSY);
	cr_assert_str_eq(st.msg, "image \"busy\" is in use (1 user)");
	snprintf(name, sizeof(name), "old");
	ask_img(PVHV_MGMT_IMAGE_DELETE, name, sizeof(name), &n);
	cr_assert_eq(st.status, 0);
	cr_assert_str_eq(seen.name, "old");
	refused(PVHV_MGMT_IMAGE_DELETE, name, 4, -PVHV_MGMT_EINVAL, "payload of 4 bytes, want a 64-byte name");
	memset(name, 'z', sizeof(name));
	refused(PVHV_MGMT_IMAGE_DELETE, name, sizeof(name), -PVHV_MGMT_EINVAL,
		"image name is longer than 63 bytes");
	snprintf(name, sizeof(name), "a:b");
	refused(PVHV_MGMT_IMAGE_DELETE, name, sizeof(name), -PVHV_MGMT_EINVAL,
		"image name: byte 1 (0x3a) is not one of A-Z a-z 0-9 . _ -");
}

Test(mgmt_image, without_a_store)
{
	uint32_t first = 0;
	size_t n;

	ask(PVHV_MGMT_IMAGE_LIST, &first, sizeof(first), &n);
	cr_assert_eq(st.status, -PVHV_MGMT_ENOSYS);
	cr_assert_str_eq(st.msg, "no image store");
}
