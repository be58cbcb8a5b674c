/* Shared helpers of the x87/MMX/SSE unit: operand access through SimdHost,
 * MMX register aliasing, MXCSR bits, and the entry points of each group. */
#pragma once

#include <string.h>

#include "vmm-core/cpu/simd.h"
#include "vmm-core/log.h"

#define MXCSR_IE 0x0001u
#define MXCSR_FLAGS 0x003fu
#define MXCSR_DAZ 0x0040u
#define MXCSR_MASKS 0x1f80u
#define MXCSR_RC 0x6000u
#define MXCSR_FZ 0x8000u
/* Bits LDMXCSR/FXRSTOR accept (the value FXSAVE stores as MXCSR_MASK). */
#define MXCSR_VALID 0xffffu

typedef struct SimdOp {
  FxState *fx;
  const SimdInsn *in;
  const SimdHost *h;
} SimdOp;

static inline FxXmm *
simd_xreg (SimdOp *op, unsigned n)
{
  return &op->fx->xmm[n & 15];
}

/* Read the r/m operand of an XMM instruction: a register, or len bytes of
 * memory (zero-extended to 16). align16: legacy-SSE 16-byte alignment rule. */
static inline SimdResult
simd_read_rm_xmm (SimdOp *op, FxXmm *out, unsigned len, bool align16)
{
  if (op->in->mod == 3)
    {
      *out = *simd_xreg (op, op->in->rm);
      return SIMD_OK;
    }
  if (align16 && (op->in->addr & 15))
    return SIMD_GP;
  memset (out, 0, sizeof *out);
  if (!op->h->read (op->h->cpu, op->in->addr, out, len))
    return SIMD_FAULTED;
  return SIMD_OK;
}

static inline SimdResult
simd_write_mem (SimdOp *op, const void *buf, unsigned len, bool align16)
{
  if (align16 && (op->in->addr & 15))
    return SIMD_GP;
  if (!op->h->write (op->h->cpu, op->in->addr, buf, len))
    return SIMD_FAULTED;
  return SIMD_OK;
}

/* MMX registers alias the significands of the physical x87 registers;
 * FxState holds those in stack order, and MMX code runs with TOP = 0 (see
 * mmx_enter), so MMi is st[i]. */
static inline uint64_t
mmx_get (SimdOp *op, unsigned n)
{
  uint64_t v;
  memcpy (&v, op->fx->st[n & 7].v, 8);
  return v;
}

/* An MMX instruction makes TOP 0 and every tag valid (SDM vol. 1 9.5.1). */
static inline void
mmx_enter (FxState *fx)
{
  unsigned top = (fx->fsw >> 11) & 7;

  if (top) /* physical register p moves from st[(p - top) & 7] to st[p] */
    {
      FxReg80 tmp[8];
      for (unsigned p = 0; p < 8; p++)
        tmp[p] = fx->st[(p - top) & 7];
      memcpy (fx->st, tmp, sizeof tmp);
    }
  fx->fsw &= ~0x3800;
  fx->ftw = 0xff;
}

static inline void
mmx_set (SimdOp *op, unsigned n, uint64_t v)
{
  memcpy (op->fx->st[n & 7].v, &v, 8);
  op->fx->st[n & 7].v[8] = 0xff;
  op->fx->st[n & 7].v[9] = 0xff;
}

static inline uint64_t
simd_gpr (SimdOp *op, unsigned n)
{
  return op->h->get_gpr (op->h->cpu, n & 15);
}

static inline void
simd_set_gpr (SimdOp *op, unsigned n, uint64_t v, unsigned size)
{
  op->h->set_gpr (op->h->cpu, n & 15, v, size);
}

/* Fold exception flags raised by an SSE operation into MXCSR; SIMD_XM when
 * one of them is unmasked (the destination must then stay unchanged). */
static inline SimdResult
simd_fp_flags (FxState *fx, uint32_t flags)
{
  flags &= MXCSR_FLAGS;
  fx->mxcsr |= flags;
  if (flags & ~(fx->mxcsr >> 7) & MXCSR_FLAGS)
    return SIMD_XM;
  return SIMD_OK;
}

/* The x87 unit (D8-DF) and the 0F-map groups. Each returns SIMD_UD for an
 * encoding it does not own so the dispatcher can try the next one. */
SimdResult x87_exec (SimdOp *op);
SimdResult sse_move_exec (SimdOp *op);
SimdResult sse_arith_exec (SimdOp *op);
SimdResult sse_convert_exec (SimdOp *op);
SimdResult sse2_int_exec (SimdOp *op);
SimdResult mmx_exec (SimdOp *op);
SimdResult sse_state_exec (SimdOp *op);
void x87_init (FxState *fx);

/* Integer SIMD lane operations shared by the MMX (width 8) and SSE2
 * (width 16) forms of opcodes 0F 60-7F and D1-FE: dst = dst OP src.
 * False if the opcode is not a two-operand lane operation. */
bool simd_int_lanes (uint8_t opcode, uint8_t *dst, const uint8_t *src, unsigned width);
/* The 0F 71-73 immediate shift groups; false for an undefined /reg. */
bool simd_int_shift_imm (uint8_t opcode, unsigned reg, uint8_t *dst, unsigned width,
                         uint8_t count);
/* Is this opcode one of simd_int_lanes's operations? */
bool simd_int_is_lane_op (uint8_t opcode);
