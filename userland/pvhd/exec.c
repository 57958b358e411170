/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec.c: POST /api/v1/sandboxes/{name}/exec, one command through the
 * sandbox's agent (guest-abi/pvhv/agent.h): EXEC without stdin, then
 * STDOUT/STDERR kept up to PVHD_EXEC_OUTPUT_MAX bytes each (counted past
 * that), then EXIT.  Every frame is checked by agentproto.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "agentproto.h"
#include "pvhd.h"

#define AGENT_WAIT_S 60
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct output {
	char *buf;
	size_t kept;
	uint64_t total;
};

/* The agent's stream, retried while it does not listen yet (a sandbox just created is still booting). */
static int agent_connect(unsigned cid)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = PVHV_AGENT_PORT };

	for (int k = 0; k < AGENT_WAIT_S * 5; k++) {
		int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&a, sizeof(a)))
			return fd;
		close(fd);
		usleep(200000);
	}
	return -1;
}

static void keep(struct output *o, const uint8_t *p, uint32_t n)
{
	size_t room = PVHD_EXEC_OUTPUT_MAX - o->kept;
	size_t take = n < room ? n : room;

	memcpy(o->buf + o->kept, p, take);
	o->kept += take;
	o->total += n;
}

static int send_exec(int fd, const struct spec_exec *ex, char *err, size_t errlen)
{
	static uint8_t frame[AGENTPROTO_FRAME_MAX];
	static const char *env[SPEC_EXEC_ENV_MAX + 2];
	struct agentproto_exec e = { .timeout_ms = ex->timeout_s * 1000u, .argc = ex->argc, .cwd = ex->cwd,
				     .argv = ex->argv, .env = env };
	bool has_path = false;
	long n;

	/* The command's environment is exactly env[]: PATH has a default, as agent-run gives it. */
	for (uint32_t k = 0; k < ex->envc; k++) {
		env[e.envc++] = ex->env[k];
		has_path |= !strncmp(ex->env[k], "PATH=", 5);
	}
	if (!has_path)
		env[e.envc++] = DEFAULT_PATH;
	env[e.envc] = NULL;
	n = agentproto_encode_exec(frame, sizeof(frame), &e, err, errlen);
	if (n < 0)
		return -1;
	for (long off = 0; off < n;) {
		ssize_t w = write(fd, frame + off, (size_t)(n - off));

		if (w <= 0) {
			snprintf(err, errlen, "write to the agent: %s", w < 0 ? strerror(errno) : "closed");
			return -1;
		}
		off += w;
	}
	return 0;
}

/*
 * One frame from the agent: 1 when it was the last (EXIT into *ex, or
 * ERROR's code, errno and text), 0 to go on, -1 when it breaks the protocol.
 */
static int on_frame(const struct agentproto_hdr *h, const uint8_t *p, struct output out[2],
		    struct pvhv_agent_exit *ex, uint32_t *code, uint32_t *sys_errno, char *text, size_t textlen,
		    char *err, size_t errlen)
{
	uint32_t pid;

	if (h->type == PVHV_AGENT_STDOUT || h->type == PVHV_AGENT_STDERR) {
		if (agentproto_check_data(h->type, h->length, err, errlen))
			return -1;
		keep(&out[h->type == PVHV_AGENT_STDERR], p, h->length);
		return 0;
	}
	if (h->type == PVHV_AGENT_STARTED)
		return agentproto_decode_started(p, h->length, &pid, err, errlen);
	if (h->type == PVHV_AGENT_EXIT)
		return agentproto_decode_exit(p, h->length, ex, err, errlen) ? -1 : 1;
	if (h->type == PVHV_AGENT_ERROR)
		return agentproto_decode_error(p, h->length, code, sys_errno, text, textlen, err, errlen) ? -1 : 1;
	snprintf(err, errlen, "an unexpected %s frame", agentproto_type_name(h->type));
	return -1;
}

static void exec_reply(struct reply *r, const struct pvhv_agent_exit *ex, const struct output out[2], int code,
		       const char *error)
{
	if (!reply_json(r, 200, (out[0].kept + out[1].kept) * 6 + 1024))
		return;
	jsonw_object(&r->w);
	jsonw_ku64(&r->w, "exit_code", (uint64_t)code);
	jsonw_ku64(&r->w, "signal", ex && ex->how == PVHV_AGENT_SIGNALED ? ex->status : 0);
	jsonw_kbool(&r->w, "timed_out", ex && (ex->flags & PVHV_AGENT_EXIT_TIMEOUT));
	jsonw_key(&r->w, "stdout");
	jsonw_strn(&r->w, out[0].buf, out[0].kept);
	jsonw_key(&r->w, "stderr");
	jsonw_strn(&r->w, out[1].buf, out[1].kept);
	jsonw_ku64(&r->w, "stdout_bytes", out[0].total);
	jsonw_ku64(&r->w, "stderr_bytes", out[1].total);
	jsonw_kbool(&r->w, "truncated", out[0].total > out[0].kept || out[1].total > out[1].kept);
	jsonw_ku64(&r->w, "output_max_bytes", PVHD_EXEC_OUTPUT_MAX);
	if (ex)
		jsonw_ku64(&r->w, "wall_us", ex->wall_us);
	if (error)
		jsonw_kstr(&r->w, "error", error);
	jsonw_end(&r->w);
}

/* True when the client has gone (EOF); bytes of a next request waiting are not that. */
static bool client_gone(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void exec_run(struct client *cl, struct reply *r, unsigned cid, const struct spec_exec *ex)
{
	static uint8_t rx[2 * AGENTPROTO_FRAME_MAX];
	struct output out[2] = { { malloc(PVHD_EXEC_OUTPUT_MAX), 0, 0 }, { malloc(PVHD_EXEC_OUTPUT_MAX), 0, 0 } };
	struct pvhv_agent_exit done = { 0 };
	char err[AGENTPROTO_ERRLEN], text[512];
	uint32_t code = 0, sys_errno = 0;
	bool watch_client = true;
	size_t len = 0;
	int fd = -1, last = 0;

	if (!out[0].buf || !out[1].buf) {
		reply_fault(r, 500, "no memory for the command's output");
		goto out;
	}
	fd = agent_connect(cid);
	if (fd < 0) {
		reply_fault(r, 504, "agent at vsock %u:%u: not listening after %d s", cid, PVHV_AGENT_PORT, AGENT_WAIT_S);
		goto out;
	}
	if (send_exec(fd, ex, err, sizeof(err))) {
		reply_fault(r, 400, "exec: %s", err);
		goto out;
	}
	while (!last) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = cl->fd, .events = POLLIN } };
		struct agentproto_hdr h;
		ssize_t n;

		if (poll(p, watch_client ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			reply_fault(r, 500, "poll: %s", strerror(errno));
			goto out;
		}
		if (watch_client && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (client_gone(cl->fd)) {
				/* Closing the agent's stream kills the command: nobody waits for it. */
				r->close = true;
				reply_fault(r, 499, "client went away");
				goto out;
			}
			watch_client = false;   /* a pipelined request: it waits its turn */
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(fd, rx + len, sizeof(rx) - len);
		if (n <= 0) {
			reply_fault(r, 502, "agent at vsock %u: the stream ended before the command's exit status", cid);
			goto out;
		}
		len += (size_t)n;
		while (!last && len >= PVHV_AGENT_HDR_SIZE) {
			size_t whole;

			if (agentproto_parse_hdr(rx, &h, err, sizeof(err))) {
				reply_fault(r, 502, "agent at vsock %u: %s", cid, err);
				goto out;
			}
			whole = PVHV_AGENT_HDR_SIZE + h.length;
			if (len < whole)
				break;
			last = on_frame(&h, rx + PVHV_AGENT_HDR_SIZE, out, &done, &code, &sys_errno, text, sizeof(text),
					err, sizeof(err));
			if (last < 0) {
				reply_fault(r, 502, "agent at vsock %u: %s", cid, err);
				goto out;
			}
			if (last && h.type == PVHV_AGENT_ERROR) {
				/* Could not start it: 127/126 as a shell says, other errors are the agent's fault. */
				if (code != PVHV_AGENT_E_EXEC)
					reply_fault(r, 502, "agent at vsock %u: %s", cid, text);
				else
					exec_reply(r, NULL, out, sys_errno == ENOENT ? 127 : 126, text);
				goto out;
			}
			memmove(rx, rx + whole, len - whole);
			len -= whole;
		}
	}
	exec_reply(r, &done, out, done.how == PVHV_AGENT_SIGNALED ? 128 + (int)done.status : (int)done.status, NULL);
out:
	if (fd >= 0)
		close(fd);
	free(out[0].buf);
	free(out[1].buf);
}
