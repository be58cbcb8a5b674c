/* The KVM engine: a VM with the in-kernel irqchip (PIC, IOAPIC, LAPICs) and
 * PIT, guest memory in user memory slots, and one KVM vCPU per EngineVcpu.
 * vCPU execution lives in kvm-vcpu.c, state transfer in kvm-state.c,
 * irqchip/PIT/clock snapshots in kvm-platform.c. */
#include "hostdrv/kvm-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <gio/gio.h>

/* Three pages just below the BIOS area at the top of 4 GiB, inside the
 * machine's hole where nothing else is mapped (as QEMU and kvmtool do). */
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000ull
#define KVM_TSS_ADDR 0xfeffd000ull

bool
kvm_fail (GError **error, const char *what)
{
  int e = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "KVM: %s failed: %s", what,
               g_strerror (e));
  return false;
}

static void
kvm_destroy (Engine *e)
{
  KvmEngine *k = (KvmEngine *) e;
  if (!k)
    return;
  if (k->vm_fd >= 0)
    close (k->vm_fd);
  if (k->sys_fd >= 0)
    close (k->sys_fd);
  g_free (k->cpuid);
  g_free (k);
}

static Engine *
kvm_create (const EngineConfig *cfg, GError **error)
{
  KvmEngine *k = g_new0 (KvmEngine, 1);
  k->base.ops = &kvm_engine_ops;
  k->vm_fd = -1;
  k->cpus = cfg->cpus;

  k->sys_fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (k->sys_fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot open /dev/kvm: %s%s",
                   g_strerror (e), e == EACCES ? " (join the 'kvm' group)" : "");
      goto fail;
    }
  if (ioctl (k->sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "KVM: unsupported API version");
      goto fail;
    }
  static const struct { int cap; const char *name; } needed[] = {
    { KVM_CAP_IRQCHIP, "in-kernel irqchip" },
    { KVM_CAP_USER_MEMORY, "user memory slots" },
    { KVM_CAP_IMMEDIATE_EXIT, "immediate_exit" },
    { KVM_CAP_EXT_CPUID, "KVM_GET_SUPPORTED_CPUID" },
    { KVM_CAP_MP_STATE, "MP state" },
    { KVM_CAP_VCPU_EVENTS, "vCPU events" },
    { KVM_CAP_PIT2, "in-kernel PIT" },
    { KVM_CAP_SIGNAL_MSI, "KVM_SIGNAL_MSI" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (needed); i++)
    if (ioctl (k->sys_fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0)
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                     "KVM on this host lacks %s", needed[i].name);
        goto fail;
      }
  k->has_xsave = ioctl (k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
  k->has_debugregs = ioctl (k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS) > 0;
  k->vcpu_mmap_size = ioctl (k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (k->vcpu_mmap_size < (int) sizeof (struct kvm_run))
    {
      kvm_fail (error, "KVM_GET_VCPU_MMAP_SIZE");
      goto fail;
    }
  int max_vcpus = ioctl (k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
  if (max_vcpus <= 0)
    max_vcpus = ioctl (k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
  if (max_vcpus > 0 && cfg->cpus > (unsigned) max_vcpus)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "KVM on this host supports at most %d vCPUs", max_vcpus);
      goto fail;
    }

  k->vm_fd = ioctl (k->sys_fd, KVM_CREATE_VM, 0);
  if (k->vm_fd < 0)
    {
      kvm_fail (error, "KVM_CREATE_VM");
      goto fail;
    }
  fcntl (k->vm_fd, F_SETFD, FD_CLOEXEC);

  /* Intel VMX needs these for real mode; other back ends may refuse them. */
  uint64_t ident = KVM_IDENTITY_MAP_ADDR;
  if (ioctl (k->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0)
    (void) ioctl (k->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident);
  (void) ioctl (k->vm_fd, KVM_SET_TSS_ADDR, (unsigned long) KVM_TSS_ADDR);

  if (ioctl (k->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
    {
      kvm_fail (error, "KVM_CREATE_IRQCHIP");
      goto fail;
    }
  struct kvm_pit_config pit = { .flags = 0 };
  if (ioctl (k->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
    {
      kvm_fail (error, "KVM_CREATE_PIT2");
      goto fail;
    }

  k->cpuid = kvm_cpuid_template (k->sys_fd, error);
  if (!k->cpuid)
    goto fail;
  return &k->base;

fail:
  kvm_destroy (&k->base);
  return NULL;
}

static bool
kvm_map_memory (Engine *e, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
                bool log_dirty, GError **error)
{
  KvmEngine *k = (KvmEngine *) e;
  if (slot >= KVM_MAX_SLOTS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "KVM: slot %u out of range",
                   slot);
      return false;
    }
  if (size && ((gpa | size | (uintptr_t) host) & 0xfff))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "KVM: memory slot %u is not page aligned", slot);
      return false;
    }
  struct kvm_userspace_memory_region r = {
    .slot = slot,
    .flags = (size && log_dirty) ? KVM_MEM_LOG_DIRTY_PAGES : 0,
    .guest_phys_addr = size ? gpa : k->slots[slot].gpa,
    .memory_size = size,
    .userspace_addr = (uintptr_t) host,
  };
  /* KVM refuses to move a live slot: delete it first. */
  if (size && k->slots[slot].used && k->slots[slot].gpa != gpa)
    {
      struct kvm_userspace_memory_region del = { .slot = slot,
                                                 .guest_phys_addr = k->slots[slot].gpa };
      if (ioctl (k->vm_fd, KVM_SET_USER_MEMORY_REGION, &del) < 0)
        return kvm_fail (error, "KVM_SET_USER_MEMORY_REGION (delete)");
      k->slots[slot].used = false;
    }
  if (!size && !k->slots[slot].used)
    return true;
  if (ioctl (k->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
    return kvm_fail (error, "KVM_SET_USER_MEMORY_REGION");
  k->slots[slot] = (KvmSlot){ .gpa = gpa, .size = size, .host = host, .used = size != 0 };
  return true;
}

static bool
kvm_get_dirty_log (Engine *e, uint32_t slot, uint64_t *bitmap, GError **error)
{
  KvmEngine *k = (KvmEngine *) e;
  if (slot >= KVM_MAX_SLOTS || !k->slots[slot].used)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "KVM: slot %u not mapped",
                   slot);
      return false;
    }
  struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bitmap };
  if (ioctl (k->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
    return kvm_fail (error, "KVM_GET_DIRTY_LOG");
  return true;
}

static void
kvm_set_irq (Engine *e, unsigned gsi, bool level)
{
  KvmEngine *k = (KvmEngine *) e;
  struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };
  if (ioctl (k->vm_fd, KVM_IRQ_LINE, &irq) < 0)
    g_warning ("KVM_IRQ_LINE gsi %u: %s", gsi, g_strerror (errno));
}

static void
kvm_send_msi (Engine *e, uint64_t address, uint32_t data)
{
  KvmEngine *k = (KvmEngine *) e;
  struct kvm_msi msi = { .address_lo = (uint32_t) address,
                         .address_hi = (uint32_t) (address >> 32),
                         .data = data };
  /* 0 means the interrupt was blocked by the guest's masking: not an error. */
  if (ioctl (k->vm_fd, KVM_SIGNAL_MSI, &msi) < 0)
    g_warning ("KVM_SIGNAL_MSI %#" G_GINT64_MODIFIER "x: %s", address, g_strerror (errno));
}

const EngineOps kvm_engine_ops = {
  .name = "kvm",
  .create = kvm_create,
  .destroy = kvm_destroy,
  .map_memory = kvm_map_memory,
  .get_dirty_log = kvm_get_dirty_log,
  .vcpu_create = kvm_vcpu_create,
  .vcpu_destroy = kvm_vcpu_destroy,
  .vcpu_run = kvm_vcpu_run,
  .vcpu_kick = kvm_vcpu_kick,
  .vcpu_get_state = kvm_vcpu_get_state,
  .vcpu_set_state = kvm_vcpu_set_state,
  .set_irq = kvm_set_irq,
  .send_msi = kvm_send_msi,
  .save_platform = kvm_save_platform,
  .load_platform = kvm_load_platform,
  .clock_pause = kvm_clock_pause,
};
