/* SPDX-License-Identifier: Apache-2.0 */
/* decode_test.c: unit tests for the MMIO instruction decoder and emulator in arch/x86/decode.c. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base.h"
#include "arch/x86/decode.h"

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* One encoding and what it must decode to; the bytes are the whole instruction. */
struct enc {
	unsigned mode;
	const char *code;
	size_t n;
	enum insn_kind kind;
	uint8_t size;
	int8_t reg;
	bool high8;
	uint8_t dst;          /* 0: same as size */
	bool sx;
	uint8_t alu;
	bool mdst, mleft, lock;
	uint64_t imm;
};

#define E(m, bytes, ...) { .mode = m, .code = bytes, .n = sizeof(bytes) - 1, __VA_ARGS__ }
#define LOAD(sz, r) .kind = INSN_LOAD, .size = sz, .reg = r
#define STORE(sz, r) .kind = INSN_STORE, .size = sz, .reg = r
#define STIMM(sz, i) .kind = INSN_STORE_IMM, .size = sz, .reg = -1, .imm = i
/* op mem, reg (mem is left; written unless CMP/TEST) */
#define ALU_MR(op, sz, r) .kind = INSN_ALU, .alu = op, .size = sz, .reg = r, .mleft = true, \
	.mdst = (op != INSN_ALU_CMP && op != INSN_ALU_TEST)
/* op reg, mem (the register is written unless CMP) */
#define ALU_RM(op, sz, r) .kind = INSN_ALU, .alu = op, .size = sz, .reg = r
/* op mem, imm */
#define ALU_MI(op, sz, i) .kind = INSN_ALU, .alu = op, .size = sz, .reg = -1, .mleft = true, \
	.mdst = (op != INSN_ALU_CMP && op != INSN_ALU_TEST), .imm = i

static const struct enc good[] = {
	/* Linux 6.1 readb/w/l/q, writeb/w/l/q (asm/io.h build_mmio_*: "mov" size). */
	E(64, "\x8b\x07", LOAD(4, RAX)),                          /* mov (%rdi),%eax */
	E(64, "\x8a\x07", LOAD(1, RAX)),                          /* mov (%rdi),%al */
	E(64, "\x66\x8b\x07", LOAD(2, RAX)),                      /* mov (%rdi),%ax */
	E(64, "\x48\x8b\x07", LOAD(8, RAX)),                      /* mov (%rdi),%rax */
	E(64, "\x89\x37", STORE(4, RSI)),                         /* mov %esi,(%rdi) */
	E(64, "\x88\x17", STORE(1, RDX)),                         /* mov %dl,(%rdi) */
	E(64, "\x66\x89\x17", STORE(2, RDX)),                     /* mov %dx,(%rdi) */
	E(64, "\x48\x89\x07", STORE(8, RAX)),                     /* mov %rax,(%rdi) */
	E(64, "\x40\x88\x37", STORE(1, RSI)),                     /* mov %sil,(%rdi) */
	E(64, "\x44\x88\x07", STORE(1, R8)),                      /* mov %r8b,(%rdi) */
	E(64, "\x8b\x87\x30\x01\x00\x00", LOAD(4, RAX)),          /* mov 0x130(%rdi),%eax */
	E(64, "\x8b\x04\x25\x00\x00\xc0\xfe", LOAD(4, RAX)),      /* mov 0xfec00000,%eax (SIB abs) */
	E(64, "\x8b\x05\x10\x20\x30\x40", LOAD(4, RAX)),          /* mov 0x40302010(%rip),%eax */
	E(64, "\x44\x8b\x40\x10", LOAD(4, R8)),                   /* mov 0x10(%rax),%r8d */
	E(64, "\x41\x89\x04\x24", STORE(4, RAX)),                 /* mov %eax,(%r12) */
	E(64, "\x41\x8b\x45\x00", LOAD(4, RAX)),                  /* mov 0x0(%r13),%eax */
	E(64, "\x41\x8b\x05\x00\x00\x00\x00", LOAD(4, RAX)),      /* REX.B, mod 0 r/m 5: still RIP-rel */
	E(64, "\x4c\x8b\x3c\x24", LOAD(8, R15)),                  /* mov (%rsp),%r15 */
	E(64, "\x8b\x44\x24\x08", LOAD(4, RAX)),                  /* mov 0x8(%rsp),%eax */
	E(64, "\x8b\x84\x24\x00\x01\x00\x00", LOAD(4, RAX)),      /* mov 0x100(%rsp),%eax */
	E(64, "\x42\x8b\x04\xa5\x00\x00\xc0\xfe", LOAD(4, RAX)),  /* mov 0xfec00000(,%r12,4),%eax */
	E(64, "\x8b\x44\x8b\xfc", LOAD(4, RAX)),                  /* mov -0x4(%rbx,%rcx,4),%eax */
	E(64, "\x8b\x04\x2b", LOAD(4, RAX)),                      /* mov (%rbx,%rbp,1),%eax */
	E(64, "\x8b\x44\x25\x08", LOAD(4, RAX)),                  /* mov 0x8(%rbp,%riz),%eax: base 5, mod 1 */
	E(64, "\x0f\xb6\x07", LOAD(1, RAX), .dst = 4),            /* movzbl (%rdi),%eax */
	E(64, "\x0f\xb7\x47\x04", LOAD(2, RAX), .dst = 4),        /* movzwl 0x4(%rdi),%eax */
	E(64, "\x66\x0f\xb6\x07", LOAD(1, RAX), .dst = 2),        /* movzbw (%rdi),%ax */
	E(64, "\x48\x0f\xb6\x07", LOAD(1, RAX), .dst = 8),        /* movzbq (%rdi),%rax */
	E(64, "\x0f\xbe\x07", LOAD(1, RAX), .dst = 4, .sx = true),   /* movsbl (%rdi),%eax */
	E(64, "\x48\x0f\xbf\x07", LOAD(2, RAX), .dst = 8, .sx = true), /* movswq (%rdi),%rax */
	E(64, "\x48\x63\x07", LOAD(4, RAX), .dst = 8, .sx = true),  /* movslq (%rdi),%rax */
	E(64, "\x63\x07", LOAD(4, RAX)),                          /* movsxd without REX.W: a 32-bit move */
	E(64, "\xc7\x07\x01\x00\x00\x00", STIMM(4, 1)),           /* movl $0x1,(%rdi) */
	E(64, "\xc6\x47\x10\xff", STIMM(1, 0xff)),                /* movb $0xff,0x10(%rdi) */
	E(64, "\x66\xc7\x07\x34\x12", STIMM(2, 0x1234)),          /* movw $0x1234,(%rdi) */
	E(64, "\x48\xc7\x07\xff\xff\xff\xff", STIMM(8, ~0ULL)),   /* movq $-1,(%rdi) */
	E(64, "\x48\xc7\x07\x00\x00\x00\x80", STIMM(8, 0xffffffff80000000ULL)),
	E(64, "\xa1\x00\x00\xc0\xfe\x00\x00\x00\x00", LOAD(4, RAX)),  /* movabs 0xfec00000,%eax */
	E(64, "\x48\xa3\x00\x00\xc0\xfe\x00\x00\x00\x00", STORE(8, RAX)), /* movabs %rax,0xfec00000 */
	E(64, "\xa2\x00\x10\x00\x00\x00\x00\x00\x00", STORE(1, RAX)), /* movabs %al,0x1000 */
	E(64, "\x67\xa1\x00\x00\xc0\xfe", LOAD(4, RAX)),          /* addr32 mov 0xfec00000,%eax */
	E(64, "\x67\x8b\x07", LOAD(4, RAX)),                      /* mov (%edi),%eax */
	E(64, "\x67\x8b\x05\x00\x00\x00\x00", LOAD(4, RAX)),      /* mov 0x0(%eip),%eax */
	E(64, "\x2e\x8b\x07", LOAD(4, RAX)),                      /* cs override: ignored */
	E(64, "\x65\x48\x8b\x07", LOAD(8, RAX)),                  /* mov %gs:(%rdi),%rax */
	E(64, "\x66\x48\x8b\x07", LOAD(8, RAX)),                  /* REX.W beats 66 */
	E(64, "\x48\x66\x8b\x07", LOAD(2, RAX)),                  /* REX not last: ignored */
	E(64, "\x41\x48\x8b\x07", LOAD(8, RAX)),                  /* two REX: the last counts */
	E(64, "\x8a\x27", LOAD(1, RAX), .high8 = true),           /* mov (%rdi),%ah */
	E(64, "\x88\x3f", STORE(1, RBX), .high8 = true),          /* mov %bh,(%rdi) */
	E(64, "\x40\x8a\x27", LOAD(1, RSP)),                      /* mov (%rdi),%spl */
	E(64, "\xf3\x89\x07", STORE(4, RAX)),                     /* xrelease mov %eax,(%rdi) */
	/* xchg */
	E(64, "\x87\x07", .kind = INSN_XCHG, .size = 4, .reg = RAX),
	E(64, "\x86\x27", .kind = INSN_XCHG, .size = 1, .reg = RAX, .high8 = true),
	E(64, "\x40\x86\x37", .kind = INSN_XCHG, .size = 1, .reg = RSI),
	E(64, "\x4c\x87\x07", .kind = INSN_XCHG, .size = 8, .reg = R8),
	E(64, "\xf0\x87\x07", .kind = INSN_XCHG, .size = 4, .reg = RAX, .lock = true),
	/* ALU, mem op reg and reg op mem */
	E(64, "\x01\x07", ALU_MR(INSN_ALU_ADD, 4, RAX)),          /* add %eax,(%rdi) */
	E(64, "\x03\x07", ALU_RM(INSN_ALU_ADD, 4, RAX)),          /* add (%rdi),%eax */
	E(64, "\x09\x07", ALU_MR(INSN_ALU_OR, 4, RAX)),
	E(64, "\x0a\x07", ALU_RM(INSN_ALU_OR, 1, RAX)),           /* or (%rdi),%al */
	E(64, "\x11\x0f", ALU_MR(INSN_ALU_ADC, 4, RCX)),
	E(64, "\x19\x0f", ALU_MR(INSN_ALU_SBB, 4, RCX)),
	E(64, "\x20\x27", ALU_MR(INSN_ALU_AND, 1, RAX), .high8 = true), /* and %ah,(%rdi) */
	E(64, "\x29\x07", ALU_MR(INSN_ALU_SUB, 4, RAX)),
	E(64, "\x4c\x31\x07", ALU_MR(INSN_ALU_XOR, 8, R8)),       /* xor %r8,(%rdi) */
	E(64, "\x39\x07", ALU_MR(INSN_ALU_CMP, 4, RAX)),          /* cmp %eax,(%rdi) */
	E(64, "\x3b\x07", ALU_RM(INSN_ALU_CMP, 4, RAX)),          /* cmp (%rdi),%eax */
	E(64, "\x38\x07", ALU_MR(INSN_ALU_CMP, 1, RAX)),
	E(64, "\x85\x07", ALU_MR(INSN_ALU_TEST, 4, RAX)),         /* test %eax,(%rdi) */
	E(64, "\x84\x1f", ALU_MR(INSN_ALU_TEST, 1, RBX)),         /* test %bl,(%rdi) */
	E(64, "\xf0\x01\x07", ALU_MR(INSN_ALU_ADD, 4, RAX), .lock = true),
	/* group 1 and group 3 with immediates */
	E(64, "\x83\x0f\x01", ALU_MI(INSN_ALU_OR, 4, 1)),         /* orl $0x1,(%rdi) */
	E(64, "\x83\x27\xf0", ALU_MI(INSN_ALU_AND, 4, 0xfffffff0)), /* andl $-16,(%rdi) */
	E(64, "\x48\x83\x27\xf0", ALU_MI(INSN_ALU_AND, 8, 0xfffffffffffffff0ULL)),
	E(64, "\x66\x83\x27\xf0", ALU_MI(INSN_ALU_AND, 2, 0xfff0)),
	E(64, "\x81\x4f\x08\x00\x00\x00\x80", ALU_MI(INSN_ALU_OR, 4, 0x80000000)),
	E(64, "\x48\x81\x0f\x00\x00\x00\x80", ALU_MI(INSN_ALU_OR, 8, 0xffffffff80000000ULL)),
	E(64, "\x66\x81\x0f\x34\x12", ALU_MI(INSN_ALU_OR, 2, 0x1234)),
	E(64, "\x80\x3f\x05", ALU_MI(INSN_ALU_CMP, 1, 5)),        /* cmpb $0x5,(%rdi) */
	E(64, "\x80\x07\x80", ALU_MI(INSN_ALU_ADD, 1, 0x80)),
	E(64, "\x83\x7f\x04\xff", ALU_MI(INSN_ALU_CMP, 4, 0xffffffff)),
	E(64, "\x83\x17\x00", ALU_MI(INSN_ALU_ADC, 4, 0)),
	E(64, "\x83\x1f\x01", ALU_MI(INSN_ALU_SBB, 4, 1)),
	E(64, "\x83\x2f\x01", ALU_MI(INSN_ALU_SUB, 4, 1)),
	E(64, "\x83\x37\x01", ALU_MI(INSN_ALU_XOR, 4, 1)),
	E(64, "\x83\x07\x01", ALU_MI(INSN_ALU_ADD, 4, 1)),
	E(64, "\xf0\x83\x07\x01", ALU_MI(INSN_ALU_ADD, 4, 1), .lock = true),
	E(64, "\xf6\x07\x80", ALU_MI(INSN_ALU_TEST, 1, 0x80)),    /* testb $0x80,(%rdi) */
	E(64, "\xf7\x07\x00\x01\x00\x00", ALU_MI(INSN_ALU_TEST, 4, 0x100)),
	E(64, "\x48\xf7\x07\xff\xff\xff\xff", ALU_MI(INSN_ALU_TEST, 8, ~0ULL)),
	E(64, "\x66\xf7\x07\x01\x80", ALU_MI(INSN_ALU_TEST, 2, 0x8001)),

	/* 32-bit mode (compatibility mode or protected mode with CS.D) */
	E(32, "\x8b\x43\x04", LOAD(4, RAX)),                      /* mov 0x4(%ebx),%eax */
	E(32, "\x66\x89\x02", STORE(2, RAX)),                     /* mov %ax,(%edx) */
	E(32, "\x8b\x05\x00\x00\xc0\xfe", LOAD(4, RAX)),          /* mov 0xfec00000,%eax: no RIP-rel */
	E(32, "\x8b\x04\x25\x00\x00\xc0\xfe", LOAD(4, RAX)),
	E(32, "\x89\x34\x24", STORE(4, RSI)),                     /* mov %esi,(%esp) */
	E(32, "\x8a\x26", LOAD(1, RAX), .high8 = true),           /* mov (%esi),%ah */
	E(32, "\xa1\x00\x00\xc0\xfe", LOAD(4, RAX)),              /* moffs32 */
	E(32, "\x66\xa3\x00\x00\xc0\xfe", STORE(2, RAX)),
	E(32, "\x67\xa1\x34\x12", LOAD(4, RAX)),                  /* moffs16 */
	E(32, "\x67\x8b\x07", LOAD(4, RAX)),                      /* mov (%bx),%eax */
	E(32, "\x67\x8b\x06\x34\x12", LOAD(4, RAX)),              /* mov 0x1234,%eax (16-bit abs) */
	E(32, "\x67\x8b\x47\x04", LOAD(4, RAX)),                  /* mov 0x4(%bx),%eax */
	E(32, "\x67\x8b\x87\x34\x12", LOAD(4, RAX)),              /* mov 0x1234(%bx),%eax */
	E(32, "\x67\x8b\x46\x00", LOAD(4, RAX)),                  /* mov 0x0(%bp),%eax */
	E(32, "\x67\x8b\x00", LOAD(4, RAX)),                      /* mov (%bx,%si),%eax */
	E(32, "\x0f\xb6\x07", LOAD(1, RAX), .dst = 4),
	E(32, "\x66\x0f\xbe\x07", LOAD(1, RAX), .dst = 2, .sx = true),
	E(32, "\xc7\x07\x01\x00\x00\x00", STIMM(4, 1)),
	E(32, "\x82\x07\x01", ALU_MI(INSN_ALU_ADD, 1, 1)),        /* 82: alias of 80 outside 64-bit */
	E(32, "\x87\x07", .kind = INSN_XCHG, .size = 4, .reg = RAX),

	/* 16-bit mode */
	E(16, "\x8b\x07", LOAD(2, RAX)),                          /* mov (%bx),%ax */
	E(16, "\x66\x8b\x07", LOAD(4, RAX)),                      /* mov (%bx),%eax */
	E(16, "\x8b\x06\x34\x12", LOAD(2, RAX)),                  /* mov 0x1234,%ax */
	E(16, "\x67\x8b\x07", LOAD(2, RAX)),                      /* mov (%edi),%ax */
	E(16, "\x67\x8b\x04\x25\x00\x00\xc0\xfe", LOAD(2, RAX)),  /* 32-bit SIB */
	E(16, "\xa1\x34\x12", LOAD(2, RAX)),                      /* moffs16 */
	E(16, "\x67\xa1\x00\x00\xc0\xfe", LOAD(2, RAX)),          /* moffs32 */
	E(16, "\xc7\x07\x34\x12", STIMM(2, 0x1234)),
	E(16, "\x66\xc7\x07\x78\x56\x34\x12", STIMM(4, 0x12345678)),
	E(16, "\x83\x0f\xff", ALU_MI(INSN_ALU_OR, 2, 0xffff)),
};

/* Rejected however they are fetched. */
struct bad {
	unsigned mode;
	const char *code;
	size_t n;
	const char *why;
};

#define X(m, bytes, w) { m, bytes, sizeof(bytes) - 1, w }

static const struct bad bad[] = {
	X(64, "\x8b\xc0", "mov %eax,%eax: register-only ModRM"),
	X(64, "\x89\xc7", "mov %eax,%edi"),
	X(64, "\x01\xc0", "add %eax,%eax"),
	X(64, "\x83\xc0\x01", "add $1,%eax"),
	X(64, "\xf6\xc0\x01", "test $1,%al"),
	X(64, "\x0f\xb6\xc0", "movzbl %al,%eax"),
	X(64, "\x86\xc0", "xchg %al,%al"),
	X(64, "\xc7\xc0\x00\x00\x00\x00", "mov $0,%eax"),
	X(64, "\x48\x63\xc0", "movslq %eax,%rax"),
	X(64, "\xa4", "movsb"),
	X(64, "\xa5", "movsl"),
	X(64, "\xf3\xa5", "rep movsl"),
	X(64, "\xf3\x48\xa5", "rep movsq"),
	X(64, "\xa6", "cmpsb"),
	X(64, "\xa7", "cmpsl"),
	X(64, "\xaa", "stosb"),
	X(64, "\xf3\xab", "rep stosl"),
	X(64, "\xac", "lodsb"),
	X(64, "\xad", "lodsl"),
	X(64, "\xae", "scasb"),
	X(64, "\xaf", "scasl"),
	X(64, "\x6c", "insb"),
	X(64, "\x6d", "insl"),
	X(64, "\x6e", "outsb"),
	X(64, "\xf3\x6f", "rep outsl"),
	X(64, "\xff\x07", "incl (%rdi)"),
	X(64, "\xf7\x17", "notl (%rdi)"),
	X(64, "\xf6\x1f", "negb (%rdi)"),
	X(64, "\xf7\x27", "mull (%rdi)"),
	X(64, "\xf6\x0f\x01", "test /1 alias"),
	X(64, "\xc6\x4f\x10\xff", "C6 /1"),
	X(64, "\xc7\x4f\x04\x00\x00\x00\x00", "C7 /1"),
	X(64, "\x8d\x07", "lea (%rdi),%eax: no access"),
	X(64, "\x0f\x0b", "ud2"),
	X(64, "\x0f\xb8\x07", "0F B8"),
	X(64, "\x90", "nop"),
	X(64, "\x82\x07\x01", "82 in 64-bit mode"),
	X(64, "\x8e\x07", "mov (%rdi),%es"),
	X(64, "\xf3\x0f\xb6\x07", "F3 before 0F"),
	X(64, "\xf2\x0f\xb7\x07", "F2 before 0F"),
	X(64, "\xf0\x89\x07", "lock mov: #UD"),
	X(64, "\xf0\x8b\x07", "lock mov load: #UD"),
	X(64, "\xf0\x0f\xb6\x07", "lock movzx: #UD"),
	X(64, "\xf0\xc7\x07\x01\x00\x00\x00", "lock mov imm: #UD"),
	X(64, "\xf0\xa1\x00\x00\x00\x00\x00\x00\x00\x00", "lock moffs: #UD"),
	X(64, "\xf0\x39\x07", "lock cmp: #UD"),
	X(64, "\xf0\x80\x3f\x05", "lock cmp imm: #UD"),
	X(64, "\xf0\x85\x07", "lock test: #UD"),
	X(64, "\xf0\xf7\x07\x01\x00\x00\x00", "lock test imm: #UD"),
	X(64, "\xf0\x03\x07", "lock add to register: #UD"),
	X(32, "\x48\x8b\x07", "REX in 32-bit mode is dec %eax"),
	X(32, "\x40\x88\x37", "REX in 32-bit mode is inc %eax"),
	X(16, "\x48\x8b\x07", "REX in 16-bit mode is dec %ax"),
	X(32, "\x63\x07", "arpl outside 64-bit mode"),
	X(32, "\x8b\xc0", "register-only in 32-bit mode"),
	X(16, "\x8b\xc0", "register-only in 16-bit mode"),
	/* 16 bytes: 10 prefixes + a 6-byte instruction (SDM vol. 2, 2.3.11). */
	X(64, "\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x8b\x87\x30\x01\x00\x00", "16 bytes"),
	X(64, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x8b\x07", "14 prefixes + 2"),
	X(64, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x8b\x07", "17 prefixes"),
	X(16, "\x66\x67\x66\x67\x66\x67\x66\x67\x66\x67\x67\xc7\x84\x00\x00\x00\x00\x01\x00\x00\x00",
	  "long 16-bit-mode instruction"),
};

static void expect_enc(const struct enc *t, const struct insn *in, const char *what)
{
	cr_expect_eq(in->kind, t->kind, "%s: kind %d want %d", what, in->kind, t->kind);
	cr_expect_eq(in->size, t->size, "%s: size %u want %u", what, in->size, t->size);
	cr_expect_eq(in->reg, t->reg, "%s: reg %d want %d", what, in->reg, t->reg);
	cr_expect_eq(in->reg_high8, t->high8, "%s: high8", what);
	cr_expect_eq(in->dst_size, t->dst ? t->dst : t->size, "%s: dst_size %u", what,
		     in->dst_size);
	cr_expect_eq(in->sign_extend, t->sx, "%s: sign_extend", what);
	cr_expect_eq(in->lock, t->lock, "%s: lock", what);
	if (t->kind == INSN_ALU) {
		cr_expect_eq(in->alu_op, t->alu, "%s: alu_op %u want %u", what, in->alu_op, t->alu);
		cr_expect_eq(in->mem_is_dst, t->mdst, "%s: mem_is_dst", what);
		cr_expect_eq(in->mem_is_left, t->mleft, "%s: mem_is_left", what);
	} else {
		cr_expect_not(in->mem_is_dst, "%s: mem_is_dst", what);
	}
	cr_expect_eq(in->imm, t->imm, "%s: imm %#llx want %#llx", what,
		     (unsigned long long)in->imm, (unsigned long long)t->imm);
}

static void hex(char *buf, const char *code, size_t n)
{
	size_t i;

	buf[0] = 0;
	for (i = 0; i < n && i < 24; i++)
		sprintf(buf + 3 * i, "%02x ", (uint8_t)code[i]);
}

TestSuite(decode);

Test(decode, table)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		const struct enc *t = &good[i];
		uint8_t buf[32];
		char what[96], h[80];
		struct insn in;
		int rc;

		hex(h, t->code, t->n);
		snprintf(what, sizeof(what), "[%zu] mode %u: %s", i, t->mode, h);
		memcpy(buf, t->code, t->n);
		memset(&in, 0xa5, sizeof(in));
		rc = insn_decode(buf, t->n, t->mode, &in);
		cr_expect_eq(rc, 0, "%s: rc %d", what, rc);
		if (rc)
			continue;
		cr_expect_eq(in.len, t->n, "%s: len %u want %zu", what, in.len, t->n);
		expect_enc(t, &in, what);

		/* Trailing bytes don't change anything: len is exact. */
		memset(buf + t->n, 0x90, sizeof(buf) - t->n);
		memset(&in, 0, sizeof(in));
		rc = insn_decode(buf, sizeof(buf), t->mode, &in);
		cr_expect_eq(rc, 0, "%s + trailing: rc %d", what, rc);
		cr_expect_eq(in.len, t->n, "%s + trailing: len %u", what, in.len);
		expect_enc(t, &in, what);
	}
}

Test(decode, truncated_at_every_length)
{
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		const struct enc *t = &good[i];

		for (size_t n = 0; n < t->n; n++) {
			/* Exactly n bytes in a heap buffer: ASan catches any read past it. */
			uint8_t *buf = malloc(n ? n : 1);
			struct insn in;
			int rc;

			memcpy(buf, t->code, n);
			memset(&in, 0x5a, sizeof(in));
			rc = insn_decode(buf, n, t->mode, &in);
			cr_expect_eq(rc, -EFAULT, "[%zu] truncated to %zu of %zu: rc %d", i, n,
				     t->n, rc);
			free(buf);
		}
	}
}

Test(decode, rejects)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const struct bad *t = &bad[i];
		uint8_t buf[32];
		struct insn in, before;
		int rc;

		memcpy(buf, t->code, t->n);
		memset(buf + t->n, 0x90, sizeof(buf) - t->n); /* nop: not one */
		memset(&in, 0x5a, sizeof(in));
		before = in;
		/* With plenty of bytes after it, and with exactly its own. */
		rc = insn_decode(buf, sizeof(buf), t->mode, &in);
		cr_expect_eq(rc, -EINVAL, "[%zu] %s: rc %d (padded)", i, t->why, rc);
		rc = insn_decode(buf, t->n, t->mode, &in);
		cr_expect_eq(rc, -EINVAL, "[%zu] %s: rc %d", i, t->why, rc);
		cr_expect_eq(memcmp(&in, &before, sizeof(in)), 0, "[%zu] %s: *out written", i,
			     t->why);
	}
}

/* Bytes that end before the instruction does: the caller could not fetch the rest. */
Test(decode, runs_out)
{
	static const struct bad cut[] = {
		X(64, "", "empty"),
		X(64, "\x66", "prefix only"),
		X(64, "\x48", "REX only"),
		X(64, "\x0f", "escape only"),
		X(64, "\x8b", "opcode without ModRM"),
		X(64, "\x8b\x04", "ModRM without its SIB"),
		X(64, "\x8b\x87\x30\x01", "half a disp32"),
		X(16, "\x66\xc7\x07\x78\x56", "half an imm32 in 16-bit mode"),
		X(64, "\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e", "14 prefixes"),
	};

	for (size_t i = 0; i < ARRAY_SIZE(cut); i++) {
		const struct bad *t = &cut[i];
		uint8_t *buf = malloc(t->n ? t->n : 1);
		struct insn in;
		int rc;

		memcpy(buf, t->code, t->n);
		rc = insn_decode(buf, t->n, t->mode, &in);
		cr_expect_eq(rc, -EFAULT, "[%zu] %s: rc %d", i, t->why, rc);
		free(buf);
	}
}

Test(decode, fifteen_bytes_is_the_limit)
{
	uint8_t buf[32];
	struct insn in;
	unsigned np;

	/* N prefixes + mov 0x130(%rdi),%eax (6 bytes): 9 prefixes make 15. */
	for (np = 0; np <= 12; np++) {
		memset(buf, 0x3e, np);
		memcpy(buf + np, "\x8b\x87\x30\x01\x00\x00", 6);
		memset(buf + np + 6, 0x90, sizeof(buf) - np - 6);
		if (np + 6 <= INSN_MAX_LEN) {
			cr_expect_eq(insn_decode(buf, sizeof(buf), 64, &in), 0, "%u prefixes", np);
			cr_expect_eq(in.len, np + 6);
		} else {
			cr_expect_eq(insn_decode(buf, sizeof(buf), 64, &in), -EINVAL,
				     "%u prefixes", np);
		}
	}
}

Test(decode, bad_mode)
{
	struct insn in;

	cr_expect_eq(insn_decode((const uint8_t *)"\x8b\x07", 2, 0, &in), -EINVAL);
	cr_expect_eq(insn_decode((const uint8_t *)"\x8b\x07", 2, 8, &in), -EINVAL);
	cr_expect_eq(insn_decode((const uint8_t *)"\x8b\x07", 2, 128, &in), -EINVAL);
}

/* Every one-byte opcode either decodes to something with a memory access or is rejected. */
Test(decode, every_opcode_with_memory_modrm)
{
	static const unsigned modes[] = { 16, 32, 64 };

	for (unsigned m = 0; m < ARRAY_SIZE(modes); m++) {
		for (unsigned op = 0; op < 256; op++) {
			for (unsigned esc = 0; esc < 2; esc++) {
				uint8_t buf[16] = { 0 };
				struct insn in;
				int rc;
				size_t k = 0;

				if (esc)
					buf[k++] = 0x0f;
				buf[k++] = (uint8_t)op;
				buf[k++] = 0x80; /* mod 2, disp32/disp16 */
				rc = insn_decode(buf, sizeof(buf), modes[m], &in);
				if (rc) {
					cr_expect_eq(rc, -EINVAL);
					continue;
				}
				cr_expect_leq(in.len, INSN_MAX_LEN);
				cr_expect(in.size == 1 || in.size == 2 || in.size == 4 ||
					  in.size == 8, "op %02x size %u", op, in.size);
				cr_expect(in.reg >= -1 && in.reg < 16);
			}
		}
	}
}

/* ------------------------------------------------------------ emulation */

struct fake_mmio {
	uint64_t val;             /* returned by read */
	uint64_t written;
	unsigned nreads, nwrites;
	unsigned rd_size, wr_size;
	int read_rc, write_rc;
	unsigned order[4];        /* 'r' / 'w' in call order */
};

static struct fake_mmio mmio;

static int f_read(void *ctx, uint64_t *val, unsigned size)
{
	struct fake_mmio *f = ctx;

	cr_assert_eq(f, &mmio);
	if (f->nreads + f->nwrites < ARRAY_SIZE(f->order))
		f->order[f->nreads + f->nwrites] = 'r';
	f->nreads++;
	f->rd_size = size;
	if (f->read_rc)
		return f->read_rc;
	*val = f->val;
	return 0;
}

static int f_write(void *ctx, uint64_t val, unsigned size)
{
	struct fake_mmio *f = ctx;

	if (f->nreads + f->nwrites < ARRAY_SIZE(f->order))
		f->order[f->nreads + f->nwrites] = 'w';
	f->nwrites++;
	f->wr_size = size;
	if (f->write_rc)
		return f->write_rc;
	f->written = val;
	return 0;
}

static const struct insn_mem_ops mops = { f_read, f_write, &mmio };

static uint64_t regs[16];
static uint64_t rflags;

#define JUNK 0xdeadbeefcafef00dULL

static void emu_setup(void)
{
	memset(&mmio, 0, sizeof(mmio));
	for (unsigned i = 0; i < 16; i++)
		regs[i] = JUNK + i;
	rflags = 0x202;
}

TestSuite(decode_emulate, .init = emu_setup);

/* Decode bytes (64-bit mode unless mode) and emulate; returns insn_emulate's rc. */
static int run_mode(unsigned mode, const char *code, size_t n)
{
	struct insn in;

	cr_assert_eq(insn_decode((const uint8_t *)code, n, mode, &in), 0, "decode");
	return insn_emulate(&in, regs, &rflags, &mops);
}

#define RUN(bytes) run_mode(64, bytes, sizeof(bytes) - 1)
#define RUN32(bytes) run_mode(32, bytes, sizeof(bytes) - 1)

Test(decode_emulate, load32_zero_extends)
{
	mmio.val = 0x11223344;
	cr_assert_eq(RUN("\x8b\x07"), 0);
	cr_expect_eq(regs[RAX], 0x11223344);
	cr_expect_eq(mmio.nreads, 1);
	cr_expect_eq(mmio.rd_size, 4);
	cr_expect_eq(mmio.nwrites, 0);
	cr_expect_eq(regs[RDI], JUNK + RDI);
	cr_expect_eq(rflags, 0x202);
}

Test(decode_emulate, load8_and_load16_merge)
{
	mmio.val = 0x44;
	cr_assert_eq(RUN("\x8a\x07"), 0);                 /* mov (%rdi),%al */
	cr_expect_eq(regs[RAX], (JUNK & ~0xffULL) | 0x44);
	mmio.val = 0x5566;
	cr_assert_eq(RUN("\x66\x8b\x0f"), 0);             /* mov (%rdi),%cx */
	cr_expect_eq(regs[RCX], ((JUNK + RCX) & ~0xffffULL) | 0x5566);
	cr_expect_eq(mmio.rd_size, 2);
}

Test(decode_emulate, load_high8)
{
	mmio.val = 0x9a;
	cr_assert_eq(RUN("\x8a\x27"), 0);                 /* mov (%rdi),%ah */
	cr_expect_eq(regs[RAX], (JUNK & ~0xff00ULL) | 0x9a00);
	cr_assert_eq(RUN("\x8a\x3f"), 0);                 /* mov (%rdi),%bh */
	cr_expect_eq(regs[RBX], ((JUNK + RBX) & ~0xff00ULL) | 0x9a00);
	/* With REX the same encoding is %spl / %dil. */
	cr_assert_eq(RUN("\x40\x8a\x27"), 0);
	cr_expect_eq(regs[RSP], ((JUNK + RSP) & ~0xffULL) | 0x9a);
	cr_assert_eq(RUN("\x40\x8a\x3f"), 0);
	cr_expect_eq(regs[RDI], ((JUNK + RDI) & ~0xffULL) | 0x9a);
}

Test(decode_emulate, load64_and_rex_r)
{
	mmio.val = 0x0123456789abcdefULL;
	cr_assert_eq(RUN("\x48\x8b\x07"), 0);
	cr_expect_eq(regs[RAX], 0x0123456789abcdefULL);
	cr_expect_eq(mmio.rd_size, 8);
	mmio.val = 0xfffffffe;
	cr_assert_eq(RUN("\x44\x8b\x40\x10"), 0);         /* mov 0x10(%rax),%r8d */
	cr_expect_eq(regs[R8], 0xfffffffe);
	cr_assert_eq(RUN("\x4c\x8b\x3c\x24"), 0);         /* mov (%rsp),%r15 */
	cr_expect_eq(regs[R15], 0xfffffffe);
}

Test(decode_emulate, wide_read_value_truncated)
{
	mmio.val = ~0ULL;
	cr_assert_eq(RUN("\x8a\x07"), 0);
	cr_expect_eq(regs[RAX], JUNK | 0xff);
	cr_assert_eq(RUN("\x8b\x0f"), 0);
	cr_expect_eq(regs[RCX], 0xffffffff);
	cr_assert_eq(RUN("\x0f\xb6\x17"), 0);             /* movzbl */
	cr_expect_eq(regs[RDX], 0xff);
}

Test(decode_emulate, movzx)
{
	mmio.val = 0xf1;
	cr_assert_eq(RUN("\x0f\xb6\x07"), 0);             /* movzbl (%rdi),%eax */
	cr_expect_eq(regs[RAX], 0xf1);
	mmio.val = 0xf234;
	cr_assert_eq(RUN("\x0f\xb7\x4f\x04"), 0);         /* movzwl 4(%rdi),%ecx */
	cr_expect_eq(regs[RCX], 0xf234);
	cr_expect_eq(mmio.rd_size, 2);
	mmio.val = 0x80;
	cr_assert_eq(RUN("\x66\x0f\xb6\x17"), 0);         /* movzbw (%rdi),%dx: merges */
	cr_expect_eq(regs[RDX], ((JUNK + RDX) & ~0xffffULL) | 0x80);
	cr_assert_eq(RUN("\x48\x0f\xb6\x1f"), 0);         /* movzbq */
	cr_expect_eq(regs[RBX], 0x80);
}

Test(decode_emulate, movsx)
{
	mmio.val = 0x80;
	cr_assert_eq(RUN("\x0f\xbe\x07"), 0);             /* movsbl */
	cr_expect_eq(regs[RAX], 0xffffff80);
	mmio.val = 0x7f;
	cr_assert_eq(RUN("\x0f\xbe\x07"), 0);
	cr_expect_eq(regs[RAX], 0x7f);
	mmio.val = 0x8000;
	cr_assert_eq(RUN("\x48\x0f\xbf\x0f"), 0);         /* movswq */
	cr_expect_eq(regs[RCX], 0xffffffffffff8000ULL);
	mmio.val = 0x80;
	cr_assert_eq(RUN("\x66\x0f\xbe\x17"), 0);         /* movsbw */
	cr_expect_eq(regs[RDX], ((JUNK + RDX) & ~0xffffULL) | 0xff80);
	mmio.val = 0x80000000;
	cr_assert_eq(RUN("\x48\x63\x1f"), 0);             /* movslq */
	cr_expect_eq(regs[RBX], 0xffffffff80000000ULL);
	cr_assert_eq(RUN("\x63\x37"), 0);                 /* movsxd, no REX.W */
	cr_expect_eq(regs[RSI], 0x80000000);
}

Test(decode_emulate, stores)
{
	regs[RSI] = 0x1122334455667788ULL;
	cr_assert_eq(RUN("\x89\x37"), 0);                 /* mov %esi,(%rdi) */
	cr_expect_eq(mmio.written, 0x55667788);
	cr_expect_eq(mmio.wr_size, 4);
	cr_expect_eq(mmio.nreads, 0);
	cr_assert_eq(RUN("\x40\x88\x37"), 0);             /* mov %sil,(%rdi) */
	cr_expect_eq(mmio.written, 0x88);
	cr_expect_eq(mmio.wr_size, 1);
	regs[RDX] = 0xabcd;
	cr_assert_eq(RUN("\x88\x37"), 0);                 /* mov %dh,(%rdi) */
	cr_expect_eq(mmio.written, 0xab);
	cr_assert_eq(RUN("\x66\x89\x17"), 0);
	cr_expect_eq(mmio.written, 0xabcd);
	cr_expect_eq(mmio.wr_size, 2);
	cr_assert_eq(RUN("\x48\x89\x37"), 0);
	cr_expect_eq(mmio.written, 0x1122334455667788ULL);
	regs[R12] = 0x42;
	cr_assert_eq(RUN("\x44\x89\x20"), 0);             /* mov %r12d,(%rax) */
	cr_expect_eq(mmio.written, 0x42);
	regs[RAX] = 0x99;
	cr_assert_eq(RUN("\xa2\x00\x10\x00\x00\x00\x00\x00\x00"), 0);
	cr_expect_eq(mmio.written, 0x99);
	cr_expect_eq(mmio.wr_size, 1);
	cr_expect_eq(regs[RSI], 0x1122334455667788ULL);
	cr_expect_eq(rflags, 0x202);
}

Test(decode_emulate, store_imm)
{
	cr_assert_eq(RUN("\xc7\x07\x01\x00\x00\x00"), 0);
	cr_expect_eq(mmio.written, 1);
	cr_expect_eq(mmio.wr_size, 4);
	cr_assert_eq(RUN("\xc6\x47\x10\xff"), 0);
	cr_expect_eq(mmio.written, 0xff);
	cr_expect_eq(mmio.wr_size, 1);
	cr_assert_eq(RUN("\x48\xc7\x07\x00\x00\x00\x80"), 0);
	cr_expect_eq(mmio.written, 0xffffffff80000000ULL);
	cr_expect_eq(mmio.wr_size, 8);
	cr_expect_eq(mmio.nreads, 0);
}

Test(decode_emulate, xchg)
{
	mmio.val = 0xaabbccdd;
	regs[RCX] = 0xffffffff00000001ULL;
	cr_assert_eq(RUN("\x87\x0f"), 0);                 /* xchg %ecx,(%rdi) */
	cr_expect_eq(mmio.written, 1);
	cr_expect_eq(regs[RCX], 0xaabbccdd);
	cr_expect_eq(mmio.order[0], 'r');
	cr_expect_eq(mmio.order[1], 'w');
	mmio.val = 0x77;
	regs[RAX] = 0x1234;
	cr_assert_eq(RUN("\x86\x27"), 0);                 /* xchg %ah,(%rdi) */
	cr_expect_eq(mmio.written, 0x12);
	cr_expect_eq(regs[RAX], 0x7734);
}

Test(decode_emulate, moffs_32bit_mode)
{
	mmio.val = 0x12345678;
	regs[RAX] = ~0ULL;
	cr_assert_eq(RUN32("\x66\xa1\x00\x00\xc0\xfe"), 0);
	cr_expect_eq(regs[RAX], 0xffffffffffff5678ULL);
	cr_assert_eq(RUN32("\x8b\x43\x04"), 0);
	cr_expect_eq(regs[RAX], 0x12345678);
}

Test(decode_emulate, alu_or_imm_and_test)
{
	mmio.val = 0x100;
	cr_assert_eq(RUN("\x83\x0f\x01"), 0);             /* orl $1,(%rdi) */
	cr_expect_eq(mmio.written, 0x101);
	cr_expect_eq(mmio.wr_size, 4);
	cr_expect_eq(rflags & 0x8d5, 0);                  /* PF clear: 0x01 has odd parity */

	memset(&mmio, 0, sizeof(mmio));
	mmio.val = 0xf0;
	regs[RAX] = 0x0f;
	cr_assert_eq(RUN("\x85\x07"), 0);                 /* test %eax,(%rdi) */
	cr_expect_eq(mmio.nwrites, 0);
	cr_expect_eq(rflags & 0x8d5, 0x44);               /* ZF PF */
	cr_expect_eq(regs[RAX], 0x0f);

	mmio.val = 0x80;
	cr_assert_eq(RUN("\xf6\x07\x80"), 0);             /* testb $0x80,(%rdi) */
	cr_expect_eq(rflags & 0x8d5, 0x80);               /* SF */
	cr_expect_eq(mmio.nwrites, 0);
}

Test(decode_emulate, alu_cmp_directions)
{
	mmio.val = 5;
	regs[RAX] = 7;
	cr_assert_eq(RUN("\x3b\x07"), 0);                 /* cmp (%rdi),%eax: 7 - 5 */
	cr_expect_eq(rflags & 0x8d5, 0x00);
	cr_assert_eq(RUN("\x39\x07"), 0);                 /* cmp %eax,(%rdi): 5 - 7 */
	cr_expect_eq(rflags & 0x8d5, 0x91);               /* CF AF SF (0xfffffffe: odd parity) */
	cr_expect_eq(mmio.nwrites, 0);
	cr_expect_eq(regs[RAX], 7);
	cr_assert_eq(RUN("\x80\x3f\x05"), 0);             /* cmpb $5,(%rdi) */
	cr_expect_eq(rflags & 0x8d5, 0x44);
}

Test(decode_emulate, alu_to_register)
{
	mmio.val = 0x10;
	regs[RAX] = 0xffffffff00000003ULL;
	cr_assert_eq(RUN("\x03\x07"), 0);                 /* add (%rdi),%eax */
	cr_expect_eq(regs[RAX], 0x13);
	cr_expect_eq(mmio.nwrites, 0);
	regs[RCX] = 0x1201;
	cr_assert_eq(RUN("\x2a\x2f"), 0);                 /* sub (%rdi),%ch: 0x12 - 0x10 */
	cr_expect_eq(regs[RCX], 0x0201);
}

Test(decode_emulate, errors_leave_state)
{
	struct insn in;

	mmio.read_rc = -EIO;
	cr_expect_eq(RUN("\x8b\x07"), -EIO);
	cr_expect_eq(regs[RAX], JUNK);
	cr_expect_eq(RUN("\x83\x07\x01"), -EIO);
	cr_expect_eq(RUN("\x87\x07"), -EIO);
	cr_expect_eq(mmio.nwrites, 0);
	cr_expect_eq(rflags, 0x202);

	memset(&mmio, 0, sizeof(mmio));
	mmio.write_rc = -EBUSY;
	cr_expect_eq(RUN("\x89\x07"), -EBUSY);
	cr_expect_eq(RUN("\xc7\x07\x01\x00\x00\x00"), -EBUSY);
	mmio.val = 0;
	cr_expect_eq(RUN("\x83\x07\x00"), -EBUSY);        /* would set ZF */
	cr_expect_eq(rflags, 0x202);
	mmio.val = 0x55;
	cr_expect_eq(RUN("\x87\x07"), -EBUSY);
	cr_expect_eq(regs[RAX], JUNK);

	/* Structures insn_decode() never produces. */
	cr_assert_eq(insn_decode((const uint8_t *)"\x8b\x07", 2, 64, &in), 0);
	in.size = 3;
	cr_expect_eq(insn_emulate(&in, regs, &rflags, &mops), -EINVAL);
	in.size = 4;
	in.reg = 16;
	cr_expect_eq(insn_emulate(&in, regs, &rflags, &mops), -EINVAL);
	in.reg = -1;
	cr_expect_eq(insn_emulate(&in, regs, &rflags, &mops), -EINVAL);
	in.reg = 5;
	in.reg_high8 = true;
	cr_expect_eq(insn_emulate(&in, regs, &rflags, &mops), -EINVAL);
	in.reg_high8 = false;
	in.kind = (enum insn_kind)9;
	cr_expect_eq(insn_emulate(&in, regs, &rflags, &mops), -EINVAL);
	cr_assert_eq(insn_decode((const uint8_t *)"\x03\x07", 2, 64, &in), 0);
	in.alu_op = 9;
	cr_expect_eq(insn_emulate(&in, regs, &rflags, &mops), -EINVAL);
	in.alu_op = INSN_ALU_ADD;
	in.mem_is_dst = true;                             /* without mem_is_left */
	cr_expect_eq(insn_emulate(&in, regs, &rflags, &mops), -EINVAL);
}

/*
 * ALU results and flags against the host CPU executing the same operation
 * (a op b, CF in), so the reference is independent of decode.c.
 */
#define HOST_OP(OP, M)                                                        \
	__asm__ volatile("bt $0, %[cin]\n\t"                                  \
			 OP " %" M "[b], %" M "[a]\n\t"                       \
			 "lea -128(%%rsp), %%rsp\n\t"                         \
			 "pushfq\n\t"                                         \
			 "popq %[f]\n\t"                                      \
			 "lea 128(%%rsp), %%rsp"                              \
			 : [a] "+r"(x), [f] "=r"(fl)                          \
			 : [b] "r"(y), [cin] "r"(cin)                         \
			 : "cc")

#define HOST_SIZES(OP)                                                        \
	switch (size) {                                                       \
	case 1: HOST_OP(OP, "b"); break;                                      \
	case 2: HOST_OP(OP, "w"); break;                                      \
	case 4: HOST_OP(OP, "k"); break;                                      \
	default: HOST_OP(OP, "q"); break;                                     \
	}

static uint64_t host_alu(unsigned op, unsigned size, uint64_t a, uint64_t b,
			 uint64_t cin, uint64_t *flags)
{
	uint64_t x = a, y = b, fl = 0;

	switch (op) {
	case INSN_ALU_ADD: HOST_SIZES("add"); break;
	case INSN_ALU_OR: HOST_SIZES("or"); break;
	case INSN_ALU_ADC: HOST_SIZES("adc"); break;
	case INSN_ALU_SBB: HOST_SIZES("sbb"); break;
	case INSN_ALU_AND: HOST_SIZES("and"); break;
	case INSN_ALU_SUB: HOST_SIZES("sub"); break;
	case INSN_ALU_XOR: HOST_SIZES("xor"); break;
	case INSN_ALU_CMP: HOST_SIZES("cmp"); break;
	default: HOST_SIZES("test"); break;
	}
	*flags = fl;
	return size == 8 ? x : x & ((1ULL << (8 * size)) - 1);
}

static const uint64_t vals[] = {
	0, 1, 2, 0x0f, 0x10, 0x7f, 0x80, 0x81, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
	0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
	0x8000000000000000ULL, 0xffffffffffffffffULL, 0x123456789abcdef0ULL,
	0xfedcba9876543210ULL, 0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL,
};

static uint64_t mask_of(unsigned size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* The encoding of "op mem, reg" (left = mem) or "op reg, mem" for op and size, reg %ecx. */
static size_t alu_encoding(unsigned op, unsigned size, bool mem_left, uint8_t *buf)
{
	size_t k = 0;

	if (size == 2)
		buf[k++] = 0x66;
	if (size == 8)
		buf[k++] = 0x48;
	if (op == INSN_ALU_TEST)
		buf[k++] = size == 1 ? 0x84 : 0x85;
	else
		buf[k++] = (uint8_t)(op * 8 + (mem_left ? 0 : 2) + (size == 1 ? 0 : 1));
	buf[k++] = 0x0f; /* reg %ecx/%cl, (%rdi) */
	return k;
}

Test(decode_emulate, alu_flags_match_host_cpu)
{
	const uint64_t arith = 0x8d5;
	unsigned checked = 0, failed = 0;

	for (unsigned op = 0; op <= INSN_ALU_TEST; op++)
	for (unsigned si = 0; si < 4; si++)
	for (unsigned dir = 0; dir < 2; dir++)
	for (unsigned ai = 0; ai < ARRAY_SIZE(vals); ai++)
	for (unsigned bi = 0; bi < ARRAY_SIZE(vals); bi++)
	for (uint64_t cin = 0; cin < 2; cin++) {
		unsigned size = 1u << si;
		bool mem_left = dir == 0;
		uint64_t a = vals[ai], b = vals[bi], m = mask_of(size);
		uint64_t want, want_fl, got, care = arith;
		uint8_t code[8];
		size_t n;
		struct insn in;
		bool writes_reg;

		if (op == INSN_ALU_TEST && !mem_left)
			continue;
		n = alu_encoding(op, size, mem_left, code);
		cr_assert_eq(insn_decode(code, n, 64, &in), 0, "op %u size %u", op, size);
		want = host_alu(op, size, a, b, cin, &want_fl);
		if (op == INSN_ALU_OR || op == INSN_ALU_AND || op == INSN_ALU_XOR ||
		    op == INSN_ALU_TEST)
			care &= ~0x10ULL; /* AF undefined (SDM) */

		memset(&mmio, 0, sizeof(mmio));
		/* Left operand a, right operand b. */
		mmio.val = mem_left ? a : b;
		regs[RCX] = mem_left ? b : a;
		/* Start with the other arithmetic flags set, to see them cleared. */
		rflags = 0x202 | (arith & ~1ULL) | cin;
		cr_assert_eq(insn_emulate(&in, regs, &rflags, &mops), 0);
		writes_reg = !mem_left && op != INSN_ALU_CMP;
		if (in.mem_is_dst) {
			cr_assert_eq(mmio.nwrites, 1);
			got = mmio.written;
		} else {
			cr_assert_eq(mmio.nwrites, 0);
			got = writes_reg ? regs[RCX] & m : want;
		}
		if (writes_reg && size == 4)
			cr_assert_eq(regs[RCX] >> 32, 0, "32-bit result zero-extends");
		if (writes_reg && size < 4)
			cr_assert_eq(regs[RCX] & ~m, a & ~m, "narrow result merges");
		checked++;
		if (got != want || ((rflags ^ want_fl) & care) || (rflags & ~arith) != 0x202 ||
		    (!(care & 0x10) && (rflags & 0x10))) {
			if (failed++ < 20)
				cr_expect_fail("op %u size %u %s a %#llx b %#llx cf %llu: got %#llx "
					       "fl %#llx, cpu %#llx fl %#llx", op, size,
					       mem_left ? "mem,reg" : "reg,mem",
					       (unsigned long long)a, (unsigned long long)b,
					       (unsigned long long)cin, (unsigned long long)got,
					       (unsigned long long)rflags,
					       (unsigned long long)want,
					       (unsigned long long)want_fl);
		}
	}
	cr_expect_eq(failed, 0, "%u of %u ALU cases differ from the CPU", failed, checked);
	cr_expect_gt(checked, 30000);
}

/* Immediate forms: the sign-extended immediate is the right operand. */
Test(decode_emulate, alu_imm_matches_host_cpu)
{
	static const struct {
		const char *code;
		size_t n;
		unsigned op, size;
		uint64_t imm;
	} f[] = {
		{ "\x83\x07\xff", 3, INSN_ALU_ADD, 4, 0xffffffff },
		{ "\x48\x83\x2f\x80", 4, INSN_ALU_SUB, 8, 0xffffffffffffff80ULL },
		{ "\x66\x83\x17\x7f", 4, INSN_ALU_ADC, 2, 0x7f },
		{ "\x80\x1f\x80", 3, INSN_ALU_SBB, 1, 0x80 },
		{ "\x81\x3f\x00\x00\x00\x80", 6, INSN_ALU_CMP, 4, 0x80000000 },
		{ "\x48\x81\x27\x00\xff\xff\xff", 7, INSN_ALU_AND, 8, 0xffffffffffffff00ULL },
		{ "\x48\xf7\x07\x01\x00\x00\x80", 7, INSN_ALU_TEST, 8, 0xffffffff80000001ULL },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(f); i++)
	for (unsigned ai = 0; ai < ARRAY_SIZE(vals); ai++)
	for (uint64_t cin = 0; cin < 2; cin++) {
		struct insn in;
		uint64_t want, want_fl, care = 0x8d5, got;

		cr_assert_eq(insn_decode((const uint8_t *)f[i].code, f[i].n, 64, &in), 0);
		cr_assert_eq(in.imm, f[i].imm, "[%u] imm %#llx", i, (unsigned long long)in.imm);
		if (f[i].op == INSN_ALU_AND || f[i].op == INSN_ALU_TEST)
			care &= ~0x10ULL;
		want = host_alu(f[i].op, f[i].size, vals[ai], f[i].imm, cin, &want_fl);
		memset(&mmio, 0, sizeof(mmio));
		mmio.val = vals[ai];
		rflags = 0x202 | cin;
		cr_assert_eq(insn_emulate(&in, regs, &rflags, &mops), 0);
		got = in.mem_is_dst ? mmio.written : want;
		cr_expect_eq(got, want, "[%u] a %#llx", i, (unsigned long long)vals[ai]);
		cr_expect_eq(rflags & care, want_fl & care, "[%u] a %#llx cf %llu: fl %#llx cpu %#llx",
			     i, (unsigned long long)vals[ai], (unsigned long long)cin,
			     (unsigned long long)rflags, (unsigned long long)want_fl);
		cr_expect_eq(mmio.nwrites, in.mem_is_dst ? 1u : 0u);
	}
}

/* ------------------------------------------------------------ exiting instructions: length */

struct sys_enc {
	unsigned mode;
	const char *code;
	size_t n;
	enum insn_sys_op op;
};

#define S(m, bytes, o) { m, bytes, sizeof(bytes) - 1, o }

static const struct sys_enc sys_good[] = {
	S(64, "\x0f\xa2", INSN_SYS_CPUID),
	S(64, "\x0f\x32", INSN_SYS_RDMSR),
	S(64, "\x0f\x30", INSN_SYS_WRMSR),
	S(64, "\x0f\x08", INSN_SYS_INVD),
	S(64, "\x0f\x09", INSN_SYS_WBINVD),
	S(64, "\x0f\x01\xd1", INSN_SYS_XSETBV),
	S(64, "\x0f\x01\xc1", INSN_SYS_VMCALL),
	S(64, "\x0f\x01\xd9", INSN_SYS_VMMCALL),
	S(64, "\xf4", INSN_SYS_HLT),
	/* What the emul test guest executes. */
	S(64, "\x66\x0f\xa2", INSN_SYS_CPUID),
	S(64, "\x2e\x3e\x0f\xa2", INSN_SYS_CPUID),
	S(64, "\x48\x0f\x32", INSN_SYS_RDMSR),
	S(64, "\x48\x0f\x30", INSN_SYS_WRMSR),
	S(64, "\x66\x2e\x48\x0f\x30", INSN_SYS_WRMSR),
	S(64, "\x2e\x0f\x01\xd9", INSN_SYS_VMMCALL),
	S(64, "\x3e\x0f\x01\xc1", INSN_SYS_VMCALL),
	S(64, "\x2e\x0f\x01\xd1", INSN_SYS_XSETBV),
	S(64, "\x2e\x0f\x08", INSN_SYS_INVD),
	S(64, "\x3e\xf4", INSN_SYS_HLT),
	S(32, "\x66\x0f\xa2", INSN_SYS_CPUID),
	S(16, "\x66\x0f\xa2", INSN_SYS_CPUID),
	/* Every legacy prefix, REX (and REX.W/R/X/B, or several), REX before a legacy prefix. */
	S(64, "\x66\x67\xf2\xf3\xf0\x2e\x36\x3e\x26\x64\x65\x0f\xa2", INSN_SYS_CPUID),
	S(32, "\x66\x67\xf2\xf3\xf0\x2e\x36\x3e\x26\x64\x65\x0f\x32", INSN_SYS_RDMSR),
	S(16, "\x26\x64\x65\x67\x0f\x01\xd9", INSN_SYS_VMMCALL),
	S(64, "\x4f\x0f\x30", INSN_SYS_WRMSR),
	S(64, "\x40\x41\x0f\x01\xd9", INSN_SYS_VMMCALL),
	S(64, "\x48\x66\x0f\xa2", INSN_SYS_CPUID),
	S(64, "\x41\xf4", INSN_SYS_HLT),
	/* 15 bytes exactly: the longest legal instruction. */
	S(64, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x0f\x01\xd9", INSN_SYS_VMMCALL),
	S(64, "\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x48\x0f\x32", INSN_SYS_RDMSR),
	S(16, "\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x0f\xa2", INSN_SYS_CPUID),
};

TestSuite(decode_sys);

Test(decode_sys, table)
{
	for (size_t i = 0; i < ARRAY_SIZE(sys_good); i++) {
		const struct sys_enc *t = &sys_good[i];
		uint8_t buf[32];
		enum insn_sys_op op;
		uint8_t len;
		char h[80];
		int rc;

		hex(h, t->code, t->n);
		memcpy(buf, t->code, t->n);
		op = (enum insn_sys_op)99;
		len = 99;
		rc = insn_decode_sys(buf, t->n, t->mode, &op, &len);
		cr_expect_eq(rc, 0, "[%zu] mode %u %s: rc %d", i, t->mode, h, rc);
		cr_expect_eq(op, t->op, "[%zu] %s: op %d want %d", i, h, op, t->op);
		cr_expect_eq(len, t->n, "[%zu] %s: len %u want %zu", i, h, len, t->n);

		/* Whatever follows (here ModRM-looking bytes and more prefixes) is not counted. */
		memset(buf + t->n, 0x66, sizeof(buf) - t->n);
		rc = insn_decode_sys(buf, sizeof(buf), t->mode, &op, &len);
		cr_expect_eq(rc, 0, "[%zu] %s + trailing: rc %d", i, h, rc);
		cr_expect_eq(len, t->n, "[%zu] %s + trailing: len %u", i, h, len);
	}
}

Test(decode_sys, truncated_at_every_length)
{
	for (size_t i = 0; i < ARRAY_SIZE(sys_good); i++) {
		const struct sys_enc *t = &sys_good[i];

		for (size_t n = 0; n < t->n; n++) {
			uint8_t *buf = malloc(n ? n : 1); /* ASan catches a read past n */
			enum insn_sys_op op = (enum insn_sys_op)99;
			uint8_t len = 99;
			int rc;

			memcpy(buf, t->code, n);
			rc = insn_decode_sys(buf, n, t->mode, &op, &len);
			cr_expect_eq(rc, -EFAULT, "[%zu] truncated to %zu of %zu: rc %d", i, n,
				     t->n, rc);
			cr_expect(op == (enum insn_sys_op)99 && len == 99, "[%zu] outputs written", i);
			free(buf);
		}
	}
}

Test(decode_sys, rejects)
{
	static const struct bad sys_bad[] = {
		X(64, "\x90", "nop"),
		X(64, "\x0f\x0b", "ud2"),
		X(64, "\x0f\xa3\xc0", "bt: 0F A3 is not CPUID"),
		X(64, "\x0f\x31", "rdtsc"),
		X(64, "\x0f\x33", "rdpmc"),
		X(64, "\x0f\x01\xd8", "vmrun"),
		X(64, "\x0f\x01\xd0", "xgetbv"),
		X(64, "\x0f\x01\xc2", "vmlaunch"),
		X(64, "\x0f\x01\xda", "vmload"),
		X(64, "\x0f\x01\x10", "lgdt (%rax): group 7 with memory"),
		X(64, "\x0f\x01\x19", "lidt (%rcx): memory form of D9's reg field"),
		X(64, "\xc5\xf8\x77", "VEX vzeroupper"),
		X(64, "\xcc", "int3"),
		X(32, "\x48\x0f\x32", "REX in 32-bit mode is dec %eax"),
		X(16, "\x41\x0f\xa2", "REX in 16-bit mode is inc %cx"),
		X(32, "\x66\x40\xf4", "inc then hlt: two instructions"),
		/* 16 bytes: 13 prefixes + VMMCALL; 14 + CPUID; 15 prefixes + HLT. */
		X(64, "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x0f\x01\xd9", "16-byte vmmcall"),
		X(64, "\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x0f\xa2", "16-byte cpuid"),
		X(16, "\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\x3e\xf4", "16-byte hlt"),
		X(64, "\x48\x48\x48\x48\x48\x48\x48\x48\x48\x48\x48\x48\x48\x48\x48\x48\x0f\xa2",
		  "16 REX prefixes"),
	};

	for (size_t i = 0; i < ARRAY_SIZE(sys_bad); i++) {
		const struct bad *t = &sys_bad[i];
		uint8_t buf[32];
		enum insn_sys_op op = (enum insn_sys_op)99;
		uint8_t len = 99;
		int rc;

		memcpy(buf, t->code, t->n);
		memset(buf + t->n, 0x90, sizeof(buf) - t->n);
		rc = insn_decode_sys(buf, sizeof(buf), t->mode, &op, &len);
		cr_expect_eq(rc, -EINVAL, "[%zu] %s: rc %d (padded)", i, t->why, rc);
		if (t->n >= INSN_MAX_LEN) {
			rc = insn_decode_sys(buf, t->n, t->mode, &op, &len);
			cr_expect_eq(rc, -EINVAL, "[%zu] %s: rc %d", i, t->why, rc);
		}
		cr_expect(op == (enum insn_sys_op)99 && len == 99, "[%zu] %s: outputs written", i,
			  t->why);
	}
}

Test(decode_sys, bad_mode)
{
	enum insn_sys_op op;
	uint8_t len;

	cr_expect_eq(insn_decode_sys((const uint8_t *)"\x0f\xa2", 2, 0, &op, &len), -EINVAL);
	cr_expect_eq(insn_decode_sys((const uint8_t *)"\x0f\xa2", 2, 8, &op, &len), -EINVAL);
	cr_expect_eq(insn_decode_sys((const uint8_t *)"\x0f\xa2", 2, 63, &op, &len), -EINVAL);
}

/* Every two-byte 0F xx and 0F 01 xx: exactly the listed ones decode, all 2 or 3 bytes. */
Test(decode_sys, every_0f_opcode)
{
	static const unsigned modes[] = { 16, 32, 64 };

	for (unsigned m = 0; m < ARRAY_SIZE(modes); m++) {
		unsigned found = 0;

		for (unsigned b = 0; b < 256; b++) {
			for (unsigned grp = 0; grp < 2; grp++) {
				uint8_t buf[4] = { 0x0f, (uint8_t)b, 0, 0 };
				enum insn_sys_op op;
				uint8_t len;
				int rc;

				if (grp) {
					buf[1] = 0x01;
					buf[2] = (uint8_t)b;
				}
				rc = insn_decode_sys(buf, sizeof(buf), modes[m], &op, &len);
				if (rc) {
					cr_expect_eq(rc, -EINVAL, "0f %s%02x: rc %d", grp ? "01 " : "", b, rc);
					continue;
				}
				found++;
				cr_expect_eq(len, grp ? 3 : 2, "0f %s%02x: len %u", grp ? "01 " : "", b, len);
			}
		}
		/* CPUID RDMSR WRMSR INVD WBINVD; XSETBV VMCALL VMMCALL */
		cr_expect_eq(found, 8, "mode %u: %u opcodes decode", modes[m], found);
	}
}
