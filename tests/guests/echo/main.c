/* SPDX-License-Identifier: Apache-2.0 */
/*
 * echo: reads lines from its COM1 (host console input, when this domain has
 * the focus) by polling LSR, and prints each one back as "got: LINE".  The
 * line "quit" ends it with "PASS echo" and status 0.
 *
 * A line ends at CR or LF; CR LF counts as one end, empty lines are ignored
 * (so "text\r", "text\n" and "text\r\n" all give one output line).  Control
 * characters other than tab are dropped; a line longer than the buffer is
 * echoed in pieces.
 *
 * cmdline: name=STR (default "echo"; only printed), idle=N gives up after N
 * polls in a row found nothing ("FAIL echo (no input)", status 1; default 0:
 * wait forever and rely on the domain's max-runtime-ms).  Between empty
 * polls the guest yields its time slice, so idle domains cost little.
 *
 * Prints "echo NAME ready" first: the harness types only after seeing it.
 */
#include "guest.h"

GUEST_NAME("echo");

#define COM1_RBR (PVHV_COM1_PORT + 0)
#define COM1_LSR (PVHV_COM1_PORT + 5)
#define LSR_DR 0x01

static char line[256];
static size_t len;
static unsigned lines_seen;

/* One complete line in line[0..len): echo it, or end on "quit". */
static void got_line(void)
{
	line[len] = 0;
	len = 0;
	lines_seen++;
	gprintf("got: %s\n", line);
	if (streq(line, "quit")) {
		gprintf("quit after %u lines\n", lines_seen);
		finish();
	}
}

int main(const struct pvhv_start_info *si)
{
	const char *name = cmdline_get("name");
	uint64_t idle_limit = cmdline_u64("idle", 0);
	uint64_t idle = 0;
	int prev_cr = 0;

	(void)si;
	if (!name || !*name)
		name = "echo";
	gprintf("echo %s ready\n", name);
	for (;;) {
		if (!(inb(COM1_LSR) & LSR_DR)) {
			if (idle_limit && ++idle >= idle_limit) {
				gprintf("FAIL echo (no input after %lu polls)\n", idle);
				guest_shutdown(PVHV_SHUTDOWN_POWEROFF, 1);
			}
			if (guest_have_pvhv)
				hc_yield();
			else
				cpu_relax();
			continue;
		}
		idle = 0;
		char c = (char)inb(COM1_RBR);
		if (c == '\r' || c == '\n') {
			int pair = c == '\n' && prev_cr;

			prev_cr = c == '\r';
			if (!pair && len)
				got_line();
			continue;
		}
		prev_cr = 0;
		if ((unsigned char)c < 0x20 && c != '\t')
			continue;
		line[len++] = c;
		if (len == sizeof(line) - 1)
			got_line();
	}
}
