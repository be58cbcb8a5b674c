/* Exceptions and interrupts: raising faults out of an instruction, and
 * delivery through the real-mode IVT, the protected-mode IDT (16/32-bit
 * gates, privilege change through the TSS, virtual-8086 exit) and the
 * long-mode IDT (IST, 16-byte gates). */
#include "vmm-core/cpu/cpu-internal.h"
#include "vmm-core/log.h"

void
cpu_raise (SoftCpu *c, int vec, uint32_t err, bool has_err)
{
  c->exc_vec = vec;
  c->exc_err = err;
  c->exc_has_err = has_err;
  longjmp (c->jb, 1);
}

void
cpu_raise_gp (SoftCpu *c, uint32_t err)
{
  cpu_raise (c, EXC_GP, err, true);
}

void
cpu_raise_ud (SoftCpu *c)
{
  cpu_raise (c, EXC_UD, 0, false);
}

void
cpu_unimplemented (SoftCpu *c)
{
  uint8_t bytes[15] = { 0 };
  unsigned n = c->cur ? c->cur->len : 0;
  for (unsigned i = 0; i < n && i < 15; i++)
    {
      uint64_t lin = c->mode64 ? c->insn_rip + i
                               : c->st.seg[CPU_SEG_CS].base + ((c->insn_rip + i) & 0xffffffff);
      bytes[i] = phys_read (c, mmu_lookup (c, lin, ACC_FETCH, false)->phys + (lin & 0xfff), 1);
    }
  char hex[64] = "";
  for (unsigned i = 0; i < n && i < 15; i++)
    g_snprintf (hex + i * 3, sizeof hex - i * 3, "%02x ", bytes[i]);
  VMM_GUEST_ERROR ("cpu", "cpu%u: invalid or unimplemented instruction at %04x:%016llx: %s",
                   c->index, c->st.seg[CPU_SEG_CS].selector,
                   (unsigned long long) c->insn_rip, hex);
  cpu_raise_ud (c);
}

/* Exceptions that push an error code. */
static bool
pushes_error (int vec)
{
  return vec == EXC_DF || (vec >= EXC_TS && vec <= EXC_PF) || vec == EXC_AC;
}

static void
deliver_real (SoftCpu *c, int vec, uint64_t ret_rip)
{
  CpuState *s = &c->st;
  if ((uint32_t) vec * 4 + 3 > s->idt.limit)
    cpu_raise_gp (c, vec * 8 + 2);
  uint32_t ent = lin_read_sys (c, s->idt.base + vec * 4, 4);
  uint64_t sp = s->regs[CPU_REG_RSP];
  uint64_t base = s->seg[CPU_SEG_SS].base;
  lin_write_sys (c, base + ((sp - 2) & 0xffff), 2, s->rflags);
  lin_write_sys (c, base + ((sp - 4) & 0xffff), 2, s->seg[CPU_SEG_CS].selector);
  lin_write_sys (c, base + ((sp - 6) & 0xffff), 2, ret_rip);
  s->regs[CPU_REG_RSP] = (sp & ~0xffffull) | ((sp - 6) & 0xffff);
  s->rflags &= ~(uint64_t) (FL_IF | FL_TF | FL_AC | FL_RF);
  seg_load_real (c, CPU_SEG_CS, ent >> 16);
  s->rip = ent & 0xffff;
}

/* TSS stack pointer for privilege level `pl` (32-bit TSS) or RSPn/ISTn (64-bit). */
static uint64_t
tss_read (SoftCpu *c, uint32_t off, unsigned size)
{
  const CpuSegment *tr = &c->st.tr;
  if (!tr->present || off + size - 1 > tr->limit)
    cpu_raise (c, EXC_TS, tr->selector & ~3u, true);
  return lin_read_sys (c, tr->base + off, size);
}

/* Loads the code-segment descriptor of a gate target; checks it. */
static void
gate_target (SoftCpu *c, uint16_t sel, uint32_t ext, uint64_t *lo)
{
  uint64_t hi;
  if ((sel & ~3u) == 0)
    cpu_raise_gp (c, ext);
  if (!desc_fetch (c, sel, lo, &hi, false))
    cpu_raise_gp (c, (sel & ~3u) | ext);
  unsigned type = (*lo >> 40) & 0xf, dpl = (*lo >> 45) & 3;
  if (!((*lo >> 44) & 1) || !(type & 8) || dpl > c->cpl)
    cpu_raise_gp (c, (sel & ~3u) | ext);
  if (!((*lo >> 47) & 1))
    cpu_raise (c, EXC_NP, (sel & ~3u) | ext, true);
}

static void
deliver_long (SoftCpu *c, int vec, uint32_t err, bool has_err, bool soft, uint64_t ret_rip)
{
  CpuState *s = &c->st;
  uint32_t ext = soft ? 0 : 1;
  uint32_t idt_err = vec * 8 + 2 + ext;
  if ((uint32_t) vec * 16 + 15 > s->idt.limit)
    cpu_raise_gp (c, idt_err);
  uint64_t lo = lin_read_sys (c, s->idt.base + vec * 16, 8);
  uint64_t hi = lin_read_sys (c, s->idt.base + vec * 16 + 8, 8);
  unsigned type = (lo >> 40) & 0xf, dpl = (lo >> 45) & 3;
  if (type != 0xe && type != 0xf)
    cpu_raise_gp (c, idt_err);
  if (soft && dpl < c->cpl)
    cpu_raise_gp (c, idt_err);
  if (!((lo >> 47) & 1))
    cpu_raise (c, EXC_NP, idt_err, true);
  uint16_t sel = (lo >> 16) & 0xffff;
  uint64_t target = (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | (hi << 32);
  unsigned ist = (lo >> 32) & 7;
  uint64_t cs_lo;
  gate_target (c, sel, ext, &cs_lo);
  if (!((cs_lo >> 53) & 1) || ((cs_lo >> 54) & 1))
    cpu_raise_gp (c, (sel & ~3u) | ext);
  unsigned cs_dpl = (cs_lo >> 45) & 3;
  bool conforming = (cs_lo >> 42) & 1;
  unsigned new_cpl = conforming ? c->cpl : cs_dpl;
  uint64_t rsp;
  if (ist)
    rsp = tss_read (c, 36 + (ist - 1) * 8, 8);
  else if (new_cpl < c->cpl)
    rsp = tss_read (c, 4 + new_cpl * 8, 8);
  else
    rsp = s->regs[CPU_REG_RSP];
  if (!canonical (rsp))
    cpu_raise (c, EXC_SS, 0, true);
  rsp &= ~0xfull;
  uint64_t frame[6];
  unsigned n = 0;
  if (has_err)
    frame[n++] = err;
  frame[n++] = ret_rip;
  frame[n++] = s->seg[CPU_SEG_CS].selector;
  frame[n++] = s->rflags;
  frame[n++] = s->regs[CPU_REG_RSP];
  frame[n++] = s->seg[CPU_SEG_SS].selector;
  /* Push with the new privilege: supervisor writes when entering ring 0-2. */
  uint8_t old_cpl = c->cpl;
  c->cpl = new_cpl;
  for (unsigned i = 0; i < n; i++)
    lin_write (c, rsp - (n - i) * 8, 8, frame[i]);
  c->cpl = old_cpl;
  desc_set_accessed (c, sel, cs_lo);
  /* Commit. */
  desc_to_seg (&s->seg[CPU_SEG_CS], (sel & ~3u) | new_cpl, cs_lo | (1ull << 40), 0);
  if (new_cpl != old_cpl)
    {
      CpuSegment *ss = &s->seg[CPU_SEG_SS];
      *ss = (CpuSegment){ .selector = new_cpl, .unusable = 1, .dpl = new_cpl, .type = 3,
                          .s = 1, .db = 1, .present = 1, .limit = 0xffffffff, .g = 1 };
    }
  s->regs[CPU_REG_RSP] = rsp - n * 8;
  s->rip = target;
  s->rflags &= ~(uint64_t) (FL_TF | FL_NT | FL_RF | FL_VM);
  if (type == 0xe)
    s->rflags &= ~(uint64_t) FL_IF;
  cpu_update_mode (c);
}

static void
deliver_prot (SoftCpu *c, int vec, uint32_t err, bool has_err, bool soft, uint64_t ret_rip)
{
  CpuState *s = &c->st;
  uint32_t ext = soft ? 0 : 1;
  uint32_t idt_err = vec * 8 + 2 + ext;
  if (soft && c->vm86 && ((s->rflags >> 12) & 3) < 3)
    cpu_raise_gp (c, 0);
  if ((uint32_t) vec * 8 + 7 > s->idt.limit)
    cpu_raise_gp (c, idt_err);
  uint64_t lo = lin_read_sys (c, s->idt.base + vec * 8, 8);
  unsigned type = (lo >> 40) & 0x1f, dpl = (lo >> 45) & 3;
  if (type == 5)
    {
      VMM_GUEST_ERROR ("cpu", "cpu%u: task gate for vector %d not supported", c->index, vec);
      cpu_raise_gp (c, idt_err);
    }
  if (type != 0x6 && type != 0x7 && type != 0xe && type != 0xf)
    cpu_raise_gp (c, idt_err);
  if (soft && dpl < c->cpl)
    cpu_raise_gp (c, idt_err);
  if (!((lo >> 47) & 1))
    cpu_raise (c, EXC_NP, idt_err, true);
  bool gate32 = type & 8;
  unsigned sz = gate32 ? 4 : 2;
  uint16_t sel = (lo >> 16) & 0xffff;
  uint32_t target = (lo & 0xffff) | ((lo >> 32) & 0xffff0000);
  if (!gate32)
    target &= 0xffff;
  uint64_t cs_lo, cs_hi = 0;
  gate_target (c, sel, ext, &cs_lo);
  bool conforming = (cs_lo >> 42) & 1;
  unsigned new_cpl = conforming ? c->cpl : (cs_lo >> 45) & 3;
  if (c->vm86 && new_cpl != 0)
    cpu_raise_gp (c, (sel & ~3u) | ext);

  uint64_t frame[10];
  unsigned n = 0;
  if (has_err)
    frame[n++] = err;
  frame[n++] = ret_rip;
  frame[n++] = s->seg[CPU_SEG_CS].selector;
  frame[n++] = s->rflags;
  CpuSegment new_ss = s->seg[CPU_SEG_SS];
  uint64_t esp = s->regs[CPU_REG_RSP];
  bool outer = new_cpl < c->cpl;
  if (outer)
    {
      frame[n++] = s->regs[CPU_REG_RSP];
      frame[n++] = s->seg[CPU_SEG_SS].selector;
      if (c->vm86)
        {
          frame[n++] = s->seg[CPU_SEG_ES].selector;
          frame[n++] = s->seg[CPU_SEG_DS].selector;
          frame[n++] = s->seg[CPU_SEG_FS].selector;
          frame[n++] = s->seg[CPU_SEG_GS].selector;
        }
      bool tss32 = (s->tr.type & 8) != 0;
      uint16_t ss_sel;
      if (tss32)
        {
          esp = tss_read (c, 4 + new_cpl * 8, 4);
          ss_sel = tss_read (c, 8 + new_cpl * 8, 2);
        }
      else
        {
          esp = tss_read (c, 2 + new_cpl * 4, 2);
          ss_sel = tss_read (c, 4 + new_cpl * 4, 2);
        }
      uint64_t ss_lo, ss_hi = 0;
      if ((ss_sel & ~3u) == 0 || !desc_fetch (c, ss_sel, &ss_lo, &ss_hi, false))
        cpu_raise (c, EXC_TS, ss_sel & ~3u, true);
      if ((ss_sel & 3) != new_cpl || ((ss_lo >> 45) & 3) != new_cpl
          || ((ss_lo >> 40) & 0xa) != 0x2 || !((ss_lo >> 44) & 1))
        cpu_raise (c, EXC_TS, ss_sel & ~3u, true);
      if (!((ss_lo >> 47) & 1))
        cpu_raise (c, EXC_SS, ss_sel & ~3u, true);
      desc_to_seg (&new_ss, ss_sel, ss_lo | (1ull << 40), 0);
    }
  uint64_t spm = new_ss.db ? 0xffffffff : 0xffff;
  for (unsigned i = 0; i < n; i++)
    {
      uint64_t off = (esp - (n - i) * sz) & spm;
      lin_write_sys (c, (new_ss.base + off) & 0xffffffff, sz, frame[i]);
    }
  /* Commit. */
  desc_to_seg (&s->seg[CPU_SEG_CS], (sel & ~3u) | new_cpl, cs_lo | (1ull << 40), cs_hi);
  s->seg[CPU_SEG_SS] = new_ss;
  s->regs[CPU_REG_RSP] = (s->regs[CPU_REG_RSP] & ~spm) | ((esp - n * sz) & spm);
  if (c->vm86)
    for (unsigned r = 0; r < CPU_NR_SEGS; r++)
      if (r != CPU_SEG_CS && r != CPU_SEG_SS)
        s->seg[r] = (CpuSegment){ .unusable = 1 };
  s->rip = target;
  s->rflags &= ~(uint64_t) (FL_TF | FL_NT | FL_RF | FL_VM);
  if (!(type & 1))
    s->rflags &= ~(uint64_t) FL_IF;
  cpu_update_mode (c);
}

void
cpu_deliver (SoftCpu *c, int vec, uint32_t err, bool has_err, bool soft, uint64_t ret_rip)
{
  if (!soft && vec < 32)
    has_err = has_err && pushes_error (vec) && c->pe;
  else
    has_err = false;
  if (!c->pe)
    deliver_real (c, vec, ret_rip);
  else if (c->long_mode)
    deliver_long (c, vec, err, has_err, soft, ret_rip);
  else
    deliver_prot (c, vec, err, has_err, soft, ret_rip);
}
