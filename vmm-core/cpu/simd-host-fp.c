/* Guest SSE arithmetic on the host SSE unit: see simd-host-fp.h. Every asm
 * block saves the host MXCSR, loads the guest's (flags cleared, exceptions
 * masked), runs one instruction, reads the flags back and restores the host
 * MXCSR, so no host floating-point code ever sees the guest's modes. */
#include <stdbool.h>
#include <string.h>

#include "vmm-core/cpu/simd-host-fp.h"

typedef long long V2 __attribute__ ((vector_size (16)));

/* The guest's modes with every exception masked. Flush-to-zero only acts
 * while underflow is masked, so it is dropped when the guest unmasks it. */
static inline uint32_t
guest_mxcsr_masked (uint32_t mxcsr)
{
  uint32_t m = (mxcsr & 0xffc0u) | 0x1f80u;
  return (mxcsr & 0x0800u) ? m : m & ~0x8000u;
}

#define RUN2(mnem)                                                                          \
  asm volatile ("stmxcsr %[sv]\n\tldmxcsr %[m]\n\t" mnem " %[s], %[d]\n\t"                  \
                "stmxcsr %[m]\n\tldmxcsr %[sv]"                                             \
                : [d] "+x"(d), [m] "+m"(m), [sv] "+m"(saved)                                \
                : [s] "x"(s))

#define RUNCMP(mnem, n)                                                                     \
  case n:                                                                                   \
    asm volatile ("stmxcsr %[sv]\n\tldmxcsr %[m]\n\t" mnem " %[i], %[s], %[d]\n\t"          \
                  "stmxcsr %[m]\n\tldmxcsr %[sv]"                                           \
                  : [d] "+x"(d), [m] "+m"(m), [sv] "+m"(saved)                              \
                  : [s] "x"(s), [i] "i"(n));                                                \
    break

#define CMP_ALL(mnem)                                                                       \
  switch (imm & 7)                                                                          \
    {                                                                                       \
      RUNCMP (mnem, 0); RUNCMP (mnem, 1); RUNCMP (mnem, 2); RUNCMP (mnem, 3);               \
      RUNCMP (mnem, 4); RUNCMP (mnem, 5); RUNCMP (mnem, 6); default: RUNCMP (mnem, 7);      \
    }

static bool
is_denormal32 (uint32_t v)
{
  return !(v & 0x7f800000u) && (v & 0x7fffffu);
}

static bool
is_denormal64 (uint64_t v)
{
  return !(v & 0x7ff0000000000000u) && (v & 0xfffffffffffffu);
}

/* With underflow unmasked, a tiny result raises UE even when exact; run
 * masked, the host only flags tiny *and* inexact results. Exact tiny
 * results are exactly the denormal outputs, so look for those. */
static uint32_t
exact_tiny_underflow (HostFpOp op, const FxXmm *r, uint32_t mxcsr)
{
  unsigned lanes32 = 0, lanes64 = 0;

  if (mxcsr & 0x0800u)
    return 0;
  switch (op)
    {
    case HF_ADDPS: case HF_SUBPS: case HF_MULPS: case HF_DIVPS: lanes32 = 4; break;
    case HF_ADDSS: case HF_SUBSS: case HF_MULSS: case HF_DIVSS: case HF_CVTSD2SS:
      lanes32 = 1; break;
    case HF_CVTPD2PS: lanes32 = 2; break;
    case HF_ADDPD: case HF_SUBPD: case HF_MULPD: case HF_DIVPD: lanes64 = 2; break;
    case HF_ADDSD: case HF_SUBSD: case HF_MULSD: case HF_DIVSD: lanes64 = 1; break;
    default: return 0;
    }
  for (unsigned i = 0; i < lanes32; i++)
    if (is_denormal32 (r->d[i]))
      return 0x10;
  for (unsigned i = 0; i < lanes64; i++)
    if (is_denormal64 (r->q[i]))
      return 0x10;
  return 0;
}

uint32_t
host_fp_op (HostFpOp op, FxXmm *dst, const FxXmm *src, uint32_t mxcsr, uint8_t imm)
{
  V2 d, s;
  uint32_t m = guest_mxcsr_masked (mxcsr), saved = 0;

  memcpy (&d, dst, 16);
  memcpy (&s, src, 16);
  switch (op)
    {
    case HF_ADDPS: RUN2 ("addps"); break;
    case HF_ADDSS: RUN2 ("addss"); break;
    case HF_ADDPD: RUN2 ("addpd"); break;
    case HF_ADDSD: RUN2 ("addsd"); break;
    case HF_SUBPS: RUN2 ("subps"); break;
    case HF_SUBSS: RUN2 ("subss"); break;
    case HF_SUBPD: RUN2 ("subpd"); break;
    case HF_SUBSD: RUN2 ("subsd"); break;
    case HF_MULPS: RUN2 ("mulps"); break;
    case HF_MULSS: RUN2 ("mulss"); break;
    case HF_MULPD: RUN2 ("mulpd"); break;
    case HF_MULSD: RUN2 ("mulsd"); break;
    case HF_DIVPS: RUN2 ("divps"); break;
    case HF_DIVSS: RUN2 ("divss"); break;
    case HF_DIVPD: RUN2 ("divpd"); break;
    case HF_DIVSD: RUN2 ("divsd"); break;
    case HF_MINPS: RUN2 ("minps"); break;
    case HF_MINSS: RUN2 ("minss"); break;
    case HF_MINPD: RUN2 ("minpd"); break;
    case HF_MINSD: RUN2 ("minsd"); break;
    case HF_MAXPS: RUN2 ("maxps"); break;
    case HF_MAXSS: RUN2 ("maxss"); break;
    case HF_MAXPD: RUN2 ("maxpd"); break;
    case HF_MAXSD: RUN2 ("maxsd"); break;
    case HF_SQRTPS: RUN2 ("sqrtps"); break;
    case HF_SQRTSS: RUN2 ("sqrtss"); break;
    case HF_SQRTPD: RUN2 ("sqrtpd"); break;
    case HF_SQRTSD: RUN2 ("sqrtsd"); break;
    case HF_RCPPS: RUN2 ("rcpps"); break;
    case HF_RCPSS: RUN2 ("rcpss"); break;
    case HF_RSQRTPS: RUN2 ("rsqrtps"); break;
    case HF_RSQRTSS: RUN2 ("rsqrtss"); break;
    case HF_CVTPS2PD: RUN2 ("cvtps2pd"); break;
    case HF_CVTPD2PS: RUN2 ("cvtpd2ps"); break;
    case HF_CVTSS2SD: RUN2 ("cvtss2sd"); break;
    case HF_CVTSD2SS: RUN2 ("cvtsd2ss"); break;
    case HF_CVTDQ2PS: RUN2 ("cvtdq2ps"); break;
    case HF_CVTPS2DQ: RUN2 ("cvtps2dq"); break;
    case HF_CVTTPS2DQ: RUN2 ("cvttps2dq"); break;
    case HF_CVTDQ2PD: RUN2 ("cvtdq2pd"); break;
    case HF_CVTPD2DQ: RUN2 ("cvtpd2dq"); break;
    case HF_CVTTPD2DQ: RUN2 ("cvttpd2dq"); break;
    case HF_CMPPS: CMP_ALL ("cmpps"); break;
    case HF_CMPSS: CMP_ALL ("cmpss"); break;
    case HF_CMPPD: CMP_ALL ("cmppd"); break;
    case HF_CMPSD: CMP_ALL ("cmpsd"); break;
    }
  memcpy (dst, &d, 16);
  return (m & 0x3f) | exact_tiny_underflow (op, dst, mxcsr);
}

#define RUNCOMI(mnem)                                                                       \
  asm volatile ("stmxcsr %[sv]\n\tldmxcsr %[m]\n\t" mnem " %[s], %[d]\n\t"                  \
                "setz %[z]\n\tsetp %[p]\n\tsetc %[c]\n\t"                                   \
                "stmxcsr %[m]\n\tldmxcsr %[sv]"                                             \
                : [m] "+m"(m), [sv] "+m"(saved), [z] "=r"(z), [p] "=r"(p), [c] "=r"(c)      \
                : [s] "x"(s), [d] "x"(d)                                                    \
                : "cc")

uint32_t
host_fp_compare (HostFpCompare op, const FxXmm *a, const FxXmm *b, uint32_t mxcsr,
                 uint64_t *zpc)
{
  V2 d, s;
  uint32_t m = guest_mxcsr_masked (mxcsr), saved = 0;
  uint8_t z, p, c;

  memcpy (&d, a, 16);
  memcpy (&s, b, 16);
  switch (op)
    {
    case HF_COMISS: RUNCOMI ("comiss"); break;
    case HF_UCOMISS: RUNCOMI ("ucomiss"); break;
    case HF_COMISD: RUNCOMI ("comisd"); break;
    default: RUNCOMI ("ucomisd"); break;
    }
  *zpc = (uint64_t) z << 6 | (uint64_t) p << 2 | c;
  return m & 0x3f;
}

#define RUNCVT(mnem, mod)                                                                   \
  asm volatile ("stmxcsr %[sv]\n\tldmxcsr %[m]\n\t" mnem " %[s], %" mod "[r]\n\t"           \
                "stmxcsr %[m]\n\tldmxcsr %[sv]"                                             \
                : [m] "+m"(m), [sv] "+m"(saved), [r] "=r"(r)                                \
                : [s] "x"(s))

uint32_t
host_fp_to_int (HostFpToInt op, const FxXmm *src, bool wide, uint32_t mxcsr, uint64_t *out)
{
  V2 s;
  uint32_t m = guest_mxcsr_masked (mxcsr), saved = 0;
  uint64_t r = 0;

  memcpy (&s, src, 16);
  switch (op * 2 + wide)
    {
    case HF_CVTSS2SI * 2: RUNCVT ("cvtss2si", "k"); break;
    case HF_CVTSS2SI * 2 + 1: RUNCVT ("cvtss2si", "q"); break;
    case HF_CVTTSS2SI * 2: RUNCVT ("cvttss2si", "k"); break;
    case HF_CVTTSS2SI * 2 + 1: RUNCVT ("cvttss2si", "q"); break;
    case HF_CVTSD2SI * 2: RUNCVT ("cvtsd2si", "k"); break;
    case HF_CVTSD2SI * 2 + 1: RUNCVT ("cvtsd2si", "q"); break;
    case HF_CVTTSD2SI * 2: RUNCVT ("cvttsd2si", "k"); break;
    default: RUNCVT ("cvttsd2si", "q"); break;
    }
  *out = wide ? r : (uint32_t) r;
  return m & 0x3f;
}

#define RUNFROM(insn)                                                                       \
  asm volatile ("stmxcsr %[sv]\n\tldmxcsr %[m]\n\t" insn "\n\t"                  \
                "stmxcsr %[m]\n\tldmxcsr %[sv]"                                             \
                : [d] "+x"(d), [m] "+m"(m), [sv] "+m"(saved)                                \
                : [v] "r"(value))

uint32_t
host_fp_from_int (bool to_double, FxXmm *dst, uint64_t value, bool wide, uint32_t mxcsr)
{
  V2 d;
  uint32_t m = guest_mxcsr_masked (mxcsr), saved = 0;

  memcpy (&d, dst, 16);
  if (!wide)
    value = (uint32_t) value;
  switch (to_double * 2 + wide)
    {
    case 0: RUNFROM ("cvtsi2ssl %k[v], %[d]"); break;
    case 1: RUNFROM ("cvtsi2ssq %[v], %[d]"); break;
    case 2: RUNFROM ("cvtsi2sdl %k[v], %[d]"); break;
    default: RUNFROM ("cvtsi2sdq %[v], %[d]"); break;
    }
  memcpy (dst, &d, 16);
  return m & 0x3f;
}
