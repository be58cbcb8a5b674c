/* ACPI PM1 event/control registers and the PM timer on a manual clock. */
#include <string.h>

#include "vmm-core/log.h"
#include "vmm-core/platform/acpi-pm.h"
#include "platform-test-util.h"

#define NS 1000000000ll
#define BASE ACPI_PM_BASE

typedef struct {
  GMutex lock;
  TimerQueue *q;
  IoBus pio;
  TestIrqs irqs;
  IrqRouter router;
  AcpiPm pm;
  unsigned power_offs;
} Fixture;

static void
on_power_off (void *opaque)
{
  ((Fixture *) opaque)->power_offs++;
}

static void
setup (Fixture *f, gconstpointer data)
{
  memset (f, 0, sizeof *f);
  g_mutex_init (&f->lock);
  f->q = timer_queue_new_manual (&f->lock);
  io_bus_init (&f->pio, "pio");
  f->router = test_irqs_router (&f->irqs);
  g_assert_true (acpi_pm_init (&f->pm, &f->pio, BASE, (IrqLine){ &f->router, ACPI_SCI_IRQ },
                               f->q, on_power_off, f));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  acpi_pm_destroy (&f->pm);
  g_assert_cmpuint (f->pio.count, ==, 0);
  io_bus_destroy (&f->pio);
  timer_queue_free (f->q);
  g_mutex_clear (&f->lock);
}

static uint32_t
in (Fixture *f, unsigned off, unsigned size)
{
  uint64_t v;
  io_bus_read (&f->pio, BASE + off, size, &v);
  return (uint32_t) v;
}

static void
out (Fixture *f, unsigned off, unsigned size, uint32_t v)
{
  io_bus_write (&f->pio, BASE + off, size, v);
}

static bool
sci (Fixture *f)
{
  return f->irqs.level[ACPI_SCI_IRQ];
}

static void
test_power_on (Fixture *f, gconstpointer data)
{
  g_assert_cmphex (in (f, 0, 2), ==, 0);
  g_assert_cmphex (in (f, 2, 2), ==, 0);
  g_assert_cmphex (in (f, 4, 2), ==, ACPI_PM1_SCI_EN);
  g_assert_cmphex (in (f, 0, 4), ==, 0);
  g_assert_false (sci (f));
  /* A second instance cannot take the same ports. */
  AcpiPm other;
  g_assert_false (acpi_pm_init (&other, &f->pio, BASE + 4, (IrqLine){ NULL, 9 }, f->q, NULL,
                                NULL));
}

static void
test_timer (Fixture *f, gconstpointer data)
{
  g_assert_cmphex (in (f, 8, 4), ==, 0);
  timer_queue_advance (f->q, NS);
  g_assert_cmpuint (in (f, 8, 4), ==, ACPI_PM_TIMER_HZ);
  timer_queue_advance (f->q, NS / 2);
  g_assert_cmpuint (in (f, 8, 4), ==, ACPI_PM_TIMER_HZ * 3 / 2);
  /* Byte and word reads see the same counter. */
  uint32_t v = in (f, 8, 4);
  g_assert_cmphex (in (f, 8, 2) | in (f, 10, 2) << 16, ==, v);
  g_assert_cmphex (in (f, 11, 1), ==, v >> 24);
  /* 32 bits wide: wraps after 2^32 ticks (about 20 minutes). */
  int64_t wrap_ns = (int64_t) ((((unsigned __int128) 1 << 32) * NS + ACPI_PM_TIMER_HZ - 1)
                               / ACPI_PM_TIMER_HZ);
  timer_queue_set_now (f->q, wrap_ns - 1000);
  g_assert_cmpuint (in (f, 8, 4), >, 0xfffff000u);
  timer_queue_advance (f->q, 1000);
  g_assert_cmpuint (in (f, 8, 4), ==, 0);
  /* Read-only. */
  out (f, 8, 4, 0x12345678);
  g_assert_cmpuint (in (f, 8, 4), ==, 0);
}

static void
test_timer_overflow_sci (Fixture *f, gconstpointer data)
{
  /* Bit 31 flips at tick 2^31. */
  int64_t flip = (int64_t) ((((unsigned __int128) 1 << 31) * NS + ACPI_PM_TIMER_HZ - 1)
                            / ACPI_PM_TIMER_HZ);
  out (f, 2, 2, ACPI_PM1_TMR_EN);
  timer_queue_advance (f->q, flip - 1);
  g_assert_false (sci (f));
  g_assert_cmphex (in (f, 0, 2) & ACPI_PM1_TMR_STS, ==, 0);
  timer_queue_advance (f->q, 1);
  g_assert_true (sci (f));
  g_assert_cmphex (in (f, 0, 2) & ACPI_PM1_TMR_STS, ==, ACPI_PM1_TMR_STS);
  out (f, 0, 2, ACPI_PM1_TMR_STS); /* write 1 to clear */
  g_assert_false (sci (f));
  /* Next flip (bit 31 back to 0) after another 2^31 ticks. */
  timer_queue_advance (f->q, flip);
  g_assert_true (sci (f));
  out (f, 0, 2, 0xffff);
  /* Without TMR_EN the status still latches, silently. */
  out (f, 2, 2, 0);
  timer_queue_advance (f->q, flip);
  g_assert_false (sci (f));
  g_assert_cmphex (in (f, 0, 2) & ACPI_PM1_TMR_STS, ==, ACPI_PM1_TMR_STS);
}

static void
test_power_button (Fixture *f, gconstpointer data)
{
  /* Nobody listening: status latches, no SCI, caller told so. */
  g_assert_false (acpi_pm_press_power_button (&f->pm));
  g_assert_false (sci (f));
  g_assert_cmphex (in (f, 0, 2), ==, ACPI_PM1_PWRBTN_STS);
  /* Enabling with the status pending raises the SCI at once. */
  out (f, 2, 2, ACPI_PM1_PWRBTN_EN);
  g_assert_true (sci (f));
  out (f, 0, 2, ACPI_PM1_PWRBTN_STS);
  g_assert_false (sci (f));
  /* The OS's path: enabled button, press, SCI, clear. */
  g_assert_true (acpi_pm_press_power_button (&f->pm));
  g_assert_true (sci (f));
  g_assert_cmpuint (f->irqs.raises[ACPI_SCI_IRQ], ==, 2);
  /* Byte write to the high status byte clears PWRBTN_STS too. */
  out (f, 1, 1, ACPI_PM1_PWRBTN_STS >> 8);
  g_assert_false (sci (f));
  /* SCI_EN off: events stay latched but no SCI. */
  out (f, 4, 2, 0);
  g_assert_false (acpi_pm_press_power_button (&f->pm));
  g_assert_false (sci (f));
  out (f, 4, 2, ACPI_PM1_SCI_EN);
  g_assert_true (sci (f));
  /* Writing 0 to status clears nothing; a dword write also sets enables. */
  out (f, 0, 2, 0);
  g_assert_true (sci (f));
  out (f, 0, 4, 0);
  g_assert_false (sci (f));
  g_assert_cmphex (in (f, 0, 2), ==, ACPI_PM1_PWRBTN_STS);
}

static void
test_sleep (Fixture *f, gconstpointer data)
{
  vmm_log_set_quiet (TRUE);
  /* S3 is not offered: ignored. */
  out (f, 4, 2, ACPI_PM1_SCI_EN | 1 << ACPI_PM1_SLP_TYP_SHIFT | ACPI_PM1_SLP_EN);
  g_assert_cmpuint (f->power_offs, ==, 0);
  /* SLP_TYP without SLP_EN: stored, nothing happens. */
  out (f, 4, 2, ACPI_PM1_SCI_EN | ACPI_SLP_TYP_S5 << ACPI_PM1_SLP_TYP_SHIFT);
  g_assert_cmpuint (f->power_offs, ==, 0);
  g_assert_cmphex (in (f, 4, 2), ==, ACPI_PM1_SCI_EN | ACPI_SLP_TYP_S5 << 10);
  /* ACPICA writes SLP_TYP first, then SLP_EN with it. */
  out (f, 4, 2, ACPI_PM1_SCI_EN | ACPI_SLP_TYP_S5 << 10 | ACPI_PM1_SLP_EN);
  g_assert_cmpuint (f->power_offs, ==, 1);
  g_assert_cmphex (in (f, 4, 2) & ACPI_PM1_SLP_EN, ==, 0); /* write-only */
  /* A byte write of the high half works too. */
  out (f, 5, 1, (ACPI_SLP_TYP_S5 << 10 | ACPI_PM1_SLP_EN) >> 8);
  g_assert_cmpuint (f->power_offs, ==, 2);
  vmm_log_set_quiet (FALSE);
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  GRand *rand = g_rand_new_with_seed (0x600);
  unsigned expected_offs = 0;
  vmm_log_set_quiet (TRUE);
  for (unsigned i = 0; i < 100000; i++)
    {
      unsigned off = g_rand_int_range (rand, 0, 16);
      unsigned size = 1u << g_rand_int_range (rand, 0, 4);
      uint32_t v = g_rand_int (rand);
      switch (g_rand_int_range (rand, 0, 4))
        {
        case 0:
          {
            /* Would this write hit CNT's high byte with S5 + SLP_EN? */
            if (off + size <= ACPI_PM_LEN && size <= 4 && off <= 5 && off + size > 5)
              {
                uint8_t hi = (uint8_t) (v >> (8 * (5 - off)));
                if ((hi & 0x20) && ((hi >> 2) & 7) == ACPI_SLP_TYP_S5)
                  expected_offs++;
              }
            out (f, off, size, v);
          }
          break;
        case 1:
          in (f, off, size);
          break;
        case 2:
          timer_queue_advance (f->q, g_rand_int_range (rand, 0, 1000000) * 1000ll);
          break;
        case 3:
          acpi_pm_press_power_button (&f->pm);
          break;
        }
      g_assert_cmphex (f->pm.en & ~0x0721, ==, 0);
      g_assert_cmphex (f->pm.sts & ~0x8731, ==, 0);
      g_assert_cmphex (f->pm.cnt & ~0x1c03, ==, 0);
      bool want = (f->pm.cnt & 1) && (f->pm.sts & f->pm.en);
      g_assert_true (sci (f) == want);
      g_assert_cmpuint (f->power_offs, ==, expected_offs);
    }
  vmm_log_set_quiet (FALSE);
  g_rand_free (rand);
}

static void
test_save_load (Fixture *f, gconstpointer data)
{
  out (f, 2, 2, ACPI_PM1_TMR_EN | ACPI_PM1_PWRBTN_EN);
  acpi_pm_press_power_button (&f->pm);
  timer_queue_advance (f->q, 7 * NS);
  SnapWriter *w = snap_writer_new ();
  acpi_pm_save (&f->pm, w);
  GBytes *state = snap_writer_finish (w);
  int64_t expire = vmm_timer_expire (f->pm.tmr_timer);

  Fixture g;
  setup (&g, NULL);
  timer_queue_set_now (g.q, timer_queue_now (f->q));
  SnapReader *r = snap_reader_new (state, NULL);
  GError *error = NULL;
  g_assert_true (acpi_pm_load (&g.pm, r, &error));
  g_assert_no_error (error);
  snap_reader_free (r);
  g_assert_true (sci (&g));
  g_assert_true (vmm_timer_pending (g.pm.tmr_timer));
  g_assert_cmpint (vmm_timer_expire (g.pm.tmr_timer), ==, expire);
  g_assert_cmphex (in (&g, 0, 4), ==, in (f, 0, 4));
  g_assert_cmphex (in (&g, 8, 4), ==, in (f, 8, 4));
  out (&g, 0, 2, 0xffff);
  timer_queue_advance (g.q, expire - timer_queue_now (g.q));
  g_assert_true (sci (&g)); /* the restored timer fired */

  /* Truncated and corrupt sections are refused without side effects. */
  GBytes *cut = test_truncate_stream (state, 1);
  r = snap_reader_new (cut, NULL);
  g_assert_false (acpi_pm_load (&g.pm, r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  snap_reader_free (r);
  g_bytes_unref (cut);

  gsize size;
  const uint8_t *src = g_bytes_get_data (state, &size);
  uint8_t *raw = g_memdup2 (src, size);
  raw[4 + 7 + 4 + 8 + 2] = 0xff; /* en: undefined bits */
  GBytes *bad = g_bytes_new_take (raw, size);
  r = snap_reader_new (bad, NULL);
  g_assert_false (acpi_pm_load (&g.pm, r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  snap_reader_free (r);
  g_bytes_unref (bad);
  g_assert_cmphex (g.pm.en, ==, ACPI_PM1_TMR_EN | ACPI_PM1_PWRBTN_EN);

  g_bytes_unref (state);
  teardown (&g, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add ("/acpi-pm/" name, Fixture, NULL, setup, fn, teardown)
  ADD ("power-on", test_power_on);
  ADD ("timer", test_timer);
  ADD ("timer-overflow-sci", test_timer_overflow_sci);
  ADD ("power-button", test_power_button);
  ADD ("sleep", test_sleep);
  ADD ("hostile", test_hostile);
  ADD ("save-load", test_save_load);
  return g_test_run ();
}
