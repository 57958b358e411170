/* SPDX-License-Identifier: Apache-2.0 */
/* guest.c: serial output, hypercalls, command line, checks and faults for the test guests. */
#include "guest.h"

#include <stdbool.h>

#define COM1_THR (PVHV_COM1_PORT + 0)
#define COM1_LSR (PVHV_COM1_PORT + 5)
#define LSR_THRE (1u << 5)

#define DEBUG_EXIT_PORT 0xf4    /* QEMU isa-debug-exit, smoke tests only */

int guest_have_pvhv;
int guest_use_vmmcall;
const struct pvhv_start_info *guest_si;
unsigned guest_checks, guest_failures;
int guest_quiet;

/* Armed by try_rdmsr()/try_wrmsr()/try_xsetbv(): a fault at fixup_rip resumes at fixup_target. */
volatile uint64_t guest_fixup_rip, guest_fixup_target, guest_fixup_vector;

static void halt_forever(void) NORETURN;
static void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ------------------------------------------------------------ libc bits */
/* rep string instructions, so the compiler cannot turn these into calls to themselves. */
void *memset(void *d, int c, size_t n)
{
	void *p = d;
	__asm__ volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(c) : "memory");
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	void *p = d;
	__asm__ volatile("rep movsb" : "+D"(p), "+S"(s), "+c"(n) : : "memory");
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

uint64_t strtou64(const char *s, const char **end)
{
	uint64_t v = 0;
	const char *p = s;
	unsigned base = 10;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	const char *digits = p;
	for (;; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		v = v * base + d;
	}
	if (p == digits)        /* "0x" alone: the "0" is the number */
		p = base == 16 ? s + 1 : s;
	if (end)
		*end = p;
	return v;
}

/* ------------------------------------------------------------ output */
struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct out *o, uint64_t v, unsigned base, bool upper, bool neg,
		    int width, bool zero, bool left)
{
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = dig[v % base];
		v /= base;
	} while (v);
	int len = n + neg;
	if (neg && zero)
		put(o, '-');
	if (!left)
		for (; width > len; width--)
			put(o, zero ? '0' : ' ');
	if (neg && !zero)
		put(o, '-');
	while (n)
		put(o, tmp[--n]);
	if (left)
		for (; width > len; width--)
			put(o, ' ');
}

int gvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		bool zero = false, left = false;
		int width = 0, lng = 0;
		for (fmt++;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '-')
				left = true;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng = *fmt == 'z' ? 2 : lng + 1;
			fmt++;
		}
		if (left)
			zero = false;

		uint64_t u;
		int64_t s;
		switch (*fmt) {
		case 'd':
		case 'i':
			s = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(&o, s < 0 ? -(uint64_t)s : (uint64_t)s, 10, false, s < 0, width,
				zero, left);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			put_num(&o, u, *fmt == 'u' ? 10 : 16, *fmt == 'X', false, width, zero, left);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, false, false, width, zero,
				left);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int n = (int)strlen(str);
			if (!left)
				for (; width > n; width--)
					put(&o, ' ');
			while (*str)
				put(&o, *str++);
			if (left)
				for (; width > n; width--)
					put(&o, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int gsnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = gvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void serial_putc(char c)
{
	/* Bounded wait: a missing UART reads all-ones (THRE set) anyway. */
	for (unsigned i = 0; i < 1000000 && !(inb(COM1_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		serial_putc(s[i]);
}

static void vprint(const char *fmt, va_list ap)
{
	char buf[512];
	int n = gvsnprintf(buf, sizeof(buf), fmt, ap);
	serial_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void gprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ pvhv */
int64_t hypercall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		  uint64_t a5)
{
	if (!guest_have_pvhv)
		return -PVHV_ENOSYS;

	/* The ABI promises only RAX; treat the argument registers as clobbered. */
	register uint64_t r10 __asm__("r10") = a4;
	register uint64_t r8 __asm__("r8") = a5;
	uint64_t rax = nr;
	if (guest_use_vmmcall)
		__asm__ volatile("vmmcall"
				 : "+a"(rax), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
				 :
				 : "memory");
	else
		__asm__ volatile("vmcall"
				 : "+a"(rax), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
				 :
				 : "memory");
	return (int64_t)rax;
}

void guest_shutdown(uint64_t reason, uint64_t status)
{
	if (!guest_have_pvhv) {
		gprintf("no pvhv: shutdown(reason %lu, status %lu) via isa-debug-exit\n", reason,
			status);
		outb(DEBUG_EXIT_PORT, 0x31);
		halt_forever();
	}
	int64_t rc = hc_shutdown(reason, status);
	gprintf("shutdown(reason %lu, status %lu) returned %ld\n", reason, status, rc);
	if (reason != PVHV_SHUTDOWN_CRASH || status != 98) {
		rc = hc_shutdown(PVHV_SHUTDOWN_CRASH, 98);
		gprintf("shutdown(reason %u, status 98) returned %ld\n", PVHV_SHUTDOWN_CRASH, rc);
	}
	halt_forever();
}

void guest_init(const struct pvhv_start_info *si);
void guest_init(const struct pvhv_start_info *si)
{
	uint32_t a, b, c, d;

	guest_si = si;
	cpuid(PVHV_CPUID_BASE, 0, &a, &b, &c, &d);
	if (b == PVHV_CPUID_SIGNATURE_EBX && c == PVHV_CPUID_SIGNATURE_ECX &&
	    d == PVHV_CPUID_SIGNATURE_EDX && a >= PVHV_CPUID_INFO) {
		guest_have_pvhv = 1;
		cpuid(PVHV_CPUID_INFO, 0, &a, &b, &c, &d);
		guest_use_vmmcall = !!(b & PVHV_CPUID_F_VMMCALL);
	} else {
		gprintf("no pvhv\n");
	}
}

void guest_exit(int status) NORETURN;
void guest_exit(int status)
{
	guest_shutdown(PVHV_SHUTDOWN_POWEROFF, (uint32_t)status);
}

/* ------------------------------------------------------------ command line */
const char *cmdline(void)
{
	if (!guest_si || !guest_si->cmdline_paddr)
		return "";
	return (const char *)(uintptr_t)guest_si->cmdline_paddr;
}

const char *cmdline_get(const char *key)
{
	static char bufs[4][256];
	static unsigned next;
	size_t klen = strlen(key);
	const char *p = cmdline();

	while (*p) {
		while (*p == ' ')
			p++;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - w) < klen || memcmp(w, key, klen) != 0)
			continue;
		if (w + klen != p && w[klen] != '=')
			continue;
		const char *v = w + klen + (w + klen != p);
		char *out = bufs[next++ % ARRAY_SIZE(bufs)];
		size_t n = (size_t)(p - v);
		if (n >= sizeof(bufs[0]))
			n = sizeof(bufs[0]) - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		return out;
	}
	return NULL;
}

uint64_t cmdline_u64(const char *key, uint64_t dflt)
{
	const char *v = cmdline_get(key);
	const char *end;

	if (!v)
		return dflt;
	uint64_t n = strtou64(v, &end);
	if (end == v || *end) {
		gprintf("cmdline: %s=%s is not a number, using %lu\n", key, v, dflt);
		return dflt;
	}
	return n;
}

/* ------------------------------------------------------------ time */
static struct pvhv_pvclock pvclock __attribute__((aligned(64)));

uint64_t tsc_per_ms(void)
{
	static uint64_t per_ms;
	static int tried;
	uint32_t a, b, c, d;

	if (tried)
		return per_ms;
	tried = 1;
	cpuid(PVHV_KVM_CPUID_BASE, 0, &a, &b, &c, &d);
	if (b != PVHV_KVM_SIG_EBX || c != PVHV_KVM_SIG_ECX || d != PVHV_KVM_SIG_EDX || a < PVHV_KVM_CPUID_BASE + 1)
		return 0;
	cpuid(PVHV_KVM_CPUID_BASE + 1, 0, &a, &b, &c, &d);
	if (!(a & PVHV_KVM_FEATURE_CLOCKSOURCE2) ||
	    try_wrmsr(PVHV_MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)&pvclock | 1) < 0)
		return 0;
	if (!pvclock.version || (pvclock.version & 1) || !pvclock.tsc_to_system_mul)
		return 0;
	/* ns = ((ticks << shift) * mul) >> 32, solved for ticks at 10^6 ns. */
	uint64_t t = (1000000ull << 32) / pvclock.tsc_to_system_mul;
	per_ms = pvclock.tsc_shift >= 0 ? t >> pvclock.tsc_shift : t << -pvclock.tsc_shift;
	return per_ms;
}

/* ------------------------------------------------------------ memory */
static const struct pvhv_memmap_entry *memmap(uint32_t *n)
{
	if (!guest_si || guest_si->version < 1 || !guest_si->memmap_paddr) {
		*n = 0;
		return NULL;
	}
	*n = guest_si->memmap_entries;
	return (const struct pvhv_memmap_entry *)(uintptr_t)guest_si->memmap_paddr;
}

uint64_t ram_top(void)
{
	uint32_t n;
	const struct pvhv_memmap_entry *m = memmap(&n);
	uint64_t top = 0;

	for (uint32_t i = 0; i < n; i++)
		if (m[i].type == PVHV_MEMMAP_RAM && m[i].addr + m[i].size > top)
			top = m[i].addr + m[i].size;
	return top;
}

uint64_t ram_total(void)
{
	uint32_t n;
	const struct pvhv_memmap_entry *m = memmap(&n);
	uint64_t sum = 0;

	for (uint32_t i = 0; i < n; i++)
		if (m[i].type == PVHV_MEMMAP_RAM)
			sum += m[i].size;
	return sum;
}

int free_ram(uint64_t mem_bytes, uint64_t *start, uint64_t *end)
{
	uint32_t n;
	const struct pvhv_memmap_entry *m = memmap(&n);
	uint64_t img = (uintptr_t)__image_start, lo = (uintptr_t)_end;

	for (uint32_t i = 0; i < n; i++) {
		if (m[i].type != PVHV_MEMMAP_RAM || img < m[i].addr ||
		    lo > m[i].addr + m[i].size)
			continue;
		uint64_t hi = m[i].addr + m[i].size;
		if (mem_bytes && mem_bytes < hi)
			hi = mem_bytes;
		if (hi < lo)
			hi = lo;
		*start = lo;
		*end = hi;
		return 0;
	}
	return -1;
}

/* ------------------------------------------------------------ checks */
int check(int cond, const char *fmt, ...)
{
	va_list ap;

	guest_checks++;
	if (!cond)
		guest_failures++;
	if (cond && guest_quiet)
		return 1;
	gprintf("%s - ", cond ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
	gprintf("\n");
	return cond != 0;
}

void finish(void)
{
	if (guest_failures) {
		gprintf("FAIL %s (%u checks failed)\n", guest_name, guest_failures);
		guest_shutdown(PVHV_SHUTDOWN_POWEROFF, 1);
	}
	gprintf("PASS %s\n", guest_name);
	guest_shutdown(PVHV_SHUTDOWN_POWEROFF, 0);
}

/* ------------------------------------------------------------ faults */
int (*guest_exception_hook)(struct guest_regs *r);

void guest_exception(struct guest_regs *r);
void guest_exception(struct guest_regs *r)
{
	static int depth;

	if (guest_exception_hook && guest_exception_hook(r))
		return;
	if (guest_fixup_rip && r->rip == guest_fixup_rip) {
		guest_fixup_vector = r->vector;
		guest_fixup_rip = 0;
		r->rip = guest_fixup_target;
		return;
	}
	if (depth++) {
		serial_write("guest exception inside the exception handler\n", 46);
		guest_shutdown(PVHV_SHUTDOWN_CRASH, 99);
	}
	uint64_t cr2 = 0;
	if (r->vector == 14)
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	gprintf("guest exception %lu at rip 0x%lx err 0x%lx cr2 0x%lx cs 0x%lx rsp 0x%lx\n",
		r->vector, r->rip, r->error, cr2, r->cs, r->rsp);
	guest_shutdown(PVHV_SHUTDOWN_CRASH, 99);
}

/*
 * Each try_* records the faulting instruction (label 1) and where to resume
 * (label 2) before executing it; guest_exception() stores the vector.
 */
int try_rdmsr(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	guest_fixup_vector = 0;
	__asm__ volatile("leaq 2f(%%rip), %%r11\n\t"
			 "movq %%r11, guest_fixup_target(%%rip)\n\t"
			 "leaq 1f(%%rip), %%r11\n\t"
			 "movq %%r11, guest_fixup_rip(%%rip)\n\t"
			 "1: rdmsr\n\t"
			 "2:"
			 : "+a"(lo), "+d"(hi)
			 : "c"(msr)
			 : "r11", "memory");
	guest_fixup_rip = 0;
	if (guest_fixup_vector)
		return -(int)guest_fixup_vector;
	*val = ((uint64_t)hi << 32) | lo;
	return 0;
}

int try_wrmsr(uint32_t msr, uint64_t val)
{
	guest_fixup_vector = 0;
	__asm__ volatile("leaq 2f(%%rip), %%r11\n\t"
			 "movq %%r11, guest_fixup_target(%%rip)\n\t"
			 "leaq 1f(%%rip), %%r11\n\t"
			 "movq %%r11, guest_fixup_rip(%%rip)\n\t"
			 "1: wrmsr\n\t"
			 "2:"
			 :
			 : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "r11", "memory");
	guest_fixup_rip = 0;
	if (guest_fixup_vector)
		return -(int)guest_fixup_vector;
	return 0;
}

int try_xsetbv(uint32_t xcr, uint64_t val)
{
	guest_fixup_vector = 0;
	__asm__ volatile("leaq 2f(%%rip), %%r11\n\t"
			 "movq %%r11, guest_fixup_target(%%rip)\n\t"
			 "leaq 1f(%%rip), %%r11\n\t"
			 "movq %%r11, guest_fixup_rip(%%rip)\n\t"
			 "1: xsetbv\n\t"
			 "2:"
			 :
			 : "c"(xcr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
			 : "r11", "memory");
	guest_fixup_rip = 0;
	if (guest_fixup_vector)
		return -(int)guest_fixup_vector;
	return 0;
}

void set_gate(unsigned vec, void *isr)
{
	extern uint8_t guest_idt[256 * 16];
	uint8_t *g = guest_idt + vec * 16;
	uint64_t a = (uint64_t)(uintptr_t)isr;

	memset(g, 0, 16);
	g[0] = (uint8_t)a;
	g[1] = (uint8_t)(a >> 8);
	g[2] = 0x08; /* entry.asm's 64-bit code selector */
	g[5] = 0x8e; /* present, DPL 0, interrupt gate */
	for (unsigned i = 2; i < 8; i++)
		g[4 + i] = (uint8_t)(a >> (8 * i));
}
