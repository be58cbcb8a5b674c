/* qcow2 driver: open (validate, load L1 and refcount table, open the
 * backing chain), close, flush, info, and the driver table. */
#include "qcow2.h"
#include "block-file.h"

#include <errno.h>
#include <unistd.h>

/* Backing chains open recursively; a loop or an absurd chain stops here. */
static __thread guint backing_depth;

gboolean
qcow2_write (Qcow2 *s, guint64 offset, const void *buf, gsize len, gboolean dependency,
             GError **error)
{
  if (!block_file_pwrite (s->fd, buf, len, offset, error))
    return FALSE;
  s->file_size = MAX (s->file_size, offset + len);
  s->unsynced = TRUE;
  if (dependency)
    s->deps_unsynced = TRUE;
  return TRUE;
}

gboolean
qcow2_barrier (Qcow2 *s, GError **error)
{
  if (!s->unsynced)
    return TRUE;
  if (!block_file_sync (s->fd, error))
    return FALSE;
  s->unsynced = s->deps_unsynced = FALSE;
  return TRUE;
}

gboolean
qcow2_signal_corruption (Qcow2 *s, GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (!s->base.read_only && s->hdr.version >= 3
      && !(s->hdr.incompatible_features & QCOW2_INCOMPAT_CORRUPT))
    {
      guint8 be[8];
      s->hdr.incompatible_features |= QCOW2_INCOMPAT_CORRUPT;
      qcow2_put_be64 (be, s->hdr.incompatible_features);
      if (block_file_pwrite (s->fd, be, 8, 72, NULL))
        block_file_sync (s->fd, NULL);
    }
  if (error && *error == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "qcow2: %s: %s (image marked corrupt)", s->base.filename, msg);
  return FALSE;
}

/* Before an L2 table reaches the file: the refcounts of what it points to,
 * and the data and tables written so far, must be durable. */
static gboolean
l2_before_writeback (Qcow2 *s, GError **error)
{
  if (!qcow2_refcount_flush (s, error))
    return FALSE;
  if (s->deps_unsynced)
    return qcow2_barrier (s, error);
  return TRUE;
}

/* The magic alone decides: a qcow2 file of a version we cannot read must
 * fail with a clear message, not be opened as a raw disk. */
static gboolean
qcow2_probe (const guint8 *buf, gsize len)
{
  guint32 magic;
  if (len < 4)
    return FALSE;
  memcpy (&magic, buf, 4);
  return GUINT32_FROM_BE (magic) == QCOW2_MAGIC;
}

static gboolean
load_table (int fd, guint64 offset, guint64 entries, guint64 **out, GError **error)
{
  guint64 *t = g_new (guint64, MAX (entries, 1));
  if (!block_file_pread (fd, t, entries * 8, offset, error))
    {
      g_free (t);
      return FALSE;
    }
  for (guint64 i = 0; i < entries; i++)
    t[i] = GUINT64_FROM_BE (t[i]);
  *out = t;
  return TRUE;
}

static gboolean
open_backing (Qcow2 *s, const char *path, GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *resolved = NULL;
  const char *fmt = s->hdr.backing_format;
  g_autoptr (GError) local = NULL;

  if (fmt && g_strcmp0 (fmt, "raw") != 0 && g_strcmp0 (fmt, "qcow2") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%s: backing file format '%s' is not supported", path, fmt);
      return FALSE;
    }
  if (backing_depth >= QCOW2_MAX_BACKING_DEPTH)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: backing chain deeper than %d images (a loop?)", path,
                   QCOW2_MAX_BACKING_DEPTH);
      return FALSE;
    }
  if (g_path_is_absolute (s->hdr.backing_file))
    resolved = g_strdup (s->hdr.backing_file);
  else
    {
      dir = g_path_get_dirname (path);
      resolved = g_build_filename (dir, s->hdr.backing_file, NULL);
    }
  backing_depth++;
  s->backing = block_open (resolved, fmt, BLOCK_OPEN_READ_ONLY, &local);
  backing_depth--;
  if (s->backing == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: backing file: %s", path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

static void qcow2_close (BlockDev *bs);

static BlockDev *
qcow2_open (const char *path, BlockOpenFlags flags, GError **error)
{
  gboolean ro = (flags & BLOCK_OPEN_READ_ONLY) != 0;
  guint8 fixed[QCOW2_V3_HEADER_LEN];
  g_autofree guint8 *first = NULL;
  guint64 file_size, cs, first_len;
  guint32 cluster_bits;
  Qcow2 *s;
  int fd = block_file_open (path, ro, error);

  if (fd < 0)
    return NULL;
  if (!block_file_size (fd, &file_size, error)
      || !block_file_pread (fd, fixed, sizeof fixed, 0, error))
    {
      close (fd);
      return NULL;
    }
  memcpy (&cluster_bits, fixed + 20, 4);
  cluster_bits = GUINT32_FROM_BE (cluster_bits);
  cs = 1ull << CLAMP (cluster_bits, QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
  first_len = MAX (MIN (cs, file_size), sizeof fixed);
  first = g_malloc (first_len);
  s = g_new0 (Qcow2, 1);
  s->fd = fd;
  s->base.read_only = ro;
  s->base.filename = (char *) path; /* for messages until block.c sets it */
  if (!block_file_pread (fd, first, first_len, 0, error)
      || !qcow2_header_parse (first, MIN (first_len, MAX (file_size, QCOW2_V2_HEADER_LEN)),
                              file_size, &s->hdr, error))
    goto fail_prefixed;
  if (!ro && !qcow2_header_check_writable (&s->hdr, error))
    goto fail_prefixed;

  s->cluster_bits = s->hdr.cluster_bits;
  s->cluster_size = 1ull << s->cluster_bits;
  s->l2_bits = s->cluster_bits - 3;
  s->refcount_order = s->hdr.refcount_order;
  s->rb_bits = s->cluster_bits + 3 - s->refcount_order;
  s->reftable_entries = ((guint64) s->hdr.refcount_table_clusters << s->cluster_bits) / 8;
  if (!load_table (fd, s->hdr.l1_table_offset, s->hdr.l1_size, &s->l1, error)
      || !load_table (fd, s->hdr.refcount_table_offset, s->reftable_entries, &s->reftable,
                      error))
    goto fail;
  qcow2_cache_init (&s->l2_cache, CLAMP ((4u << 20) >> s->cluster_bits, 4, 128),
                    s->cluster_size, l2_before_writeback, FALSE);
  qcow2_cache_init (&s->rb_cache, CLAMP ((1u << 20) >> s->cluster_bits, 2, 16),
                    s->cluster_size, NULL, TRUE);
  s->zcache = g_malloc (s->cluster_size);
  s->file_size = file_size;
  s->end_cluster = (file_size + s->cluster_size - 1) >> s->cluster_bits;
  s->free_hint = 1;
  s->base.size = s->hdr.size;

  if (s->hdr.backing_file && !open_backing (s, path, error))
    goto fail;
  if (!ro && s->hdr.version >= 3 && s->hdr.autoclear_features != 0)
    {
      /* Features we don't maintain (bitmaps) become stale once we write. */
      guint8 zero[8] = { 0 };
      if (!block_file_pwrite (fd, zero, 8, 88, error) || !block_file_sync (fd, error))
        goto fail;
      s->hdr.autoclear_features = 0;
    }
  s->base.filename = NULL;
  return &s->base;

fail_prefixed:
  g_prefix_error (error, "%s: ", path);
fail:
  s->base.filename = NULL;
  s->base.read_only = TRUE; /* nothing to flush */
  qcow2_close (&s->base);
  return NULL;
}

static gboolean
qcow2_flush (BlockDev *bs, GError **error)
{
  Qcow2 *s = (Qcow2 *) bs;
  return qcow2_cache_flush (s, &s->l2_cache, error) && qcow2_refcount_flush (s, error)
         && qcow2_barrier (s, error);
}

static void
qcow2_close (BlockDev *bs)
{
  Qcow2 *s = (Qcow2 *) bs;
  g_autoptr (GError) error = NULL;
  if (!bs->read_only && s->l2_cache.entries && !qcow2_flush (bs, &error))
    g_printerr ("qcow2: %s: flush on close failed: %s\n", bs->filename, error->message);
  qcow2_cache_destroy (&s->l2_cache);
  qcow2_cache_destroy (&s->rb_cache);
  block_close (s->backing);
  qcow2_header_clear (&s->hdr);
  g_free (s->l1);
  g_free (s->reftable);
  g_free (s->zcache);
  close (s->fd);
  g_free (s);
}

static gboolean
qcow2_pread (BlockDev *bs, guint64 offset, void *buf, gsize len, GError **error)
{
  return qcow2_read ((Qcow2 *) bs, offset, buf, len, error);
}

static gboolean
check_writable (Qcow2 *s, GError **error)
{
  if (s->hdr.incompatible_features & QCOW2_INCOMPAT_CORRUPT)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "qcow2: %s: image is marked corrupt", s->base.filename);
      return FALSE;
    }
  return TRUE;
}

static gboolean
qcow2_pwrite (BlockDev *bs, guint64 offset, const void *buf, gsize len, GError **error)
{
  Qcow2 *s = (Qcow2 *) bs;
  return check_writable (s, error) && qcow2_write_data (s, offset, buf, len, error);
}

static gboolean
qcow2_discard (BlockDev *bs, guint64 offset, guint64 len, GError **error)
{
  Qcow2 *s = (Qcow2 *) bs;
  return check_writable (s, error) && qcow2_zero_or_discard (s, offset, len, TRUE, TRUE, error);
}

static gboolean
qcow2_write_zeroes (BlockDev *bs, guint64 offset, guint64 len, gboolean may_unmap,
                    GError **error)
{
  Qcow2 *s = (Qcow2 *) bs;
  return check_writable (s, error)
         && qcow2_zero_or_discard (s, offset, len, FALSE, may_unmap, error);
}

static void
qcow2_get_info (BlockDev *bs, BlockInfo *info)
{
  Qcow2 *s = (Qcow2 *) bs;
  info->format = "qcow2";
  info->virtual_size = s->hdr.size;
  info->allocated_bytes = block_file_allocated (s->fd);
  info->cluster_size = (guint32) s->cluster_size;
  info->version = s->hdr.version;
  info->backing_file = g_strdup (s->hdr.backing_file);
  info->backing_format = g_strdup (s->hdr.backing_format);
}

const BlockDriver block_driver_qcow2 = {
  .format = "qcow2",
  .probe = qcow2_probe,
  .open = qcow2_open,
  .close = qcow2_close,
  .pread = qcow2_pread,
  .pwrite = qcow2_pwrite,
  .flush = qcow2_flush,
  .discard = qcow2_discard,
  .write_zeroes = qcow2_write_zeroes,
  .get_info = qcow2_get_info,
};
