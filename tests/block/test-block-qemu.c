/* qcow2 interoperability with QEMU's tools (integration; skips without
 * qemu-img): images we write pass `qemu-img check` and `qemu-img info`
 * agrees with what we set; images qemu-img/qemu-io write (cluster sizes
 * 4K/64K/2M, backing files, zlib-compressed clusters, v2) read back as
 * `qemu-img convert -O raw` says; a random workload matches a raw image
 * with the same writes under `qemu-img compare`; and a writer killed with
 * SIGKILL at random moments never leaves corruption behind. */
#include "block-test-util.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static gboolean
skip_without_qemu (void)
{
  char *io = g_find_program_in_path ("qemu-io");
  gboolean have = bt_have_qemu_img () && io != NULL;
  g_free (io);
  if (!have)
    g_test_skip ("qemu-img/qemu-io not installed (Debian package qemu-utils)");
  return !have;
}

static gint64
json_int (const char *json, const char *key)
{
  g_autofree char *pattern = g_strdup_printf ("\"%s\": *(-?[0-9]+)", key);
  g_autoptr (GRegex) re = g_regex_new (pattern, 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;
  g_autofree char *num = NULL;
  if (!g_regex_match (re, json, 0, &m))
    return -1;
  num = g_match_info_fetch (m, 1);
  return g_ascii_strtoll (num, NULL, 10);
}

static char *
json_str (const char *json, const char *key)
{
  g_autofree char *pattern = g_strdup_printf ("\"%s\": *\"([^\"]*)\"", key);
  g_autoptr (GRegex) re = g_regex_new (pattern, 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;
  if (!g_regex_match (re, json, 0, &m))
    return NULL;
  return g_match_info_fetch (m, 1);
}

/* qemu-img check: corruption-free. Leaks are allowed only if asked (a
 * killed writer may leak clusters: qemu-img reports those separately as
 * leaks, exit status 3, and they are harmless). Returns the leak count. */
static gint64
assert_qemu_check (const char *path, gboolean allow_leaks)
{
  const char *argv[] = { "qemu-img", "check", "--output=json", path, NULL };
  g_autofree char *out = NULL;
  int rc = bt_run (argv, &out);
  gint64 corruptions = json_int (out, "corruptions");
  gint64 leaks = json_int (out, "leaks");
  gint64 errors = json_int (out, "check-errors");
  if (rc != 0 && !(allow_leaks && rc == 3))
    g_error ("qemu-img check %s: exit %d\n%s", path, rc, out);
  g_assert_cmpint (corruptions, <=, 0);
  g_assert_cmpint (errors, ==, 0);
  g_assert_nonnull (strstr (out, "\"format\": \"qcow2\""));
  if (!allow_leaks)
    g_assert_cmpint (leaks, <=, 0);
  return MAX (leaks, 0);
}

static void
run_ok (const char *const *argv)
{
  g_assert_cmpint (bt_run (argv, NULL), ==, 0);
}

/* The bytes `qemu-img convert -O raw` makes of an image. */
static guint8 *
qemu_contents (const char *dir, const char *image, gsize *len)
{
  g_autofree char *raw = g_build_filename (dir, "qemu-view.raw", NULL);
  const char *argv[] = { "qemu-img", "convert", "-O", "raw", image, raw, NULL };
  GError *error = NULL;
  char *data = NULL;
  g_unlink (raw);
  run_ok (argv);
  g_assert_true (g_file_get_contents (raw, &data, len, &error));
  g_unlink (raw);
  return (guint8 *) data;
}

static void
assert_vireo_reads_like_qemu (const char *dir, const char *image)
{
  gsize len;
  g_autofree guint8 *expect = qemu_contents (dir, image, &len);
  GError *error = NULL;
  BlockDev *bs = block_open (image, NULL, BLOCK_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bs->drv->format, ==, "qcow2");
  g_assert_cmpuint (block_size (bs), ==, len);
  bt_assert_matches (bs, expect, len);
  block_close (bs);
}

static void
test_our_images_pass_check (void)
{
  g_autofree char *dir = NULL;
  const guint32 clusters[] = { 512, 4096, 65536, 2 << 20 };
  if (skip_without_qemu ())
    return;
  dir = bt_tmpdir ();
  for (gsize c = 0; c < G_N_ELEMENTS (clusters); c++)
    {
      g_autofree char *base = g_strdup_printf ("%s/base-%u.qcow2", dir, clusters[c]);
      g_autofree char *top = g_strdup_printf ("%s/top-%u.qcow2", dir, clusters[c]);
      const guint64 size = clusters[c] == 512 ? 24 << 20 : 64 << 20;
      g_autofree guint8 *model = g_malloc0 (size);
      const char *info_argv[] = { "qemu-img", "info", "--output=json", top, NULL };
      g_autofree char *info = NULL;
      g_autofree char *backing = NULL;
      g_autofree char *backing_fmt = NULL;
      GRand *r = g_rand_new_with_seed (clusters[c]);
      GError *error = NULL;
      BlockDev *bs;

      /* An empty image passes as created. */
      g_assert_true (block_create_qcow2 (base, size, clusters[c], NULL, NULL, &error));
      g_assert_no_error (error);
      assert_qemu_check (base, FALSE);

      bs = block_open (base, "qcow2", 0, &error);
      g_assert_no_error (error);
      if (clusters[c] == 512)
        {
          /* Past what the first refcount table covers: it must grow. */
          BtOp fill = { BT_WRITE, 1 << 20, 12 << 20, 0x7e, FALSE };
          bt_apply (bs, model, &fill);
        }
      for (int i = 0; i < 1500; i++)
        {
          BtOp op = bt_random_op (r, size, clusters[c], TRUE);
          bt_apply (bs, model, &op);
          if (op.kind == BT_DISCARD)
            bt_model_qcow2_discard (model, &op, clusters[c], size);
        }
      block_close (bs);
      assert_qemu_check (base, FALSE);
      assert_vireo_reads_like_qemu (dir, base);
      {
        gsize len;
        g_autofree guint8 *q = qemu_contents (dir, base, &len);
        g_assert_cmpmem (q, len, model, size);
      }

      /* An overlay: qemu-img info reports what we set. */
      g_assert_true (block_create_qcow2 (top, 0, clusters[c], base, NULL, &error));
      g_assert_no_error (error);
      bs = block_open (top, NULL, 0, &error);
      for (int i = 0; i < 500; i++)
        {
          BtOp op = bt_random_op (r, size, clusters[c], TRUE);
          if (op.kind == BT_DISCARD)
            op.kind = BT_ZEROES;
          bt_apply (bs, model, &op);
        }
      block_close (bs);
      assert_qemu_check (top, FALSE);
      g_assert_cmpint (bt_run (info_argv, &info), ==, 0);
      g_assert_cmpint (json_int (info, "virtual-size"), ==, (gint64) size);
      g_assert_cmpint (json_int (info, "cluster-size"), ==, clusters[c]);
      g_assert_nonnull (strstr (info, "\"format\": \"qcow2\""));
      g_assert_nonnull (strstr (info, "\"compat\": \"1.1\""));
      backing = json_str (info, "backing-filename");
      backing_fmt = json_str (info, "backing-filename-format");
      g_assert_cmpstr (backing, ==, base);
      g_assert_cmpstr (backing_fmt, ==, "qcow2");
      {
        gsize len;
        g_autofree guint8 *q = qemu_contents (dir, top, &len);
        g_assert_cmpmem (q, len, model, size);
      }
      g_rand_free (r);
      g_unlink (top);
      g_unlink (base);
    }
  bt_rm_rf (dir);
}

/* Same random writes into a qcow2 and a raw image: qemu-img compare. */
static void
test_compare_with_raw (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *q = NULL;
  g_autofree char *raw = NULL;
  const guint64 size = 48 << 20;
  GRand *r = g_rand_new_with_seed (99);
  GError *error = NULL;
  BlockDev *bq, *br;
  if (skip_without_qemu ())
    return;
  dir = bt_tmpdir ();
  q = g_build_filename (dir, "c.qcow2", NULL);
  raw = g_build_filename (dir, "c.raw", NULL);
  g_assert_true (block_create_qcow2 (q, size, 0, NULL, NULL, &error));
  g_assert_true (block_create_raw (raw, size, &error));
  bq = block_open (q, "qcow2", 0, &error);
  br = block_open (raw, "raw", 0, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 5000; i++)
    {
      BtOp op = bt_random_op (r, size, 65536, TRUE);
      if (op.kind == BT_DISCARD) /* contents after discard differ by design */
        op.kind = BT_ZEROES;
      bt_apply (bq, NULL, &op);
      bt_apply (br, NULL, &op);
    }
  block_close (bq);
  block_close (br);
  assert_qemu_check (q, FALSE);
  {
    const char *argv[] = { "qemu-img", "compare", "-f", "qcow2", "-F", "raw", q, raw, NULL };
    run_ok (argv);
  }
  g_rand_free (r);
  bt_rm_rf (dir);
}

/* Images qemu makes, read by us; then written by us and checked by qemu. */
static void
test_qemu_images_open (void)
{
  g_autofree char *dir = NULL;
  const char *clusters[] = { "4096", "65536", "2097152" };
  if (skip_without_qemu ())
    return;
  dir = bt_tmpdir ();
  for (gsize c = 0; c < G_N_ELEMENTS (clusters); c++)
    {
      g_autofree char *base = g_build_filename (dir, "qbase.qcow2", NULL);
      g_autofree char *over = g_build_filename (dir, "qover.qcow2", NULL);
      g_autofree char *src = g_build_filename (dir, "src.raw", NULL);
      g_autofree char *comp = g_build_filename (dir, "comp.qcow2", NULL);
      g_autofree char *opts = g_strdup_printf ("cluster_size=%s,compression_type=zlib",
                                               clusters[c]);
      const char *create_base[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-o", opts,
                                    base, "16M", NULL };
      const char *io_base[] = { "qemu-io", "-f", "qcow2",
                                "-c", "write -P 0xab 0 64k",
                                "-c", "write -P 0xcd 100000 3000",
                                "-c", "write -P 0xee 4M 2M",
                                "-c", "write -z 5M 128k",
                                "-c", "write -P 0x77 15M 1M",
                                "-c", "discard 15M 512k",
                                base, NULL };
      const char *create_over[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-o", opts,
                                    "-b", base, "-F", "qcow2", over, NULL };
      const char *io_over[] = { "qemu-io", "-f", "qcow2",
                                "-c", "write -P 0x11 32k 40k",
                                "-c", "write -z 4M 1M",
                                "-c", "write -P 0x22 16773000 1000",
                                over, NULL };
      const char *convert_c[] = { "qemu-img", "convert", "-c", "-O", "qcow2", "-o", opts,
                                  src, comp, NULL };
      GError *error = NULL;
      g_autofree guint8 *pattern = g_malloc (8 << 20);
      BlockDev *bs;

      run_ok (create_base);
      run_ok (io_base);
      assert_vireo_reads_like_qemu (dir, base);
      run_ok (create_over);
      run_ok (io_over);
      assert_vireo_reads_like_qemu (dir, over);

      /* Compressed clusters (zlib, raw deflate), compressible and not. */
      bt_fill (pattern, 4 << 20, 0x5c, 0);
      for (gsize i = 4 << 20; i < (6u << 20); i++)
        pattern[i] = (guint8) (i / 4096);
      memset (pattern + (6 << 20), 0, 2 << 20); /* left unallocated by convert */
      g_assert_true (g_file_set_contents (src, (char *) pattern, 8 << 20, &error));
      run_ok (convert_c);
      {
        const char *io_comp[] = { "qemu-io", "-f", "qcow2", "-c",
                                  g_strdup_printf ("write -c -P 0x3c 6M %s", clusters[c]),
                                  comp, NULL };
        run_ok (io_comp);
        g_free ((char *) io_comp[4]);
      }
      assert_vireo_reads_like_qemu (dir, comp);

      /* Our writes over compressed clusters (copy-on-write, old data
       * freed) and into qemu's overlay keep the images clean. */
      bs = block_open (comp, NULL, 0, &error);
      g_assert_no_error (error);
      g_assert_true (block_pwrite (bs, 100, pattern, 5000, &error));
      g_assert_true (block_discard (bs, 2 << 20, 2 << 20, &error));
      g_assert_true (block_write_zeroes (bs, 5 << 20, 100000, FALSE, &error));
      g_assert_no_error (error);
      block_close (bs);
      assert_qemu_check (comp, FALSE);
      assert_vireo_reads_like_qemu (dir, comp);

      bs = block_open (over, NULL, 0, &error);
      g_assert_no_error (error);
      g_assert_true (block_pwrite (bs, 60000, pattern, 70000, &error));
      g_assert_true (block_write_zeroes (bs, 0, 8 << 20, TRUE, &error));
      g_assert_true (block_pwrite (bs, 9 << 20, pattern, 1 << 20, &error));
      g_assert_no_error (error);
      block_close (bs);
      assert_qemu_check (over, FALSE);
      assert_vireo_reads_like_qemu (dir, over);

      g_unlink (over);
      g_unlink (base);
      g_unlink (comp);
      g_unlink (src);
    }

  /* Version 2 (compat=0.10): read, and written without zero flags. */
  {
    g_autofree char *v2 = g_build_filename (dir, "v2.qcow2", NULL);
    const char *create_v2[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=0.10",
                                v2, "8M", NULL };
    const char *io_v2[] = { "qemu-io", "-f", "qcow2", "-c", "write -P 0x42 1000 200k", v2,
                            NULL };
    GError *error = NULL;
    BlockInfo info;
    BlockDev *bs;
    run_ok (create_v2);
    run_ok (io_v2);
    assert_vireo_reads_like_qemu (dir, v2);
    bs = block_open (v2, NULL, 0, &error);
    g_assert_no_error (error);
    block_get_info (bs, &info);
    g_assert_cmpuint (info.version, ==, 2);
    block_info_clear (&info);
    g_assert_true (block_write_zeroes (bs, 0, 128 << 10, TRUE, &error));
    g_assert_true (block_pwrite (bs, 3 << 20, "hello", 5, &error));
    g_assert_no_error (error);
    block_close (bs);
    assert_qemu_check (v2, FALSE);
    assert_vireo_reads_like_qemu (dir, v2);
  }
  bt_rm_rf (dir);
}

/* The child: random writes, zeroes, discards and flushes until killed.
 * It tells the parent, through a pipe, each operation it starts and each
 * flush that completed (index | FLUSHED). */
#define FLUSHED (1ull << 63)

static void G_GNUC_NORETURN
crash_child (const char *path, guint32 seed, guint32 cluster, guint64 size, int report)
{
  GRand *r = g_rand_new_with_seed (seed);
  GError *error = NULL;
  BlockDev *bs = block_open (path, "qcow2", 0, &error);
  if (bs == NULL)
    {
      g_printerr ("crash child: %s\n", error->message);
      _exit (1);
    }
  for (guint64 i = 0;; i++)
    {
      BtOp op = bt_random_op (r, size, cluster, TRUE);
      guint8 *buf = g_malloc (op.len);
      gboolean ok;
      guint64 flushed = i | FLUSHED;
      bt_fill (buf, op.len, op.pattern, op.offset);
      if (write (report, &i, sizeof i) != sizeof i)
        _exit (1);
      switch (op.kind)
        {
        case BT_WRITE:
          ok = block_pwrite (bs, op.offset, buf, op.len, &error);
          break;
        case BT_ZEROES:
          ok = block_write_zeroes (bs, op.offset, op.len, op.unmap, &error);
          break;
        default:
          ok = block_discard (bs, op.offset, op.len, &error);
          break;
        }
      g_free (buf);
      if (ok && i % 16 == 15)
        {
          ok = block_flush (bs, &error);
          if (ok && write (report, &flushed, sizeof flushed) != sizeof flushed)
            _exit (1);
        }
      if (!ok)
        {
          g_printerr ("crash child: %s\n", error->message);
          _exit (1);
        }
    }
}

/* Replay the child's operations: those before its last completed flush
 * into the model, the rest (which may or may not have landed) into the
 * unknown mask. */
static void
replay (guint8 *model, guint8 *unknown, guint32 seed, guint32 cluster, guint64 size,
        gint64 last_started, gint64 last_flushed)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (gint64 i = 0; i <= last_started; i++)
    {
      BtOp op = bt_random_op (r, size, cluster, TRUE);
      if (i > last_flushed)
        {
          memset (unknown + op.offset, 1, op.len);
          continue;
        }
      if (op.kind == BT_WRITE)
        bt_fill (model + op.offset, op.len, op.pattern, op.offset);
      else if (op.kind == BT_ZEROES)
        memset (model + op.offset, 0, op.len);
      else
        bt_model_qcow2_discard (model, &op, cluster, size);
    }
  g_rand_free (r);
}

static void
test_sigkill_leaves_no_corruption (void)
{
  g_autofree char *dir = NULL;
  const guint32 clusters[] = { 65536, 512 };
  const int iterations = 20;
  GRand *r = g_rand_new_with_seed (2026);
  gint64 total_leaks = 0;
  if (skip_without_qemu ())
    return;
  dir = bt_tmpdir ();
  for (gsize c = 0; c < G_N_ELEMENTS (clusters); c++)
    {
      g_autofree char *path = g_strdup_printf ("%s/crash-%u.qcow2", dir, clusters[c]);
      const guint64 size = clusters[c] == 512 ? 32 << 20 : 64 << 20;
      g_autofree guint8 *model = g_malloc0 (size);
      g_autofree guint8 *unknown = g_malloc (size);
      g_autofree guint8 *disk = g_malloc (size);
      GError *error = NULL;
      g_assert_true (block_create_qcow2 (path, size, clusters[c], NULL, NULL, &error));
      g_assert_no_error (error);
      for (int it = 0; it < iterations / 2; it++)
        {
          guint32 seed = (guint32) (it * 7919 + c);
          gint64 last_started = -1, last_flushed = -1;
          guint64 msg;
          int status, pipefd[2];
          BlockDev *bs;
          pid_t pid;

          g_assert_cmpint (pipe (pipefd), ==, 0);
          pid = fork ();
          g_assert_cmpint (pid, >=, 0);
          if (pid == 0)
            {
              close (pipefd[0]);
              crash_child (path, seed, clusters[c], size, pipefd[1]);
            }
          close (pipefd[1]);
          g_usleep ((gulong) g_rand_int_range (r, 20000, 600000));
          g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
          g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
          /* It must have died from our signal, not given up on an error. */
          g_assert_true (WIFSIGNALED (status));
          while (read (pipefd[0], &msg, sizeof msg) == sizeof msg)
            {
              if (msg & FLUSHED)
                last_flushed = (gint64) (msg & ~FLUSHED);
              else
                last_started = (gint64) msg;
            }
          close (pipefd[0]);
          g_assert_cmpint (last_started, >, 0);

          total_leaks += assert_qemu_check (path, TRUE);

          /* Everything flushed before the kill reads back; bytes touched
           * after the last flush may hold either old or new data. */
          memset (unknown, 0, size);
          replay (model, unknown, seed, clusters[c], size, last_started, last_flushed);
          bs = block_open (path, "qcow2", BLOCK_OPEN_READ_ONLY, &error);
          g_assert_no_error (error);
          g_assert_true (block_pread (bs, 0, disk, size, &error));
          g_assert_no_error (error);
          block_close (bs);
          for (guint64 i = 0; i < size; i++)
            {
              if (!unknown[i] && disk[i] != model[i])
                g_error ("kill %d: flushed byte %" G_GUINT64_FORMAT " reads 0x%02x, "
                         "expected 0x%02x", it, i, disk[i], model[i]);
            }
          memcpy (model, disk, size); /* the next run starts from what is there */
          g_test_message ("kill %d: %" G_GINT64_FORMAT " ops started, flushed through %"
                          G_GINT64_FORMAT, it, last_started + 1, last_flushed);
        }
    }
  g_test_message ("%d kills, %" G_GINT64_FORMAT " leaked clusters in total (allowed)",
                  iterations, total_leaks);
  g_rand_free (r);
  bt_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/block/qemu/our-images-pass-check", test_our_images_pass_check);
  g_test_add_func ("/block/qemu/compare-with-raw", test_compare_with_raw);
  g_test_add_func ("/block/qemu/qemu-images-open", test_qemu_images_open);
  g_test_add_func ("/block/qemu/sigkill-no-corruption", test_sigkill_leaves_no_corruption);
  return g_test_run ();
}
