/* APIC bus: destination resolution and MSI decoding (SDM vol. 3, 10.6 and
 * 10.11). */
#include "vmm-core/irqchip/apic-bus.h"

#include <glib.h>

#include "vmm-core/irqchip/lapic.h"
#include "vmm-core/log.h"

struct ApicBus {
  unsigned ncpus;
  Lapic **lapics;
  ApicKickFn kick;
  void *kick_opaque;
  ApicEoiFn eoi;
  void *eoi_opaque;
  unsigned lowest_rr; /* round-robin start among equal-priority targets */
};

ApicBus *
apic_bus_new (unsigned ncpus, ApicKickFn kick, void *kick_opaque)
{
  ApicBus *bus = g_new0 (ApicBus, 1);
  bus->ncpus = ncpus;
  bus->lapics = g_new0 (Lapic *, ncpus ? ncpus : 1);
  bus->kick = kick;
  bus->kick_opaque = kick_opaque;
  return bus;
}

void
apic_bus_free (ApicBus *bus)
{
  if (!bus)
    return;
  g_free (bus->lapics);
  g_free (bus);
}

unsigned
apic_bus_ncpus (const ApicBus *bus)
{
  return bus->ncpus;
}

void
apic_bus_attach (ApicBus *bus, unsigned cpu, Lapic *lapic)
{
  if (cpu < bus->ncpus)
    bus->lapics[cpu] = lapic;
}

Lapic *
apic_bus_lapic (ApicBus *bus, unsigned cpu)
{
  return cpu < bus->ncpus ? bus->lapics[cpu] : NULL;
}

void
apic_bus_set_eoi_listener (ApicBus *bus, ApicEoiFn fn, void *opaque)
{
  bus->eoi = fn;
  bus->eoi_opaque = opaque;
}

void
apic_bus_broadcast_eoi (ApicBus *bus, uint8_t vector)
{
  if (bus->eoi)
    bus->eoi (bus->eoi_opaque, vector);
}

void
apic_bus_kick (ApicBus *bus, unsigned cpu)
{
  if (bus->kick)
    bus->kick (bus->kick_opaque, cpu);
}

static bool
is_target (ApicBus *bus, unsigned cpu, const ApicMessage *msg)
{
  Lapic *l = bus->lapics[cpu];
  if (!l || !lapic_hw_enabled (l))
    return false;
  switch (msg->shorthand)
    {
    case APIC_SH_SELF:
      return msg->source == (int) cpu;
    case APIC_SH_ALL:
      return true;
    case APIC_SH_ALL_BUT_SELF:
      return msg->source != (int) cpu;
    default:
      return lapic_match_dest (l, msg);
    }
}

unsigned
apic_bus_deliver (ApicBus *bus, const ApicMessage *msg)
{
  /* INIT level de-assert only resyncs arbitration IDs: nothing to deliver. */
  if (msg->delivery_mode == APIC_DM_INIT && !msg->level_assert && msg->level_trigger)
    return 0;
  if (msg->delivery_mode == APIC_DM_LOWEST && msg->shorthand == APIC_SH_NONE)
    {
      /* One target: the lowest processor priority, round-robin among ties so
       * device interrupts spread like on hardware with focus disabled. */
      int best = -1;
      uint32_t best_ppr = 0;
      for (unsigned k = 0; k < bus->ncpus; k++)
        {
          unsigned cpu = (bus->lowest_rr + k) % bus->ncpus;
          if (!is_target (bus, cpu, msg))
            continue;
          uint32_t ppr = lapic_ppr (bus->lapics[cpu]) & 0xf0;
          if (best < 0 || ppr < best_ppr)
            {
              best = (int) cpu;
              best_ppr = ppr;
            }
        }
      if (best < 0)
        return 0;
      bus->lowest_rr = ((unsigned) best + 1) % bus->ncpus;
      ApicMessage fixed = *msg;
      lapic_deliver (bus->lapics[best], &fixed);
      return 1;
    }
  unsigned n = 0;
  for (unsigned cpu = 0; cpu < bus->ncpus; cpu++)
    if (is_target (bus, cpu, msg))
      {
        lapic_deliver (bus->lapics[cpu], msg);
        n++;
      }
  return n;
}

bool
apic_msi_decode (uint64_t address, uint32_t data, ApicMessage *msg)
{
  if ((address & 0xfff00000ull) != 0xfee00000ull || (address >> 32) != 0)
    return false;
  *msg = (ApicMessage){
    .dest = (uint32_t) (address >> 12) & 0xff,
    .dest_logical = (address >> 2) & 1,
    .vector = data & 0xff,
    .delivery_mode = (data >> 8) & 7,
    .level_assert = (data >> 14) & 1,
    .level_trigger = (data >> 15) & 1,
    .shorthand = APIC_SH_NONE,
    .source = -1,
  };
  /* RH (bit 3) with DM selects lowest priority among the destinations; with
   * a fixed delivery mode it is still a redirection hint, which we honour. */
  if (((address >> 3) & 1) && msg->delivery_mode == APIC_DM_FIXED)
    msg->delivery_mode = APIC_DM_LOWEST;
  if (!msg->level_trigger)
    msg->level_assert = true; /* edge MSIs always assert */
  return true;
}

bool
apic_bus_send_msi (ApicBus *bus, uint64_t address, uint32_t data)
{
  ApicMessage msg;
  if (!apic_msi_decode (address, data, &msg))
    {
      VMM_GUEST_ERROR ("apic", "MSI to bad address 0x%" G_GINT64_MODIFIER "x (data 0x%x)",
                       address, data);
      return false;
    }
  if (msg.delivery_mode == APIC_DM_SIPI || msg.delivery_mode == 3)
    {
      VMM_GUEST_ERROR ("apic", "MSI with reserved delivery mode %u", msg.delivery_mode);
      return false;
    }
  apic_bus_deliver (bus, &msg);
  return true;
}
