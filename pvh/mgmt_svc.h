/* SPDX-License-Identifier: Apache-2.0 */
/* mgmt_svc.h: pvhv's management service on the vsock router (host CID, PVHV_MGMT_PORT). */
#ifndef PVHV_PVH_MGMT_SVC_H
#define PVHV_PVH_MGMT_SVC_H

struct vsock_router;

/* Registers the service on r (called once, under the router's lock, as the router starts). */
void mgmt_service_start(struct vsock_router *r);

#endif
