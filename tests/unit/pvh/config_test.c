/* SPDX-License-Identifier: Apache-2.0 */
/* config_test.c: unit tests for pvh/config.c, with FDTs built by libfdt's sequential-write API. */
#include <criterion/criterion.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "lib/base.h"
#include "pvh/config.h"

static char blob[1 << 16] __attribute__((aligned(8)));
static size_t blob_len;
#define ROOM 300   /* the array config_parse() fills: the caller's, any size */
static struct domain_config doms[ROOM];
static struct pvh_config cfg = { .dom = doms };
static char err[256];

#define OK(call) cr_assert_eq((call), 0, "%s failed", #call)

static void begin_root(const char *compat, size_t compat_len)
{
	OK(fdt_create(blob, sizeof(blob)));
	OK(fdt_finish_reservemap(blob));
	OK(fdt_begin_node(blob, ""));
	if (compat)
		OK(fdt_property(blob, "compatible", compat, compat_len));
}

/* Root with the right compatible and an open /domains node. */
static void begin(void)
{
	begin_root(CONFIG_COMPATIBLE, sizeof(CONFIG_COMPATIBLE));
	OK(fdt_begin_node(blob, "domains"));
}

static void node(const char *name)
{
	OK(fdt_begin_node(blob, name));
}

static void end(void)
{
	OK(fdt_end_node(blob));
}

static void str(const char *name, const char *val)
{
	OK(fdt_property_string(blob, name, val));
}

static void raw(const char *name, const void *val, int len)
{
	OK(fdt_property(blob, name, val, len));
}

static void cell(const char *name, uint32_t v)
{
	OK(fdt_property_u32(blob, name, v));
}

/* A minimal valid domain. */
static void domain(const char *name, uint32_t mib)
{
	node(name);
	str("kernel", "vmlinux");
	cell("memory-mib", mib);
	end();
}

/* Close /domains and / and finish. */
static void finish_root(void)
{
	end();
	OK(fdt_finish(blob));
	blob_len = fdt_totalsize(blob);
}

static void finish(void)
{
	end();
	finish_root();
}

static int parse(void)
{
	err[0] = 0;
	return config_parse(blob, blob_len, &cfg, ROOM, err, sizeof(err));
}

static void expect_blob_fail(const char *msg)
{
	cr_assert_eq(parse(), -EINVAL, "expected -EINVAL for \"%s\"", msg);
	cr_assert(strstr(err, msg), "message \"%s\" lacks \"%s\"", err, msg);
}

/* Parse a config with one bad domain between two good ones. */
static void expect_dom_fail(const char *msg)
{
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert_eq(cfg.nr_domains, 3);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert(!cfg.dom[1].valid, "domain accepted, wanted \"%s\"", msg);
	cr_assert_str_eq(cfg.dom[1].error, msg);
	cr_assert(cfg.dom[2].valid, "%s", cfg.dom[2].error);
}

static void begin_bad(const char *name)
{
	begin();
	domain("before", 2);
	node(name);
}

static void finish_bad(void)
{
	end();
	domain("after", 4);
	finish();
}

Test(config, good_multi_domain)
{
	begin();
	node("linux");
	str("kernel", "vmlinux");
	str("initrd", "initrd.img");
	str("cmdline", "console=ttyS0");
	cell("memory-mib", 256);
	cell("vcpus", 4);
	end();
	node("tiny_1");
	str("kernel", "hello.elf");
	cell("memory-mib", 2);
	end();
	node("Max-16");
	cell("vcpus", 16);
	cell("memory-mib", 65536);
	str("kernel", "k");
	str("cmdline", "");
	end();
	finish();

	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert_eq(cfg.nr_domains, 3);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert_str_eq(cfg.dom[0].name, "linux");
	cr_assert_str_eq(cfg.dom[0].kernel, "vmlinux");
	cr_assert_str_eq(cfg.dom[0].initrd, "initrd.img");
	cr_assert_str_eq(cfg.dom[0].cmdline, "console=ttyS0");
	cr_assert_eq(cfg.dom[0].memory, MIB(256));
	cr_assert_eq(cfg.dom[0].vcpus, 4);
	cr_assert_str_eq(cfg.dom[0].error, "");
	/* Strings point into the blob. */
	cr_assert((const char *)cfg.dom[0].kernel > blob &&
		  (const char *)cfg.dom[0].kernel < blob + blob_len);

	cr_assert(cfg.dom[1].valid, "%s", cfg.dom[1].error);
	cr_assert_str_eq(cfg.dom[1].name, "tiny_1");
	cr_assert_str_eq(cfg.dom[1].kernel, "hello.elf");
	cr_assert_null(cfg.dom[1].initrd);
	cr_assert_null(cfg.dom[1].cmdline);
	cr_assert_eq(cfg.dom[1].memory, MIB(2));
	cr_assert_eq(cfg.dom[1].vcpus, 1);

	cr_assert(cfg.dom[2].valid, "%s", cfg.dom[2].error);
	cr_assert_str_eq(cfg.dom[2].name, "Max-16");
	cr_assert_eq(cfg.dom[2].vcpus, 16);
	cr_assert_eq(cfg.dom[2].memory, MIB(65536));
	cr_assert_str_eq(cfg.dom[2].cmdline, "");
}

Test(config, compatible_list_and_extra_root_content)
{
	static const char compat[] = "acme,board\0pvhv,config-1";

	begin_root(compat, sizeof(compat));
	str("model", "whatever");
	node("chosen");
	end();
	node("domains");
	domain("a", 2);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert_eq(cfg.nr_domains, 1);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
}

Test(config, phandle_and_name_allowed)
{
	begin();
	node("a");
	str("kernel", "k");
	cell("phandle", 1);
	str("name", "a");
	cell("memory-mib", 2);
	end();
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
}

/* No fixed limit: 250 domains (once 16 at most), the last with vsock-connect to one past id 32. */
Test(config, many_domains_ok)
{
	char name[8];
	unsigned i, count = 0;

	begin();
	for (i = 0; i < 250; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		node(name);
		str("kernel", "k");
		cell("memory-mib", 2);
		cell("vsock-cid", 3 + i);
		if (i == 249)
			raw("vsock-connect", "d0\0d40\0d248", 12);
		end();
	}
	finish();
	cr_assert_eq(config_count_domains(blob, blob_len, &count, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(count, 250);
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert_eq(cfg.nr_domains, 250);
	cr_assert_str_eq(cfg.dom[249].name, "d249");
	for (i = 0; i < 250; i++)
		cr_assert(cfg.dom[i].valid, "d%u: %s", i, cfg.dom[i].error);
	cr_assert_eq(cfg.dom[249].vsock.nr_connect, 3);
	cr_assert(config_vsock_may_connect(&cfg.dom[249], "d40"));
	cr_assert(config_vsock_may_connect(&cfg.dom[249], "d248"));
	cr_assert(config_vsock_may_connect(&cfg.dom[249], "d0"));
	cr_assert_not(config_vsock_may_connect(&cfg.dom[249], "d8"));
	cr_assert_not(config_vsock_may_connect(&cfg.dom[249], "d4"));
	cr_assert_not(config_vsock_may_connect(&cfg.dom[248], "d249"));
}

/* ------------------------------------------------------------ blob errors */

/* The caller's array is the only limit, and a blob with more is refused before anything is written. */
Test(config, more_domains_than_room)
{
	char name[8];
	unsigned i;

	begin();
	for (i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "d%u", i);
		domain(name, 2);
	}
	finish();
	memset(doms, 0xa5, sizeof(doms));
	cr_assert_eq(config_parse(blob, blob_len, &cfg, 4, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "config: 5 domains, room for 4");
	cr_assert_eq(cfg.nr_domains, 0);
	cr_assert_eq(((unsigned char *)doms)[0], 0xa5);
	cr_assert_eq(config_parse(blob, blob_len, &cfg, 5, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.nr_domains, 5);
}

Test(config, zero_domains)
{
	begin();
	finish();
	expect_blob_fail("config: /domains is empty");
}

Test(config, no_domains_node)
{
	begin_root(CONFIG_COMPATIBLE, sizeof(CONFIG_COMPATIBLE));
	node("domain");
	domain("a", 2);
	end();
	finish_root();
	expect_blob_fail("config: no /domains node");
}

/* ------------------------------------------------------------ serve (the bundle's policy) */

/* Root with the right compatible and "serve" (len < 0: empty, else len bytes of zeros). */
static void begin_serve_root(int len)
{
	static const char zeros[8];

	begin_root(CONFIG_COMPATIBLE, sizeof(CONFIG_COMPATIBLE));
	raw(CONFIG_SERVE_PROP, zeros, len < 0 ? 0 : len);
}

Test(config, serve_with_no_domains)
{
	unsigned count = 99;

	begin_serve_root(-1);
	node("domains");
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.serve);
	cr_assert_eq(cfg.nr_domains, 0);
	cr_assert_eq(config_count_domains(blob, blob_len, &count, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(count, 0);
}

Test(config, serve_without_domains_node)
{
	begin_serve_root(-1);
	finish_root();
	cfg.nr_domains = 7;
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.serve);
	cr_assert_eq(cfg.nr_domains, 0);
}

Test(config, serve_with_domains)
{
	begin_serve_root(-1);
	node("domains");
	domain("a", 2);
	domain("b", 4);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.serve);
	cr_assert_eq(cfg.nr_domains, 2);
	cr_assert(cfg.dom[1].valid, "%s", cfg.dom[1].error);
}

Test(config, serve_absent_is_false)
{
	begin();
	domain("a", 2);
	finish();
	cfg.serve = true;
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert_not(cfg.serve);
}

Test(config, serve_with_a_value)
{
	begin_serve_root(4);
	node("domains");
	domain("a", 2);
	finish();
	expect_blob_fail("config: serve takes no value (it has 4 bytes): write \"serve;\"");
	cr_assert_not(cfg.serve);
}

Test(config, serve_on_a_domain_is_unknown)
{
	begin_bad("x");
	str("kernel", "vmlinux");
	cell("memory-mib", 2);
	raw(CONFIG_SERVE_PROP, "", 0);
	finish_bad();
	expect_dom_fail("unknown property \"serve\"");
}

Test(config, missing_compatible)
{
	begin_root(NULL, 0);
	node("domains");
	domain("a", 2);
	finish();
	expect_blob_fail("config: root node is not compatible with \"pvhv,config-1\"");
}

Test(config, wrong_compatible)
{
	begin_root("pvhv,config-2", sizeof("pvhv,config-2"));
	node("domains");
	domain("a", 2);
	finish();
	expect_blob_fail("not compatible");
}

Test(config, not_a_device_tree)
{
	memset(blob, 'x', 256);
	blob_len = 256;
	expect_blob_fail("config: not a valid device tree: FDT_ERR_BADMAGIC");
}

Test(config, empty_and_tiny_blobs)
{
	blob_len = 0;
	expect_blob_fail("config: not a valid device tree");
	begin();
	domain("a", 2);
	finish();
	blob_len = 20;
	expect_blob_fail("config: not a valid device tree");
}

Test(config, truncated_blob)
{
	begin();
	domain("a", 2);
	finish();
	blob_len -= 8;
	expect_blob_fail("config: not a valid device tree: FDT_ERR_TRUNCATED");
}

Test(config, blob_longer_than_header)
{
	begin();
	domain("a", 2);
	finish();
	blob_len += 8;
	expect_blob_fail("config: device tree header says");
}

Test(config, corrupt_structure)
{
	uint32_t off;

	begin();
	domain("a", 2);
	finish();
	off = fdt_off_dt_struct(blob);
	memset(blob + off + 8, 0xff, 4); /* first tag after the root's name */
	expect_blob_fail("config: not a valid device tree");
}

Test(config, misaligned_blob)
{
	static char copy[4096] __attribute__((aligned(8)));

	begin();
	domain("a", 2);
	finish();
	memcpy(copy + 4, blob, blob_len);
	cr_assert_eq(config_parse(copy + 4, blob_len, &cfg, ROOM, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "config: blob is not 8-byte aligned");
	cr_assert_eq(config_parse(NULL, 0, &cfg, ROOM, NULL, 0), -EINVAL);
}

/* ---------------------------------------------------------- domain errors */

Test(config, memory_not_multiple_of_2)
{
	begin_bad("m");
	str("kernel", "k");
	cell("memory-mib", 3);
	finish_bad();
	expect_dom_fail("memory-mib 3 is not a multiple of 2");
	cr_assert_str_eq(cfg.dom[1].kernel, "k", "fields before the error are kept");
}

Test(config, memory_too_small)
{
	begin_bad("m");
	str("kernel", "k");
	cell("memory-mib", 0);
	finish_bad();
	expect_dom_fail("memory-mib 0 is below 2");
}

Test(config, memory_too_big)
{
	begin_bad("m");
	str("kernel", "k");
	cell("memory-mib", 65538);
	finish_bad();
	expect_dom_fail("memory-mib 65538 exceeds 65536");
}

Test(config, memory_wrong_size)
{
	static const uint8_t eight[8] = { 0, 0, 0, 0, 0, 0, 0, 16 };

	begin_bad("m");
	str("kernel", "k");
	raw("memory-mib", eight, 8);
	finish_bad();
	expect_dom_fail("memory-mib must be one 32-bit cell, not 8 bytes");
}

Test(config, memory_as_string)
{
	begin_bad("m");
	str("kernel", "k");
	str("memory-mib", "16");
	finish_bad();
	expect_dom_fail("memory-mib must be one 32-bit cell, not 3 bytes");
}

Test(config, memory_missing)
{
	begin_bad("m");
	str("kernel", "k");
	finish_bad();
	expect_dom_fail("missing memory-mib");
}

Test(config, vcpus_too_many)
{
	begin_bad("v");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("vcpus", 40);
	finish_bad();
	expect_dom_fail("vcpus 40 exceeds 16");
}

Test(config, vcpus_zero)
{
	begin_bad("v");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("vcpus", 0);
	finish_bad();
	expect_dom_fail("vcpus 0 is below 1");
}

Test(config, vcpus_empty)
{
	begin_bad("v");
	str("kernel", "k");
	cell("memory-mib", 2);
	raw("vcpus", "", 0);
	finish_bad();
	expect_dom_fail("vcpus must be one 32-bit cell, not 0 bytes");
}

Test(config, kernel_missing)
{
	begin_bad("k");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("missing kernel");
}

Test(config, kernel_not_nul_terminated)
{
	begin_bad("k");
	raw("kernel", "abc", 3);
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("kernel is not a NUL-terminated string");
}

Test(config, kernel_string_list)
{
	begin_bad("k");
	raw("kernel", "a\0b", 4);
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("kernel is not a NUL-terminated string");
}

Test(config, kernel_zero_length)
{
	begin_bad("k");
	raw("kernel", "", 0);
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("kernel is not a NUL-terminated string");
}

Test(config, kernel_empty_string)
{
	begin_bad("k");
	str("kernel", "");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("kernel is an empty string");
}

Test(config, initrd_bad)
{
	begin_bad("i");
	str("kernel", "k");
	raw("initrd", "xy", 2);
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("initrd is not a NUL-terminated string");
}

Test(config, initrd_empty)
{
	begin_bad("i");
	str("kernel", "k");
	str("initrd", "");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("initrd is an empty string");
}

Test(config, cmdline_too_long)
{
	static char line[3001];

	memset(line, 'c', 3000);
	begin_bad("c");
	str("kernel", "k");
	str("cmdline", line);
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("cmdline is 3000 bytes, limit 2047");
}

Test(config, cmdline_at_limit)
{
	static char line[2048];

	memset(line, 'c', 2047);
	begin();
	node("c");
	str("kernel", "k");
	str("cmdline", line);
	cell("memory-mib", 2);
	end();
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert_eq(strlen(cfg.dom[0].cmdline), 2047);
}

Test(config, cmdline_not_terminated)
{
	begin_bad("c");
	str("kernel", "k");
	raw("cmdline", "quiet", 5);
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("cmdline is not a NUL-terminated string");
}

Test(config, bad_name_chars)
{
	begin_bad("a b");
	str("kernel", "k");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("name \"a b\" has characters outside [A-Za-z0-9_-]");
}

/* A name with raw control bytes is never copied: the domain becomes "#index". */
Test(config, name_control_char)
{
	begin_bad("ev\x1b[2Jil");
	str("kernel", "k");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("name has control or non-ASCII byte 0x1b at offset 2");
	cr_assert_str_eq(cfg.dom[1].name, "#1");
	cr_assert_null(strchr(cfg.dom[1].error, 0x1b));
}

Test(config, name_newline_del_and_non_ascii)
{
	begin_bad("a\nb");
	str("kernel", "k");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("name has control or non-ASCII byte 0x0a at offset 1");
	cr_assert_str_eq(cfg.dom[1].name, "#1");

	begin_bad("x\x7f");
	str("kernel", "k");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("name has control or non-ASCII byte 0x7f at offset 1");
	cr_assert_str_eq(cfg.dom[1].name, "#1");

	begin_bad("caf\xc3\xa9");
	str("kernel", "k");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("name has control or non-ASCII byte 0xc3 at offset 3");
	cr_assert_str_eq(cfg.dom[1].name, "#1");
}

/* Past the length limit too: the unsafe byte is found before any copy. */
Test(config, long_name_with_control_char)
{
	begin_bad("abcdefghijklmnopqrstuvwxyz0123456789\r");
	str("kernel", "k");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("name has control or non-ASCII byte 0x0d at offset 36");
	cr_assert_str_eq(cfg.dom[1].name, "#1");
}

/* Each bad name gets its own index, and they do not count as duplicates. */
Test(config, two_control_names)
{
	begin();
	domain("ok", 2);
	domain("\x01", 2);
	domain("\x02", 2);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert_str_eq(cfg.dom[1].name, "#1");
	cr_assert_str_eq(cfg.dom[1].error, "name has control or non-ASCII byte 0x01 at offset 0");
	cr_assert_str_eq(cfg.dom[2].name, "#2");
	cr_assert_str_eq(cfg.dom[2].error, "name has control or non-ASCII byte 0x02 at offset 0");
}

Test(config, kernel_name_control_char)
{
	begin_bad("c");
	str("kernel", "vm\x1b]0;linux");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("kernel name has control or non-ASCII byte 0x1b at offset 2");
	cr_assert_null(cfg.dom[1].kernel);
	cr_assert_str_eq(cfg.dom[1].name, "c");
}

Test(config, initrd_name_control_char)
{
	begin_bad("c");
	str("kernel", "k");
	str("initrd", "init\trd");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("initrd name has control or non-ASCII byte 0x09 at offset 4");
	cr_assert_null(cfg.dom[1].initrd);
}

/* Every printable ASCII byte is fine in a file name; 0xff is not. */
Test(config, file_name_non_ascii)
{
	begin();
	node("c");
	str("kernel", "dir/k ~!@#$%^&*()_+{}|:<>?`-=[];',.\"\\");
	str("initrd", "x");
	cell("memory-mib", 2);
	end();
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);

	begin_bad("c");
	str("kernel", "k\xff");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("kernel name has control or non-ASCII byte 0xff at offset 1");
}

Test(config, unit_address_not_allowed)
{
	begin_bad("dom@1");
	str("kernel", "k");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("name \"dom@1\" has characters outside [A-Za-z0-9_-]");
}

Test(config, name_too_long)
{
	begin_bad("abcdefghijklmnopqrstuvwxyz0123456789");
	str("kernel", "k");
	cell("memory-mib", 2);
	finish_bad();
	expect_dom_fail("name is 36 bytes, limit 31");
	cr_assert_str_eq(cfg.dom[1].name, "abcdefghijklmnopqrstuvwxyz01234");
}

Test(config, name_31_ok)
{
	begin();
	domain("abcdefghijklmnopqrstuvwxyz01234", 2);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
}

Test(config, duplicate_domain_name)
{
	begin();
	domain("twin", 2);
	domain("other", 2);
	domain("twin", 4);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid);
	cr_assert(cfg.dom[1].valid);
	cr_assert(!cfg.dom[2].valid);
	cr_assert_str_eq(cfg.dom[2].error, "duplicate domain name");
	cr_assert_str_eq(cfg.dom[2].name, "twin");
}

Test(config, unknown_property)
{
	begin_bad("u");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("vcpu", 2);
	finish_bad();
	expect_dom_fail("unknown property \"vcpu\"");
}

Test(config, duplicate_property)
{
	begin_bad("u");
	str("kernel", "k");
	cell("memory-mib", 2);
	str("kernel", "k2");
	finish_bad();
	expect_dom_fail("duplicate property \"kernel\"");
}

Test(config, child_node)
{
	begin_bad("n");
	str("kernel", "k");
	cell("memory-mib", 2);
	node("extra");
	end();
	finish_bad();
	expect_dom_fail("unexpected child node \"extra\"");
}

Test(config, first_error_wins)
{
	begin_bad("f");
	cell("vcpus", 99);
	cell("memory-mib", 5);
	finish_bad();
	expect_dom_fail("vcpus 99 exceeds 16");
}

Test(config, null_err_ok)
{
	blob_len = 3;
	cr_assert_eq(config_parse(blob, blob_len, &cfg, ROOM, NULL, 0), -EINVAL);
}

Test(config, max_runtime)
{
	begin();
	node("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("max-runtime-ms", 5000);
	end();
	domain("u", 2);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert_eq(cfg.dom[0].max_runtime_ms, 5000);
	cr_assert_eq(cfg.dom[1].max_runtime_ms, 0);
}

Test(config, max_runtime_zero)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("max-runtime-ms", 0);
	finish_bad();
	expect_dom_fail("max-runtime-ms 0 is below 1");
}

Test(config, max_runtime_wrong_size)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	str("max-runtime-ms", "5s");
	finish_bad();
	expect_dom_fail("max-runtime-ms must be one 32-bit cell, not 3 bytes");
}

Test(config, reboot_limit)
{
	begin();
	node("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("reboot-limit", 1000);
	end();
	domain("u", 2);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert_eq(cfg.dom[0].reboot_limit, 1000);
	cr_assert_eq(cfg.dom[1].reboot_limit, 8, "the default");
}

Test(config, reboot_limit_too_high)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("reboot-limit", 100001);
	finish_bad();
	expect_dom_fail("reboot-limit 100001 exceeds 100000");
}

Test(config, cpu_share)
{
	begin();
	node("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("cpu-share", 300);
	end();
	node("lo");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("cpu-share", 10);
	end();
	node("hi");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("cpu-share", 400);
	end();
	domain("u", 2);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert_eq(cfg.dom[0].cpu_share, 300);
	cr_assert_eq(cfg.dom[1].cpu_share, 10);
	cr_assert_eq(cfg.dom[2].cpu_share, 400);
	cr_assert_eq(cfg.dom[3].cpu_share, 100, "the default");
}

Test(config, cpu_share_below_the_range)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("cpu-share", 9);
	finish_bad();
	expect_dom_fail("cpu-share 9 is outside 10-400");
}

Test(config, cpu_share_above_the_range)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("cpu-share", 401);
	finish_bad();
	expect_dom_fail("cpu-share 401 is outside 10-400");
}

Test(config, cpu_share_not_a_cell)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	str("cpu-share", "3000");
	finish_bad();
	expect_dom_fail("cpu-share must be one 32-bit cell, not 5 bytes");
}

/* A domain made at run time takes cpu-share as a boot domain does. */
Test(config, cpu_share_at_run_time)
{
	static struct domain_config d;
	uint32_t mem = cpu_to_fdt32(16), share = cpu_to_fdt32(250), bad = cpu_to_fdt32(0);
	struct config_prop props[] = { { "kernel", "k", 2 }, { "memory-mib", &mem, 4 }, { "cpu-share", &share, 4 } };

	cr_assert_eq(config_domain_from_props(&d, "job", props, 3, NULL, 0), 0, "%s", d.error);
	cr_assert_eq(d.cpu_share, 250);
	cr_assert_eq(config_domain_from_props(&d, "job", props, 2, NULL, 0), 0, "%s", d.error);
	cr_assert_eq(d.cpu_share, 100, "the default");
	props[2].val = &bad;
	cr_assert_eq(config_domain_from_props(&d, "job", props, 3, NULL, 0), -EINVAL);
	cr_assert_str_eq(d.error, "cpu-share 0 is outside 10-400");
}

/* virtio = "console", "rng": a string list of known kinds, in slot order. */
Test(config, virtio_list)
{
	static const char list[] = "rng\0console";

	begin();
	node("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	raw("virtio", list, sizeof(list));
	end();
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert_eq(cfg.dom[0].nr_virtio, 2);
	cr_assert_eq(cfg.dom[0].virtio[0], CONFIG_VIRTIO_RNG);
	cr_assert_eq(cfg.dom[0].virtio[1], CONFIG_VIRTIO_CONSOLE);
	cr_assert_str_eq(config_virtio_name(cfg.dom[0].virtio[1]), "console");
}

static void virtio_bad(const void *val, int len, const char *msg)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	raw("virtio", val, len);
	finish_bad();
	expect_dom_fail(msg);
}

Test(config, virtio_unknown)
{
	virtio_bad("rng\0gpu", 8, "virtio: unknown device \"gpu\" (known: console, rng)");
}

Test(config, virtio_twice)
{
	virtio_bad("rng\0rng", 8, "virtio: \"rng\" listed twice");
}

Test(config, virtio_empty_name)
{
	virtio_bad("rng\0\0console", 13, "virtio: empty device name at byte 4");
}

Test(config, virtio_not_terminated)
{
	virtio_bad("rng", 3, "virtio is not a list of NUL-terminated strings");
}

Test(config, virtio_control_byte)
{
	virtio_bad("r\033g", 4, "virtio: device name at byte 0 has a control or non-ASCII byte");
}

Test(config, virtio_blk_named_in_disks)
{
	virtio_bad("blk", 4, "virtio: \"blk\" is not listed here: name the images in \"disks\"");
}

/* disks = "root.ext4", "ro:base.img": bundle files, "ro:" for read-only, slots after virtio's. */
Test(config, disks_list)
{
	static const char list[] = "root.ext4\0ro:base.img\0root.ext4";

	begin();
	node("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	raw("disks", list, sizeof(list));
	raw("virtio", "rng", 4);
	cell("overlay-mib", 8);
	end();
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert_eq(cfg.dom[0].nr_disks, 3);
	cr_assert_eq(cfg.dom[0].nr_virtio, 1);
	cr_assert_str_eq(cfg.dom[0].disk[0].image, "root.ext4");
	cr_assert_not(cfg.dom[0].disk[0].read_only);
	cr_assert_str_eq(cfg.dom[0].disk[1].image, "base.img");
	cr_assert(cfg.dom[0].disk[1].read_only);
	cr_assert_str_eq(cfg.dom[0].disk[2].image, "root.ext4");
	cr_assert_eq(cfg.dom[0].overlay, 8ull << 20);
}

Test(config, overlay_default)
{
	begin();
	node("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	raw("disks", "a.img", 6);
	end();
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert_eq(cfg.dom[0].overlay, (uint64_t)CONFIG_OVERLAY_DEFAULT_MIB << 20);
}

static void disks_bad(const void *val, int len, const char *msg)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	raw("disks", val, len);
	finish_bad();
	expect_dom_fail(msg);
}

Test(config, disks_bad_entries)
{
	disks_bad("a.img", 5, "disks is not a list of NUL-terminated strings");
	disks_bad("a.img\0ro:", 10, "disks: entry 1 names no image");
	disks_bad("\0a.img", 7, "disks: entry 0 names no image");
	disks_bad("../etc/x", 9,
		  "disks: entry 0 \"../etc/x\": an image is a bundle file name, without '/' or ':' "
		  "(\"ro:\" in front for read-only)");
	disks_bad("rw:a.img", 9,
		  "disks: entry 0 \"rw:a.img\": an image is a bundle file name, without '/' or ':' "
		  "(\"ro:\" in front for read-only)");
	disks_bad("a\nb", 4, "disks: entry 0 has a control or non-ASCII byte at offset 1");
	disks_bad("a\0b\0c\0d\0e\0f\0g\0h\0i", 18, "disks: more than 8");
}

Test(config, disks_and_virtio_share_the_slots)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	raw("virtio", "console\0rng", 12);
	raw("disks", "a\0b\0c\0d\0e\0f\0g", 14);
	finish_bad();
	expect_dom_fail("2 virtio devices, 7 disks: more than 8 devices");
}

Test(config, overlay_too_big)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("overlay-mib", 65537);
	finish_bad();
	expect_dom_fail("overlay-mib 65537 exceeds 65536");
}

/* ------------------------------------------------------------ net and vsock */

Test(config, mac_ipv4_ipv6_parsers)
{
	uint8_t mac[6], v4[4], v6[16];
	static const uint8_t fd00_1[16] = { 0xfd, 0, [15] = 1 };
	static const uint8_t full[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0xab, 0xcd };
	static const uint8_t ll[16] = { 0xfe, 0x80, [9] = 0x02, [11] = 0xff, [12] = 0xfe, [15] = 0x01 };

	cr_assert_eq(config_parse_mac("02:aB:00:10:ff:09", mac), 0);
	cr_assert_eq(mac[1], 0xab);
	cr_assert_eq(mac[5], 0x09);
	cr_assert_eq(config_parse_mac("02:ab:00:10:ff", mac), -EINVAL);
	cr_assert_eq(config_parse_mac("02:ab:00:10:ff:09:", mac), -EINVAL);
	cr_assert_eq(config_parse_mac("02-ab-00-10-ff-09", mac), -EINVAL);
	cr_assert_eq(config_parse_mac("2:ab:00:10:ff:09", mac), -EINVAL);

	cr_assert_eq(config_parse_ipv4("10.0.200.255", v4), 0);
	cr_assert_eq(v4[2], 200);
	cr_assert_eq(config_parse_ipv4("10.0.0.256", v4), -EINVAL);
	cr_assert_eq(config_parse_ipv4("10.0.0", v4), -EINVAL);
	cr_assert_eq(config_parse_ipv4("10.0.0.1.", v4), -EINVAL);
	cr_assert_eq(config_parse_ipv4("010.0.0.1", v4), -EINVAL);
	cr_assert_eq(config_parse_ipv4("10..0.1", v4), -EINVAL);
	cr_assert_eq(config_parse_ipv4("10.0.0.1 ", v4), -EINVAL);

	cr_assert_eq(config_parse_ipv6("fd00::1", v6), 0);
	cr_assert_arr_eq(v6, fd00_1, 16);
	cr_assert_eq(config_parse_ipv6("2001:db8:1:2:3:4:5:abcd", v6), 0);
	cr_assert_arr_eq(v6, full, 16);
	cr_assert_eq(config_parse_ipv6("fe80::2:ff:fe00:1", v6), 0);
	cr_assert_arr_eq(v6, ll, 16);
	cr_assert_eq(config_parse_ipv6("::1", v6), 0);
	cr_assert_eq(v6[15], 1);
	cr_assert_eq(config_parse_ipv6("fd00::", v6), 0);
	cr_assert_eq(v6[0], 0xfd);
	cr_assert_eq(config_parse_ipv6("fd00::1::2", v6), -EINVAL);
	cr_assert_eq(config_parse_ipv6("1:2:3:4:5:6:7", v6), -EINVAL);
	cr_assert_eq(config_parse_ipv6("1:2:3:4:5:6:7:8:9", v6), -EINVAL);
	cr_assert_eq(config_parse_ipv6("1:2:3:4::5:6:7:8", v6), -EINVAL);
	cr_assert_eq(config_parse_ipv6("12345::1", v6), -EINVAL);
	cr_assert_eq(config_parse_ipv6(":1::2", v6), -EINVAL);
	cr_assert_eq(config_parse_ipv6("1:", v6), -EINVAL);
	cr_assert_eq(config_parse_ipv6("g::1", v6), -EINVAL);
	cr_assert_eq(config_parse_ipv6("", v6), -EINVAL);
}

/* Two domains linked to each other, with addresses and vsock. */
Test(config, net_link_and_vsock)
{
	static const char v4[] = "10.0.0.1\0" "10.0.1.1";

	begin();
	node("a");
	str("kernel", "k");
	cell("memory-mib", 2);
	str("net-mac", "02:00:00:00:00:0a");
	raw("net-ipv4", v4, sizeof(v4));
	str("net-ipv6", "fd00::a");
	str("net-link", "b");
	cell("vsock-cid", 3);
	str("vsock-connect", "b");
	raw("disks", "x.img", 6);
	end();
	node("b");
	str("kernel", "k");
	cell("memory-mib", 2);
	str("net-mac", "02:00:00:00:00:0b");
	str("net-link", "a");
	cell("vsock-cid", 4);
	end();
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert(cfg.dom[1].valid, "%s", cfg.dom[1].error);
	cr_assert(cfg.dom[0].net.present);
	cr_assert_eq(cfg.dom[0].net.nr_ipv4, 2);
	cr_assert_eq(cfg.dom[0].net.ipv4[1][2], 1);
	cr_assert_eq(cfg.dom[0].net.nr_ipv6, 1);
	cr_assert_eq(cfg.dom[0].net.peer, 1);
	cr_assert_eq(cfg.dom[1].net.peer, 0);
	cr_assert_eq(cfg.dom[0].vsock.cid, 3);
	cr_assert(config_vsock_may_connect(&cfg.dom[0], "b"));
	cr_assert_not(config_vsock_may_connect(&cfg.dom[0], "a"));
	cr_assert_not(config_vsock_may_connect(&cfg.dom[1], "a"));
	/* Slots: the disk, then net, then vsock. */
	cr_assert_eq(config_nr_devices(&cfg.dom[0]), 3);
	unsigned k = 99;
	cr_assert_eq(config_slot_kind(&cfg.dom[0], 0, &k), CONFIG_VIRTIO_BLK);
	cr_assert_eq(k, 0);
	cr_assert_eq(config_slot_kind(&cfg.dom[0], 1, &k), CONFIG_VIRTIO_NET);
	cr_assert_eq(config_slot_kind(&cfg.dom[0], 2, &k), CONFIG_VIRTIO_VSOCK);
	cr_assert_eq(config_slot_kind(&cfg.dom[1], 1, &k), CONFIG_VIRTIO_VSOCK);
}

static void net_bad(const char *prop, const char *val, const char *msg)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	if (strcmp(prop, "net-mac"))
		str("net-mac", "02:00:00:00:00:01");
	str(prop, val);
	finish_bad();
	expect_dom_fail(msg);
}

Test(config, net_bad_values)
{
	net_bad("net-mac", "01:00:5e:00:00:01", "net-mac: 01:00:5e:00:00:01 is a multicast address");
	net_bad("net-mac", "00:00:00:00:00:00", "net-mac: 00:00:00:00:00:00 is all zeros");
	net_bad("net-mac", "02:00:00:00:00", "net-mac: \"02:00:00:00:00\" is not a MAC address (xx:xx:xx:xx:xx:xx)");
	net_bad("net-ipv4", "10.0.0.300", "net-ipv4: \"10.0.0.300\" is not an IPv4 address (a.b.c.d)");
	net_bad("net-ipv4", "224.0.0.1", "net-ipv4: 224.0.0.1 is not a unicast host address");
	net_bad("net-ipv4", "127.0.0.1", "net-ipv4: 127.0.0.1 is not a unicast host address");
	net_bad("net-ipv6", "ff02::1", "net-ipv6: ff02::1 is not a unicast host address");
	net_bad("net-ipv6", "fd00:::1", "net-ipv6: \"fd00:::1\" is not an IPv6 address");
	net_bad("net-link", "nobody", "net-link: \"nobody\" is no domain");
	net_bad("net-link", "t", "net-link: \"t\" is this domain");
	/* "before" exists but has no port. */
	net_bad("net-link", "before", "net-link: domain before does not link back (net-link = \"t\")");
	net_bad("vsock-connect", "after", "vsock-connect without vsock-cid");
}

Test(config, net_props_need_a_mac)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	str("net-ipv4", "10.0.0.1");
	finish_bad();
	expect_dom_fail("net-ipv4, net-ipv6 or net-link without net-mac");
}

Test(config, ipv4_list_limit)
{
	static const char five[] = "10.0.0.1\0" "10.0.0.2\0" "10.0.0.3\0" "10.0.0.4\0" "10.0.0.5";

	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	str("net-mac", "02:00:00:00:00:01");
	raw("net-ipv4", five, sizeof(five));
	finish_bad();
	expect_dom_fail("net-ipv4: more than 4 entries");
}

Test(config, vsock_rules)
{
	begin();
	node("a");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("vsock-cid", 2);
	end();
	node("b");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("vsock-cid", 7);
	str("vsock-connect", "c");
	end();
	node("c");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("vsock-cid", 7);
	end();
	node("d");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("vsock-cid", 8);
	str("vsock-connect", "e");
	end();
	node("e");
	str("kernel", "k");
	cell("memory-mib", 2);
	end();
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert_str_eq(cfg.dom[0].error, "vsock-cid 2 is reserved (0-2 and 0xffffffff)");
	cr_assert(cfg.dom[1].valid, "%s", cfg.dom[1].error);
	cr_assert(config_vsock_may_connect(&cfg.dom[1], "c"));
	cr_assert_not(config_vsock_may_connect(&cfg.dom[1], "d"));
	cr_assert_not(cfg.dom[2].valid);
	cr_assert_str_eq(cfg.dom[2].error, "vsock-cid 7 is domain b's already");
	cr_assert_str_eq(cfg.dom[3].error, "vsock-connect: \"e\" is a domain without vsock");
}

Test(config, virtio_net_named_elsewhere)
{
	virtio_bad("net", 4, "virtio: \"net\" is not listed here: give net-mac");
	virtio_bad("vsock", 6, "virtio: \"vsock\" is not listed here: give vsock-cid");
}

/* ---------------------------------------------------------------- the trunk */

/* The control domain "ctl" with a trunk; then members a and b. */
static void trunk_node(void)
{
	node("ctl");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("vsock-cid", 3);
	cell("control", 1);
	str("net-mac", "02:00:00:00:00:01");
	str("net-ipv4", "10.0.0.1");
	raw("net-trunk", NULL, 0);
	end();
}

static void member(const char *name, const char *mac, const char *link)
{
	node(name);
	str("kernel", "k");
	cell("memory-mib", 2);
	str("net-mac", mac);
	str("net-link", link);
	end();
}

Test(config, members_of_the_trunk)
{
	begin();
	member("a", "02:00:00:00:00:0a", "ctl");
	trunk_node();
	member("b", "02:00:00:00:00:0b", "ctl");
	member("c", "02:00:00:00:00:0a", "ctl");   /* a's MAC */
	member("d", "02:00:00:00:00:01", "ctl");   /* the trunk's */
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[1].valid, "%s", cfg.dom[1].error);
	cr_assert(cfg.dom[1].net.trunk);
	cr_assert_eq(cfg.dom[1].net.peer, -1);
	for (unsigned i = 0; i < 3; i += 2) {
		cr_assert(cfg.dom[i].valid, "%s", cfg.dom[i].error);
		cr_assert(cfg.dom[i].net.member, "a member needs no link back");
		cr_assert_eq(cfg.dom[i].net.peer, 1);
	}
	cr_assert_str_eq(cfg.dom[3].error, "net-mac: the same as domain a's, on the same trunk");
	cr_assert_str_eq(cfg.dom[4].error, "net-mac: the same as the trunk's (domain ctl)");
}

Test(config, trunk_rules)
{
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	str("net-mac", "02:00:00:00:00:01");
	raw("net-trunk", NULL, 0);
	finish_bad();
	expect_dom_fail("net-trunk: only the control domain has a trunk (control = <1>)");

	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("vsock-cid", 3);
	cell("control", 1);
	raw("net-trunk", NULL, 0);
	finish_bad();
	expect_dom_fail("net-trunk without net-mac");

	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	str("net-mac", "02:00:00:00:00:01");
	cell("net-trunk", 1);
	finish_bad();
	expect_dom_fail("net-trunk takes no value (4 bytes)");

	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("vsock-cid", 3);
	cell("control", 1);
	str("net-mac", "02:00:00:00:00:01");
	str("net-link", "before");
	raw("net-trunk", NULL, 0);
	finish_bad();
	expect_dom_fail("net-trunk with net-link: a trunk reaches its members, no peer");
}

/* Run-time domains: the live configurations others[] as sched.c passes them. */
static struct domain_config rt, live[3];

static int from_props(const char *mac, const char *ipv4, const char *extra)
{
	struct config_prop p[5] = {
		{ "kernel", "k", 2 }, { "memory-mib", (uint8_t[4]){ 0, 0, 0, 2 }, 4 },
	};
	unsigned n = 2;

	if (mac)
		p[n++] = (struct config_prop){ "net-mac", mac, (int)strlen(mac) + 1 };
	if (ipv4)
		p[n++] = (struct config_prop){ "net-ipv4", ipv4, (int)strlen(ipv4) + 1 };
	if (extra)
		p[n++] = (struct config_prop){ extra, "ctl", 4 };
	return config_domain_from_props(&rt, "job", p, n, live, 3);
}

static void live_setup(void)
{
	begin();
	trunk_node();
	member("old", "02:00:00:00:00:0b", "ctl");
	domain("plain", 2);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	memcpy(live, cfg.dom, sizeof(live));
}

Test(config, runtime_port_joins_the_trunk, .init = live_setup)
{
	cr_assert_eq(from_props("02:00:00:00:00:0a", "10.0.0.2", NULL), 0, "%s", rt.error);
	cr_assert(rt.net.present && rt.net.member && !rt.net.trunk);
	cr_assert_eq(rt.net.nr_ipv4, 1);
	cr_assert_eq(rt.net.ipv4[0][3], 2);
	cr_assert_eq(from_props(NULL, NULL, NULL), 0, "%s", rt.error);
	cr_assert_not(rt.net.present || rt.net.member, "no port: no member");
}

Test(config, runtime_port_refusals, .init = live_setup)
{
	static const struct { const char *mac, *ipv4, *extra, *msg; } bad[] = {
		{ "02:00:00:00:00:0b", "10.0.0.2", NULL,
		  "net-mac: 02:00:00:00:00:0b is domain old's already, on the trunk" },
		{ "02:00:00:00:00:01", "10.0.0.2", NULL, "net-mac: the same as the trunk's (domain ctl)" },
		{ "03:00:00:00:00:0a", "10.0.0.2", NULL, "net-mac: 03:00:00:00:00:0a is a multicast address" },
		{ "00:00:00:00:00:00", "10.0.0.2", NULL, "net-mac: 00:00:00:00:00:00 is all zeros" },
		{ "02:00:00:00:00:0a", "0.0.0.0", NULL, "net-ipv4: 0.0.0.0 is not a unicast host address" },
		{ "02:00:00:00:00:0a", "255.255.255.255", NULL,
		  "net-ipv4: 255.255.255.255 is not a unicast host address" },
		{ "02:00:00:00:00:0a", "10.0.0.2", "net-link",
		  "property \"net-link\" is not for domains made at run time" },
		{ "02:00:00:00:00:0a", "10.0.0.2", "net-trunk",
		  "property \"net-trunk\" is not for domains made at run time" },
		{ NULL, "10.0.0.2", NULL, "net-ipv4, net-ipv6 or net-link without net-mac" },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		cr_assert_eq(from_props(bad[i].mac, bad[i].ipv4, bad[i].extra), -EINVAL, "case %u accepted", i);
		cr_assert_str_eq(rt.error, bad[i].msg, "case %u", i);
	}
	/* The old member ended: its MAC is free again.  Without the control domain there is no trunk. */
	live[1].valid = false;
	cr_assert_eq(from_props("02:00:00:00:00:0b", "10.0.0.2", NULL), 0, "%s", rt.error);
	live[0].valid = false;
	cr_assert_eq(from_props("02:00:00:00:00:0a", "10.0.0.2", NULL), -EINVAL);
	cr_assert_str_eq(rt.error, "net-mac: no control domain with a trunk (net-trunk) to join");
}

/* A domain made at run time gets the same memory-mib range: RAM above 4 GiB, at most 64 GiB. */
Test(config, runtime_memory_above_4g)
{
	static const char kernel[] = "vmlinux";
	uint32_t mib = __builtin_bswap32(5120); /* an FDT cell is big-endian */
	struct config_prop props[] = { { "kernel", kernel, sizeof(kernel) }, { "memory-mib", &mib, 4 } };
	struct domain_config d;

	memset(&d, 0, sizeof(d));
	cr_assert_eq(config_domain_from_props(&d, "big", props, 2, NULL, 0), 0, "%s", d.error);
	cr_assert_eq(d.memory, MIB(5120));
	mib = __builtin_bswap32(65538);
	memset(&d, 0, sizeof(d));
	cr_assert_eq(config_domain_from_props(&d, "huge", props, 2, NULL, 0), -EINVAL);
	cr_assert(strstr(d.error, "memory-mib 65538 exceeds 65536"), "%s", d.error);
}

/* ---------------------------------------------------------------- pci */

static void pci_ctl(const void *pci, int len)
{
	str("kernel", "k");
	cell("memory-mib", 4);
	cell("vsock-cid", 3);
	cell("control", 1);
	raw("pci", pci, len);
}

static void pci_bad(const void *pci, int len, const char *msg)
{
	begin_bad("ctl");
	pci_ctl(pci, len);
	finish_bad();
	expect_dom_fail(msg);
}

Test(config, pci_lists)
{
	static const char two[] = "0000:00:03.0\0" "001a:ff:1f.7";

	begin_bad("ctl");
	pci_ctl("all", 4);
	finish_bad();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[1].valid, "%s", cfg.dom[1].error);
	cr_assert(cfg.dom[1].pci_all);
	cr_assert_eq(cfg.dom[1].nr_pci, 0);
	cr_assert(cfg.dom[1].identity_ram, "pci without identity-ram: devices would DMA to guest addresses");

	begin_bad("ctl");
	pci_ctl(two, sizeof(two));
	finish_bad();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[1].valid, "%s", cfg.dom[1].error);
	cr_assert(!cfg.dom[1].pci_all);
	cr_assert_eq(cfg.dom[1].nr_pci, 2);
	cr_assert_eq(cfg.dom[1].pci[0].dev, 3);
	cr_assert_eq(cfg.dom[1].pci[1].seg, 0x1a);
	cr_assert_eq(cfg.dom[1].pci[1].bus, 0xff);
	cr_assert_eq(cfg.dom[1].pci[1].dev, 0x1f);
	cr_assert_eq(cfg.dom[1].pci[1].fn, 7);
	cr_assert(cfg.dom[1].identity_ram);
}

Test(config, pci_refused)
{
	static const char dup[] = "0000:00:03.0\0" "0000:00:03.0";
	static const char all2[] = "0000:00:03.0\0" "all";
	static const char seventeen[] = "0000:00:00.0\0" "0000:00:00.1\0" "0000:00:00.2\0" "0000:00:00.3\0" "0000:00:00.4\0"
					"0000:00:00.5\0" "0000:00:00.6\0" "0000:00:00.7\0" "0000:00:01.0\0" "0000:00:01.1\0"
					"0000:00:01.2\0" "0000:00:01.3\0" "0000:00:01.4\0" "0000:00:01.5\0" "0000:00:01.6\0"
					"0000:00:01.7\0" "0000:00:02.0";

	pci_bad(dup, sizeof(dup), "pci: 0000:00:03.0 listed twice");
	pci_bad(all2, sizeof(all2), "pci: \"all\" must be the only entry");
	pci_bad("0000:00:20.0", 13, "pci: entry 0 \"0000:00:20.0\" is not a function address like 0000:00:03.0");
	pci_bad("0000:00:03.8", 13, "pci: entry 0 \"0000:00:03.8\" is not a function address like 0000:00:03.0");
	pci_bad("00:03.0", 8, "pci: entry 0 \"00:03.0\" is not a function address like 0000:00:03.0");
	pci_bad("0000:00:03.0x", 14, "pci: entry 0 \"0000:00:03.0x\" is not a function address like 0000:00:03.0");
	pci_bad("", 1, "pci is not a list of NUL-terminated strings");
	pci_bad(seventeen, sizeof(seventeen), "pci: more than 16 entries");

	/* Only the control domain. */
	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	str("pci", "all");
	finish_bad();
	expect_dom_fail("pci: only the control domain (control = <1>) drives the machine's devices");
}

Test(config, pci_not_at_run_time)
{
	struct config_prop p[] = { { "kernel", "k", 2 }, { "memory-mib", "\0\0\0\2", 4 }, { "pci", "all", 4 } };
	struct domain_config d;

	cr_assert_eq(config_domain_from_props(&d, "x", p, 3, NULL, 0), -EINVAL);
	cr_assert_str_eq(d.error, "property \"pci\" is not for domains made at run time");
}

/* ---------------------------------------------------------------- the MSI test device */

Test(config, test_msi_flag)
{
	begin();
	node("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	raw("test-msi", NULL, 0);
	end();
	domain("plain", 2);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert(cfg.dom[0].test_msi);
	cr_assert_not(cfg.dom[1].test_msi);

	begin_bad("t");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("test-msi", 1);
	finish_bad();
	expect_dom_fail("test-msi takes no value (4 bytes)");
}

Test(config, test_msi_not_at_run_time)
{
	struct config_prop p[] = {
		{ "kernel", "k", 2 }, { "memory-mib", (uint8_t[4]){ 0, 0, 0, 2 }, 4 }, { "test-msi", NULL, 0 },
	};
	struct domain_config d;

	memset(&d, 0, sizeof(d));
	cr_assert_eq(config_domain_from_props(&d, "job", p, 3, NULL, 0), -EINVAL);
	cr_assert_str_eq(d.error, "property \"test-msi\" is not for domains made at run time");
}

/* ---------------------------------------------------------------- identity-ram */

/* The control domain with identity-ram: the flag is set, and only there. */
Test(config, identity_ram_on_the_control_domain)
{
	begin();
	node("ctl");
	str("kernel", "k");
	cell("memory-mib", 256);
	cell("vsock-cid", 3);
	cell("control", 1);
	raw("identity-ram", NULL, 0);
	end();
	domain("sb", 16);
	finish();
	cr_assert_eq(parse(), 0, "%s", err);
	cr_assert(cfg.dom[0].valid, "%s", cfg.dom[0].error);
	cr_assert(cfg.dom[0].identity_ram);
	cr_assert(cfg.dom[1].valid, "%s", cfg.dom[1].error);
	cr_assert_not(cfg.dom[1].identity_ram);
}

Test(config, identity_ram_refused_off_the_control_domain)
{
	begin_bad("sb");
	str("kernel", "k");
	cell("memory-mib", 64);
	raw("identity-ram", NULL, 0);
	finish_bad();
	expect_dom_fail("identity-ram: only the control domain (control = <1>) has its RAM at "
			"guest-physical = host-physical");
}

Test(config, identity_ram_takes_no_value)
{
	begin_bad("ctl");
	str("kernel", "k");
	cell("memory-mib", 64);
	cell("vsock-cid", 3);
	cell("control", 1);
	cell("identity-ram", 1);
	finish_bad();
	expect_dom_fail("identity-ram takes no value (4 bytes)");
}

Test(config, identity_ram_needs_two_chunks)
{
	begin_bad("ctl");
	str("kernel", "k");
	cell("memory-mib", 2);
	cell("vsock-cid", 3);
	cell("control", 1);
	raw("identity-ram", NULL, 0);
	finish_bad();
	expect_dom_fail("identity-ram: memory-mib 2 is below 4 (2 MiB private, the rest identity)");
}

/* A domain made at run time is never the control domain: identity-ram is not among its properties. */
Test(config, identity_ram_not_at_run_time)
{
	struct domain_config d = { 0 };
	uint32_t mib = __builtin_bswap32(64);
	struct config_prop props[] = {
		{ "kernel", "k", 2 }, { "memory-mib", &mib, 4 }, { "identity-ram", "", 0 },
	};

	cr_assert_eq(config_domain_from_props(&d, "job", props, 3, NULL, 0), -EINVAL);
	cr_assert_str_eq(d.error, "property \"identity-ram\" is not for domains made at run time");
}
