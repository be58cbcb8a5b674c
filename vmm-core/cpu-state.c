#include "vmm-core/cpu-state.h"

#include <string.h>

static void
real_mode_segment (CpuSegment *s, uint16_t selector, uint8_t type)
{
  *s = (CpuSegment){ .base = (uint64_t) selector << 4, .limit = 0xffff,
                     .selector = selector, .type = type, .s = 1, .present = 1 };
}

void
cpu_state_reset (CpuState *s, unsigned apic_id, bool bsp)
{
  memset (s, 0, sizeof *s);
  s->rip = 0xfff0;
  s->rflags = 0x2;
  s->regs[CPU_REG_RDX] = 0x600; /* family 6 signature, as hardware does */
  for (int i = 0; i < CPU_NR_SEGS; i++)
    real_mode_segment (&s->seg[i], 0, 0x3); /* read/write data, accessed */
  real_mode_segment (&s->seg[CPU_SEG_CS], 0xf000, 0xb); /* exec/read code, accessed */
  s->seg[CPU_SEG_CS].base = 0xffff0000;
  s->tr = (CpuSegment){ .limit = 0xffff, .type = 0xb, .present = 1 };
  s->ldt = (CpuSegment){ .limit = 0xffff, .type = 0x2, .present = 1 };
  s->gdt.limit = 0xffff;
  s->idt.limit = 0xffff;
  s->cr0 = 0x60000010; /* CD, NW, ET */
  s->xcr0 = 1;
  s->dr6 = 0xffff0ff0;
  s->dr7 = 0x400;
  s->apic_base = 0xfee00000 | (1u << 11) | (bsp ? (1u << 8) : 0);
  s->pat = 0x0007040600070406ull;
  s->misc_enable = 1; /* fast strings */
  /* FXSAVE image: FCW 0x37f, MXCSR 0x1f80, MXCSR_MASK 0xffff. */
  s->fxsave[0] = 0x7f;
  s->fxsave[1] = 0x03;
  s->fxsave[24] = 0x80;
  s->fxsave[25] = 0x1f;
  s->fxsave[28] = 0xff;
  s->fxsave[29] = 0xff;
  s->interrupt_pending = -1;
  s->mp_state = bsp ? CPU_MP_RUNNABLE : CPU_MP_INIT_RECEIVED;
  /* APIC ID register (offset 0x20, bits 31:24) and version register. */
  s->lapic[0x23] = (uint8_t) apic_id;
  s->lapic[0x30] = 0x14;
  s->lapic[0x32] = 0x05; /* max LVT entry */
  s->lapic[0xd0] = 0;
  memset (&s->lapic[0xe0], 0xff, 4); /* DFR: flat model */
  s->lapic[0xf0] = 0xff;             /* SVR: vector 0xff, APIC software-disabled */
  for (unsigned off = 0x320; off <= 0x370; off += 0x10)
    s->lapic[off + 2] = 0x01; /* LVT masked (bit 16) */
}
