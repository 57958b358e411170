/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pvhctl: the command line for pvhv's management protocol
 * (guest-abi/pvhv/mgmt.h), run in the control domain.
 *
 *   pvhctl [--json] hello            host facts
 *   pvhctl host stop                 pvhv stops: every domain ends (this one too), then
 *                                    pvhv powers off (the way to end a pvhv that serves)
 *   pvhctl [--json] ps               every domain: id, generation, name, state, ...
 *   pvhctl [--json] info DOMAIN      one domain (DOMAIN: a name, ID or ID:GEN)
 *   pvhctl destroy DOMAIN            stop it
 *   pvhctl logs DOMAIN               its last console lines
 *   pvhctl [--json] events [AFTER]   domains' ends after event AFTER (0: all kept)
 *   pvhctl create NAME --kernel IMAGE [--initrd IMAGE] [--cmdline TEXT] [--memory MIB]
 *                 [--cpus N] [--cpu-share N] [--disk [ro:]IMAGE]... [--vsock CID] [--timeout MS]
 *                 [--rng] [--console] [--net [MAC,]IPV4[,IPV4]]
 *                                    a domain made now (images: bundle files or uploaded);
 *                                    prints ID:GEN; it starts in the background
 *   pvhctl create --paused ...      built but held: it runs at `start`
 *   pvhctl run [--name N] [--cpus N] [--cpu-share N] [--memory SIZE] [--disk IMAGE[:rw]]...
 *              [--timeout S] [--vsock CID] [--kernel K] [--initrd I] [--cmdline C]
 *              [--net [MAC,]IPV4] IMAGE -- CMD [ARG]...
 *                                    docker-like: IMAGE (e.g. from pvhv-mkimage --agent) is the
 *                                    root; vmlinux and initramfs.cpio boot it; a free CID is
 *                                    picked; as below otherwise
 *   --net [MAC,]IPV4[,IPV4]          a network port on the control domain's trunk, whose
 *                                    switch lets it send only from MAC and these IPv4
 *                                    addresses; without MAC it is 02:00 and the first
 *                                    address's four bytes (locally administered, so unique
 *                                    as long as the addresses are).  info and stats show it
 *   --net (no value) --egress none|all|allow=CIDR|NAME[,...] -p HOSTPORT:PORT[/udp] (repeatable)
 *                                    through pvhd only (--api/--host), whose router
 *                                    (pvhd --uplink) picks a free address and MAC, gives
 *                                    the sandbox its DHCP lease, lets it out through NAT
 *                                    as --egress says (default none) and publishes
 *                                    HOSTPORT on the uplink to its TCP (or UDP) PORT
 *   pvhctl run NAME [create options] -- CMD [ARG]...
 *                                    create NAME (it needs --vsock), wait until its agent
 *                                    listens, run CMD there through agent-run (found beside
 *                                    pvhctl): its stdin, stdout, stderr and exit status are
 *                                    ours (128+N for signal N); then destroy NAME
 *   pvhctl [--json] images           images: the bundle's files and uploaded ones, with
 *                                    their size and users
 *   pvhctl image import FILE [NAME]  uploads FILE (a regular file) as image NAME (default:
 *                                    FILE's base name); it appears when all of it is in
 *   pvhctl image rm NAME             deletes an uploaded image no domain uses
 *                                    (both go through pvhd when its socket /run/pvhd.sock
 *                                    is there and no --to is given, so that pvhd's
 *                                    --store keeps the image on disk, or forgets it)
 *   pvhctl api [--socket PATH] METHOD PATH [BODY|@FILE]
 *                                    one request to pvhd (api.c): prints the response
 *                                    body, exits 0 on a 2xx status, else 1
 *
 * Domain life (the functions after the "domain life" line below):
 *   pvhctl start DOMAIN              runs a domain created with --paused
 *   pvhctl pause DOMAIN              its vCPUs stop; what arrives meanwhile waits
 *   pvhctl resume DOMAIN             it runs on (and gets what waited)
 *   pvhctl stop DOMAIN               destroys it and waits until it has ended
 *                                    (an ended one: nothing to do)
 *   pvhctl rm [-f] DOMAIN            as docker rm: a running domain needs -f (then it
 *                                    is stopped).  pvhv keeps an ended domain's slot,
 *                                    end and counters (ps lists it as ended) until a
 *                                    create reuses the slot; after rm its name is free
 *                                    and ID:GEN handles to it are refused once reused
 *   pvhctl [--json] stats [DOMAIN]...  counters (all live domains when none named)
 *   pvhctl logs -f DOMAIN            its console lines, then new ones as they come,
 *                                    until it ends (lines are cut at 79 characters)
 *   pvhctl console DOMAIN TEXT       TEXT and a newline into its console input
 *   pvhctl exec [-i] DOMAIN -- CMD [ARG]...
 *                                    CMD in a running domain through its agent (it
 *                                    needs a vsock CID): stdout, stderr and exit status
 *                                    (128+N for signal N) are ours; -i: our stdin too
 *
 * It talks to vsock CID 2 port PVHV_MGMT_PORT (--to vsock:CID:PORT to
 * change), or with --host ADDR:PORT [--token-file F] (else $PVHCTL_TOKEN)
 * or --api SOCKET to pvhd, whose resources do the same (remote.c; run and
 * exec then go through pvhd's exec, their output printed when they return).  A name or a bare ID is looked up with a list first and then
 * named by ID and generation, so the request cannot reach another domain
 * that took the slot meanwhile.  Exit status 0, or 1 with pvhv's message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>
#include <arpa/inet.h>
#include <libgen.h>
#include <sys/wait.h>
#include "pvhv/agent.h"
#include <linux/vm_sockets.h>

#include "mgmtclient.h"
#include "pvhctl.h"

static unsigned to_cid = PVHV_VSOCK_CID_HOST, to_port = PVHV_MGMT_PORT;
struct pvhctl_net net_opts;
static bool json;
static struct mgmt_conn conn = { .fd = -1 };

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("pvhctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void connect_pvhv(void)
{
	if (remote_on())
		return;
	if (mgmt_connect(&conn, to_cid, to_port))
		die("%s", conn.err);
}

/* One request; the result (after the status) into res, its length returned.  Dies on an error status. */
static size_t call(uint16_t type, const void *payload, uint32_t len, void *res, size_t cap)
{
	size_t got = 0;
	int rc;

	if (remote_on())
		return remote_call(type, payload, len, res, cap);
	rc = mgmt_call(&conn, type, payload, len, res, cap, &got);
	if (rc == MGMT_CLIENT_EIO)
		die("%s", conn.err);
	if (rc)
		die("%s (error %d)", conn.err, -rc);
	return got;
}

static const char *state_name(uint32_t s)
{
	return mgmt_state_name(s, 0);
}

/* Every domain pvhv lists, page by page (*out: malloc'd, the caller frees it). */
static unsigned list(struct pvhv_mgmt_domain **out)
{
	unsigned n = 0;

	if (remote_on())
		return remote_list(out);
	if (mgmt_list(&conn, out, &n))
		die("%s", conn.err);
	return n;
}

/* NAME, ID or ID:GEN -> a ref (the current generation from a list unless given). */
static struct pvhv_mgmt_ref resolve(const char *arg)
{
	struct pvhv_mgmt_ref r;

	if (remote_on())
		return remote_resolve(arg);
	if (mgmt_resolve(&conn, arg, &r))
		die("%s", conn.err);
	return r;
}

/*
 * A domain's network port from its statistics: JSON members (after a
 * comma) or a text line; nothing without a port.
 */
static void print_net(const struct pvhv_mgmt_stats *s)
{
	const uint8_t *m = s->net_mac;
	const char *role = s->net_flags & PVHV_MGMT_NET_TRUNK ? "trunk" :
			   s->net_flags & PVHV_MGMT_NET_MEMBER ? "member" : "link";
	char ip[2][INET_ADDRSTRLEN] = { "", "" };

	if (!(s->net_flags & PVHV_MGMT_NET_PORT))
		return;
	for (unsigned i = 0; i < 2 && s->net_ipv4[i]; i++)
		inet_ntop(AF_INET, &s->net_ipv4[i], ip[i], sizeof(ip[i]));
	if (json) {
		printf(",\"net\":{\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\",\"role\":\"%s\",\"ipv4\":[%s%s%s%s%s%s],"
		       "\"tx_frames\":%llu,\"tx_bytes\":%llu,\"drops\":%llu,\"drops_spoof\":%llu,"
		       "\"drops_isolated\":%llu}",
		       m[0], m[1], m[2], m[3], m[4], m[5], role, ip[0][0] ? "\"" : "", ip[0], ip[0][0] ? "\"" : "",
		       ip[1][0] ? ",\"" : "", ip[1], ip[1][0] ? "\"" : "", (unsigned long long)s->net_tx_frames,
		       (unsigned long long)s->net_tx_bytes, (unsigned long long)s->net_drops,
		       (unsigned long long)s->net_drops_spoof, (unsigned long long)s->net_drops_isolated);
		return;
	}
	printf("net: %02x:%02x:%02x:%02x:%02x:%02x %s%s%s (%s): tx %llu frames %llu bytes, dropped %llu "
	       "(spoofed %llu, isolation %llu)\n", m[0], m[1], m[2], m[3], m[4], m[5], ip[0][0] ? ip[0] : "any",
	       ip[1][0] ? "," : "", ip[1], role, (unsigned long long)s->net_tx_frames,
	       (unsigned long long)s->net_tx_bytes, (unsigned long long)s->net_drops,
	       (unsigned long long)s->net_drops_spoof, (unsigned long long)s->net_drops_isolated);
}

/* One domain; with its statistics s (info), its network port too. */
static void print_domain(const struct pvhv_mgmt_domain *d, bool first, const struct pvhv_mgmt_stats *s)
{
	const char *state = d->flags & PVHV_MGMT_DOM_NOT_STARTED ? "created" : state_name(d->state);

	if (json) {
		printf("%s{\"id\":%u,\"gen\":%u,\"name\":\"%.*s\",\"state\":\"%s\",\"end\":\"%s\","
		       "\"exit_status\":%u,\"vcpus\":%u,\"memory_mib\":%llu,\"runtime_us\":%llu,"
		       "\"cpu_us\":%llu,\"exits\":%llu,\"reboots\":%u,\"control\":%s,\"cpu_share\":%u",
		       first ? "" : ",", d->id, d->gen, (int)sizeof(d->name), d->name, state,
		       mgmt_end_name(d->end), d->exit_status, d->vcpus, (unsigned long long)(d->memory_bytes >> 20),
		       (unsigned long long)d->runtime_us, (unsigned long long)d->cpu_us,
		       (unsigned long long)d->exits, d->reboots,
		       d->flags & PVHV_MGMT_DOM_CONTROL ? "true" : "false", d->cpu_share);
		if (s)
			print_net(s);
		putchar('}');
		return;
	}
	printf("%-4u %-4u %-16.*s %-8s %-11s %5u %8llu %10.1f %10.1f %5u%s\n", d->id, d->gen,
	       (int)sizeof(d->name), d->name, state, mgmt_end_name(d->end), d->vcpus,
	       (unsigned long long)(d->memory_bytes >> 20), d->runtime_us / 1e6, d->cpu_us / 1e6, d->cpu_share,
	       d->flags & PVHV_MGMT_DOM_CONTROL ? " control" : "");
	if (s)
		print_net(s);
}

/* True when something accepts a stream at vsock cid:port (the agent is up). */
static bool listening(unsigned cid, unsigned port)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);
	bool ok = s >= 0 && !connect(s, (struct sockaddr *)&a, sizeof(a));

	if (s >= 0)
		close(s);
	return ok;
}

/* agent-run sits beside pvhctl: the directory of this program, run by path or through PATH. */
static void agent_run_dir(const char *self, char *out, size_t len)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n > 0)
		buf[n] = 0;
	else
		snprintf(buf, sizeof(buf), "%s", self);
	snprintf(out, len, "%s", dirname(buf));
}

/* pvhctl run: wait for the agent, run the command through agent-run, destroy the domain. */
static int run_in(struct pvhv_mgmt_ref r, unsigned cid, const char *self, int argc, char **argv)
{
	char path[4096], *dir, addr[32];
	char **av = calloc((size_t)argc + 5, sizeof(*av));
	int status = 125, st, k = 0;
	pid_t pid;

	if (remote_on()) {
		char ref[32];

		free(av);
		snprintf(ref, sizeof(ref), "%u:%u", r.id, r.gen);
		status = remote_exec(ref, argc, argv);
		remote_call(PVHV_MGMT_DOMAIN_DESTROY, &r, sizeof(r), NULL, 0);
		return status;
	}
	agent_run_dir(self, path, sizeof(path));
	dir = path;
	snprintf(addr, sizeof(addr), "vsock:%u", cid);
	for (int i = 0; i < 600 && !listening(cid, PVHV_AGENT_PORT); i++)
		usleep(100000);
	if (!av)
		die("out of memory");
	av[k++] = "agent-run";
	av[k++] = addr;
	av[k++] = "--";
	for (int i = 0; i < argc; i++)
		av[k++] = argv[i];
	pid = fork();
	if (pid == 0) {
		char prog[4200];

		snprintf(prog, sizeof(prog), "%s/agent-run", dir);
		execv(prog, av);
		fprintf(stderr, "pvhctl: %s: %s\n", prog, strerror(errno));
		_exit(125);
	}
	if (pid > 0 && waitpid(pid, &st, 0) == pid)
		status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	connect_pvhv();
	/* Destroy it unless it ended already (its status then says so: not an error here). */
	if (mgmt_call(&conn, PVHV_MGMT_DOMAIN_DESTROY, &r, sizeof(r), NULL, 0, NULL) == MGMT_CLIENT_EIO)
		die("%s", conn.err);
	mgmt_close(&conn);
	return status;
}

/* SIZE in MiB: N, NM, NG (MiB and GiB); dies on anything else. */
static uint32_t parse_mib(const char *v)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (end == v)
		die("--memory %s: not a size (N, NM or NG)", v);
	if (*end == 'G' || *end == 'g')
		n *= 1024, end++;
	else if (*end == 'M' || *end == 'm')
		end++;
	if (*end || n == 0 || n > 1u << 20)
		die("--memory %s: not a size (N, NM or NG, at most 1T)", v);
	return (uint32_t)n;
}

static uint32_t parse_u32(const char *opt, const char *v)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);

	if (end == v || *end || n > UINT32_MAX)
		die("%s %s: not a number", opt, v);
	return (uint32_t)n;
}

/* True when v reads as --net's value ([MAC,]IPV4...), not as the next argument (an image, an option). */
static bool net_value(const char *v)
{
	return v && v[0] >= '0' && v[0] <= '9' && strspn(v, "0123456789abcdefABCDEF:.,") == strlen(v);
}

/*
 * The router's options, shared by create and run: --net without a value,
 * --egress, -p/--publish.  True (and *k past what it took) when o was one.
 */
static bool net_option(const char *o, const char *v, int *k, struct pvhv_mgmt_create *c)
{
	if (!strcmp(o, "--net") && !net_value(v)) {
		net_opts.pick = true;
		c->flags |= PVHV_MGMT_CREATE_NET;
		return true;
	}
	if (!v || (strcmp(o, "--egress") && strcmp(o, "-p") && strcmp(o, "--publish")))
		return false;
	if (!strcmp(o, "--egress"))
		net_opts.egress = v;
	else if (net_opts.nports == PVHCTL_PORTS_MAX)
		die("%s %s: at most %d published ports", o, v, PVHCTL_PORTS_MAX);
	else
		net_opts.ports[net_opts.nports++] = v;
	c->flags |= PVHV_MGMT_CREATE_NET;
	(*k)++;
	return true;
}

/* --net without an address, --egress and -p are pvhd's router's: refused on pvhv's own stream. */
static void net_direct_check(void)
{
	if (!remote_on() && (net_opts.pick || net_opts.egress || net_opts.nports))
		die("--net without an address, --egress and -p need pvhd's router: add --api /run/pvhd.sock "
		    "(or --host)");
}

/* --net [MAC,]IPV4[,IPV4] into c (the flag, the MAC, the addresses); dies on a malformed value. */
static void parse_net(const char *v, struct pvhv_mgmt_create *c)
{
	char buf[64], *tok, *save = NULL;
	unsigned n = 0, m[6];
	bool mac = false;

	if (strlen(v) >= sizeof(buf))
		die("--net %s: too long", v);
	strcpy(buf, v);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char end;

		if (strchr(tok, ':')) {
			if (mac || n)
				die("--net %s: the MAC comes first, once", v);
			if (sscanf(tok, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5],
				   &end) != 6)
				die("--net %s: \"%s\" is not a MAC address (xx:xx:xx:xx:xx:xx)", v, tok);
			for (unsigned i = 0; i < 6; i++)
				c->net_mac[i] = (uint8_t)m[i];
			mac = true;
		} else {
			if (n == 2)
				die("--net %s: at most two IPv4 addresses", v);
			if (inet_pton(AF_INET, tok, &c->net_ipv4[n]) != 1)
				die("--net %s: \"%s\" is not an IPv4 address (a.b.c.d)", v, tok);
			n++;
		}
	}
	if (!n)
		die("--net %s: no IPv4 address: the switch lets a port send only from its own", v);
	if (!mac) {
		c->net_mac[0] = 0x02;
		c->net_mac[1] = 0x00;
		memcpy(c->net_mac + 2, &c->net_ipv4[0], 4);
	}
	c->flags |= PVHV_MGMT_CREATE_NET;
}

/*
 * pvhctl run [--name N] [--cpus N] [--memory SIZE] [--disk IMAGE[:rw]]...
 *            [--timeout S] [--vsock CID] [--kernel K] [--initrd I] [--cmdline C] IMAGE -- CMD...
 * The docker-like form: IMAGE is the sandbox's root (its first disk,
 * writable through its overlay), booted with Debian's kernel and pvhv's
 * initramfs from the bundle (vmlinux, initramfs.cpio), which switch into
 * its /sbin/init (pvhv-agent, see pvhv-mkimage --agent).  Other disks are
 * read-only unless :rw.  With no --name the sandbox is run-PID; with no
 * --vsock it gets a free CID above 1000.  Created, waited for, CMD run
 * through its agent (status, stdout, stderr), destroyed.
 */
static int run_image(int argc, char **argv, const char *self)
{
	static struct pvhv_mgmt_create c;
	struct pvhv_mgmt_ref r;
	const char *image = NULL;
	unsigned nd = 1, cid = 0;
	int k, cmd = 0;

	snprintf(c.name, sizeof(c.name), "run-%u", (unsigned)getpid());
	snprintf(c.kernel, sizeof(c.kernel), "vmlinux");
	snprintf(c.initrd, sizeof(c.initrd), "initramfs.cpio");
	snprintf(c.cmdline, sizeof(c.cmdline), "console=ttyS0 quiet pvhv.test=root");
	c.memory_mib = 128;
#define SET(field, v)                                                               \
	do {                                                                        \
		if (strlen(v) >= sizeof(field))                                     \
			die("%s: longer than %zu bytes", v, sizeof(field) - 1);     \
		snprintf(field, sizeof(field), "%s", v);                            \
	} while (0)
	for (k = 0; k < argc; k++) {
		const char *o = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;

		if (!strcmp(o, "--")) {
			cmd = k + 1;
			break;
		}
		if (o[0] != '-') {
			if (image)
				die("run: two images, %s and %s (options go before IMAGE)", image, o);
			image = o;
			continue;
		}
		if (net_option(o, v, &k, &c))
			continue;
		if (!v)
			die("run: %s needs a value", o);
		k++;
		if (!strcmp(o, "--name"))
			SET(c.name, v);
		else if (!strcmp(o, "--kernel"))
			SET(c.kernel, v);
		else if (!strcmp(o, "--initrd"))
			SET(c.initrd, v);
		else if (!strcmp(o, "--cmdline"))
			SET(c.cmdline, v);
		else if (!strcmp(o, "--memory"))
			c.memory_mib = parse_mib(v);
		else if (!strcmp(o, "--cpus"))
			c.vcpus = parse_u32(o, v);
		else if (!strcmp(o, "--cpu-share"))   /* pvhv checks the range (10-400) */
			c.cpu_share = parse_u32(o, v);
		else if (!strcmp(o, "--vsock"))
			cid = parse_u32(o, v);
		else if (!strcmp(o, "--net"))
			parse_net(v, &c);
		else if (!strcmp(o, "--timeout")) {
			uint32_t t = parse_u32(o, v);

			c.max_runtime_ms = t > UINT32_MAX / 1000 ? UINT32_MAX : t * 1000;
		}
		else if (!strcmp(o, "--disk")) {
			size_t n = strlen(v);
			bool rw = n > 3 && !strcmp(v + n - 3, ":rw");

			if (nd == 4)
				die("run: at most 3 --disk besides IMAGE");
			if (snprintf(c.disks[nd], sizeof(c.disks[nd]), "%s%.*s", rw ? "" : "ro:", (int)(rw ? n - 3 : n),
				     v) >= (int)sizeof(c.disks[nd]))
				die("--disk %s: too long", v);
			nd++;
		} else
			die("run: unknown option %s", o);
	}
#undef SET
	if (!image || !cmd || cmd >= argc)
		die("usage: pvhctl run [options] IMAGE -- CMD [ARG]...");
	if (strlen(image) >= sizeof(c.disks[0]))
		die("%s: longer than %zu bytes", image, sizeof(c.disks[0]) - 1);
	snprintf(c.disks[0], sizeof(c.disks[0]), "%s", image);
	net_direct_check();
	/* Through pvhd: it picks a free CID itself when none is given. */
	if (remote_on()) {
		c.vsock_cid = cid;
		call(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &r, sizeof(r));
		return run_in(r, c.vsock_cid, self, argc - cmd, argv + cmd);
	}
	/* A free CID: pvhv refuses one in use, so try the next (the name must be free too). */
	for (unsigned tries = 0;; tries++) {
		int rc;

		c.vsock_cid = cid ? cid : 1000 + ((unsigned)getpid() + tries * 7919u) % 1000000u;
		rc = mgmt_call_exact(&conn, PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &r, sizeof(r));
		if (!rc)
			break;
		if (rc != MGMT_CLIENT_EIO && !cid && tries < 16 && strstr(conn.err, "vsock"))
			continue;
		if (rc == MGMT_CLIENT_EIO)
			die("%s", conn.err);
		die("%s (error %d)", conn.err, -rc);
	}
	mgmt_close(&conn);
	return run_in(r, c.vsock_cid, self, argc - cmd, argv + cmd);
}

static bool life_verb(const char *verb);
static int life_main(int argc, char **argv, const char *self);
/* ------------------------------------------------------------ images */

static void print_images(void)
{
	static struct pvhv_mgmt_image page[MGMT_CLIENT_MAX_IMAGES], *e = page;
	uint32_t first = 0;
	unsigned count, total;

	if (json)
		putchar('[');
	else
		printf("%-32s %12s %5s %s\n", "NAME", "SIZE", "USERS", "ORIGIN");
	do {
		/* pvhd lists every image in one reply: one page of all of them. */
		if (remote_on())
			remote_images(&e, &count), total = count;
		else if (mgmt_images(&conn, first, e, &count, &total))
			die("%s", conn.err);
		for (unsigned k = 0; k < count; k++) {
			const char *origin = e[k].origin == PVHV_MGMT_IMAGE_BUNDLE ? "bundle" :
					     e[k].origin == PVHV_MGMT_IMAGE_UPLOADED ? "uploaded" : "?";
			int nl = (int)strnlen(e[k].name, sizeof(e[k].name));

			if (json)
				printf("%s{\"name\":\"%.*s\",\"size\":%llu,\"users\":%u,\"origin\":\"%s\"}",
				       first + k ? "," : "", nl, e[k].name, (unsigned long long)e[k].size, e[k].users, origin);
			else
				printf("%-32.*s %12llu %5u %s\n", nl, e[k].name, (unsigned long long)e[k].size, e[k].users,
				       origin);
		}
		first += count;
	} while (count && first < total);
	if (json)
		puts("]");
}

/* Frames sent ahead of their replies while importing: pvhv answers them in order. */
#define IMPORT_WINDOW 32

/* Reads one reply to an earlier request of type; dies with pvhv's message on an error. */
static void import_reply(uint16_t type, const char *name)
{
	int rc = mgmt_reply(&conn, type, NULL, 0, NULL);

	if (rc == MGMT_CLIENT_EIO)
		die("%s", conn.err);
	if (rc)
		die("image %s: %s (error %d)", name, conn.err, -rc);
}

/* pvhctl image import: BEGIN, the file in order with a window of DATA frames, END. */
static void image_import(const char *file, const char *name)
{
	static uint8_t frame[PVHV_MGMT_IMAGE_CHUNK];
	struct pvhv_mgmt_image_begin b = { 0 };
	struct stat sb;
	uint64_t off = 0;
	unsigned ahead = 0;
	uint32_t handle;
	int fd = open(file, O_RDONLY);

	if (fd < 0 || fstat(fd, &sb))
		die("%s: %s", file, strerror(errno));
	if (S_ISBLK(sb.st_mode)) {
		/* A disk (say an image a test or a host put on one): its size is the device's. */
		uint64_t bytes;

		if (ioctl(fd, BLKGETSIZE64, &bytes))
			die("%s: the size of the block device: %s", file, strerror(errno));
		sb.st_size = (off_t)bytes;
	} else if (!S_ISREG(sb.st_mode)) {
		die("%s: not a regular file or a block device", file);
	}
	if (strlen(name) >= sizeof(b.name))
		die("image name \"%s\": longer than %zu bytes", name, sizeof(b.name) - 1);
	strcpy(b.name, name);
	b.size = (uint64_t)sb.st_size;
	if (remote_on()) {
		remote_import(fd, b.size, name);
		close(fd);
		printf("imported %s (%llu bytes)\n", name, (unsigned long long)b.size);
		return;
	}
	if (call(PVHV_MGMT_IMAGE_PUT_BEGIN, &b, sizeof(b), &handle, sizeof(handle)) != sizeof(handle))
		die("a short upload reply");
	while (off < b.size) {
		struct pvhv_mgmt_image_data d = { .handle = handle, .offset = off };
		size_t want = b.size - off < PVHV_MGMT_IMAGE_CHUNK ? (size_t)(b.size - off) : PVHV_MGMT_IMAGE_CHUNK;
		ssize_t r = read(fd, frame, want);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("%s: %s at byte %llu", file, r < 0 ? strerror(errno) : "shorter than it was",
			    (unsigned long long)off);
		if (mgmt_send(&conn, PVHV_MGMT_IMAGE_PUT_DATA, &d, sizeof(d), frame, (uint32_t)r))
			die("%s", conn.err);
		off += (uint64_t)r;
		if (++ahead == IMPORT_WINDOW) {
			import_reply(PVHV_MGMT_IMAGE_PUT_DATA, name);
			ahead--;
		}
	}
	for (; ahead; ahead--)
		import_reply(PVHV_MGMT_IMAGE_PUT_DATA, name);
	close(fd);
	call(PVHV_MGMT_IMAGE_PUT_END, &handle, sizeof(handle), frame, 0);
	printf("imported %s (%llu bytes)\n", name, (unsigned long long)b.size);
}

/* images, image import, image rm: true when argv[i] was one of them (and was done). */
static bool image_command(int argc, char **argv, int i)
{
	if (!strcmp(argv[i], "images") && i + 1 == argc) {
		print_images();
	} else if (!strcmp(argv[i], "image") && i + 3 <= argc && i + 4 >= argc && !strcmp(argv[i + 1], "import")) {
		char path[4096];

		snprintf(path, sizeof(path), "%s", argv[i + 2]);
		image_import(argv[i + 2], i + 4 == argc ? argv[i + 3] : basename(path));
	} else if (!strcmp(argv[i], "image") && i + 3 == argc && !strcmp(argv[i + 1], "rm")) {
		char name[PVHV_MGMT_IMAGE_NAME] = { 0 };

		if (strlen(argv[i + 2]) >= sizeof(name))
			die("image name \"%s\": longer than %zu bytes", argv[i + 2], sizeof(name) - 1);
		strcpy(name, argv[i + 2]);
		call(PVHV_MGMT_IMAGE_DELETE, name, sizeof(name), name, 0);
		printf("deleted %s\n", name);
	} else {
		return false;
	}
	return true;
}

static void usage(void)
{
	fprintf(stderr, "usage: pvhctl [--json] [--to vsock:CID:PORT | --api SOCKET | --host ADDR:PORT [--token-file F]] hello|host stop|ps|info DOMAIN|destroy DOMAIN|"
		"logs [-f] DOMAIN|events [AFTER]|create NAME --kernel IMAGE [options]|run NAME [options] -- CMD...|run [options] IMAGE -- CMD...|"
		"images|image import FILE [NAME]|image rm NAME|"
		"start|pause|resume|stop DOMAIN|rm [-f] DOMAIN|stats [DOMAIN]...|console DOMAIN TEXT|"
		"exec [-i] DOMAIN -- CMD...|api [--socket PATH] METHOD PATH [BODY|@FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *host = NULL, *api = NULL, *token_file = NULL;
	bool to_given = false;
	struct stat sb;
	int i = 1;

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--host") && i + 1 < argc)
			host = argv[++i];
		else if (!strcmp(argv[i], "--api") && i + 1 < argc)
			api = argv[++i];
		else if (!strcmp(argv[i], "--token-file") && i + 1 < argc)
			token_file = argv[++i];
		else if (!strcmp(argv[i], "--to") && i + 1 < argc &&
			 sscanf(argv[i + 1], "vsock:%u:%u", &to_cid, &to_port) == 2)
			i++, to_given = true;
		else
			usage();
	}
	/* Images through pvhd when it serves here: its store (if any) must see every upload and delete. */
	if (!host && !api && !to_given && i + 1 < argc && !strcmp(argv[i], "image") &&
	    (!strcmp(argv[i + 1], "import") || !strcmp(argv[i + 1], "rm")) && !lstat("/run/pvhd.sock", &sb) &&
	    S_ISSOCK(sb.st_mode))
		api = "/run/pvhd.sock";
	if (i >= argc)
		usage();
	if (!strcmp(argv[i], "api"))
		return api_main(argc - i, argv + i);
	if (host && api)
		die("--host or --api, not both");
	remote_setup(host, api, token_file);
	connect_pvhv();
	if (image_command(argc, argv, i)) {
		/* done */
	} else if (!strcmp(argv[i], "hello") && i + 1 == argc) {
		struct pvhv_mgmt_hello h;

		if (call(PVHV_MGMT_HELLO, NULL, 0, &h, sizeof(h)) != sizeof(h))
			die("a short hello reply");
		if (json)
			printf("{\"protocol\":%u,\"abi\":\"%u.%u\",\"cpus\":%u,\"max_domains\":%u,"
			       "\"memory_mib\":%llu,\"free_mib\":%llu,\"free_bytes\":%llu,\"table_bytes\":%llu,\"tsc_khz\":%u,"
			       "\"vendor\":\"%s\"}\n",
			       h.version, h.abi_version >> 16, h.abi_version & 0xffff, h.host_cpus, h.max_domains,
			       (unsigned long long)(h.host_mem_bytes >> 20), (unsigned long long)(h.free_mem_bytes >> 20),
			       (unsigned long long)h.free_mem_bytes, (unsigned long long)h.table_bytes, h.tsc_khz, h.vendor == 1 ? "svm" : "vmx");
		else
			printf("%.*s protocol %u, ABI %u.%u, %u CPUs (%s), %u domains at most, %llu MiB, %llu MiB free\n",
			       (int)sizeof(h.name), h.name, h.version, h.abi_version >> 16, h.abi_version & 0xffff,
			       h.host_cpus, h.vendor == 1 ? "AMD-V" : "VT-x", h.max_domains,
			       (unsigned long long)(h.host_mem_bytes >> 20), (unsigned long long)(h.free_mem_bytes >> 20));
	} else if (!strcmp(argv[i], "host") && i + 2 == argc && !strcmp(argv[i + 1], "stop")) {
		uint8_t none[1];

		call(PVHV_MGMT_HOST_STOP, NULL, 0, none, 0);
		printf("pvhv is stopping\n");
	} else if (!strcmp(argv[i], "ps") && i + 1 == argc) {
		struct pvhv_mgmt_domain *d;
		unsigned n = list(&d);

		if (json)
			putchar('[');
		else
			printf("%-4s %-4s %-16s %-8s %-11s %5s %8s %10s %10s %5s\n", "ID", "GEN", "NAME", "STATE",
			       "END", "VCPUS", "MEM_MIB", "RUNTIME_S", "CPU_S", "SHARE");
		for (unsigned k = 0; k < n; k++)
			print_domain(&d[k], k == 0, NULL);
		if (json)
			puts("]");
		free(d);
	} else if (!strcmp(argv[i], "info") && i + 2 == argc) {
		struct pvhv_mgmt_ref r = resolve(argv[i + 1]);
		struct pvhv_mgmt_domain d;

		struct pvhv_mgmt_stats st;

		if (call(PVHV_MGMT_DOMAIN_INFO, &r, sizeof(r), &d, sizeof(d)) != sizeof(d))
			die("a short info reply");
		if (call(PVHV_MGMT_DOMAIN_STATS, &r, sizeof(r), &st, sizeof(st)) != sizeof(st))
			die("a short stats reply");
		print_domain(&d, true, &st);
		if (json)
			putchar('\n');
	} else if (!strcmp(argv[i], "destroy") && i + 2 == argc) {
		struct pvhv_mgmt_ref r = resolve(argv[i + 1]);
		uint8_t none[1];

		call(PVHV_MGMT_DOMAIN_DESTROY, &r, sizeof(r), none, 0);
		printf("destroyed %u:%u\n", r.id, r.gen);
	} else if (!strcmp(argv[i], "events") && i + 2 >= argc) {
		static uint8_t buf[PVHV_MGMT_MAX_PAYLOAD];
		uint64_t after = i + 1 < argc ? strtoull(argv[i + 1], NULL, 10) : 0;
		struct pvhv_mgmt_events ev;
		size_t n = call(PVHV_MGMT_EVENTS, &after, sizeof(after), buf, sizeof(buf));

		if (n < sizeof(ev))
			die("a short events reply");
		memcpy(&ev, buf, sizeof(ev));
		if (n != sizeof(ev) + (size_t)ev.count * sizeof(struct pvhv_mgmt_event))
			die("an events reply of %zu bytes for %u events", n, ev.count);
		if (ev.lost)
			fprintf(stderr, "pvhctl: %u events lost (pvhv's log wrapped)\n", ev.lost);
		if (json)
			putchar('[');
		for (unsigned k = 0; k < ev.count; k++) {
			struct pvhv_mgmt_event e;

			memcpy(&e, buf + sizeof(ev) + k * sizeof(e), sizeof(e));
			if (json)
				printf("%s{\"seq\":%llu,\"id\":%u,\"gen\":%u,\"end\":\"%s\",\"exit_status\":%u,"
				       "\"time_us\":%llu,\"reason\":\"%.*s\"}", k ? "," : "", (unsigned long long)e.seq,
				       e.id, e.gen, mgmt_end_name(e.end), e.exit_status, (unsigned long long)e.time_us,
				       (int)strnlen(e.reason, sizeof(e.reason)), e.reason);
			else
				printf("%llu %u:%u %s status %u%s%.*s\n", (unsigned long long)e.seq, e.id, e.gen,
				       mgmt_end_name(e.end), e.exit_status, e.reason[0] ? ": " : "",
				       (int)strnlen(e.reason, sizeof(e.reason)), e.reason);
		}
		if (json)
			puts("]");
	} else if (!strcmp(argv[i], "run") && i + 2 < argc &&
		   ((argv[i + 1][0] == '-' && strcmp(argv[i + 1], "--")) || !strcmp(argv[i + 2], "--"))) {
		return run_image(argc - i - 1, argv + i + 1, argv[0]);
	} else if ((!strcmp(argv[i], "create") || !strcmp(argv[i], "run")) && i + 2 <= argc) {
		bool run = !strcmp(argv[i], "run");
		int cmd = 0;
		static struct pvhv_mgmt_create c;
		struct pvhv_mgmt_ref r;
		unsigned nd = 0;

#define STR(field, v)                                                               \
	do {                                                                        \
		if (strlen(v) >= sizeof(field))                                     \
			die("%s: longer than %zu bytes", v, sizeof(field) - 1);     \
		strcpy(field, v);                                                   \
	} while (0)
		STR(c.name, argv[i + 1]);
		c.memory_mib = 64;
		for (int k = i + 2; k < argc; k++) {
			const char *o = argv[k], *v = k + 1 < argc ? argv[k + 1] : NULL;

			if (run && !strcmp(o, "--")) {
				cmd = k + 1;
				break;
			}
			if (!strcmp(o, "--rng")) {
				c.flags |= PVHV_MGMT_CREATE_RNG;
				continue;
			}
			if (!strcmp(o, "--paused")) {
				c.flags |= PVHV_MGMT_CREATE_PAUSED;
				continue;
			}
			if (!strcmp(o, "--console")) {
				c.flags |= PVHV_MGMT_CREATE_CONSOLE;
				continue;
			}
			if (net_option(o, v, &k, &c))
				continue;
			if (!v)
				usage();
			k++;
			if (!strcmp(o, "--kernel"))
				STR(c.kernel, v);
			else if (!strcmp(o, "--initrd"))
				STR(c.initrd, v);
			else if (!strcmp(o, "--cmdline"))
				STR(c.cmdline, v);
			else if (!strcmp(o, "--memory"))
				c.memory_mib = (uint32_t)strtoul(v, NULL, 0);
			else if (!strcmp(o, "--cpus"))
				c.vcpus = (uint32_t)strtoul(v, NULL, 0);
			else if (!strcmp(o, "--cpu-share"))
				c.cpu_share = parse_u32(o, v);
			else if (!strcmp(o, "--vsock"))
				c.vsock_cid = (uint32_t)strtoul(v, NULL, 0);
			else if (!strcmp(o, "--timeout"))
				c.max_runtime_ms = (uint32_t)strtoul(v, NULL, 0);
			else if (!strcmp(o, "--disk") && nd < 4)
				STR(c.disks[nd++], v);
			else if (!strcmp(o, "--net"))
				parse_net(v, &c);
			else
				usage();
		}
#undef STR
		if (run && (!cmd || cmd >= argc || !c.vsock_cid))
			die("run needs --vsock CID and -- CMD");
		if (run && (c.flags & PVHV_MGMT_CREATE_PAUSED))
			die("run starts what it creates: no --paused");
		net_direct_check();
		if (call(PVHV_MGMT_DOMAIN_CREATE, &c, sizeof(c), &r, sizeof(r)) != sizeof(r))
			die("a short create reply");
		if (!run) {
			printf("%u:%u\n", r.id, r.gen);
		} else {
			mgmt_close(&conn);
			return run_in(r, c.vsock_cid, argv[0], argc - cmd, argv + cmd);
		}
	} else if (!strcmp(argv[i], "logs") && i + 2 == argc) {
		struct pvhv_mgmt_ref r = resolve(argv[i + 1]);
		static char buf[PVHV_MGMT_MAX_PAYLOAD];
		size_t n = call(PVHV_MGMT_CONSOLE_READ, &r, sizeof(r), buf, sizeof(buf));

		fwrite(buf, 1, n, stdout);
	} else if (life_verb(argv[i])) {
		return life_main(argc - i, argv + i, argv[0]);
	} else {
		usage();
	}
	mgmt_close(&conn);
	return 0;
}

/* ------------------------------------------------------------ domain life */

static void stats_of(struct pvhv_mgmt_ref r, struct pvhv_mgmt_stats *s)
{
	if (call(PVHV_MGMT_DOMAIN_STATS, &r, sizeof(r), s, sizeof(*s)) != sizeof(*s))
		die("a short stats reply");
}

/* Polls until the domain has ended (true), or its slot went to another domain (true), for at most s seconds. */
static bool wait_ended(struct pvhv_mgmt_ref r, unsigned s)
{
	for (unsigned i = 0; i < s * 10; i++) {
		struct pvhv_mgmt_domain *d;
		unsigned n = list(&d);
		bool live = false;

		for (unsigned k = 0; k < n; k++)
			if (d[k].id == r.id && d[k].gen == r.gen && d[k].state != PVHV_MGMT_STATE_ENDED)
				live = true;
		free(d);
		if (!live)
			return true;
		usleep(100000);
	}
	return false;
}

static void ref_call(uint16_t type, struct pvhv_mgmt_ref r)
{
	uint8_t none[1];

	call(type, &r, sizeof(r), none, 0);
}

static void print_stats(const struct pvhv_mgmt_stats *s, const char *name, bool first)
{
	const char *state = s->flags & PVHV_MGMT_DOM_NOT_STARTED ? "created" : state_name(s->state);

	if (!json) {
		printf("%-4u %-4u %-16s %-8s %10.3f %10.3f %8llu %8llu %8llu %10llu %8llu %8llu %10llu\n", s->id,
		       s->gen, name, state, s->cpu_us / 1e6, s->paused_us / 1e6,
		       (unsigned long long)(s->memory_bytes >> 20), (unsigned long long)(s->populated_bytes >> 20),
		       (unsigned long long)(s->overlay_pages * 4), (unsigned long long)s->console_out_bytes,
		       (unsigned long long)s->console_dropped_bytes, (unsigned long long)s->console_in_bytes,
		       (unsigned long long)s->exits_total);
		print_net(s);
		return;
	}
	printf("%s{\"id\":%u,\"gen\":%u,\"name\":\"%s\",\"state\":\"%s\",\"vcpus\":%u,\"vsock_cid\":%u,"
	       "\"runtime_us\":%llu,\"cpu_us\":%llu,\"paused_us\":%llu,\"exits\":%llu,\"exits_by_reason\":{",
	       first ? "" : ",", s->id, s->gen, name, state, s->vcpus, s->vsock_cid,
	       (unsigned long long)s->runtime_us, (unsigned long long)s->cpu_us, (unsigned long long)s->paused_us,
	       (unsigned long long)s->exits_total);
	for (unsigned r = 0, k = 0; r < PVHV_MGMT_EXIT_REASONS; r++)
		if (mgmt_exit_name(r) && s->exits[r])
			printf("%s\"%s\":%llu", k++ ? "," : "", mgmt_exit_name(r), (unsigned long long)s->exits[r]);
	printf("},\"memory_bytes\":%llu,\"populated_bytes\":%llu,\"populated_peak_bytes\":%llu,"
	       "\"overlay_pages\":%llu,\"overlay_peak_pages\":%llu,\"console_out_bytes\":%llu,"
	       "\"console_dropped_bytes\":%llu,\"console_in_bytes\":%llu,\"console_lines\":%llu,"
	       "\"vsock_refused\":%llu,\"net_tx_frames\":%llu,\"net_tx_bytes\":%llu,\"net_drops\":%llu,"
	       "\"reboots\":%u,\"cpu_share\":%u,\"image_chunks_shared\":%llu,\"image_chunks_copied\":%llu",
	       (unsigned long long)s->memory_bytes, (unsigned long long)s->populated_bytes,
	       (unsigned long long)s->populated_peak_bytes, (unsigned long long)s->overlay_pages,
	       (unsigned long long)s->overlay_peak_pages, (unsigned long long)s->console_out_bytes,
	       (unsigned long long)s->console_dropped_bytes, (unsigned long long)s->console_in_bytes,
	       (unsigned long long)s->console_lines, (unsigned long long)s->vsock_refused,
	       (unsigned long long)s->net_tx_frames, (unsigned long long)s->net_tx_bytes,
	       (unsigned long long)s->net_drops, s->reboots, s->cpu_share,
	       (unsigned long long)s->image_chunks_shared, (unsigned long long)s->image_chunks_copied);
	print_net(s);
	putchar('}');
}

/* stats [DOMAIN]...: the named domains, or every one that has not ended. */
static int stats_cmd(int argc, char **argv)
{
	struct pvhv_mgmt_domain *d;
	unsigned n = list(&d), shown = 0;
	struct pvhv_mgmt_stats s;
	char name[sizeof(d[0].name) + 1];

	if (json)
		putchar('[');
	else
		printf("%-4s %-4s %-16s %-8s %10s %10s %8s %8s %8s %10s %8s %8s %10s\n", "ID", "GEN", "NAME",
		       "STATE", "CPU_S", "PAUSED_S", "MEM_MIB", "RSS_MIB", "OVL_KIB", "CON_OUT", "CON_DROP",
		       "CON_IN", "EXITS");
	for (int a = 1; a < argc; a++) {
		struct pvhv_mgmt_ref r = resolve(argv[a]);

		stats_of(r, &s);
		snprintf(name, sizeof(name), "%s", argv[a]);
		for (unsigned k = 0; k < n; k++)
			if (d[k].id == r.id && d[k].gen == r.gen)
				snprintf(name, sizeof(name), "%.*s", (int)sizeof(d[k].name), d[k].name);
		print_stats(&s, name, !shown++);
	}
	for (unsigned k = 0; argc == 1 && k < n; k++) {
		if (d[k].state == PVHV_MGMT_STATE_ENDED)
			continue;
		stats_of((struct pvhv_mgmt_ref){ d[k].id, d[k].gen }, &s);
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(d[k].name), d[k].name);
		print_stats(&s, name, !shown++);
	}
	if (json)
		puts("]");
	free(d);
	return 0;
}

/*
 * logs -f: CONSOLE_READ gives the last lines; console_lines in the stats
 * says how many were ever kept, so the new ones are the last (count -
 * count seen) of a read that two equal counts enclose.
 */
static int follow(struct pvhv_mgmt_ref r)
{
	static char buf[PVHV_MGMT_MAX_PAYLOAD + 1];
	uint64_t seen = 0;
	bool first = true;

	for (;;) {
		struct pvhv_mgmt_stats a, b;
		size_t n;
		unsigned lines = 0;
		char *p;

		stats_of(r, &a);
		n = call(PVHV_MGMT_CONSOLE_READ, &r, sizeof(r), buf, sizeof(buf) - 1);
		stats_of(r, &b);
		if (a.console_lines != b.console_lines)
			continue;   /* lines came in between: read again */
		buf[n] = 0;
		for (size_t k = 0; k < n; k++)
			lines += buf[k] == '\n';
		if (!first && b.console_lines - seen > lines)
			printf("... %llu lines missed\n", (unsigned long long)(b.console_lines - seen - lines));
		/* Skip what was shown already. */
		p = buf;
		for (uint64_t fresh = b.console_lines - seen, skip = first || fresh >= lines ? 0 : lines - fresh;
		     skip; skip--)
			p = strchr(p, '\n') + 1;
		fputs(p, stdout);
		fflush(stdout);
		seen = b.console_lines;
		first = false;
		if (b.state == PVHV_MGMT_STATE_ENDED)
			return 0;
		usleep(200000);
	}
}

/* exec: CMD through the domain's agent, by agent-run beside pvhctl. */
static int exec_cmd(int argc, char **argv, const char *self)
{
	bool with_stdin = false;
	int a = 1, k = 0, st;
	struct pvhv_mgmt_ref r;
	struct pvhv_mgmt_stats s;
	char path[4096], prog[4200], addr[32];
	char **av;
	pid_t pid;

	if (a < argc && !strcmp(argv[a], "-i"))
		with_stdin = true, a++;
	if (a + 2 >= argc || strcmp(argv[a + 1], "--"))
		usage();
	if (remote_on()) {
		if (with_stdin)
			die("exec -i: pvhd's exec takes no input stream");
		return remote_exec(argv[a], argc - a - 2, argv + a + 2);
	}
	r = resolve(argv[a]);
	stats_of(r, &s);
	if (s.state != PVHV_MGMT_STATE_RUNNING)
		die("%s is %s: exec needs a running domain", argv[a],
		    s.flags & PVHV_MGMT_DOM_NOT_STARTED ? "created, not started" : state_name(s.state));
	if (!s.vsock_cid)
		die("%s has no vsock device: no agent to exec through", argv[a]);
	mgmt_close(&conn);
	av = calloc((size_t)argc + 4, sizeof(*av));
	if (!av)
		die("out of memory");
	snprintf(addr, sizeof(addr), "vsock:%u", s.vsock_cid);
	av[k++] = "agent-run";
	if (!with_stdin)
		av[k++] = "-n";
	av[k++] = addr;
	av[k++] = "--";
	for (int i = a + 2; i < argc; i++)
		av[k++] = argv[i];
	agent_run_dir(self, path, sizeof(path));
	snprintf(prog, sizeof(prog), "%s/agent-run", path);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		execv(prog, av);
		fprintf(stderr, "pvhctl: %s: %s\n", prog, strerror(errno));
		_exit(125);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		die("agent-run: %s", strerror(errno));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static bool life_verb(const char *verb)
{
	static const char *const verbs[] = { "start", "pause", "resume", "stop", "rm", "stats", "logs",
					     "console", "exec" };

	for (size_t k = 0; k < sizeof(verbs) / sizeof(verbs[0]); k++)
		if (!strcmp(verb, verbs[k]))
			return true;
	return false;
}

static int life_main(int argc, char **argv, const char *self)
{
	const char *v = argv[0];
	struct pvhv_mgmt_ref r;

	if (!strcmp(v, "stats")) {
		if (argc > 1 && !strcmp(argv[1], "--json"))
			json = true, argc--, argv++;
		return stats_cmd(argc, argv);
	}
	if (!strcmp(v, "exec"))
		return exec_cmd(argc, argv, self);
	if (!strcmp(v, "logs")) {
		if (argc != 3 || strcmp(argv[1], "-f"))
			usage();
		return follow(resolve(argv[2]));
	}
	if (!strcmp(v, "console")) {
		static uint8_t p[sizeof(struct pvhv_mgmt_console_write) + PVHV_MGMT_CONSOLE_WRITE_MAX];
		struct pvhv_mgmt_console_write cw;
		size_t len, off = 0;

		if (argc != 3)
			usage();
		r = resolve(argv[1]);
		len = strlen(argv[2]) + 1;
		if (len > PVHV_MGMT_CONSOLE_WRITE_MAX)
			die("text of %zu bytes, at most %u", len, PVHV_MGMT_CONSOLE_WRITE_MAX);
		/* What its input buffer cannot take now goes in later pieces. */
		for (int tries = 0; off < len; tries++) {
			uint32_t took;

			cw = (struct pvhv_mgmt_console_write){ r.id, r.gen, (uint32_t)(len - off), 0 };
			memcpy(p, &cw, sizeof(cw));
			memcpy(p + sizeof(cw), argv[2] + off, len - off - 1);
			p[sizeof(cw) + len - off - 1] = '\n';
			if (call(PVHV_MGMT_CONSOLE_WRITE, p, (uint32_t)(sizeof(cw) + len - off), &took,
				 sizeof(took)) != sizeof(took) || took > len - off)
				die("a malformed console write reply");
			off += took;
			if (off < len && tries >= 100)
				die("%s takes no more console input (%zu of %zu bytes taken)", argv[1], off, len);
			if (off < len)
				usleep(100000);
		}
		return 0;
	}
	if (!strcmp(v, "rm")) {
		bool force = argc == 3 && !strcmp(argv[1], "-f");
		struct pvhv_mgmt_domain d;

		if (argc != 2 + force)
			usage();
		r = resolve(argv[1 + force]);
		if (call(PVHV_MGMT_DOMAIN_INFO, &r, sizeof(r), &d, sizeof(d)) != sizeof(d))
			die("a short info reply");
		if (d.state != PVHV_MGMT_STATE_ENDED) {
			if (!force)
				die("%s is %s: stop it first, or rm -f", argv[1], d.flags & PVHV_MGMT_DOM_NOT_STARTED ?
				    "created" : state_name(d.state));
			ref_call(PVHV_MGMT_DOMAIN_DESTROY, r);
			if (!wait_ended(r, 30))
				die("%s has not ended after 30 s", argv[1 + force]);
		}
		printf("removed %u:%u\n", r.id, r.gen);
		return 0;
	}
	if (argc != 2)
		usage();
	r = resolve(argv[1]);
	if (!strcmp(v, "stop")) {
		struct pvhv_mgmt_domain d;

		if (call(PVHV_MGMT_DOMAIN_INFO, &r, sizeof(r), &d, sizeof(d)) != sizeof(d))
			die("a short info reply");
		if (d.state != PVHV_MGMT_STATE_ENDED)
			ref_call(PVHV_MGMT_DOMAIN_DESTROY, r);
		if (!wait_ended(r, 30))
			die("%s has not ended after 30 s", argv[1]);
		printf("stopped %u:%u\n", r.id, r.gen);
		return 0;
	}
	ref_call(!strcmp(v, "start") ? PVHV_MGMT_DOMAIN_START : !strcmp(v, "pause") ? PVHV_MGMT_DOMAIN_PAUSE :
		 PVHV_MGMT_DOMAIN_RESUME, r);
	printf("%s %u:%u\n", !strcmp(v, "start") ? "started" : !strcmp(v, "pause") ? "paused" : "resumed",
	       r.id, r.gen);
	return 0;
}
