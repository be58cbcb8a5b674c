/* Unit tests of the x87 side of the SIMD unit: the register stack and tag
 * word, stack faults, pending exceptions (#MF at the next waiting
 * instruction), FNSTENV/FLDENV/FNSAVE/FRSTOR layouts, BCD, FXAM, FCOMI,
 * FNSTSW AX. Arithmetic on random operands is checked against the host
 * FPU in test-simd-x87-diff. */
#include <math.h>
#include <string.h>

#include "test-simd-host.h"

#define BASE 0x20000u

typedef struct X87 {
  FxState fx;
  FakeCpu cpu;
  SimdHost host;
  uint8_t mem[1024];
} X87;

void simd_test_x87_register (void);

static X87 *
x87_new (void)
{
  X87 *x = g_new0 (X87, 1);
  simd_reset (&x->fx);
  x->cpu.mem = x->mem;
  x->cpu.mem_base = BASE;
  x->cpu.mem_size = sizeof x->mem;
  x->host = fake_host (&x->cpu);
  return x;
}

/* Register form: the two opcode bytes, e.g. (0xd9, 0xe8) for FLD1. */
static SimdResult
reg_op (X87 *x, uint8_t op, uint8_t modrm)
{
  SimdInsn in = { .map = SIMD_MAP_X87, .opcode = op, .mod = 3, .reg = (modrm >> 3) & 7,
                  .rm = modrm & 7, .op_size = 4, .mode64 = true, .rip = 0x4000 };
  return simd_exec (&x->fx, &in, &x->host);
}

static SimdResult
mem_op (X87 *x, uint8_t op, unsigned reg, unsigned off, unsigned op_size, bool real_mode)
{
  SimdInsn in = { .map = SIMD_MAP_X87, .opcode = op, .mod = 0, .reg = reg, .op_size = op_size,
                  .mode64 = true, .addr = BASE + off, .rip = 0x4010, .real_mode = real_mode };
  return simd_exec (&x->fx, &in, &x->host);
}

static long double
st (X87 *x, unsigned i)
{
  long double v = 0;
  memcpy (&v, x->fx.st[i].v, 10);
  return v;
}

static unsigned
top (X87 *x)
{
  return (x->fx.fsw >> 11) & 7;
}

static void
test_stack_and_tags (void)
{
  X87 *x = x87_new ();

  g_assert_cmphex (x->fx.fcw, ==, 0x037f);
  g_assert_cmpint (reg_op (x, 0xd9, 0xe8), ==, SIMD_OK); /* FLD1 */
  g_assert_cmpint (reg_op (x, 0xd9, 0xeb), ==, SIMD_OK); /* FLDPI */
  g_assert_cmpuint (top (x), ==, 6);
  g_assert_cmphex (x->fx.ftw, ==, 0xc0);
  g_assert_true (st (x, 0) > 3.14L && st (x, 0) < 3.15L);
  g_assert_true (st (x, 1) == 1.0L);
  g_assert_cmpint (reg_op (x, 0xd9, 0xc9), ==, SIMD_OK); /* FXCH ST1 */
  g_assert_true (st (x, 0) == 1.0L);
  g_assert_cmpint (reg_op (x, 0xde, 0xc1), ==, SIMD_OK); /* FADDP */
  g_assert_cmpuint (top (x), ==, 7);
  g_assert_true (st (x, 0) > 4.14L && st (x, 0) < 4.15L);
  g_assert_cmpint (reg_op (x, 0xd9, 0xf6), ==, SIMD_OK); /* FDECSTP */
  g_assert_cmpuint (top (x), ==, 6);
  g_assert_true (st (x, 1) > 4.14L); /* the physical register did not move */
  g_assert_cmpint (reg_op (x, 0xd9, 0xf7), ==, SIMD_OK); /* FINCSTP */
  g_assert_cmpint (reg_op (x, 0xdd, 0xc0), ==, SIMD_OK); /* FFREE ST0 */
  g_assert_cmphex (x->fx.ftw, ==, 0);
  g_free (x);
}

static void
test_stack_faults (void)
{
  X87 *x = x87_new ();

  /* underflow (masked): invalid + SF, C1 = 0, QNaN indefinite result */
  g_assert_cmpint (reg_op (x, 0xd8, 0xc1), ==, SIMD_OK); /* FADD ST0, ST1 on an empty stack */
  g_assert_cmphex (x->fx.fsw & 0x0241, ==, 0x0041);
  g_assert_true (isnan (st (x, 0)));
  /* overflow: nine pushes */
  x->fx.fsw = 0;
  x->fx.ftw = 0;
  for (unsigned i = 0; i < 8; i++)
    g_assert_cmpint (reg_op (x, 0xd9, 0xee), ==, SIMD_OK); /* FLDZ */
  g_assert_cmphex (x->fx.fsw & 0x41, ==, 0);
  g_assert_cmpint (reg_op (x, 0xd9, 0xe8), ==, SIMD_OK);
  g_assert_cmphex (x->fx.fsw & 0x0241, ==, 0x0241); /* C1 = 1: overflow */
  g_assert_true (isnan (st (x, 0)));

  /* unmasked: the fault is recorded, the instruction does nothing, and the
   * next waiting x87 instruction raises #MF; FNCLEX does not wait */
  x->fx.fcw = 0x037e;
  x->fx.fsw = 0;
  x->fx.ftw = 0;
  g_assert_cmpint (reg_op (x, 0xd8, 0xc1), ==, SIMD_OK);
  g_assert_cmphex (x->fx.fsw & 0x80c1, ==, 0x80c1); /* B ES SF IE */
  g_assert_cmphex (x->fx.ftw, ==, 0);
  g_assert_cmpint (reg_op (x, 0xd9, 0xe8), ==, SIMD_MF);
  g_assert_cmpuint (top (x), ==, 0);
  g_assert_cmpint (reg_op (x, 0xdf, 0xe0), ==, SIMD_OK); /* FNSTSW AX */
  g_assert_cmphex (x->cpu.gpr[0] & 0xffff, ==, x->fx.fsw);
  g_assert_cmpint (reg_op (x, 0xdb, 0xe2), ==, SIMD_OK); /* FNCLEX */
  g_assert_cmphex (x->fx.fsw & 0x80ff, ==, 0);
  g_assert_cmpint (reg_op (x, 0xd9, 0xe8), ==, SIMD_OK);
  /* an invalid encoding is #UD even with an exception pending */
  x->fx.fsw |= 0x8081;
  g_assert_cmpint (reg_op (x, 0xd9, 0xd1), ==, SIMD_UD);
  g_assert_cmpint (reg_op (x, 0xdb, 0xe3), ==, SIMD_OK); /* FNINIT */
  g_assert_cmphex (x->fx.fsw, ==, 0);
  g_assert_cmphex (x->fx.fcw, ==, 0x037f);
  g_free (x);
}

static void
test_env_layouts (void)
{
  X87 *x = x87_new ();

  reg_op (x, 0xd9, 0xe8);                 /* FLD1: valid */
  reg_op (x, 0xd9, 0xee);                 /* FLDZ: zero */
  x->fx.fcw = 0x0360;
  mem_op (x, 0xd9, 0, 512, 4, false);     /* FLD m32 (a zero here) to set FIP/FDP */
  uint32_t nan = 0x7fc00000;
  memcpy (x->mem + 516, &nan, 4);
  mem_op (x, 0xd9, 0, 516, 4, false);     /* FLD m32 NaN: special */
  uint16_t fop = x->fx.fop;
  g_assert_cmphex (fop, ==, 0x100);       /* D9 /0, ModRM 00 */

  /* 32-bit protected mode: 28 bytes */
  memset (x->mem, 0xcc, 128);
  g_assert_cmpint (mem_op (x, 0xd9, 6, 0, 4, false), ==, SIMD_OK); /* FNSTENV */
  uint32_t w[7];
  memcpy (w, x->mem, 28);
  g_assert_cmphex (w[0] & 0xffff, ==, 0x0360);
  g_assert_cmphex (w[1] & 0xffff, ==, x->fx.fsw);
  /* TOP = 4: ST0 NaN (10), ST1 zero (01), ST2 zero (01), ST3 1.0 (00) */
  g_assert_cmphex (w[2] & 0xffff, ==, 0x16ff);
  g_assert_cmphex (w[3], ==, 0x4010);
  g_assert_cmphex (w[4] >> 16, ==, fop);
  g_assert_cmphex (w[5], ==, BASE + 516);
  g_assert_cmphex (x->mem[28], ==, 0xcc);
  g_assert_cmphex (x->fx.fcw, ==, 0x037f); /* FNSTENV masks all exceptions */

  /* FLDENV restores it: control word, tags from the full tag word */
  x->fx.ftw = 0;
  g_assert_cmpint (mem_op (x, 0xd9, 4, 0, 4, false), ==, SIMD_OK);
  g_assert_cmphex (x->fx.fcw, ==, 0x0360);
  g_assert_cmphex (x->fx.ftw, ==, 0xf0);

  /* 16-bit layouts: 14 bytes; real mode splits FIP into 16+4 bits */
  memset (x->mem + 128, 0xcc, 64);
  x->fx.fip = 0x12345;
  g_assert_cmpint (mem_op (x, 0xd9, 6, 128, 2, true), ==, SIMD_OK);
  uint16_t h[7];
  memcpy (h, x->mem + 128, 14);
  g_assert_cmphex (h[3], ==, 0x2345);
  g_assert_cmphex (h[4], ==, 0x1000 | fop);
  g_assert_cmphex (x->mem[128 + 14], ==, 0xcc);
  x->fx.fip = 0;
  g_assert_cmpint (mem_op (x, 0xd9, 4, 128, 2, true), ==, SIMD_OK);
  g_assert_cmphex (x->fx.fip, ==, 0x12345);
  g_free (x);
}

static void
test_fsave_frstor (void)
{
  X87 *x = x87_new ();

  reg_op (x, 0xd9, 0xe8);
  reg_op (x, 0xd9, 0xeb);
  reg_op (x, 0xd9, 0xea);
  FxState before = x->fx;
  g_assert_cmpint (mem_op (x, 0xdd, 6, 0, 4, false), ==, SIMD_OK); /* FNSAVE */
  g_assert_cmphex (x->fx.ftw, ==, 0);                              /* then FNINIT */
  g_assert_cmphex (x->fx.fsw, ==, 0);
  long double l2e;
  memcpy (&l2e, x->mem + 28, 10);                                  /* ST0 first */
  g_assert_true (l2e > 1.44L && l2e < 1.45L);
  g_assert_cmpint (mem_op (x, 0xdd, 4, 0, 4, false), ==, SIMD_OK); /* FRSTOR */
  g_assert_cmphex (x->fx.fsw, ==, before.fsw);
  g_assert_cmphex (x->fx.ftw, ==, before.ftw);
  for (unsigned i = 0; i < 3; i++)
    g_assert_cmpmem (x->fx.st[i].v, 10, before.st[i].v, 10);
  /* 16-bit FNSAVE is 94 bytes */
  memset (x->mem + 256, 0xcc, 128);
  g_assert_cmpint (mem_op (x, 0xdd, 6, 256, 2, false), ==, SIMD_OK);
  g_assert_cmphex (x->mem[256 + 93], !=, 0xcc);
  g_assert_cmphex (x->mem[256 + 94], ==, 0xcc);
  /* a faulting FNSAVE changes nothing */
  g_assert_cmpint (mem_op (x, 0xdd, 4, 256, 2, false), ==, SIMD_OK);
  FxState saved = x->fx;
  g_assert_cmpint (mem_op (x, 0xdd, 6, 1000, 4, false), ==, SIMD_FAULTED);
  g_assert_cmpmem (&x->fx, sizeof saved, &saved, sizeof saved);
  g_free (x);
}

static void
test_bcd_and_integers (void)
{
  X87 *x = x87_new ();
  static const uint8_t bcd[10] = { 0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80 };

  memcpy (x->mem, bcd, 10);
  g_assert_cmpint (mem_op (x, 0xdf, 4, 0, 4, false), ==, SIMD_OK); /* FBLD */
  g_assert_true (st (x, 0) == -123456789012345678.0L);
  g_assert_cmpint (mem_op (x, 0xdf, 6, 16, 4, false), ==, SIMD_OK); /* FBSTP */
  g_assert_cmpmem (x->mem + 16, 10, bcd, 10);
  g_assert_cmphex (x->fx.ftw, ==, 0);
  /* out of range: invalid, BCD indefinite */
  long double big = 1e19L;
  memcpy (x->mem + 32, &big, 10);
  mem_op (x, 0xdb, 5, 32, 4, false); /* FLD m80 */
  g_assert_cmpint (mem_op (x, 0xdf, 6, 48, 4, false), ==, SIMD_OK);
  static const uint8_t indef[10] = { 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff };
  g_assert_cmpmem (x->mem + 48, 10, indef, 10);
  g_assert_cmphex (x->fx.fsw & 1, ==, 1);
  /* FIST overflow: integer indefinite */
  mem_op (x, 0xdb, 5, 32, 4, false);
  g_assert_cmpint (mem_op (x, 0xdf, 2, 64, 4, false), ==, SIMD_OK); /* FIST m16 */
  g_assert_cmphex (x->mem[64] | x->mem[65] << 8, ==, 0x8000);
  /* FILD m64 of INT64_MIN is exact */
  int64_t m = INT64_MIN;
  memcpy (x->mem + 80, &m, 8);
  g_assert_cmpint (mem_op (x, 0xdf, 5, 80, 4, false), ==, SIMD_OK);
  g_assert_true (st (x, 0) == -9223372036854775808.0L);
  g_free (x);
}

static void
test_fxam_fcomi (void)
{
  X87 *x = x87_new ();

  g_assert_cmpint (reg_op (x, 0xd9, 0xe5), ==, SIMD_OK); /* FXAM on empty */
  g_assert_cmphex (x->fx.fsw & 0x4700, ==, 0x4100);
  reg_op (x, 0xd9, 0xee); /* FLDZ */
  reg_op (x, 0xd9, 0xe0); /* FCHS: -0 */
  reg_op (x, 0xd9, 0xe5);
  g_assert_cmphex (x->fx.fsw & 0x4700, ==, 0x4200); /* zero, C1 = sign */
  reg_op (x, 0xd9, 0xe8); /* FLD1 */
  reg_op (x, 0xd9, 0xe5);
  g_assert_cmphex (x->fx.fsw & 0x4700, ==, 0x0400); /* normal */
  /* FCOMI ST0(1.0), ST1(-0): greater -> ZF PF CF clear */
  x->cpu.rflags = 0x8d7;
  g_assert_cmpint (reg_op (x, 0xdb, 0xf1), ==, SIMD_OK);
  g_assert_cmphex (x->cpu.rflags & 0x8d5, ==, 0);
  /* FUCOMIP ST0, ST0: equal, and pops */
  g_assert_cmpint (reg_op (x, 0xdf, 0xe8), ==, SIMD_OK);
  g_assert_cmphex (x->cpu.rflags & 0x45, ==, 0x40);
  g_assert_cmpuint (top (x), ==, 7);
  /* FSIN out of range: C2 = 1, operand unchanged */
  long double huge = 0x1p70L;
  memcpy (x->mem, &huge, 10);
  mem_op (x, 0xdb, 5, 0, 4, false);
  g_assert_cmpint (reg_op (x, 0xd9, 0xfe), ==, SIMD_OK);
  g_assert_cmphex (x->fx.fsw & 0x400, ==, 0x400);
  g_assert_true (st (x, 0) == huge);
  g_free (x);
}

/* FLDENV/FRSTOR of garbage in every layout, then ordinary x87 work:
 * anything goes, as long as it stays inside the architecture. */
static void
test_env_garbage (void)
{
  X87 *x = x87_new ();
  GRand *r = g_rand_new_with_seed (7);

  for (unsigned round = 0; round < 400; round++)
    {
      for (unsigned i = 0; i < 128; i++)
        x->mem[i] = g_rand_int (r);
      unsigned op_size = g_rand_boolean (r) ? 2 : 4;
      bool real = g_rand_boolean (r);
      SimdResult res = mem_op (x, g_rand_boolean (r) ? 0xd9 : 0xdd, 4, 0, op_size, real);
      g_assert_true (res == SIMD_OK || res == SIMD_MF);
      reg_op (x, 0xdb, 0xe2); /* FNCLEX so the next ones run */
      g_assert_cmphex (x->fx.fsw & 0x80, ==, 0);
      static const uint8_t ops[][2] = { { 0xd8, 0xc1 }, { 0xd9, 0xfa }, { 0xd9, 0xf8 },
                                        { 0xde, 0xf9 }, { 0xd9, 0xf4 }, { 0xdf, 0xe0 } };
      for (unsigned i = 0; i < G_N_ELEMENTS (ops); i++)
        {
          res = reg_op (x, ops[i][0], ops[i][1]);
          g_assert_true (res == SIMD_OK || res == SIMD_MF);
        }
      g_assert_cmpint (mem_op (x, 0xdd, 6, 256, op_size, real), ==, SIMD_OK); /* FNSAVE */
      g_assert_cmphex (x->fx.ftw, ==, 0);
    }
  g_rand_free (r);
  g_free (x);
}

void
simd_test_x87_register (void)
{
  g_test_add_func ("/simd/x87/env-garbage", test_env_garbage);
  g_test_add_func ("/simd/x87/stack-and-tags", test_stack_and_tags);
  g_test_add_func ("/simd/x87/stack-faults", test_stack_faults);
  g_test_add_func ("/simd/x87/env-layouts", test_env_layouts);
  g_test_add_func ("/simd/x87/fsave-frstor", test_fsave_frstor);
  g_test_add_func ("/simd/x87/bcd-and-integers", test_bcd_and_integers);
  g_test_add_func ("/simd/x87/fxam-fcomi", test_fxam_fcomi);
}
