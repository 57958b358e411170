/* SPDX-License-Identifier: Apache-2.0 */
/* msi.h: a passed-through device's MSI and MSI-X messages, each routed from a host vector to the message its domain programmed. */
#ifndef PVHV_PVH_MSI_H
#define PVHV_PVH_MSI_H

#include "lib/base.h"

struct domain;

/*
 * One message as its domain programmed it (an MSI capability, or one
 * MSI-X table entry) and the host vector that stands for it.  The device
 * is programmed with the host message msi_route_bind() gives; when that
 * interrupt reaches pvhv, the domain gets the interrupt its own message
 * names (x86 MSI format, SDM vol. 3, 11.11), as if the device had sent it.
 * The owner of a route (the passthrough code) zeroes it before its first
 * bind and keeps it in place while bound.
 */
struct msi_route {
	struct domain *dom;
	uint64_t guest_addr;   /* the domain's message, as written */
	uint32_t guest_data;
	uint8_t host_vector;   /* 0: unbound */
	uint32_t host_apic_id; /* the host CPU the device interrupts */
	uint64_t delivered;    /* interrupts passed on to the domain */
	uint64_t dropped;      /* interrupts that found the route unbound or refused */
};

/*
 * Binds r: checks and decodes the domain's message, takes a free host
 * vector (a rebind of a bound route keeps its vector and replaces the
 * domain's message) and gives the message the device must send:
 * *host_addr and *host_data.  A message pvhv cannot deliver (address
 * outside 0xFEE00000-0xFEEFFFFF, delivery mode other than fixed or lowest
 * priority, vector below 16) is refused with -EINVAL and err says why;
 * -ENOSPC when no host vector is left.  r is unchanged on error.
 */
int msi_route_bind(struct msi_route *r, struct domain *dom, uint64_t guest_addr, uint32_t guest_data,
		   uint64_t *host_addr, uint32_t *host_data, char *err, size_t errlen);

/* Frees r's host vector (nothing when unbound); an interrupt still on its way is dropped and counted. */
void msi_route_unbind(struct msi_route *r);

/*
 * Bind and unbind take only msi.c's own lock, which nothing is taken
 * under: they may be called with any other lock held, from any context
 * but a host interrupt handler.  A bound route's dom must stay a valid
 * domain pointer: unbind before its slot is torn down or reused (delivery
 * to a domain that is not running is dropped and counted).
 *
 * msi_poll() delivers the device interrupts the host took since the last
 * call (see msi.c): every CPU calls it right after letting host interrupts
 * in, with them off again and no lock held (delivery takes the vCPU's
 * lapic_lock and sched_lock).
 */
void msi_poll(void);
/* Interrupts that arrived on a host vector no route owned (counted and dropped). */
uint64_t msi_unrouted(void);

#endif
