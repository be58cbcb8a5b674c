/* Bit tests (BT/BTS/BTR/BTC, register and immediate forms) and bit scans. */
#include "vmm-core/cpu/cpu-internal.h"

static _Thread_local unsigned bt_op; /* 0 BT, 1 BTS, 2 BTR, 3 BTC */

static uint64_t
bt_fn (SoftCpu *c, uint64_t a, uint64_t bit, unsigned size, uint64_t *f)
{
  uint64_t m = 1ull << bit;
  *f = (a & m) ? FL_CF : 0;
  switch (bt_op)
    {
    case 1: return a | m;
    case 2: return a & ~m;
    default: return a ^ m;
    }
}

static void
bit_op (SoftCpu *c, const DecodedInsn *d, unsigned op, int64_t offset, bool reg_offset)
{
  unsigned size = d->opsize, w = size * 8;
  uint64_t bit;
  DecodedInsn dd = *d;
  if ((d->flags & DI_MEM) && reg_offset)
    {
      /* A register bit offset is signed and may reach outside the operand. */
      int64_t words = offset >> (size == 2 ? 4 : size == 4 ? 5 : 6);
      dd.disp = 0;
      dd.flags &= ~DI_RIPREL;
      uint64_t ea = (op_ea (c, d) + (uint64_t) (words * (int64_t) size)) & sz_mask (d->adsize);
      dd.base = DI_NO_REG;
      dd.index = DI_NO_REG;
      dd.disp = 0;
      bit = (uint64_t) offset & (w - 1);
      if (op == 0)
        {
          uint64_t v = seg_read (c, d->seg, ea, size);
          c->st.rflags = (c->st.rflags & ~(uint64_t) FL_CF) | ((v >> bit) & 1);
          return;
        }
      /* Rebuild an absolute-address operand for the RMW helper. */
      dd.disp = 0;
      uint64_t saved_rip = c->next_rip;
      dd.flags |= DI_RIPREL;
      c->next_rip = ea;
      bt_op = op;
      op_rmw (c, &dd, size, bt_fn, bit, FL_CF);
      c->next_rip = saved_rip;
      return;
    }
  bit = (uint64_t) offset & (w - 1);
  if (op == 0)
    {
      uint64_t v = op_rm (c, d, size);
      c->st.rflags = (c->st.rflags & ~(uint64_t) FL_CF) | ((v >> bit) & 1);
      return;
    }
  bt_op = op;
  op_rmw (c, d, size, bt_fn, bit, FL_CF);
}

void
op_bt (SoftCpu *c, const DecodedInsn *d)
{
  unsigned op = d->opcode == 0xa3 ? 0 : d->opcode == 0xab ? 1 : d->opcode == 0xb3 ? 2 : 3;
  int64_t off = sext (op_reg (c, d, d->reg, d->opsize), d->opsize);
  bit_op (c, d, op, off, true);
}

void
op_bt_grp8 (SoftCpu *c, const DecodedInsn *d)
{
  unsigned r = d->reg & 7;
  if (r < 4)
    cpu_unimplemented (c);
  bit_op (c, d, r - 4, d->imm & 0xff, false);
}

void
op_bsf (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t v = op_rm (c, d, d->opsize);
  if (v == 0)
    {
      c->st.rflags |= FL_ZF;
      return;
    }
  c->st.rflags &= ~(uint64_t) FL_ZF;
  op_set_reg (c, d, d->reg, d->opsize, __builtin_ctzll (v));
}

void
op_bsr (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t v = op_rm (c, d, d->opsize);
  if (v == 0)
    {
      c->st.rflags |= FL_ZF;
      return;
    }
  c->st.rflags &= ~(uint64_t) FL_ZF;
  op_set_reg (c, d, d->reg, d->opsize, 63 - __builtin_clzll (v));
}
