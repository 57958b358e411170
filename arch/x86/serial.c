/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serial.c: the host console, a 16550 UART at COM1, and kprintf/panic.
 *
 * Everything printed goes through one transmit queue, so lines keep the
 * order they were printed in and never mix.  Until the console writer
 * starts (serial_set_async(true), from the scheduler's console drain), and
 * again after serial_set_async(false) (the summary, a panic), kprintf
 * writes its line out at once, waiting for the UART.  In between it queues
 * the line and writes about as many bytes as it queued, only while the
 * UART has room and for KPRINTF_PUMP_US at most; serial_pump() writes the
 * rest later.  So no CPU waits on the UART with interrupts off, and
 * guests' lines (queued by pvh/console.c, which keeps them few) cannot
 * hold up pvhv's messages for long.
 */
#include "arch/x86/arch.h"
#include "arch/x86/x86.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0
#define UART_DLM 1
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IIR_FIFO_ON 0xc0
#define TX_FIFO 16

#define TXQ_SIZE 16384
#define TXQ_MASK (TXQ_SIZE - 1)
#define KPRINTF_PUMP_US 200 /* a queued kprintf writes about its own length, for this long at most */
#define WAIT_SPINS 100000 /* per UART check: a wedged UART cannot hang pvhv */

static struct spinlock console_lock;
static bool serial_ready, async;
static unsigned fifo_depth = 1;
static char txq[TXQ_SIZE];
static size_t txq_head, txq_used;

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80); /* DLAB: divisor 1 = 115200 baud */
	outb(COM1 + UART_DLL, 0x01);
	outb(COM1 + UART_DLM, 0x00);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0xc7); /* FIFOs on, cleared */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
	/* A 16550A reports its FIFOs on in IIR[7:6]; an 8250/16450 has none. */
	if ((inb(COM1 + UART_IIR) & IIR_FIFO_ON) == IIR_FIFO_ON)
		fifo_depth = TX_FIFO;
	serial_ready = true;
}

/* A missing UART reads 0xff: THRE set, so nothing waits on it. */
static bool uart_room(void)
{
	return inb(COM1 + UART_LSR) & LSR_THRE;
}

static bool past(uint64_t deadline)
{
	return deadline && (int64_t)(rdtsc() - deadline) >= 0;
}

/*
 * Writes up to one FIFO's worth, and stops early at the deadline (0: none):
 * with the FIFOs on, THRE means the whole transmit FIFO is empty (16550A
 * data sheet, LSR bit 5).  In a nested or emulated machine one port write
 * can take long, so the deadline is checked after each.
 */
static size_t write_burst_locked(size_t max, uint64_t deadline)
{
	size_t n = MIN(MIN((size_t)fifo_depth, max), txq_used), i;

	for (i = 0; i < n; i++) {
		outb(COM1 + UART_THR, (uint8_t)txq[txq_head]);
		txq_head = (txq_head + 1) & TXQ_MASK;
		txq_used--;
		if (past(deadline))
			return i + 1;
	}
	return n;
}

/*
 * Writes queued bytes while the UART has room, at most budget and until
 * the TSC passes deadline (0: none); never waits.
 */
static size_t pump_locked(size_t budget, uint64_t deadline)
{
	size_t done = 0;

	if (!serial_ready) {
		txq_used = 0;
		return 0;
	}
	while (txq_used && done < budget && !past(deadline) && uart_room())
		done += write_burst_locked(budget - done, deadline);
	return done;
}

static void wait_lsr(uint8_t bit)
{
	for (unsigned spins = 0; !(inb(COM1 + UART_LSR) & bit) && spins < WAIT_SPINS; spins++)
		cpu_relax();
}

/* Writes until at least `free` bytes of the queue are free, waiting for the UART. */
static void wait_room_locked(size_t free)
{
	if (!serial_ready) {
		txq_used = 0;
		return;
	}
	while (txq_used && TXQ_SIZE - txq_used < free) {
		wait_lsr(LSR_THRE);
		write_burst_locked(txq_used, 0);
	}
}

/*
 * Writes everything and waits until the last byte has left the UART
 * (TEMT): the machine may power off next, and an emulator that models the
 * line speed (Bochs) drops what is still in the FIFO then.
 */
static void flush_locked(void)
{
	wait_room_locked(TXQ_SIZE);
	if (serial_ready)
		wait_lsr(LSR_TEMT);
}

static size_t expanded_len(const char *s, size_t n)
{
	size_t len = n;

	for (size_t i = 0; i < n; i++)
		len += s[i] == '\n';
	return len;
}

/* Queues s with "\r\n" line ends; the caller made room for expanded_len(). */
static void queue_locked(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			txq[(txq_head + txq_used++) & TXQ_MASK] = '\r';
		txq[(txq_head + txq_used++) & TXQ_MASK] = s[i];
	}
}

bool serial_queue(const char *s, size_t n, size_t limit)
{
	size_t len = expanded_len(s, n);
	bool ok;

	spin_lock(&console_lock);
	ok = txq_used + len <= MIN(limit, (size_t)TXQ_SIZE);
	if (ok)
		queue_locked(s, n);
	spin_unlock(&console_lock);
	return ok;
}

size_t serial_pump(size_t budget, uint64_t deadline)
{
	size_t n;

	spin_lock(&console_lock);
	n = pump_locked(budget, deadline);
	spin_unlock(&console_lock);
	return n;
}

size_t serial_queued(void)
{
	return __atomic_load_n(&txq_used, __ATOMIC_RELAXED);
}

void serial_set_async(bool on)
{
	spin_lock(&console_lock);
	if (!on)
		flush_locked();
	async = on;
	spin_unlock(&console_lock);
}

int serial_getc(void)
{
	uint8_t lsr;

	if (!serial_ready)
		return -1;
	lsr = inb(COM1 + UART_LSR);
	if (lsr == 0xff || !(lsr & 0x01)) /* no UART, or no data ready */
		return -1;
	return inb(COM1 + UART_THR);
}

void kvprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len;

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	len = expanded_len(buf, (size_t)n);
	spin_lock(&console_lock);
	/* pvhv's own lines are never dropped: only a queue full of them makes this wait. */
	wait_room_locked(len);
	queue_locked(buf, (size_t)n);
	if (async)
		pump_locked(len, rdtsc() + KPRINTF_PUMP_US * tsc_khz() / 1000);
	else
		flush_locked();
	spin_unlock(&console_lock);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

NORETURN void panic(const char *fmt, ...)
{
	va_list ap;

	irq_disable();
	serial_set_async(false);
	kprintf("pvhv: PANIC on cpu %u: ", this_cpu()->index);
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	machine_poweroff(PVHV_EXIT_PANIC);
}

/* The stack protector's failure hook (libfdt.a calls it too). */
NORETURN void __stack_chk_fail(void);
NORETURN void __stack_chk_fail(void)
{
	panic("stack smashing detected (return address %p)", __builtin_return_address(0));
}
