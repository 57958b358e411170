/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uart.c: each domain's 16550 UART at COM1.  What the guest transmits goes
 * to its console (console.c); host console input arrives through
 * uart_receive().  The UART raises GSI 4 (data received, transmitter
 * empty) like the real part.
 */
#include "pvh/pvh.h"
#include "pvhv/abi.h"

/* Register offsets from the base port (DLAB = LCR bit 7 selects DLL/DLM). */
#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS_DSR_DCD 0xb0
#define MCR_LOOP 0x10
#define LCR_DLAB 0x80

static bool irq_wanted(const struct uart *u)
{
	return ((u->ier & IER_RDI) && u->rx_count) || ((u->ier & IER_THRI) && u->thri_pending);
}

/* Called with the UART unlocked: the I/O APIC may deliver to vCPUs. */
static void update_irq(struct domain *dom)
{
	struct uart *u = &dom->uart;
	bool level;

	spin_lock(&u->lock);
	level = irq_wanted(u) && (u->mcr & 0x08); /* OUT2 gates the IRQ on PCs */
	if (level == u->irq_line) {
		spin_unlock(&u->lock);
		return;
	}
	u->irq_line = level;
	spin_unlock(&u->lock);
	irq_set_gsi(dom, PVHV_COM1_GSI, level);
}

static uint8_t read_reg(struct uart *u, uint16_t off)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t b;

	switch (off) {
	case UART_RBR_THR:
		if (dlab)
			return u->dll;
		if (!u->rx_count)
			return 0;
		b = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_RX_FIFO;
		u->rx_count--;
		return b;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		b = (u->fcr & 1) ? IIR_FIFO : 0;
		if ((u->ier & IER_RDI) && u->rx_count)
			return b | IIR_RDI;
		if ((u->ier & IER_THRI) && u->thri_pending) {
			u->thri_pending = false; /* reading IIR acknowledges THRE */
			return b | IIR_THRI;
		}
		return b | IIR_NONE;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case UART_MSR:
		return (u->mcr & MCR_LOOP) ? (uint8_t)((u->mcr & 0x0f) << 4) : MSR_CTS_DSR_DCD;
	default:
		return u->scr;
	}
}

static void write_reg(struct domain *dom, uint16_t off, uint8_t b)
{
	struct uart *u = &dom->uart;
	bool dlab = u->lcr & LCR_DLAB;

	switch (off) {
	case UART_RBR_THR:
		if (dlab) {
			u->dll = b;
		} else {
			console_feed(dom, CONBUF_SERIAL, (const char *)&b, 1);
			u->thri_pending = true; /* sent at once: the holding register is empty again */
		}
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = b;
		} else {
			if ((b & IER_THRI) && !(u->ier & IER_THRI))
				u->thri_pending = true;
			u->ier = b & 0x0f;
		}
		break;
	case UART_IIR_FCR:
		u->fcr = b & 0xc9;
		if (b & 0x02) /* clear the receive FIFO */
			u->rx_count = 0;
		break;
	case UART_LCR:
		u->lcr = b;
		break;
	case UART_MCR:
		u->mcr = b & 0x1f;
		break;
	case UART_SCR:
		u->scr = b;
		break;
	default:
		break; /* LSR, MSR: read only */
	}
}

void uart_io(struct domain *dom, uint16_t off, bool in, uint8_t size, uint32_t *val)
{
	spin_lock(&dom->uart.lock);
	if (in) {
		uint8_t b = read_reg(&dom->uart, off);

		/* Wider reads see the register in the low byte and all-ones above. */
		*val = (size == 1) ? b : (0xffffff00u | b);
	} else {
		write_reg(dom, off, (uint8_t)*val);
	}
	spin_unlock(&dom->uart.lock);
	update_irq(dom);
}

void uart_receive(struct domain *dom, uint8_t byte)
{
	struct uart *u = &dom->uart;

	spin_lock(&u->lock);
	if (u->rx_count < UART_RX_FIFO) {
		u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = byte;
		u->rx_count++;
	}
	spin_unlock(&u->lock);
	update_irq(dom);
}

int uart_receive_buf(struct domain *dom, const char *buf, size_t n)
{
	struct uart *u = &dom->uart;
	size_t took = 0;

	spin_lock(&u->lock);
	if (!(u->ier & IER_RDI)) {
		spin_unlock(&u->lock);
		return -EPIPE;
	}
	for (; took < n && u->rx_count < UART_RX_FIFO; took++) {
		u->rx[(u->rx_head + u->rx_count) % UART_RX_FIFO] = (uint8_t)buf[took];
		u->rx_count++;
	}
	spin_unlock(&u->lock);
	update_irq(dom);
	return (int)took;
}
