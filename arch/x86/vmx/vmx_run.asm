; SPDX-License-Identifier: Apache-2.0
; vmx_run.asm: one guest entry and exit under VT-x (SDM vol. 3, 26 and 27).
;
; int vmx_enter(uint64_t regs[16], int launched, uint64_t *host_rsp);
;
; regs[] is indexed by enum vcpu_gpr; RSP lives in the VMCS.  The current
; VMCS must already be loaded and its HOST_RIP must point at vmx_exit.  On a
; VM exit the CPU comes back at vmx_exit with RSP = HOST_RSP (written here
; just before entry), RFLAGS = 2 (interrupts stay off until the caller lets
; them in) and everything else of the host from the host-state area.
; Returns 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed with
; VMfailInvalid (CF) and 2 with VMfailValid (ZF: see VM_INSTRUCTION_ERROR).

%include "guest_regs.inc"
%include "spec.inc"

global vmx_enter
global vmx_exit

%define HOST_RSP 0x6c14

section .text
vmx_enter:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi                            ; regs: found at [rsp] after the exit

	; HOST_RSP only when it changed for this VMCS: in a nested VM without
	; VMCS shadowing every VMWRITE is an exit of its own (*host_rsp caches it).
	cmp rsp, [rdx]
	je .rsp_ok
	mov [rdx], rsp
	mov rax, HOST_RSP
	vmwrite rax, rsp
.rsp_ok:
	test esi, esi                       ; flags survive the MOVs below

	mov rax, GR(0)
	LOAD_GUEST_GPRS
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
	mov GR(0), rax
	SAVE_GUEST_GPRS
	pop qword GR(7)
	SPEC_RSB_AFTER_EXIT                 ; guest-trained return predictions out
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
