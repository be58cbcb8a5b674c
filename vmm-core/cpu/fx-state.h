/* x87, MMX and SSE state of the software CPU, kept in the FXSAVE image layout
 * (Intel SDM vol. 1, "FXSAVE"): FXSAVE/FXRSTOR become copies, and CpuState's
 * fxsave[] (shared with KVM and snapshots) is this struct byte for byte. */
#pragma once

#include <stdint.h>

typedef union FxXmm {
  uint8_t b[16];
  uint16_t w[8];
  uint32_t d[4];
  uint64_t q[2];
  float f[4];
  double fd[2];
} FxXmm;

typedef struct FxReg80 {
  uint8_t v[10]; /* 64-bit significand then sign+15-bit exponent; MMX uses v[0..7] */
  uint8_t pad[6];
} FxReg80;

typedef struct __attribute__ ((aligned (16))) FxState {
  uint16_t fcw;
  uint16_t fsw;  /* TOP in bits 13:11 */
  uint8_t ftw;   /* abridged tag: bit i set = physical register i valid */
  uint8_t reserved1;
  uint16_t fop;
  uint64_t fip;  /* 64-bit format (REX.W FXSAVE) */
  uint64_t fdp;
  uint32_t mxcsr;
  uint32_t mxcsr_mask;
  FxReg80 st[8]; /* offset 32: ST(i) is physical register (TOP + i) & 7 */
  FxXmm xmm[16]; /* offset 160 */
  uint8_t reserved2[96];
} FxState;

_Static_assert (sizeof (FxState) == 512, "FXSAVE image is 512 bytes");
_Static_assert (__builtin_offsetof (FxState, st) == 32, "ST0 at 32");
_Static_assert (__builtin_offsetof (FxState, xmm) == 160, "XMM0 at 160");
