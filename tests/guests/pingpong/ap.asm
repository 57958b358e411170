; SPDX-License-Identifier: Apache-2.0
; ap.asm: the pingpong guest's second vCPU, from INIT-SIPI real mode to
; long mode on the boot vCPU's page tables, and the IPI handlers.
;
; ap_tramp..ap_tramp_end is copied below 1 MiB (the SIPI vector's page) and
; runs there with CS.base at that page; everything after it runs in place.

bits 16

GDT_CODE64 equ 0x08
GDT_DATA   equ 0x10
GDT_CODE32 equ 0x18
CR4_PAE_SSE equ (1 << 5) | (1 << 9) | (1 << 10)
CR0_LONG equ (1 << 31) | (1 << 16) | (1 << 5) | (1 << 4) | (1 << 1) | 1
MSR_EFER equ 0xc0000080
EFER_LME equ 1 << 8
MSR_X2APIC_EOI equ 0x80b

extern guest_pml4, guest_idt, ap_main, ipi_seen, shadow_hits

global ap_tramp, ap_tramp_end, ipi_isr_bsp, ipi_isr_ap, ipi_isr_tick

section .text
ap_tramp:
	cli
	o32 lgdt [cs:ap_gdtr - ap_tramp]
	mov eax, cr0
	or eax, 1
	mov cr0, eax
	jmp dword GDT_CODE32:ap32
align 8
ap_gdtr:
	dw ap_gdt_end - ap_gdt - 1
	dd ap_gdt
ap_tramp_end:

bits 32
ap32:
	mov eax, GDT_DATA
	mov ds, eax
	mov es, eax
	mov ss, eax
	mov eax, CR4_PAE_SSE
	mov cr4, eax
	mov eax, guest_pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, CR0_LONG
	mov cr0, eax
	jmp GDT_CODE64:ap64

bits 64
ap64:
	mov eax, GDT_DATA
	mov ds, eax
	mov es, eax
	mov ss, eax
	mov fs, eax
	mov gs, eax
	mov rsp, ap_stack_top
	fninit
	lidt [rel ap_idtr]
	call ap_main
.halt:
	cli
	hlt
	jmp .halt

; Each handler counts its interrupt in ipi_seen[n] and ends it (x2APIC EOI).
; An interrupt that returns to the HLT of "sti; hlt" was taken inside the
; STI shadow, which no CPU does: that HLT then sleeps past the wake-up
; this interrupt was.  Counted in shadow_hits.
%macro IPI_ISR 2
%1:
	push rax
	push rcx
	push rdx
	mov rax, [rsp + 24]             ; the interrupted RIP
	cmp byte [rax], 0xf4            ; hlt
	jne %%counted
	cmp byte [rax - 1], 0xfb        ; sti
	jne %%counted
	lock inc qword [rel shadow_hits]
%%counted:
	lock inc qword [rel ipi_seen + %2 * 8]
	mov ecx, MSR_X2APIC_EOI
	xor eax, eax
	xor edx, edx
	wrmsr
	pop rdx
	pop rcx
	pop rax
	iretq
%endmacro

IPI_ISR ipi_isr_bsp, 0
IPI_ISR ipi_isr_ap, 1
IPI_ISR ipi_isr_tick, 2

section .data
align 16
ap_gdt:
	dq 0
	dq 0x00af9a000000ffff   ; 0x08 64-bit code
	dq 0x00cf92000000ffff   ; 0x10 flat data
	dq 0x00cf9a000000ffff   ; 0x18 flat 32-bit code
ap_gdt_end:
align 8
	dw 0, 0, 0
ap_idtr:
	dw 256 * 16 - 1
	dq guest_idt

section .bss
alignb 16
ap_stack: resb 16384
ap_stack_top:
