/* Data movement: MOV forms, MOVZX/MOVSX/MOVSXD, LEA, XCHG, XADD, CMPXCHG,
 * CMPXCHG8B/16B, CBW/CWD families, SETcc/CMOVcc, flag instructions, XLAT,
 * BSWAP and the BCD adjustments. */
#include "vmm-core/cpu/cpu-internal.h"

void
op_mov (SoftCpu *c, const DecodedInsn *d)
{
  unsigned size = (d->opcode & 1) ? d->opsize : 1;
  if (d->opcode & 2)
    op_set_reg (c, d, d->reg, size, op_rm (c, d, size));
  else
    op_set_rm (c, d, size, op_reg (c, d, d->reg, size));
}

void
op_mov_imm (SoftCpu *c, const DecodedInsn *d)
{
  unsigned n = (d->opcode & 7) | ((d->flags & DI_REX) && (d->rm & 8) ? 8 : 0);
  unsigned size = d->opcode >= 0xb8 ? d->opsize : 1;
  op_set_reg (c, d, n, size, d->imm);
}

void
op_mov_rm_imm (SoftCpu *c, const DecodedInsn *d)
{
  if (d->reg & 7)
    cpu_unimplemented (c);
  unsigned size = (d->opcode & 1) ? d->opsize : 1;
  uint64_t v = size == 1 ? d->imm : (uint64_t) sext (d->imm, d->opsize == 2 ? 2 : 4);
  op_set_rm (c, d, size, v);
}

void
op_mov_moffs (SoftCpu *c, const DecodedInsn *d)
{
  unsigned size = (d->opcode & 1) ? d->opsize : 1;
  uint64_t off = d->imm & sz_mask (d->adsize);
  if (d->opcode & 2)
    seg_write (c, d->seg, off, size, op_reg (c, d, CPU_REG_RAX, size));
  else
    op_set_reg (c, d, CPU_REG_RAX, size, seg_read (c, d->seg, off, size));
}

void
op_movzx (SoftCpu *c, const DecodedInsn *d)
{
  unsigned ssize = (d->opcode & 1) ? 2 : 1;
  op_set_reg (c, d, d->reg, d->opsize, op_rm (c, d, ssize));
}

void
op_movsx (SoftCpu *c, const DecodedInsn *d)
{
  unsigned ssize = (d->opcode & 1) ? 2 : 1;
  op_set_reg (c, d, d->reg, d->opsize, (uint64_t) sext (op_rm (c, d, ssize), ssize));
}

void
op_movsxd (SoftCpu *c, const DecodedInsn *d)
{
  if (!c->mode64)
    {
      op_arpl (c, d);
      return;
    }
  uint64_t v = op_rm (c, d, 4);
  op_set_reg (c, d, d->reg, d->opsize, d->opsize == 8 ? (uint64_t) (int32_t) v : v);
}

void
op_lea (SoftCpu *c, const DecodedInsn *d)
{
  if (!(d->flags & DI_MEM))
    cpu_raise_ud (c);
  op_set_reg (c, d, d->reg, d->opsize, op_ea (c, d));
}

static uint64_t
xchg_fn (SoftCpu *c, uint64_t a, uint64_t src, unsigned size, uint64_t *f)
{
  return src;
}

void
op_xchg (SoftCpu *c, const DecodedInsn *d)
{
  unsigned size = (d->opcode & 1) ? d->opsize : 1;
  uint64_t src = op_reg (c, d, d->reg, size);
  /* XCHG with memory is always locked. */
  DecodedInsn locked = *d;
  locked.flags |= DI_LOCK;
  uint64_t old = op_rmw (c, &locked, size, xchg_fn, src, 0);
  op_set_reg (c, d, d->reg, size, old);
}

void
op_xchg_ax (SoftCpu *c, const DecodedInsn *d)
{
  unsigned n = (d->opcode & 7) | ((d->rm & 8) && (d->flags & DI_REX) ? 8 : 0);
  if (n == 0)
    return; /* NOP; F3 90 is PAUSE */
  unsigned size = d->opsize;
  uint64_t a = op_reg (c, d, CPU_REG_RAX, size), b = op_reg (c, d, n, size);
  op_set_reg (c, d, CPU_REG_RAX, size, b);
  op_set_reg (c, d, n, size, a);
}

static uint64_t
xadd_fn (SoftCpu *c, uint64_t a, uint64_t src, unsigned size, uint64_t *f)
{
  uint64_t r = (a + src) & sz_mask (size);
  *f = flags_add (a, src, 0, r, size);
  return r;
}

void
op_xadd (SoftCpu *c, const DecodedInsn *d)
{
  unsigned size = (d->opcode & 1) ? d->opsize : 1;
  uint64_t src = op_reg (c, d, d->reg, size);
  uint64_t old = op_rmw (c, d, size, xadd_fn, src, FL_ARITH);
  op_set_reg (c, d, d->reg, size, old);
}

/* CMPXCHG: the accumulator is compared inside the RMW (so LOCK is atomic);
 * the result flag word carries the comparison. */
static _Thread_local uint64_t cx_acc;

static uint64_t
cmpxchg_fn (SoftCpu *c, uint64_t a, uint64_t src, unsigned size, uint64_t *f)
{
  uint64_t r = (cx_acc - a) & sz_mask (size);
  *f = flags_sub (cx_acc, a, 0, r, size);
  return a == cx_acc ? src : a;
}

void
op_cmpxchg (SoftCpu *c, const DecodedInsn *d)
{
  unsigned size = (d->opcode & 1) ? d->opsize : 1;
  cx_acc = op_reg (c, d, CPU_REG_RAX, size);
  uint64_t src = op_reg (c, d, d->reg, size);
  uint64_t acc = cx_acc;
  uint64_t old = op_rmw (c, d, size, cmpxchg_fn, src, FL_ARITH);
  if (old != acc)
    op_set_reg (c, d, CPU_REG_RAX, size, old);
}

/* 0F C7: /1 CMPXCHG8B/16B; others (RDRAND...) are not advertised. */
void
op_grp9 (SoftCpu *c, const DecodedInsn *d)
{
  if ((d->reg & 7) != 1 || !(d->flags & DI_MEM))
    cpu_unimplemented (c);
  bool wide = d->opsize == 8;
  unsigned size = wide ? 16 : 8;
  uint64_t off = op_ea (c, d);
  uint64_t lin = seg_lin (c, d->seg, off, size, ACC_WRITE);
  if (wide && (lin & 15))
    cpu_raise_gp (c, 0);
  uint64_t *r = c->st.regs;
  if (!wide)
    {
      uint64_t expect = (r[CPU_REG_RAX] & 0xffffffff) | (r[CPU_REG_RDX] << 32);
      uint64_t desired = (r[CPU_REG_RBX] & 0xffffffff) | (r[CPU_REG_RCX] << 32);
      uint8_t *p = lin_rmw_ptr (c, lin, 8);
      uint64_t old;
      bool ok;
      if (p)
        {
          old = expect;
          ok = __atomic_compare_exchange_n ((uint64_t *) p, &old, desired, false,
                                            __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        }
      else
        {
          old = lin_read (c, lin, 8);
          ok = old == expect;
          lin_write (c, lin, 8, ok ? desired : old);
        }
      if (ok)
        c->st.rflags |= FL_ZF;
      else
        {
          c->st.rflags &= ~(uint64_t) FL_ZF;
          r[CPU_REG_RAX] = old & 0xffffffff;
          r[CPU_REG_RDX] = old >> 32;
        }
      return;
    }
  __uint128_t expect = ((__uint128_t) r[CPU_REG_RDX] << 64) | r[CPU_REG_RAX];
  __uint128_t desired = ((__uint128_t) r[CPU_REG_RCX] << 64) | r[CPU_REG_RBX];
  uint8_t *p = lin_rmw_ptr (c, lin, 16);
  __uint128_t old;
  bool ok;
  if (p)
    {
      /* The host is x86-64: LOCK CMPXCHG16B on the guest RAM itself. */
      uint64_t lo = (uint64_t) expect, hi = (uint64_t) (expect >> 64);
      __asm__ volatile ("lock cmpxchg16b %0; setz %2"
                        : "+m" (*(volatile __uint128_t *) p), "+a" (lo), "=q" (ok), "+d" (hi)
                        : "b" ((uint64_t) desired), "c" ((uint64_t) (desired >> 64))
                        : "memory", "cc");
      old = ((__uint128_t) hi << 64) | lo;
    }
  else
    {
      uint64_t lo = lin_read (c, lin, 8), hi = lin_read (c, lin + 8, 8);
      old = ((__uint128_t) hi << 64) | lo;
      ok = old == expect;
      __uint128_t w = ok ? desired : old;
      lin_write (c, lin, 8, (uint64_t) w);
      lin_write (c, lin + 8, 8, (uint64_t) (w >> 64));
    }
  if (ok)
    c->st.rflags |= FL_ZF;
  else
    {
      c->st.rflags &= ~(uint64_t) FL_ZF;
      r[CPU_REG_RAX] = (uint64_t) old;
      r[CPU_REG_RDX] = (uint64_t) (old >> 64);
    }
}

void
op_cbw (SoftCpu *c, const DecodedInsn *d)
{
  unsigned s = d->opsize;
  uint64_t v = (uint64_t) sext (c->st.regs[CPU_REG_RAX], s / 2);
  cpu_set_reg (c, CPU_REG_RAX, s, false, v);
}

void
op_cwd (SoftCpu *c, const DecodedInsn *d)
{
  unsigned s = d->opsize;
  uint64_t v = sext (c->st.regs[CPU_REG_RAX], s) < 0 ? ~0ull : 0;
  cpu_set_reg (c, CPU_REG_RDX, s, false, v);
}

void
op_setcc (SoftCpu *c, const DecodedInsn *d)
{
  op_set_rm (c, d, 1, cpu_cond (c, d->opcode & 0xf));
}

void
op_cmov (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t v = op_rm (c, d, d->opsize);
  if (cpu_cond (c, d->opcode & 0xf))
    op_set_reg (c, d, d->reg, d->opsize, v);
  else if (d->opsize == 4)
    op_set_reg (c, d, d->reg, 4, op_reg (c, d, d->reg, 4));
}

void
op_lahf (SoftCpu *c, const DecodedInsn *d)
{
  cpu_set_reg (c, CPU_REG_RSP, 1, false, (c->st.rflags & 0xd5) | 2); /* AH */
}

void
op_sahf (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t ah = (c->st.regs[CPU_REG_RAX] >> 8) & 0xd5;
  c->st.rflags = (c->st.rflags & ~0xffull) | ah | 2;
}

void
op_flagop (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t *f = &c->st.rflags;
  unsigned iopl = (*f >> 12) & 3;
  switch (d->opcode)
    {
    case 0xf5: *f ^= FL_CF; break;
    case 0xf8: *f &= ~(uint64_t) FL_CF; break;
    case 0xf9: *f |= FL_CF; break;
    case 0xfa:
      if (c->pe && (c->vm86 ? iopl < 3 : c->cpl > iopl))
        cpu_raise_gp (c, 0);
      *f &= ~(uint64_t) FL_IF;
      break;
    case 0xfb:
      if (c->pe && (c->vm86 ? iopl < 3 : c->cpl > iopl))
        cpu_raise_gp (c, 0);
      if (!(*f & FL_IF))
        {
          *f |= FL_IF;
          c->st.interrupt_shadow = 1;
          __atomic_store_n (&c->irq_flag, 1, __ATOMIC_RELAXED);
        }
      break;
    case 0xfc: *f &= ~(uint64_t) FL_DF; break;
    default: *f |= FL_DF; break;
    }
}

void
op_nop (SoftCpu *c, const DecodedInsn *d)
{
}

void
op_nop_modrm (SoftCpu *c, const DecodedInsn *d)
{
  /* Hint NOPs and prefetches: no memory access, no fault. */
}

void
op_xlat (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t off = (c->st.regs[CPU_REG_RBX] + (c->st.regs[CPU_REG_RAX] & 0xff)) & sz_mask (d->adsize);
  cpu_set_reg (c, CPU_REG_RAX, 1, false, seg_read (c, d->seg, off, 1));
}

void
op_bswap (SoftCpu *c, const DecodedInsn *d)
{
  unsigned n = (d->opcode & 7) | ((d->flags & DI_REX) && (d->rm & 8) ? 8 : 0);
  uint64_t v = c->st.regs[n];
  if (d->opsize == 8)
    c->st.regs[n] = __builtin_bswap64 (v);
  else if (d->opsize == 4)
    c->st.regs[n] = __builtin_bswap32 ((uint32_t) v);
  else
    cpu_set_reg (c, n, 2, false, 0); /* 16-bit BSWAP: undefined; hardware gives 0 */
}

void
op_daa_das (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t *f = &c->st.rflags;
  uint8_t al = c->st.regs[CPU_REG_RAX], old_al = al;
  bool old_cf = *f & FL_CF, cf = false, af = false;
  bool sub = d->opcode == 0x2f;
  if ((al & 0xf) > 9 || (*f & FL_AF))
    {
      cf = old_cf || (sub ? al < 6 : al > 0xf9);
      al = sub ? al - 6 : al + 6;
      af = true;
    }
  if (old_al > 0x99 || old_cf)
    {
      al = sub ? al - 0x60 : al + 0x60;
      cf = true;
    }
  cpu_set_reg (c, CPU_REG_RAX, 1, false, al);
  cpu_set_arith (c, flags_logic (al, 1) | (cf ? FL_CF : 0) | (af ? FL_AF : 0));
}

void
op_aaa_aas (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t *f = &c->st.rflags;
  uint16_t ax = c->st.regs[CPU_REG_RAX];
  bool adj = (ax & 0xf) > 9 || (*f & FL_AF);
  if (adj)
    {
      if (d->opcode == 0x37)
        ax = ((ax + 0x106) & 0xff0f);
      else
        ax = ((ax - 6) & 0xff) | (((ax >> 8) - 1) << 8), ax &= 0xff0f;
    }
  else
    ax &= 0xff0f;
  cpu_set_reg (c, CPU_REG_RAX, 2, false, ax);
  cpu_set_arith (c, flags_logic (ax & 0xff, 1) | (adj ? FL_CF | FL_AF : 0));
}

void
op_aam (SoftCpu *c, const DecodedInsn *d)
{
  uint8_t base = d->imm, al = c->st.regs[CPU_REG_RAX];
  if (base == 0)
    cpu_raise (c, EXC_DE, 0, false);
  uint8_t ah = al / base;
  al %= base;
  cpu_set_reg (c, CPU_REG_RAX, 2, false, al | (ah << 8));
  cpu_set_arith (c, flags_logic (al, 1));
}

void
op_aad (SoftCpu *c, const DecodedInsn *d)
{
  uint16_t ax = c->st.regs[CPU_REG_RAX];
  uint8_t al = (ax & 0xff) + ((ax >> 8) * (uint8_t) d->imm);
  cpu_set_reg (c, CPU_REG_RAX, 2, false, al);
  cpu_set_arith (c, flags_logic (al, 1));
}

void
op_salc (SoftCpu *c, const DecodedInsn *d)
{
  cpu_set_reg (c, CPU_REG_RAX, 1, false, (c->st.rflags & FL_CF) ? 0xff : 0);
}

void
op_bound (SoftCpu *c, const DecodedInsn *d)
{
  if (!(d->flags & DI_MEM))
    cpu_raise_ud (c);
  unsigned s = d->opsize;
  uint64_t off = op_ea (c, d);
  int64_t lo = sext (seg_read (c, d->seg, off, s), s);
  int64_t hi = sext (seg_read (c, d->seg, (off + s) & sz_mask (d->adsize), s), s);
  int64_t v = sext (op_reg (c, d, d->reg, s), s);
  if (v < lo || v > hi)
    cpu_raise (c, EXC_BR, 0, false);
}

void
op_arpl (SoftCpu *c, const DecodedInsn *d)
{
  if (!c->pe || c->vm86)
    cpu_raise_ud (c);
  uint64_t dst = op_rm (c, d, 2), src = op_reg (c, d, d->reg, 2);
  if ((dst & 3) < (src & 3))
    {
      op_set_rm (c, d, 2, (dst & ~3ull) | (src & 3));
      c->st.rflags |= FL_ZF;
    }
  else
    c->st.rflags &= ~(uint64_t) FL_ZF;
}
