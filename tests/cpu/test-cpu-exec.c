/* Integer instructions, stack, flags, exceptions and paging on the sandbox
 * (the engine's real execution path). */
#include <glib.h>
#include <string.h>

#include "vmm-core/cpu/cpu-sandbox.h"

#define MEM (4u << 20)
#define CODE 0x1000

typedef struct {
  CpuSandbox *sb;
  CpuState *s;
  uint8_t *m;
} Fx;

static void
fx_init (Fx *f)
{
  f->sb = cpu_sandbox_new (MEM);
  f->s = cpu_sandbox_state (f->sb);
  f->m = cpu_sandbox_mem (f->sb);
  f->s->rip = CODE;
}

static void
fx_fini (Fx *f)
{
  cpu_sandbox_free (f->sb);
}

static void
load (Fx *f, const uint8_t *code, size_t len)
{
  memcpy (f->m + CODE, code, len);
  f->s->rip = CODE;
}

/* Runs until RIP reaches `end` (or an exception); returns the vector or -1. */
static int
run_to (Fx *f, uint64_t end, unsigned max)
{
  for (unsigned i = 0; i < max && f->s->rip != end; i++)
    {
      int v = cpu_sandbox_step (f->sb);
      if (v >= 0)
        return v;
    }
  return -1;
}

#define FLAGS_MASK 0x8d5 /* OF SF ZF AF PF CF */

static void
test_alu_flags (void)
{
  Fx f;
  fx_init (&f);
  /* mov eax, 0x7fffffff; add eax, 1 */
  static const uint8_t c1[] = { 0xb8, 0xff, 0xff, 0xff, 0x7f, 0x83, 0xc0, 0x01 };
  load (&f, c1, sizeof c1);
  f.s->regs[CPU_REG_RAX] = 0xdeadbeef00000000ull;
  g_assert_cmpint (run_to (&f, CODE + sizeof c1, 10), ==, -1);
  g_assert_cmphex (f.s->regs[CPU_REG_RAX], ==, 0x80000000); /* upper half zeroed */
  g_assert_cmphex (f.s->rflags & FLAGS_MASK, ==, 0x800 | 0x80 | 0x10 | 0x4); /* OF SF AF PF */

  /* xor rcx, rcx; sub rcx, 1 -> CF SF */
  static const uint8_t c2[] = { 0x48, 0x31, 0xc9, 0x48, 0x83, 0xe9, 0x01 };
  load (&f, c2, sizeof c2);
  g_assert_cmpint (run_to (&f, CODE + sizeof c2, 10), ==, -1);
  g_assert_cmphex (f.s->regs[CPU_REG_RCX], ==, ~0ull);
  g_assert_cmphex (f.s->rflags & FLAGS_MASK, ==, 0x80 | 0x10 | 0x4 | 0x1);

  /* adc al, 0xff with CF=1 -> al unchanged, CF=1 */
  static const uint8_t c3[] = { 0xf9, 0xb0, 0x05, 0x14, 0xff };
  load (&f, c3, sizeof c3);
  g_assert_cmpint (run_to (&f, CODE + sizeof c3, 10), ==, -1);
  g_assert_cmphex (f.s->regs[CPU_REG_RAX] & 0xff, ==, 5);
  g_assert_true (f.s->rflags & 1);

  /* inc keeps CF; shl/rcl/shrd */
  static const uint8_t c4[] = {
    0xf9,                         /* stc */
    0x48, 0xff, 0xc2,             /* inc rdx */
    0x48, 0xc7, 0xc3, 0x81, 0, 0, 0, /* mov rbx, 0x81 */
    0xd0, 0xd3,                   /* rcl bl, 1 */
    0x66, 0xb9, 0x34, 0x12,       /* mov cx, 0x1234 */
    0x66, 0x0f, 0xac, 0xc8, 0x04, /* shrd ax, cx, 4 */
  };
  f.s->regs[CPU_REG_RDX] = 41;
  f.s->regs[CPU_REG_RAX] = 0xabcd;
  load (&f, c4, sizeof c4);
  g_assert_cmpint (run_to (&f, CODE + sizeof c4, 20), ==, -1);
  g_assert_cmpuint (f.s->regs[CPU_REG_RDX], ==, 42);
  g_assert_cmphex (f.s->regs[CPU_REG_RBX] & 0xff, ==, 0x03); /* 0x81 rcl 1 with CF=1 */
  g_assert_cmphex (f.s->regs[CPU_REG_RAX] & 0xffff, ==, 0x4abc);
  g_assert_true (f.s->rflags & 1); /* last bit shifted out of 0xabcd>>3 = 1 */
  fx_fini (&f);
}

static void
test_muldiv (void)
{
  Fx f;
  fx_init (&f);
  /* mov rax, -3; mov rcx, 7; imul rcx -> rdx:rax = -21; idiv: rax = -21/ -> */
  static const uint8_t c1[] = { 0x48, 0xc7, 0xc0, 0xfd, 0xff, 0xff, 0xff, 0x48, 0xc7, 0xc1,
                                0x07, 0, 0, 0, 0x48, 0xf7, 0xe9, 0x48, 0xf7, 0xf9 };
  load (&f, c1, sizeof c1);
  g_assert_cmpint (run_to (&f, CODE + 17, 10), ==, -1);
  g_assert_cmphex (f.s->regs[CPU_REG_RAX], ==, (uint64_t) -21);
  g_assert_cmphex (f.s->regs[CPU_REG_RDX], ==, ~0ull);
  g_assert_cmpint (run_to (&f, CODE + sizeof c1, 10), ==, -1);
  g_assert_cmphex (f.s->regs[CPU_REG_RAX], ==, (uint64_t) -3);
  g_assert_cmphex (f.s->regs[CPU_REG_RDX], ==, 0);

  /* div by zero: #DE with RIP at the instruction */
  static const uint8_t c2[] = { 0x31, 0xc9, 0xf7, 0xf1 };
  load (&f, c2, sizeof c2);
  g_assert_cmpint (run_to (&f, CODE + sizeof c2, 10), ==, 0);
  g_assert_cmphex (f.s->rip, ==, CODE + 2);

  /* quotient overflow: edx:eax = 0x100000000 / 1 */
  static const uint8_t c3[] = { 0xba, 1, 0, 0, 0, 0x31, 0xc0, 0xb9, 1, 0, 0, 0, 0xf7, 0xf1 };
  load (&f, c3, sizeof c3);
  g_assert_cmpint (run_to (&f, CODE + sizeof c3, 10), ==, 0);
  fx_fini (&f);
}

static void
test_stack_calls (void)
{
  Fx f;
  fx_init (&f);
  uint64_t sp = 0x200000;
  f.s->regs[CPU_REG_RSP] = sp;
  /* call +2; jmp end(+3); push 0x11; pop rax; ret ... */
  static const uint8_t c1[] = {
    0xe8, 0x02, 0x00, 0x00, 0x00, /* call L */
    0xeb, 0x04,                   /* jmp end */
    0x6a, 0x11,                   /* L: push 0x11 */
    0x58,                         /* pop rax */
    0xc3,                         /* ret */
    0x90,                         /* end */
  };
  load (&f, c1, sizeof c1);
  g_assert_cmpint (run_to (&f, CODE + 11, 20), ==, -1);
  g_assert_cmphex (f.s->regs[CPU_REG_RAX], ==, 0x11);
  g_assert_cmphex (f.s->regs[CPU_REG_RSP], ==, sp);
  fx_fini (&f);
}

static void
test_string_ops (void)
{
  Fx f;
  fx_init (&f);
  for (int i = 0; i < 8192; i++)
    f.m[0x10000 + i] = i * 7;
  /* rep movsb 8192 bytes across pages, then repe cmpsb finds no difference */
  static const uint8_t c1[] = { 0xf3, 0xa4, 0x48, 0xc7, 0xc6, 0, 0, 1, 0, 0x48, 0xc7, 0xc7,
                                0, 0, 2, 0, 0x48, 0xc7, 0xc1, 0, 0x20, 0, 0, 0xf3, 0xa6 };
  f.s->regs[CPU_REG_RSI] = 0x10000;
  f.s->regs[CPU_REG_RDI] = 0x20000;
  f.s->regs[CPU_REG_RCX] = 8192;
  load (&f, c1, sizeof c1);
  g_assert_cmpint (run_to (&f, CODE + 2, 100), ==, -1);
  g_assert_cmpint (memcmp (f.m + 0x10000, f.m + 0x20000, 8192), ==, 0);
  g_assert_cmphex (f.s->regs[CPU_REG_RCX], ==, 0);
  g_assert_cmphex (f.s->regs[CPU_REG_RDI], ==, 0x22000);
  f.m[0x20000 + 5000] ^= 1;
  g_assert_cmpint (run_to (&f, CODE + sizeof c1, 100), ==, -1);
  g_assert_cmphex (f.s->regs[CPU_REG_RSI], ==, 0x10000 + 5001);
  g_assert_false (f.s->rflags & 0x40);

  /* std; rep stosw backwards */
  static const uint8_t c2[] = { 0xfd, 0x66, 0xf3, 0xab, 0xfc };
  f.s->regs[CPU_REG_RDI] = 0x30010;
  f.s->regs[CPU_REG_RCX] = 4;
  f.s->regs[CPU_REG_RAX] = 0xbeef;
  load (&f, c2, sizeof c2);
  g_assert_cmpint (run_to (&f, CODE + sizeof c2, 100), ==, -1);
  g_assert_cmphex (f.s->regs[CPU_REG_RDI], ==, 0x30008);
  g_assert_cmphex (f.m[0x3000a], ==, 0xef);
  g_assert_cmphex (f.m[0x30011], ==, 0xbe);
  g_assert_cmphex (f.m[0x30009], ==, 0x00);
  fx_fini (&f);
}

static void
test_lock_cmpxchg (void)
{
  Fx f;
  fx_init (&f);
  uint64_t *p = (uint64_t *) (f.m + 0x40000);
  *p = 5;
  /* lock cmpxchg [rbx], rcx with rax=5 → stores 9; again fails, loads rax */
  static const uint8_t c1[] = { 0xf0, 0x48, 0x0f, 0xb1, 0x0b, 0xf0, 0x48, 0x0f, 0xb1, 0x0b };
  f.s->regs[CPU_REG_RBX] = 0x40000;
  f.s->regs[CPU_REG_RAX] = 5;
  f.s->regs[CPU_REG_RCX] = 9;
  load (&f, c1, sizeof c1);
  g_assert_cmpint (run_to (&f, CODE + 5, 10), ==, -1);
  g_assert_cmpuint (*p, ==, 9);
  g_assert_true (f.s->rflags & 0x40);
  g_assert_cmpint (run_to (&f, CODE + 10, 10), ==, -1);
  g_assert_cmpuint (f.s->regs[CPU_REG_RAX], ==, 9);
  g_assert_false (f.s->rflags & 0x40);
  /* LOCK on a register destination is #UD */
  static const uint8_t c2[] = { 0xf0, 0x01, 0xc0 };
  load (&f, c2, sizeof c2);
  g_assert_cmpint (run_to (&f, CODE + 3, 10), ==, 6);
  /* cmpxchg16b on a misaligned address: #GP */
  static const uint8_t c3[] = { 0x48, 0x0f, 0xc7, 0x0b };
  f.s->regs[CPU_REG_RBX] = 0x40008;
  load (&f, c3, sizeof c3);
  g_assert_cmpint (run_to (&f, CODE + 4, 10), ==, 13);
  fx_fini (&f);
}

static void
test_invalid (void)
{
  Fx f;
  fx_init (&f);
  /* UD2, an invalid-in-64-bit opcode (PUSH ES), and a 16-byte instruction */
  static const uint8_t ud2[] = { 0x0f, 0x0b };
  load (&f, ud2, sizeof ud2);
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, 6);
  g_assert_cmphex (f.s->rip, ==, CODE);
  static const uint8_t pushes[] = { 0x06 };
  load (&f, pushes, 1);
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, 6);
  uint8_t longi[16];
  memset (longi, 0x66, 15);
  longi[15] = 0x90;
  load (&f, longi, 16);
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, 13);
  /* 15 bytes is fine */
  load (&f, longi + 1, 15);
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, -1);
  g_assert_cmphex (f.s->rip, ==, CODE + 15);
  fx_fini (&f);
}

/* Replaces the identity map's first 2 MiB with 4 KiB pages so single pages
 * can be changed. Returns a pointer to the page table. */
static uint64_t *
split_first_2m (Fx *f)
{
  uint64_t pt = MEM - 0x10000;
  uint64_t *pd = (uint64_t *) (f->m + pt + 0x2000);
  uint64_t ptab = 0x300000;
  uint64_t *t = (uint64_t *) (f->m + ptab);
  for (int i = 0; i < 512; i++)
    t[i] = ((uint64_t) i << 12) | 7;
  pd[0] = ptab | 7;
  return t;
}

static void
test_paging (void)
{
  Fx f;
  fx_init (&f);
  uint64_t *t = split_first_2m (&f);
  t[0x50] = 0;                        /* 0x50000 not present */
  t[0x51] = (0x51000) | 5;            /* read-only, user */
  t[0x52] = (0x52000) | 3;            /* supervisor only */
  t[0x53] = (0x53000) | 7 | (1ull << 63); /* NX */
  /* mov rax, [0x50008] */
  static const uint8_t rd[] = { 0x48, 0x8b, 0x04, 0x25, 0x08, 0x00, 0x05, 0x00 };
  load (&f, rd, sizeof rd);
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, 14);
  g_assert_cmphex (f.s->cr2, ==, 0x50008);
  g_assert_cmphex (cpu_sandbox_error_code (f.sb), ==, 0);
  /* write to the read-only page with CR0.WP: error P|W */
  static const uint8_t wr[] = { 0xc6, 0x04, 0x25, 0x10, 0x10, 0x05, 0x00, 0x01 };
  load (&f, wr, sizeof wr);
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, 14);
  g_assert_cmphex (f.s->cr2, ==, 0x51010);
  g_assert_cmphex (cpu_sandbox_error_code (f.sb), ==, 3);
  /* fetch from the NX page: error P|I */
  f.s->rip = 0x53000;
  f.m[0x53000] = 0x90;
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, 14);
  g_assert_cmphex (cpu_sandbox_error_code (f.sb), ==, 0x11);
  /* accessed and dirty bits are set by a write */
  t[0x60] = 0x60000 | 3;
  static const uint8_t wr2[] = { 0xc6, 0x04, 0x25, 0x00, 0x00, 0x06, 0x00, 0x01 };
  load (&f, wr2, sizeof wr2);
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, -1);
  g_assert_cmphex (t[0x60] & 0x60, ==, 0x60);
  /* a 1 GiB-aligned non-canonical access is #GP(0) */
  static const uint8_t nc[] = { 0x48, 0x8b, 0x00 };
  f.s->regs[CPU_REG_RAX] = 0x0000800000000000ull;
  load (&f, nc, sizeof nc);
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, 13);
  fx_fini (&f);
}

static void
test_cpuid_msr (void)
{
  Fx f;
  fx_init (&f);
  static const uint8_t c1[] = { 0x0f, 0xa2 };
  f.s->regs[CPU_REG_RAX] = 0x80000001;
  load (&f, c1, sizeof c1);
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, -1);
  g_assert_true (f.s->regs[CPU_REG_RDX] & (1u << 29)); /* LM */
  g_assert_true (f.s->regs[CPU_REG_RDX] & (1u << 20)); /* NX */
  f.s->regs[CPU_REG_RAX] = 1;
  load (&f, c1, sizeof c1);
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, -1);
  g_assert_true (f.s->regs[CPU_REG_RDX] & (1u << 26)); /* SSE2 */
  g_assert_false (f.s->regs[CPU_REG_RCX] & (1u << 26)); /* no XSAVE */
  g_assert_false (f.s->regs[CPU_REG_RCX] & (1u << 28)); /* no AVX */
  /* wrmsr LSTAR then rdmsr it back; unknown MSR is #GP */
  static const uint8_t c2[] = { 0x0f, 0x30, 0x31, 0xc0, 0x31, 0xd2, 0x0f, 0x32 };
  f.s->regs[CPU_REG_RCX] = 0xc0000082;
  f.s->regs[CPU_REG_RAX] = 0x12345678;
  f.s->regs[CPU_REG_RDX] = 0xffffffff;
  f.s->regs[CPU_REG_RDX] = 0xffff8000;
  load (&f, c2, sizeof c2);
  g_assert_cmpint (run_to (&f, CODE + sizeof c2, 10), ==, -1);
  g_assert_cmphex (f.s->lstar, ==, 0xffff800012345678ull);
  g_assert_cmphex (f.s->regs[CPU_REG_RAX], ==, 0x12345678);
  g_assert_cmphex (f.s->regs[CPU_REG_RDX], ==, 0xffff8000);
  f.s->regs[CPU_REG_RCX] = 0x12345;
  load (&f, c2 + 6, 2);
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, 13);
  fx_fini (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cpu/exec/alu-flags", test_alu_flags);
  g_test_add_func ("/cpu/exec/muldiv", test_muldiv);
  g_test_add_func ("/cpu/exec/stack-calls", test_stack_calls);
  g_test_add_func ("/cpu/exec/string-ops", test_string_ops);
  g_test_add_func ("/cpu/exec/lock-cmpxchg", test_lock_cmpxchg);
  g_test_add_func ("/cpu/exec/invalid", test_invalid);
  g_test_add_func ("/cpu/exec/paging", test_paging);
  g_test_add_func ("/cpu/exec/cpuid-msr", test_cpuid_msr);
  return g_test_run ();
}
