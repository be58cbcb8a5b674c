/* SSE/SSE2 conversions: 0F 2A, 2C, 2D, 5A, 5B, E6, between packed and
 * scalar singles, doubles, dword integers in XMM/MMX and general registers. */
#include "vmm-core/cpu/simd-host-fp.h"
#include "vmm-core/cpu/simd-internal.h"

static SimdResult
finish (SimdOp *op, FxXmm *dst, const FxXmm *r, uint32_t flags)
{
  SimdResult res = simd_fp_flags (op->fx, flags);
  if (res == SIMD_OK)
    *dst = *r;
  return res;
}

/* CVTPI2PS / CVTPI2PD xmm, mm/m64 */
static SimdResult
from_packed_int (SimdOp *op, FxXmm *dst)
{
  const SimdInsn *in = op->in;
  FxXmm s = { 0 }, r = *dst;
  uint32_t flags;

  if (in->mod == 3)
    s.q[0] = mmx_get (op, in->rm);
  else if (!op->h->read (op->h->cpu, in->addr, &s.q[0], 8))
    return SIMD_FAULTED;
  if (in->prefix == SIMD_PFX_66)
    return finish (op, dst, &r, host_fp_op (HF_CVTDQ2PD, &r, &s, op->fx->mxcsr, 0));
  /* The zero upper lanes convert exactly, so only the low two lanes can
   * raise flags; the upper half of the destination is kept. */
  FxXmm t = { 0 };
  flags = host_fp_op (HF_CVTDQ2PS, &t, &s, op->fx->mxcsr, 0);
  r.q[0] = t.q[0];
  return finish (op, dst, &r, flags);
}

/* CVT(T)PS2PI / CVT(T)PD2PI mm, xmm/m */
static SimdResult
to_packed_int (SimdOp *op, bool truncate)
{
  const SimdInsn *in = op->in;
  bool pd = in->prefix == SIMD_PFX_66;
  FxXmm s, t = { 0 };
  SimdResult res;
  uint32_t flags;

  if ((res = simd_read_rm_xmm (op, &s, pd ? 16 : 8, pd)) != SIMD_OK)
    return res;
  if (!pd)
    s.q[1] = 0; /* zeros convert without exceptions */
  flags = host_fp_op (pd ? (truncate ? HF_CVTTPD2DQ : HF_CVTPD2DQ)
                         : (truncate ? HF_CVTTPS2DQ : HF_CVTPS2DQ),
                      &t, &s, op->fx->mxcsr, 0);
  if ((res = simd_fp_flags (op->fx, flags)) != SIMD_OK)
    return res;
  mmx_set (op, in->reg, t.q[0]);
  return SIMD_OK;
}

SimdResult
sse_convert_exec (SimdOp *op)
{
  const SimdInsn *in = op->in;
  FxXmm *dst = simd_xreg (op, in->reg), s, r = *dst;
  SimdResult res;
  bool sd = in->prefix == SIMD_PFX_F2;

  switch (in->opcode)
    {
    case 0x2a:
      if (in->prefix == SIMD_PFX_NONE || in->prefix == SIMD_PFX_66)
        return from_packed_int (op, dst);
      {
        uint64_t v = 0;
        if (in->mod == 3)
          v = simd_gpr (op, in->rm);
        else if (!op->h->read (op->h->cpu, in->addr, &v, in->rex_w ? 8 : 4))
          return SIMD_FAULTED;
        return finish (op, dst, &r, host_fp_from_int (sd, &r, v, in->rex_w, op->fx->mxcsr));
      }
    case 0x2c: case 0x2d:
      if (in->prefix == SIMD_PFX_NONE || in->prefix == SIMD_PFX_66)
        return to_packed_int (op, in->opcode == 0x2c);
      {
        uint64_t v;
        if ((res = simd_read_rm_xmm (op, &s, sd ? 8 : 4, false)) != SIMD_OK)
          return res;
        HostFpToInt k = sd ? (in->opcode == 0x2c ? HF_CVTTSD2SI : HF_CVTSD2SI)
                           : (in->opcode == 0x2c ? HF_CVTTSS2SI : HF_CVTSS2SI);
        uint32_t flags = host_fp_to_int (k, &s, in->rex_w, op->fx->mxcsr, &v);
        if ((res = simd_fp_flags (op->fx, flags)) != SIMD_OK)
          return res;
        simd_set_gpr (op, in->reg, v, in->rex_w ? 8 : 4);
        return SIMD_OK;
      }
    case 0x5a:
      {
        static const HostFpOp ops[4] = { HF_CVTPS2PD, HF_CVTPD2PS, HF_CVTSS2SD, HF_CVTSD2SS };
        static const unsigned lens[4] = { 8, 16, 4, 8 };
        unsigned len = lens[in->prefix];
        if ((res = simd_read_rm_xmm (op, &s, len, len == 16)) != SIMD_OK)
          return res;
        return finish (op, dst, &r, host_fp_op (ops[in->prefix], &r, &s, op->fx->mxcsr, 0));
      }
    case 0x5b:
      {
        static const HostFpOp ops[3] = { HF_CVTDQ2PS, HF_CVTPS2DQ, HF_CVTTPS2DQ };
        if ((res = simd_read_rm_xmm (op, &s, 16, true)) != SIMD_OK)
          return res;
        return finish (op, dst, &r, host_fp_op (ops[in->prefix], &r, &s, op->fx->mxcsr, 0));
      }
    case 0xe6:
      {
        /* 66: CVTTPD2DQ, F3: CVTDQ2PD (m64), F2: CVTPD2DQ */
        bool dq2pd = in->prefix == SIMD_PFX_F3;
        if ((res = simd_read_rm_xmm (op, &s, dq2pd ? 8 : 16, !dq2pd)) != SIMD_OK)
          return res;
        HostFpOp k = dq2pd ? HF_CVTDQ2PD : sd ? HF_CVTPD2DQ : HF_CVTTPD2DQ;
        return finish (op, dst, &r, host_fp_op (k, &r, &s, op->fx->mxcsr, 0));
      }
    default:
      return SIMD_UD;
    }
}
