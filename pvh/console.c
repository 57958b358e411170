/* SPDX-License-Identifier: Apache-2.0 */
/*
 * console.c: every domain's console and the host console they share.
 *
 * A domain's output (COM1, the console hypercall) goes into its conbuf
 * (conbuf.h) under a rate limit, and waits there: pvhv never writes to the
 * host UART in a guest's exit handler.  One writer, console_drain() from
 * the scheduler's housekeeping on whichever CPU gets there first, takes up
 * to MOVE_BATCH bytes of lines from each domain in turn and queues them as
 * "[name] text" for the host UART, never more than CONSOLE_QUEUE_GUEST
 * bytes ahead of pvhv's own messages.  Each call writes at most DRAIN_BYTES
 * for at most DRAIN_US, and calls are spaced so that the writer takes at
 * most DRAIN_DUTY percent of one CPU: where a port write is slow (an
 * emulator, a nested VM) the host console gets slower, the guests do not.
 * Lines the writer cannot take in time pile up in the conbuf, which then
 * drops (and counts) what does not fit.
 *
 * The rate limit, per domain, in bytes of host console output ("[name] ",
 * text and line end): 4 KiB/s sustained with a 32 KiB burst.  A Linux boot
 * that prints its whole dmesg again at the end (about 20 KiB) fits in the
 * burst; a guest printing without pause gets 4 KiB/s.
 *
 * Input typed on the host console goes to the focused domain, and Ctrl-]
 * moves the focus to the next running domain.  When pvhv serves
 * (serve.c), pvhv itself is one more stop of that round, after the last
 * domain, and has the focus whenever no domain runs: a line typed there
 * is a command to pvhv, "stop" the only one (any other gets a line of help).
 */
#include "pvh/pvh.h"
#include "arch/x86/x86.h"

#define CONSOLE_RATE 4096
#define CONSOLE_BURST 32768
#define CONSOLE_QUEUE_GUEST 1024
/* A domain ending may fill the host queue this far, leaving pvhv 4 KiB of its 16. */
#define CONSOLE_QUEUE_END 12288
#define DRAIN_BYTES 1024
#define DRAIN_US 500
#define DRAIN_DUTY 5 /* percent of one CPU, at most, while guests have lines waiting */
#define MOVE_BATCH 512 /* bytes of one domain's lines moved at a time */

#define FOCUS_KEY 0x1d /* Ctrl-] */

static unsigned focus;
static bool focus_pvhv;      /* input goes to pvhv's own command line (serve only) */
static char cmd_line[32];    /* pvhv's command line as typed so far */
static unsigned cmd_len;
static bool cmd_long;        /* more was typed than it holds: not a command */
static bool writer_started;
static bool draining;   /* one CPU moves lines at a time: a line is printed once */
static unsigned drain_next;
static uint64_t drain_after; /* TSC before which console_drain() does nothing */

/* The conbuf, set up at the first use (its cost per line depends on the name). */
static struct conbuf *buf_locked(struct domain *dom)
{
	struct console *c = &dom->console;

	if (!c->ready) {
		conbuf_init(&c->buf, CONSOLE_RATE, CONSOLE_BURST,
			    (uint32_t)strnlen(dom->name, sizeof(dom->name)) + 5 /* "[] " CR LF */,
			    time_us());
		c->ready = true;
	}
	return &c->buf;
}

void console_feed(struct domain *dom, enum conbuf_source src, const char *s, size_t n)
{
	spin_lock(&dom->console.lock);
	conbuf_feed(buf_locked(dom), src, s, n, time_us());
	dom->console.bytes += n;
	spin_unlock(&dom->console.lock);
}

static bool drain_begin(bool wait)
{
	while (__atomic_exchange_n(&draining, true, __ATOMIC_ACQUIRE)) {
		if (!wait)
			return false;
		cpu_relax();
	}
	return true;
}

static void drain_end(void)
{
	__atomic_store_n(&draining, false, __ATOMIC_RELEASE);
}

/*
 * Queues dom's oldest waiting lines for the host console, up to about max
 * bytes, while the queue then holds at most limit bytes.  Several lines
 * per lock: a guest writing without pause holds its lock most of the time.
 * With !wait a domain whose lock is taken is skipped: the writer must not
 * wait on a guest (its vCPU may be stopped with the lock held, in a nested
 * setup).  Only under drain_begin().  Returns the bytes queued.
 */
static size_t move_lines(struct domain *dom, size_t limit, size_t max, bool wait)
{
	char text[CONBUF_LINE_MAX + 1];
	char out[CONFIG_NAME_MAX + CONBUF_LINE_MAX + 8];
	size_t moved = 0;
	int n, len;

	if (!wait && !dom->console.ready)
		return 0;
	if (wait)
		spin_lock(&dom->console.lock);
	else if (!spin_trylock(&dom->console.lock))
		return 0;
	while (moved < max && dom->console.ready && (n = conbuf_peek(&dom->console.buf, text)) >= 0) {
		len = snprintf(out, sizeof(out), "[%s]%s%s\n", dom->name, n ? " " : "", text);
		len = MIN(len, (int)sizeof(out) - 1);
		if (len <= 0 || !serial_queue(out, (size_t)len, limit))
			break;
		conbuf_pop(&dom->console.buf);
		moved += (size_t)len;
	}
	spin_unlock(&dom->console.lock);
	return moved;
}

/* A batch of lines of each domain that has some, starting one further each time. */
static bool move_round(size_t limit)
{
	bool moved = false;

	for (unsigned k = 0; k < nr_domains; k++)
		moved |= move_lines(dom_at((drain_next + k) % nr_domains), limit, MOVE_BATCH, false) != 0;
	drain_next = (drain_next + 1) % nr_domains;
	return moved;
}

void console_drain(void)
{
	uint64_t start = rdtsc(), deadline, end;
	size_t budget = DRAIN_BYTES;

	if (!nr_domains || (int64_t)(start - drain_after) < 0 || !drain_begin(false))
		return;
	if (!writer_started) {
		/* From now on pvhv's own lines are written here too, not waited for. */
		serial_set_async(true);
		writer_started = true;
	}
	deadline = start + DRAIN_US * tsc_khz() / 1000;
	while (budget) {
		size_t n;

		while (serial_queued() < CONSOLE_QUEUE_GUEST && move_round(CONSOLE_QUEUE_GUEST))
			;
		n = serial_pump(budget, deadline);
		budget -= n;
		/* Nothing to write, the UART is full, or time is up. */
		if (!n || (int64_t)(rdtsc() - deadline) >= 0)
			break;
	}
	/* Time spent here is taken from some guest: rest long enough to keep to DRAIN_DUTY. */
	end = rdtsc();
	drain_after = end + (end - start) * (100 / DRAIN_DUTY - 1);
	drain_end();
}

void console_flush(struct domain *dom)
{
	spin_lock(&dom->console.lock);
	conbuf_flush(buf_locked(dom), time_us());
	spin_unlock(&dom->console.lock);
	/*
	 * Its lines go ahead of the end message printed next: queued, not
	 * written.  The queue takes all a conbuf can hold, unless several
	 * domains end at once; then the rest comes later.
	 */
	drain_begin(true);
	move_lines(dom, CONSOLE_QUEUE_END, SIZE_MAX, true);
	drain_end();
}

void console_drain_all(void)
{
	bool moved;

	drain_begin(true);
	do {
		moved = false;
		for (unsigned i = 0; i < nr_domains; i++) {
			struct domain *d = dom_at(i);

			if (d->console.ready) {
				spin_lock(&d->console.lock);
				conbuf_flush(&d->console.buf, time_us());
				spin_unlock(&d->console.lock);
			}
			moved |= move_lines(d, CONSOLE_QUEUE_END, SIZE_MAX, true) != 0;
		}
		serial_set_async(false); /* writes the queue out, waiting for the UART */
	} while (moved);
	drain_end();
}

/*
 * The round: domains 0 .. n-1, then pvhv (position n) when it serves.
 * Only running domains take the focus; with none, a service's pvhv does.
 */
static void move_focus(void)
{
	unsigned n = nr_domains, stops = n + serve_serving();
	unsigned at = focus_pvhv ? n : focus;

	for (unsigned i = 1; i <= stops; i++) {
		unsigned next = (at + i) % stops;

		if (next == n) {
			focus_pvhv = true;
			cmd_len = 0;
			cmd_long = false;
			kprintf("pvhv: console input goes to pvhv: type \"stop\" to stop it (Ctrl-] switches)\n");
			return;
		}
		if (dom_at(next)->state == DOM_RUNNING) {
			focus = next;
			focus_pvhv = false;
			kprintf("pvhv: console input goes to dom %s (Ctrl-] switches)\n", dom_at(next)->name);
			return;
		}
	}
}

/* A key for pvhv's command line: printable ASCII up to a line end, Backspace and DEL erase. */
static void pvhv_input(int c)
{
	if (c == '\r' || c == '\n') {
		cmd_line[cmd_len] = 0;
		if (cmd_len && !cmd_long && !strcmp(cmd_line, "stop"))
			serve_stop("the host console");
		else if (cmd_len || cmd_long)
			kprintf("pvhv: console: \"%s%s\" is not a command: type \"stop\" to stop pvhv and every "
				"domain; Ctrl-] moves the input to a domain\n", cmd_line, cmd_long ? "..." : "");
		cmd_len = 0;
		cmd_long = false;
	} else if (c == 0x7f || c == 0x08) {
		if (cmd_len)
			cmd_len--;
	} else if (c >= 0x20 && c < 0x7f) {
		if (cmd_len < sizeof(cmd_line) - 1)
			cmd_line[cmd_len++] = (char)c;
		else
			cmd_long = true;
	}
}

void console_poll_input(void)
{
	int c;

	if (this_cpu()->index != 0 || (!nr_domains && !serve_serving()))
		return;
	while ((c = serial_getc()) >= 0) {
		if (c == FOCUS_KEY ||
		    (!focus_pvhv && (!nr_domains || dom_at(focus)->state != DOM_RUNNING))) {
			move_focus();
			if (c == FOCUS_KEY)
				continue;
		}
		if (focus_pvhv) {
			pvhv_input(c);
			continue;
		}
		if (!nr_domains)
			continue;   /* not serving: no domain to give it to */
		/* The reference keeps its vCPUs alive while the I/O APIC delivers to them. */
		if (dom_get(dom_at(focus))) {
			char ch = (char)c;

			/* Its virtio console once the driver runs, else COM1. */
			if (!devices_console_input(dom_at(focus), &ch, 1))
				uart_receive(dom_at(focus), (uint8_t)c);
			dom_put(dom_at(focus));
		}
	}
}
