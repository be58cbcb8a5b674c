/* Reset control (0xCF9), port A (0x92), POST (0x80), debug exit (0x501). */
#include <string.h>

#include "vmm-core/platform/pc-reset.h"
#include "platform-test-util.h"

typedef struct {
  IoBus pio;
  PcReset reset;
  unsigned resets, hard_resets, exits, a20_changes;
  int last_status;
  bool a20;
} Fixture;

static void
on_reset (void *opaque, bool hard)
{
  Fixture *f = opaque;
  f->resets++;
  f->hard_resets += hard;
}

static void
on_debug_exit (void *opaque, int status)
{
  Fixture *f = opaque;
  f->exits++;
  f->last_status = status;
}

static void
on_a20 (void *opaque, bool enabled)
{
  Fixture *f = opaque;
  f->a20_changes++;
  f->a20 = enabled;
}

static void
setup (Fixture *f, gconstpointer data)
{
  memset (f, 0, sizeof *f);
  io_bus_init (&f->pio, "pio");
  PcResetCallbacks cb = { on_reset, on_debug_exit, on_a20, f };
  g_assert_true (pc_reset_init (&f->reset, &f->pio, &cb, GPOINTER_TO_INT (data)));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  pc_reset_destroy (&f->reset);
  g_assert_cmpuint (f->pio.count, ==, 0);
  io_bus_destroy (&f->pio);
}

static uint32_t
in (Fixture *f, uint16_t port, unsigned size)
{
  uint64_t v;
  io_bus_read (&f->pio, port, size, &v);
  return (uint32_t) v;
}

static void
out (Fixture *f, uint16_t port, unsigned size, uint32_t v)
{
  io_bus_write (&f->pio, port, size, v);
}

static void
test_cf9 (Fixture *f, gconstpointer data)
{
  g_assert_nonnull (io_bus_find (&f->pio, 0xcf9));
  out (f, 0xcf9, 1, 0x02); /* Linux: SYS_RST first... */
  g_assert_cmpuint (f->resets, ==, 0);
  g_assert_cmphex (in (f, 0xcf9, 1), ==, 0x02);
  out (f, 0xcf9, 1, 0x06); /* ...then RST_CPU with it */
  g_assert_cmpuint (f->resets, ==, 1);
  g_assert_cmpuint (f->hard_resets, ==, 1);
  out (f, 0xcf9, 1, 0x04); /* soft reset */
  g_assert_cmpuint (f->resets, ==, 2);
  g_assert_cmpuint (f->hard_resets, ==, 1);
  out (f, 0xcf9, 1, 0xf1); /* junk bits: no reset, only defined bits stick */
  g_assert_cmpuint (f->resets, ==, 2);
  g_assert_cmphex (in (f, 0xcf9, 1), ==, 0x00);
  out (f, 0xcf9, 1, 0x0e);
  g_assert_cmpuint (f->hard_resets, ==, 2);
  g_assert_cmphex (in (f, 0xcf9, 1), ==, 0x0a);
}

static void
test_cf9_via_ops (Fixture *f, gconstpointer data)
{
  /* Not claimed: 0xCF9 is the PCI host bridge's to forward. */
  g_assert_null (io_bus_find (&f->pio, 0xcf9));
  pc_reset_cf9_ops.write (&f->reset, 0, 0x06, 1);
  g_assert_cmpuint (f->hard_resets, ==, 1);
  g_assert_cmphex (pc_reset_cf9_ops.read (&f->reset, 0, 1), ==, 0x02);
}

static void
test_port_a (Fixture *f, gconstpointer data)
{
  g_assert_cmphex (in (f, 0x92, 1), ==, 0x02); /* A20 on */
  out (f, 0x92, 1, 0x00);
  g_assert_cmpuint (f->a20_changes, ==, 1);
  g_assert_false (f->a20);
  out (f, 0x92, 1, 0x00);
  g_assert_cmpuint (f->a20_changes, ==, 1); /* no change, no call */
  out (f, 0x92, 1, 0x03);
  g_assert_true (f->a20);
  g_assert_cmpuint (f->hard_resets, ==, 1);
  g_assert_cmphex (in (f, 0x92, 1), ==, 0x02); /* reset bit reads 0 */
}

static void
test_post_and_exit (Fixture *f, gconstpointer data)
{
  uint8_t codes[PC_POST_HISTORY];
  g_assert_cmpuint (pc_reset_post_codes (&f->reset, codes, 4), ==, 0);
  for (unsigned i = 0; i < 20; i++)
    out (f, 0x80, 1, 0x10 + i);
  g_assert_cmphex (in (f, 0x80, 1), ==, 0x10 + 19);
  g_assert_cmpuint (pc_reset_post_codes (&f->reset, codes, 3), ==, 3);
  g_assert_cmphex (codes[0], ==, 0x10 + 17);
  g_assert_cmphex (codes[2], ==, 0x10 + 19);
  g_assert_cmpuint (pc_reset_post_codes (&f->reset, codes, 100), ==, PC_POST_HISTORY);
  g_assert_cmphex (codes[0], ==, 0x10 + 4);
  g_assert_cmpuint (f->exits, ==, 0);

  out (f, 0x501, 1, 0x10);
  g_assert_cmpuint (f->exits, ==, 1);
  g_assert_cmpint (f->last_status, ==, 0x21);
  out (f, 0x501, 4, 0);
  g_assert_cmpint (f->last_status, ==, 1);
  out (f, 0x501, 2, 0xffff);
  g_assert_cmpint (f->last_status, ==, 0xff);
  out (f, 0x503, 2, 0x3);
  g_assert_cmpint (f->last_status, ==, 7);
  g_assert_cmpuint (f->exits, ==, 4);
  /* A dword at 0x503 would run past the port: the bus drops it. */
  out (f, 0x503, 4, 0x3);
  g_assert_cmpuint (f->exits, ==, 4);
}

static void
test_hostile (Fixture *f, gconstpointer data)
{
  static const uint16_t ports[] = { 0x80, 0x92, 0x501, 0x502, 0x503, 0x504, 0xcf9, 0xcf8 };
  GRand *rand = g_rand_new_with_seed (0x92);
  unsigned want_resets = 0, want_exits = 0;
  for (unsigned i = 0; i < 50000; i++)
    {
      uint16_t port = ports[g_rand_int_range (rand, 0, G_N_ELEMENTS (ports))];
      unsigned size = 1u << g_rand_int_range (rand, 0, 3);
      uint32_t v = g_rand_int (rand);
      bool fits = port == 0x80 || port == 0x92 || port == 0xcf9 ? size == 1
                  : port >= 0x501 && port + size <= 0x505;
      if (fits && (port == 0xcf9 ? (v & 4) : port == 0x92 ? (v & 1) : false))
        want_resets++;
      if (fits && port >= 0x501 && port <= 0x504)
        want_exits++;
      if (g_rand_boolean (rand))
        out (f, port, size, v);
      else
        {
          in (f, port, size);
          if (fits && ((port == 0xcf9 && (v & 4)) || (port == 0x92 && (v & 1))))
            want_resets--;
          if (fits && port >= 0x501 && port <= 0x504)
            want_exits--;
        }
      g_assert_cmpuint (f->resets, ==, want_resets);
      g_assert_cmpuint (f->exits, ==, want_exits);
      g_assert_cmphex (f->reset.cf9 & ~0x0a, ==, 0);
      g_assert_cmphex (f->reset.port_a & ~0x02, ==, 0);
      g_assert_cmpint (f->last_status & 1, ==, f->exits ? 1 : 0);
    }
  g_rand_free (rand);
}

static void
test_port_conflict (void)
{
  IoBus pio;
  PcReset r;
  static const IoOps dummy = { NULL, NULL };
  io_bus_init (&pio, "pio");
  g_assert_true (io_bus_register (&pio, 0x501, 1, &dummy, NULL, "taken"));
  g_assert_false (pc_reset_init (&r, &pio, NULL, true));
  g_assert_cmpuint (pio.count, ==, 1); /* rolled back */
  io_bus_destroy (&pio);
}

static void
test_save_load (Fixture *f, gconstpointer data)
{
  out (f, 0x92, 1, 0);
  out (f, 0xcf9, 1, 0x08);
  out (f, 0x80, 1, 0x55);
  SnapWriter *w = snap_writer_new ();
  pc_reset_save (&f->reset, w);
  GBytes *state = snap_writer_finish (w);

  Fixture g;
  setup (&g, GINT_TO_POINTER (1));
  SnapReader *r = snap_reader_new (state, NULL);
  GError *error = NULL;
  g_assert_true (pc_reset_load (&g.reset, r, &error));
  snap_reader_free (r);
  g_assert_cmphex (in (&g, 0x92, 1), ==, 0);
  g_assert_cmpuint (g.a20_changes, ==, 1); /* machine told A20 is off */
  g_assert_cmphex (in (&g, 0xcf9, 1), ==, 0x08);
  g_assert_cmphex (in (&g, 0x80, 1), ==, 0x55);

  GBytes *cut = test_truncate_stream (state, 1);
  r = snap_reader_new (cut, NULL);
  g_assert_false (pc_reset_load (&g.reset, r, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  snap_reader_free (r);
  g_bytes_unref (cut);

  gsize size;
  const uint8_t *src = g_bytes_get_data (state, &size);
  uint8_t *raw = g_memdup2 (src, size);
  raw[size - 3] = 0xff; /* cf9 with undefined bits */
  GBytes *bad = g_bytes_new_take (raw, size);
  r = snap_reader_new (bad, NULL);
  g_assert_false (pc_reset_load (&g.reset, r, &error));
  g_clear_error (&error);
  snap_reader_free (r);
  g_bytes_unref (bad);
  g_assert_cmphex (in (&g, 0xcf9, 1), ==, 0x08);

  g_bytes_unref (state);
  teardown (&g, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/pc-reset/cf9", Fixture, GINT_TO_POINTER (1), setup, test_cf9, teardown);
  g_test_add ("/pc-reset/cf9-via-ops", Fixture, GINT_TO_POINTER (0), setup, test_cf9_via_ops,
              teardown);
  g_test_add ("/pc-reset/port-a", Fixture, GINT_TO_POINTER (0), setup, test_port_a, teardown);
  g_test_add ("/pc-reset/post-and-exit", Fixture, GINT_TO_POINTER (0), setup,
              test_post_and_exit, teardown);
  g_test_add_func ("/pc-reset/port-conflict", test_port_conflict);
  g_test_add ("/pc-reset/hostile", Fixture, GINT_TO_POINTER (1), setup, test_hostile, teardown);
  g_test_add ("/pc-reset/save-load", Fixture, GINT_TO_POINTER (1), setup, test_save_load,
              teardown);
  return g_test_run ();
}
