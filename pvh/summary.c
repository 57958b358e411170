/* SPDX-License-Identifier: Apache-2.0 */
/* summary.c: the report printed when every domain has ended (or pvhv stops), and pvhv's exit status. */
#include "pvh/pvh.h"
#include "pvh/share.h"
#include "pvh/msi.h"

static void print_domain(const struct domain *d)
{
	char buf[384];
	int n;

	n = snprintf(buf, sizeof(buf), "pvhv: summary dom=%s end=%s status=%u runtime_us=%lu cpu_us=%lu",
		     d->name, domain_end_name(d->end), d->exit_status,
		     d->end_us > d->born_us ? d->end_us - d->born_us : 0, tsc_to_us(d->cpu_tsc));
	/* Like the exit counts, only when there is something to count. */
	if (d->console.ready && d->console.buf.dropped)
		n += snprintf(buf + n, sizeof(buf) - n, " console_dropped=%lu", d->console.buf.dropped);
	if (d->cfg->nr_disks && n > 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - n, " overlay_peak_kib=%lu", d->overlay_peak * 4);
	if (d->cfg->cpu_share != SHARE_DEFAULT && n > 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - n, " cpu_share=%u", d->cfg->cpu_share);
	if (d->vsock_refused && n > 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - n, " vsock_refused=%lu", d->vsock_refused);
	if (n > 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - n, " exits=%lu", d->exits_total);
	for (unsigned r = 0; r < EXIT_NR && n > 0 && (size_t)n < sizeof(buf); r++)
		if (d->exits[r])
			n += snprintf(buf + n, sizeof(buf) - n, " %s=%lu", exit_reason_name(r), d->exits[r]);
	kprintf("%s\n", buf);
	devices_net_summary(d);
	if (d->end == END_STOPPED || d->end == END_NOT_STARTED || d->end == END_CRASH) {
		if (d->reason[0])
			kprintf("pvhv: summary dom=%s reason: %s\n", d->name, d->reason);
		/* What the guest wrote last, printed or dropped. */
		for (uint32_t i = 0; d->console.ready && i < d->console.buf.nkeep; i++)
			kprintf("pvhv: summary dom=%s last: %s\n", d->name, conbuf_kept(&d->console.buf, i));
	}
}

/*
 * The domains and pvhv's own memory for them: how many lived at once at
 * most, and the largest and the mean overhead (memory beyond guest RAM
 * and overlays: the slot, vCPU state, stage-2 tables, device state) of
 * those that were built.
 */
static void print_domains_bench(void)
{
	unsigned built = 0;
	uint64_t max = 0, sum = 0;

	for (unsigned i = 0; i < nr_domains; i++) {
		const struct domain *d = dom_at(i);

		if (!d->overhead_bytes)
			continue;
		built++;
		max = MAX(max, d->overhead_bytes);
		sum += d->overhead_bytes;
	}
	kprintf("pvhv: bench domains=%u slots=%u capacity=%u live_peak=%u overhead_bytes_max=%lu "
		"overhead_bytes_mean=%lu\n", built, nr_domains, domain_table_capacity(), sched_live_peak(),
		max, built ? sum / built : 0);
}

NORETURN void summary_and_poweroff(void)
{
	unsigned status = PVHV_EXIT_OK;
	unsigned ran = 0;
	uint64_t table;

	/* Every line the domains wrote comes before the summary, and nothing is queued any more. */
	console_drain_all();
	kprintf("pvhv: summary\n");
	for (unsigned i = 0; i < nr_domains; i++) {
		const struct domain *d = dom_at(i);

		print_domain(d);
		if (d->end != END_NOT_STARTED)
			ran++;
		/*
		 * The exit status is the boot bundle's result: a domain made at run
		 * time (whose slot another may have reused since) reports its end
		 * to the control domain through the event log instead.
		 */
		if (d->cfg != &d->runtime_cfg && (d->end != END_POWEROFF || d->exit_status != 0) &&
		    !(d->end == END_STOPPED && d->host_stopped))   /* ended by the host stop: as told */
			status = PVHV_EXIT_DOMAIN_FAILED;
	}
	{
		uint64_t nmis = 0;

		for (unsigned i = 0; i < nr_cpus; i++)
			nmis += cpus[i].nmis;
		if (nmis)
			kprintf("pvhv: host nmis=%lu (counted and survived)\n", nmis);
		if (msi_unrouted())
			kprintf("pvhv: host device interrupts unrouted=%lu (counted and dropped)\n", msi_unrouted());
		for (unsigned i = 0; i < nr_cpus; i++)
			kprintf("pvhv: bench cpu=%u stack_used_bytes=%lu\n", i, stack_used(&cpus[i]));
	}
	if (first_guest_entry_tsc)
		kprintf("pvhv: bench entry_to_first_guest_us=%lu\n",
			tsc_to_us(first_guest_entry_tsc - boot_tsc));
	for (unsigned i = 0; i < nr_domains; i++)
		if (dom_at(i)->end != END_NOT_STARTED) {
			const struct domain *d = dom_at(i);

			kprintf("pvhv: bench dom=%s ram_bytes=%lu overhead_bytes=%lu\n", d->name,
				d->ram_size, d->overhead_bytes);
			/* pvhv's own work to build it (TSC), and the RAM it ever touched. */
			kprintf("pvhv: bench dom=%s build_us=%lu rebuild_us_max=%lu reboots=%u "
				"ram_touched_peak_kib=%lu\n", d->name, d->build_us, d->rebuild_us_max,
				d->reboots, d->populated_peak * (LARGE_PAGE_SIZE >> 10));
			/* Its RAM from the kernel and initrd: shared pages, copies at first touch and at writes. */
			kprintf("pvhv: bench dom=%s image_chunks shared=%lu copied_at_touch=%lu "
				"copied_at_write=%lu cow_faults=%lu cow_us=%lu\n", d->name, d->img_shared,
				d->img_copied, d->img_unshared, d->exits[EXIT_COW], tsc_to_us(d->cow_tsc));
		}
	print_domains_bench();
	/*
	 * Every domain is gone: what they took must all be back (tests compare
	 * the two), but for the domain table's growth since boot, which stays
	 * for pvhv's life: slots made at run time and the creator's list.
	 */
	table = sched_table_growth_pages();
	kprintf("pvhv: bench mem_table_kib=%lu end_plus_table=%lu\n", table * 4,
		(mem_free_pages() + table) * 4);
	kprintf("pvhv: bench mem_free_kib boot=%lu end=%lu\n", mem_free_boot_pages * 4,
		mem_free_pages() * 4);
	if (!ran && !serve_serving())   /* a service may have been asked to stop before any domain ran */
		status = PVHV_EXIT_NO_DOMAIN;
	machine_poweroff(status);
}
