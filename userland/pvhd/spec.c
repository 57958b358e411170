/* SPDX-License-Identifier: Apache-2.0 */
/* spec.c: pvhd's request bodies, checked key by key against what each resource takes (see spec.h). */
#include "tools/json.h"
#include "spec.h"

struct ctx {
	struct json_doc doc;
	struct json_tok toks[SPEC_TOKENS_MAX];
	char *err;
	size_t errlen;
};

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t k = 0; k < n; k++)
		if (!((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') || (s[k] >= '0' && s[k] <= '9') ||
		      s[k] == '.' || s[k] == '_' || s[k] == '-'))
			return false;
	return true;
}

bool spec_sandbox_name_ok(const char *name)
{
	return name_ok(name, sizeof(((struct pvhv_mgmt_create *)0)->name) - 1);
}

bool spec_image_name_ok(const char *name)
{
	return name_ok(name, PVHV_MGMT_IMAGE_NAME - 1);
}

/* "where: what at byte N" for token t (where names the field: "machine-config.vcpu_count"). */
static int bad(struct ctx *x, const char *where, uint32_t t, const char *what)
{
	return errorf(-1, x->err, x->errlen, "%s: %s at byte %u", where, what,
		      t < x->doc.ntoks ? x->doc.toks[t].start : 0);
}

static int parse(struct ctx *x, const char *body, size_t len)
{
	char msg[SPEC_ERRLEN];

	if (len > SPEC_BODY_MAX)
		return errorf(-1, x->err, x->errlen, "body: %zu bytes, at most %u", len, SPEC_BODY_MAX);
	if (json_parse(&x->doc, body, len, x->toks, SPEC_TOKENS_MAX, msg, sizeof(msg)))
		return errorf(-1, x->err, x->errlen, "body: %s", msg);
	if (x->toks[0].type != JSON_OBJECT)
		return bad(x, "body", 0, "a JSON object expected");
	return 0;
}

/*
 * Checks that object obj has only keys from `keys` (NULL-terminated) and
 * none twice; vals[i] gets the value token of keys[i], or -1 if absent.
 */
static int members(struct ctx *x, uint32_t obj, const char *where, const char *const *keys, int *vals)
{
	uint32_t k = obj + 1;
	char key[64];

	if (x->toks[obj].type != JSON_OBJECT)
		return bad(x, where, obj, "a JSON object expected");
	for (int i = 0; keys[i]; i++)
		vals[i] = -1;
	for (uint32_t m = 0; m < x->toks[obj].size; m++) {
		uint32_t v = x->toks[k].next;
		int i = 0;

		if (json_string(&x->doc, k, key, sizeof(key)) < 0)
			return bad(x, where, k, "an unknown key");
		while (keys[i] && strcmp(keys[i], key))
			i++;
		if (!keys[i]) {
			errorf(-1, x->err, x->errlen, "%s: unknown key \"%s\" at byte %u", where, key,
			       x->toks[k].start);
			return -1;
		}
		if (vals[i] >= 0)
			return bad(x, where, k, "a key given twice");
		vals[i] = (int)v;
		k = x->toks[v].next;
	}
	return 0;
}

static int get_u32(struct ctx *x, int t, const char *where, uint64_t min, uint64_t max, uint32_t *out)
{
	uint64_t v;
	char what[64];

	if (t < 0)
		return 0;
	if (json_u64(&x->doc, (uint32_t)t, max, &v) || v < min) {
		snprintf(what, sizeof(what), "an integer %llu..%llu expected", (unsigned long long)min,
			 (unsigned long long)max);
		return bad(x, where, (uint32_t)t, what);
	}
	*out = (uint32_t)v;
	return 0;
}

static int get_bool(struct ctx *x, int t, const char *where, bool *out)
{
	if (t < 0)
		return 0;
	if (x->toks[t].type != JSON_BOOL)
		return bad(x, where, (uint32_t)t, "true or false expected");
	*out = x->doc.text[x->toks[t].start] == 't';
	return 0;
}

/* A string into out[cap] (NUL-terminated, no NUL inside, at most cap - 1 bytes). */
static int get_str(struct ctx *x, int t, const char *where, char *out, size_t cap)
{
	char what[64];
	int n;

	if (t < 0)
		return 0;
	if (x->toks[t].type != JSON_STRING)
		return bad(x, where, (uint32_t)t, "a string expected");
	n = json_string(&x->doc, (uint32_t)t, out, cap);
	if (n == -E2BIG) {
		snprintf(what, sizeof(what), "longer than %zu bytes", cap - 1);
		return bad(x, where, (uint32_t)t, what);
	}
	if (n < 0)
		return bad(x, where, (uint32_t)t, "a string with U+0000 or a lone surrogate");
	return 0;
}

static int image_str(struct ctx *x, int t, const char *where, char *out, size_t cap)
{
	if (get_str(x, t, where, out, cap))
		return -1;
	if (t >= 0 && !spec_image_name_ok(out))
		return bad(x, where, (uint32_t)t, "an image name (1-63 bytes of A-Za-z0-9._-) expected");
	return 0;
}

static int boot_source(struct ctx *x, int t, struct pvhv_mgmt_create *c)
{
	static const char *const keys[] = { "kernel_image", "initrd", "boot_args", NULL };
	int v[3];

	if (t < 0)
		return 0;
	if (members(x, (uint32_t)t, "boot-source", keys, v) ||
	    image_str(x, v[0], "boot-source.kernel_image", c->kernel, sizeof(c->kernel)) ||
	    get_str(x, v[2], "boot-source.boot_args", c->cmdline, sizeof(c->cmdline)))
		return -1;
	/* "" means no initrd. */
	if (v[1] >= 0 && x->toks[v[1]].type == JSON_STRING && x->toks[v[1]].start == x->toks[v[1]].end) {
		c->initrd[0] = 0;
		return 0;
	}
	return image_str(x, v[1], "boot-source.initrd", c->initrd, sizeof(c->initrd));
}

static int machine_config(struct ctx *x, int t, struct pvhv_mgmt_create *c)
{
	static const char *const keys[] = { "vcpu_count", "mem_size_mib", "cpu_share", NULL };
	int v[3];

	if (t < 0)
		return 0;
	return members(x, (uint32_t)t, "machine-config", keys, v) ||
	       get_u32(x, v[0], "machine-config.vcpu_count", 1, SPEC_VCPUS_MAX, &c->vcpus) ||
	       get_u32(x, v[1], "machine-config.mem_size_mib", 1, SPEC_MEMORY_MIB_MAX, &c->memory_mib) ||
	       get_u32(x, v[2], "machine-config.cpu_share", 0, UINT32_MAX, &c->cpu_share) ? -1 : 0;
}

static int drives(struct ctx *x, int t, struct pvhv_mgmt_create *c)
{
	static const char *const keys[] = { "image", "is_read_only", NULL };
	char where[40], name[PVHV_MGMT_IMAGE_NAME];

	if (t < 0)
		return 0;
	if (x->toks[t].type != JSON_ARRAY)
		return bad(x, "drives", (uint32_t)t, "an array expected");
	if (x->toks[t].size > ARRAY_SIZE(c->disks))
		return bad(x, "drives", (uint32_t)t, "at most 4 drives");
	memset(c->disks, 0, sizeof(c->disks));
	for (uint32_t i = 0; i < x->toks[t].size; i++) {
		int e = json_at(&x->doc, (uint32_t)t, i), v[2];
		bool ro = false;

		snprintf(where, sizeof(where), "drives[%u]", i);
		if (members(x, (uint32_t)e, where, keys, v))
			return -1;
		snprintf(where, sizeof(where), "drives[%u].image", i);
		if (v[0] < 0)
			return bad(x, where, (uint32_t)e, "missing");
		if (image_str(x, v[0], where, name, sizeof(name)))
			return -1;
		snprintf(where, sizeof(where), "drives[%u].is_read_only", i);
		if (get_bool(x, v[1], where, &ro))
			return -1;
		snprintf(c->disks[i], sizeof(c->disks[i]), "%s%s", ro ? "ro:" : "", name);
	}
	return 0;
}

static int hexval(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
	       ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* "xx:xx:xx:xx:xx:xx", unicast: true and mac[6]. */
static bool mac_parse(const char *s, uint8_t *mac)
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return !(mac[0] & 1);
}

static int ports(struct ctx *x, int t, struct spec_net *net)
{
	static const char *const keys[] = { "host_port", "port", "proto", NULL };
	char where[40];

	if (t < 0)
		return 0;
	if (x->toks[t].type != JSON_ARRAY)
		return bad(x, "network.ports", (uint32_t)t, "an array expected");
	for (uint32_t i = 0; i < x->toks[t].size; i++) {
		int e = json_at(&x->doc, (uint32_t)t, i), v[3];
		uint32_t hp = 0, p = 0;
		bool udp = false;

		snprintf(where, sizeof(where), "network.ports[%u]", i);
		if (members(x, (uint32_t)e, where, keys, v))
			return -1;
		if (v[0] < 0 || v[1] < 0)
			return bad(x, where, (uint32_t)e, "host_port and port expected");
		if (v[2] >= 0) {
			udp = json_string_is(&x->doc, (uint32_t)v[2], "udp");
			if (!udp && !json_string_is(&x->doc, (uint32_t)v[2], "tcp"))
				return bad(x, where, (uint32_t)v[2], "proto: \"tcp\" or \"udp\" expected");
		}
		if (get_u32(x, v[0], where, 1, 65535, &hp) || get_u32(x, v[1], where, 1, 65535, &p) ||
		    netpol_port(hp, p, udp, where, &net->pol, x->err, x->errlen))
			return -1;
	}
	return 0;
}

static int network(struct ctx *x, int t, struct pvhv_mgmt_create *c, struct spec_net *net)
{
	static const char *const keys[] = { "ipv4", "mac", "egress", "ports", NULL };
	char s[NETPOL_TEXT_MAX];
	uint32_t a;
	int v[4];

	memset(net, 0, sizeof(*net));
	if (t < 0)
		return 0;
	if (members(x, (uint32_t)t, "network", keys, v))
		return -1;
	net->present = true;
	c->flags |= PVHV_MGMT_CREATE_NET;
	net->pick_ipv4 = v[0] < 0;
	if (v[0] >= 0) {
		if (get_str(x, v[0], "network.ipv4", s, 16) || !netpol_ipv4(s, &a))
			return bad(x, "network.ipv4", (uint32_t)v[0], "an IPv4 address (a.b.c.d) expected");
		if (!a || (a >> 24) == 127 || (a >> 28) >= 14)
			return bad(x, "network.ipv4", (uint32_t)v[0], "a unicast host address expected");
		for (int i = 0; i < 4; i++)   /* network byte order */
			((uint8_t *)&c->net_ipv4[0])[i] = (uint8_t)(a >> (24 - 8 * i));
	}
	if (v[1] >= 0) {
		if (get_str(x, v[1], "network.mac", s, 18) || !mac_parse(s, c->net_mac))
			return bad(x, "network.mac", (uint32_t)v[1], "a unicast MAC (xx:xx:xx:xx:xx:xx) expected");
		net->mac_given = true;
	}
	if (v[2] >= 0 &&
	    (get_str(x, v[2], "network.egress", s, sizeof(s)) || netpol_egress(s, "network.egress", &net->pol, x->err,
								       x->errlen)))
		return -1;
	return ports(x, v[3], net);
}

int spec_decode_create(const char *name, const char *body, size_t len, struct pvhv_mgmt_create *c,
		       struct spec_net *net, char *err, size_t errlen)
{
	static const char *const keys[] = { "boot-source", "machine-config", "drives", "vsock", "timeout_s",
					    "paused", "network", NULL };
	static const char *const vsock_keys[] = { "guest_cid", NULL };
	static struct ctx x;
	int v[7], vs[1];
	uint32_t timeout_s = 0;
	bool paused = false;

	x.err = err;
	x.errlen = errlen;
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->kernel, sizeof(c->kernel), "%s", SPEC_DEFAULT_KERNEL);
	snprintf(c->initrd, sizeof(c->initrd), "%s", SPEC_DEFAULT_INITRD);
	snprintf(c->cmdline, sizeof(c->cmdline), "%s", SPEC_DEFAULT_CMDLINE);
	c->memory_mib = SPEC_DEFAULT_MEMORY_MIB;
	c->vcpus = 1;
	if (parse(&x, body, len) || members(&x, 0, "body", keys, v) || boot_source(&x, v[0], c) ||
	    machine_config(&x, v[1], c) || drives(&x, v[2], c) ||
	    get_u32(&x, v[4], "timeout_s", 0, UINT32_MAX / 1000, &timeout_s) || get_bool(&x, v[5], "paused", &paused) ||
	    network(&x, v[6], c, net))
		return -1;
	if (v[3] >= 0 && (members(&x, (uint32_t)v[3], "vsock", vsock_keys, vs) ||
			  get_u32(&x, vs[0], "vsock.guest_cid", 0, UINT32_MAX - 1, &c->vsock_cid)))
		return -1;
	if (c->vsock_cid && c->vsock_cid < 3)
		return bad(&x, "vsock.guest_cid", (uint32_t)vs[0], "0 (pick one) or 3 and above expected");
	c->max_runtime_ms = timeout_s * 1000;
	if (paused)
		c->flags |= PVHV_MGMT_CREATE_PAUSED;
	return 0;
}

int spec_decode_action(const char *body, size_t len, enum spec_action *a, char *err, size_t errlen)
{
	static const char *const keys[] = { "action_type", NULL };
	static const char *const names[] = { "InstanceStart", "Pause", "Resume", "Stop" };
	static struct ctx x;
	char s[16];
	int v[1];

	x.err = err;
	x.errlen = errlen;
	if (parse(&x, body, len) || members(&x, 0, "body", keys, v))
		return -1;
	if (v[0] < 0)
		return bad(&x, "action_type", 0, "missing");
	if (x.toks[v[0]].type == JSON_STRING && json_string(&x.doc, (uint32_t)v[0], s, sizeof(s)) >= 0)
		for (unsigned k = 0; k < ARRAY_SIZE(names); k++)
			if (!strcmp(s, names[k])) {
				*a = (enum spec_action)(k + 1);
				return 0;
			}
	return bad(&x, "action_type", (uint32_t)v[0], "one of InstanceStart, Pause, Resume, Stop expected");
}

/* Array t of strings into list[0..max) (decoded into ex->strings from *used on). */
static int strings(struct ctx *x, int t, const char *where, const char **list, uint32_t max, uint32_t *count,
		   struct spec_exec *ex, size_t *used)
{
	char w[48], what[48];

	if (t < 0)
		return 0;
	if (x->toks[t].type != JSON_ARRAY)
		return bad(x, where, (uint32_t)t, "an array of strings expected");
	if (x->toks[t].size > max) {
		snprintf(what, sizeof(what), "at most %u strings", max);
		return bad(x, where, (uint32_t)t, what);
	}
	for (uint32_t i = 0; i < x->toks[t].size; i++) {
		int e = json_at(&x->doc, (uint32_t)t, i), n;

		snprintf(w, sizeof(w), "%s[%u]", where, i);
		if (x->toks[e].type != JSON_STRING)
			return bad(x, w, (uint32_t)e, "a string expected");
		n = json_string(&x->doc, (uint32_t)e, ex->strings + *used, sizeof(ex->strings) - *used);
		if (n < 0)
			return bad(x, w, (uint32_t)e, "a string with U+0000 or a lone surrogate");
		list[i] = ex->strings + *used;
		*used += (size_t)n + 1;
	}
	list[x->toks[t].size] = NULL;
	*count = x->toks[t].size;
	return 0;
}

int spec_decode_exec(const char *body, size_t len, struct spec_exec *ex, char *err, size_t errlen)
{
	static const char *const keys[] = { "cmd", "env", "cwd", "timeout_s", NULL };
	static struct ctx x;
	size_t used = 0;
	int v[4];

	x.err = err;
	x.errlen = errlen;
	ex->argc = ex->envc = ex->timeout_s = 0;
	ex->argv[0] = ex->env[0] = NULL;
	ex->cwd = "";
	if (parse(&x, body, len) || members(&x, 0, "body", keys, v))
		return -1;
	if (v[0] < 0)
		return bad(&x, "cmd", 0, "missing");
	if (strings(&x, v[0], "cmd", ex->argv, SPEC_EXEC_ARGS_MAX, &ex->argc, ex, &used) ||
	    strings(&x, v[1], "env", ex->env, SPEC_EXEC_ENV_MAX, &ex->envc, ex, &used) ||
	    get_u32(&x, v[3], "timeout_s", 0, UINT32_MAX / 1000, &ex->timeout_s))
		return -1;
	if (ex->argc == 0 || !ex->argv[0][0])
		return bad(&x, "cmd", (uint32_t)v[0], "a non-empty program name expected");
	for (uint32_t i = 0; i < ex->envc; i++) {
		const char *eq = strchr(ex->env[i], '=');

		if (!eq || eq == ex->env[i])
			return errorf(-1, err, errlen, "env[%u]: NAME=VALUE expected", i);
	}
	if (v[2] >= 0) {
		if (x.toks[v[2]].type != JSON_STRING)
			return bad(&x, "cwd", (uint32_t)v[2], "a string expected");
		if (json_string(&x.doc, (uint32_t)v[2], ex->strings + used, sizeof(ex->strings) - used) < 0 ||
		    ex->strings[used] != '/')
			return bad(&x, "cwd", (uint32_t)v[2], "an absolute path expected");
		ex->cwd = ex->strings + used;
	}
	return 0;
}
