/* System instructions: control and debug registers, MSRs, TSC, CPUID,
 * caches, fences, FXSAVE/FXRSTOR/LDMXCSR/STMXCSR, and the hand-off of x87,
 * MMX and SSE opcodes to the SIMD unit (simd.h). */
#include "vmm-core/cpu/cpu-internal.h"
#include "vmm-core/cpu/simd.h"
#include "vmm-core/log.h"

#include <string.h>

static void
need_cpl0 (SoftCpu *c)
{
  if (c->cpl != 0)
    cpu_raise_gp (c, 0);
}

void
cpu_write_cr0 (SoftCpu *c, uint64_t v)
{
  CpuState *s = &c->st;
  if (v >> 32)
    cpu_raise_gp (c, 0);
  v |= CR0_ET;
  if ((v & CR0_PG) && !(v & CR0_PE))
    cpu_raise_gp (c, 0);
  if ((v & CR0_NW) && !(v & CR0_CD))
    cpu_raise_gp (c, 0);
  bool pg_on = (v & CR0_PG) && !(s->cr0 & CR0_PG);
  bool pg_off = !(v & CR0_PG) && (s->cr0 & CR0_PG);
  if (pg_on && (s->efer & EFER_LME))
    {
      if (!(s->cr4 & CR4_PAE))
        cpu_raise_gp (c, 0);
      s->efer |= EFER_LMA;
    }
  if (pg_off && (s->efer & EFER_LMA))
    {
      if (c->mode64)
        cpu_raise_gp (c, 0);
      s->efer &= ~(uint64_t) EFER_LMA;
    }
  uint64_t changed = s->cr0 ^ v;
  s->cr0 = v;
  if (changed & (CR0_PG | CR0_WP | CR0_PE))
    mmu_flush (c, true);
  cpu_update_mode (c);
}

void
cpu_write_cr3 (SoftCpu *c, uint64_t v)
{
  if (c->long_mode && (v >> 52))
    cpu_raise_gp (c, 0);
  c->st.cr3 = c->long_mode ? v : v & 0xffffffff;
  mmu_flush (c, false);
}

void
cpu_write_cr4 (SoftCpu *c, uint64_t v)
{
  const uint64_t supported = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE
                             | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT
                             | CR4_UMIP;
  if (v & ~supported)
    cpu_raise_gp (c, 0);
  if (c->long_mode && !(v & CR4_PAE))
    cpu_raise_gp (c, 0);
  uint64_t changed = c->st.cr4 ^ v;
  c->st.cr4 = v;
  if (changed & (CR4_PGE | CR4_PAE | CR4_PSE))
    mmu_flush (c, true);
}

void
op_mov_cr (SoftCpu *c, const DecodedInsn *d)
{
  need_cpl0 (c);
  unsigned size = c->mode64 ? 8 : 4;
  unsigned n = d->reg;
  bool to_cr = d->opcode & 2;
  if (d->opcode & 1)
    {
      /* Debug registers (0F 21 / 0F 23): no breakpoints are implemented. */
      if (n >= 8 || ((n == 4 || n == 5) && (c->st.cr4 & CR4_DE)))
        cpu_raise_ud (c);
      if (n == 4 || n == 5)
        n += 2;
      uint64_t *r = n < 4 ? &c->st.dr[n] : n == 6 ? &c->st.dr6 : &c->st.dr7;
      if (to_cr)
        {
          uint64_t v = c->st.regs[d->rm] & sz_mask (size);
          if (n >= 6 && (v >> 32))
            cpu_raise_gp (c, 0);
          *r = n == 6 ? v | 0xffff0ff0 : n == 7 ? v | 0x400 : v;
        }
      else
        cpu_set_reg (c, d->rm, size, true, *r);
      return;
    }
  if (!to_cr)
    {
      uint64_t v;
      switch (n)
        {
        case 0: v = c->st.cr0; break;
        case 2: v = c->st.cr2; break;
        case 3: v = c->st.cr3; break;
        case 4: v = c->st.cr4; break;
        case 8: v = c->hooks.get_cr8 ? c->hooks.get_cr8 (c) : c->st.cr8; break;
        default: cpu_raise_ud (c);
        }
      cpu_set_reg (c, d->rm, size, true, v);
      return;
    }
  uint64_t v = c->st.regs[d->rm] & sz_mask (size);
  switch (n)
    {
    case 0: cpu_write_cr0 (c, v); break;
    case 2: c->st.cr2 = v; break;
    case 3: cpu_write_cr3 (c, v); break;
    case 4: cpu_write_cr4 (c, v); break;
    case 8:
      if (v & ~0xfull)
        cpu_raise_gp (c, 0);
      c->st.cr8 = v;
      if (c->hooks.set_cr8)
        c->hooks.set_cr8 (c, v);
      __atomic_store_n (&c->irq_flag, 1, __ATOMIC_RELAXED);
      break;
    default: cpu_raise_ud (c);
    }
}

void
op_mov_dr (SoftCpu *c, const DecodedInsn *d)
{
  op_mov_cr (c, d);
}

void
op_rdmsr (SoftCpu *c, const DecodedInsn *d)
{
  need_cpl0 (c);
  uint64_t v;
  if (!cpu_rdmsr (c, c->st.regs[CPU_REG_RCX] & 0xffffffff, &v))
    cpu_raise_gp (c, 0);
  c->st.regs[CPU_REG_RAX] = v & 0xffffffff;
  c->st.regs[CPU_REG_RDX] = v >> 32;
}

void
op_wrmsr (SoftCpu *c, const DecodedInsn *d)
{
  need_cpl0 (c);
  uint64_t v = (c->st.regs[CPU_REG_RAX] & 0xffffffff) | (c->st.regs[CPU_REG_RDX] << 32);
  if (!cpu_wrmsr (c, c->st.regs[CPU_REG_RCX] & 0xffffffff, v))
    cpu_raise_gp (c, 0);
  __atomic_store_n (&c->irq_flag, 1, __ATOMIC_RELAXED);
}

void
op_rdtsc (SoftCpu *c, const DecodedInsn *d)
{
  if ((c->st.cr4 & CR4_TSD) && c->cpl != 0)
    cpu_raise_gp (c, 0);
  uint64_t t = cpu_rdtsc (c);
  c->st.regs[CPU_REG_RAX] = t & 0xffffffff;
  c->st.regs[CPU_REG_RDX] = t >> 32;
}

void
op_rdpmc (SoftCpu *c, const DecodedInsn *d)
{
  cpu_raise_gp (c, 0);
}

void
op_cpuid (SoftCpu *c, const DecodedInsn *d)
{
  uint32_t out[4];
  cpu_cpuid (c, c->st.regs[CPU_REG_RAX], c->st.regs[CPU_REG_RCX], out);
  c->st.regs[CPU_REG_RAX] = out[0];
  c->st.regs[CPU_REG_RBX] = out[1];
  c->st.regs[CPU_REG_RCX] = out[2];
  c->st.regs[CPU_REG_RDX] = out[3];
}

void
op_invd (SoftCpu *c, const DecodedInsn *d)
{
  need_cpl0 (c);
}

void
op_ud (SoftCpu *c, const DecodedInsn *d)
{
  if (d->map == 1 && d->opcode == 0x0b)
    cpu_raise_ud (c); /* UD2: deliberate, no log line */
  cpu_unimplemented (c);
}

static void
fp_checks (SoftCpu *c, bool sse)
{
  uint64_t cr0 = c->st.cr0;
  if (sse)
    {
      if ((cr0 & CR0_EM) || !(c->st.cr4 & CR4_OSFXSR))
        cpu_raise_ud (c);
    }
  else if (cr0 & CR0_EM)
    cpu_raise (c, EXC_NM, 0, false);
  if (cr0 & CR0_TS)
    cpu_raise (c, EXC_NM, 0, false);
}

/* 0F AE: fences, FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, CLFLUSH. */
void
op_grp15 (SoftCpu *c, const DecodedInsn *d)
{
  unsigned r = d->reg & 7;
  if (d->mod == 3)
    {
      if (r >= 5 && d->simd_prefix == SIMD_PFX_NONE)
        {
          __atomic_thread_fence (__ATOMIC_SEQ_CST);
          return;
        }
      cpu_unimplemented (c);
    }
  if (d->simd_prefix != SIMD_PFX_NONE && !(r == 7 && d->simd_prefix == SIMD_PFX_66))
    cpu_unimplemented (c);
  uint64_t ea = op_ea (c, d);
  FxState *fx = cpu_fx (c);
  switch (r)
    {
    case 0: /* FXSAVE */
    case 1: /* FXRSTOR */
      {
        if (c->st.cr0 & (CR0_EM | CR0_TS))
          cpu_raise (c, (c->st.cr0 & CR0_EM) ? EXC_UD : EXC_NM, 0, false);
        uint64_t lin = seg_lin (c, d->seg, ea, 512, r == 0 ? ACC_WRITE : ACC_READ);
        if (lin & 15)
          cpu_raise_gp (c, 0);
        if (r == 0)
          {
            uint8_t img[512];
            memcpy (img, fx, 512);
            lin_write_buf (c, lin, img, 512, false);
          }
        else
          {
            uint8_t img[512];
            lin_read_buf (c, lin, img, 512, false);
            uint32_t mxcsr;
            memcpy (&mxcsr, img + 24, 4);
            if (mxcsr & ~0xffffu)
              cpu_raise_gp (c, 0);
            memcpy (img + 28, &fx->mxcsr_mask, 4);
            memcpy (fx, img, 512);
          }
        return;
      }
    case 2: /* LDMXCSR */
      {
        fp_checks (c, true);
        uint32_t v = seg_read (c, d->seg, ea, 4);
        if (v & ~0xffffu)
          cpu_raise_gp (c, 0);
        fx->mxcsr = v;
        return;
      }
    case 3: /* STMXCSR */
      fp_checks (c, true);
      seg_write (c, d->seg, ea, 4, fx->mxcsr);
      return;
    case 7: /* CLFLUSH: check the address is valid, nothing to flush */
      lin_read (c, seg_lin (c, d->seg, ea, 1, ACC_READ), 1);
      return;
    default:
      cpu_unimplemented (c);
    }
}

void
op_wait (SoftCpu *c, const DecodedInsn *d)
{
  if ((c->st.cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP))
    cpu_raise (c, EXC_NM, 0, false);
}

/* ---- SIMD unit glue ---- */

static bool
host_read (void *cpu, uint64_t addr, void *buf, unsigned len)
{
  lin_read_buf (cpu, addr, buf, len, false);
  return true;
}

static bool
host_write (void *cpu, uint64_t addr, const void *buf, unsigned len)
{
  lin_write_buf (cpu, addr, buf, len, false);
  return true;
}

static uint64_t
host_get_gpr (void *cpu, unsigned n)
{
  return ((SoftCpu *) cpu)->st.regs[n & 15];
}

static void
host_set_gpr (void *cpu, unsigned n, uint64_t v, unsigned size)
{
  cpu_set_reg (cpu, n & 15, size, true, v);
}

static uint64_t
host_get_rflags (void *cpu)
{
  return ((SoftCpu *) cpu)->st.rflags;
}

static void
host_set_rflags (void *cpu, uint64_t v)
{
  SoftCpu *c = cpu;
  c->st.rflags = (c->st.rflags & ~(uint64_t) FL_ARITH) | (v & FL_ARITH);
}

static const SimdHost simd_host = {
  .read = host_read, .write = host_write, .get_gpr = host_get_gpr,
  .set_gpr = host_set_gpr, .get_rflags = host_get_rflags, .set_rflags = host_set_rflags,
};

static bool
needs_osfxsr (const DecodedInsn *d)
{
  if (d->map >= 2 || d->simd_prefix != SIMD_PFX_NONE)
    return true;
  unsigned op = d->opcode;
  return (op >= 0x10 && op <= 0x2f) || (op >= 0x50 && op <= 0x5f) || op == 0xc2 || op == 0xc6;
}

void
op_simd (SoftCpu *c, const DecodedInsn *d)
{
  uint8_t map = d->map == 0 ? SIMD_MAP_X87 : d->map;
  if (!simd_handles (map, d->opcode, d->simd_prefix))
    cpu_unimplemented (c);
  if (map == SIMD_MAP_X87)
    fp_checks (c, false);
  else
    {
      if (needs_osfxsr (d) && !(c->st.cr4 & CR4_OSFXSR))
        cpu_raise_ud (c);
      fp_checks (c, false);
    }
  SimdInsn in = {
    .map = map, .opcode = d->opcode, .prefix = d->simd_prefix, .mod = d->mod,
    .reg = d->reg, .rm = d->rm, .rex_w = d->flags & DI_REXW, .has_rex = d->flags & DI_REX,
    .imm8 = (uint8_t) d->imm, .op_size = d->opsize, .mode64 = c->mode64,
    .rip = c->insn_rip, .real_mode = !c->pe || c->vm86,
  };
  if (d->flags & DI_MEM)
    in.addr = seg_lin (c, d->seg, op_ea (c, d), 1, ACC_READ);
  else if (map == SIMD_MAP_0F && d->opcode == 0xf7)
    {
      /* MASKMOVQ/MASKMOVDQU store to DS:rDI (segment override allowed). */
      uint64_t di = c->st.regs[CPU_REG_RDI] & sz_mask (d->adsize);
      in.addr = seg_lin (c, d->seg, di, 1, ACC_WRITE);
    }
  SimdHost host = simd_host;
  host.cpu = c;
  switch (simd_exec (cpu_fx (c), &in, &host))
    {
    case SIMD_OK:
      return;
    case SIMD_UD:
      cpu_unimplemented (c);
    case SIMD_GP:
      cpu_raise_gp (c, 0);
    case SIMD_MF:
      if (c->st.cr0 & CR0_NE)
        cpu_raise (c, EXC_MF, 0, false);
      return; /* legacy FERR# reporting is not wired: ignore */
    case SIMD_XM:
      if (c->st.cr4 & CR4_OSXMMEXCPT)
        cpu_raise (c, EXC_XM, 0, false);
      cpu_raise_ud (c);
    case SIMD_FAULTED:
    default:
      cpu_raise_gp (c, 0);
    }
}
