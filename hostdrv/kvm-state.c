/* Full architectural state of a KVM vCPU to and from the engine-neutral
 * CpuState: registers, segments and control registers, x87/SSE (as the
 * FXSAVE image), the MSRs CpuState lists, the LAPIC page, MP state, pending
 * events and debug registers. */
#include "hostdrv/kvm-internal.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <gio/gio.h>

typedef struct MsrField {
  uint32_t index;
  size_t offset; /* in CpuState */
} MsrField;

#define F(idx, field) { idx, offsetof (CpuState, field) }
static const MsrField msr_fields[] = {
  F (0x10, tsc), F (0x174, sysenter_cs), F (0x175, sysenter_esp), F (0x176, sysenter_eip),
  F (0x1a0, misc_enable), F (0x277, pat), F (0x2ff, mtrr_def_type), F (0x6e0, tsc_deadline),
  F (0xc0000081, star), F (0xc0000082, lstar), F (0xc0000083, cstar),
  F (0xc0000084, sfmask), F (0xc0000102, kernel_gs_base), F (0xc0000103, tsc_aux),
  F (0x250, mtrr_fixed[0]), F (0x258, mtrr_fixed[1]), F (0x259, mtrr_fixed[2]),
  F (0x268, mtrr_fixed[3]), F (0x269, mtrr_fixed[4]), F (0x26a, mtrr_fixed[5]),
  F (0x26b, mtrr_fixed[6]), F (0x26c, mtrr_fixed[7]), F (0x26d, mtrr_fixed[8]),
  F (0x26e, mtrr_fixed[9]), F (0x26f, mtrr_fixed[10]),
  F (0x200, mtrr_var[0]), F (0x201, mtrr_var[1]), F (0x202, mtrr_var[2]),
  F (0x203, mtrr_var[3]), F (0x204, mtrr_var[4]), F (0x205, mtrr_var[5]),
  F (0x206, mtrr_var[6]), F (0x207, mtrr_var[7]), F (0x208, mtrr_var[8]),
  F (0x209, mtrr_var[9]), F (0x20a, mtrr_var[10]), F (0x20b, mtrr_var[11]),
  F (0x20c, mtrr_var[12]), F (0x20d, mtrr_var[13]), F (0x20e, mtrr_var[14]),
  F (0x20f, mtrr_var[15]),
};
#undef F

G_STATIC_ASSERT (G_N_ELEMENTS (msr_fields) <= KVM_MAX_MSRS);

typedef struct {
  struct kvm_msrs hdr;
  struct kvm_msr_entry e[KVM_MAX_MSRS];
} MsrBuf;

static const MsrField *
msr_field (uint32_t index)
{
  for (size_t i = 0; i < G_N_ELEMENTS (msr_fields); i++)
    if (msr_fields[i].index == index)
      return &msr_fields[i];
  return NULL;
}

/* Keeps only the MSRs this host's KVM can read, one probe each, so one
 * missing MSR (an older kernel, PVM) does not cut the whole transfer short. */
void
kvm_state_probe_msrs (KvmVcpu *v)
{
  KvmEngine *k = v->kvm;
  k->nr_msrs = 0;
  for (size_t i = 0; i < G_N_ELEMENTS (msr_fields); i++)
    {
      MsrBuf b = { .hdr.nmsrs = 1 };
      b.e[0].index = msr_fields[i].index;
      if (ioctl (v->fd, KVM_GET_MSRS, &b) == 1)
        k->msrs[k->nr_msrs++] = msr_fields[i].index;
    }
  k->msrs_probed = true;
}

static void
seg_from_kvm (CpuSegment *d, const struct kvm_segment *s)
{
  *d = (CpuSegment){ .base = s->base, .limit = s->limit, .selector = s->selector,
                     .type = s->type, .s = s->s, .dpl = s->dpl, .present = s->present,
                     .avl = s->avl, .l = s->l, .db = s->db, .g = s->g,
                     .unusable = s->unusable };
}

static void
seg_to_kvm (struct kvm_segment *d, const CpuSegment *s)
{
  *d = (struct kvm_segment){ .base = s->base, .limit = s->limit, .selector = s->selector,
                             .type = s->type, .s = s->s, .dpl = s->dpl,
                             .present = s->present, .avl = s->avl, .l = s->l, .db = s->db,
                             .g = s->g, .unusable = s->unusable };
}

static struct kvm_segment *
kvm_seg (struct kvm_sregs *sr, int i)
{
  switch (i)
    {
    case CPU_SEG_ES: return &sr->es;
    case CPU_SEG_CS: return &sr->cs;
    case CPU_SEG_SS: return &sr->ss;
    case CPU_SEG_DS: return &sr->ds;
    case CPU_SEG_FS: return &sr->fs;
    default: return &sr->gs;
    }
}

/* kvm_fpu ↔ the FXSAVE image (SDM vol. 1, table 10-2). */
static void
fpu_to_fxsave (uint8_t *fx, const struct kvm_fpu *f)
{
  memset (fx, 0, 512);
  memcpy (fx + 0, &f->fcw, 2);
  memcpy (fx + 2, &f->fsw, 2);
  fx[4] = f->ftwx;
  memcpy (fx + 6, &f->last_opcode, 2);
  memcpy (fx + 8, &f->last_ip, 8);
  memcpy (fx + 16, &f->last_dp, 8);
  memcpy (fx + 24, &f->mxcsr, 4);
  uint32_t mask = 0xffff; /* KVM does not report MXCSR_MASK: all modern CPUs have DAZ */
  memcpy (fx + 28, &mask, 4);
  memcpy (fx + 32, f->fpr, sizeof f->fpr);
  memcpy (fx + 160, f->xmm, sizeof f->xmm);
}

static void
fxsave_to_fpu (struct kvm_fpu *f, const uint8_t *fx)
{
  memset (f, 0, sizeof *f);
  memcpy (&f->fcw, fx + 0, 2);
  memcpy (&f->fsw, fx + 2, 2);
  f->ftwx = fx[4];
  memcpy (&f->last_opcode, fx + 6, 2);
  memcpy (&f->last_ip, fx + 8, 8);
  memcpy (&f->last_dp, fx + 16, 8);
  memcpy (&f->mxcsr, fx + 24, 4);
  memcpy (f->fpr, fx + 32, sizeof f->fpr);
  memcpy (f->xmm, fx + 160, sizeof f->xmm);
}

bool
kvm_vcpu_get_state (EngineVcpu *ev, CpuState *s, GError **error)
{
  KvmVcpu *v = (KvmVcpu *) ev;
  KvmEngine *k = v->kvm;
  struct kvm_regs r;
  struct kvm_sregs sr;
  struct kvm_fpu fpu;
  struct kvm_lapic_state lapic;
  struct kvm_mp_state mp;
  struct kvm_vcpu_events ev_;

  memset (s, 0, sizeof *s);
  if (ioctl (v->fd, KVM_GET_REGS, &r) < 0)
    return kvm_fail (error, "KVM_GET_REGS");
  const uint64_t gprs[CPU_NR_GPRS] = { r.rax, r.rcx, r.rdx, r.rbx, r.rsp, r.rbp, r.rsi,
                                       r.rdi, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13,
                                       r.r14, r.r15 };
  memcpy (s->regs, gprs, sizeof gprs);
  s->rip = r.rip;
  s->rflags = r.rflags;

  if (ioctl (v->fd, KVM_GET_SREGS, &sr) < 0)
    return kvm_fail (error, "KVM_GET_SREGS");
  for (int i = 0; i < CPU_NR_SEGS; i++)
    seg_from_kvm (&s->seg[i], kvm_seg (&sr, i));
  seg_from_kvm (&s->tr, &sr.tr);
  seg_from_kvm (&s->ldt, &sr.ldt);
  s->gdt = (CpuDtable){ .base = sr.gdt.base, .limit = sr.gdt.limit };
  s->idt = (CpuDtable){ .base = sr.idt.base, .limit = sr.idt.limit };
  s->cr0 = sr.cr0;
  s->cr2 = sr.cr2;
  s->cr3 = sr.cr3;
  s->cr4 = sr.cr4;
  s->cr8 = sr.cr8;
  s->efer = sr.efer;
  s->apic_base = sr.apic_base;
  s->xcr0 = 1; /* XSAVE is hidden from the guest (kvm-cpuid.c) */

  if (ioctl (v->fd, KVM_GET_FPU, &fpu) < 0)
    return kvm_fail (error, "KVM_GET_FPU");
  fpu_to_fxsave (s->fxsave, &fpu);

  MsrBuf b = { .hdr.nmsrs = k->nr_msrs };
  for (unsigned i = 0; i < k->nr_msrs; i++)
    b.e[i].index = k->msrs[i];
  int n = ioctl (v->fd, KVM_GET_MSRS, &b);
  if (n < 0)
    return kvm_fail (error, "KVM_GET_MSRS");
  for (int i = 0; i < n; i++)
    {
      const MsrField *f = msr_field (b.e[i].index);
      if (f)
        memcpy ((uint8_t *) s + f->offset, &b.e[i].data, 8);
    }

  if (ioctl (v->fd, KVM_GET_LAPIC, &lapic) < 0)
    return kvm_fail (error, "KVM_GET_LAPIC");
  G_STATIC_ASSERT (sizeof lapic.regs == sizeof s->lapic);
  memcpy (s->lapic, lapic.regs, sizeof s->lapic);

  if (ioctl (v->fd, KVM_GET_MP_STATE, &mp) < 0)
    return kvm_fail (error, "KVM_GET_MP_STATE");
  s->mp_state = mp.mp_state;

  if (ioctl (v->fd, KVM_GET_VCPU_EVENTS, &ev_) < 0)
    return kvm_fail (error, "KVM_GET_VCPU_EVENTS");
  s->exception_pending = ev_.exception.injected || ev_.exception.pending;
  s->exception_vector = ev_.exception.nr;
  s->exception_has_error = ev_.exception.has_error_code;
  s->exception_error = ev_.exception.error_code;
  s->interrupt_pending = ev_.interrupt.injected ? ev_.interrupt.nr : -1;
  s->interrupt_shadow = ev_.interrupt.shadow;
  s->nmi_pending = ev_.nmi.pending || ev_.nmi.injected;
  s->nmi_masked = ev_.nmi.masked;
  s->sipi_vector = ev_.sipi_vector;

  if (k->has_debugregs)
    {
      struct kvm_debugregs dr;
      if (ioctl (v->fd, KVM_GET_DEBUGREGS, &dr) < 0)
        return kvm_fail (error, "KVM_GET_DEBUGREGS");
      memcpy (s->dr, dr.db, sizeof s->dr);
      s->dr6 = dr.dr6;
      s->dr7 = dr.dr7;
    }
  return true;
}

bool
kvm_vcpu_set_state (EngineVcpu *ev, const CpuState *s, GError **error)
{
  KvmVcpu *v = (KvmVcpu *) ev;
  KvmEngine *k = v->kvm;

  struct kvm_regs r = {
    .rax = s->regs[CPU_REG_RAX], .rcx = s->regs[CPU_REG_RCX], .rdx = s->regs[CPU_REG_RDX],
    .rbx = s->regs[CPU_REG_RBX], .rsp = s->regs[CPU_REG_RSP], .rbp = s->regs[CPU_REG_RBP],
    .rsi = s->regs[CPU_REG_RSI], .rdi = s->regs[CPU_REG_RDI], .r8 = s->regs[CPU_REG_R8],
    .r9 = s->regs[CPU_REG_R9], .r10 = s->regs[CPU_REG_R10], .r11 = s->regs[CPU_REG_R11],
    .r12 = s->regs[CPU_REG_R12], .r13 = s->regs[CPU_REG_R13], .r14 = s->regs[CPU_REG_R14],
    .r15 = s->regs[CPU_REG_R15], .rip = s->rip, .rflags = s->rflags | 0x2,
  };
  if (ioctl (v->fd, KVM_SET_REGS, &r) < 0)
    return kvm_fail (error, "KVM_SET_REGS");

  struct kvm_fpu fpu;
  fxsave_to_fpu (&fpu, s->fxsave);
  if (ioctl (v->fd, KVM_SET_FPU, &fpu) < 0)
    return kvm_fail (error, "KVM_SET_FPU");

  struct kvm_sregs sr;
  memset (&sr, 0, sizeof sr);
  for (int i = 0; i < CPU_NR_SEGS; i++)
    seg_to_kvm (kvm_seg (&sr, i), &s->seg[i]);
  seg_to_kvm (&sr.tr, &s->tr);
  seg_to_kvm (&sr.ldt, &s->ldt);
  sr.gdt.base = s->gdt.base;
  sr.gdt.limit = s->gdt.limit;
  sr.idt.base = s->idt.base;
  sr.idt.limit = s->idt.limit;
  sr.cr0 = s->cr0;
  sr.cr2 = s->cr2;
  sr.cr3 = s->cr3;
  sr.cr4 = s->cr4;
  sr.cr8 = s->cr8;
  sr.efer = s->efer;
  sr.apic_base = s->apic_base;
  if (ioctl (v->fd, KVM_SET_SREGS, &sr) < 0)
    return kvm_fail (error, "KVM_SET_SREGS");

  MsrBuf b = { .hdr.nmsrs = k->nr_msrs };
  for (unsigned i = 0; i < k->nr_msrs; i++)
    {
      const MsrField *f = msr_field (k->msrs[i]);
      b.e[i].index = k->msrs[i];
      memcpy (&b.e[i].data, (const uint8_t *) s + f->offset, 8);
    }
  int n = ioctl (v->fd, KVM_SET_MSRS, &b);
  if (n < 0)
    return kvm_fail (error, "KVM_SET_MSRS");
  if ((unsigned) n != k->nr_msrs)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "KVM refused MSR %#x (value %#llx)", b.e[n].index,
                   (unsigned long long) b.e[n].data);
      return false;
    }

  struct kvm_mp_state mp = { .mp_state = s->mp_state };
  if (ioctl (v->fd, KVM_SET_MP_STATE, &mp) < 0)
    return kvm_fail (error, "KVM_SET_MP_STATE");

  struct kvm_lapic_state lapic;
  memcpy (lapic.regs, s->lapic, sizeof lapic.regs);
  if (ioctl (v->fd, KVM_SET_LAPIC, &lapic) < 0)
    return kvm_fail (error, "KVM_SET_LAPIC");

  struct kvm_vcpu_events e;
  memset (&e, 0, sizeof e);
  e.exception.injected = s->exception_pending;
  e.exception.nr = s->exception_vector;
  e.exception.has_error_code = s->exception_has_error;
  e.exception.error_code = s->exception_error;
  e.interrupt.injected = s->interrupt_pending >= 0;
  e.interrupt.nr = s->interrupt_pending >= 0 ? (uint8_t) s->interrupt_pending : 0;
  e.interrupt.shadow = s->interrupt_shadow;
  e.nmi.pending = s->nmi_pending;
  e.nmi.masked = s->nmi_masked;
  e.sipi_vector = s->sipi_vector;
  e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR
            | KVM_VCPUEVENT_VALID_SHADOW;
  if (ioctl (v->fd, KVM_SET_VCPU_EVENTS, &e) < 0)
    return kvm_fail (error, "KVM_SET_VCPU_EVENTS");

  if (k->has_debugregs)
    {
      struct kvm_debugregs dr;
      memset (&dr, 0, sizeof dr);
      memcpy (dr.db, s->dr, sizeof dr.db);
      dr.dr6 = s->dr6;
      dr.dr7 = s->dr7;
      if (ioctl (v->fd, KVM_SET_DEBUGREGS, &dr) < 0)
        return kvm_fail (error, "KVM_SET_DEBUGREGS");
    }
  return true;
}
