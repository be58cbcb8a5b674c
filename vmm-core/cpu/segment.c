/* Segmentation: offset → linear with limit and canonical checks, descriptor
 * table access, segment register loads, and the stack. */
#include "vmm-core/cpu/cpu-internal.h"

bool
canonical (uint64_t a)
{
  return (uint64_t) ((int64_t) (a << 16) >> 16) == a;
}

G_NORETURN static void
seg_fault (SoftCpu *c, unsigned seg, uint32_t err)
{
  cpu_raise (c, seg == CPU_SEG_SS ? EXC_SS : EXC_GP, err, true);
}

uint64_t
seg_lin_slow (SoftCpu *c, unsigned seg, uint64_t off, unsigned size, AccessKind kind)
{
  const CpuSegment *s = &c->st.seg[seg];
  if (c->mode64)
    {
      uint64_t lin = off + ((seg >= CPU_SEG_FS) ? s->base : 0);
      if (G_UNLIKELY (!canonical (lin) || !canonical (lin + size - 1)))
        seg_fault (c, seg, 0);
      return lin;
    }
  if (c->pe && !c->vm86)
    {
      if (G_UNLIKELY (s->unusable))
        seg_fault (c, seg, 0);
      if (kind == ACC_WRITE && ((s->type & 8) || !(s->type & 2)))
        seg_fault (c, seg, 0);
      if (kind == ACC_READ && (s->type & 0xa) == 0x8)
        seg_fault (c, seg, 0);
    }
  uint64_t last = off + size - 1;
  if (!(s->type & 8) && (s->type & 4))
    {
      /* Expand-down data segment: valid offsets are (limit, top]. */
      uint64_t top = s->db ? 0xffffffffull : 0xffff;
      if (off <= s->limit || last > top)
        seg_fault (c, seg, 0);
    }
  else if (G_UNLIKELY (last > s->limit))
    seg_fault (c, seg, 0);
  return (s->base + off) & 0xffffffff;
}


bool
desc_fetch (SoftCpu *c, uint16_t sel, uint64_t *lo, uint64_t *hi, bool need_hi)
{
  const CpuDtable *t;
  CpuDtable ldt;
  if (sel & 4)
    {
      if (c->st.ldt.unusable || !c->st.ldt.present)
        return false;
      ldt.base = c->st.ldt.base;
      ldt.limit = c->st.ldt.limit;
      t = &ldt;
    }
  else
    t = &c->st.gdt;
  uint32_t idx = sel & ~7u;
  if (idx + 7u > t->limit || (need_hi && idx + 15u > t->limit))
    return false;
  *lo = lin_read_sys (c, t->base + idx, 8);
  if (need_hi)
    *hi = lin_read_sys (c, t->base + idx + 8, 8);
  return true;
}

void
desc_set_accessed (SoftCpu *c, uint16_t sel, uint64_t lo)
{
  if (lo & (1ull << 40))
    return;
  uint64_t base = (sel & 4) ? c->st.ldt.base : c->st.gdt.base;
  uint64_t addr = base + (sel & ~7u) + 5;
  lin_write_sys (c, addr, 1, ((lo >> 40) & 0xff) | 1);
}

void
desc_to_seg (CpuSegment *s, uint16_t sel, uint64_t lo, uint64_t hi)
{
  uint32_t limit = (lo & 0xffff) | ((lo >> 32) & 0xf0000);
  s->selector = sel;
  s->base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24);
  s->type = (lo >> 40) & 0xf;
  s->s = (lo >> 44) & 1;
  s->dpl = (lo >> 45) & 3;
  s->present = (lo >> 47) & 1;
  s->avl = (lo >> 52) & 1;
  s->l = (lo >> 53) & 1;
  s->db = (lo >> 54) & 1;
  s->g = (lo >> 55) & 1;
  s->limit = s->g ? (limit << 12) | 0xfff : limit;
  s->unusable = 0;
  if (!s->s)
    s->base |= (hi & 0xffffffff) << 32;
}

void
seg_load_real (SoftCpu *c, unsigned seg, uint16_t sel)
{
  CpuSegment *s = &c->st.seg[seg];
  s->selector = sel;
  s->base = (uint64_t) sel << 4;
  s->unusable = 0;
  s->present = 1;
  if (c->vm86)
    {
      /* Virtual-8086: fixed 64 KiB, DPL 3 segments. */
      s->limit = 0xffff;
      s->dpl = 3;
      s->s = 1;
      s->type = seg == CPU_SEG_CS ? 0xb : 0x3;
      s->db = 0;
      s->g = 0;
      s->l = 0;
    }
  if (seg == CPU_SEG_CS || seg == CPU_SEG_SS)
    cpu_update_mode (c);
}

/* MOV/POP to a data or stack segment register in protected mode
 * (SDM vol. 2, "MOV — Move", protected-mode checks). */
void
seg_load (SoftCpu *c, unsigned seg, uint16_t sel)
{
  if (!c->pe || c->vm86)
    {
      seg_load_real (c, seg, sel);
      return;
    }
  CpuSegment *s = &c->st.seg[seg];
  if ((sel & ~3u) == 0)
    {
      if (seg == CPU_SEG_SS && (!c->mode64 || c->cpl == 3 || (sel & 3) != c->cpl))
        cpu_raise_gp (c, 0);
      /* Null selector: usable only in 64-bit mode (bases of FS/GS stay 0). */
      s->selector = sel;
      s->unusable = 1;
      s->present = 0;
      s->base = 0;
      s->limit = 0;
      s->type = 0;
      s->dpl = sel & 3;
      if (seg == CPU_SEG_SS)
        {
          s->unusable = 0;
          s->present = 1;
          s->type = 3;
          s->s = 1;
          s->db = 1;
          cpu_update_mode (c);
        }
      return;
    }
  uint64_t lo, hi = 0;
  if (!desc_fetch (c, sel, &lo, &hi, false))
    cpu_raise_gp (c, sel & ~3u);
  unsigned type = (lo >> 40) & 0xf, dpl = (lo >> 45) & 3, rpl = sel & 3;
  bool is_s = (lo >> 44) & 1, present = (lo >> 47) & 1;
  if (seg == CPU_SEG_SS)
    {
      if (!is_s || (type & 8) || !(type & 2) || rpl != c->cpl || dpl != c->cpl)
        cpu_raise_gp (c, sel & ~3u);
      if (!present)
        cpu_raise (c, EXC_SS, sel & ~3u, true);
    }
  else
    {
      if (!is_s || ((type & 8) && !(type & 2)))
        cpu_raise_gp (c, sel & ~3u);
      /* Data or non-conforming code: DPL >= max(CPL, RPL). */
      if ((!(type & 8) || !(type & 4)) && (dpl < rpl || dpl < c->cpl))
        cpu_raise_gp (c, sel & ~3u);
      if (!present)
        cpu_raise (c, EXC_NP, sel & ~3u, true);
    }
  desc_set_accessed (c, sel, lo);
  desc_to_seg (s, sel, lo | (1ull << 40), hi);
  if (seg == CPU_SEG_SS)
    cpu_update_mode (c);
}

uint64_t
sp_mask (SoftCpu *c)
{
  return sz_mask (c->stack_size);
}

uint64_t
stack_read (SoftCpu *c, uint64_t off, unsigned size)
{
  return seg_read (c, CPU_SEG_SS, off & sp_mask (c), size);
}

void
stack_write (SoftCpu *c, uint64_t off, unsigned size, uint64_t v)
{
  seg_write (c, CPU_SEG_SS, off & sp_mask (c), size, v);
}

static void
set_sp (SoftCpu *c, uint64_t v)
{
  uint64_t m = sp_mask (c);
  c->st.regs[CPU_REG_RSP] = (c->st.regs[CPU_REG_RSP] & ~m) | (v & m);
}

/* Write first, then move RSP: a faulting push leaves RSP unchanged. */
void
cpu_push (SoftCpu *c, unsigned size, uint64_t v)
{
  uint64_t sp = c->st.regs[CPU_REG_RSP] - size;
  stack_write (c, sp, size, v);
  set_sp (c, sp);
}

uint64_t
cpu_pop (SoftCpu *c, unsigned size)
{
  uint64_t sp = c->st.regs[CPU_REG_RSP];
  uint64_t v = stack_read (c, sp, size);
  set_sp (c, sp + size);
  return v;
}
