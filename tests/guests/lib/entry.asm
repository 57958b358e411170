; SPDX-License-Identifier: Apache-2.0
; entry.asm: PVH entry of the test guests: 32-bit protected mode to long mode,
; exception stubs, then guest_init(si), main(si), guest_exit(r).
;
; PVH entry state (docs PLATFORM.md 1): CR0.PE only, CR4 = 0, flat 32-bit
; CS/DS/ES, EFLAGS.IF clear, EBX = guest-physical address of start_info.
; Everything here is identity-mapped: linked at 0x100000, run at 0x100000.

bits 32

GDT_CODE64 equ 0x08
GDT_DATA   equ 0x10
GDT_CODE32 equ 0x18

NR_PD_PAGES equ 8               ; 8 x 1 GiB of 2 MiB pages: 0..8 GiB

CR0_PE equ 1 << 0
CR0_MP equ 1 << 1
CR0_ET equ 1 << 4
CR0_NE equ 1 << 5
CR0_WP equ 1 << 16
CR0_PG equ 1 << 31
CR4_PAE        equ 1 << 5
CR4_OSFXSR     equ 1 << 9
CR4_OSXMMEXCPT equ 1 << 10
MSR_EFER equ 0xc0000080
EFER_LME equ 1 << 8

extern __bss_start, __bss_end
extern guest_init, guest_exit, guest_exception, main

global pvh_start
global guest_pml4, guest_pdpt, guest_pd, guest_idt
global guest_stack_top

; ---------------------------------------------------------------- PVH note
section .note.pvh note alloc noexec nowrite align=4
	dd 4                    ; namesz ("Xen\0")
	dd 4                    ; descsz: a 32-bit physical address
	dd 18                   ; XEN_ELFNOTE_PHYS32_ENTRY
	db "Xen", 0
	dd pvh_start

; ---------------------------------------------------------------- 32-bit entry
section .text.entry progbits alloc exec nowrite align=16
pvh_start:
	cli
	cld
	; Our own GDT first: the selectors we were given are unspecified.
	lgdt [gdt_ptr32]
	jmp dword GDT_CODE32:.flat32
.flat32:
	mov eax, GDT_DATA
	mov ds, eax
	mov es, eax
	mov ss, eax
	mov fs, eax
	mov gs, eax
	mov esp, guest_stack_top

	; Zero .bss (the loader should have, but a test guest trusts nobody).
	; EBX (start_info) is left alone until main.
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd

	; PML4[0] -> PDPT; PDPT[0..7] -> PD pages; PD: 4096 x 2 MiB identity.
	mov dword [guest_pml4], guest_pdpt + 3
	xor ecx, ecx
.pdpt:
	mov eax, ecx
	shl eax, 12
	add eax, guest_pd + 3
	mov [guest_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, NR_PD_PAGES
	jb .pdpt
	xor ecx, ecx
.pd:
	mov eax, ecx
	shl eax, 21
	or eax, 0x83            ; P | RW | PS
	mov [guest_pd + ecx * 8], eax
	mov eax, ecx
	shr eax, 11             ; bits 32+ of the 2 MiB frame
	mov [guest_pd + ecx * 8 + 4], eax
	inc ecx
	cmp ecx, NR_PD_PAGES * 512
	jb .pd

	; Long mode (AMD APM vol. 2, 14.6.1; Intel SDM vol. 3, 10.8.5).  SSE is
	; enabled too so the fpu guest can use it; the C code never does.
	mov eax, CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT
	mov cr4, eax
	mov eax, guest_pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE
	mov cr0, eax
	jmp dword GDT_CODE64:long_entry

; ---------------------------------------------------------------- 64-bit
bits 64
section .text
long_entry:
	mov eax, GDT_DATA
	mov ds, eax
	mov es, eax
	mov ss, eax
	mov fs, eax
	mov gs, eax
	mov rsp, guest_stack_top
	fninit

	; IDT: 256 gates, the first 32 filled with the exception stubs.
	lea rsi, [rel isr_table]
	lea rdi, [rel guest_idt]
	xor ecx, ecx
.gate:
	mov rax, [rsi + rcx * 8]
	mov [rdi], ax
	mov word [rdi + 2], GDT_CODE64
	mov word [rdi + 4], 0x8e00      ; P, DPL 0, 64-bit interrupt gate
	shr rax, 16
	mov [rdi + 6], ax
	shr rax, 16
	mov [rdi + 8], eax
	mov dword [rdi + 12], 0
	add rdi, 16
	inc ecx
	cmp ecx, 32
	jb .gate
	lidt [rel idt_ptr]

	mov edi, ebx
	call guest_init
	mov edi, ebx
	call main
	mov edi, eax
	call guest_exit                 ; does not return
.halt:
	cli
	hlt
	jmp .halt

; Exception stubs.  The frame matches struct guest_regs in guest.h:
; r15 .. rax (pushed here), vector, error code, then the CPU's frame.
%macro ISR_NOERR 1
isr%1:
	push 0
	push %1
	jmp isr_common
%endmacro
%macro ISR_ERR 1
isr%1:
	push %1
	jmp isr_common
%endmacro

ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR   21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR   29
ISR_ERR   30
ISR_NOERR 31

; void guest_exception(struct guest_regs *r): may change r->rip (fixups).
isr_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	cld
	mov rdi, rsp
	mov rbx, rsp
	and rsp, -16
	call guest_exception
	mov rsp, rbx
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16
	iretq

section .rodata
align 8
isr_table:
%assign i 0
%rep 32
	dq isr %+ i
%assign i i + 1
%endrep

section .data
align 16
gdt:
	dq 0
	dq 0x00af9a000000ffff   ; 0x08 64-bit code, DPL 0
	dq 0x00cf92000000ffff   ; 0x10 flat data
	dq 0x00cf9a000000ffff   ; 0x18 flat 32-bit code
gdt_end:
gdt_ptr32:
	dw gdt_end - gdt - 1
	dd gdt
align 8
	dw 0, 0, 0
idt_ptr:
	dw 256 * 16 - 1
	dq guest_idt

section .bss nobits alloc noexec write align=4096
alignb 4096
guest_pml4:  resb 4096
guest_pdpt:  resb 4096
guest_pd:    resb 4096 * NR_PD_PAGES
guest_idt:   resb 256 * 16
guest_stack: resb 65536
guest_stack_top:
