/* Random x87 (D8-DF) cases for the differential tests: edge-valued
 * register stacks, random precision/rounding control, sometimes unmasked
 * or pending exceptions, and the comparison of the resulting FPU state. */
#pragma once

#include <glib.h>

#include "diff-host.h"
#include "vmm-core/cpu/simd.h"

typedef struct X87Case {
  uint8_t bytes[4];
  unsigned len;
  SimdInsn insn;
  FxState fx;
  uint64_t io[3]; /* RAX, RBX, RFLAGS */
  uint8_t data[64];
} X87Case;

void diff_x87_make (GRand *r, X87Case *c);
/* FCW, FSW (but fsw_ignore bits), tag word and the eight registers. */
bool diff_x87_same (const FxState *a, const FxState *b, uint16_t fsw_ignore);
/* FSW bits whose value is vendor-specific for this case. */
uint16_t diff_x87_fsw_ignore (const X87Case *c);
void diff_x87_print (const char *who, const FxState *fx, const uint64_t io[3], const uint8_t *data);
