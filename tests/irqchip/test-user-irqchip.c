/* The aggregate: bus registration, GSI routing, virtual wire, MSI, PIT to
 * IOAPIC pin 2, whole-chip snapshots. */
#include <string.h>

#include "irqchip-test-util.h"
#include "vmm-core/io-bus.h"
#include "vmm-core/irqchip/user-irqchip.h"

typedef struct {
  TestClock clock;
  IoBus pio, mmio;
  UserIrqchip *chip;
  unsigned kicks[2];
} Fixture;

static void
on_kick (void *opaque, unsigned cpu)
{
  Fixture *f = opaque;
  g_assert_cmpuint (cpu, <, 2);
  f->kicks[cpu]++;
}

static void
setup (Fixture *f)
{
  memset (f, 0, sizeof *f);
  test_clock_init (&f->clock);
  io_bus_init (&f->pio, "pio");
  io_bus_init (&f->mmio, "mmio");
  UserIrqchipHooks hooks = { on_kick, f };
  f->chip = user_irqchip_new (&f->pio, &f->mmio, f->clock.q, 2, &hooks);
}

static void
teardown (Fixture *f)
{
  user_irqchip_free (f->chip);
  g_assert_cmpuint (f->pio.count, ==, 0);
  g_assert_cmpuint (f->mmio.count, ==, 0);
  io_bus_destroy (&f->pio);
  io_bus_destroy (&f->mmio);
  test_clock_clear (&f->clock);
}

static void
outb (Fixture *f, uint16_t port, uint8_t v)
{
  g_assert_true (io_bus_write (&f->pio, port, 1, v));
}

static uint8_t
inb (Fixture *f, uint16_t port)
{
  uint64_t v = 0;
  g_assert_true (io_bus_read (&f->pio, port, 1, &v));
  return (uint8_t) v;
}

static void
ioapic_rte (Fixture *f, unsigned pin, uint64_t e)
{
  io_bus_write (&f->mmio, 0xfec00000, 4, 0x10 + 2 * pin + 1);
  io_bus_write (&f->mmio, 0xfec00010, 4, e >> 32);
  io_bus_write (&f->mmio, 0xfec00000, 4, 0x10 + 2 * pin);
  io_bus_write (&f->mmio, 0xfec00010, 4, (uint32_t) e);
}

static void
pic_init (Fixture *f)
{
  static const uint8_t seq[][2] = {
    { 0x20, 0x11 }, { 0x21, 0x30 }, { 0x21, 0x04 }, { 0x21, 0x01 },
    { 0xa0, 0x11 }, { 0xa1, 0x38 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
    { 0x21, 0x00 }, { 0xa1, 0x00 },
  };
  for (unsigned i = 0; i < G_N_ELEMENTS (seq); i++)
    outb (f, seq[i][0], seq[i][1]);
}

static void
test_msi_decode (void)
{
  ApicMessage m;
  g_assert_true (apic_msi_decode (0xfee01000, 0x4041, &m));
  g_assert_cmpuint (m.dest, ==, 1);
  g_assert_cmpuint (m.vector, ==, 0x41);
  g_assert_cmpuint (m.delivery_mode, ==, APIC_DM_FIXED);
  g_assert_false (m.dest_logical);
  g_assert_false (m.level_trigger);
  g_assert_true (apic_msi_decode (0xfeeff00c, 0xc1a3, &m)); /* RH + DM logical */
  g_assert_cmpuint (m.dest, ==, 0xff);
  g_assert_true (m.dest_logical);
  g_assert_cmpuint (m.delivery_mode, ==, APIC_DM_LOWEST);
  g_assert_cmpuint (m.vector, ==, 0xa3);
  g_assert_true (m.level_trigger);
  g_assert_true (m.level_assert);
  g_assert_true (apic_msi_decode (0xfee00000, 0x0400, &m));
  g_assert_cmpuint (m.delivery_mode, ==, APIC_DM_NMI);
  g_assert_false (apic_msi_decode (0xfed00000, 0x41, &m));
  g_assert_false (apic_msi_decode (0x1fee00000ull, 0x41, &m));
}

static void
test_msi_delivery (void)
{
  Fixture f;
  setup (&f);
  for (unsigned i = 0; i < 2; i++)
    lapic_write (user_irqchip_lapic (f.chip, i), LAPIC_REG_SVR, 0x1ff);
  unsigned k = f.kicks[1];
  user_irqchip_send_msi (f.chip, 0xfee01000, 0x41);
  g_assert_cmpuint (f.kicks[1], ==, k + 1);
  g_assert_true (user_irqchip_pending (f.chip, 1) & LAPIC_EVENT_INTR);
  g_assert_true (user_irqchip_has_interrupt (f.chip, 1));
  g_assert_false (user_irqchip_has_interrupt (f.chip, 0));
  g_assert_cmpint (user_irqchip_get_interrupt (f.chip, 1), ==, 0x41);
  g_assert_cmpint (user_irqchip_get_interrupt (f.chip, 1), ==, -1);
  /* Through the IrqRouter devices use. */
  irq_send_msi (user_irqchip_router (f.chip), 0xfee00000, 0x42);
  g_assert_cmpint (user_irqchip_get_interrupt (f.chip, 0), ==, 0x42);
  /* Bad MSI addresses are dropped. */
  vmm_log_set_quiet (TRUE);
  user_irqchip_send_msi (f.chip, 0xfebff000, 0x43);
  user_irqchip_send_msi (f.chip, 0xfee00000, 0x0643); /* SIPI via MSI */
  vmm_log_set_quiet (FALSE);
  g_assert_cmpuint (user_irqchip_pending (f.chip, 0), ==, 0);
  teardown (&f);
}

static void
test_virtual_wire (void)
{
  Fixture f;
  setup (&f);
  pic_init (&f);
  g_assert_cmphex (inb (&f, 0x21), ==, 0x00);
  /* Reset state: BSP LINT0 ExtINT, APIC software-disabled: the PIC gets
   * through (what a kernel sees before it sets up the APIC). */
  unsigned k = f.kicks[0];
  user_irqchip_set_irq (f.chip, 4, true);
  g_assert_cmpuint (f.kicks[0], ==, k + 1);
  g_assert_true (user_irqchip_pending (f.chip, 0) & LAPIC_EVENT_EXTINT);
  g_assert_false (user_irqchip_has_interrupt (f.chip, 1)); /* only the BSP */
  g_assert_cmpint (user_irqchip_get_interrupt (f.chip, 0), ==, 0x34);
  g_assert_cmpuint (user_irqchip_pending (f.chip, 0), ==, 0);
  outb (&f, 0x20, 0x20);
  user_irqchip_set_irq (f.chip, 4, false);

  /* LINT0 masked: the PIC no longer reaches the CPU. */
  Lapic *l = user_irqchip_lapic (f.chip, 0);
  lapic_write (l, LAPIC_REG_SVR, 0x1ff);
  lapic_write (l, LAPIC_REG_LVT_LINT0, 0x10700);
  user_irqchip_set_irq (f.chip, 3, true);
  g_assert_false (user_irqchip_has_interrupt (f.chip, 0));
  g_assert_cmpint (user_irqchip_get_interrupt (f.chip, 0), ==, -1);
  /* LAPIC hardware-disabled: INTR goes straight to the CPU (and the
   * lock-free hint says so). */
  g_assert_true (lapic_set_apic_base (l, 0xfee00100));
  g_assert_true (user_irqchip_pending (f.chip, 0) & LAPIC_EVENT_EXTINT);
  g_assert_true (user_irqchip_has_interrupt (f.chip, 0));
  g_assert_cmpint (user_irqchip_get_interrupt (f.chip, 0), ==, 0x33);
  /* The LAPIC's own interrupts come before the PIC's. */
  g_assert_true (lapic_set_apic_base (l, 0xfee00900));
  lapic_write (l, LAPIC_REG_SVR, 0x1ff);
  lapic_write (l, LAPIC_REG_LVT_LINT0, 0x700);
  outb (&f, 0x20, 0x20);
  user_irqchip_set_irq (f.chip, 3, false);
  user_irqchip_set_irq (f.chip, 3, true);
  lapic_write (l, LAPIC_REG_ICR_LO, (APIC_SH_SELF << 18) | 0xe0);
  g_assert_cmpint (user_irqchip_get_interrupt (f.chip, 0), ==, 0xe0);
  g_assert_cmpint (user_irqchip_get_interrupt (f.chip, 0), ==, 0x33);
  g_assert_cmpint (user_irqchip_get_interrupt (f.chip, 0), ==, -1);
  teardown (&f);
}

static void
test_pit_through_ioapic (void)
{
  Fixture f;
  setup (&f);
  pic_init (&f);
  outb (&f, 0x21, 0xff); /* PIC masked: APIC mode */
  Lapic *l = user_irqchip_lapic (f.chip, 0);
  lapic_write (l, LAPIC_REG_SVR, 0x1ff);
  ioapic_rte (&f, 2, 0x30); /* IRQ0 override: pin 2, vector 0x30 to CPU 0 */
  outb (&f, 0x43, 0x34);
  outb (&f, 0x40, 1193 & 0xff);
  outb (&f, 0x40, 1193 >> 8);
  int got = 0;
  for (int64_t t = 0; t <= 5000000; t += 10000)
    {
      test_clock_to (&f.clock, t);
      int v = user_irqchip_get_interrupt (f.chip, 0);
      if (v >= 0)
        {
          g_assert_cmpint (v, ==, 0x30);
          lapic_write (l, LAPIC_REG_EOI, 0);
          got++;
        }
    }
  g_assert_cmpint (got, ==, 5);
  /* GSI 2 itself is not routable (it is the cascade); GSI 16-23 reach the
   * IOAPIC only. */
  vmm_log_set_quiet (TRUE);
  user_irqchip_set_irq (f.chip, 2, true);
  user_irqchip_set_irq (f.chip, 99, true);
  vmm_log_set_quiet (FALSE);
  ioapic_rte (&f, 20, (1ull << 56) | 0x8000 | 0x44);
  lapic_write (user_irqchip_lapic (f.chip, 1), LAPIC_REG_SVR, 0x1ff);
  user_irqchip_set_irq (f.chip, 20, true);
  g_assert_cmpint (user_irqchip_get_interrupt (f.chip, 1), ==, 0x44);
  teardown (&f);
}

static void
test_save_load (void)
{
  Fixture f, g;
  setup (&f);
  setup (&g);
  pic_init (&f);
  Lapic *l = user_irqchip_lapic (f.chip, 1);
  lapic_write (l, LAPIC_REG_SVR, 0x1ff);
  lapic_write (l, LAPIC_REG_LVT_TIMER, 0x45);
  lapic_write (l, LAPIC_REG_TIMER_INITIAL, 777777);
  ioapic_rte (&f, 11, 0x8000 | 0x51);
  user_irqchip_set_irq (f.chip, 11, true);
  outb (&f, 0x43, 0x34);
  outb (&f, 0x40, 0x00);
  outb (&f, 0x40, 0x80);
  test_clock_to (&f.clock, 123456);

  SnapWriter *w = snap_writer_new ();
  user_irqchip_save (f.chip, w);
  GBytes *b = snap_writer_finish (w);
  SnapReader *r = snap_reader_new (b, NULL);
  g_assert_true (snap_reader_has (r, "pic"));
  g_assert_true (snap_reader_has (r, "ioapic"));
  g_assert_true (snap_reader_has (r, "pit"));
  g_assert_true (snap_reader_has (r, "lapic.0"));
  g_assert_true (snap_reader_has (r, "lapic.1"));
  test_clock_to (&g.clock, 123456);
  g_autoptr (GError) err = NULL;
  g_assert_true (user_irqchip_load (g.chip, r, &err));
  g_assert_no_error (err);
  snap_reader_free (r);

  /* Same state now and the same future. */
  for (int64_t t = 123456; t < 2000000; t += 50000)
    {
      test_clock_to (&f.clock, t);
      test_clock_to (&g.clock, t);
      for (unsigned cpu = 0; cpu < 2; cpu++)
        g_assert_cmpint (user_irqchip_get_interrupt (f.chip, cpu), ==,
                         user_irqchip_get_interrupt (g.chip, cpu));
      g_assert_cmpuint (inb (&f, 0x40), ==, inb (&g, 0x40));
      g_assert_cmpuint (lapic_read (l, LAPIC_REG_TIMER_CURRENT), ==,
                        lapic_read (user_irqchip_lapic (g.chip, 1), LAPIC_REG_TIMER_CURRENT));
    }
  /* Without lapic.N sections (a KVM-made stream) the rest still loads. */
  {
    SnapWriter *w3 = snap_writer_new ();
    pic_save (user_irqchip_pic (f.chip), w3);
    ioapic_save (user_irqchip_ioapic (f.chip), w3);
    pit_save (user_irqchip_pit (f.chip), w3);
    GBytes *b3 = snap_writer_finish (w3);
    r = snap_reader_new (b3, NULL);
    g_assert_true (user_irqchip_load (g.chip, r, &err));
    snap_reader_free (r);
    g_bytes_unref (b3);
  }
  /* A stream missing a section is refused. */
  SnapWriter *w2 = snap_writer_new ();
  pic_save (user_irqchip_pic (f.chip), w2);
  GBytes *b2 = snap_writer_finish (w2);
  r = snap_reader_new (b2, NULL);
  g_clear_error (&err);
  g_assert_false (user_irqchip_load (g.chip, r, &err));
  g_assert_nonnull (err);
  snap_reader_free (r);
  g_bytes_unref (b2);
  g_bytes_unref (b);
  teardown (&f);
  teardown (&g);
}

/* The real timer thread: LAPIC timer interrupts reach a "vCPU" thread that
 * sleeps until kicked, polls the lock-free hint and acknowledges under the
 * device lock, as the soft engine does. */
typedef struct {
  GMutex wait_lock;
  GCond wait_cond;
  unsigned kicked;
} Waiter;

static void
waiter_kick (void *opaque, unsigned cpu)
{
  Waiter *w = opaque;
  g_mutex_lock (&w->wait_lock);
  w->kicked++;
  g_cond_signal (&w->wait_cond);
  g_mutex_unlock (&w->wait_lock);
}

static void
test_timer_thread (void)
{
  GMutex device_lock;
  g_mutex_init (&device_lock);
  Waiter w = { 0 };
  g_mutex_init (&w.wait_lock);
  g_cond_init (&w.wait_cond);
  TimerQueue *q = timer_queue_new (&device_lock);
  IoBus pio, mmio;
  io_bus_init (&pio, "pio");
  io_bus_init (&mmio, "mmio");
  UserIrqchipHooks hooks = { waiter_kick, &w };
  g_mutex_lock (&device_lock);
  UserIrqchip *chip = user_irqchip_new (&pio, &mmio, q, 1, &hooks);
  Lapic *l = user_irqchip_lapic (chip, 0);
  lapic_write (l, LAPIC_REG_SVR, 0x1ff);
  lapic_write (l, LAPIC_REG_TIMER_DIVIDE, 0xb);
  lapic_write (l, LAPIC_REG_LVT_TIMER, 0x20000 | 0xec);
  lapic_write (l, LAPIC_REG_TIMER_INITIAL, 200000); /* 200 us */
  g_mutex_unlock (&device_lock);

  int got = 0;
  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  while (got < 20 && g_get_monotonic_time () < deadline)
    {
      g_mutex_lock (&w.wait_lock);
      while (!user_irqchip_pending (chip, 0) && g_get_monotonic_time () < deadline)
        g_cond_wait_until (&w.wait_cond, &w.wait_lock, deadline);
      g_mutex_unlock (&w.wait_lock);
      g_mutex_lock (&device_lock);
      int v = user_irqchip_get_interrupt (chip, 0);
      if (v >= 0)
        {
          g_assert_cmpint (v, ==, 0xec);
          lapic_write (l, LAPIC_REG_EOI, 0);
          got++;
        }
      g_mutex_unlock (&device_lock);
    }
  g_assert_cmpint (got, ==, 20);
  g_assert_cmpuint (w.kicked, >=, 20);

  /* Freed under the device lock: no timer callback can be running. */
  g_mutex_lock (&device_lock);
  user_irqchip_free (chip);
  g_mutex_unlock (&device_lock);
  timer_queue_free (q);
  io_bus_destroy (&pio);
  io_bus_destroy (&mmio);
  g_cond_clear (&w.wait_cond);
  g_mutex_clear (&w.wait_lock);
  g_mutex_clear (&device_lock);
}

static void
test_random_hostile (void)
{
  static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1,
                                    0x40, 0x41, 0x42, 0x43, 0x61 };
  Fixture f;
  setup (&f);
  vmm_log_set_quiet (TRUE);
  GRand *rand = g_rand_new_with_seed (2026);
  for (int i = 0; i < 200000; i++)
    {
      uint32_t v = g_rand_int (rand);
      unsigned cpu = g_rand_int_range (rand, 0, 2);
      Lapic *l = user_irqchip_lapic (f.chip, cpu);
      switch (g_rand_int_range (rand, 0, 9))
        {
        case 0:
          io_bus_write (&f.pio, ports[g_rand_int_range (rand, 0, G_N_ELEMENTS (ports))], 1,
                        v & 0xff);
          break;
        case 1:
          io_bus_write (&f.mmio, 0xfec00000 + g_rand_int_range (rand, 0, 0x50), 4, v);
          break;
        case 2:
          lapic_mmio_write (l, g_rand_int_range (rand, 0, 0x400) & ~0xf, v, 4);
          break;
        case 3:
          user_irqchip_set_irq (f.chip, g_rand_int_range (rand, 0, 30), v & 1);
          break;
        case 4:
          user_irqchip_send_msi (f.chip, 0xfee00000 | (v & 0xff00c), g_rand_int (rand));
          break;
        case 5:
          {
            int vec = user_irqchip_get_interrupt (f.chip, cpu);
            g_assert_cmpint (vec, >=, -1);
            g_assert_cmpint (vec, <=, 255);
            if (vec >= 0)
              lapic_write (l, LAPIC_REG_EOI, 0);
            break;
          }
        case 6:
          (void) lapic_take_init (l);
          (void) lapic_take_sipi (l);
          (void) lapic_take_nmi (l);
          break;
        case 7:
          timer_queue_advance (f.clock.q, g_rand_int_range (rand, 0, 500000));
          break;
        default:
          (void) lapic_set_apic_base (l, 0xfee00000 | (v & 0xd00));
          break;
        }
      g_assert_cmpuint (user_irqchip_pending (f.chip, cpu) & ~0x1fu, ==, 0);
    }
  vmm_log_set_quiet (FALSE);
  g_rand_free (rand);
  teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/user-irqchip/msi-decode", test_msi_decode);
  g_test_add_func ("/user-irqchip/msi-delivery", test_msi_delivery);
  g_test_add_func ("/user-irqchip/virtual-wire", test_virtual_wire);
  g_test_add_func ("/user-irqchip/pit-through-ioapic", test_pit_through_ioapic);
  g_test_add_func ("/user-irqchip/save-load", test_save_load);
  g_test_add_func ("/user-irqchip/timer-thread", test_timer_thread);
  g_test_add_func ("/user-irqchip/random-hostile", test_random_hostile);
  return g_test_run ();
}
