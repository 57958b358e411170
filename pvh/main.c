/* SPDX-License-Identifier: Apache-2.0 */
/* main.c: reads the configuration, builds every domain it names, and starts them (or serves with none). */
#include "pvh/pvh.h"

static struct pvh_config cfg;
uint64_t mem_free_boot_pages;
unsigned mem_boot_slots;

/*
 * The boot configuration and a slot for each of its domains, from the
 * host allocator: as many domains as host memory allows.  0, or -errno
 * with err set.
 */
static int boot_config(const void *fdt, size_t len, char *err, size_t errlen)
{
	unsigned count, cap = domain_table_capacity();
	hpa_t pa;
	int rc;

	rc = config_count_domains(fdt, len, &count, err, errlen);
	if (rc)
		return rc;
	if (count > cap)
		return errorf(-ENOMEM, err, errlen,
			      "%u domains, host memory allows at most %u (%u MiB of RAM each at least)", count,
			      cap, CONFIG_MEM_MIN_MIB);
	/* A serving bundle may name no domain: one entry all the same, never read. */
	if (page_alloc(pages_for(MAX(count, 1u) * sizeof(*cfg.dom)), 1, &pa))
		return errorf(-ENOMEM, err, errlen, "no memory for the configuration of %u domains", count);
	cfg.dom = hpa_to_ptr(pa);
	rc = config_parse(fdt, len, &cfg, count, err, errlen);
	if (rc)
		return rc;
	serve_init(cfg.serve);
	for (unsigned i = 0; i < cfg.nr_domains; i++) {
		struct domain *d;

		if (domain_slot_alloc(&d))
			return errorf(-ENOMEM, err, errlen, "no memory for domain %u of %u (%lu KiB each)", i + 1,
				      count, domain_slot_pages() * PAGE_SIZE >> 10);
		d->gen = 1;
		d->cfg = &cfg.dom[i];
		snprintf(d->name, sizeof(d->name), "%s", cfg.dom[i].name);
		domain_slot_publish_locked(d); /* no other CPU walks the table yet */
	}
	if (devices_boot_init(&cfg))
		return errorf(-ENOMEM, err, errlen, "no memory for the vsock and network ports of %u domains",
			      count);
	return 0;
}

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
	if (domain_table_init(err, sizeof(err)) || boot_config(fdt, len, err, sizeof(err))) {
		kprintf("pvhv: bundle: configuration: %s\n", err);
		machine_poweroff(PVHV_EXIT_NO_DOMAIN);
	}
	mem_free_boot_pages = mem_free_pages(); /* before any domain is built: the summary compares */
	mem_boot_slots = nr_domains;
	for (unsigned i = 0; i < nr_domains; i++) {
		struct domain *d = dom_at(i);

		if (domain_build(d)) {
			domain_release(d);
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
	if (serve_serving())
		kprintf("pvhv: serving with %u domain%s running: it runs until told to stop (\"stop\" on the host "
			"console, or pvhctl host stop)\n", started, started == 1 ? "" : "s");
	else if (!started) {
		kprintf("pvhv: no domain could be started\n");
		summary_and_poweroff();
	}
	sched_start();
	sched_cpu_loop();
}
