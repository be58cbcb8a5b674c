/* Shifts and rotates (C0/C1/D0-D3), SHLD/SHRD, with exact CF/OF. */
#include "vmm-core/cpu/cpu-internal.h"

typedef struct ShiftCtx {
  unsigned op, count;
} ShiftCtx;

/* Returns the result; *f gets the full flag word to merge (mask in *m). */
static uint64_t
shift_compute (uint64_t fl_in, unsigned op, uint64_t a, unsigned count, unsigned size,
               uint64_t *f, uint64_t *m)
{
  unsigned w = size * 8;
  uint64_t mask = sz_mask (size), r = a & mask, cf = 0, of = 0;
  a &= mask;
  *m = 0;
  *f = 0;
  if (count == 0)
    return a;
  uint64_t msb = 1ull << (w - 1);
  switch (op)
    {
    case 0: /* ROL */
      {
        unsigned n = count % w;
        r = n ? ((a << n) | (a >> (w - n))) & mask : a;
        cf = r & 1;
        of = (!!(r & msb)) ^ cf;
        *m = FL_CF | FL_OF;
        break;
      }
    case 1: /* ROR */
      {
        unsigned n = count % w;
        r = n ? ((a >> n) | (a << (w - n))) & mask : a;
        cf = !!(r & msb);
        of = cf ^ !!(r & (msb >> 1));
        *m = FL_CF | FL_OF;
        break;
      }
    case 2: /* RCL */
    case 3: /* RCR */
      {
        unsigned n = size < 4 ? count % (w + 1) : count;
        uint64_t c_in = fl_in & FL_CF;
        if (n == 0)
          return a;
        for (unsigned i = 0; i < n; i++)
          {
            if (op == 2)
              {
                uint64_t out = !!(r & msb);
                r = ((r << 1) | c_in) & mask;
                c_in = out;
              }
            else
              {
                uint64_t out = r & 1;
                r = (r >> 1) | (c_in ? msb : 0);
                c_in = out;
              }
          }
        cf = c_in;
        if (op == 2)
          of = (!!(r & msb)) ^ cf;
        else
          of = (!!(r & msb)) ^ !!(r & (msb >> 1));
        *m = FL_CF | FL_OF;
        break;
      }
    case 4: /* SHL */
    case 6:
      r = count < w ? (a << count) & mask : 0;
      cf = count <= w ? (a >> (w - count)) & 1 : 0;
      of = (!!(r & msb)) ^ cf;
      *m = FL_ARITH;
      break;
    case 5: /* SHR */
      r = count < w ? a >> count : 0;
      cf = count <= w ? (a >> (count - 1)) & 1 : 0;
      of = !!(a & msb);
      *m = FL_ARITH;
      break;
    default: /* SAR */
      {
        int64_t sa = sext (a, size);
        unsigned n = count < w ? count : w - 1;
        r = (uint64_t) (sa >> n) & mask;
        cf = count < w ? ((uint64_t) (sa >> (count - 1))) & 1 : !!(a & msb);
        of = 0;
        *m = FL_ARITH;
        break;
      }
    }
  if (*m == FL_ARITH)
    *f = flags_logic (r, size);
  *f |= (cf ? FL_CF : 0) | (of ? FL_OF : 0);
  return r;
}

static _Thread_local ShiftCtx shift_ctx;
static _Thread_local uint64_t shift_mask_out;

static uint64_t
shift_fn (SoftCpu *c, uint64_t a, uint64_t src, unsigned size, uint64_t *f)
{
  return shift_compute (c->st.rflags, shift_ctx.op, a, shift_ctx.count, size, f,
                        &shift_mask_out);
}

void
op_shift_grp2 (SoftCpu *c, const DecodedInsn *d)
{
  unsigned size = (d->opcode & 1) ? d->opsize : 1;
  unsigned count;
  if (d->opcode <= 0xc1)
    count = d->imm;
  else if (d->opcode <= 0xd1)
    count = 1;
  else
    count = c->st.regs[CPU_REG_RCX] & 0xff;
  count &= size == 8 ? 63 : 31;
  if (count == 0)
    {
      /* No flags change, but the operand is still accessed and a 32-bit
       * register destination is still written (upper half cleared). */
      uint64_t v = op_rm (c, d, size);
      if (size == 4 && !(d->flags & DI_MEM))
        op_set_reg (c, d, d->rm, 4, v);
      return;
    }
  shift_ctx.op = d->reg & 7;
  shift_ctx.count = count;
  /* Flag mask depends on the operation: compute it once up front. */
  uint64_t dummy_f, m;
  shift_compute (c->st.rflags, shift_ctx.op, 1, count, size, &dummy_f, &m);
  op_rmw (c, d, size, shift_fn, 0, m);
}

static uint64_t
shld_compute (uint64_t a, uint64_t b, unsigned count, unsigned size, bool left, uint64_t *f)
{
  unsigned w = size * 8;
  uint64_t mask = sz_mask (size), r, cf;
  a &= mask;
  b &= mask;
  if (size == 2 && count >= 16)
    {
      /* 16-bit with count 16-31: hardware shifts through a 48-bit
       * dest:src:dest value (dest:src for a left shift, src:dest right). */
      if (left)
        {
          __uint128_t x = ((__uint128_t) a << 32) | ((uint64_t) b << 16) | a;
          r = (uint64_t) (x >> (32 - count)) & mask;
          cf = (uint64_t) (x >> (48 - count)) & 1;
        }
      else
        {
          __uint128_t x = (__uint128_t) a | ((__uint128_t) b << 16) | ((__uint128_t) a << 32);
          r = (uint64_t) (x >> count) & mask;
          cf = (uint64_t) (x >> (count - 1)) & 1;
        }
    }
  else if (left)
    {
      r = ((a << count) | (count < w ? b >> (w - count) : 0)) & mask;
      cf = (a >> (w - count)) & 1;
    }
  else
    {
      r = ((a >> count) | (count < w ? b << (w - count) : 0)) & mask;
      cf = (a >> (count - 1)) & 1;
    }
  uint64_t msb = 1ull << (w - 1);
  *f = flags_logic (r, size) | (cf ? FL_CF : 0) | (((r ^ a) & msb) ? FL_OF : 0);
  return r;
}

static _Thread_local unsigned shd_count;
static _Thread_local bool shd_left;

static uint64_t
shd_fn (SoftCpu *c, uint64_t a, uint64_t src, unsigned size, uint64_t *f)
{
  return shld_compute (a, src, shd_count, size, shd_left, f);
}

static void
shxd (SoftCpu *c, const DecodedInsn *d, bool left)
{
  unsigned size = d->opsize;
  unsigned count = (d->opcode & 1) ? c->st.regs[CPU_REG_RCX] & 0xff : d->imm;
  count &= size == 8 ? 63 : 31;
  if (count == 0)
    {
      uint64_t v = op_rm (c, d, size);
      if (size == 4 && !(d->flags & DI_MEM))
        op_set_reg (c, d, d->rm, 4, v);
      return;
    }
  shd_count = count;
  shd_left = left;
  op_rmw (c, d, size, shd_fn, op_reg (c, d, d->reg, size), FL_ARITH);
}

void
op_shld (SoftCpu *c, const DecodedInsn *d)
{
  shxd (c, d, true);
}

void
op_shrd (SoftCpu *c, const DecodedInsn *d)
{
  shxd (c, d, false);
}
