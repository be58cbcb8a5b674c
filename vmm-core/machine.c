/* Machine creation and teardown: RAM, buses, engine, devices, boot image. */
#include "vmm-core/machine-internal.h"

#include <string.h>
#include <gio/gio.h>

#include "hostdrv/host-caps.h"
#include "vmm-core/boot-elf.h"
#include "vmm-core/log.h"
#include "vmm-core/platform/uart-backend.h"
#include "vmm-core/snapshot-stream.h"

/* The software engine may not be linked in yet: a weak reference reads NULL. */
extern const EngineOps soft_engine_ops __attribute__ ((weak));

/* Memory slots: RAM below the hole, RAM above 4 GiB. */
enum { SLOT_LOW_RAM = 0, SLOT_HIGH_RAM = 1 };

static GBytes *
read_file (const char *path, const char *what, GError **error)
{
  char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &data, &len, &local))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "cannot read %s: %s", what,
                   local->message);
      return NULL;
    }
  return g_bytes_new_take (data, len);
}

static void
testdev_exit (void *opaque, uint32_t value)
{
  machine_request_exit (opaque, MACHINE_EXIT_DEBUG_BASE + (int) (value & 63));
}

static bool
map_ram (Machine *m, bool log_dirty, GError **error)
{
  const EngineOps *ops = m->engine->ops;
  if (!ops->map_memory (m->engine, SLOT_LOW_RAM, 0, m->ram.low_size, m->ram.host, log_dirty,
                        error))
    return false;
  return !m->ram.high_size
         || ops->map_memory (m->engine, SLOT_HIGH_RAM, GUEST_RAM_HIGH_START, m->ram.high_size,
                             m->ram.host + m->ram.low_size, log_dirty, error);
}

bool
machine_dirty_log_start (Machine *m, GError **error)
{
  return map_ram (m, true, error);
}

bool
machine_dirty_log_stop (Machine *m, GError **error)
{
  return map_ram (m, false, error);
}

bool
machine_dirty_log_fetch (Machine *m, uint64_t *bitmap, GError **error)
{
  const EngineOps *ops = m->engine->ops;
  uint64_t low_pages = m->ram.low_size >> 12, high_pages = m->ram.high_size >> 12;
  memset (bitmap, 0, ((low_pages + high_pages + 63) / 64) * 8);
  if (!ops->get_dirty_log (m->engine, SLOT_LOW_RAM, bitmap, error))
    return false;
  if (!high_pages)
    return true;
  g_autofree uint64_t *high = g_new0 (uint64_t, (high_pages + 63) / 64);
  if (!ops->get_dirty_log (m->engine, SLOT_HIGH_RAM, high, error))
    return false;
  for (uint64_t i = 0; i < high_pages; i++)
    if (high[i / 64] >> (i % 64) & 1)
      {
        uint64_t bit = low_pages + i;
        bitmap[bit / 64] |= 1ull << (bit % 64);
      }
  return true;
}

/* PciMapRamFn: a RAM-backed BAR appears at or leaves gpa (device lock held). */
static void
pci_map_ram (void *opaque, uint64_t gpa, uint64_t size, void *host, bool map)
{
  Machine *m = opaque;
  g_autoptr (GError) error = NULL;
  const EngineOps *ops = m->engine->ops;

  for (unsigned i = 0; i < MACHINE_BAR_SLOTS; i++)
    {
      if (map ? m->bar_slots[i].used : !(m->bar_slots[i].used && m->bar_slots[i].gpa == gpa))
        continue;
      if (!ops->map_memory (m->engine, MACHINE_FIRST_BAR_SLOT + i, gpa, map ? size : 0, host,
                            false, &error))
        {
          VMM_GUEST_ERROR ("pci", "cannot %s RAM BAR at %#" G_GINT64_MODIFIER "x: %s",
                           map ? "map" : "unmap", gpa, error->message);
          return;
        }
      m->bar_slots[i].used = map;
      m->bar_slots[i].gpa = gpa;
      m->bar_slots[i].size = size;
      return;
    }
  if (map)
    VMM_GUEST_ERROR ("pci", "no memory slot left for a RAM BAR at %#" G_GINT64_MODIFIER "x", gpa);
}

static void
guest_reset (void *opaque, bool hard)
{
  machine_request_reset (opaque);
}

static void
guest_debug_exit (void *opaque, int status)
{
  machine_request_exit (opaque, status);
}

static void
kbc_reset (void *opaque)
{
  machine_request_reset (opaque);
}

static void
guest_power_off (void *opaque)
{
  machine_request_poweroff (opaque);
}

static bool
create_devices (Machine *m, GError **error)
{
  machine_io_init (m);

  g_mutex_lock (&m->device_lock);
  m->pci_ready = pci_host_init (&m->pci, &m->pio, &m->mmio, &m->irq_router, pci_map_ram, m);
  if (m->pci_ready)
    {
      /* 64-bit BARs above RAM, from the next 1 GiB boundary, 32 GiB wide. */
      m->mmio64_base = (GUEST_RAM_HIGH_START + m->ram.high_size + (1ull << 30) - 1)
                       & ~((1ull << 30) - 1);
      m->mmio64_size = 32ull << 30;
      pci_host_set_mmio64_window (&m->pci, m->mmio64_base, m->mmio64_size);
    }
  PcResetCallbacks reset_cb = { .reset = guest_reset, .debug_exit = guest_debug_exit,
                                .opaque = m };
  m->reset_ready = pc_reset_init (&m->reset, &m->pio, &reset_cb, false);
  if (m->reset_ready && m->pci_ready)
    pci_host_set_cf9_handler (&m->pci, &pc_reset_cf9_ops, &m->reset);
  IrqLine sci = { &m->irq_router, ACPI_SCI_IRQ };
  m->pm_ready = acpi_pm_init (&m->pm, &m->pio, ACPI_PM_BASE, sci, m->timers, guest_power_off, m);
  I8042Hooks kbc_hooks = { .system_reset = kbc_reset, .opaque = m };
  m->kbc_ready = i8042_init (&m->kbc, &m->pio, (IrqLine){ &m->irq_router, I8042_KBD_IRQ },
                             (IrqLine){ &m->irq_router, I8042_AUX_IRQ }, &kbc_hooks);
  g_mutex_unlock (&m->device_lock);
  if (!m->pci_ready || !m->reset_ready || !m->pm_ready || !m->kbc_ready)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "platform ports are taken (PCI %d, reset %d, ACPI PM %d, i8042 %d)",
                   m->pci_ready, m->reset_ready, m->pm_ready, m->kbc_ready);
      return false;
    }

  IrqLine com1_irq = { &m->irq_router, UART_COM1_IRQ };
  if (!uart_init (&m->com1, &m->pio, UART_COM1_BASE, com1_irq))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "COM1 ports are taken");
      return false;
    }
  m->com1_ready = true;
  UartBackend *be = uart_backend_new (m->serial ? m->serial : "none", &m->com1,
                                      &m->device_lock, error);
  if (!be)
    return false;
  uart_set_backend (&m->com1, be);

  /* Devices that arm timers are set up under the lock the timer thread takes. */
  IrqLine rtc_irq = { &m->irq_router, CMOS_RTC_IRQ };
  g_mutex_lock (&m->device_lock);
  m->rtc_ready = cmos_rtc_init (&m->rtc, &m->pio, rtc_irq, m->timers);
  if (m->rtc_ready)
    {
      cmos_rtc_set_memory_size (&m->rtc, m->ram.low_size, m->ram.high_size);
      cmos_rtc_set_cpu_count (&m->rtc, m->ncpus);
    }
  g_mutex_unlock (&m->device_lock);
  if (!m->rtc_ready)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "CMOS ports are taken");
      return false;
    }

  AcpiConfig acpi = { .n_cpus = m->ncpus, .legacy_devices = true,
                      .mmio64_base = m->mmio64_base, .mmio64_size = m->mmio64_size };
  m->acpi = acpi_tables_build (&acpi, MACHINE_ACPI_TABLES, error);
  if (!m->acpi)
    return false;
  if (m->acpi->blob->len > MACHINE_ACPI_BASE + MACHINE_ACPI_SIZE - MACHINE_ACPI_TABLES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "ACPI tables (%u bytes) do not fit in the BIOS area", m->acpi->blob->len);
      return false;
    }

  if (m->cfg.test_device)
    {
      m->testdev.exit = testdev_exit;
      m->testdev.opaque = m;
      if (!machine_testdev_init (&m->testdev, &m->pio, &m->mmio))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "test device ports are taken");
          return false;
        }
      m->testdev_ready = true;
    }
  return true;
}

/* The RTC keeps its time and NVRAM across a reset, as on a PC. */
void
machine_reset_devices (Machine *m)
{
  if (m->com1_ready)
    uart_reset (&m->com1);
  if (m->pm_ready)
    acpi_pm_reset (&m->pm);
  if (m->kbc_ready)
    i8042_reset (&m->kbc);
  if (m->testdev_ready)
    machine_testdev_reset (&m->testdev);
}

/* Loads the boot image into RAM and sets every vCPU to its power-on state. */
bool
machine_load_boot_image (Machine *m, GError **error)
{
  g_autofree CpuState *s = g_new (CpuState, 1);

  cpu_state_reset (s, 0, true);
  if (!acpi_tables_install (m->acpi, &m->ram, MACHINE_ACPI_BASE, error))
    return false;
  if (m->guest_elf)
    {
      gsize len;
      const uint8_t *img = g_bytes_get_data (m->guest_elf, &len);
      if (!elf_load (&m->ram, img, len, s, error))
        return false;
    }
  else if (m->kernel)
    {
      LinuxBootConfig lc = { 0 };
      lc.kernel = g_bytes_get_data (m->kernel, &lc.kernel_len);
      if (m->initrd)
        lc.initrd = g_bytes_get_data (m->initrd, &lc.initrd_len);
      lc.cmdline = m->cmdline;
      lc.acpi_rsdp = MACHINE_ACPI_BASE;
      lc.acpi_base = MACHINE_ACPI_BASE;
      lc.acpi_size = MACHINE_ACPI_SIZE;
      lc.display = m->has_display ? &m->display : NULL;
      if (!linux_load (&m->ram, &lc, s, NULL, error))
        return false;
    }
  /* else: no image; the BSP starts at the reset vector (firmware later). */

  const EngineOps *ops = m->engine->ops;
  if (!ops->vcpu_set_state (m->vcpus[0].ev, s, error))
    return false;
  for (unsigned i = 1; i < m->ncpus; i++)
    {
      cpu_state_reset (s, i, false);
      if (!ops->vcpu_set_state (m->vcpus[i].ev, s, error))
        return false;
    }
  return true;
}

static const EngineOps *
choose_engine (const MachineConfig *cfg, char **why, GError **error)
{
  HostCaps caps;
  const EngineOps *soft = &soft_engine_ops;
  host_caps_probe (&caps, NULL, NULL);
  EngineKind kind = host_choose_engine (&caps, cfg->engine, soft != NULL, why);
  host_caps_clear (&caps);
  if (kind == ENGINE_KIND_KVM)
    return &kvm_engine_ops;
  if (kind == ENGINE_KIND_SOFT)
    return soft;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, *why);
  return NULL;
}

Machine *
machine_new (const MachineConfig *cfg, char **engine_why, GError **error)
{
  g_autofree char *why = NULL;
  Machine *m = g_new0 (Machine, 1);

  m->cfg = *cfg;
  m->kernel_path = g_strdup (cfg->kernel);
  m->initrd_path = g_strdup (cfg->initrd);
  m->cmdline = g_strdup (cfg->cmdline);
  m->guest_elf_path = g_strdup (cfg->guest_elf);
  m->serial = g_strdup (cfg->serial);
  m->ncpus = cfg->cpus ? cfg->cpus : 1;
  m->ram.fd = -1;
  g_mutex_init (&m->device_lock);
  g_mutex_init (&m->ctl_lock);
  g_cond_init (&m->ctl_cond);
  io_bus_init (&m->pio, "pio");
  io_bus_init (&m->mmio, "mmio");
  m->state = MACHINE_STATE_CREATED;

  if (m->ncpus > MACHINE_MAX_CPUS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "at most %d vCPUs are supported", MACHINE_MAX_CPUS);
      goto fail;
    }
  /* Read the boot files first: the commonest mistakes fail fastest. */
  if (m->guest_elf_path && m->kernel_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "give either a kernel or a guest ELF, not both");
      goto fail;
    }
  if (m->guest_elf_path && !(m->guest_elf = read_file (m->guest_elf_path, "guest ELF", error)))
    goto fail;
  if (m->kernel_path)
    {
      if (!(m->kernel = read_file (m->kernel_path, "kernel", error)))
        goto fail;
      BzImageInfo info;
      gsize len;
      const uint8_t *img = g_bytes_get_data (m->kernel, &len);
      if (!linux_parse_bzimage (img, len, &info, error))
        goto fail;
    }
  else if (m->initrd_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--initrd needs --kernel");
      goto fail;
    }
  if (m->initrd_path && !(m->initrd = read_file (m->initrd_path, "initrd", error)))
    goto fail;

  if (!guest_ram_init (&m->ram, cfg->ram_size, error))
    goto fail;

  const EngineOps *ops = choose_engine (cfg, &why, error);
  if (!ops)
    goto fail;
  m->timers = timer_queue_new (&m->device_lock);
  timer_queue_pause (m->timers); /* the clock starts with the vCPUs */
  EngineConfig ec = { .cpus = m->ncpus, .ram_size = m->ram.size, .ram_fd = m->ram.fd,
                      .ram_host = m->ram.host, .pio = &m->pio, .mmio = &m->mmio,
                      .timers = m->timers, .device_lock = &m->device_lock };
  m->engine = ops->create (&ec, error);
  if (!m->engine)
    goto fail;
  if (!map_ram (m, false, error))
    goto fail;

  if (!create_devices (m, error))
    goto fail;

  m->vcpus = g_new0 (MachineVcpu, m->ncpus);
  for (unsigned i = 0; i < m->ncpus; i++)
    {
      VcpuHost host;
      m->vcpus[i].m = m;
      m->vcpus[i].index = i;
      machine_vcpu_host (&m->vcpus[i], &host);
      m->vcpus[i].ev = ops->vcpu_create (m->engine, i, &host, error);
      if (!m->vcpus[i].ev)
        goto fail;
    }

  SnapWriter *w = snap_writer_new ();
  ops->save_platform (m->engine, w);
  m->pristine_platform = snap_writer_finish (w);

  if (!machine_load_boot_image (m, error))
    goto fail;
  if (engine_why)
    *engine_why = g_steal_pointer (&why);
  return m;

fail:
  if (engine_why)
    *engine_why = g_steal_pointer (&why);
  machine_free (m);
  return NULL;
}

void
machine_free (Machine *m)
{
  if (!m)
    return;
  if (m->started && m->state != MACHINE_STATE_STOPPED)
    {
      machine_request_poweroff (m);
      machine_run (m);
    }
  /* Devices with timers go under the lock the timer thread takes; the UART
   * back end joins a thread that takes it, so it goes after, without. */
  g_mutex_lock (&m->device_lock);
  if (m->pm_ready)
    acpi_pm_destroy (&m->pm);
  if (m->kbc_ready)
    i8042_destroy (&m->kbc);
  if (m->reset_ready)
    pc_reset_destroy (&m->reset);
  if (m->pci_ready)
    pci_host_destroy (&m->pci);
  if (m->rtc_ready)
    cmos_rtc_destroy (&m->rtc);
  if (m->testdev_ready)
    machine_testdev_destroy (&m->testdev, &m->pio, &m->mmio);
  g_mutex_unlock (&m->device_lock);
  if (m->com1_ready)
    uart_destroy (&m->com1);
  if (m->vcpus)
    for (unsigned i = 0; i < m->ncpus; i++)
      if (m->vcpus[i].ev)
        m->engine->ops->vcpu_destroy (m->vcpus[i].ev);
  g_free (m->vcpus);
  if (m->engine)
    m->engine->ops->destroy (m->engine);
  if (m->timers)
    timer_queue_free (m->timers);
  g_clear_pointer (&m->pristine_platform, g_bytes_unref);
  g_clear_pointer (&m->acpi, acpi_tables_free);
  g_clear_pointer (&m->kernel, g_bytes_unref);
  g_clear_pointer (&m->initrd, g_bytes_unref);
  g_clear_pointer (&m->guest_elf, g_bytes_unref);
  guest_ram_destroy (&m->ram);
  io_bus_destroy (&m->pio);
  io_bus_destroy (&m->mmio);
  g_mutex_clear (&m->device_lock);
  g_mutex_clear (&m->ctl_lock);
  g_cond_clear (&m->ctl_cond);
  g_free (m->kernel_path);
  g_free (m->initrd_path);
  g_free (m->cmdline);
  g_free (m->guest_elf_path);
  g_free (m->serial);
  g_free (m->exit_message);
  g_free (m);
}

void
machine_set_state_callback (Machine *m, MachineStateFn fn, void *opaque)
{
  m->state_fn = fn;
  m->state_opaque = opaque;
}

void
machine_set_boot_display (Machine *m, const BootDisplayInfo *info)
{
  m->has_display = info && info->width;
  if (m->has_display)
    m->display = *info;
}

bool
machine_reload_boot_image (Machine *m, GError **error)
{
  return machine_load_boot_image (m, error);
}

GuestRam *machine_ram (Machine *m) { return &m->ram; }
IoBus *machine_pio (Machine *m) { return &m->pio; }
IoBus *machine_mmio (Machine *m) { return &m->mmio; }
GMutex *machine_device_lock (Machine *m) { return &m->device_lock; }
TimerQueue *machine_timers (Machine *m) { return m->timers; }
const IrqRouter *machine_irq_router (Machine *m) { return &m->irq_router; }
Engine *machine_engine (Machine *m) { return m->engine; }
PciHost *machine_pci (Machine *m) { return &m->pci; }
I8042 *machine_i8042 (Machine *m) { return &m->kbc; }
unsigned machine_cpu_count (Machine *m) { return m->ncpus; }

bool
machine_get_cpu_state (Machine *m, unsigned i, CpuState *s, GError **error)
{
  if (i >= m->ncpus)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no vCPU %u", i);
      return false;
    }
  return m->engine->ops->vcpu_get_state (m->vcpus[i].ev, s, error);
}

bool
machine_set_cpu_state (Machine *m, unsigned i, const CpuState *s, GError **error)
{
  if (i >= m->ncpus)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no vCPU %u", i);
      return false;
    }
  return m->engine->ops->vcpu_set_state (m->vcpus[i].ev, s, error);
}
