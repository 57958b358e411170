/* SPDX-License-Identifier: Apache-2.0 */
/* fdio.h: whole reads and writes on a stream file descriptor, retried on EINTR and short counts. */
#ifndef USERLAND_FDIO_H
#define USERLAND_FDIO_H

#include <stddef.h>

/* Writes all n bytes: 0, or -1 (errno set; 0 when the peer took nothing more: EPIPE). */
int fd_write_all(int fd, const void *p, size_t n);
/* Reads exactly n bytes: 0, or -1 (errno set; 0 when the stream ended first). */
int fd_read_all(int fd, void *p, size_t n);

#endif
