/* SPDX-License-Identifier: Apache-2.0 */
/* format.c: freestanding vsnprintf/snprintf (C99 semantics) for integers, chars and strings. */
#include "lib/base.h"

/*
 * Supported: %d %i %u %x %X %o %c %s %p %%, flags - 0 + space #, width and
 * precision (digits or *), length modifiers hh h l ll z t j.  There is no
 * floating point (pvhv runs without SSE/x87): %f and every other unknown
 * conversion, including %n, is copied to the output literally and consumes
 * no argument.  %p prints 0x and lowercase hex (0x0 for NULL); a NULL %s
 * prints "(null)", cut by the precision like any string.
 */

#define FL_LEFT  (1u << 0)
#define FL_ZERO  (1u << 1)
#define FL_PLUS  (1u << 2)
#define FL_SPACE (1u << 3)
#define FL_ALT   (1u << 4)

#define FMT_MAX_FIELD 0x7fffffff

enum fmt_len { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_Z, LEN_T, LEN_J };

struct fmt_out {
	char *buf;
	size_t size;
	size_t len; /* characters the full output needs */
};

static void put(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_n(struct fmt_out *o, char c, long n)
{
	while (n-- > 0)
		put(o, c);
}

static void put_str(struct fmt_out *o, const char *s, size_t n)
{
	while (n--)
		put(o, *s++);
}

/* Parse a decimal field, saturating rather than overflowing. */
static int parse_num(const char **p)
{
	long v = 0;

	while (**p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		if (v > FMT_MAX_FIELD)
			v = FMT_MAX_FIELD;
		(*p)++;
	}
	return (int)v;
}

static void put_int(struct fmt_out *o, uint64_t mag, char sign,
		    const char *prefix, unsigned base, bool upper,
		    unsigned flags, int width, int prec, bool octal_alt)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	long ndig = 0, nzero, npre = 0, total;

	if (!(mag == 0 && prec == 0)) {
		do {
			tmp[ndig++] = digits[mag % base];
			mag /= base;
		} while (mag);
	}
	/* C11 7.21.6.1: # with o raises the precision so the first digit is 0. */
	if (octal_alt && (ndig == 0 || tmp[ndig - 1] != '0') && prec <= ndig)
		prec = (int)ndig + 1;
	nzero = prec > ndig ? prec - ndig : 0;
	if (sign)
		npre++;
	if (prefix)
		npre += 2;
	/* The 0 flag is ignored with - or with a precision. */
	if ((flags & FL_ZERO) && !(flags & FL_LEFT) && prec < 0 &&
	    width > npre + ndig + nzero)
		nzero = width - npre - ndig;
	total = npre + nzero + ndig;
	if (!(flags & FL_LEFT))
		put_n(o, ' ', width - total);
	if (sign)
		put(o, sign);
	if (prefix)
		put_str(o, prefix, 2);
	put_n(o, '0', nzero);
	while (ndig)
		put(o, tmp[--ndig]);
	if (flags & FL_LEFT)
		put_n(o, ' ', width - total);
}

static int64_t get_signed(va_list *ap, enum fmt_len len)
{
	switch (len) {
	case LEN_HH: return (signed char)va_arg(*ap, int);
	case LEN_H:  return (short)va_arg(*ap, int);
	case LEN_L:  return va_arg(*ap, long);
	case LEN_LL: return va_arg(*ap, long long);
	case LEN_Z:  return va_arg(*ap, long);  /* signed size_t */
	case LEN_T:  return va_arg(*ap, ptrdiff_t);
	case LEN_J:  return va_arg(*ap, intmax_t);
	default:     return va_arg(*ap, int);
	}
}

static uint64_t get_unsigned(va_list *ap, enum fmt_len len)
{
	switch (len) {
	case LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_H:  return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_L:  return va_arg(*ap, unsigned long);
	case LEN_LL: return va_arg(*ap, unsigned long long);
	case LEN_Z:  return va_arg(*ap, size_t);
	case LEN_T:  return (uint64_t)va_arg(*ap, ptrdiff_t);
	case LEN_J:  return va_arg(*ap, uintmax_t);
	default:     return va_arg(*ap, unsigned int);
	}
}

static void put_padded(struct fmt_out *o, const char *s, size_t n,
		       unsigned flags, int width)
{
	long pad = width > (long)n ? width - (long)n : 0;

	if (!(flags & FL_LEFT))
		put_n(o, ' ', pad);
	put_str(o, s, n);
	if (flags & FL_LEFT)
		put_n(o, ' ', pad);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct fmt_out o = { .buf = buf, .size = size, .len = 0 };
	va_list ap;

	/* Copy so helpers can take a pointer portably (va_list may be an array). */
	va_copy(ap, ap_in);
	while (*fmt) {
		const char *spec = fmt;
		unsigned flags = 0;
		int width = 0, prec = -1;
		enum fmt_len len = LEN_NONE;
		char c;

		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				flags |= FL_LEFT;
			else if (*fmt == '0')
				flags |= FL_ZERO;
			else if (*fmt == '+')
				flags |= FL_PLUS;
			else if (*fmt == ' ')
				flags |= FL_SPACE;
			else if (*fmt == '#')
				flags |= FL_ALT;
			else
				break;
		}
		if (*fmt == '*') {
			fmt++;
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= FL_LEFT;
				width = width < -FMT_MAX_FIELD ?
					FMT_MAX_FIELD : -width;
			}
		} else {
			width = parse_num(&fmt);
		}
		if (*fmt == '.') {
			fmt++;
			if (*fmt == '*') {
				fmt++;
				prec = va_arg(ap, int);
				if (prec < 0)
					prec = -1; /* as if omitted */
			} else {
				prec = parse_num(&fmt);
			}
		}
		switch (*fmt) {
		case 'h':
			len = fmt[1] == 'h' ? LEN_HH : LEN_H;
			fmt += len == LEN_HH ? 2 : 1;
			break;
		case 'l':
			len = fmt[1] == 'l' ? LEN_LL : LEN_L;
			fmt += len == LEN_LL ? 2 : 1;
			break;
		case 'z': len = LEN_Z; fmt++; break;
		case 't': len = LEN_T; fmt++; break;
		case 'j': len = LEN_J; fmt++; break;
		default: break;
		}
		c = *fmt;
		if (c == '\0') {
			/* Truncated specification: copy it as it stands. */
			put_str(&o, spec, (size_t)(fmt - spec));
			break;
		}
		fmt++;
		switch (c) {
		case 'd':
		case 'i': {
			int64_t v = get_signed(&ap, len);
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			char sign = v < 0 ? '-' : (flags & FL_PLUS) ? '+' :
				    (flags & FL_SPACE) ? ' ' : 0;

			put_int(&o, mag, sign, NULL, 10, false, flags, width,
				prec, false);
			break;
		}
		case 'u':
			put_int(&o, get_unsigned(&ap, len), 0, NULL, 10, false,
				flags, width, prec, false);
			break;
		case 'o':
			put_int(&o, get_unsigned(&ap, len), 0, NULL, 8, false,
				flags, width, prec, flags & FL_ALT);
			break;
		case 'x':
		case 'X': {
			uint64_t v = get_unsigned(&ap, len);
			const char *pre = (flags & FL_ALT) && v ?
				(c == 'x' ? "0x" : "0X") : NULL;

			put_int(&o, v, 0, pre, 16, c == 'X', flags, width,
				prec, false);
			break;
		}
		case 'p':
			put_int(&o, (uintptr_t)va_arg(ap, void *), 0, "0x", 16,
				false, flags, width, prec, false);
			break;
		case 'c': {
			char ch = (char)va_arg(ap, int);

			put_padded(&o, &ch, 1, flags, width);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t n = 0;

			if (!s)
				s = "(null)";
			/* Never read past the precision: s need not be terminated. */
			while ((prec < 0 || n < (size_t)prec) && s[n])
				n++;
			put_padded(&o, s, n, flags, width);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default:
			put_str(&o, spec, (size_t)(fmt - spec));
			break;
		}
	}
	va_end(ap);
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > FMT_MAX_FIELD ? FMT_MAX_FIELD : (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
