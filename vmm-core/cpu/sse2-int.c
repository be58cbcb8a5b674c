/* Integer SIMD: the lane arithmetic shared by MMX and SSE2 (simd_int_*), and
 * the XMM (66-prefixed) forms of 0F 60-7F, C4, C5, D1-FE. */
#include "vmm-core/cpu/simd-internal.h"

static inline uint64_t
lane_get (const uint8_t *p, unsigned i, unsigned e)
{
  uint64_t v = 0;
  memcpy (&v, p + i * e, e);
  return v;
}

static inline void
lane_set (uint8_t *p, unsigned i, unsigned e, uint64_t v)
{
  memcpy (p + i * e, &v, e);
}

static inline int64_t
sext (uint64_t v, unsigned e)
{
  unsigned sh = 64 - 8 * e;
  return (int64_t) (v << sh) >> sh;
}

static inline uint64_t
sat_signed (int64_t v, unsigned e)
{
  int64_t max = (INT64_C (1) << (8 * e - 1)) - 1, min = -max - 1;
  return (uint64_t) (v > max ? max : v < min ? min : v);
}

static inline uint64_t
sat_unsigned (int64_t v, unsigned e)
{
  int64_t max = (INT64_C (1) << (8 * e)) - 1;
  return (uint64_t) (v > max ? max : v < 0 ? 0 : v);
}

static void
unpack (uint8_t *r, const uint8_t *d, const uint8_t *s, unsigned w, unsigned e, bool high)
{
  unsigned n = w / e / 2, base = high ? n : 0;

  for (unsigned i = 0; i < n; i++)
    {
      lane_set (r, 2 * i, e, lane_get (d, base + i, e));
      lane_set (r, 2 * i + 1, e, lane_get (s, base + i, e));
    }
}

/* PACKSSWB/PACKSSDW/PACKUSWB: e is the source element size. */
static void
pack (uint8_t *r, const uint8_t *d, const uint8_t *s, unsigned w, unsigned e, bool is_unsigned)
{
  unsigned n = w / e;

  for (unsigned i = 0; i < 2 * n; i++)
    {
      int64_t v = sext (lane_get (i < n ? d : s, i % n, e), e);
      lane_set (r, i, e / 2, is_unsigned ? sat_unsigned (v, e / 2) : sat_signed (v, e / 2));
    }
}

static void
shift (uint8_t *d, unsigned w, unsigned e, uint64_t count, int kind /* 0 srl 1 sra 2 sll */)
{
  unsigned bits = 8 * e;

  for (unsigned i = 0; i < w / e; i++)
    {
      uint64_t a = lane_get (d, i, e), r;
      if (kind == 1)
        r = (uint64_t) (sext (a, e) >> (count >= bits ? bits - 1 : count));
      else if (count >= bits)
        r = 0;
      else
        r = kind == 0 ? a >> count : a << count;
      lane_set (d, i, e, r);
    }
}

/* Element-wise binary operations: returns the element size, 0 if not one. */
static unsigned
elementwise_size (uint8_t o)
{
  switch (o)
    {
    case 0x64: case 0x74: case 0xd8: case 0xda: case 0xdc: case 0xde: case 0xe0:
    case 0xe8: case 0xec: case 0xf8: case 0xfc:
      return 1;
    case 0x65: case 0x75: case 0xd5: case 0xd9: case 0xdd: case 0xe3: case 0xe4:
    case 0xe5: case 0xe9: case 0xea: case 0xed: case 0xee: case 0xf9: case 0xfd:
      return 2;
    case 0x66: case 0x76: case 0xfa: case 0xfe:
      return 4;
    case 0xd4: case 0xdb: case 0xdf: case 0xeb: case 0xef: case 0xfb: case 0xf4:
      return 8;
    default:
      return 0;
    }
}

static uint64_t
element_op (uint8_t o, uint64_t a, uint64_t b, unsigned e)
{
  uint64_t ones = e == 8 ? ~UINT64_C (0) : (UINT64_C (1) << (8 * e)) - 1;
  int64_t sa = sext (a, e), sb = sext (b, e);

  switch (o)
    {
    case 0x64: case 0x65: case 0x66: return sa > sb ? ones : 0;
    case 0x74: case 0x75: case 0x76: return a == b ? ones : 0;
    case 0xd8: case 0xd9: return a > b ? a - b : 0;
    case 0xdc: case 0xdd: return sat_unsigned ((int64_t) (a + b), e);
    case 0xe8: case 0xe9: return sat_signed (sa - sb, e);
    case 0xec: case 0xed: return sat_signed (sa + sb, e);
    case 0xf8: case 0xf9: case 0xfa: case 0xfb: return a - b;
    case 0xfc: case 0xfd: case 0xfe: case 0xd4: return a + b;
    case 0xda: return a < b ? a : b;
    case 0xde: return a > b ? a : b;
    case 0xea: return sa < sb ? a : b;
    case 0xee: return sa > sb ? a : b;
    case 0xe0: case 0xe3: return (a + b + 1) >> 1;
    case 0xd5: return (uint64_t) (sa * sb);
    case 0xe5: return (uint64_t) ((sa * sb) >> 16);
    case 0xe4: return (a * b) >> 16;
    case 0xf4: return (a & 0xffffffffu) * (b & 0xffffffffu);
    case 0xdb: return a & b;
    case 0xdf: return ~a & b;
    case 0xeb: return a | b;
    default: /* 0xef */ return a ^ b;
    }
}

bool
simd_int_is_lane_op (uint8_t o)
{
  return (o >= 0x60 && o <= 0x6d) || (o >= 0x74 && o <= 0x76) || elementwise_size (o)
         || (o >= 0xd1 && o <= 0xd3) || o == 0xe1 || o == 0xe2 || (o >= 0xf1 && o <= 0xf3)
         || o == 0xf5 || o == 0xf6;
}

bool
simd_int_lanes (uint8_t o, uint8_t *d, const uint8_t *s, unsigned w)
{
  uint8_t r[16] = { 0 };
  unsigned e = elementwise_size (o);
  uint64_t count = lane_get (s, 0, 8);

  if (e)
    {
      for (unsigned i = 0; i < w / e; i++)
        lane_set (r, i, e, element_op (o, lane_get (d, i, e), lane_get (s, i, e), e));
      memcpy (d, r, w);
      return true;
    }
  switch (o)
    {
    case 0x60: case 0x61: case 0x62: case 0x6c:
      unpack (r, d, s, w, o == 0x6c ? 8 : 1u << (o - 0x60), false);
      break;
    case 0x68: case 0x69: case 0x6a: case 0x6d:
      unpack (r, d, s, w, o == 0x6d ? 8 : 1u << (o - 0x68), true);
      break;
    case 0x63: pack (r, d, s, w, 2, false); break;
    case 0x6b: pack (r, d, s, w, 4, false); break;
    case 0x67: pack (r, d, s, w, 2, true); break;
    case 0xd1: case 0xd2: case 0xd3:
      shift (d, w, 1u << (o - 0xd0), count, 0);
      return true;
    case 0xe1: case 0xe2:
      shift (d, w, 1u << (o - 0xe0), count, 1);
      return true;
    case 0xf1: case 0xf2: case 0xf3:
      shift (d, w, 1u << (o - 0xf0), count, 2);
      return true;
    case 0xf5: /* PMADDWD */
      for (unsigned i = 0; i < w / 4; i++)
        {
          int64_t lo = sext (lane_get (d, 2 * i, 2), 2) * sext (lane_get (s, 2 * i, 2), 2);
          int64_t hi = sext (lane_get (d, 2 * i + 1, 2), 2) * sext (lane_get (s, 2 * i + 1, 2), 2);
          lane_set (r, i, 4, (uint64_t) (lo + hi));
        }
      break;
    case 0xf6: /* PSADBW: per 8-byte group, the sum in the low word */
      for (unsigned g = 0; g < w / 8; g++)
        {
          unsigned sum = 0;
          for (unsigned i = 0; i < 8; i++)
            {
              int diff = d[g * 8 + i] - s[g * 8 + i];
              sum += diff < 0 ? -diff : diff;
            }
          lane_set (r, g, 8, sum);
        }
      break;
    default:
      return false;
    }
  memcpy (d, r, w);
  return true;
}

bool
simd_int_shift_imm (uint8_t o, unsigned reg, uint8_t *d, unsigned w, uint8_t count)
{
  unsigned e = o == 0x71 ? 2 : o == 0x72 ? 4 : 8;

  switch (reg & 7)
    {
    case 2:
      shift (d, w, e, count, 0);
      return true;
    case 4:
      if (o == 0x73)
        return false;
      shift (d, w, e, count, 1);
      return true;
    case 6:
      shift (d, w, e, count, 2);
      return true;
    case 3: case 7: /* PSRLDQ / PSLLDQ: XMM only */
      if (o != 0x73 || w != 16)
        return false;
      {
        uint8_t r[16] = { 0 };
        unsigned n = count > 16 ? 16 : count;
        if ((reg & 7) == 3)
          memcpy (r, d + n, 16 - n);
        else
          memcpy (r + n, d, 16 - n);
        memcpy (d, r, 16);
      }
      return true;
    default:
      return false;
    }
}

static void
shuffle_words (uint8_t *r, const uint8_t *s, unsigned first, unsigned e, uint8_t imm)
{
  uint8_t t[16];

  memcpy (t, s, 16);
  for (unsigned i = 0; i < 4; i++)
    memcpy (r + (first + i) * e, t + (first + ((imm >> (2 * i)) & 3)) * e, e);
}

/* XMM forms with a 66, F3 or F2 prefix. */
SimdResult
sse2_int_exec (SimdOp *op)
{
  const SimdInsn *in = op->in;
  uint8_t o = in->opcode;
  FxXmm *dst = simd_xreg (op, in->reg), src;
  SimdResult r;

  if (in->prefix == SIMD_PFX_66 && simd_int_is_lane_op (o))
    {
      if ((r = simd_read_rm_xmm (op, &src, 16, true)) != SIMD_OK)
        return r;
      simd_int_lanes (o, dst->b, src.b, 16);
      return SIMD_OK;
    }
  switch (o)
    {
    case 0x6e: /* MOVD/MOVQ xmm, r/m */
      {
        uint64_t v = 0;
        unsigned len = in->rex_w ? 8 : 4;
        if (in->mod == 3)
          v = simd_gpr (op, in->rm);
        else if (!op->h->read (op->h->cpu, in->addr, &v, len))
          return SIMD_FAULTED;
        memset (dst, 0, 16);
        dst->q[0] = in->rex_w ? v : (uint32_t) v;
        return SIMD_OK;
      }
    case 0x7e:
      if (in->prefix == SIMD_PFX_F3) /* MOVQ xmm, xmm/m64 */
        {
          if ((r = simd_read_rm_xmm (op, &src, 8, false)) != SIMD_OK)
            return r;
          dst->q[0] = src.q[0];
          dst->q[1] = 0;
          return SIMD_OK;
        }
      {
        unsigned len = in->rex_w ? 8 : 4;
        uint64_t v = in->rex_w ? dst->q[0] : dst->d[0];
        if (in->mod == 3)
          {
            simd_set_gpr (op, in->rm, v, len);
            return SIMD_OK;
          }
        return simd_write_mem (op, &v, len, false);
      }
    case 0x6f: /* MOVDQA / MOVDQU load */
      if ((r = simd_read_rm_xmm (op, &src, 16, in->prefix == SIMD_PFX_66)) != SIMD_OK)
        return r;
      *dst = src;
      return SIMD_OK;
    case 0x7f:
      if (in->mod == 3)
        {
          *simd_xreg (op, in->rm) = *dst;
          return SIMD_OK;
        }
      return simd_write_mem (op, dst, 16, in->prefix == SIMD_PFX_66);
    case 0xe7: /* MOVNTDQ */
      if (in->mod == 3)
        return SIMD_UD;
      return simd_write_mem (op, dst, 16, true);
    case 0xd6:
      if (in->prefix == SIMD_PFX_66) /* MOVQ xmm/m64, xmm */
        {
          if (in->mod == 3)
            {
              FxXmm *d = simd_xreg (op, in->rm);
              d->q[0] = dst->q[0];
              d->q[1] = 0;
              return SIMD_OK;
            }
          return simd_write_mem (op, &dst->q[0], 8, false);
        }
      if (in->mod != 3)
        return SIMD_UD;
      if (in->prefix == SIMD_PFX_F3) /* MOVQ2DQ xmm, mm */
        {
          dst->q[0] = mmx_get (op, in->rm);
          dst->q[1] = 0;
        }
      else /* MOVDQ2Q mm, xmm */
        mmx_set (op, in->reg, simd_xreg (op, in->rm)->q[0]);
      return SIMD_OK;
    case 0x70: /* PSHUFD / PSHUFHW / PSHUFLW */
      if ((r = simd_read_rm_xmm (op, &src, 16, true)) != SIMD_OK)
        return r;
      {
        FxXmm res = src;
        if (in->prefix == SIMD_PFX_66)
          shuffle_words (res.b, src.b, 0, 4, in->imm8);
        else
          shuffle_words (res.b, src.b, in->prefix == SIMD_PFX_F3 ? 4 : 0, 2, in->imm8);
        *dst = res;
      }
      return SIMD_OK;
    case 0x71: case 0x72: case 0x73:
      if (in->mod != 3)
        return SIMD_UD;
      return simd_int_shift_imm (o, in->reg, simd_xreg (op, in->rm)->b, 16, in->imm8)
                 ? SIMD_OK : SIMD_UD;
    case 0xc4: /* PINSRW xmm, r32/m16, imm8 */
      {
        uint16_t v;
        if (in->mod == 3)
          v = (uint16_t) simd_gpr (op, in->rm);
        else if (!op->h->read (op->h->cpu, in->addr, &v, 2))
          return SIMD_FAULTED;
        dst->w[in->imm8 & 7] = v;
        return SIMD_OK;
      }
    case 0xc5: /* PEXTRW r32, xmm, imm8 */
      if (in->mod != 3)
        return SIMD_UD;
      simd_set_gpr (op, in->reg, simd_xreg (op, in->rm)->w[in->imm8 & 7], 4);
      return SIMD_OK;
    case 0xd7: /* PMOVMSKB r32, xmm */
      if (in->mod != 3)
        return SIMD_UD;
      {
        uint32_t m = 0;
        for (unsigned i = 0; i < 16; i++)
          m |= (uint32_t) (simd_xreg (op, in->rm)->b[i] >> 7) << i;
        simd_set_gpr (op, in->reg, m, 4);
        return SIMD_OK;
      }
    case 0xf7: /* MASKMOVDQU: the core puts DS:rDI in addr */
      if (in->mod != 3)
        return SIMD_UD;
      for (unsigned i = 0; i < 16; i++)
        if (simd_xreg (op, in->rm)->b[i] & 0x80)
          if (!op->h->write (op->h->cpu, in->addr + i, &dst->b[i], 1))
            return SIMD_FAULTED;
      return SIMD_OK;
    default:
      return SIMD_UD;
    }
}
