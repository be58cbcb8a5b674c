/* Arithmetic flags, computed eagerly from operands and result.
 * (Kept behind these helpers so lazy flags can replace them later.) */
#include "vmm-core/cpu/cpu-internal.h"

#define P2(n) n, n ^ 1, n ^ 1, n
#define P4(n) P2 (n), P2 (n ^ 1), P2 (n ^ 1), P2 (n)
#define P6(n) P4 (n), P4 (n ^ 1), P4 (n ^ 1), P4 (n)
#define P8(n) P6 (n), P6 (n ^ 1), P6 (n ^ 1), P6 (n)
/* 1 when the byte has an even number of set bits. */
const uint8_t parity_table[256] = { P8 (1) };

static inline uint64_t
szp (uint64_t res, unsigned size)
{
  uint64_t f = 0;
  res &= sz_mask (size);
  if (res == 0)
    f |= FL_ZF;
  if (res >> (size * 8 - 1))
    f |= FL_SF;
  if (parity_table[res & 0xff])
    f |= FL_PF;
  return f;
}

uint64_t
flags_logic (uint64_t res, unsigned size)
{
  return szp (res, size);
}

uint64_t
flags_add (uint64_t a, uint64_t b, uint64_t cin, uint64_t res, unsigned size)
{
  uint64_t m = sz_mask (size), top = 1ull << (size * 8 - 1);
  a &= m;
  b &= m;
  res &= m;
  uint64_t f = szp (res, size);
  if (res < a || (cin && res == a))
    f |= FL_CF;
  if ((a ^ b ^ res) & 0x10)
    f |= FL_AF;
  if ((~(a ^ b) & (a ^ res)) & top)
    f |= FL_OF;
  return f;
}

uint64_t
flags_sub (uint64_t a, uint64_t b, uint64_t bin, uint64_t res, unsigned size)
{
  uint64_t m = sz_mask (size), top = 1ull << (size * 8 - 1);
  a &= m;
  b &= m;
  res &= m;
  uint64_t f = szp (res, size);
  if (a < b || (bin && a == b))
    f |= FL_CF;
  if ((a ^ b ^ res) & 0x10)
    f |= FL_AF;
  if (((a ^ b) & (a ^ res)) & top)
    f |= FL_OF;
  return f;
}

bool
cpu_cond (SoftCpu *c, unsigned cc)
{
  uint64_t f = c->st.rflags;
  bool r;
  switch ((cc >> 1) & 7)
    {
    case 0: r = f & FL_OF; break;
    case 1: r = f & FL_CF; break;
    case 2: r = f & FL_ZF; break;
    case 3: r = (f & FL_CF) || (f & FL_ZF); break;
    case 4: r = f & FL_SF; break;
    case 5: r = f & FL_PF; break;
    case 6: r = !!(f & FL_SF) != !!(f & FL_OF); break;
    default: r = (f & FL_ZF) || (!!(f & FL_SF) != !!(f & FL_OF)); break;
    }
  return (cc & 1) ? !r : r;
}

void
cpu_write_flags (SoftCpu *c, uint64_t v, uint64_t mask)
{
  c->st.rflags = (c->st.rflags & ~mask) | (v & mask);
  c->st.rflags = (c->st.rflags & 0x3f7fd5ull) | 2;
}
