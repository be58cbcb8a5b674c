/* The test sandbox (cpu-sandbox.h): one SoftCpu over flat RAM, stepped one
 * instruction at a time on the normal execution path, with exceptions
 * reported instead of delivered. */
#include "vmm-core/cpu/cpu-sandbox.h"
#include "vmm-core/cpu/cpu-internal.h"
#include "vmm-core/cpu/simd.h"

#include <string.h>
#include <sys/mman.h>

struct CpuSandbox {
  SoftCpu cpu;
  SoftMem mem;
  uint8_t *ram;
  size_t size;
};

static void
flat (CpuSegment *s, uint16_t sel, bool code)
{
  *s = (CpuSegment){ .selector = sel, .limit = 0xffffffff, .type = code ? 0xb : 0x3, .s = 1,
                     .present = 1, .l = code, .db = !code, .g = 1 };
}

CpuSandbox *
cpu_sandbox_new (size_t mem_size)
{
  if (mem_size < (1u << 20))
    mem_size = 1u << 20;
  mem_size = (mem_size + 0x1fffff) & ~(size_t) 0x1fffff;
  CpuSandbox *sb = g_new0 (CpuSandbox, 1);
  sb->ram = mmap (NULL, mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  g_assert (sb->ram != MAP_FAILED);
  sb->size = mem_size;
  sb->mem.slots[0] = (MemSlot){ .gpa = 0, .size = mem_size, .host = sb->ram };
  sb->mem.nslots = 1;

  SoftCpu *c = &sb->cpu;
  c->mem = &sb->mem;
  c->sandbox = true;
  CpuState *s = &c->st;
  cpu_state_reset (s, 0, true);
  simd_reset (cpu_fx (c));

  /* Page tables in the last 64 KiB: PML4, PDPT, then page directories of
   * 2 MiB pages (one per GiB). */
  uint64_t pt = mem_size - 0x10000;
  uint64_t *pml4 = (uint64_t *) (sb->ram + pt);
  uint64_t *pdpt = (uint64_t *) (sb->ram + pt + 0x1000);
  pml4[0] = (pt + 0x1000) | 7;
  uint64_t npages = mem_size >> 21;
  for (uint64_t i = 0; i < npages && i < 512 * 14; i++)
    {
      uint64_t *pd = (uint64_t *) (sb->ram + pt + 0x2000 + (i / 512) * 0x1000);
      if (i % 512 == 0)
        pdpt[i / 512] = (pt + 0x2000 + (i / 512) * 0x1000) | 7;
      pd[i % 512] = (i << 21) | 0x87;
    }
  s->cr3 = pt;
  s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
  s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
  s->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
  for (int i = 0; i < CPU_NR_SEGS; i++)
    flat (&s->seg[i], 0x10, false);
  flat (&s->seg[CPU_SEG_CS], 0x08, true);
  s->tr = (CpuSegment){ .limit = 0x67, .type = 0xb, .present = 1 };
  s->rflags = 2;
  s->rip = 0;
  s->regs[CPU_REG_RSP] = pt;
  cpu_init (c);
  return sb;
}

void
cpu_sandbox_free (CpuSandbox *sb)
{
  if (!sb)
    return;
  munmap (sb->ram, sb->size);
  g_free (sb->cpu.dcache);
  g_free (sb);
}

uint8_t *
cpu_sandbox_mem (CpuSandbox *sb)
{
  return sb->ram;
}

CpuState *
cpu_sandbox_state (CpuSandbox *sb)
{
  return &sb->cpu.st;
}

int
cpu_sandbox_step (CpuSandbox *sb)
{
  SoftCpu *c = &sb->cpu;
  mmu_flush (c, true);
  cpu_update_mode (c);
  c->exc_vec = -1;
  c->exc_err = 0;
  c->exc_has_err = false;
  SoftStop r = cpu_run (c, 1);
  if (r == SOFT_STOP_EXCEPTION)
    return c->exc_vec;
  return -1;
}

uint32_t
cpu_sandbox_error_code (CpuSandbox *sb)
{
  return sb->cpu.exc_has_err ? sb->cpu.exc_err : 0;
}

/* Decoder check for tests: length of the instruction at RIP, or -(vector+1). */
int
cpu_sandbox_insn_length (CpuSandbox *sb)
{
  SoftCpu *c = &sb->cpu;
  mmu_flush (c, true);
  cpu_update_mode (c);
  DecodedInsn d;
  c->jb_valid = true;
  if (setjmp (c->jb) != 0)
    {
      c->jb_valid = false;
      return -(c->exc_vec + 1);
    }
  cpu_decode (c, &d);
  c->jb_valid = false;
  return d.len;
}

/* For system tests: run up to `max` instructions with exceptions delivered
 * through the guest's IDT (as in a booted guest) until RIP == stop_rip.
 * Returns 0 at stop_rip, 1 on HLT, 2 on triple fault (shutdown), 3 when
 * max ran out. */
int
cpu_sandbox_run_system (CpuSandbox *sb, unsigned max, uint64_t stop_rip)
{
  SoftCpu *c = &sb->cpu;
  c->sandbox = false;
  mmu_flush (c, true);
  cpu_update_mode (c);
  int ret = 3;
  for (unsigned i = 0; i < max; i++)
    {
      if (c->st.rip == stop_rip)
        {
          ret = 0;
          break;
        }
      SoftStop r = cpu_run (c, 1);
      if (r == SOFT_STOP_HLT)
        {
          ret = 1;
          break;
        }
      if (r == SOFT_STOP_SHUTDOWN)
        {
          ret = 2;
          break;
        }
    }
  c->sandbox = true;
  return ret;
}
