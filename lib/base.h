/* SPDX-License-Identifier: Apache-2.0 */
/*
 * base.h: the one header pure modules depend on.  Types, address-space
 * scalars, and the handful of libc functions, so the same .c file builds
 * freestanding in the image and hosted (-DPVHV_HOSTED) in unit tests.
 */
#ifndef PVHV_LIB_BASE_H
#define PVHV_LIB_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Guest-physical and host-physical addresses.  They are integers, never
 * pointers: a guest address must go through the domain's checked
 * translation (dom_gpa_ptr()) before anything dereferences it.
 */
typedef uint64_t gpa_t;
typedef uint64_t hpa_t;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((__typeof__(x))(a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define KIB(x) ((uint64_t)(x) << 10)
#define MIB(x) ((uint64_t)(x) << 20)
#define GIB(x) ((uint64_t)(x) << 30)

#define PAGE_SHIFT 12
#define PAGE_SIZE 4096UL
#define LARGE_PAGE_SIZE (2UL << 20)

#define PACKED __attribute__((packed))
#define NORETURN __attribute__((noreturn))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define UNUSED __attribute__((unused))

#ifndef EINVAL
#define EPERM 1
#define ENOENT 2
#define EIO 5
#define EAGAIN 11
#define E2BIG 7
#define ENOEXEC 8
#define EAGAIN 11
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define ENODEV 19
#define EINVAL 22
#define ENOMEM 12
#define ENOSPC 28
#define EPIPE 32
#define ERANGE 34
#define ENOSYS 38
#define EPROTO 71
#define EOVERFLOW 75
#define EMSGSIZE 90
#define ECONNRESET 104
#define ETIMEDOUT 110
#endif

/*
 * True when [addr, addr + len) lies inside [base, base + size) with no
 * wrap-around anywhere.  Every range check on untrusted input uses this.
 */
static inline bool range_within(uint64_t addr, uint64_t len, uint64_t base,
                                uint64_t size)
{
	if (addr + len < addr || base + size < base)
		return false;
	return addr >= base && addr + len <= base + size;
}

#ifdef PVHV_HOSTED
#include <stdio.h>
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
#endif

/*
 * Zeroes [base, base + len) except the n ranges [keep[i], keep[i] + keep_len)
 * (offsets from base, increasing, not overlapping, inside len), which are
 * never written: for a structure holding locks another CPU may hold while
 * it is cleared (a ticket lock rewritten under its holder stays taken for
 * good).  Returns false, writing nothing, when keep is not so.
 */
static inline bool memzero_except(void *base, size_t len, const size_t *keep, unsigned n, size_t keep_len)
{
	size_t at = 0;

	for (unsigned i = 0; i < n; i++) {
		if (keep[i] < at || keep[i] > len || keep_len > len - keep[i])
			return false;
		at = keep[i] + keep_len;
	}
	at = 0;
	for (unsigned i = 0; i < n; i++) {
		memset((char *)base + at, 0, keep[i] - at);
		at = keep[i] + keep_len;
	}
	memset((char *)base + at, 0, len - at);
	return true;
}

/*
 * Formats a message into the caller's (err, errlen) buffer, when there is
 * one, and returns rc: `return errorf(-EINVAL, err, errlen, "...", ...);`
 */
PRINTF_LIKE(4, 5)
static inline int errorf(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

#endif
