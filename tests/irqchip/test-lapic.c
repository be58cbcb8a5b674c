/* Local APIC through its register page and MSRs: timer modes at exact
 * virtual times, priority, IPIs (INIT/SIPI), destinations, state. */
#include <string.h>

#include "irqchip-test-util.h"
#include "vmm-core/irqchip/lapic.h"

typedef struct {
  TestClock clock;
  ApicBus *bus;
  Lapic *l[3];
  unsigned kicks[3];
  GArray *eois; /* uint8_t vectors broadcast */
} Fixture;

static void
on_kick (void *opaque, unsigned cpu)
{
  Fixture *f = opaque;
  g_assert_cmpuint (cpu, <, 3);
  f->kicks[cpu]++;
}

static void
on_eoi (void *opaque, uint8_t vector)
{
  Fixture *f = opaque;
  g_array_append_val (f->eois, vector);
}

static void
setup (Fixture *f)
{
  memset (f, 0, sizeof *f);
  test_clock_init (&f->clock);
  f->bus = apic_bus_new (3, on_kick, f);
  for (unsigned i = 0; i < 3; i++)
    f->l[i] = lapic_new (f->bus, i, f->clock.q, i == 0);
  f->eois = g_array_new (FALSE, FALSE, 1);
  apic_bus_set_eoi_listener (f->bus, on_eoi, f);
  /* Software-enable each APIC with spurious vector 0xff. */
  for (unsigned i = 0; i < 3; i++)
    lapic_write (f->l[i], LAPIC_REG_SVR, 0x1ff);
}

static void
teardown (Fixture *f)
{
  for (unsigned i = 0; i < 3; i++)
    lapic_free (f->l[i]);
  apic_bus_free (f->bus);
  test_clock_clear (&f->clock);
  g_array_unref (f->eois);
}

static bool
irr_has (Lapic *l, unsigned v)
{
  return lapic_read (l, LAPIC_REG_IRR + (v >> 5) * 16) & (1u << (v & 31));
}

static void
test_reset_values (void)
{
  Fixture f;
  setup (&f);
  g_assert_cmphex (lapic_read (f.l[1], LAPIC_REG_ID), ==, 1u << 24);
  g_assert_cmphex (lapic_read (f.l[0], LAPIC_REG_VERSION), ==, 0x50014);
  g_assert_cmphex (lapic_get_apic_base (f.l[0]), ==, 0xfee00900);
  g_assert_cmphex (lapic_get_apic_base (f.l[1]), ==, 0xfee00800);
  g_assert_cmphex (lapic_read (f.l[0], LAPIC_REG_DFR), ==, 0xffffffff);
  /* The BSP's LINT0 is in virtual-wire mode; the APs' are masked. */
  g_assert_cmphex (lapic_read (f.l[0], LAPIC_REG_LVT_LINT0), ==, 0x700);
  g_assert_cmphex (lapic_read (f.l[1], LAPIC_REG_LVT_LINT0), ==, 0x10000);
  g_assert_true (lapic_accepts_pic (f.l[0]));
  g_assert_false (lapic_accepts_pic (f.l[1]));
  /* Sub-dword MMIO reads see the register's bytes. */
  g_assert_cmphex (lapic_mmio_read (f.l[0], 0x32, 1), ==, 0x05);
  g_assert_cmphex (lapic_mmio_read (f.l[0], 0x34, 4), ==, 0);
  teardown (&f);
}

static void
setup_timer (Lapic *l, uint32_t lvt, uint32_t divide)
{
  lapic_write (l, LAPIC_REG_TIMER_DIVIDE, divide);
  lapic_write (l, LAPIC_REG_LVT_TIMER, lvt);
}

static void
test_timer_oneshot (void)
{
  Fixture f;
  setup (&f);
  Lapic *l = f.l[0];
  test_clock_to (&f.clock, 5000);
  setup_timer (l, 0x30, 0xb); /* one-shot, vector 0x30, divide by 1 */
  lapic_write (l, LAPIC_REG_TIMER_INITIAL, 1000);
  test_clock_to (&f.clock, 5250);
  g_assert_cmpuint (lapic_read (l, LAPIC_REG_TIMER_CURRENT), ==, 750);
  test_clock_to (&f.clock, 5999);
  g_assert_false (irr_has (l, 0x30));
  g_assert_cmpuint (lapic_pending_events (l) & LAPIC_EVENT_INTR, ==, 0);
  unsigned kicks = f.kicks[0];
  test_clock_to (&f.clock, 6000);
  g_assert_true (irr_has (l, 0x30));
  g_assert_cmpuint (f.kicks[0], ==, kicks + 1);
  g_assert_cmpuint (lapic_pending_events (l) & LAPIC_EVENT_INTR, !=, 0);
  g_assert_cmpuint (lapic_read (l, LAPIC_REG_TIMER_CURRENT), ==, 0);
  g_assert_cmpint (lapic_accept_interrupt (l), ==, 0x30);
  lapic_write (l, LAPIC_REG_EOI, 0);
  test_clock_to (&f.clock, 100000);
  g_assert_false (irr_has (l, 0x30)); /* one shot only */

  /* Divide by 16 (0x3): 100 ticks take 1600 ns; count reads scale. */
  setup_timer (l, 0x31, 0x3);
  lapic_write (l, LAPIC_REG_TIMER_INITIAL, 100);
  test_clock_to (&f.clock, 100800);
  g_assert_cmpuint (lapic_read (l, LAPIC_REG_TIMER_CURRENT), ==, 50);
  /* Change to divide by 2 mid-count: the remaining 50 ticks take 100 ns. */
  lapic_write (l, LAPIC_REG_TIMER_DIVIDE, 0x0);
  g_assert_cmpuint (lapic_read (l, LAPIC_REG_TIMER_CURRENT), ==, 50);
  test_clock_to (&f.clock, 100899);
  g_assert_false (irr_has (l, 0x31));
  test_clock_to (&f.clock, 100900);
  g_assert_true (irr_has (l, 0x31));

  /* Masked LVT: the count runs out without an interrupt. */
  setup_timer (l, 0x10032, 0xb);
  lapic_write (l, LAPIC_REG_TIMER_INITIAL, 10);
  test_clock_to (&f.clock, 200000);
  g_assert_false (irr_has (l, 0x32));
  /* Initial count 0 stops the timer. */
  setup_timer (l, 0x33, 0xb);
  lapic_write (l, LAPIC_REG_TIMER_INITIAL, 1000);
  lapic_write (l, LAPIC_REG_TIMER_INITIAL, 0);
  test_clock_to (&f.clock, 300000);
  g_assert_false (irr_has (l, 0x33));
  teardown (&f);
}

static void
test_timer_periodic (void)
{
  Fixture f;
  setup (&f);
  Lapic *l = f.l[1];
  setup_timer (l, 0x20040, 0xb); /* periodic, vector 0x40 */
  lapic_write (l, LAPIC_REG_TIMER_INITIAL, 200000);
  int fired = 0;
  for (int64_t t = 0; t <= 1000000; t += 1000)
    {
      test_clock_to (&f.clock, t);
      if (irr_has (l, 0x40))
        {
          g_assert_cmpint (t % 200000, ==, 0);
          g_assert_cmpint (lapic_accept_interrupt (l), ==, 0x40);
          lapic_write (l, LAPIC_REG_EOI, 0);
          fired++;
        }
      if (t == 450000)
        g_assert_cmpuint (lapic_read (l, LAPIC_REG_TIMER_CURRENT), ==, 150000);
    }
  g_assert_cmpint (fired, ==, 5);

  /* A hostile 1-tick period is clamped: not a million callbacks. */
  vmm_log_set_quiet (TRUE);
  lapic_write (l, LAPIC_REG_TIMER_INITIAL, 1);
  unsigned kicks = f.kicks[1];
  test_clock_to (&f.clock, 1000000 + 10000000);
  g_assert_cmpuint (f.kicks[1] - kicks, <=, 1); /* IRR stays set: one kick */
  g_assert_true (irr_has (l, 0x40));
  g_assert_cmpint (vmm_timer_expire (l->timer) - timer_queue_now (f.clock.q), <=,
                   LAPIC_MIN_PERIOD_NS);
  vmm_log_set_quiet (FALSE);

  /* Switching mode disarms. */
  setup_timer (l, 0x41, 0xb);
  g_assert_false (vmm_timer_pending (l->timer));
  g_assert_cmpuint (lapic_read (l, LAPIC_REG_TIMER_INITIAL), ==, 0);
  teardown (&f);
}

static void
test_timer_tsc_deadline (void)
{
  Fixture f;
  setup (&f);
  Lapic *l = f.l[0];
  lapic_set_tsc_hz (l, 2500000000ull); /* 2.5 GHz */
  /* Outside TSC-deadline mode the MSR write is ignored. */
  lapic_set_tsc_deadline (l, 12345, 0);
  g_assert_cmpuint (lapic_get_tsc_deadline (l), ==, 0);

  setup_timer (l, 0x40050, 0xb);
  test_clock_to (&f.clock, 10000);
  uint64_t tsc_now = 25000; /* what the CPU's RDTSC gives at 10 us */
  lapic_set_tsc_deadline (l, tsc_now + 2500, tsc_now); /* +1 us */
  g_assert_cmpuint (lapic_get_tsc_deadline (l), ==, tsc_now + 2500);
  /* The initial-count register is ignored in this mode. */
  lapic_write (l, LAPIC_REG_TIMER_INITIAL, 5);
  g_assert_cmpuint (lapic_read (l, LAPIC_REG_TIMER_INITIAL), ==, 0);
  test_clock_to (&f.clock, 10999);
  g_assert_false (irr_has (l, 0x50));
  test_clock_to (&f.clock, 11000);
  g_assert_true (irr_has (l, 0x50));
  g_assert_cmpuint (lapic_get_tsc_deadline (l), ==, 0); /* disarmed after firing */

  /* 2501 ticks are 1000.4 ns: never early, so 1001 ns. */
  g_assert_cmpint (lapic_accept_interrupt (l), ==, 0x50);
  lapic_write (l, LAPIC_REG_EOI, 0);
  lapic_set_tsc_deadline (l, 100 + 2501, 100);
  test_clock_to (&f.clock, 12000);
  g_assert_false (irr_has (l, 0x50));
  test_clock_to (&f.clock, 12001);
  g_assert_true (irr_has (l, 0x50));
  g_assert_cmpint (lapic_accept_interrupt (l), ==, 0x50);
  lapic_write (l, LAPIC_REG_EOI, 0);

  /* A deadline in the past fires at once; 0 disarms. */
  lapic_set_tsc_deadline (l, 5, 1000);
  test_clock_to (&f.clock, 12001);
  g_assert_true (irr_has (l, 0x50));
  g_assert_cmpint (lapic_accept_interrupt (l), ==, 0x50);
  lapic_write (l, LAPIC_REG_EOI, 0);
  lapic_set_tsc_deadline (l, 1000000, 0);
  lapic_set_tsc_deadline (l, 0, 0);
  test_clock_to (&f.clock, 2000000);
  g_assert_false (irr_has (l, 0x50));
  /* A far-future deadline does not overflow. */
  lapic_set_tsc_deadline (l, UINT64_MAX, 0);
  g_assert_true (vmm_timer_pending (l->timer));
  g_assert_cmpint (vmm_timer_expire (l->timer), >, 2000000);
  teardown (&f);
}

static void
fixed_to_self (Lapic *l, uint8_t vector)
{
  lapic_write (l, LAPIC_REG_ICR_LO, (APIC_SH_SELF << 18) | vector);
}

static void
test_priority (void)
{
  Fixture f;
  setup (&f);
  Lapic *l = f.l[0];
  fixed_to_self (l, 0x45);
  g_assert_cmpint (lapic_has_interrupt (l), ==, 0x45);
  lapic_write (l, LAPIC_REG_TPR, 0x50);
  g_assert_cmpint (lapic_has_interrupt (l), ==, -1);
  g_assert_cmpuint (lapic_pending_events (l) & LAPIC_EVENT_INTR, ==, 0);
  /* TPR class 4 blocks class 4 too (vector class must be above). */
  lapic_set_cr8 (l, 4);
  g_assert_cmphex (lapic_read (l, LAPIC_REG_TPR), ==, 0x40);
  g_assert_cmpint (lapic_has_interrupt (l), ==, -1);
  lapic_set_cr8 (l, 3);
  g_assert_cmpuint (lapic_get_cr8 (l), ==, 3);
  g_assert_cmpint (lapic_has_interrupt (l), ==, 0x45);
  g_assert_cmpint (lapic_accept_interrupt (l), ==, 0x45);
  g_assert_cmphex (lapic_read (l, LAPIC_REG_PPR), ==, 0x40);
  /* Same class as in service: blocked; higher class: nests. */
  fixed_to_self (l, 0x4f);
  g_assert_cmpint (lapic_has_interrupt (l), ==, -1);
  fixed_to_self (l, 0x61);
  g_assert_cmpint (lapic_accept_interrupt (l), ==, 0x61);
  /* Nothing deliverable: INTA returns the spurious vector. */
  g_assert_cmpint (lapic_accept_interrupt (l), ==, 0xff);
  /* EOI retires the highest in-service vector first. */
  lapic_write (l, LAPIC_REG_EOI, 0);
  g_assert_cmphex (lapic_read (l, LAPIC_REG_ISR + 0x40), ==, 0);
  g_assert_cmphex (lapic_read (l, LAPIC_REG_ISR + 0x20), ==, 1u << 5);
  lapic_write (l, LAPIC_REG_EOI, 0);
  g_assert_cmpint (lapic_accept_interrupt (l), ==, 0x4f);
  lapic_write (l, LAPIC_REG_EOI, 0);
  g_assert_cmpuint (f.eois->len, ==, 0); /* edge: no broadcast */

  /* Illegal vectors set ESR bits, visible after an ESR write. */
  fixed_to_self (l, 0x05);
  g_assert_cmphex (lapic_read (l, LAPIC_REG_ESR), ==, 0);
  lapic_write (l, LAPIC_REG_ESR, 0);
  g_assert_cmphex (lapic_read (l, LAPIC_REG_ESR), ==, 0x20);
  lapic_write (l, LAPIC_REG_ESR, 0);
  g_assert_cmphex (lapic_read (l, LAPIC_REG_ESR), ==, 0);

  /* Software-disabled APIC drops fixed interrupts and masks the LVTs. */
  lapic_write (l, LAPIC_REG_SVR, 0xff);
  g_assert_cmphex (lapic_read (l, LAPIC_REG_LVT_LINT0) & 0x10000, ==, 0x10000);
  lapic_write (l, LAPIC_REG_LVT_ERROR, 0x33);
  g_assert_cmphex (lapic_read (l, LAPIC_REG_LVT_ERROR), ==, 0x10033);
  fixed_to_self (l, 0x80);
  g_assert_cmpint (lapic_has_interrupt (l), ==, -1);
  teardown (&f);
}

static void
test_level_eoi_broadcast (void)
{
  Fixture f;
  setup (&f);
  ApicMessage m = { .dest = 2, .vector = 0x61, .delivery_mode = APIC_DM_FIXED,
                    .level_trigger = true, .level_assert = true, .source = -1 };
  g_assert_cmpuint (apic_bus_deliver (f.bus, &m), ==, 1);
  g_assert_true (lapic_read (f.l[2], LAPIC_REG_TMR + 0x30) & 2);
  g_assert_cmpint (lapic_accept_interrupt (f.l[2]), ==, 0x61);
  lapic_write (f.l[2], LAPIC_REG_EOI, 0);
  g_assert_cmpuint (f.eois->len, ==, 1);
  g_assert_cmpuint (g_array_index (f.eois, uint8_t, 0), ==, 0x61);
  teardown (&f);
}

static void
test_ipis (void)
{
  Fixture f;
  setup (&f);
  unsigned k1 = f.kicks[1];
  /* Physical fixed IPI from CPU 0 to APIC ID 1. */
  lapic_write (f.l[0], LAPIC_REG_ICR_HI, 1u << 24);
  lapic_write (f.l[0], LAPIC_REG_ICR_LO, 0x4050);
  g_assert_true (irr_has (f.l[1], 0x50));
  g_assert_false (irr_has (f.l[0], 0x50));
  g_assert_false (irr_has (f.l[2], 0x50));
  g_assert_cmpuint (f.kicks[1], ==, k1 + 1);
  g_assert_cmphex (lapic_read (f.l[0], LAPIC_REG_ICR_LO), ==, 0x4050); /* idle */
  g_assert_cmphex (lapic_read (f.l[0], LAPIC_REG_ICR_HI), ==, 1u << 24);

  /* All-but-self and all including self. */
  lapic_write (f.l[1], LAPIC_REG_ICR_LO, (APIC_SH_ALL_BUT_SELF << 18) | 0x51);
  g_assert_true (irr_has (f.l[0], 0x51) && irr_has (f.l[2], 0x51));
  g_assert_false (irr_has (f.l[1], 0x51));
  lapic_write (f.l[1], LAPIC_REG_ICR_LO, (APIC_SH_ALL << 18) | 0x52);
  g_assert_true (irr_has (f.l[0], 0x52) && irr_has (f.l[1], 0x52) && irr_has (f.l[2], 0x52));
  /* Physical broadcast 0xff. */
  lapic_write (f.l[0], LAPIC_REG_ICR_HI, 0xffu << 24);
  lapic_write (f.l[0], LAPIC_REG_ICR_LO, 0x53);
  g_assert_true (irr_has (f.l[0], 0x53) && irr_has (f.l[1], 0x53) && irr_has (f.l[2], 0x53));

  /* NMI IPI. */
  lapic_write (f.l[0], LAPIC_REG_ICR_HI, 2u << 24);
  lapic_write (f.l[0], LAPIC_REG_ICR_LO, 0x4400);
  g_assert_cmpuint (lapic_pending_events (f.l[2]) & LAPIC_EVENT_NMI, !=, 0);
  g_assert_true (lapic_take_nmi (f.l[2]));
  g_assert_false (lapic_take_nmi (f.l[2]));
  teardown (&f);
}

static void
test_init_sipi (void)
{
  Fixture f;
  setup (&f);
  Lapic *ap = f.l[1];
  fixed_to_self (ap, 0x70); /* state INIT must clear */
  lapic_write (ap, LAPIC_REG_TPR, 0x20);
  /* Linux's wakeup_secondary_cpu_via_init: INIT assert, INIT de-assert,
   * then two SIPIs. */
  lapic_write (f.l[0], LAPIC_REG_ICR_HI, 1u << 24);
  lapic_write (f.l[0], LAPIC_REG_ICR_LO, 0xc500);
  g_assert_cmpuint (lapic_pending_events (ap) & LAPIC_EVENT_INIT, !=, 0);
  lapic_write (f.l[0], LAPIC_REG_ICR_LO, 0x8500); /* de-assert: no effect */
  g_assert_true (lapic_take_init (ap));
  g_assert_false (lapic_take_init (ap));
  g_assert_cmpuint (lapic_read (ap, LAPIC_REG_TPR), ==, 0);
  g_assert_false (irr_has (ap, 0x70));
  g_assert_cmphex (lapic_read (ap, LAPIC_REG_SVR), ==, 0xff); /* software-disabled */
  g_assert_cmphex (lapic_read (ap, LAPIC_REG_ID), ==, 1u << 24); /* ID survives */
  g_assert_cmpint (lapic_take_sipi (ap), ==, -1);
  lapic_write (f.l[0], LAPIC_REG_ICR_LO, 0x4608);
  g_assert_cmpuint (lapic_pending_events (ap) & LAPIC_EVENT_SIPI, !=, 0);
  g_assert_cmpint (lapic_take_sipi (ap), ==, 0x08);
  g_assert_cmpint (lapic_take_sipi (ap), ==, -1);
  g_assert_cmpuint (lapic_pending_events (ap), ==, 0);
  /* The sender was not affected. */
  g_assert_cmpuint (lapic_pending_events (f.l[0]) & (LAPIC_EVENT_INIT | LAPIC_EVENT_SIPI), ==, 0);
  teardown (&f);
}

static void
test_logical_destinations (void)
{
  Fixture f;
  setup (&f);
  /* Flat model: one bit per CPU. */
  for (unsigned i = 0; i < 3; i++)
    lapic_write (f.l[i], LAPIC_REG_LDR, (1u << i) << 24);
  lapic_write (f.l[0], LAPIC_REG_ICR_HI, 0x06u << 24);
  lapic_write (f.l[0], LAPIC_REG_ICR_LO, 0x0800 | 0x60);
  g_assert_false (irr_has (f.l[0], 0x60));
  g_assert_true (irr_has (f.l[1], 0x60) && irr_has (f.l[2], 0x60));
  g_assert_cmphex (lapic_read (f.l[1], LAPIC_REG_LDR), ==, 0x02000000);

  /* Cluster model: cluster 1 members 0 and 1, cluster 2 member 0. */
  static const uint32_t ldr[3] = { 0x11, 0x12, 0x21 };
  for (unsigned i = 0; i < 3; i++)
    {
      lapic_write (f.l[i], LAPIC_REG_DFR, 0x0fffffff);
      lapic_write (f.l[i], LAPIC_REG_LDR, ldr[i] << 24);
    }
  g_assert_cmphex (lapic_read (f.l[0], LAPIC_REG_DFR), ==, 0x0fffffff);
  lapic_write (f.l[0], LAPIC_REG_ICR_HI, 0x13u << 24);
  lapic_write (f.l[0], LAPIC_REG_ICR_LO, 0x0800 | 0x61);
  g_assert_true (irr_has (f.l[0], 0x61) && irr_has (f.l[1], 0x61));
  g_assert_false (irr_has (f.l[2], 0x61));
  lapic_write (f.l[0], LAPIC_REG_ICR_HI, 0x22u << 24); /* cluster 2, member 1: nobody */
  lapic_write (f.l[0], LAPIC_REG_ICR_LO, 0x0800 | 0x62);
  g_assert_false (irr_has (f.l[0], 0x62) || irr_has (f.l[1], 0x62) || irr_has (f.l[2], 0x62));

  /* Lowest priority: the CPU with the lowest TPR among the targets. */
  for (unsigned i = 0; i < 3; i++)
    {
      lapic_write (f.l[i], LAPIC_REG_DFR, 0xffffffff);
      lapic_write (f.l[i], LAPIC_REG_LDR, (1u << i) << 24);
      lapic_write (f.l[i], LAPIC_REG_TPR, i == 2 ? 0x10 : 0x30);
    }
  lapic_write (f.l[0], LAPIC_REG_ICR_HI, 0x07u << 24);
  lapic_write (f.l[0], LAPIC_REG_ICR_LO, 0x0900 | 0x63);
  g_assert_true (irr_has (f.l[2], 0x63));
  g_assert_false (irr_has (f.l[0], 0x63) || irr_has (f.l[1], 0x63));
  teardown (&f);
}

static void
test_x2apic (void)
{
  Fixture f;
  setup (&f);
  Lapic *l = f.l[1];
  uint64_t v;
  g_assert_false (lapic_msr_read (l, 0x802, &v)); /* #GP in xAPIC mode */
  g_assert_false (lapic_set_apic_base (l, 0xfee00000 | LAPIC_BASE_X2APIC)); /* EXTD without EN */
  g_assert_false (lapic_set_apic_base (l, 0xfee00800 | 1)); /* reserved bit */
  g_assert_true (lapic_set_apic_base (l, 0xfee00000 | LAPIC_BASE_ENABLE | LAPIC_BASE_X2APIC));
  g_assert_true (lapic_x2apic_mode (l));
  g_assert_true (lapic_msr_read (l, 0x802, &v));
  g_assert_cmphex (v, ==, 1);
  g_assert_true (lapic_msr_read (l, 0x80d, &v)); /* LDR: cluster 0, bit 1 */
  g_assert_cmphex (v, ==, 0x2);
  g_assert_false (lapic_msr_write (l, 0x802, 5)); /* ID read-only */
  g_assert_false (lapic_msr_read (l, 0x80e, &v)); /* no DFR */
  g_assert_false (lapic_msr_write (l, 0x80b, 1)); /* EOI must be 0 */
  g_assert_false (lapic_msr_write (l, 0x808, 1ull << 32)); /* reserved high bits */
  g_assert_false (lapic_msr_write (l, 0x830, 0x1000ull | 0x40)); /* ICR bit 12 reserved */
  g_assert_false (lapic_msr_write (l, 0x830, 0x100000ull | 0x40)); /* ICR bit 20 reserved */
  /* MMIO is gone in x2APIC mode. */
  g_assert_cmphex (lapic_mmio_read (l, LAPIC_REG_ID, 4), ==, 0);
  /* Self IPI and a 64-bit ICR write to APIC ID 0. */
  g_assert_true (lapic_msr_write (l, 0x83f, 0x91));
  g_assert_true (irr_has (l, 0x91));
  g_assert_true (lapic_msr_write (l, 0x830, 0x92));
  g_assert_true (irr_has (f.l[0], 0x92));
  g_assert_true (lapic_msr_read (l, 0x830, &v));
  g_assert_cmphex (v, ==, 0x92);
  g_assert_true (lapic_msr_write (l, 0x808, 0x20));
  g_assert_true (lapic_msr_read (l, 0x808, &v));
  g_assert_cmphex (v, ==, 0x20);
  /* x2APIC -> xAPIC directly is illegal; via disable it is fine. */
  g_assert_false (lapic_set_apic_base (l, 0xfee00000 | LAPIC_BASE_ENABLE));
  g_assert_true (lapic_set_apic_base (l, 0xfee00000));
  g_assert_false (lapic_hw_enabled (l));
  g_assert_cmpint (lapic_has_interrupt (l), ==, -1);
  g_assert_true (lapic_set_apic_base (l, 0xfee00000 | LAPIC_BASE_ENABLE));
  g_assert_cmphex (lapic_read (l, LAPIC_REG_ID), ==, 1u << 24);
  teardown (&f);
}

static void
test_save_load (void)
{
  Fixture f, g;
  setup (&f);
  setup (&g);
  Lapic *l = f.l[1];
  test_clock_to (&f.clock, 1000);
  setup_timer (l, 0x20044, 0x1); /* periodic, divide by 4 */
  lapic_write (l, LAPIC_REG_TIMER_INITIAL, 50000); /* 200 us period */
  lapic_write (l, LAPIC_REG_TPR, 0x20);
  lapic_write (l, LAPIC_REG_LDR, 0x04000000);
  fixed_to_self (l, 0x66);
  fixed_to_self (l, 0x67);
  g_assert_cmpint (lapic_accept_interrupt (l), ==, 0x67);
  lapic_write (f.l[0], LAPIC_REG_ICR_HI, 1u << 24);
  lapic_write (f.l[0], LAPIC_REG_ICR_LO, 0x4400); /* pending NMI */
  test_clock_to (&f.clock, 13000);

  SnapWriter *w = snap_writer_new ();
  lapic_save (l, w);
  GBytes *b = snap_writer_finish (w);
  test_clock_to (&g.clock, 13000); /* the snapshot restores the clock */
  SnapReader *r = snap_reader_new (b, NULL);
  g_autoptr (GError) err = NULL;
  g_assert_true (lapic_load (g.l[1], r, &err));
  g_assert_no_error (err);
  snap_reader_free (r);

  uint8_t pa[LAPIC_PAGE_SIZE], pb[LAPIC_PAGE_SIZE];
  lapic_get_page (l, pa);
  lapic_get_page (g.l[1], pb);
  g_assert_cmpmem (pa, sizeof pa, pb, sizeof pb);
  g_assert_cmpuint (lapic_read (g.l[1], LAPIC_REG_TIMER_CURRENT), ==,
                    lapic_read (l, LAPIC_REG_TIMER_CURRENT));
  g_assert_true (lapic_take_nmi (g.l[1]));
  g_assert_cmpint (vmm_timer_expire (g.l[1]->timer), ==, vmm_timer_expire (l->timer));
  g_assert_cmpint (vmm_timer_expire (l->timer), ==, 201000);
  test_clock_to (&g.clock, 200999);
  g_assert_false (irr_has (g.l[1], 0x44));
  test_clock_to (&g.clock, 201000);
  g_assert_true (irr_has (g.l[1], 0x44));

  /* The bare page (CpuState.lapic) restores registers and the count. */
  Fixture h;
  setup (&h);
  test_clock_to (&h.clock, 13000);
  lapic_set_page (h.l[1], pa);
  lapic_get_page (h.l[1], pb);
  g_assert_cmpmem (pa, sizeof pa, pb, sizeof pb);
  g_assert_cmpint (vmm_timer_expire (h.l[1]->timer), ==, 201000);

  /* Truncated sections and a corrupt APIC base are refused. */
  size_t len = test_section_size (b, "lapic.1");
  for (size_t keep = 0; keep < len; keep += 97)
    {
      r = test_mangled_section (b, "lapic.1", keep, len, 0);
      g_clear_error (&err);
      g_assert_false (lapic_load (h.l[1], r, &err));
      g_assert_nonnull (err);
      snap_reader_free (r);
    }
  r = test_mangled_section (b, "lapic.1", len, 0, 0x01); /* reserved base bit */
  g_clear_error (&err);
  g_assert_false (lapic_load (h.l[1], r, &err));
  snap_reader_free (r);
  r = test_mangled_section (b, "lapic.1", len, 8 + 1024 + 4 + 7, 0x7f); /* timer start */
  g_clear_error (&err);
  g_assert_false (lapic_load (h.l[1], r, &err));
  snap_reader_free (r);
  /* The wrong instance's section is not there. */
  r = snap_reader_new (b, NULL);
  g_clear_error (&err);
  g_assert_false (lapic_load (h.l[0], r, &err));
  snap_reader_free (r);

  g_bytes_unref (b);
  teardown (&f);
  teardown (&g);
  teardown (&h);
}

static void
test_random_hostile (void)
{
  Fixture f;
  setup (&f);
  vmm_log_set_quiet (TRUE);
  GRand *rand = g_rand_new_with_seed (0xfee);
  for (int i = 0; i < 300000; i++)
    {
      Lapic *l = f.l[g_rand_int_range (rand, 0, 3)];
      uint32_t op = g_rand_int_range (rand, 0, 12);
      uint64_t v = ((uint64_t) g_rand_int (rand) << 32) | g_rand_int (rand);
      unsigned sizes[] = { 1, 2, 4, 8, 3, 0 };
      switch (op)
        {
        case 0:
        case 1:
        case 2:
          lapic_mmio_write (l, g_rand_int_range (rand, 0, 0x1100), v,
                            sizes[g_rand_int_range (rand, 0, 6)]);
          break;
        case 3:
          lapic_write (l, g_rand_int_range (rand, 0, 0x40) << 4, (uint32_t) v);
          break;
        case 4:
          (void) lapic_mmio_read (l, g_rand_int_range (rand, 0, 0x1100),
                                  sizes[g_rand_int_range (rand, 0, 6)]);
          break;
        case 5:
          {
            uint64_t out;
            if (g_rand_boolean (rand))
              (void) lapic_msr_write (l, 0x800 + g_rand_int_range (rand, 0, 0x100), v);
            else
              (void) lapic_msr_read (l, 0x7f0 + g_rand_int_range (rand, 0, 0x120), &out);
            break;
          }
        case 6:
          (void) lapic_set_apic_base (l, g_rand_boolean (rand) ? v : (0xfee00000 | (v & 0xd00)));
          break;
        case 7:
          if (lapic_has_interrupt (l) >= 0)
            g_assert_cmpint (lapic_accept_interrupt (l), >=, 16);
          else
            (void) lapic_accept_interrupt (l);
          break;
        case 8:
          lapic_set_tsc_deadline (l, v >> g_rand_int_range (rand, 0, 64), g_rand_int (rand));
          break;
        case 9:
          timer_queue_advance (f.clock.q, g_rand_int_range (rand, 0, 300000));
          break;
        case 10:
          (void) lapic_take_init (l);
          (void) lapic_take_sipi (l);
          (void) lapic_take_nmi (l);
          break;
        default:
          {
            uint8_t page[LAPIC_PAGE_SIZE];
            for (unsigned k = 0; k < sizeof page; k++)
              page[k] = (uint8_t) g_rand_int (rand);
            if (g_rand_int_range (rand, 0, 50) == 0)
              lapic_set_page (l, page);
            lapic_set_lint (l, g_rand_int_range (rand, 0, 3), g_rand_boolean (rand));
          }
        }
      int has = lapic_has_interrupt (l);
      g_assert_true (has == -1 || (has >= 16 && has <= 255));
      g_assert_cmpuint (l->irr[0] & 0xffff, ==, 0);
    }
  vmm_log_set_quiet (FALSE);
  g_rand_free (rand);
  teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lapic/reset-values", test_reset_values);
  g_test_add_func ("/lapic/timer-oneshot", test_timer_oneshot);
  g_test_add_func ("/lapic/timer-periodic", test_timer_periodic);
  g_test_add_func ("/lapic/timer-tsc-deadline", test_timer_tsc_deadline);
  g_test_add_func ("/lapic/priority", test_priority);
  g_test_add_func ("/lapic/level-eoi-broadcast", test_level_eoi_broadcast);
  g_test_add_func ("/lapic/ipis", test_ipis);
  g_test_add_func ("/lapic/init-sipi", test_init_sipi);
  g_test_add_func ("/lapic/logical-destinations", test_logical_destinations);
  g_test_add_func ("/lapic/x2apic", test_x2apic);
  g_test_add_func ("/lapic/save-load", test_save_load);
  g_test_add_func ("/lapic/random-hostile", test_random_hostile);
  return g_test_run ();
}
