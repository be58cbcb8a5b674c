/* Native side of the differential tests: run one instruction on the host CPU
 * with every general, flag, MMX, XMM and MXCSR register loaded from a
 * struct, and store them back afterwards. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct DiffRegs {
  uint64_t gpr[16];    /* RAX..R15 (RSP is neither loaded nor stored) */
  uint64_t rflags;     /* 128 */
  uint32_t mxcsr;      /* 136 */
  uint32_t pad;
  uint64_t mm[8];      /* 144 */
  uint8_t xmm[16][16]; /* 208 */
} DiffRegs;

_Static_assert (offsetof (DiffRegs, xmm) == 208, "trampoline offsets");

/* Fixed guest/host address of the data page, so memory operands have the
 * same address natively, in the sandbox and in a fake SimdHost. */
#define DIFF_DATA_ADDR 0x300000u
#define DIFF_DATA_SIZE 4096u
#define DIFF_CODE_ADDR 0x200000u

/* Map the code and data pages; false (with a reason) if the host refuses. */
bool diff_host_init (const char **why);
uint8_t *diff_host_data (void);

/* Run code (instruction bytes, at most 15) natively. Returns -1, or the
 * signal number (SIGFPE, SIGSEGV, SIGBUS, SIGILL) the instruction raised. */
int diff_host_run (DiffRegs *regs, const uint8_t *code, unsigned len);

/* MXCSR bits the host accepts (FXSAVE's MXCSR_MASK; AMD adds bit 17, MM). */
uint32_t diff_host_mxcsr_mask (void);

/* Run code natively with the x87/SSE state FXRSTORed from fximg (and saved
 * back into it) and RAX, RBX, RFLAGS from io[0..2]. Returns -1 or a signal. */
int diff_host_run_fx (void *fximg, uint64_t io[3], const uint8_t *code, unsigned len);
