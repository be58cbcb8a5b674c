/* x87 register stack, status word and host-FPU helpers of the SIMD unit.
 * Values are handled as host long double, which on x86-64 is the x87's own
 * 80-bit extended format. */
#pragma once

#include "vmm-core/cpu/simd-internal.h"

#define FSW_IE 0x0001u
#define FSW_DE 0x0002u
#define FSW_ZE 0x0004u
#define FSW_OE 0x0008u
#define FSW_UE 0x0010u
#define FSW_PE 0x0020u
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_C3 0x4000u
#define FSW_B 0x8000u
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

static inline unsigned
x87_top (const FxState *fx)
{
  return (fx->fsw >> 11) & 7;
}

/* FxState keeps the registers in stack order, as FXSAVE stores them
 * (st[i] is ST(i)); the tag bits are per physical register. Changing TOP
 * leaves the physical registers alone, so the array rotates with it. */
static inline void
x87_set_top (FxState *fx, unsigned top)
{
  unsigned old = x87_top (fx), d = (top - old) & 7;

  if (d)
    {
      FxReg80 tmp[8];
      for (unsigned i = 0; i < 8; i++)
        tmp[i] = fx->st[(i + d) & 7];
      memcpy (fx->st, tmp, sizeof tmp);
    }
  fx->fsw = (fx->fsw & ~0x3800u) | ((top & 7) << 11);
}

/* Physical register number of ST(i) (for the tag word). */
static inline unsigned
x87_phys (const FxState *fx, unsigned i)
{
  return (x87_top (fx) + i) & 7;
}

static inline bool
x87_empty (const FxState *fx, unsigned i)
{
  return !(fx->ftw & (1u << x87_phys (fx, i)));
}

static inline long double
x87_get (const FxState *fx, unsigned i)
{
  long double v = 0;
  memcpy (&v, fx->st[i & 7].v, 10);
  return v;
}

static inline void
x87_set (FxState *fx, unsigned i, long double v)
{
  memcpy (fx->st[i & 7].v, &v, 10);
  fx->ftw |= 1u << x87_phys (fx, i);
}

static inline void
x87_pop (FxState *fx)
{
  fx->ftw &= ~(1u << x87_top (fx));
  x87_set_top (fx, x87_top (fx) + 1);
}

long double x87_indefinite (void);
/* Push v; false (nothing pushed) on unmasked stack overflow. */
bool x87_push (FxState *fx, long double v);
/* Stack underflow/overflow (invalid + SF, C1 = overflow). True if masked, so
 * the caller goes on with the default QNaN result. */
bool x87_stack_fault (FxState *fx, bool overflow);
/* Fold the host status word after an operation into FSW (flags, C1 and,
 * with cc_mask, condition codes). True if the result may be stored. */
bool x87_apply (FxState *fx, uint16_t host_sw, uint16_t cc_mask);
/* Full 16-bit tag word (FNSTENV) from the abridged tag and the contents. */
uint16_t x87_full_tag (const FxState *fx);
void x87_set_es (FxState *fx);

/* Host x87 execution (x87-host.c); fcw is the guest control word. */
typedef enum { XH_ADD, XH_MUL, XH_SUB, XH_DIV, XH_PREM, XH_PREM1, XH_SCALE, XH_PATAN,
               XH_YL2X, XH_YL2XP1 } X87Binary;
typedef enum { XH_SQRT, XH_RNDINT, XH_SIN, XH_COS, XH_F2XM1 } X87Unary;
typedef enum { XH_PTAN, XH_SINCOS, XH_XTRACT } X87Unary2;
typedef enum { XH_F32, XH_F64, XH_I16, XH_I32, XH_I64 } X87MemFormat;

/* a is ST(0), b ST(1) (or the memory/other operand): ADD..DIV give a op b;
 * PATAN atan(b/a); YL2X b*log2(a); PREM/SCALE a rem/scale b. */
long double x87h_binary (X87Binary op, long double a, long double b, uint16_t fcw, uint16_t *sw);
long double x87h_unary (X87Unary op, long double a, uint16_t fcw, uint16_t *sw);
/* Two results: *st1 (the value left below) and *st0 (pushed on top). */
void x87h_unary2 (X87Unary2 op, long double a, uint16_t fcw, long double *st1,
                  long double *st0, uint16_t *sw);
/* FCOM/FUCOM a with b: the status word holds C0, C2, C3. */
/* ST0 op memory operand (f: F32, F64, I16, I32); kind as the D8 ModRM.reg:
 * 0 add 1 mul 2/3 compare (status only) 4 sub 5 subr 6 div 7 divr. */
long double x87h_binary_mem (unsigned kind, long double a, X87MemFormat f, const void *mem,
                             uint16_t fcw, uint16_t *sw);
uint16_t x87h_compare (long double a, long double b, bool unordered_quiet, uint16_t fcw);
long double x87h_load (X87MemFormat f, const void *mem, uint16_t fcw, uint16_t *sw);
void x87h_store (X87MemFormat f, long double a, void *mem, uint16_t fcw, uint16_t *sw);
long double x87h_constant (unsigned which /* D9 E8-EE low bits */, uint16_t fcw);

SimdResult x87_arith (SimdOp *op);      /* D8, DA, DC, DE and D9 E0-FF */
SimdResult x87_load_store (SimdOp *op); /* D9, DB, DD, DF moves and stores */
SimdResult x87_env (SimdOp *op);        /* control word, environment, state */
