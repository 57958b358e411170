/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent.h: the wire protocol of the sandbox agent, which runs commands inside a domain.
 *
 * Self-contained C99.  The agent (userland/agent/) listens on a vsock stream
 * at PVHV_AGENT_PORT; a client (pvhctl, pvhd, agent-run) connects, runs one
 * command per connection and reads its output and exit status.  Field
 * comments say IN (client to agent) or OUT (agent to client).
 *
 * Framing.  Every message is a frame: struct pvhv_agent_hdr (16 bytes)
 * followed by exactly `length` payload bytes, length <= PVHV_AGENT_PAYLOAD_MAX.
 * All integers are little-endian; payload structures have no padding and are
 * read field by field, never by casting a possibly unaligned pointer.
 *
 * Conversation (one command per connection):
 *   IN  EXEC                      -> OUT STARTED, or OUT ERROR and close
 *   IN  STDIN* STDIN_EOF?, KILL*  <-> OUT STDOUT*, STDERR* (in any order)
 *                                 -> OUT EXIT, then the agent closes
 *   or: IN POWEROFF               -> the agent closes and powers the domain off
 *                                    (refused with ERROR unless it is allowed to)
 * A frame that breaks a rule (bad magic or version, flags not 0, length
 * over the maximum, an unknown type or one not allowed at this point, a
 * payload whose sizes or counts do not add up, a connection closed in the
 * middle of a frame) gets one ERROR frame saying what and where, then the
 * agent closes the connection and kills the command if one runs.  It never
 * tries to resynchronise.
 *
 * The command's processes.  The command runs in a new session and process
 * group (its pid is the group id), with pipes for stdin, stdout and stderr.
 * KILL signals the whole group.  When the command itself has exited, what is
 * left of its group is killed with SIGKILL, so nothing outlives the command's
 * connection; when the connection closes (or breaks) before EXIT, the group is
 * killed with SIGKILL too (a half-close counts: end stdin with STDIN_EOF).  EXIT is sent after the last STDOUT/STDERR frame.
 *
 * Flow control.  The agent buffers at most PVHV_AGENT_OUTBUF bytes of
 * frames towards a client.  While that buffer cannot take another full
 * output frame, the agent stops reading the command's stdout and stderr
 * pipes; the command then blocks in write() once the pipe is full, so a
 * command that writes faster than the client reads is slowed down rather
 * than growing the agent's memory.  In the other direction the agent holds
 * at most PVHV_AGENT_INBUF bytes of stdin the command has not read yet, and
 * stops reading the connection while it could not take another full STDIN
 * frame: a client that keeps sending stdin the command never reads will also
 * have its KILL frames wait (closing the connection always kills).  A client
 * must keep reading while it writes (both directions at once), or it may
 * deadlock against a command that does the same.
 */
#ifndef PVHV_GUEST_ABI_AGENT_H
#define PVHV_GUEST_ABI_AGENT_H

#include <stdint.h>

/* The agent's vsock port (any CID it is reached at). */
#define PVHV_AGENT_PORT 1024u

#define PVHV_AGENT_MAGIC 0x47415650u /* "PVAG" as bytes on the wire */
/* Incompatible changes take a new version; the agent refuses others with ERROR PROTO. */
#define PVHV_AGENT_VERSION 1u

/* Largest payload of any frame; bigger is a protocol error. */
#define PVHV_AGENT_PAYLOAD_MAX 65536u
/* Limits of EXEC (they also follow from the payload size). */
#define PVHV_AGENT_ARGV_MAX 4096u
#define PVHV_AGENT_ENV_MAX 4096u
/* What the agent buffers per connection (see "Flow control"). */
#define PVHV_AGENT_OUTBUF (256u * 1024u)
#define PVHV_AGENT_INBUF (2u * PVHV_AGENT_PAYLOAD_MAX)

struct pvhv_agent_hdr {
	uint32_t magic;          /* IN/OUT: PVHV_AGENT_MAGIC */
	uint16_t version;        /* IN/OUT: PVHV_AGENT_VERSION */
	uint16_t type;           /* IN/OUT: PVHV_AGENT_* */
	uint32_t flags;          /* IN/OUT: 0; other values are refused */
	uint32_t length;         /* IN/OUT: payload bytes after the header */
};

/* Frame types.  IN: */
#define PVHV_AGENT_EXEC 1        /* struct pvhv_agent_exec + strings */
#define PVHV_AGENT_STDIN 2       /* 1..PAYLOAD_MAX bytes for the command's stdin */
#define PVHV_AGENT_STDIN_EOF 3   /* no payload: close the command's stdin */
#define PVHV_AGENT_KILL 4        /* struct pvhv_agent_kill */
#define PVHV_AGENT_POWEROFF 5    /* no payload; only as the first frame */
/* OUT: */
#define PVHV_AGENT_STARTED 16    /* struct pvhv_agent_started */
#define PVHV_AGENT_STDOUT 17     /* 1..PAYLOAD_MAX bytes the command wrote */
#define PVHV_AGENT_STDERR 18     /* likewise, from its stderr */
#define PVHV_AGENT_EXIT 19       /* struct pvhv_agent_exit; the last frame */
#define PVHV_AGENT_ERROR 20      /* struct pvhv_agent_error + text; the last frame */

/*
 * EXEC payload: this structure, then 1 + argc + envc NUL-terminated strings
 * that fill the rest of the payload exactly: the working directory (empty:
 * the agent's, "/" in a sandbox; otherwise absolute), argv[0..argc) and
 * env[0..envc) as "NAME=value".  argv[0] is the program; without a '/' it is
 * searched in the PATH of the command's own environment (or /bin:/usr/bin).
 * The command's environment is exactly env[].
 */
struct pvhv_agent_exec {
	uint32_t flags;          /* IN: PVHV_AGENT_EXEC_* */
	uint32_t argc;           /* IN: 1..PVHV_AGENT_ARGV_MAX */
	uint32_t envc;           /* IN: 0..PVHV_AGENT_ENV_MAX */
	uint32_t timeout_ms;     /* IN: kill the group (SIGKILL) after this long; 0: no limit */
};
/* The client will send STDIN frames; without it the command's stdin is at end of file. */
#define PVHV_AGENT_EXEC_STDIN (1u << 0)

struct pvhv_agent_started {
	uint32_t pid;            /* OUT: the command's pid (and process group) in the domain */
};

struct pvhv_agent_kill {
	uint32_t signal;         /* IN: 1..64, sent to the command's process group */
};

/* EXIT: how the command ended, and what it used (children it waited for included). */
struct pvhv_agent_exit {
	uint32_t how;            /* OUT: PVHV_AGENT_EXITED or PVHV_AGENT_SIGNALED */
	uint32_t status;         /* OUT: exit code 0..255, or the signal number */
	uint32_t flags;          /* OUT: PVHV_AGENT_EXIT_* */
	uint32_t reserved;       /* OUT: 0 */
	uint64_t wall_us;        /* OUT: from fork to the command's exit */
	uint64_t user_us;        /* OUT: user CPU time */
	uint64_t sys_us;         /* OUT: system CPU time */
	uint64_t maxrss_kib;     /* OUT: peak resident size of the largest process */
};
#define PVHV_AGENT_EXITED 0
#define PVHV_AGENT_SIGNALED 1
#define PVHV_AGENT_EXIT_TIMEOUT (1u << 0) /* killed because timeout_ms passed */
#define PVHV_AGENT_EXIT_KILLED (1u << 1)  /* the client sent KILL before it ended */
#define PVHV_AGENT_EXIT_CORE (1u << 2)    /* the signal dumped core */

/*
 * ERROR payload: this structure, then 1..PAYLOAD_MAX-8 bytes of text (printable
 * ASCII, no NUL, no newline), e.g. "exec nosuch: No such file or directory".
 */
struct pvhv_agent_error {
	uint32_t code;           /* OUT: PVHV_AGENT_E_* */
	uint32_t sys_errno;      /* OUT: the Linux errno when a system call failed, else 0 */
};
#define PVHV_AGENT_E_PROTO 1     /* malformed or unexpected frame (see the text) */
#define PVHV_AGENT_E_EXEC 2      /* the command could not be started (chdir, exec, fork) */
#define PVHV_AGENT_E_BUSY 3      /* too many connections; try again */
#define PVHV_AGENT_E_DENIED 4    /* POWEROFF not allowed for this agent */

#define PVHV_AGENT_HDR_SIZE 16u
#define PVHV_AGENT_EXEC_SIZE 16u
#define PVHV_AGENT_STARTED_SIZE 4u
#define PVHV_AGENT_KILL_SIZE 4u
#define PVHV_AGENT_EXIT_SIZE 48u
#define PVHV_AGENT_ERROR_SIZE 8u

_Static_assert(sizeof(struct pvhv_agent_hdr) == PVHV_AGENT_HDR_SIZE, "agent hdr ABI");
_Static_assert(sizeof(struct pvhv_agent_exec) == PVHV_AGENT_EXEC_SIZE, "agent exec ABI");
_Static_assert(sizeof(struct pvhv_agent_started) == PVHV_AGENT_STARTED_SIZE, "agent started ABI");
_Static_assert(sizeof(struct pvhv_agent_kill) == PVHV_AGENT_KILL_SIZE, "agent kill ABI");
_Static_assert(sizeof(struct pvhv_agent_exit) == PVHV_AGENT_EXIT_SIZE, "agent exit ABI");
_Static_assert(sizeof(struct pvhv_agent_error) == PVHV_AGENT_ERROR_SIZE, "agent error ABI");

#endif
