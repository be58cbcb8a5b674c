/* Instruction decoder: prefixes, opcode maps, ModRM/SIB/displacement and
 * immediates into a DecodedInsn. Pure: reads code bytes, writes nothing but
 * the DecodedInsn (faults on fetch or a too-long instruction are raised). */
#include "vmm-core/cpu/cpu-internal.h"
#include "vmm-core/cpu/simd.h"

#include <string.h>

/* Opcode attributes. */
enum {
  A_MODRM = 1u << 0,
  A_IB = 1u << 1,     /* imm8 */
  A_IW = 1u << 2,     /* imm16 */
  A_IZ = 1u << 3,     /* imm16/32 by operand size (32 for 64-bit operands) */
  A_IV = 1u << 4,     /* imm16/32/64 by operand size */
  A_MOFFS = 1u << 5,  /* offset of address size */
  A_ENTER = 1u << 6,  /* imm16 + imm8 */
  A_FAR = 1u << 7,    /* imm16/32 offset + imm16 selector */
  A_D64 = 1u << 8,    /* 64-bit default operand size in 64-bit mode */
  A_F64 = 1u << 9,    /* always 64-bit operands in 64-bit mode */
  A_INV64 = 1u << 10, /* #UD in 64-bit mode */
  A_GRP3 = 1u << 11,  /* F6/F7: immediate only for TEST (reg 0/1) */
  A_BYTEIMM = 1u << 12, /* with A_GRP3: the immediate is a byte */
};

typedef struct OpInfo {
  InsnHandler fn;
  uint16_t attr;
} OpInfo;

#define M A_MODRM
static const OpInfo one_byte[256] = {
  [0x00 ... 0x03] = { op_alu, M }, [0x04] = { op_alu, A_IB }, [0x05] = { op_alu, A_IZ },
  [0x08 ... 0x0b] = { op_alu, M }, [0x0c] = { op_alu, A_IB }, [0x0d] = { op_alu, A_IZ },
  [0x10 ... 0x13] = { op_alu, M }, [0x14] = { op_alu, A_IB }, [0x15] = { op_alu, A_IZ },
  [0x18 ... 0x1b] = { op_alu, M }, [0x1c] = { op_alu, A_IB }, [0x1d] = { op_alu, A_IZ },
  [0x20 ... 0x23] = { op_alu, M }, [0x24] = { op_alu, A_IB }, [0x25] = { op_alu, A_IZ },
  [0x28 ... 0x2b] = { op_alu, M }, [0x2c] = { op_alu, A_IB }, [0x2d] = { op_alu, A_IZ },
  [0x30 ... 0x33] = { op_alu, M }, [0x34] = { op_alu, A_IB }, [0x35] = { op_alu, A_IZ },
  [0x38 ... 0x3b] = { op_alu, M }, [0x3c] = { op_alu, A_IB }, [0x3d] = { op_alu, A_IZ },
  [0x06] = { op_push_seg, A_INV64 }, [0x07] = { op_pop_seg, A_INV64 },
  [0x0e] = { op_push_seg, A_INV64 },
  [0x16] = { op_push_seg, A_INV64 }, [0x17] = { op_pop_seg, A_INV64 },
  [0x1e] = { op_push_seg, A_INV64 }, [0x1f] = { op_pop_seg, A_INV64 },
  [0x27] = { op_daa_das, A_INV64 }, [0x2f] = { op_daa_das, A_INV64 },
  [0x37] = { op_aaa_aas, A_INV64 }, [0x3f] = { op_aaa_aas, A_INV64 },
  [0x40 ... 0x4f] = { op_incdec, 0 },
  [0x50 ... 0x57] = { op_push_reg, A_D64 }, [0x58 ... 0x5f] = { op_pop_reg, A_D64 },
  [0x60] = { op_pusha, A_INV64 }, [0x61] = { op_popa, A_INV64 },
  [0x62] = { op_bound, M | A_INV64 }, [0x63] = { op_movsxd, M },
  [0x68] = { op_push_imm, A_IZ | A_D64 }, [0x69] = { op_imul3, M | A_IZ },
  [0x6a] = { op_push_imm, A_IB | A_D64 }, [0x6b] = { op_imul3, M | A_IB },
  [0x6c ... 0x6d] = { op_ins, 0 }, [0x6e ... 0x6f] = { op_outs, 0 },
  [0x70 ... 0x7f] = { op_jcc, A_IB | A_F64 },
  [0x80] = { op_alu_grp1, M | A_IB }, [0x81] = { op_alu_grp1, M | A_IZ },
  [0x82] = { op_alu_grp1, M | A_IB | A_INV64 }, [0x83] = { op_alu_grp1, M | A_IB },
  [0x84 ... 0x85] = { op_test, M }, [0x86 ... 0x87] = { op_xchg, M },
  [0x88 ... 0x8b] = { op_mov, M }, [0x8c] = { op_mov_sreg_to, M }, [0x8d] = { op_lea, M },
  [0x8e] = { op_mov_to_sreg, M }, [0x8f] = { op_pop_rm, M | A_D64 },
  [0x90 ... 0x97] = { op_xchg_ax, 0 }, [0x98] = { op_cbw, 0 }, [0x99] = { op_cwd, 0 },
  [0x9a] = { op_callf, A_FAR | A_INV64 }, [0x9b] = { op_wait, 0 },
  [0x9c] = { op_pushf, A_D64 }, [0x9d] = { op_popf, A_D64 },
  [0x9e] = { op_sahf, 0 }, [0x9f] = { op_lahf, 0 },
  [0xa0 ... 0xa3] = { op_mov_moffs, A_MOFFS },
  [0xa4 ... 0xa5] = { op_movs, 0 }, [0xa6 ... 0xa7] = { op_cmps, 0 },
  [0xa8] = { op_test, A_IB }, [0xa9] = { op_test, A_IZ },
  [0xaa ... 0xab] = { op_stos, 0 }, [0xac ... 0xad] = { op_lods, 0 },
  [0xae ... 0xaf] = { op_scas, 0 },
  [0xb0 ... 0xb7] = { op_mov_imm, A_IB }, [0xb8 ... 0xbf] = { op_mov_imm, A_IV },
  [0xc0] = { op_shift_grp2, M | A_IB }, [0xc1] = { op_shift_grp2, M | A_IB },
  [0xc2] = { op_ret, A_IW | A_F64 }, [0xc3] = { op_ret, A_F64 },
  [0xc4 ... 0xc5] = { op_lxs, M | A_INV64 },
  [0xc6] = { op_mov_rm_imm, M | A_IB }, [0xc7] = { op_mov_rm_imm, M | A_IZ },
  [0xc8] = { op_enter, A_ENTER | A_D64 }, [0xc9] = { op_leave, A_D64 },
  [0xca] = { op_retf, A_IW }, [0xcb] = { op_retf, 0 },
  [0xcc] = { op_int3, 0 }, [0xcd] = { op_int, A_IB }, [0xce] = { op_into, A_INV64 },
  [0xcf] = { op_iret, 0 },
  [0xd0 ... 0xd3] = { op_shift_grp2, M },
  [0xd4] = { op_aam, A_IB | A_INV64 }, [0xd5] = { op_aad, A_IB | A_INV64 },
  [0xd6] = { op_salc, A_INV64 }, [0xd7] = { op_xlat, 0 },
  [0xd8 ... 0xdf] = { op_simd, M },
  [0xe0 ... 0xe2] = { op_loop, A_IB | A_F64 }, [0xe3] = { op_jcxz, A_IB | A_F64 },
  [0xe4 ... 0xe5] = { op_in, A_IB }, [0xe6 ... 0xe7] = { op_out, A_IB },
  [0xe8] = { op_call, A_IZ | A_F64 }, [0xe9] = { op_jmp, A_IZ | A_F64 },
  [0xea] = { op_jmpf, A_FAR | A_INV64 }, [0xeb] = { op_jmp, A_IB | A_F64 },
  [0xec ... 0xed] = { op_in, 0 }, [0xee ... 0xef] = { op_out, 0 },
  [0xf1] = { op_int1, 0 }, [0xf4] = { op_hlt, 0 },
  [0xf5] = { op_flagop, 0 },
  [0xf6] = { op_grp3, M | A_GRP3 | A_BYTEIMM }, [0xf7] = { op_grp3, M | A_GRP3 },
  [0xf8 ... 0xfd] = { op_flagop, 0 },
  [0xfe] = { op_grp4, M }, [0xff] = { op_grp5, M },
};

static const OpInfo two_byte[256] = {
  [0x00] = { op_grp6, M }, [0x01] = { op_grp7, M },
  [0x02 ... 0x03] = { op_lar_lsl, M },
  [0x05] = { op_syscall, 0 }, [0x06] = { op_clts, 0 }, [0x07] = { op_sysret, 0 },
  [0x08 ... 0x09] = { op_invd, 0 }, [0x0b] = { op_ud, 0 },
  [0x0d] = { op_nop_modrm, M }, [0x18 ... 0x1f] = { op_nop_modrm, M },
  [0x20 ... 0x21] = { op_mov_cr, M }, [0x22 ... 0x23] = { op_mov_cr, M },
  [0x30] = { op_wrmsr, 0 }, [0x31] = { op_rdtsc, 0 }, [0x32] = { op_rdmsr, 0 },
  [0x33] = { op_rdpmc, 0 }, [0x34] = { op_sysenter, 0 }, [0x35] = { op_sysexit, 0 },
  [0x40 ... 0x4f] = { op_cmov, M },
  [0x80 ... 0x8f] = { op_jcc, A_IZ | A_F64 },
  [0x90 ... 0x9f] = { op_setcc, M },
  [0xa0] = { op_push_seg, A_D64 }, [0xa1] = { op_pop_seg, A_D64 },
  [0xa2] = { op_cpuid, 0 }, [0xa3] = { op_bt, M },
  [0xa4] = { op_shld, M | A_IB }, [0xa5] = { op_shld, M },
  [0xa8] = { op_push_seg, A_D64 }, [0xa9] = { op_pop_seg, A_D64 },
  [0xab] = { op_bt, M }, [0xac] = { op_shrd, M | A_IB }, [0xad] = { op_shrd, M },
  [0xae] = { op_grp15, M }, [0xaf] = { op_imul2, M },
  [0xb0 ... 0xb1] = { op_cmpxchg, M }, [0xb2] = { op_lxs, M }, [0xb3] = { op_bt, M },
  [0xb4 ... 0xb5] = { op_lxs, M }, [0xb6 ... 0xb7] = { op_movzx, M },
  [0xb9] = { op_ud, M },
  [0xba] = { op_bt_grp8, M | A_IB }, [0xbb] = { op_bt, M },
  [0xbc] = { op_bsf, M }, [0xbd] = { op_bsr, M },
  [0xbe ... 0xbf] = { op_movsx, M },
  [0xc0 ... 0xc1] = { op_xadd, M }, [0xc7] = { op_grp9, M },
  [0xc8 ... 0xcf] = { op_bswap, 0 },
  [0xff] = { op_ud, 0 },
};
#undef M

typedef struct Fetcher {
  SoftCpu *c;
  uint64_t lin;
  uint8_t buf[16];
  unsigned pos, avail;
} Fetcher;

static uint8_t
next_byte (Fetcher *f)
{
  if (f->pos >= 15)
    cpu_raise_gp (f->c, 0);
  if (f->pos >= f->avail)
    {
      SoftCpu *c = f->c;
      if (!c->mode64)
        {
          /* Code segment limit (IP wraps within 16-bit code is rare; ignore). */
          uint64_t eip = (c->st.rip + f->pos) & (c->code_size == 2 ? 0xffff : 0xffffffff);
          if (eip > c->st.seg[CPU_SEG_CS].limit)
            cpu_raise_gp (c, 0);
        }
      f->avail += lin_fetch (c, f->lin + f->avail, f->buf + f->avail, 15 - f->avail);
    }
  return f->buf[f->pos++];
}

static uint64_t
next_imm (Fetcher *f, unsigned size)
{
  uint64_t v = 0;
  for (unsigned i = 0; i < size; i++)
    v |= (uint64_t) next_byte (f) << (8 * i);
  return v;
}

static void
decode_modrm16 (Fetcher *f, DecodedInsn *d)
{
  static const uint8_t base16[8] = { CPU_REG_RBX, CPU_REG_RBX, CPU_REG_RBP, CPU_REG_RBP,
                                     CPU_REG_RSI, CPU_REG_RDI, CPU_REG_RBP, CPU_REG_RBX };
  static const uint8_t index16[8] = { CPU_REG_RSI, CPU_REG_RDI, CPU_REG_RSI, CPU_REG_RDI,
                                      DI_NO_REG, DI_NO_REG, DI_NO_REG, DI_NO_REG };
  unsigned rm = d->rm & 7;
  d->base = base16[rm];
  d->index = index16[rm];
  if (d->mod == 0 && rm == 6)
    {
      d->base = DI_NO_REG;
      d->disp = (int16_t) next_imm (f, 2);
    }
  else if (d->mod == 1)
    d->disp = (int8_t) next_byte (f);
  else if (d->mod == 2)
    d->disp = (int16_t) next_imm (f, 2);
  if (!(d->flags & DI_SEGOVR) && d->base == CPU_REG_RBP)
    d->seg = CPU_SEG_SS;
}

static void
decode_modrm32 (Fetcher *f, DecodedInsn *d, unsigned rex)
{
  unsigned rm = d->rm & 7;
  if (rm == 4)
    {
      uint8_t sib = next_byte (f);
      unsigned idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
      unsigned base = (sib & 7) | ((rex & 1) << 3);
      d->scale = sib >> 6;
      d->index = idx == 4 ? DI_NO_REG : idx;
      if ((sib & 7) == 5 && d->mod == 0)
        {
          d->base = DI_NO_REG;
          d->disp = (int32_t) next_imm (f, 4);
        }
      else
        d->base = base;
    }
  else if (rm == 5 && d->mod == 0)
    {
      d->base = DI_NO_REG;
      d->index = DI_NO_REG;
      d->disp = (int32_t) next_imm (f, 4);
      if (f->c->mode64)
        d->flags |= DI_RIPREL;
    }
  else
    {
      d->base = d->rm;
      d->index = DI_NO_REG;
    }
  if (d->mod == 1)
    d->disp = (int8_t) next_byte (f);
  else if (d->mod == 2)
    d->disp = (int32_t) next_imm (f, 4);
  if (!(d->flags & DI_SEGOVR) && (d->base == CPU_REG_RSP || d->base == CPU_REG_RBP))
    d->seg = CPU_SEG_SS;
}

void
cpu_decode (SoftCpu *c, DecodedInsn *d)
{
  Fetcher f = { .c = c, .pos = 0, .avail = 0 };
  uint64_t rip = c->st.rip;
  f.lin = c->mode64 ? rip : c->st.seg[CPU_SEG_CS].base + (rip & 0xffffffff);
  if (!c->mode64)
    f.lin &= 0xffffffff;

  memset (d, 0, sizeof *d);
  d->seg = CPU_SEG_DS;
  d->base = d->index = DI_NO_REG;
  unsigned rex = 0, last_rep = 0;
  bool has66 = false;
  uint8_t b;
  for (;;)
    {
      b = next_byte (&f);
      switch (b)
        {
        case 0x26: case 0x2e: case 0x36: case 0x3e:
          rex = 0;
          if (!c->mode64)
            {
              d->seg = (b >> 3) & 3;
              d->flags |= DI_SEGOVR;
            }
          continue;
        case 0x64: case 0x65:
          rex = 0;
          d->seg = b == 0x64 ? CPU_SEG_FS : CPU_SEG_GS;
          d->flags |= DI_SEGOVR;
          continue;
        case 0x66: rex = 0; d->flags |= DI_OPSIZE; has66 = true; continue;
        case 0x67: rex = 0; d->flags |= DI_ADSIZE; continue;
        case 0xf0: rex = 0; d->flags |= DI_LOCK; continue;
        case 0xf2: rex = 0; d->flags = (d->flags & ~DI_REP) | DI_REPNE; last_rep = 0xf2; continue;
        case 0xf3: rex = 0; d->flags = (d->flags & ~DI_REPNE) | DI_REP; last_rep = 0xf3; continue;
        default:
          break;
        }
      if (c->mode64 && (b & 0xf0) == 0x40)
        {
          rex = b;
          continue;
        }
      break;
    }
  if (rex)
    {
      d->flags |= DI_REX;
      if (rex & 8)
        d->flags |= DI_REXW;
    }
  d->simd_prefix = last_rep == 0xf3 ? SIMD_PFX_F3 : last_rep == 0xf2 ? SIMD_PFX_F2
                   : has66 ? SIMD_PFX_66 : SIMD_PFX_NONE;

  const OpInfo *info;
  OpInfo simd_info = { op_simd, A_MODRM };
  if (b == 0x0f)
    {
      b = next_byte (&f);
      if (b == 0x38 || b == 0x3a)
        {
          d->map = b == 0x38 ? 2 : 3;
          b = next_byte (&f);
          info = &simd_info;
          if (d->map == 3)
            simd_info.attr |= A_IB;
        }
      else
        {
          d->map = 1;
          info = &two_byte[b];
          if (!info->fn)
            {
              info = &simd_info;
              if (simd_has_imm8 (1, b))
                simd_info.attr |= A_IB;
            }
        }
    }
  else
    info = &one_byte[b];
  d->opcode = b;

  unsigned attr = info->attr;
  d->fn = info->fn;
  if (!d->fn || (c->mode64 && (attr & A_INV64)))
    d->fn = op_ud;

  /* Operand and address size. */
  if (c->mode64)
    {
      if (rex & 8)
        d->opsize = 8;
      else if (attr & A_F64)
        d->opsize = 8;
      else if (has66)
        d->opsize = 2;
      else
        d->opsize = (attr & A_D64) ? 8 : 4;
      d->adsize = (d->flags & DI_ADSIZE) ? 4 : 8;
    }
  else
    {
      d->opsize = c->code_size ^ (has66 ? 6 : 0);
      d->adsize = c->code_size ^ ((d->flags & DI_ADSIZE) ? 6 : 0);
    }

  if (attr & A_MODRM)
    {
      uint8_t modrm = next_byte (&f);
      d->flags |= DI_MODRM;
      d->mod = modrm >> 6;
      d->reg = ((modrm >> 3) & 7) | ((rex & 4) << 1);
      d->rm = (modrm & 7) | ((rex & 1) << 3);
      if (d->mod != 3)
        {
          d->flags |= DI_MEM;
          if (d->adsize == 2)
            decode_modrm16 (&f, d);
          else
            decode_modrm32 (&f, d, rex);
        }
      if ((attr & A_GRP3) && ((modrm >> 3) & 7) < 2)
        attr |= (attr & A_BYTEIMM) ? A_IB : A_IZ;
    }
  else
    d->rm = (rex & 1) << 3; /* REX.B for register-in-opcode forms */

  if (attr & A_IB)
    d->imm = next_byte (&f);
  else if (attr & A_IW)
    d->imm = next_imm (&f, 2);
  else if (attr & A_IZ)
    d->imm = next_imm (&f, d->opsize == 2 ? 2 : 4);
  else if (attr & A_IV)
    d->imm = next_imm (&f, d->opsize);
  else if (attr & A_MOFFS)
    d->imm = next_imm (&f, d->adsize);
  else if (attr & A_ENTER)
    {
      d->imm = next_imm (&f, 2);
      d->imm2 = next_byte (&f);
    }
  else if (attr & A_FAR)
    {
      d->imm = next_imm (&f, d->opsize == 2 ? 2 : 4);
      d->imm2 = next_imm (&f, 2);
    }
  d->len = f.pos;
}
