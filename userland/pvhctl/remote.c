/* SPDX-License-Identifier: Apache-2.0 */
/*
 * remote.c: pvhctl's verbs through pvhd (--host ADDR:PORT or --api SOCKET)
 * instead of pvhv's management stream: each management request becomes
 * the pvhd resource that does it, and pvhd's JSON reply is decoded back
 * into the management result, so pvhctl.c prints both paths with the same
 * code.  A refusal ends pvhctl with pvhd's fault_message and HTTP status.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fdio.h"
#include "jsonw.h"
#include "pvhctl.h"
#include "tools/json.h"

#define REPLY_MAX (16u << 20)   /* an exec reply: 1 MiB of output each way, escaped */
#define TOKENS_MAX (1u << 20)

static const char *host, *sock_path;
static char token[256];

void remote_setup(const char *h, const char *api, const char *token_file)
{
	const char *env = getenv("PVHCTL_TOKEN");

	host = h;
	sock_path = api;
	/* pvhd may refuse an upload and close before its body is all sent: the write fails, the answer counts. */
	if (host || api)
		signal(SIGPIPE, SIG_IGN);
	if (!host)
		return;
	if (token_file) {
		FILE *f = fopen(token_file, "r");

		if (!f || !fgets(token, sizeof(token), f))
			die("--token-file %s: %s", token_file, f ? "empty" : strerror(errno));
		fclose(f);
	} else if (env) {
		snprintf(token, sizeof(token), "%s", env);
	}
	token[strcspn(token, "\r\n")] = 0;
	if (!token[0])
		die("--host %s needs pvhd's token: --token-file F or PVHCTL_TOKEN", host);
}

bool remote_on(void)
{
	return host || sock_path;
}

/* A connected stream to pvhd: TCP ADDR:PORT, or its unix socket. */
static int dial(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in in = { .sin_family = AF_INET };
	const char *colon = host ? strrchr(host, ':') : NULL;
	char addr[64];
	int s;

	if (!host) {
		if (strlen(sock_path) >= sizeof(un.sun_path))
			die("--api %s: too long", sock_path);
		strcpy(un.sun_path, sock_path);
		s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&un, sizeof(un)))
			die("--api %s: %s (is pvhd running?)", sock_path, strerror(errno));
		return s;
	}
	if (!colon || (size_t)(colon - host) >= sizeof(addr) || !atoi(colon + 1))
		die("--host %s: not ADDR:PORT", host);
	snprintf(addr, sizeof(addr), "%.*s", (int)(colon - host), host);
	in.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, addr, &in.sin_addr) != 1)
		die("--host %s: \"%s\" is not an IPv4 address", host, addr);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&in, sizeof(in)))
		die("--host %s: %s (is pvhd --tcp running there?)", host, strerror(errno));
	return s;
}

/* The reply to a request: status and body (NUL-terminated, malloc'd). */
struct answer {
	int status;
	char *body;
	size_t len;
};

/* Reads a whole response (Content-Length delimited, after any "100 Continue"). */
static void read_answer(int s, struct answer *a, const char *what)
{
	size_t cap = 65536, len = 0, head = 0;
	char *b = malloc(cap + 1), *end = NULL, *cl;
	unsigned long long want;

	for (;;) {
		ssize_t n;

		if (!b)
			die("out of memory");
		if (end && len - head >= want)
			break;
		if (len == cap) {
			if (cap >= REPLY_MAX)
				die("%s: a reply of more than %u bytes from pvhd", what, REPLY_MAX);
			cap *= 2;
			b = realloc(b, cap + 1);
			continue;
		}
		n = read(s, b + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("%s: pvhd's reply was cut after %zu bytes", what, len);
		len += (size_t)n;
		b[len] = 0;
		if (!end && (end = strstr(b, "\r\n\r\n"))) {
			if (!strncmp(b, "HTTP/1.1 100 ", 13)) {
				len -= (size_t)(end + 4 - b);
				memmove(b, end + 4, len + 1);
				end = NULL;
				continue;
			}
			*end = 0;
			cl = strcasestr(b, "\r\nContent-Length:");
			if (sscanf(b, "HTTP/1.%*c %d ", &a->status) != 1 || !cl)
				die("%s: not an HTTP reply from pvhd", what);
			want = strtoull(cl + 17, NULL, 10);
			head = (size_t)(end + 4 - b);
		}
	}
	a->len = (size_t)want;
	memmove(b, b + head, a->len);
	b[a->len] = 0;
	a->body = b;
}

/*
 * One request (body: NULL, a string, or fd's size bytes streamed); dies
 * with pvhd's fault_message and status unless the status is 2xx.
 */
static void request(const char *method, const char *path, const char *body, int fd, uint64_t size,
		    struct answer *a)
{
	char head[1024];
	int s = dial(), n;

	if (body)
		size = strlen(body);
	n = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: pvhd\r\nConnection: close\r\n%s%s%s"
		     "Content-Length: %llu\r\n\r\n", method, path, host ? "Authorization: Bearer " : "",
		     host ? token : "", host ? "\r\n" : "", (unsigned long long)size);
	if (n < 0 || (size_t)n >= sizeof(head))
		die("%s %s: too long", method, path);
	if (fd_write_all(s, head, (size_t)n) || (body && fd_write_all(s, body, size)))
		die("%s %s: sending it to pvhd: %s", method, path, strerror(errno));
	for (uint64_t off = 0; fd >= 0 && off < size;) {
		static char buf[65536];
		ssize_t r = read(fd, buf, size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("%s: %s at byte %llu", path, r ? strerror(errno) : "shorter than it was",
			     (unsigned long long)off);
		/* pvhd may refuse early and close: its reply still says why. */
		if (fd_write_all(s, buf, (size_t)r))
			break;
		off += (uint64_t)r;
	}
	read_answer(s, a, path);
	close(s);
	if (a->status >= 200 && a->status < 300)
		return;
	{
		static struct json_tok t[64];
		struct json_doc d;
		char msg[1024], err[128];
		int m;

		if (json_parse(&d, a->body, a->len, t, 64, err, sizeof(err)) || (m = json_get(&d, 0, "fault_message")) < 0 ||
		    json_string(&d, (uint32_t)m, msg, sizeof(msg)) < 0)
			snprintf(msg, sizeof(msg), "%.200s", a->body);
		die("%s (pvhd: HTTP %d)", msg, a->status);
	}
}

/* A JSON body parsed (the answer's), or death. */
static void parse(struct json_doc *d, const struct answer *a)
{
	static struct json_tok *t;
	char err[128];

	if (!t)
		t = malloc(TOKENS_MAX * sizeof(*t));
	if (!t || json_parse(d, a->body, a->len, t, TOKENS_MAX, err, sizeof(err)))
		die("pvhd's reply: %s", t ? err : "out of memory");
}

/* GET path, its JSON reply parsed into d (a->body holds the text: the caller frees it). */
static void get(const char *path, struct answer *a, struct json_doc *d)
{
	request("GET", path, NULL, -1, 0, a);
	parse(d, a);
}

/* Member key of object obj as a number (0 when absent). */
static uint64_t num(const struct json_doc *d, int obj, const char *key)
{
	uint64_t v = 0;
	int t = json_get(d, (uint32_t)obj, key);

	if (t >= 0 && json_u64(d, (uint32_t)t, UINT64_MAX, &v))
		die("pvhd's reply: \"%s\" is not a number", key);
	return v;
}

/* Member key as a string into out ("" when absent). */
static void str(const struct json_doc *d, int obj, const char *key, char *out, size_t len)
{
	int t = json_get(d, (uint32_t)obj, key);

	out[0] = 0;
	if (t >= 0 && json_string(d, (uint32_t)t, out, len) < 0)
		die("pvhd's reply: \"%s\" is not a string of at most %zu bytes", key, len - 1);
}

static bool is_true(const struct json_doc *d, int t)
{
	return d->toks[t].type == JSON_BOOL && d->text[d->toks[t].start] == 't';
}

/* A state's name back into pvhv's state (and the not-started flag for "created"). */
static void state_of(const struct json_doc *d, int obj, uint32_t *state, uint32_t *flags)
{
	char s[32];

	str(d, obj, "state", s, sizeof(s));
	if (!strcmp(s, "created")) {
		*state = PVHV_MGMT_STATE_STARTING;
		*flags |= PVHV_MGMT_DOM_NOT_STARTED;
		return;
	}
	for (uint32_t k = 0; k < 16; k++)
		if (!strcmp(s, mgmt_state_name(k, 0))) {
			*state = k;
			return;
		}
	die("pvhd's reply: a sandbox state \"%s\"", s);
}

static uint32_t end_of(const char *name)
{
	for (uint32_t k = 0; k < 16; k++)
		if (!strcmp(name, mgmt_end_name(k)))
			return k;
	return 0;
}

static void domain_of(const struct json_doc *d, int o, struct pvhv_mgmt_domain *x)
{
	char end[32];
	int c = json_get(d, (uint32_t)o, "control");

	memset(x, 0, sizeof(*x));
	x->id = (uint32_t)num(d, o, "id");
	x->gen = (uint32_t)num(d, o, "gen");
	{
		char name[sizeof(x->name) + 1];

		/* pvhv's field need not end in NUL when the name fills it. */
		str(d, o, "name", name, sizeof(name));
		memcpy(x->name, name, strnlen(name, sizeof(x->name)));
	}
	state_of(d, o, &x->state, &x->flags);
	str(d, o, "end", end, sizeof(end));
	x->end = end_of(end);
	x->exit_status = (uint32_t)num(d, o, "exit_status");
	x->vcpus = (uint32_t)num(d, o, "vcpus");
	x->memory_bytes = num(d, o, "memory_mib") << 20;
	x->runtime_us = num(d, o, "runtime_us");
	x->cpu_us = num(d, o, "cpu_us");
	x->exits = num(d, o, "exits");
	x->reboots = (uint32_t)num(d, o, "reboots");
	x->cpu_share = (uint32_t)num(d, o, "cpu_share");
	if (c >= 0 && is_true(d, c))
		x->flags |= PVHV_MGMT_DOM_CONTROL;
}

unsigned remote_list(struct pvhv_mgmt_domain **out)
{
	struct answer a;
	struct json_doc d;
	unsigned n;

	get("/api/v1/sandboxes", &a, &d);
	if (d.toks[0].type != JSON_ARRAY)
		die("pvhd's sandbox list is not an array");
	n = d.toks[0].size;
	*out = calloc(n ? n : 1, sizeof(**out));
	if (!*out)
		die("out of memory");
	for (unsigned k = 0; k < n; k++)
		domain_of(&d, json_at(&d, 0, k), &(*out)[k]);
	free(a.body);
	return n;
}

struct pvhv_mgmt_ref remote_resolve(const char *arg)
{
	struct answer a;
	struct json_doc d;
	char path[256];
	struct pvhv_mgmt_ref r;

	snprintf(path, sizeof(path), "/api/v1/sandboxes/%.200s", arg);
	get(path, &a, &d);
	r.id = (uint32_t)num(&d, 0, "id");
	r.gen = (uint32_t)num(&d, 0, "gen");
	free(a.body);
	return r;
}

void remote_images(struct pvhv_mgmt_image **out, unsigned *n)
{
	struct answer a;
	struct json_doc d;
	char origin[16];

	get("/api/v1/images", &a, &d);
	*n = d.toks[0].type == JSON_ARRAY ? d.toks[0].size : 0;
	*out = calloc(*n ? *n : 1, sizeof(**out));
	if (!*out)
		die("out of memory");
	for (unsigned k = 0; k < *n; k++) {
		int o = json_at(&d, 0, k);
		struct pvhv_mgmt_image *e = &(*out)[k];

		char name[sizeof(e->name) + 1];

		str(&d, o, "name", name, sizeof(name));
		memcpy(e->name, name, strnlen(name, sizeof(e->name)));
		e->size = num(&d, o, "size");
		e->users = (uint32_t)num(&d, o, "users");
		str(&d, o, "origin", origin, sizeof(origin));
		e->origin = !strcmp(origin, "bundle") ? PVHV_MGMT_IMAGE_BUNDLE :
			    !strcmp(origin, "uploaded") ? PVHV_MGMT_IMAGE_UPLOADED : 0;
	}
	free(a.body);
}

void remote_import(int fd, uint64_t size, const char *name)
{
	struct answer a;
	char path[256];

	snprintf(path, sizeof(path), "/api/v1/images/%.200s", name);
	request("PUT", path, NULL, fd, size, &a);
	free(a.body);
}

/* A sandbox's path: /api/v1/sandboxes/ID:GEN[/sub]. */
static void dom_path(char *p, size_t n, const void *payload, const char *sub)
{
	struct pvhv_mgmt_ref r;

	memcpy(&r, payload, sizeof(r));
	snprintf(p, n, "/api/v1/sandboxes/%u:%u%s", r.id, r.gen, sub);
}

/* "network": the address and MAC when given (else pvhd picks them), egress, published ports. */
static void network(struct jsonw *w, const struct pvhv_mgmt_create *c)
{
	char ip[INET_ADDRSTRLEN], mac[18];
	const uint8_t *m = c->net_mac;

	if (c->net_ipv4[1])
		die("--net: pvhd gives a sandbox one address");
	jsonw_key(w, "network");
	jsonw_object(w);
	if (!net_opts.pick && inet_ntop(AF_INET, &c->net_ipv4[0], ip, sizeof(ip))) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
		jsonw_kstr(w, "ipv4", ip);
		jsonw_kstr(w, "mac", mac);
	}
	if (net_opts.egress)
		jsonw_kstr(w, "egress", net_opts.egress);
	jsonw_key(w, "ports");
	jsonw_array(w);
	for (unsigned k = 0; k < net_opts.nports; k++) {
		unsigned long hp, p;
		char *e1, *e2;

		/* pvhd checks the ranges; this only splits HOSTPORT:PORT[/tcp|/udp]. */
		hp = strtoul(net_opts.ports[k], &e1, 10);
		if (*e1 != ':' || e1 == net_opts.ports[k] || !e1[1] || (p = strtoul(e1 + 1, &e2, 10), e2 == e1 + 1) ||
		    (*e2 && strcmp(e2, "/tcp") && strcmp(e2, "/udp")))
			die("-p %s: HOSTPORT:PORT[/tcp|/udp] expected", net_opts.ports[k]);
		jsonw_object(w);
		jsonw_ku64(w, "host_port", hp);
		jsonw_ku64(w, "port", p);
		jsonw_kstr(w, "proto", strcmp(e2, "/udp") ? "tcp" : "udp");
		jsonw_end(w);
	}
	jsonw_end(w);
	jsonw_end(w);
}

/* PUT /api/v1/sandboxes/NAME from a create request (what pvhd's spec takes). */
static void create(const struct pvhv_mgmt_create *c, struct pvhv_mgmt_ref *r)
{
	static char body[8192];
	struct jsonw w;
	struct answer a;
	struct json_doc d;
	char path[128];

	if (c->flags & (PVHV_MGMT_CREATE_RNG | PVHV_MGMT_CREATE_CONSOLE))
		die("--rng and --console are not served through pvhd: run pvhctl in the control domain");
	jsonw_init(&w, body, sizeof(body));
	jsonw_object(&w);
	jsonw_key(&w, "boot-source");
	jsonw_object(&w);
	if (c->kernel[0])
		jsonw_kstr(&w, "kernel_image", c->kernel);
	if (c->initrd[0])
		jsonw_kstr(&w, "initrd", c->initrd);
	if (c->cmdline[0])
		jsonw_kstr(&w, "boot_args", c->cmdline);
	jsonw_end(&w);
	jsonw_key(&w, "machine-config");
	jsonw_object(&w);
	jsonw_ku64(&w, "vcpu_count", c->vcpus ? c->vcpus : 1);
	jsonw_ku64(&w, "mem_size_mib", c->memory_mib);
	if (c->cpu_share)
		jsonw_ku64(&w, "cpu_share", c->cpu_share);
	jsonw_end(&w);
	jsonw_key(&w, "drives");
	jsonw_array(&w);
	for (unsigned k = 0; k < sizeof(c->disks) / sizeof(c->disks[0]) && c->disks[k][0]; k++) {
		bool ro = !strncmp(c->disks[k], "ro:", 3);

		jsonw_object(&w);
		jsonw_kstr(&w, "image", c->disks[k] + (ro ? 3 : 0));
		jsonw_kbool(&w, "is_read_only", ro);
		jsonw_end(&w);
	}
	jsonw_end(&w);
	if (c->vsock_cid) {
		jsonw_key(&w, "vsock");
		jsonw_object(&w);
		jsonw_ku64(&w, "guest_cid", c->vsock_cid);
		jsonw_end(&w);
	}
	jsonw_ku64(&w, "timeout_s", (c->max_runtime_ms + 999) / 1000);
	jsonw_kbool(&w, "paused", c->flags & PVHV_MGMT_CREATE_PAUSED);
	if (c->flags & PVHV_MGMT_CREATE_NET)
		network(&w, c);
	jsonw_end(&w);
	if (w.overflow)
		die("create %s: its request is too large", c->name);
	body[w.len] = 0;
	snprintf(path, sizeof(path), "/api/v1/sandboxes/%.*s", (int)strnlen(c->name, sizeof(c->name)), c->name);
	request("PUT", path, body, -1, 0, &a);
	parse(&d, &a);
	r->id = (uint32_t)num(&d, 0, "id");
	r->gen = (uint32_t)num(&d, 0, "gen");
	free(a.body);
}

/* The console's lines, joined as CONSOLE_READ gives them. */
static size_t console(const struct answer *a, char *out, size_t cap)
{
	static char line[PVHV_MGMT_MAX_PAYLOAD + 1];
	struct json_doc d;
	int lines;
	size_t n = 0;

	parse(&d, a);
	lines = json_get(&d, 0, "lines");
	for (uint32_t k = 0; lines >= 0 && k < d.toks[lines].size; k++) {
		int l = json_string(&d, (uint32_t)json_at(&d, (uint32_t)lines, k), line, sizeof(line));

		if (l < 0 || n + (size_t)l + 1 > cap)
			break;
		memcpy(out + n, line, (size_t)l);
		n += (size_t)l;
		out[n++] = '\n';
	}
	return n;
}

static void hello_of(const struct json_doc *d, struct pvhv_mgmt_hello *h)
{
	char vendor[8];

	memset(h, 0, sizeof(*h));
	str(d, 0, "name", h->name, sizeof(h->name));
	h->version = (uint32_t)num(d, 0, "protocol");
	h->abi_version = (uint32_t)(num(d, 0, "abi_major") << 16 | num(d, 0, "abi_minor"));
	h->host_cpus = (uint32_t)num(d, 0, "cpus");
	h->max_domains = (uint32_t)num(d, 0, "max_domains");
	h->tsc_khz = (uint32_t)num(d, 0, "tsc_khz");
	h->host_mem_bytes = num(d, 0, "memory_bytes");
	h->free_mem_bytes = num(d, 0, "free_bytes");
	h->table_bytes = num(d, 0, "table_bytes");
	str(d, 0, "vendor", vendor, sizeof(vendor));
	h->vendor = !strcmp(vendor, "svm") ? 1 : !strcmp(vendor, "vmx") ? 2 : 0;
}

static void stats_of(const struct json_doc *d, struct pvhv_mgmt_stats *s)
{
	int by = json_get(d, 0, "exits_by_reason");

	memset(s, 0, sizeof(*s));
	s->id = (uint32_t)num(d, 0, "id");
	s->gen = (uint32_t)num(d, 0, "gen");
	state_of(d, 0, &s->state, &s->flags);
	s->vcpus = (uint32_t)num(d, 0, "vcpus");
	s->vsock_cid = (uint32_t)num(d, 0, "vsock_cid");
	s->runtime_us = num(d, 0, "runtime_us");
	s->cpu_us = num(d, 0, "cpu_us");
	s->paused_us = num(d, 0, "paused_us");
	s->exits_total = num(d, 0, "exits");
	s->memory_bytes = num(d, 0, "memory_bytes");
	s->populated_bytes = num(d, 0, "populated_bytes");
	s->populated_peak_bytes = num(d, 0, "populated_peak_bytes");
	s->overlay_pages = num(d, 0, "overlay_pages");
	s->overlay_peak_pages = num(d, 0, "overlay_peak_pages");
	s->console_out_bytes = num(d, 0, "console_out_bytes");
	s->console_dropped_bytes = num(d, 0, "console_dropped_bytes");
	s->console_in_bytes = num(d, 0, "console_in_bytes");
	s->console_lines = num(d, 0, "console_lines");
	s->vsock_refused = num(d, 0, "vsock_refused");
	s->net_tx_frames = num(d, 0, "net_tx_frames");
	s->net_tx_bytes = num(d, 0, "net_tx_bytes");
	s->net_drops = num(d, 0, "net_drops");
	s->reboots = (uint32_t)num(d, 0, "reboots");
	s->cpu_share = (uint32_t)num(d, 0, "cpu_share");
	s->image_chunks_shared = num(d, 0, "image_chunks_shared");
	s->image_chunks_copied = num(d, 0, "image_chunks_copied");
	for (unsigned k = 0; by >= 0 && k < PVHV_MGMT_EXIT_REASONS; k++)
		if (mgmt_exit_name(k))
			s->exits[k] = num(d, by, mgmt_exit_name(k));
}

/* GET .../events?after=N into pvhv's events result. */
static size_t events(const struct json_doc *d, uint8_t *out, size_t cap)
{
	struct pvhv_mgmt_events ev = { 0 };
	int list = json_get(d, 0, "events");
	size_t n = sizeof(ev);
	char end[32];

	ev.lost = (uint32_t)num(d, 0, "lost");
	for (uint32_t k = 0; list >= 0 && k < d->toks[list].size && n + sizeof(struct pvhv_mgmt_event) <= cap; k++) {
		struct pvhv_mgmt_event e = { 0 };
		int o = json_at(d, (uint32_t)list, k);

		e.seq = num(d, o, "seq");
		e.id = (uint32_t)num(d, o, "id");
		e.gen = (uint32_t)num(d, o, "gen");
		str(d, o, "end", end, sizeof(end));
		e.end = end_of(end);
		e.exit_status = (uint32_t)num(d, o, "exit_status");
		e.time_us = num(d, o, "time_us");
		str(d, o, "reason", e.reason, sizeof(e.reason));
		memcpy(out + n, &e, sizeof(e));
		n += sizeof(e);
		ev.count++;
	}
	memcpy(out, &ev, sizeof(ev));
	return n;
}

size_t remote_call(uint16_t type, const void *p, uint32_t len, void *res, size_t cap)
{
	static const char *const actions[] = { [PVHV_MGMT_DOMAIN_START] = "InstanceStart",
					       [PVHV_MGMT_DOMAIN_PAUSE] = "Pause",
					       [PVHV_MGMT_DOMAIN_RESUME] = "Resume" };
	struct pvhv_mgmt_ref ref;
	struct answer a;
	struct json_doc d;
	char path[512], body[64];
	size_t got = 0;

	if (len < sizeof(ref) && type != PVHV_MGMT_HELLO && type != PVHV_MGMT_EVENTS)
		die("this request is not served through pvhd");
	switch (type) {
	case PVHV_MGMT_HELLO:
		get("/api/v1/info", &a, &d);
		hello_of(&d, res);
		got = sizeof(struct pvhv_mgmt_hello);
		break;
	case PVHV_MGMT_DOMAIN_INFO:
		dom_path(path, sizeof(path), p, "");
		get(path, &a, &d);
		domain_of(&d, 0, res);
		got = sizeof(struct pvhv_mgmt_domain);
		break;
	case PVHV_MGMT_DOMAIN_STATS:
		dom_path(path, sizeof(path), p, "/stats");
		get(path, &a, &d);
		stats_of(&d, res);
		got = sizeof(struct pvhv_mgmt_stats);
		break;
	case PVHV_MGMT_DOMAIN_DESTROY:
		dom_path(path, sizeof(path), p, "");
		request("DELETE", path, NULL, -1, 0, &a);
		break;
	case PVHV_MGMT_DOMAIN_START:
	case PVHV_MGMT_DOMAIN_PAUSE:
	case PVHV_MGMT_DOMAIN_RESUME:
		dom_path(path, sizeof(path), p, "/actions");
		snprintf(body, sizeof(body), "{\"action_type\":\"%s\"}", actions[type]);
		request("PUT", path, body, -1, 0, &a);
		break;
	case PVHV_MGMT_CONSOLE_READ:
		dom_path(path, sizeof(path), p, "/console");
		request("GET", path, NULL, -1, 0, &a);
		got = console(&a, res, cap);
		break;
	case PVHV_MGMT_EVENTS: {
		uint64_t after = 0;

		memcpy(&after, p, len >= sizeof(after) ? sizeof(after) : 0);
		snprintf(path, sizeof(path), "/api/v1/events?after=%llu", (unsigned long long)after);
		get(path, &a, &d);
		got = events(&d, res, cap);
		break;
	}
	case PVHV_MGMT_DOMAIN_CREATE:
		create(p, &ref);
		memcpy(res, &ref, sizeof(ref));
		return sizeof(ref);
	case PVHV_MGMT_IMAGE_DELETE:
		snprintf(path, sizeof(path), "/api/v1/images/%.*s", (int)strnlen(p, len), (const char *)p);
		request("DELETE", path, NULL, -1, 0, &a);
		break;
	default:
		die("this request is not served through pvhd: run pvhctl in the control domain");
	}
	free(a.body);
	return got;
}

/* Writes a decoded output string to fd (it may hold any byte but NUL: the agent's text). */
static void output(const struct json_doc *d, const char *key, int fd)
{
	int t = json_get(d, 0, key);
	size_t cap;
	char *buf;
	int n;

	if (t < 0)
		return;
	cap = d->toks[t].end - d->toks[t].start + 1;
	buf = malloc(cap);
	if (!buf)
		die("out of memory");
	n = json_string(d, (uint32_t)t, buf, cap);
	if (n > 0)
		(void)!fd_write_all(fd, buf, (size_t)n);
	free(buf);
}

int remote_exec(const char *domain, int argc, char **argv)
{
	size_t cap = 4096;
	char *body = malloc(cap), path[256], err[256];
	struct jsonw w;
	struct answer a;
	struct json_doc d;
	uint64_t code, sig;

	for (;;) {
		if (!body)
			die("out of memory");
		jsonw_init(&w, body, cap);
		jsonw_object(&w);
		jsonw_key(&w, "cmd");
		jsonw_array(&w);
		for (int k = 0; k < argc; k++)
			jsonw_str(&w, argv[k]);
		jsonw_end(&w);
		jsonw_end(&w);
		if (!w.overflow)
			break;
		cap *= 4;
		body = realloc(body, cap);
	}
	body[w.len] = 0;
	snprintf(path, sizeof(path), "/api/v1/sandboxes/%.200s/exec", domain);
	fflush(stdout);
	request("POST", path, body, -1, 0, &a);
	free(body);
	parse(&d, &a);
	output(&d, "stdout", 1);
	output(&d, "stderr", 2);
	str(&d, 0, "error", err, sizeof(err));
	code = num(&d, 0, "exit_code");
	sig = num(&d, 0, "signal");
	if (err[0])
		fprintf(stderr, "pvhctl: %s\n", err);
	{
		int t = json_get(&d, 0, "truncated");

		if (t >= 0 && is_true(&d, t))
			fprintf(stderr, "pvhctl: the output was cut at pvhd's limit\n");
	}
	free(a.body);
	/* pvhd says 128+N for signal N already, as pvhctl's own exec does. */
	return sig && code < 128 ? 128 + (int)sig : (int)code;
}
