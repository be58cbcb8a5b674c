/* x87 register stack bookkeeping: push, stack faults, folding host status
 * into FSW, and the full tag word. */
#include "vmm-core/cpu/x87-internal.h"

void
x87_init (FxState *fx)
{
  x87_set_top (fx, 0);
  fx->fcw = 0x037f;
  fx->fsw = 0;
  fx->ftw = 0;
  fx->fop = 0;
  fx->fip = 0;
  fx->fdp = 0;
}

long double
x87_indefinite (void)
{
  /* The "real indefinite" QNaN: sign set, exponent all ones, 0xC000... */
  uint8_t b[16] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };
  long double v;
  memcpy (&v, b, sizeof v);
  return v;
}

void
x87_set_es (FxState *fx)
{
  if (fx->fsw & ~fx->fcw & 0x3f)
    fx->fsw |= FSW_ES | FSW_B;
  else
    fx->fsw &= ~(FSW_ES | FSW_B);
}

bool
x87_stack_fault (FxState *fx, bool overflow)
{
  fx->fsw |= FSW_IE | FSW_SF;
  fx->fsw = overflow ? fx->fsw | FSW_C1 : fx->fsw & ~FSW_C1;
  if (!(fx->fcw & FSW_IE))
    {
      fx->fsw |= FSW_ES | FSW_B;
      return false;
    }
  return true;
}

bool
x87_push (FxState *fx, long double v)
{
  if (!x87_empty (fx, 7))
    {
      if (!x87_stack_fault (fx, true))
        return false;
      v = x87_indefinite ();
    }
  x87_set_top (fx, x87_top (fx) - 1);
  x87_set (fx, 0, v);
  return true;
}

bool
x87_apply (FxState *fx, uint16_t host_sw, uint16_t cc_mask)
{
  uint16_t ex = host_sw & 0x3f, unmasked = ex & ~fx->fcw & 0x3f;

  /* An unmasked invalid, zero-divide or denormal operand stops the
   * operation before it computes, so no overflow/underflow/precision. */
  if (unmasked & (FSW_IE | FSW_ZE | FSW_DE))
    {
      ex &= FSW_IE | FSW_ZE | FSW_DE;
      cc_mask &= ~FSW_C1; /* nothing was rounded */
      fx->fsw &= ~FSW_C1;
    }
  fx->fsw |= ex;
  fx->fsw = (fx->fsw & ~cc_mask) | (host_sw & cc_mask);
  if (unmasked)
    {
      fx->fsw |= FSW_ES | FSW_B;
      /* Pre-computation exceptions leave the destination unchanged. */
      if (unmasked & (FSW_IE | FSW_ZE | FSW_DE))
        return false;
    }
  return true;
}

uint16_t
x87_full_tag (const FxState *fx)
{
  uint16_t tag = 0;

  for (unsigned p = 0; p < 8; p++)
    {
      const uint8_t *v = fx->st[(p - x87_top (fx)) & 7].v;
      uint64_t mant;
      unsigned exp = (v[8] | v[9] << 8) & 0x7fff, t;

      memcpy (&mant, v, 8);
      if (!(fx->ftw & (1u << p)))
        t = 3;
      else if (exp == 0x7fff)
        t = 2;
      else if (exp == 0)
        t = mant ? 2 : 1;
      else
        t = (mant >> 63) ? 0 : 2;
      tag |= t << (2 * p);
    }
  return tag;
}
