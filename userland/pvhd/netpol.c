/* SPDX-License-Identifier: Apache-2.0 */
/* netpol.c: a sandbox's address, egress policy and published ports, checked (see netpol.h). */
#include "netpol.h"

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A decimal 0..max without leading zeros from s[0..n). */
static bool number(const char *s, size_t n, uint32_t max, uint32_t *out)
{
	uint32_t v = 0;

	if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t k = 0; k < n; k++) {
		if (!digit(s[k]) || v > (max - (uint32_t)(s[k] - '0')) / 10)
			return false;
		v = v * 10 + (uint32_t)(s[k] - '0');
	}
	*out = v;
	return true;
}

bool netpol_ipv4(const char *s, uint32_t *out)
{
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		size_t n = 0;
		uint32_t b;

		while (s[n] && s[n] != '.')
			n++;
		if (!number(s, n, 255, &b) || (i < 3 ? s[n] != '.' : s[n] != 0))
			return false;
		a = a << 8 | b;
		s += n + (i < 3);
	}
	*out = a;
	return true;
}

bool netpol_dns_name_ok(const char *s)
{
	size_t len = strlen(s), label = 0;
	bool letter = false;

	if (len == 0 || len > NETPOL_DNS_MAX)
		return false;
	for (size_t k = 0; k <= len; k++) {
		char c = s[k];

		if (c == '.' || c == 0) {
			if (label == 0 || label > 63 || s[k - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!alpha(c) && !digit(c) && !(c == '-' && label > 0))
			return false;
		letter |= alpha(c) || c == '-';
		label++;
	}
	/* All digits and dots would read as an address (RFC 1123 2.1). */
	return letter;
}

int netpol_cidr(const char *s, const char *field, struct netpol_cidr *c, char *err, size_t errlen)
{
	char a[16];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	uint32_t bits = 32;

	if (n >= sizeof(a))
		return errorf(-1, err, errlen, "%s: \"%.40s\" is not an IPv4 address or CIDR", field, s);
	memcpy(a, s, n);
	a[n] = 0;
	if (!netpol_ipv4(a, &c->addr) || (slash && !number(slash + 1, strlen(slash + 1), 32, &bits)))
		return errorf(-1, err, errlen, "%s: \"%.40s\" is not an IPv4 address or CIDR (a.b.c.d/N, N 0..32)",
			      field, s);
	c->prefix = bits;
	if (bits < 32 && (c->addr & (0xffffffffu >> bits)))
		return errorf(-1, err, errlen, "%s: %s has host bits set past /%u", field, s, bits);
	return 0;
}

int netpol_allow(const char *item, const char *field, struct netpol *p, char *err, size_t errlen)
{
	struct netpol_cidr c;
	bool numeric = true;

	for (const char *q = item; *q; q++)
		numeric &= digit(*q) || *q == '.' || *q == '/';
	if (p->ncidrs + p->nnames >= NETPOL_ALLOW_MAX)
		return errorf(-1, err, errlen, "%s: more than %u items in the allow list", field, NETPOL_ALLOW_MAX);
	p->egress = NETPOL_ALLOW;
	if (numeric && item[0]) {
		if (netpol_cidr(item, field, &c, err, errlen))
			return -1;
		for (unsigned k = 0; k < p->ncidrs; k++)
			if (p->cidrs[k].addr == c.addr && p->cidrs[k].prefix == c.prefix)
				return errorf(-1, err, errlen, "%s: %s listed twice", field, item);
		p->cidrs[p->ncidrs++] = c;
		return 0;
	}
	if (!netpol_dns_name_ok(item))
		return errorf(-1, err, errlen, "%s: \"%.64s\" is neither a CIDR nor a DNS name", field, item);
	for (unsigned k = 0; k < p->nnames; k++) {
		bool same = strlen(p->names[k]) == strlen(item);

		for (size_t i = 0; same && item[i]; i++)
			same = p->names[k][i] == (item[i] >= 'A' && item[i] <= 'Z' ? item[i] + 32 : item[i]);
		if (same)
			return errorf(-1, err, errlen, "%s: %s listed twice", field, item);
	}
	for (size_t i = 0; i <= strlen(item); i++)
		p->names[p->nnames][i] = item[i] >= 'A' && item[i] <= 'Z' ? (char)(item[i] + 32) : item[i];
	p->nnames++;
	return 0;
}

int netpol_egress(const char *s, const char *field, struct netpol *p, char *err, size_t errlen)
{
	char item[NETPOL_DNS_MAX + 2];

	p->ncidrs = p->nnames = 0;
	if (!strcmp(s, "none") || !strcmp(s, "all")) {
		p->egress = s[0] == 'n' ? NETPOL_NONE : NETPOL_ALL;
		return 0;
	}
	if (strncmp(s, "allow=", 6) || !s[6])
		return errorf(-1, err, errlen, "%s: \"%.40s\": none, all or allow=CIDR|NAME[,...] expected", field, s);
	for (s += 6;;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);

		if (n == 0 || n >= sizeof(item))
			return errorf(-1, err, errlen, "%s: an empty or overlong item in the allow list", field);
		memcpy(item, s, n);
		item[n] = 0;
		if (netpol_allow(item, field, p, err, errlen))
			return -1;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

int netpol_port(uint64_t host_port, uint64_t port, bool udp, const char *field, struct netpol *p, char *err,
		size_t errlen)
{
	const char *proto = udp ? "UDP" : "TCP";

	if (host_port < 1 || host_port > 65535 || port < 1 || port > 65535)
		return errorf(-1, err, errlen, "%s: ports are 1..65535 (host %llu, sandbox %llu)", field,
			      (unsigned long long)host_port, (unsigned long long)port);
	for (unsigned k = 0; k < p->nports; k++)
		if (p->ports[k].host_port == host_port && p->ports[k].udp == udp)
			return errorf(-1, err, errlen, "%s: %s host port %llu published twice", field, proto,
				      (unsigned long long)host_port);
	if (p->nports >= NETPOL_PORTS_MAX)
		return errorf(-1, err, errlen, "%s: more than %u published ports", field, NETPOL_PORTS_MAX);
	p->ports[p->nports++] = (struct netpol_port){ (uint16_t)host_port, (uint16_t)port, udp };
	return 0;
}

int netpol_port_str(const char *s, const char *field, struct netpol *p, char *err, size_t errlen)
{
	const char *colon = strchr(s, ':'), *slash = strchr(s, '/');
	bool udp = slash && !strcmp(slash, "/udp");
	uint32_t h, g;

	if (!colon || (slash && (slash < colon || (!udp && strcmp(slash, "/tcp")))) ||
	    !number(s, (size_t)(colon - s), 65535, &h) ||
	    !number(colon + 1, slash ? (size_t)(slash - colon - 1) : strlen(colon + 1), 65535, &g))
		return errorf(-1, err, errlen, "%s: \"%.40s\" is not HOSTPORT:PORT[/tcp|/udp] (each port 1..65535)",
			      field, s);
	return netpol_port(h, g, udp, field, p, err, errlen);
}

void netpol_port_text(const struct netpol *p, unsigned k, char out[16])
{
	snprintf(out, 16, "%u:%u%s", p->ports[k].host_port, p->ports[k].port, p->ports[k].udp ? "/udp" : "");
}

int netpol_egress_text(const struct netpol *p, char *out, size_t cap)
{
	size_t n;

	if (p->egress != NETPOL_ALLOW)
		return snprintf(out, cap, "%s", p->egress == NETPOL_ALL ? "all" : "none") < (int)cap ? 0 : -1;
	n = (size_t)snprintf(out, cap, "allow=");
	for (unsigned k = 0; k < p->ncidrs + p->nnames && n < cap; k++) {
		const char *sep = k ? "," : "";

		if (k < p->ncidrs) {
			uint32_t a = p->cidrs[k].addr;

			n += (size_t)snprintf(out + n, cap - n, "%s%u.%u.%u.%u/%u", sep, a >> 24, (a >> 16) & 255,
					      (a >> 8) & 255, a & 255, p->cidrs[k].prefix);
		} else {
			n += (size_t)snprintf(out + n, cap - n, "%s%s", sep, p->names[k - p->ncidrs]);
		}
	}
	return n < cap ? 0 : -1;
}

int netpol_pick(uint32_t self, unsigned prefix, const uint32_t *used, unsigned n, uint32_t *out)
{
	uint32_t mask, net, last;

	if (prefix < 1 || prefix > 30)
		return -1;
	mask = 0xffffffffu << (32 - prefix);
	net = self & mask;
	last = net | ~mask;
	for (uint32_t a = net + 1; a < last; a++) {
		bool taken = a == self;

		for (unsigned k = 0; k < n && !taken; k++)
			taken = used[k] == a;
		if (!taken) {
			*out = a;
			return 0;
		}
	}
	return -1;
}

int netpol_host_record(const char *s, const char *field, struct netpol_hosts *h, char *err, size_t errlen)
{
	const char *eq = strchr(s, '=');
	char name[NETPOL_DNS_MAX + 1];
	size_t n = eq ? (size_t)(eq - s) : 0;
	uint32_t a;

	if (!eq || n == 0 || n > NETPOL_DNS_MAX)
		return errorf(-1, err, errlen, "%s: \"%.64s\" is not NAME=IPV4", field, s);
	for (size_t i = 0; i < n; i++)
		name[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	name[n] = 0;
	if (!netpol_dns_name_ok(name))
		return errorf(-1, err, errlen, "%s: \"%.64s\" is not a DNS name", field, name);
	if (!netpol_ipv4(eq + 1, &a))
		return errorf(-1, err, errlen, "%s: \"%.40s\" is not an IPv4 address", field, eq + 1);
	if ((a >> 24) == 0 || (a >> 24) == 127 || (a >> 29) == 7)
		return errorf(-1, err, errlen, "%s: %s is not a unicast address a sandbox could reach (0/8, "
			      "127/8 and 224/3 are refused)", field, eq + 1);
	for (unsigned k = 0; k < h->n; k++)
		if (!strcmp(h->names[k], name))
			return errorf(-1, err, errlen, "%s: %s defined twice", field, name);
	if (h->n >= NETPOL_HOSTS_MAX)
		return errorf(-1, err, errlen, "%s: more than %u host records", field, NETPOL_HOSTS_MAX);
	memcpy(h->names[h->n], name, n + 1);
	h->addrs[h->n++] = a;
	return 0;
}
