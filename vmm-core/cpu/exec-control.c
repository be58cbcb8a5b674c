/* Stack and control flow: PUSH/POP, PUSHA/POPA, PUSHF/POPF, ENTER/LEAVE,
 * Jcc/JMP/CALL/RET (near and far), LOOP/JCXZ, INT/INT3/INTO/INT1, IRET, HLT. */
#include "vmm-core/cpu/cpu-internal.h"

void
cpu_jump_near (SoftCpu *c, uint64_t target, unsigned opsize)
{
  if (c->mode64)
    {
      if (!canonical (target))
        cpu_raise_gp (c, 0);
    }
  else
    {
      target &= sz_mask (opsize);
      if (target > c->st.seg[CPU_SEG_CS].limit)
        cpu_raise_gp (c, 0);
    }
  c->st.rip = target;
}

static unsigned
reg_of_opcode (const DecodedInsn *d)
{
  return (d->opcode & 7) | ((d->flags & DI_REX) && (d->rm & 8) ? 8 : 0);
}

void
op_push_reg (SoftCpu *c, const DecodedInsn *d)
{
  cpu_push (c, d->opsize, c->st.regs[reg_of_opcode (d)]);
}

void
op_pop_reg (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t v = cpu_pop (c, d->opsize);
  cpu_set_reg (c, reg_of_opcode (d), d->opsize, false, v);
}

void
op_push_imm (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t v = d->opcode == 0x6a ? (uint64_t) (int8_t) d->imm
                                 : (uint64_t) sext (d->imm, d->opsize == 2 ? 2 : 4);
  cpu_push (c, d->opsize, v);
}

void
op_pop_rm (SoftCpu *c, const DecodedInsn *d)
{
  unsigned s = d->opsize;
  uint64_t old_sp = c->st.regs[CPU_REG_RSP];
  uint64_t v = stack_read (c, old_sp, s);
  /* An RSP-based address is computed after the increment. */
  uint64_t new_sp = (old_sp & ~sp_mask (c)) | ((old_sp + s) & sp_mask (c));
  c->st.regs[CPU_REG_RSP] = new_sp;
  uint64_t ea = (d->flags & DI_MEM) ? op_ea (c, d) : 0;
  c->st.regs[CPU_REG_RSP] = old_sp;
  if (d->flags & DI_MEM)
    seg_write (c, d->seg, ea, s, v);
  c->st.regs[CPU_REG_RSP] = new_sp;
  if (!(d->flags & DI_MEM))
    op_set_reg (c, d, d->rm, s, v);
}

static unsigned
seg_of_opcode (const DecodedInsn *d)
{
  if (d->map == 1)
    return d->opcode < 0xa8 ? CPU_SEG_FS : CPU_SEG_GS;
  return (d->opcode >> 3) & 3;
}

void
op_push_seg (SoftCpu *c, const DecodedInsn *d)
{
  cpu_push (c, d->opsize, c->st.seg[seg_of_opcode (d)].selector);
}

void
op_pop_seg (SoftCpu *c, const DecodedInsn *d)
{
  unsigned seg = seg_of_opcode (d);
  uint64_t sp = c->st.regs[CPU_REG_RSP];
  uint16_t sel = stack_read (c, sp, d->opsize);
  seg_load (c, seg, sel);
  c->st.regs[CPU_REG_RSP] = (sp & ~sp_mask (c)) | ((sp + d->opsize) & sp_mask (c));
  if (seg == CPU_SEG_SS)
    c->st.interrupt_shadow = 1;
}

void
op_pusha (SoftCpu *c, const DecodedInsn *d)
{
  unsigned s = d->opsize;
  uint64_t sp = c->st.regs[CPU_REG_RSP];
  for (unsigned i = 0; i < 8; i++)
    stack_write (c, sp - (i + 1) * s, s, i == CPU_REG_RSP ? sp : c->st.regs[i]);
  c->st.regs[CPU_REG_RSP] = (sp & ~sp_mask (c)) | ((sp - 8 * s) & sp_mask (c));
}

void
op_popa (SoftCpu *c, const DecodedInsn *d)
{
  unsigned s = d->opsize;
  uint64_t sp = c->st.regs[CPU_REG_RSP], v[8];
  for (unsigned i = 0; i < 8; i++)
    v[i] = stack_read (c, sp + (7 - i) * s, s);
  for (unsigned i = 0; i < 8; i++)
    if (i != CPU_REG_RSP)
      cpu_set_reg (c, i, s, false, v[i]);
  c->st.regs[CPU_REG_RSP] = (sp & ~sp_mask (c)) | ((sp + 8 * s) & sp_mask (c));
}

void
op_pushf (SoftCpu *c, const DecodedInsn *d)
{
  if (c->vm86 && ((c->st.rflags >> 12) & 3) < 3)
    cpu_raise_gp (c, 0);
  cpu_push (c, d->opsize, c->st.rflags & ~(uint64_t) (FL_VM | FL_RF));
}

void
op_popf (SoftCpu *c, const DecodedInsn *d)
{
  unsigned iopl = (c->st.rflags >> 12) & 3;
  if (c->vm86 && iopl < 3)
    cpu_raise_gp (c, 0);
  uint64_t v = cpu_pop (c, d->opsize);
  uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID | FL_IF | FL_IOPL;
  if (c->pe && c->cpl > 0)
    mask &= ~(uint64_t) FL_IOPL;
  if (c->pe && !c->vm86 && c->cpl > iopl)
    mask &= ~(uint64_t) FL_IF;
  if (d->opsize == 2)
    mask &= 0xffff;
  bool was_if = c->st.rflags & FL_IF;
  cpu_write_flags (c, v, mask);
  if (!was_if && (c->st.rflags & FL_IF))
    __atomic_store_n (&c->irq_flag, 1, __ATOMIC_RELAXED);
}

void
op_enter (SoftCpu *c, const DecodedInsn *d)
{
  unsigned s = d->opsize, level = d->imm2 & 31;
  uint64_t m = sp_mask (c);
  uint64_t sp = c->st.regs[CPU_REG_RSP], bp = c->st.regs[CPU_REG_RBP];
  sp -= s;
  stack_write (c, sp, s, bp);
  uint64_t frame = sp;
  for (unsigned i = 1; i < level; i++)
    {
      bp -= s;
      uint64_t v = stack_read (c, bp, s);
      sp -= s;
      stack_write (c, sp, s, v);
    }
  if (level)
    {
      sp -= s;
      stack_write (c, sp, s, frame);
    }
  sp -= d->imm & 0xffff;
  /* Probe the lowest byte of the new frame like hardware does. */
  stack_read (c, sp, 1);
  cpu_set_reg (c, CPU_REG_RBP, s, false, frame);
  c->st.regs[CPU_REG_RSP] = (c->st.regs[CPU_REG_RSP] & ~m) | (sp & m);
}

void
op_leave (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t m = sp_mask (c);
  uint64_t bp = c->st.regs[CPU_REG_RBP] & m;
  uint64_t v = stack_read (c, bp, d->opsize);
  c->st.regs[CPU_REG_RSP] = (c->st.regs[CPU_REG_RSP] & ~m) | ((bp + d->opsize) & m);
  cpu_set_reg (c, CPU_REG_RBP, d->opsize, false, v);
}

static int64_t
rel (const DecodedInsn *d)
{
  if ((d->opcode & 0xf0) == 0x70 && d->map == 0)
    return (int8_t) d->imm;
  if (d->map == 0 && (d->opcode == 0xeb || (d->opcode >= 0xe0 && d->opcode <= 0xe3)))
    return (int8_t) d->imm;
  return d->opsize == 2 ? (int16_t) d->imm : (int32_t) d->imm;
}

void
op_jcc (SoftCpu *c, const DecodedInsn *d)
{
  if (cpu_cond (c, d->opcode & 0xf))
    cpu_jump_near (c, c->next_rip + rel (d), d->opsize);
}

void
op_jmp (SoftCpu *c, const DecodedInsn *d)
{
  cpu_jump_near (c, c->next_rip + rel (d), d->opsize);
}

static void
call_near (SoftCpu *c, uint64_t target, unsigned s)
{
  uint64_t t = c->mode64 ? target : target & sz_mask (s);
  if (c->mode64 ? !canonical (t) : t > c->st.seg[CPU_SEG_CS].limit)
    cpu_raise_gp (c, 0);
  cpu_push (c, s, c->next_rip);
  c->st.rip = t;
}

void
op_call (SoftCpu *c, const DecodedInsn *d)
{
  call_near (c, c->next_rip + rel (d), d->opsize);
}

void
op_ret (SoftCpu *c, const DecodedInsn *d)
{
  unsigned s = d->opsize;
  uint64_t sp = c->st.regs[CPU_REG_RSP];
  uint64_t t = stack_read (c, sp, s);
  cpu_jump_near (c, t, s);
  uint64_t add = s + (d->opcode == 0xc2 ? (d->imm & 0xffff) : 0);
  c->st.regs[CPU_REG_RSP] = (sp & ~sp_mask (c)) | ((sp + add) & sp_mask (c));
}

void
op_retf (SoftCpu *c, const DecodedInsn *d)
{
  cpu_far_ret (c, d->opsize, d->opcode == 0xca ? d->imm : 0);
}

void
op_jmpf (SoftCpu *c, const DecodedInsn *d)
{
  cpu_far_jump (c, d->imm2, d->imm, false, d->opsize);
}

void
op_callf (SoftCpu *c, const DecodedInsn *d)
{
  cpu_far_jump (c, d->imm2, d->imm, true, d->opsize);
}

void op_grp5_incdec (SoftCpu *c, const DecodedInsn *d);

void
op_grp5 (SoftCpu *c, const DecodedInsn *d)
{
  unsigned r = d->reg & 7;
  unsigned s = d->opsize;
  switch (r)
    {
    case 0:
    case 1:
      op_grp5_incdec (c, d);
      return;
    case 2: /* CALL near indirect: 64-bit operand in 64-bit mode */
    case 4:
      {
        unsigned ts = c->mode64 ? 8 : s;
        uint64_t t = op_rm (c, d, ts);
        if (r == 2)
          call_near (c, t, ts);
        else
          cpu_jump_near (c, t, ts);
        return;
      }
    case 3:
    case 5:
      {
        if (!(d->flags & DI_MEM))
          cpu_raise_ud (c);
        uint64_t ea = op_ea (c, d);
        unsigned os = s;
        uint64_t off = seg_read (c, d->seg, ea, os);
        uint16_t sel = seg_read (c, d->seg, (ea + os) & sz_mask (d->adsize), 2);
        cpu_far_jump (c, sel, off, r == 3, os);
        return;
      }
    case 6:
      {
        unsigned ps = c->mode64 ? (s == 2 ? 2 : 8) : s;
        cpu_push (c, ps, op_rm (c, d, ps));
        return;
      }
    default:
      cpu_unimplemented (c);
    }
}

void
op_loop (SoftCpu *c, const DecodedInsn *d)
{
  unsigned as = d->adsize;
  uint64_t cx = (c->st.regs[CPU_REG_RCX] - 1) & sz_mask (as);
  bool take = cx != 0;
  if (d->opcode == 0xe0)
    take = take && !(c->st.rflags & FL_ZF);
  else if (d->opcode == 0xe1)
    take = take && (c->st.rflags & FL_ZF);
  if (take)
    cpu_jump_near (c, c->next_rip + rel (d), d->opsize);
  cpu_set_reg (c, CPU_REG_RCX, as, false, cx);
}

void
op_jcxz (SoftCpu *c, const DecodedInsn *d)
{
  if ((c->st.regs[CPU_REG_RCX] & sz_mask (d->adsize)) == 0)
    cpu_jump_near (c, c->next_rip + rel (d), d->opsize);
}

static void
soft_int (SoftCpu *c, int vec)
{
  int saved = c->delivering;
  c->delivering = 256;
  cpu_deliver (c, vec, 0, false, true, c->next_rip);
  c->delivering = saved;
}

void
op_int (SoftCpu *c, const DecodedInsn *d)
{
  soft_int (c, d->imm & 0xff);
}

void
op_int3 (SoftCpu *c, const DecodedInsn *d)
{
  soft_int (c, EXC_BP);
}

void
op_into (SoftCpu *c, const DecodedInsn *d)
{
  if (c->st.rflags & FL_OF)
    soft_int (c, EXC_OF);
}

void
op_int1 (SoftCpu *c, const DecodedInsn *d)
{
  int saved = c->delivering;
  c->delivering = 256;
  cpu_deliver (c, EXC_DB, 0, false, false, c->next_rip);
  c->delivering = saved;
}

void
op_iret (SoftCpu *c, const DecodedInsn *d)
{
  cpu_iret (c, d->opsize);
  c->st.nmi_masked = 0;
  __atomic_store_n (&c->irq_flag, 1, __ATOMIC_RELAXED);
}

void
op_hlt (SoftCpu *c, const DecodedInsn *d)
{
  if (c->cpl != 0)
    cpu_raise_gp (c, 0);
  c->stop = SOFT_STOP_HLT;
}
