/* SPDX-License-Identifier: Apache-2.0 */
/* switch.c: the L2 switch's anti-spoofing policy, point-to-point and trunk routing (see switch.h). */
#include "drivers/virtio/switch.h"

#define ETH_HEADER 14u
#define ETHERTYPE_IPV4 0x0800u
#define ETHERTYPE_ARP 0x0806u
#define ETHERTYPE_IPV6 0x86ddu
#define ETHERTYPE_VLAN 0x8100u
#define ETHERTYPE_QINQ 0x88a8u
#define ETHERTYPE_QINQ_OLD 0x9100u

#define IPPROTO_UDP 17u
#define IPV6_HOPOPTS 0u
#define IPV6_ROUTING 43u
#define IPV6_FRAGMENT 44u
#define IPV6_DSTOPTS 60u
#define IPV6_ICMP 58u

/* ICMPv6 types (RFC 4443, 4861, 2710, 3810). */
#define MLD_REPORT_V1 131u
#define ND_ROUTER_SOLICIT 133u
#define ND_ROUTER_ADVERT 134u
#define ND_NEIGHBOR_SOLICIT 135u
#define ND_NEIGHBOR_ADVERT 136u
#define ND_REDIRECT 137u
#define MLD_REPORT_V2 143u
#define ND_OPT_SOURCE_LL 1u
#define ND_OPT_TARGET_LL 2u

#define OK SWITCH_DROP_NR

static const char *const drop_names[SWITCH_DROP_NR] = {
	[SWITCH_DROP_MALFORMED] = "malformed",
	[SWITCH_DROP_SRC_MAC] = "src-mac",
	[SWITCH_DROP_VLAN] = "vlan",
	[SWITCH_DROP_ETHERTYPE] = "ethertype",
	[SWITCH_DROP_IPV4_SRC] = "ipv4-src",
	[SWITCH_DROP_ARP] = "arp",
	[SWITCH_DROP_IPV6_SRC] = "ipv6-src",
	[SWITCH_DROP_ND] = "nd",
	[SWITCH_DROP_ROUTER] = "router",
	[SWITCH_DROP_NO_LINK] = "no-link",
	[SWITCH_DROP_NOT_PEER] = "not-peer",
	[SWITCH_DROP_PEER_FULL] = "peer-full",
	[SWITCH_DROP_TO_MEMBER] = "to-member",
	[SWITCH_DROP_UNKNOWN_DST] = "unknown-dst",
};

const char *switch_drop_name(unsigned reason)
{
	return reason < SWITCH_DROP_NR ? drop_names[reason] : "?";
}

PRINTF_LIKE(4, 5)
static unsigned refuse(unsigned reason, char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return reason;
}

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static bool is_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

void switch_link_local(const uint8_t mac[6], uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfe;
	out[1] = 0x80;
	out[8] = mac[0] ^ 0x02;   /* the universal/local bit inverted */
	out[9] = mac[1];
	out[10] = mac[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	out[13] = mac[3];
	out[14] = mac[4];
	out[15] = mac[5];
}

static bool own_ipv4(const struct switch_port *p, const uint8_t *a)
{
	for (unsigned i = 0; i < MIN(p->nr_ipv4, SWITCH_ADDRS_MAX); i++)
		if (!memcmp(p->ipv4[i], a, 4))
			return true;
	return false;
}

/* One of the port's IPv6 addresses, or its EUI-64 link-local one. */
static bool own_ipv6(const struct switch_port *p, const uint8_t *a)
{
	uint8_t ll[16];

	switch_link_local(p->mac, ll);
	if (!memcmp(ll, a, 16))
		return true;
	for (unsigned i = 0; i < MIN(p->nr_ipv6, SWITCH_ADDRS_MAX); i++)
		if (!memcmp(p->ipv6[i], a, 16))
			return true;
	return false;
}

/* ip[0, n): the IPv4 packet after the Ethernet header (n may include padding). */
static unsigned check_ipv4(const struct switch_port *p, const uint8_t *ip, size_t n, char *why,
			   size_t whylen)
{
	unsigned ihl, total;

	if (n < 20 || ip[0] >> 4 != 4 || (ihl = (ip[0] & 15u) * 4u) < 20 || ihl > n)
		return refuse(SWITCH_DROP_MALFORMED, why, whylen, "IPv4 header does not fit %zu bytes", n);
	total = be16(ip + 2);
	if (total < ihl || total > n)
		return refuse(SWITCH_DROP_MALFORMED, why, whylen, "IPv4 total length %u in %zu bytes",
			      total, n);
	if (own_ipv4(p, ip + 12))
		return OK;
	/* A DHCP client before it has an address (RFC 2131 4.1): UDP 68 -> 67, not a fragment. */
	if (is_zero(ip + 12, 4) && ip[9] == IPPROTO_UDP && !(be16(ip + 6) & 0x3fffu) &&
	    total >= ihl + 8 && be16(ip + ihl) == 68 && be16(ip + ihl + 2) == 67)
		return OK;
	return refuse(SWITCH_DROP_IPV4_SRC, why, whylen, "IPv4 source %u.%u.%u.%u is not the port's",
		      ip[12], ip[13], ip[14], ip[15]);
}

/* a[0, n): the ARP packet after the Ethernet header (RFC 826). */
static unsigned check_arp(const struct switch_port *p, const uint8_t *a, size_t n, char *why,
			  size_t whylen)
{
	unsigned op;

	if (n < 28)
		return refuse(SWITCH_DROP_MALFORMED, why, whylen, "ARP packet of %zu bytes", n);
	if (be16(a) != 1 || be16(a + 2) != ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4)
		return refuse(SWITCH_DROP_ARP, why, whylen, "ARP for hardware %u protocol 0x%04x, not "
			      "Ethernet/IPv4", be16(a), be16(a + 2));
	op = be16(a + 6);
	if (op != 1 && op != 2)
		return refuse(SWITCH_DROP_ARP, why, whylen, "ARP operation %u", op);
	if (memcmp(a + 8, p->mac, 6))
		return refuse(SWITCH_DROP_ARP, why, whylen, "ARP sender hardware address is not the port's");
	if (own_ipv4(p, a + 14))
		return OK;
	/* A probe (RFC 5227 2.1.1) asks only about an address the port may take. */
	if (op == 1 && is_zero(a + 14, 4) && own_ipv4(p, a + 24))
		return OK;
	return refuse(SWITCH_DROP_ARP, why, whylen, "ARP sender %u.%u.%u.%u (target %u.%u.%u.%u) is "
		      "not the port's", a[14], a[15], a[16], a[17], a[24], a[25], a[26], a[27]);
}

/* The options of a neighbour discovery message, o[0, n): each link-layer address is p's MAC. */
static unsigned check_nd_options(const struct switch_port *p, const uint8_t *o, size_t n, char *why,
				 size_t whylen)
{
	size_t off = 0, len;

	while (off < n) {
		if (n - off < 2 || (len = (size_t)o[off + 1] * 8) == 0 || len > n - off)
			return refuse(SWITCH_DROP_MALFORMED, why, whylen, "ND option at %zu does not fit", off);
		if ((o[off] == ND_OPT_SOURCE_LL || o[off] == ND_OPT_TARGET_LL) &&
		    (len != 8 || memcmp(o + off + 2, p->mac, 6)))
			return refuse(SWITCH_DROP_ND, why, whylen, "ND link-layer address option is not "
				      "the port's MAC");
		off += len;
	}
	return OK;
}

/*
 * The ICMPv6 message m[0, n) from source src (:: when unspec): router
 * messages refused, neighbour discovery checked (RFC 4861 4), and :: only
 * for DAD and MLD reports.
 */
static unsigned check_icmpv6(const struct switch_port *p, const uint8_t *m, size_t n, bool unspec,
			     bool src_ok, char *why, size_t whylen)
{
	unsigned type;

	if (n < 4)
		return refuse(SWITCH_DROP_MALFORMED, why, whylen, "ICMPv6 header of %zu bytes", n);
	type = m[0];
	switch (type) {
	case ND_ROUTER_ADVERT:
	case ND_REDIRECT:
		return refuse(SWITCH_DROP_ROUTER, why, whylen, "ICMPv6 type %u: the port is no router", type);
	case ND_ROUTER_SOLICIT:
		if (n < 8)
			return refuse(SWITCH_DROP_MALFORMED, why, whylen, "router solicitation of %zu bytes", n);
		if (!src_ok)
			break;
		return check_nd_options(p, m + 8, n - 8, why, whylen);
	case ND_NEIGHBOR_SOLICIT:
	case ND_NEIGHBOR_ADVERT:
		if (n < 24)
			return refuse(SWITCH_DROP_MALFORMED, why, whylen, "ICMPv6 type %u of %zu bytes", type, n);
		/* DAD (RFC 4862 5.4.2) probes only for an address the port may take. */
		if ((type == ND_NEIGHBOR_ADVERT || unspec) && !own_ipv6(p, m + 8))
			return refuse(SWITCH_DROP_ND, why, whylen, "%s target is not the port's",
				      unspec ? "DAD solicitation" : "neighbour advertisement");
		if (!src_ok && !(unspec && type == ND_NEIGHBOR_SOLICIT))
			break;
		return check_nd_options(p, m + 24, n - 24, why, whylen);
	case MLD_REPORT_V1:
	case MLD_REPORT_V2:
		if (unspec)
			return OK;
		break;
	}
	return src_ok ? OK : refuse(SWITCH_DROP_IPV6_SRC, why, whylen, "IPv6 source is not the port's");
}

static bool is_nd(unsigned type)
{
	return type >= ND_ROUTER_SOLICIT && type <= ND_REDIRECT;
}

/* ip[0, n): the IPv6 packet after the Ethernet header (RFC 8200). */
static unsigned check_ipv6(const struct switch_port *p, const uint8_t *ip, size_t n, char *why,
			   size_t whylen)
{
	size_t end, off = 40, len;
	unsigned nh, frag_off = 0;
	bool fragment = false, unspec, src_ok;

	if (n < 40 || ip[0] >> 4 != 6)
		return refuse(SWITCH_DROP_MALFORMED, why, whylen, "IPv6 header does not fit %zu bytes", n);
	end = 40 + (size_t)be16(ip + 4);
	if (end > n)
		return refuse(SWITCH_DROP_MALFORMED, why, whylen, "IPv6 payload of %zu bytes in %zu",
			      end - 40, n - 40);
	unspec = is_zero(ip + 8, 16);
	src_ok = own_ipv6(p, ip + 8);
	nh = ip[6];
	for (unsigned i = 0;; i++) {
		if (nh != IPV6_HOPOPTS && nh != IPV6_ROUTING && nh != IPV6_DSTOPTS && nh != IPV6_FRAGMENT)
			break;
		if (i == SWITCH_IPV6_EXT_MAX || (nh == IPV6_HOPOPTS && i) || (nh == IPV6_FRAGMENT && fragment))
			return refuse(SWITCH_DROP_MALFORMED, why, whylen, "IPv6 extension header %u "
				      "(number %u) refused", nh, i);
		if (end - off < 8)
			return refuse(SWITCH_DROP_MALFORMED, why, whylen, "IPv6 extension header %u does "
				      "not fit", nh);
		len = nh == IPV6_FRAGMENT ? 8 : ((size_t)ip[off + 1] + 1) * 8;
		if (len > end - off)
			return refuse(SWITCH_DROP_MALFORMED, why, whylen, "IPv6 extension header %u does "
				      "not fit", nh);
		if (nh == IPV6_FRAGMENT) {
			fragment = true;
			frag_off = be16(ip + off + 2) & 0xfff8u;
		}
		nh = ip[off];
		off += len;
		if (frag_off)
			break;   /* a later fragment: the upper-layer header is in the first one */
	}
	if (nh == IPV6_ICMP && !frag_off) {
		/* A fragment carries at least the ICMPv6 header (RFC 7112); ND is never fragmented (RFC 6980). */
		if (fragment && (end - off < 4 || is_nd(ip[off])))
			return refuse(SWITCH_DROP_ND, why, whylen, "fragmented ICMPv6 %s",
				      end - off < 4 ? "without its header" : "neighbour discovery");
		return check_icmpv6(p, ip + off, end - off, unspec, src_ok, why, whylen);
	}
	if (!src_ok)
		return refuse(SWITCH_DROP_IPV6_SRC, why, whylen, "IPv6 source is not the port's");
	return OK;
}

static unsigned check(const struct switch_port *p, const uint8_t *f, size_t len, char *why,
		      size_t whylen)
{
	unsigned type;
	bool locked = p->nr_ipv4 || p->nr_ipv6;

	if (len < ETH_HEADER || len > SWITCH_MAX_FRAME)
		return refuse(SWITCH_DROP_MALFORMED, why, whylen, "frame of %zu bytes", len);
	if (memcmp(f + 6, p->mac, 6))
		return refuse(SWITCH_DROP_SRC_MAC, why, whylen, "source %02x:%02x:%02x:%02x:%02x:%02x "
			      "is not the port's MAC", f[6], f[7], f[8], f[9], f[10], f[11]);
	type = be16(f + 12);
	if (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD)
		return refuse(SWITCH_DROP_VLAN, why, whylen, "VLAN tag 0x%04x", type);
	if ((type == ETHERTYPE_IPV4 || type == ETHERTYPE_ARP) && p->nr_ipv4) {
		if (type == ETHERTYPE_IPV4)
			return check_ipv4(p, f + ETH_HEADER, len - ETH_HEADER, why, whylen);
		return check_arp(p, f + ETH_HEADER, len - ETH_HEADER, why, whylen);
	}
	if (type == ETHERTYPE_IPV6 && p->nr_ipv6)
		return check_ipv6(p, f + ETH_HEADER, len - ETH_HEADER, why, whylen);
	if (locked)
		return refuse(SWITCH_DROP_ETHERTYPE, why, whylen, "ethertype 0x%04x without addresses "
			      "for it", type);
	return OK;
}

/* A trunk is trusted (switch.h): only what no port may send. */
static unsigned check_trunk(const uint8_t *f, size_t len, char *why, size_t whylen)
{
	unsigned type;

	if (len < ETH_HEADER || len > SWITCH_MAX_FRAME)
		return refuse(SWITCH_DROP_MALFORMED, why, whylen, "frame of %zu bytes", len);
	type = be16(f + 12);
	if (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD)
		return refuse(SWITCH_DROP_VLAN, why, whylen, "VLAN tag 0x%04x", type);
	return OK;
}

int switch_check_tx(const struct switch_port *p, const uint8_t *frame, size_t len, char *why,
		    size_t whylen)
{
	unsigned r = p->trunk ? check_trunk(frame, len, why, whylen) : check(p, frame, len, why, whylen);

	if (r == OK)
		return 0;
	return r == SWITCH_DROP_MALFORMED ? -EINVAL : -EPERM;
}

/* Broadcast and multicast have the group bit (IEEE 802 48-bit addresses, bit 0 of octet 0). */
static bool is_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

struct switch_port *switch_trunk_member(const struct switch_port *t, const uint8_t mac[6])
{
	for (struct switch_port *m = t->members; m; m = m->next)
		if (!memcmp(m->mac, mac, 6))
			return m;
	return NULL;
}

/* Where a frame from p goes first, or NULL with the reason. */
static struct switch_port *route(struct switch_port *p, const uint8_t *f, size_t len, unsigned *r,
				 char *why, size_t whylen)
{
	struct switch_port *to;

	if (p->trunk) {
		*r = check_trunk(f, len, why, whylen);
		if (*r != OK)
			return NULL;
		to = is_group(f) ? p->members : switch_trunk_member(p, f);
		if (!to && is_group(f))
			*r = refuse(SWITCH_DROP_NO_LINK, why, whylen, "the trunk has no member");
		else if (!to)
			*r = refuse(SWITCH_DROP_UNKNOWN_DST, why, whylen, "unicast to %02x:%02x:%02x:%02x:%02x:%02x, "
				    "no member's MAC", f[0], f[1], f[2], f[3], f[4], f[5]);
		return to;
	}
	*r = check(p, f, len, why, whylen);
	to = p->peer;
	if (*r != OK)
		return NULL;
	if (!to) {
		*r = refuse(SWITCH_DROP_NO_LINK, why, whylen, "the port has no link");
		return NULL;
	}
	if (to->trunk) {
		/* A member reaches the trunk only: never another member, whatever the trunk forwards. */
		if (!is_group(f) && switch_trunk_member(to, f)) {
			*r = refuse(SWITCH_DROP_TO_MEMBER, why, whylen, "unicast to %02x:%02x:%02x:%02x:%02x:%02x,"
				    " another member of the trunk", f[0], f[1], f[2], f[3], f[4], f[5]);
			return NULL;
		}
		return to;
	}
	if (!is_group(f) && memcmp(f, to->mac, 6)) {
		*r = refuse(SWITCH_DROP_NOT_PEER, why, whylen, "unicast to %02x:%02x:%02x:%02x:%02x:%02x, "
			    "not the peer", f[0], f[1], f[2], f[3], f[4], f[5]);
		return NULL;
	}
	return to;
}

struct switch_port *switch_route(struct switch_port *p, const uint8_t *frame, size_t len, char *why,
				 size_t whylen)
{
	unsigned r = OK;
	struct switch_port *to = route(p, frame, len, &r, why, whylen);

	if (!to) {
		p->drops[r]++;
		return NULL;
	}
	p->tx_frames++;
	p->tx_bytes += len;
	return to;
}

struct switch_port *switch_route_next(const struct switch_port *p, const uint8_t *frame,
				      const struct switch_port *prev)
{
	/* Only a trunk's group frame reaches more than one port: every member, in list order. */
	return p->trunk && is_group(frame) && prev ? prev->next : NULL;
}

int switch_trunk_join(struct switch_port *t, struct switch_port *m)
{
	if (!t->trunk || m->trunk || m == t || m->peer || is_group(m->mac))
		return -EINVAL;
	if (!memcmp(t->mac, m->mac, 6) || switch_trunk_member(t, m->mac))
		return -EEXIST;
	m->next = t->members;
	t->members = m;
	m->peer = t;
	return 0;
}

void switch_trunk_leave(struct switch_port *m)
{
	struct switch_port *t = m->peer, **at;

	if (!t || !t->trunk)
		return;
	for (at = &t->members; *at; at = &(*at)->next)
		if (*at == m) {
			*at = m->next;
			break;
		}
	m->next = NULL;
	m->peer = NULL;
}
