/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netpol.h: a sandbox's network request checked: its address on the
 * trunk, its egress policy (none, all, or an allow list of CIDRs and DNS
 * names) and its published ports, and a free address picked for it.
 *
 * Pure (lib/base.h only), so Criterion tests it as it tests spec.c.  Every
 * parser checks the whole string first and returns 0, or -1 with a
 * message naming the field (the caller's `field`, e.g. "network.egress")
 * and the item, e.g. "network.egress: 10.0.0.1/8 has host bits set".
 * On failure the outputs are unspecified.
 */
#ifndef USERLAND_PVHD_NETPOL_H
#define USERLAND_PVHD_NETPOL_H

#include "lib/base.h"

#define NETPOL_ALLOW_MAX 16u   /* CIDRs and names in one allow list */
#define NETPOL_PORTS_MAX 8u    /* published ports of one sandbox */
#define NETPOL_DNS_MAX 253u    /* bytes of a DNS name (RFC 1035 2.3.4) */
#define NETPOL_TEXT_MAX (NETPOL_ALLOW_MAX * (NETPOL_DNS_MAX + 1) + 16)
#define NETPOL_HOSTS_MAX 16u   /* pvhd --host-record entries */

enum netpol_egress { NETPOL_NONE = 0, NETPOL_ALL, NETPOL_ALLOW };

/* Addresses are host byte order here. */
struct netpol_cidr {
	uint32_t addr;
	unsigned prefix;   /* 0..32 */
};

struct netpol_port {
	uint16_t host_port, port;   /* each 1..65535 */
	bool udp;                   /* UDP, else TCP */
};

struct netpol {
	enum netpol_egress egress;
	unsigned ncidrs, nnames, nports;
	struct netpol_cidr cidrs[NETPOL_ALLOW_MAX];
	char names[NETPOL_ALLOW_MAX][NETPOL_DNS_MAX + 1];   /* lower case */
	struct netpol_port ports[NETPOL_PORTS_MAX];
};

/*
 * Names ctl's resolver answers itself (pvhd --host-record NAME=IPV4): a
 * name the operator (or a test) defines, resolving to an address on the
 * uplink's side.
 */
struct netpol_hosts {
	unsigned n;
	char names[NETPOL_HOSTS_MAX][NETPOL_DNS_MAX + 1];   /* lower case */
	uint32_t addrs[NETPOL_HOSTS_MAX];
};

/* "a.b.c.d", each a decimal 0..255 without leading zeros: true and *out (host order). */
bool netpol_ipv4(const char *s, uint32_t *out);

/* A DNS name: labels of 1..63 letters, digits and inner hyphens, 253 bytes in all, not all digits. */
bool netpol_dns_name_ok(const char *s);

/* "a.b.c.d/N" (or a bare address: /32) with no host bits set past N. */
int netpol_cidr(const char *s, const char *field, struct netpol_cidr *c, char *err, size_t errlen);

/*
 * "none", "all" or "allow=ITEM[,ITEM]..." (each a CIDR or a DNS name, at
 * most NETPOL_ALLOW_MAX, no repeats) into p's egress, cidrs and names.
 */
int netpol_egress(const char *s, const char *field, struct netpol *p, char *err, size_t errlen);

/* One allow-list item (a CIDR or a DNS name) added to p (egress becomes NETPOL_ALLOW). */
int netpol_allow(const char *item, const char *field, struct netpol *p, char *err, size_t errlen);

/*
 * A published TCP or UDP port: host_port and port each 1..65535, host_port
 * of that protocol not published by p already.
 */
int netpol_port(uint64_t host_port, uint64_t port, bool udp, const char *field, struct netpol *p, char *err,
		size_t errlen);

/* "HOSTPORT:PORT", "HOSTPORT:PORT/tcp" or "HOSTPORT:PORT/udp" as netpol_port takes it. */
int netpol_port_str(const char *s, const char *field, struct netpol *p, char *err, size_t errlen);

/* p's port k as pvhv-router takes it: "HOSTPORT:PORT" (TCP) or "HOSTPORT:PORT/udp"; out has 16 bytes. */
void netpol_port_text(const struct netpol *p, unsigned k, char out[16]);

/* p's egress as pvhv-router takes it ("none", "all", "allow=ITEM,..."): 0, or -1 when cap is short. */
int netpol_egress_text(const struct netpol *p, char *out, size_t cap);

/*
 * The lowest host address of self/prefix (the control domain's own address
 * on the trunk; network and broadcast excluded) that is neither self nor
 * in used[0..n): 0 and *out, or -1 when none is free (or prefix is not
 * 1..30, leaving no room for two hosts).
 */
int netpol_pick(uint32_t self, unsigned prefix, const uint32_t *used, unsigned n, uint32_t *out);

/*
 * "NAME=IPV4" added to h: NAME a DNS name (lower-cased) not in h already,
 * IPV4 a unicast address outside 0.0.0.0/8, 127.0.0.0/8 and 224.0.0.0/3
 * (multicast, reserved, broadcast), at most NETPOL_HOSTS_MAX entries.
 */
int netpol_host_record(const char *s, const char *field, struct netpol_hosts *h, char *err, size_t errlen);

#endif
