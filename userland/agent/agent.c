/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent.c: pvhv-agent, the sandbox's command runner: listens (vsock, or a unix socket or TCP
 * loopback port for tests), forks a session per connection; as PID 1 it is also the sandbox's init.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "agent.h"
#include "agentproto.h"

#define MAX_LISTEN 4
/* Connections served at once; more get ERROR BUSY. */
#define MAX_SESSIONS 64

static struct {
	int fds[MAX_LISTEN];
	int nfds;
	bool allow_poweroff, once, init;
	pid_t sessions[MAX_SESSIONS];
	int nsessions;
	unsigned long served;
} g;

static volatile sig_atomic_t got_chld, got_stop;

void agent_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "pvhv-agent[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	/* Messages quote what clients sent (argv[0], cwd): no control characters reach the console. */
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
			*c = '?';
	fprintf(stderr, "%s\n", line);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pvhv-agent [--listen vsock:PORT|unix:PATH|tcp:PORT]... [--allow-poweroff] [--once]\n"
		"  default: --listen vsock:%u.  unix:PATH and tcp:PORT (127.0.0.1) are for tests on a host.\n"
		"  --allow-poweroff  honour POWEROFF when not PID 1 (the agent then exits)\n"
		"  --once            serve one connection, then exit (power off as PID 1)\n",
		PVHV_AGENT_PORT);
	exit(2);
}

/* Parse a port number 1..65535 (TCP) or 0..2^32-2 (vsock); -1 if not a number in range. */
static long parse_port(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v > max)
		return -1;
	return (long)v;
}

static int listen_on(const char *spec)
{
	union {
		struct sockaddr sa;
		struct sockaddr_vm vm;
		struct sockaddr_un un;
		struct sockaddr_in in;
	} a;
	socklen_t alen;
	int fd, one = 1;
	long port;

	memset(&a, 0, sizeof(a));
	if (!strncmp(spec, "vsock:", 6)) {
		if ((port = parse_port(spec + 6, 0xfffffffeul)) < 0)
			goto bad;
		a.vm.svm_family = AF_VSOCK;
		a.vm.svm_cid = VMADDR_CID_ANY;
		a.vm.svm_port = port;
		alen = sizeof(a.vm);
	} else if (!strncmp(spec, "unix:", 5)) {
		if (strlen(spec + 5) == 0 || strlen(spec + 5) >= sizeof(a.un.sun_path))
			goto bad;
		a.un.sun_family = AF_UNIX;
		strcpy(a.un.sun_path, spec + 5);
		unlink(a.un.sun_path);
		alen = sizeof(a.un);
	} else if (!strncmp(spec, "tcp:", 4)) {
		if ((port = parse_port(spec + 4, 65535)) < 1)
			goto bad;
		a.in.sin_family = AF_INET;
		a.in.sin_port = htons(port);
		a.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		alen = sizeof(a.in);
	} else {
		goto bad;
	}
	fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		agent_log("listen %s: socket: %s", spec, strerror(errno));
		return -1;
	}
	if (a.sa.sa_family == AF_INET)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &a.sa, alen) || listen(fd, 64)) {
		agent_log("listen %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
bad:
	agent_log("listen %s: not vsock:PORT, unix:PATH or tcp:PORT", spec);
	return -1;
}

static void on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_stop = 1;
}

/* PID 1: the file systems a command expects; an existing mount is fine. */
static void init_mounts(void)
{
	static const struct { const char *dir, *type; unsigned long flags; const char *opts; } m[] = {
		{ "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
		{ "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
		{ "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mkdir(m[i].dir, 0755);
		if (mount(m[i].type, m[i].dir, m[i].type, m[i].flags, m[i].opts) && errno != EBUSY)
			agent_log("init: mount %s on %s: %s", m[i].type, m[i].dir, strerror(errno));
	}
}

/*
 * PID 1 on a distribution kernel: virtio, virtio-mmio, vsock and its virtio
 * transport are modules (Debian's cloud kernel has them so), and with no
 * udev and no modprobe in the image nothing else loads them.  Load them in
 * dependency order from the usual place; one that is built in (no file) or
 * already loaded is fine.
 */
static void load_vsock_modules(void)
{
	static const char *const mods[] = {
		"drivers/virtio/virtio_ring", "drivers/virtio/virtio", "drivers/virtio/virtio_mmio",
		"net/vmw_vsock/vsock", "net/vmw_vsock/vmw_vsock_virtio_transport_common",
		"net/vmw_vsock/vmw_vsock_virtio_transport",
	};
	struct utsname u;
	char path[320];

	if (uname(&u))
		return;
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		int fd;

		snprintf(path, sizeof(path), "/lib/modules/%s/kernel/%s.ko", u.release, mods[i]);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno != ENOENT)
				agent_log("init: %s: %s", path, strerror(errno));
			continue;
		}
		if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)
			agent_log("init: load %s: %s", path, strerror(errno));
		close(fd);
	}
}

/* Make sure fds 0-2 are open, so no socket or pipe ever lands there. */
static void std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = open("/dev/console", O_RDWR);

		if (n < 0)
			n = open("/dev/null", O_RDWR);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
}

static void reap_all(void)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < g.nsessions; i++) {
			if (g.sessions[i] == pid) {
				g.sessions[i] = g.sessions[--g.nsessions];
				break;
			}
		}
	}
}

/* End every session (each kills its command), then exit or, as init, power off. */
static void shut_down(int status)
{
	for (int i = 0; i < g.nsessions; i++)
		kill(g.sessions[i], SIGTERM);
	for (int tries = 0; tries < 100 && g.nsessions; tries++) {
		usleep(10000);
		reap_all();
	}
	if (!g.init)
		exit(status);
	agent_log("powering off");
	kill(-1, SIGTERM);
	usleep(200000);
	kill(-1, SIGKILL);
	sync();
	reboot(RB_POWER_OFF);
	agent_log("reboot(RB_POWER_OFF): %s", strerror(errno));
	for (;;)
		pause();
}

static void refuse_busy(int fd)
{
	uint8_t frame[128];
	long n = agentproto_encode_error(frame, sizeof(frame), PVHV_AGENT_E_BUSY, 0,
					 "busy: too many connections");

	if (n > 0 && send(fd, frame, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		agent_log("busy answer: %s", strerror(errno));
	close(fd);
}

static void accept_one(int lfd, pid_t main_pid)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	pid_t pid;

	if (fd < 0)
		return;
	if (g.nsessions >= MAX_SESSIONS) {
		refuse_busy(fd);
		return;
	}
	pid = fork();
	if (pid < 0) {
		agent_log("fork: %s", strerror(errno));
		close(fd);
		return;
	}
	if (pid == 0) {
		for (int i = 0; i < g.nfds; i++)
			close(g.fds[i]);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		session_run(fd, g.allow_poweroff, main_pid);
		_exit(0);
	}
	close(fd);
	g.sessions[g.nsessions++] = pid;
	g.served++;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, none;
	char def[32];
	pid_t me = getpid();

	g.init = me == 1;
	g.allow_poweroff = g.init;
	if (g.init) {
		init_mounts();
		setsid();
	}
	std_fds();
	if (g.init)
		load_vsock_modules();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	/* Orphans of commands come back here to be reaped, not to the host's init. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			if (g.nfds == MAX_LISTEN)
				usage();
			g.fds[g.nfds] = listen_on(argv[++i]);
			if (g.fds[g.nfds] >= 0)
				g.nfds++;
			else if (!g.init)
				exit(1);
		} else if (!strcmp(argv[i], "--allow-poweroff")) {
			g.allow_poweroff = true;
		} else if (!strcmp(argv[i], "--once")) {
			g.once = true;
		} else if (!g.init) {
			usage(); /* as init, the kernel passes its unknown parameters: ignore them */
		}
	}
	if (!g.nfds) {
		snprintf(def, sizeof(def), "vsock:%u", PVHV_AGENT_PORT);
		g.fds[0] = listen_on(def);
		if (g.fds[0] >= 0)
			g.nfds = 1;
	}
	if (!g.nfds) {
		agent_log("nothing to listen on");
		shut_down(1);
	}
	agent_log("ready (%d listener%s%s)", g.nfds, g.nfds > 1 ? "s" : "", g.init ? ", init" : "");
	sigemptyset(&none);
	for (;;) {
		struct pollfd p[MAX_LISTEN];

		if (got_chld) {
			got_chld = 0;
			reap_all();
		}
		if (got_stop || (g.once && g.served && !g.nsessions))
			shut_down(0);
		for (int i = 0; i < g.nfds; i++)
			p[i] = (struct pollfd){ .fd = g.once && g.served ? -1 : g.fds[i], .events = POLLIN };
		if (ppoll(p, g.nfds, NULL, &none) < 0)
			continue;
		for (int i = 0; i < g.nfds; i++)
			if (p[i].revents & POLLIN)
				accept_one(g.fds[i], me);
	}
}
