/* SSE/SSE2 floating-point arithmetic and compares: 0F 51-53, 58, 59, 5C-5F,
 * C2 (CMPccPS/PD/SS/SD), 2E/2F ((U)COMISS/SD). The arithmetic itself runs on
 * the host SSE unit with the guest's MXCSR modes (simd-host-fp.h). */
#include "vmm-core/cpu/simd-host-fp.h"
#include "vmm-core/cpu/simd-internal.h"

/* First HostFpOp of each opcode's group of four (ps, ss, pd, sd). */
static int
group_base (uint8_t opcode)
{
  switch (opcode)
    {
    case 0x51: return HF_SQRTPS;
    case 0x58: return HF_ADDPS;
    case 0x59: return HF_MULPS;
    case 0x5c: return HF_SUBPS;
    case 0x5d: return HF_MINPS;
    case 0x5e: return HF_DIVPS;
    case 0x5f: return HF_MAXPS;
    case 0xc2: return HF_CMPPS;
    default: return -1;
    }
}

SimdResult
sse_arith_exec (SimdOp *op)
{
  const SimdInsn *in = op->in;
  FxXmm *dst = simd_xreg (op, in->reg), s, r;
  SimdResult res;
  HostFpOp hop;
  unsigned len;
  /* Lane order in HostFpOp groups: ps, ss, pd, sd. */
  static const unsigned lane_of_prefix[4] = { 0, 2, 1, 3 };
  static const unsigned len_of_prefix[4] = { 16, 16, 4, 8 };

  if (in->opcode == 0x2e || in->opcode == 0x2f)
    {
      bool sd = in->prefix == SIMD_PFX_66;
      uint64_t zpc, fl;
      if ((res = simd_read_rm_xmm (op, &s, sd ? 8 : 4, false)) != SIMD_OK)
        return res;
      HostFpCompare c = sd ? (in->opcode == 0x2f ? HF_COMISD : HF_UCOMISD)
                           : (in->opcode == 0x2f ? HF_COMISS : HF_UCOMISS);
      uint32_t flags = host_fp_compare (c, dst, &s, op->fx->mxcsr, &zpc);
      if ((res = simd_fp_flags (op->fx, flags)) != SIMD_OK)
        return res;
      fl = op->h->get_rflags (op->h->cpu) & ~UINT64_C (0x8d5); /* OF SF ZF AF PF CF */
      op->h->set_rflags (op->h->cpu, fl | zpc);
      return SIMD_OK;
    }

  if (in->opcode == 0x52 || in->opcode == 0x53)
    {
      bool ss = in->prefix == SIMD_PFX_F3;
      hop = (in->opcode == 0x52 ? HF_RSQRTPS : HF_RCPPS) + ss;
      len = ss ? 4 : 16;
    }
  else
    {
      int base = group_base (in->opcode);
      if (base < 0)
        return SIMD_UD;
      hop = base + lane_of_prefix[in->prefix];
      len = len_of_prefix[in->prefix];
    }
  if ((res = simd_read_rm_xmm (op, &s, len, len == 16)) != SIMD_OK)
    return res;
  r = *dst;
  uint32_t flags = host_fp_op (hop, &r, &s, op->fx->mxcsr, in->imm8);
  if ((res = simd_fp_flags (op->fx, flags)) != SIMD_OK)
    return res;
  *dst = r;
  return SIMD_OK;
}
