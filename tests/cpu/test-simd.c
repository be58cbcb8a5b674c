/* Unit tests of the SIMD unit's SSE/SSE2/MMX side and machine state, driven
 * through simd_exec() with a fake SimdHost, including hostile inputs:
 * misaligned operands, reserved MXCSR bits, FXRSTOR of garbage, faulting
 * memory, unmasked exceptions, invalid encodings. (Results on random
 * operands are checked against the host CPU in test-simd-diff.) */
#include <string.h>

#include "test-simd-host.h"
#include "vmm-core/log.h"

#define MEM_BASE 0x10000u

typedef struct Ctx {
  FxState fx;
  FakeCpu cpu;
  SimdHost host;
  uint8_t mem[4096] __attribute__ ((aligned (16)));
} Ctx;

void simd_test_x87_register (void);

static Ctx *
ctx_new (void)
{
  Ctx *c = g_new0 (Ctx, 1);
  simd_reset (&c->fx);
  c->cpu.mem = c->mem;
  c->cpu.mem_base = MEM_BASE;
  c->cpu.mem_size = sizeof c->mem;
  c->host = fake_host (&c->cpu);
  return c;
}

static SimdResult
run0f (Ctx *c, uint8_t prefix, uint8_t opcode, int reg, int rm_reg, int64_t mem_off, uint8_t imm)
{
  SimdInsn in = { .map = SIMD_MAP_0F, .opcode = opcode, .prefix = prefix, .reg = reg,
                  .op_size = 4, .mode64 = true, .imm8 = imm, .rip = 0x1000 };
  if (rm_reg >= 0)
    {
      in.mod = 3;
      in.rm = rm_reg;
    }
  else
    {
      in.mod = 0;
      in.addr = MEM_BASE + mem_off;
    }
  return simd_exec (&c->fx, &in, &c->host);
}

static void
test_alignment (void)
{
  Ctx *c = ctx_new ();
  FxXmm before;

  memset (c->mem, 0x11, sizeof c->mem);
  memset (&c->fx.xmm[1], 0xee, 16);
  before = c->fx.xmm[1];
  /* MOVAPS, MOVDQA, ANDPS, PADDB, ADDPS: 16-byte aligned memory or #GP */
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x28, 1, -1, 8, 0), ==, SIMD_GP);
  g_assert_cmpint (run0f (c, SIMD_PFX_66, 0x6f, 1, -1, 4, 0), ==, SIMD_GP);
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x54, 1, -1, 1, 0), ==, SIMD_GP);
  g_assert_cmpint (run0f (c, SIMD_PFX_66, 0xfc, 1, -1, 15, 0), ==, SIMD_GP);
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x58, 1, -1, 12, 0), ==, SIMD_GP);
  g_assert_cmpmem (&c->fx.xmm[1], 16, &before, 16);
  /* stores too, and nothing is written */
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x29, 1, -1, 8, 0), ==, SIMD_GP);
  g_assert_cmpint (run0f (c, SIMD_PFX_66, 0xe7, 1, -1, 8, 0), ==, SIMD_GP);
  g_assert_cmpuint (c->mem[8], ==, 0x11);
  /* unaligned forms and scalar operands are fine */
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x10, 1, -1, 3, 0), ==, SIMD_OK);
  g_assert_cmpint (run0f (c, SIMD_PFX_F3, 0x6f, 2, -1, 5, 0), ==, SIMD_OK);
  g_assert_cmpint (run0f (c, SIMD_PFX_F3, 0x58, 2, -1, 7, 0), ==, SIMD_OK);
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x11, 2, -1, 9, 0), ==, SIMD_OK);
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x28, 1, -1, 16, 0), ==, SIMD_OK);
  g_free (c);
}

static void
test_faulting_memory (void)
{
  Ctx *c = ctx_new ();
  FxState before;

  c->fx.xmm[3].q[0] = 0x1234;
  before = c->fx;
  /* outside the window: the unit reports the fault and changes nothing */
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x58, 3, -1, -16, 0), ==, SIMD_FAULTED);
  g_assert_cmpint (run0f (c, SIMD_PFX_66, 0xd4, 3, -1, 4096, 0), ==, SIMD_FAULTED);
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0xae, 2, -1, 4094, 0), ==, SIMD_FAULTED);
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0xae, 0, -1, 4096 - 256, 0), ==, SIMD_FAULTED);
  g_assert_cmpmem (&c->fx, sizeof before, &before, sizeof before);
  g_assert_cmpuint (c->cpu.faults, ==, 4);
  g_free (c);
}

static void
test_mxcsr (void)
{
  Ctx *c = ctx_new ();
  uint32_t v;

  v = 0x3f80 | 0x40 | 0x8000; /* RC=01, DAZ, FZ */
  memcpy (c->mem, &v, 4);
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0xae, 2, -1, 0, 0), ==, SIMD_OK);
  g_assert_cmphex (c->fx.mxcsr, ==, v);
  /* reserved bits: #GP, MXCSR unchanged */
  for (unsigned bit = 16; bit < 32; bit++)
    {
      uint32_t bad = 0x1f80 | 1u << bit;
      memcpy (c->mem + 4, &bad, 4);
      vmm_log_set_quiet (TRUE);
      g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0xae, 2, -1, 4, 0), ==, SIMD_GP);
      vmm_log_set_quiet (FALSE);
      g_assert_cmphex (c->fx.mxcsr, ==, v);
    }
  /* STMXCSR */
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0xae, 3, -1, 64, 0), ==, SIMD_OK);
  memcpy (&v, c->mem + 64, 4);
  g_assert_cmphex (v, ==, c->fx.mxcsr);
  /* register forms of LDMXCSR are not instructions */
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0xae, 2, 1, 0, 0), ==, SIMD_UD);
  g_free (c);
}

static void
test_rounding_daz_ftz (void)
{
  Ctx *c = ctx_new ();
  float one = 1.0f, three = 3.0f, tiny, r;
  uint32_t denorm = 0x00000010;

  /* 1/3 rounds differently up and down */
  c->fx.xmm[0].f[0] = one;
  c->fx.xmm[1].f[0] = three;
  c->fx.mxcsr = 0x1f80 | 0x4000; /* round up */
  g_assert_cmpint (run0f (c, SIMD_PFX_F3, 0x5e, 0, 1, 0, 0), ==, SIMD_OK);
  float up = c->fx.xmm[0].f[0];
  c->fx.xmm[0].f[0] = one;
  c->fx.mxcsr = 0x1f80 | 0x2000; /* round down */
  g_assert_cmpint (run0f (c, SIMD_PFX_F3, 0x5e, 0, 1, 0, 0), ==, SIMD_OK);
  g_assert_true (c->fx.xmm[0].f[0] < up);
  g_assert_cmphex (c->fx.mxcsr & 0x20, ==, 0x20); /* precision flag */

  /* DAZ: a denormal input reads as zero */
  memcpy (&tiny, &denorm, 4);
  c->fx.xmm[2].f[0] = tiny;
  c->fx.xmm[3].f[0] = tiny;
  c->fx.mxcsr = 0x1f80 | 0x40;
  g_assert_cmpint (run0f (c, SIMD_PFX_F3, 0x58, 2, 3, 0, 0), ==, SIMD_OK);
  g_assert_cmpfloat (c->fx.xmm[2].f[0], ==, 0.0f);
  c->fx.xmm[2].f[0] = tiny;
  c->fx.mxcsr = 0x1f80;
  g_assert_cmpint (run0f (c, SIMD_PFX_F3, 0x58, 2, 3, 0, 0), ==, SIMD_OK);
  r = c->fx.xmm[2].f[0];
  g_assert_cmpfloat (r, >, 0.0f);
  g_assert_cmphex (c->fx.mxcsr & 0x02, ==, 0x02); /* denormal flag */
  g_free (c);
}

static void
test_unmasked_exceptions (void)
{
  Ctx *c = ctx_new ();

  c->fx.xmm[0].f[0] = 1.0f;
  c->fx.xmm[0].f[1] = 7.0f;
  c->fx.xmm[1].f[0] = 0.0f;
  c->fx.xmm[1].f[1] = 1.0f;
  c->fx.mxcsr = 0x1f80 & ~0x200; /* unmask divide-by-zero */
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x5e, 0, 1, 0, 0), ==, SIMD_XM);
  g_assert_cmpfloat (c->fx.xmm[0].f[0], ==, 1.0f); /* destination unchanged */
  g_assert_cmpfloat (c->fx.xmm[0].f[1], ==, 7.0f);
  g_assert_cmphex (c->fx.mxcsr & 0x04, ==, 0x04);
  /* masked: infinity and the flag */
  c->fx.mxcsr = 0x1f80;
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x5e, 0, 1, 0, 0), ==, SIMD_OK);
  g_assert_true (c->fx.xmm[0].f[0] > 1e38f);
  /* COMISS with a QNaN is invalid, UCOMISS is not */
  c->fx.xmm[2].d[0] = 0x7fc00000;
  c->fx.mxcsr = 0x1f80 & ~0x80;
  c->cpu.rflags = 0x2;
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x2f, 2, 0, 0, 0), ==, SIMD_XM);
  g_assert_cmphex (c->cpu.rflags, ==, 0x2);
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x2e, 2, 0, 0, 0), ==, SIMD_OK);
  g_assert_cmphex (c->cpu.rflags & 0x45, ==, 0x45); /* unordered: ZF PF CF */
  g_free (c);
}

static void
test_fxsave_fxrstor (void)
{
  Ctx *c = ctx_new ();
  SimdInsn save = { .map = SIMD_MAP_0F, .opcode = 0xae, .reg = 0, .mod = 0,
                    .addr = MEM_BASE + 512, .mode64 = true, .rex_w = true };
  SimdInsn rstor = save;
  rstor.reg = 1;

  for (unsigned i = 0; i < 16; i++)
    memset (&c->fx.xmm[i], 0x10 + i, 16);
  c->fx.fcw = 0x027f;
  c->fx.fsw = 0x3800 | 0x20;
  c->fx.ftw = 0x81;
  c->fx.fip = 0x123456789abc;
  c->fx.mxcsr = 0x1fa0;
  memset (c->fx.st[0].v, 0x42, 10);
  FxState orig = c->fx;

  g_assert_cmpint (simd_exec (&c->fx, &save, &c->host), ==, SIMD_OK);
  FxState *img = (FxState *) (c->mem + 512);
  g_assert_cmphex (img->fcw, ==, 0x027f);
  g_assert_cmphex (img->ftw, ==, 0x81);
  g_assert_cmphex (img->fip, ==, 0x123456789abc);
  g_assert_cmphex (img->mxcsr_mask, ==, 0xffff);
  g_assert_cmpmem (&img->xmm[15], 16, &orig.xmm[15], 16);

  simd_reset (&c->fx);
  g_assert_cmpint (simd_exec (&c->fx, &rstor, &c->host), ==, SIMD_OK);
  g_assert_cmpmem (&c->fx.xmm, sizeof c->fx.xmm, &orig.xmm, sizeof orig.xmm);
  g_assert_cmphex (c->fx.fsw, ==, orig.fsw);
  g_assert_cmphex (c->fx.fip, ==, orig.fip);
  g_assert_cmpmem (c->fx.st[0].v, 10, orig.st[0].v, 10);

  /* 32-bit layout: FIP/FCS and FDP/FDS, XMM0-7 only */
  SimdInsn save32 = save, rstor32 = rstor;
  save32.mode64 = save32.rex_w = false;
  rstor32.mode64 = rstor32.rex_w = false;
  save32.addr = rstor32.addr = MEM_BASE + 1024;
  memset (c->mem + 1024, 0xcc, 512);
  g_assert_cmpint (simd_exec (&c->fx, &save32, &c->host), ==, SIMD_OK);
  uint32_t fip32;
  memcpy (&fip32, c->mem + 1024 + 8, 4);
  g_assert_cmphex (fip32, ==, 0x56789abc);
  g_assert_cmphex (c->mem[1024 + 12], ==, 0); /* FCS */
  g_assert_cmphex (c->mem[1024 + 288], ==, 0xcc); /* XMM8+ not written */
  memset (&c->fx.xmm[9], 0x77, 16);
  g_assert_cmpint (simd_exec (&c->fx, &rstor32, &c->host), ==, SIMD_OK);
  g_assert_cmphex (c->fx.xmm[9].b[0], ==, 0x77);
  g_assert_cmphex (c->fx.fip, ==, 0x56789abc);

  /* misaligned: #GP */
  save.addr = MEM_BASE + 8;
  g_assert_cmpint (simd_exec (&c->fx, &save, &c->host), ==, SIMD_GP);
  rstor.addr = MEM_BASE + 8;
  g_assert_cmpint (simd_exec (&c->fx, &rstor, &c->host), ==, SIMD_GP);
  g_free (c);
}

static void
test_fxrstor_hostile (void)
{
  Ctx *c = ctx_new ();
  SimdInsn rstor = { .map = SIMD_MAP_0F, .opcode = 0xae, .reg = 1, .mod = 0,
                     .addr = MEM_BASE, .mode64 = true, .rex_w = true };
  GRand *r = g_rand_new_with_seed (42);

  vmm_log_set_quiet (TRUE);
  for (unsigned round = 0; round < 300; round++)
    {
      for (unsigned i = 0; i < 512; i++)
        c->mem[i] = g_rand_int (r);
      uint32_t mx;
      memcpy (&mx, c->mem + 24, 4);
      FxState before = c->fx;
      SimdResult res = simd_exec (&c->fx, &rstor, &c->host);
      if (mx & ~0xffffu)
        {
          g_assert_cmpint (res, ==, SIMD_GP);
          g_assert_cmpmem (&c->fx, sizeof before, &before, sizeof before);
          continue;
        }
      g_assert_cmpint (res, ==, SIMD_OK);
      g_assert_cmphex (c->fx.mxcsr, ==, mx);
      g_assert_cmphex (c->fx.mxcsr_mask, ==, 0xffff);
      /* whatever was loaded, x87/MMX/SSE instructions keep working */
      SimdInsn ops[] = {
        { .map = SIMD_MAP_X87, .opcode = 0xd8, .mod = 3, .reg = 0, .rm = 3 }, /* FADD */
        { .map = SIMD_MAP_X87, .opcode = 0xd9, .mod = 3, .reg = 7, .rm = 2 }, /* FSQRT */
        { .map = SIMD_MAP_X87, .opcode = 0xd9, .mod = 3, .reg = 6, .rm = 6 }, /* FSIN */
        { .map = SIMD_MAP_X87, .opcode = 0xdb, .mod = 3, .reg = 4, .rm = 2 }, /* FNCLEX */
        { .map = SIMD_MAP_X87, .opcode = 0xd9, .mod = 0, .reg = 6, .op_size = 4, .addr = MEM_BASE + 2048 },
        { .map = SIMD_MAP_0F, .opcode = 0x58, .mod = 3, .reg = 1, .rm = 2 },  /* ADDPS */
        { .map = SIMD_MAP_0F, .opcode = 0xfc, .mod = 3, .reg = 1, .rm = 2 },  /* PADDB mm */
      };
      for (unsigned i = 0; i < G_N_ELEMENTS (ops); i++)
        {
          SimdResult x = simd_exec (&c->fx, &ops[i], &c->host);
          g_assert_true (x == SIMD_OK || x == SIMD_MF || x == SIMD_XM);
        }
    }
  vmm_log_set_quiet (FALSE);
  g_rand_free (r);
  g_free (c);
}

static void
test_encodings (void)
{
  Ctx *c = ctx_new ();

  g_assert_true (simd_handles (SIMD_MAP_0F, 0x58, SIMD_PFX_F2));
  g_assert_true (simd_handles (SIMD_MAP_0F, 0xd6, SIMD_PFX_F3));
  g_assert_false (simd_handles (SIMD_MAP_0F, 0x6c, SIMD_PFX_NONE)); /* PUNPCKLQDQ: 66 only */
  g_assert_false (simd_handles (SIMD_MAP_0F, 0x7c, SIMD_PFX_66));   /* HADDPD: SSE3 */
  g_assert_false (simd_handles (SIMD_MAP_0F38, 0x00, SIMD_PFX_66)); /* SSSE3 */
  g_assert_false (simd_handles (SIMD_MAP_0F, 0xd0, SIMD_PFX_66));
  g_assert_true (simd_handles (SIMD_MAP_X87, 0xd9, SIMD_PFX_NONE));
  g_assert_false (simd_handles (SIMD_MAP_X87, 0xd7, SIMD_PFX_NONE));
  g_assert_true (simd_has_imm8 (SIMD_MAP_0F, 0x70));
  g_assert_true (simd_has_imm8 (SIMD_MAP_0F, 0xc6));
  g_assert_true (simd_has_imm8 (SIMD_MAP_0F3A, 0x0f));
  g_assert_false (simd_has_imm8 (SIMD_MAP_0F, 0x58));
  g_assert_false (simd_has_imm8 (SIMD_MAP_X87, 0xd9));

  g_assert_cmpint (run0f (c, SIMD_PFX_66, 0x12, 1, 2, 0, 0), ==, SIMD_UD);   /* MOVLPD reg */
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x13, 1, 2, 0, 0), ==, SIMD_UD); /* MOVLPS st reg */
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x50, 1, -1, 0, 0), ==, SIMD_UD); /* MOVMSKPS mem */
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x73, 3, 1, 0, 4), ==, SIMD_UD); /* PSRLDQ on mm */
  g_assert_cmpint (run0f (c, SIMD_PFX_66, 0x71, 3, 1, 0, 4), ==, SIMD_UD);   /* group /3 */
  g_assert_cmpint (run0f (c, SIMD_PFX_66, 0x72, 2, -1, 0, 4), ==, SIMD_UD);  /* group, memory */
  g_assert_cmpint (run0f (c, SIMD_PFX_66, 0xc5, 1, -1, 0, 1), ==, SIMD_UD);  /* PEXTRW mem */
  g_assert_cmpint (run0f (c, SIMD_PFX_66, 0xe7, 1, 2, 0, 0), ==, SIMD_UD);   /* MOVNTDQ reg */
  g_assert_cmpint (run0f (c, SIMD_PFX_F3, 0xd6, 1, -1, 0, 0), ==, SIMD_UD);  /* MOVQ2DQ mem */
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0x6c, 1, 2, 0, 0), ==, SIMD_UD);
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0xae, 4, -1, 0, 0), ==, SIMD_UD); /* XSAVE */
  g_free (c);
}

static void
test_mmx_state (void)
{
  Ctx *c = ctx_new ();

  /* TOP=3 with two values; an MMX instruction makes TOP 0, all tags valid */
  c->fx.fsw = 3 << 11;
  c->fx.ftw = 0x18;
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0xfc, 1, 2, 0, 0), ==, SIMD_OK);
  g_assert_cmphex (c->fx.fsw & 0x3800, ==, 0);
  g_assert_cmphex (c->fx.ftw, ==, 0xff);
  g_assert_cmphex (c->fx.st[1].v[8], ==, 0xff); /* exponent of a written MMX register */
  g_assert_cmphex (c->fx.st[1].v[9], ==, 0xff);
  /* EMMS empties the tags */
  SimdInsn emms = { .map = SIMD_MAP_0F, .opcode = 0x77, .mod = 3 };
  g_assert_cmpint (simd_exec (&c->fx, &emms, &c->host), ==, SIMD_OK);
  g_assert_cmphex (c->fx.ftw, ==, 0);
  /* a pending x87 exception: #MF on MMX instructions */
  c->fx.fsw |= 0x8081;
  c->fx.fcw &= ~1;
  g_assert_cmpint (run0f (c, SIMD_PFX_NONE, 0xfc, 1, 2, 0, 0), ==, SIMD_MF);
  g_assert_cmpint (simd_exec (&c->fx, &emms, &c->host), ==, SIMD_MF);
  /* but not on SSE */
  g_assert_cmpint (run0f (c, SIMD_PFX_66, 0xfc, 1, 2, 0, 0), ==, SIMD_OK);
  g_free (c);
}

static void
test_gpr_moves (void)
{
  Ctx *c = ctx_new ();
  SimdInsn in = { .map = SIMD_MAP_0F, .opcode = 0x7e, .prefix = SIMD_PFX_66, .mod = 3,
                  .reg = 9, .rm = 5 };

  c->fx.xmm[9].q[0] = 0x1122334455667788;
  c->cpu.gpr[5] = ~UINT64_C (0);
  g_assert_cmpint (simd_exec (&c->fx, &in, &c->host), ==, SIMD_OK);
  g_assert_cmphex (c->cpu.gpr[5], ==, 0x55667788); /* 32-bit write zero-extends */
  in.rex_w = true;
  g_assert_cmpint (simd_exec (&c->fx, &in, &c->host), ==, SIMD_OK);
  g_assert_cmphex (c->cpu.gpr[5], ==, 0x1122334455667788);
  /* MOVD xmm, r32 zeroes the rest */
  in.opcode = 0x6e;
  in.rex_w = false;
  c->cpu.gpr[5] = 0xaaaaaaaabbbbbbbb;
  g_assert_cmpint (simd_exec (&c->fx, &in, &c->host), ==, SIMD_OK);
  g_assert_cmphex (c->fx.xmm[9].q[0], ==, 0xbbbbbbbb);
  g_assert_cmphex (c->fx.xmm[9].q[1], ==, 0);
  /* PMOVMSKB */
  for (unsigned i = 0; i < 16; i++)
    c->fx.xmm[4].b[i] = i % 3 ? 0x80 : 0x7f;
  g_assert_cmpint (run0f (c, SIMD_PFX_66, 0xd7, 6, 4, 0, 0), ==, SIMD_OK);
  g_assert_cmphex (c->cpu.gpr[6], ==, 0x6db6);
  /* MASKMOVDQU writes only the selected bytes, at the address the core gives */
  memset (c->mem, 0x55, 32);
  memset (&c->fx.xmm[1], 0xaa, 16);
  memset (&c->fx.xmm[2], 0, 16);
  c->fx.xmm[2].b[3] = 0x80;
  c->fx.xmm[2].b[15] = 0xff;
  SimdInsn mask = { .map = SIMD_MAP_0F, .opcode = 0xf7, .prefix = SIMD_PFX_66, .mod = 3,
                    .reg = 1, .rm = 2, .addr = MEM_BASE + 4 };
  g_assert_cmpint (simd_exec (&c->fx, &mask, &c->host), ==, SIMD_OK);
  for (unsigned i = 0; i < 32; i++)
    g_assert_cmphex (c->mem[i], ==, i == 7 || i == 19 ? 0xaa : 0x55);
  g_free (c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/simd/alignment", test_alignment);
  g_test_add_func ("/simd/faulting-memory", test_faulting_memory);
  g_test_add_func ("/simd/mxcsr", test_mxcsr);
  g_test_add_func ("/simd/rounding-daz-ftz", test_rounding_daz_ftz);
  g_test_add_func ("/simd/unmasked-exceptions", test_unmasked_exceptions);
  g_test_add_func ("/simd/fxsave-fxrstor", test_fxsave_fxrstor);
  g_test_add_func ("/simd/fxrstor-hostile", test_fxrstor_hostile);
  g_test_add_func ("/simd/encodings", test_encodings);
  g_test_add_func ("/simd/mmx-state", test_mmx_state);
  g_test_add_func ("/simd/gpr-moves", test_gpr_moves);
  simd_test_x87_register ();
  return g_test_run ();
}
