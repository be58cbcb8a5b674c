#include "vmm-core/snapshot-stream.h"
#include <gio/gio.h>
#include <string.h>

static GBytes *
sample_stream (void)
{
  SnapWriter *w = snap_writer_new ();
  snap_section_begin (w, "uart.0", 1);
  snap_put_u8 (w, 0xab);
  snap_put_u16 (w, 0x1234);
  snap_put_u32 (w, 0xdeadbeef);
  snap_put_u64 (w, 0x0123456789abcdefull);
  snap_put_bytes (w, "fifo", 4);
  snap_section_end (w);
  snap_section_begin (w, "rtc", 3);
  snap_put_i64 (w, -5);
  snap_section_end (w);
  return snap_writer_finish (w);
}

static void
test_roundtrip (void)
{
  g_autoptr (GBytes) b = sample_stream ();
  g_autoptr (GError) error = NULL;
  SnapReader *r = snap_reader_new (b, &error);
  uint32_t version;
  char buf[4];

  g_assert_no_error (error);
  g_assert_true (snap_reader_has (r, "rtc"));
  g_assert_false (snap_reader_has (r, "pit"));
  g_assert_true (snap_reader_open (r, "rtc", 3, &version, &error));
  g_assert_cmpuint (version, ==, 3);
  g_assert_cmpint (snap_get_i64 (r), ==, -5);
  g_assert_cmpuint (snap_remaining (r), ==, 0);
  g_assert_true (snap_reader_check (r, NULL));

  g_assert_true (snap_reader_open (r, "uart.0", 1, NULL, &error));
  g_assert_cmphex (snap_get_u8 (r), ==, 0xab);
  g_assert_cmphex (snap_get_u16 (r), ==, 0x1234);
  g_assert_cmphex (snap_get_u32 (r), ==, 0xdeadbeef);
  g_assert_cmphex (snap_get_u64 (r), ==, 0x0123456789abcdefull);
  snap_get_bytes (r, buf, 4);
  g_assert_cmpmem (buf, 4, "fifo", 4);
  g_assert_true (snap_reader_check (r, NULL));
  snap_reader_free (r);
}

static void
test_overrun_and_versions (void)
{
  g_autoptr (GBytes) b = sample_stream ();
  g_autoptr (GError) error = NULL;
  SnapReader *r = snap_reader_new (b, NULL);

  /* A newer section version than the loader knows is refused. */
  g_assert_false (snap_reader_open (r, "rtc", 2, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_false (snap_reader_open (r, "missing", 9, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Reading past a section reads zeroes, never the next section. */
  g_assert_true (snap_reader_open (r, "rtc", 3, NULL, NULL));
  snap_get_u32 (r);
  g_assert_cmphex (snap_get_u64 (r), ==, 0);
  g_assert_false (snap_reader_check (r, &error));
  g_assert_nonnull (strstr (error->message, "rtc"));
  snap_reader_free (r);
}

static void
test_malformed (void)
{
  g_autoptr (GBytes) good = sample_stream ();
  gsize len;
  const uint8_t *data = g_bytes_get_data (good, &len);

  /* Every truncation but the section boundaries is rejected. */
  for (gsize cut = 1; cut < len; cut++)
    {
      g_autoptr (GBytes) b = g_bytes_new (data, cut);
      g_autoptr (GError) error = NULL;
      SnapReader *r = snap_reader_new (b, &error);
      if (r)
        {
          g_assert_no_error (error);
          snap_reader_free (r);
        }
      else
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }

  /* Random garbage never crashes the indexer. */
  GRand *rand = g_rand_new_with_seed (42);
  for (int i = 0; i < 2000; i++)
    {
      uint8_t junk[64];
      for (gsize j = 0; j < sizeof junk; j++)
        junk[j] = (uint8_t) g_rand_int (rand);
      if (i & 1)
        junk[0] = 4, junk[1] = junk[2] = junk[3] = 0;
      g_autoptr (GBytes) b = g_bytes_new (junk, 1 + g_rand_int_range (rand, 0, 64));
      SnapReader *r = snap_reader_new (b, NULL);
      snap_reader_free (r);
    }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/snapshot-stream/roundtrip", test_roundtrip);
  g_test_add_func ("/snapshot-stream/overrun-and-versions", test_overrun_and_versions);
  g_test_add_func ("/snapshot-stream/malformed", test_malformed);
  return g_test_run ();
}
