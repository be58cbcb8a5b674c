/* Hostile and damaged qcow2 images: every bad header field, table and
 * entry gives a clear error (or reads that fail cleanly), never a crash,
 * never a huge allocation. */
#include "block-test-util.h"

#include <fcntl.h>
#include <unistd.h>

typedef struct {
  char *dir;
  char *path;
  guint64 l1_offset;
  guint64 l2_offset;
} Fixture;

static void
put_be (const char *path, guint64 offset, guint64 value, int bytes)
{
  guint8 b[8];
  int fd = open (path, O_WRONLY);
  g_assert_cmpint (fd, >=, 0);
  for (int i = 0; i < bytes; i++)
    b[i] = (guint8) (value >> (8 * (bytes - 1 - i)));
  g_assert_cmpint (pwrite (fd, b, bytes, (off_t) offset), ==, bytes);
  close (fd);
}

static guint64
get_be64 (const char *path, guint64 offset)
{
  guint8 b[8];
  guint64 v = 0;
  int fd = open (path, O_RDONLY);
  g_assert_cmpint (pread (fd, b, 8, (off_t) offset), ==, 8);
  close (fd);
  for (int i = 0; i < 8; i++)
    v = (v << 8) | b[i];
  return v;
}

/* A valid 1 GiB image with one written cluster at guest offset 0. */
static void
fixture_setup (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  guint8 buf[512];
  BlockDev *bs;
  f->dir = bt_tmpdir ();
  f->path = g_build_filename (f->dir, "h.qcow2", NULL);
  g_assert_true (block_create_qcow2 (f->path, 1ull << 30, 0, NULL, NULL, &error));
  bs = block_open (f->path, "qcow2", 0, &error);
  g_assert_no_error (error);
  memset (buf, 0x61, sizeof buf);
  g_assert_true (block_pwrite (bs, 0, buf, sizeof buf, &error));
  block_close (bs);
  f->l1_offset = get_be64 (f->path, 40);
  f->l2_offset = get_be64 (f->path, f->l1_offset) & 0x00fffffffffffe00ull;
  g_assert_cmpuint (f->l2_offset, !=, 0);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  bt_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

/* Opening fails with a message naming the problem. */
static void
assert_open_fails (const char *path, BlockOpenFlags flags, const char *expect)
{
  GError *error = NULL;
  BlockDev *bs = block_open (path, "qcow2", flags, &error);
  g_assert_null (bs);
  g_assert_nonnull (error);
  if (strstr (error->message, expect) == NULL)
    g_error ("message '%s' lacks '%s'", error->message, expect);
  g_assert_nonnull (strstr (error->message, path));
  g_error_free (error);
}

typedef struct {
  const char *name;
  guint64 offset;
  guint64 value;
  int bytes;
  const char *expect;
} HeaderCase;

static const HeaderCase header_cases[] = {
  { "bad-magic", 0, 0x514649fc, 4, "bad magic" },
  { "version-1", 4, 1, 4, "unsupported version 1" },
  { "version-4", 4, 4, 4, "unsupported version 4" },
  { "cluster-bits-8", 20, 8, 4, "cluster size 2^8" },
  { "cluster-bits-22", 20, 22, 4, "cluster size 2^22" },
  { "cluster-bits-huge", 20, 0xffffffff, 4, "cluster size" },
  { "refcount-order-7", 96, 7, 4, "refcount order 7" },
  { "huge-l1-size", 36, 0x7fffffff, 4, "L1 table size" },
  { "l1-smaller-than-disk", 36, 1, 4, "L1 table size" },
  { "l1-beyond-file", 40, 1ull << 40, 8, "L1 table" },
  { "l1-unaligned", 40, 0x30200, 8, "L1 table" },
  { "l1-overlaps-reftable", 40, 0x10000, 8, "overlap" },
  { "reftable-beyond-file", 48, 1ull << 44, 8, "refcount table" },
  { "reftable-huge", 56, 0x1000000, 4, "refcount table" },
  { "reftable-zero-clusters", 56, 0, 4, "refcount table" },
  { "huge-size", 24, 1ull << 62, 8, "too large" },
  { "header-length-odd", 100, 105, 4, "header length" },
  { "header-length-huge", 100, 0x100000, 4, "header length" },
  { "encrypted", 32, 1, 4, "encrypted" },
  { "extended-l2", 72, 1ull << 4, 8, "extended L2 entries" },
  { "external-data-file", 72, 1ull << 2, 8, "external data file" },
  { "zstd", 72, 1ull << 3, 8, "compression type" },
  { "unknown-incompat", 72, 1ull << 40, 8, "feature bit 40" },
  { "backing-name-outside", 8, 0xfff0, 8, "backing file name" },
  { "backing-name-too-long", 16, 5000, 4, "backing file name" },
};

static void
test_header_case (Fixture *f, gconstpointer data)
{
  const HeaderCase *c = data;
  /* The backing name cases need a backing offset and size both set. */
  if (g_str_has_prefix (c->name, "backing"))
    {
      put_be (f->path, 8, 0x200, 8);
      put_be (f->path, 16, 4, 4);
    }
  put_be (f->path, c->offset, c->value, c->bytes);
  assert_open_fails (f->path, BLOCK_OPEN_READ_ONLY, c->expect);
  assert_open_fails (f->path, 0, c->expect);
  /* Probing goes by the magic alone: a damaged qcow2 image (an unknown
   * version too) is refused, never silently opened as a raw disk. */
  if (c->offset != 0)
    {
      GError *error = NULL;
      g_assert_null (block_open (f->path, NULL, BLOCK_OPEN_READ_ONLY, &error));
      g_assert_nonnull (strstr (error->message, c->expect));
      g_error_free (error);
    }
}

static void
test_truncated (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (truncate (f->path, 50), ==, 0);
  assert_open_fails (f->path, BLOCK_OPEN_READ_ONLY, "truncated");
  g_assert_cmpint (truncate (f->path, 100), ==, 0);
  assert_open_fails (f->path, BLOCK_OPEN_READ_ONLY, "truncated");
  g_assert_cmpint (truncate (f->path, 0), ==, 0);
  /* An empty file probes as raw; asked for qcow2 it is refused. */
  assert_open_fails (f->path, BLOCK_OPEN_READ_ONLY, "bad magic");
}

static void
test_dirty_and_corrupt_bits (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  BlockDev *bs;
  put_be (f->path, 72, 1, 8); /* dirty */
  assert_open_fails (f->path, 0, "dirty");
  bs = block_open (f->path, "qcow2", BLOCK_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  block_close (bs);
  put_be (f->path, 72, 2, 8); /* corrupt */
  assert_open_fails (f->path, 0, "corrupt");
  bs = block_open (f->path, "qcow2", BLOCK_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  block_close (bs);
  put_be (f->path, 72, 0, 8);
  put_be (f->path, 60, 1, 4); /* one internal snapshot */
  put_be (f->path, 64, 0x10000 * 40, 8);
  assert_open_fails (f->path, 0, "internal snapshots");
}

/* Damaged tables: reads fail cleanly, writes mark the image corrupt. */
static void
test_bad_entries (Fixture *f, gconstpointer data)
{
  GError *error = NULL;
  guint8 buf[4096];
  BlockDev *bs;

  /* L2 entry with reserved bits. */
  put_be (f->path, f->l2_offset, (1ull << 63) | 0x50000 | 0x2, 8);
  bs = block_open (f->path, "qcow2", 0, &error);
  g_assert_no_error (error);
  g_assert_false (block_pread (bs, 0, buf, sizeof buf, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  block_close (bs);
  /* The image is now marked corrupt: qemu-img and we refuse to write. */
  assert_open_fails (f->path, 0, "corrupt");
  put_be (f->path, 72, 0, 8);

  /* L2 entry far beyond the end of the file: reads as zeroes, no crash. */
  put_be (f->path, f->l2_offset, (1ull << 63) | (1ull << 50), 8);
  bs = block_open (f->path, "qcow2", BLOCK_OPEN_READ_ONLY, &error);
  g_assert_true (block_pread (bs, 0, buf, sizeof buf, &error));
  g_assert_no_error (error);
  block_close (bs);

  /* A compressed entry over garbage: a clean read error. */
  put_be (f->path, f->l2_offset, (1ull << 62) | (0x3full << 54) | 0x1234, 8);
  bs = block_open (f->path, "qcow2", BLOCK_OPEN_READ_ONLY, &error);
  g_assert_false (block_pread (bs, 0, buf, sizeof buf, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  block_close (bs);

  /* L1 entry with reserved bits, or unaligned: refused on read. */
  put_be (f->path, f->l1_offset, (1ull << 63) | f->l2_offset | 0x100, 8);
  bs = block_open (f->path, "qcow2", BLOCK_OPEN_READ_ONLY, &error);
  g_assert_false (block_pread (bs, 0, buf, sizeof buf, &error));
  g_clear_error (&error);
  block_close (bs);
  put_be (f->path, f->l1_offset, (1ull << 63) | (f->l2_offset + 512), 8);
  bs = block_open (f->path, "qcow2", BLOCK_OPEN_READ_ONLY, &error);
  g_assert_false (block_pread (bs, 0, buf, sizeof buf, &error));
  g_clear_error (&error);
  block_close (bs);

  /* A data cluster pointing at the L1 table: the write is refused. */
  put_be (f->path, f->l1_offset, (1ull << 63) | f->l2_offset, 8);
  put_be (f->path, f->l2_offset, (1ull << 63) | f->l1_offset, 8);
  bs = block_open (f->path, "qcow2", 0, &error);
  g_assert_no_error (error);
  memset (buf, 0xee, sizeof buf);
  g_assert_false (block_pwrite (bs, 0, buf, sizeof buf, &error));
  g_assert_nonnull (strstr (error->message, "overlaps metadata"));
  g_clear_error (&error);
  block_close (bs);
  g_assert_cmpuint (get_be64 (f->path, f->l1_offset) & 0x00fffffffffffe00ull, ==,
                    f->l2_offset);
  put_be (f->path, 72, 0, 8); /* clear the corrupt bit it set */

  /* A refcount table entry pointing nowhere: writes fail, no crash. */
  put_be (f->path, f->l1_offset, 0, 8);
  put_be (f->path, 0x10000, 0x123, 8);
  bs = block_open (f->path, "qcow2", 0, &error);
  g_assert_no_error (error);
  g_assert_false (block_pwrite (bs, 0, buf, sizeof buf, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  block_close (bs);
}

static void
test_backing_loop (Fixture *f, gconstpointer data)
{
  g_autofree char *t = g_build_filename (f->dir, "t.qcow2", NULL);
  g_autofree char *a = g_build_filename (f->dir, "a.qcow2", NULL);
  g_autofree char *b = g_build_filename (f->dir, "b.qcow2", NULL);
  GError *error = NULL;
  guint64 name_off;
  int fd;
  /* t <- a <- b, then a's backing name "t.qcow2" becomes "b.qcow2":
   * a -> b -> a -> ... must stop with an error, not recurse forever. */
  g_assert_true (block_create_qcow2 (t, 1 << 20, 0, NULL, NULL, &error));
  g_assert_true (block_create_qcow2 (a, 0, 0, "t.qcow2", "qcow2", &error));
  g_assert_true (block_create_qcow2 (b, 0, 0, "a.qcow2", "qcow2", &error));
  g_assert_no_error (error);
  name_off = get_be64 (a, 8);
  fd = open (a, O_WRONLY);
  g_assert_cmpint (pwrite (fd, "b", 1, (off_t) name_off), ==, 1);
  close (fd);
  assert_open_fails (a, BLOCK_OPEN_READ_ONLY, "backing chain deeper");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (header_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/block/hostile/header/%s",
                                               header_cases[i].name);
      g_test_add (name, Fixture, &header_cases[i], fixture_setup, test_header_case,
                  fixture_teardown);
    }
  g_test_add ("/block/hostile/truncated", Fixture, NULL, fixture_setup, test_truncated,
              fixture_teardown);
  g_test_add ("/block/hostile/dirty-corrupt-snapshots", Fixture, NULL, fixture_setup,
              test_dirty_and_corrupt_bits, fixture_teardown);
  g_test_add ("/block/hostile/bad-entries", Fixture, NULL, fixture_setup, test_bad_entries,
              fixture_teardown);
  g_test_add ("/block/hostile/backing-loop", Fixture, NULL, fixture_setup, test_backing_loop,
              fixture_teardown);
  return g_test_run ();
}
