/* SPDX-License-Identifier: Apache-2.0 */
/*
 * guest.h: the runtime shared by the pvhv test guests.
 *
 * A guest is one main.c defining GUEST_NAME("x") and
 * int main(const struct pvhv_start_info *si).  entry.asm puts us in long
 * mode with 0..8 GiB identity-mapped (2 MiB pages), a 64 KiB stack and an
 * IDT for the 32 exception vectors, calls guest_init(si), then main(si),
 * then shuts the domain down with main's return value as status.
 *
 * Output is ASCII lines on COM1.  Tests print one line per check() and end
 * with finish(), which prints "PASS <name>" or "FAIL <name> (N checks
 * failed)" and powers off with status 0 or 1.
 *
 * Without pvhv (plain QEMU, for smoke tests) hypercalls are not issued:
 * hypercall() returns -PVHV_ENOSYS and shutdown writes 0x31 to the
 * isa-debug-exit port 0xf4.
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pvhv/abi.h>
#include <pvhv/kvmclock.h>

#define GUEST_NAME(n) const char guest_name[] = n
extern const char guest_name[];

#define NORETURN __attribute__((noreturn))
#define PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* entry.asm / guest.ld */
extern uint64_t guest_pml4[512], guest_pdpt[512], guest_pd[8 * 512];
extern char __image_start[], _end[];

/* Registers saved by the exception stubs, lowest address first. */
struct guest_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;   /* pushed by the CPU */
};

/* ------------------------------------------------------------ x86 tables */
/* The 64-bit TSS (for RSP0 and IST stacks) and the LGDT/LIDT operand. */
struct __attribute__((packed)) tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};

struct __attribute__((packed)) desc_ptr {
	uint16_t limit;
	uint64_t base;
};

/* ------------------------------------------------------------ instructions */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *a, uint32_t *b,
			 uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(subleaf));
}

/* Faults (#GP) if the MSR is not there; see try_rdmsr(). */
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

/* Needs CR4.OSXSAVE (else #UD). */
static inline uint64_t xgetbv(uint32_t xcr)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(xcr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline uint64_t tsc_read(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* ------------------------------------------------------------ libc bits */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int streq(const char *a, const char *b);   /* NULL-safe, 1 if equal */

/*
 * Parse an unsigned number, decimal or 0x-prefixed hex.  *end (if not
 * NULL) points after the last digit used; no digits gives 0 and *end == s.
 */
uint64_t strtou64(const char *s, const char **end);

/* ------------------------------------------------------------ output */
int gvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int gsnprintf(char *buf, size_t size, const char *fmt, ...) PRINTF(3, 4);
/* %s %c %d %i %u %x %X %p with l/ll/z, width, '0' and '-' flags. */
void gprintf(const char *fmt, ...) PRINTF(1, 2);
void serial_write(const char *s, size_t n);

/* ------------------------------------------------------------ pvhv */
extern int guest_have_pvhv;     /* CPUID 0x40000000 says "pvhv" */
extern int guest_use_vmmcall;   /* PVHV_CPUID_F_VMMCALL */
extern const struct pvhv_start_info *guest_si;

/* RAX = nr, RDI, RSI, RDX, R10, R8 = a1..a5; returns RAX. */
int64_t hypercall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
		  uint64_t a4, uint64_t a5);
static inline int64_t hc_version(void) { return hypercall(PVHV_HC_VERSION, 0, 0, 0, 0, 0); }
static inline int64_t hc_yield(void) { return hypercall(PVHV_HC_YIELD, 0, 0, 0, 0, 0); }
static inline int64_t hc_console_write(const void *buf, uint64_t len)
{
	return hypercall(PVHV_HC_CONSOLE_WRITE, (uint64_t)(uintptr_t)buf, len, 0, 0, 0);
}
/* The raw call: returns only on error. */
static inline int64_t hc_shutdown(uint64_t reason, uint64_t status)
{
	return hypercall(PVHV_HC_SHUTDOWN, reason, status, 0, 0, 0);
}
/*
 * Ends the domain.  If the hypercall returns, prints the error and tries
 * shutdown(CRASH, 98); if that returns too, halts forever.
 */
void guest_shutdown(uint64_t reason, uint64_t status) NORETURN;

/* ------------------------------------------------------------ command line */
/* The whole command line ("" if none). */
const char *cmdline(void);
/*
 * Value of "key=value" (value ends at a space), copied to one of a few
 * rotating static buffers; NULL when the key is absent.  "key" alone
 * gives "".
 */
const char *cmdline_get(const char *key);
uint64_t cmdline_u64(const char *key, uint64_t dflt);

/* ------------------------------------------------------------ time */
/*
 * TSC ticks per millisecond from the KVM-compatible pvclock (CPUID
 * 0x40000100 signature "KVMKVMKVM", feature CLOCKSOURCE2, MSR 0x4b564d01),
 * which pvhv offers; 0 when there is none (plain QEMU/TCG), so callers
 * must pick their own fallback.  The first call registers the clock.
 */
uint64_t tsc_per_ms(void);

/* ------------------------------------------------------------ memory */
/* Highest end address of the memmap's RAM entries (0 if none). */
uint64_t ram_top(void);
/* Sum of the memmap's RAM entries. */
uint64_t ram_total(void);
/*
 * Free RAM above the image: [_end, end of the RAM entry holding the image),
 * clipped to mem_bytes if non-zero.  Returns 0 and sets the range, or -1
 * when the memmap has no such entry.
 */
int free_ram(uint64_t mem_bytes, uint64_t *start, uint64_t *end);

/* ------------------------------------------------------------ checks */
extern unsigned guest_checks, guest_failures;
extern int guest_quiet;    /* check() prints its failures only (many guests at once) */
/* Prints "ok - ..." or "FAIL - ..."; returns cond != 0. */
int check(int cond, const char *fmt, ...) PRINTF(2, 3);
/* "PASS <name>" / "FAIL <name> (N checks failed)", then poweroff 0 / 1. */
void finish(void) NORETURN;

/* ------------------------------------------------------------ faults */
/*
 * Called first for every exception the guest takes; returning non-zero
 * means handled (the stub returns to r->rip with r->rflags).  NULL: none.
 */
extern int (*guest_exception_hook)(struct guest_regs *r);
/* 0 on success, -vector (e.g. -13 for #GP) if the instruction faulted. */
int try_rdmsr(uint32_t msr, uint64_t *val);
int try_wrmsr(uint32_t msr, uint64_t val);
/* XSETBV: #UD while CR4.OSXSAVE is clear, #GP for a bad XCR or value. */
int try_xsetbv(uint32_t xcr, uint64_t val);

/* Vector vec of the guest's IDT (entry.asm's guest_idt) runs isr: a present DPL-0 interrupt gate. */
void set_gate(unsigned vec, void *isr);

#endif
