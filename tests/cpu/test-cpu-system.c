/* System behaviour with delivery through the IDT: privilege change with a
 * stack switch from the TSS, IST, IRETQ back to user mode, #PF error codes
 * and CR2 as the handler sees them, double fault, triple fault, SYSCALL/
 * SYSRET, and privileged instructions at CPL 3. */
#include <glib.h>
#include <string.h>

#include "vmm-core/cpu/cpu-sandbox.h"
#include "vmm-core/cpu/cpu-internal.h"

#define MEM (4u << 20)
#define GDT 0x5000
#define TSS 0x6000
#define IDT 0x7000
#define STUBS 0x8000  /* vector v: HLT at STUBS + v * 8 */
#define IRETQ_H 0x8800
#define SYSRET_H 0x8a00
#define USER_CODE 0x60000
#define RSP0 0x80000
#define IST1 0x90000

typedef struct {
  CpuSandbox *sb;
  CpuState *s;
  uint8_t *m;
} Fx;

static void
put64 (Fx *f, uint64_t a, uint64_t v)
{
  memcpy (f->m + a, &v, 8);
}

static uint64_t
get64 (Fx *f, uint64_t a)
{
  uint64_t v;
  memcpy (&v, f->m + a, 8);
  return v;
}

static void
set_gate (Fx *f, unsigned vec, uint64_t target, unsigned dpl, unsigned ist, unsigned type)
{
  uint64_t lo = (target & 0xffff) | (0x08ull << 16) | ((uint64_t) ist << 32)
                | ((uint64_t) type << 40) | ((uint64_t) dpl << 45) | (1ull << 47)
                | ((target >> 16) & 0xffff) << 48;
  put64 (f, IDT + vec * 16, lo);
  put64 (f, IDT + vec * 16 + 8, target >> 32);
}

static void
seg (CpuSegment *s, uint16_t sel, uint64_t desc)
{
  desc_to_seg (s, sel, desc, 0);
}

static void
fx_init (Fx *f)
{
  f->sb = cpu_sandbox_new (MEM);
  f->s = cpu_sandbox_state (f->sb);
  f->m = cpu_sandbox_mem (f->sb);
  static const uint64_t gdt[] = { 0, 0x00af9b000000ffffull, 0x00cf93000000ffffull, 0,
                                  0x00cffb000000ffffull, 0x00cff3000000ffffull,
                                  0x00affb000000ffffull };
  memcpy (f->m + GDT, gdt, sizeof gdt);
  /* 64-bit TSS descriptor at 0x38 */
  uint64_t tss_lo = 0x67 | ((uint64_t) (TSS & 0xffffff) << 16) | (0x89ull << 40);
  put64 (f, GDT + 0x38, tss_lo);
  put64 (f, GDT + 0x40, 0);
  put64 (f, TSS + 4, RSP0);
  put64 (f, TSS + 36, IST1);
  for (unsigned v = 0; v < 256; v++)
    {
      f->m[STUBS + v * 8] = 0xf4;
      set_gate (f, v, STUBS + v * 8, 0, 0, 0xe);
    }
  f->m[IRETQ_H] = 0x48;
  f->m[IRETQ_H + 1] = 0xcf;
  memcpy (f->m + SYSRET_H, "\x48\x0f\x07", 3);
  CpuState *s = f->s;
  s->gdt.base = GDT;
  s->gdt.limit = 0x47;
  s->idt.base = IDT;
  s->idt.limit = 0xfff;
  seg (&s->tr, 0x38, tss_lo);
  s->tr.type = 0xb;
  s->regs[CPU_REG_RSP] = 0x50000;
}

static void
enter_user (Fx *f, const uint8_t *code, size_t len)
{
  memcpy (f->m + USER_CODE, code, len);
  seg (&f->s->seg[CPU_SEG_CS], 0x33, 0x00affb000000ffffull);
  seg (&f->s->seg[CPU_SEG_SS], 0x2b, 0x00cff3000000ffffull);
  f->s->rip = USER_CODE;
  f->s->regs[CPU_REG_RSP] = 0x70000;
  f->s->rflags = 0x202;
}

static unsigned
halted_vector (Fx *f)
{
  return (f->s->rip - 1 - STUBS) / 8;
}

static void
test_user_to_kernel (void)
{
  Fx f;
  fx_init (&f);
  set_gate (&f, 0x80, IRETQ_H, 3, 0, 0xe);
  static const uint8_t code[] = { 0xcd, 0x80, 0x90, 0xf4 };
  enter_user (&f, code, sizeof code);
  /* Stop inside the handler: ring 0 on the TSS stack with a full frame. */
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, IRETQ_H), ==, 0);
  g_assert_cmphex (f.s->seg[CPU_SEG_CS].selector, ==, 0x08);
  g_assert_cmphex (f.s->regs[CPU_REG_RSP], ==, RSP0 - 40);
  g_assert_cmphex (get64 (&f, RSP0 - 40), ==, USER_CODE + 2);     /* RIP */
  g_assert_cmphex (get64 (&f, RSP0 - 32), ==, 0x33);               /* CS */
  g_assert_cmphex (get64 (&f, RSP0 - 24) & 0x200, ==, 0x200);      /* RFLAGS.IF */
  g_assert_cmphex (get64 (&f, RSP0 - 16), ==, 0x70000);            /* RSP */
  g_assert_cmphex (get64 (&f, RSP0 - 8), ==, 0x2b);                /* SS */
  g_assert_false (f.s->rflags & 0x200);                            /* interrupt gate */
  /* IRETQ back to user mode; then HLT at CPL 3 is #GP(0). */
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, ~0ull), ==, 1);
  g_assert_cmpuint (halted_vector (&f), ==, 13);
  g_assert_cmphex (get64 (&f, RSP0 - 48), ==, 0);                  /* error code */
  g_assert_cmphex (get64 (&f, RSP0 - 40), ==, USER_CODE + 3);      /* faulting HLT */
  /* A DPL-0 gate cannot be reached by INT n from CPL 3: #GP(vec*8+2). */
  cpu_sandbox_free (f.sb);
  fx_init (&f);
  static const uint8_t code2[] = { 0xcd, 0x81 };
  enter_user (&f, code2, sizeof code2);
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, ~0ull), ==, 1);
  g_assert_cmpuint (halted_vector (&f), ==, 13);
  g_assert_cmphex (get64 (&f, RSP0 - 48), ==, 0x81 * 8 + 2);
  cpu_sandbox_free (f.sb);
}

static void
test_ist (void)
{
  Fx f;
  fx_init (&f);
  set_gate (&f, 0x40, STUBS + 0x40 * 8, 0, 1, 0xe);
  static const uint8_t code[] = { 0xcd, 0x40 };
  memcpy (f.m + 0x1000, code, sizeof code);
  f.s->rip = 0x1000;
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, ~0ull), ==, 1);
  g_assert_cmpuint (halted_vector (&f), ==, 0x40);
  g_assert_cmphex (f.s->regs[CPU_REG_RSP], ==, IST1 - 40);
  g_assert_cmphex (get64 (&f, IST1 - 16), ==, 0x50000);
  cpu_sandbox_free (f.sb);
}

static void
test_page_fault_and_double_fault (void)
{
  Fx f;
  fx_init (&f);
  /* Write to a not-present page at 3 MiB+: make PD entry 1 not present. */
  uint64_t pd = MEM - 0x10000 + 0x2000;
  put64 (&f, pd + 8, 0);
  static const uint8_t code[] = { 0xc6, 0x04, 0x25, 0x34, 0x12, 0x20, 0x00, 0x01 };
  memcpy (f.m + 0x1000, code, sizeof code);
  f.s->rip = 0x1000;
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, ~0ull), ==, 1);
  g_assert_cmpuint (halted_vector (&f), ==, 14);
  g_assert_cmphex (f.s->cr2, ==, 0x201234);
  g_assert_cmphex (get64 (&f, 0x50000 - 48), ==, 2); /* W, not present, supervisor */
  g_assert_cmphex (get64 (&f, 0x50000 - 40), ==, 0x1000);

  /* The #PF gate not present: #NP during #PF delivery becomes #DF(0). */
  uint64_t lo = get64 (&f, IDT + 14 * 16);
  put64 (&f, IDT + 14 * 16, lo & ~(1ull << 47));
  f.s->rip = 0x1000;
  f.s->regs[CPU_REG_RSP] = 0x50000;
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, ~0ull), ==, 1);
  g_assert_cmpuint (halted_vector (&f), ==, 8);
  g_assert_cmphex (get64 (&f, 0x50000 - 48), ==, 0);

  /* And the #DF gate not present too: triple fault, the CPU shuts down. */
  lo = get64 (&f, IDT + 8 * 16);
  put64 (&f, IDT + 8 * 16, lo & ~(1ull << 47));
  f.s->rip = 0x1000;
  f.s->regs[CPU_REG_RSP] = 0x50000;
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, ~0ull), ==, 2);
  cpu_sandbox_free (f.sb);
}

static void
test_divide_error_in_user (void)
{
  Fx f;
  fx_init (&f);
  static const uint8_t code[] = { 0x31, 0xc9, 0xf7, 0xf1 };
  enter_user (&f, code, sizeof code);
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, ~0ull), ==, 1);
  g_assert_cmpuint (halted_vector (&f), ==, 0);
  g_assert_cmphex (get64 (&f, RSP0 - 40), ==, USER_CODE + 2); /* no error code */
  cpu_sandbox_free (f.sb);
}

static void
test_syscall_sysret (void)
{
  Fx f;
  fx_init (&f);
  f.s->star = (0x23ull << 48) | (0x08ull << 32);
  f.s->lstar = SYSRET_H;
  f.s->sfmask = 0x200;
  static const uint8_t code[] = { 0x0f, 0x05, 0x90, 0x90 };
  enter_user (&f, code, sizeof code);
  f.s->rflags = 0x202 | 0x1; /* IF, CF */
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, SYSRET_H), ==, 0);
  g_assert_cmphex (f.s->seg[CPU_SEG_CS].selector, ==, 0x08);
  g_assert_cmphex (f.s->seg[CPU_SEG_SS].selector, ==, 0x10);
  g_assert_cmphex (f.s->regs[CPU_REG_RCX], ==, USER_CODE + 2);
  g_assert_cmphex (f.s->regs[CPU_REG_R11], ==, 0x203);
  g_assert_false (f.s->rflags & 0x200); /* SFMASK cleared IF */
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, USER_CODE + 2), ==, 0);
  g_assert_cmphex (f.s->seg[CPU_SEG_CS].selector, ==, 0x33);
  g_assert_cmphex (f.s->seg[CPU_SEG_SS].selector, ==, 0x2b);
  g_assert_cmphex (f.s->rflags & 0x201, ==, 0x201);
  /* SWAPGS is privileged */
  static const uint8_t sw[] = { 0x0f, 0x01, 0xf8 };
  memcpy (f.m + USER_CODE + 2, sw, 3);
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, ~0ull), ==, 1);
  g_assert_cmpuint (halted_vector (&f), ==, 13);
  cpu_sandbox_free (f.sb);
}

static void
test_user_page_protection (void)
{
  Fx f;
  fx_init (&f);
  /* Clear U in the PDE of the second 2 MiB: a user read there is #PF(P|U). */
  uint64_t pd = MEM - 0x10000 + 0x2000;
  put64 (&f, pd + 8, get64 (&f, pd + 8) & ~4ull);
  static const uint8_t code[] = { 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00 };
  enter_user (&f, code, sizeof code);
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 10, ~0ull), ==, 1);
  g_assert_cmpuint (halted_vector (&f), ==, 14);
  g_assert_cmphex (get64 (&f, RSP0 - 48), ==, 5);
  g_assert_cmphex (f.s->cr2, ==, 0x200000);
  cpu_sandbox_free (f.sb);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cpu/system/user-to-kernel", test_user_to_kernel);
  g_test_add_func ("/cpu/system/ist", test_ist);
  g_test_add_func ("/cpu/system/page-fault-double-triple", test_page_fault_and_double_fault);
  g_test_add_func ("/cpu/system/divide-error-user", test_divide_error_in_user);
  g_test_add_func ("/cpu/system/syscall-sysret", test_syscall_sysret);
  g_test_add_func ("/cpu/system/user-page-protection", test_user_page_protection);
  return g_test_run ();
}
