; SPDX-License-Identifier: Apache-2.0
; svm_run.asm: one guest entry and exit under AMD-V (APM vol. 2, 15.5).
;
; void svm_vmrun(uint64_t regs[16], hpa_t guest_vmcb, hpa_t host_vmcb);
;
; regs[] is indexed by enum vcpu_gpr; RAX and RSP live in the VMCB.  VMRUN
; does not switch FS, GS, TR, LDTR, KernelGSBase or the SYSCALL/SYSENTER
; MSRs, so the host's are VMSAVEd before and VMLOADed after, and the guest's
; VMLOADed before and VMSAVEd after.  Runs with GIF clear except inside the
; guest; the host's RFLAGS.IF is set for the guest's duration so physical
; interrupts cause #VMEXIT(INTR) and stay pending until the caller lets
; them in.

global svm_vmrun

%define R(n) [rdi + (n) * 8]

section .text
svm_vmrun:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdx                            ; host VMCB
	push rdi                            ; regs

	clgi
	mov rax, rdx
	vmsave
	mov rax, rsi
	sti                                 ; HIF = 1: host interrupts exit the guest

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

	vmload
	vmrun
	vmsave

	push rdi
	mov rdi, [rsp + 8]
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

	cli
	add rsp, 8                          ; regs
	pop rax                             ; host VMCB
	vmload
	stgi                                ; IF is clear: interrupts wait for the caller

	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret
