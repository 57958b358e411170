/* SPDX-License-Identifier: Apache-2.0 */
/* switch_test.c: the switch's anti-spoofing rules and routing, over frames built here byte by byte. */
#include <criterion/criterion.h>
#include <string.h>

#include "drivers/virtio/switch.h"

static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t mac_x[6] = { 0x52, 0x54, 0x00, 0x66, 0x66, 0x66 };   /* nobody's */
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ip_a[4] = { 10, 0, 0, 1 }, ip_b[4] = { 10, 0, 0, 2 }, ip_x[4] = { 10, 0, 0, 9 };
static const uint8_t zero4[4], zero16[16];
static const uint8_t ip6_a[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t ip6_x[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 };
static const uint8_t all_nodes[16] = { 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t ll_a[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56 };

static struct switch_port a, b;
static uint8_t f[SWITCH_MAX_FRAME + 1];
static char why[128];

static void setup(void)
{
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memcpy(a.mac, mac_a, 6);
	memcpy(b.mac, mac_b, 6);
	a.nr_ipv4 = 2;
	memcpy(a.ipv4[0], (uint8_t[4]){ 192, 168, 7, 7 }, 4);
	memcpy(a.ipv4[1], ip_a, 4);
	a.nr_ipv6 = 1;
	memcpy(a.ipv6[0], ip6_a, 16);
	b.nr_ipv4 = 1;
	memcpy(b.ipv4[0], ip_b, 4);
	a.peer = &b;
	b.peer = &a;
	memset(f, 0, sizeof(f));
	why[0] = 0;
}

static void put16be(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t eth(const uint8_t *dst, const uint8_t *src, unsigned type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16be(f + 12, type);
	return 14;
}

/* An IPv4 frame from mac_a: header without options, then payload bytes (zero). */
static size_t ipv4(const uint8_t *src, const uint8_t *dst, unsigned proto, size_t payload)
{
	uint8_t *ip = f + eth(mac_b, mac_a, 0x0800);

	ip[0] = 0x45;
	put16be(ip + 2, (unsigned)(20 + payload));
	ip[8] = 64;
	ip[9] = (uint8_t)proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	return 14 + 20 + payload;
}

static size_t udp4(const uint8_t *src, const uint8_t *dst, unsigned sport, unsigned dport)
{
	size_t n = ipv4(src, dst, 17, 8 + 20);

	put16be(f + 34, sport);
	put16be(f + 36, dport);
	put16be(f + 38, 8 + 20);
	return n;
}

static size_t arp(unsigned op, const uint8_t *sha, const uint8_t *spa, const uint8_t *tpa)
{
	uint8_t *p = f + eth(bcast, mac_a, 0x0806);

	put16be(p, 1);
	put16be(p + 2, 0x0800);
	p[4] = 6;
	p[5] = 4;
	put16be(p + 6, op);
	memcpy(p + 8, sha, 6);
	memcpy(p + 14, spa, 4);
	memcpy(p + 24, tpa, 4);
	return 14 + 28;
}

/* An IPv6 frame from mac_a with payload bytes after the fixed header; returns the payload's offset. */
static size_t ipv6(const uint8_t *src, const uint8_t *dst, unsigned nh, size_t payload, size_t *len)
{
	uint8_t *ip = f + eth((uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, mac_a, 0x86dd);

	ip[0] = 0x60;
	put16be(ip + 4, (unsigned)payload);
	ip[6] = (uint8_t)nh;
	ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	*len = 14 + 40 + payload;
	return 14 + 40;
}

/* A neighbour solicitation / advertisement (type) for target with one link-layer option (opt, lladdr). */
static size_t nd(unsigned type, const uint8_t *src, const uint8_t *target, unsigned opt,
		 const uint8_t *lladdr)
{
	size_t len, o = ipv6(src, all_nodes, 58, 24 + (opt ? 8 : 0), &len);

	f[o] = (uint8_t)type;
	memcpy(f + o + 8, target, 16);
	if (opt) {
		f[o + 24] = (uint8_t)opt;
		f[o + 25] = 1;
		memcpy(f + o + 26, lladdr, 6);
	}
	return len;
}

static void pass(size_t len)
{
	cr_assert_eq(switch_check_tx(&a, f, len, why, sizeof(why)), 0, "refused: %s", why);
}

static void refused(size_t len, int rc, const char *words)
{
	cr_assert_eq(switch_check_tx(&a, f, len, why, sizeof(why)), rc, "got \"%s\"", why);
	cr_assert(strstr(why, words), "\"%s\" should say \"%s\"", why, words);
}

/* ---------------------------------------------------------------- Ethernet */

Test(switch, source_mac_must_be_the_ports, .init = setup)
{
	size_t n = udp4(ip_a, ip_b, 1000, 2000);

	pass(n);
	memcpy(f + 6, mac_x, 6);
	refused(n, -EPERM, "source 52:54:00:66:66:66 is not the port's MAC");
}

Test(switch, sizes, .init = setup)
{
	size_t n = eth(mac_b, mac_a, 0x0800);

	refused(13, -EINVAL, "frame of 13 bytes");
	refused(SWITCH_MAX_FRAME + 1, -EINVAL, "frame of 65550 bytes");
	refused(n, -EINVAL, "IPv4 header does not fit 0 bytes");
}

Test(switch, vlan_tags_are_refused, .init = setup)
{
	size_t n = udp4(ip_a, ip_b, 1000, 2000);

	memmove(f + 16, f + 12, n - 12);
	put16be(f + 12, 0x8100);
	refused(n + 4, -EPERM, "VLAN tag 0x8100");
	put16be(f + 12, 0x88a8);
	refused(n + 4, -EPERM, "VLAN tag 0x88a8");
}

Test(switch, other_ethertypes_only_on_an_open_port, .init = setup)
{
	size_t n = eth(bcast, mac_a, 0x88cc);   /* LLDP */

	refused(n + 32, -EPERM, "ethertype 0x88cc without addresses");
	a.nr_ipv4 = a.nr_ipv6 = 0;
	pass(n + 32);
	n = ipv4(ip_x, ip_b, 6, 20);
	pass(n);   /* an open port is checked for its MAC only */
	memcpy(f + 6, mac_x, 6);
	refused(n, -EPERM, "is not the port's MAC");
}

Test(switch, a_family_without_addresses_is_refused_on_a_locked_port, .init = setup)
{
	size_t len;

	a.nr_ipv6 = 0;
	ipv6(ll_a, all_nodes, 17, 8, &len);
	refused(len, -EPERM, "ethertype 0x86dd without addresses");
	a.nr_ipv6 = 1;
	a.nr_ipv4 = 0;
	refused(udp4(ip_a, ip_b, 1, 2), -EPERM, "ethertype 0x0800");
	refused(arp(1, mac_a, ip_a, ip_b), -EPERM, "ethertype 0x0806");
}

/* ---------------------------------------------------------------- IPv4 and ARP */

Test(switch, ipv4_source, .init = setup)
{
	pass(udp4(ip_a, ip_b, 1000, 2000));
	pass(udp4((uint8_t[4]){ 192, 168, 7, 7 }, ip_b, 1000, 2000));
	refused(udp4(ip_x, ip_b, 1000, 2000), -EPERM, "IPv4 source 10.0.0.9 is not the port's");
	refused(udp4(ip_b, ip_b, 1000, 2000), -EPERM, "10.0.0.2");
}

Test(switch, ipv4_lengths, .init = setup)
{
	size_t n = udp4(ip_a, ip_b, 1000, 2000);

	pass(n + 10);   /* Ethernet padding after the datagram */
	refused(n - 1, -EINVAL, "total length 48 in 47 bytes");
	f[14] = 0x44;
	refused(n, -EINVAL, "IPv4 header does not fit");
	f[14] = 0x4f;   /* 60 bytes of header in a 48-byte packet */
	refused(n, -EINVAL, "IPv4 header does not fit");
	f[14] = 0x65;
	refused(n, -EINVAL, "IPv4 header");
}

Test(switch, dhcp_discover_from_0_0_0_0, .init = setup)
{
	size_t n = udp4(zero4, (uint8_t[4]){ 255, 255, 255, 255 }, 68, 67);

	memcpy(f, bcast, 6);
	pass(n);
	refused(udp4(zero4, ip_b, 68, 68), -EPERM, "IPv4 source 0.0.0.0");
	refused(udp4(zero4, ip_b, 67, 68), -EPERM, "0.0.0.0");
	refused(ipv4(zero4, ip_b, 6, 28), -EPERM, "0.0.0.0");   /* TCP */
	n = udp4(zero4, ip_b, 68, 67);
	put16be(f + 20, 0x2000);   /* more fragments */
	refused(n, -EPERM, "0.0.0.0");
	n = ipv4(zero4, ip_b, 17, 4);   /* no room for the UDP header */
	put16be(f + 34, 68);
	put16be(f + 36, 67);
	refused(n, -EPERM, "0.0.0.0");
}

Test(switch, arp_request_and_reply, .init = setup)
{
	pass(arp(1, mac_a, ip_a, ip_b));
	pass(arp(2, mac_a, ip_a, ip_b));
	pass(arp(1, mac_a, ip_a, ip_a));   /* gratuitous, with its own address */
}

Test(switch, gratuitous_arp_with_a_foreign_address, .init = setup)
{
	refused(arp(1, mac_a, ip_b, ip_b), -EPERM, "ARP sender 10.0.0.2 (target 10.0.0.2) is not the port's");
	refused(arp(2, mac_a, ip_x, ip_b), -EPERM, "ARP sender 10.0.0.9");
}

Test(switch, arp_with_a_foreign_hardware_address, .init = setup)
{
	refused(arp(2, mac_b, ip_a, ip_b), -EPERM, "ARP sender hardware address is not the port's");
}

Test(switch, arp_probe, .init = setup)
{
	pass(arp(1, mac_a, zero4, ip_a));
	refused(arp(1, mac_a, zero4, ip_b), -EPERM, "ARP sender 0.0.0.0 (target 10.0.0.2)");
	refused(arp(2, mac_a, zero4, ip_a), -EPERM, "ARP sender 0.0.0.0");
}

Test(switch, arp_of_other_kinds, .init = setup)
{
	size_t n = arp(3, mac_a, ip_a, ip_b);

	refused(n, -EPERM, "ARP operation 3");
	arp(1, mac_a, ip_a, ip_b);
	put16be(f + 16, 0x86dd);
	refused(n, -EPERM, "ARP for hardware 1 protocol 0x86dd");
	arp(1, mac_a, ip_a, ip_b);
	f[18] = 8;
	refused(n, -EPERM, "not Ethernet/IPv4");
	arp(1, mac_a, ip_a, ip_b);
	refused(n - 1, -EINVAL, "ARP packet of 27 bytes");
}

/* ---------------------------------------------------------------- IPv6 */

Test(switch, link_local_from_the_mac)
{
	uint8_t ll[16];

	switch_link_local(mac_a, ll);
	cr_assert(memcmp(ll, ll_a, 16) == 0, "fe80::5054:ff:fe12:3456");
}

Test(switch, ipv6_source, .init = setup)
{
	size_t len;
	uint8_t other_ll[16];

	ipv6(ip6_a, all_nodes, 17, 8, &len);
	pass(len);
	ipv6(ll_a, all_nodes, 17, 8, &len);
	pass(len);
	ipv6(ip6_x, all_nodes, 17, 8, &len);
	refused(len, -EPERM, "IPv6 source is not the port's");
	switch_link_local(mac_b, other_ll);
	ipv6(other_ll, all_nodes, 17, 8, &len);
	refused(len, -EPERM, "IPv6 source");
	ipv6(zero16, all_nodes, 17, 8, &len);
	refused(len, -EPERM, "IPv6 source");   /* only DAD and MLD reports may use :: */
	ipv6(zero16, all_nodes, 58, 8, &len);   /* an echo request from :: */
	f[54] = 128;
	refused(len, -EPERM, "IPv6 source");
}

Test(switch, ipv6_lengths, .init = setup)
{
	size_t len;

	ipv6(ip6_a, all_nodes, 17, 8, &len);
	refused(len - 1, -EINVAL, "IPv6 payload of 8 bytes in 7");
	refused(14 + 39, -EINVAL, "IPv6 header does not fit 39 bytes");
	f[14] = 0x40;
	refused(len, -EINVAL, "IPv6 header");
}

Test(switch, dad_neighbour_solicitation_from_unspecified, .init = setup)
{
	pass(nd(135, zero16, ip6_a, 0, NULL));
	pass(nd(135, zero16, ll_a, 0, NULL));
	refused(nd(135, zero16, ip6_x, 0, NULL), -EPERM, "DAD solicitation target is not the port's");
}

Test(switch, neighbour_solicitation_options, .init = setup)
{
	pass(nd(135, ll_a, ip6_x, 1, mac_a));   /* asking about someone else is fine */
	refused(nd(135, ll_a, ip6_x, 1, mac_b), -EPERM, "ND link-layer address option is not the port's MAC");
	refused(nd(135, ip6_x, ip6_x, 1, mac_a), -EPERM, "IPv6 source is not the port's");
}

Test(switch, neighbour_advertisement_target, .init = setup)
{
	pass(nd(136, ll_a, ip6_a, 2, mac_a));
	pass(nd(136, ip6_a, ll_a, 0, NULL));
	refused(nd(136, ll_a, ip6_x, 2, mac_a), -EPERM, "neighbour advertisement target is not the port's");
	refused(nd(136, ll_a, ip6_a, 2, mac_x), -EPERM, "ND link-layer address option");
	refused(nd(136, zero16, ip6_a, 2, mac_a), -EPERM, "IPv6 source");
}

Test(switch, nd_options_must_fit, .init = setup)
{
	size_t len = nd(136, ll_a, ip6_a, 2, mac_a);

	f[54 + 25] = 0;   /* a zero-length option */
	refused(len, -EINVAL, "ND option at 0 does not fit");
	f[54 + 25] = 2;   /* 16 bytes in 8 */
	refused(len, -EINVAL, "ND option at 0 does not fit");
	nd(136, ll_a, ip6_a, 2, mac_a);
	refused(len - 8, -EINVAL, "IPv6 payload");
	put16be(f + 18, 20);   /* an advertisement of 20 bytes */
	refused(len - 12, -EINVAL, "ICMPv6 type 136 of 20 bytes");
}

Test(switch, router_advertisement_and_redirect_are_refused, .init = setup)
{
	size_t len;

	ipv6(ll_a, all_nodes, 58, 16, &len);
	f[54] = 134;
	refused(len, -EPERM, "ICMPv6 type 134: the port is no router");
	f[54] = 137;
	refused(len, -EPERM, "ICMPv6 type 137");
	ipv6(ll_a, all_nodes, 58, 8 + 8, &len);
	f[54] = 133;   /* a router solicitation is fine, with the port's MAC in its option */
	f[62] = 1;
	f[63] = 1;
	memcpy(f + 64, mac_a, 6);
	pass(len);
	memcpy(f + 64, mac_b, 6);
	refused(len, -EPERM, "ND link-layer address option");
}

/* An MLDv2 report from :: behind a hop-by-hop header with the router alert (RFC 3810 5). */
static size_t mld_report(const uint8_t *src)
{
	size_t len, o = ipv6(src, (uint8_t[16]){ 0xff, 2, [15] = 0x16 }, 0, 8 + 8, &len);

	f[o] = 58;
	f[o + 1] = 0;
	f[o + 2] = 5;   /* router alert */
	f[o + 3] = 2;
	f[o + 8] = 143;
	return len;
}

Test(switch, mld_report_walks_the_hop_by_hop_header, .init = setup)
{
	size_t len = mld_report(zero16);

	pass(len);
	pass(mld_report(ll_a));
	refused(mld_report(ip6_x), -EPERM, "IPv6 source");
	mld_report(zero16);
	f[55] = 1;   /* 16 bytes of hop-by-hop in 16 of payload: no room for ICMPv6 */
	refused(len, -EINVAL, "ICMPv6 header of 0 bytes");
	f[55] = 2;
	refused(len, -EINVAL, "IPv6 extension header 0 does not fit");
}

Test(switch, extension_headers_are_bounded, .init = setup)
{
	size_t len, o = ipv6(ip6_a, all_nodes, 60, 8 * 10, &len);

	for (unsigned i = 0; i < 10; i++)
		f[o + 8 * i] = i < 9 ? 60 : 59;   /* ten destination option headers */
	refused(len, -EINVAL, "IPv6 extension header 60 (number 8) refused");
	o = ipv6(ip6_a, all_nodes, 60, 16, &len);
	f[o] = 0;   /* hop-by-hop after another header */
	refused(len, -EINVAL, "IPv6 extension header 0 (number 1) refused");
}

Test(switch, fragmented_neighbour_discovery_is_refused, .init = setup)
{
	size_t len, o = ipv6(ll_a, all_nodes, 44, 8 + 24, &len);

	f[o] = 58;
	f[o + 8] = 136;
	memcpy(f + o + 16, ip6_a, 16);
	refused(len, -EPERM, "fragmented ICMPv6 neighbour discovery");
	f[o + 8] = 128;   /* an echo request's first fragment */
	pass(len);
	put16be(f + o + 2, 0x100);   /* a later fragment: the ICMPv6 header is elsewhere */
	f[o + 8] = 136;
	pass(len);
	memcpy(f + 22, ip6_x, 16);
	refused(len, -EPERM, "IPv6 source");
}

/* ---------------------------------------------------------------- routing */

Test(switch, route_to_the_peer_only, .init = setup)
{
	char msg[128];
	size_t n = udp4(ip_a, ip_b, 1000, 2000);

	cr_assert_eq(switch_route(&a, f, n, msg, sizeof(msg)), &b, "unicast to the peer");
	memcpy(f, bcast, 6);
	cr_assert_eq(switch_route(&a, f, n, msg, sizeof(msg)), &b, "broadcast");
	memcpy(f, (uint8_t[6]){ 0x01, 0x00, 0x5e, 0, 0, 1 }, 6);
	cr_assert_eq(switch_route(&a, f, n, msg, sizeof(msg)), &b, "multicast");
	cr_assert_eq(a.tx_frames, 3);
	cr_assert_eq(a.tx_bytes, 3 * n);
	memcpy(f, mac_x, 6);
	cr_assert_null(switch_route(&a, f, n, msg, sizeof(msg)));
	cr_assert(strstr(msg, "unicast to 52:54:00:66:66:66, not the peer"), "%s", msg);
	cr_assert_eq(a.drops[SWITCH_DROP_NOT_PEER], 1);
	cr_assert_eq(a.tx_frames, 3);
}

Test(switch, route_counts_each_refusal, .init = setup)
{
	size_t n = udp4(ip_x, ip_b, 1000, 2000);

	cr_assert_null(switch_route(&a, f, n, why, sizeof(why)));
	cr_assert_null(switch_route(&a, f, 5, why, sizeof(why)));
	n = arp(1, mac_a, ip_b, ip_b);
	cr_assert_null(switch_route(&a, f, n, why, sizeof(why)));
	cr_assert_eq(a.drops[SWITCH_DROP_IPV4_SRC], 1);
	cr_assert_eq(a.drops[SWITCH_DROP_MALFORMED], 1);
	cr_assert_eq(a.drops[SWITCH_DROP_ARP], 1);
	cr_assert_eq(a.tx_frames, 0);
	cr_assert_str_eq(switch_drop_name(SWITCH_DROP_ARP), "arp");
	cr_assert_str_eq(switch_drop_name(SWITCH_DROP_NR), "?");
}

Test(switch, an_isolated_port_reaches_nobody, .init = setup)
{
	size_t n = udp4(ip_a, ip_b, 1000, 2000);

	a.peer = NULL;
	memcpy(f, bcast, 6);
	cr_assert_null(switch_route(&a, f, n, why, sizeof(why)));
	cr_assert_str_eq(why, "the port has no link");
	cr_assert_eq(a.drops[SWITCH_DROP_NO_LINK], 1);
}

Test(switch, the_peer_is_checked_against_its_own_port, .init = setup)
{
	size_t n = arp(2, mac_a, ip_a, ip_b);

	memcpy(f + 6, mac_b, 6);
	memcpy(f + 22, mac_b, 6);
	memcpy(f + 28, ip_b, 4);
	cr_assert_eq(switch_route(&b, f, n, why, sizeof(why)), &a, "%s", why);
	memcpy(f + 28, ip_a, 4);
	cr_assert_null(switch_route(&b, f, n, why, sizeof(why)), "b may not claim a's address");
}

/* ---------------------------------------------------------------- the trunk */

/* t: the control domain's trunk; a (set up above) and b: members; c: a point-to-point port. */
static struct switch_port t;
static const uint8_t mac_t[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static void trunk_setup(void)
{
	setup();
	memset(&t, 0, sizeof(t));
	memcpy(t.mac, mac_t, 6);
	t.trunk = true;
	a.peer = b.peer = NULL;
	cr_assert_eq(switch_trunk_join(&t, &a), 0);
	cr_assert_eq(switch_trunk_join(&t, &b), 0);
}

/* Every port a frame from p reaches, in out[] (at most 4); their count. */
static unsigned reached(struct switch_port *p, size_t n, struct switch_port **out)
{
	unsigned k = 0;

	for (struct switch_port *to = switch_route(p, f, n, why, sizeof(why)); to;
	     to = switch_route_next(p, f, to)) {
		cr_assert_lt(k, 4);
		out[k++] = to;
	}
	return k;
}

Test(switch, trunk_members_reach_the_trunk_only, .init = trunk_setup)
{
	struct switch_port *to[4];
	size_t n = udp4(ip_a, ip_b, 1000, 2000);

	memcpy(f, mac_t, 6);
	cr_assert_eq(reached(&a, n, to), 1, "%s", why);
	cr_assert_eq(to[0], &t, "unicast to the trunk");
	memcpy(f, bcast, 6);
	cr_assert_eq(reached(&a, n, to), 1, "%s", why);
	cr_assert_eq(to[0], &t, "a member's broadcast reaches the trunk, not the other member");
	memcpy(f, mac_x, 6);
	cr_assert_eq(reached(&a, n, to), 1, "%s", why);
	cr_assert_eq(to[0], &t, "another destination: the trunk routes it");
	cr_assert_eq(a.tx_frames, 3);
	memcpy(f, mac_b, 6);
	cr_assert_eq(reached(&a, n, to), 0, "a member never reaches another member");
	cr_assert(strstr(why, "unicast to 52:54:00:00:00:02, another member of the trunk"), "%s", why);
	cr_assert_eq(a.drops[SWITCH_DROP_TO_MEMBER], 1);
	cr_assert_str_eq(switch_drop_name(SWITCH_DROP_TO_MEMBER), "to-member");
	cr_assert_eq(a.tx_frames, 3);
}

Test(switch, trunk_members_keep_their_anti_spoofing, .init = trunk_setup)
{
	struct switch_port *to[4];
	size_t n = udp4(ip_x, ip_b, 1000, 2000);

	memcpy(f, mac_t, 6);
	cr_assert_eq(reached(&a, n, to), 0, "another IPv4 source");
	cr_assert_eq(a.drops[SWITCH_DROP_IPV4_SRC], 1);
	n = udp4(ip_a, ip_b, 1000, 2000);
	memcpy(f, mac_t, 6);
	memcpy(f + 6, mac_b, 6);
	cr_assert_eq(reached(&a, n, to), 0, "another member's MAC");
	cr_assert_eq(a.drops[SWITCH_DROP_SRC_MAC], 1);
	cr_assert_eq(t.tx_frames + a.tx_frames, 0);
}

Test(switch, the_trunk_reaches_the_member_by_its_mac, .init = trunk_setup)
{
	struct switch_port *to[4];
	size_t n = eth(mac_b, (uint8_t[6]){ 0x02, 0x42, 0, 0, 0, 7 }, 0x0800) + 40;

	cr_assert_eq(reached(&t, n, to), 1, "%s", why);
	cr_assert_eq(to[0], &b, "the member whose MAC is the destination, from any source MAC");
	memcpy(f, mac_a, 6);
	cr_assert_eq(reached(&t, n, to), 1, "%s", why);
	cr_assert_eq(to[0], &a);
	cr_assert_eq(t.tx_frames, 2);
}

Test(switch, the_trunk_broadcasts_to_every_member, .init = trunk_setup)
{
	struct switch_port *to[4];
	size_t n = eth(bcast, mac_t, 0x0806) + 28;

	cr_assert_eq(reached(&t, n, to), 2, "%s", why);
	cr_assert((to[0] == &a && to[1] == &b) || (to[0] == &b && to[1] == &a));
	memcpy(f, (uint8_t[6]){ 0x33, 0x33, 0, 0, 0, 1 }, 6);
	cr_assert_eq(reached(&t, n, to), 2, "multicast too");
	cr_assert_eq(t.tx_frames, 2, "a frame is counted once, however many take it");
}

Test(switch, the_trunk_drops_and_counts_unknown_unicast, .init = trunk_setup)
{
	struct switch_port *to[4];
	size_t n = eth(mac_x, mac_t, 0x0800) + 40;

	cr_assert_eq(reached(&t, n, to), 0);
	cr_assert(strstr(why, "unicast to 52:54:00:66:66:66, no member's MAC"), "%s", why);
	cr_assert_eq(t.drops[SWITCH_DROP_UNKNOWN_DST], 1);
	cr_assert_str_eq(switch_drop_name(SWITCH_DROP_UNKNOWN_DST), "unknown-dst");
	cr_assert_eq(t.tx_frames, 0);
}

Test(switch, the_trunk_checks_only_size_and_tags, .init = trunk_setup)
{
	struct switch_port *to[4];
	size_t n = eth(mac_a, mac_t, 0x8100) + 40;

	cr_assert_eq(switch_check_tx(&t, f, 5, why, sizeof(why)), -EINVAL);
	cr_assert_eq(switch_check_tx(&t, f, n, why, sizeof(why)), -EPERM);
	cr_assert_eq(reached(&t, n, to), 0);
	cr_assert_eq(t.drops[SWITCH_DROP_VLAN], 1);
	put16be(f + 12, 0x88b5);   /* an ethertype a locked member could not send */
	cr_assert_eq(switch_check_tx(&t, f, n, why, sizeof(why)), 0, "%s", why);
}

Test(switch, a_trunk_without_members_reaches_nobody)
{
	struct switch_port *to[4];
	size_t n;

	setup();
	memset(&t, 0, sizeof(t));
	memcpy(t.mac, mac_t, 6);
	t.trunk = true;
	n = eth(bcast, mac_t, 0x0806) + 28;
	cr_assert_eq(reached(&t, n, to), 0);
	cr_assert_eq(t.drops[SWITCH_DROP_NO_LINK], 1);
}

Test(switch, joining_checks_the_mac_and_leaving_stops_delivery, .init = trunk_setup)
{
	static struct switch_port c, d;
	struct switch_port *to[4];
	size_t n;

	memset(&c, 0, sizeof(c));
	memcpy(c.mac, mac_b, 6);
	cr_assert_eq(switch_trunk_join(&t, &c), -EEXIST, "a member's MAC");
	memcpy(c.mac, mac_t, 6);
	cr_assert_eq(switch_trunk_join(&t, &c), -EEXIST, "the trunk's MAC");
	memcpy(c.mac, bcast, 6);
	cr_assert_eq(switch_trunk_join(&t, &c), -EINVAL, "a group MAC");
	memcpy(c.mac, mac_x, 6);
	cr_assert_eq(switch_trunk_join(&a, &c), -EINVAL, "a is no trunk");
	cr_assert_eq(switch_trunk_join(&t, &a), -EINVAL, "a is on a trunk already");
	memset(&d, 0, sizeof(d));
	memcpy(d.mac, (uint8_t[6]){ 0x02, 0, 0, 0, 0, 9 }, 6);
	cr_assert_eq(switch_trunk_join(&t, &c), 0);
	cr_assert_eq(switch_trunk_join(&t, &d), 0);

	/* Leaving from the middle, the head and the tail: the others keep being reached. */
	switch_trunk_leave(&a);
	cr_assert_null(a.peer);
	n = eth(bcast, mac_t, 0x0806) + 28;
	cr_assert_eq(reached(&t, n, to), 3);
	for (unsigned i = 0; i < 3; i++)
		cr_assert_neq(to[i], &a, "a left the trunk");
	memcpy(f, mac_a, 6);
	cr_assert_eq(reached(&t, n, to), 0, "unicast to a departed member");
	cr_assert_eq(t.drops[SWITCH_DROP_UNKNOWN_DST], 1);
	switch_trunk_leave(&d);
	switch_trunk_leave(&b);
	memcpy(f, bcast, 6);
	cr_assert_eq(reached(&t, n, to), 1);
	cr_assert_eq(to[0], &c);
	switch_trunk_leave(&c);
	switch_trunk_leave(&c);   /* twice: on no trunk now, left alone */
	cr_assert_null(t.members);
	cr_assert_eq(switch_trunk_join(&t, &a), 0, "a may come back");
}
