; SPDX-License-Identifier: Apache-2.0
; insns.asm: the emul guest's instructions with prefixes pvhv must skip whole,
; its code segments with a non-zero CS base, and its hostile event deliveries.
;
; Every exiting instruction is followed by TRAILER, a jump over six bytes.
; Executed from the start of the trailer it is a plain jump; executed from
; inside the instruction (RIP moved by a guessed length) the bytes decode as
; something that faults: "a2" + 8 bytes is MOV to a non-canonical address
; (#GP), and 32/30/08/D9/D1 eb decode as two-byte instructions followed by 06,
; which is #UD in 64-bit mode.  main.c's checks catch the rest.

bits 64

GDT_CODE64 equ 0x08

%macro TRAILER 0
	db 0xeb, 0x06, 0xff, 0xff, 0xff, 0xff, 0x00, 0x80
%endmacro

global emul_cpuid_66, emul_cpuid_2e3e, emul_rdmsr_48, emul_wrmsr_48, emul_wrmsr_662e48
global emul_vmmcall_2e, emul_vmcall_3e, emul_invd_2e, emul_xsetbv_2e, emul_sti_hlt_3e
global emul_irq_stub, emul_irqs
global emul_far_call
global c32_decoy, c32_start, c32_end, c16_start, c16_end
global emul_ioapic, c32_version, c32_vendor, c16_id
global emul_idt_in_mmio, emul_stack_in_mmio

section .text

; void emul_cpuid_66(uint32_t leaf, uint32_t out[4]): 66 0F A2
emul_cpuid_66:
	push rbx
	mov eax, edi
	xor ecx, ecx
	db 0x66, 0x0f, 0xa2
	TRAILER
	jmp cpuid_out

; void emul_cpuid_2e3e(uint32_t leaf, uint32_t out[4]): 2E 3E 0F A2
emul_cpuid_2e3e:
	push rbx
	mov eax, edi
	xor ecx, ecx
	db 0x2e, 0x3e, 0x0f, 0xa2
	TRAILER
cpuid_out:
	mov [rsi], eax
	mov [rsi + 4], ebx
	mov [rsi + 8], ecx
	mov [rsi + 12], edx
	pop rbx
	ret

; uint64_t emul_rdmsr_48(uint32_t msr): REX.W 0F 32
emul_rdmsr_48:
	mov ecx, edi
	db 0x48, 0x0f, 0x32
	TRAILER
	shl rdx, 32
	mov eax, eax
	or rax, rdx
	ret

; void emul_wrmsr_48(uint32_t msr, uint64_t val): REX.W 0F 30
emul_wrmsr_48:
	mov ecx, edi
	mov eax, esi
	mov rdx, rsi
	shr rdx, 32
	db 0x48, 0x0f, 0x30
	TRAILER
	ret

; void emul_wrmsr_662e48(uint32_t msr, uint64_t val): 66 2E REX.W 0F 30
emul_wrmsr_662e48:
	mov ecx, edi
	mov eax, esi
	mov rdx, rsi
	shr rdx, 32
	db 0x66, 0x2e, 0x48, 0x0f, 0x30
	TRAILER
	ret

; int64_t emul_vmmcall_2e(uint64_t nr): 2E 0F 01 D9 (the other arguments 0)
emul_vmmcall_2e:
	mov rax, rdi
	xor edi, edi
	xor esi, esi
	xor edx, edx
	db 0x2e, 0x0f, 0x01, 0xd9
	TRAILER
	ret

; int64_t emul_vmcall_3e(uint64_t nr): 3E 0F 01 C1
emul_vmcall_3e:
	mov rax, rdi
	xor edi, edi
	xor esi, esi
	xor edx, edx
	db 0x3e, 0x0f, 0x01, 0xc1
	TRAILER
	ret

; void emul_invd_2e(void): 2E 0F 08
emul_invd_2e:
	db 0x2e, 0x0f, 0x08
	TRAILER
	ret

; void emul_xsetbv_2e(uint32_t xcr, uint64_t val): 2E 0F 01 D1
emul_xsetbv_2e:
	mov ecx, edi
	mov eax, esi
	mov rdx, rsi
	shr rdx, 32
	db 0x2e, 0x0f, 0x01, 0xd1
	TRAILER
	ret

; void emul_sti_hlt_3e(void): STI; 3E F4; CLI.  An interrupt is pending:
; the STI shadow keeps it off the HLT, which exits and must be skipped whole,
; else the handler returns to a second HLT with nothing left to wake it.
emul_sti_hlt_3e:
	sti
	db 0x3e, 0xf4
	TRAILER
	cli
	ret

; The pending interrupt's handler: counts, then EOI (x2APIC MSR 0x80b).
emul_irq_stub:
	push rax
	push rcx
	push rdx
	inc qword [rel emul_irqs]
	mov ecx, 0x80b
	xor eax, eax
	xor edx, edx
	wrmsr
	pop rdx
	pop rcx
	pop rax
	iretq

; void emul_far_call(uint64_t cs, uint64_t eip): runs 32- or 16-bit code in
; compatibility mode, which comes back with a far jump to emul_back64.  Its
; upper halves of RAX..RDI are undefined afterwards (SDM vol. 1, 3.4.1.1):
; RBX and RBP are saved; the stack stays below 4 GiB.
emul_far_call:
	push rbx
	push rbp
	push rdi                ; CS
	push rsi                ; RIP
	retfq
emul_back64:
	pop rbp
	pop rbx
	ret

; What the old fetch (RIP alone, without CS.base) would find: INT3 bytes,
; which no MMIO access decodes as.  The 32-bit segment's base is
; c32_start - c32_decoy, so EIP = c32_decoy + offset.
c32_decoy:
	times 256 db 0xcc

; 32-bit compatibility mode, CS.base = c32_start - c32_decoy.  Data
; addresses are absolute: DS is flat.
bits 32
c32_start:
	mov ebx, [emul_ioapic]
	mov dword [ebx], 1              ; IOREGSEL = version register (C7 03 imm32)
	mov eax, [ebx + 0x10]           ; IOWIN (8B 43 10)
	mov [c32_version], eax
	xor eax, eax
	xor ecx, ecx
	db 0x66, 0x0f, 0xa2             ; CPUID leaf 0, its length decoded at CS.base + EIP
	mov [c32_vendor], ebx
	jmp dword GDT_CODE64:emul_back64
c32_end:

; 16-bit compatibility mode, CS.base = c16_start - 0x100 (IP 0x100): 32-bit
; operands and addresses by prefix.
bits 16
c16_start:
	mov ebx, [dword emul_ioapic]            ; 66 67 8B 1D disp32
	mov dword [ebx], 0                      ; IOREGSEL = ID register
	mov dword [ebx + 0x10], 0x0a000000      ; IOWIN: ID 10
	mov dword [ebx], 0
	mov eax, [ebx + 0x10]
	mov [dword c16_id], eax
	jmp dword GDT_CODE64:emul_back64        ; 66 EA ptr16:32
c16_end:

bits 64

; void emul_idt_in_mmio(void): the IDT at the I/O APIC page, then #UD.  The
; CPU's read of gate 6 is the stage-2 fault: RIP is the UD2, not an access.
emul_idt_in_mmio:
	mov eax, [rel emul_ioapic]
	mov [rel mmio_idtr + 2], rax
	lidt [rel mmio_idtr]
	ud2
	jmp $

; void emul_stack_in_mmio(void): RSP in the I/O APIC page, then #DE.  The
; exception frame's first push is the fault.
emul_stack_in_mmio:
	mov eax, [rel emul_ioapic]
	lea rsp, [rax + 0x800]
	xor ecx, ecx
	xor edx, edx
	div ecx
	jmp $

section .data
align 8
emul_ioapic: dq 0
emul_irqs: dq 0
c32_version: dd 0
c32_vendor: dd 0
c16_id: dd 0
align 8
	dw 0, 0, 0
mmio_idtr:
	dw 0xfff
	dq 0
