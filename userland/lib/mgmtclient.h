/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mgmtclient.h: the client side of pvhv's management protocol
 * (guest-abi/pvhv/mgmt.h), shared by pvhctl and pvhd.
 *
 * One struct mgmt_conn is one vsock stream to pvhv.  Nothing here exits
 * or prints: every function returns 0, pvhv's own status (-PVHV_MGMT_E*,
 * its message in conn->err), or MGMT_CLIENT_EIO when the stream broke or
 * pvhv's reply could not be understood (a message in conn->err; the
 * connection is then of no further use).
 */
#ifndef USERLAND_MGMTCLIENT_H
#define USERLAND_MGMTCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "pvhv/mgmt.h"

#define MGMT_CLIENT_EIO (-1000)
#define MGMT_CLIENT_ERRLEN 160
/* Domains a list reply can hold. */
#define MGMT_CLIENT_MAX_DOMAINS (PVHV_MGMT_MAX_PAYLOAD / sizeof(struct pvhv_mgmt_domain))

struct mgmt_conn {
	int fd;
	uint32_t seq;
	char err[MGMT_CLIENT_ERRLEN];
};

/* Connects to vsock CID:PORT (pvhv's management port unless a test says otherwise). */
int mgmt_connect(struct mgmt_conn *c, unsigned cid, unsigned port);
void mgmt_close(struct mgmt_conn *c);

/*
 * Sends one request of TYPE whose payload is A[0..alen) then B[0..blen)
 * (alen + blen <= PVHV_MGMT_MAX_PAYLOAD) in one write, without waiting
 * for the reply (mgmt_reply reads it).  0 or MGMT_CLIENT_EIO.
 */
int mgmt_send(struct mgmt_conn *c, uint16_t type, const void *a, uint32_t alen, const void *b, uint32_t blen);

/*
 * Reads the reply to an earlier request of TYPE: its result (after the
 * status) into res[0..cap), its length into *got (may be NULL).  A result
 * longer than cap is MGMT_CLIENT_EIO.
 */
int mgmt_reply(struct mgmt_conn *c, uint16_t type, void *res, size_t cap, size_t *got);

/* mgmt_send then mgmt_reply. */
int mgmt_call(struct mgmt_conn *c, uint16_t type, const void *payload, uint32_t len, void *res, size_t cap,
	      size_t *got);

/* As mgmt_call, but a result of other than exactly cap bytes is MGMT_CLIENT_EIO. */
int mgmt_call_exact(struct mgmt_conn *c, uint16_t type, const void *payload, uint32_t len, void *res,
		    size_t cap);

/* Every domain pvhv keeps, asked for page by page: *d malloc'd (the caller frees it), their count in *n. */
int mgmt_list(struct mgmt_conn *c, struct pvhv_mgmt_domain **d, unsigned *n);

/* Images a list reply can hold. */
#define MGMT_CLIENT_MAX_IMAGES ((PVHV_MGMT_MAX_PAYLOAD - sizeof(struct pvhv_mgmt_images)) / sizeof(struct pvhv_mgmt_image))

/*
 * One page of the image list from index first: up to MGMT_CLIENT_MAX_IMAGES
 * entries into e, their count into *count and the number of images into
 * *total (ask again from first + *count while that is below *total and
 * *count is not 0).
 */
int mgmt_images(struct mgmt_conn *c, uint32_t first, struct pvhv_mgmt_image *e, unsigned *count,
		unsigned *total);

/*
 * NAME, ID or ID:GEN -> a ref: ID:GEN as given; otherwise the domain of
 * that name or ID from a list, a live one before an ended one.
 * -PVHV_MGMT_ENOENT (message "no domain \"ARG\"") when there is none.
 */
int mgmt_resolve(struct mgmt_conn *c, const char *arg, struct pvhv_mgmt_ref *ref);

/* "running", "ended", ...; "created" for a domain made paused and not started. */
const char *mgmt_state_name(uint32_t state, uint32_t flags);
/* "poweroff", "crash", ... for PVHV_MGMT_END_*. */
const char *mgmt_end_name(uint32_t end);
/* "cpuid", "npf", ... for PVHV_MGMT_EXIT_* (the index into pvhv_mgmt_stats.exits), NULL for an unused one. */
const char *mgmt_exit_name(unsigned reason);

#endif
