/* SPDX-License-Identifier: Apache-2.0 */
/*
 * start_info.h: the PVH boot structures (Xen's hvm_start_info, version 1).
 *
 * At entry a PVH guest finds EBX = guest-physical address of struct
 * pvhv_start_info, in 32-bit protected mode with paging off (see the
 * PVH ABI).  All fields are OUT.  Address 0 means "absent".
 */
#ifndef PVHV_GUEST_ABI_START_INFO_H
#define PVHV_GUEST_ABI_START_INFO_H

#include <stdint.h>

#define PVHV_START_MAGIC 0x336ec578u
#define PVHV_START_VERSION 1

/* ELF note (name "Xen", type 18) giving the 32-bit physical entry point. */
#define PVHV_ELFNOTE_PHYS32_ENTRY 18

struct pvhv_start_info {
	uint32_t magic;          /* PVHV_START_MAGIC */
	uint32_t version;        /* 1 */
	uint32_t flags;          /* 0 */
	uint32_t nr_modules;     /* entries at modlist_paddr */
	uint64_t modlist_paddr;  /* struct pvhv_modlist_entry[nr_modules] */
	uint64_t cmdline_paddr;  /* NUL-terminated command line */
	uint64_t rsdp_paddr;     /* ACPI RSDP, 0 if none */
	uint64_t memmap_paddr;   /* struct pvhv_memmap_entry[memmap_entries] */
	uint32_t memmap_entries;
	uint32_t reserved;       /* 0 */
};

struct pvhv_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct pvhv_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;           /* PVHV_MEMMAP_* */
	uint32_t reserved;
};

#define PVHV_MEMMAP_RAM 1
#define PVHV_MEMMAP_RESERVED 2
#define PVHV_MEMMAP_ACPI 3
#define PVHV_MEMMAP_NVS 4
#define PVHV_MEMMAP_UNUSABLE 5

#endif
