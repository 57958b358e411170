/* SPDX-License-Identifier: Apache-2.0 */
/* main.c: reads the configuration, builds every domain it names, and starts them. */
#include "pvh/pvh.h"

static struct pvh_config cfg;
uint64_t mem_free_boot_pages;

NORETURN void pvh_main(void)
{
	char err[192];
	size_t len;
	const void *fdt;
	unsigned started = 0;

	if (bundle_open(err, sizeof(err))) {
		kprintf("pvhv: bundle: %s\n", err);
		machine_poweroff(PVHV_EXIT_NO_DOMAIN);
	}
	fdt = bundle_config(&len);
	if (config_parse(fdt, len, &cfg, err, sizeof(err))) {
		kprintf("pvhv: bundle: configuration: %s\n", err);
		machine_poweroff(PVHV_EXIT_NO_DOMAIN);
	}
	nr_domains = cfg.nr_domains;
	mem_free_boot_pages = mem_free_pages(); /* before any domain: the summary compares */
	for (unsigned i = 0; i < nr_domains; i++) {
		struct domain *d = &domains[i];

		d->id = i;
		d->gen = 1;
		d->cfg = &cfg.dom[i];
		snprintf(d->name, sizeof(d->name), "%s", cfg.dom[i].name);
		if (domain_build(d)) {
			devices_release(d);
			kprintf("pvhv: dom %s not started: %s\n", d->name, d->reason);
			d->state = DOM_ENDED;
			d->end = END_NOT_STARTED;
			continue;
		}
		kprintf("pvhv: dom %s: %lu MiB RAM, %u vcpu%s, %lu KiB overhead\n", d->name,
			d->ram_size >> 20, d->nr_vcpus, d->nr_vcpus == 1 ? "" : "s",
			d->overhead_bytes >> 10);
		started++;
	}
	if (!started) {
		kprintf("pvhv: no domain could be started\n");
		summary_and_poweroff();
	}
	sched_start();
	sched_cpu_loop();
}
