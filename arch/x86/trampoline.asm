; SPDX-License-Identifier: Apache-2.0
; trampoline.asm: secondary CPUs start here in real mode (SIPI), at the
; page smp.c copies this code to (AP_TRAMPOLINE_PA), and reach ap_main().
; C prototype of the data block: struct ap_boot in smp.c.

%define TRAMP_BASE 0x8000
%define REL(x) (TRAMP_BASE + (x) - tramp_start)

global tramp_start
global tramp_end
global tramp_data
extern ap_main

section .rodata
bits 16
tramp_start:
	cli
	cld
	xor ax, ax
	mov ds, ax
	lgdt [REL(tramp_gdtr)]
	mov eax, cr0
	or eax, 1
	mov cr0, eax
	jmp dword 0x18:REL(tramp_pm32)

bits 32
tramp_pm32:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, (1 << 5)                    ; PAE
	mov cr4, eax
	mov eax, [REL(tramp_cr3)]
	mov cr3, eax
	mov ecx, 0xc0000080                 ; EFER.LME
	rdmsr
	or eax, (1 << 8)
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16)       ; PG, WP
	mov cr0, eax
	jmp 0x08:REL(tramp_lm64)

bits 64
tramp_lm64:
	mov rsp, [REL(tramp_stack)]
	mov rax, [REL(tramp_percpu)]
	mov rdx, rax
	shr rdx, 32
	mov ecx, 0xc0000100                 ; FS base -> this CPU's struct percpu
	wrmsr
	mov rdi, [REL(tramp_percpu)]
	xor ebp, ebp
	mov rax, ap_main
	call rax
.hang:
	cli
	hlt
	jmp .hang

align 16
tramp_gdt:
	dq 0
	dq 0x00af9a000000ffff               ; 0x08: 64-bit code
	dq 0x00cf92000000ffff               ; 0x10: data
	dq 0x00cf9a000000ffff               ; 0x18: 32-bit code
tramp_gdtr:
	dw tramp_gdtr - tramp_gdt - 1
	dd REL(tramp_gdt)
align 8
tramp_data:
tramp_cr3:    dq 0
tramp_stack:  dq 0
tramp_percpu: dq 0
tramp_end:
