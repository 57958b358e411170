; SPDX-License-Identifier: Apache-2.0
; entry.asm: interrupt and exception stubs.  Each pushes a uniform frame
; (struct trap_frame in idt.c) and calls trap_handler(frame).

extern trap_handler
global trap_stubs

%macro STUB 1
align 16
stub_%1:
%if (%1 = 8) || (%1 = 10) || (%1 = 11) || (%1 = 12) || (%1 = 13) || (%1 = 14) || (%1 = 17) || (%1 = 21) || (%1 = 29) || (%1 = 30)
%else
	push 0                              ; no error code from the CPU
%endif
	push %1
	jmp trap_common
%endmacro

section .text
trap_common:
	push r15
	push r14
	push r13
	push r12
	push r11
	push r10
	push r9
	push r8
	push rdi
	push rsi
	push rbp
	push rbx
	push rdx
	push rcx
	push rax
	mov rdi, rsp
	cld
	call trap_handler
	pop rax
	pop rcx
	pop rdx
	pop rbx
	pop rbp
	pop rsi
	pop rdi
	pop r8
	pop r9
	pop r10
	pop r11
	pop r12
	pop r13
	pop r14
	pop r15
	add rsp, 16                         ; vector, error code
	iretq

%assign i 0
%rep 256
STUB i
%assign i i+1
%endrep

section .rodata
align 8
; void *trap_stubs[256]: the IDT points each vector at its stub.
trap_stubs:
%assign i 0
%rep 256
	dq stub_ %+ i
%assign i i+1
%endrep
