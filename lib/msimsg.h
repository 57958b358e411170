/* SPDX-License-Identifier: Apache-2.0 */
/* msimsg.h: x86 MSI messages (address and data) decoded and built, and a host vector allocator; pure. */
#ifndef PVHV_LIB_MSIMSG_H
#define PVHV_LIB_MSIMSG_H

#include "lib/base.h"

/*
 * The message format of SDM vol. 3, 11.11.1 (address) and 11.11.2 (data),
 * without interrupt remapping: address 0xFEE<dest:8><rsvd:4><RH><DM><xx>,
 * data <trigger><level><rsvd:3><mode:3><vector:8> in the low 16 bits.
 */
#define MSI_ADDR_BASE 0xfee00000u
#define MSI_ADDR_BASE_MASK 0xfff00000u
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_RSVD 0x00000ff0u /* bits 11:4 (Linux's extended destination ID lives in 11:5) */
#define MSI_ADDR_RH (1u << 3)
#define MSI_ADDR_DM_LOGICAL (1u << 2)
#define MSI_DATA_MODE_SHIFT 8
#define MSI_MODE_FIXED 0
#define MSI_MODE_LOWEST 1

/* A message pvhv can deliver. */
struct msi_msg {
	uint8_t dest;     /* destination ID, address bits 19:12 */
	bool logical;     /* destination mode */
	uint8_t mode;     /* MSI_MODE_FIXED or MSI_MODE_LOWEST */
	uint8_t vector;   /* >= 16 */
};

/*
 * Decodes a message as a device would send it.  Refused with -EINVAL (err
 * says why): address bits 63:20 other than 0xFEE (a DMA write, not an
 * interrupt), reserved address bits 11:4 set (an extended destination ID
 * pvhv does not offer), delivery mode other than fixed or lowest priority
 * (SMI, NMI, INIT, ExtINT, reserved), vector below 16 (SDM vol. 3,
 * 11.5.2: illegal).  The redirection hint, the trigger and level bits and
 * data bits 31:16 (reserved) are ignored: an MSI is an edge, delivered as
 * the destination fields say.
 */
int msimsg_decode(uint64_t addr, uint32_t data, struct msi_msg *m, char *err, size_t errlen);

/*
 * The destination of m as an x2APIC destination (what the domain's
 * virtual APICs match): physical 0xFF is the broadcast 0xFFFFFFFF; a
 * logical 8-bit destination is the member mask of cluster 0 (x2APIC IDs
 * 0-7), the only one an 8-bit field can name (SDM vol. 3, 10.12.10.2).
 */
uint32_t msimsg_x2apic_dest(const struct msi_msg *m);

/* The host message for vector on the CPU with xAPIC ID apic_id: physical, fixed, edge. */
void msimsg_encode(uint8_t apic_id, uint8_t vector, uint64_t *addr, uint32_t *data);

/*
 * Host vectors [first, last] handed out next-fit: the search starts after
 * the last one handed out, so a freed vector is reused only after every
 * other one was (an interrupt still on its way to the old owner then
 * finds it unowned, not someone else's).
 */
struct msi_vecmap {
	uint64_t used[4];
	uint16_t first, last, next;
};

/* first <= last, both below 256. */
void msimsg_vec_init(struct msi_vecmap *m, uint8_t first, uint8_t last);
/* 0 and *vec, or -ENOSPC when every vector of the range is taken. */
int msimsg_vec_alloc(struct msi_vecmap *m, uint8_t *vec);
/* Gives vec back; a vector outside the range or not taken is ignored. */
void msimsg_vec_free(struct msi_vecmap *m, uint8_t vec);
bool msimsg_vec_used(const struct msi_vecmap *m, uint8_t vec);

#endif
