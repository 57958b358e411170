; SPDX-License-Identifier: Apache-2.0
; vmx_run.asm: one guest entry and exit under VT-x (SDM vol. 3, 26 and 27).
;
; int vmx_enter(uint64_t regs[16], int launched);
;
; regs[] is indexed by enum vcpu_gpr; RSP lives in the VMCS.  The current
; VMCS must already be loaded and its HOST_RIP must point at vmx_exit.  On a
; VM exit the CPU comes back at vmx_exit with RSP = HOST_RSP (written here
; just before entry), RFLAGS = 2 (interrupts stay off until the caller lets
; them in) and everything else of the host from the host-state area.
; Returns 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed with
; VMfailInvalid (CF) and 2 with VMfailValid (ZF: see VM_INSTRUCTION_ERROR).

global vmx_enter
global vmx_exit

%define HOST_RSP 0x6c14
%define R(n) [rdi + (n) * 8]

section .text
vmx_enter:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi                            ; regs: found at [rsp] after the exit

	mov rax, HOST_RSP
	vmwrite rax, rsp
	test esi, esi                       ; flags survive the MOVs below

	mov rax, R(0)
	mov rcx, R(1)
	mov rdx, R(2)
	mov rbx, R(3)
	mov rbp, R(5)
	mov rsi, R(6)
	mov r8,  R(8)
	mov r9,  R(9)
	mov r10, R(10)
	mov r11, R(11)
	mov r12, R(12)
	mov r13, R(13)
	mov r14, R(14)
	mov r15, R(15)
	mov rdi, R(7)
	jnz .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:
	mov eax, 2
	mov ecx, 1
	cmovc eax, ecx                      ; CF: VMfailInvalid, else ZF: VMfailValid
	pop rdi
	jmp vmx_return

vmx_exit:
	push rdi
	mov rdi, [rsp + 8]
	mov R(0), rax
	mov R(1), rcx
	mov R(2), rdx
	mov R(3), rbx
	mov R(5), rbp
	mov R(6), rsi
	mov R(8), r8
	mov R(9), r9
	mov R(10), r10
	mov R(11), r11
	mov R(12), r12
	mov R(13), r13
	mov R(14), r14
	mov R(15), r15
	pop qword R(7)
	add rsp, 8                          ; regs
	xor eax, eax
vmx_return:
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
