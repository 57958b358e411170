/* SPDX-License-Identifier: Apache-2.0 */
/* spec_test.c: unit tests for userland/pvhd/spec.c: defaults, every field, unknown keys, types and ranges. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "userland/pvhd/spec.h"

static struct pvhv_mgmt_create c;
static struct spec_exec ex;
static struct spec_net net;
static char err[SPEC_ERRLEN];

TestSuite(spec);

static int create(const char *body)
{
	size_t n = strlen(body);
	char *q = malloc(n ? n : 1);
	int rc;

	cr_assert(q);
	memcpy(q, body, n);
	err[0] = 0;
	rc = spec_decode_create("web", q, n, &c, &net, err, sizeof(err));
	free(q);
	return rc;
}

Test(spec, create_defaults)
{
	static struct pvhv_mgmt_create want;

	/* Every field: the defaults pvhctl run uses, and nothing else set. */
	snprintf(want.name, sizeof(want.name), "web");
	snprintf(want.kernel, sizeof(want.kernel), "vmlinux");
	snprintf(want.initrd, sizeof(want.initrd), "initramfs.cpio");
	snprintf(want.cmdline, sizeof(want.cmdline), "console=ttyS0 quiet pvhv.test=root");
	want.memory_mib = 128;
	want.vcpus = 1;
	memset(&c, 0xa5, sizeof(c));
	cr_assert_eq(create("{}"), 0, "%s", err);
	cr_assert(!memcmp(&c, &want, sizeof(c)));
}

Test(spec, create_every_field)
{
	cr_assert_eq(create("{\"boot-source\":{\"kernel_image\":\"k.elf\",\"initrd\":\"\",\"boot_args\":\"a \\\"b\\\"\"},"
			    "\"machine-config\":{\"vcpu_count\":2,\"mem_size_mib\":256,\"cpu_share\":5},"
			    "\"drives\":[{\"image\":\"root.ext4\",\"is_read_only\":false},{\"image\":\"d\",\"is_read_only\":true},"
			    "{\"image\":\"e\"}],\"vsock\":{\"guest_cid\":1000},\"timeout_s\":30,\"paused\":true}"),
		     0, "%s", err);
	cr_assert_str_eq(c.kernel, "k.elf");
	cr_assert_str_eq(c.initrd, "");
	cr_assert_str_eq(c.cmdline, "a \"b\"");
	cr_assert_eq(c.vcpus, 2);
	cr_assert_eq(c.memory_mib, 256);
	cr_assert_eq(c.cpu_share, 5);
	cr_assert_str_eq(c.disks[0], "root.ext4");
	cr_assert_str_eq(c.disks[1], "ro:d");
	cr_assert_str_eq(c.disks[2], "e");
	cr_assert_eq(c.disks[3][0], 0);
	cr_assert_eq(c.vsock_cid, 1000);
	cr_assert_eq(c.max_runtime_ms, 30000);
	cr_assert_eq(c.flags, PVHV_MGMT_CREATE_PAUSED);
}

Test(spec, create_rejections)
{
	static const struct {
		const char *in, *msg;
	} bad[] = {
		{ "", "body: JSON" },
		{ "{\"paused\":tru}", "body: JSON" },
		{ "[]", "body: a JSON object expected at byte 0" },
		{ "{\"bogus\":1}", "body: unknown key \"bogus\" at byte 2" },
		{ "{\"paused\":true,\"paused\":false}", "body: a key given twice" },
		{ "{\"machine-config\":{\"vcpu_count\":0}}", "machine-config.vcpu_count: an integer 1..64 expected at byte 32" },
		{ "{\"machine-config\":{\"vcpu_count\":65}}", "machine-config.vcpu_count: an integer 1..64" },
		{ "{\"machine-config\":{\"mem_size_mib\":-1}}", "machine-config.mem_size_mib: an integer" },
		{ "{\"machine-config\":{\"mem_size_mib\":1.5}}", "machine-config.mem_size_mib: an integer" },
		{ "{\"machine-config\":{\"mem\":1}}", "machine-config: unknown key \"mem\"" },
		{ "{\"machine-config\":[]}", "machine-config: a JSON object expected" },
		{ "{\"boot-source\":{\"kernel_image\":7}}", "boot-source.kernel_image: a string expected" },
		{ "{\"boot-source\":{\"kernel_image\":\"../x\"}}", "boot-source.kernel_image: an image name" },
		{ "{\"boot-source\":{\"boot_args\":\"a\\u0000b\"}}", "boot-source.boot_args: a string with U+0000" },
		{ "{\"drives\":{}}", "drives: an array expected" },
		{ "{\"drives\":[{},{},{},{},{}]}", "drives: at most 4 drives" },
		{ "{\"drives\":[{\"is_read_only\":true}]}", "drives[0].image: missing" },
		{ "{\"drives\":[{\"image\":\"a\",\"is_read_only\":1}]}", "drives[0].is_read_only: true or false expected" },
		{ "{\"drives\":[{\"image\":\"a\",\"ro\":true}]}", "drives[0]: unknown key \"ro\"" },
		{ "{\"vsock\":{\"guest_cid\":2}}", "vsock.guest_cid: 0 (pick one) or 3 and above" },
		{ "{\"vsock\":{\"cid\":9}}", "vsock: unknown key \"cid\"" },
		{ "{\"timeout_s\":4294968}", "timeout_s: an integer 0..4294967" },
		{ "{\"paused\":\"yes\"}", "paused: true or false expected" },
	};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		cr_assert_eq(create(bad[k].in), -1, "case %zu accepted", k);
		cr_assert(strstr(err, bad[k].msg), "case %zu: %s", k, err);
	}
}

Test(spec, create_limits)
{
	static char big[SPEC_BODY_MAX + 64];
	char args[2048];

	memset(args, 'a', sizeof(args));
	snprintf(big, sizeof(big), "{\"boot-source\":{\"boot_args\":\"%.*s\"}}", 1024, args);
	cr_assert_eq(create(big), -1);
	cr_assert(strstr(err, "boot-source.boot_args: longer than 1023 bytes"), "%s", err);
	snprintf(big, sizeof(big), "{\"boot-source\":{\"boot_args\":\"%.*s\"}}", 1023, args);
	cr_assert_eq(create(big), 0, "%s", err);
	/* Deep nesting stops in the parser, a long body before it. */
	memset(big, '[', 100);
	big[100] = 0;
	cr_assert_eq(create(big), -1);
	cr_assert(strstr(err, "body: JSON"), "%s", err);
	memset(big, ' ', SPEC_BODY_MAX + 1);
	big[0] = '{';
	big[SPEC_BODY_MAX] = '}';
	big[SPEC_BODY_MAX + 1] = 0;
	cr_assert_eq(create(big), -1);
	cr_assert(strstr(err, "body: 65537 bytes, at most 65536"), "%s", err);
}

Test(spec, names)
{
	cr_assert(spec_sandbox_name_ok("web-1.a_b"));
	cr_assert(!spec_sandbox_name_ok(""));
	cr_assert(!spec_sandbox_name_ok(".hidden"));
	cr_assert(!spec_sandbox_name_ok("a/b"));
	cr_assert(!spec_sandbox_name_ok("0123456789012345678901234567890123"));
	cr_assert(spec_image_name_ok("0123456789012345678901234567890123"));
	cr_assert(!spec_image_name_ok("a b"));
}

Test(spec, action)
{
	enum spec_action a = 0;

	cr_assert_eq(spec_decode_action("{\"action_type\":\"Pause\"}", 23, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(a, SPEC_PAUSE);
	cr_assert_eq(spec_decode_action("{\"action_type\":\"InstanceStart\"}", 31, &a, err, sizeof(err)), 0);
	cr_assert_eq(a, SPEC_START);
	cr_assert_eq(spec_decode_action("{\"action_type\":\"Reboot\"}", 24, &a, err, sizeof(err)), -1);
	cr_assert(strstr(err, "action_type: one of InstanceStart"), "%s", err);
	cr_assert_eq(spec_decode_action("{}", 2, &a, err, sizeof(err)), -1);
	cr_assert(strstr(err, "action_type: missing"), "%s", err);
	cr_assert_eq(spec_decode_action("{\"x\":1}", 7, &a, err, sizeof(err)), -1);
	cr_assert(strstr(err, "unknown key \"x\""), "%s", err);
}

static int exec_body(const char *body)
{
	err[0] = 0;
	return spec_decode_exec(body, strlen(body), &ex, err, sizeof(err));
}

Test(spec, exec)
{
	cr_assert_eq(exec_body("{\"cmd\":[\"sh\",\"-c\",\"exit 3\"],\"env\":[\"A=1\"],\"cwd\":\"/tmp\",\"timeout_s\":9}"), 0,
		     "%s", err);
	cr_assert_eq(ex.argc, 3);
	cr_assert_str_eq(ex.argv[2], "exit 3");
	cr_assert_null(ex.argv[3]);
	cr_assert_eq(ex.envc, 1);
	cr_assert_str_eq(ex.env[0], "A=1");
	cr_assert_str_eq(ex.cwd, "/tmp");
	cr_assert_eq(ex.timeout_s, 9);
	cr_assert_eq(exec_body("{\"cmd\":[\"true\"]}"), 0, "%s", err);
	cr_assert_str_eq(ex.cwd, "");
	cr_assert_eq(ex.envc, 0);
	cr_assert_eq(exec_body("{}"), -1);
	cr_assert(strstr(err, "cmd: missing"), "%s", err);
	cr_assert_eq(exec_body("{\"cmd\":[]}"), -1);
	cr_assert(strstr(err, "cmd: a non-empty program name"), "%s", err);
	cr_assert_eq(exec_body("{\"cmd\":[\"\"]}"), -1);
	cr_assert_eq(exec_body("{\"cmd\":[\"a\",1]}"), -1);
	cr_assert(strstr(err, "cmd[1]: a string expected at byte 12"), "%s", err);
	cr_assert_eq(exec_body("{\"cmd\":\"ls\"}"), -1);
	cr_assert(strstr(err, "cmd: an array of strings expected"), "%s", err);
	cr_assert_eq(exec_body("{\"cmd\":[\"a\"],\"env\":[\"=x\"]}"), -1);
	cr_assert(strstr(err, "env[0]: NAME=VALUE"), "%s", err);
	cr_assert_eq(exec_body("{\"cmd\":[\"a\"],\"cwd\":\"tmp\"}"), -1);
	cr_assert(strstr(err, "cwd: an absolute path"), "%s", err);
	cr_assert_eq(exec_body("{\"cmd\":[\"a\"],\"stdin\":\"x\"}"), -1);
	cr_assert(strstr(err, "body: unknown key \"stdin\""), "%s", err);
}

Test(spec, create_network)
{
	static const uint8_t mac[6] = { 0x02, 0xab, 0, 0, 0, 0x07 };

	cr_assert_eq(create("{}"), 0, "%s", err);
	cr_assert(!net.present && !(c.flags & PVHV_MGMT_CREATE_NET));
	cr_assert_eq(create("{\"network\":{}}"), 0, "%s", err);
	cr_assert(net.present && net.pick_ipv4 && !net.mac_given && (c.flags & PVHV_MGMT_CREATE_NET));
	cr_assert_eq(net.pol.egress, NETPOL_NONE);
	cr_assert_eq(c.net_ipv4[0], 0);
	cr_assert_eq(create("{\"network\":{\"ipv4\":\"10.0.0.7\",\"mac\":\"02:AB:00:00:00:07\",\"egress\":"
			    "\"allow=allowed.test,192.168.0.0/16\",\"ports\":[{\"host_port\":8080,\"port\":80},"
			    "{\"host_port\":2222,\"port\":22,\"proto\":\"tcp\"},"
			    "{\"host_port\":2222,\"port\":53,\"proto\":\"udp\"}]}}"), 0, "%s", err);
	cr_assert(!net.pick_ipv4 && net.mac_given);
	cr_assert_eq(memcmp(&c.net_ipv4[0], "\x0a\x00\x00\x07", 4), 0);
	cr_assert_eq(memcmp(c.net_mac, mac, 6), 0);
	cr_assert(net.pol.egress == NETPOL_ALLOW && net.pol.nnames == 1 && net.pol.ncidrs == 1);
	cr_assert(net.pol.nports == 3 && net.pol.ports[1].host_port == 2222 && net.pol.ports[1].port == 22);
	cr_assert(!net.pol.ports[0].udp && !net.pol.ports[1].udp && net.pol.ports[2].udp && net.pol.ports[2].port == 53);
	cr_assert_eq(create("{\"network\":{\"egress\":\"all\"}}"), 0, "%s", err);
	cr_assert_eq(net.pol.egress, NETPOL_ALL);
}

Test(spec, create_network_rejections)
{
	static const struct {
		const char *in, *msg;
	} bad[] = {
		{ "{\"network\":[]}", "network: a JSON object expected" },
		{ "{\"network\":{\"ip\":\"10.0.0.2\"}}", "network: unknown key \"ip\"" },
		{ "{\"network\":{\"ipv4\":\"10.0.0\"}}", "network.ipv4: an IPv4 address (a.b.c.d) expected" },
		{ "{\"network\":{\"ipv4\":\"224.0.0.1\"}}", "network.ipv4: a unicast host address expected" },
		{ "{\"network\":{\"ipv4\":\"0.0.0.0\"}}", "network.ipv4: a unicast host address expected" },
		{ "{\"network\":{\"mac\":\"01:00:5e:00:00:01\"}}", "network.mac: a unicast MAC" },
		{ "{\"network\":{\"mac\":\"02:00:00:00:00\"}}", "network.mac: a unicast MAC" },
		{ "{\"network\":{\"egress\":\"some\"}}", "network.egress: \"some\": none, all or allow=" },
		{ "{\"network\":{\"egress\":\"allow=10.0.0.1/8\"}}", "network.egress: 10.0.0.1/8 has host bits set" },
		{ "{\"network\":{\"egress\":\"allow=x;reboot\"}}", "network.egress: \"x;reboot\" is neither" },
		{ "{\"network\":{\"egress\":7}}", "network.egress: a string expected" },
		{ "{\"network\":{\"ports\":{}}}", "network.ports: an array expected" },
		{ "{\"network\":{\"ports\":[{\"host_port\":8080}]}}", "network.ports[0]: host_port and port expected" },
		{ "{\"network\":{\"ports\":[{\"host_port\":0,\"port\":80}]}}", "network.ports[0]: an integer 1..65535" },
		{ "{\"network\":{\"ports\":[{\"host_port\":80,\"port\":65536}]}}", "network.ports[0]: an integer 1..65535" },
		{ "{\"network\":{\"ports\":[{\"host_port\":80,\"port\":1},{\"host_port\":80,\"port\":2}]}}",
		  "network.ports[1]: TCP host port 80 published twice" },
		{ "{\"network\":{\"ports\":[{\"host_port\":80,\"port\":1,\"proto\":\"udp\"},"
		  "{\"host_port\":80,\"port\":2,\"proto\":\"udp\"}]}}",
		  "network.ports[1]: UDP host port 80 published twice" },
		{ "{\"network\":{\"ports\":[{\"host_port\":80,\"port\":1,\"proto\":\"sctp\"}]}}",
		  "network.ports[0]: proto: \"tcp\" or \"udp\" expected at byte" },
		{ "{\"network\":{\"ports\":[{\"host_port\":80,\"port\":1,\"proto\":17}]}}",
		  "network.ports[0]: proto: \"tcp\" or \"udp\" expected at byte" },
		{ "{\"network\":{\"ports\":[{\"host_port\":80,\"port\":1,\"protocol\":\"udp\"}]}}",
		  "network.ports[0]: unknown key \"protocol\"" },
	};

	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		cr_assert_eq(create(bad[k].in), -1, "case %zu accepted", k);
		cr_assert(strstr(err, bad[k].msg), "case %zu: %s", k, err);
	}
}
