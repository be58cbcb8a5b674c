/* Guest x87 arithmetic on the host x87 (see x87-internal.h). Each asm block
 * saves the host control word, loads the guest's with every exception
 * masked (precision and rounding kept), clears the flags, runs the guest's
 * operation on values loaded from memory, stores the results and the status
 * word, pops everything it pushed and restores the host control word. */
#include "vmm-core/cpu/x87-internal.h"

#define PRO "fnstcw %[sv]\n\tfldcw %[cw]\n\tfnclex\n\t"
#define EPI "fldcw %[sv]"

static inline uint16_t
masked_cw (uint16_t fcw)
{
  return fcw | 0x3f;
}

#define BIN(body)                                                                           \
  asm volatile (PRO "fldt %[b]\n\tfldt %[a]\n\t" body "\n\t" EPI                           \
                : [r] "=m"(r), [sw] "=m"(s), [sv] "+m"(saved)                               \
                : [a] "m"(a), [b] "m"(b), [cw] "m"(cw))

long double
x87h_binary (X87Binary op, long double a, long double b, uint16_t fcw, uint16_t *sw)
{
  long double r = 0;
  uint16_t s = 0, saved = 0, cw = masked_cw (fcw);

  switch (op)
    {
    case XH_ADD: BIN ("fadd %%st(1), %%st\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstp %%st(0)"); break;
    case XH_MUL: BIN ("fmul %%st(1), %%st\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstp %%st(0)"); break;
    case XH_SUB: BIN ("fsub %%st(1), %%st\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstp %%st(0)"); break;
    case XH_DIV: BIN ("fdiv %%st(1), %%st\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstp %%st(0)"); break;
    case XH_PREM: BIN ("fprem\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstp %%st(0)"); break;
    case XH_PREM1: BIN ("fprem1\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstp %%st(0)"); break;
    case XH_SCALE: BIN ("fscale\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstp %%st(0)"); break;
    case XH_PATAN: BIN ("fpatan\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    case XH_YL2X: BIN ("fyl2x\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    case XH_YL2XP1: BIN ("fyl2xp1\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    }
  *sw = s;
  return r;
}

#define UN(insn)                                                                            \
  asm volatile (PRO "fldt %[a]\n\t" insn "\n\tfnstsw %[sw]\n\tfstpt %[r]\n\t" EPI           \
                : [r] "=m"(r), [sw] "=m"(s), [sv] "+m"(saved)                               \
                : [a] "m"(a), [cw] "m"(cw))

long double
x87h_unary (X87Unary op, long double a, uint16_t fcw, uint16_t *sw)
{
  long double r = 0;
  uint16_t s = 0, saved = 0, cw = masked_cw (fcw);

  switch (op)
    {
    case XH_SQRT: UN ("fsqrt"); break;
    case XH_RNDINT: UN ("frndint"); break;
    case XH_SIN: UN ("fsin"); break;
    case XH_COS: UN ("fcos"); break;
    case XH_F2XM1: UN ("f2xm1"); break;
    }
  *sw = s;
  return r;
}

/* FPTAN and FSINCOS leave the operand alone (C2 = 1) when it is out of range. */
#define UN2(insn)                                                                           \
  asm volatile (PRO "fldt %[a]\n\t" insn "\n\tfnstsw %[sw]\n\t"                             \
                "testw $0x400, %[sw]\n\tjnz 1f\n\tfstpt %[r0]\n"                            \
                "1:\n\tfstpt %[r1]\n\t" EPI                                                 \
                : [r0] "=m"(r0), [r1] "=m"(r1), [sw] "=m"(s), [sv] "+m"(saved)              \
                : [a] "m"(a), [cw] "m"(cw)                                                  \
                : "cc")

void
x87h_unary2 (X87Unary2 op, long double a, uint16_t fcw, long double *st1, long double *st0,
             uint16_t *sw)
{
  long double r0 = 0, r1 = 0;
  uint16_t s = 0, saved = 0, cw = masked_cw (fcw);

  switch (op)
    {
    case XH_PTAN: UN2 ("fptan"); break;
    case XH_SINCOS: UN2 ("fsincos"); break;
    case XH_XTRACT:
      asm volatile (PRO "fldt %[a]\n\tfxtract\n\tfnstsw %[sw]\n\tfstpt %[r0]\n\t"
                    "fstpt %[r1]\n\t" EPI
                    : [r0] "=m"(r0), [r1] "=m"(r1), [sw] "=m"(s), [sv] "+m"(saved)
                    : [a] "m"(a), [cw] "m"(cw));
      s &= ~FSW_C2;
      break;
    }
  *st0 = r0;
  *st1 = r1;
  *sw = s;
}

uint16_t
x87h_compare (long double a, long double b, bool unordered_quiet, uint16_t fcw)
{
  uint16_t s = 0, saved = 0, cw = masked_cw (fcw);

  if (unordered_quiet)
    asm volatile (PRO "fldt %[b]\n\tfldt %[a]\n\tfucompp\n\tfnstsw %[sw]\n\t" EPI
                  : [sw] "=m"(s), [sv] "+m"(saved)
                  : [a] "m"(a), [b] "m"(b), [cw] "m"(cw));
  else
    asm volatile (PRO "fldt %[b]\n\tfldt %[a]\n\tfcompp\n\tfnstsw %[sw]\n\t" EPI
                  : [sw] "=m"(s), [sv] "+m"(saved)
                  : [a] "m"(a), [b] "m"(b), [cw] "m"(cw));
  return s;
}

long double
x87h_load (X87MemFormat f, const void *mem, uint16_t fcw, uint16_t *sw)
{
  long double r = 0;
  uint16_t s = 0, saved = 0, cw = masked_cw (fcw);
  float f32;
  double f64;

  switch (f)
    {
    case XH_F32:
      memcpy (&f32, mem, 4);
      asm volatile (PRO "flds %[m]\n\tfstpt %[r]\n\tfnstsw %[sw]\n\t" EPI
                    : [r] "=m"(r), [sw] "=m"(s), [sv] "+m"(saved)
                    : [m] "m"(f32), [cw] "m"(cw));
      break;
    case XH_F64:
      memcpy (&f64, mem, 8);
      asm volatile (PRO "fldl %[m]\n\tfstpt %[r]\n\tfnstsw %[sw]\n\t" EPI
                    : [r] "=m"(r), [sw] "=m"(s), [sv] "+m"(saved)
                    : [m] "m"(f64), [cw] "m"(cw));
      break;
    case XH_I16: { int16_t v; memcpy (&v, mem, 2); r = v; break; }
    case XH_I32: { int32_t v; memcpy (&v, mem, 4); r = v; break; }
    case XH_I64: { int64_t v; memcpy (&v, mem, 8); r = v; break; }
    }
  *sw = s;
  return r;
}

#define ST(insn, var)                                                                       \
  asm volatile (PRO "fldt %[a]\n\t" insn " %[m]\n\tfnstsw %[sw]\n\t" EPI                    \
                : [m] "=m"(var), [sw] "=m"(s), [sv] "+m"(saved)                             \
                : [a] "m"(a), [cw] "m"(cw))

void
x87h_store (X87MemFormat f, long double a, void *mem, uint16_t fcw, uint16_t *sw)
{
  uint16_t s = 0, saved = 0, cw = masked_cw (fcw);
  union { float f32; double f64; int16_t i16; int32_t i32; int64_t i64; } v;
  static const unsigned size[] = { 4, 8, 2, 4, 8 };

  switch (f)
    {
    case XH_F32: ST ("fstps", v.f32); break;
    case XH_F64: ST ("fstpl", v.f64); break;
    case XH_I16: ST ("fistps", v.i16); break;
    case XH_I32: ST ("fistpl", v.i32); break;
    case XH_I64: ST ("fistpll", v.i64); break;
    }
  memcpy (mem, &v, size[f]);
  *sw = s;
}

#define CONST(insn)                                                                         \
  asm volatile (PRO insn "\n\tfstpt %[r]\n\t" EPI                                           \
                : [r] "=m"(r), [sv] "+m"(saved)                                             \
                : [cw] "m"(cw))

long double
x87h_constant (unsigned which, uint16_t fcw)
{
  long double r = 0;
  uint16_t saved = 0, cw = masked_cw (fcw);

  switch (which)
    {
    case 0: CONST ("fld1"); break;
    case 1: CONST ("fldl2t"); break;
    case 2: CONST ("fldl2e"); break;
    case 3: CONST ("fldpi"); break;
    case 4: CONST ("fldlg2"); break;
    case 5: CONST ("fldln2"); break;
    default: CONST ("fldz"); break;
    }
  return r;
}

#define MEMOP(insn, var)                                                                    \
  asm volatile (PRO "fldt %[a]\n\t" insn " %[m]\n\tfnstsw %[sw]\n\tfstpt %[r]\n\t" EPI      \
                : [r] "=m"(r), [sw] "=m"(s), [sv] "+m"(saved)                               \
                : [a] "m"(a), [m] "m"(var), [cw] "m"(cw))

#define MEMCMP(insn, var)                                                                   \
  asm volatile (PRO "fldt %[a]\n\t" insn " %[m]\n\tfnstsw %[sw]\n\t" EPI                    \
                : [sw] "=m"(s), [sv] "+m"(saved)                                            \
                : [a] "m"(a), [m] "m"(var), [cw] "m"(cw))

#define MEMOPS(pre, sfx, var)                                                               \
  switch (kind)                                                                             \
    {                                                                                       \
    case 0: MEMOP (pre "add" sfx, var); break;                                              \
    case 1: MEMOP (pre "mul" sfx, var); break;                                              \
    case 2: case 3: MEMCMP (pre "comp" sfx, var); break;                                    \
    case 4: MEMOP (pre "sub" sfx, var); break;                                              \
    case 5: MEMOP (pre "subr" sfx, var); break;                                             \
    case 6: MEMOP (pre "div" sfx, var); break;                                              \
    default: MEMOP (pre "divr" sfx, var); break;                                            \
    }

long double
x87h_binary_mem (unsigned kind, long double a, X87MemFormat f, const void *mem, uint16_t fcw,
                 uint16_t *sw)
{
  long double r = 0;
  uint16_t s = 0, saved = 0, cw = masked_cw (fcw);
  union { float f32; double f64; int16_t i16; int32_t i32; } v;

  memcpy (&v, mem, f == XH_F64 ? 8 : f == XH_I16 ? 2 : 4);
  switch (f)
    {
    case XH_F32: MEMOPS ("f", "s", v.f32); break;
    case XH_F64: MEMOPS ("f", "l", v.f64); break;
    case XH_I16: MEMOPS ("fi", "s", v.i16); break;
    default: MEMOPS ("fi", "l", v.i32); break;
    }
  *sw = s;
  return r;
}
