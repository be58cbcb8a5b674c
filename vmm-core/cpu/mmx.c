/* MMX forms (no mandatory prefix) of 0F 60-7F, C4, C5, D1-FE. The caller
 * (simd_exec) has already switched the x87 file into MMX mode. MMX register
 * numbers ignore REX. */
#include "vmm-core/cpu/simd-internal.h"

static SimdResult
read_rm_mmx (SimdOp *op, uint64_t *out)
{
  if (op->in->mod == 3)
    {
      *out = mmx_get (op, op->in->rm);
      return SIMD_OK;
    }
  return op->h->read (op->h->cpu, op->in->addr, out, 8) ? SIMD_OK : SIMD_FAULTED;
}

SimdResult
mmx_exec (SimdOp *op)
{
  const SimdInsn *in = op->in;
  uint8_t o = in->opcode;
  uint64_t d = mmx_get (op, in->reg), s;
  SimdResult r;

  if (simd_int_is_lane_op (o))
    {
      if ((r = read_rm_mmx (op, &s)) != SIMD_OK)
        return r;
      if (!simd_int_lanes (o, (uint8_t *) &d, (const uint8_t *) &s, 8))
        return SIMD_UD;
      mmx_set (op, in->reg, d);
      return SIMD_OK;
    }
  switch (o)
    {
    case 0x6e: /* MOVD/MOVQ mm, r/m */
      {
        uint64_t v = 0;
        if (in->mod == 3)
          v = simd_gpr (op, in->rm);
        else if (!op->h->read (op->h->cpu, in->addr, &v, in->rex_w ? 8 : 4))
          return SIMD_FAULTED;
        mmx_set (op, in->reg, in->rex_w ? v : (uint32_t) v);
        return SIMD_OK;
      }
    case 0x7e: /* MOVD/MOVQ r/m, mm */
      {
        unsigned len = in->rex_w ? 8 : 4;
        if (in->mod == 3)
          {
            simd_set_gpr (op, in->rm, in->rex_w ? d : (uint32_t) d, len);
            return SIMD_OK;
          }
        return simd_write_mem (op, &d, len, false);
      }
    case 0x6f:
      if ((r = read_rm_mmx (op, &s)) != SIMD_OK)
        return r;
      mmx_set (op, in->reg, s);
      return SIMD_OK;
    case 0x7f:
    case 0xe7: /* MOVNTQ */
      if (in->mod == 3)
        {
          if (o == 0xe7)
            return SIMD_UD;
          mmx_set (op, in->rm, d);
          return SIMD_OK;
        }
      return simd_write_mem (op, &d, 8, false);
    case 0x70: /* PSHUFW */
      if ((r = read_rm_mmx (op, &s)) != SIMD_OK)
        return r;
      d = 0;
      for (unsigned i = 0; i < 4; i++)
        d |= ((s >> (16 * ((in->imm8 >> (2 * i)) & 3))) & 0xffff) << (16 * i);
      mmx_set (op, in->reg, d);
      return SIMD_OK;
    case 0x71: case 0x72: case 0x73:
      if (in->mod != 3)
        return SIMD_UD;
      s = mmx_get (op, in->rm);
      if (!simd_int_shift_imm (o, in->reg, (uint8_t *) &s, 8, in->imm8))
        return SIMD_UD;
      mmx_set (op, in->rm, s);
      return SIMD_OK;
    case 0xc4: /* PINSRW mm, r32/m16, imm8 */
      {
        uint16_t v;
        if (in->mod == 3)
          v = (uint16_t) simd_gpr (op, in->rm);
        else if (!op->h->read (op->h->cpu, in->addr, &v, 2))
          return SIMD_FAULTED;
        unsigned sh = 16 * (in->imm8 & 3);
        d = (d & ~(UINT64_C (0xffff) << sh)) | (uint64_t) v << sh;
        mmx_set (op, in->reg, d);
        return SIMD_OK;
      }
    case 0xc5: /* PEXTRW r32, mm, imm8 */
      if (in->mod != 3)
        return SIMD_UD;
      simd_set_gpr (op, in->reg, (mmx_get (op, in->rm) >> (16 * (in->imm8 & 3))) & 0xffff, 4);
      return SIMD_OK;
    case 0xd7: /* PMOVMSKB r32, mm */
      if (in->mod != 3)
        return SIMD_UD;
      {
        uint64_t v = mmx_get (op, in->rm);
        uint32_t m = 0;
        for (unsigned i = 0; i < 8; i++)
          m |= (uint32_t) ((v >> (8 * i + 7)) & 1) << i;
        simd_set_gpr (op, in->reg, m, 4);
        return SIMD_OK;
      }
    case 0xf7: /* MASKMOVQ: the core puts DS:rDI in addr */
      if (in->mod != 3)
        return SIMD_UD;
      s = mmx_get (op, in->rm);
      for (unsigned i = 0; i < 8; i++)
        if ((s >> (8 * i + 7)) & 1)
          {
            uint8_t b = d >> (8 * i);
            if (!op->h->write (op->h->cpu, in->addr + i, &b, 1))
              return SIMD_FAULTED;
          }
      return SIMD_OK;
    default:
      return SIMD_UD;
    }
}
