/* SPDX-License-Identifier: Apache-2.0 */
/* pvhctl.h: the parts of pvhctl in files of their own. */
#ifndef USERLAND_PVHCTL_H
#define USERLAND_PVHCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "mgmtclient.h"

/* "pvhctl: " and the message on stderr, exit status 1 (what was printed on stdout is flushed first). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* pvhctl api [--socket PATH] METHOD PATH [BODY|@FILE] (argv[0] is "api"): the exit status. */
int api_main(int argc, char **argv);

/*
 * The verbs through pvhd (remote.c).  remote_setup: --host ADDR:PORT (the
 * token from token_file, else $PVHCTL_TOKEN; dies without one) or --api
 * SOCKET; both NULL leaves pvhctl on pvhv's management stream.  The rest
 * die with pvhd's fault_message and status when pvhd refuses.
 */
void remote_setup(const char *host, const char *api, const char *token_file);
bool remote_on(void);
/* A management request done by pvhd's resource for it: the result as pvhv gives it, its length returned. */
size_t remote_call(uint16_t type, const void *payload, uint32_t len, void *res, size_t cap);
unsigned remote_list(struct pvhv_mgmt_domain **out);
struct pvhv_mgmt_ref remote_resolve(const char *arg);
void remote_images(struct pvhv_mgmt_image **out, unsigned *n);
/* PUT /api/v1/images/NAME: size bytes of fd streamed. */
void remote_import(int fd, uint64_t size, const char *name);
/* CMD in DOMAIN through pvhd's exec: its stdout and stderr written out, its status (128+N for signal N). */
int remote_exec(const char *domain, int argc, char **argv);

/* A sandbox's router options (pvhd's "network" beyond the port): only through pvhd (--api or --host). */
#define PVHCTL_PORTS_MAX 8
struct pvhctl_net {
	bool pick;                 /* --net without an address: pvhd picks one */
	const char *egress;        /* --egress none|all|allow=LIST, NULL for pvhd's default (none) */
	const char *ports[PVHCTL_PORTS_MAX];   /* -p HOSTPORT:PORT */
	unsigned nports;
};
extern struct pvhctl_net net_opts;

#endif
