#include "vmm-core/boot-cpu.h"

#include <string.h>

/* Descriptor: base 0, limit 0xfffff pages, P, S, the given type and flags. */
static uint64_t
flat_descriptor (uint8_t type, bool l, bool db)
{
  uint64_t d = 0xffffull;                      /* limit 15:0 */
  d |= (uint64_t) (type | 0x10 | 0x80) << 40;  /* type, S, P (DPL 0) */
  d |= 0xfull << 48;                           /* limit 19:16 */
  d |= (uint64_t) ((l ? 0x2 : 0) | (db ? 0x4 : 0) | 0x8) << 52; /* L, D/B, G */
  return d;
}

static CpuSegment
flat_segment (uint16_t selector, uint8_t type, bool l, bool db)
{
  return (CpuSegment){ .base = 0, .limit = 0xffffffff, .selector = selector, .type = type,
                       .s = 1, .dpl = 0, .present = 1, .l = l, .db = db, .g = 1 };
}

static bool
write_gdt (GuestRam *ram, CpuState *s)
{
  const uint64_t gdt[4] = { 0, flat_descriptor (0xb, false, true),
                            flat_descriptor (0xb, true, false), flat_descriptor (0x3, false, true) };
  if (!guest_ram_write (ram, BOOT_GDT_ADDR, gdt, sizeof gdt))
    return false;
  s->gdt = (CpuDtable){ .base = BOOT_GDT_ADDR, .limit = sizeof gdt - 1 };
  s->idt = (CpuDtable){ .base = 0, .limit = 0 };
  /* A busy 64-bit TSS type keeps VM entry happy; the guest loads its own. */
  s->tr = (CpuSegment){ .limit = 0x67, .type = 0xb, .present = 1 };
  s->ldt = (CpuSegment){ .limit = 0xffff, .type = 0x2, .present = 1, .unusable = 1 };
  return true;
}

static void
data_segments (CpuState *s)
{
  for (int i = 0; i < CPU_NR_SEGS; i++)
    if (i != CPU_SEG_CS)
      s->seg[i] = flat_segment (BOOT_DS, 0x3, false, true);
}

bool
boot_cpu_long_mode (GuestRam *ram, CpuState *s, uint64_t entry)
{
  uint64_t pml4 = BOOT_PML4_ADDR, pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
  uint8_t *tables = guest_ram_ptr (ram, pml4, 6 * 0x1000);
  if (!tables || !write_gdt (ram, s))
    return false;
  memset (tables, 0, 6 * 0x1000);
  uint64_t *p4 = (uint64_t *) tables, *p3 = (uint64_t *) (tables + 0x1000);
  uint64_t *p2 = (uint64_t *) (tables + 0x2000);
  p4[0] = pdpt | 0x3; /* present, writable */
  for (unsigned i = 0; i < 4; i++)
    p3[i] = (pd + i * 0x1000) | 0x3;
  for (unsigned i = 0; i < 4 * 512; i++)
    p2[i] = ((uint64_t) i << 21) | 0x83; /* 2 MiB page, present, writable */

  s->seg[CPU_SEG_CS] = flat_segment (BOOT_CS64, 0xb, true, false);
  data_segments (s);
  s->cr3 = pml4;
  s->cr4 = 0x20;                  /* PAE */
  s->cr0 = 0x80000011;            /* PG, ET, PE (caches on: CD/NW clear) */
  s->efer = 0x500;                /* LME, LMA */
  s->rip = entry;
  s->rflags = 0x2;                /* interrupts off */
  return true;
}

bool
boot_cpu_protected_mode (GuestRam *ram, CpuState *s, uint32_t entry)
{
  if (!write_gdt (ram, s))
    return false;
  s->seg[CPU_SEG_CS] = flat_segment (BOOT_CS32, 0xb, false, true);
  data_segments (s);
  s->tr.type = 0xb; /* 32-bit busy TSS */
  s->cr0 = 0x11;    /* ET, PE */
  s->cr3 = 0;
  s->cr4 = 0;
  s->efer = 0;
  s->rip = entry;
  s->rflags = 0x2;
  return true;
}
