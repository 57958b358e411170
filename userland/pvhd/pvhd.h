/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pvhd.h: the pieces of pvhd, pvhv's JSON API daemon in the control domain.
 *
 * pvhd.c owns the unix socket, the connection processes (one forked child
 * per client, a bounded number of them) and HTTP framing with timeouts;
 * api.c routes a parsed request to its resource and turns it into
 * management calls (mgmtclient.h); exec.c runs a command through a
 * sandbox's agent.  A child serves one client and exits, so a hostile or
 * slow client holds at most its own process.
 */
#ifndef USERLAND_PVHD_H
#define USERLAND_PVHD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "jsonw.h"
#include "mgmtclient.h"
#include "spec.h"

#define PVHD_DEFAULT_SOCKET "/run/pvhd.sock"
#define PVHD_DEFAULT_TOKEN_FILE "/var/lib/pvhd/token"
#define PVHD_TOKEN_BYTES 32
#define PVHD_TOKEN_HEX (2 * PVHD_TOKEN_BYTES)
#define PVHD_EXEC_OUTPUT_MAX (1u << 20)  /* bytes of stdout, and of stderr, an exec reply carries */

/* A client connection: its socket and the bytes read past the current request's head. */
struct client {
	int fd;
	char rx[HTTP_HEAD_MAX + 4096];
	size_t rx_len;
	struct http_request req;
	uint64_t body_left;     /* body bytes of the current request not read yet */
	bool continue_sent;     /* "100 Continue" sent (or not needed) */
	struct mgmt_conn mgmt;  /* to pvhv, opened at the first request that needs it */
	bool mgmt_open;
	unsigned cid, port;     /* pvhv's management address */
	const char *token;      /* a TCP client's: every request must bear it (NULL on the unix socket) */
	const char *store;      /* --store DIR: images kept on disk there too (store.h), or NULL */
};

/* A response being built: status and a JSON body (a fault's or a resource's). */
struct reply {
	int status;
	char *buf;
	struct jsonw w;
	bool close;             /* close the connection after it */
};

/*
 * Reads up to n body bytes of the current request into p (what is
 * buffered first, then the socket, each wait bounded by the I/O timeout).
 * Returns the count (0 once the body is all read), or -1 when the client
 * went away or stalled.
 */
long client_body(struct client *cl, void *p, size_t n);

/* The management connection, opened on first use: 0 or MGMT_CLIENT_EIO (message in cl->mgmt.err). */
int client_mgmt(struct client *cl);

/* A JSON body of up to cap bytes; false (and a 500) when there is no memory for it. */
bool reply_json(struct reply *r, int status, size_t cap);

/* A fault: status and {"fault_message": "..."}. */
void reply_fault(struct reply *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* pvhv's failure rc (from mgmtclient) as a fault: 404, 409, 507, 400, 403, or 502/503. */
void reply_mgmt_fault(struct reply *r, struct client *cl, int rc, const char *what);

/*
 * The TCP token from path into tok (PVHD_TOKEN_HEX + 1 bytes): read when
 * the file exists (a regular file of ours, mode 0600, 64 lower-case hex
 * digits), else made from 32 bytes of getrandom and written there mode
 * 0600 (*made true).  -1 with a message in err when neither works.
 */
int token_load(const char *path, char *tok, bool *made, char *err, size_t errlen);

/*
 * --store DIR at pvhd's start: every image in DIR that pvhv lacks goes
 * back into pvhv (store_restore, over a management connection to
 * CID:PORT); prints one line per damaged image and one that says what was
 * restored.  -1 (with a message printed) when DIR or pvhv cannot be used.
 */
int store_restore_into_pvhv(const char *dir, unsigned cid, unsigned port);

/* Serves the parsed request cl->req (its body still to read through client_body). */
void api_serve(struct client *cl, struct reply *r);

/*
 * POST .../exec: runs ex in the sandbox whose agent listens at vsock CID
 * (waiting up to 60 s for it to listen) and fills r with
 * {"exit_code","signal","stdout","stderr",...} or a fault.  Gives up
 * (closing the agent's stream, which kills the command) when the client goes.
 */
void exec_run(struct client *cl, struct reply *r, unsigned cid, const struct spec_exec *ex);

/* The sandboxes' router (uplink.c), set up by pvhd --uplink. */
struct uplink_conf {
	const char *uplink;     /* the interface towards the world (a NIC, or a test's veth) */
	const char *trunk;      /* the control domain's port on pvhv's switch */
	const char *dns;        /* the uplink's resolver, dnsmasq's upstream, or "none" */
	const char *router;     /* pvhv-router */
	unsigned cid, port;     /* pvhv's management address, for the watcher */
	const struct netpol_hosts *hosts;   /* names ctl's resolver answers itself (--host-record) */
};

/*
 * Reads the trunk's address, runs `pvhv-router up` and forks the watcher
 * that removes an ended sandbox's rules: 0, or -1 with a message in err.
 */
int uplink_start(const struct uplink_conf *c, char *err, size_t errlen);

/* True when uplink_start succeeded in this pvhd. */
bool uplink_on(void);

/*
 * For a create with "network": picks a free trunk address when none was
 * given (and the MAC from it), then adds the sandbox's lease and rules
 * (pvhv-router add).  True to go on (also without "network"); false with a
 * fault in r (400 bad, 409 a conflict or no uplink, 507 no address left).
 */
bool uplink_prepare(struct client *cl, struct reply *r, const char *name, struct pvhv_mgmt_create *c,
		    const struct spec_net *net);

/* The rules of name belong to domain ref (the watcher removes them at its end). */
void uplink_bind(const char *name, struct pvhv_mgmt_ref ref);

/* The rules of name removed (its create failed). */
void uplink_drop(const char *name);

#endif
