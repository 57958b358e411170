/* SPDX-License-Identifier: Apache-2.0 */
/* agentproto_test.c: unit tests for userland/lib/agentproto.c: round trips, every rejection, no overread. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "userland/lib/agentproto.h"

static uint8_t buf[AGENTPROTO_FRAME_MAX + 64];
static char err[AGENTPROTO_ERRLEN];
static const char *argv_out[PVHV_AGENT_ARGV_MAX + 1], *env_out[PVHV_AGENT_ENV_MAX + 1];

TestSuite(agentproto);

/* A copy of P in a heap block of exactly LEN bytes, so ASan sees any read past it. */
static uint8_t *exact(const uint8_t *p, size_t len)
{
	uint8_t *q = malloc(len ? len : 1);

	cr_assert(q);
	memcpy(q, p, len);
	return q;
}

static int decode_exec(const uint8_t *p, uint32_t len, struct agentproto_exec *ex)
{
	uint8_t *q = exact(p, len);
	int r = agentproto_decode_exec(q, len, ex, argv_out, PVHV_AGENT_ARGV_MAX + 1,
				       env_out, PVHV_AGENT_ENV_MAX + 1, err, sizeof(err));

	free(q); /* decoded strings pointed into q: callers only look at the result */
	return r;
}

static void put32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = v >> (8 * i);
}

Test(agentproto, header_round_trip_and_layout)
{
	struct agentproto_hdr h;

	agentproto_put_hdr(buf, PVHV_AGENT_STDOUT, 1234);
	cr_assert(!memcmp(buf, "PVAG\x01\x00\x11\x00\x00\x00\x00\x00\xd2\x04\x00\x00", 16));
	cr_assert_eq(agentproto_parse_hdr(buf, &h, err, sizeof(err)), 0);
	cr_assert_eq(h.type, PVHV_AGENT_STDOUT);
	cr_assert_eq(h.length, 1234);
}

Test(agentproto, header_rejections)
{
	struct agentproto_hdr h;

	agentproto_put_hdr(buf, PVHV_AGENT_EXEC, 0);
	buf[0] = 'X';
	cr_assert_eq(agentproto_parse_hdr(buf, &h, err, sizeof(err)), -1);
	cr_assert(strstr(err, "magic"), "%s", err);
	agentproto_put_hdr(buf, PVHV_AGENT_EXEC, 0);
	buf[4] = 2;
	cr_assert_eq(agentproto_parse_hdr(buf, &h, err, sizeof(err)), -1);
	cr_assert(strstr(err, "version 2"), "%s", err);
	agentproto_put_hdr(buf, PVHV_AGENT_EXEC, 0);
	buf[11] = 0x80;
	cr_assert_eq(agentproto_parse_hdr(buf, &h, err, sizeof(err)), -1);
	cr_assert(strstr(err, "EXEC frame: flags 0x80000000"), "%s", err);
	agentproto_put_hdr(buf, PVHV_AGENT_STDIN, PVHV_AGENT_PAYLOAD_MAX);
	cr_assert_eq(agentproto_parse_hdr(buf, &h, err, sizeof(err)), 0);
	agentproto_put_hdr(buf, PVHV_AGENT_STDIN, PVHV_AGENT_PAYLOAD_MAX + 1);
	cr_assert_eq(agentproto_parse_hdr(buf, &h, err, sizeof(err)), -1);
	cr_assert(strstr(err, "STDIN frame: length 65537 > maximum 65536"), "%s", err);
	agentproto_put_hdr(buf, 0xffff, 0xffffffffu);
	cr_assert_eq(agentproto_parse_hdr(buf, &h, err, sizeof(err)), -1);
	cr_assert(strstr(err, "type 65535"), "%s", err);
}

static const char *const ARGV[] = { "sh", "-c", "echo \"$X\"", "" };
static const char *const ENV[] = { "PATH=/bin", "X=a b", "EMPTY=" };

static long encode_sample(void)
{
	struct agentproto_exec ex = {
		.flags = PVHV_AGENT_EXEC_STDIN, .timeout_ms = 1500, .argc = 4, .envc = 3,
		.cwd = "/tmp", .argv = ARGV, .env = ENV,
	};

	return agentproto_encode_exec(buf, sizeof(buf), &ex, err, sizeof(err));
}

Test(agentproto, exec_round_trip)
{
	struct agentproto_exec ex;
	long n = encode_sample();
	uint8_t *q;

	cr_assert_gt(n, 32);
	q = exact(buf + PVHV_AGENT_HDR_SIZE, n - PVHV_AGENT_HDR_SIZE);
	cr_assert_eq(agentproto_decode_exec(q, n - PVHV_AGENT_HDR_SIZE, &ex, argv_out, PVHV_AGENT_ARGV_MAX + 1,
					    env_out, PVHV_AGENT_ENV_MAX + 1, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(ex.flags, PVHV_AGENT_EXEC_STDIN);
	cr_assert_eq(ex.timeout_ms, 1500);
	cr_assert_eq(ex.argc, 4);
	cr_assert_eq(ex.envc, 3);
	cr_assert_str_eq(ex.cwd, "/tmp");
	for (int i = 0; i < 4; i++)
		cr_assert_str_eq(ex.argv[i], ARGV[i]);
	for (int i = 0; i < 3; i++)
		cr_assert_str_eq(ex.env[i], ENV[i]);
	cr_assert_null(ex.argv[4]);
	cr_assert_null(ex.env[3]);
	free(q);
}

/* Every prefix of a valid EXEC payload is refused, and nothing past it is read (ASan). */
Test(agentproto, exec_every_truncation_refused)
{
	struct agentproto_exec ex;
	long n = encode_sample();
	uint8_t payload[512];
	uint32_t len = n - PVHV_AGENT_HDR_SIZE;

	memcpy(payload, buf + PVHV_AGENT_HDR_SIZE, len);
	for (uint32_t cut = 0; cut < len; cut++)
		cr_assert_eq(decode_exec(payload, cut, &ex), -1, "prefix of %u bytes accepted", cut);
}

/* The payload of the sample with one 32-bit field replaced. */
static uint32_t sample_with(unsigned off, uint32_t v, uint8_t *payload)
{
	long n = encode_sample();

	memcpy(payload, buf + PVHV_AGENT_HDR_SIZE, n - PVHV_AGENT_HDR_SIZE);
	put32(payload + off, v);
	return n - PVHV_AGENT_HDR_SIZE;
}

static void expect_exec_error(const uint8_t *p, uint32_t len, const char *want)
{
	struct agentproto_exec ex;

	cr_assert_eq(decode_exec(p, len, &ex), -1, "accepted, want \"%s\"", want);
	cr_assert(strstr(err, want), "error \"%s\", want \"%s\"", err, want);
}

Test(agentproto, exec_rejections)
{
	uint8_t p[600];
	uint32_t len;

	len = sample_with(0, 2, p);
	expect_exec_error(p, len, "unknown flags 0x2");
	len = sample_with(4, 0, p);
	expect_exec_error(p, len, "argc 0 not in 1..4096");
	len = sample_with(4, PVHV_AGENT_ARGV_MAX + 1, p);
	expect_exec_error(p, len, "argc 4097");
	len = sample_with(8, PVHV_AGENT_ENV_MAX + 1, p);
	expect_exec_error(p, len, "envc 4097");
	len = sample_with(4, 1000, p);
	expect_exec_error(p, len, "1004 strings cannot fit");
	len = sample_with(8, 4, p);
	expect_exec_error(p, len, "env[3] not NUL-terminated");
	len = sample_with(4, 5, p);
	expect_exec_error(p, len, "env[");
	len = sample_with(4, 3, p); /* the last argv string is taken as env[0] */
	expect_exec_error(p, len, "env[0] is not NAME=value");
	len = sample_with(0, 1, p);
	p[len] = 'x';
	p[len + 1] = 0;
	expect_exec_error(p, len + 2, "2 bytes left after the last string");
	expect_exec_error(p, 15, "payload of 15 bytes");
}

/* Build a payload from the fixed part and a list of strings given as one blob. */
static uint32_t build(uint8_t *p, uint32_t argc, uint32_t envc, const char *blob, size_t bloblen)
{
	put32(p, 0);
	put32(p + 4, argc);
	put32(p + 8, envc);
	put32(p + 12, 0);
	memcpy(p + 16, blob, bloblen);
	return 16 + bloblen;
}

Test(agentproto, exec_string_rules)
{
	uint8_t p[128];

	expect_exec_error(p, build(p, 1, 0, "\0\0", 2), "argv[0] is empty");
	expect_exec_error(p, build(p, 1, 0, "tmp\0ls\0", 7), "cwd is not absolute");
	expect_exec_error(p, build(p, 1, 1, "\0ls\0NOEQUALS\0", 13), "env[0] is not NAME=value");
	expect_exec_error(p, build(p, 1, 1, "\0ls\0=x\0", 7), "env[0] is not NAME=value");
	expect_exec_error(p, build(p, 2, 0, "\0ls\0-l", 6), "argv[1] not NUL-terminated at byte 20 of 22");
}

Test(agentproto, exec_small_caller_arrays)
{
	struct agentproto_exec ex;
	const char *a[2], *e[1];
	uint8_t p[64];
	uint32_t len = build(p, 2, 0, "\0ls\0-l\0", 7);

	cr_assert_eq(agentproto_decode_exec(p, len, &ex, a, 2, e, 1, err, sizeof(err)), -1);
	cr_assert(strstr(err, "beyond this side's room"), "%s", err);
	len = build(p, 1, 0, "\0ls\0", 4);
	cr_assert_eq(agentproto_decode_exec(p, len, &ex, a, 2, e, 1, err, sizeof(err)), 0, "%s", err);
}

Test(agentproto, exec_encode_limits)
{
	static char big[PVHV_AGENT_PAYLOAD_MAX];
	const char *argv[] = { big };
	struct agentproto_exec ex = { .argc = 1, .argv = argv, .cwd = "" };
	uint8_t small[64];

	memset(big, 'a', sizeof(big) - 1);
	cr_assert_eq(agentproto_encode_exec(buf, sizeof(buf), &ex, err, sizeof(err)), -1);
	cr_assert(strstr(err, "exceed"), "%s", err);
	argv[0] = "true";
	memset(small, 0xee, sizeof(small));
	cr_assert_eq(agentproto_encode_exec(small, 40, &ex, err, sizeof(err)), 16 + 16 + 1 + 5);
	cr_assert_eq(small[40], 0xee);
	memset(small, 0xee, sizeof(small));
	cr_assert_eq(agentproto_encode_exec(small, 36, &ex, err, sizeof(err)), -1);
	cr_assert_eq(small[36], 0xee);
	ex.argc = 0;
	cr_assert_eq(agentproto_encode_exec(buf, sizeof(buf), &ex, err, sizeof(err)), -1);
}

Test(agentproto, exit_round_trip_and_rejections)
{
	struct pvhv_agent_exit in = { .how = PVHV_AGENT_SIGNALED, .status = 9, .flags = PVHV_AGENT_EXIT_TIMEOUT,
				      .wall_us = 1ull << 40, .user_us = 7, .sys_us = 8, .maxrss_kib = 9 }, out;
	uint8_t *p = buf + PVHV_AGENT_HDR_SIZE;

	cr_assert_eq(agentproto_encode_exit(buf, sizeof(buf), &in), 16 + PVHV_AGENT_EXIT_SIZE);
	cr_assert_eq(agentproto_decode_exit(p, PVHV_AGENT_EXIT_SIZE, &out, err, sizeof(err)), 0, "%s", err);
	cr_assert(!memcmp(&in, &out, sizeof(in)));
	cr_assert_eq(agentproto_decode_exit(p, PVHV_AGENT_EXIT_SIZE - 1, &out, err, sizeof(err)), -1);
	put32(p + 4, 0);
	cr_assert_eq(agentproto_decode_exit(p, PVHV_AGENT_EXIT_SIZE, &out, err, sizeof(err)), -1);
	cr_assert(strstr(err, "signal 0"), "%s", err);
	put32(p, PVHV_AGENT_EXITED);
	put32(p + 4, 256);
	cr_assert_eq(agentproto_decode_exit(p, PVHV_AGENT_EXIT_SIZE, &out, err, sizeof(err)), -1);
	cr_assert(strstr(err, "exit code 256"), "%s", err);
	put32(p + 4, 255);
	cr_assert_eq(agentproto_decode_exit(p, PVHV_AGENT_EXIT_SIZE, &out, err, sizeof(err)), 0);
	put32(p, 2);
	cr_assert_eq(agentproto_decode_exit(p, PVHV_AGENT_EXIT_SIZE, &out, err, sizeof(err)), -1);
	put32(p, 0);
	put32(p + 12, 1);
	cr_assert_eq(agentproto_decode_exit(p, PVHV_AGENT_EXIT_SIZE, &out, err, sizeof(err)), -1);
	cr_assert(strstr(err, "reserved"), "%s", err);
}

Test(agentproto, error_text_cleaned_and_cut)
{
	uint32_t code, e;
	char text[8];
	long n = agentproto_encode_error(buf, sizeof(buf), PVHV_AGENT_E_EXEC, 2, "bad\n\x1b[2Jx");
	uint8_t *p = buf + PVHV_AGENT_HDR_SIZE;

	cr_assert_eq(n, 16 + 8 + 9);
	cr_assert(!memcmp(p + 8, "bad??[2Jx", 9));
	cr_assert_eq(agentproto_decode_error(p, n - 16, &code, &e, text, sizeof(text), err, sizeof(err)), 0);
	cr_assert_eq(code, PVHV_AGENT_E_EXEC);
	cr_assert_eq(e, 2);
	cr_assert_str_eq(text, "bad??[2");
	p[9] = 0;
	cr_assert_eq(agentproto_decode_error(p, n - 16, &code, &e, text, sizeof(text), err, sizeof(err)), 0);
	cr_assert_str_eq(text, "b?d??[2");
	cr_assert_eq(agentproto_decode_error(p, 8, &code, &e, text, sizeof(text), err, sizeof(err)), -1);
	cr_assert_eq(agentproto_encode_error(buf, sizeof(buf), 1, 0, ""), 16 + 8 + 5);
	cr_assert_eq(agentproto_encode_error(buf, 30, 1, 0, "a long message"), 30);
	cr_assert_eq(agentproto_encode_error(buf, 24, 1, 0, "x"), -1);
}

Test(agentproto, small_messages)
{
	uint32_t v;
	uint8_t *p = buf + PVHV_AGENT_HDR_SIZE;

	cr_assert_eq(agentproto_encode_kill(buf, sizeof(buf), 15), 20);
	cr_assert_eq(agentproto_decode_kill(p, 4, &v, err, sizeof(err)), 0);
	cr_assert_eq(v, 15);
	cr_assert_eq(agentproto_decode_kill(p, 5, &v, err, sizeof(err)), -1);
	put32(p, 65);
	cr_assert_eq(agentproto_decode_kill(p, 4, &v, err, sizeof(err)), -1);
	cr_assert(strstr(err, "signal 65 not in 1..64"), "%s", err);
	cr_assert_eq(agentproto_encode_started(buf, sizeof(buf), 42), 20);
	cr_assert_eq(agentproto_decode_started(p, 4, &v, err, sizeof(err)), 0);
	cr_assert_eq(v, 42);
	put32(p, 0);
	cr_assert_eq(agentproto_decode_started(p, 4, &v, err, sizeof(err)), -1);
	cr_assert_eq(agentproto_decode_started(p, 0, &v, err, sizeof(err)), -1);
	cr_assert_eq(agentproto_check_data(PVHV_AGENT_STDIN, 0, err, sizeof(err)), -1);
	cr_assert_eq(agentproto_check_data(PVHV_AGENT_STDIN, 1, err, sizeof(err)), 0);
	cr_assert_eq(agentproto_check_empty(PVHV_AGENT_POWEROFF, 1, err, sizeof(err)), -1);
	cr_assert(strstr(err, "POWEROFF: payload of 1 bytes"), "%s", err);
	cr_assert_eq(agentproto_check_empty(PVHV_AGENT_STDIN_EOF, 0, err, sizeof(err)), 0);
	cr_assert_eq(agentproto_encode_raw(buf, 20, PVHV_AGENT_STDOUT, "hello", 5), -1);
	cr_assert_eq(agentproto_encode_raw(buf, 21, PVHV_AGENT_STDOUT, "hello", 5), 21);
	cr_assert_eq(agentproto_encode_raw(buf, sizeof(buf), PVHV_AGENT_STDOUT, buf, PVHV_AGENT_PAYLOAD_MAX + 1), -1);
}

/* Random payloads of random sizes, each in an exact heap block: refused or accepted, never a crash. */
Test(agentproto, exec_random_payloads)
{
	struct agentproto_exec ex;
	uint8_t p[256];
	unsigned seed = 12345, accepted = 0;

	for (int i = 0; i < 20000; i++) {
		uint32_t len = rand_r(&seed) % sizeof(p);

		for (uint32_t j = 0; j < len; j++)
			p[j] = rand_r(&seed) % 4 ? (uint8_t)rand_r(&seed) : 0;
		if (len >= 16) {
			put32(p, rand_r(&seed) % 2);
			put32(p + 4, rand_r(&seed) % 6);
			put32(p + 8, rand_r(&seed) % 4);
		}
		if (decode_exec(p, len, &ex) == 0)
			accepted++;
	}
	cr_assert_gt(accepted, 0, "no random payload was valid: the generator is too weak");
}
