/* The SSE/SSE2/MMX instruction forms the differential tests cover, and the
 * encoder that turns one case into bytes and a SimdInsn. */
#pragma once

#include <stdint.h>
#include <glib.h>

#include "diff-host.h"
#include "vmm-core/cpu/simd.h"

enum { DR_XMM, DR_MM, DR_GPR };                        /* register files */
enum { DC_SSE, DC_SSE2, DC_MMX };                      /* case classes */
enum { DV_F32, DV_F64, DV_INT };                       /* operand value style */
enum { DF_IMM = 1, DF_MEMONLY = 2, DF_REGONLY = 4, DF_W = 8, DF_NOW = 16, DF_IMM8BIG = 32 };

typedef struct DiffSseOp {
  const char *name;
  uint8_t pfx;    /* SimdPrefix */
  uint8_t op;     /* 0F xx */
  uint8_t regf, rmf;
  uint8_t memlen; /* bytes of a memory operand (0: none) */
  uint8_t cls;
  uint8_t vals;
  uint8_t flags;
  uint8_t fixed_reg; /* for group opcodes (0F 71-73): ModRM.reg + 1 */
} DiffSseOp;

extern const DiffSseOp diff_sse_ops[];
extern const unsigned diff_sse_nops;

typedef struct DiffCase {
  uint8_t bytes[16];
  unsigned len;
  SimdInsn insn;
  DiffRegs regs;
  uint8_t data[64]; /* initial bytes at DIFF_DATA_ADDR */
} DiffCase;

/* Build a random case of op (rex_w chooses the W form where allowed). */
void diff_sse_make (const DiffSseOp *op, GRand *rng, DiffCase *c);
/* Describe a case (bytes and inputs) for a failure message. */
void diff_print_case (const DiffCase *c);
void diff_print_regs (const char *who, const DiffRegs *r, const uint8_t *data);
