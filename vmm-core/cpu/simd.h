/* The boundary between the software CPU's decoder/core and its x87, MMX, SSE
 * and SSE2 execution units.
 *
 * The core decodes prefixes, the opcode, ModRM/SIB/displacement and any
 * immediate, computes the effective address, performs the mode checks that
 * belong to the system side (CR0.EM/TS -> #NM or #UD, CR4.OSFXSR -> #UD,
 * pending x87 exception -> #MF on WAIT/x87 per CR0.NE), then calls
 * simd_exec(). The unit executes the operation on FxState and the guest's
 * general registers and memory through SimdHost, and says what happened. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vmm-core/cpu/fx-state.h"

typedef enum {
  SIMD_MAP_X87 = 0,  /* one-byte opcodes D8-DF (opcode = the D8-DF byte) */
  SIMD_MAP_0F = 1,   /* 0F xx */
  SIMD_MAP_0F38 = 2, /* 0F 38 xx */
  SIMD_MAP_0F3A = 3, /* 0F 3A xx */
} SimdMap;

typedef enum {
  SIMD_PFX_NONE = 0,
  SIMD_PFX_66 = 1,
  SIMD_PFX_F3 = 2,
  SIMD_PFX_F2 = 3,
} SimdPrefix;

typedef struct SimdInsn {
  uint8_t map;     /* SimdMap */
  uint8_t opcode;
  uint8_t prefix;  /* SimdPrefix: the last of 66/F3/F2 that acts as mandatory prefix */
  uint8_t mod;     /* ModRM.mod */
  uint8_t reg;     /* ModRM.reg, extended by REX.R (0-15) */
  uint8_t rm;      /* ModRM.rm, extended by REX.B (0-15); a register when mod == 3 */
  bool rex_w;
  bool has_rex;    /* any REX prefix (selects SPL etc. for byte GPR operands) */
  uint8_t imm8;    /* the immediate byte, where the opcode has one */
  uint8_t op_size; /* 2, 4 or 8: operand size (FNSTENV/FLDENV/FSAVE layouts) */
  bool mode64;     /* 64-bit mode (FXSAVE/FXRSTOR FIP/FDP format, etc.) */
  uint64_t addr;   /* linear address of the memory operand when mod != 3 */
  uint64_t rip;    /* address of this instruction (for FIP) */
  /* Added by the SIMD unit: */
  bool real_mode;  /* real or virtual-8086 mode (FNSTENV/FLDENV/FNSAVE/FRSTOR layout) */
} SimdInsn;
/* MASKMOVQ/MASKMOVDQU (0F F7) have no memory ModRM operand: the core puts
 * the linear address of DS:rDI (address-size, segment override) in addr. */

/* Guest access for the unit. Memory functions return false when the access
 * faulted; the core has then recorded the fault (#PF with CR2, #GP…) and the
 * unit must return SIMD_FAULTED at once without changing any more state.
 * Accesses of up to 512 bytes (FXSAVE) are allowed. */
typedef struct SimdHost {
  void *cpu;
  bool (*read) (void *cpu, uint64_t addr, void *buf, unsigned len);
  bool (*write) (void *cpu, uint64_t addr, const void *buf, unsigned len);
  /* General register n (0-15, RAX..R15) for MOVD/MOVQ/CVTSI2SD/PMOVMSKB… */
  uint64_t (*get_gpr) (void *cpu, unsigned n);
  void (*set_gpr) (void *cpu, unsigned n, uint64_t value, unsigned size);
  /* FNSTSW AX, FCOMI/FUCOMI (ZF/PF/CF), COMISS/UCOMISS… */
  uint64_t (*get_rflags) (void *cpu);
  void (*set_rflags) (void *cpu, uint64_t value);
} SimdHost;

typedef enum {
  SIMD_OK,          /* done; the core moves RIP past the instruction */
  SIMD_UD,          /* not an instruction this CPU has: core raises #UD */
  SIMD_GP,          /* #GP(0): misaligned 16-byte operand, reserved MXCSR bits */
  SIMD_MF,          /* unmasked x87 exception: core raises #MF (CR0.NE) */
  SIMD_XM,          /* unmasked SIMD FP exception: core raises #XM (CR4.OSXMMEXCPT) or #UD */
  SIMD_FAULTED,     /* a memory access faulted; the core delivers that fault */
} SimdResult;

/* True if (map, opcode, prefix) belongs to the SIMD/x87 unit; lets the core
 * route opcodes without duplicating the unit's tables. */
bool simd_handles (uint8_t map, uint8_t opcode, uint8_t prefix);
/* True if the opcode takes an 8-bit immediate after ModRM (0F 70-73, C2, C4-C6,
 * every 0F 3A opcode), so the core can compute the instruction length. */
bool simd_has_imm8 (uint8_t map, uint8_t opcode);

SimdResult simd_exec (FxState *fx, const SimdInsn *insn, const SimdHost *host);

/* FNINIT / reset state, and the power-on state for FXSAVE (MXCSR 0x1f80). */
void simd_reset (FxState *fx);
