/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent-run.c: run one command through a pvhv-agent and behave like it: its stdout and stderr
 * become ours, our stdin goes to it, and we exit with its status (128+N when signal N ended it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "agentproto.h"

/* Exit statuses of our own (as docker run has them): the agent failed, cannot execute, not found. */
#define RUN_EAGENT 125
#define RUN_ENOEXEC 126
#define RUN_ENOENT 127
#define ENV_MAX 256
#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static uint8_t rx[AGENTPROTO_FRAME_MAX];
static size_t rx_len;
static uint8_t tx[AGENTPROTO_FRAME_MAX];
static size_t tx_off, tx_len;

__attribute__((noreturn, format(printf, 2, 3)))
static void die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("agent-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: agent-run [-C DIR] [-e NAME=VALUE]... [-t SECONDS] [-n] ADDRESS -- CMD [ARG]...\n"
		"  ADDRESS: vsock:CID[:PORT] (port %u by default), unix:PATH or tcp:IPV4:PORT\n"
		"  -C DIR   working directory (absolute)   -e  add to the environment (PATH has a default)\n"
		"  -t SECS  kill the command after SECS seconds   -n  no stdin (the command reads end of file)\n",
		PVHV_AGENT_PORT);
	exit(2);
}

static unsigned long number(const char *s, unsigned long max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v > max)
		die(2, "%s: '%s' is not a number up to %lu", what, s, max);
	return v;
}

static int connect_to(const char *addr)
{
	union {
		struct sockaddr sa;
		struct sockaddr_vm vm;
		struct sockaddr_un un;
		struct sockaddr_in in;
	} a;
	socklen_t alen;
	char host[64];
	const char *colon;
	int fd;

	memset(&a, 0, sizeof(a));
	if (!strncmp(addr, "vsock:", 6)) {
		char cid[16];

		colon = strchr(addr + 6, ':');
		if ((colon ? (size_t)(colon - addr - 6) : strlen(addr + 6)) >= sizeof(cid))
			die(2, "%s: bad vsock address", addr);
		snprintf(cid, sizeof(cid), "%.*s", colon ? (int)(colon - addr - 6) : 15, addr + 6);
		a.vm.svm_family = AF_VSOCK;
		a.vm.svm_cid = number(cid, 0xfffffffeul, "vsock CID");
		a.vm.svm_port = colon ? number(colon + 1, 0xfffffffeul, "vsock port") : PVHV_AGENT_PORT;
		alen = sizeof(a.vm);
	} else if (!strncmp(addr, "unix:", 5)) {
		if (!addr[5] || strlen(addr + 5) >= sizeof(a.un.sun_path))
			die(2, "%s: bad unix socket path", addr);
		a.un.sun_family = AF_UNIX;
		strcpy(a.un.sun_path, addr + 5);
		alen = sizeof(a.un);
	} else if (!strncmp(addr, "tcp:", 4) && (colon = strrchr(addr + 4, ':')) &&
		   (size_t)(colon - addr - 4) < sizeof(host)) {
		snprintf(host, sizeof(host), "%.*s", (int)(colon - addr - 4), addr + 4);
		a.in.sin_family = AF_INET;
		a.in.sin_port = htons(number(colon + 1, 65535, "tcp port"));
		if (inet_pton(AF_INET, host, &a.in.sin_addr) != 1)
			die(2, "%s: '%s' is not an IPv4 address", addr, host);
		alen = sizeof(a.in);
	} else {
		usage();
	}
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, &a.sa, alen))
		die(RUN_EAGENT, "connect %s: %s", addr, strerror(errno));
	return fd;
}

static void queue(long n)
{
	if (n < 0)
		die(RUN_EAGENT, "cannot encode a frame");
	tx_off = 0;
	tx_len = n;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return; /* our reader is gone; keep draining so the command can finish */
		p += w;
		n -= w;
	}
}

/* Act on one complete frame from the agent; returns our exit status at the end, else -1. */
static int on_frame(const struct agentproto_hdr *h, const uint8_t *p)
{
	char err[AGENTPROTO_ERRLEN], text[1024];
	struct pvhv_agent_exit ex;
	uint32_t code, e, pid;

	switch (h->type) {
	case PVHV_AGENT_STARTED:
		if (agentproto_decode_started(p, h->length, &pid, err, sizeof(err)))
			die(RUN_EAGENT, "agent: %s", err);
		return -1;
	case PVHV_AGENT_STDOUT:
	case PVHV_AGENT_STDERR:
		if (agentproto_check_data(h->type, h->length, err, sizeof(err)))
			die(RUN_EAGENT, "agent: %s", err);
		write_all(h->type == PVHV_AGENT_STDOUT ? 1 : 2, p, h->length);
		return -1;
	case PVHV_AGENT_EXIT:
		if (agentproto_decode_exit(p, h->length, &ex, err, sizeof(err)))
			die(RUN_EAGENT, "agent: %s", err);
		if (ex.flags & PVHV_AGENT_EXIT_TIMEOUT)
			fprintf(stderr, "agent-run: killed at its time limit\n");
		return ex.how == PVHV_AGENT_SIGNALED ? 128 + (int)ex.status : (int)ex.status;
	case PVHV_AGENT_ERROR:
		if (agentproto_decode_error(p, h->length, &code, &e, text, sizeof(text), err, sizeof(err)))
			die(RUN_EAGENT, "agent: %s", err);
		fprintf(stderr, "agent-run: agent: %s\n", text);
		if (code == PVHV_AGENT_E_EXEC && e == ENOENT)
			return RUN_ENOENT;
		if (code == PVHV_AGENT_E_EXEC && (e == EACCES || e == ENOEXEC))
			return RUN_ENOEXEC;
		return RUN_EAGENT;
	}
	die(RUN_EAGENT, "agent: unexpected %s frame", agentproto_type_name(h->type));
}

/* Parse what arrived; returns the exit status once EXIT or ERROR came, else -1. */
static int on_input(void)
{
	char err[AGENTPROTO_ERRLEN];
	struct agentproto_hdr h;
	int status;

	while (rx_len >= PVHV_AGENT_HDR_SIZE) {
		if (agentproto_parse_hdr(rx, &h, err, sizeof(err)))
			die(RUN_EAGENT, "agent: %s", err);
		if (rx_len < PVHV_AGENT_HDR_SIZE + h.length)
			return -1;
		status = on_frame(&h, rx + PVHV_AGENT_HDR_SIZE);
		if (status >= 0)
			return status;
		rx_len -= PVHV_AGENT_HDR_SIZE + h.length;
		memmove(rx, rx + PVHV_AGENT_HDR_SIZE + h.length, rx_len);
	}
	return -1;
}

int main(int argc, char **argv)
{
	const char *env[ENV_MAX + 2], *cwd = "";
	struct agentproto_exec ex = { .flags = PVHV_AGENT_EXEC_STDIN };
	char err[AGENTPROTO_ERRLEN];
	bool have_path = false, stdin_done;
	int i, sock, sfd;
	sigset_t sigs;

	for (i = 1; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-C") && i + 1 < argc) {
			cwd = argv[++i];
		} else if (!strcmp(argv[i], "-e") && i + 1 < argc) {
			if (ex.envc == ENV_MAX)
				die(2, "more than %d -e options", ENV_MAX);
			have_path |= !strncmp(argv[i + 1], "PATH=", 5);
			env[ex.envc++] = argv[++i];
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			ex.timeout_ms = number(argv[++i], 4000000, "-t") * 1000;
		} else if (!strcmp(argv[i], "-n")) {
			ex.flags = 0;
		} else {
			usage();
		}
	}
	if (i + 2 >= argc || strcmp(argv[i + 1], "--"))
		usage();
	if (!have_path)
		env[ex.envc++] = DEFAULT_PATH;
	env[ex.envc] = NULL;
	ex.cwd = cwd;
	ex.env = env;
	ex.argv = (const char *const *)argv + i + 2;
	ex.argc = argc - i - 2;
	sock = connect_to(argv[i]);

	/* Signals that would end us are passed to the command instead. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGQUIT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	fcntl(sock, F_SETFL, O_NONBLOCK);

	{
		long n = agentproto_encode_exec(tx, sizeof(tx), &ex, err, sizeof(err));

		if (n < 0)
			die(2, "%s", err);
		queue(n);
	}
	stdin_done = !(ex.flags & PVHV_AGENT_EXEC_STDIN);
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = sock, .events = POLLIN | (tx_len ? POLLOUT : 0) },
			{ .fd = tx_len || stdin_done ? -1 : 0, .events = POLLIN },
			{ .fd = tx_len ? -1 : sfd, .events = POLLIN },
		};
		ssize_t n;
		int status;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			die(RUN_EAGENT, "poll: %s", strerror(errno));
		}
		if (p[0].revents & POLLOUT) {
			n = send(sock, tx + tx_off, tx_len, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die(RUN_EAGENT, "send: %s", strerror(errno));
			if (n > 0) {
				tx_off += n;
				tx_len -= n;
				if (tx_len)
					memmove(tx, tx + tx_off, tx_len);
				tx_off = 0;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(sock, rx + rx_len, sizeof(rx) - rx_len, 0);
			if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
				die(RUN_EAGENT, "connection closed before the command's exit status came");
			if (n > 0) {
				rx_len += n;
				status = on_input();
				if (status >= 0)
					return status;
			}
		}
		if (p[1].revents) {
			n = read(0, tx + PVHV_AGENT_HDR_SIZE, PVHV_AGENT_PAYLOAD_MAX);
			if (n > 0) {
				agentproto_put_hdr(tx, PVHV_AGENT_STDIN, n);
				queue(PVHV_AGENT_HDR_SIZE + n);
			} else if (n == 0 || errno != EAGAIN) {
				queue(agentproto_encode_raw(tx, sizeof(tx), PVHV_AGENT_STDIN_EOF, NULL, 0));
				stdin_done = true;
			}
		}
		if (p[2].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				queue(agentproto_encode_kill(tx, sizeof(tx), si.ssi_signo));
		}
	}
}
