/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uplink.c: pvhd's side of the sandboxes' router (pvhd.h "uplink_*"): the
 * trunk address read once, a free address picked per sandbox, pvhv-router
 * run for each change, and a watcher process that removes an ended
 * sandbox's rules when pvhv reports its end (a crash too).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pvhd.h"

static struct uplink_conf conf;
static uint32_t self;   /* the trunk's own address, host order */
static unsigned prefix;

bool uplink_on(void)
{
	return conf.uplink != NULL;
}

/*
 * argv run with stdout and stderr into out[cap] (NUL-terminated, newlines
 * as spaces): its exit status, or -1 when it could not run.
 */
static int run(char *const *argv, char *out, size_t cap)
{
	int fds[2], st;
	size_t n = 0;
	pid_t pid;

	out[0] = 0;
	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		fprintf(stderr, "%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	for (;;) {
		char skip[256];
		ssize_t r = n + 1 < cap ? read(fds[0], out + n, cap - 1 - n) : read(fds[0], skip, sizeof(skip));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (n + 1 < cap)
			n += (size_t)r;
	}
	close(fds[0]);
	out[n] = 0;
	while (n && out[n - 1] == '\n')
		out[--n] = 0;
	for (size_t k = 0; k < n; k++)
		if (out[k] == '\n')
			out[k] = ' ';
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The trunk's first IPv4 address and prefix: 0, or -1 with a message. */
static int trunk_addr(char *err, size_t errlen)
{
	struct ifaddrs *ifa, *i;
	int rc = -1;

	if (getifaddrs(&ifa))
		return snprintf(err, errlen, "--trunk %s: getifaddrs: %s", conf.trunk, strerror(errno)), -1;
	for (i = ifa; i && rc; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && i->ifa_netmask &&
		    !strcmp(i->ifa_name, conf.trunk)) {
			self = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
			prefix = (unsigned)__builtin_popcount(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
			rc = 0;
		}
	freeifaddrs(ifa);
	if (rc)
		snprintf(err, errlen, "--trunk %s: no IPv4 address on it", conf.trunk);
	return rc;
}

/* The router's rules for ended domains removed, as pvhv's events report their ends; runs for good. */
static void watch(void)
{
	static uint8_t buf[PVHV_MGMT_MAX_PAYLOAD];
	struct mgmt_conn m = { .fd = -1 };
	uint64_t after = 0;

	for (;; sleep(1)) {
		struct pvhv_mgmt_events ev;
		char *argv[2 + 64], refs[64][24], out[512];
		unsigned nrefs = 0;
		size_t got = 0;

		if (m.fd < 0 && mgmt_connect(&m, conf.cid, conf.port))
			continue;
		if (mgmt_call(&m, PVHV_MGMT_EVENTS, &after, sizeof(after), buf, sizeof(buf), &got) || got < sizeof(ev)) {
			mgmt_close(&m);
			continue;
		}
		memcpy(&ev, buf, sizeof(ev));
		if (got != sizeof(ev) + (size_t)ev.count * sizeof(struct pvhv_mgmt_event))
			continue;
		argv[0] = (char *)conf.router;
		argv[1] = "end";
		for (unsigned k = 0; k < ev.count && nrefs < 64; k++) {
			struct pvhv_mgmt_event e;

			memcpy(&e, buf + sizeof(ev) + k * sizeof(e), sizeof(e));
			after = e.seq;
			if (e.end == PVHV_MGMT_END_REBOOT)   /* the same domain runs on */
				continue;
			snprintf(refs[nrefs], sizeof(refs[nrefs]), "%u:%u", e.id, e.gen);
			argv[2 + nrefs] = refs[nrefs];
			nrefs++;
		}
		argv[2 + nrefs] = NULL;
		if (nrefs && run(argv, out, sizeof(out)))
			fprintf(stderr, "pvhd: uplink: %s\n", out);
		else if (nrefs && out[0])
			fprintf(stderr, "pvhd: uplink: %s\n", out);
	}
}

/*
 * A restarted control domain's router starts empty while its sandboxes run
 * on: the entries the router kept on disk for domains pvhv still runs are
 * added again (pvhv-router adopt), the others forgotten.  What cannot be
 * adopted is said on stderr; pvhd serves anyway (those sandboxes have no
 * way out until they are made again).
 */
static void adopt(void)
{
	static char refs[MGMT_CLIENT_MAX_DOMAINS][24];
	char *argv[3 + MGMT_CLIENT_MAX_DOMAINS], out[1024];
	struct mgmt_conn m = { .fd = -1 };
	struct pvhv_mgmt_domain *d = NULL;
	unsigned n = 0, argc = 0;
	int rc;

	if (mgmt_connect(&m, conf.cid, conf.port) || mgmt_list(&m, &d, &n)) {
		fprintf(stderr, "pvhd: uplink: adopt: pvhv's domain list unreadable; no sandbox adopted\n");
		mgmt_close(&m);
		return;
	}
	mgmt_close(&m);
	argv[argc++] = (char *)conf.router;
	argv[argc++] = "adopt";
	for (unsigned k = 0; k < n && argc < ARRAY_SIZE(argv) - 1; k++) {
		if (d[k].state == PVHV_MGMT_STATE_ENDED)
			continue;
		snprintf(refs[argc - 2], sizeof(refs[0]), "%u:%u", d[k].id, d[k].gen);
		argv[argc] = refs[argc - 2];
		argc++;
	}
	argv[argc] = NULL;
	free(d);
	rc = run(argv, out, sizeof(out));
	fprintf(stderr, "pvhd: uplink: %s%s\n", rc ? "adopt failed: " : "", out[0] ? out : "adopt: no output");
}

int uplink_start(const struct uplink_conf *c, char *err, size_t errlen)
{
	static char records[NETPOL_HOSTS_MAX][NETPOL_DNS_MAX + 20];
	char out[512];
	char *argv[8 + 2 * NETPOL_HOSTS_MAX + 1] = { (char *)c->router, "up", "--uplink", (char *)c->uplink,
						      "--trunk", (char *)c->trunk, "--dns", (char *)c->dns };
	unsigned argc = 8;
	int rc;
	pid_t pid;

	conf = *c;
	for (unsigned k = 0; c->hosts && k < c->hosts->n; k++) {
		uint32_t a = c->hosts->addrs[k];

		snprintf(records[k], sizeof(records[k]), "%s=%u.%u.%u.%u", c->hosts->names[k], a >> 24,
			 (a >> 16) & 255, (a >> 8) & 255, a & 255);
		argv[argc++] = "--host";
		argv[argc++] = records[k];
	}
	argv[argc] = NULL;
	if (trunk_addr(err, errlen))
		return -1;
	rc = run(argv, out, sizeof(out));
	if (rc)
		return snprintf(err, errlen, "%s up: %s", c->router, out[0] ? out : "could not run"), -1;
	fprintf(stderr, "pvhd: uplink: %s\n", out);
	adopt();
	pid = fork();
	if (pid == 0) {
		watch();
		_exit(1);
	}
	if (pid < 0)
		return snprintf(err, errlen, "uplink: fork: %s", strerror(errno)), -1;
	return 0;
}

/* The IPv4 addresses live domains' ports hold (host order), into used[cap]: the count, or -1 (a fault in r). */
static int used_addrs(struct client *cl, struct reply *r, uint32_t *used, unsigned cap)
{
	struct pvhv_mgmt_domain *d;
	unsigned n, u = 0;
	int rc = mgmt_list(&cl->mgmt, &d, &n);

	if (rc) {
		reply_mgmt_fault(r, cl, rc, "network.ipv4");
		return -1;
	}
	for (unsigned k = 0; k < n; k++) {
		struct pvhv_mgmt_ref ref = { d[k].id, d[k].gen };
		struct pvhv_mgmt_stats s;

		if (d[k].state == PVHV_MGMT_STATE_ENDED ||
		    mgmt_call_exact(&cl->mgmt, PVHV_MGMT_DOMAIN_STATS, &ref, sizeof(ref), &s, sizeof(s)))
			continue;
		for (unsigned i = 0; i < 2 && s.net_ipv4[i] && u < cap; i++)
			used[u++] = ntohl(s.net_ipv4[i]);
	}
	free(d);
	return (int)u;
}

/* True when host-order a is a host of the trunk's subnet other than ctl's own. */
static bool trunk_host(uint32_t a)
{
	uint32_t host = 0xffffffffu >> prefix;

	return prefix >= 1 && prefix <= 30 && !((a ^ self) & ~host) && a != self && (a & host) && (a & host) != host;
}

/* pvhv-router add for c's address and MAC and net's policy: its exit status, its message in out. */
static int router_add(const char *name, const struct pvhv_mgmt_create *c, const char *egress,
		      const struct spec_net *net, char *out, size_t cap)
{
	char ip[16], mac[18], ports[NETPOL_PORTS_MAX][16];
	char *argv[6 + NETPOL_PORTS_MAX + 1];
	const uint8_t *b = (const uint8_t *)&c->net_ipv4[0], *m = c->net_mac;
	unsigned argc = 0;

	snprintf(ip, sizeof(ip), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	argv[argc++] = (char *)conf.router;
	argv[argc++] = "add";
	argv[argc++] = (char *)name;
	argv[argc++] = ip;
	argv[argc++] = mac;
	argv[argc++] = (char *)egress;
	for (unsigned k = 0; k < net->pol.nports; k++) {
		netpol_port_text(&net->pol, k, ports[k]);
		argv[argc++] = ports[k];
	}
	argv[argc] = NULL;
	return run(argv, out, cap);
}

bool uplink_prepare(struct client *cl, struct reply *r, const char *name, struct pvhv_mgmt_create *c,
		    const struct spec_net *net)
{
	static uint32_t used[2 * MGMT_CLIENT_MAX_DOMAINS + 8];
	char egress[NETPOL_TEXT_MAX], out[512];
	unsigned n = 0;
	uint32_t a;
	int rc;

	if (!net->present)
		return true;
	if (!uplink_on()) {
		reply_fault(r, 409, "network: pvhd runs without --uplink: no router for sandboxes");
		return false;
	}
	if (netpol_egress_text(&net->pol, egress, sizeof(egress))) {
		reply_fault(r, 400, "network.egress: too long");
		return false;
	}
	if (net->pick_ipv4) {
		int u = used_addrs(cl, r, used, ARRAY_SIZE(used) - 8);

		if (u < 0)
			return false;
		n = (unsigned)u;
	}
	for (unsigned tries = 0;; tries++) {
		if (net->pick_ipv4) {
			if (netpol_pick(self, prefix, used, n, &a)) {
				reply_fault(r, 507, "network.ipv4: no free address left on the trunk (/%u)", prefix);
				return false;
			}
			c->net_ipv4[0] = htonl(a);
		}
		a = ntohl(c->net_ipv4[0]);
		if (!trunk_host(a)) {
			reply_fault(r, 400, "network.ipv4: %u.%u.%u.%u is not a host of the trunk's subnet (/%u) other "
				    "than the control domain's", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, prefix);
			return false;
		}
		if (!net->mac_given) {
			/* As pvhctl --net does: locally administered 02:00 and the address, unique as addresses are. */
			c->net_mac[0] = 0x02;
			c->net_mac[1] = 0x00;
			memcpy(c->net_mac + 2, &c->net_ipv4[0], 4);
		}
		rc = router_add(name, c, egress, net, out, sizeof(out));
		/* A concurrent create (not live yet, so not in used[]) holds the picked address: the next one. */
		if (rc == 3 && net->pick_ipv4 && !strncmp(out, "pvhv-router: ipv4:", 18) && tries < 8) {
			used[n++] = a;
			continue;
		}
		break;
	}
	if (rc) {
		/* A tool failed after some of it was applied (dnsmasq's restart): what was added goes. */
		if (rc != 2 && rc != 3)
			uplink_drop(name);
		/* pvhv-router: 2 a malformed request, 3 a conflict (an address, a host port in use). */
		reply_fault(r, rc == 3 ? 409 : rc == 2 ? 400 : 502, "%s",
			    strncmp(out, "pvhv-router: ", 13) ? out : out + 13);
		return false;
	}
	return true;
}

void uplink_bind(const char *name, struct pvhv_mgmt_ref ref)
{
	char id[24], out[256];
	char *argv[] = { (char *)conf.router, "bind", (char *)name, id, NULL };

	snprintf(id, sizeof(id), "%u:%u", ref.id, ref.gen);
	if (run(argv, out, sizeof(out)))
		fprintf(stderr, "pvhd: uplink: %s\n", out);
}

void uplink_drop(const char *name)
{
	char out[256];
	char *argv[] = { (char *)conf.router, "del", (char *)name, NULL };

	if (run(argv, out, sizeof(out)))
		fprintf(stderr, "pvhd: uplink: %s\n", out);
}
