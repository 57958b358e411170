/* SPDX-License-Identifier: Apache-2.0 */
/* serial.c: the host console, a 16550 UART at COM1, and kprintf/panic. */
#include "arch/x86/arch.h"
#include "arch/x86/x86.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0
#define UART_DLM 1
#define LSR_THRE 0x20

static struct spinlock console_lock;
static bool serial_ready;

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80); /* DLAB: divisor 1 = 115200 baud */
	outb(COM1 + UART_DLL, 0x01);
	outb(COM1 + UART_DLM, 0x00);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0xc7); /* FIFOs on, cleared */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
	serial_ready = true;
}

void console_putc_raw(char c)
{
	unsigned spins = 0;

	if (!serial_ready)
		return;
	/* A missing UART reads 0xff: LSR_THRE set, so this never spins forever. */
	while (!(inb(COM1 + UART_LSR) & LSR_THRE) && ++spins < 100000)
		cpu_relax();
	outb(COM1 + UART_THR, (uint8_t)c);
}

int serial_getc(void)
{
	if (!serial_ready || inb(COM1 + UART_LSR) == 0xff || !(inb(COM1 + UART_LSR) & 0x01))
		return -1;
	return inb(COM1 + UART_THR);
}

static void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			console_putc_raw('\r');
		console_putc_raw(s[i]);
	}
}

void kvprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	spin_lock(&console_lock);
	console_write(buf, (size_t)n);
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
