/* How guest accesses and interrupts travel: VcpuHost callbacks dispatch
 * port I/O and MMIO onto the buses under the device lock, and the IrqRouter
 * hands device interrupt lines to the engine. */
#include "vmm-core/machine-internal.h"

#include <string.h>

#include "vmm-core/log.h"

static void
host_pio (void *opaque, uint16_t port, unsigned size, bool is_write, void *data)
{
  MachineVcpu *v = opaque;
  Machine *m = v->m;
  uint64_t value = 0;

  g_mutex_lock (&m->device_lock);
  if (is_write)
    {
      memcpy (&value, data, size);
      if (!io_bus_write (&m->pio, port, size, value))
        VMM_GUEST_ERROR ("pio", "cpu %u: write %#" G_GINT64_MODIFIER "x to unclaimed port %#x (size %u)",
                         v->index, value, port, size);
    }
  else
    {
      if (!io_bus_read (&m->pio, port, size, &value))
        VMM_GUEST_ERROR ("pio", "cpu %u: read from unclaimed port %#x (size %u)", v->index, port,
                         size);
      memcpy (data, &value, size);
    }
  g_mutex_unlock (&m->device_lock);
}

static void
host_mmio (void *opaque, uint64_t gpa, unsigned size, bool is_write, void *data)
{
  MachineVcpu *v = opaque;
  Machine *m = v->m;
  uint64_t value = 0;

  g_mutex_lock (&m->device_lock);
  if (is_write)
    {
      memcpy (&value, data, size);
      if (!io_bus_write (&m->mmio, gpa, size, value))
        VMM_GUEST_ERROR ("mmio", "cpu %u: write %#" G_GINT64_MODIFIER "x to unclaimed address %#"
                         G_GINT64_MODIFIER "x (size %u)", v->index, value, gpa, size);
    }
  else
    {
      if (!io_bus_read (&m->mmio, gpa, size, &value))
        VMM_GUEST_ERROR ("mmio", "cpu %u: read from unclaimed address %#" G_GINT64_MODIFIER
                         "x (size %u)", v->index, gpa, size);
      memcpy (data, &value, size);
    }
  g_mutex_unlock (&m->device_lock);
}

void
machine_vcpu_host (MachineVcpu *v, VcpuHost *host)
{
  *host = (VcpuHost){ .opaque = v, .pio = host_pio, .mmio = host_mmio };
}

static void
router_set_level (void *opaque, unsigned gsi, bool level)
{
  Machine *m = opaque;
  m->engine->ops->set_irq (m->engine, gsi, level);
}

static void
router_send_msi (void *opaque, uint64_t address, uint32_t data)
{
  Machine *m = opaque;
  m->engine->ops->send_msi (m->engine, address, data);
}

void
machine_io_init (Machine *m)
{
  m->irq_router = (IrqRouter){ .set_level = router_set_level, .send_msi = router_send_msi,
                               .opaque = m };
}
