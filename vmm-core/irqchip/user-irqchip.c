/* The software engine's irqchip: wiring between PIC, IOAPIC, PIT, the APIC
 * bus and the LAPICs, as on a PIIX/ICH PC. */
#include "vmm-core/irqchip/user-irqchip.h"

#include "vmm-core/io-bus.h"
#include "vmm-core/log.h"
#include "vmm-core/snapshot-stream.h"

struct UserIrqchip {
  IoBus *pio;
  IoBus *mmio;
  TimerQueue *timers;
  unsigned ncpus;
  UserIrqchipHooks hooks;
  ApicBus *bus;
  Lapic **lapics;
  Pic8259 *pic;
  Ioapic *ioapic;
  Pit8254 *pit;
  IrqRouter router;
};

static void
kick (void *opaque, unsigned cpu)
{
  UserIrqchip *chip = opaque;
  if (chip->hooks.kick)
    chip->hooks.kick (chip->hooks.opaque, cpu);
}

/* The master PIC's INTR wires to the BSP's LINT0 (virtual wire). */
static void
pic_output (void *opaque, bool level)
{
  UserIrqchip *chip = opaque;
  if (chip->lapics && chip->lapics[0])
    lapic_set_lint (chip->lapics[0], 0, level);
}

static void
pit_irq (void *opaque, bool level)
{
  user_irqchip_set_irq (opaque, 0, level);
}

void
user_irqchip_set_irq (UserIrqchip *chip, unsigned gsi, bool level)
{
  if (gsi >= IOAPIC_NUM_PINS || gsi == 2)
    {
      VMM_GUEST_ERROR ("irqchip", "interrupt on unroutable GSI %u dropped", gsi);
      return;
    }
  if (gsi < 16)
    pic_set_irq (chip->pic, gsi, level);
  /* ISA IRQ0 is IOAPIC pin 2 (the MADT's interrupt source override). */
  ioapic_set_irq (chip->ioapic, gsi == 0 ? 2 : gsi, level);
}

void
user_irqchip_send_msi (UserIrqchip *chip, uint64_t address, uint32_t data)
{
  apic_bus_send_msi (chip->bus, address, data);
}

static void
router_set_level (void *opaque, unsigned gsi, bool level)
{
  user_irqchip_set_irq (opaque, gsi, level);
}

static void
router_send_msi (void *opaque, uint64_t address, uint32_t data)
{
  user_irqchip_send_msi (opaque, address, data);
}

const IrqRouter *
user_irqchip_router (UserIrqchip *chip)
{
  return &chip->router;
}

UserIrqchip *
user_irqchip_new (IoBus *pio, IoBus *mmio, TimerQueue *timers, unsigned ncpus,
                  const UserIrqchipHooks *hooks)
{
  UserIrqchip *chip = g_new0 (UserIrqchip, 1);
  if (ncpus == 0)
    ncpus = 1;
  chip->pio = pio;
  chip->mmio = mmio;
  chip->timers = timers;
  chip->ncpus = ncpus;
  if (hooks)
    chip->hooks = *hooks;
  chip->router = (IrqRouter){ router_set_level, router_send_msi, chip };
  chip->bus = apic_bus_new (ncpus, kick, chip);
  chip->lapics = g_new0 (Lapic *, ncpus);
  for (unsigned i = 0; i < ncpus; i++)
    chip->lapics[i] = lapic_new (chip->bus, i, timers, i == 0);
  chip->ioapic = ioapic_new (mmio, chip->bus);
  chip->pic = pic_new (pio, pic_output, chip);
  chip->pit = pit_new (pio, timers, pit_irq, chip);
  return chip;
}

void
user_irqchip_free (UserIrqchip *chip)
{
  if (!chip)
    return;
  if (chip->pio)
    {
      pic_unregister (chip->pic, chip->pio);
      pit_unregister (chip->pit, chip->pio);
    }
  if (chip->mmio)
    ioapic_unregister (chip->ioapic, chip->mmio);
  pit_free (chip->pit);
  pic_free (chip->pic);
  ioapic_free (chip->ioapic);
  for (unsigned i = 0; i < chip->ncpus; i++)
    lapic_free (chip->lapics[i]);
  g_free (chip->lapics);
  apic_bus_free (chip->bus);
  g_free (chip);
}

void
user_irqchip_reset (UserIrqchip *chip)
{
  for (unsigned i = 0; i < chip->ncpus; i++)
    lapic_reset (chip->lapics[i], i == 0);
  ioapic_reset (chip->ioapic);
  pit_reset (chip->pit);
  pic_reset (chip->pic);
  pic_output (chip, pic_has_interrupt (chip->pic));
}

unsigned
user_irqchip_ncpus (UserIrqchip *chip)
{
  return chip->ncpus;
}

Lapic *
user_irqchip_lapic (UserIrqchip *chip, unsigned cpu)
{
  return cpu < chip->ncpus ? chip->lapics[cpu] : NULL;
}

Pic8259 *
user_irqchip_pic (UserIrqchip *chip)
{
  return chip->pic;
}

Ioapic *
user_irqchip_ioapic (UserIrqchip *chip)
{
  return chip->ioapic;
}

Pit8254 *
user_irqchip_pit (UserIrqchip *chip)
{
  return chip->pit;
}

ApicBus *
user_irqchip_bus (UserIrqchip *chip)
{
  return chip->bus;
}

unsigned
user_irqchip_pending (UserIrqchip *chip, unsigned cpu)
{
  return cpu < chip->ncpus ? lapic_pending_events (chip->lapics[cpu]) : 0;
}

/* Does the PIC's INTR reach this CPU? Only the BSP's LINT0 is wired. */
static bool
pic_reaches (UserIrqchip *chip, unsigned cpu)
{
  return cpu == 0 && lapic_accepts_pic (chip->lapics[0]) && pic_has_interrupt (chip->pic);
}

bool
user_irqchip_has_interrupt (UserIrqchip *chip, unsigned cpu)
{
  if (cpu >= chip->ncpus)
    return false;
  Lapic *l = chip->lapics[cpu];
  return lapic_has_interrupt (l) >= 0 || l->extint_msg || pic_reaches (chip, cpu);
}

int
user_irqchip_get_interrupt (UserIrqchip *chip, unsigned cpu)
{
  if (cpu >= chip->ncpus)
    return -1;
  Lapic *l = chip->lapics[cpu];
  if (lapic_has_interrupt (l) >= 0)
    return lapic_accept_interrupt (l);
  if (l->extint_msg)
    {
      /* An ExtINT message (IOAPIC): the INTA goes to the PIC. */
      l->extint_msg = false;
      int v = pic_acknowledge (chip->pic);
      lapic_update_events (l);
      return v;
    }
  if (pic_reaches (chip, cpu))
    return pic_acknowledge (chip->pic);
  return -1;
}

void
user_irqchip_set_tsc_hz (UserIrqchip *chip, uint64_t tsc_hz)
{
  for (unsigned i = 0; i < chip->ncpus; i++)
    lapic_set_tsc_hz (chip->lapics[i], tsc_hz);
}

void
user_irqchip_save (UserIrqchip *chip, SnapWriter *w)
{
  pic_save (chip->pic, w);
  ioapic_save (chip->ioapic, w);
  pit_save (chip->pit, w);
  for (unsigned i = 0; i < chip->ncpus; i++)
    lapic_save (chip->lapics[i], w);
}

bool
user_irqchip_load (UserIrqchip *chip, SnapReader *r, GError **error)
{
  for (unsigned i = 0; i < chip->ncpus; i++)
    {
      /* lapic.N is optional: an engine without one (KVM) restores the
       * register page through CpuState.lapic instead. */
      g_autofree char *name = g_strdup_printf ("lapic.%u", i);
      if (snap_reader_has (r, name) && !lapic_load (chip->lapics[i], r, error))
        return false;
    }
  return ioapic_load (chip->ioapic, r, error) && pit_load (chip->pit, r, error)
         && pic_load (chip->pic, r, error);
}
