; SPDX-License-Identifier: Apache-2.0
; isr.asm: the msi guest's interrupt handlers: count, EOI the x2APIC, return.

MSR_X2APIC_EOI equ 0x80b

extern msi_seen
global msi_isr_a, msi_isr_b

section .text
%macro ISR 2
%1:
	push rax
	push rcx
	push rdx
	lock inc qword [rel msi_seen + %2 * 8]
	mov ecx, MSR_X2APIC_EOI
	xor eax, eax
	xor edx, edx
	wrmsr
	pop rdx
	pop rcx
	pop rax
	iretq
%endmacro

ISR msi_isr_a, 0
ISR msi_isr_b, 1
