/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agentproto.h: encoding and checked decoding of the agent protocol (guest-abi/pvhv/agent.h).
 *
 * Used by the agent and by its clients.  Decoders take a payload of `len`
 * bytes and read nothing beyond it; every failure returns -1 with a message
 * in `err` (what and where, e.g. "EXEC: argv[2] not NUL-terminated at byte
 * 40 of 40") and leaves the outputs unspecified.  Encoders write a whole
 * frame (header included) and return its size, or -1 (with `err` where
 * there is one) when the message breaks a limit; nothing is written past `cap`.
 */
#ifndef USERLAND_AGENTPROTO_H
#define USERLAND_AGENTPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "pvhv/agent.h"

#define AGENTPROTO_ERRLEN 160
/* Largest frame on the wire. */
#define AGENTPROTO_FRAME_MAX (PVHV_AGENT_HDR_SIZE + PVHV_AGENT_PAYLOAD_MAX)

struct agentproto_hdr {
	unsigned type;
	uint32_t length;
};

/* A command to run.  Decoded strings point into the payload. */
struct agentproto_exec {
	uint32_t flags;          /* PVHV_AGENT_EXEC_* */
	uint32_t timeout_ms;
	uint32_t argc, envc;
	const char *cwd;         /* "" for the agent's own */
	const char *const *argv; /* argc entries (decode: then NULL) */
	const char *const *env;  /* envc entries (decode: then NULL) */
};

/* Name of a frame type for messages ("EXEC", "type 99" for unknown ones: uses a static buffer). */
const char *agentproto_type_name(unsigned type);

/* Write the header of a frame of TYPE with LEN payload bytes to b[0..16). */
void agentproto_put_hdr(uint8_t *b, unsigned type, uint32_t len);
/*
 * Check the 16 header bytes at b: magic, version, flags 0, length within
 * PVHV_AGENT_PAYLOAD_MAX.  The type is not checked here (the caller knows
 * which types it accepts).
 */
int agentproto_parse_hdr(const uint8_t *b, struct agentproto_hdr *h, char *err, size_t errlen);

/* A frame of TYPE with LEN <= PVHV_AGENT_PAYLOAD_MAX bytes of payload copied from P. */
long agentproto_encode_raw(uint8_t *buf, size_t cap, unsigned type, const void *p, uint32_t len);
long agentproto_encode_exec(uint8_t *buf, size_t cap, const struct agentproto_exec *ex,
			    char *err, size_t errlen);
long agentproto_encode_started(uint8_t *buf, size_t cap, uint32_t pid);
long agentproto_encode_kill(uint8_t *buf, size_t cap, uint32_t sig);
long agentproto_encode_exit(uint8_t *buf, size_t cap, const struct pvhv_agent_exit *ex);
/* TEXT is cut to fit and anything not printable ASCII becomes '?'; an empty text becomes "error". */
long agentproto_encode_error(uint8_t *buf, size_t cap, uint32_t code, uint32_t sys_errno,
			     const char *text);

/*
 * EXEC: ARGV and ENV are the caller's arrays of ARGV_CAP and ENV_CAP
 * entries; argc + 1 and envc + 1 must fit (else an error).  Checks the
 * counts against the limits, that every string is NUL-terminated inside
 * the payload, that the strings fill it exactly, argv[0] is not empty,
 * cwd is empty or absolute and each env entry has a '=' after a non-empty name.
 */
int agentproto_decode_exec(const uint8_t *p, uint32_t len, struct agentproto_exec *ex,
			   const char **argv, size_t argv_cap, const char **env, size_t env_cap,
			   char *err, size_t errlen);
int agentproto_decode_started(const uint8_t *p, uint32_t len, uint32_t *pid, char *err, size_t errlen);
/* The signal must be 1..64. */
int agentproto_decode_kill(const uint8_t *p, uint32_t len, uint32_t *sig, char *err, size_t errlen);
/* how must be EXITED (status <= 255) or SIGNALED (status 1..64), reserved 0. */
int agentproto_decode_exit(const uint8_t *p, uint32_t len, struct pvhv_agent_exit *ex,
			   char *err, size_t errlen);
/* The text is copied NUL-terminated into TEXT[TEXTCAP] (cut if longer), non-printables as '?'. */
int agentproto_decode_error(const uint8_t *p, uint32_t len, uint32_t *code, uint32_t *sys_errno,
			    char *text, size_t textcap, char *err, size_t errlen);
/* STDIN/STDOUT/STDERR carry 1.. bytes; STDIN_EOF and POWEROFF none. */
int agentproto_check_data(unsigned type, uint32_t len, char *err, size_t errlen);
int agentproto_check_empty(unsigned type, uint32_t len, char *err, size_t errlen);

#endif
