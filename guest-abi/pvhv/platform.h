/* SPDX-License-Identifier: Apache-2.0 */
/*
 * platform.h: what a pvhv domain's guest-physical space looks like.
 *
 * RAM starts at 0 and is contiguous up to the configured size (a multiple
 * of 2 MiB).  pvhv puts the boot structures in low memory at
 * PVHV_BOOTINFO_GPA (reported as reserved in the memory map), the kernel
 * where its ELF program headers say, and the initrd page-aligned at the top
 * of RAM below 4 GiB.  Everything outside RAM is unmapped: an access there
 * stops the domain.  Ports: a 16550 UART at PVHV_COM1_PORT; every other
 * port reads all-ones and ignores writes.
 */
#ifndef PVHV_GUEST_ABI_PLATFORM_H
#define PVHV_GUEST_ABI_PLATFORM_H

#define PVHV_BOOTINFO_GPA 0x6000u
#define PVHV_BOOTINFO_SIZE 0x2000u /* start_info, modlist, memmap, cmdline */
#define PVHV_CMDLINE_MAX 2048u
#define PVHV_RAM_ALIGN (2u << 20)
#define PVHV_COM1_PORT 0x3f8u

#endif
