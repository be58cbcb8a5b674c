/* x87 arithmetic, compares and transcendental functions: D8, DA, DC, DE,
 * D9 E0-FF, FCMOVcc/FCOMI/FUCOMI (DA/DB/DF register forms), FUCOM (DD). */
#include "vmm-core/cpu/x87-internal.h"

/* Is ST(i) (and ST(j)) present? Otherwise a stack underflow is recorded;
 * *masked says whether the caller goes on with a QNaN default. */
static bool
need (FxState *fx, unsigned i, unsigned j, bool *masked)
{
  if (!x87_empty (fx, i) && !x87_empty (fx, j))
    return true;
  *masked = x87_stack_fault (fx, false);
  return false;
}

static void
compare_flags (FxState *fx, uint16_t cc)
{
  fx->fsw = (fx->fsw & ~FSW_CC) | (cc & (FSW_C0 | FSW_C2 | FSW_C3));
}

static long double
scale2 (long double v, int k)
{
  return __builtin_scalbnl (v, k);
}

/* a OP b by D8 kind (0 add 1 mul 4 sub 5 subr 6 div 7 divr) on the host. */
static long double
binary_kind (FxState *fx, unsigned kind, long double a, long double b, uint16_t *sw)
{
  switch (kind)
    {
    case 0: return x87h_binary (XH_ADD, a, b, fx->fcw, sw);
    case 1: return x87h_binary (XH_MUL, a, b, fx->fcw, sw);
    case 4: return x87h_binary (XH_SUB, a, b, fx->fcw, sw);
    case 5: return x87h_binary (XH_SUB, b, a, fx->fcw, sw);
    case 6: return x87h_binary (XH_DIV, a, b, fx->fcw, sw);
    default: return x87h_binary (XH_DIV, b, a, fx->fcw, sw);
    }
}

/* With overflow or underflow unmasked the x87 stores the rounded result
 * with its exponent biased by -/+24576 (SDM vol. 1 4.9.1.4/5). Computing
 * on operands pre-scaled by powers of two gives exactly that, rounded once;
 * the scale is split between the operands so none of them leaves the
 * exponent range. Keeps OE/UE from the masked run, PE and C1 from this. */
static long double
biased_result (FxState *fx, unsigned kind, long double a, long double b, uint16_t *sw)
{
  int k = (*sw & FSW_OE) ? -24576 : 24576;
  uint16_t sw2 = 0;
  long double r;

  if (kind == 1) /* a * b */
    r = binary_kind (fx, kind, scale2 (a, k / 2), scale2 (b, k / 2), &sw2);
  else if (kind == 6) /* a / b */
    r = binary_kind (fx, kind, scale2 (a, k / 2), scale2 (b, -k / 2), &sw2);
  else if (kind == 7) /* b / a */
    r = binary_kind (fx, kind, scale2 (a, -k / 2), scale2 (b, k / 2), &sw2);
  else
    {
      /* A sum is at most twice its larger operand (and an underflowing sum
       * has small operands): a small pre-scale brings it into range
       * without pushing the smaller operand into the denormals, then the
       * exact normal result takes the rest of the bias. */
      int pre = k < 0 ? -4 : 128;
      r = binary_kind (fx, kind, scale2 (a, pre), scale2 (b, pre), &sw2);
      r = scale2 (r, k - pre);
    }
  *sw = (*sw & ~(FSW_PE | FSW_C1)) | (sw2 & (FSW_PE | FSW_C1));
  return r;
}

/* Did the masked run overflow/underflow with that exception unmasked? With
 * underflow unmasked a tiny result underflows even when exact; the masked
 * run only flags tiny and inexact ones, and the exact ones are denormal. */
static bool
needs_bias (const FxState *fx, uint16_t *sw, long double r)
{
  uint8_t v[16] = { 0 };
  uint64_t mant;

  if (*sw & ~fx->fcw & (FSW_IE | FSW_ZE | FSW_DE))
    return false;
  memcpy (v, &r, 10);
  memcpy (&mant, v, 8);
  if (!(fx->fcw & FSW_UE) && !((v[8] | v[9] << 8) & 0x7fff) && mant)
    *sw |= FSW_UE;
  return *sw & ~fx->fcw & (FSW_OE | FSW_UE);
}

/* kind is the ModRM reg field of D8/DC: 0 add, 1 mul, 2 com, 3 comp, 4 sub,
 * 5 subr, 6 div, 7 divr; dest = ST(dest), a its value, b the other register. */
static void
arith (FxState *fx, unsigned kind, unsigned dest, long double a, long double b, bool pop)
{
  uint16_t sw = 0;
  long double r = 0;

  switch (kind)
    {
    case 2: case 3:
      /* The condition codes are written even when an unmasked exception
       * stops the instruction (and its pop). */
      sw = x87h_compare (a, b, false, fx->fcw);
      bool done = x87_apply (fx, sw & 0x3f, 0);
      compare_flags (fx, sw);
      fx->fsw &= ~FSW_C1;
      if (done && kind == 3)
        x87_pop (fx);
      if (done && pop)
        x87_pop (fx);
      return;
    default:
      r = binary_kind (fx, kind, a, b, &sw);
      break;
    }
  if (needs_bias (fx, &sw, r))
    r = biased_result (fx, kind, a, b, &sw);
  if (!x87_apply (fx, sw, FSW_C1))
    return; /* unmasked: no result, no pop */
  x87_set (fx, dest, r);
  if (pop)
    x87_pop (fx);
}

/* After a stack underflow: compares report "unordered" even when the
 * exception is unmasked; results and pops only happen when it is masked. */
static void
underflow_result (FxState *fx, unsigned kind, unsigned dest, bool pop, bool masked)
{
  if (kind == 2 || kind == 3)
    fx->fsw |= FSW_C0 | FSW_C2 | FSW_C3;
  if (!masked)
    return;
  if (kind != 2 && kind != 3)
    x87_set (fx, dest, x87_indefinite ());
  if (pop || kind == 3)
    x87_pop (fx);
}

static SimdResult
arith_mem (SimdOp *op)
{
  FxState *fx = op->fx;
  const SimdInsn *in = op->in;
  static const X87MemFormat fmt[8] = { [0] = XH_F32, [2] = XH_I32, [4] = XH_F64, [6] = XH_I16 };
  static const unsigned size[8] = { [0] = 4, [2] = 4, [4] = 8, [6] = 2 };
  unsigned idx = in->opcode - 0xd8;
  uint8_t mem[8];
  uint16_t sw = 0;
  bool masked;

  if (!op->h->read (op->h->cpu, in->addr, mem, size[idx]))
    return SIMD_FAULTED;
  if (!need (fx, 0, 0, &masked))
    {
      underflow_result (fx, in->reg, 0, false, masked);
      return SIMD_OK;
    }
  /* The host's own memory forms, so conversion and operation raise
   * exactly the flags the one instruction raises. */
  long double r = x87h_binary_mem (in->reg & 7, x87_get (fx, 0), fmt[idx], mem, fx->fcw, &sw);
  if ((in->reg & 7) == 2 || (in->reg & 7) == 3)
    {
      bool done = x87_apply (fx, sw & 0x3f, 0);
      compare_flags (fx, sw);
      fx->fsw &= ~FSW_C1;
      if (done && (in->reg & 7) == 3)
        x87_pop (fx);
    }
  else
    {
      if (needs_bias (fx, &sw, r)) /* the memory operand converts exactly */
        {
          uint16_t lsw;
          r = biased_result (fx, in->reg & 7, x87_get (fx, 0),
                             x87h_load (fmt[idx], mem, fx->fcw, &lsw), &sw);
        }
      if (x87_apply (fx, sw, FSW_C1))
        x87_set (fx, 0, r);
    }
  return SIMD_OK;
}

static void
fcomi (SimdOp *op, bool quiet, bool pop)
{
  FxState *fx = op->fx;
  uint64_t fl = op->h->get_rflags (op->h->cpu) & ~UINT64_C (0x8d5);
  bool masked;

  /* ZF, PF, CF are written even when an unmasked exception stops the pop. */
  fx->fsw &= ~FSW_C1;
  if (!need (fx, 0, op->in->rm & 7, &masked))
    fl |= 0x45;
  else
    {
      uint16_t sw = x87h_compare (x87_get (fx, 0), x87_get (fx, op->in->rm & 7), quiet, fx->fcw);
      masked = x87_apply (fx, sw & 0x3f, 0);
      fl |= (sw & FSW_C3 ? 0x40 : 0) | (sw & FSW_C2 ? 0x04 : 0) | (sw & FSW_C0 ? 0x01 : 0);
    }
  op->h->set_rflags (op->h->cpu, fl);
  if (pop && masked)
    x87_pop (fx);
}

static SimdResult
fcmov (SimdOp *op)
{
  FxState *fx = op->fx;
  uint64_t fl = op->h->get_rflags (op->h->cpu);
  bool cf = fl & 1, zf = fl & 0x40, pf = fl & 4, cond, masked;

  switch (op->in->reg & 3)
    {
    case 0: cond = cf; break;
    case 1: cond = zf; break;
    case 2: cond = cf || zf; break;
    default: cond = pf; break;
    }
  if (op->in->opcode == 0xdb)
    cond = !cond;
  if (!need (fx, 0, op->in->rm & 7, &masked))
    {
      if (masked)
        x87_set (fx, 0, x87_indefinite ());
      return SIMD_OK;
    }
  if (cond)
    x87_set (fx, 0, x87_get (fx, op->in->rm & 7));
  return SIMD_OK;
}

static void
fxam (FxState *fx)
{
  uint8_t v[10];
  uint64_t mant;
  unsigned exp;
  uint16_t cc;

  memcpy (v, fx->st[0].v, 10);
  memcpy (&mant, v, 8);
  exp = (v[8] | v[9] << 8) & 0x7fff;
  if (x87_empty (fx, 0))
    cc = FSW_C3 | FSW_C0;
  else if (exp == 0x7fff)
    cc = !(mant >> 63) ? 0 : (mant << 1) ? FSW_C0 : FSW_C2 | FSW_C0;
  else if (exp == 0)
    cc = mant ? FSW_C3 | FSW_C2 : FSW_C3;
  else
    cc = (mant >> 63) ? FSW_C2 : 0;
  fx->fsw = (fx->fsw & ~FSW_CC) | cc | ((v[9] & 0x80) ? FSW_C1 : 0);
}

/* D9 E0-FF */
static SimdResult
d9_special (SimdOp *op)
{
  FxState *fx = op->fx;
  uint8_t low = ((op->in->reg & 7) << 3 | (op->in->rm & 7)) - 0x20;
  uint16_t sw;
  bool masked;
  long double r, r0, r1;

  if (low >= 0x08 && low <= 0x0e)
    {
      fx->fsw &= ~FSW_C1;
      x87_push (fx, x87h_constant (low - 0x08, fx->fcw));
      return SIMD_OK;
    }
  switch (low)
    {
    case 0x00: case 0x01: /* FCHS, FABS */
      if (!need (fx, 0, 0, &masked))
        {
          if (masked)
            x87_set (fx, 0, x87_indefinite ());
          return SIMD_OK;
        }
      {
        uint8_t *s = &fx->st[0].v[9];
        *s = low == 0 ? *s ^ 0x80 : *s & 0x7f;
      }
      fx->fsw &= ~FSW_C1;
      return SIMD_OK;
    case 0x04: /* FTST */
      if (!need (fx, 0, 0, &masked))
        {
          underflow_result (fx, 2, 0, false, masked);
          return SIMD_OK;
        }
      arith (fx, 2, 0, x87_get (fx, 0), 0.0L, false);
      return SIMD_OK;
    case 0x05:
      fxam (fx);
      return SIMD_OK;
    case 0x10: case 0x1a: case 0x1c: case 0x1e: case 0x1f: /* F2XM1 FSQRT FRNDINT FSIN FCOS */
      if (!need (fx, 0, 0, &masked))
        {
          if (low >= 0x1e)
            fx->fsw &= ~FSW_C2;
          if (masked)
            x87_set (fx, 0, x87_indefinite ());
          return SIMD_OK;
        }
      {
        X87Unary u = low == 0x10 ? XH_F2XM1 : low == 0x1a ? XH_SQRT : low == 0x1c ? XH_RNDINT
                     : low == 0x1e ? XH_SIN : XH_COS;
        r = x87h_unary (u, x87_get (fx, 0), fx->fcw, &sw);
        if (x87_apply (fx, sw, FSW_C1 | (low >= 0x1e ? FSW_C2 : 0)))
          x87_set (fx, 0, r);
      }
      return SIMD_OK;
    case 0x11: case 0x13: case 0x19: /* FYL2X FPATAN FYL2XP1: ST(1) = f(ST1, ST0), pop */
      if (!need (fx, 0, 1, &masked))
        {
          if (masked)
            {
              x87_set (fx, 1, x87_indefinite ());
              x87_pop (fx);
            }
          return SIMD_OK;
        }
      r = x87h_binary (low == 0x11 ? XH_YL2X : low == 0x13 ? XH_PATAN : XH_YL2XP1,
                       x87_get (fx, 0), x87_get (fx, 1), fx->fcw, &sw);
      if (x87_apply (fx, sw, FSW_C1))
        {
          x87_set (fx, 1, r);
          x87_pop (fx);
        }
      return SIMD_OK;
    case 0x15: case 0x18: case 0x1d: /* FPREM1 FPREM FSCALE */
      if (!need (fx, 0, 1, &masked))
        {
          if (low != 0x1d)
            fx->fsw &= ~FSW_C2;
          if (masked)
            x87_set (fx, 0, x87_indefinite ());
          return SIMD_OK;
        }
      r = x87h_binary (low == 0x15 ? XH_PREM1 : low == 0x18 ? XH_PREM : XH_SCALE,
                       x87_get (fx, 0), x87_get (fx, 1), fx->fcw, &sw);
      {
        /* An FPREM that is invalid, has a NaN result or stops on an
         * unmasked exception leaves the quotient bits C0, C3 alone. */
        uint16_t mask = FSW_C1;
        if (low != 0x1d)
          {
            bool stopped = sw & ~fx->fcw & (FSW_IE | FSW_ZE | FSW_DE);
            if (stopped)
              fx->fsw &= ~FSW_C2;
            mask = stopped ? 0 : (sw & FSW_IE) || r != r ? FSW_C1 | FSW_C2 : FSW_CC;
          }
        if (x87_apply (fx, sw, mask))
          x87_set (fx, 0, r);
      }
      return SIMD_OK;
    case 0x12: case 0x14: case 0x1b: /* FPTAN FXTRACT FSINCOS: replace ST0, push */
      if (!need (fx, 0, 0, &masked))
        {
          if (low != 0x14)
            fx->fsw &= ~FSW_C2;
          if (masked) /* only the underflow is reported, not a full ST(7) */
            {
              x87_set (fx, 0, x87_indefinite ());
              x87_set_top (fx, x87_top (fx) - 1);
              x87_set (fx, 0, x87_indefinite ());
            }
          return SIMD_OK;
        }
      if (!x87_empty (fx, 7))
        {
          if (low != 0x14)
            fx->fsw &= ~FSW_C2;
          if (x87_stack_fault (fx, true))
            {
              x87_set (fx, 0, x87_indefinite ());
              x87_push (fx, x87_indefinite ());
            }
          return SIMD_OK;
        }
      x87h_unary2 (low == 0x12 ? XH_PTAN : low == 0x14 ? XH_XTRACT : XH_SINCOS,
                   x87_get (fx, 0), fx->fcw, &r1, &r0, &sw);
      if (low == 0x14)
        sw &= ~FSW_C2;
      if (!x87_apply (fx, sw, FSW_C1 | (low == 0x14 ? 0 : FSW_C2)) || (sw & FSW_C2))
        return SIMD_OK;
      x87_set (fx, 0, r1);
      x87_push (fx, r0);
      return SIMD_OK;
    case 0x16: /* FDECSTP */
      x87_set_top (fx, x87_top (fx) - 1);
      fx->fsw &= ~FSW_C1;
      return SIMD_OK;
    case 0x17: /* FINCSTP */
      x87_set_top (fx, x87_top (fx) + 1);
      fx->fsw &= ~FSW_C1;
      return SIMD_OK;
    default:
      return SIMD_UD;
    }
}

SimdResult
x87_arith (SimdOp *op)
{
  FxState *fx = op->fx;
  const SimdInsn *in = op->in;
  unsigned i = in->rm & 7, kind = in->reg & 7;
  bool masked;

  if (in->mod != 3)
    return arith_mem (op);
  switch (in->opcode)
    {
    case 0xd8: /* ST0 = ST0 op ST(i) */
      if (!need (fx, 0, i, &masked))
        {
          underflow_result (fx, kind, 0, false, masked);
          return SIMD_OK;
        }
      arith (fx, kind, 0, x87_get (fx, 0), x87_get (fx, i), false);
      return SIMD_OK;
    case 0xdc: case 0xde: /* ST(i) = ST(i) op ST0; the sub/div pairs swap */
      if (in->opcode == 0xde && kind == 3)
        {
          if (i != 1) /* only DE D9 (FCOMPP) */
            return SIMD_UD;
          if (!need (fx, 0, 1, &masked))
            {
              fx->fsw |= FSW_C0 | FSW_C2 | FSW_C3;
              if (masked)
                {
                  x87_pop (fx);
                  x87_pop (fx);
                }
              return SIMD_OK;
            }
          arith (fx, 3, 0, x87_get (fx, 0), x87_get (fx, 1), true);
          return SIMD_OK;
        }
      if (kind >= 4)
        kind ^= 1;
      bool pop = in->opcode == 0xde || kind == 3;
      if (!need (fx, 0, i, &masked))
        {
          underflow_result (fx, kind, i, in->opcode == 0xde, masked);
          return SIMD_OK;
        }
      if (kind == 2 || kind == 3) /* FCOM2/FCOMP3/FCOMP5 aliases compare ST0 with ST(i) */
        arith (fx, kind, 0, x87_get (fx, 0), x87_get (fx, i), in->opcode == 0xde);
      else
        arith (fx, kind, i, x87_get (fx, i), x87_get (fx, 0), pop);
      return SIMD_OK;
    case 0xd9:
      return d9_special (op);
    case 0xda:
      if (kind < 4)
        return fcmov (op);
      if (kind == 5 && i == 1) /* FUCOMPP */
        {
          if (!need (fx, 0, 1, &masked))
            {
              fx->fsw |= FSW_C0 | FSW_C2 | FSW_C3;
              if (masked)
                {
                  x87_pop (fx);
                  x87_pop (fx);
                }
              return SIMD_OK;
            }
          uint16_t sw = x87h_compare (x87_get (fx, 0), x87_get (fx, 1), true, fx->fcw);
          bool done = x87_apply (fx, sw & 0x3f, 0);
          compare_flags (fx, sw);
          fx->fsw &= ~FSW_C1;
          if (done)
            {
              x87_pop (fx);
              x87_pop (fx);
            }
          return SIMD_OK;
        }
      return SIMD_UD;
    case 0xdb:
      if (kind < 4)
        return fcmov (op);
      if (kind == 5 || kind == 6)
        {
          fcomi (op, kind == 5, false);
          return SIMD_OK;
        }
      return SIMD_UD;
    case 0xdd: /* FUCOM / FUCOMP */
      if (!need (fx, 0, i, &masked))
        {
          underflow_result (fx, kind == 5 ? 3 : 2, 0, false, masked);
          return SIMD_OK;
        }
      {
        uint16_t sw = x87h_compare (x87_get (fx, 0), x87_get (fx, i), true, fx->fcw);
        bool done = x87_apply (fx, sw & 0x3f, 0);
        compare_flags (fx, sw);
        fx->fsw &= ~FSW_C1;
        if (kind == 5 && done)
          x87_pop (fx);
      }
      return SIMD_OK;
    case 0xdf: /* FUCOMIP / FCOMIP */
      if (kind == 5 || kind == 6)
        {
          fcomi (op, kind == 5, true);
          return SIMD_OK;
        }
      return SIMD_UD;
    default:
      return SIMD_UD;
    }
}
