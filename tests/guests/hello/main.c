/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hello: greets over COM1 and the console hypercall, checks start_info.
 *
 * cmdline: name=STR (default "hello"), mem=MIB (domain size, checks the
 * memmap RAM total against it when given), hold=1 (once every check
 * passed: prints "holding" and halts instead of powering off, with
 * interrupts on but none set up, so the domain stays, costing no CPU,
 * until its time limit: many domains alive at once; it prints only its
 * greeting, failures and that line: each byte is an exit).
 */
#include "guest.h"

GUEST_NAME("hello");

static void dump_memmap(const struct pvhv_start_info *si)
{
	const struct pvhv_memmap_entry *m = (const void *)(uintptr_t)si->memmap_paddr;

	for (uint32_t i = 0; i < si->memmap_entries && i < 64; i++)
		gprintf("memmap %u: 0x%016lx-0x%016lx type %u\n", i, m[i].addr,
			m[i].addr + m[i].size, m[i].type);
}

/* Is gpa covered by a memmap entry that is not RAM? */
static int reserved_in_memmap(const struct pvhv_start_info *si, uint64_t gpa)
{
	const struct pvhv_memmap_entry *m = (const void *)(uintptr_t)si->memmap_paddr;

	for (uint32_t i = 0; i < si->memmap_entries; i++)
		if (gpa >= m[i].addr && gpa - m[i].addr < m[i].size)
			return m[i].type != PVHV_MEMMAP_RAM;
	return 0;
}

int main(const struct pvhv_start_info *si)
{
	const char *name = cmdline_get("name");
	static char line[128];

	if (!name || !*name)
		name = "hello";
	guest_quiet = cmdline_u64("hold", 0) != 0;
	gprintf("hello from %s\n", name);
	int n = gsnprintf(line, sizeof(line), "hello from %s via console hypercall\n", name);
	int64_t rc = hc_console_write(line, (uint64_t)n);
	check(rc == n, "console write of %d bytes returned %ld", n, rc);

	if (!guest_quiet)
		gprintf("start_info at %p, cmdline \"%s\"\n", (const void *)si, cmdline());
	check(si->magic == PVHV_START_MAGIC, "start_info magic 0x%x", si->magic);
	check(si->version == PVHV_START_VERSION, "start_info version %u", si->version);
	int have_map = check(si->version >= 1 && si->memmap_entries > 0 && si->memmap_paddr,
			     "memmap has %u entries at 0x%lx", si->memmap_entries,
			     si->memmap_paddr);
	if (have_map && !guest_quiet)
		dump_memmap(si);

	uint64_t total = ram_total();
	uint64_t mem_mib = cmdline_u64("mem", 0);
	if (have_map && mem_mib) {
		uint64_t want = mem_mib << 20;
		/* Boot structures and the like may be reserved: allow 2 MiB. */
		check(total <= want && total + (2u << 20) >= want,
		      "memmap RAM 0x%lx bytes close to mem=%lu MiB", total, mem_mib);
		check(ram_top() <= want, "memmap RAM ends at 0x%lx, within %lu MiB", ram_top(),
		      mem_mib);
	} else if (!guest_quiet) {
		gprintf("memmap RAM 0x%lx bytes (no mem= to compare)\n", total);
	}

	if (guest_have_pvhv) {
		/* platform.h: boot structures at PVHV_BOOTINFO_GPA, reserved in the memmap. */
		uint64_t si_gpa = (uintptr_t)si;
		check(si_gpa >= PVHV_BOOTINFO_GPA &&
			      si_gpa + sizeof(*si) <= PVHV_BOOTINFO_GPA + PVHV_BOOTINFO_SIZE,
		      "start_info 0x%lx inside the boot info area", si_gpa);
		if (have_map)
			check(reserved_in_memmap(si, si_gpa),
			      "start_info 0x%lx is reserved in the memmap", si_gpa);
	}

	int64_t v = hc_version();
	check(v == PVHV_ABI_VERSION, "hypercall version 0x%lx == 0x%x", v, PVHV_ABI_VERSION);
	if (cmdline_u64("hold", 0) && !guest_failures) {
		gprintf("holding (%u checks passed)\n", guest_checks);
		for (;;)
			__asm__ volatile("sti; hlt");
	}
	finish();
}
