/* SPDX-License-Identifier: Apache-2.0 */
/* mgmtclient.c: requests to pvhv's management port and their checked replies (see mgmtclient.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "fdio.h"
#include "mgmtclient.h"

__attribute__((format(printf, 2, 3)))
static int broken(struct mgmt_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return MGMT_CLIENT_EIO;
}

int mgmt_connect(struct mgmt_conn *c, unsigned cid, unsigned port)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };

	c->seq = 1;
	c->err[0] = 0;
	c->fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return broken(c, "vsock socket: %s (is vmw_vsock_virtio_transport loaded?)", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;

		close(c->fd);
		c->fd = -1;
		return broken(c, "connect to vsock %u:%u: %s (only the control domain may)", cid, port, strerror(e));
	}
	return 0;
}

void mgmt_close(struct mgmt_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int put_all(struct mgmt_conn *c, const uint8_t *b, size_t n)
{
	if (fd_write_all(c->fd, b, n))
		return broken(c, "write to pvhv: %s", strerror(errno));
	return 0;
}

static int get_all(struct mgmt_conn *c, void *p, size_t n)
{
	if (fd_read_all(c->fd, p, n))
		return broken(c, "read from pvhv: %s", errno ? strerror(errno) : "pvhv closed the stream");
	return 0;
}

int mgmt_send(struct mgmt_conn *c, uint16_t type, const void *a, uint32_t alen, const void *b, uint32_t blen)
{
	static uint8_t frame[sizeof(struct pvhv_mgmt_hdr) + PVHV_MGMT_MAX_PAYLOAD];
	struct pvhv_mgmt_hdr h = { PVHV_MGMT_MAGIC, PVHV_MGMT_VERSION, type, c->seq++, alen + blen };

	if (alen > PVHV_MGMT_MAX_PAYLOAD || blen > PVHV_MGMT_MAX_PAYLOAD - alen)
		return broken(c, "a request of %u + %u bytes, at most %u", alen, blen, PVHV_MGMT_MAX_PAYLOAD);
	memcpy(frame, &h, sizeof(h));
	if (alen)
		memcpy(frame + sizeof(h), a, alen);
	if (blen)
		memcpy(frame + sizeof(h) + alen, b, blen);
	return put_all(c, frame, sizeof(h) + h.len);
}

int mgmt_reply(struct mgmt_conn *c, uint16_t type, void *res, size_t cap, size_t *got)
{
	static uint8_t buf[PVHV_MGMT_MAX_PAYLOAD + sizeof(struct pvhv_mgmt_status)];
	struct pvhv_mgmt_hdr h;
	struct pvhv_mgmt_status st;
	size_t n;
	int rc = get_all(c, &h, sizeof(h));

	if (rc)
		return rc;
	if (h.magic != PVHV_MGMT_MAGIC || h.type != (type | PVHV_MGMT_REPLY) || h.len < sizeof(st) ||
	    h.len > sizeof(buf))
		return broken(c, "a malformed reply (type 0x%x, %u bytes)", h.type, h.len);
	rc = get_all(c, buf, h.len);
	if (rc)
		return rc;
	memcpy(&st, buf, sizeof(st));
	if (st.status) {
		snprintf(c->err, sizeof(c->err), "%.*s", (int)strnlen(st.msg, sizeof(st.msg)), st.msg);
		return st.status < 0 && st.status > MGMT_CLIENT_EIO ? st.status : -PVHV_MGMT_EPROTO;
	}
	n = h.len - sizeof(st);
	if (n > cap)
		return broken(c, "a reply of %zu bytes, expected at most %zu", n, cap);
	if (n)
		memcpy(res, buf + sizeof(st), n);
	if (got)
		*got = n;
	return 0;
}

int mgmt_call(struct mgmt_conn *c, uint16_t type, const void *payload, uint32_t len, void *res, size_t cap,
	      size_t *got)
{
	int rc = mgmt_send(c, type, payload, len, NULL, 0);

	return rc ? rc : mgmt_reply(c, type, res, cap, got);
}

int mgmt_call_exact(struct mgmt_conn *c, uint16_t type, const void *payload, uint32_t len, void *res,
		    size_t cap)
{
	size_t got = 0;
	int rc = mgmt_call(c, type, payload, len, res, cap, &got);

	if (!rc && got != cap)
		return broken(c, "a reply of %zu bytes to request %u, expected %zu", got, type, cap);
	return rc;
}

int mgmt_list(struct mgmt_conn *c, struct pvhv_mgmt_domain **out, unsigned *n)
{
	static uint8_t buf[PVHV_MGMT_MAX_PAYLOAD];
	struct pvhv_mgmt_domain *d = NULL, *more;
	unsigned total = 0;
	uint32_t from = 0;

	/* Page by page: each reply holds what fits from slot `from` on; an empty one ends the list. */
	for (;;) {
		size_t got = 0;
		uint32_t count;
		int rc = mgmt_call(c, PVHV_MGMT_DOMAIN_LIST, &from, sizeof(from), buf, sizeof(buf), &got);

		if (!rc && got < 4)
			rc = broken(c, "a short list reply");
		if (!rc) {
			memcpy(&count, buf, 4);
			if (4 + (size_t)count * sizeof(*d) != got)
				rc = broken(c, "a list reply of %zu bytes for %u domains", got, count);
		}
		if (rc) {
			free(d);
			return rc;
		}
		if (!count)
			break;
		more = realloc(d, (total + count) * sizeof(*d));
		if (!more) {
			free(d);
			return broken(c, "out of memory for %u domains", total + count);
		}
		d = more;
		memcpy(d + total, buf + 4, count * sizeof(*d));
		total += count;
		if (d[total - 1].id < from || d[total - 1].id == UINT32_MAX) {
			uint32_t last = d[total - 1].id;

			free(d);
			return broken(c, "a list reply that goes backwards (id %u from %u)", last, from);
		}
		from = d[total - 1].id + 1;
	}
	*out = d;
	*n = total;
	return 0;
}

int mgmt_images(struct mgmt_conn *c, uint32_t first, struct pvhv_mgmt_image *e, unsigned *count,
		unsigned *total)
{
	static uint8_t buf[PVHV_MGMT_MAX_PAYLOAD];
	struct pvhv_mgmt_images l;
	size_t got = 0;
	int rc = mgmt_call(c, PVHV_MGMT_IMAGE_LIST, &first, sizeof(first), buf, sizeof(buf), &got);

	if (rc)
		return rc;
	if (got < sizeof(l))
		return broken(c, "a short image list reply");
	memcpy(&l, buf, sizeof(l));
	if (l.count > MGMT_CLIENT_MAX_IMAGES || got != sizeof(l) + (size_t)l.count * sizeof(*e) ||
	    (uint64_t)first + l.count > l.total)
		return broken(c, "an image list reply of %zu bytes for %u images", got, l.count);
	memcpy(e, buf + sizeof(l), l.count * sizeof(*e));
	*count = l.count;
	*total = l.total;
	return 0;
}

int mgmt_resolve(struct mgmt_conn *c, const char *arg, struct pvhv_mgmt_ref *ref)
{
	struct pvhv_mgmt_domain *d;
	char *end;
	unsigned long id = strtoul(arg, &end, 10), gen;
	unsigned n;
	int rc;

	if (end != arg && *end == ':') {
		gen = strtoul(end + 1, &end, 10);
		if (*end || id > UINT32_MAX || gen > UINT32_MAX) {
			snprintf(c->err, sizeof(c->err), "\"%.64s\": want NAME, ID or ID:GEN", arg);
			return -PVHV_MGMT_EINVAL;
		}
		*ref = (struct pvhv_mgmt_ref){ (uint32_t)id, (uint32_t)gen };
		return 0;
	}
	rc = mgmt_list(c, &d, &n);
	if (rc)
		return rc;
	/* A name may be an ended domain's and a live one's: the live one first. */
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < n; i++)
			if (((end != arg && !*end && d[i].id == id) ||
			     !strncmp(d[i].name, arg, sizeof(d[i].name))) &&
			    (pass || d[i].state != PVHV_MGMT_STATE_ENDED)) {
				*ref = (struct pvhv_mgmt_ref){ d[i].id, d[i].gen };
				free(d);
				return 0;
			}
	free(d);
	snprintf(c->err, sizeof(c->err), "no domain \"%.64s\"", arg);
	return -PVHV_MGMT_ENOENT;
}

const char *mgmt_state_name(uint32_t s, uint32_t flags)
{
	if (flags & PVHV_MGMT_DOM_NOT_STARTED)
		return "created";
	return s == PVHV_MGMT_STATE_RUNNING ? "running" : s == PVHV_MGMT_STATE_ENDING ? "ending" :
	       s == PVHV_MGMT_STATE_ENDED ? "ended" : s == PVHV_MGMT_STATE_STARTING ? "starting" :
	       s == PVHV_MGMT_STATE_PAUSED ? "paused" : "?";
}

const char *mgmt_end_name(uint32_t e)
{
	static const char *const names[] = { "-", "poweroff", "reboot", "crash", "stopped", "not-started" };

	return e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}

const char *mgmt_exit_name(unsigned reason)
{
	static const char *const names[PVHV_MGMT_EXIT_REASONS] = {
		"intr", "cpuid", "msr_read", "msr_write", "io", "hlt", "hypercall", "npf", "triple_fault",
		"bad_insn", "xsetbv", "wbinvd", "rdpmc", "exc_db", "exc_ac", "exc_mc", "irq_window", "pause",
		"invalid", "unexpected", "cow",
	};

	return reason < PVHV_MGMT_EXIT_REASONS ? names[reason] : NULL;
}
