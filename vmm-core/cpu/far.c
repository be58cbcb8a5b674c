/* Far control transfers: JMP/CALL far, RET far and IRET in real,
 * virtual-8086, protected and long mode (code segments only; call gates and
 * task switches are logged and refused with #GP). */
#include "vmm-core/cpu/cpu-internal.h"
#include "vmm-core/log.h"

/* Checks a code-segment descriptor for a far transfer to `sel` at `cpl`. */
static void
check_code (SoftCpu *c, uint16_t sel, uint64_t lo, unsigned cpl, bool is_return)
{
  unsigned type = (lo >> 40) & 0xf, dpl = (lo >> 45) & 3, rpl = sel & 3;
  if (!((lo >> 44) & 1) || !(type & 8))
    cpu_raise_gp (c, sel & ~3u);
  if (is_return)
    {
      if (rpl < c->cpl || ((type & 4) ? dpl > rpl : dpl != rpl))
        cpu_raise_gp (c, sel & ~3u);
    }
  else if ((type & 4) ? dpl > cpl : (rpl > cpl || dpl != cpl))
    cpu_raise_gp (c, sel & ~3u);
  if (!((lo >> 47) & 1))
    cpu_raise (c, EXC_NP, sel & ~3u, true);
  if (c->long_mode && ((lo >> 53) & 1) && ((lo >> 54) & 1))
    cpu_raise_gp (c, sel & ~3u);
}

static void
load_cs (SoftCpu *c, uint16_t sel, uint64_t lo, unsigned new_cpl)
{
  desc_set_accessed (c, sel, lo);
  desc_to_seg (&c->st.seg[CPU_SEG_CS], (sel & ~3u) | new_cpl, lo | (1ull << 40), 0);
  cpu_update_mode (c);
}

void
cpu_far_jump (SoftCpu *c, uint16_t sel, uint64_t off, bool call, unsigned opsize)
{
  CpuState *s = &c->st;
  if (!c->pe || c->vm86)
    {
      off &= sz_mask (opsize);
      if (call)
        {
          uint64_t sp = s->regs[CPU_REG_RSP];
          stack_write (c, sp - opsize, opsize, s->seg[CPU_SEG_CS].selector);
          stack_write (c, sp - 2 * opsize, opsize, c->next_rip);
          s->regs[CPU_REG_RSP] = (sp & ~sp_mask (c)) | ((sp - 2 * opsize) & sp_mask (c));
        }
      seg_load_real (c, CPU_SEG_CS, sel);
      s->rip = off;
      return;
    }
  if ((sel & ~3u) == 0)
    cpu_raise_gp (c, 0);
  uint64_t lo, hi;
  if (!desc_fetch (c, sel, &lo, &hi, false))
    cpu_raise_gp (c, sel & ~3u);
  if (!((lo >> 44) & 1))
    {
      VMM_GUEST_ERROR ("cpu", "cpu%u: far %s through a system descriptor (type %u) not supported",
                       c->index, call ? "call" : "jump", (unsigned) ((lo >> 40) & 0xf));
      cpu_raise_gp (c, sel & ~3u);
    }
  check_code (c, sel, lo, c->cpl, false);
  bool to64 = c->long_mode && ((lo >> 53) & 1);
  if (!to64)
    off &= sz_mask (opsize);
  else if (!canonical (off))
    cpu_raise_gp (c, 0);
  if (call)
    {
      unsigned ps = opsize;
      uint64_t sp = s->regs[CPU_REG_RSP];
      stack_write (c, sp - ps, ps, s->seg[CPU_SEG_CS].selector);
      stack_write (c, sp - 2 * ps, ps, c->next_rip);
      s->regs[CPU_REG_RSP] = (sp & ~sp_mask (c)) | ((sp - 2 * ps) & sp_mask (c));
    }
  load_cs (c, sel, lo, c->cpl);
  s->rip = off;
}

/* After a return to an outer level, data segments the new CPL may not use
 * become null. */
static void
scrub_data_segments (SoftCpu *c)
{
  for (unsigned r = 0; r < CPU_NR_SEGS; r++)
    {
      if (r == CPU_SEG_CS || r == CPU_SEG_SS)
        continue;
      CpuSegment *sg = &c->st.seg[r];
      bool conforming_code = (sg->type & 0xc) == 0xc;
      if (!sg->unusable && sg->s && !conforming_code && sg->dpl < c->cpl)
        {
          sg->selector = 0;
          sg->unusable = 1;
          sg->present = 0;
          if (!(c->mode64 && (r == CPU_SEG_FS || r == CPU_SEG_GS)))
            sg->base = 0;
        }
    }
}

/* Loads SS for a return to an outer level (selector popped from the stack). */
static void
load_outer_ss (SoftCpu *c, uint16_t ss_sel, unsigned new_cpl, bool to64)
{
  CpuSegment *ss = &c->st.seg[CPU_SEG_SS];
  if ((ss_sel & ~3u) == 0)
    {
      if (!to64 || new_cpl == 3)
        cpu_raise_gp (c, 0);
      *ss = (CpuSegment){ .selector = ss_sel, .unusable = 1, .dpl = new_cpl, .type = 3,
                          .s = 1, .db = 1, .present = 1, .limit = 0xffffffff, .g = 1 };
      return;
    }
  uint64_t lo, hi;
  if (!desc_fetch (c, ss_sel, &lo, &hi, false))
    cpu_raise_gp (c, ss_sel & ~3u);
  if ((ss_sel & 3) != new_cpl || ((lo >> 45) & 3) != new_cpl || !((lo >> 44) & 1)
      || ((lo >> 40) & 0xa) != 0x2)
    cpu_raise_gp (c, ss_sel & ~3u);
  if (!((lo >> 47) & 1))
    cpu_raise (c, EXC_SS, ss_sel & ~3u, true);
  desc_set_accessed (c, ss_sel, lo);
  desc_to_seg (ss, ss_sel, lo | (1ull << 40), 0);
}

void
cpu_far_ret (SoftCpu *c, unsigned opsize, uint16_t pop_extra)
{
  CpuState *s = &c->st;
  unsigned os = opsize;
  uint64_t sp = s->regs[CPU_REG_RSP];
  uint64_t off = stack_read (c, sp, os);
  uint16_t sel = stack_read (c, sp + os, os);
  if (!c->pe || c->vm86)
    {
      seg_load_real (c, CPU_SEG_CS, sel);
      s->rip = off & sz_mask (os);
      s->regs[CPU_REG_RSP] = (sp & ~sp_mask (c)) | ((sp + 2 * os + pop_extra) & sp_mask (c));
      return;
    }
  if ((sel & ~3u) == 0)
    cpu_raise_gp (c, 0);
  uint64_t lo, hi;
  if (!desc_fetch (c, sel, &lo, &hi, false))
    cpu_raise_gp (c, sel & ~3u);
  check_code (c, sel, lo, c->cpl, true);
  unsigned new_cpl = sel & 3;
  bool to64 = c->long_mode && ((lo >> 53) & 1);
  if (new_cpl > c->cpl)
    {
      uint64_t nsp = stack_read (c, sp + 2 * os + pop_extra, os);
      uint16_t ss_sel = stack_read (c, sp + 3 * os + pop_extra, os);
      uint8_t old_cpl = c->cpl;
      c->cpl = new_cpl;
      load_outer_ss (c, ss_sel, new_cpl, to64);
      c->cpl = old_cpl;
      load_cs (c, sel, lo, new_cpl);
      s->regs[CPU_REG_RSP] = nsp + pop_extra;
      if (!c->mode64)
        s->regs[CPU_REG_RSP] &= sz_mask (c->stack_size) | (c->stack_size == 4 ? 0 : ~0xffffull);
      scrub_data_segments (c);
    }
  else
    {
      load_cs (c, sel, lo, new_cpl);
      s->regs[CPU_REG_RSP] = (sp & ~sp_mask (c)) | ((sp + 2 * os + pop_extra) & sp_mask (c));
    }
  s->rip = to64 ? off : off & sz_mask (os);
}

void
cpu_iret (SoftCpu *c, unsigned opsize)
{
  CpuState *s = &c->st;
  unsigned os = opsize;
  unsigned iopl = (s->rflags >> 12) & 3;
  uint64_t sp = s->regs[CPU_REG_RSP];
  if (!c->pe || c->vm86)
    {
      if (c->vm86 && iopl < 3)
        cpu_raise_gp (c, 0);
      uint64_t ip = stack_read (c, sp, os);
      uint16_t cs = stack_read (c, sp + os, os);
      uint64_t fl = stack_read (c, sp + 2 * os, os);
      uint64_t mask = FL_ARITH | FL_TF | FL_IF | FL_DF | FL_NT | FL_AC | FL_ID;
      if (!c->vm86)
        mask |= FL_IOPL;
      if (os == 2)
        mask &= 0xffff;
      seg_load_real (c, CPU_SEG_CS, cs);
      s->rip = ip & sz_mask (os);
      cpu_write_flags (c, fl, mask);
      s->regs[CPU_REG_RSP] = (sp & ~sp_mask (c)) | ((sp + 3 * os) & sp_mask (c));
      return;
    }
  if (!c->long_mode && (s->rflags & FL_NT))
    {
      VMM_GUEST_ERROR ("cpu", "cpu%u: IRET task return not supported", c->index);
      cpu_raise_gp (c, 0);
    }
  uint64_t ip = stack_read (c, sp, os);
  uint16_t sel = stack_read (c, sp + os, os);
  uint64_t fl = stack_read (c, sp + 2 * os, os);
  if (os == 2)
    fl = (s->rflags & ~0xffffull) | (fl & 0xffff);

  /* Return to virtual-8086 mode (legacy protected mode, CPL 0). */
  if (!c->long_mode && (fl & FL_VM) && c->cpl == 0 && os == 4)
    {
      uint64_t v[6];
      for (unsigned i = 0; i < 6; i++)
        v[i] = stack_read (c, sp + (3 + i) * 4, 4);
      cpu_write_flags (c, fl, ~0ull);
      s->rip = ip & 0xffff;
      cpu_update_mode (c);
      seg_load_real (c, CPU_SEG_CS, sel);
      seg_load_real (c, CPU_SEG_SS, v[1]);
      seg_load_real (c, CPU_SEG_ES, v[2]);
      seg_load_real (c, CPU_SEG_DS, v[3]);
      seg_load_real (c, CPU_SEG_FS, v[4]);
      seg_load_real (c, CPU_SEG_GS, v[5]);
      s->regs[CPU_REG_RSP] = v[0] & 0xffffffff;
      cpu_update_mode (c);
      return;
    }

  if ((sel & ~3u) == 0)
    cpu_raise_gp (c, 0);
  uint64_t lo, hi;
  if (!desc_fetch (c, sel, &lo, &hi, false))
    cpu_raise_gp (c, sel & ~3u);
  check_code (c, sel, lo, c->cpl, true);
  unsigned new_cpl = sel & 3;
  bool to64 = c->long_mode && ((lo >> 53) & 1);
  bool pop_stack = c->mode64 || new_cpl > c->cpl;
  uint64_t nsp = 0;
  uint16_t ss_sel = 0;
  if (pop_stack)
    {
      nsp = stack_read (c, sp + 3 * os, os);
      ss_sel = stack_read (c, sp + 4 * os, os);
    }
  if (to64 ? !canonical (ip) : false)
    cpu_raise_gp (c, 0);

  uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID | FL_RF;
  if (c->cpl <= iopl)
    mask |= FL_IF;
  if (c->cpl == 0)
    mask |= FL_IOPL | FL_VIF | FL_VIP;
  if (os == 2)
    mask &= 0xffff;
  uint8_t old_cpl = c->cpl;
  if (pop_stack)
    {
      c->cpl = new_cpl;
      load_outer_ss (c, ss_sel, new_cpl, to64);
      c->cpl = old_cpl;
    }
  load_cs (c, sel, lo, new_cpl);
  s->rip = to64 ? ip : ip & sz_mask (os);
  c->cpl = old_cpl; /* flag rules use the CPL before the return */
  cpu_write_flags (c, fl, mask);
  cpu_update_mode (c);
  if (pop_stack)
    {
      if (c->mode64 || os == 8)
        s->regs[CPU_REG_RSP] = nsp;
      else
        s->regs[CPU_REG_RSP] = (s->regs[CPU_REG_RSP] & ~sp_mask (c)) | (nsp & sp_mask (c));
      if (new_cpl > old_cpl)
        scrub_data_segments (c);
    }
  else
    s->regs[CPU_REG_RSP] = (sp & ~sp_mask (c)) | ((sp + 3 * os) & sp_mask (c));
}
