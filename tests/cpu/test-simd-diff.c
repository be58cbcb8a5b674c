/* Differential test of the SIMD unit alone: every SSE/SSE2/MMX case runs on
 * the host CPU and through simd_exec() with a fake SimdHost, and every
 * architectural output is compared (GPRs, arithmetic flags, MXCSR, XMM0-15,
 * MM0-7, the data page), as is the fault class (#GP, #XM, #UD). The same
 * cases run through the whole engine in test-diff.c. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "diff-sse-cases.h"
#include "test-simd-host.h"
#include "vmm-core/log.h"

#define CASES_PER_OP 300

static int
expected_signal (SimdResult r)
{
  switch (r)
    {
    case SIMD_OK: return -1;
    case SIMD_GP: return SIGSEGV;
    case SIMD_XM: return SIGFPE;
    case SIMD_UD: return SIGILL;
    default: return 0;
    }
}

/* Run c through simd_exec; out gets the resulting registers and data. */
static SimdResult
engine_run (const DiffCase *c, DiffRegs *out, uint8_t *data)
{
  FxState fx;
  FakeCpu cpu = { .mem = data, .mem_base = DIFF_DATA_ADDR, .mem_size = 64 };
  SimdHost h = fake_host (&cpu);
  SimdResult r;

  simd_reset (&fx);
  memcpy (data, c->data, 64);
  memcpy (cpu.gpr, c->regs.gpr, sizeof cpu.gpr);
  cpu.rflags = c->regs.rflags;
  fx.mxcsr = c->regs.mxcsr;
  memcpy (fx.xmm, c->regs.xmm, sizeof fx.xmm);
  for (unsigned i = 0; i < 8; i++)
    memcpy (fx.st[i].v, &c->regs.mm[i], 8);
  r = simd_exec (&fx, &c->insn, &h);
  *out = c->regs;
  memcpy (out->gpr, cpu.gpr, sizeof cpu.gpr);
  out->rflags = cpu.rflags;
  out->mxcsr = fx.mxcsr;
  memcpy (out->xmm, fx.xmm, sizeof fx.xmm);
  for (unsigned i = 0; i < 8; i++)
    memcpy (&out->mm[i], fx.st[i].v, 8);
  return r;
}

static bool
same (const DiffRegs *a, const DiffRegs *b)
{
  return !memcmp (a->gpr, b->gpr, sizeof a->gpr) && (a->rflags & 0x8d5) == (b->rflags & 0x8d5)
         && a->mxcsr == b->mxcsr && !memcmp (a->xmm, b->xmm, sizeof a->xmm)
         && !memcmp (a->mm, b->mm, sizeof a->mm);
}

static void
test_sse_vs_host (void)
{
  const char *why;
  /* Fixed seed so CI is reproducible; VIREO_DIFF_SEED explores others. */
  const char *seed_env = g_getenv ("VIREO_DIFF_SEED");
  GRand *rng = g_rand_new_with_seed (seed_env ? (guint32) g_ascii_strtoull (seed_env, NULL, 0)
                                              : 0x51d0);
  unsigned total[3] = { 0 }, failed[3] = { 0 }, faults = 0;
  static const char *const class_names[] = { "SSE", "SSE2", "MMX" };

  if (!diff_host_init (&why))
    {
      g_test_skip (why);
      g_rand_free (rng);
      return;
    }
  vmm_log_set_quiet (TRUE);
  for (unsigned o = 0; o < diff_sse_nops; o++)
    {
      const DiffSseOp *op = &diff_sse_ops[o];
      for (unsigned n = 0; n < CASES_PER_OP; n++)
        {
          DiffCase c;
          DiffRegs host, eng;
          uint8_t edata[64];
          int sig;
          SimdResult r;

          diff_sse_make (op, rng, &c);
          host = c.regs;
          memcpy (diff_host_data (), c.data, 64);
          sig = diff_host_run (&host, c.bytes, c.len);
          r = engine_run (&c, &eng, edata);
          total[op->cls]++;
          faults += sig != -1;
          bool ok = sig == expected_signal (r) || (sig == SIGBUS && r == SIMD_GP);
          if (ok && sig == -1)
            ok = same (&host, &eng) && !memcmp (diff_host_data (), edata, 64);
          if (!ok)
            {
              if (failed[op->cls]++ < 8)
                {
                  printf ("# MISMATCH %s: host signal %d, engine result %d\n", op->name, sig, r);
                  diff_print_case (&c);
                  diff_print_regs ("host", &host, diff_host_data ());
                  diff_print_regs ("engine", &eng, edata);
                }
            }
        }
    }
  vmm_log_set_quiet (FALSE);
  for (unsigned k = 0; k < 3; k++)
    printf ("# %s: %u cases, %u passed\n", class_names[k], total[k], total[k] - failed[k]);
  printf ("# cases that faulted on the host (compared as fault class): %u\n", faults);
  g_rand_free (rng);
  for (unsigned k = 0; k < 3; k++)
    g_assert_cmpuint (failed[k], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/simd-diff/sse-sse2-mmx-vs-host", test_sse_vs_host);
  return g_test_run ();
}
