/* IOAPIC through IOREGSEL/IOWIN: redirection, level/remote IRR, EOI. */
#include <string.h>

#include "irqchip-test-util.h"
#include "vmm-core/irqchip/ioapic.h"
#include "vmm-core/irqchip/lapic.h"

typedef struct {
  TestClock clock;
  ApicBus *bus;
  Lapic *l[2];
  Ioapic *io;
} Fixture;

static void
setup (Fixture *f)
{
  memset (f, 0, sizeof *f);
  test_clock_init (&f->clock);
  f->bus = apic_bus_new (2, NULL, NULL);
  for (unsigned i = 0; i < 2; i++)
    {
      f->l[i] = lapic_new (f->bus, i, f->clock.q, i == 0);
      lapic_write (f->l[i], LAPIC_REG_SVR, 0x1ff);
      lapic_write (f->l[i], LAPIC_REG_LDR, (1u << i) << 24);
    }
  f->io = ioapic_new (NULL, f->bus);
}

static void
teardown (Fixture *f)
{
  ioapic_free (f->io);
  for (unsigned i = 0; i < 2; i++)
    lapic_free (f->l[i]);
  apic_bus_free (f->bus);
  test_clock_clear (&f->clock);
}

static uint32_t
reg_read (Ioapic *io, uint32_t reg)
{
  ioapic_mmio_write (io, 0x00, reg, 4);
  return (uint32_t) ioapic_mmio_read (io, 0x10, 4);
}

static void
reg_write (Ioapic *io, uint32_t reg, uint32_t value)
{
  ioapic_mmio_write (io, 0x00, reg, 4);
  ioapic_mmio_write (io, 0x10, value, 4);
}

static void
set_rte (Ioapic *io, unsigned pin, uint64_t e)
{
  reg_write (io, 0x10 + 2 * pin + 1, (uint32_t) (e >> 32));
  reg_write (io, 0x10 + 2 * pin, (uint32_t) e);
}

static uint64_t
get_rte (Ioapic *io, unsigned pin)
{
  return reg_read (io, 0x10 + 2 * pin) | (uint64_t) reg_read (io, 0x11 + 2 * pin) << 32;
}

static bool
irr_has (Lapic *l, unsigned v)
{
  return lapic_read (l, LAPIC_REG_IRR + (v >> 5) * 16) & (1u << (v & 31));
}

static void
test_registers (void)
{
  Fixture f;
  setup (&f);
  g_assert_cmphex (reg_read (f.io, 0x01), ==, 0x00170020);
  reg_write (f.io, 0x00, 0x0a000000);
  g_assert_cmphex (reg_read (f.io, 0x00), ==, 0x0a000000);
  g_assert_cmphex (reg_read (f.io, 0x02), ==, 0x0a000000);
  reg_write (f.io, 0x01, 0); /* read-only */
  g_assert_cmphex (reg_read (f.io, 0x01), ==, 0x00170020);
  for (unsigned pin = 0; pin < IOAPIC_NUM_PINS; pin++)
    g_assert_cmphex (get_rte (f.io, pin), ==, IOAPIC_RTE_MASKED);
  /* Read-only bits (delivery status, remote IRR) ignore writes. */
  set_rte (f.io, 3, 0xffffffffffffffffull);
  g_assert_cmphex (get_rte (f.io, 3), ==, 0xff0000000001afffull);
  g_assert_cmphex (ioapic_mmio_read (f.io, 0x00, 4), ==, 0x17); /* get_rte read 0x17 last */
  /* Sub-dword read of IOWIN. */
  ioapic_mmio_write (f.io, 0x00, 0x01, 4);
  g_assert_cmphex (ioapic_mmio_read (f.io, 0x12, 1), ==, 0x17);
  teardown (&f);
}

static void
test_edge (void)
{
  Fixture f;
  setup (&f);
  set_rte (f.io, 4, (1ull << 56) | 0x41); /* physical dest 1, fixed, edge */
  ioapic_set_irq (f.io, 4, true);
  g_assert_true (irr_has (f.l[1], 0x41));
  g_assert_false (irr_has (f.l[0], 0x41));
  g_assert_cmpint (lapic_accept_interrupt (f.l[1]), ==, 0x41);
  lapic_write (f.l[1], LAPIC_REG_EOI, 0);
  /* Still high: no new edge. */
  ioapic_set_irq (f.io, 4, true);
  g_assert_false (irr_has (f.l[1], 0x41));
  ioapic_set_irq (f.io, 4, false);
  ioapic_set_irq (f.io, 4, true);
  g_assert_true (irr_has (f.l[1], 0x41));
  g_assert_cmpint (lapic_accept_interrupt (f.l[1]), ==, 0x41);
  /* Masked edges are lost. */
  set_rte (f.io, 5, IOAPIC_RTE_MASKED | 0x42);
  ioapic_set_irq (f.io, 5, true);
  set_rte (f.io, 5, 0x42);
  g_assert_false (irr_has (f.l[0], 0x42));
  /* Logical destination (flat, both CPUs) with lowest priority: one. */
  lapic_write (f.l[0], LAPIC_REG_TPR, 0x80);
  set_rte (f.io, 6, (3ull << 56) | IOAPIC_RTE_DEST_LOGICAL | (1u << 8) | 0x43);
  ioapic_set_irq (f.io, 6, true);
  g_assert_true (irr_has (f.l[1], 0x43));
  g_assert_false (irr_has (f.l[0], 0x43));
  /* NMI delivery mode: edge even when the entry says level. */
  set_rte (f.io, 7, (0ull << 56) | IOAPIC_RTE_LEVEL | (4u << 8));
  ioapic_set_irq (f.io, 7, true);
  g_assert_true (lapic_take_nmi (f.l[0]));
  ioapic_set_irq (f.io, 7, true);
  g_assert_false (lapic_take_nmi (f.l[0]));
  g_assert_false (get_rte (f.io, 7) & IOAPIC_RTE_REMOTE_IRR);
  /* INIT through a redirection entry (legal on the 82093AA). */
  set_rte (f.io, 8, (1ull << 56) | (5u << 8));
  ioapic_set_irq (f.io, 8, true);
  g_assert_true (lapic_take_init (f.l[1]));
  teardown (&f);
}

static void
test_level_remote_irr (void)
{
  Fixture f;
  setup (&f);
  /* Active-low level, the way ACPI PCI interrupts are set up; inputs are
   * logical levels, so polarity does not invert them. */
  set_rte (f.io, 17, IOAPIC_RTE_LEVEL | IOAPIC_RTE_POLARITY_LOW | 0x61);
  g_assert_true (get_rte (f.io, 17) & IOAPIC_RTE_POLARITY_LOW);
  g_assert_false (irr_has (f.l[0], 0x61));
  ioapic_set_irq (f.io, 17, true); /* asserted */
  g_assert_true (irr_has (f.l[0], 0x61));
  g_assert_true (get_rte (f.io, 17) & IOAPIC_RTE_REMOTE_IRR);
  g_assert_true (lapic_read (f.l[0], LAPIC_REG_TMR + 0x30) & 2);
  g_assert_cmpint (lapic_accept_interrupt (f.l[0]), ==, 0x61);
  /* Re-asserting while remote IRR is set delivers nothing. */
  ioapic_set_irq (f.io, 17, true);
  g_assert_false (irr_has (f.l[0], 0x61));
  /* EOI with the line still asserted: delivered again. */
  lapic_write (f.l[0], LAPIC_REG_EOI, 0);
  g_assert_true (irr_has (f.l[0], 0x61));
  g_assert_true (get_rte (f.io, 17) & IOAPIC_RTE_REMOTE_IRR);
  g_assert_cmpint (lapic_accept_interrupt (f.l[0]), ==, 0x61);
  /* Device deasserts, then EOI: quiet. */
  ioapic_set_irq (f.io, 17, false);
  lapic_write (f.l[0], LAPIC_REG_EOI, 0);
  g_assert_false (irr_has (f.l[0], 0x61));
  g_assert_false (get_rte (f.io, 17) & IOAPIC_RTE_REMOTE_IRR);

  /* The version 0x20 EOI register clears remote IRR directly. */
  ioapic_set_irq (f.io, 17, true);
  g_assert_cmpint (lapic_accept_interrupt (f.l[0]), ==, 0x61);
  g_assert_true (get_rte (f.io, 17) & IOAPIC_RTE_REMOTE_IRR);
  ioapic_set_irq (f.io, 17, false);
  ioapic_mmio_write (f.io, 0x40, 0x61, 4);
  g_assert_false (get_rte (f.io, 17) & IOAPIC_RTE_REMOTE_IRR);

  /* Unmasking an asserted level line delivers it. */
  set_rte (f.io, 18, IOAPIC_RTE_MASKED | IOAPIC_RTE_LEVEL | (1ull << 56) | 0x62);
  ioapic_set_irq (f.io, 18, true);
  g_assert_false (irr_has (f.l[1], 0x62));
  set_rte (f.io, 18, IOAPIC_RTE_LEVEL | (1ull << 56) | 0x62);
  g_assert_true (irr_has (f.l[1], 0x62));
  teardown (&f);
}

static void
test_save_load (void)
{
  Fixture f, g;
  setup (&f);
  setup (&g);
  reg_write (f.io, 0x00, 0x05000000);
  set_rte (f.io, 9, IOAPIC_RTE_LEVEL | 0x59);
  ioapic_set_irq (f.io, 9, true);
  ioapic_mmio_write (f.io, 0x00, 0x23, 4);
  SnapWriter *w = snap_writer_new ();
  ioapic_save (f.io, w);
  GBytes *b = snap_writer_finish (w);
  SnapReader *r = snap_reader_new (b, NULL);
  g_autoptr (GError) err = NULL;
  g_assert_true (ioapic_load (g.io, r, &err));
  snap_reader_free (r);
  g_assert_cmpuint (g.io->ioregsel, ==, 0x23);
  g_assert_cmpmem (f.io->redirtbl, sizeof f.io->redirtbl, g.io->redirtbl,
                   sizeof g.io->redirtbl);
  g_assert_cmphex (reg_read (g.io, 0x00), ==, 0x05000000);
  g_assert_true (get_rte (g.io, 9) & IOAPIC_RTE_REMOTE_IRR);
  /* The loaded IOAPIC resumes: EOI redelivers the asserted line. */
  ioapic_eoi (g.io, 0x59);
  g_assert_true (irr_has (g.l[0], 0x59));

  size_t len = test_section_size (b, "ioapic");
  for (size_t keep = 0; keep < len; keep += 5)
    {
      r = test_mangled_section (b, "ioapic", keep, len, 0);
      g_clear_error (&err);
      g_assert_false (ioapic_load (g.io, r, &err));
      snap_reader_free (r);
    }
  r = test_mangled_section (b, "ioapic", len, 12, 0x77); /* id > 15 */
  g_clear_error (&err);
  g_assert_false (ioapic_load (g.io, r, &err));
  snap_reader_free (r);
  r = test_mangled_section (b, "ioapic", len, 24 + 8 * 3 + 1, 0x10); /* delivery status */
  g_clear_error (&err);
  g_assert_false (ioapic_load (g.io, r, &err));
  snap_reader_free (r);
  g_bytes_unref (b);
  teardown (&f);
  teardown (&g);
}

static void
test_random_hostile (void)
{
  Fixture f;
  setup (&f);
  vmm_log_set_quiet (TRUE);
  GRand *rand = g_rand_new_with_seed (82093);
  for (int i = 0; i < 200000; i++)
    {
      uint64_t v = ((uint64_t) g_rand_int (rand) << 32) | g_rand_int (rand);
      unsigned size = 1u << g_rand_int_range (rand, 0, 4);
      switch (g_rand_int_range (rand, 0, 6))
        {
        case 0:
          ioapic_mmio_write (f.io, g_rand_int_range (rand, 0, 0x1000), v, size);
          break;
        case 1:
          reg_write (f.io, g_rand_int_range (rand, 0, 0x100), (uint32_t) v);
          break;
        case 2:
          (void) ioapic_mmio_read (f.io, g_rand_int_range (rand, 0, 0x1000), size);
          break;
        case 3:
          ioapic_set_irq (f.io, g_rand_int_range (rand, 0, 40), g_rand_boolean (rand));
          break;
        case 4:
          {
            Lapic *l = f.l[g_rand_int_range (rand, 0, 2)];
            (void) lapic_accept_interrupt (l);
            lapic_write (l, LAPIC_REG_EOI, 0);
            (void) lapic_take_nmi (l);
            (void) lapic_take_init (l);
            (void) lapic_take_sipi (l);
            lapic_write (l, LAPIC_REG_SVR, 0x1ff);
            break;
          }
        default:
          ioapic_eoi (f.io, (uint8_t) v);
          break;
        }
      for (unsigned p = 0; p < IOAPIC_NUM_PINS; p++)
        g_assert_cmphex (f.io->redirtbl[p] & 0x00fffffffffe1000ull, ==, 0);
    }
  vmm_log_set_quiet (FALSE);
  g_rand_free (rand);
  teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ioapic/registers", test_registers);
  g_test_add_func ("/ioapic/edge", test_edge);
  g_test_add_func ("/ioapic/level-remote-irr", test_level_remote_irr);
  g_test_add_func ("/ioapic/save-load", test_save_load);
  g_test_add_func ("/ioapic/random-hostile", test_random_hostile);
  return g_test_run ();
}
