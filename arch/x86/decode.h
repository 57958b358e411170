/* SPDX-License-Identifier: Apache-2.0 */
/*
 * decode.h: decoder and emulator for the x86 instructions a guest uses to
 * reach emulated MMIO, for CPUs that report only the faulting guest-physical
 * address (TCG's SVM has no decode assists), and the length decoder for the
 * instructions whose exits a CPU without next-RIP reports leaves unmeasured.
 * Opcodes per SDM vol. 2, appendix A; prefixes and ModRM/SIB per SDM vol. 2,
 * chapter 2.
 */
#ifndef PVHV_ARCH_X86_DECODE_H
#define PVHV_ARCH_X86_DECODE_H

#include "lib/base.h"

/* Longest legal x86 instruction (SDM vol. 2, 2.3.11). */
#define INSN_MAX_LEN 15

enum insn_kind {
	INSN_LOAD,      /* reg <- [mem]: 8A/8B, A0/A1, 0F B6/B7/BE/BF, 63 */
	INSN_STORE,     /* [mem] <- reg: 88/89, A2/A3 */
	INSN_STORE_IMM, /* [mem] <- imm: C6 /0, C7 /0 */
	INSN_ALU,       /* 00-3B with memory, 80-83 group 1, 84/85, F6/F7 /0 */
	INSN_XCHG,      /* 86/87 */
};

/* ALU operations, in group-1 /digit order, then TEST. */
enum insn_alu {
	INSN_ALU_ADD, INSN_ALU_OR, INSN_ALU_ADC, INSN_ALU_SBB,
	INSN_ALU_AND, INSN_ALU_SUB, INSN_ALU_XOR, INSN_ALU_CMP,
	INSN_ALU_TEST,
};

struct insn {
	uint8_t len;          /* bytes, prefixes included */
	enum insn_kind kind;
	uint8_t size;         /* memory operand bytes: 1, 2, 4 or 8 */
	/*
	 * Register operand, as the GPR index of the register holding it
	 * (enum vcpu_gpr), or -1 for the immediate forms.  With reg_high8
	 * the operand is bits 15:8 of that register: AH..BH are encoded as
	 * 4..7 without REX and come back as reg 0..3 with reg_high8 set.
	 */
	int8_t reg;
	bool reg_high8;
	uint8_t dst_size;     /* register width: the one written by loads (movzx/movsx widen) */
	bool sign_extend;     /* LOAD: movsx/movsxd */
	uint8_t alu_op;       /* enum insn_alu */
	/* ALU: the result goes to memory (false for CMP/TEST and reg <- reg op mem). */
	bool mem_is_dst;
	/*
	 * ALU: memory is the left operand (mem op src), as in 00/01, 38/39,
	 * 80-85 and F6/F7; false for the 02/03 ... 3A/3B forms (reg op mem).
	 * CMP needs it: 39 computes mem - reg, 3B reg - mem.
	 */
	bool mem_is_left;
	bool lock;            /* F0 prefix (accepted only on lockable forms) */
	/* STORE_IMM and immediate ALU forms: sign-extended as the CPU does, masked to size. */
	uint64_t imm;
};

/*
 * Decode the instruction at code[0..avail) for a CPU in mode 16, 32 or 64
 * (64 = long mode with CS.L; 16/32 = CS.D in legacy or compatibility mode).
 * Only *out is written.  Returns 0, or -EINVAL when the bytes are not one
 * of the forms above with a memory operand: a register-only ModRM, string
 * operations (MOVS/STOS/LODS/INS/OUTS), other opcodes, REX outside 64-bit
 * mode (there 40-4F are INC/DEC), LOCK on a form the CPU would answer
 * with #UD (MOV, loads, CMP, TEST, reg-destination ALU), F2/F3 before a
 * 0F opcode, or more than INSN_MAX_LEN bytes; the caller injects #UD.
 * Returns -EFAULT when avail < INSN_MAX_LEN and the bytes end before the
 * instruction does: the caller could not fetch all of it.
 *
 * Segment overrides are accepted and ignored: the caller knows the
 * faulting address already.  A REX prefix followed by a legacy prefix is
 * ignored, as the CPU ignores it (SDM vol. 2, 2.2.1).
 */
int insn_decode(const uint8_t *code, size_t avail, unsigned mode, struct insn *out);

/*
 * The instructions whose exits neutral code completes by moving RIP past
 * them.  SVM without NRIP save (TCG's) does not say how long they were,
 * and prefixes make that vary (APM vol. 2, 15.7.1).
 */
enum insn_sys_op {
	INSN_SYS_CPUID,   /* 0F A2 */
	INSN_SYS_RDMSR,   /* 0F 32 */
	INSN_SYS_WRMSR,   /* 0F 30 */
	INSN_SYS_INVD,    /* 0F 08 */
	INSN_SYS_WBINVD,  /* 0F 09 */
	INSN_SYS_XSETBV,  /* 0F 01 D1 */
	INSN_SYS_VMCALL,  /* 0F 01 C1 */
	INSN_SYS_VMMCALL, /* 0F 01 D9 */
	INSN_SYS_HLT,     /* F4 */
};

/*
 * Decode which of enum insn_sys_op the bytes code[0..avail) hold, and how
 * long it is, for a CPU in mode 16, 32 or 64 (as insn_decode()): any
 * legacy prefixes (66 67 F2 F3 F0 2E 36 3E 26 64 65) and, in 64-bit mode,
 * REX prefixes, then the opcode.  Only *op and *len are written.  Returns
 * 0; -EFAULT when avail < INSN_MAX_LEN and the bytes end first (the caller
 * could not fetch more); -EINVAL for anything else: another opcode, REX
 * outside 64-bit mode (there 40-4F are INC/DEC), more than INSN_MAX_LEN
 * bytes, a bad mode.  The caller checks that *op is the instruction the
 * exit was for.
 */
int insn_decode_sys(const uint8_t *code, size_t avail, unsigned mode, enum insn_sys_op *op,
		    uint8_t *len);

/* The memory operand, as the caller's device sees it; ctx is passed back. */
struct insn_mem_ops {
	int (*read)(void *ctx, uint64_t *val, unsigned size);
	int (*write)(void *ctx, uint64_t val, unsigned size);
	void *ctx;
};

/*
 * Carry out a decoded instruction: read the memory operand for LOAD, ALU
 * and XCHG, write it for STORE, STORE_IMM, XCHG and ALU with mem_is_dst,
 * then update regs[] (enum vcpu_gpr order) with x86 write semantics (a
 * 32-bit write zeroes bits 63:32, 8/16-bit writes merge, AH..BH are bits
 * 15:8) and, for ALU, CF PF AF ZF SF OF in *rflags (SDM vol. 1, 3.4.3;
 * AF, undefined after AND/OR/XOR/TEST, is cleared).  A read value wider
 * than size is truncated.  Registers and flags change only once every
 * memory access has succeeded.  Returns 0 or a callback's negative error;
 * -EINVAL for a struct insn that insn_decode() could not have produced.
 */
int insn_emulate(const struct insn *in, uint64_t regs[16], uint64_t *rflags,
		 const struct insn_mem_ops *mem);

#endif
