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

%include "guest_regs.inc"
%include "spec.inc"

global svm_vmrun

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

	LOAD_GUEST_GPRS

	vmload
	vmrun
	vmsave

	push rdi
	mov rdi, [rsp + 8]
	SAVE_GUEST_GPRS
	pop qword GR(7)
	SPEC_RSB_AFTER_EXIT                 ; guest-trained return predictions out

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
