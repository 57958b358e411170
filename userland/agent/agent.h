/* SPDX-License-Identifier: Apache-2.0 */
/* agent.h: the parts of pvhv-agent that talk to each other (listener and init in agent.c, one connection in session.c). */
#ifndef USERLAND_AGENT_H
#define USERLAND_AGENT_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Serve one connection on SOCK (blocking or not; session_run sets it
 * non-blocking) in a process of its own: one EXEC, its stdio and EXIT, or a
 * POWEROFF request (honoured by sending SIGUSR1 to MAIN_PID when
 * ALLOW_POWEROFF, refused otherwise).  Returns when the conversation is over,
 * the command reaped and SOCK closed; SIGCHLD and SIGTERM must be blocked
 * by the caller (SIGTERM ends the session and kills the command).
 */
void session_run(int sock, bool allow_poweroff, pid_t main_pid);

/* Print "pvhv-agent[PID]: MESSAGE" on stderr. */
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
