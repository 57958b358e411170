/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vsock.h: the vsock addresses pvhv gives meaning to.  Each domain's
 * virtio-vsock device (virtio 1.2, 5.10) has its own CID, read from the
 * device's config space (guest_cid, OUT).  pvhv itself answers at
 * PVHV_VSOCK_CID_HOST on the ports below and nowhere else; a stream to any
 * other port there, or to a domain the configuration does not allow, is
 * refused with a reset.
 */
#ifndef PVHV_GUEST_ABI_VSOCK_H
#define PVHV_GUEST_ABI_VSOCK_H

#include <stdint.h>

/* The well-known host CID (VMADDR_CID_HOST): pvhv's local endpoints live there. */
#define PVHV_VSOCK_CID_HOST 2u

/* The first CID a domain may get: 0..2 are reserved (hypervisor, local, host). */
#define PVHV_VSOCK_CID_MIN 3u

/* pvhv's management protocol (a later issue): a stream from the control domain only. */
#define PVHV_VSOCK_MGMT_PORT 1024u

#endif
