/* Entry points of the x87/MMX/SSE/SSE2 unit: which opcodes it owns, which
 * take an immediate, and routing of one decoded instruction to its group. */
#include "vmm-core/cpu/simd-internal.h"

enum { N = 1 << SIMD_PFX_NONE, P66 = 1 << SIMD_PFX_66, F3 = 1 << SIMD_PFX_F3,
       F2 = 1 << SIMD_PFX_F2, ALL = N | P66 | F3 | F2 };

/* Mandatory prefixes valid for each 0F opcode (0 = not ours). */
static const uint8_t map0f_prefixes[256] = {
  [0x10] = ALL, [0x11] = ALL, [0x12] = N | P66, [0x13] = N | P66,
  [0x14] = N | P66, [0x15] = N | P66, [0x16] = N | P66, [0x17] = N | P66,
  [0x18] = ALL,
  [0x28] = N | P66, [0x29] = N | P66, [0x2a] = ALL, [0x2b] = N | P66,
  [0x2c] = ALL, [0x2d] = ALL, [0x2e] = N | P66, [0x2f] = N | P66,
  [0x50] = N | P66, [0x51] = ALL, [0x52] = N | F3, [0x53] = N | F3,
  [0x54] = N | P66, [0x55] = N | P66, [0x56] = N | P66, [0x57] = N | P66,
  [0x58] = ALL, [0x59] = ALL, [0x5a] = ALL, [0x5b] = N | P66 | F3,
  [0x5c] = ALL, [0x5d] = ALL, [0x5e] = ALL, [0x5f] = ALL,
  [0x60 ... 0x6b] = N | P66, [0x6c] = P66, [0x6d] = P66,
  [0x6e] = N | P66, [0x6f] = N | P66 | F3,
  [0x70] = ALL, [0x71 ... 0x76] = N | P66, [0x77] = N,
  [0x7e] = N | P66 | F3, [0x7f] = N | P66 | F3,
  [0xae] = N,
  [0xc2] = ALL, [0xc3] = N, [0xc4] = N | P66, [0xc5] = N | P66, [0xc6] = N | P66,
  [0xd1 ... 0xd5] = N | P66, [0xd6] = P66 | F3 | F2, [0xd7 ... 0xe5] = N | P66,
  [0xe6] = P66 | F3 | F2, [0xe7 ... 0xef] = N | P66, [0xf1 ... 0xfe] = N | P66,
};

bool
simd_handles (uint8_t map, uint8_t opcode, uint8_t prefix)
{
  if (map == SIMD_MAP_X87)
    return opcode >= 0xd8 && opcode <= 0xdf;
  if (map != SIMD_MAP_0F || prefix > SIMD_PFX_F2)
    return false;
  return map0f_prefixes[opcode] & (1u << prefix);
}

bool
simd_has_imm8 (uint8_t map, uint8_t opcode)
{
  if (map == SIMD_MAP_0F3A)
    return true;
  if (map != SIMD_MAP_0F)
    return false;
  return (opcode >= 0x70 && opcode <= 0x73) || opcode == 0xc2
         || (opcode >= 0xc4 && opcode <= 0xc6);
}

void
simd_reset (FxState *fx)
{
  memset (fx, 0, sizeof *fx);
  x87_init (fx);
  fx->mxcsr = 0x1f80;
  fx->mxcsr_mask = MXCSR_VALID;
}

/* Does this 0F-map instruction name an MMX register (and so switch the x87
 * register file into MMX mode, or raise a pending x87 exception)? */
static bool
touches_mmx (const SimdInsn *in)
{
  uint8_t o = in->opcode;

  if (in->prefix == SIMD_PFX_NONE)
    {
      if ((o >= 0x60 && o <= 0x7f && o != 0x77) || o == 0xc4 || o == 0xc5 || o >= 0xd1)
        return true;
      if (o == 0x2a)
        return in->mod == 3;
      return o == 0x2c || o == 0x2d;
    }
  if (in->prefix == SIMD_PFX_66)
    return (o == 0x2a && in->mod == 3) || o == 0x2c || o == 0x2d;
  return o == 0xd6;
}

SimdResult
simd_exec (FxState *fx, const SimdInsn *insn, const SimdHost *host)
{
  SimdOp op = { fx, insn, host };
  uint8_t o = insn->opcode;

  if (insn->map == SIMD_MAP_X87)
    return simd_handles (insn->map, o, insn->prefix) ? x87_exec (&op) : SIMD_UD;
  if (!simd_handles (insn->map, o, insn->prefix))
    return SIMD_UD;

  if (o == 0x77)
    {
      if (fx->fsw & 0x80)
        return SIMD_MF;
      fx->ftw = 0;
      return SIMD_OK;
    }
  if (o == 0xae)
    return sse_state_exec (&op);
  if (o == 0x18)
    return SIMD_OK; /* PREFETCHh and reserved hint NOPs: no architectural effect */
  if (touches_mmx (insn))
    {
      if (fx->fsw & 0x80)
        return SIMD_MF;
      mmx_enter (fx);
    }

  if ((o >= 0x60 && o <= 0x7f) || o == 0xc4 || o == 0xc5 || o == 0xd6
      || (o >= 0xd1 && o != 0xe6))
    return insn->prefix == SIMD_PFX_NONE ? mmx_exec (&op) : sse2_int_exec (&op);
  if (o == 0x2a || o == 0x2c || o == 0x2d || o == 0x5a || o == 0x5b || o == 0xe6)
    return sse_convert_exec (&op);
  if ((o >= 0x51 && o <= 0x53) || (o >= 0x58 && o <= 0x5f) || o == 0xc2 || o == 0x2e
      || o == 0x2f)
    return sse_arith_exec (&op);
  return sse_move_exec (&op);
}
