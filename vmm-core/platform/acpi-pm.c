#include "vmm-core/platform/acpi-pm.h"

#include <gio/gio.h>

#include "vmm-core/log.h"

#define NS_PER_SEC 1000000000ull
#define EN_MASK (ACPI_PM1_TMR_EN | ACPI_PM1_GBL_EN | ACPI_PM1_PWRBTN_EN | ACPI_PM1_SLPBTN_EN \
                 | ACPI_PM1_RTC_EN)
#define STS_MASK (ACPI_PM1_TMR_STS | ACPI_PM1_BM_STS | ACPI_PM1_GBL_STS | ACPI_PM1_PWRBTN_STS \
                  | ACPI_PM1_SLPBTN_STS | ACPI_PM1_RTC_STS | ACPI_PM1_WAK_STS)
#define CNT_STORED (ACPI_PM1_SCI_EN | ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP_MASK)

static uint64_t
ticks_at (int64_t ns)
{
  if (ns <= 0)
    return 0;
  return (uint64_t) ((unsigned __int128) ns * ACPI_PM_TIMER_HZ / NS_PER_SEC);
}

/* First vclock time at which the counter has reached `ticks`. */
static int64_t
time_of_tick (uint64_t ticks)
{
  unsigned __int128 ns = ((unsigned __int128) ticks * NS_PER_SEC + ACPI_PM_TIMER_HZ - 1)
                         / ACPI_PM_TIMER_HZ;
  return ns > INT64_MAX ? INT64_MAX : (int64_t) ns;
}

uint32_t
acpi_pm_timer_value (AcpiPm *pm)
{
  return (uint32_t) ticks_at (timer_queue_now (pm->timers));
}

static void
update_sci (AcpiPm *pm)
{
  bool level = (pm->cnt & ACPI_PM1_SCI_EN) && (pm->sts & pm->en & EN_MASK);
  if (level != pm->sci_level)
    {
      pm->sci_level = level;
      irq_line_set (&pm->sci, level);
    }
}

/* TMR_STS: set each time bit 31 of the counter flips. */
static void
fold_timer_status (AcpiPm *pm)
{
  uint64_t toggles = ticks_at (timer_queue_now (pm->timers)) >> 31;
  if (toggles > pm->tmr_toggles_seen)
    pm->sts |= ACPI_PM1_TMR_STS;
  pm->tmr_toggles_seen = toggles;
}

static void
arm_timer (AcpiPm *pm)
{
  if (pm->en & ACPI_PM1_TMR_EN)
    vmm_timer_mod (pm->tmr_timer, time_of_tick ((pm->tmr_toggles_seen + 1) << 31));
  else
    vmm_timer_del (pm->tmr_timer);
}

static void
on_timer (void *opaque)
{
  AcpiPm *pm = opaque;
  fold_timer_status (pm);
  update_sci (pm);
  arm_timer (pm);
}

static uint8_t
read_byte (AcpiPm *pm, unsigned off)
{
  switch (off)
    {
    case 0:
    case 1:
      fold_timer_status (pm);
      return (uint8_t) (pm->sts >> (8 * off));
    case 2:
    case 3:
      return (uint8_t) (pm->en >> (8 * (off - 2)));
    case 4:
    case 5:
      return (uint8_t) (pm->cnt >> (8 * (off - 4)));
    case 8:
    case 9:
    case 10:
    case 11:
      return (uint8_t) (acpi_pm_timer_value (pm) >> (8 * (off - 8)));
    default:
      return 0; /* the gap at +6 */
    }
}

static void
write_cnt_high (AcpiPm *pm, uint8_t b)
{
  uint16_t v = (uint16_t) (b << 8);
  pm->cnt = (uint16_t) ((pm->cnt & 0x00ff) | (v & CNT_STORED));
  if (!(v & ACPI_PM1_SLP_EN))
    return;
  unsigned typ = (v & ACPI_PM1_SLP_TYP_MASK) >> ACPI_PM1_SLP_TYP_SHIFT;
  if (typ == ACPI_SLP_TYP_S5)
    {
      if (pm->power_off)
        pm->power_off (pm->opaque);
    }
  else
    VMM_GUEST_ERROR ("acpi-pm", "sleep type %u requested; only S5 (%u) is provided", typ,
                     ACPI_SLP_TYP_S5);
}

static void
write_byte (AcpiPm *pm, unsigned off, uint8_t b)
{
  switch (off)
    {
    case 0:
    case 1:
      fold_timer_status (pm);
      pm->sts &= (uint16_t) ~((b << (8 * off)) & STS_MASK);
      break;
    case 2:
    case 3:
      {
        unsigned sh = 8 * (off - 2);
        pm->en = (uint16_t) ((pm->en & ~(0xff << sh)) | ((b << sh) & EN_MASK));
        fold_timer_status (pm);
        arm_timer (pm);
      }
      break;
    case 4:
      /* GBL_RLS would signal firmware; there is none. */
      pm->cnt = (uint16_t) ((pm->cnt & 0xff00) | (b & CNT_STORED & 0xff));
      break;
    case 5:
      write_cnt_high (pm, b);
      break;
    default:
      VMM_GUEST_ERROR ("acpi-pm", "write to read-only PM offset %u", off);
      break;
    }
}

uint32_t
acpi_pm_read (AcpiPm *pm, unsigned offset, unsigned size)
{
  uint32_t v = 0;
  if (size > 4 || offset >= ACPI_PM_LEN || size > ACPI_PM_LEN - offset)
    return 0xffffffffu;
  for (unsigned i = 0; i < size; i++)
    v |= (uint32_t) read_byte (pm, offset + i) << (8 * i);
  update_sci (pm);
  return v;
}

void
acpi_pm_write (AcpiPm *pm, unsigned offset, unsigned size, uint32_t value)
{
  if (size > 4 || offset >= ACPI_PM_LEN || size > ACPI_PM_LEN - offset)
    return;
  for (unsigned i = 0; i < size; i++)
    write_byte (pm, offset + i, (uint8_t) (value >> (8 * i)));
  update_sci (pm);
}

bool
acpi_pm_press_power_button (AcpiPm *pm)
{
  pm->sts |= ACPI_PM1_PWRBTN_STS;
  update_sci (pm);
  return (pm->en & ACPI_PM1_PWRBTN_EN) && (pm->cnt & ACPI_PM1_SCI_EN);
}

static uint64_t
pm_io_read (void *opaque, uint64_t offset, unsigned size)
{
  return acpi_pm_read (opaque, (unsigned) offset, size);
}

static void
pm_io_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  acpi_pm_write (opaque, (unsigned) offset, size, (uint32_t) value);
}

static const IoOps pm_ops = { pm_io_read, pm_io_write };

void
acpi_pm_reset (AcpiPm *pm)
{
  pm->sts = 0;
  pm->en = 0;
  pm->cnt = ACPI_PM1_SCI_EN;
  pm->tmr_toggles_seen = ticks_at (timer_queue_now (pm->timers)) >> 31;
  vmm_timer_del (pm->tmr_timer);
  update_sci (pm);
}

bool
acpi_pm_init (AcpiPm *pm, IoBus *pio, uint16_t base, IrqLine sci, TimerQueue *timers,
              AcpiPmPowerOffFn power_off, void *opaque)
{
  *pm = (AcpiPm){ .base = base, .sci = sci, .timers = timers, .power_off = power_off,
                  .opaque = opaque };
  pm->tmr_timer = vmm_timer_new (timers, on_timer, pm);
  acpi_pm_reset (pm);
  if (pio && !io_bus_register (pio, base, ACPI_PM_LEN, &pm_ops, pm, "acpi-pm"))
    {
      acpi_pm_destroy (pm);
      return false;
    }
  pm->bus = pio;
  return true;
}

void
acpi_pm_destroy (AcpiPm *pm)
{
  if (pm->bus)
    io_bus_unregister (pm->bus, pm->base, pm);
  pm->bus = NULL;
  vmm_timer_free (pm->tmr_timer);
  pm->tmr_timer = NULL;
}

void
acpi_pm_save (AcpiPm *pm, SnapWriter *w)
{
  snap_section_begin (w, "acpi-pm", 1);
  snap_put_u16 (w, pm->sts);
  snap_put_u16 (w, pm->en);
  snap_put_u16 (w, pm->cnt);
  snap_put_u64 (w, pm->tmr_toggles_seen);
  snap_put_bool (w, vmm_timer_pending (pm->tmr_timer));
  snap_put_i64 (w, vmm_timer_expire (pm->tmr_timer));
  snap_section_end (w);
}

bool
acpi_pm_load (AcpiPm *pm, SnapReader *r, GError **error)
{
  if (!snap_reader_open (r, "acpi-pm", 1, NULL, error))
    return false;
  uint16_t sts = snap_get_u16 (r);
  uint16_t en = snap_get_u16 (r);
  uint16_t cnt = snap_get_u16 (r);
  uint64_t seen = snap_get_u64 (r);
  bool pending = snap_get_bool (r);
  int64_t expire = snap_get_i64 (r);
  if (!snap_reader_check (r, error))
    return false;
  if ((sts & ~STS_MASK) || (en & ~EN_MASK) || (cnt & ~CNT_STORED) || expire < 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "device state section 'acpi-pm' holds impossible register values");
      return false;
    }
  pm->sts = sts;
  pm->en = en;
  pm->cnt = cnt;
  pm->tmr_toggles_seen = seen;
  vmm_timer_del (pm->tmr_timer);
  if (pending)
    vmm_timer_mod (pm->tmr_timer, expire);
  update_sci (pm);
  return true;
}
