#include "vmm-core/platform/cmos-rtc.h"

#include <string.h>
#include <gio/gio.h>

#include "vmm-core/log.h"

#define NS_PER_SEC 1000000000ll
#define RTC_HZ 32768
#define UIP_WINDOW_NS 244000ll /* UIP rises this long before an update */
#define MIN_YEAR 1970
#define MAX_YEAR 2199

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t
days_from_civil (int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned) (y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void
civil_from_days (int64_t z, int *y, unsigned *m, unsigned *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned) (z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int) (yoe + era * 400 + (*m <= 2));
}

/* ---- register encoding ---- */

static bool
binary_mode (const CmosRtc *rtc)
{
  return (rtc->cmos[RTC_REG_B] & RTC_B_DM_BINARY) != 0;
}

static uint8_t
to_reg (const CmosRtc *rtc, unsigned v)
{
  return binary_mode (rtc) ? (uint8_t) v : (uint8_t) (((v / 10) << 4) | (v % 10));
}

/* Hostile-safe: any byte decodes to something; callers clamp. */
static unsigned
from_reg (const CmosRtc *rtc, uint8_t v)
{
  return binary_mode (rtc) ? v : (unsigned) (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t
hour_to_reg (const CmosRtc *rtc, unsigned h)
{
  if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
    return to_reg (rtc, h);
  unsigned h12 = h % 12 == 0 ? 12 : h % 12;
  return to_reg (rtc, h12) | (h >= 12 ? 0x80 : 0);
}

static unsigned
hour_from_reg (const CmosRtc *rtc, uint8_t v)
{
  if (rtc->cmos[RTC_REG_B] & RTC_B_24H)
    return from_reg (rtc, v);
  unsigned h = from_reg (rtc, v & 0x7f) % 12;
  return (v & 0x80) ? h + 12 : h;
}

static unsigned
clamp_u (unsigned v, unsigned lo, unsigned hi)
{
  return v < lo ? lo : v > hi ? hi : v;
}

/* Writes the time registers (and century) for `secs`. */
static void
regs_from_time (CmosRtc *rtc, int64_t secs)
{
  int64_t days = secs / 86400;
  unsigned sod = (unsigned) (secs % 86400);
  int y;
  unsigned m, d;

  civil_from_days (days, &y, &m, &d);
  rtc->cmos[RTC_SECONDS] = to_reg (rtc, sod % 60);
  rtc->cmos[RTC_MINUTES] = to_reg (rtc, sod / 60 % 60);
  rtc->cmos[RTC_HOURS] = hour_to_reg (rtc, sod / 3600);
  rtc->cmos[RTC_DAY_OF_WEEK] = to_reg (rtc, (unsigned) ((days + 4) % 7) + 1); /* 1970-01-01: Thu */
  rtc->cmos[RTC_DAY_OF_MONTH] = to_reg (rtc, d);
  rtc->cmos[RTC_MONTH] = to_reg (rtc, m);
  rtc->cmos[RTC_YEAR] = to_reg (rtc, (unsigned) y % 100);
  rtc->cmos[CMOS_CENTURY] = to_reg (rtc, (unsigned) y / 100);
}

/* Reads the time registers back, clamping whatever the guest stored. */
static int64_t
time_from_regs (const CmosRtc *rtc)
{
  unsigned sec = clamp_u (from_reg (rtc, rtc->cmos[RTC_SECONDS]), 0, 59);
  unsigned min = clamp_u (from_reg (rtc, rtc->cmos[RTC_MINUTES]), 0, 59);
  unsigned hour = clamp_u (hour_from_reg (rtc, rtc->cmos[RTC_HOURS]), 0, 23);
  unsigned day = clamp_u (from_reg (rtc, rtc->cmos[RTC_DAY_OF_MONTH]), 1, 31);
  unsigned mon = clamp_u (from_reg (rtc, rtc->cmos[RTC_MONTH]), 1, 12);
  unsigned year = clamp_u (from_reg (rtc, rtc->cmos[RTC_YEAR]), 0, 99)
                  + 100 * clamp_u (from_reg (rtc, rtc->cmos[CMOS_CENTURY]), 0, 99);
  year = clamp_u (year, MIN_YEAR, MAX_YEAR);
  return days_from_civil (year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
}

/* ---- clock ---- */

static bool
divider_running (const CmosRtc *rtc)
{
  return (rtc->cmos[RTC_REG_A] & RTC_A_DV_MASK) == RTC_A_DV_32K;
}

static bool
clock_running (const CmosRtc *rtc)
{
  return divider_running (rtc) && !(rtc->cmos[RTC_REG_B] & RTC_B_SET);
}

static int64_t
vclock (CmosRtc *rtc)
{
  return timer_queue_now (rtc->timers);
}

static int64_t
rtc_now_ns (CmosRtc *rtc)
{
  if (!clock_running (rtc))
    return rtc->base_rtc_ns;
  return rtc->base_rtc_ns + (vclock (rtc) - rtc->base_vclock);
}

/* Re-anchors the clock at `rtc_ns` now (before a change of running state). */
static void
rebase (CmosRtc *rtc, int64_t rtc_ns)
{
  rtc->base_rtc_ns = rtc_ns;
  rtc->base_vclock = vclock (rtc);
}

static void
update_irq (CmosRtc *rtc)
{
  uint8_t b = rtc->cmos[RTC_REG_B];
  uint8_t c = rtc->cmos[RTC_REG_C] & (RTC_C_PF | RTC_C_AF | RTC_C_UF);
  if (c & b & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE)) /* flags and enables line up */
    c |= RTC_C_IRQF;
  rtc->cmos[RTC_REG_C] = c;
  bool level = (c & RTC_C_IRQF) != 0;
  if (level != rtc->irq_level)
    {
      rtc->irq_level = level;
      irq_line_set (&rtc->irq, level);
    }
}

static void
arm_update (CmosRtc *rtc)
{
  if (!clock_running (rtc))
    {
      vmm_timer_del (rtc->update_timer);
      return;
    }
  int64_t now_rtc = rtc_now_ns (rtc);
  int64_t next = (now_rtc / NS_PER_SEC + 1) * NS_PER_SEC;
  vmm_timer_mod (rtc->update_timer, rtc->base_vclock + (next - rtc->base_rtc_ns));
}

static bool
alarm_field_matches (uint8_t alarm, uint8_t now)
{
  return (alarm & 0xc0) == 0xc0 || alarm == now;
}

static void
on_update (void *opaque)
{
  CmosRtc *rtc = opaque;
  regs_from_time (rtc, rtc_now_ns (rtc) / NS_PER_SEC);
  rtc->cmos[RTC_REG_C] |= RTC_C_UF;
  if (alarm_field_matches (rtc->cmos[RTC_SECONDS_ALARM], rtc->cmos[RTC_SECONDS])
      && alarm_field_matches (rtc->cmos[RTC_MINUTES_ALARM], rtc->cmos[RTC_MINUTES])
      && alarm_field_matches (rtc->cmos[RTC_HOURS_ALARM], rtc->cmos[RTC_HOURS]))
    rtc->cmos[RTC_REG_C] |= RTC_C_AF;
  update_irq (rtc);
  arm_update (rtc);
}

/* ---- periodic interrupt ---- */

/* Period in 32.768 kHz ticks for rate select rs (0: off). */
static uint64_t
period_ticks (const CmosRtc *rtc)
{
  unsigned rs = rtc->cmos[RTC_REG_A] & RTC_A_RS_MASK;
  if (rs == 0 || !divider_running (rtc))
    return 0;
  return rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
}

static uint64_t
ns_to_ticks (int64_t ns)
{
  if (ns <= 0)
    return 0;
  return (uint64_t) (ns / NS_PER_SEC) * RTC_HZ + (uint64_t) (ns % NS_PER_SEC) * RTC_HZ / NS_PER_SEC;
}

/* First vclock offset at which `ticks` have elapsed (rounded up). */
static int64_t
ticks_to_ns (uint64_t ticks)
{
  uint64_t rem = ticks % RTC_HZ;
  return (int64_t) (ticks / RTC_HZ) * NS_PER_SEC
         + (int64_t) ((rem * NS_PER_SEC + RTC_HZ - 1) / RTC_HZ);
}

/* Periods completed since the divider started. */
static uint64_t
periods_elapsed (CmosRtc *rtc, uint64_t period)
{
  return ns_to_ticks (vclock (rtc) - rtc->periodic_origin) / period;
}

/* Folds periods that passed into PF (PF is set whether or not PIE is). */
static void
catch_up_pf (CmosRtc *rtc)
{
  uint64_t period = period_ticks (rtc);
  if (!period)
    return;
  uint64_t n = periods_elapsed (rtc, period);
  if (n > rtc->periodic_seen)
    rtc->cmos[RTC_REG_C] |= RTC_C_PF;
  rtc->periodic_seen = n;
}

static void
arm_periodic (CmosRtc *rtc)
{
  uint64_t period = period_ticks (rtc);
  if (!period || !(rtc->cmos[RTC_REG_B] & RTC_B_PIE))
    {
      vmm_timer_del (rtc->periodic_timer);
      return;
    }
  vmm_timer_mod (rtc->periodic_timer,
                 rtc->periodic_origin + ticks_to_ns ((rtc->periodic_seen + 1) * period));
}

static void
on_periodic (void *opaque)
{
  CmosRtc *rtc = opaque;
  catch_up_pf (rtc);
  update_irq (rtc);
  arm_periodic (rtc);
}

/* ---- registers ---- */

static bool
is_time_reg (unsigned idx)
{
  return idx <= RTC_YEAR || idx == CMOS_CENTURY;
}

static uint8_t
read_reg (CmosRtc *rtc, unsigned idx)
{
  switch (idx)
    {
    case RTC_REG_A:
      {
        uint8_t a = rtc->cmos[RTC_REG_A] & ~RTC_A_UIP;
        if (clock_running (rtc) && rtc_now_ns (rtc) % NS_PER_SEC >= NS_PER_SEC - UIP_WINDOW_NS)
          a |= RTC_A_UIP;
        return a;
      }
    case RTC_REG_C:
      {
        catch_up_pf (rtc);
        update_irq (rtc);
        uint8_t c = rtc->cmos[RTC_REG_C];
        rtc->cmos[RTC_REG_C] = 0;
        update_irq (rtc);
        return c;
      }
    case RTC_REG_D:
      return RTC_D_VRT;
    default:
      if (is_time_reg (idx) && clock_running (rtc))
        regs_from_time (rtc, rtc_now_ns (rtc) / NS_PER_SEC);
      return rtc->cmos[idx];
    }
}

static void
write_reg_a (CmosRtc *rtc, uint8_t value)
{
  bool was_running = clock_running (rtc);
  bool divider_was = divider_running (rtc);
  uint64_t old_period = period_ticks (rtc);
  int64_t now_rtc = rtc_now_ns (rtc);

  catch_up_pf (rtc);
  rtc->cmos[RTC_REG_A] = value & ~RTC_A_UIP;
  if (!divider_was && divider_running (rtc))
    {
      /* Leaving divider reset: the first update comes half a second later. */
      rtc->periodic_origin = vclock (rtc);
      rebase (rtc, now_rtc / NS_PER_SEC * NS_PER_SEC + NS_PER_SEC / 2);
    }
  else if (was_running != clock_running (rtc))
    rebase (rtc, now_rtc);
  uint64_t period = period_ticks (rtc);
  if (period && period != old_period)
    rtc->periodic_seen = periods_elapsed (rtc, period);
  arm_update (rtc);
  arm_periodic (rtc);
}

static void
write_reg_b (CmosRtc *rtc, uint8_t value)
{
  bool was_running = clock_running (rtc);
  int64_t now_rtc = rtc_now_ns (rtc);

  if (value & RTC_B_SET)
    {
      value &= ~RTC_B_UIE; /* SET inhibits update interrupts */
      if (was_running)
        regs_from_time (rtc, now_rtc / NS_PER_SEC); /* freeze what the guest edits */
    }
  catch_up_pf (rtc);
  bool set_released = (rtc->cmos[RTC_REG_B] & RTC_B_SET) && !(value & RTC_B_SET);
  rtc->cmos[RTC_REG_B] = value;
  if (set_released)
    rebase (rtc, time_from_regs (rtc) * NS_PER_SEC);
  else if (was_running != clock_running (rtc))
    rebase (rtc, now_rtc);
  update_irq (rtc);
  arm_update (rtc);
  arm_periodic (rtc);
}

static void
write_reg (CmosRtc *rtc, unsigned idx, uint8_t value)
{
  switch (idx)
    {
    case RTC_REG_A:
      write_reg_a (rtc, value);
      break;
    case RTC_REG_B:
      write_reg_b (rtc, value);
      break;
    case RTC_REG_C:
    case RTC_REG_D:
      VMM_GUEST_ERROR ("cmos-rtc", "write 0x%02x to read-only register %#x", value, idx);
      break;
    default:
      if (is_time_reg (idx) && clock_running (rtc))
        {
          /* A running clock takes the new field and keeps counting from it. */
          int64_t frac = rtc_now_ns (rtc) % NS_PER_SEC;
          regs_from_time (rtc, rtc_now_ns (rtc) / NS_PER_SEC);
          rtc->cmos[idx] = value;
          rebase (rtc, time_from_regs (rtc) * NS_PER_SEC + frac);
          arm_update (rtc);
        }
      else
        rtc->cmos[idx] = value;
      break;
    }
}

uint8_t
cmos_rtc_read (CmosRtc *rtc, uint16_t port)
{
  if (port == CMOS_RTC_BASE + 1)
    return read_reg (rtc, rtc->index);
  return 0xff; /* the index port is write-only */
}

void
cmos_rtc_write (CmosRtc *rtc, uint16_t port, uint8_t value)
{
  if (port == CMOS_RTC_BASE)
    {
      rtc->index = value & 0x7f;
      rtc->nmi_masked = (value & 0x80) != 0;
    }
  else if (port == CMOS_RTC_BASE + 1)
    write_reg (rtc, rtc->index, value);
}

static uint64_t
rtc_io_read (void *opaque, uint64_t offset, unsigned size)
{
  return cmos_rtc_read (opaque, (uint16_t) (CMOS_RTC_BASE + offset));
}

static void
rtc_io_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  cmos_rtc_write (opaque, (uint16_t) (CMOS_RTC_BASE + offset), (uint8_t) value);
}

static const IoOps rtc_ops = { rtc_io_read, rtc_io_write };

/* ---- NVRAM layout ---- */

static void
update_checksum (CmosRtc *rtc)
{
  unsigned sum = 0;
  for (unsigned i = 0x10; i <= 0x2d; i++)
    sum += rtc->cmos[i];
  rtc->cmos[0x2e] = (uint8_t) (sum >> 8);
  rtc->cmos[0x2f] = (uint8_t) sum;
}

void
cmos_rtc_set_memory_size (CmosRtc *rtc, uint64_t low, uint64_t high)
{
  const uint64_t mib = 1024 * 1024;
  uint64_t ext_kib = low > mib ? (low - mib) / 1024 : 0;
  uint64_t above16 = low > 16 * mib ? (low - 16 * mib) >> 16 : 0;
  uint64_t above4g = high >> 16;

  ext_kib = MIN (ext_kib, 0xffff);
  above16 = MIN (above16, 0xffff);
  above4g = MIN (above4g, 0xffffff);
  rtc->cmos[0x15] = 0x80; /* 640 KiB base memory */
  rtc->cmos[0x16] = 0x02;
  rtc->cmos[0x17] = rtc->cmos[0x30] = (uint8_t) ext_kib;
  rtc->cmos[0x18] = rtc->cmos[0x31] = (uint8_t) (ext_kib >> 8);
  rtc->cmos[0x34] = (uint8_t) above16;
  rtc->cmos[0x35] = (uint8_t) (above16 >> 8);
  rtc->cmos[0x5b] = (uint8_t) above4g;
  rtc->cmos[0x5c] = (uint8_t) (above4g >> 8);
  rtc->cmos[0x5d] = (uint8_t) (above4g >> 16);
  update_checksum (rtc);
}

void
cmos_rtc_set_cpu_count (CmosRtc *rtc, unsigned n_cpus)
{
  rtc->cmos[0x5f] = (uint8_t) (n_cpus ? MIN (n_cpus, 256) - 1 : 0);
}

/* ---- lifetime ---- */

void
cmos_rtc_set_time (CmosRtc *rtc, int64_t unix_seconds)
{
  int64_t max = days_from_civil (MAX_YEAR, 12, 31) * 86400;
  unix_seconds = CLAMP (unix_seconds, 0, max);
  rebase (rtc, unix_seconds * NS_PER_SEC);
  regs_from_time (rtc, unix_seconds);
  arm_update (rtc);
}

int64_t
cmos_rtc_get_time (CmosRtc *rtc)
{
  return rtc_now_ns (rtc) / NS_PER_SEC;
}

bool
cmos_rtc_init (CmosRtc *rtc, IoBus *pio, IrqLine irq, TimerQueue *timers)
{
  memset (rtc, 0, sizeof *rtc);
  rtc->irq = irq;
  rtc->timers = timers;
  rtc->update_timer = vmm_timer_new (timers, on_update, rtc);
  rtc->periodic_timer = vmm_timer_new (timers, on_periodic, rtc);
  rtc->cmos[RTC_REG_A] = RTC_A_DV_32K | 0x06; /* 1024 Hz, as BIOSes leave it */
  rtc->cmos[RTC_REG_B] = RTC_B_24H;           /* BCD, 24 h, interrupts off */
  rtc->cmos[RTC_REG_D] = RTC_D_VRT;
  rtc->cmos[CMOS_EQUIPMENT] = 0x06;           /* FPU, PS/2 mouse, no floppy */
  rtc->periodic_origin = vclock (rtc);
  cmos_rtc_set_memory_size (rtc, 0, 0);
  cmos_rtc_set_time (rtc, g_get_real_time () / G_USEC_PER_SEC);
  if (pio && !io_bus_register (pio, CMOS_RTC_BASE, 2, &rtc_ops, rtc, "cmos-rtc"))
    {
      cmos_rtc_destroy (rtc);
      return false;
    }
  rtc->bus = pio;
  return true;
}

void
cmos_rtc_reset (CmosRtc *rtc)
{
  catch_up_pf (rtc);
  rtc->cmos[RTC_REG_B] &= (uint8_t) ~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | 0x08 /* SQWE */);
  rtc->cmos[RTC_REG_C] = 0;
  update_irq (rtc);
  arm_periodic (rtc);
}

void
cmos_rtc_destroy (CmosRtc *rtc)
{
  if (rtc->bus)
    io_bus_unregister (rtc->bus, CMOS_RTC_BASE, rtc);
  rtc->bus = NULL;
  vmm_timer_free (rtc->update_timer);
  vmm_timer_free (rtc->periodic_timer);
  rtc->update_timer = rtc->periodic_timer = NULL;
}

/* ---- snapshots ---- */

static void
put_timer (SnapWriter *w, const VmmTimer *t)
{
  snap_put_bool (w, vmm_timer_pending (t));
  snap_put_i64 (w, vmm_timer_pending (t) ? vmm_timer_expire (t) : 0);
}

void
cmos_rtc_save (CmosRtc *rtc, SnapWriter *w)
{
  snap_section_begin (w, "cmos-rtc", 1);
  snap_put_bytes (w, rtc->cmos, sizeof rtc->cmos);
  snap_put_u8 (w, rtc->index);
  snap_put_bool (w, rtc->nmi_masked);
  snap_put_i64 (w, rtc->base_rtc_ns);
  snap_put_i64 (w, rtc->base_vclock);
  snap_put_i64 (w, rtc->periodic_origin);
  snap_put_u64 (w, rtc->periodic_seen);
  put_timer (w, rtc->update_timer);
  put_timer (w, rtc->periodic_timer);
  snap_section_end (w);
}

bool
cmos_rtc_load (CmosRtc *rtc, SnapReader *r, GError **error)
{
  uint8_t cmos[128];
  if (!snap_reader_open (r, "cmos-rtc", 1, NULL, error))
    return false;
  snap_get_bytes (r, cmos, sizeof cmos);
  uint8_t index = snap_get_u8 (r);
  bool nmi = snap_get_bool (r);
  int64_t base_rtc_ns = snap_get_i64 (r);
  int64_t base_vclock = snap_get_i64 (r);
  int64_t origin = snap_get_i64 (r);
  uint64_t seen = snap_get_u64 (r);
  bool upd_pending = snap_get_bool (r);
  int64_t upd_expire = snap_get_i64 (r);
  bool per_pending = snap_get_bool (r);
  int64_t per_expire = snap_get_i64 (r);
  if (!snap_reader_check (r, error))
    return false;
  int64_t max_rtc = days_from_civil (MAX_YEAR + 1, 1, 1) * 86400 * NS_PER_SEC;
  if (index > 0x7f || base_rtc_ns < 0 || base_rtc_ns > max_rtc || upd_expire < 0
      || per_expire < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "device state section 'cmos-rtc' holds impossible values");
      return false;
    }

  memcpy (rtc->cmos, cmos, sizeof cmos);
  rtc->index = index;
  rtc->nmi_masked = nmi;
  rtc->base_rtc_ns = base_rtc_ns;
  rtc->base_vclock = base_vclock;
  rtc->periodic_origin = origin;
  rtc->periodic_seen = seen;
  vmm_timer_del (rtc->update_timer);
  vmm_timer_del (rtc->periodic_timer);
  if (upd_pending)
    vmm_timer_mod (rtc->update_timer, upd_expire);
  if (per_pending)
    vmm_timer_mod (rtc->periodic_timer, per_expire);
  update_irq (rtc);
  return true;
}
