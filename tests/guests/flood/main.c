/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flood: writes empty console lines as fast as it can, forever; pvhv must
 * keep the host console and its siblings' CPU time safe from it (and can
 * only stop it from outside).
 *
 * cmdline: via=hc (default: console-write hypercalls of 4096 newlines) or
 * via=com1 (newlines into COM1's transmit register, one exit each).
 */
#include "guest.h"

GUEST_NAME("flood");

static char newlines[PVHV_CONSOLE_WRITE_MAX];

int main(const struct pvhv_start_info *si)
{
	const char *via = cmdline_get("via");
	int com1 = streq(via, "com1");

	if (via && !com1 && !streq(via, "hc")) {
		check(0, "via=%s is neither hc nor com1", via);
		finish();
	}
	memset(newlines, '\n', sizeof(newlines));
	gprintf("flooding via %s\n", com1 ? "com1" : "hc");
	if (com1)
		for (;;)
			outb(PVHV_COM1_PORT, '\n');
	for (;;)
		hc_console_write(newlines, sizeof(newlines));
}
