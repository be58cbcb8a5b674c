#include "vmm-core/io-bus.h"

#include <glib.h>

typedef struct {
  uint64_t last_offset;
  uint64_t last_value;
  unsigned last_size;
  unsigned writes;
} Dev;

static uint64_t
dev_read (void *opaque, uint64_t offset, unsigned size)
{
  Dev *d = opaque;
  d->last_offset = offset;
  d->last_size = size;
  return 0x1000 + offset;
}

static void
dev_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  Dev *d = opaque;
  d->last_offset = offset;
  d->last_value = value;
  d->last_size = size;
  d->writes++;
}

static const IoOps dev_ops = { dev_read, dev_write };

static void
test_dispatch (void)
{
  IoBus bus;
  Dev a = { 0 }, b = { 0 };
  uint64_t v;

  io_bus_init (&bus, "pio");
  g_assert_true (io_bus_register (&bus, 0x3f8, 8, &dev_ops, &a, "a"));
  g_assert_true (io_bus_register (&bus, 0x70, 2, &dev_ops, &b, "b"));
  g_assert_true (io_bus_read (&bus, 0x3fa, 1, &v));
  g_assert_cmphex (v, ==, 0x1002);
  g_assert_cmpuint (a.last_offset, ==, 2);
  g_assert_true (io_bus_write (&bus, 0x71, 1, 0x5a));
  g_assert_cmphex (b.last_value, ==, 0x5a);
  g_assert_cmpuint (b.last_offset, ==, 1);

  /* Unclaimed: all ones, false. */
  g_assert_false (io_bus_read (&bus, 0x80, 2, &v));
  g_assert_cmphex (v, ==, 0xffff);
  g_assert_false (io_bus_read (&bus, 0x80, 8, &v));
  g_assert_cmphex (v, ==, G_MAXUINT64);
  /* Straddling the end of a range is not dispatched. */
  g_assert_false (io_bus_read (&bus, 0x3ff, 2, &v));
  g_assert_false (io_bus_write (&bus, 0x71, 4, 1));
  g_assert_cmpuint (b.writes, ==, 1);
  /* Bad sizes. */
  g_assert_false (io_bus_read (&bus, 0x3f8, 0, &v));
  g_assert_false (io_bus_read (&bus, 0x3f8, 16, &v));
  io_bus_destroy (&bus);
}

static void
test_overlap_and_remap (void)
{
  IoBus bus;
  Dev a = { 0 }, b = { 0 };

  io_bus_init (&bus, "mmio");
  g_assert_true (io_bus_register (&bus, 0x1000, 0x1000, &dev_ops, &a, "a"));
  g_assert_false (io_bus_register (&bus, 0x1fff, 1, &dev_ops, &b, "b"));
  g_assert_false (io_bus_register (&bus, 0x0800, 0x801, &dev_ops, &b, "b"));
  g_assert_false (io_bus_register (&bus, 0x0, 0, &dev_ops, &b, "b"));
  g_assert_false (io_bus_register (&bus, G_MAXUINT64 - 1, 4, &dev_ops, &b, "b"));
  g_assert_true (io_bus_register (&bus, 0x2000, 0x10, &dev_ops, &b, "b"));
  g_assert_true (io_bus_register (&bus, 0x0800, 0x800, &dev_ops, &b, "b2"));
  g_assert_cmpuint (bus.count, ==, 3);

  /* A BAR move: unregister needs the right owner. */
  g_assert_false (io_bus_unregister (&bus, 0x1000, &b));
  g_assert_true (io_bus_unregister (&bus, 0x1000, &a));
  g_assert_null (io_bus_find (&bus, 0x1800));
  g_assert_true (io_bus_register (&bus, 0x8000, 0x1000, &dev_ops, &a, "a"));
  g_assert_true (io_bus_find (&bus, 0x8fff)->opaque == &a);
  g_assert_null (io_bus_find (&bus, 0x9000));

  /* Ranges stay sorted under many insertions. */
  for (uint64_t i = 0; i < 100; i++)
    g_assert_true (io_bus_register (&bus, 0x100000 + ((i * 37) % 100) * 0x10, 0x10,
                                    &dev_ops, &a, "many"));
  for (size_t i = 1; i < bus.count; i++)
    g_assert_cmpuint (bus.ranges[i - 1].base, <, bus.ranges[i].base);
  io_bus_destroy (&bus);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/io-bus/dispatch", test_dispatch);
  g_test_add_func ("/io-bus/overlap-and-remap", test_overlap_and_remap);
  return g_test_run ();
}
