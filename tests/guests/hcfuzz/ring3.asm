; SPDX-License-Identifier: Apache-2.0
; ring3.asm: hcfuzz's trip to CPL 3 for one hypercall and back via int 0x80.
;
; main.c has set up the GDT (user code 0x20, user data 0x18, TSS 0x28 with
; RSP0), made the image's pages user-accessible and pointed IDT gate 0x80
; (DPL 3) at ring3_isr.

bits 64

USER_CS equ 0x20 | 3
USER_DS equ 0x18 | 3
KERNEL_DS equ 0x10

global ring3_call, ring3_isr, r3_cpl

section .text

; int64_t ring3_call(uint64_t nr, uint64_t a1, uint64_t a2, int mode,
;                    void *user_stack_top)
; mode 1: VMMCALL, 2: VMCALL, 0: no hypercall (returns -1234).
; Returns RAX as the CPL-3 code left it.
ring3_call:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov [rel r3_saved_rsp], rsp
	mov r12d, ecx
	push USER_DS            ; SS
	push r8                 ; RSP
	push 0x2                ; RFLAGS: IF clear, IOPL 0
	push USER_CS            ; CS
	lea rax, [rel ring3_code]
	push rax                ; RIP
	mov rax, rdi
	mov rdi, rsi
	mov rsi, rdx
	xor edx, edx
	xor r10d, r10d
	xor r8d, r8d
	iretq

; CPL 3 from here to the int.
ring3_code:
	mov rcx, cs
	and ecx, 3
	mov [rel r3_cpl], rcx
	cmp r12d, 1
	je .vmmcall
	cmp r12d, 2
	je .vmcall
	mov rax, -1234
	jmp .back
.vmmcall:
	vmmcall
	jmp .back
.vmcall:
	vmcall
.back:
	int 0x80
	ud2

; Gate 0x80: CPL 0 again, on TSS.RSP0; RAX holds the result.
ring3_isr:
	mov rsp, [rel r3_saved_rsp]
	mov ecx, KERNEL_DS
	mov ss, ecx
	mov ds, ecx
	mov es, ecx
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

section .bss
align 8
r3_saved_rsp: resq 1
r3_cpl:       resq 1
