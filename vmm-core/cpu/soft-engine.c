/* The software engine behind the engine interface: guest-physical memory
 * slots, the userspace irqchip (PIC/IOAPIC/PIT/LAPICs) and the vCPUs. */
#include "vmm-core/cpu/soft-engine.h"

#include <gio/gio.h>

#include "vmm-core/log.h"

#define SOFT_TSC_HZ 1000000000ull

static void
chip_kick (void *opaque, unsigned cpu)
{
  SoftEngine *se = opaque;
  if (cpu < SOFT_MAX_CPUS && se->vcpus[cpu])
    soft_vcpu_wake (se->vcpus[cpu]);
}

static Engine *
soft_create (const EngineConfig *cfg, GError **error)
{
  if (cfg->cpus == 0 || cfg->cpus > SOFT_MAX_CPUS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "the software engine supports 1 to %d CPUs", SOFT_MAX_CPUS);
      return NULL;
    }
  SoftEngine *se = g_new0 (SoftEngine, 1);
  se->base.ops = &soft_engine_ops;
  se->cfg = *cfg;
  se->tsc_hz = SOFT_TSC_HZ;
  soft_cpu_count = cfg->cpus;
  if (cfg->pio && cfg->mmio && cfg->timers)
    {
      UserIrqchipHooks hooks = { .kick = chip_kick, .opaque = se };
      if (cfg->device_lock)
        g_mutex_lock (cfg->device_lock);
      se->chip = user_irqchip_new (cfg->pio, cfg->mmio, cfg->timers, cfg->cpus, &hooks);
      if (se->chip)
        user_irqchip_set_tsc_hz (se->chip, se->tsc_hz);
      if (cfg->device_lock)
        g_mutex_unlock (cfg->device_lock);
    }
  return &se->base;
}

static void
soft_destroy (Engine *e)
{
  SoftEngine *se = (SoftEngine *) e;
  if (!se)
    return;
  if (se->chip)
    {
      if (se->cfg.device_lock)
        g_mutex_lock (se->cfg.device_lock);
      user_irqchip_free (se->chip);
      if (se->cfg.device_lock)
        g_mutex_unlock (se->cfg.device_lock);
    }
  g_free (se);
}

static bool
soft_map_memory (Engine *e, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
                 bool log_dirty, GError **error)
{
  SoftEngine *se = (SoftEngine *) e;
  SoftMem *m = &se->mem;
  if (slot >= SOFT_MAX_SLOTS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "memory slot %u out of range",
                   slot);
      return false;
    }
  m->slots[slot] = (MemSlot){ .gpa = gpa, .size = host ? size : 0, .host = host };
  unsigned n = 0;
  for (unsigned i = 0; i < SOFT_MAX_SLOTS; i++)
    if (m->slots[i].size)
      n = i + 1;
  m->nslots = n;
  __atomic_add_fetch (&m->generation, 1, __ATOMIC_SEQ_CST);
  for (unsigned i = 0; i < SOFT_MAX_CPUS; i++)
    if (se->vcpus[i])
      soft_vcpu_kick (&se->vcpus[i]->base);
  return true;
}

static bool
soft_get_dirty_log (Engine *e, uint32_t slot, uint64_t *bitmap, GError **error)
{
  SoftEngine *se = (SoftEngine *) e;
  if (slot >= SOFT_MAX_SLOTS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "memory slot %u out of range",
                   slot);
      return false;
    }
  /* No write tracking yet: report every page dirty (always correct). */
  uint64_t pages = se->mem.slots[slot].size / 4096;
  for (uint64_t i = 0; i < (pages + 63) / 64; i++)
    bitmap[i] = ~0ull;
  if (pages % 64)
    bitmap[pages / 64] = (1ull << (pages % 64)) - 1;
  return true;
}

static void
soft_set_irq (Engine *e, unsigned gsi, bool level)
{
  SoftEngine *se = (SoftEngine *) e;
  if (se->chip)
    user_irqchip_set_irq (se->chip, gsi, level);
}

static void
soft_send_msi (Engine *e, uint64_t address, uint32_t data)
{
  SoftEngine *se = (SoftEngine *) e;
  if (se->chip)
    user_irqchip_send_msi (se->chip, address, data);
}

static void
soft_save_platform (Engine *e, SnapWriter *w)
{
  SoftEngine *se = (SoftEngine *) e;
  if (se->chip)
    user_irqchip_save (se->chip, w);
}

static bool
soft_load_platform (Engine *e, SnapReader *r, GError **error)
{
  SoftEngine *se = (SoftEngine *) e;
  return se->chip ? user_irqchip_load (se->chip, r, error) : true;
}

const EngineOps soft_engine_ops = {
  .name = "soft",
  .create = soft_create,
  .destroy = soft_destroy,
  .map_memory = soft_map_memory,
  .get_dirty_log = soft_get_dirty_log,
  .vcpu_create = soft_vcpu_create,
  .vcpu_destroy = soft_vcpu_destroy,
  .vcpu_run = soft_vcpu_run,
  .vcpu_kick = soft_vcpu_kick,
  .vcpu_get_state = soft_vcpu_get_state,
  .vcpu_set_state = soft_vcpu_set_state,
  .set_irq = soft_set_irq,
  .send_msi = soft_send_msi,
  .save_platform = soft_save_platform,
  .load_platform = soft_load_platform,
};
