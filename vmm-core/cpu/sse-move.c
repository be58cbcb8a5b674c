/* SSE/SSE2 data movement, shuffles and bitwise logic on XMM registers:
 * 0F 10-17, 28, 29, 2B, 50, 54-57, C3 (MOVNTI), C6. None of these raise
 * floating-point exceptions. */
#include "vmm-core/cpu/simd-internal.h"

static SimdResult
store_reg_or_mem (SimdOp *op, const FxXmm *v, unsigned len, bool align16)
{
  if (op->in->mod == 3)
    {
      memcpy (simd_xreg (op, op->in->rm), v, len);
      return SIMD_OK;
    }
  return simd_write_mem (op, v, len, align16);
}

static SimdResult
logic_or_shuffle (SimdOp *op, FxXmm *dst)
{
  const SimdInsn *in = op->in;
  FxXmm s, r;
  SimdResult res;

  if ((res = simd_read_rm_xmm (op, &s, 16, true)) != SIMD_OK)
    return res;
  r = *dst;
  bool pd = in->prefix == SIMD_PFX_66;
  switch (in->opcode)
    {
    case 0x14:
      if (pd)
        r.q[1] = s.q[0];
      else
        r = (FxXmm){ .d = { dst->d[0], s.d[0], dst->d[1], s.d[1] } };
      break;
    case 0x15:
      if (pd)
        r = (FxXmm){ .q = { dst->q[1], s.q[1] } };
      else
        r = (FxXmm){ .d = { dst->d[2], s.d[2], dst->d[3], s.d[3] } };
      break;
    case 0x54: r.q[0] &= s.q[0]; r.q[1] &= s.q[1]; break;
    case 0x55: r.q[0] = ~r.q[0] & s.q[0]; r.q[1] = ~r.q[1] & s.q[1]; break;
    case 0x56: r.q[0] |= s.q[0]; r.q[1] |= s.q[1]; break;
    case 0x57: r.q[0] ^= s.q[0]; r.q[1] ^= s.q[1]; break;
    case 0xc6:
      if (pd)
        r = (FxXmm){ .q = { dst->q[in->imm8 & 1], s.q[(in->imm8 >> 1) & 1] } };
      else
        r = (FxXmm){ .d = { dst->d[in->imm8 & 3], dst->d[(in->imm8 >> 2) & 3],
                            s.d[(in->imm8 >> 4) & 3], s.d[(in->imm8 >> 6) & 3] } };
      break;
    default:
      return SIMD_UD;
    }
  *dst = r;
  return SIMD_OK;
}

SimdResult
sse_move_exec (SimdOp *op)
{
  const SimdInsn *in = op->in;
  FxXmm *dst = simd_xreg (op, in->reg), s;
  SimdResult r;
  unsigned scalar = in->prefix == SIMD_PFX_F3 ? 4 : in->prefix == SIMD_PFX_F2 ? 8 : 0;

  switch (in->opcode)
    {
    case 0x10: /* MOVUPS/MOVUPD/MOVSS/MOVSD load */
      if (!scalar)
        {
          if ((r = simd_read_rm_xmm (op, &s, 16, false)) != SIMD_OK)
            return r;
          *dst = s;
        }
      else if (in->mod == 3)
        memcpy (dst, simd_xreg (op, in->rm), scalar);
      else
        {
          if ((r = simd_read_rm_xmm (op, &s, scalar, false)) != SIMD_OK)
            return r;
          *dst = s;
        }
      return SIMD_OK;
    case 0x11:
      return store_reg_or_mem (op, dst, scalar ? scalar : 16, false);
    case 0x12: /* MOVLPS/MOVLPD load, MOVHLPS */
    case 0x16: /* MOVHPS/MOVHPD load, MOVLHPS */
      if (in->mod == 3)
        {
          if (in->prefix == SIMD_PFX_66)
            return SIMD_UD;
          FxXmm *src = simd_xreg (op, in->rm);
          if (in->opcode == 0x12)
            dst->q[0] = src->q[1];
          else
            dst->q[1] = src->q[0];
          return SIMD_OK;
        }
      if ((r = simd_read_rm_xmm (op, &s, 8, false)) != SIMD_OK)
        return r;
      dst->q[in->opcode == 0x16] = s.q[0];
      return SIMD_OK;
    case 0x13: case 0x17: /* MOVLPS/MOVHPS/MOVLPD/MOVHPD store */
      if (in->mod == 3)
        return SIMD_UD;
      return simd_write_mem (op, &dst->q[in->opcode == 0x17], 8, false);
    case 0x28: /* MOVAPS/MOVAPD */
      if ((r = simd_read_rm_xmm (op, &s, 16, true)) != SIMD_OK)
        return r;
      *dst = s;
      return SIMD_OK;
    case 0x29:
      return store_reg_or_mem (op, dst, 16, true);
    case 0x2b: /* MOVNTPS/MOVNTPD */
      if (in->mod == 3)
        return SIMD_UD;
      return simd_write_mem (op, dst, 16, true);
    case 0x50: /* MOVMSKPS/MOVMSKPD */
      if (in->mod != 3)
        return SIMD_UD;
      {
        FxXmm *src = simd_xreg (op, in->rm);
        uint32_t m = in->prefix == SIMD_PFX_66
                         ? (uint32_t) (src->q[0] >> 63 | (src->q[1] >> 63) << 1)
                         : (src->d[0] >> 31 | (src->d[1] >> 31) << 1 | (src->d[2] >> 31) << 2
                            | (src->d[3] >> 31) << 3);
        simd_set_gpr (op, in->reg, m, 4);
      }
      return SIMD_OK;
    case 0xc3: /* MOVNTI m32/m64, r */
      if (in->mod == 3)
        return SIMD_UD;
      {
        uint64_t v = simd_gpr (op, in->reg);
        return simd_write_mem (op, &v, in->rex_w ? 8 : 4, false);
      }
    default:
      return logic_or_shuffle (op, dst);
    }
}
