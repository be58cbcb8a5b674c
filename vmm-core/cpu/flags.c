/* Arithmetic flags: the parity table, condition codes and RFLAGS writes.
 * The flag computations themselves are inline in cpu-internal.h (kept behind
 * helpers so lazy flags can replace them later). */
#include "vmm-core/cpu/cpu-internal.h"

#define P2(n) n, n ^ 1, n ^ 1, n
#define P4(n) P2 (n), P2 (n ^ 1), P2 (n ^ 1), P2 (n)
#define P6(n) P4 (n), P4 (n ^ 1), P4 (n ^ 1), P4 (n)
#define P8(n) P6 (n), P6 (n ^ 1), P6 (n ^ 1), P6 (n)
/* 1 when the byte has an even number of set bits. */
const uint8_t parity_table[256] = { P8 (1) };

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
