/* x87 control: FLDCW/FNSTCW, FNSTSW, FNCLEX, FNINIT, FLDENV/FNSTENV and
 * FRSTOR/FNSAVE in their 16/32-bit, real/protected-mode layouts (SDM vol. 1
 * 8.1.10), and x87_exec, which routes D8-DF and tracks FIP/FDP/FOP. */
#include "vmm-core/cpu/x87-internal.h"

static void
put16 (uint8_t *b, unsigned off, uint32_t v)
{
  b[off] = v;
  b[off + 1] = v >> 8;
}

static void
put32 (uint8_t *b, unsigned off, uint32_t v)
{
  put16 (b, off, v);
  put16 (b, off + 2, v >> 16);
}

static uint32_t
get16 (const uint8_t *b, unsigned off)
{
  return b[off] | (uint32_t) b[off + 1] << 8;
}

static uint32_t
get32 (const uint8_t *b, unsigned off)
{
  return get16 (b, off) | get16 (b, off + 2) << 16;
}

static unsigned
env_size (const SimdInsn *in)
{
  return in->op_size == 2 ? 14 : 28;
}

static void
env_store (const FxState *fx, const SimdInsn *in, uint8_t *b)
{
  uint32_t fip = (uint32_t) fx->fip, fdp = (uint32_t) fx->fdp, fop = fx->fop & 0x7ff;

  if (in->op_size == 2)
    {
      put16 (b, 0, fx->fcw);
      put16 (b, 2, fx->fsw);
      put16 (b, 4, x87_full_tag (fx));
      put16 (b, 6, fip);
      put16 (b, 10, fdp);
      if (in->real_mode)
        {
          put16 (b, 8, ((fip >> 16) & 0xf) << 12 | fop);
          put16 (b, 12, ((fdp >> 16) & 0xf) << 12);
        }
      else
        {
          put16 (b, 8, 0);  /* FCS: not tracked (reads as 0, as with FCS deprecation) */
          put16 (b, 12, 0); /* FDS */
        }
      return;
    }
  put32 (b, 0, 0xffff0000u | fx->fcw);
  put32 (b, 4, 0xffff0000u | fx->fsw);
  put32 (b, 8, 0xffff0000u | x87_full_tag (fx));
  if (in->real_mode)
    {
      put32 (b, 12, 0xffff0000u | (fip & 0xffff));
      put32 (b, 16, (fip >> 16) << 12 | fop);
      put32 (b, 20, 0xffff0000u | (fdp & 0xffff));
      put32 (b, 24, (fdp >> 16) << 12);
    }
  else
    {
      put32 (b, 12, fip);
      put32 (b, 16, fop << 16);
      put32 (b, 20, fdp);
      put32 (b, 24, 0xffff0000u);
    }
}

static void
env_load (FxState *fx, const SimdInsn *in, const uint8_t *b)
{
  uint32_t tag;
  unsigned old_top = x87_top (fx);

  if (in->op_size == 2)
    {
      fx->fcw = get16 (b, 0);
      fx->fsw = get16 (b, 2);
      tag = get16 (b, 4);
      if (in->real_mode)
        {
          fx->fip = get16 (b, 6) | (get16 (b, 8) >> 12) << 16;
          fx->fop = get16 (b, 8) & 0x7ff;
          fx->fdp = get16 (b, 10) | (get16 (b, 12) >> 12) << 16;
        }
      else
        {
          fx->fip = get16 (b, 6);
          fx->fdp = get16 (b, 10);
        }
    }
  else
    {
      fx->fcw = get16 (b, 0);
      fx->fsw = get16 (b, 4);
      tag = get16 (b, 8);
      if (in->real_mode)
        {
          fx->fip = get16 (b, 12) | ((get32 (b, 16) >> 12) & 0xffff) << 16;
          fx->fop = get32 (b, 16) & 0x7ff;
          fx->fdp = get16 (b, 20) | ((get32 (b, 24) >> 12) & 0xffff) << 16;
        }
      else
        {
          fx->fip = get32 (b, 12);
          fx->fop = (get32 (b, 16) >> 16) & 0x7ff;
          fx->fdp = get32 (b, 20);
        }
    }
  /* The new FSW brings a new TOP; the physical registers stay put. */
  unsigned new_top = x87_top (fx);
  fx->fsw = (fx->fsw & ~0x3800u) | old_top << 11;
  x87_set_top (fx, new_top);
  fx->ftw = 0;
  for (unsigned p = 0; p < 8; p++)
    if (((tag >> (2 * p)) & 3) != 3)
      fx->ftw |= 1u << p;
  x87_set_es (fx);
}

SimdResult
x87_env (SimdOp *op)
{
  FxState *fx = op->fx;
  const SimdInsn *in = op->in;
  unsigned kind = in->reg & 7, n = env_size (in);
  uint8_t b[108];
  uint16_t w;

  if (in->mod == 3)
    {
      if (in->opcode == 0xdf) /* FNSTSW AX */
        {
          if ((in->rm & 7) != 0)
            return SIMD_UD;
          simd_set_gpr (op, 0, fx->fsw, 2);
          return SIMD_OK;
        }
      switch (in->rm & 7) /* DB E0-E7 */
        {
        case 0: case 1: case 4: /* FENI, FDISI, FSETPM: no-ops since the 387 */
          return SIMD_OK;
        case 2:
          fx->fsw &= ~(0x00ffu | FSW_B);
          return SIMD_OK;
        case 3:
          x87_init (fx);
          return SIMD_OK;
        default:
          return SIMD_UD;
        }
    }
  switch (in->opcode << 4 | kind)
    {
    case 0xd94: /* FLDENV */
      if (!op->h->read (op->h->cpu, in->addr, b, n))
        return SIMD_FAULTED;
      env_load (fx, in, b);
      return SIMD_OK;
    case 0xd95: /* FLDCW */
      if (!op->h->read (op->h->cpu, in->addr, &w, 2))
        return SIMD_FAULTED;
      fx->fcw = (w & 0x1f3f) | 0x40; /* reserved bits: 6 reads as 1, 7 and 13-15 as 0 */
      x87_set_es (fx);
      return SIMD_OK;
    case 0xd96: /* FNSTENV, which then masks every exception */
      env_store (fx, in, b);
      if (!op->h->write (op->h->cpu, in->addr, b, n))
        return SIMD_FAULTED;
      fx->fcw |= 0x3f;
      return SIMD_OK;
    case 0xd97:
      return simd_write_mem (op, &fx->fcw, 2, false);
    case 0xdd4: /* FRSTOR */
      if (!op->h->read (op->h->cpu, in->addr, b, n + 80))
        return SIMD_FAULTED;
      env_load (fx, in, b);
      for (unsigned i = 0; i < 8; i++)
        memcpy (fx->st[i].v, b + n + 10 * i, 10);
      return SIMD_OK;
    case 0xdd6: /* FNSAVE, which then does FNINIT */
      env_store (fx, in, b);
      for (unsigned i = 0; i < 8; i++)
        memcpy (b + n + 10 * i, fx->st[i].v, 10);
      if (!op->h->write (op->h->cpu, in->addr, b, n + 80))
        return SIMD_FAULTED;
      x87_init (fx);
      return SIMD_OK;
    case 0xdd7:
      return simd_write_mem (op, &fx->fsw, 2, false);
    default:
      return SIMD_UD;
    }
}

/* Encodings that are not instructions (or, like FISTTP, belong to an
 * extension this CPU does not have): #UD comes before a pending #MF. */
static bool
undefined (const SimdInsn *in)
{
  unsigned o = in->opcode, reg = in->reg & 7, rm = in->rm & 7;

  if (in->mod != 3)
    return (o == 0xd9 && reg == 1) || (o == 0xdb && (reg == 1 || reg == 4 || reg == 6))
           || (o == 0xdd && (reg == 1 || reg == 5)) || (o == 0xdf && reg == 1);
  switch (o)
    {
    case 0xd9:
      return (reg == 2 && rm != 0) || (reg == 4 && (rm == 2 || rm == 3 || rm >= 6))
             || (reg == 5 && rm == 7);
    case 0xda:
      return reg >= 4 && !(reg == 5 && rm == 1);
    case 0xdb:
      return (reg == 4 && rm >= 5) || reg == 7;
    case 0xdd:
      return reg >= 6;
    case 0xde:
      return reg == 3 && rm != 1;
    case 0xdf:
      return (reg == 4 && rm != 0) || reg == 7;
    default:
      return false;
    }
}

SimdResult
x87_exec (SimdOp *op)
{
  FxState *fx = op->fx;
  const SimdInsn *in = op->in;
  uint8_t o = in->opcode;
  unsigned kind = in->reg & 7;
  bool mem = in->mod != 3, arith;
  /* FNSTENV FNSTCW FNSAVE FNSTSW FNCLEX FNINIT do not wait for pending errors */
  bool nowait = (mem && (o == 0xd9 || o == 0xdd) && kind >= 6)
                || (!mem && o == 0xdf && kind == 4)
                || (!mem && o == 0xdb && kind == 4 && (in->rm & 7) <= 4); /* and FNENI FNDISI FNSETPM */
  bool control = nowait || (mem && o == 0xd9 && (kind == 4 || kind == 5))
                 || (mem && o == 0xdd && kind == 4) || (!mem && o == 0xdb && kind == 4);
  SimdResult r;

  if (undefined (in))
    return SIMD_UD;
  if (!nowait && (fx->fsw & FSW_ES))
    return SIMD_MF;
  if (control)
    return x87_env (op);

  arith = o == 0xd8 || o == 0xda || o == 0xdc || o == 0xde
          || (!mem && ((o == 0xd9 && kind >= 4) || (o == 0xdb && kind != 4 && kind != 7)
                       || (o == 0xdd && (kind == 4 || kind == 5))
                       || (o == 0xdf && (kind == 5 || kind == 6))));
  r = arith ? x87_arith (op) : x87_load_store (op);
  if (r == SIMD_OK)
    {
      fx->fop = (uint16_t) ((o & 7) << 8 | in->mod << 6 | kind << 3 | (in->rm & 7));
      fx->fip = in->rip;
      if (mem)
        fx->fdp = in->addr;
    }
  return r;
}
