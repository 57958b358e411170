; SPDX-License-Identifier: Apache-2.0
; blob.asm: 5 MiB of known bytes at a 2 MiB boundary of the cowcheck guest's
; image (linked with 2 MiB pages, so file offset and address agree mod 2 MiB):
; pvhv can map its two whole 2 MiB chunks from the image instead of copying.
; A small function at its start runs from the first of them.

%define COW_BYTES (5 << 20)
%define COW_TAG 0xC0C0000000000000

section .data.cow progbits alloc exec write align=2097152

global cow_blob, cow_fn, cow_fn_imm

; uint32_t cow_fn(void): returns the immediate at cow_fn_imm (patched by the guest).
cow_blob:
cow_fn:
	db 0xb8                 ; mov eax, imm32
cow_fn_imm:
	dd 0x600dc0de
	ret
	align 8, db 0xcc
	; Each later word: COW_TAG plus the offset of its 4 KiB page in the blob
	; ($ is a line's start, so a word's own offset would take a line each).
	times (4096 - ($ - cow_blob)) / 8 dq COW_TAG
%assign page 1
%rep COW_BYTES / 4096 - 1
	times 512 dq COW_TAG + page * 4096
%assign page page + 1
%endrep
