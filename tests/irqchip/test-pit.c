/* 8254 PIT through its ports at exact virtual times, including Linux's TSC
 * calibration loops on channel 2. */
#include <string.h>

#include "irqchip-test-util.h"
#include "vmm-core/irqchip/pit-8254.h"

typedef struct {
  TestClock clock;
  Pit8254 *pit;
  bool level;
  GArray *rises; /* int64_t vclock of IRQ0 rising edges */
} Fixture;

static void
on_irq (void *opaque, bool level)
{
  Fixture *f = opaque;
  if (level && !f->level)
    {
      int64_t t = timer_queue_now (f->clock.q);
      g_array_append_val (f->rises, t);
    }
  f->level = level;
}

static void
setup (Fixture *f)
{
  memset (f, 0, sizeof *f);
  test_clock_init (&f->clock);
  f->rises = g_array_new (FALSE, FALSE, sizeof (int64_t));
  f->pit = pit_new (NULL, f->clock.q, on_irq, f);
}

static void
teardown (Fixture *f)
{
  pit_free (f->pit);
  test_clock_clear (&f->clock);
  g_array_unref (f->rises);
}

/* Virtual time at which `ticks` PIT clocks have elapsed (ceil). */
static int64_t
tick_ns (uint64_t ticks)
{
  return (int64_t) ((ticks * 1000000000ull + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ);
}

static uint16_t
read16 (Pit8254 *pit, uint16_t port)
{
  uint16_t lo = pit_ioport_read (pit, port);
  return lo | (uint16_t) (pit_ioport_read (pit, port) << 8);
}

static void
test_mode0_counts_and_irq (void)
{
  Fixture f;
  setup (&f);
  test_clock_to (&f.clock, 777);
  pit_ioport_write (f.pit, 0x43, 0x30); /* ch0, lo/hi, mode 0, binary */
  pit_ioport_write (f.pit, 0x40, 0x00);
  pit_ioport_write (f.pit, 0x40, 0x10); /* 0x1000 */
  g_assert_cmpuint (read16 (f.pit, 0x40), ==, 0x1000);
  test_clock_to (&f.clock, 777 + tick_ns (100) - 1);
  g_assert_cmpuint (read16 (f.pit, 0x40), ==, 0x1000 - 99);
  test_clock_to (&f.clock, 777 + tick_ns (100));
  g_assert_cmpuint (read16 (f.pit, 0x40), ==, 0x1000 - 100);
  g_assert_false (f.level);
  test_clock_to (&f.clock, 777 + tick_ns (0x1000) - 1);
  g_assert_cmpuint (f.rises->len, ==, 0);
  test_clock_to (&f.clock, 777 + tick_ns (0x1000));
  g_assert_cmpuint (f.rises->len, ==, 1);
  g_assert_true (f.level); /* OUT stays high in mode 0 */
  g_assert_cmpint (g_array_index (f.rises, int64_t, 0), ==, 777 + tick_ns (0x1000));
  /* The counter wraps after terminal count. */
  test_clock_to (&f.clock, 777 + tick_ns (0x1005));
  g_assert_cmpuint (read16 (f.pit, 0x40), ==, 0xfffb);
  /* A new control word drops OUT. */
  pit_ioport_write (f.pit, 0x43, 0x30);
  g_assert_false (f.level);
  teardown (&f);
}

static void
test_mode2_periodic (void)
{
  Fixture f;
  setup (&f);
  pit_ioport_write (f.pit, 0x43, 0x34); /* ch0, lo/hi, mode 2 */
  pit_ioport_write (f.pit, 0x40, 1193 & 0xff);
  pit_ioport_write (f.pit, 0x40, 1193 >> 8); /* ~1 ms, Linux's HZ=1000 LATCH */
  test_clock_to (&f.clock, 10000000);
  g_assert_cmpuint (f.rises->len, ==, 10);
  for (guint i = 0; i < f.rises->len; i++)
    g_assert_cmpint (g_array_index (f.rises, int64_t, i), ==, tick_ns (1193ull * (i + 1)));
  g_assert_false (f.level); /* one edge per period, line back low */
  /* Mode 2 count reloads every period: 300 ticks into the 11th. */
  test_clock_to (&f.clock, tick_ns (1193ull * 10 + 300));
  uint64_t ticks = (uint64_t) timer_queue_now (f.clock.q) * PIT_FREQ_HZ / 1000000000ull;
  g_assert_cmpuint (ticks, ==, 1193ull * 10 + 300);
  g_assert_cmpuint (read16 (f.pit, 0x40), ==, 1193 - 300);

  /* A tiny period is clamped, with counts still exact. */
  vmm_log_set_quiet (TRUE);
  int64_t start = timer_queue_now (f.clock.q);
  g_array_set_size (f.rises, 0);
  pit_ioport_write (f.pit, 0x43, 0x34);
  pit_ioport_write (f.pit, 0x40, 2);
  pit_ioport_write (f.pit, 0x40, 0);
  test_clock_to (&f.clock, start + 1000000);
  g_assert_cmpuint (f.rises->len, <=, 1000000 / PIT_MIN_PERIOD_NS + 1);
  g_assert_cmpuint (f.rises->len, >=, 1000000 / PIT_MIN_PERIOD_NS - 1);
  vmm_log_set_quiet (FALSE);
  teardown (&f);
}

/* Linux's PIT clockevent in one-shot mode: mode 4, one strobe per write. */
static void
test_mode4_oneshot (void)
{
  Fixture f;
  setup (&f);
  pit_ioport_write (f.pit, 0x43, 0x38);
  pit_ioport_write (f.pit, 0x40, 1000 & 0xff);
  pit_ioport_write (f.pit, 0x40, 1000 >> 8);
  /* Re-programmed before it expires: only the new deadline counts. */
  test_clock_to (&f.clock, tick_ns (500));
  pit_ioport_write (f.pit, 0x40, 2000 & 0xff);
  pit_ioport_write (f.pit, 0x40, 2000 >> 8);
  test_clock_to (&f.clock, tick_ns (500) + tick_ns (2000) - 1);
  g_assert_cmpuint (f.rises->len, ==, 0);
  test_clock_to (&f.clock, 100000000);
  g_assert_cmpuint (f.rises->len, ==, 1);
  g_assert_cmpint (g_array_index (f.rises, int64_t, 0), ==, tick_ns (500) + tick_ns (2000));
  g_assert_false (f.level);
  teardown (&f);
}

static void
test_mode3_and_readback (void)
{
  Fixture f;
  setup (&f);
  pit_ioport_write (f.pit, 0x43, 0x36); /* ch0, mode 3 */
  pit_ioport_write (f.pit, 0x40, 100);
  pit_ioport_write (f.pit, 0x40, 0);
  /* Square wave: OUT high for 50 ticks, low for 50; counts step by 2. */
  test_clock_to (&f.clock, tick_ns (10));
  g_assert_true (pit_get_out (f.pit, 0));
  g_assert_cmpuint (read16 (f.pit, 0x40), ==, 80);
  test_clock_to (&f.clock, tick_ns (60));
  g_assert_false (pit_get_out (f.pit, 0));
  /* Read-back: status and count of channel 0 latched together. */
  pit_ioport_write (f.pit, 0x43, 0xc2);
  test_clock_to (&f.clock, tick_ns (70));
  g_assert_cmphex (pit_ioport_read (f.pit, 0x40), ==, 0x36); /* OUT low, lo/hi, mode 3 */
  g_assert_cmpuint (read16 (f.pit, 0x40), ==, 100 - (120 % 100));
  /* Counter latch command holds the value until both bytes are read. */
  pit_ioport_write (f.pit, 0x43, 0x00);
  uint16_t latched = pit_get_count (f.pit, 0);
  test_clock_to (&f.clock, tick_ns (90));
  g_assert_cmpuint (pit_ioport_read (f.pit, 0x40), ==, latched & 0xff);
  pit_ioport_write (f.pit, 0x43, 0x00); /* second latch ignored while pending */
  test_clock_to (&f.clock, tick_ns (95));
  g_assert_cmpuint (pit_ioport_read (f.pit, 0x40), ==, latched >> 8);
  g_assert_cmpuint (read16 (f.pit, 0x40), ==, pit_get_count (f.pit, 0));
  /* Rising edges of IRQ0 every 100 ticks. */
  g_assert_cmpuint (f.rises->len, ==, 0);
  test_clock_to (&f.clock, tick_ns (100));
  g_assert_cmpuint (f.rises->len, ==, 1);

  /* Lobyte-only access, BCD. */
  pit_ioport_write (f.pit, 0x43, 0x51); /* ch1, LSB only, mode 0, BCD */
  int64_t t0 = timer_queue_now (f.clock.q);
  pit_ioport_write (f.pit, 0x41, 0x99); /* 99 decimal */
  test_clock_to (&f.clock, t0 + tick_ns (10));
  g_assert_cmphex (pit_ioport_read (f.pit, 0x41), ==, 0x89);
  g_assert_cmphex (pit_ioport_read (f.pit, 0x41), ==, 0x89); /* no flip-flop */
  pit_ioport_write (f.pit, 0x43, 0xe4); /* read-back status only, ch1 */
  g_assert_cmphex (pit_ioport_read (f.pit, 0x41), ==, 0x11);
  teardown (&f);
}

static void
test_channel2_gate (void)
{
  Fixture f;
  setup (&f);
  g_assert_cmphex (pit_ioport_read (f.pit, 0x61) & 0x01, ==, 0);
  pit_ioport_write (f.pit, 0x43, 0xb0); /* ch2, lo/hi, mode 0 */
  pit_ioport_write (f.pit, 0x42, 0x00);
  pit_ioport_write (f.pit, 0x42, 0x01); /* 256 */
  /* Gate low: the count does not move. */
  test_clock_to (&f.clock, tick_ns (50));
  g_assert_cmpuint (read16 (f.pit, 0x42), ==, 256);
  int64_t on = timer_queue_now (f.clock.q);
  pit_ioport_write (f.pit, 0x61, 0x01);
  g_assert_cmphex (pit_ioport_read (f.pit, 0x61) & 0x21, ==, 0x01);
  test_clock_to (&f.clock, on + tick_ns (56) + 1);
  g_assert_cmpuint (read16 (f.pit, 0x42), ==, 200);
  /* OUT2 on port 0x61 bit 5 at terminal count. */
  test_clock_to (&f.clock, on + tick_ns (256) - 1);
  g_assert_cmphex (pit_ioport_read (f.pit, 0x61) & 0x20, ==, 0);
  test_clock_to (&f.clock, on + tick_ns (256) + 1);
  g_assert_cmphex (pit_ioport_read (f.pit, 0x61) & 0x20, ==, 0x20);
  /* Speaker data bit reads back; the refresh bit toggles with time. */
  pit_ioport_write (f.pit, 0x61, 0x03);
  g_assert_cmphex (pit_ioport_read (f.pit, 0x61) & 0x03, ==, 0x03);
  uint8_t r1 = pit_ioport_read (f.pit, 0x61) & 0x10;
  timer_queue_advance (f.clock.q, 15085);
  g_assert_cmphex (pit_ioport_read (f.pit, 0x61) & 0x10, !=, r1);
  teardown (&f);
}

/* Linux arch/x86/kernel/tsc.c quick_pit_calibrate(): mode 0 on channel 2
 * from 0xffff, polling the MSB. The MSB seen at each virtual time must be
 * exactly what that time gives, so the TSC math comes out right. */
static void
test_linux_quick_calibrate (void)
{
  Fixture f;
  setup (&f);
  test_clock_to (&f.clock, 123456);
  pit_ioport_write (f.pit, 0x61, (pit_ioport_read (f.pit, 0x61) & ~0x02) | 0x01);
  pit_ioport_write (f.pit, 0x43, 0xb0);
  pit_ioport_write (f.pit, 0x42, 0xff);
  pit_ioport_write (f.pit, 0x42, 0xff);
  int64_t start = timer_queue_now (f.clock.q);
  /* pit_verify_msb(0) at once; then the loop: each inb pair takes ~2 us. */
  (void) pit_ioport_read (f.pit, 0x42);
  g_assert_cmphex (pit_ioport_read (f.pit, 0x42), ==, 0xff);
  unsigned changes = 0;
  uint8_t last = 0xff;
  for (int64_t t = start; t < start + 50000000; t += 1733)
    {
      test_clock_to (&f.clock, t);
      (void) pit_ioport_read (f.pit, 0x42);
      uint8_t msb = pit_ioport_read (f.pit, 0x42);
      uint64_t ticks = (uint64_t) (t - start) * PIT_FREQ_HZ / 1000000000ull;
      g_assert_cmphex (msb, ==, ((0xffff - ticks) >> 8) & 0xff);
      if (msb != last)
        changes++;
      last = msb;
    }
  g_assert_cmpuint (changes, >=, 200);
  teardown (&f);
}

/* Linux pit_calibrate_tsc(): 10 ms latch in mode 0, poll 0x61 bit 5. */
static void
test_linux_pit_calibrate (void)
{
  Fixture f;
  setup (&f);
  const unsigned latch = PIT_FREQ_HZ / (1000 / 10);
  pit_ioport_write (f.pit, 0x61, (pit_ioport_read (f.pit, 0x61) & ~0x02) | 0x01);
  pit_ioport_write (f.pit, 0x43, 0xb0);
  pit_ioport_write (f.pit, 0x42, latch & 0xff);
  pit_ioport_write (f.pit, 0x42, latch >> 8);
  int64_t start = timer_queue_now (f.clock.q);
  int64_t t = start;
  while ((pit_ioport_read (f.pit, 0x61) & 0x20) == 0)
    {
      t += 100;
      test_clock_to (&f.clock, t);
    }
  g_assert_cmpint (t - start, >=, tick_ns (latch));
  g_assert_cmpint (t - start, <, tick_ns (latch) + 100);
  /* 10 ms of virtual time, within a tick. */
  g_assert_cmpint (t - start, >=, 10000000 - 1000);
  g_assert_cmpint (t - start, <=, 10000000 + 1000);
  teardown (&f);
}

static void
test_save_load (void)
{
  Fixture f, g;
  setup (&f);
  setup (&g);
  pit_ioport_write (f.pit, 0x43, 0x34);
  pit_ioport_write (f.pit, 0x40, 0x9c);
  pit_ioport_write (f.pit, 0x40, 0x2e); /* 11932: 10 ms */
  pit_ioport_write (f.pit, 0x61, 0x01);
  pit_ioport_write (f.pit, 0x43, 0xb0);
  pit_ioport_write (f.pit, 0x42, 0x34); /* half a lo/hi write pending */
  test_clock_to (&f.clock, 15000000);
  pit_ioport_write (f.pit, 0x43, 0x00); /* latched count pending */
  g_assert_cmpuint (f.rises->len, ==, 1);

  SnapWriter *w = snap_writer_new ();
  pit_save (f.pit, w);
  GBytes *b = snap_writer_finish (w);
  test_clock_to (&g.clock, 15000000);
  SnapReader *r = snap_reader_new (b, NULL);
  g_autoptr (GError) err = NULL;
  g_assert_true (pit_load (g.pit, r, &err));
  g_assert_no_error (err);
  snap_reader_free (r);
  g_assert_cmpuint (read16 (f.pit, 0x40), ==, read16 (g.pit, 0x40));
  pit_ioport_write (f.pit, 0x42, 0x12);
  pit_ioport_write (g.pit, 0x42, 0x12);
  test_clock_to (&f.clock, 25000000);
  test_clock_to (&g.clock, 25000000);
  g_assert_cmpuint (read16 (f.pit, 0x42), ==, read16 (g.pit, 0x42));
  g_assert_cmpuint (read16 (g.pit, 0x42), ==,
                    (0x1234 - 10000000ull * PIT_FREQ_HZ / 1000000000ull) & 0xffff);
  g_assert_cmpuint (g.rises->len, ==, 1); /* second period at 20 ms */
  g_assert_cmpint (g_array_index (g.rises, int64_t, 0), ==,
                   g_array_index (f.rises, int64_t, 1));

  size_t len = test_section_size (b, "pit");
  for (size_t keep = 0; keep < len; keep += 7)
    {
      r = test_mangled_section (b, "pit", keep, len, 0);
      g_clear_error (&err);
      g_assert_false (pit_load (g.pit, r, &err));
      g_assert_nonnull (err);
      snap_reader_free (r);
    }
  r = test_mangled_section (b, "pit", len, 13, 7); /* channel 0 mode 7 */
  g_clear_error (&err);
  g_assert_false (pit_load (g.pit, r, &err));
  snap_reader_free (r);
  r = test_mangled_section (b, "pit", len, 24, 0x80); /* ch0 load time near INT64_MIN */
  g_clear_error (&err);
  g_assert_false (pit_load (g.pit, r, &err));
  snap_reader_free (r);
  r = test_mangled_section (b, "pit", len, 2, 9); /* count > 0x10000 */
  g_clear_error (&err);
  g_assert_false (pit_load (g.pit, r, &err));
  snap_reader_free (r);
  g_bytes_unref (b);
  teardown (&f);
  teardown (&g);
}

static void
test_random_hostile (void)
{
  static const uint16_t ports[] = { 0x40, 0x41, 0x42, 0x43, 0x61, 0x44 };
  Fixture f;
  setup (&f);
  vmm_log_set_quiet (TRUE);
  GRand *rand = g_rand_new_with_seed (8254);
  for (int i = 0; i < 200000; i++)
    {
      uint16_t port = ports[g_rand_int_range (rand, 0, G_N_ELEMENTS (ports))];
      switch (g_rand_int_range (rand, 0, 4))
        {
        case 0:
        case 1:
          pit_ioport_write (f.pit, port, (uint8_t) g_rand_int (rand));
          break;
        case 2:
          (void) pit_ioport_read (f.pit, port);
          break;
        default:
          timer_queue_advance (f.clock.q, g_rand_int_range (rand, 0, 2000000));
          break;
        }
      for (unsigned c = 0; c < 3; c++)
        {
          g_assert_cmpuint (f.pit->ch[c].mode, <=, 5);
          g_assert_cmpuint (f.pit->ch[c].count, >=, 1);
          g_assert_cmpuint (f.pit->ch[c].count, <=, 0x10000);
        }
    }
  /* Even hostile programming never produced more than one IRQ per floor. */
  int64_t span = timer_queue_now (f.clock.q);
  g_assert_cmpuint (f.rises->len, <=, span / PIT_MIN_PERIOD_NS + 200000);
  vmm_log_set_quiet (FALSE);
  g_rand_free (rand);
  teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pit/mode0-counts-and-irq", test_mode0_counts_and_irq);
  g_test_add_func ("/pit/mode2-periodic", test_mode2_periodic);
  g_test_add_func ("/pit/mode4-oneshot", test_mode4_oneshot);
  g_test_add_func ("/pit/mode3-and-readback", test_mode3_and_readback);
  g_test_add_func ("/pit/channel2-gate", test_channel2_gate);
  g_test_add_func ("/pit/linux-quick-calibrate", test_linux_quick_calibrate);
  g_test_add_func ("/pit/linux-pit-calibrate", test_linux_pit_calibrate);
  g_test_add_func ("/pit/save-load", test_save_load);
  g_test_add_func ("/pit/random-hostile", test_random_hostile);
  return g_test_run ();
}
