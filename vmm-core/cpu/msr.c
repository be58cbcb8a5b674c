/* Model-specific registers the kernel uses, the TSC (from the virtual clock
 * at a fixed rate), and a log line plus #GP for everything else. */
#include "vmm-core/cpu/cpu-internal.h"
#include "vmm-core/log.h"

#include <time.h>

static int64_t
now_ns (SoftCpu *c)
{
  if (c->hooks.now_ns)
    return c->hooks.now_ns (c);
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t
ns_to_tsc (SoftCpu *c, int64_t ns)
{
  return (uint64_t) ((__int128) ns * c->tsc_hz / 1000000000);
}

uint64_t
cpu_rdtsc (SoftCpu *c)
{
  return ns_to_tsc (c, now_ns (c)) + (uint64_t) c->tsc_offset;
}

void
cpu_set_tsc (SoftCpu *c, uint64_t tsc)
{
  c->tsc_offset = (int64_t) (tsc - ns_to_tsc (c, now_ns (c)));
}

static bool
mtrr_slot (uint32_t msr, uint64_t **p, CpuState *s)
{
  static const uint32_t fixed[11] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a,
                                      0x26b, 0x26c, 0x26d, 0x26e, 0x26f };
  if (msr >= 0x200 && msr < 0x210)
    {
      *p = &s->mtrr_var[msr - 0x200];
      return true;
    }
  for (unsigned i = 0; i < 11; i++)
    if (fixed[i] == msr)
      {
        *p = &s->mtrr_fixed[i];
        return true;
      }
  return false;
}

bool
cpu_rdmsr (SoftCpu *c, uint32_t msr, uint64_t *v)
{
  CpuState *s = &c->st;
  bool ok = true;
  if (c->hooks.msr && c->hooks.msr (c, msr, false, v, &ok))
    return ok;
  uint64_t *p;
  switch (msr)
    {
    case 0x10: *v = cpu_rdtsc (c); return true;
    case 0x1b: *v = s->apic_base; return true;
    case 0x17: *v = 0; return true; /* PLATFORM_ID */
    case 0x3a: *v = 1; return true; /* FEATURE_CONTROL: locked, VMX off */
    case 0x8b: *v = 0; return true; /* microcode revision */
    case 0xfe: *v = 0x508; return true; /* MTRRcap: 8 variable, fixed, WC */
    case 0x174: *v = s->sysenter_cs; return true;
    case 0x175: *v = s->sysenter_esp; return true;
    case 0x176: *v = s->sysenter_eip; return true;
    case 0x179: case 0x17a: *v = 0; return true; /* MCG_CAP / MCG_STATUS */
    case 0x1a0: *v = s->misc_enable; return true;
    case 0x1d9: *v = 0; return true; /* DEBUGCTL */
    case 0x277: *v = s->pat; return true;
    case 0x2ff: *v = s->mtrr_def_type; return true;
    case 0x6e0: *v = s->tsc_deadline; return true;
    case 0xc0000080: *v = s->efer; return true;
    case 0xc0000081: *v = s->star; return true;
    case 0xc0000082: *v = s->lstar; return true;
    case 0xc0000083: *v = s->cstar; return true;
    case 0xc0000084: *v = s->sfmask; return true;
    case 0xc0000100: *v = s->seg[CPU_SEG_FS].base; return true;
    case 0xc0000101: *v = s->seg[CPU_SEG_GS].base; return true;
    case 0xc0000102: *v = s->kernel_gs_base; return true;
    case 0xc0000103: *v = s->tsc_aux; return true;
    default:
      if (mtrr_slot (msr, &p, s))
        {
          *v = *p;
          return true;
        }
      VMM_GUEST_ERROR ("cpu", "cpu%u: RDMSR of unknown MSR 0x%x at %llx", c->index, msr,
                       (unsigned long long) c->insn_rip);
      return false;
    }
}

bool
cpu_wrmsr (SoftCpu *c, uint32_t msr, uint64_t v)
{
  CpuState *s = &c->st;
  bool ok = true;
  if (c->hooks.msr && c->hooks.msr (c, msr, true, &v, &ok))
    return ok;
  uint64_t *p;
  switch (msr)
    {
    case 0x10: cpu_set_tsc (c, v); return true;
    case 0x1b: s->apic_base = v; return true;
    case 0x3a: case 0x8b: case 0x179: case 0x17a: case 0x1d9: return true;
    case 0x174: s->sysenter_cs = v & 0xffff; return true;
    case 0x175:
    case 0x176:
      if (!canonical (v))
        return false;
      *(msr == 0x175 ? &s->sysenter_esp : &s->sysenter_eip) = v;
      return true;
    case 0x1a0: s->misc_enable = v; return true;
    case 0x277: s->pat = v; return true;
    case 0x2ff: s->mtrr_def_type = v; return true;
    case 0x6e0: s->tsc_deadline = v; return true;
    case 0xc0000080:
      {
        if (v & ~(uint64_t) (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
          return false;
        if (((v ^ s->efer) & EFER_LME) && (s->cr0 & CR0_PG))
          return false;
        uint64_t old = s->efer;
        s->efer = (v & ~(uint64_t) EFER_LMA) | (s->efer & EFER_LMA);
        if ((old ^ s->efer) & EFER_NXE)
          mmu_flush (c, true);
        return true;
      }
    case 0xc0000081: s->star = v; return true;
    case 0xc0000082:
    case 0xc0000083:
    case 0xc0000100:
    case 0xc0000101:
    case 0xc0000102:
      if (!canonical (v))
        return false;
      switch (msr)
        {
        case 0xc0000082: s->lstar = v; break;
        case 0xc0000083: s->cstar = v; break;
        case 0xc0000100: s->seg[CPU_SEG_FS].base = v; break;
        case 0xc0000101: s->seg[CPU_SEG_GS].base = v; break;
        default: s->kernel_gs_base = v; break;
        }
      return true;
    case 0xc0000084: s->sfmask = v & 0xffffffff; return true;
    case 0xc0000103: s->tsc_aux = v & 0xffffffff; return true;
    default:
      if (mtrr_slot (msr, &p, s))
        {
          *p = v;
          return true;
        }
      VMM_GUEST_ERROR ("cpu", "cpu%u: WRMSR of unknown MSR 0x%x (value %llx) at %llx", c->index,
                       msr, (unsigned long long) v, (unsigned long long) c->insn_rip);
      return false;
    }
}
