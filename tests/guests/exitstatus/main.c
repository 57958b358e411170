/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exitstatus: ends the domain with a chosen reason and status.
 *
 * cmdline: status=N (default 0), reason=poweroff|crash|reboot or a number
 * (default poweroff), badreason=1 (first check that shutdown(99, 0) and
 * shutdown(0, 1000) return -PVHV_EINVAL).  Prints "booting" on every boot,
 * so a test can count reboots (memory is fresh each time).
 */
#include "guest.h"

GUEST_NAME("exitstatus");

static uint64_t parse_reason(const char *r)
{
	if (!r || streq(r, "poweroff"))
		return PVHV_SHUTDOWN_POWEROFF;
	if (streq(r, "crash"))
		return PVHV_SHUTDOWN_CRASH;
	if (streq(r, "reboot"))
		return PVHV_SHUTDOWN_REBOOT;
	return strtou64(r, NULL);
}

int main(const struct pvhv_start_info *si)
{
	gprintf("booting\n");

	if (cmdline_u64("badreason", 0)) {
		int64_t rc = hc_shutdown(99, 0);
		check(rc == -PVHV_EINVAL, "shutdown(99, 0) returned %ld", rc);
		rc = hc_shutdown(PVHV_SHUTDOWN_POWEROFF, 1000);
		check(rc == -PVHV_EINVAL, "shutdown(0, 1000) returned %ld", rc);
		if (guest_failures) {
			gprintf("FAIL %s (%u checks failed)\n", guest_name, guest_failures);
			guest_shutdown(PVHV_SHUTDOWN_CRASH, 98);
		}
	}

	uint64_t status = cmdline_u64("status", 0);
	uint64_t reason = parse_reason(cmdline_get("reason"));
	gprintf("exiting with %lu (reason %lu)\n", status, reason);
	if (!guest_have_pvhv)
		guest_shutdown(reason, status);
	int64_t rc = hc_shutdown(reason, status);
	gprintf("shutdown(%lu, %lu) returned %ld\n", reason, status, rc);
	guest_shutdown(PVHV_SHUTDOWN_CRASH, 98);
}
