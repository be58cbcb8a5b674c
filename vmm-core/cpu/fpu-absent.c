/* Stand-in for the SIMD unit (x87/MMX/SSE) while it is not in the build:
 * every such opcode is an invalid instruction (#UD with a log line). */
#include "vmm-core/cpu/simd.h"

#include <string.h>

bool
simd_handles (uint8_t map, uint8_t opcode, uint8_t prefix)
{
  return false;
}

bool
simd_has_imm8 (uint8_t map, uint8_t opcode)
{
  if (map == SIMD_MAP_0F3A)
    return true;
  return map == SIMD_MAP_0F
         && ((opcode >= 0x70 && opcode <= 0x73) || opcode == 0xc2 || (opcode >= 0xc4 && opcode <= 0xc6));
}

SimdResult
simd_exec (FxState *fx, const SimdInsn *insn, const SimdHost *host)
{
  return SIMD_UD;
}

void
simd_reset (FxState *fx)
{
  memset (fx, 0, sizeof *fx);
  fx->fcw = 0x37f;
  fx->mxcsr = 0x1f80;
  fx->mxcsr_mask = 0xffff;
}
