/* CPUID for KVM vCPUs: what the host supports, minus what a snapshot could
 * not carry to the software engine.
 *
 * Masked off: XSAVE/OSXSAVE and everything that needs it (AVX, AVX2, FMA,
 * F16C, AVX-512, AMX; leaf 0xD is dropped), and x2APIC. CpuState keeps
 * x87/SSE as a 512-byte FXSAVE image and the xAPIC register page, so a guest
 * that never sees these features has no state outside CpuState. The KVM
 * paravirtual leaves (0x40000000+) stay: kvmclock is worth its speed, and a
 * cross-engine restore re-reads the clock anyway. */
#include "hostdrv/kvm-internal.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <gio/gio.h>

#define BIT(n) (1u << (n))

struct kvm_cpuid2 *
kvm_cpuid_template (int sys_fd, GError **error)
{
  for (unsigned n = 64; n <= 4096; n *= 2)
    {
      struct kvm_cpuid2 *c = g_malloc0 (sizeof *c + n * sizeof (struct kvm_cpuid_entry2));
      c->nent = n;
      if (ioctl (sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
        {
          unsigned out = 0;
          for (unsigned i = 0; i < c->nent; i++)
            {
              struct kvm_cpuid_entry2 *e = &c->entries[i];
              switch (e->function)
                {
                case 1:
                  e->ecx &= ~(BIT (12) | BIT (21) | BIT (26) | BIT (27) | BIT (28) | BIT (29));
                  e->ecx |= BIT (31); /* running under a hypervisor */
                  break;
                case 7:
                  if (e->index == 0)
                    {
                      e->ebx &= ~(BIT (5) | BIT (16) | BIT (17) | BIT (21) | BIT (26) | BIT (27)
                                  | BIT (28) | BIT (30) | BIT (31));
                      e->ecx &= ~(BIT (1) | BIT (6) | BIT (11) | BIT (12) | BIT (14));
                      e->edx &= ~(BIT (2) | BIT (3) | BIT (8) | BIT (22) | BIT (23) | BIT (24)
                                  | BIT (25));
                    }
                  else if (e->index == 1)
                    e->eax &= ~(BIT (4) | BIT (5)); /* AVX-VNNI, AVX512_BF16 */
                  break;
                case 0xd:
                  continue; /* no XSAVE: drop the leaf */
                default:
                  break;
                }
              c->entries[out++] = *e;
            }
          c->nent = out;
          return c;
        }
      int e = errno;
      g_free (c);
      if (e != E2BIG)
        {
          errno = e;
          kvm_fail (error, "KVM_GET_SUPPORTED_CPUID");
          return NULL;
        }
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "KVM: CPUID table too large");
  return NULL;
}

bool
kvm_cpuid_apply (KvmVcpu *v, GError **error)
{
  const struct kvm_cpuid2 *t = v->kvm->cpuid;
  size_t bytes = sizeof *t + t->nent * sizeof (struct kvm_cpuid_entry2);
  g_autofree struct kvm_cpuid2 *c = g_memdup2 (t, bytes);
  uint32_t apic_id = v->base.index;

  for (unsigned i = 0; i < c->nent; i++)
    {
      struct kvm_cpuid_entry2 *e = &c->entries[i];
      if (e->function == 1)
        {
          unsigned count = MAX (v->kvm->cpus, 1u);
          e->ebx = (e->ebx & 0x0000ffffu) | (MIN (count, 255u) << 16) | (apic_id << 24);
          if (count > 1)
            e->edx |= BIT (28); /* HTT: the logical count above is valid */
        }
      else if (e->function == 0xb || e->function == 0x1f)
        e->edx = apic_id;
    }
  if (ioctl (v->fd, KVM_SET_CPUID2, c) < 0)
    return kvm_fail (error, "KVM_SET_CPUID2");
  return true;
}
