/* Legacy paging modes on the sandbox's execution path: 32-bit paging (4 KiB
 * and 4 MiB PSE pages) and PAE paging (with NX) in 32-bit protected mode,
 * A/D bit updates, #PF error codes and CR2, INVLPG vs. a stale TLB entry. */
#include <glib.h>
#include <string.h>

#include "vmm-core/cpu/cpu-sandbox.h"
#include "vmm-core/cpu/cpu-internal.h"

#define MEM (8u << 20)

typedef struct {
  CpuSandbox *sb;
  CpuState *s;
  uint8_t *m;
} Fx;

static void
put32 (Fx *f, uint64_t a, uint32_t v)
{
  memcpy (f->m + a, &v, 4);
}

static uint32_t
get32 (Fx *f, uint64_t a)
{
  uint32_t v;
  memcpy (&v, f->m + a, 4);
  return v;
}

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

/* 32-bit flat protected mode, paging per cr4/cr3 the caller sets. */
static void
fx_init32 (Fx *f)
{
  f->sb = cpu_sandbox_new (MEM);
  f->s = cpu_sandbox_state (f->sb);
  f->m = cpu_sandbox_mem (f->sb);
  CpuState *s = f->s;
  s->efer = 0;
  for (int i = 0; i < CPU_NR_SEGS; i++)
    desc_to_seg (&s->seg[i], 0x10, 0x00cf93000000ffffull, 0);
  desc_to_seg (&s->seg[CPU_SEG_CS], 0x08, 0x00cf9b000000ffffull, 0);
  s->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  s->regs[CPU_REG_RSP] = 0x7000;
  s->rip = 0x1000;
}

static int
step_code (Fx *f, const uint8_t *code, size_t len)
{
  memcpy (f->m + 0x1000, code, len);
  f->s->rip = 0x1000;
  return cpu_sandbox_step (f->sb);
}

static void
test_paging32 (void)
{
  Fx f;
  fx_init32 (&f);
  /* Page directory at 0x100000: PDE0 -> page table at 0x101000 (identity,
   * 4 KiB pages); PDE1 = 4 MiB PSE page mapping 0x400000 -> 0x400000. */
  uint64_t pd = 0x100000, pt = 0x101000;
  for (unsigned i = 0; i < 1024; i++)
    put32 (&f, pt + i * 4, (i << 12) | 3);
  put32 (&f, pd, pt | 3);
  put32 (&f, pd + 4, 0x400000 | 0x83);
  f.s->cr3 = pd;
  f.s->cr4 = CR4_PSE;
  /* mov eax, [0x3000] through a 4 KiB page; A set on PDE and PTE, not D */
  put32 (&f, 0x3000, 0xcafef00d);
  static const uint8_t rd[] = { 0xa1, 0x00, 0x30, 0x00, 0x00 };
  g_assert_cmpint (step_code (&f, rd, sizeof rd), ==, -1);
  g_assert_cmphex (f.s->regs[CPU_REG_RAX], ==, 0xcafef00d);
  g_assert_cmphex (get32 (&f, pd) & 0x20, ==, 0x20);
  g_assert_cmphex (get32 (&f, pt + 3 * 4) & 0x60, ==, 0x20);
  /* write through the 4 MiB page sets D in the PDE */
  static const uint8_t wr[] = { 0xc7, 0x05, 0x10, 0x00, 0x50, 0x00, 0x44, 0x33, 0x22, 0x11 };
  g_assert_cmpint (step_code (&f, wr, sizeof wr), ==, -1);
  g_assert_cmphex (get32 (&f, 0x500010), ==, 0x11223344);
  g_assert_cmphex (get32 (&f, pd + 4) & 0x60, ==, 0x60);
  /* not-present PTE: #PF error 2 (write), CR2 */
  put32 (&f, pt + 5 * 4, 0);
  static const uint8_t wr2[] = { 0xc6, 0x05, 0x08, 0x50, 0x00, 0x00, 0x01 };
  g_assert_cmpint (step_code (&f, wr2, sizeof wr2), ==, 14);
  g_assert_cmphex (f.s->cr2, ==, 0x5008);
  g_assert_cmphex (cpu_sandbox_error_code (f.sb), ==, 2);
  /* read-only PTE with CR0.WP: error 3 */
  put32 (&f, pt + 6 * 4, (6 << 12) | 1);
  static const uint8_t wr3[] = { 0xc6, 0x05, 0x00, 0x60, 0x00, 0x00, 0x01 };
  g_assert_cmpint (step_code (&f, wr3, sizeof wr3), ==, 14);
  g_assert_cmphex (cpu_sandbox_error_code (f.sb), ==, 3);
  /* ... which CR0.WP = 0 lets the supervisor write */
  f.s->cr0 &= ~(uint64_t) CR0_WP;
  g_assert_cmpint (step_code (&f, wr3, sizeof wr3), ==, -1);
  cpu_sandbox_free (f.sb);
}

static void
test_pae_nx (void)
{
  Fx f;
  fx_init32 (&f);
  /* PDPT at 0x100000 (4 entries), PD at 0x101000 with 2 MiB pages. */
  uint64_t pdpt = 0x100000, pd = 0x101000;
  put64 (&f, pdpt, pd | 1);
  for (unsigned i = 0; i < 4; i++)
    put64 (&f, pd + i * 8, ((uint64_t) i << 21) | 0x83);
  put64 (&f, pd + 3 * 8, (3ull << 21) | 0x83 | (1ull << 63)); /* NX at 6 MiB */
  f.s->cr3 = pdpt;
  f.s->cr4 = CR4_PAE;
  f.s->efer = EFER_NXE;
  static const uint8_t nop[] = { 0x90 };
  g_assert_cmpint (step_code (&f, nop, 1), ==, -1);
  g_assert_cmphex (f.s->rip, ==, 0x1001);
  /* fetch from the NX page: error P|I (0x11) */
  f.m[0x600000] = 0x90;
  f.s->rip = 0x600000;
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, 14);
  g_assert_cmphex (cpu_sandbox_error_code (f.sb), ==, 0x11);
  g_assert_cmphex (f.s->cr2, ==, 0x600000);
  /* NX bit with EFER.NXE clear is a reserved bit: error P|RSVD|I? (no I without NXE) */
  f.s->efer = 0;
  f.s->rip = 0x600000;
  g_assert_cmpint (cpu_sandbox_step (f.sb), ==, 14);
  g_assert_cmphex (cpu_sandbox_error_code (f.sb), ==, 0x9);
  /* reading through PAE works and sets A */
  put64 (&f, pd + 3 * 8, (3ull << 21) | 0x83);
  put32 (&f, 0x600100, 0x5a5a5a5a);
  static const uint8_t rd[] = { 0xa1, 0x00, 0x01, 0x60, 0x00 };
  g_assert_cmpint (step_code (&f, rd, sizeof rd), ==, -1);
  g_assert_cmphex (f.s->regs[CPU_REG_RAX] & 0xffffffff, ==, 0x5a5a5a5a);
  g_assert_cmphex (get64 (&f, pd + 3 * 8) & 0x20, ==, 0x20);
  cpu_sandbox_free (f.sb);
}

static void
test_invlpg (void)
{
  Fx f;
  fx_init32 (&f);
  uint64_t pd = 0x100000, pt = 0x101000;
  for (unsigned i = 0; i < 1024; i++)
    put32 (&f, pt + i * 4, (i << 12) | 3);
  put32 (&f, pd, pt | 3);
  f.s->cr3 = pd;
  f.s->cr4 = 0;
  put32 (&f, 0x5000, 0x11111111);
  put32 (&f, 0x6000, 0x22222222);
  /* Run a small program with cpu_sandbox_run_system (no TLB flush between
   * instructions): read [0x5000], remap 0x5000 -> 0x6000 without INVLPG
   * (stale TLB still reads 0x11111111), INVLPG, read again. */
  static const uint8_t prog[] = {
    0x8b, 0x1d, 0x00, 0x50, 0x00, 0x00,                         /* mov ebx, [0x5000] */
    0xc7, 0x05, 0x14, 0x10, 0x10, 0x00, 0x03, 0x60, 0x00, 0x00, /* mov [pt+5*4], 0x6003 */
    0x8b, 0x0d, 0x00, 0x50, 0x00, 0x00,                         /* mov ecx, [0x5000] */
    0x0f, 0x01, 0x3d, 0x00, 0x50, 0x00, 0x00,                   /* invlpg [0x5000] */
    0x8b, 0x15, 0x00, 0x50, 0x00, 0x00,                         /* mov edx, [0x5000] */
    0xf4,
  };
  memcpy (f.m + 0x1000, prog, sizeof prog);
  f.s->rip = 0x1000;
  g_assert_cmpint (cpu_sandbox_run_system (f.sb, 20, ~0ull), ==, 1);
  g_assert_cmphex (f.s->regs[CPU_REG_RBX] & 0xffffffff, ==, 0x11111111);
  g_assert_cmphex (f.s->regs[CPU_REG_RCX] & 0xffffffff, ==, 0x11111111);
  g_assert_cmphex (f.s->regs[CPU_REG_RDX] & 0xffffffff, ==, 0x22222222);
  cpu_sandbox_free (f.sb);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cpu/paging/32-bit-pse", test_paging32);
  g_test_add_func ("/cpu/paging/pae-nx", test_pae_nx);
  g_test_add_func ("/cpu/paging/invlpg", test_invlpg);
  return g_test_run ();
}
