/* ACPI fixed-hardware PM registers (PM1a event and control, PM timer).
 *
 * At base (ACPI_PM_BASE by default), as the FADT built by acpi-tables.h says:
 *   +0  PM1a_STS (2 bytes, write 1 to clear)   +2  PM1a_EN (2 bytes)
 *   +4  PM1a_CNT (2 bytes)                      +8  PM_TMR (4 bytes, read only)
 * The PM timer counts at 3.579545 MHz from the virtual clock, 32 bits wide
 * (FADT TMR_VAL_EXT). SCI_EN is set from power-on, so the FADT needs no
 * SMI command port. The SCI (IRQ 9, level, active high) is asserted while
 * SCI_EN is set and an enabled status bit is set.
 *
 * Writing SLP_TYP = ACPI_SLP_TYP_S5 with SLP_EN calls power_off: that is how
 * a guest powers itself off. acpi_pm_press_power_button() sets PWRBTN_STS,
 * which a guest listening for it (PWRBTN_EN) turns into a clean shutdown.
 *
 * Use (machine), device lock held:
 *   acpi_pm_init (&pm, &pio, ACPI_PM_BASE, (IrqLine){ router, ACPI_SCI_IRQ },
 *                 timers, on_guest_power_off, machine);
 *   ...the app's "Shut Down": acpi_pm_press_power_button (&pm);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vmm-core/io-bus.h"
#include "vmm-core/irq.h"
#include "vmm-core/snapshot-stream.h"
#include "vmm-core/timer.h"

#define ACPI_PM_BASE 0x600
#define ACPI_PM_LEN 12
#define ACPI_PM1_EVT_OFFSET 0
#define ACPI_PM1_CNT_OFFSET 4
#define ACPI_PM_TMR_OFFSET 8
#define ACPI_SCI_IRQ 9
#define ACPI_PM_TIMER_HZ 3579545
/* The SLP_TYP value the DSDT's \_S5 package hands the OS. */
#define ACPI_SLP_TYP_S5 5

enum {
  ACPI_PM1_TMR_STS = 0x0001, ACPI_PM1_BM_STS = 0x0010, ACPI_PM1_GBL_STS = 0x0020,
  ACPI_PM1_PWRBTN_STS = 0x0100, ACPI_PM1_SLPBTN_STS = 0x0200, ACPI_PM1_RTC_STS = 0x0400,
  ACPI_PM1_WAK_STS = 0x8000,
  ACPI_PM1_TMR_EN = 0x0001, ACPI_PM1_GBL_EN = 0x0020, ACPI_PM1_PWRBTN_EN = 0x0100,
  ACPI_PM1_SLPBTN_EN = 0x0200, ACPI_PM1_RTC_EN = 0x0400,
  ACPI_PM1_SCI_EN = 0x0001, ACPI_PM1_BM_RLD = 0x0002, ACPI_PM1_GBL_RLS = 0x0004,
  ACPI_PM1_SLP_TYP_SHIFT = 10, ACPI_PM1_SLP_TYP_MASK = 0x1c00, ACPI_PM1_SLP_EN = 0x2000,
};

typedef void (*AcpiPmPowerOffFn) (void *opaque);

typedef struct AcpiPm {
  uint16_t base;
  IoBus *bus;
  IrqLine sci;
  bool sci_level;
  TimerQueue *timers;
  VmmTimer *tmr_timer; /* next PM timer bit-31 toggle, while TMR_EN is set */
  AcpiPmPowerOffFn power_off;
  void *opaque;

  uint16_t sts, en, cnt;
  uint64_t tmr_toggles_seen; /* bit-31 toggles already folded into TMR_STS */
} AcpiPm;

/* Power-on state (SCI_EN set); claims base..base+11 on pio if non-NULL. */
bool acpi_pm_init (AcpiPm *pm, IoBus *pio, uint16_t base, IrqLine sci, TimerQueue *timers,
                   AcpiPmPowerOffFn power_off, void *opaque);
void acpi_pm_destroy (AcpiPm *pm);
/* Machine reset: registers back to power-on values. */
void acpi_pm_reset (AcpiPm *pm);

/* Sets PWRBTN_STS; true if the guest enabled the button (an SCI went out),
 * false if nobody listens (the caller may fall back to a hard power-off). */
bool acpi_pm_press_power_button (AcpiPm *pm);

/* The 24-bit-or-more counter value now (32 bits). */
uint32_t acpi_pm_timer_value (AcpiPm *pm);

/* Register access by offset from base (size 1, 2 or 4). */
uint32_t acpi_pm_read (AcpiPm *pm, unsigned offset, unsigned size);
void acpi_pm_write (AcpiPm *pm, unsigned offset, unsigned size, uint32_t value);

/* Section "acpi-pm", version 1. */
void acpi_pm_save (AcpiPm *pm, SnapWriter *w);
bool acpi_pm_load (AcpiPm *pm, SnapReader *r, GError **error);
