/* 0F AE (group 15): FXSAVE, FXRSTOR, LDMXCSR, STMXCSR. The fences and
 * CLFLUSH of the same group have no effect on an interpreter's memory and
 * complete as no-ops if the core routes them here. */
#include "vmm-core/cpu/simd-internal.h"

static SimdResult
fxsave (SimdOp *op)
{
  const SimdInsn *in = op->in;
  FxState img = *op->fx;
  unsigned len = in->mode64 ? 416 : 288; /* XMM8-15 only exist in 64-bit mode */
  uint8_t *b = (uint8_t *) &img;

  if (in->addr & 15)
    return SIMD_GP;
  img.mxcsr_mask = MXCSR_VALID;
  img.fop &= 0x7ff;
  if (!(in->mode64 && in->rex_w))
    {
      /* 32-bit layout: FIP, FCS, FDP, FDS. Selectors read as 0 (the
       * FCS/FDS deprecation of recent processors). */
      uint32_t fip = (uint32_t) op->fx->fip, fdp = (uint32_t) op->fx->fdp;
      memset (b + 8, 0, 16);
      memcpy (b + 8, &fip, 4);
      memcpy (b + 16, &fdp, 4);
    }
  memset (img.reserved2, 0, sizeof img.reserved2);
  for (unsigned i = 0; i < 8; i++)
    memset (img.st[i].pad, 0, sizeof img.st[i].pad);
  return simd_write_mem (op, &img, len, true);
}

static SimdResult
fxrstor (SimdOp *op)
{
  const SimdInsn *in = op->in;
  FxState img;
  FxState *fx = op->fx;

  if (in->addr & 15)
    return SIMD_GP;
  if (!op->h->read (op->h->cpu, in->addr, &img, sizeof img))
    return SIMD_FAULTED;
  if (img.mxcsr & ~MXCSR_VALID)
    {
      VMM_GUEST_ERROR ("cpu", "FXRSTOR with reserved MXCSR bits %#x", img.mxcsr);
      return SIMD_GP;
    }
  fx->fcw = img.fcw;
  fx->fsw = img.fsw;
  fx->ftw = img.ftw;
  fx->fop = img.fop & 0x7ff;
  if (in->mode64 && in->rex_w)
    {
      fx->fip = img.fip;
      fx->fdp = img.fdp;
    }
  else
    {
      fx->fip = (uint32_t) img.fip;
      fx->fdp = (uint32_t) img.fdp;
    }
  fx->mxcsr = img.mxcsr;
  for (unsigned i = 0; i < 8; i++)
    memcpy (fx->st[i].v, img.st[i].v, 10);
  memcpy (fx->xmm, img.xmm, (in->mode64 ? 16 : 8) * sizeof (FxXmm));
  return SIMD_OK;
}

SimdResult
sse_state_exec (SimdOp *op)
{
  const SimdInsn *in = op->in;
  uint32_t v;

  if (in->mod == 3)
    return (in->reg & 7) >= 5 ? SIMD_OK : SIMD_UD; /* LFENCE MFENCE SFENCE */
  switch (in->reg & 7)
    {
    case 0:
      return fxsave (op);
    case 1:
      return fxrstor (op);
    case 2: /* LDMXCSR */
      if (!op->h->read (op->h->cpu, in->addr, &v, 4))
        return SIMD_FAULTED;
      if (v & ~MXCSR_VALID)
        {
          VMM_GUEST_ERROR ("cpu", "LDMXCSR with reserved bits %#x", v);
          return SIMD_GP;
        }
      op->fx->mxcsr = v;
      return SIMD_OK;
    case 3: /* STMXCSR */
      v = op->fx->mxcsr;
      return simd_write_mem (op, &v, 4, false);
    case 7: /* CLFLUSH */
      return SIMD_OK;
    default: /* XSAVE family: not advertised */
      return SIMD_UD;
    }
}
