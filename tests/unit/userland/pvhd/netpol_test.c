/* SPDX-License-Identifier: Apache-2.0 */
/* netpol_test.c: unit tests for userland/pvhd/netpol.c: addresses, CIDRs, DNS names, egress, ports, picking. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "userland/pvhd/netpol.h"

static struct netpol p;
static char err[256];

TestSuite(netpol);

static int egress(const char *s)
{
	memset(&p, 0, sizeof(p));
	err[0] = 0;
	return netpol_egress(s, "network.egress", &p, err, sizeof(err));
}

Test(netpol, ipv4)
{
	uint32_t a;

	cr_assert(netpol_ipv4("10.0.0.2", &a));
	cr_assert_eq(a, 0x0a000002u);
	cr_assert(netpol_ipv4("255.255.255.255", &a) && a == 0xffffffffu);
	cr_assert(netpol_ipv4("0.0.0.0", &a) && a == 0);
	const char *bad[] = { "", "10.0.0", "10.0.0.2.3", "10.0.0.256", "010.0.0.1", "10..0.1", "10.0.0.1 ",
			      "1.2.3.4/8", "a.b.c.d", "10.0.0.-1", "4294967306.0.0.1" };
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++)
		cr_assert(!netpol_ipv4(bad[k], &a), "%s", bad[k]);
}

Test(netpol, dns_names)
{
	char long_label[70], long_name[260];

	cr_assert(netpol_dns_name_ok("example.org"));
	cr_assert(netpol_dns_name_ok("allowed.test"));
	cr_assert(netpol_dns_name_ok("a-b.c0"));
	cr_assert(netpol_dns_name_ok("localhost"));
	memset(long_label, 'a', 63);
	long_label[63] = 0;
	cr_assert(netpol_dns_name_ok(long_label));
	long_label[63] = 'a', long_label[64] = 0;
	cr_assert(!netpol_dns_name_ok(long_label));
	for (int k = 0; k < 64; k++)
		memcpy(long_name + 4 * k, "abc.", 4);
	long_name[253] = 0;   /* 253 bytes, ends "ab" */
	cr_assert(netpol_dns_name_ok(long_name));
	long_name[253] = 'c', long_name[254] = 0;
	cr_assert(!netpol_dns_name_ok(long_name));
	const char *bad[] = { "", ".", "a..b", ".a", "a.", "-a.b", "a-.b", "a_b.c", "a b", "1.2.3.4", "a/b",
			      "a;rm -rf", "x\n" };
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++)
		cr_assert(!netpol_dns_name_ok(bad[k]), "%s", bad[k]);
}

Test(netpol, cidr_host_bits)
{
	struct netpol_cidr c;

	cr_assert_eq(netpol_cidr("10.0.0.0/8", "f", &c, err, sizeof(err)), 0);
	cr_assert(c.addr == 0x0a000000u && c.prefix == 8);
	cr_assert_eq(netpol_cidr("192.168.100.3", "f", &c, err, sizeof(err)), 0);
	cr_assert(c.addr == 0xc0a86403u && c.prefix == 32);
	cr_assert_eq(netpol_cidr("0.0.0.0/0", "f", &c, err, sizeof(err)), 0);
	cr_assert_eq(netpol_cidr("10.0.0.1/8", "network.egress", &c, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "network.egress: 10.0.0.1/8 has host bits set past /8");
	cr_assert_eq(netpol_cidr("1.0.0.0/0", "f", &c, err, sizeof(err)), -1);
	cr_assert_eq(netpol_cidr("10.0.0.0/33", "f", &c, err, sizeof(err)), -1);
	cr_assert_eq(netpol_cidr("10.0.0.0/", "f", &c, err, sizeof(err)), -1);
	cr_assert_eq(netpol_cidr("10.0.0.0/08", "f", &c, err, sizeof(err)), -1);
	cr_assert_eq(netpol_cidr("10.0.0.0/8/8", "f", &c, err, sizeof(err)), -1);
}

Test(netpol, egress_modes)
{
	char t[NETPOL_TEXT_MAX];

	cr_assert_eq(egress("none"), 0);
	cr_assert_eq(p.egress, NETPOL_NONE);
	cr_assert_eq(egress("all"), 0);
	cr_assert_eq(p.egress, NETPOL_ALL);
	cr_assert_eq(netpol_egress_text(&p, t, sizeof(t)), 0);
	cr_assert_str_eq(t, "all");
	cr_assert_eq(egress("allow=Example.ORG,10.0.0.0/8,192.168.1.7"), 0);
	cr_assert_eq(p.egress, NETPOL_ALLOW);
	cr_assert_eq(p.ncidrs, 2);
	cr_assert_eq(p.nnames, 1);
	cr_assert_str_eq(p.names[0], "example.org");
	cr_assert_eq(netpol_egress_text(&p, t, sizeof(t)), 0);
	cr_assert_str_eq(t, "allow=10.0.0.0/8,192.168.1.7/32,example.org");
	cr_assert_eq(netpol_egress_text(&p, t, 12), -1);
}

Test(netpol, egress_refused)
{
	cr_assert_eq(egress("some"), -1);
	cr_assert_str_eq(err, "network.egress: \"some\": none, all or allow=CIDR|NAME[,...] expected");
	cr_assert_eq(egress("allow="), -1);
	cr_assert_eq(egress("allow=a.org,,b.org"), -1);
	cr_assert_eq(egress("allow=a.org,"), -1);
	cr_assert_eq(egress("allow=10.0.0.1/8"), -1);
	cr_assert_str_eq(err, "network.egress: 10.0.0.1/8 has host bits set past /8");
	cr_assert_eq(egress("allow=bad_name.org"), -1);
	cr_assert_str_eq(err, "network.egress: \"bad_name.org\" is neither a CIDR nor a DNS name");
	cr_assert_eq(egress("allow=a.org,A.org"), -1);
	cr_assert_str_eq(err, "network.egress: A.org listed twice");
	cr_assert_eq(egress("allow=10.0.0.0/8,10.0.0.0/8"), -1);
	cr_assert_eq(egress("allow=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16"), -1);   /* bare numbers: no CIDR */
	cr_assert_eq(egress("allow=a1,a2,a3,a4,a5,a6,a7,a8,a9,a10,a11,a12,a13,a14,a15,a16"), 0);
	cr_assert_eq(egress("allow=a1,a2,a3,a4,a5,a6,a7,a8,a9,a10,a11,a12,a13,a14,a15,a16,a17"), -1);
	cr_assert_str_eq(err, "network.egress: more than 16 items in the allow list");
}

Test(netpol, ports)
{
	char text[16];

	memset(&p, 0, sizeof(p));
	cr_assert_eq(netpol_port_str("8080:80", "-p", &p, err, sizeof(err)), 0);
	cr_assert(p.nports == 1 && p.ports[0].host_port == 8080 && p.ports[0].port == 80 && !p.ports[0].udp);
	cr_assert_eq(netpol_port_str("65535:1", "-p", &p, err, sizeof(err)), 0);
	cr_assert_eq(netpol_port_str("8080:81", "network.ports[2]", &p, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "network.ports[2]: TCP host port 8080 published twice");
	cr_assert_eq(netpol_port_str("8080:81/tcp", "-p", &p, err, sizeof(err)), -1);
	cr_assert_eq(netpol_port(0, 80, false, "network.ports[0]", &p, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "network.ports[0]: ports are 1..65535 (host 0, sandbox 80)");
	cr_assert_eq(netpol_port(80, 65536, true, "f", &p, err, sizeof(err)), -1);
	const char *bad[] = { "80", "80:", ":80", "65536:80", "0:80", "80:0", "08:80", "80:80:80", "a:80", "-1:80",
			      "80:80/", "80:80/UDP", "80:80/sctp", "80:/udp", "80/udp:80", "80:80/udp/udp", "80:80 /udp" };
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
		cr_assert_eq(netpol_port_str(bad[k], "-p", &p, err, sizeof(err)), -1, "%s", bad[k]);
		cr_assert(strstr(err, "is not HOSTPORT:PORT[/tcp|/udp]") || strstr(err, "ports are 1..65535"), "%s: %s",
			  bad[k], err);
	}
	cr_assert_eq(p.nports, 2u, "nothing refused was added");
	/* The same host port once for each protocol: two rules that never meet. */
	cr_assert_eq(netpol_port_str("8080:53/udp", "-p", &p, err, sizeof(err)), 0, "%s", err);
	cr_assert(p.nports == 3 && p.ports[2].host_port == 8080 && p.ports[2].port == 53 && p.ports[2].udp);
	cr_assert_eq(netpol_port_str("8080:54/udp", "network.ports[3]", &p, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "network.ports[3]: UDP host port 8080 published twice");
	netpol_port_text(&p, 0, text);
	cr_assert_str_eq(text, "8080:80");
	netpol_port_text(&p, 2, text);
	cr_assert_str_eq(text, "8080:53/udp");
	netpol_port(65535, 65535, true, "f", &p, err, sizeof(err));
	netpol_port_text(&p, 3, text);
	cr_assert_str_eq(text, "65535:65535/udp", "the longest text fits its 16 bytes");
	for (unsigned k = 4; k < NETPOL_PORTS_MAX; k++)
		cr_assert_eq(netpol_port(100 + k, 80, false, "f", &p, err, sizeof(err)), 0);
	cr_assert_eq(netpol_port(200, 80, true, "f", &p, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "f: more than 8 published ports");
}

Test(netpol, pick)
{
	uint32_t a, used[] = { 0x0a000002u, 0x0a000004u };

	cr_assert_eq(netpol_pick(0x0a000001u, 24, NULL, 0, &a), 0);
	cr_assert_eq(a, 0x0a000002u);
	cr_assert_eq(netpol_pick(0x0a000001u, 24, used, 1, &a), 0);
	cr_assert_eq(a, 0x0a000003u);
	cr_assert_eq(netpol_pick(0x0a000003u, 24, used, 2, &a), 0);   /* ctl's own skipped too */
	cr_assert_eq(a, 0x0a000001u);
	/* A /30 has two hosts: ctl and one sandbox; the broadcast is never picked. */
	cr_assert_eq(netpol_pick(0x0a000001u, 30, NULL, 0, &a), 0);
	cr_assert_eq(a, 0x0a000002u);
	cr_assert_eq(netpol_pick(0x0a000001u, 30, used, 1, &a), -1);
	cr_assert_eq(netpol_pick(0x0a000001u, 31, NULL, 0, &a), -1);
	cr_assert_eq(netpol_pick(0x0a000001u, 0, NULL, 0, &a), -1);
}

static struct netpol_hosts hosts;

static int host(const char *s)
{
	err[0] = 0;
	return netpol_host_record(s, "--host-record", &hosts, err, sizeof(err));
}

Test(netpol, host_records)
{
	char many[32];

	memset(&hosts, 0, sizeof(hosts));
	cr_assert_eq(host("Files.Test=10.0.2.100"), 0, "%s", err);
	cr_assert_eq(host("other.test=192.168.1.1"), 0, "%s", err);
	cr_assert_eq(hosts.n, 2);
	cr_assert_str_eq(hosts.names[0], "files.test");
	cr_assert_eq(hosts.addrs[0], 0x0a000264u);
	cr_assert_eq(hosts.addrs[1], 0xc0a80101u);
	cr_assert_eq(host("files.test=10.0.2.101"), -1);
	cr_assert_str_eq(err, "--host-record: files.test defined twice");
	cr_assert_eq(host("files.test"), -1);
	cr_assert_str_eq(err, "--host-record: \"files.test\" is not NAME=IPV4");
	cr_assert_eq(host("a;b=10.0.2.1"), -1);
	cr_assert_str_eq(err, "--host-record: \"a;b\" is not a DNS name");
	cr_assert_eq(host("x.test=10.0.2"), -1);
	cr_assert_str_eq(err, "--host-record: \"10.0.2\" is not an IPv4 address");
	cr_assert_eq(host("x.test=127.0.0.1"), -1);
	cr_assert_str_eq(err, "--host-record: 127.0.0.1 is not a unicast address a sandbox could reach "
			 "(0/8, 127/8 and 224/3 are refused)");
	const char *bad[] = { "=10.0.2.1", "x.test=", "x.test=0.1.2.3", "x.test=224.0.0.1", "x.test=255.255.255.255",
			      "x.test=10.0.2.1 ", "1.2.3.4=10.0.2.1", "x.test==10.0.2.1", "x.test=10.0.2.1=" };
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++)
		cr_assert_eq(host(bad[k]), -1, "%s", bad[k]);
	cr_assert_eq(hosts.n, 2);
	for (unsigned k = 2; k < NETPOL_HOSTS_MAX; k++) {
		snprintf(many, sizeof(many), "h%u.test=10.0.3.%u", k, k);
		cr_assert_eq(host(many), 0, "%s: %s", many, err);
	}
	cr_assert_eq(host("one.more=10.0.3.99"), -1);
	cr_assert_str_eq(err, "--host-record: more than 16 host records");
}
