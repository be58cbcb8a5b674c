/* Segment registers and descriptor tables: MOV Sreg, LDS/LES/LSS/LFS/LGS,
 * SLDT/STR/LLDT/LTR/VERR/VERW, SGDT/SIDT/LGDT/LIDT/SMSW/LMSW/INVLPG/SWAPGS/
 * RDTSCP, LAR/LSL, and the fast system calls SYSCALL/SYSRET and
 * SYSENTER/SYSEXIT. */
#include "vmm-core/cpu/cpu-internal.h"
#include "vmm-core/log.h"

void
op_mov_sreg_to (SoftCpu *c, const DecodedInsn *d)
{
  unsigned sr = d->reg & 7;
  if (sr >= CPU_NR_SEGS)
    cpu_raise_ud (c);
  uint16_t sel = c->st.seg[sr].selector;
  if (d->flags & DI_MEM)
    op_set_rm (c, d, 2, sel);
  else
    op_set_reg (c, d, d->rm, d->opsize, sel);
}

void
op_mov_to_sreg (SoftCpu *c, const DecodedInsn *d)
{
  unsigned sr = d->reg & 7;
  if (sr >= CPU_NR_SEGS || sr == CPU_SEG_CS)
    cpu_raise_ud (c);
  uint16_t sel = op_rm (c, d, 2);
  seg_load (c, sr, sel);
  if (sr == CPU_SEG_SS)
    c->st.interrupt_shadow = 1;
}

void
op_lxs (SoftCpu *c, const DecodedInsn *d)
{
  if (!(d->flags & DI_MEM))
    cpu_raise_ud (c);
  unsigned sr;
  if (d->map == 0)
    sr = d->opcode == 0xc4 ? CPU_SEG_ES : CPU_SEG_DS;
  else
    sr = d->opcode == 0xb2 ? CPU_SEG_SS : d->opcode == 0xb4 ? CPU_SEG_FS : CPU_SEG_GS;
  uint64_t ea = op_ea (c, d);
  uint64_t off = seg_read (c, d->seg, ea, d->opsize);
  uint16_t sel = seg_read (c, d->seg, (ea + d->opsize) & sz_mask (d->adsize), 2);
  seg_load (c, sr, sel);
  op_set_reg (c, d, d->reg, d->opsize, off);
}

static void
need_prot (SoftCpu *c)
{
  if (!c->pe || c->vm86)
    cpu_raise_ud (c);
}

static void
need_cpl0 (SoftCpu *c)
{
  if (c->cpl != 0)
    cpu_raise_gp (c, 0);
}

/* LLDT / LTR: system descriptors are 16 bytes in long mode. */
static void
load_system_seg (SoftCpu *c, uint16_t sel, bool tr)
{
  CpuSegment *dst = tr ? &c->st.tr : &c->st.ldt;
  if ((sel & ~3u) == 0)
    {
      if (tr)
        cpu_raise_gp (c, 0);
      *dst = (CpuSegment){ .selector = sel, .unusable = 1 };
      return;
    }
  if (sel & 4)
    cpu_raise_gp (c, sel & ~3u);
  uint64_t lo, hi = 0;
  if (!desc_fetch (c, sel, &lo, &hi, c->long_mode))
    cpu_raise_gp (c, sel & ~3u);
  unsigned type = (lo >> 40) & 0x1f;
  if (tr ? (type != 0x09 && type != 0x01) : type != 0x02)
    cpu_raise_gp (c, sel & ~3u);
  if (!((lo >> 47) & 1))
    cpu_raise (c, EXC_NP, sel & ~3u, true);
  desc_to_seg (dst, sel, lo, c->long_mode ? hi : 0);
  if (tr)
    {
      /* Mark the TSS busy. */
      uint64_t addr = c->st.gdt.base + (sel & ~7u) + 5;
      lin_write_sys (c, addr, 1, ((lo >> 40) & 0xff) | 2);
      dst->type |= 2;
    }
}

static bool
verify_seg (SoftCpu *c, uint16_t sel, bool write)
{
  uint64_t lo, hi;
  if ((sel & ~3u) == 0 || !desc_fetch (c, sel, &lo, &hi, false))
    return false;
  unsigned type = (lo >> 40) & 0xf, dpl = (lo >> 45) & 3;
  if (!((lo >> 44) & 1))
    return false;
  bool conforming_code = (type & 0xc) == 0xc;
  if (!conforming_code && (dpl < c->cpl || dpl < (sel & 3u)))
    return false;
  if (write)
    return !(type & 8) && (type & 2);
  return !(type & 8) || (type & 2);
}

void
op_grp6 (SoftCpu *c, const DecodedInsn *d)
{
  need_prot (c);
  unsigned r = d->reg & 7;
  switch (r)
    {
    case 0: /* SLDT */
    case 1: /* STR */
      {
        uint16_t sel = r == 0 ? c->st.ldt.selector : c->st.tr.selector;
        if (d->flags & DI_MEM)
          op_set_rm (c, d, 2, sel);
        else
          op_set_reg (c, d, d->rm, d->opsize, sel);
        return;
      }
    case 2:
    case 3:
      {
        need_cpl0 (c);
        uint16_t sel = op_rm (c, d, 2);
        load_system_seg (c, sel, r == 3);
        return;
      }
    case 4:
    case 5:
      {
        uint16_t sel = op_rm (c, d, 2);
        if (verify_seg (c, sel, r == 5))
          c->st.rflags |= FL_ZF;
        else
          c->st.rflags &= ~(uint64_t) FL_ZF;
        return;
      }
    default:
      cpu_unimplemented (c);
    }
}

void
op_lar_lsl (SoftCpu *c, const DecodedInsn *d)
{
  need_prot (c);
  uint16_t sel = op_rm (c, d, 2);
  uint64_t lo, hi;
  bool ok = (sel & ~3u) != 0 && desc_fetch (c, sel, &lo, &hi, false);
  if (ok)
    {
      unsigned type = (lo >> 40) & 0xf, dpl = (lo >> 45) & 3;
      bool s = (lo >> 44) & 1;
      if (!s)
        {
          /* LAR accepts LDT, TSS and (outside long mode) gates; LSL no gates. */
          static const uint8_t lar_ok[16] = { 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0 };
          ok = c->long_mode ? (type == 2 || type == 9 || type == 0xb || (d->opcode == 2 && type == 0xc))
                            : (d->opcode == 2 ? lar_ok[type] : (lar_ok[type] && type != 4 && type != 5 && type != 0xc));
        }
      if (ok && !(s && (type & 0xc) == 0xc) && (dpl < c->cpl || dpl < (sel & 3u)))
        ok = false;
    }
  if (!ok)
    {
      c->st.rflags &= ~(uint64_t) FL_ZF;
      return;
    }
  c->st.rflags |= FL_ZF;
  uint64_t v;
  if (d->opcode == 2)
    v = (lo >> 32) & 0x00f0ff00;
  else
    {
      uint32_t limit = (lo & 0xffff) | ((lo >> 32) & 0xf0000);
      v = ((lo >> 55) & 1) ? (limit << 12) | 0xfff : limit;
    }
  op_set_reg (c, d, d->reg, d->opsize, v);
}

void
op_grp7 (SoftCpu *c, const DecodedInsn *d)
{
  unsigned r = d->reg & 7;
  if (d->mod == 3)
    {
      unsigned rm = d->rm & 7;
      if (r == 7 && rm == 0 && c->mode64)
        {
          need_cpl0 (c);
          uint64_t t = c->st.seg[CPU_SEG_GS].base;
          c->st.seg[CPU_SEG_GS].base = c->st.kernel_gs_base;
          c->st.kernel_gs_base = t;
          return;
        }
      if (r == 7 && rm == 1)
        {
          if ((c->st.cr4 & CR4_TSD) && c->cpl != 0)
            cpu_raise_gp (c, 0);
          uint64_t t = cpu_rdtsc (c);
          c->st.regs[CPU_REG_RAX] = t & 0xffffffff;
          c->st.regs[CPU_REG_RDX] = t >> 32;
          c->st.regs[CPU_REG_RCX] = c->st.tsc_aux & 0xffffffff;
          return;
        }
      if (r == 4 || r == 6)
        goto smsw_lmsw;
      cpu_unimplemented (c);
    }
smsw_lmsw:
  switch (r)
    {
    case 0: /* SGDT */
    case 1: /* SIDT */
      {
        if ((c->st.cr4 & CR4_UMIP) && c->cpl > 0)
          cpu_raise_gp (c, 0);
        const CpuDtable *t = r == 0 ? &c->st.gdt : &c->st.idt;
        uint64_t ea = op_ea (c, d);
        unsigned bsz = c->mode64 ? 8 : 4;
        uint64_t base = t->base & (c->mode64 ? ~0ull : d->opsize == 2 ? 0xffffff : 0xffffffff);
        seg_lin (c, d->seg, ea, 2 + bsz, ACC_WRITE);
        seg_write (c, d->seg, ea, 2, t->limit);
        seg_write (c, d->seg, (ea + 2) & sz_mask (d->adsize), bsz, base);
        return;
      }
    case 2: /* LGDT */
    case 3: /* LIDT */
      {
        need_cpl0 (c);
        uint64_t ea = op_ea (c, d);
        uint16_t limit = seg_read (c, d->seg, ea, 2);
        uint64_t base = seg_read (c, d->seg, (ea + 2) & sz_mask (d->adsize), c->mode64 ? 8 : 4);
        if (!c->mode64 && d->opsize == 2)
          base &= 0xffffff;
        if (c->mode64 && !canonical (base))
          cpu_raise_gp (c, 0);
        CpuDtable *t = r == 2 ? &c->st.gdt : &c->st.idt;
        t->base = base;
        t->limit = limit;
        return;
      }
    case 4: /* SMSW */
      if ((c->st.cr4 & CR4_UMIP) && c->cpl > 0)
        cpu_raise_gp (c, 0);
      if (d->flags & DI_MEM)
        op_set_rm (c, d, 2, c->st.cr0 & 0xffff);
      else
        op_set_reg (c, d, d->rm, d->opsize, c->st.cr0);
      return;
    case 6: /* LMSW: can set PE, not clear it */
      {
        need_cpl0 (c);
        uint64_t v = op_rm (c, d, 2) & 0xf;
        uint64_t cr0 = (c->st.cr0 & ~0xeull) | (v & 0xe) | ((c->st.cr0 | v) & 1);
        cpu_write_cr0 (c, cr0);
        return;
      }
    case 7: /* INVLPG */
      {
        need_cpl0 (c);
        uint64_t ea = op_ea (c, d);
        uint64_t lin = c->mode64 ? ea + (d->seg >= CPU_SEG_FS ? c->st.seg[d->seg].base : 0)
                                 : (c->st.seg[d->seg].base + ea) & 0xffffffff;
        mmu_invlpg (c, lin);
        return;
      }
    default:
      cpu_unimplemented (c);
    }
}

void
op_clts (SoftCpu *c, const DecodedInsn *d)
{
  need_cpl0 (c);
  c->st.cr0 &= ~(uint64_t) CR0_TS;
}

/* ---- SYSCALL / SYSRET (AMD64), SYSENTER / SYSEXIT ---- */

static void
flat_seg (CpuSegment *s, uint16_t sel, bool code, bool l, unsigned dpl)
{
  *s = (CpuSegment){ .selector = sel, .base = 0, .limit = 0xffffffff, .type = code ? 0xb : 0x3,
                     .s = 1, .dpl = dpl, .present = 1, .l = l, .db = !l, .g = 1 };
}

void
op_syscall (SoftCpu *c, const DecodedInsn *d)
{
  CpuState *s = &c->st;
  if (!(s->efer & EFER_SCE) || !c->long_mode)
    cpu_raise_ud (c);
  uint16_t cs = (s->star >> 32) & 0xfffc;
  s->regs[CPU_REG_RCX] = c->next_rip;
  s->regs[CPU_REG_R11] = s->rflags & ~(uint64_t) FL_RF;
  s->rflags &= ~(s->sfmask | FL_RF);
  s->rflags |= 2;
  flat_seg (&s->seg[CPU_SEG_CS], cs, true, true, 0);
  flat_seg (&s->seg[CPU_SEG_SS], cs + 8, false, false, 0);
  s->rip = c->mode64 ? s->lstar : s->cstar;
  cpu_update_mode (c);
}

void
op_sysret (SoftCpu *c, const DecodedInsn *d)
{
  CpuState *s = &c->st;
  if (!(s->efer & EFER_SCE) || !c->long_mode)
    cpu_raise_ud (c);
  if (c->cpl != 0)
    cpu_raise_gp (c, 0);
  uint16_t base = (s->star >> 48) & 0xffff;
  bool to64 = d->opsize == 8;
  uint64_t rip = s->regs[CPU_REG_RCX];
  if (to64 && !canonical (rip))
    cpu_raise_gp (c, 0);
  if (to64)
    flat_seg (&s->seg[CPU_SEG_CS], (base + 16) | 3, true, true, 3);
  else
    {
      flat_seg (&s->seg[CPU_SEG_CS], base | 3, true, false, 3);
      rip &= 0xffffffff;
    }
  /* SS keeps a flat descriptor; only the selector comes from STAR. */
  flat_seg (&s->seg[CPU_SEG_SS], (base + 8) | 3, false, false, 3);
  s->rflags = (s->regs[CPU_REG_R11] & 0x3c7fd7) | 2;
  s->rip = rip;
  cpu_update_mode (c);
  __atomic_store_n (&c->irq_flag, 1, __ATOMIC_RELAXED);
}

void
op_sysenter (SoftCpu *c, const DecodedInsn *d)
{
  CpuState *s = &c->st;
  if (!c->pe)
    cpu_raise_gp (c, 0);
  uint16_t cs = s->sysenter_cs & 0xfffc;
  if (cs == 0)
    cpu_raise_gp (c, 0);
  s->rflags &= ~(uint64_t) (FL_VM | FL_IF | FL_RF);
  flat_seg (&s->seg[CPU_SEG_CS], cs, true, c->long_mode, 0);
  flat_seg (&s->seg[CPU_SEG_SS], cs + 8, false, false, 0);
  s->regs[CPU_REG_RSP] = c->long_mode ? s->sysenter_esp : s->sysenter_esp & 0xffffffff;
  s->rip = c->long_mode ? s->sysenter_eip : s->sysenter_eip & 0xffffffff;
  cpu_update_mode (c);
}

void
op_sysexit (SoftCpu *c, const DecodedInsn *d)
{
  CpuState *s = &c->st;
  uint16_t cs = s->sysenter_cs & 0xfffc;
  if (!c->pe || c->vm86 || c->cpl != 0 || cs == 0)
    cpu_raise_gp (c, 0);
  bool to64 = d->opsize == 8;
  if (to64)
    {
      flat_seg (&s->seg[CPU_SEG_CS], (cs + 32) | 3, true, true, 3);
      flat_seg (&s->seg[CPU_SEG_SS], (cs + 40) | 3, false, false, 3);
      s->rip = s->regs[CPU_REG_RDX];
      s->regs[CPU_REG_RSP] = s->regs[CPU_REG_RCX];
    }
  else
    {
      flat_seg (&s->seg[CPU_SEG_CS], (cs + 16) | 3, true, false, 3);
      flat_seg (&s->seg[CPU_SEG_SS], (cs + 24) | 3, false, false, 3);
      s->rip = s->regs[CPU_REG_RDX] & 0xffffffff;
      s->regs[CPU_REG_RSP] = s->regs[CPU_REG_RCX] & 0xffffffff;
    }
  cpu_update_mode (c);
}
