/* The software engine's interrupt controllers and timers as one unit: PIC
 * pair, IOAPIC, PIT, the APIC bus and one LAPIC per vCPU.
 *
 * user_irqchip_new registers PIC (0x20, 0xa0, 0x4d0), PIT (0x40, 0x61) on
 * the port bus and the IOAPIC (0xfec00000) on the MMIO bus. LAPIC pages are
 * per CPU and not on the shared bus: the soft CPU intercepts its own APIC
 * base and calls lapic_mmio_read/write on user_irqchip_lapic(chip, cpu).
 *
 * Locking: everything under the machine's device lock, except
 * user_irqchip_pending(), which a vCPU polls lock-free between instructions.
 *
 * Typical vCPU loop:
 *   if (user_irqchip_pending (chip, cpu)) {        // lock-free
 *     lock;
 *     if (lapic_take_init (l)) ... wait-for-SIPI;
 *     int sipi = lapic_take_sipi (l);             // if waiting for SIPI
 *     if (lapic_take_nmi (l)) ... NMI;
 *     if (IF && !shadow) { int v = user_irqchip_get_interrupt (chip, cpu);
 *                          if (v >= 0) deliver v; }
 *     unlock;
 *   }
 * HLT sleeps until user_irqchip_pending() is non-zero; the kick hook is
 * called (under the lock) whenever something becomes pending for a CPU.
 *
 * vCPU state: get = lapic_get_page + lapic_get_apic_base +
 * lapic_get_tsc_deadline; set = lapic_restore_apic_base (first: the page is
 * read in that mode), lapic_set_page, then lapic_set_tsc_deadline (deadline,
 * tsc) when the page's LVT timer is in TSC-deadline mode. Snapshots also
 * carry "lapic.N" (exact timer and pending events), which wins if loaded
 * after the vCPU state. APIC IDs are the vCPU indexes (as in the MADT). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/irq.h"
#include "vmm-core/irqchip/apic-bus.h"
#include "vmm-core/irqchip/ioapic.h"
#include "vmm-core/irqchip/lapic.h"
#include "vmm-core/irqchip/pic-8259.h"
#include "vmm-core/irqchip/pit-8254.h"

typedef struct IoBus IoBus;
typedef struct TimerQueue TimerQueue;

typedef struct UserIrqchipHooks {
  /* Something became pending for vCPU `cpu`: wake it if halted, make it
   * check between instructions if running. Called under the device lock,
   * from the timer thread, another vCPU's thread or the vCPU's own (a
   * self-IPI): it must only set a flag / signal, never take the lock. */
  void (*kick) (void *opaque, unsigned cpu);
  void *opaque;
} UserIrqchipHooks;

typedef struct UserIrqchip UserIrqchip;

UserIrqchip *user_irqchip_new (IoBus *pio, IoBus *mmio, TimerQueue *timers, unsigned ncpus,
                               const UserIrqchipHooks *hooks);
/* Unregisters from the buses and frees; under the device lock (its timers
 * leave the queue), before the TimerQueue is freed. */
void user_irqchip_free (UserIrqchip *chip);
/* Machine reset: every device to power-on state (CPU 0 is the BSP). */
void user_irqchip_reset (UserIrqchip *chip);

/* GSI 0-15: PIC and IOAPIC (IRQ0 -> IOAPIC pin 2, the MADT override);
 * 16-23: IOAPIC only. Others are logged and dropped. */
void user_irqchip_set_irq (UserIrqchip *chip, unsigned gsi, bool level);
void user_irqchip_send_msi (UserIrqchip *chip, uint64_t address, uint32_t data);
/* An IrqRouter that feeds set_irq / send_msi (for devices' IrqLines). */
const IrqRouter *user_irqchip_router (UserIrqchip *chip);

unsigned user_irqchip_ncpus (UserIrqchip *chip);
Lapic *user_irqchip_lapic (UserIrqchip *chip, unsigned cpu);
Pic8259 *user_irqchip_pic (UserIrqchip *chip);
Ioapic *user_irqchip_ioapic (UserIrqchip *chip);
Pit8254 *user_irqchip_pit (UserIrqchip *chip);
ApicBus *user_irqchip_bus (UserIrqchip *chip);

/* Lock-free: LAPIC_EVENT_* bits pending for cpu (0 = nothing). */
unsigned user_irqchip_pending (UserIrqchip *chip, unsigned cpu);
/* A maskable interrupt is ready for cpu (no side effects). */
bool user_irqchip_has_interrupt (UserIrqchip *chip, unsigned cpu);
/* Acknowledge and return the next maskable vector for cpu, or -1: the
 * LAPIC's first, then the PIC's (INTA) when LINT0 passes ExtINT or the LAPIC
 * is hardware-disabled. Call only when the CPU can take it (IF = 1). */
int user_irqchip_get_interrupt (UserIrqchip *chip, unsigned cpu);

/* TSC rate for every LAPIC's TSC-deadline timer. */
void user_irqchip_set_tsc_hz (UserIrqchip *chip, uint64_t tsc_hz);

/* Sections "pic", "ioapic", "pit", "lapic.N". On load the lapic.N sections
 * are optional (a KVM snapshot carries the page in CpuState.lapic only). */
void user_irqchip_save (UserIrqchip *chip, SnapWriter *w);
bool user_irqchip_load (UserIrqchip *chip, SnapReader *r, GError **error);
