/* SPDX-License-Identifier: Apache-2.0 */
/*
 * switch.h: pvhv's L2 switch policy, pure: which frames a port may send
 * (anti-spoofing of its MAC and addresses) and where a frame goes: along
 * the point-to-point link the configuration names, or between a trunk and
 * its members, nowhere else.
 *
 * A trunk is the control domain's port (DESIGN.md "Net"): it reaches every
 * member (a sandbox's port linked to it).  A member's frames go only to
 * the trunk, never to another member: a unicast to another member's MAC is
 * dropped (SWITCH_DROP_TO_MEMBER); any other destination goes to the
 * trunk, which routes.  The trunk's frames go to the member whose MAC is
 * the destination, or, broadcast and multicast, to every member; a unicast
 * to no member's MAC is dropped (SWITCH_DROP_UNKNOWN_DST).  The control
 * domain is trusted (it routes and NATs for the sandboxes, so its frames
 * carry other hosts' addresses): a trunk may send from any MAC and
 * address; only the frame's size and VLAN tags are checked.
 *
 * What a port may send:
 *   - Ethernet II with its own source MAC, 14..SWITCH_MAX_FRAME bytes (a
 *     TCP segmentation offload frame may be that long; the virtio-net
 *     model holds other frames to the MTU); no 802.1Q / 802.1ad tag (a
 *     sandbox has no VLANs).
 *   - A port with no address configured ("open") may send any other
 *     ethertype.  A port with any address ("locked") sends only the
 *     families it has addresses for: IPv4 and ARP with IPv4 addresses, IPv6
 *     with IPv6 addresses; everything else is refused.
 *   - IPv4: the source is one of its addresses, or 0.0.0.0 for a DHCP
 *     client's UDP 68 -> 67 (an unfragmented datagram).
 *   - ARP: Ethernet/IPv4 request or reply only; sender hardware address its
 *     MAC; sender protocol address one of its addresses, or 0.0.0.0 in a
 *     request (an RFC 5227 probe).
 *   - IPv6: the source is one of its addresses or the link-local address
 *     derived from its MAC (EUI-64, RFC 4291 2.5.6), or :: for a DAD
 *     neighbour solicitation or an MLD report (RFC 4862 5.4.2, RFC 3810
 *     5.2.13).  Extension headers (hop-by-hop, routing, destination options,
 *     fragment) are walked, at most SWITCH_IPV6_EXT_MAX of them.  ICMPv6 in
 *     a fragment is refused (RFC 6980).  Router advertisements and
 *     redirects are refused (a sandbox is no router).  In router and
 *     neighbour solicitations and advertisements every source / target
 *     link-layer address option is its MAC, and an advertisement's target
 *     is one of its addresses or its link-local one.
 * Payloads are not checked beyond that (checksums are the receiver's).
 */
#ifndef PVHV_DRIVERS_VIRTIO_SWITCH_H
#define PVHV_DRIVERS_VIRTIO_SWITCH_H

#include "lib/base.h"

#define SWITCH_ADDRS_MAX 4u
#define SWITCH_MAX_FRAME (14u + 65535u)   /* Ethernet header + the largest IP packet; no tag */
#define SWITCH_IPV6_EXT_MAX 8u

/* Why a frame was not carried; counted per sending port. */
enum switch_drop {
	SWITCH_DROP_MALFORMED,   /* too short or long, a header that does not fit */
	SWITCH_DROP_SRC_MAC,     /* Ethernet source is not the port's MAC */
	SWITCH_DROP_VLAN,        /* 802.1Q / 802.1ad tag */
	SWITCH_DROP_ETHERTYPE,   /* a locked port's ethertype without addresses for it */
	SWITCH_DROP_IPV4_SRC,
	SWITCH_DROP_ARP,         /* ARP of another kind or claiming someone else */
	SWITCH_DROP_IPV6_SRC,
	SWITCH_DROP_ND,          /* neighbour discovery claiming someone else */
	SWITCH_DROP_ROUTER,      /* router advertisement or redirect */
	SWITCH_DROP_NO_LINK,     /* the port has no peer */
	SWITCH_DROP_NOT_PEER,    /* unicast to a MAC other than the peer's */
	SWITCH_DROP_PEER_FULL,   /* the peer took nothing (counted by the caller) */
	SWITCH_DROP_TO_MEMBER,   /* a trunk member's unicast to another member */
	SWITCH_DROP_UNKNOWN_DST, /* a trunk's unicast to no member's MAC */
	SWITCH_DROP_NR
};

struct switch_port {
	uint8_t mac[6];                          /* unicast */
	unsigned nr_ipv4, nr_ipv6;               /* 0..SWITCH_ADDRS_MAX each */
	uint8_t ipv4[SWITCH_ADDRS_MAX][4];       /* network byte order */
	uint8_t ipv6[SWITCH_ADDRS_MAX][16];
	/* A point-to-point port: the other end; a trunk member: the trunk; else NULL. */
	struct switch_port *peer;
	bool trunk;                              /* a trunk: members instead of a peer */
	struct switch_port *members;             /* a trunk: its first member */
	struct switch_port *next;                /* a member: the trunk's next member */
	uint64_t tx_frames, tx_bytes;            /* carried to the peer */
	uint64_t drops[SWITCH_DROP_NR];
};

/*
 * Whether p may send frame[0, len) (the rules above).  0, or a negative
 * errno with the reason in why: -EINVAL for a malformed frame, -EPERM for
 * one the policy refuses.  Reads only frame[0, len).
 */
int switch_check_tx(const struct switch_port *p, const uint8_t *frame, size_t len, char *why,
		    size_t whylen);

/*
 * switch_check_tx() (a trunk: its size and tags only) and routing: returns
 * the first port the frame goes to -- p's peer, for a broadcast, a
 * multicast or a unicast to the peer's MAC; a member's trunk; a trunk's
 * member -- or NULL with the reason counted in p->drops and written to
 * why.  Counts a carried frame in p->tx_frames / tx_bytes.  The caller
 * delivers it to this port and to each one switch_route_next() gives, and
 * counts SWITCH_DROP_PEER_FULL for each that had no room.  The caller
 * serializes these calls against each other and against joins and leaves
 * of the trunk involved.
 */
struct switch_port *switch_route(struct switch_port *p, const uint8_t *frame, size_t len, char *why,
				 size_t whylen);

/* The port after prev that frame (routed from p by switch_route()) goes to too, or NULL. */
struct switch_port *switch_route_next(const struct switch_port *p, const uint8_t *frame,
				      const struct switch_port *prev);

/*
 * Makes m (its MAC set, not a trunk, on no link) a member of trunk t: 0,
 * or -EEXIST when t or one of its members has m's MAC, -EINVAL when m or t
 * is not fit.  Serialized with routing through t.
 */
int switch_trunk_join(struct switch_port *t, struct switch_port *m);

/* Takes m off its trunk (nothing routes to it after this); a port on no trunk is left alone. */
void switch_trunk_leave(struct switch_port *m);

/* The member of trunk t with this MAC, or NULL. */
struct switch_port *switch_trunk_member(const struct switch_port *t, const uint8_t mac[6]);

/* The EUI-64 link-local address of mac (fe80::/64, RFC 4291 appendix A). */
void switch_link_local(const uint8_t mac[6], uint8_t out[16]);

/* The name of a drop reason, for statistics ("src-mac"); "?" for none. */
const char *switch_drop_name(unsigned reason);

#endif
