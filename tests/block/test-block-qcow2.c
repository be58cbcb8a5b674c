/* qcow2 back end, no external tools: create/open, reads and writes at any
 * alignment against an in-memory model (thousands of random operations,
 * several cluster sizes, refcount-table growth), zero clusters and discard,
 * backing chains, reopen, read-only. */
#include "block-test-util.h"

static BlockDev *
create_and_open (const char *path, guint64 size, guint32 cluster, const char *backing,
                 const char *backing_fmt)
{
  GError *error = NULL;
  BlockDev *bs;
  g_assert_true (block_create_qcow2 (path, size, cluster, backing, backing_fmt, &error));
  g_assert_no_error (error);
  bs = block_open (path, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bs->drv->format, ==, "qcow2");
  return bs;
}

static void
test_create_info (void)
{
  g_autofree char *dir = bt_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "a.qcow2", NULL);
  GError *error = NULL;
  guint8 buf[4096];
  BlockInfo info;
  BlockDev *bs = create_and_open (path, 3 * 1024 * 1024 * 1024ull + 512, 0, NULL, NULL);

  block_get_info (bs, &info);
  g_assert_cmpstr (info.format, ==, "qcow2");
  g_assert_cmpuint (info.virtual_size, ==, 3 * 1024 * 1024 * 1024ull + 512);
  g_assert_cmpuint (info.cluster_size, ==, 65536);
  g_assert_cmpuint (info.version, ==, 3);
  g_assert_null (info.backing_file);
  block_info_clear (&info);

  /* A fresh image reads as zeroes, also the partial last cluster. */
  memset (buf, 0xff, sizeof buf);
  g_assert_true (block_pread (bs, block_size (bs) - sizeof buf, buf, sizeof buf, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < sizeof buf; i++)
    g_assert_cmpuint (buf[i], ==, 0);
  block_close (bs);

  g_assert_false (block_create_qcow2 (path, 1 << 20, 0, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_false (block_create_qcow2 (path, 1 << 20, 3000, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  bt_rm_rf (dir);
}

/* Random operations against the model, reopen, compare again. */
static void
stress (guint32 cluster, guint64 size, int ops, guint32 seed)
{
  g_autofree char *dir = bt_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "s.qcow2", NULL);
  g_autofree guint8 *model = g_malloc0 (size);
  GRand *r = g_rand_new_with_seed (seed);
  GError *error = NULL;
  BlockDev *bs = create_and_open (path, size, cluster, NULL, NULL);

  if (cluster == 512)
    {
      /* 12 MiB of data: more than the first refcount table covers. */
      BtOp fill = { BT_WRITE, 1 << 20, 12 << 20, 0x7e, FALSE };
      bt_apply (bs, model, &fill);
    }
  for (int i = 0; i < ops; i++)
    {
      BtOp op = bt_random_op (r, size, cluster, TRUE);
      bt_apply (bs, model, &op);
      if (op.kind == BT_DISCARD)
        bt_model_qcow2_discard (model, &op, cluster, size);
      if (i % 500 == 0)
        g_assert_true (block_flush (bs, &error));
    }
  bt_assert_matches (bs, model, size);
  block_close (bs);

  bs = block_open (path, "qcow2", BLOCK_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  bt_assert_matches (bs, model, size);
  block_close (bs);
  if (cluster == 512)
    {
      /* The refcount table moved (it grew): header bytes 48..55. */
      g_autofree char *file = NULL;
      gsize len;
      guint64 reftable = 0;
      g_assert_true (g_file_get_contents (path, &file, &len, NULL));
      for (int i = 0; i < 8; i++)
        reftable = (reftable << 8) | (guint8) file[48 + i];
      g_assert_cmpuint (reftable, >, 512 * 8);
    }
  g_rand_free (r);
  bt_rm_rf (dir);
}

static void
test_stress_64k (void)
{
  stress (65536, 24 << 20, 3000, 1);
}

static void
test_stress_4k (void)
{
  stress (4096, 8 << 20, 3000, 2);
}

static void
test_stress_512_grows_reftable (void)
{
  /* 512-byte clusters: one refcount block covers 128 KiB, the initial
   * one-cluster table 8 MiB; 24 MiB of writes force the table to grow. */
  stress (512, 24 << 20, 2500, 3);
}

static void
test_zero_and_discard (void)
{
  g_autofree char *dir = bt_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "z.qcow2", NULL);
  const guint64 size = 4 << 20;
  g_autofree guint8 *buf = g_malloc (size);
  GError *error = NULL;
  BlockInfo info;
  guint64 before;
  BlockDev *bs = create_and_open (path, size, 65536, NULL, NULL);

  bt_fill (buf, size, 0x33, 0);
  g_assert_true (block_pwrite (bs, 0, buf, size, &error));
  g_assert_true (block_flush (bs, &error));
  block_get_info (bs, &info);
  before = info.allocated_bytes;
  block_info_clear (&info);

  /* Whole clusters, keeping the allocation; partial edges written. */
  g_assert_true (block_write_zeroes (bs, 1000, 200000, FALSE, &error));
  /* Whole clusters unmapped: space goes back to the host. */
  g_assert_true (block_write_zeroes (bs, 1 << 20, 1 << 20, TRUE, &error));
  g_assert_true (block_discard (bs, 3 << 20, 1 << 20, &error));
  g_assert_no_error (error);
  memset (buf + 1000, 0, 200000);
  memset (buf + (1 << 20), 0, 1 << 20);
  memset (buf + (3 << 20), 0, 1 << 20);
  bt_assert_matches (bs, buf, size);
  block_get_info (bs, &info);
  g_assert_cmpuint (info.allocated_bytes, <, before - (1 << 20));
  block_info_clear (&info);

  /* Writes into zeroed clusters (preallocated and not) work again. */
  bt_fill (buf + 70000, 70000, 0x44, 70000);
  g_assert_true (block_pwrite (bs, 70000, buf + 70000, 70000, &error));
  bt_fill (buf + (1 << 20) + 5, 100, 0x55, (1 << 20) + 5);
  g_assert_true (block_pwrite (bs, (1 << 20) + 5, buf + (1 << 20) + 5, 100, &error));
  g_assert_no_error (error);
  bt_assert_matches (bs, buf, size);
  block_close (bs);
  bs = block_open (path, NULL, BLOCK_OPEN_READ_ONLY, &error);
  bt_assert_matches (bs, buf, size);
  block_close (bs);
  bt_rm_rf (dir);
}

static void
test_backing_chain (void)
{
  g_autofree char *dir = bt_tmpdir ();
  g_autofree char *base = g_build_filename (dir, "base.raw", NULL);
  g_autofree char *mid = g_build_filename (dir, "mid.qcow2", NULL);
  g_autofree char *top = g_build_filename (dir, "top.qcow2", NULL);
  const guint64 size = 2 << 20;
  g_autofree guint8 *model = g_malloc (size);
  GError *error = NULL;
  BlockInfo info;
  BlockDev *bs;

  /* base: a pattern everywhere. */
  g_assert_true (block_create_raw (base, size, &error));
  bs = block_open (base, "raw", 0, &error);
  bt_fill (model, size, 0x11, 0);
  g_assert_true (block_pwrite (bs, 0, model, size, &error));
  block_close (bs);

  /* mid over base (relative name, size taken from the backing file). */
  bs = create_and_open (mid, 0, 4096, "base.raw", NULL);
  g_assert_cmpuint (block_size (bs), ==, size);
  bt_fill (model + 10000, 50000, 0x22, 10000);
  g_assert_true (block_pwrite (bs, 10000, model + 10000, 50000, &error));
  g_assert_true (block_discard (bs, 1 << 20, 8192, &error)); /* zero clusters over base */
  memset (model + (1 << 20), 0, 8192);
  block_close (bs);

  /* top over mid, and a partial write that copies up from the chain. */
  bs = create_and_open (top, 0, 65536, mid, "qcow2");
  block_get_info (bs, &info);
  g_assert_cmpstr (info.backing_file, ==, mid);
  g_assert_cmpstr (info.backing_format, ==, "qcow2");
  block_info_clear (&info);
  bt_fill (model + 30000, 10, 0x33, 30000);
  g_assert_true (block_pwrite (bs, 30000, model + 30000, 10, &error));
  g_assert_true (block_write_zeroes (bs, 65536 * 5, 65536, TRUE, &error));
  memset (model + 65536 * 5, 0, 65536);
  g_assert_no_error (error);
  bt_assert_matches (bs, model, size);
  block_close (bs);

  /* The lower layers are untouched by writes on top. */
  bs = block_open (base, "raw", BLOCK_OPEN_READ_ONLY, &error);
  g_assert_true (block_pread (bs, 30000, model, 10, &error));
  block_close (bs);
  {
    guint8 expect[10];
    bt_fill (expect, 10, 0x11, 30000);
    g_assert_cmpmem (model, 10, expect, 10);
  }

  /* A missing backing file is a clear error, not a crash. */
  g_unlink (base);
  g_assert_null (block_open (top, NULL, 0, &error));
  g_assert_nonnull (strstr (error->message, "backing file"));
  g_clear_error (&error);
  bt_rm_rf (dir);
}

static void
test_read_only_and_range (void)
{
  g_autofree char *dir = bt_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "r.qcow2", NULL);
  GError *error = NULL;
  guint8 buf[16] = { 1 };
  BlockDev *bs = create_and_open (path, 1 << 20, 0, NULL, NULL);
  g_assert_false (block_pwrite (bs, (1 << 20) - 8, buf, 16, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  block_close (bs);
  bs = block_open (path, "qcow2", BLOCK_OPEN_READ_ONLY, &error);
  g_assert_false (block_pwrite (bs, 0, buf, 16, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_READ_ONLY);
  g_clear_error (&error);
  block_close (bs);
  bt_rm_rf (dir);
}

typedef struct {
  BlockDev *bs;
  guint8 *model;
  guint64 base, span;
  guint32 seed;
} Worker;

/* One thread per half of the disk, as virtio-blk's I/O thread and the
 * snapshot code may call at once: each call is atomic under the lock. */
static gpointer
worker (gpointer data)
{
  Worker *w = data;
  GRand *r = g_rand_new_with_seed (w->seed);
  GError *error = NULL;
  for (int i = 0; i < 1500; i++)
    {
      BtOp op = bt_random_op (r, w->span, 4096, FALSE);
      op.offset += w->base;
      bt_apply (w->bs, w->model, &op);
      if (i % 100 == 0)
        g_assert_true (block_flush (w->bs, &error));
    }
  g_rand_free (r);
  return NULL;
}

static void
test_threads (void)
{
  g_autofree char *dir = bt_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "t.qcow2", NULL);
  const guint64 size = 16 << 20;
  g_autofree guint8 *model = g_malloc0 (size);
  BlockDev *bs = create_and_open (path, size, 4096, NULL, NULL);
  Worker w[2] = { { bs, model, 0, size / 2, 11 }, { bs, model, size / 2, size / 2, 12 } };
  GThread *t0 = g_thread_new ("blk0", worker, &w[0]);
  GThread *t1 = g_thread_new ("blk1", worker, &w[1]);
  g_thread_join (t0);
  g_thread_join (t1);
  bt_assert_matches (bs, model, size);
  block_close (bs);
  bt_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/block/qcow2/create-info", test_create_info);
  g_test_add_func ("/block/qcow2/stress-64k", test_stress_64k);
  g_test_add_func ("/block/qcow2/stress-4k", test_stress_4k);
  g_test_add_func ("/block/qcow2/stress-512-reftable-growth", test_stress_512_grows_reftable);
  g_test_add_func ("/block/qcow2/zero-discard", test_zero_and_discard);
  g_test_add_func ("/block/qcow2/backing-chain", test_backing_chain);
  g_test_add_func ("/block/qcow2/read-only-range", test_read_only_and_range);
  g_test_add_func ("/block/qcow2/threads", test_threads);
  return g_test_run ();
}
