/* Creating qcow2 v3 images: header cluster, refcount table, refcount
 * blocks and an empty L1 table, each cluster refcounted once. */
#include "qcow2.h"
#include "block-file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define DEFAULT_CLUSTER_SIZE (64u * 1024)
#define REFCOUNT_ORDER 4

static guint64
div_round_up (guint64 a, guint64 b)
{
  return (a + b - 1) / b;
}

/* Check the backing file opens; fill in size and format from it. */
static gboolean
inspect_backing (const char *path, const char *backing_file, const char *backing_format,
                 guint64 *size, char **format_out, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *resolved = g_path_is_absolute (backing_file)
                                  ? g_strdup (backing_file)
                                  : g_build_filename (dir, backing_file, NULL);
  BlockInfo info;
  BlockDev *b = block_open (resolved, backing_format, BLOCK_OPEN_READ_ONLY, error);
  if (b == NULL)
    {
      g_prefix_error (error, "backing file: ");
      return FALSE;
    }
  block_get_info (b, &info);
  if (*size == 0)
    *size = info.virtual_size;
  *format_out = g_strdup (info.format);
  block_info_clear (&info);
  block_close (b);
  return TRUE;
}

static gboolean
write_image (int fd, const Qcow2Header *h, guint64 rt_clusters, guint64 rb_clusters,
             guint64 total_clusters, GError **error)
{
  const guint64 cs = 1ull << h->cluster_bits;
  g_autofree guint8 *header = g_malloc0 (cs);
  g_autofree guint8 *reftable = g_malloc0 (rt_clusters * cs);
  g_autofree guint8 *blocks = g_malloc0 (rb_clusters * cs);

  if (!qcow2_header_build (h, header, cs, error))
    return FALSE;
  for (guint64 i = 0; i < rb_clusters; i++)
    qcow2_put_be64 (reftable + i * 8, (1 + rt_clusters + i) * cs);
  for (guint64 c = 0; c < total_clusters; c++)
    blocks[2 * c + 1] = 1; /* 16-bit big-endian refcount 1 */

  if (ftruncate (fd, (off_t) (total_clusters * cs)) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s", g_strerror (errno));
      return FALSE;
    }
  return block_file_pwrite (fd, reftable, rt_clusters * cs, cs, error)
         && block_file_pwrite (fd, blocks, rb_clusters * cs, (1 + rt_clusters) * cs, error)
         && block_file_pwrite (fd, header, cs, 0, error) && block_file_sync (fd, error);
}

gboolean
block_create_qcow2 (const char *path, guint64 size, guint32 cluster_size,
                    const char *backing_file, const char *backing_format, GError **error)
{
  Qcow2Header h = { 0 };
  g_autofree char *fmt = NULL;
  guint64 cs, l1_clusters, rt = 1, rb = 1, total, per_block;
  gboolean ok;
  int fd;

  cs = cluster_size ? cluster_size : DEFAULT_CLUSTER_SIZE;
  if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1)) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "qcow2: cluster size %" G_GUINT64_FORMAT
                   " must be a power of two from 512 bytes to 2 MiB", cs);
      return FALSE;
    }
  if (backing_file)
    {
      if (strlen (backing_file) == 0 || strlen (backing_file) > QCOW2_MAX_BACKING_NAME)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "qcow2: invalid backing file name");
          return FALSE;
        }
      if (!inspect_backing (path, backing_file, backing_format, &size, &fmt, error))
        return FALSE;
    }
  h.cluster_bits = (guint32) __builtin_ctzll (cs);
  h.size = size;
  if (size > (1ull << 61) || qcow2_l1_size_for (size, h.cluster_bits) > QCOW2_MAX_L1_BYTES / 8)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "qcow2: size %" G_GUINT64_FORMAT " too large for %" G_GUINT64_FORMAT
                   "-byte clusters", size, cs);
      return FALSE;
    }
  h.l1_size = (guint32) qcow2_l1_size_for (size, h.cluster_bits);
  l1_clusters = MAX (1, div_round_up ((guint64) h.l1_size * 8, cs));
  per_block = cs * 8 / 16;
  /* Header, refcount table, refcount blocks and L1, all counted by the
   * blocks: iterate until the sizes agree. */
  for (;;)
    {
      guint64 nrb, nrt;
      total = 1 + rt + rb + l1_clusters;
      nrb = div_round_up (total, per_block);
      nrt = div_round_up (nrb * 8, cs);
      if (nrb == rb && nrt == rt)
        break;
      rb = nrb;
      rt = nrt;
    }
  h.version = 3;
  h.refcount_order = REFCOUNT_ORDER;
  h.refcount_table_offset = cs;
  h.refcount_table_clusters = (guint32) rt;
  h.l1_table_offset = (1 + rt + rb) * cs;
  h.backing_file = (char *) backing_file;
  h.backing_format = backing_format ? (char *) backing_format : fmt;

  fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s: %s", path,
                   g_strerror (err));
      return FALSE;
    }
  ok = write_image (fd, &h, rt, rb, total, error);
  close (fd);
  if (!ok)
    {
      g_prefix_error (error, "%s: ", path);
      unlink (path);
    }
  return ok;
}
