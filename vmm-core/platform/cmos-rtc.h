/* MC146818 CMOS real-time clock and NVRAM (ports 0x70/0x71, IRQ 8).
 *
 * Port 0x70 selects a register (bits 6:0) and masks NMI (bit 7, recorded for
 * the machine); port 0x71 reads and writes it. Registers 0x00-0x09 hold the
 * time (BCD or binary and 12/24 h per register B), 0x01/0x03/0x05 the alarm
 * (0xC0-0xFF = don't care), A the divider and periodic rate, B the enables
 * and format, C the interrupt flags (cleared by reading), D the valid-RAM bit.
 * The rest is NVRAM with the PC layout the BIOS and Linux read (memory sizes,
 * equipment byte, century at 0x32, checksum over 0x10-0x2D at 0x2E/0x2F).
 *
 * The clock starts at the host's UTC time and then follows the virtual clock
 * (it stands still while the VM is paused), so snapshots restore the guest's
 * wall clock as it was. Update-ended, alarm and periodic interrupts come
 * from TimerQueue timers, so a manual queue makes them exact in tests.
 *
 * Use (machine), device lock held:
 *   cmos_rtc_init (&rtc, &pio, (IrqLine){ router, CMOS_RTC_IRQ }, timers);
 *   cmos_rtc_set_memory_size (&rtc, ram.low_size, ram.high_size);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vmm-core/io-bus.h"
#include "vmm-core/irq.h"
#include "vmm-core/snapshot-stream.h"
#include "vmm-core/timer.h"

#define CMOS_RTC_BASE 0x70
#define CMOS_RTC_IRQ 8

enum {
  RTC_SECONDS = 0x00, RTC_SECONDS_ALARM = 0x01,
  RTC_MINUTES = 0x02, RTC_MINUTES_ALARM = 0x03,
  RTC_HOURS = 0x04, RTC_HOURS_ALARM = 0x05,
  RTC_DAY_OF_WEEK = 0x06, RTC_DAY_OF_MONTH = 0x07, RTC_MONTH = 0x08, RTC_YEAR = 0x09,
  RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
  CMOS_EQUIPMENT = 0x14,
  CMOS_CENTURY = 0x32,
};

enum {
  RTC_A_UIP = 0x80, RTC_A_DV_MASK = 0x70, RTC_A_DV_32K = 0x20, RTC_A_RS_MASK = 0x0f,
  RTC_B_SET = 0x80, RTC_B_PIE = 0x40, RTC_B_AIE = 0x20, RTC_B_UIE = 0x10,
  RTC_B_DM_BINARY = 0x04, RTC_B_24H = 0x02, RTC_B_DSE = 0x01,
  RTC_C_IRQF = 0x80, RTC_C_PF = 0x40, RTC_C_AF = 0x20, RTC_C_UF = 0x10,
  RTC_D_VRT = 0x80,
};

typedef struct CmosRtc {
  uint8_t cmos[128];
  uint8_t index;
  bool nmi_masked; /* port 0x70 bit 7, last written */
  IrqLine irq;
  bool irq_level;
  IoBus *bus;
  TimerQueue *timers;
  VmmTimer *update_timer;   /* each guest second while the clock runs */
  VmmTimer *periodic_timer; /* at the periodic rate while PIE is set */

  /* Guest wall clock: rtc_ns (ns since 1970, UTC) at vclock base_vclock;
   * it advances with the vclock only while running (divider on, SET clear). */
  int64_t base_rtc_ns;
  int64_t base_vclock;
  /* Periodic flag: vclock the divider started at, and how many periods PF
   * already accounts for (PF is computed lazily when PIE is off). */
  int64_t periodic_origin;
  uint64_t periodic_seen;
} CmosRtc;

/* Power-on state at the host's current UTC time; claims 0x70-0x71 on pio
 * (if non-NULL). False if the ports are taken. */
bool cmos_rtc_init (CmosRtc *rtc, IoBus *pio, IrqLine irq, TimerQueue *timers);
void cmos_rtc_destroy (CmosRtc *rtc);
/* Machine reset (the chip's RESET pin): interrupt enables in B and the
 * flags in C clear, the IRQ drops; time and NVRAM are battery-backed. */
void cmos_rtc_reset (CmosRtc *rtc);

/* Sets the guest clock to unix_seconds (UTC), e.g. for a deterministic test. */
void cmos_rtc_set_time (CmosRtc *rtc, int64_t unix_seconds);
/* The guest clock now, in seconds since 1970 UTC. */
int64_t cmos_rtc_get_time (CmosRtc *rtc);

/* Fills the BIOS memory-size bytes from the RAM below 4 GiB (low, including
 * the first MiB) and above it (high), and fixes the checksum. */
void cmos_rtc_set_memory_size (CmosRtc *rtc, uint64_t low, uint64_t high);
/* SeaBIOS reads the CPU count - 1 at 0x5f. */
void cmos_rtc_set_cpu_count (CmosRtc *rtc, unsigned n_cpus);

/* Port access, as a guest would (port is 0x70 or 0x71). */
uint8_t cmos_rtc_read (CmosRtc *rtc, uint16_t port);
void cmos_rtc_write (CmosRtc *rtc, uint16_t port, uint8_t value);

/* Section "cmos-rtc", version 1: registers, NVRAM, clock and timers. */
void cmos_rtc_save (CmosRtc *rtc, SnapWriter *w);
bool cmos_rtc_load (CmosRtc *rtc, SnapReader *r, GError **error);
