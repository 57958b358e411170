/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pvhd: pvhv's JSON API over HTTP/1.1 on a unix socket, run in the control domain.
 *
 *   pvhd [--socket PATH] [--tcp ADDR:PORT [--token-file F]] [--to vsock:CID:PORT] [--max-clients N]
 *        [--store DIR] [--uplink IF --dns ADDR|none [--trunk IF] [--router PATH] [--host-record NAME=IPV4]...]
 *
 * Listens on PATH (default /run/pvhd.sock, mode 0600: only root in the
 * control domain may drive pvhv), forks a process per client (at most N,
 * default 32; one more gets 503 at once), and answers each request with
 * management calls to pvhv (api.c).  Every client is bounded: the head of
 * a request must arrive within HEAD_TIMEOUT_S, each read and write of a
 * body must progress within IO_TIMEOUT_S, an idle keep-alive connection is
 * closed after IDLE_TIMEOUT_S, and a connection serves at most
 * MAX_REQUESTS requests.  Logs one line per request on stderr.
 *
 * With --tcp it listens on ADDR:PORT too, with the same limits (one count
 * of clients for both).  There the socket's mode cannot say who may drive
 * pvhv, so every request must carry "Authorization: Bearer TOKEN", TOKEN
 * being the file F's (default /var/lib/pvhd/token, made mode 0600 on the
 * first start and kept across restarts); any other request gets 401 and
 * nothing is done for it.
 *
 * With --store DIR (a file system on the control domain's disk) every
 * image uploaded through pvhd is kept there as well (store.h: written
 * atomically with its checksum, deleted with its image), and before pvhd
 * listens it uploads every image of DIR that pvhv lacks (pvhv's memory is
 * gone after a restart of the machine; after a restart of the control
 * domain pvhv still has them): a damaged file is named and skipped.
 * With --uplink IF --dns ADDR it is also the sandboxes' router (uplink.c):
 * pvhv-router (beside pvhd, or --router PATH) sets up dnsmasq and the
 * nftables table between the trunk (--trunk, default eth0) and IF, and a
 * sandbox created with "network" gets its lease, egress rules and
 * published ports, removed when pvhv reports its end.  Each --host-record
 * NAME=IPV4 is a name dnsmasq answers itself (netpol_host_record checks
 * it), e.g. a server on the uplink's side that has no name upstream;
 * --dns none when the uplink's network has no resolver at all (QEMU's
 * restricted user network offers none): then only those names resolve.
 */
#include <errno.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "pvhd.h"

#define HEAD_TIMEOUT_S 10
#define IO_TIMEOUT_S 30
#define IDLE_TIMEOUT_S 30
#define MAX_REQUESTS 1000
#define MAX_CLIENTS_DEFAULT 32

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Waits until fd is readable or the deadline (ms, monotonic) passes: 1, 0 on timeout, -1 on error. */
static int wait_readable(int fd, long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
		if (rc < 0 && errno == EINTR)
			continue;
		return rc < 0 ? -1 : rc;
	}
}

long client_body(struct client *cl, void *p, size_t n)
{
	size_t take;

	if (n > cl->body_left)
		n = (size_t)cl->body_left;
	if (!n)
		return 0;
	if (!cl->continue_sent) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		cl->continue_sent = true;
		if (!cl->rx_len && fd_write_all(cl->fd, cont, sizeof(cont) - 1))
			return -1;
	}
	if (cl->rx_len) {
		take = cl->rx_len < n ? cl->rx_len : n;
		memcpy(p, cl->rx, take);
		memmove(cl->rx, cl->rx + take, cl->rx_len - take);
		cl->rx_len -= take;
	} else {
		ssize_t r;

		if (wait_readable(cl->fd, now_ms() + IO_TIMEOUT_S * 1000L) <= 0)
			return -1;
		r = read(cl->fd, p, n);
		if (r <= 0)
			return -1;
		take = (size_t)r;
	}
	cl->body_left -= take;
	return (long)take;
}

int client_mgmt(struct client *cl)
{
	int rc;

	if (cl->mgmt_open)
		return 0;
	rc = mgmt_connect(&cl->mgmt, cl->cid, cl->port);
	cl->mgmt_open = !rc;
	return rc;
}

bool reply_json(struct reply *r, int status, size_t cap)
{
	free(r->buf);
	r->buf = malloc(cap);
	if (!r->buf) {
		r->status = 500;
		jsonw_init(&r->w, NULL, 0);
		return false;
	}
	r->status = status;
	jsonw_init(&r->w, r->buf, cap);
	return true;
}

void reply_fault(struct reply *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!reply_json(r, status, sizeof(msg) * 6 + 64))
		return;
	jsonw_object(&r->w);
	jsonw_kstr(&r->w, "fault_message", msg);
	jsonw_end(&r->w);
}

void reply_mgmt_fault(struct reply *r, struct client *cl, int rc, const char *what)
{
	int status;

	switch (rc) {
	case MGMT_CLIENT_EIO:
		/* The stream is of no further use: the next request opens another. */
		mgmt_close(&cl->mgmt);
		cl->mgmt_open = false;
		reply_fault(r, 503, "%s: pvhv unreachable: %s", what, cl->mgmt.err);
		return;
	case -PVHV_MGMT_ENOENT:
		status = 404;
		break;
	case -PVHV_MGMT_EEXIST:
	case -PVHV_MGMT_EBUSY:
		status = 409;
		break;
	case -PVHV_MGMT_ENOMEM:
	case -PVHV_MGMT_ENOSPC:
		status = 507;
		break;
	case -PVHV_MGMT_EINVAL:
		status = 400;
		break;
	case -PVHV_MGMT_EPERM:
		status = 403;
		break;
	default:
		status = 502;
	}
	reply_fault(r, status, "%s: pvhv: %s (error %d)", what, cl->mgmt.err, -rc);
}

/* Reads until a whole head is in cl->rx: 1, 0 when the client closed or idled out cleanly, or -status. */
static int read_head(struct client *cl, bool first, char *err, size_t errlen)
{
	long start = now_ms(), deadline = start + (first ? HEAD_TIMEOUT_S : IDLE_TIMEOUT_S) * 1000L;

	for (;;) {
		int rc = http_parse_request(cl->rx, cl->rx_len, &cl->req, err, errlen);
		ssize_t n;

		if (rc)
			return rc;
		if (wait_readable(cl->fd, deadline) <= 0) {
			snprintf(err, errlen, "request head: not complete within %d s", HEAD_TIMEOUT_S);
			return cl->rx_len ? -408 : 0;
		}
		n = read(cl->fd, cl->rx + cl->rx_len, sizeof(cl->rx) - cl->rx_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		/* Once a byte of a request is in, the whole head has HEAD_TIMEOUT_S. */
		if (!cl->rx_len)
			deadline = now_ms() + HEAD_TIMEOUT_S * 1000L;
		cl->rx_len += (size_t)n;
	}
}

static int send_reply(struct client *cl, struct reply *r)
{
	char head[256];
	size_t len = r->w.overflow ? 0 : r->w.len;
	int n;

	if (r->w.overflow && r->buf) {
		/* A resource outgrew its buffer: a bug here, said as such rather than cut JSON. */
		reply_fault(r, 500, "reply too large for its buffer");
		len = r->w.len;
	}
	n = http_format_head(head, sizeof(head), r->status, len, !r->close);
	if (n < 0 || fd_write_all(cl->fd, head, (size_t)n) || (len && cl->req.method != HTTP_HEAD &&
							 fd_write_all(cl->fd, r->buf, len)))
		return -1;
	return 0;
}

/* One client, in its own process: requests until it closes, errs or idles out. */
static void serve_client(struct client *cl)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };

	setsockopt(cl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (int k = 0; k < MAX_REQUESTS; k++) {
		struct reply r = { 0 };
		char err[HTTP_ERRLEN];
		int rc = read_head(cl, k == 0, err, sizeof(err));

		if (rc == 0)
			break;
		if (rc < 0) {
			r.close = true;
			reply_fault(&r, -rc, "%s", err);
			fprintf(stderr, "pvhd: %d %s\n", -rc, err);
		} else {
			memmove(cl->rx, cl->rx + cl->req.head_len, cl->rx_len - cl->req.head_len);
			cl->rx_len -= cl->req.head_len;
			cl->body_left = cl->req.content_length;
			cl->continue_sent = !cl->req.expect_continue;
			r.close = !cl->req.keep_alive || k + 1 == MAX_REQUESTS;
			if (cl->token && !http_bearer_ok(&cl->req, cl->token, strlen(cl->token)))
				reply_fault(&r, 401, "%s: \"Authorization: Bearer TOKEN\" needed (the token is in "
					    "pvhd's --token-file in the control domain)",
					    cl->req.auth_seen ? "a wrong or malformed token" : "no token");
			else
				api_serve(cl, &r);
			/* A body left unread cannot be skipped safely: end the connection after this reply. */
			if (cl->body_left)
				r.close = true;
			fprintf(stderr, "pvhd: %s %s%s%s %d\n", cl->req.method_name, cl->req.path,
				cl->req.query[0] ? "?" : "", cl->req.query, r.status);
		}
		rc = send_reply(cl, &r);
		free(r.buf);
		if (rc || r.close)
			break;
	}
}

static int listen_on(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "pvhd: --socket %s: longer than %zu bytes\n", path, sizeof(a.sun_path) - 1);
		exit(2);
	}
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("pvhd: socket");
		exit(1);
	}
	/* A socket file left by an earlier pvhd goes; anything else at PATH stays and bind fails. */
	{
		struct stat sb;

		if (!lstat(path, &sb) && S_ISSOCK(sb.st_mode))
			unlink(path);
	}
	umask(077);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || chmod(path, 0600) || listen(fd, 64)) {
		fprintf(stderr, "pvhd: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* ADDR:PORT (IPv4, or "[IPv6]:PORT"): a listening TCP socket, or exit. */
static int listen_tcp(const char *spec)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr *sa = (struct sockaddr *)&a4;
	socklen_t salen = sizeof(a4);
	const char *colon = strrchr(spec, ':');
	char host[64], *end;
	unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
	size_t hl = colon ? (size_t)(colon - spec) : 0;
	int fd, one = 1;

	if (!colon || !colon[1] || *end || port == 0 || port > 65535 || hl == 0 || hl >= sizeof(host)) {
		fprintf(stderr, "pvhd: --tcp %s: not ADDR:PORT (a port 1..65535)\n", spec);
		exit(2);
	}
	if (spec[0] == '[' && hl > 2 && spec[hl - 1] == ']') {
		memcpy(host, spec + 1, hl - 2), host[hl - 2] = 0;
		sa = (struct sockaddr *)&a6, salen = sizeof(a6);
		a6.sin6_port = htons((uint16_t)port);
	} else {
		memcpy(host, spec, hl), host[hl] = 0;
		a4.sin_port = htons((uint16_t)port);
	}
	if (inet_pton(sa->sa_family, host, sa->sa_family == AF_INET ? (void *)&a4.sin_addr : (void *)&a6.sin6_addr) != 1) {
		fprintf(stderr, "pvhd: --tcp %s: \"%s\" is not an IPv4 address (or [IPv6])\n", spec, host);
		exit(2);
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) || bind(fd, sa, salen) ||
	    listen(fd, 64)) {
		fprintf(stderr, "pvhd: --tcp %s: %s\n", spec, strerror(errno));
		exit(1);
	}
	return fd;
}

/* A client beyond the limit: 503 without reading its request (a short write at most, never blocking). */
static void refuse_busy(int fd)
{
	static const char msg[] = "{\"fault_message\":\"pvhd: too many clients, try again\"}";
	char head[256];
	int n = http_format_head(head, sizeof(head), 503, sizeof(msg) - 1, false);

	if (n > 0 && send(fd, head, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n)
		(void)!send(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static void usage(void)
{
	fprintf(stderr, "usage: pvhd [--socket PATH] [--tcp ADDR:PORT [--token-file F]] [--to vsock:CID:PORT] "
		"[--max-clients N] [--store DIR]\n"
		"            [--uplink IF --dns ADDR|none [--trunk IF] [--router PATH] [--host-record NAME=IPV4]...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *path = PVHD_DEFAULT_SOCKET, *tcp = NULL, *token_file = PVHD_DEFAULT_TOKEN_FILE, *store = NULL;
	static char token[PVHD_TOKEN_HEX + 1];
	unsigned cid = PVHV_VSOCK_CID_HOST, port = PVHV_MGMT_PORT, children = 0;
	unsigned long max_clients = MAX_CLIENTS_DEFAULT;
	int lfd[2] = { -1, -1 };
	static struct netpol_hosts hosts;
	struct uplink_conf up = { .trunk = "eth0", .hosts = &hosts };
	char err[512];

	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			path = argv[++i];
		else if (!strcmp(argv[i], "--tcp") && i + 1 < argc)
			tcp = argv[++i];
		else if (!strcmp(argv[i], "--token-file") && i + 1 < argc)
			token_file = argv[++i];
		else if (!strcmp(argv[i], "--store") && i + 1 < argc)
			store = argv[++i];
		else if (!strcmp(argv[i], "--to") && i + 1 < argc &&
			 sscanf(argv[i + 1], "vsock:%u:%u", &cid, &port) == 2)
			i++;
		else if (!strcmp(argv[i], "--uplink") && i + 1 < argc)
			up.uplink = argv[++i];
		else if (!strcmp(argv[i], "--trunk") && i + 1 < argc)
			up.trunk = argv[++i];
		else if (!strcmp(argv[i], "--dns") && i + 1 < argc)
			up.dns = argv[++i];
		else if (!strcmp(argv[i], "--router") && i + 1 < argc)
			up.router = argv[++i];
		else if (!strcmp(argv[i], "--host-record") && i + 1 < argc) {
			if (netpol_host_record(argv[++i], "pvhd: --host-record", &hosts, err, sizeof(err))) {
				fprintf(stderr, "%s\n", err);
				exit(2);
			}
		}
		else if (!strcmp(argv[i], "--max-clients") && i + 1 < argc &&
			 (max_clients = strtoul(argv[i + 1], &end, 10)) >= 1 && max_clients <= 1024 && !*end)
			i++;
		else
			usage();
	}
	signal(SIGPIPE, SIG_IGN);
	/* The images back first: a client that reaches pvhd finds them in pvhv. */
	if (store && store_restore_into_pvhv(store, cid, port))
		exit(1);
	if (hosts.n && !up.uplink) {
		fprintf(stderr, "pvhd: --host-record needs --uplink (the records are the router's dnsmasq's)\n");
		exit(2);
	}
	if (up.uplink) {
		static char router[PATH_MAX];
		ssize_t n;

		if (!up.dns) {
			fprintf(stderr, "pvhd: --uplink %s needs --dns ADDR (the uplink's resolver) or --dns none\n", up.uplink);
			exit(2);
		}
		/* pvhv-router beside pvhd unless --router says otherwise. */
		if (!up.router && (n = readlink("/proc/self/exe", router, sizeof(router) - 16)) > 0) {
			router[n] = 0;
			strcpy(strrchr(router, '/') ? strrchr(router, '/') + 1 : router, "pvhv-router");
			up.router = router;
		}
		up.cid = cid;
		up.port = port;
		if (!up.router || uplink_start(&up, err, sizeof(err))) {
			fprintf(stderr, "pvhd: --uplink %s: %s\n", up.uplink, up.router ? err : "no pvhv-router");
			exit(1);
		}
	}
	if (tcp) {
		bool made;

		if (token_load(token_file, token, &made, err, sizeof(err))) {
			fprintf(stderr, "pvhd: --token-file %s\n", err);
			exit(1);
		}
		lfd[1] = listen_tcp(tcp);
		fprintf(stderr, "pvhd: listening on tcp %s (token %s %s)\n", tcp, made ? "made in" : "from", token_file);
	}
	lfd[0] = listen_on(path);
	fprintf(stderr, "pvhd: listening on %s (pvhv at vsock %u:%u, at most %lu clients)\n", path, cid, port,
		max_clients);
	for (;;) {
		struct pollfd p[2] = { { .fd = lfd[0], .events = POLLIN }, { .fd = lfd[1], .events = POLLIN } };
		int fd, from;
		pid_t pid;

		while (children && waitpid(-1, NULL, WNOHANG) > 0)
			children--;
		if (poll(p, lfd[1] >= 0 ? 2 : 1, 1000) <= 0)
			continue;
		from = p[0].revents ? 0 : 1;
		fd = accept4(lfd[from], NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		/* A child may be just ending (its client closed a moment ago): give it 100 ms. */
		for (int k = 0; k < 20 && children >= max_clients; k++) {
			usleep(5000);
			while (children && waitpid(-1, NULL, WNOHANG) > 0)
				children--;
		}
		if (children >= max_clients) {
			refuse_busy(fd);
			continue;
		}
		pid = fork();
		if (pid == 0) {
			static struct client cl;

			close(lfd[0]);
			if (lfd[1] >= 0)
				close(lfd[1]);
			cl.fd = fd;
			cl.token = from ? token : NULL;
			cl.store = store;
			cl.cid = cid;
			cl.port = port;
			cl.mgmt.fd = -1;
			serve_client(&cl);
			_exit(0);
		}
		if (pid < 0) {
			refuse_busy(fd);
			continue;
		}
		children++;
		close(fd);
	}
}
