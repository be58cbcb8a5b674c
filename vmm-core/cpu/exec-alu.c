/* Integer arithmetic and logic: ADD..CMP, TEST, INC/DEC, NOT/NEG, with exact
 * flags, plus the read-modify-write helper (atomic under LOCK). */
#include "vmm-core/cpu/cpu-internal.h"

#include <string.h>

uint64_t
op_rmw (SoftCpu *c, const DecodedInsn *d, unsigned size, RmwFn fn, uint64_t src,
        uint64_t flag_mask)
{
  uint64_t old, nv, fl = 0;
  if (!(d->flags & DI_MEM))
    {
      old = op_reg (c, d, d->rm, size);
      nv = fn (c, old, src, size, &fl);
      op_set_reg (c, d, d->rm, size, nv);
    }
  else
    {
      uint64_t lin = seg_lin (c, d->seg, op_ea (c, d), size, ACC_WRITE);
      uint8_t *p = lin_rmw_ptr (c, lin, size);
      if (p && (d->flags & DI_LOCK))
        {
          switch (size)
            {
            case 1:
              {
                uint8_t o = __atomic_load_n (p, __ATOMIC_RELAXED), n;
                do
                  n = fn (c, o, src, size, &fl);
                while (!__atomic_compare_exchange_n (p, &o, n, true, __ATOMIC_SEQ_CST,
                                                     __ATOMIC_RELAXED));
                old = o;
                break;
              }
            case 2:
              {
                uint16_t o = __atomic_load_n ((uint16_t *) p, __ATOMIC_RELAXED), n;
                do
                  n = fn (c, o, src, size, &fl);
                while (!__atomic_compare_exchange_n ((uint16_t *) p, &o, n, true,
                                                     __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
                old = o;
                break;
              }
            case 4:
              {
                uint32_t o = __atomic_load_n ((uint32_t *) p, __ATOMIC_RELAXED), n;
                do
                  n = fn (c, o, src, size, &fl);
                while (!__atomic_compare_exchange_n ((uint32_t *) p, &o, n, true,
                                                     __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
                old = o;
                break;
              }
            default:
              {
                uint64_t o = __atomic_load_n ((uint64_t *) p, __ATOMIC_RELAXED), n;
                do
                  n = fn (c, o, src, size, &fl);
                while (!__atomic_compare_exchange_n ((uint64_t *) p, &o, n, true,
                                                     __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
                old = o;
                break;
              }
            }
        }
      else if (p)
        {
          old = 0;
          memcpy (&old, p, size);
          nv = fn (c, old, src, size, &fl);
          memcpy (p, &nv, size);
        }
      else
        {
          old = lin_read (c, lin, size);
          nv = fn (c, old, src, size, &fl);
          lin_write (c, lin, size, nv);
        }
    }
  c->st.rflags = (c->st.rflags & ~flag_mask) | (fl & flag_mask);
  return old;
}

static inline uint64_t
alu_compute (SoftCpu *c, unsigned op, uint64_t a, uint64_t b, unsigned size, uint64_t *fl)
{
  uint64_t cf = c->st.rflags & FL_CF, r;
  switch (op)
    {
    case 0: r = a + b; *fl = flags_add (a, b, 0, r, size); break;
    case 1: r = a | b; *fl = flags_logic (r, size); break;
    case 2: r = a + b + cf; *fl = flags_add (a, b, cf, r, size); break;
    case 3: r = a - b - cf; *fl = flags_sub (a, b, cf, r, size); break;
    case 4: r = a & b; *fl = flags_logic (r, size); break;
    case 6: r = a ^ b; *fl = flags_logic (r, size); break;
    default: r = a - b; *fl = flags_sub (a, b, 0, r, size); break; /* SUB, CMP */
    }
  return r & sz_mask (size);
}

#define ALU_FN(n)                                                                    \
  static uint64_t alu_##n (SoftCpu *c, uint64_t a, uint64_t b, unsigned s, uint64_t *f) \
  {                                                                                  \
    return alu_compute (c, n, a, b, s, f);                                           \
  }
ALU_FN (0) ALU_FN (1) ALU_FN (2) ALU_FN (3) ALU_FN (4) ALU_FN (5) ALU_FN (6)
static const RmwFn alu_fns[7] = { alu_0, alu_1, alu_2, alu_3, alu_4, alu_5, alu_6 };

/* dest op= src on the r/m operand. */
static void
alu_rm (SoftCpu *c, const DecodedInsn *d, unsigned op, unsigned size, uint64_t src)
{
  if (op == 7)
    {
      uint64_t fl, a = op_rm (c, d, size);
      alu_compute (c, 7, a, src, size, &fl);
      cpu_set_arith (c, fl);
      return;
    }
  op_rmw (c, d, size, alu_fns[op], src, FL_ARITH);
}

void
op_alu (SoftCpu *c, const DecodedInsn *d)
{
  unsigned op = d->opcode >> 3, form = d->opcode & 7;
  unsigned size = (form & 1) ? d->opsize : 1;
  uint64_t fl, r;
  switch (form)
    {
    case 0:
    case 1:
      alu_rm (c, d, op, size, op_reg (c, d, d->reg, size));
      return;
    case 2:
    case 3:
      {
        uint64_t a = op_reg (c, d, d->reg, size), b = op_rm (c, d, size);
        r = alu_compute (c, op, a, b, size, &fl);
        if (op != 7)
          op_set_reg (c, d, d->reg, size, r);
        cpu_set_arith (c, fl);
        return;
      }
    default:
      {
        size = (form == 4) ? 1 : d->opsize;
        uint64_t a = op_reg (c, d, CPU_REG_RAX, size);
        uint64_t b = size == 1 ? d->imm : (uint64_t) sext (d->imm, d->opsize == 2 ? 2 : 4);
        r = alu_compute (c, op, a, b & sz_mask (size), size, &fl);
        if (op != 7)
          op_set_reg (c, d, CPU_REG_RAX, size, r);
        cpu_set_arith (c, fl);
        return;
      }
    }
}

void
op_alu_grp1 (SoftCpu *c, const DecodedInsn *d)
{
  unsigned size = (d->opcode & 1) ? d->opsize : 1;
  uint64_t src;
  if (d->opcode == 0x81)
    src = (uint64_t) sext (d->imm, d->opsize == 2 ? 2 : 4);
  else
    src = (uint64_t) (int8_t) d->imm;
  alu_rm (c, d, d->reg & 7, size, src & sz_mask (size));
}

void
op_test (SoftCpu *c, const DecodedInsn *d)
{
  unsigned size = (d->opcode & 1) ? d->opsize : 1;
  uint64_t a, b;
  if (d->opcode >= 0xa8)
    {
      a = op_reg (c, d, CPU_REG_RAX, size);
      b = size == 1 ? d->imm : (uint64_t) sext (d->imm, d->opsize == 2 ? 2 : 4);
    }
  else
    {
      a = op_rm (c, d, size);
      b = op_reg (c, d, d->reg, size);
    }
  cpu_set_arith (c, flags_logic (a & b, size));
}

static uint64_t
inc_fn (SoftCpu *c, uint64_t a, uint64_t b, unsigned s, uint64_t *f)
{
  uint64_t r = (a + 1) & sz_mask (s);
  *f = flags_add (a, 1, 0, r, s);
  return r;
}

static uint64_t
dec_fn (SoftCpu *c, uint64_t a, uint64_t b, unsigned s, uint64_t *f)
{
  uint64_t r = (a - 1) & sz_mask (s);
  *f = flags_sub (a, 1, 0, r, s);
  return r;
}

static uint64_t
not_fn (SoftCpu *c, uint64_t a, uint64_t b, unsigned s, uint64_t *f)
{
  return ~a & sz_mask (s);
}

static uint64_t
neg_fn (SoftCpu *c, uint64_t a, uint64_t b, unsigned s, uint64_t *f)
{
  uint64_t r = (0 - a) & sz_mask (s);
  *f = flags_sub (0, a, 0, r, s);
  return r;
}

/* 40-4F outside 64-bit mode. */
void
op_incdec (SoftCpu *c, const DecodedInsn *d)
{
  unsigned n = d->opcode & 7;
  uint64_t a = op_reg (c, d, n, d->opsize), fl;
  uint64_t r = (d->opcode < 0x48) ? inc_fn (c, a, 0, d->opsize, &fl)
                                  : dec_fn (c, a, 0, d->opsize, &fl);
  op_set_reg (c, d, n, d->opsize, r);
  c->st.rflags = (c->st.rflags & ~(uint64_t) (FL_ARITH & ~FL_CF)) | (fl & (FL_ARITH & ~FL_CF));
}

/* FE: INC/DEC Eb. */
void
op_grp4 (SoftCpu *c, const DecodedInsn *d)
{
  switch (d->reg & 7)
    {
    case 0: op_rmw (c, d, 1, inc_fn, 0, FL_ARITH & ~FL_CF); return;
    case 1: op_rmw (c, d, 1, dec_fn, 0, FL_ARITH & ~FL_CF); return;
    default: cpu_unimplemented (c);
    }
}

/* FF /0 /1 live here; the rest is control flow (exec-control.c). */
void op_grp5_incdec (SoftCpu *c, const DecodedInsn *d);
void
op_grp5_incdec (SoftCpu *c, const DecodedInsn *d)
{
  RmwFn fn = (d->reg & 7) == 0 ? inc_fn : dec_fn;
  op_rmw (c, d, d->opsize, fn, 0, FL_ARITH & ~FL_CF);
}

void op_muldiv (SoftCpu *c, const DecodedInsn *d, unsigned size);

/* F6/F7: TEST, NOT, NEG, MUL, IMUL, DIV, IDIV. */
void
op_grp3 (SoftCpu *c, const DecodedInsn *d)
{
  unsigned size = (d->opcode & 1) ? d->opsize : 1;
  switch (d->reg & 7)
    {
    case 0:
    case 1:
      {
        uint64_t b = size == 1 ? d->imm : (uint64_t) sext (d->imm, d->opsize == 2 ? 2 : 4);
        cpu_set_arith (c, flags_logic (op_rm (c, d, size) & b, size));
        return;
      }
    case 2: op_rmw (c, d, size, not_fn, 0, 0); return;
    case 3: op_rmw (c, d, size, neg_fn, 0, FL_ARITH); return;
    default: op_muldiv (c, d, size); return;
    }
}
