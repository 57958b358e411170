/* SPDX-License-Identifier: Apache-2.0 */
/*
 * console.c: each domain's 16550 UART at COM1 and its console, printed on
 * the host console one whole line at a time as "[name] text".
 */
#include "pvh/pvh.h"

/* Register offsets from the base port (DLAB = LCR bit 7 selects DLL/DLM). */
#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS_DSR_DCD 0xb0
#define LCR_DLAB 0x80

static void keep_line(struct uart *u)
{
	char *slot;

	if (u->nkeep == CONSOLE_KEEP_LINES) {
		memmove(u->keep[0], u->keep[1], sizeof(u->keep[0]) * (CONSOLE_KEEP_LINES - 1));
		u->nkeep--;
	}
	slot = u->keep[u->nkeep++];
	snprintf(slot, sizeof(u->keep[0]), "%s", u->line);
}

void console_flush(struct domain *dom)
{
	struct uart *u = &dom->uart;

	if (!u->len)
		return;
	u->line[u->len] = 0;
	kprintf("[%s] %s\n", dom->name, u->line);
	keep_line(u);
	u->len = 0;
}

/*
 * Guests are not trusted with the host terminal: control characters other
 * than tab become '?', so no escape sequence reaches it.
 */
void console_feed(struct domain *dom, const char *s, size_t n)
{
	struct uart *u = &dom->uart;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\n') {
			if (u->len)
				console_flush(dom);
			else
				kprintf("[%s]\n", dom->name);
			continue;
		}
		if (c == '\r')
			continue;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			c = '?';
		u->line[u->len++] = c;
		if (u->len == CONSOLE_LINE_MAX)
			console_flush(dom);
	}
}

void uart_io(struct domain *dom, uint16_t off, bool in, uint8_t size, uint32_t *val)
{
	struct uart *u = &dom->uart;
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t b = (uint8_t)*val;

	if (in) {
		switch (off) {
		case UART_RBR_THR: b = dlab ? u->dll : 0; break; /* no input yet */
		case UART_IER: b = dlab ? u->dlm : u->ier; break;
		case UART_IIR_FCR: b = (u->fcr & 1 ? 0xc0 : 0) | 0x01; break; /* nothing pending */
		case UART_LCR: b = u->lcr; break;
		case UART_MCR: b = u->mcr; break;
		case UART_LSR: b = LSR_THRE | LSR_TEMT; break;
		case UART_MSR: b = MSR_CTS_DSR_DCD; break;
		default: b = u->scr; break;
		}
		/* Wider reads see the register in the low byte and all-ones above. */
		*val = (size == 1) ? b : (0xffffff00u | b);
		return;
	}
	switch (off) {
	case UART_RBR_THR:
		if (dlab)
			u->dll = b;
		else
			console_feed(dom, (const char *)&b, 1);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = b;
		else
			u->ier = b & 0x0f;
		break;
	case UART_IIR_FCR: u->fcr = b & 0xc9; break;
	case UART_LCR: u->lcr = b; break;
	case UART_MCR: u->mcr = b & 0x1f; break;
	case UART_SCR: u->scr = b; break;
	default: break; /* LSR, MSR: read only */
	}
}
