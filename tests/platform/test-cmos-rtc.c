/* MC146818 CMOS RTC on a manual timer queue, so every interrupt is exact. */
#include <string.h>

#include "vmm-core/log.h"
#include "vmm-core/platform/cmos-rtc.h"
#include "platform-test-util.h"

#define NS 1000000000ll
/* 2024-02-29 23:59:58 UTC, a Thursday. */
#define LEAP_EVE 1709251198ll

typedef struct {
  GMutex lock;
  TimerQueue *q;
  IoBus pio;
  TestIrqs irqs;
  IrqRouter router;
  CmosRtc rtc;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  memset (f, 0, sizeof *f);
  g_mutex_init (&f->lock);
  f->q = timer_queue_new_manual (&f->lock);
  timer_queue_set_now (f->q, 5 * NS); /* the vclock need not start at 0 */
  io_bus_init (&f->pio, "pio");
  f->router = test_irqs_router (&f->irqs);
  g_assert_true (cmos_rtc_init (&f->rtc, &f->pio, (IrqLine){ &f->router, CMOS_RTC_IRQ }, f->q));
  cmos_rtc_set_time (&f->rtc, LEAP_EVE);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  cmos_rtc_destroy (&f->rtc);
  io_bus_destroy (&f->pio);
  timer_queue_free (f->q);
  g_mutex_clear (&f->lock);
}

static uint8_t
rd (Fixture *f, unsigned reg)
{
  uint64_t v;
  io_bus_write (&f->pio, 0x70, 1, reg);
  io_bus_read (&f->pio, 0x71, 1, &v);
  return (uint8_t) v;
}

static void
wr (Fixture *f, unsigned reg, uint8_t v)
{
  io_bus_write (&f->pio, 0x70, 1, reg);
  io_bus_write (&f->pio, 0x71, 1, v);
}

static bool
irq (Fixture *f)
{
  return f->irqs.level[CMOS_RTC_IRQ];
}

static void
test_bcd_time_and_rollover (Fixture *f, gconstpointer data)
{
  g_assert_cmphex (rd (f, RTC_SECONDS), ==, 0x58);
  g_assert_cmphex (rd (f, RTC_MINUTES), ==, 0x59);
  g_assert_cmphex (rd (f, RTC_HOURS), ==, 0x23);
  g_assert_cmphex (rd (f, RTC_DAY_OF_WEEK), ==, 5); /* Thursday, Sunday = 1 */
  g_assert_cmphex (rd (f, RTC_DAY_OF_MONTH), ==, 0x29);
  g_assert_cmphex (rd (f, RTC_MONTH), ==, 0x02);
  g_assert_cmphex (rd (f, RTC_YEAR), ==, 0x24);
  g_assert_cmphex (rd (f, CMOS_CENTURY), ==, 0x20);

  timer_queue_advance (f->q, 2 * NS - 1);
  g_assert_cmphex (rd (f, RTC_SECONDS), ==, 0x59);
  timer_queue_advance (f->q, 1);
  g_assert_cmphex (rd (f, RTC_SECONDS), ==, 0x00);
  g_assert_cmphex (rd (f, RTC_HOURS), ==, 0x00);
  g_assert_cmphex (rd (f, RTC_DAY_OF_MONTH), ==, 0x01);
  g_assert_cmphex (rd (f, RTC_MONTH), ==, 0x03);
  g_assert_cmphex (rd (f, RTC_DAY_OF_WEEK), ==, 6);
  g_assert_cmpint (cmos_rtc_get_time (&f->rtc), ==, LEAP_EVE + 2);
  g_assert_cmphex (rd (f, RTC_REG_D), ==, RTC_D_VRT);
}

static void
test_binary_12h (Fixture *f, gconstpointer data)
{
  cmos_rtc_set_time (&f->rtc, 1700000000); /* 2023-11-14 22:13:20 */
  wr (f, RTC_REG_B, RTC_B_DM_BINARY);
  g_assert_cmphex (rd (f, RTC_HOURS), ==, 0x80 | 10); /* 10 PM */
  g_assert_cmphex (rd (f, RTC_MINUTES), ==, 13);
  g_assert_cmphex (rd (f, RTC_YEAR), ==, 23);
  cmos_rtc_set_time (&f->rtc, 1700000000 - 22 * 3600); /* 00:13:20 → 12 AM */
  g_assert_cmphex (rd (f, RTC_HOURS), ==, 12);
  cmos_rtc_set_time (&f->rtc, 1700000000 - 10 * 3600); /* 12:13:20 → 12 PM */
  g_assert_cmphex (rd (f, RTC_HOURS), ==, 0x80 | 12);
  wr (f, RTC_REG_B, 0); /* BCD 12 h */
  g_assert_cmphex (rd (f, RTC_HOURS), ==, 0x92);
}

static void
test_set_mode (Fixture *f, gconstpointer data)
{
  wr (f, RTC_REG_B, RTC_B_SET | RTC_B_24H | RTC_B_UIE);
  g_assert_cmphex (rd (f, RTC_REG_B), ==, RTC_B_SET | RTC_B_24H); /* SET drops UIE */
  /* Set 2031-07-04 09:08:07 the way Linux does. */
  wr (f, RTC_SECONDS, 0x07);
  wr (f, RTC_MINUTES, 0x08);
  wr (f, RTC_HOURS, 0x09);
  wr (f, RTC_DAY_OF_MONTH, 0x04);
  wr (f, RTC_MONTH, 0x07);
  wr (f, RTC_YEAR, 0x31);
  timer_queue_advance (f->q, 10 * NS); /* frozen while SET */
  g_assert_cmphex (rd (f, RTC_SECONDS), ==, 0x07);
  g_assert_false (rd (f, RTC_REG_A) & RTC_A_UIP);
  wr (f, RTC_REG_B, RTC_B_24H);
  g_assert_cmpint (cmos_rtc_get_time (&f->rtc), ==, 1940922487);
  timer_queue_advance (f->q, 3 * NS);
  g_assert_cmphex (rd (f, RTC_SECONDS), ==, 0x10);

  /* Garbage in the registers decodes to something in range. */
  wr (f, RTC_REG_B, RTC_B_SET | RTC_B_24H);
  for (unsigned r = 0; r <= RTC_YEAR; r++)
    wr (f, r, 0xff);
  wr (f, CMOS_CENTURY, 0xff);
  wr (f, RTC_REG_B, RTC_B_24H);
  int64_t t = cmos_rtc_get_time (&f->rtc);
  g_assert_cmpint (t, >=, 0);
  g_assert_cmpint (t, <, 7258118400ll); /* before 2200 */
}

static void
test_uip (Fixture *f, gconstpointer data)
{
  /* The clock sits at a whole second; UIP rises 244 us before the next. */
  g_assert_false (rd (f, RTC_REG_A) & RTC_A_UIP);
  timer_queue_advance (f->q, NS - 244000 - 1);
  g_assert_false (rd (f, RTC_REG_A) & RTC_A_UIP);
  timer_queue_advance (f->q, 1);
  g_assert_true (rd (f, RTC_REG_A) & RTC_A_UIP);
  g_assert_cmphex (rd (f, RTC_SECONDS), ==, 0x58);
  timer_queue_advance (f->q, 244000);
  g_assert_false (rd (f, RTC_REG_A) & RTC_A_UIP);
  g_assert_cmphex (rd (f, RTC_SECONDS), ==, 0x59);
  g_assert_cmphex (rd (f, RTC_REG_A), ==, 0x26); /* UIP not writable */
  wr (f, RTC_REG_A, 0xa6);
  g_assert_cmphex (rd (f, RTC_REG_A) & 0x7f, ==, 0x26);
}

static void
test_update_interrupt (Fixture *f, gconstpointer data)
{
  wr (f, RTC_REG_A, RTC_A_DV_32K); /* no periodic noise */
  wr (f, RTC_HOURS_ALARM, 0x12);   /* nor an alarm as midnight passes */
  rd (f, RTC_REG_C);
  wr (f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
  for (unsigned s = 1; s <= 5; s++)
    {
      timer_queue_advance (f->q, NS - 1);
      g_assert_false (irq (f));
      timer_queue_advance (f->q, 1);
      g_assert_true (irq (f));
      g_assert_cmphex (rd (f, RTC_REG_C), ==, RTC_C_IRQF | RTC_C_UF);
      g_assert_false (irq (f));
      g_assert_cmphex (rd (f, RTC_REG_C), ==, 0);
    }
  g_assert_cmpuint (f->irqs.raises[CMOS_RTC_IRQ], ==, 5);
  /* UF is set even with UIE off, without an interrupt. */
  wr (f, RTC_REG_B, RTC_B_24H);
  timer_queue_advance (f->q, NS);
  g_assert_false (irq (f));
  g_assert_cmphex (rd (f, RTC_REG_C), ==, RTC_C_UF);
}

static void
test_periodic_exact (Fixture *f, gconstpointer data)
{
  /* Restart the divider so the phase is known: origin = now. */
  wr (f, RTC_REG_A, 0x60);
  wr (f, RTC_REG_A, RTC_A_DV_32K | 6); /* 1024 Hz = 32 ticks */
  int64_t origin = timer_queue_now (f->q);
  rd (f, RTC_REG_C);
  wr (f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
  for (int64_t k = 1; k <= 1024; k++)
    {
      /* Boundary k at ceil(k * 32 / 32768 s). */
      int64_t at = origin + (k * 32 * NS + 32767) / 32768;
      timer_queue_advance (f->q, at - 1 - timer_queue_now (f->q));
      g_assert_false (irq (f));
      g_assert_false (rd (f, RTC_REG_C) & RTC_C_PF);
      timer_queue_advance (f->q, 1);
      g_assert_true (irq (f));
      g_assert_cmphex (rd (f, RTC_REG_C) & 0xc0, ==, RTC_C_IRQF | RTC_C_PF);
    }
  g_assert_cmpint (timer_queue_now (f->q) - origin, ==, NS); /* 1024 in one second */
  g_assert_cmpuint (f->irqs.raises[CMOS_RTC_IRQ], ==, 1024);

  /* 2 Hz: one flag per half second; PF without PIE sets no IRQF. */
  wr (f, RTC_REG_B, RTC_B_24H);
  wr (f, RTC_REG_A, RTC_A_DV_32K | 15);
  rd (f, RTC_REG_C);
  timer_queue_advance (f->q, NS / 2);
  g_assert_false (irq (f));
  g_assert_cmphex (rd (f, RTC_REG_C) & 0xc0, ==, RTC_C_PF);
  g_assert_cmphex (rd (f, RTC_REG_C) & 0xc0, ==, 0);

  /* Rate 0 and divider reset: no periodic flag at all. */
  wr (f, RTC_REG_A, RTC_A_DV_32K);
  wr (f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
  timer_queue_advance (f->q, NS / 3);
  g_assert_false (rd (f, RTC_REG_C) & RTC_C_PF);
  wr (f, RTC_REG_A, 0x66);
  int64_t frozen = cmos_rtc_get_time (&f->rtc);
  timer_queue_advance (f->q, 5 * NS);
  g_assert_false (rd (f, RTC_REG_C) & RTC_C_PF);
  g_assert_cmpint (cmos_rtc_get_time (&f->rtc), ==, frozen);
  /* Leaving reset: the first update comes 500 ms later. */
  wr (f, RTC_REG_A, RTC_A_DV_32K);
  rd (f, RTC_REG_C);
  timer_queue_advance (f->q, NS / 2 - 1);
  g_assert_false (rd (f, RTC_REG_C) & RTC_C_UF);
  timer_queue_advance (f->q, 1);
  g_assert_true (rd (f, RTC_REG_C) & RTC_C_UF);
  g_assert_cmpint (cmos_rtc_get_time (&f->rtc), ==, frozen + 1);
}

static void
test_machine_reset (Fixture *f, gconstpointer data)
{
  wr (f, 0x60, 0x42);
  wr (f, RTC_REG_B, RTC_B_24H | RTC_B_PIE | RTC_B_UIE);
  timer_queue_advance (f->q, NS);
  g_assert_true (irq (f));
  int64_t t = cmos_rtc_get_time (&f->rtc);
  cmos_rtc_reset (&f->rtc);
  g_assert_false (irq (f));
  g_assert_cmphex (rd (f, RTC_REG_B), ==, RTC_B_24H);
  g_assert_false (vmm_timer_pending (f->rtc.periodic_timer));
  g_assert_cmpint (cmos_rtc_get_time (&f->rtc), ==, t); /* the clock keeps time */
  g_assert_cmphex (rd (f, 0x60), ==, 0x42);              /* and the NVRAM its bytes */
  timer_queue_advance (f->q, 2 * NS);
  g_assert_false (irq (f));
}

static void
test_alarm (Fixture *f, gconstpointer data)
{
  cmos_rtc_set_time (&f->rtc, 1700000000); /* 22:13:20 */
  wr (f, RTC_REG_A, RTC_A_DV_32K);
  wr (f, RTC_SECONDS_ALARM, 0x25);
  wr (f, RTC_MINUTES_ALARM, 0x13);
  wr (f, RTC_HOURS_ALARM, 0x22);
  rd (f, RTC_REG_C);
  wr (f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
  timer_queue_advance (f->q, 4 * NS);
  g_assert_false (irq (f));
  g_assert_cmphex (rd (f, RTC_REG_C), ==, RTC_C_UF); /* updates, no alarm yet */
  timer_queue_advance (f->q, NS);
  g_assert_true (irq (f));
  g_assert_cmphex (rd (f, RTC_REG_C), ==, RTC_C_IRQF | RTC_C_AF | RTC_C_UF);

  /* Don't-care hours and minutes: once a minute at :30. */
  wr (f, RTC_SECONDS_ALARM, 0x30);
  wr (f, RTC_MINUTES_ALARM, 0xc0);
  wr (f, RTC_HOURS_ALARM, 0xff);
  unsigned alarms = 0;
  for (unsigned s = 0; s < 180; s++)
    {
      timer_queue_advance (f->q, NS);
      if (rd (f, RTC_REG_C) & RTC_C_AF)
        alarms++;
    }
  g_assert_cmpuint (alarms, ==, 3);
}

static void
test_nvram_and_layout (Fixture *f, gconstpointer data)
{
  for (unsigned i = 0x40; i < 0x80; i++)
    wr (f, i, (uint8_t) (i ^ 0xa5));
  for (unsigned i = 0x40; i < 0x80; i++)
    g_assert_cmphex (rd (f, i), ==, (uint8_t) (i ^ 0xa5));
  /* Index bit 7 masks NMI and is not part of the index. */
  io_bus_write (&f->pio, 0x70, 1, 0x80 | 0x41);
  g_assert_true (f->rtc.nmi_masked);
  uint64_t v;
  io_bus_read (&f->pio, 0x71, 1, &v);
  g_assert_cmphex (v, ==, 0x41 ^ 0xa5);
  io_bus_read (&f->pio, 0x70, 1, &v);
  g_assert_cmphex (v, ==, 0xff);
  io_bus_write (&f->pio, 0x70, 1, 0x0d);
  g_assert_false (f->rtc.nmi_masked);

  wr (f, RTC_REG_C, 0xff);
  wr (f, RTC_REG_D, 0x00);
  g_assert_cmphex (rd (f, RTC_REG_D), ==, RTC_D_VRT);

  cmos_rtc_set_memory_size (&f->rtc, 0xc0000000ull, 0x40000000ull); /* 3 GiB + 1 GiB */
  g_assert_cmphex (rd (f, 0x15) | rd (f, 0x16) << 8, ==, 640);
  g_assert_cmphex (rd (f, 0x17) | rd (f, 0x18) << 8, ==, 0xffff);
  g_assert_cmphex (rd (f, 0x30) | rd (f, 0x31) << 8, ==, 0xffff);
  g_assert_cmphex (rd (f, 0x34) | rd (f, 0x35) << 8, ==, (0xc0000000 - 0x1000000) >> 16);
  g_assert_cmphex (rd (f, 0x5b) | rd (f, 0x5c) << 8 | rd (f, 0x5d) << 16, ==, 0x4000);
  cmos_rtc_set_memory_size (&f->rtc, 8 << 20, 0);
  g_assert_cmphex (rd (f, 0x17) | rd (f, 0x18) << 8, ==, 7 * 1024);
  g_assert_cmphex (rd (f, 0x34) | rd (f, 0x35) << 8, ==, 0);
  unsigned sum = 0;
  for (unsigned i = 0x10; i <= 0x2d; i++)
    sum += rd (f, i);
  g_assert_cmphex (rd (f, 0x2e) << 8 | rd (f, 0x2f), ==, sum);
  g_assert_cmphex (rd (f, CMOS_EQUIPMENT) & 0x02, ==, 0x02);
  cmos_rtc_set_cpu_count (&f->rtc, 4);
  g_assert_cmphex (rd (f, 0x5f), ==, 3);
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  GRand *rand = g_rand_new_with_seed (146818);
  vmm_log_set_quiet (TRUE);
  for (unsigned i = 0; i < 100000; i++)
    {
      uint64_t v;
      switch (g_rand_int_range (rand, 0, 6))
        {
        case 0:
        case 1:
          io_bus_write (&f->pio, 0x70 + g_rand_int_range (rand, 0, 2), 1, g_rand_int (rand));
          break;
        case 2:
        case 3:
          io_bus_read (&f->pio, 0x70 + g_rand_int_range (rand, 0, 2), 1, &v);
          break;
        case 4:
          wr (f, g_rand_int_range (rand, 0, 0x0e), (uint8_t) g_rand_int (rand));
          break;
        case 5:
          timer_queue_advance (f->q, g_rand_int_range (rand, 0, 3000000) * 1000ll);
          break;
        }
      g_assert_cmpuint (f->rtc.index, <, 128);
      g_assert_true (irq (f) == ((f->rtc.cmos[RTC_REG_C] & RTC_C_IRQF) != 0));
      int64_t t = cmos_rtc_get_time (&f->rtc);
      g_assert_cmpint (t, >=, 0);
      g_assert_cmpint (t, <, 7258118400ll + 86400ll * 365 * 5);
    }
  /* A sane setting brings the clock back to life. */
  wr (f, RTC_REG_A, 0x26);
  wr (f, RTC_REG_B, RTC_B_24H);
  int64_t t = cmos_rtc_get_time (&f->rtc);
  timer_queue_advance (f->q, 2 * NS);
  g_assert_cmpint (cmos_rtc_get_time (&f->rtc), ==, t + 2);
  vmm_log_set_quiet (FALSE);
  g_rand_free (rand);
}

static void
test_save_load (Fixture *f, gconstpointer data)
{
  wr (f, 0x50, 0x77);
  wr (f, RTC_REG_A, RTC_A_DV_32K | 3); /* 8192 Hz */
  rd (f, RTC_REG_C);
  wr (f, RTC_REG_B, RTC_B_24H | RTC_B_PIE | RTC_B_UIE);
  timer_queue_advance (f->q, 1234567);
  io_bus_write (&f->pio, 0x70, 1, 0x50);

  SnapWriter *w = snap_writer_new ();
  cmos_rtc_save (&f->rtc, w);
  GBytes *state = snap_writer_finish (w);
  int64_t saved_vclock = timer_queue_now (f->q);
  int64_t next_periodic = vmm_timer_expire (f->rtc.periodic_timer);
  int64_t next_update = vmm_timer_expire (f->rtc.update_timer);

  /* A fresh machine at a different time of day and vclock. */
  Fixture g;
  setup (&g, NULL);
  cmos_rtc_set_time (&g.rtc, 86400 * 3);
  timer_queue_set_now (g.q, saved_vclock); /* the snapshot module restores the vclock */
  SnapReader *r = snap_reader_new (state, NULL);
  GError *error = NULL;
  g_assert_true (cmos_rtc_load (&g.rtc, r, &error));
  g_assert_no_error (error);
  snap_reader_free (r);

  g_assert_true (vmm_timer_pending (g.rtc.periodic_timer));
  g_assert_cmpint (vmm_timer_expire (g.rtc.periodic_timer), ==, next_periodic);
  g_assert_cmpint (vmm_timer_expire (g.rtc.update_timer), ==, next_update);
  uint64_t v;
  io_bus_read (&g.pio, 0x71, 1, &v); /* index survived */
  g_assert_cmphex (v, ==, 0x77);
  g_assert_cmpint (cmos_rtc_get_time (&g.rtc), ==, cmos_rtc_get_time (&f->rtc));
  /* Both run on identically from here. */
  for (unsigned i = 0; i < 50; i++)
    {
      timer_queue_advance (f->q, 100003);
      timer_queue_advance (g.q, 100003);
      g_assert_true (irq (f) == irq (&g));
      g_assert_cmphex (rd (f, RTC_REG_C), ==, rd (&g, RTC_REG_C));
      g_assert_cmphex (rd (f, RTC_SECONDS), ==, rd (&g, RTC_SECONDS));
    }

  /* Truncated sections are rejected and change nothing. */
  for (size_t drop = 1; drop < 160; drop += 17)
    {
      GBytes *cut = test_truncate_stream (state, drop);
      r = snap_reader_new (cut, NULL);
      g_assert_nonnull (r);
      g_assert_false (cmos_rtc_load (&g.rtc, r, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      snap_reader_free (r);
      g_bytes_unref (cut);
    }
  g_assert_cmphex (rd (&g, 0x50), ==, 0x77);

  g_bytes_unref (state);
  teardown (&g, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add ("/cmos-rtc/" name, Fixture, NULL, setup, fn, teardown)
  ADD ("bcd-time-rollover", test_bcd_time_and_rollover);
  ADD ("binary-12h", test_binary_12h);
  ADD ("set-mode", test_set_mode);
  ADD ("uip", test_uip);
  ADD ("update-interrupt", test_update_interrupt);
  ADD ("periodic-exact", test_periodic_exact);
  ADD ("alarm", test_alarm);
  ADD ("machine-reset", test_machine_reset);
  ADD ("nvram-layout", test_nvram_and_layout);
  ADD ("hostile", test_hostile);
  ADD ("save-load", test_save_load);
  return g_test_run ();
}
