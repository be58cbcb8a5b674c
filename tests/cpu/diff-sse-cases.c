/* SSE/SSE2/MMX forms for the differential tests and their random operands:
 * mostly edge values (signed zeros, infinities, quiet and signalling NaNs,
 * denormals, integer limits, rounding ties), random MXCSR modes, sometimes
 * an unmasked exception or a misaligned memory operand. */
#include <stdio.h>
#include <string.h>

#include "diff-sse-cases.h"

#define X DR_XMM
#define M DR_MM
#define G DR_GPR
#define N SIMD_PFX_NONE
#define P SIMD_PFX_66
#define S SIMD_PFX_F3
#define D SIMD_PFX_F2
#define OP(nm, pf, o, r, m, len, cl, v, fl) { nm, pf, o, r, m, len, cl, v, fl, 0 }
#define GRP(nm, pf, o, sub, r, cl) { nm, pf, o, r, r, 0, cl, DV_INT, DF_IMM | DF_REGONLY, sub + 1 }

const DiffSseOp diff_sse_ops[] = {
  /* SSE: moves, shuffles, logic */
  OP ("movups", N, 0x10, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("movups st", N, 0x11, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("movss", S, 0x10, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("movss st", S, 0x11, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("movlps/movhlps", N, 0x12, X, X, 8, DC_SSE, DV_F32, 0),
  OP ("movlps st", N, 0x13, X, X, 8, DC_SSE, DV_F32, DF_MEMONLY),
  OP ("unpcklps", N, 0x14, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("unpckhps", N, 0x15, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("movhps/movlhps", N, 0x16, X, X, 8, DC_SSE, DV_F32, 0),
  OP ("movhps st", N, 0x17, X, X, 8, DC_SSE, DV_F32, DF_MEMONLY),
  OP ("movaps", N, 0x28, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("movaps st", N, 0x29, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("movntps", N, 0x2b, X, X, 16, DC_SSE, DV_F32, DF_MEMONLY),
  OP ("movmskps", N, 0x50, G, X, 0, DC_SSE, DV_F32, DF_REGONLY),
  OP ("andps", N, 0x54, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("andnps", N, 0x55, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("orps", N, 0x56, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("xorps", N, 0x57, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("shufps", N, 0xc6, X, X, 16, DC_SSE, DV_F32, DF_IMM),
  /* SSE: arithmetic, compares, conversions */
  OP ("addps", N, 0x58, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("addss", S, 0x58, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("mulps", N, 0x59, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("mulss", S, 0x59, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("subps", N, 0x5c, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("subss", S, 0x5c, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("minps", N, 0x5d, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("minss", S, 0x5d, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("divps", N, 0x5e, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("divss", S, 0x5e, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("maxps", N, 0x5f, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("maxss", S, 0x5f, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("sqrtps", N, 0x51, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("sqrtss", S, 0x51, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("rsqrtps", N, 0x52, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("rsqrtss", S, 0x52, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("rcpps", N, 0x53, X, X, 16, DC_SSE, DV_F32, 0),
  OP ("rcpss", S, 0x53, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("cmpps", N, 0xc2, X, X, 16, DC_SSE, DV_F32, DF_IMM),
  OP ("cmpss", S, 0xc2, X, X, 4, DC_SSE, DV_F32, DF_IMM),
  OP ("ucomiss", N, 0x2e, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("comiss", N, 0x2f, X, X, 4, DC_SSE, DV_F32, 0),
  OP ("cvtpi2ps", N, 0x2a, X, M, 8, DC_SSE, DV_INT, 0),
  OP ("cvtsi2ss", S, 0x2a, X, G, 4, DC_SSE, DV_INT, DF_W),
  OP ("cvttps2pi", N, 0x2c, M, X, 8, DC_SSE, DV_F32, 0),
  OP ("cvtps2pi", N, 0x2d, M, X, 8, DC_SSE, DV_F32, 0),
  OP ("cvttss2si", S, 0x2c, G, X, 4, DC_SSE, DV_F32, DF_W),
  OP ("cvtss2si", S, 0x2d, G, X, 4, DC_SSE, DV_F32, DF_W),
  /* SSE: MMX extensions */
  OP ("pshufw", N, 0x70, M, M, 8, DC_SSE, DV_INT, DF_IMM),
  OP ("pinsrw mm", N, 0xc4, M, G, 2, DC_SSE, DV_INT, DF_IMM),
  OP ("pextrw mm", N, 0xc5, G, M, 0, DC_SSE, DV_INT, DF_IMM | DF_REGONLY),
  OP ("pmovmskb mm", N, 0xd7, G, M, 0, DC_SSE, DV_INT, DF_REGONLY),
  OP ("pminub mm", N, 0xda, M, M, 8, DC_SSE, DV_INT, 0),
  OP ("pmaxub mm", N, 0xde, M, M, 8, DC_SSE, DV_INT, 0),
  OP ("pavgb mm", N, 0xe0, M, M, 8, DC_SSE, DV_INT, 0),
  OP ("pavgw mm", N, 0xe3, M, M, 8, DC_SSE, DV_INT, 0),
  OP ("pmulhuw mm", N, 0xe4, M, M, 8, DC_SSE, DV_INT, 0),
  OP ("pminsw mm", N, 0xea, M, M, 8, DC_SSE, DV_INT, 0),
  OP ("pmaxsw mm", N, 0xee, M, M, 8, DC_SSE, DV_INT, 0),
  OP ("psadbw mm", N, 0xf6, M, M, 8, DC_SSE, DV_INT, 0),
  OP ("movntq", N, 0xe7, M, M, 8, DC_SSE, DV_INT, DF_MEMONLY),
  OP ("maskmovq", N, 0xf7, M, M, 0, DC_SSE, DV_INT, DF_REGONLY),
  { "ldmxcsr", N, 0xae, G, G, 4, DC_SSE, DV_INT, DF_MEMONLY, 2 + 1 },
  { "stmxcsr", N, 0xae, G, G, 4, DC_SSE, DV_INT, DF_MEMONLY, 3 + 1 },

  /* SSE2: double-precision moves and logic */
  OP ("movupd", P, 0x10, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("movupd st", P, 0x11, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("movsd", D, 0x10, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("movsd st", D, 0x11, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("movlpd", P, 0x12, X, X, 8, DC_SSE2, DV_F64, DF_MEMONLY),
  OP ("movlpd st", P, 0x13, X, X, 8, DC_SSE2, DV_F64, DF_MEMONLY),
  OP ("unpcklpd", P, 0x14, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("unpckhpd", P, 0x15, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("movhpd", P, 0x16, X, X, 8, DC_SSE2, DV_F64, DF_MEMONLY),
  OP ("movhpd st", P, 0x17, X, X, 8, DC_SSE2, DV_F64, DF_MEMONLY),
  OP ("movapd", P, 0x28, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("movapd st", P, 0x29, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("movntpd", P, 0x2b, X, X, 16, DC_SSE2, DV_F64, DF_MEMONLY),
  OP ("movmskpd", P, 0x50, G, X, 0, DC_SSE2, DV_F64, DF_REGONLY),
  OP ("andpd", P, 0x54, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("andnpd", P, 0x55, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("orpd", P, 0x56, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("xorpd", P, 0x57, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("shufpd", P, 0xc6, X, X, 16, DC_SSE2, DV_F64, DF_IMM),
  /* SSE2: double-precision arithmetic and conversions */
  OP ("addpd", P, 0x58, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("addsd", D, 0x58, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("mulpd", P, 0x59, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("mulsd", D, 0x59, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("subpd", P, 0x5c, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("subsd", D, 0x5c, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("minpd", P, 0x5d, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("minsd", D, 0x5d, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("divpd", P, 0x5e, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("divsd", D, 0x5e, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("maxpd", P, 0x5f, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("maxsd", D, 0x5f, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("sqrtpd", P, 0x51, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("sqrtsd", D, 0x51, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("cmppd", P, 0xc2, X, X, 16, DC_SSE2, DV_F64, DF_IMM),
  OP ("cmpsd", D, 0xc2, X, X, 8, DC_SSE2, DV_F64, DF_IMM),
  OP ("ucomisd", P, 0x2e, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("comisd", P, 0x2f, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("cvtpi2pd", P, 0x2a, X, M, 8, DC_SSE2, DV_INT, 0),
  OP ("cvtsi2sd", D, 0x2a, X, G, 4, DC_SSE2, DV_INT, DF_W),
  OP ("cvttpd2pi", P, 0x2c, M, X, 16, DC_SSE2, DV_F64, 0),
  OP ("cvtpd2pi", P, 0x2d, M, X, 16, DC_SSE2, DV_F64, 0),
  OP ("cvttsd2si", D, 0x2c, G, X, 8, DC_SSE2, DV_F64, DF_W),
  OP ("cvtsd2si", D, 0x2d, G, X, 8, DC_SSE2, DV_F64, DF_W),
  OP ("cvtps2pd", N, 0x5a, X, X, 8, DC_SSE2, DV_F32, 0),
  OP ("cvtpd2ps", P, 0x5a, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("cvtss2sd", S, 0x5a, X, X, 4, DC_SSE2, DV_F32, 0),
  OP ("cvtsd2ss", D, 0x5a, X, X, 8, DC_SSE2, DV_F64, 0),
  OP ("cvtdq2ps", N, 0x5b, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("cvtps2dq", P, 0x5b, X, X, 16, DC_SSE2, DV_F32, 0),
  OP ("cvttps2dq", S, 0x5b, X, X, 16, DC_SSE2, DV_F32, 0),
  OP ("cvttpd2dq", P, 0xe6, X, X, 16, DC_SSE2, DV_F64, 0),
  OP ("cvtdq2pd", S, 0xe6, X, X, 8, DC_SSE2, DV_INT, 0),
  OP ("cvtpd2dq", D, 0xe6, X, X, 16, DC_SSE2, DV_F64, 0),
  /* SSE2: integer SIMD on XMM */
  OP ("punpcklbw", P, 0x60, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("punpcklwd", P, 0x61, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("punpckldq", P, 0x62, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("packsswb", P, 0x63, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pcmpgtb", P, 0x64, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pcmpgtw", P, 0x65, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pcmpgtd", P, 0x66, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("packuswb", P, 0x67, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("punpckhbw", P, 0x68, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("punpckhwd", P, 0x69, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("punpckhdq", P, 0x6a, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("packssdw", P, 0x6b, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("punpcklqdq", P, 0x6c, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("punpckhqdq", P, 0x6d, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("movd/q xmm,r/m", P, 0x6e, X, G, 4, DC_SSE2, DV_INT, DF_W),
  OP ("movdqa", P, 0x6f, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("movdqu", S, 0x6f, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pshufd", P, 0x70, X, X, 16, DC_SSE2, DV_INT, DF_IMM),
  OP ("pshufhw", S, 0x70, X, X, 16, DC_SSE2, DV_INT, DF_IMM),
  OP ("pshuflw", D, 0x70, X, X, 16, DC_SSE2, DV_INT, DF_IMM),
  GRP ("psrlw imm", P, 0x71, 2, X, DC_SSE2), GRP ("psraw imm", P, 0x71, 4, X, DC_SSE2),
  GRP ("psllw imm", P, 0x71, 6, X, DC_SSE2), GRP ("psrld imm", P, 0x72, 2, X, DC_SSE2),
  GRP ("psrad imm", P, 0x72, 4, X, DC_SSE2), GRP ("pslld imm", P, 0x72, 6, X, DC_SSE2),
  GRP ("psrlq imm", P, 0x73, 2, X, DC_SSE2), GRP ("psrldq", P, 0x73, 3, X, DC_SSE2),
  GRP ("psllq imm", P, 0x73, 6, X, DC_SSE2), GRP ("pslldq", P, 0x73, 7, X, DC_SSE2),
  OP ("pcmpeqb", P, 0x74, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pcmpeqw", P, 0x75, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pcmpeqd", P, 0x76, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("movd/q r/m,xmm", P, 0x7e, X, G, 4, DC_SSE2, DV_INT, DF_W),
  OP ("movq xmm,xmm/m64", S, 0x7e, X, X, 8, DC_SSE2, DV_INT, 0),
  OP ("movdqa st", P, 0x7f, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("movdqu st", S, 0x7f, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("movnti", N, 0xc3, G, G, 4, DC_SSE2, DV_INT, DF_W | DF_MEMONLY),
  OP ("pinsrw", P, 0xc4, X, G, 2, DC_SSE2, DV_INT, DF_IMM),
  OP ("pextrw", P, 0xc5, G, X, 0, DC_SSE2, DV_INT, DF_IMM | DF_REGONLY),
  OP ("psrlw", P, 0xd1, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psrld", P, 0xd2, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psrlq", P, 0xd3, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("paddq", P, 0xd4, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pmullw", P, 0xd5, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("movq xmm/m64,xmm", P, 0xd6, X, X, 8, DC_SSE2, DV_INT, 0),
  OP ("movq2dq", S, 0xd6, X, M, 0, DC_SSE2, DV_INT, DF_REGONLY),
  OP ("movdq2q", D, 0xd6, M, X, 0, DC_SSE2, DV_INT, DF_REGONLY),
  OP ("pmovmskb", P, 0xd7, G, X, 0, DC_SSE2, DV_INT, DF_REGONLY),
  OP ("psubusb", P, 0xd8, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psubusw", P, 0xd9, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pminub", P, 0xda, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pand", P, 0xdb, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("paddusb", P, 0xdc, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("paddusw", P, 0xdd, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pmaxub", P, 0xde, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pandn", P, 0xdf, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pavgb", P, 0xe0, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psraw", P, 0xe1, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psrad", P, 0xe2, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pavgw", P, 0xe3, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pmulhuw", P, 0xe4, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pmulhw", P, 0xe5, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("movntdq", P, 0xe7, X, X, 16, DC_SSE2, DV_INT, DF_MEMONLY),
  OP ("psubsb", P, 0xe8, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psubsw", P, 0xe9, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pminsw", P, 0xea, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("por", P, 0xeb, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("paddsb", P, 0xec, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("paddsw", P, 0xed, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pmaxsw", P, 0xee, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pxor", P, 0xef, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psllw", P, 0xf1, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pslld", P, 0xf2, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psllq", P, 0xf3, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pmuludq", P, 0xf4, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("pmaddwd", P, 0xf5, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psadbw", P, 0xf6, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("maskmovdqu", P, 0xf7, X, X, 0, DC_SSE2, DV_INT, DF_REGONLY),
  OP ("psubb", P, 0xf8, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psubw", P, 0xf9, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psubd", P, 0xfa, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("psubq", P, 0xfb, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("paddb", P, 0xfc, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("paddw", P, 0xfd, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("paddd", P, 0xfe, X, X, 16, DC_SSE2, DV_INT, 0),
  OP ("paddq mm", N, 0xd4, M, M, 8, DC_SSE2, DV_INT, 0),
  OP ("psubq mm", N, 0xfb, M, M, 8, DC_SSE2, DV_INT, 0),
  OP ("pmuludq mm", N, 0xf4, M, M, 8, DC_SSE2, DV_INT, 0),

  /* MMX */
  OP ("punpcklbw mm", N, 0x60, M, M, 4, DC_MMX, DV_INT, 0),
  OP ("punpcklwd mm", N, 0x61, M, M, 4, DC_MMX, DV_INT, 0),
  OP ("punpckldq mm", N, 0x62, M, M, 4, DC_MMX, DV_INT, 0),
  OP ("packsswb mm", N, 0x63, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pcmpgtb mm", N, 0x64, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pcmpgtw mm", N, 0x65, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pcmpgtd mm", N, 0x66, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("packuswb mm", N, 0x67, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("punpckhbw mm", N, 0x68, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("punpckhwd mm", N, 0x69, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("punpckhdq mm", N, 0x6a, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("packssdw mm", N, 0x6b, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("movd/q mm,r/m", N, 0x6e, M, G, 4, DC_MMX, DV_INT, DF_W),
  OP ("movq mm,mm/m64", N, 0x6f, M, M, 8, DC_MMX, DV_INT, 0),
  GRP ("psrlw mm imm", N, 0x71, 2, M, DC_MMX), GRP ("psraw mm imm", N, 0x71, 4, M, DC_MMX),
  GRP ("psllw mm imm", N, 0x71, 6, M, DC_MMX), GRP ("psrld mm imm", N, 0x72, 2, M, DC_MMX),
  GRP ("psrad mm imm", N, 0x72, 4, M, DC_MMX), GRP ("pslld mm imm", N, 0x72, 6, M, DC_MMX),
  GRP ("psrlq mm imm", N, 0x73, 2, M, DC_MMX), GRP ("psllq mm imm", N, 0x73, 6, M, DC_MMX),
  OP ("pcmpeqb mm", N, 0x74, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pcmpeqw mm", N, 0x75, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pcmpeqd mm", N, 0x76, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("movd/q r/m,mm", N, 0x7e, M, G, 4, DC_MMX, DV_INT, DF_W),
  OP ("movq mm/m64,mm", N, 0x7f, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psrlw mm", N, 0xd1, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psrld mm", N, 0xd2, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psrlq mm", N, 0xd3, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pmullw mm", N, 0xd5, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psubusb mm", N, 0xd8, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psubusw mm", N, 0xd9, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pand mm", N, 0xdb, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("paddusb mm", N, 0xdc, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("paddusw mm", N, 0xdd, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pandn mm", N, 0xdf, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psraw mm", N, 0xe1, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psrad mm", N, 0xe2, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pmulhw mm", N, 0xe5, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psubsb mm", N, 0xe8, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psubsw mm", N, 0xe9, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("por mm", N, 0xeb, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("paddsb mm", N, 0xec, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("paddsw mm", N, 0xed, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pxor mm", N, 0xef, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psllw mm", N, 0xf1, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pslld mm", N, 0xf2, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psllq mm", N, 0xf3, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("pmaddwd mm", N, 0xf5, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psubb mm", N, 0xf8, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psubw mm", N, 0xf9, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("psubd mm", N, 0xfa, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("paddb mm", N, 0xfc, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("paddw mm", N, 0xfd, M, M, 8, DC_MMX, DV_INT, 0),
  OP ("paddd mm", N, 0xfe, M, M, 8, DC_MMX, DV_INT, 0),
};
const unsigned diff_sse_nops = G_N_ELEMENTS (diff_sse_ops);

static const uint32_t f32_edges[] = {
  0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
  0xffc00000, 0x7fa00001, 0xff812345, 0x00000001, 0x807fffff, 0x00400000, 0x7f7fffff,
  0xff7fffff, 0x00800000, 0x80800000, 0x4f000000, 0xcf000000, 0xcf000001, 0x4effffff,
  0x5f000000, 0xdf000000, 0x3f000000, 0xbf000000, 0x3fc00000, 0x40200000, 0xc0200000,
  0x4b800001, 0x34000000, 0x0c000000, 0x72800000,
};

static const uint64_t f64_edges[] = {
  0, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000, 0x7ff0000000000000,
  0xfff0000000000000, 0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000001,
  0xfff4000000000000, 1, 0x800fffffffffffff, 0x0008000000000000, 0x7fefffffffffffff,
  0x0010000000000000, 0x41e0000000000000, 0xc1e0000000000000, 0xc1e0000000200000,
  0x41dfffffffc00000, 0x43e0000000000000, 0xc3e0000000000000, 0x3fe0000000000000,
  0xbfe0000000000000, 0x3ff8000000000000, 0x4004000000000000, 0x36a0000000000000,
  0x47efffffe0000000, 0x3810000000000000, 0x380fffffffffffff, 0x47f0000000000000,
};

static const uint64_t int_edges[] = {
  0, 1, 2, ~UINT64_C (0), 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
  0xffffffff, 0x7fffffffffffffff, 0x8000000000000000, 0x00ff00ff00ff00ff,
  0x8080808080808080, 0x7f7f7f7f7f7f7f7f, 0x0001000100010001, 0x8000800080008000,
  15, 16, 31, 32, 63, 64, 65,
};

static uint64_t
rand64 (GRand *r)
{
  return (uint64_t) g_rand_int (r) << 32 | g_rand_int (r);
}

static float
rand_float (GRand *r)
{
  return (float) g_rand_double_range (r, -1e6, 1e6);
}

static void
fill_value (GRand *r, int style, uint8_t *p, unsigned len)
{
  for (unsigned off = 0; off < len;)
    {
      unsigned pick = g_rand_int_range (r, 0, 8);
      if (style == DV_F32 && len - off >= 4)
        {
          uint32_t v;
          if (pick < 4)
            v = f32_edges[g_rand_int_range (r, 0, G_N_ELEMENTS (f32_edges))];
          else if (pick < 7)
            {
              float f = rand_float (r);
              memcpy (&v, &f, 4);
            }
          else
            v = g_rand_int (r);
          memcpy (p + off, &v, 4);
          off += 4;
        }
      else if (len - off >= 8)
        {
          uint64_t v;
          if (style == DV_F64)
            {
              if (pick < 4)
                v = f64_edges[g_rand_int_range (r, 0, G_N_ELEMENTS (f64_edges))];
              else if (pick < 7)
                {
                  double d = g_rand_double_range (r, -3e9, 3e9);
                  if (pick == 6)
                    d = (double) rand_float (r) / 7.0;
                  memcpy (&v, &d, 8);
                }
              else
                v = rand64 (r);
            }
          else if (pick < 3)
            v = int_edges[g_rand_int_range (r, 0, G_N_ELEMENTS (int_edges))];
          else if (pick < 5) /* per-byte edges */
            {
              static const uint8_t bytes[] = { 0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x81 };
              v = 0;
              for (unsigned i = 0; i < 8; i++)
                v |= (uint64_t) bytes[g_rand_int_range (r, 0, G_N_ELEMENTS (bytes))] << (8 * i);
            }
          else if (pick < 6) /* a float pair, for conversions */
            {
              float f[2] = { rand_float (r), rand_float (r) };
              memcpy (&v, f, 8);
            }
          else
            v = rand64 (r);
          memcpy (p + off, &v, 8);
          off += 8;
        }
      else
        {
          uint32_t v = g_rand_int (r);
          memcpy (p + off, &v, len - off);
          off = len;
        }
    }
}

static unsigned
pick_reg (GRand *r, int file)
{
  if (file == DR_MM)
    return g_rand_int_range (r, 0, 8);
  if (file == DR_XMM)
    return g_rand_int_range (r, 0, 16);
  unsigned n;
  do
    n = g_rand_int_range (r, 0, 16);
  while (n == 4); /* never RSP */
  return n;
}

void
diff_sse_make (const DiffSseOp *op, GRand *r, DiffCase *c)
{
  bool mem, rex_w = (op->flags & DF_W) && g_rand_boolean (r);
  unsigned reg, rm;
  uint8_t *b = c->bytes, rex;

  memset (c, 0, sizeof *c);
  if (op->flags & DF_MEMONLY)
    mem = true;
  else if (op->flags & DF_REGONLY || !op->memlen)
    mem = false;
  else
    mem = g_rand_int_range (r, 0, 3) == 0;

  reg = op->fixed_reg ? op->fixed_reg - 1u : pick_reg (r, op->regf);
  rm = mem ? 3 /* [rbx] */ : pick_reg (r, op->rmf);

  /* Inputs. */
  for (unsigned i = 0; i < 16; i++)
    {
      fill_value (r, op->vals, c->regs.xmm[i], 16);
      c->regs.gpr[i] = g_rand_int_range (r, 0, 4) ? rand64 (r)
                       : int_edges[g_rand_int_range (r, 0, G_N_ELEMENTS (int_edges))];
    }
  if (op->vals == DV_INT && op->regf == DR_XMM && op->rmf == DR_GPR && g_rand_boolean (r))
    for (unsigned i = 0; i < 16; i++) /* cvtsi2ss/sd: exact-looking integers too */
      c->regs.gpr[i] = (uint64_t) (int64_t) g_rand_int_range (r, -100000, 100000);
  for (unsigned i = 0; i < 8; i++)
    fill_value (r, op->vals, (uint8_t *) &c->regs.mm[i], 8);
  fill_value (r, op->vals, c->data, sizeof c->data);
  c->regs.rflags = 0x202 | (g_rand_int (r) & 0x8d5);
  c->regs.mxcsr = 0x1f80 | (g_rand_int_range (r, 0, 4) << 13);
  if (g_rand_int_range (r, 0, 4) == 0)
    c->regs.mxcsr |= 0x40;
  if (g_rand_int_range (r, 0, 4) == 0)
    c->regs.mxcsr |= 0x8000;
  if (g_rand_int_range (r, 0, 4) == 0)
    c->regs.mxcsr |= g_rand_int (r) & 0x3f;
  if (g_rand_int_range (r, 0, 12) == 0) /* some unmasked exception */
    c->regs.mxcsr &= ~((g_rand_int (r) & 0x3f) << 7);
  if (op->op == 0xae && op->fixed_reg == 3 && g_rand_int_range (r, 0, 3)) /* LDMXCSR */
    {
      /* Flip a bit, but not one only the host has (AMD's MM, bit 17). */
      uint32_t flip = g_rand_int_range (r, 0, 4) ? 0 : 1u << g_rand_int_range (r, 0, 32);
      uint32_t v = (c->regs.mxcsr | 0x1f80) ^ (flip & ~(diff_host_mxcsr_mask () & ~0xffffu));
      memcpy (c->data, &v, 4);
      memcpy (c->data + 16, &v, 4);
    }
  if (mem)
    {
      unsigned off = g_rand_int_range (r, 0, 3) * 16;
      if (g_rand_int_range (r, 0, 8) == 0)
        off += g_rand_int_range (r, 1, 16);
      c->regs.gpr[3] = DIFF_DATA_ADDR + off;
      if (op->op == 0xae) /* MXCSR bits only the host has are not ours to compare */
        {
          uint32_t v;
          memcpy (&v, c->data + off, 4);
          v &= ~(diff_host_mxcsr_mask () & ~0xffffu);
          memcpy (c->data + off, &v, 4);
        }
    }

  if (op->op == 0xf7) /* MASKMOVQ/MASKMOVDQU store to [RDI] */
    c->regs.gpr[7] = DIFF_DATA_ADDR + g_rand_int_range (r, 0, 49);

  /* Bytes: now and then a redundant segment prefix, or a 66 before F3/F2
   * (which then acts as the mandatory prefix), for the decoder. */
  if (g_rand_int_range (r, 0, 16) == 0)
    *b++ = g_rand_boolean (r) ? 0x3e : 0x2e;
  if ((op->pfx == SIMD_PFX_F3 || op->pfx == SIMD_PFX_F2) && g_rand_int_range (r, 0, 8) == 0)
    *b++ = 0x66;
  if (op->pfx == SIMD_PFX_66)
    *b++ = 0x66;
  else if (op->pfx == SIMD_PFX_F3)
    *b++ = 0xf3;
  else if (op->pfx == SIMD_PFX_F2)
    *b++ = 0xf2;
  rex = 0x40 | (rex_w ? 8 : 0) | (reg >= 8 ? 4 : 0) | (rm >= 8 ? 1 : 0);
  bool has_rex = rex != 0x40 || g_rand_int_range (r, 0, 8) == 0;
  if (has_rex)
    *b++ = rex;
  *b++ = 0x0f;
  *b++ = op->op;
  *b++ = (mem ? 0 : 0xc0) | (reg & 7) << 3 | (rm & 7);
  uint8_t imm = 0;
  if (op->flags & DF_IMM)
    {
      unsigned k = g_rand_int_range (r, 0, 8);
      static const uint8_t shifts[] = { 0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255 };
      if (op->op == 0xc2)
        imm = k ? g_rand_int_range (r, 0, 8) : g_rand_int_range (r, 0, 256);
      else if (op->fixed_reg && k < 5)
        imm = shifts[g_rand_int_range (r, 0, G_N_ELEMENTS (shifts))];
      else
        imm = g_rand_int_range (r, 0, 256);
      *b++ = imm;
    }
  c->len = b - c->bytes;

  c->insn = (SimdInsn){
    .map = SIMD_MAP_0F, .opcode = op->op, .prefix = op->pfx, .mod = mem ? 0 : 3,
    .reg = reg, .rm = rm, .rex_w = rex_w, .has_rex = has_rex,
    .imm8 = imm, .op_size = rex_w ? 8 : 4, .mode64 = true,
    .addr = mem ? c->regs.gpr[3] : op->op == 0xf7 ? c->regs.gpr[7] : 0, .rip = DIFF_CODE_ADDR,
  };
}

void
diff_print_regs (const char *who, const DiffRegs *r, const uint8_t *data)
{
  printf ("# %s:\n#  ", who);
  for (unsigned i = 0; i < 16; i++)
    printf ("r%u=%016" G_GINT64_MODIFIER "x%s", i, r->gpr[i], i % 4 == 3 ? "\n#  " : " ");
  printf ("rflags=%" G_GINT64_MODIFIER "x mxcsr=%x\n", r->rflags, r->mxcsr);
  for (unsigned i = 0; i < 16; i++)
    {
      printf ("#  xmm%-2u=", i);
      for (int j = 15; j >= 0; j--)
        printf ("%02x", r->xmm[i][j]);
      if (i < 8)
        printf ("  mm%u=%016" G_GINT64_MODIFIER "x", i, r->mm[i]);
      printf ("\n");
    }
  if (data)
    {
      printf ("#  data=");
      for (unsigned i = 0; i < 64; i++)
        printf ("%02x", data[i]);
      printf ("\n");
    }
}

void
diff_print_case (const DiffCase *c)
{
  printf ("# bytes:");
  for (unsigned i = 0; i < c->len; i++)
    printf (" %02x", c->bytes[i]);
  printf ("\n");
  diff_print_regs ("inputs", &c->regs, c->data);
}
