/* Raw images: read/write at any alignment, discard, write-zeroes, flush,
 * range checks, and the probed-raw guard against a forged qcow2 header. */
#include "block-test-util.h"

static void
test_raw_rw (void)
{
  g_autofree char *dir = bt_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "disk.raw", NULL);
  GError *error = NULL;
  guint8 buf[10000], back[10000];
  BlockInfo info;
  BlockDev *bs;

  g_assert_true (block_create_raw (path, 1 << 20, &error));
  g_assert_no_error (error);
  g_assert_false (block_create_raw (path, 1 << 20, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);

  bs = block_open (path, "raw", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (block_size (bs), ==, 1 << 20);
  bt_fill (buf, sizeof buf, 0x5a, 0);
  g_assert_true (block_pwrite (bs, 4093, buf, sizeof buf, &error));
  g_assert_true (block_pread (bs, 4093, back, sizeof back, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (buf, sizeof buf, back, sizeof back);

  /* Out of range: refused, nothing written. */
  g_assert_false (block_pwrite (bs, (1 << 20) - 10, buf, 11, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (block_pread (bs, G_MAXUINT64 - 5, buf, 10, &error));
  g_clear_error (&error);

  /* write_zeroes and discard at odd offsets read back as zeroes. */
  g_assert_true (block_write_zeroes (bs, 5000, 3000, FALSE, &error));
  g_assert_true (block_pread (bs, 4093, back, sizeof back, &error));
  for (gsize i = 0; i < sizeof back; i++)
    {
      guint64 off = 4093 + i;
      g_assert_cmpuint (back[i], ==, off >= 5000 && off < 8000 ? 0 : buf[i]);
    }
  g_assert_true (block_discard (bs, 0, 1 << 20, &error));
  g_assert_true (block_flush (bs, &error));
  g_assert_no_error (error);
  block_get_info (bs, &info);
  g_assert_cmpstr (info.format, ==, "raw");
  g_assert_cmpuint (info.virtual_size, ==, 1 << 20);
  g_assert_null (info.backing_file);
  block_info_clear (&info);
  block_close (bs);

  /* Read-only: writes refused. */
  bs = block_open (path, NULL, BLOCK_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  g_assert_false (block_pwrite (bs, 0, buf, 1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_READ_ONLY);
  g_clear_error (&error);
  block_close (bs);
  bt_rm_rf (dir);
}

static void
test_raw_probe_guard (void)
{
  g_autofree char *dir = bt_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "disk.raw", NULL);
  const guint8 magic[8] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };
  GError *error = NULL;
  BlockDev *bs;

  g_assert_true (block_create_raw (path, 65536, &error));
  bs = block_open (path, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bs->drv->format, ==, "raw");
  g_assert_false (block_pwrite (bs, 0, magic, sizeof magic, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  /* Byte by byte is caught too. */
  g_assert_true (block_pwrite (bs, 0, magic, 3, &error));
  g_assert_false (block_pwrite (bs, 3, magic + 3, 1, &error));
  g_clear_error (&error);
  block_close (bs);

  /* With the format given explicitly the guest may write anything. */
  bs = block_open (path, "raw", 0, &error);
  g_assert_true (block_pwrite (bs, 0, magic, sizeof magic, &error));
  g_assert_no_error (error);
  block_close (bs);
  g_assert_cmpstr (block_probe_format (path, &error), ==, "qcow2");
  bt_rm_rf (dir);
}

static void
test_raw_stress (void)
{
  g_autofree char *dir = bt_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "disk.raw", NULL);
  const guint64 size = 4 << 20;
  g_autofree guint8 *model = g_malloc0 (size);
  GRand *r = g_rand_new_with_seed (7);
  GError *error = NULL;
  BlockDev *bs;

  g_assert_true (block_create_raw (path, size, &error));
  bs = block_open (path, "raw", 0, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 2000; i++)
    {
      BtOp op = bt_random_op (r, size, 65536, TRUE);
      bt_apply (bs, model, &op);
      if (op.kind == BT_DISCARD) /* raw punches exactly the range */
        memset (model + op.offset, 0, op.len);
    }
  bt_assert_matches (bs, model, size);
  block_close (bs);
  g_rand_free (r);
  bt_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/block/raw/read-write", test_raw_rw);
  g_test_add_func ("/block/raw/probe-guard", test_raw_probe_guard);
  g_test_add_func ("/block/raw/stress", test_raw_stress);
  return g_test_run ();
}
