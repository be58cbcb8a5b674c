/* KVM vCPUs: creation, the run loop and the kick.
 *
 * vcpu_run loops over KVM_RUN, turning port-I/O and MMIO exits into VcpuHost
 * calls, and returns only for what the machine must act on. A kick sets
 * kvm_run.immediate_exit (catches a vCPU between two KVM_RUNs) and sends
 * SIGUSR1 to the vCPU thread (catches one inside KVM_RUN, which then fails
 * with EINTR). The handler does nothing; SA_RESTART keeps device I/O that a
 * kick interrupts from failing. KVM completes a pending port/MMIO read before
 * it honours immediate_exit, so the state of a kicked vCPU is consistent. */
#include "hostdrv/kvm-internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <gio/gio.h>

#define KVM_KICK_SIGNAL SIGUSR1

static void
kick_handler (int sig)
{
}

static void
install_kick_handler (void)
{
  static gsize done;
  if (g_once_init_enter (&done))
    {
      struct sigaction sa = { .sa_handler = kick_handler, .sa_flags = SA_RESTART };
      sigemptyset (&sa.sa_mask);
      sigaction (KVM_KICK_SIGNAL, &sa, NULL);
      g_once_init_leave (&done, 1);
    }
}

EngineVcpu *
kvm_vcpu_create (Engine *e, unsigned index, const VcpuHost *host, GError **error)
{
  KvmEngine *k = (KvmEngine *) e;
  KvmVcpu *v = g_new0 (KvmVcpu, 1);
  v->base.engine = e;
  v->base.index = index;
  v->kvm = k;
  v->host = *host;
  v->run = MAP_FAILED;

  install_kick_handler ();
  v->fd = ioctl (k->vm_fd, KVM_CREATE_VCPU, (unsigned long) index);
  if (v->fd < 0)
    {
      kvm_fail (error, "KVM_CREATE_VCPU");
      goto fail;
    }
  v->run = mmap (NULL, k->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
  if (v->run == MAP_FAILED)
    {
      kvm_fail (error, "mmap of kvm_run");
      goto fail;
    }
  if (!kvm_cpuid_apply (v, error))
    goto fail;
  if (!k->msrs_probed)
    kvm_state_probe_msrs (v);
  return &v->base;

fail:
  kvm_vcpu_destroy (&v->base);
  return NULL;
}

void
kvm_vcpu_destroy (EngineVcpu *ev)
{
  KvmVcpu *v = (KvmVcpu *) ev;
  if (!v)
    return;
  if (v->run != MAP_FAILED)
    munmap (v->run, v->kvm->vcpu_mmap_size);
  if (v->fd >= 0)
    close (v->fd);
  g_free (v->base.error);
  g_free (v);
}

void
kvm_vcpu_kick (EngineVcpu *ev)
{
  KvmVcpu *v = (KvmVcpu *) ev;
  __atomic_store_n (&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
  if (atomic_load (&v->thread_known))
    pthread_kill (v->thread, KVM_KICK_SIGNAL);
}

/* Records the failure with where the guest was, for the one-line report. */
static VcpuExitReason
vcpu_error (KvmVcpu *v, char *message)
{
  struct kvm_regs r;
  struct kvm_sregs sr;
  g_free (v->base.error);
  if (ioctl (v->fd, KVM_GET_REGS, &r) == 0 && ioctl (v->fd, KVM_GET_SREGS, &sr) == 0)
    {
      v->base.error = g_strdup_printf ("%s at cs:rip %04x:%llx (cr0 %llx efer %llx)", message,
                                       sr.cs.selector, (unsigned long long) r.rip,
                                       (unsigned long long) sr.cr0,
                                       (unsigned long long) sr.efer);
      g_free (message);
    }
  else
    v->base.error = message;
  return VCPU_EXIT_ERROR;
}

static bool
handle_pio (KvmVcpu *v)
{
  struct kvm_run *run = v->run;
  unsigned size = run->io.size;
  uint64_t bytes = (uint64_t) size * run->io.count;

  if ((size != 1 && size != 2 && size != 4) || run->io.data_offset > (uint64_t) v->kvm->vcpu_mmap_size
      || bytes > v->kvm->vcpu_mmap_size - run->io.data_offset)
    return false;
  uint8_t *data = (uint8_t *) run + run->io.data_offset;
  bool write = run->io.direction == KVM_EXIT_IO_OUT;
  for (uint32_t i = 0; i < run->io.count; i++)
    v->host.pio (v->host.opaque, run->io.port, size, write, data + (size_t) i * size);
  return true;
}

static void
handle_mmio (KvmVcpu *v)
{
  struct kvm_run *run = v->run;
  unsigned len = MIN (run->mmio.len, 8u);
  bool write = run->mmio.is_write;

  if (len == 1 || len == 2 || len == 4 || len == 8)
    v->host.mmio (v->host.opaque, run->mmio.phys_addr, len, write, run->mmio.data);
  else
    for (unsigned i = 0; i < len; i++)
      v->host.mmio (v->host.opaque, run->mmio.phys_addr + i, 1, write, run->mmio.data + i);
}

VcpuExitReason
kvm_vcpu_run (EngineVcpu *ev)
{
  KvmVcpu *v = (KvmVcpu *) ev;
  struct kvm_run *run = v->run;

  if (!atomic_load (&v->thread_known))
    {
      v->thread = pthread_self ();
      atomic_store (&v->thread_known, true);
    }
  for (;;)
    {
      if (ioctl (v->fd, KVM_RUN, 0) < 0)
        {
          int e = errno;
          if (e == EINTR || e == EAGAIN)
            {
              __atomic_store_n (&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
              return VCPU_EXIT_KICK;
            }
          return vcpu_error (v, g_strdup_printf ("KVM_RUN failed: %s", g_strerror (e)));
        }
      switch (run->exit_reason)
        {
        case KVM_EXIT_IO:
          if (!handle_pio (v))
            return vcpu_error (v, g_strdup_printf ("KVM: malformed port I/O exit (port %#x size %u count %u)",
                                                   run->io.port, run->io.size, run->io.count));
          break;
        case KVM_EXIT_MMIO:
          handle_mmio (v);
          break;
        case KVM_EXIT_INTR:
          __atomic_store_n (&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
          return VCPU_EXIT_KICK;
        case KVM_EXIT_HLT:
          return VCPU_EXIT_HALT;
        case KVM_EXIT_SHUTDOWN:
          return VCPU_EXIT_SHUTDOWN;
        case KVM_EXIT_SYSTEM_EVENT:
          if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
            return VCPU_EXIT_RESET;
          if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
            return VCPU_EXIT_SHUTDOWN;
          return vcpu_error (v, g_strdup_printf ("KVM: system event %u", run->system_event.type));
        case KVM_EXIT_INTERNAL_ERROR:
          return vcpu_error (v, g_strdup_printf ("KVM internal error (suberror %u)",
                                                 run->internal.suberror));
        case KVM_EXIT_FAIL_ENTRY:
          return vcpu_error (v, g_strdup_printf ("KVM entry failed (hardware reason %#llx)",
                                                 (unsigned long long) run->fail_entry.hardware_entry_failure_reason));
        case KVM_EXIT_IRQ_WINDOW_OPEN:
          break;
        default:
          return vcpu_error (v, g_strdup_printf ("KVM: unhandled exit reason %u", run->exit_reason));
        }
    }
}
