/* String instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) with
 * REP/REPE/REPNE, the direction flag and a bulk fast path for forward
 * REP MOVS/STOS within RAM pages. Each iteration commits RSI/RDI/RCX, so a
 * fault mid-way restarts the instruction with the remaining count; long
 * repeats yield every few thousand iterations so interrupts get in. */
#include "vmm-core/cpu/cpu-internal.h"

#include <string.h>

#define REP_CHUNK 4096

static inline unsigned
str_size (const DecodedInsn *d)
{
  return (d->opcode & 1) ? d->opsize : 1;
}

static inline uint64_t
areg (SoftCpu *c, const DecodedInsn *d, unsigned r)
{
  return c->st.regs[r] & sz_mask (d->adsize);
}

static inline void
set_areg (SoftCpu *c, const DecodedInsn *d, unsigned r, uint64_t v)
{
  cpu_set_reg (c, r, d->adsize, false, v);
}

static inline int64_t
step (SoftCpu *c, unsigned size)
{
  return (c->st.rflags & FL_DF) ? -(int64_t) size : (int64_t) size;
}

/* Runs `one` up to RCX times. cond: 0 none, 1 REPE, 2 REPNE (CMPS/SCAS). */
typedef bool (*StrIter) (SoftCpu *c, const DecodedInsn *d, unsigned size);

static void
rep_loop (SoftCpu *c, const DecodedInsn *d, StrIter one, bool uses_cond)
{
  unsigned size = str_size (d);
  if (!(d->flags & (DI_REP | DI_REPNE)))
    {
      one (c, d, size);
      return;
    }
  for (unsigned n = 0; n < REP_CHUNK; n++)
    {
      uint64_t cx = areg (c, d, CPU_REG_RCX);
      if (cx == 0)
        return;
      if (!one (c, d, size))
        continue; /* the iteration did several elements and updated RCX itself */
      set_areg (c, d, CPU_REG_RCX, cx - 1);
      if (uses_cond)
        {
          bool zf = c->st.rflags & FL_ZF;
          if ((d->flags & DI_REP) ? !zf : zf)
            return;
        }
    }
  if (areg (c, d, CPU_REG_RCX) != 0)
    c->st.rip = c->insn_rip; /* come back for the rest */
}

/* Bytes from lin to the end of its page. */
static inline uint64_t
page_room (uint64_t lin)
{
  return 0x1000 - (lin & 0xfff);
}

static bool
movs_one (SoftCpu *c, const DecodedInsn *d, unsigned size)
{
  uint64_t si = areg (c, d, CPU_REG_RSI), di = areg (c, d, CPU_REG_RDI);
  if ((d->flags & DI_REP) && !(c->st.rflags & FL_DF) && (c->mode64 || c->code_size == 4))
    {
      uint64_t cx = areg (c, d, CPU_REG_RCX);
      uint64_t src = seg_lin (c, d->seg, si, size, ACC_READ);
      uint64_t dst = seg_lin (c, CPU_SEG_ES, di, size, ACC_WRITE);
      uint64_t n = page_room (src) < page_room (dst) ? page_room (src) : page_room (dst);
      n /= size;
      if (n > cx)
        n = cx;
      if (n > 1 && (c->mode64 || (si + n * size <= 0xffffffff && di + n * size <= 0xffffffff)))
        {
          bool user = c->cpl == 3;
          TlbEntry *es = mmu_lookup (c, src, ACC_READ, user);
          uint8_t *hs = es->host;
          TlbEntry *ed = mmu_lookup (c, dst, ACC_WRITE, user);
          uint8_t *hd = ed->host ? ed->host + (dst & 0xfff) : NULL;
          uint8_t *hsp = hs ? hs + (src & 0xfff) : NULL;
          bool overlap = hd && hsp && hd > hsp && hd < hsp + n * size;
          if (hs && ed->host && !overlap && seg_lin (c, CPU_SEG_ES, di + (n - 1) * size, size, ACC_WRITE)
              && seg_lin (c, d->seg, si + (n - 1) * size, size, ACC_READ))
            {
              memmove (ed->host + (dst & 0xfff), hs + (src & 0xfff), n * size);
              set_areg (c, d, CPU_REG_RSI, si + n * size);
              set_areg (c, d, CPU_REG_RDI, di + n * size);
              set_areg (c, d, CPU_REG_RCX, cx - n);
              return false;
            }
        }
    }
  uint64_t v = seg_read (c, d->seg, si, size);
  seg_write (c, CPU_SEG_ES, di, size, v);
  set_areg (c, d, CPU_REG_RSI, si + step (c, size));
  set_areg (c, d, CPU_REG_RDI, di + step (c, size));
  return true;
}

static bool
stos_one (SoftCpu *c, const DecodedInsn *d, unsigned size)
{
  uint64_t di = areg (c, d, CPU_REG_RDI);
  uint64_t v = c->st.regs[CPU_REG_RAX] & sz_mask (size);
  if ((d->flags & DI_REP) && !(c->st.rflags & FL_DF) && (c->mode64 || c->code_size == 4))
    {
      uint64_t cx = areg (c, d, CPU_REG_RCX);
      uint64_t dst = seg_lin (c, CPU_SEG_ES, di, size, ACC_WRITE);
      uint64_t n = page_room (dst) / size;
      if (n > cx)
        n = cx;
      if (n > 1 && (c->mode64 || di + n * size <= 0xffffffff)
          && seg_lin (c, CPU_SEG_ES, di + (n - 1) * size, size, ACC_WRITE))
        {
          TlbEntry *ed = mmu_lookup (c, dst, ACC_WRITE, c->cpl == 3);
          if (ed->host)
            {
              uint8_t *p = ed->host + (dst & 0xfff);
              if (size == 1)
                memset (p, (int) v, n);
              else
                for (uint64_t i = 0; i < n; i++)
                  memcpy (p + i * size, &v, size);
              set_areg (c, d, CPU_REG_RDI, di + n * size);
              set_areg (c, d, CPU_REG_RCX, cx - n);
              return false;
            }
        }
    }
  seg_write (c, CPU_SEG_ES, di, size, v);
  set_areg (c, d, CPU_REG_RDI, di + step (c, size));
  return true;
}

static bool
lods_one (SoftCpu *c, const DecodedInsn *d, unsigned size)
{
  uint64_t si = areg (c, d, CPU_REG_RSI);
  uint64_t v = seg_read (c, d->seg, si, size);
  cpu_set_reg (c, CPU_REG_RAX, size, false, v);
  set_areg (c, d, CPU_REG_RSI, si + step (c, size));
  return true;
}

static bool
cmps_one (SoftCpu *c, const DecodedInsn *d, unsigned size)
{
  uint64_t si = areg (c, d, CPU_REG_RSI), di = areg (c, d, CPU_REG_RDI);
  uint64_t a = seg_read (c, d->seg, si, size);
  uint64_t b = seg_read (c, CPU_SEG_ES, di, size);
  cpu_set_arith (c, flags_sub (a, b, 0, a - b, size));
  set_areg (c, d, CPU_REG_RSI, si + step (c, size));
  set_areg (c, d, CPU_REG_RDI, di + step (c, size));
  return true;
}

static bool
scas_one (SoftCpu *c, const DecodedInsn *d, unsigned size)
{
  uint64_t di = areg (c, d, CPU_REG_RDI);
  uint64_t a = c->st.regs[CPU_REG_RAX] & sz_mask (size);
  uint64_t b = seg_read (c, CPU_SEG_ES, di, size);
  cpu_set_arith (c, flags_sub (a, b, 0, a - b, size));
  set_areg (c, d, CPU_REG_RDI, di + step (c, size));
  return true;
}

static bool
ins_one (SoftCpu *c, const DecodedInsn *d, unsigned size)
{
  uint64_t di = areg (c, d, CPU_REG_RDI);
  uint16_t port = c->st.regs[CPU_REG_RDX];
  /* Probe the destination before the port read (reads can have effects). */
  seg_lin (c, CPU_SEG_ES, di, size, ACC_WRITE);
  mmu_lookup (c, seg_lin (c, CPU_SEG_ES, di, size, ACC_WRITE), ACC_WRITE, c->cpl == 3);
  uint64_t v = cpu_pio_in (c, port, size);
  seg_write (c, CPU_SEG_ES, di, size, v);
  set_areg (c, d, CPU_REG_RDI, di + step (c, size));
  return true;
}

static bool
outs_one (SoftCpu *c, const DecodedInsn *d, unsigned size)
{
  uint64_t si = areg (c, d, CPU_REG_RSI);
  uint16_t port = c->st.regs[CPU_REG_RDX];
  uint64_t v = seg_read (c, d->seg, si, size);
  cpu_pio_out (c, port, size, v);
  set_areg (c, d, CPU_REG_RSI, si + step (c, size));
  return true;
}

void op_movs (SoftCpu *c, const DecodedInsn *d) { rep_loop (c, d, movs_one, false); }
void op_stos (SoftCpu *c, const DecodedInsn *d) { rep_loop (c, d, stos_one, false); }
void op_lods (SoftCpu *c, const DecodedInsn *d) { rep_loop (c, d, lods_one, false); }
void op_cmps (SoftCpu *c, const DecodedInsn *d) { rep_loop (c, d, cmps_one, true); }
void op_scas (SoftCpu *c, const DecodedInsn *d) { rep_loop (c, d, scas_one, true); }

void
op_ins (SoftCpu *c, const DecodedInsn *d)
{
  cpu_check_io (c, c->st.regs[CPU_REG_RDX], str_size (d));
  rep_loop (c, d, ins_one, false);
}

void
op_outs (SoftCpu *c, const DecodedInsn *d)
{
  cpu_check_io (c, c->st.regs[CPU_REG_RDX], str_size (d));
  rep_loop (c, d, outs_one, false);
}

/* ---- port I/O ---- */

void
cpu_check_io (SoftCpu *c, uint16_t port, unsigned size)
{
  if (!c->pe)
    return;
  unsigned iopl = (c->st.rflags >> 12) & 3;
  if (!c->vm86 && c->cpl <= iopl)
    return;
  /* TSS I/O permission bitmap: every bit for the accessed ports must be 0. */
  const CpuSegment *tr = &c->st.tr;
  if (!tr->present || (tr->type & 7) != 3 || tr->limit < 0x67)
    cpu_raise_gp (c, 0);
  uint16_t base = lin_read_sys (c, tr->base + 0x66, 2);
  uint32_t off = base + port / 8;
  if (off + 1 > tr->limit)
    cpu_raise_gp (c, 0);
  uint16_t bits = lin_read_sys (c, tr->base + off, 2);
  if ((bits >> (port & 7)) & ((1u << size) - 1))
    cpu_raise_gp (c, 0);
}

uint64_t
cpu_pio_in (SoftCpu *c, uint16_t port, unsigned size)
{
  uint64_t v = sz_mask (size);
  if (c->hooks.pio)
    {
      v = 0;
      c->hooks.pio (c->hooks.opaque, port, size, false, &v);
    }
  return v & sz_mask (size);
}

void
cpu_pio_out (SoftCpu *c, uint16_t port, unsigned size, uint64_t v)
{
  if (c->hooks.pio)
    c->hooks.pio (c->hooks.opaque, port, size, true, &v);
}

void
op_in (SoftCpu *c, const DecodedInsn *d)
{
  unsigned size = (d->opcode & 1) ? (d->opsize == 2 ? 2 : 4) : 1;
  uint16_t port = d->opcode >= 0xec ? (uint16_t) c->st.regs[CPU_REG_RDX] : d->imm;
  cpu_check_io (c, port, size);
  cpu_set_reg (c, CPU_REG_RAX, size, false, cpu_pio_in (c, port, size));
}

void
op_out (SoftCpu *c, const DecodedInsn *d)
{
  unsigned size = (d->opcode & 1) ? (d->opsize == 2 ? 2 : 4) : 1;
  uint16_t port = d->opcode >= 0xec ? (uint16_t) c->st.regs[CPU_REG_RDX] : d->imm;
  cpu_check_io (c, port, size);
  cpu_pio_out (c, port, size, c->st.regs[CPU_REG_RAX] & sz_mask (size));
}
