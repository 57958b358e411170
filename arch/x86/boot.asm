; SPDX-License-Identifier: Apache-2.0
; boot.asm: both ways in (PVH entry note and multiboot2), the switch to long
; mode with an identity map of the first 4 GiB, and the jump into C.

%define MB2_MAGIC      0xe85250d6
%define MB2_BOOT_MAGIC 0x36d76289
%define BOOT_PVH       1
%define BOOT_MB2       2
%define BOOT_STACK     65536 ; CPU 0's stack for good: as large as the others
%define MSR_EFER       0xc0000080
%define MSR_FS_BASE    0xc0000100

extern boot_main
extern cpus
global boot_pml4
global gdt64_ptr
global mb2_entry
global boot_stack_top

section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
	dd MB2_MAGIC
	dd 0                                ; i386 protected mode
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + 0 + (mb2_header_end - mb2_header))
	; end tag
	dw 0, 0
	dd 8
mb2_header_end:

; PVH: an ELF note "Xen", type 18 (XEN_ELFNOTE_PHYS32_ENTRY).
section .note.pvh note alloc noexec nowrite align=4
	dd 4                                ; namesz
	dd 4                                ; descsz
	dd 18                               ; type
	db "Xen", 0
	dd pvh_entry

section .boot.text progbits alloc exec nowrite align=16
bits 32
; PVH: 32-bit flat protected mode, paging off, EBX = hvm_start_info.
pvh_entry:
	mov edi, BOOT_PVH
	mov esi, ebx
	jmp common32

; multiboot2: EAX = magic, EBX = boot information.
mb2_entry:
	mov edi, BOOT_MB2
	mov esi, ebx
	cmp eax, MB2_BOOT_MAGIC
	je common32
	xor edi, edi                        ; unknown loader: C reports it

common32:
	cli
	cld
	mov esp, boot_stack_top
	; identity map 0-4 GiB with 2 MiB pages: PML4[0] -> PDPT, PDPT[0..3] -> PD0..3
	mov eax, boot_pdpt
	or eax, 3
	mov [boot_pml4], eax
	mov ecx, 0
.pdpt:
	mov eax, ecx
	shl eax, 12
	add eax, boot_pd
	or eax, 3
	mov [boot_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, 4
	jne .pdpt
	mov ecx, 0                          ; 2048 entries, 2 MiB each
.pd:
	mov eax, ecx
	shl eax, 21
	or eax, 0x83                        ; present, writable, 2 MiB
	cmp ecx, 1536                       ; 3 GiB and up is the MMIO hole: uncached
	jb .cached
	or eax, 0x18                        ; PCD | PWT
.cached:
	mov [boot_pd + ecx * 8], eax
	mov dword [boot_pd + ecx * 8 + 4], 0
	inc ecx
	cmp ecx, 2048
	jne .pd

	mov eax, cr4
	or eax, (1 << 5)                    ; PAE
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, (1 << 8)                    ; LME
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16) | 1   ; PG, WP, PE
	mov cr0, eax
	lgdt [gdt64_ptr]
	jmp 0x08:long_entry

bits 64
long_entry:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	; %fs -> boot CPU's per-CPU area (stack protector canary at %fs:0x28)
	mov rax, cpus
	mov rdx, rax
	shr rdx, 32
	mov ecx, MSR_FS_BASE
	wrmsr
	; edi = boot kind, esi = info address (zero-extended)
	mov esi, esi
	xor ebp, ebp
	call boot_main
.hang:
	cli
	hlt
	jmp .hang

section .rodata
align 16
gdt64:
	dq 0
	dq 0x00af9a000000ffff               ; 0x08: 64-bit code
	dq 0x00cf92000000ffff               ; 0x10: data
	dq 0x00cf9a000000ffff               ; 0x18: 32-bit code (AP trampoline)
gdt64_end:
gdt64_ptr:
	dw gdt64_end - gdt64 - 1
	dq gdt64

section .bss
align 4096
boot_pml4: resb 4096
boot_pdpt: resb 4096
boot_pd:   resb 4096 * 4
boot_stack: resb BOOT_STACK
boot_stack_top:
