/* MUL/IMUL/DIV/IDIV: one-operand forms (F6/F7 /4-/7), IMUL r,r/m(,imm). */
#include "vmm-core/cpu/cpu-internal.h"

void op_muldiv (SoftCpu *c, const DecodedInsn *d, unsigned size);

static uint64_t
mul_flags (bool overflow, uint64_t low, unsigned size)
{
  return flags_logic (low, size) | (overflow ? FL_CF | FL_OF : 0);
}

void
op_muldiv (SoftCpu *c, const DecodedInsn *d, unsigned size)
{
  uint64_t src = op_rm (c, d, size), m = sz_mask (size);
  unsigned w = size * 8;
  uint64_t *rax = &c->st.regs[CPU_REG_RAX];
  uint64_t a = *rax & m;
  uint64_t hi_in = size == 1 ? (*rax >> 8) & 0xff : c->st.regs[CPU_REG_RDX] & m;
  uint64_t lo, hi;
  switch (d->reg & 7)
    {
    case 4: /* MUL */
      {
        __uint128_t p = (__uint128_t) a * src;
        lo = (uint64_t) p & m;
        hi = (uint64_t) (size == 8 ? p >> 64 : p >> w) & m;
        cpu_set_arith (c, mul_flags (hi != 0, lo, size));
        break;
      }
    case 5: /* IMUL */
      {
        __int128 p = (__int128) sext (a, size) * sext (src, size);
        lo = (uint64_t) p & m;
        hi = (uint64_t) (p >> w) & m;
        cpu_set_arith (c, mul_flags (p != (__int128) sext (lo, size), lo, size));
        break;
      }
    case 6: /* DIV */
      {
        if (src == 0)
          cpu_raise (c, EXC_DE, 0, false);
        __uint128_t n = ((__uint128_t) hi_in << w) | a;
        __uint128_t q = n / src;
        if (q > m)
          cpu_raise (c, EXC_DE, 0, false);
        lo = (uint64_t) q;
        hi = (uint64_t) (n % src);
        break;
      }
    default: /* IDIV */
      {
        if (src == 0)
          cpu_raise (c, EXC_DE, 0, false);
        __int128 n = (__int128) (((__uint128_t) hi_in << w) | a);
        if (size < 8)
          n = (__int128) sext ((uint64_t) n, size * 2 > 8 ? 8 : size * 2);
        __int128 dv = sext (src, size);
        __int128 min = -((__int128) 1 << (w - 1)), max = ((__int128) 1 << (w - 1)) - 1;
        if (size == 8 && n == (__int128) ((__uint128_t) 1 << 127) && dv == -1)
          cpu_raise (c, EXC_DE, 0, false);
        __int128 q = n / dv;
        if (q < min || q > max)
          cpu_raise (c, EXC_DE, 0, false);
        lo = (uint64_t) q & m;
        hi = (uint64_t) (n % dv) & m;
        break;
      }
    }
  if (size == 1)
    cpu_set_reg (c, CPU_REG_RAX, 2, false, lo | (hi << 8));
  else
    {
      cpu_set_reg (c, CPU_REG_RAX, size, false, lo);
      cpu_set_reg (c, CPU_REG_RDX, size, false, hi);
    }
}

static void
imul_to_reg (SoftCpu *c, const DecodedInsn *d, uint64_t a, uint64_t b)
{
  unsigned size = d->opsize;
  __int128 p = (__int128) sext (a, size) * sext (b, size);
  uint64_t lo = (uint64_t) p & sz_mask (size);
  cpu_set_arith (c, mul_flags (p != (__int128) sext (lo, size), lo, size));
  op_set_reg (c, d, d->reg, size, lo);
}

void
op_imul2 (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t b = op_rm (c, d, d->opsize);
  imul_to_reg (c, d, op_reg (c, d, d->reg, d->opsize), b);
}

void
op_imul3 (SoftCpu *c, const DecodedInsn *d)
{
  uint64_t a = op_rm (c, d, d->opsize);
  uint64_t imm = d->opcode == 0x6b ? (uint64_t) (int8_t) d->imm
                                   : (uint64_t) sext (d->imm, d->opsize == 2 ? 2 : 4);
  imul_to_reg (c, d, a, imm);
}
