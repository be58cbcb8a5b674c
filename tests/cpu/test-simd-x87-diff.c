/* Differential test of the x87 part of the SIMD unit: random D8-DF
 * instructions run on the host CPU (state loaded with FXRSTOR, read back
 * with FXSAVE) and through simd_exec(), on register stacks full of edge
 * values (signed zeros, denormals, pseudo-denormals, unnormals, infinities,
 * quiet/signalling NaNs, integer and BCD limits), random precision and
 * rounding control, and now and then unmasked exceptions. Compared: FCW,
 * FSW, the tag word, all eight registers, RAX (FNSTSW AX), the arithmetic
 * flags (FCOMI) and the data page. Not compared: FIP/FDP/FOP (vendor
 * specific). FNSTENV/FNSAVE/FLDENV/FRSTOR are covered by test-simd-x87. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "diff-x87-cases.h"
#include "test-simd-host.h"
#include "vmm-core/log.h"

#define CASES 60000

static int
expected_signal (SimdResult r)
{
  return r == SIMD_OK ? -1 : r == SIMD_MF ? SIGFPE : r == SIMD_UD ? SIGILL : 0;
}

static void
test_x87_vs_host (void)
{
  const char *why;
  const char *seed_env = g_getenv ("VIREO_DIFF_SEED");
  GRand *rng = g_rand_new_with_seed (seed_env ? (guint32) g_ascii_strtoull (seed_env, NULL, 0)
                                              : 0x87);
  static FxState host_fx;
  unsigned failed = 0, faults = 0;

  if (!diff_host_init (&why))
    {
      g_test_skip (why);
      g_rand_free (rng);
      return;
    }
  vmm_log_set_quiet (TRUE);
  for (unsigned n = 0; n < CASES; n++)
    {
      X87Case c;
      FxState eng;
      uint64_t hio[3];
      uint8_t edata[64];
      FakeCpu cpu = { .mem = edata, .mem_base = DIFF_DATA_ADDR, .mem_size = 64 };
      SimdHost h = fake_host (&cpu);

      diff_x87_make (rng, &c);
      host_fx = c.fx;
      memcpy (hio, c.io, sizeof hio);
      memcpy (diff_host_data (), c.data, 64);
      int sig = diff_host_run_fx (&host_fx, hio, c.bytes, c.len);

      eng = c.fx;
      memcpy (edata, c.data, 64);
      cpu.gpr[0] = c.io[0];
      cpu.gpr[3] = c.io[1];
      cpu.rflags = c.io[2];
      SimdResult r = simd_exec (&eng, &c.insn, &h);
      uint64_t eio[3] = { cpu.gpr[0], cpu.gpr[3], cpu.rflags };

      faults += sig != -1;
      bool ok = sig == expected_signal (r);
      if (ok && sig == -1)
        ok = diff_x87_same (&host_fx, &eng, diff_x87_fsw_ignore (&c)) && hio[0] == eio[0] && (hio[2] & 0x8d5) == (eio[2] & 0x8d5)
             && !memcmp (diff_host_data (), edata, 64);
      static bool shown[8][2][8];
      bool *seen = &shown[c.bytes[0] - 0xd8][c.insn.mod == 3][c.insn.reg & 7];
      failed += !ok;
      if (!ok && !*seen && failed < 40)
        {
          *seen = true;
          printf ("# MISMATCH bytes %02x %02x: host signal %d, engine result %d\n", c.bytes[0],
                  c.bytes[1], sig, r);
          diff_x87_print ("input", &c.fx, c.io, c.data);
          diff_x87_print ("host", &host_fx, hio, diff_host_data ());
          diff_x87_print ("engine", &eng, eio, edata);
        }
    }
  vmm_log_set_quiet (FALSE);
  printf ("# x87: %u cases, %u passed (%u faulted on the host, compared as fault class)\n",
          CASES, CASES - failed, faults);
  g_rand_free (rng);
  g_assert_cmpuint (failed, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/simd-x87-diff/x87-vs-host", test_x87_vs_host);
  return g_test_run ();
}
