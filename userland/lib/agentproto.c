/* SPDX-License-Identifier: Apache-2.0 */
/* agentproto.c: frames of the agent protocol, built and checked field by field (little-endian, bounds first). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agentproto.h"

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = v;
	b[1] = v >> 8;
}

static void put32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = v >> (8 * i);
}

static void put64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = v >> (8 * i);
}

static uint16_t get16(const uint8_t *b)
{
	return b[0] | (uint16_t)b[1] << 8;
}

static uint32_t get32(const uint8_t *b)
{
	return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint64_t get64(const uint8_t *b)
{
	return get32(b) | (uint64_t)get32(b + 4) << 32;
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

const char *agentproto_type_name(unsigned type)
{
	static char other[24];

	switch (type) {
	case PVHV_AGENT_EXEC: return "EXEC";
	case PVHV_AGENT_STDIN: return "STDIN";
	case PVHV_AGENT_STDIN_EOF: return "STDIN_EOF";
	case PVHV_AGENT_KILL: return "KILL";
	case PVHV_AGENT_POWEROFF: return "POWEROFF";
	case PVHV_AGENT_STARTED: return "STARTED";
	case PVHV_AGENT_STDOUT: return "STDOUT";
	case PVHV_AGENT_STDERR: return "STDERR";
	case PVHV_AGENT_EXIT: return "EXIT";
	case PVHV_AGENT_ERROR: return "ERROR";
	}
	snprintf(other, sizeof(other), "type %u", type);
	return other;
}

void agentproto_put_hdr(uint8_t *b, unsigned type, uint32_t len)
{
	put32(b + 0, PVHV_AGENT_MAGIC);
	put16(b + 4, PVHV_AGENT_VERSION);
	put16(b + 6, type);
	put32(b + 8, 0);
	put32(b + 12, len);
}

int agentproto_parse_hdr(const uint8_t *b, struct agentproto_hdr *h, char *err, size_t errlen)
{
	uint32_t magic = get32(b + 0), flags = get32(b + 8), len = get32(b + 12);
	unsigned version = get16(b + 4);

	if (magic != PVHV_AGENT_MAGIC)
		return fail(err, errlen, "frame header: magic %#x is not %#x", magic, PVHV_AGENT_MAGIC);
	if (version != PVHV_AGENT_VERSION)
		return fail(err, errlen, "frame header: version %u, this side speaks %u",
			    version, PVHV_AGENT_VERSION);
	h->type = get16(b + 6);
	if (flags)
		return fail(err, errlen, "%s frame: flags %#x, must be 0", agentproto_type_name(h->type), flags);
	if (len > PVHV_AGENT_PAYLOAD_MAX)
		return fail(err, errlen, "%s frame: length %u > maximum %u", agentproto_type_name(h->type),
			    len, PVHV_AGENT_PAYLOAD_MAX);
	h->length = len;
	return 0;
}

long agentproto_encode_raw(uint8_t *buf, size_t cap, unsigned type, const void *p, uint32_t len)
{
	if (len > PVHV_AGENT_PAYLOAD_MAX || cap < PVHV_AGENT_HDR_SIZE + (size_t)len)
		return -1;
	agentproto_put_hdr(buf, type, len);
	if (len)
		memcpy(buf + PVHV_AGENT_HDR_SIZE, p, len);
	return PVHV_AGENT_HDR_SIZE + (long)len;
}

/* Append string S with its NUL at *off in the payload; -1 when it does not fit. */
static int put_str(uint8_t *pl, size_t room, size_t *off, const char *s)
{
	size_t n = strlen(s) + 1;

	if (n > room - *off)
		return -1;
	memcpy(pl + *off, s, n);
	*off += n;
	return 0;
}

long agentproto_encode_exec(uint8_t *buf, size_t cap, const struct agentproto_exec *ex,
			    char *err, size_t errlen)
{
	size_t room, off = PVHV_AGENT_EXEC_SIZE;
	uint8_t *pl = buf + PVHV_AGENT_HDR_SIZE;
	const char *cwd = ex->cwd ? ex->cwd : "";

	if (ex->argc < 1 || ex->argc > PVHV_AGENT_ARGV_MAX)
		return fail(err, errlen, "EXEC: argc %u not in 1..%u", ex->argc, PVHV_AGENT_ARGV_MAX);
	if (ex->envc > PVHV_AGENT_ENV_MAX)
		return fail(err, errlen, "EXEC: envc %u > %u", ex->envc, PVHV_AGENT_ENV_MAX);
	if (cap < PVHV_AGENT_HDR_SIZE + PVHV_AGENT_EXEC_SIZE)
		return fail(err, errlen, "EXEC: buffer of %zu bytes too small", cap);
	room = cap - PVHV_AGENT_HDR_SIZE;
	if (room > PVHV_AGENT_PAYLOAD_MAX)
		room = PVHV_AGENT_PAYLOAD_MAX;
	put32(pl + 0, ex->flags);
	put32(pl + 4, ex->argc);
	put32(pl + 8, ex->envc);
	put32(pl + 12, ex->timeout_ms);
	if (put_str(pl, room, &off, cwd))
		goto too_big;
	for (uint32_t i = 0; i < ex->argc; i++)
		if (put_str(pl, room, &off, ex->argv[i]))
			goto too_big;
	for (uint32_t i = 0; i < ex->envc; i++)
		if (put_str(pl, room, &off, ex->env[i]))
			goto too_big;
	agentproto_put_hdr(buf, PVHV_AGENT_EXEC, off);
	return PVHV_AGENT_HDR_SIZE + (long)off;
too_big:
	return fail(err, errlen, "EXEC: arguments, environment and directory exceed %zu bytes", room);
}

long agentproto_encode_started(uint8_t *buf, size_t cap, uint32_t pid)
{
	uint8_t pl[PVHV_AGENT_STARTED_SIZE];

	put32(pl, pid);
	return agentproto_encode_raw(buf, cap, PVHV_AGENT_STARTED, pl, sizeof(pl));
}

long agentproto_encode_kill(uint8_t *buf, size_t cap, uint32_t sig)
{
	uint8_t pl[PVHV_AGENT_KILL_SIZE];

	put32(pl, sig);
	return agentproto_encode_raw(buf, cap, PVHV_AGENT_KILL, pl, sizeof(pl));
}

long agentproto_encode_exit(uint8_t *buf, size_t cap, const struct pvhv_agent_exit *ex)
{
	uint8_t pl[PVHV_AGENT_EXIT_SIZE];

	put32(pl + 0, ex->how);
	put32(pl + 4, ex->status);
	put32(pl + 8, ex->flags);
	put32(pl + 12, 0);
	put64(pl + 16, ex->wall_us);
	put64(pl + 24, ex->user_us);
	put64(pl + 32, ex->sys_us);
	put64(pl + 40, ex->maxrss_kib);
	return agentproto_encode_raw(buf, cap, PVHV_AGENT_EXIT, pl, sizeof(pl));
}

static char printable(uint8_t c)
{
	return c >= 0x20 && c < 0x7f ? (char)c : '?';
}

long agentproto_encode_error(uint8_t *buf, size_t cap, uint32_t code, uint32_t sys_errno,
			     const char *text)
{
	size_t n = text ? strlen(text) : 0;
	uint8_t *pl = buf + PVHV_AGENT_HDR_SIZE;

	if (!n) {
		text = "error";
		n = 5;
	}
	if (cap < PVHV_AGENT_HDR_SIZE + PVHV_AGENT_ERROR_SIZE + 1)
		return -1;
	if (n > cap - PVHV_AGENT_HDR_SIZE - PVHV_AGENT_ERROR_SIZE)
		n = cap - PVHV_AGENT_HDR_SIZE - PVHV_AGENT_ERROR_SIZE;
	if (n > PVHV_AGENT_PAYLOAD_MAX - PVHV_AGENT_ERROR_SIZE)
		n = PVHV_AGENT_PAYLOAD_MAX - PVHV_AGENT_ERROR_SIZE;
	put32(pl + 0, code);
	put32(pl + 4, sys_errno);
	for (size_t i = 0; i < n; i++)
		pl[PVHV_AGENT_ERROR_SIZE + i] = printable(text[i]);
	agentproto_put_hdr(buf, PVHV_AGENT_ERROR, PVHV_AGENT_ERROR_SIZE + n);
	return PVHV_AGENT_HDR_SIZE + PVHV_AGENT_ERROR_SIZE + (long)n;
}

/* The NUL-terminated string at *off inside p[0..len), advancing *off past its NUL. */
static const char *take_str(const uint8_t *p, uint32_t len, uint32_t *off)
{
	const uint8_t *nul;

	if (*off >= len)
		return NULL;
	nul = memchr(p + *off, 0, len - *off);
	if (!nul)
		return NULL;
	const char *s = (const char *)p + *off;
	*off = (uint32_t)(nul - p) + 1;
	return s;
}

int agentproto_decode_exec(const uint8_t *p, uint32_t len, struct agentproto_exec *ex,
			   const char **argv, size_t argv_cap, const char **env, size_t env_cap,
			   char *err, size_t errlen)
{
	uint32_t off = PVHV_AGENT_EXEC_SIZE;
	const char *s;

	if (len < PVHV_AGENT_EXEC_SIZE)
		return fail(err, errlen, "EXEC: payload of %u bytes, the fixed part alone is %u",
			    len, PVHV_AGENT_EXEC_SIZE);
	ex->flags = get32(p + 0);
	ex->argc = get32(p + 4);
	ex->envc = get32(p + 8);
	ex->timeout_ms = get32(p + 12);
	if (ex->flags & ~PVHV_AGENT_EXEC_STDIN)
		return fail(err, errlen, "EXEC: unknown flags %#x", ex->flags & ~PVHV_AGENT_EXEC_STDIN);
	if (ex->argc < 1 || ex->argc > PVHV_AGENT_ARGV_MAX)
		return fail(err, errlen, "EXEC: argc %u not in 1..%u", ex->argc, PVHV_AGENT_ARGV_MAX);
	if (ex->envc > PVHV_AGENT_ENV_MAX)
		return fail(err, errlen, "EXEC: envc %u > %u", ex->envc, PVHV_AGENT_ENV_MAX);
	if (ex->argc >= argv_cap || ex->envc >= env_cap)
		return fail(err, errlen, "EXEC: argc %u or envc %u beyond this side's room", ex->argc, ex->envc);
	/* Every string takes at least its NUL: a cheap bound before walking. */
	if (1 + (uint64_t)ex->argc + ex->envc > len - off)
		return fail(err, errlen, "EXEC: %u strings cannot fit in %u bytes",
			    1 + ex->argc + ex->envc, len - off);
	s = take_str(p, len, &off);
	if (!s)
		return fail(err, errlen, "EXEC: cwd not NUL-terminated at byte %u of %u", off, len);
	if (*s && *s != '/')
		return fail(err, errlen, "EXEC: cwd is not absolute");
	ex->cwd = s;
	for (uint32_t i = 0; i < ex->argc; i++) {
		uint32_t at = off;

		argv[i] = take_str(p, len, &off);
		if (!argv[i])
			return fail(err, errlen, "EXEC: argv[%u] not NUL-terminated at byte %u of %u", i, at, len);
	}
	argv[ex->argc] = NULL;
	if (!argv[0][0])
		return fail(err, errlen, "EXEC: argv[0] is empty");
	for (uint32_t i = 0; i < ex->envc; i++) {
		uint32_t at = off;
		const char *eq;

		env[i] = take_str(p, len, &off);
		if (!env[i])
			return fail(err, errlen, "EXEC: env[%u] not NUL-terminated at byte %u of %u", i, at, len);
		eq = strchr(env[i], '=');
		if (!eq || eq == env[i])
			return fail(err, errlen, "EXEC: env[%u] is not NAME=value", i);
	}
	env[ex->envc] = NULL;
	if (off != len)
		return fail(err, errlen, "EXEC: %u bytes left after the last string", len - off);
	ex->argv = argv;
	ex->env = env;
	return 0;
}

int agentproto_decode_started(const uint8_t *p, uint32_t len, uint32_t *pid, char *err, size_t errlen)
{
	if (len != PVHV_AGENT_STARTED_SIZE)
		return fail(err, errlen, "STARTED: payload of %u bytes, want %u", len, PVHV_AGENT_STARTED_SIZE);
	*pid = get32(p);
	if (*pid == 0)
		return fail(err, errlen, "STARTED: pid 0");
	return 0;
}

int agentproto_decode_kill(const uint8_t *p, uint32_t len, uint32_t *sig, char *err, size_t errlen)
{
	if (len != PVHV_AGENT_KILL_SIZE)
		return fail(err, errlen, "KILL: payload of %u bytes, want %u", len, PVHV_AGENT_KILL_SIZE);
	*sig = get32(p);
	if (*sig < 1 || *sig > 64)
		return fail(err, errlen, "KILL: signal %u not in 1..64", *sig);
	return 0;
}

int agentproto_decode_exit(const uint8_t *p, uint32_t len, struct pvhv_agent_exit *ex,
			   char *err, size_t errlen)
{
	if (len != PVHV_AGENT_EXIT_SIZE)
		return fail(err, errlen, "EXIT: payload of %u bytes, want %u", len, PVHV_AGENT_EXIT_SIZE);
	ex->how = get32(p + 0);
	ex->status = get32(p + 4);
	ex->flags = get32(p + 8);
	ex->reserved = get32(p + 12);
	ex->wall_us = get64(p + 16);
	ex->user_us = get64(p + 24);
	ex->sys_us = get64(p + 32);
	ex->maxrss_kib = get64(p + 40);
	if (ex->how == PVHV_AGENT_EXITED && ex->status > 255)
		return fail(err, errlen, "EXIT: exit code %u > 255", ex->status);
	if (ex->how == PVHV_AGENT_SIGNALED && (ex->status < 1 || ex->status > 64))
		return fail(err, errlen, "EXIT: signal %u not in 1..64", ex->status);
	if (ex->how != PVHV_AGENT_EXITED && ex->how != PVHV_AGENT_SIGNALED)
		return fail(err, errlen, "EXIT: how %u unknown", ex->how);
	if (ex->reserved)
		return fail(err, errlen, "EXIT: reserved %#x, must be 0", ex->reserved);
	return 0;
}

int agentproto_decode_error(const uint8_t *p, uint32_t len, uint32_t *code, uint32_t *sys_errno,
			    char *text, size_t textcap, char *err, size_t errlen)
{
	size_t n;

	if (len <= PVHV_AGENT_ERROR_SIZE)
		return fail(err, errlen, "ERROR: payload of %u bytes, want more than %u",
			    len, PVHV_AGENT_ERROR_SIZE);
	if (!textcap)
		return fail(err, errlen, "ERROR: no room for the text");
	*code = get32(p + 0);
	*sys_errno = get32(p + 4);
	n = len - PVHV_AGENT_ERROR_SIZE;
	if (n > textcap - 1)
		n = textcap - 1;
	for (size_t i = 0; i < n; i++)
		text[i] = printable(p[PVHV_AGENT_ERROR_SIZE + i]);
	text[n] = '\0';
	return 0;
}

int agentproto_check_data(unsigned type, uint32_t len, char *err, size_t errlen)
{
	if (!len)
		return fail(err, errlen, "%s: empty data frame", agentproto_type_name(type));
	return 0;
}

int agentproto_check_empty(unsigned type, uint32_t len, char *err, size_t errlen)
{
	if (len)
		return fail(err, errlen, "%s: payload of %u bytes, want none", agentproto_type_name(type), len);
	return 0;
}
