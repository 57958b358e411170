/* SPDX-License-Identifier: Apache-2.0 */
/* decode.c: decodes and emulates the x86 instructions a guest uses on emulated MMIO. */
#include "lib/base.h"
#include "arch/x86/decode.h"

/* RFLAGS arithmetic flags (SDM vol. 1, 3.4.3.1). */
#define FL_CF (1ULL << 0)
#define FL_PF (1ULL << 2)
#define FL_AF (1ULL << 4)
#define FL_ZF (1ULL << 6)
#define FL_SF (1ULL << 7)
#define FL_OF (1ULL << 11)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

#define REX_W 8
#define REX_R 4

/* Bytes of the instruction not yet consumed, bounded by avail and 15. */
struct cursor {
	const uint8_t *code;
	size_t limit;
	size_t pos;
	bool ran_out; /* needed a byte past avail, with avail < INSN_MAX_LEN */
};

static void cursor_init(struct cursor *c, const uint8_t *code, size_t avail)
{
	c->code = code;
	c->limit = MIN(avail, (size_t)INSN_MAX_LEN);
	c->pos = 0;
	c->ran_out = false;
}

static bool get_bytes(struct cursor *c, unsigned n, uint64_t *val)
{
	uint64_t v = 0;
	unsigned i;

	if (c->limit - c->pos < n) {
		/* Past 15 bytes the instruction is too long; before, the caller had no more. */
		c->ran_out = c->limit < INSN_MAX_LEN;
		return false;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)c->code[c->pos + i] << (8 * i);
	c->pos += n;
	*val = v;
	return true;
}

static bool get8(struct cursor *c, uint8_t *b)
{
	uint64_t v;

	if (!get_bytes(c, 1, &v))
		return false;
	*b = (uint8_t)v;
	return true;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static uint64_t sign_extend(uint64_t v, unsigned size)
{
	unsigned shift = 64 - 8 * size;

	return (uint64_t)((int64_t)(v << shift) >> shift);
}

/*
 * Consume a ModRM byte with its SIB and displacement, which must name
 * memory (SDM vol. 2, 2.1.5, tables 2-1 to 2-3).  16-bit addressing has
 * no SIB; with 32/64-bit addressing r/m 4 means a SIB follows, and mod 0
 * with r/m 5 (RIP-relative in 64-bit mode) or SIB base 5 means disp32
 * alone.  REX.B does not change these cases (2.2.1.2, table 2-5).
 */
static int get_modrm(struct cursor *c, unsigned addr_bits, uint8_t *modrm)
{
	unsigned mod, rm, disp = 0;
	uint8_t m, sib;
	uint64_t skip;

	if (!get8(c, &m))
		return -EINVAL;
	mod = m >> 6;
	rm = m & 7;
	if (mod == 3)
		return -EINVAL; /* a register, not memory */
	if (addr_bits == 16) {
		if (mod == 1)
			disp = 1;
		else if (mod == 2 || rm == 6)
			disp = 2;
	} else {
		if (rm == 4) {
			if (!get8(c, &sib))
				return -EINVAL;
			if (mod == 0 && (sib & 7) == 5)
				disp = 4;
		} else if (mod == 0 && rm == 5) {
			disp = 4;
		}
		if (mod == 1)
			disp = 1;
		else if (mod == 2)
			disp = 4;
	}
	if (disp && !get_bytes(c, disp, &skip))
		return -EINVAL;
	*modrm = m;
	return 0;
}

/*
 * An immediate of an operation of size bytes: ib, or iz (imm16 for
 * 16-bit operands, else imm32 sign-extended), masked to size.
 */
static bool get_imm(struct cursor *c, bool byte, unsigned size, uint64_t *imm)
{
	unsigned n = byte ? 1 : size == 2 ? 2 : 4;
	uint64_t v;

	if (!get_bytes(c, n, &v))
		return false;
	*imm = sign_extend(v, n) & size_mask(size);
	return true;
}

/* The ModRM reg field as a GPR operand of size bytes (SDM vol. 2, 3.1.1.3, table 3-1). */
static void set_reg(struct insn *out, uint8_t modrm, uint8_t rex, unsigned size)
{
	unsigned r = ((modrm >> 3) & 7) | (rex & REX_R ? 8 : 0);

	out->reg_high8 = size == 1 && !rex && r >= 4;
	out->reg = (int8_t)(out->reg_high8 ? r - 4 : r);
}

/* Legacy prefixes seen before the opcode, and the REX prefix right before it. */
struct prefixes {
	bool opsize, addrsize, lock, rep;
	uint8_t rex;
};

/*
 * Consume the prefixes and put the first opcode byte in *op (false when
 * the bytes end first): legacy prefixes in any order, then REX right
 * before the opcode (SDM vol. 2, 2.1.1, 2.2.1).  Outside 64-bit mode 40-4F are INC/DEC, so they end up as the
 * opcode.  A REX followed by a legacy prefix is ignored, as the CPU
 * ignores it; it still counts towards the length.
 */
static bool get_opcode(struct cursor *c, unsigned mode, struct prefixes *p, uint8_t *op)
{
	memset(p, 0, sizeof(*p));
	for (;;) {
		if (!get8(c, op))
			return false;
		if (mode == 64 && (*op & 0xf0) == 0x40) {
			p->rex = *op; /* a later one replaces it */
			continue;
		}
		switch (*op) {
		case 0x66:
			p->opsize = true;
			break;
		case 0x67:
			p->addrsize = true;
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
			break;
		case 0xf0:
			p->lock = true;
			break;
		case 0xf2: case 0xf3:
			p->rep = true;
			break;
		default:
			return true;
		}
		p->rex = 0;
	}
}

static int decode(struct cursor *c, unsigned mode, struct insn *out)
{
	bool lockable = false, byte;
	unsigned osz, addr_bits;
	uint8_t rex, op, modrm;
	struct prefixes pfx;
	struct insn in;
	uint64_t skip;

	if (!get_opcode(c, mode, &pfx, &op))
		return -EINVAL;
	rex = pfx.rex;
	if (mode == 64)
		osz = rex & REX_W ? 8 : pfx.opsize ? 2 : 4;
	else
		osz = (mode == 32) != pfx.opsize ? 4 : 2;
	if (mode == 64)
		addr_bits = pfx.addrsize ? 32 : 64;
	else
		addr_bits = (mode == 32) != pfx.addrsize ? 32 : 16;

	memset(&in, 0, sizeof(in));
	in.reg = -1;

	if (op == 0x0f) {
		/* F2/F3 before 0F select other instructions (POPCNT, TZCNT, SSE). */
		if (pfx.rep || !get8(c, &op))
			return -EINVAL;
		switch (op) {
		case 0xb6: case 0xb7: /* MOVZX */
		case 0xbe: case 0xbf: /* MOVSX */
			if (get_modrm(c, addr_bits, &modrm))
				return -EINVAL;
			in.kind = INSN_LOAD;
			in.size = op & 1 ? 2 : 1;
			in.dst_size = (uint8_t)osz;
			in.sign_extend = op >= 0xbe;
			set_reg(&in, modrm, rex, osz);
			goto done;
		default:
			return -EINVAL;
		}
	}

	byte = !(op & 1);
	if (op < 0x40 && (op & 7) < 4) {
		/* 00-3B: ADD OR ADC SBB AND SUB XOR CMP, Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev. */
		bool reg_dst = op & 2;

		if (get_modrm(c, addr_bits, &modrm))
			return -EINVAL;
		in.kind = INSN_ALU;
		in.alu_op = op >> 3;
		in.size = (uint8_t)(byte ? 1 : osz);
		in.mem_is_left = !reg_dst;
		in.mem_is_dst = !reg_dst && in.alu_op != INSN_ALU_CMP;
		lockable = in.mem_is_dst;
		set_reg(&in, modrm, rex, in.size);
		goto done;
	}

	switch (op) {
	case 0x63: /* MOVSXD Gv, Ed; ARPL outside 64-bit mode */
		if (mode != 64 || get_modrm(c, addr_bits, &modrm))
			return -EINVAL;
		in.kind = INSN_LOAD;
		in.size = (uint8_t)(osz == 8 ? 4 : osz);
		in.dst_size = (uint8_t)osz;
		in.sign_extend = osz == 8;
		set_reg(&in, modrm, rex, osz);
		break;
	case 0x82: /* alias of 80, invalid in 64-bit mode (SDM vol. 2, table A-2) */
		if (mode == 64)
			return -EINVAL;
		/* fall through */
	case 0x80: case 0x81: case 0x83: /* group 1: Eb,Ib / Ev,Iz / Ev,Ib */
		if (get_modrm(c, addr_bits, &modrm))
			return -EINVAL;
		in.kind = INSN_ALU;
		in.alu_op = (modrm >> 3) & 7;
		in.size = (uint8_t)(op == 0x80 || op == 0x82 ? 1 : osz);
		if (!get_imm(c, op != 0x81, in.size, &in.imm))
			return -EINVAL;
		in.mem_is_left = true;
		in.mem_is_dst = in.alu_op != INSN_ALU_CMP;
		lockable = in.mem_is_dst;
		break;
	case 0x84: case 0x85: /* TEST Eb,Gb / Ev,Gv */
	case 0x86: case 0x87: /* XCHG Eb,Gb / Ev,Gv */
	case 0x88: case 0x89: /* MOV Eb,Gb / Ev,Gv */
	case 0x8a: case 0x8b: /* MOV Gb,Eb / Gv,Ev */
		if (get_modrm(c, addr_bits, &modrm))
			return -EINVAL;
		in.size = (uint8_t)(byte ? 1 : osz);
		set_reg(&in, modrm, rex, in.size);
		if (op <= 0x85) {
			in.kind = INSN_ALU;
			in.alu_op = INSN_ALU_TEST;
			in.mem_is_left = true;
		} else if (op <= 0x87) {
			in.kind = INSN_XCHG;
			lockable = true;
		} else {
			in.kind = op <= 0x89 ? INSN_STORE : INSN_LOAD;
		}
		break;
	case 0xa0: case 0xa1: /* MOV AL/rAX, moffs */
	case 0xa2: case 0xa3: /* MOV moffs, AL/rAX */
		/* The offset is as wide as the address size (SDM vol. 2, MOV, note 3). */
		if (!get_bytes(c, addr_bits / 8, &skip))
			return -EINVAL;
		in.kind = op <= 0xa1 ? INSN_LOAD : INSN_STORE;
		in.size = (uint8_t)(byte ? 1 : osz);
		in.reg = 0;
		break;
	case 0xc6: case 0xc7: /* group 11: MOV Eb,Ib / Ev,Iz */
	case 0xf6: case 0xf7: /* group 3 /0: TEST Eb,Ib / Ev,Iz */
		if (get_modrm(c, addr_bits, &modrm) || (modrm & 0x38))
			return -EINVAL;
		in.size = (uint8_t)(byte ? 1 : osz);
		if (!get_imm(c, byte, in.size, &in.imm))
			return -EINVAL;
		if (op <= 0xc7) {
			in.kind = INSN_STORE_IMM;
		} else {
			in.kind = INSN_ALU;
			in.alu_op = INSN_ALU_TEST;
			in.mem_is_left = true;
		}
		break;
	default:
		/* Everything else, string operations (A4-A7, AA-AF, 6C-6F) included. */
		return -EINVAL;
	}
done:
	/* LOCK elsewhere is #UD (SDM vol. 2, LOCK). */
	if (pfx.lock && !lockable)
		return -EINVAL;
	if (in.kind == INSN_LOAD) {
		if (!in.dst_size)
			in.dst_size = in.size;
	} else {
		in.dst_size = in.size;
	}
	in.lock = pfx.lock;
	in.len = (uint8_t)c->pos;
	*out = in;
	return 0;
}

int insn_decode(const uint8_t *code, size_t avail, unsigned mode, struct insn *out)
{
	struct cursor c;
	int rc;

	if (mode != 16 && mode != 32 && mode != 64)
		return -EINVAL;
	cursor_init(&c, code, avail);
	rc = decode(&c, mode, out);
	return rc && c.ran_out ? -EFAULT : rc;
}

int insn_decode_sys(const uint8_t *code, size_t avail, unsigned mode, enum insn_sys_op *op,
		    uint8_t *len)
{
	struct prefixes pfx;
	struct cursor c;
	enum insn_sys_op o;
	uint8_t b;

	if (mode != 16 && mode != 32 && mode != 64)
		return -EINVAL;
	cursor_init(&c, code, avail);
	if (!get_opcode(&c, mode, &pfx, &b))
		goto short_or_long;
	if (b == 0xf4) {
		o = INSN_SYS_HLT;
		goto done;
	}
	if (b != 0x0f)
		return -EINVAL;
	if (!get8(&c, &b))
		goto short_or_long;
	switch (b) {
	case 0xa2: o = INSN_SYS_CPUID; break;
	case 0x32: o = INSN_SYS_RDMSR; break;
	case 0x30: o = INSN_SYS_WRMSR; break;
	case 0x08: o = INSN_SYS_INVD; break;
	case 0x09: o = INSN_SYS_WBINVD; break;
	case 0x01:
		/* Group 7 with a register ModRM (SDM vol. 2, table A-6). */
		if (!get8(&c, &b))
			goto short_or_long;
		switch (b) {
		case 0xc1: o = INSN_SYS_VMCALL; break;
		case 0xd1: o = INSN_SYS_XSETBV; break;
		case 0xd9: o = INSN_SYS_VMMCALL; break;
		default: return -EINVAL;
		}
		break;
	default:
		return -EINVAL;
	}
done:
	*op = o;
	*len = (uint8_t)c.pos;
	return 0;
short_or_long:
	return c.ran_out ? -EFAULT : -EINVAL;
}

/* ------------------------------------------------------------ emulation */

static bool valid_size(unsigned s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

static uint64_t reg_get(const uint64_t *regs, const struct insn *in, unsigned size)
{
	uint64_t v = regs[in->reg];

	return (in->reg_high8 ? v >> 8 : v) & size_mask(size);
}

/* Register write semantics of SDM vol. 1, 3.4.1.1. */
static void reg_put(uint64_t *regs, const struct insn *in, unsigned size, uint64_t val)
{
	uint64_t *r = &regs[in->reg];

	switch (size) {
	case 1:
		if (in->reg_high8)
			*r = (*r & ~0xff00ULL) | ((val & 0xff) << 8);
		else
			*r = (*r & ~0xffULL) | (val & 0xff);
		break;
	case 2:
		*r = (*r & ~0xffffULL) | (val & 0xffff);
		break;
	case 4:
		*r = val & 0xffffffffULL; /* zero-extends into bits 63:32 */
		break;
	default:
		*r = val;
		break;
	}
}

static bool parity_even(uint64_t v)
{
	unsigned p = (unsigned)(v & 0xff);

	p ^= p >> 4;
	p ^= p >> 2;
	p ^= p >> 1;
	return !(p & 1);
}

/*
 * a op b on size-byte operands; updates the arithmetic flags in *fl as
 * the SDM's pages for each instruction say.  Carry and borrow are
 * derived without a wider type so the 64-bit case needs no special path.
 */
static uint64_t alu(unsigned op, uint64_t a, uint64_t b, unsigned size, uint64_t *fl)
{
	uint64_t mask = size_mask(size), sign = 1ULL << (8 * size - 1);
	uint64_t cin = *fl & FL_CF ? 1 : 0, r, f = 0;

	a &= mask;
	b &= mask;
	switch (op) {
	case INSN_ALU_ADD:
	case INSN_ALU_ADC:
		if (op == INSN_ALU_ADD)
			cin = 0;
		r = (a + b + cin) & mask;
		if (r < a || (cin && r == a))
			f |= FL_CF;
		if ((a ^ r) & (b ^ r) & sign)
			f |= FL_OF;
		f |= (a ^ b ^ r) & FL_AF;
		break;
	case INSN_ALU_SUB:
	case INSN_ALU_SBB:
	case INSN_ALU_CMP:
		if (op != INSN_ALU_SBB)
			cin = 0;
		r = (a - b - cin) & mask;
		if (a < b || (cin && a == b))
			f |= FL_CF;
		if ((a ^ b) & (a ^ r) & sign)
			f |= FL_OF;
		f |= (a ^ b ^ r) & FL_AF;
		break;
	case INSN_ALU_OR:
		r = a | b;
		break;
	case INSN_ALU_XOR:
		r = a ^ b;
		break;
	default: /* AND, TEST */
		r = a & b;
		break;
	}
	if (r == 0)
		f |= FL_ZF;
	if (r & sign)
		f |= FL_SF;
	if (parity_even(r))
		f |= FL_PF;
	*fl = (*fl & ~FL_ARITH) | f;
	return r;
}

static int emulate_alu(const struct insn *in, uint64_t *regs, uint64_t *rflags,
		       const struct insn_mem_ops *mem)
{
	uint64_t m, src, res, fl = *rflags;
	int rc;

	rc = mem->read(mem->ctx, &m, in->size);
	if (rc)
		return rc;
	src = in->reg < 0 ? in->imm : reg_get(regs, in, in->size);
	if (in->mem_is_left)
		res = alu(in->alu_op, m, src, in->size, &fl);
	else
		res = alu(in->alu_op, src, m, in->size, &fl);
	if (in->mem_is_dst) {
		rc = mem->write(mem->ctx, res, in->size);
		if (rc)
			return rc;
	} else if (!in->mem_is_left && in->alu_op != INSN_ALU_CMP &&
		   in->alu_op != INSN_ALU_TEST) {
		reg_put(regs, in, in->size, res);
	}
	*rflags = fl;
	return 0;
}

static bool valid_insn(const struct insn *in)
{
	if (!valid_size(in->size) || !valid_size(in->dst_size) || in->reg >= 16)
		return false;
	if (in->reg_high8 && (in->reg < 0 || in->reg >= 4 || in->size != 1))
		return false;
	switch (in->kind) {
	case INSN_LOAD:
		return in->reg >= 0 && in->dst_size >= in->size;
	case INSN_STORE:
	case INSN_XCHG:
		return in->reg >= 0;
	case INSN_STORE_IMM:
		return true;
	case INSN_ALU:
		if (in->alu_op > INSN_ALU_TEST || (in->mem_is_dst && !in->mem_is_left))
			return false;
		return in->reg >= 0 || in->mem_is_left;
	default:
		return false;
	}
}

int insn_emulate(const struct insn *in, uint64_t regs[16], uint64_t *rflags,
		 const struct insn_mem_ops *mem)
{
	uint64_t v;
	int rc;

	if (!valid_insn(in))
		return -EINVAL;
	switch (in->kind) {
	case INSN_LOAD:
		rc = mem->read(mem->ctx, &v, in->size);
		if (rc)
			return rc;
		v &= size_mask(in->size);
		if (in->sign_extend)
			v = sign_extend(v, in->size);
		reg_put(regs, in, in->dst_size, v);
		return 0;
	case INSN_STORE:
		return mem->write(mem->ctx, reg_get(regs, in, in->size), in->size);
	case INSN_STORE_IMM:
		return mem->write(mem->ctx, in->imm & size_mask(in->size), in->size);
	case INSN_XCHG:
		rc = mem->read(mem->ctx, &v, in->size);
		if (rc)
			return rc;
		rc = mem->write(mem->ctx, reg_get(regs, in, in->size), in->size);
		if (rc)
			return rc;
		reg_put(regs, in, in->size, v & size_mask(in->size));
		return 0;
	default:
		return emulate_alu(in, regs, rflags, mem);
	}
}
