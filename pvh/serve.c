/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serve.c: pvhv's own life, as the boot bundle sets it.
 *
 * Without serve, pvhv powers off once every domain has ended: the bundle
 * is a batch of work.  With "serve;" on the configuration's root, pvhv is
 * a service: it runs with no domain at all and keeps running when every
 * domain has ended, until it is told to stop, by HOST_STOP from the
 * control domain (pvh/mgmt_svc.c) or by "stop" typed on the host console
 * with the input on pvhv (pvh/console.c).  Either works with or without
 * serve.  A stop ends every running domain as stopped ("pvhv is
 * stopping"), builds no domain created meanwhile, restarts no control
 * domain and lets no domain reboot; once all have ended, the summary and
 * the power-off follow (sched.c).  The domains the stop ended count as
 * ended well for pvhv's exit status: they were told to.
 *
 * The domains are ended from a CPU's service step STOP_GRACE_US after the
 * request, not in the request's exit: the control domain gets the reply
 * to its HOST_STOP first.
 */
#include "pvh/pvh.h"

#define STOP_GRACE_US 100000

static bool serving;
static bool stop_asked;      /* atomic: once set, stays */
static bool stop_done;       /* the domains were told to end (under sched_lock) */
static uint64_t stop_at_us;  /* under sched_lock */

void serve_init(bool serve)
{
	serving = serve;
}

bool serve_serving(void)
{
	return serving;
}

bool serve_stopping(void)
{
	return __atomic_load_n(&stop_asked, __ATOMIC_ACQUIRE);
}

void serve_stop(const char *by)
{
	bool first;

	sched_lock();
	first = !stop_asked;
	if (first) {
		stop_at_us = time_us() + STOP_GRACE_US;
		__atomic_store_n(&stop_asked, true, __ATOMIC_RELEASE);
	}
	sched_unlock();
	if (first)
		kprintf("pvhv: stopping (asked by %s): every domain ends, then pvhv powers off\n", by);
}

bool serve_stop_due(void)
{
	bool due;

	if (!serve_stopping())
		return false;
	sched_lock();
	due = !stop_done && time_us() >= stop_at_us;
	if (due)
		stop_done = true;
	sched_unlock();
	return due;
}
