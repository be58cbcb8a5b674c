/* Random x87 cases for the differential tests (see diff-x87-cases.h). */
#include <stdio.h>
#include <string.h>

#include "diff-x87-cases.h"

static const struct { uint64_t mant; uint16_t se; } ld_edges[] = {
  { 0, 0 }, { 0, 0x8000 }, { 0x8000000000000000, 0x3fff }, { 0x8000000000000000, 0xbfff },
  { 0xc000000000000000, 0x3fff }, { 0xc000000000000000, 0xbffe }, { 0xc90fdaa22168c235, 0x4000 },
  { 0xffffffffffffffff, 0x7ffe }, { 0x8000000000000000, 0x0001 }, { 0x0000000000000001, 0x0000 },
  { 0x4000000000000000, 0x8000 }, { 0x8000000000000001, 0x0000 }, /* pseudo-denormal */
  { 0x4000000000000000, 0x3fff }, /* unnormal */ { 0x8000000000000000, 0x7fff },
  { 0x8000000000000000, 0xffff }, { 0xc000000000000000, 0x7fff }, { 0xa000000000000000, 0x7fff },
  { 0xc000000000000000, 0xffff }, { 0x4000000000000000, 0x7fff }, /* pseudo-NaN */
  { 0x8000000000000000, 0x403e }, /* 2^63 */ { 0xffffffffffffffff, 0x403d },
  { 0x8000000000000000, 0x401e }, /* 2^31 */ { 0x8000000000000000, 0x400e }, /* 2^15 */
  { 0xde0b6b3a763fffff, 0x403a }, /* ~1e18 */ { 0x8000000000000000, 0x3ffe }, /* 0.5 */
  { 0xa000000000000000, 0x4000 }, /* 2.5 */ { 0x8000000000000000, 0x403f }, /* 2^64 */
  { 0x8000000000000000, 0x3c01 }, /* double min normal */ { 0x8000000000000000, 0x3f81 },
  { 0x8000000000000000, 0x43ff }, { 0x8000000000000000, 0x407f },
};

static uint64_t
rand64 (GRand *r)
{
  return (uint64_t) g_rand_int (r) << 32 | g_rand_int (r);
}

static void
random_ld (GRand *r, uint8_t *v)
{
  uint64_t mant;
  uint16_t se;
  unsigned k = g_rand_int_range (r, 0, 10);

  if (k < 5)
    {
      unsigned i = g_rand_int_range (r, 0, G_N_ELEMENTS (ld_edges));
      mant = ld_edges[i].mant;
      se = ld_edges[i].se;
    }
  else if (k < 8)
    {
      long double d = (long double) g_rand_double_range (r, -1e7, 1e7);
      if (k == 7)
        d = (long double) g_rand_int_range (r, -40000, 40000) / 4;
      uint8_t b[16] = { 0 };
      memcpy (b, &d, 10);
      memcpy (&mant, b, 8);
      memcpy (&se, b + 8, 2);
    }
  else
    {
      mant = rand64 (r) | (k == 8 ? UINT64_C (1) << 63 : 0);
      se = (g_rand_int (r) & 0x8000) | (0x3fff + g_rand_int_range (r, -80, 80));
    }
  memcpy (v, &mant, 8);
  memcpy (v + 8, &se, 2);
}

static bool
excluded (uint8_t o, bool mem, unsigned reg, unsigned rm)
{
  if (mem)
    return (o == 0xd9 && (reg == 4 || reg == 6)) || (o == 0xdd && (reg == 4 || reg == 6))
           || ((o == 0xdb || o == 0xdd || o == 0xdf) && reg == 1); /* FISTTP: SSE3 */
  /* FSTP1 (D9 D8+i), an undocumented alias: AMD skips the empty-ST0 check. */
  return o == 0xd9 && reg == 3;
}

void
diff_x87_make (GRand *r, X87Case *c)
{
  uint8_t o;
  bool mem;
  unsigned reg, rm;

  memset (c, 0, sizeof *c);
  do
    {
      o = 0xd8 + g_rand_int_range (r, 0, 8);
      mem = g_rand_int_range (r, 0, 5) < 2;
      reg = g_rand_int_range (r, 0, 8);
      rm = mem ? 3 : g_rand_int_range (r, 0, 8);
    }
  while (excluded (o, mem, reg, rm));
  c->bytes[0] = o;
  c->bytes[1] = (mem ? 0 : 0xc0) | reg << 3 | rm;
  c->len = 2;

  FxState *fx = &c->fx;
  simd_reset (fx);
  static const uint16_t pcs[] = { 0x000, 0x200, 0x300, 0x300 };
  fx->fcw = 0x107f | pcs[g_rand_int_range (r, 0, 4)] | g_rand_int_range (r, 0, 4) << 10;
  fx->fcw &= ~0x1000; /* infinity control: reads back as set on some hosts, keep clear */
  if (g_rand_int_range (r, 0, 6) == 0)
    fx->fcw &= ~(g_rand_int (r) & 0x3f); /* unmask some exceptions */
  /* Biased results of unmasked overflow/underflow are implemented for the
   * basic arithmetic, not for FSCALE and the transcendentals. */
  if (o == 0xd9 && !mem && reg >= 6)
    fx->fcw |= 0x18;
  fx->fsw = g_rand_int_range (r, 0, 8) << 11 | (g_rand_int (r) & 0x4700);
  if (g_rand_int_range (r, 0, 4) == 0)
    fx->fsw |= g_rand_int (r) & 0x3f & fx->fcw; /* masked sticky flags */
  if (g_rand_int_range (r, 0, 40) == 0)
    fx->fsw |= 0x01; /* maybe a pending unmasked exception */
  if (fx->fsw & ~fx->fcw & 0x3f)
    fx->fsw |= 0x8080;
  switch (g_rand_int_range (r, 0, 3))
    {
    case 0: fx->ftw = 0xff; break;
    case 1: fx->ftw = g_rand_int (r); break;
    default:
      {
        unsigned depth = g_rand_int_range (r, 0, 9), top = (fx->fsw >> 11) & 7;
        for (unsigned i = 0; i < depth; i++)
          fx->ftw |= 1u << ((top + i) & 7);
      }
    }
  for (unsigned i = 0; i < 8; i++)
    random_ld (r, fx->st[i].v);

  for (unsigned off = 0; off < 64; off += 8)
    {
      uint64_t v;
      switch (g_rand_int_range (r, 0, 5))
        {
        case 0: v = rand64 (r); break;
        case 1: { double d = g_rand_double_range (r, -1e6, 1e6); memcpy (&v, &d, 8); break; }
        case 2: { float f[2] = { (float) g_rand_double_range (r, -1e4, 1e4), 1.0f }; memcpy (&v, f, 8); break; }
        case 3: v = (uint64_t) (int64_t) g_rand_int_range (r, -100000, 100000); break;
        default:
          {
            static const uint64_t e[] = { 0, 0x8000000000000000, 0x7ff0000000000001, 0x7fc00000ff800000,
                                          0x0000000100000001, 0x8000000080008000, 0x0099999999999999,
                                          0x7fffffffffffffff, 0x00000000ffffffff };
            v = e[g_rand_int_range (r, 0, G_N_ELEMENTS (e))];
          }
        }
      memcpy (c->data + off, &v, 8);
    }
  c->io[0] = rand64 (r);
  c->io[1] = DIFF_DATA_ADDR + 8 * g_rand_int_range (r, 0, 4);
  c->io[2] = 0x202 | (g_rand_int (r) & 0x8d5);
  c->insn = (SimdInsn){ .map = SIMD_MAP_X87, .opcode = o, .mod = mem ? 0 : 3, .reg = reg,
                        .rm = rm, .op_size = 4, .mode64 = true, .addr = c->io[1],
                        .rip = DIFF_CODE_ADDR };
}

void
diff_x87_print (const char *who, const FxState *fx, const uint64_t io[3], const uint8_t *data)
{
  printf ("# %s: fcw=%04x fsw=%04x ftw=%02x rax=%016" G_GINT64_MODIFIER "x rflags=%"
          G_GINT64_MODIFIER "x\n", who, fx->fcw, fx->fsw, fx->ftw, io[0], io[2]);
  for (unsigned i = 0; i < 8; i++)
    {
      printf ("#   r%u=", i);
      for (int j = 9; j >= 0; j--)
        printf ("%02x", fx->st[i].v[j]);
      printf (i % 2 ? "\n" : "  ");
    }
  printf ("#   data=");
  for (unsigned i = 0; i < 64; i++)
    printf ("%02x", data[i]);
  printf ("\n");
}

/* FCOMI/FUCOMI(P) clear C1 per the SDM; AMD hosts leave it alone. */
uint16_t
diff_x87_fsw_ignore (const X87Case *c)
{
  return c->insn.mod == 3 && (c->bytes[0] == 0xdb || c->bytes[0] == 0xdf)
                 && (c->insn.reg == 5 || c->insn.reg == 6)
             ? 0x200 : 0;
}

bool
diff_x87_same (const FxState *a, const FxState *b, uint16_t fsw_ignore)
{
  if (a->fcw != b->fcw || (a->fsw ^ b->fsw) & ~fsw_ignore || a->ftw != b->ftw)
    return false;
  for (unsigned i = 0; i < 8; i++)
    if (memcmp (a->st[i].v, b->st[i].v, 10))
      return false;
  return true;
}

