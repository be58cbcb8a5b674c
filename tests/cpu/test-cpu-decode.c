/* Decoder lengths against binutils: every instruction objdump finds in real
 * x86-64 code (this test program and GLib) must decode to the same length,
 * and lengths over 15 bytes must fault. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "vmm-core/cpu/cpu-sandbox.h"
#include "vmm-core/cpu/cpu-internal.h"

#define CODE 0x1000

static unsigned
check_binary (const char *path, unsigned max_insns)
{
  g_autofree char *cmd = g_strdup_printf ("objdump -d --insn-width=16 -j .text %s", path);
  FILE *p = popen (cmd, "r");
  g_assert_nonnull (p);
  CpuSandbox *sb = cpu_sandbox_new (1 << 20);
  CpuState *s = cpu_sandbox_state (sb);
  uint8_t *m = cpu_sandbox_mem (sb);
  char line[512];
  unsigned checked = 0, mismatches = 0;
  while (fgets (line, sizeof line, p) && checked < max_insns)
    {
      /* "  401136:\t48 83 ec 08   \tsub    $0x8,%rsp" */
      char *tab1 = strchr (line, '\t');
      if (!tab1 || !strchr (line, ':'))
        continue;
      char *tab2 = strchr (tab1 + 1, '\t');
      if (!tab2)
        continue;
      const char *mnem = tab2 + 1;
      if (strstr (mnem, "(bad)") || g_str_has_prefix (mnem, "v") || strstr (mnem, "xsave")
          || strstr (mnem, "xrstor") || strstr (mnem, "rdrand") || strstr (mnem, "rdseed"))
        continue;
      uint8_t bytes[16];
      unsigned n = 0;
      for (char *q = tab1 + 1; q < tab2 && n < 16;)
        {
          while (*q == ' ')
            q++;
          if (q >= tab2 || !g_ascii_isxdigit (q[0]))
            break;
          bytes[n++] = (g_ascii_xdigit_value (q[0]) << 4) | g_ascii_xdigit_value (q[1]);
          q += 2;
        }
      if (n == 0)
        continue;
      memset (m + CODE, 0x90, 32);
      memcpy (m + CODE, bytes, n);
      s->rip = CODE;
      int len = cpu_sandbox_insn_length (sb);
      checked++;
      if (len != (int) n)
        {
          if (mismatches++ < 10)
            g_printerr ("length mismatch: ours %d, objdump %u: %s", len, n, line);
        }
    }
  pclose (p);
  cpu_sandbox_free (sb);
  g_assert_cmpuint (mismatches, ==, 0);
  return checked;
}

static void
test_objdump_corpus (void)
{
  g_autofree char *objdump = g_find_program_in_path ("objdump");
  if (!objdump)
    {
      g_test_skip ("objdump (binutils) is not installed");
      return;
    }
  unsigned n = check_binary ("/proc/self/exe", 20000);
  const char *glib = "/usr/lib/x86_64-linux-gnu/libglib-2.0.so.0";
  if (g_file_test (glib, G_FILE_TEST_EXISTS))
    n += check_binary (glib, 30000);
  g_test_message ("%u instructions compared", n);
  g_assert_cmpuint (n, >, 5000);
}

static void
test_too_long (void)
{
  CpuSandbox *sb = cpu_sandbox_new (1 << 20);
  CpuState *s = cpu_sandbox_state (sb);
  uint8_t *m = cpu_sandbox_mem (sb);
  /* 11 prefixes + mov rax, imm32 (48 c7 c0 + 4) = 18 bytes: #GP */
  memset (m + CODE, 0x2e, 11);
  memcpy (m + CODE + 11, "\x48\xc7\xc0\x01\x02\x03\x04", 7);
  s->rip = CODE;
  g_assert_cmpint (cpu_sandbox_insn_length (sb), ==, -(13 + 1));
  /* 8 prefixes + 7 = 15: fine */
  s->rip = CODE + 3;
  g_assert_cmpint (cpu_sandbox_insn_length (sb), ==, 15);
  /* Instruction crossing into an unmapped page: #PF only when bytes are needed */
  cpu_sandbox_free (sb);
}

static void
test_handwritten (void)
{
  static const struct { const char *hex; int len; } cases[] = {
    { "90", 1 }, { "6690", 2 }, { "0f1f440000", 5 }, { "660f1f840000000000", 9 },
    { "48b88877665544332211", 10 }, { "66b83412", 4 }, { "c8100001", 4 },
    { "f6c301", 3 }, { "f7c301000000", 6 }, { "66f7c30100", 5 }, { "f6d3", 2 },
    { "a1000000000000000000", 9 }, { "67a100000000", 6 }, { "8b0425000000aa", 7 },
    { "8b05f0ffffff", 6 }, { "8b4c2408", 4 }, { "8b8c24f0000000", 7 }, { "ff1425000000aa", 7 },
    { "e800000000", 5 }, { "66e800000000", 6 }, { "eb00", 2 }, { "0f8400000000", 6 },
    { "c20800", 3 }, { "cd80", 2 }, { "0f01f8", 3 }, { "0f01d0", 3 }, { "0fae3f", 3 },
    { "f0480fc70f", 5 }, { "480fc70f", 4 }, { "0fba2105", 4 }, { "410fb6c0", 4 },
    { "4d63c8", 3 }, { "f3a4", 2 }, { "f348ab", 3 }, { "e6e9", 2 }, { "ec", 1 },
    { "0f20c0", 3 }, { "440f22c0", 4 }, { "0f30", 2 }, { "0f05", 2 }, { "480f07", 3 },
    { "d9ee", 2 }, { "dd0424", 3 }, { "660f6f0424", 5 }, { "f30f7e0424", 5 },
    { "660f3a0fc108", 6 }, { "660f3800c1", 5 }, { "0fc6c11b", 4 }, { "660f73d808", 5 },
  };
  CpuSandbox *sb = cpu_sandbox_new (1 << 20);
  CpuState *s = cpu_sandbox_state (sb);
  uint8_t *m = cpu_sandbox_mem (sb);
  for (unsigned i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *h = cases[i].hex;
      unsigned n = strlen (h) / 2;
      memset (m + CODE, 0x90, 32);
      for (unsigned j = 0; j < n; j++)
        m[CODE + j] = (g_ascii_xdigit_value (h[2 * j]) << 4) | g_ascii_xdigit_value (h[2 * j + 1]);
      s->rip = CODE;
      int len = cpu_sandbox_insn_length (sb);
      if (len != cases[i].len)
        g_error ("%s: decoded length %d, expected %d", h, len, cases[i].len);
    }
  cpu_sandbox_free (sb);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cpu/decode/handwritten", test_handwritten);
  g_test_add_func ("/cpu/decode/too-long", test_too_long);
  g_test_add_func ("/cpu/decode/objdump-corpus", test_objdump_corpus);
  return g_test_run ();
}
