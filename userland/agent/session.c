/* SPDX-License-Identifier: Apache-2.0 */
/*
 * session.c: one agent connection: read frames, start the command, move its stdio with bounded
 * buffers, report how it ended (the protocol and its flow control are in guest-abi/pvhv/agent.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agentproto.h"

/*
 * After the command exits, how long its stdout/stderr may stay open and idle
 * (held by a process that escaped its group) while the agent has room to read them.
 */
#define DRAIN_MS 2000
/* Output room kept free for the control frames that end a session (EXIT, ERROR). */
#define CONTROL_RESERVE 512
/* The pipes are read only while a full output frame and the reserve fit. */
#define OUT_READ_ROOM (AGENTPROTO_FRAME_MAX + CONTROL_RESERVE)

extern char **environ;

enum state { WAIT_EXEC, RUNNING, CLOSING };

/* One per process: each connection has a process of its own, so all of this is static. */
static struct session {
	int sock, sigfd;
	int in_fd, out_fd, err_fd;      /* pipe ends, -1 when closed */
	enum state state;
	bool allow_poweroff;
	pid_t main_pid;
	pid_t pid;                      /* the command, 0 before EXEC, -1 once reaped */
	bool stdin_allowed, stdin_eof;  /* STDIN frames may come / STDIN_EOF came */
	bool killed, timed_out;
	uint64_t start_ms, deadline_ms, drain_ms;
	struct pvhv_agent_exit exit;

	uint8_t in[AGENTPROTO_FRAME_MAX];  /* the frame being received */
	size_t in_len;
	uint8_t stdin_buf[PVHV_AGENT_INBUF]; /* stdin the command has not read yet */
	size_t stdin_off, stdin_len;
	uint8_t out[PVHV_AGENT_OUTBUF];    /* frames not yet sent */
	size_t out_off, out_len;
} s;

static const char *exec_argv[PVHV_AGENT_ARGV_MAX + 1];
static const char *exec_env[PVHV_AGENT_ENV_MAX + 1];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Room at the end of the output buffer, compacting it first. */
static size_t out_room(void)
{
	if (s.out_off) {
		memmove(s.out, s.out + s.out_off, s.out_len);
		s.out_off = 0;
	}
	return sizeof(s.out) - s.out_len;
}

/* Queue an encoded frame; the caller made sure it fits (control frames are small). */
static uint8_t *out_tail(void)
{
	return s.out + s.out_off + s.out_len;
}

static void kill_group(int sig)
{
	if (s.pid > 0)
		kill(-s.pid, sig);
}

/* Queue ERROR with TEXT as the last frame; the command, if any, is killed. */
static void fail_session(uint32_t code, int err_no, const char *text)
{
	long n;

	agent_log("connection: %s", text);
	out_room();
	n = agentproto_encode_error(out_tail(), sizeof(s.out) - s.out_len, code, err_no, text);
	if (n > 0)
		s.out_len += n;
	kill_group(SIGKILL);
	s.state = CLOSING;
}

static void queue_small(long n)
{
	if (n > 0)
		s.out_len += n;
}

/* Fork and exec the command; STARTED or ERROR is queued. */
static void start_command(const struct agentproto_exec *ex)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, rep[2] = {-1, -1};
	struct { int stage, err_no; } report;
	char text[256];
	ssize_t n;
	int e;

	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
	    pipe2(rep, O_CLOEXEC)) {
		e = errno;
		snprintf(text, sizeof(text), "pipe: %s", strerror(e));
		goto fail_errno;
	}
	s.start_ms = now_ms();
	s.pid = fork();
	if (s.pid < 0) {
		s.pid = 0;
		e = errno;
		snprintf(text, sizeof(text), "fork: %s", strerror(e));
		goto fail_errno;
	}
	if (s.pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		report.stage = 0;
		if (ex->cwd[0] && chdir(ex->cwd)) {
			report.err_no = errno;
		} else {
			report.stage = 1;
			environ = (char **)ex->env;
			execvp(ex->argv[0], (char *const *)ex->argv);
			report.err_no = errno;
		}
		n = write(rep[1], &report, sizeof(report));
		_exit(127 + (n < 0));
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	close(rep[1]);
	s.in_fd = in[1];
	s.out_fd = out[0];
	s.err_fd = err[0];
	if (!(ex->flags & PVHV_AGENT_EXEC_STDIN))
		close_fd(&s.in_fd);
	s.stdin_allowed = ex->flags & PVHV_AGENT_EXEC_STDIN;
	set_nonblock(s.out_fd);
	set_nonblock(s.err_fd);
	if (s.in_fd >= 0)
		set_nonblock(s.in_fd);
	/* The report pipe closes at exec (O_CLOEXEC): no bytes means the command runs. */
	do
		n = read(rep[0], &report, sizeof(report));
	while (n < 0 && errno == EINTR);
	close(rep[0]);
	if (n == sizeof(report)) {
		snprintf(text, sizeof(text), "%s %s: %s", report.stage ? "exec" : "chdir",
			 report.stage ? ex->argv[0] : ex->cwd, strerror(report.err_no));
		fail_session(PVHV_AGENT_E_EXEC, report.err_no, text);
		return;
	}
	if (ex->timeout_ms)
		s.deadline_ms = s.start_ms + ex->timeout_ms;
	s.state = RUNNING;
	out_room();
	queue_small(agentproto_encode_started(out_tail(), sizeof(s.out) - s.out_len, s.pid));
	return;
fail_errno:
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&err[i]);
		close_fd(&rep[i]);
	}
	fail_session(PVHV_AGENT_E_EXEC, e, text);
}

static void handle_frame(const struct agentproto_hdr *h, const uint8_t *p)
{
	char err[AGENTPROTO_ERRLEN], text[AGENTPROTO_ERRLEN + 64];
	struct agentproto_exec ex;
	uint32_t sig;

	if (s.state == WAIT_EXEC && h->type == PVHV_AGENT_EXEC) {
		if (agentproto_decode_exec(p, h->length, &ex, exec_argv, PVHV_AGENT_ARGV_MAX + 1,
					   exec_env, PVHV_AGENT_ENV_MAX + 1, err, sizeof(err)))
			goto proto;
		start_command(&ex);
		return;
	}
	if (s.state == WAIT_EXEC && h->type == PVHV_AGENT_POWEROFF) {
		if (agentproto_check_empty(h->type, h->length, err, sizeof(err)))
			goto proto;
		if (!s.allow_poweroff) {
			fail_session(PVHV_AGENT_E_DENIED, 0, "POWEROFF: not allowed (not init, no --allow-poweroff)");
			return;
		}
		agent_log("POWEROFF requested");
		kill(s.main_pid, SIGUSR1);
		s.state = CLOSING;
		return;
	}
	if (s.state != RUNNING) {
		snprintf(err, sizeof(err), "%s frame before EXEC", agentproto_type_name(h->type));
		goto proto;
	}
	switch (h->type) {
	case PVHV_AGENT_STDIN:
		if (agentproto_check_data(h->type, h->length, err, sizeof(err)))
			goto proto;
		if (!s.stdin_allowed || s.stdin_eof) {
			snprintf(err, sizeof(err), "STDIN: %s", s.stdin_eof ? "after STDIN_EOF" :
				 "EXEC said stdin is closed");
			goto proto;
		}
		/* Only read when a full frame fits (see the poll set), so this cannot overflow. */
		if (s.stdin_off) {
			memmove(s.stdin_buf, s.stdin_buf + s.stdin_off, s.stdin_len);
			s.stdin_off = 0;
		}
		if (s.in_fd >= 0) {
			memcpy(s.stdin_buf + s.stdin_len, p, h->length);
			s.stdin_len += h->length;
		}
		return;
	case PVHV_AGENT_STDIN_EOF:
		if (agentproto_check_empty(h->type, h->length, err, sizeof(err)))
			goto proto;
		if (!s.stdin_allowed || s.stdin_eof) {
			snprintf(err, sizeof(err), "STDIN_EOF: %s", s.stdin_eof ? "twice" :
				 "EXEC said stdin is closed");
			goto proto;
		}
		s.stdin_eof = true;
		if (!s.stdin_len)
			close_fd(&s.in_fd);
		return;
	case PVHV_AGENT_KILL:
		if (agentproto_decode_kill(p, h->length, &sig, err, sizeof(err)))
			goto proto;
		if (s.pid > 0) {
			s.killed = true;
			kill_group(sig);
		}
		return;
	default:
		snprintf(err, sizeof(err), "%s frame not allowed while a command runs",
			 agentproto_type_name(h->type));
		goto proto;
	}
proto:
	snprintf(text, sizeof(text), "protocol: %s", err);
	fail_session(PVHV_AGENT_E_PROTO, 0, text);
}

/* Read what the socket has of the current frame; false when the peer is gone. */
static bool read_socket(void)
{
	char err[AGENTPROTO_ERRLEN], text[AGENTPROTO_ERRLEN + 64];
	struct agentproto_hdr h = {0};
	size_t want = PVHV_AGENT_HDR_SIZE;
	ssize_t n;

	if (s.in_len >= PVHV_AGENT_HDR_SIZE) {
		agentproto_parse_hdr(s.in, &h, NULL, 0); /* checked when it arrived */
		want += h.length;
	}
	n = recv(s.sock, s.in + s.in_len, want - s.in_len, 0);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	if (n == 0) {
		if (s.in_len) {
			snprintf(text, sizeof(text), "protocol: connection closed inside a frame after %zu of %zu bytes",
				 s.in_len, want);
			fail_session(PVHV_AGENT_E_PROTO, 0, text);
			return true;
		}
		return false;
	}
	s.in_len += n;
	if (s.in_len == PVHV_AGENT_HDR_SIZE) {
		if (agentproto_parse_hdr(s.in, &h, err, sizeof(err))) {
			snprintf(text, sizeof(text), "protocol: %s", err);
			fail_session(PVHV_AGENT_E_PROTO, 0, text);
			return true;
		}
		want += h.length;
	}
	if (s.in_len == want) {
		s.in_len = 0;
		handle_frame(&h, s.in + PVHV_AGENT_HDR_SIZE);
	}
	return true;
}

/* Move one chunk from a command's pipe into a STDOUT/STDERR frame. */
static void read_pipe(int *fd, unsigned type)
{
	uint8_t *frame;
	ssize_t n;

	if (out_room() < OUT_READ_ROOM)
		return;
	frame = out_tail();
	n = read(*fd, frame + PVHV_AGENT_HDR_SIZE, PVHV_AGENT_PAYLOAD_MAX);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_fd(fd);
		return;
	}
	agentproto_put_hdr(frame, type, n);
	s.out_len += PVHV_AGENT_HDR_SIZE + n;
	if (s.pid < 0)
		s.drain_ms = now_ms() + DRAIN_MS;
}

static void write_stdin(void)
{
	ssize_t n = write(s.in_fd, s.stdin_buf + s.stdin_off, s.stdin_len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		/* The command closed its stdin: drop what it will never read. */
		s.stdin_len = 0;
		close_fd(&s.in_fd);
		return;
	}
	s.stdin_off += n;
	s.stdin_len -= n;
	if (!s.stdin_len && s.stdin_eof)
		close_fd(&s.in_fd);
}

static bool write_socket(void)
{
	ssize_t n = send(s.sock, s.out + s.out_off, s.out_len, MSG_NOSIGNAL);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	s.out_off += n;
	s.out_len -= n;
	return true;
}

static uint64_t tv_us(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* The command may have ended: reap it and start draining its pipes. */
static void reap(void)
{
	struct rusage ru;
	int st;

	siginfo_t si = { .si_pid = 0 };

	if (s.pid <= 0 || waitid(P_PID, s.pid, &si, WEXITED | WNOHANG | WNOWAIT) || si.si_pid != s.pid)
		return;
	/*
	 * Nothing outlives the command: the rest of its group goes too, while the
	 * unreaped leader still holds its pid (so the group id cannot be reused).
	 */
	kill(-s.pid, SIGKILL);
	if (wait4(s.pid, &st, WNOHANG, &ru) != s.pid)
		return;
	s.exit.wall_us = (now_ms() - s.start_ms) * 1000;
	s.exit.user_us = tv_us(ru.ru_utime);
	s.exit.sys_us = tv_us(ru.ru_stime);
	s.exit.maxrss_kib = ru.ru_maxrss;
	if (WIFSIGNALED(st)) {
		s.exit.how = PVHV_AGENT_SIGNALED;
		s.exit.status = WTERMSIG(st);
		if (WCOREDUMP(st))
			s.exit.flags |= PVHV_AGENT_EXIT_CORE;
	} else {
		s.exit.how = PVHV_AGENT_EXITED;
		s.exit.status = WEXITSTATUS(st);
	}
	if (s.killed)
		s.exit.flags |= PVHV_AGENT_EXIT_KILLED;
	if (s.timed_out)
		s.exit.flags |= PVHV_AGENT_EXIT_TIMEOUT;
	s.pid = -1;
	s.drain_ms = now_ms() + DRAIN_MS;
	s.stdin_len = 0;
	close_fd(&s.in_fd);
}

static int poll_timeout(void)
{
	uint64_t now = now_ms(), until = 0;

	if (s.pid > 0 && s.deadline_ms)
		until = s.deadline_ms;
	if (s.pid < 0 && s.drain_ms)
		until = s.drain_ms;
	if (!until)
		return -1;
	return until > now ? (int)(until - now) : 0;
}

static void check_timers(void)
{
	uint64_t now = now_ms();

	if (s.pid > 0 && s.deadline_ms && now >= s.deadline_ms && !s.timed_out) {
		s.timed_out = true;
		kill_group(SIGKILL);
	}
	/* Output the client has not taken yet is not idleness: the drain clock waits for it. */
	if (s.pid < 0 && sizeof(s.out) - s.out_len < OUT_READ_ROOM)
		s.drain_ms = now + DRAIN_MS;
	if (s.pid < 0 && s.drain_ms && now >= s.drain_ms) {
		close_fd(&s.out_fd);
		close_fd(&s.err_fd);
	}
}

/*
 * Close without losing the last frame: closing a socket with unread input
 * may reset the connection before the peer reads what was sent, so shut
 * the sending side and discard input for a bounded time first.
 */
static void linger_close(void)
{
	uint64_t until = now_ms() + 500;
	size_t discarded = 0;
	struct pollfd p = { .fd = s.sock, .events = POLLIN };

	shutdown(s.sock, SHUT_WR);
	while (discarded < PVHV_AGENT_OUTBUF && now_ms() < until) {
		ssize_t n;

		if (poll(&p, 1, (int)(until - now_ms())) <= 0)
			break;
		n = recv(s.sock, s.in, sizeof(s.in), 0);
		if (n <= 0)
			break;
		discarded += n;
	}
	close(s.sock);
}

static void finish_session(void)
{
	int st;

	kill_group(SIGKILL);
	if (s.pid > 0)
		waitpid(s.pid, &st, 0);
	close_fd(&s.in_fd);
	close_fd(&s.out_fd);
	close_fd(&s.err_fd);
	linger_close();
	close(s.sigfd);
}

void session_run(int sock, bool allow_poweroff, pid_t main_pid)
{
	sigset_t set;

	s.sock = sock;
	s.in_fd = s.out_fd = s.err_fd = -1;
	s.allow_poweroff = allow_poweroff;
	s.main_pid = main_pid;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	s.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	set_nonblock(sock);
	if (s.sigfd < 0) {
		fail_session(PVHV_AGENT_E_EXEC, errno, "signalfd failed");
		s.sigfd = -1;
	}
	for (;;) {
		struct pollfd fds[5] = {
			{ .fd = s.sock }, { .fd = s.sigfd, .events = POLLIN },
			{ .fd = -1 }, { .fd = -1 }, { .fd = -1 },
		};

		if (s.state == RUNNING && s.pid < 0 && s.out_fd < 0 && s.err_fd < 0) {
			out_room();
			queue_small(agentproto_encode_exit(out_tail(), sizeof(s.out) - s.out_len, &s.exit));
			s.state = CLOSING;
		}
		if (s.state == CLOSING && !s.out_len)
			break;
		if (s.state != CLOSING && sizeof(s.stdin_buf) - s.stdin_len >= PVHV_AGENT_PAYLOAD_MAX)
			fds[0].events |= POLLIN;
		if (s.out_len)
			fds[0].events |= POLLOUT;
		if (s.state == RUNNING && sizeof(s.out) - s.out_len >= OUT_READ_ROOM) {
			fds[2] = (struct pollfd){ .fd = s.out_fd, .events = POLLIN };
			fds[3] = (struct pollfd){ .fd = s.err_fd, .events = POLLIN };
		}
		if (s.stdin_len)
			fds[4] = (struct pollfd){ .fd = s.in_fd, .events = POLLOUT };
		if (poll(fds, 5, poll_timeout()) < 0 && errno != EINTR)
			break;
		if (fds[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			bool term = false;

			while (read(s.sigfd, &si, sizeof(si)) == sizeof(si))
				term |= si.ssi_signo == SIGTERM;
			if (term)
				break;
		}
		check_timers();
		if ((fds[0].revents & (POLLERR | POLLHUP)) && !(fds[0].revents & POLLIN))
			break; /* the client is gone */
		if ((fds[0].revents & POLLOUT) && !write_socket())
			break;
		if ((fds[0].revents & POLLIN) && !read_socket())
			break;
		if (fds[2].revents && s.out_fd >= 0)
			read_pipe(&s.out_fd, PVHV_AGENT_STDOUT);
		if (fds[3].revents && s.err_fd >= 0)
			read_pipe(&s.err_fd, PVHV_AGENT_STDERR);
		if (fds[4].revents && s.in_fd >= 0)
			write_stdin();
		if (s.pid > 0)
			reap();
	}
	finish_session();
}
