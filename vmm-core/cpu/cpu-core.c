/* The CPU core: reset, derived mode, register and operand access, and the
 * fetch/decode/execute loop with its exception landing pad. */
#include "vmm-core/cpu/cpu-internal.h"
#include "vmm-core/cpu/simd.h"

#include <string.h>

void
cpu_init (SoftCpu *c)
{
  if (!c->dcache)
    c->dcache = g_new0 (DecodeCacheEntry, DCACHE_SIZE);
  c->delivering = -1;
  c->tsc_hz = 2000000000ull;
  mmu_flush (c, true);
  cpu_update_mode (c);
}

void
cpu_update_mode (SoftCpu *c)
{
  CpuState *s = &c->st;
  c->pe = s->cr0 & CR0_PE;
  c->paging = (s->cr0 & CR0_PG) && c->pe;
  c->long_mode = (s->efer & EFER_LMA) != 0;
  c->vm86 = c->pe && !c->long_mode && (s->rflags & FL_VM);
  c->mode64 = c->long_mode && s->seg[CPU_SEG_CS].l;
  c->code_page = 0;
  if (!c->pe)
    c->cpl = 0;
  else if (c->vm86)
    c->cpl = 3;
  else
    c->cpl = s->seg[CPU_SEG_CS].selector & 3;
  if (c->mode64)
    c->code_size = 4;
  else if (c->pe && !c->vm86)
    c->code_size = s->seg[CPU_SEG_CS].db ? 4 : 2;
  else
    c->code_size = 2;
  if (c->mode64)
    c->stack_size = 8;
  else
    c->stack_size = (c->pe && !c->vm86 && s->seg[CPU_SEG_SS].db) ? 4 : 2;
}

/* LOCK is legal only on read-modify-write forms with a memory destination. */
static bool
lock_ok (const DecodedInsn *d)
{
  if (!(d->flags & DI_MEM))
    return false;
  unsigned op = d->opcode, reg = d->reg & 7;
  if (d->map == 0)
    {
      if (op < 0x38 && (op & 7) < 2)
        return true;
      switch (op)
        {
        case 0x80: case 0x81: case 0x82: case 0x83: return reg != 7;
        case 0x86: case 0x87: return true;
        case 0xf6: case 0xf7: return reg == 2 || reg == 3;
        case 0xfe: case 0xff: return reg < 2;
        default: return false;
        }
    }
  if (d->map == 1)
    switch (op)
      {
      case 0xab: case 0xb3: case 0xbb: case 0xb0: case 0xb1: case 0xc0: case 0xc1:
        return true;
      case 0xba: return reg >= 5;
      case 0xc7: return reg == 1;
      default: return false;
      }
  return false;
}

/* Decoded instruction at RIP: from the cache when the bytes still match. */
static const DecodedInsn *
fetch_decoded (SoftCpu *c, DecodedInsn *tmp)
{
  uint64_t rip = c->st.rip;
  const CpuSegment *cs = &c->st.seg[CPU_SEG_CS];
  bool flat = c->mode64 || (cs->base == 0 && cs->limit == 0xffffffff && c->code_size == 4);
  if (G_UNLIKELY (!flat || !c->dcache))
    {
      cpu_decode (c, tmp);
      return tmp;
    }
  uint64_t lin = c->mode64 ? rip : rip & 0xffffffff;
  uint32_t mode = c->mode64 ? 1 : 2;
  unsigned off = lin & 0xfff;
  DecodeCacheEntry *ce = &c->dcache[(lin ^ (lin >> DCACHE_BITS)) & (DCACHE_SIZE - 1)];
  uint8_t *page_host = NULL;
  if (G_LIKELY (c->code_page == ((lin & ~0xfffull) | 1)))
    page_host = c->code_host;
  else
    {
      TlbEntry *e = tlb_probe (c, lin, ACC_FETCH, c->cpl == 3);
      if (e && e->host)
        {
          page_host = e->host;
          c->code_page = (lin & ~0xfffull) | 1;
          c->code_host = e->host;
        }
    }
  if (G_LIKELY (page_host))
    {
      const uint8_t *code = page_host + off;
      if (ce->lin == lin && ce->mode == mode)
        {
          if (G_LIKELY (off <= 4096 - 16))
            {
              /* Compare the instruction's bytes as two masked words. */
              uint64_t w0, w1, c0, c1;
              memcpy (&w0, code, 8);
              memcpy (&w1, code + 8, 8);
              memcpy (&c0, ce->bytes, 8);
              memcpy (&c1, ce->bytes + 8, 8);
              unsigned len = ce->d.len;
              uint64_t m0 = len >= 8 ? ~0ull : (1ull << (len * 8)) - 1;
              uint64_t m1 = len <= 8 ? 0 : len >= 16 ? ~0ull : (1ull << ((len - 8) * 8)) - 1;
              if (((w0 ^ c0) & m0) == 0 && ((w1 ^ c1) & m1) == 0)
                return &ce->d;
            }
          else if (off + ce->d.len <= 4096 && memcmp (ce->bytes, code, ce->d.len) == 0)
            return &ce->d;
        }
      cpu_decode (c, tmp);
      if (off + tmp->len <= 4096)
        {
          ce->lin = lin;
          ce->mode = mode;
          memcpy (ce->bytes, code, tmp->len);
          ce->d = *tmp;
        }
      return tmp;
    }
  cpu_decode (c, tmp);
  return tmp;
}

void
cpu_step_one (SoftCpu *c)
{
  DecodedInsn tmp;
  c->insn_rip = c->st.rip;
  const DecodedInsn *dp = fetch_decoded (c, &tmp);
  #define d (*dp)
  uint64_t next = c->st.rip + d.len;
  if (!c->mode64)
    next &= c->code_size == 2 ? 0xffff : 0xffffffff;
  c->next_rip = next;
  if ((d.flags & DI_LOCK) && !lock_ok (dp))
    cpu_raise_ud (c);
  bool tf = c->st.rflags & FL_TF;
  c->cur = dp;
  c->st.rip = next;
  d.fn (c, dp);
  #undef d
  c->icount++;
  if (tf && !c->stop)
    {
      c->st.dr6 |= 1u << 14;
      c->insn_rip = c->st.rip;
      c->delivering = 256;
      cpu_deliver (c, EXC_DB, 0, false, false, c->st.rip);
      c->delivering = -1;
    }
}

static bool
contributory (int v)
{
  return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

/* Called after cpu_raise longjmp'd to the loop: pick the event to deliver
 * (double/triple fault rules, SDM vol. 3 table 6-5) and deliver it. */
void
cpu_handle_exception (SoftCpu *c)
{
  int vec = c->exc_vec, prev = c->delivering;
  uint32_t err = c->exc_err;
  bool has_err = c->exc_has_err;
  c->st.rip = c->insn_rip;
  if (prev == EXC_DF)
    {
      c->stop = SOFT_STOP_SHUTDOWN;
      c->delivering = -1;
      return;
    }
  if (prev >= 0 && prev < 32
      && ((contributory (prev) && contributory (vec))
          || (prev == EXC_PF && (vec == EXC_PF || contributory (vec)))))
    {
      vec = EXC_DF;
      err = 0;
      has_err = true;
    }
  c->delivering = vec;
  cpu_deliver (c, vec, err, has_err, false, c->insn_rip);
  c->delivering = -1;
}

SoftStop
cpu_run (SoftCpu *c, uint64_t budget_in)
{
  c->budget = budget_in; /* in the struct: survives the longjmp */
  c->stop = SOFT_STOP_NONE;
  c->jb_valid = true;
  if (setjmp (c->jb) != 0)
    {
      if (c->sandbox)
        {
          c->st.rip = c->insn_rip;
          c->delivering = -1;
          c->jb_valid = false;
          return SOFT_STOP_EXCEPTION;
        }
      cpu_handle_exception (c);
      if (c->stop)
        {
          c->jb_valid = false;
          return c->stop;
        }
    }
  while (c->budget)
    {
      c->budget--;
      if (G_UNLIKELY (__atomic_load_n (&c->irq_flag, __ATOMIC_RELAXED))
          && !c->st.interrupt_shadow && c->irq_poll)
        {
          c->insn_rip = c->st.rip;
          c->irq_poll (c);
          if (c->stop)
            break;
        }
      c->st.interrupt_shadow = 0;
      if (G_UNLIKELY (c->trace))
        trace_insn (c);
      cpu_step_one (c);
      if (G_UNLIKELY (c->stop))
        break;
    }
  c->jb_valid = false;
  return c->stop;
}
