/* x87 loads, stores and register moves: FLD/FST(P) of 32/64/80-bit reals,
 * FILD/FIST(P) of 16/32/64-bit integers, FBLD/FBSTP (packed BCD), FLD/FST
 * ST(i), FXCH, FFREE(P), FNOP. */
#include <math.h>

#include "vmm-core/cpu/x87-internal.h"

static SimdResult
load (SimdOp *op, X87MemFormat f, unsigned size)
{
  FxState *fx = op->fx;
  uint8_t mem[10];
  uint16_t sw = 0;
  long double v;

  if (!op->h->read (op->h->cpu, op->in->addr, mem, size))
    return SIMD_FAULTED;
  if (size == 10)
    memcpy (&v, mem, 10);
  else
    v = x87h_load (f, mem, fx->fcw, &sw);
  if (!x87_empty (fx, 7))
    {
      x87_push (fx, v); /* overflow: records the fault, pushes indefinite if masked */
      return SIMD_OK;
    }
  fx->fsw &= ~FSW_C1;
  /* An unmasked denormal operand still loads (the value is normalised). */
  if (x87_apply (fx, sw, 0) || !(sw & ~fx->fcw & FSW_IE))
    x87_push (fx, v);
  return SIMD_OK;
}

static SimdResult
fbld (SimdOp *op)
{
  uint8_t m[10];
  int64_t v = 0;

  if (!op->h->read (op->h->cpu, op->in->addr, m, 10))
    return SIMD_FAULTED;
  for (int i = 8; i >= 0; i--)
    v = v * 100 + (m[i] >> 4) * 10 + (m[i] & 15);
  long double r = (long double) v;
  if (m[9] & 0x80)
    r = -r;
  op->fx->fsw &= ~FSW_C1;
  x87_push (op->fx, r);
  return SIMD_OK;
}

/* BCD conversion of ST0 for FBSTP: false if out of range (invalid). */
static bool
to_bcd (FxState *fx, long double v, uint8_t *m, uint16_t *sw)
{
  long double r = x87h_unary (XH_RNDINT, v, fx->fcw, sw);
  long double a = r < 0 ? -r : r;

  *sw &= ~FSW_DE; /* FBSTP does not report denormal operands */
  memset (m, 0, 10);
  if (!(a <= 999999999999999999.0L))
    {
      *sw = FSW_IE; /* only invalid: no precision flag, C1 clear */
      return false;
    }
  uint64_t n = (uint64_t) a;
  for (unsigned i = 0; i < 9; i++, n /= 100)
    m[i] = (uint8_t) ((n % 10) | ((n / 10) % 10) << 4);
  m[9] = signbit (r) ? 0x80 : 0;
  return true;
}

/* FST/FSTP/FIST/FISTP/FBSTP to memory. Memory is written before any state
 * changes, so a faulting store (the core may unwind from inside write())
 * restarts cleanly. */
static SimdResult
store (SimdOp *op, X87MemFormat f, unsigned size, bool pop, bool bcd)
{
  FxState *fx = op->fx;
  uint16_t sw = 0;
  uint8_t m[10];
  bool underflow = x87_empty (fx, 0);
  long double v;

  if (underflow && !(fx->fcw & FSW_IE))
    {
      x87_stack_fault (fx, false); /* unmasked: nothing is stored */
      return SIMD_OK;
    }
  v = underflow ? x87_indefinite () : x87_get (fx, 0);
  if (bcd)
    {
      if (!to_bcd (fx, v, m, &sw))
        {
          static const uint8_t indefinite[10] = { [7] = 0xc0, [8] = 0xff, [9] = 0xff };
          memcpy (m, indefinite, 10);
        }
    }
  else if (size == 10)
    memcpy (m, &v, 10);
  else
    x87h_store (f, v, m, fx->fcw, &sw);
  if (underflow)
    sw = 0; /* only the stack fault is reported */
  /* Unmasked invalid, or overflow/underflow narrowing to memory: no store. */
  bool stopped = sw & ~fx->fcw & (FSW_IE | FSW_ZE | FSW_DE | FSW_OE | FSW_UE);
  if (!stopped && !op->h->write (op->h->cpu, op->in->addr, m, size))
    return SIMD_FAULTED;
  if (underflow)
    x87_stack_fault (fx, false);
  else if (stopped)
    {
      /* nothing stored: no precision flag, C1 clear */
      x87_apply (fx, sw & ~FSW_PE, 0);
      fx->fsw &= ~FSW_C1;
      return SIMD_OK;
    }
  else if (!x87_apply (fx, sw, FSW_C1))
    return SIMD_OK;
  if (pop)
    x87_pop (fx);
  return SIMD_OK;
}

static SimdResult
reg_form (SimdOp *op)
{
  FxState *fx = op->fx;
  unsigned i = op->in->rm & 7, kind = op->in->reg & 7;
  uint8_t o = op->in->opcode;
  long double v;

  if (o == 0xd9 && kind == 0) /* FLD ST(i) */
    {
      if (x87_empty (fx, i))
        {
          /* Only the underflow is reported, even if ST(7) is in use too. */
          if (x87_stack_fault (fx, false))
            {
              x87_set_top (fx, x87_top (fx) - 1);
              x87_set (fx, 0, x87_indefinite ());
            }
          return SIMD_OK;
        }
      v = x87_get (fx, i);
      fx->fsw &= ~FSW_C1;
      x87_push (fx, v);
      return SIMD_OK;
    }
  if (kind == 1 && o != 0xdb) /* FXCH and its DD/DF aliases */
    {
      if (x87_empty (fx, 0) || x87_empty (fx, i))
        {
          if (!x87_stack_fault (fx, false))
            return SIMD_OK;
          if (x87_empty (fx, 0))
            x87_set (fx, 0, x87_indefinite ());
          if (x87_empty (fx, i))
            x87_set (fx, i, x87_indefinite ());
        }
      v = x87_get (fx, 0);
      x87_set (fx, 0, x87_get (fx, i));
      x87_set (fx, i, v);
      fx->fsw &= ~FSW_C1;
      return SIMD_OK;
    }
  if (o == 0xd9 && kind == 2)
    return i == 0 ? SIMD_OK : SIMD_UD; /* FNOP */
  if ((o == 0xdd && (kind == 2 || kind == 3)) || (o == 0xd9 && kind == 3)
      || (o == 0xdf && (kind == 2 || kind == 3)))
    {
      /* FST/FSTP ST(i), with the FSTP1/FSTP8/FSTP9 aliases */
      bool pop = !(o == 0xdd && kind == 2);
      if (x87_empty (fx, 0))
        {
          if (!x87_stack_fault (fx, false))
            return SIMD_OK;
          x87_set (fx, i, x87_indefinite ());
        }
      else
        x87_set (fx, i, x87_get (fx, 0));
      fx->fsw &= ~FSW_C1;
      if (pop)
        x87_pop (fx);
      return SIMD_OK;
    }
  if ((o == 0xdd || o == 0xdf) && kind == 0) /* FFREE / FFREEP */
    {
      fx->ftw &= ~(1u << x87_phys (fx, i));
      fx->fsw &= ~FSW_C1;
      if (o == 0xdf)
        x87_pop (fx);
      return SIMD_OK;
    }
  return SIMD_UD;
}

SimdResult
x87_load_store (SimdOp *op)
{
  unsigned kind = op->in->reg & 7;

  if (op->in->mod == 3)
    return reg_form (op);
  switch (op->in->opcode << 4 | kind)
    {
    case 0xd90: return load (op, XH_F32, 4);
    case 0xd92: return store (op, XH_F32, 4, false, false);
    case 0xd93: return store (op, XH_F32, 4, true, false);
    case 0xdb0: return load (op, XH_I32, 4);
    case 0xdb2: return store (op, XH_I32, 4, false, false);
    case 0xdb3: return store (op, XH_I32, 4, true, false);
    case 0xdb5: return load (op, XH_F32, 10);
    case 0xdb7: return store (op, XH_F32, 10, true, false);
    case 0xdd0: return load (op, XH_F64, 8);
    case 0xdd2: return store (op, XH_F64, 8, false, false);
    case 0xdd3: return store (op, XH_F64, 8, true, false);
    case 0xdf0: return load (op, XH_I16, 2);
    case 0xdf2: return store (op, XH_I16, 2, false, false);
    case 0xdf3: return store (op, XH_I16, 2, true, false);
    case 0xdf4: return fbld (op);
    case 0xdf5: return load (op, XH_I64, 8);
    case 0xdf6: return store (op, XH_F32, 10, true, true);
    case 0xdf7: return store (op, XH_I64, 8, true, false);
    default: return SIMD_UD; /* FISTTP (SSE3) and reserved encodings */
    }
}
