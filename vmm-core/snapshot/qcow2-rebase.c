/* Rebasing qcow2 images: see qcow2-rebase.h. Header fields are big-endian
 * (qcow2 spec: backing_file_offset at 8, backing_file_size at 16,
 * cluster_bits at 20, header_length at 100 in v3; header extensions follow
 * the header as type/length/data padded to 8 bytes, ended by type 0; the
 * backing file name lives in the first cluster after them). */
#include "vmm-core/snapshot/qcow2-rebase.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>

#include "vmm-core/block/block.h"

#define EXT_BACKING_FORMAT 0xE2792ACAu
#define MAX_BACKING_NAME 1023

static guint32
be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static void
put_be32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static void
put_be64 (guint8 *p, guint64 v)
{
  put_be32 (p, (guint32) (v >> 32));
  put_be32 (p + 4, (guint32) v);
}

static gboolean
header_error (GError **error, const char *path, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path, what);
  return FALSE;
}

gboolean
qcow2_set_backing (const char *path, const char *backing, const char *backing_format,
                   GError **error)
{
  guint8 head[512];
  g_autofree guint8 *old = NULL;
  g_autofree guint8 *neu = NULL;
  int fd = open (path, O_RDWR | O_CLOEXEC);
  gboolean ok = FALSE;

  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot open %s: %s", path,
                   g_strerror (e));
      return FALSE;
    }
  if (pread (fd, head, sizeof head, 0) != (ssize_t) sizeof head
      || memcmp (head, "QFI\xfb", 4) != 0)
    {
      header_error (error, path, "not a qcow2 image");
      goto out;
    }
  guint32 version = be32 (head + 4);
  guint32 cluster_bits = be32 (head + 20);
  guint32 header_len = version >= 3 ? be32 (head + 100) : 72;
  if (version < 2 || version > 3 || cluster_bits < 9 || cluster_bits > 21 || header_len < 72
      || header_len > 512 || header_len % 8)
    {
      header_error (error, path, "unsupported qcow2 header");
      goto out;
    }
  gsize cluster = (gsize) 1 << cluster_bits;
  old = g_malloc0 (cluster);
  neu = g_malloc0 (cluster);
  if (pread (fd, old, cluster, 0) != (ssize_t) cluster)
    {
      header_error (error, path, "qcow2 header cluster is truncated");
      goto out;
    }

  /* Copy the header, then every extension except the backing format. */
  memcpy (neu, old, header_len);
  gsize in = header_len, outp = header_len;
  for (;;)
    {
      if (in + 8 > cluster)
        {
          header_error (error, path, "qcow2 header extensions are corrupt");
          goto out;
        }
      guint32 type = be32 (old + in), len = be32 (old + in + 4);
      gsize padded = ((gsize) len + 7) & ~(gsize) 7;
      if (type == 0)
        break;
      if (len > cluster || in + 8 + padded > cluster)
        {
          header_error (error, path, "qcow2 header extensions are corrupt");
          goto out;
        }
      if (type != EXT_BACKING_FORMAT)
        {
          memcpy (neu + outp, old + in, 8 + padded);
          outp += 8 + padded;
        }
      in += 8 + padded;
    }
  gsize name_len = backing ? strlen (backing) : 0;
  gsize fmt_len = backing && backing_format ? strlen (backing_format) : 0;
  gsize need = outp + (fmt_len ? 8 + ((fmt_len + 7) & ~(gsize) 7) : 0) + 8 + name_len;
  if (name_len > MAX_BACKING_NAME || need > cluster)
    {
      header_error (error, path, "backing file name does not fit in the qcow2 header");
      goto out;
    }
  if (fmt_len)
    {
      put_be32 (neu + outp, EXT_BACKING_FORMAT);
      put_be32 (neu + outp + 4, (guint32) fmt_len);
      memcpy (neu + outp + 8, backing_format, fmt_len);
      outp += 8 + ((fmt_len + 7) & ~(gsize) 7);
    }
  outp += 8; /* end of extensions (zeroes) */
  put_be64 (neu + 8, name_len ? outp : 0);
  put_be32 (neu + 16, (guint32) name_len);
  if (name_len)
    memcpy (neu + outp, backing, name_len);
  outp += name_len;

  /* One write of the header cluster's used part (the rest of the old
   * cluster is cleared so stale names do not linger), then sync. */
  guint64 old_name_off = ((guint64) be32 (old + 8) << 32) | be32 (old + 12);
  guint32 old_name_len = be32 (old + 16);
  gsize end = MAX (outp, in + 8);
  if (old_name_off && old_name_off + old_name_len <= cluster)
    end = MAX (end, (gsize) (old_name_off + old_name_len));
  if (pwrite (fd, neu, end, 0) != (ssize_t) end || fdatasync (fd) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot rewrite the header of %s: %s", path, g_strerror (e));
      goto out;
    }
  ok = TRUE;
out:
  close (fd);
  return ok;
}

static gboolean
is_zero (const guint8 *p, gsize len)
{
  return len == 0 || (p[0] == 0 && memcmp (p, p + 1, len - 1) == 0);
}

gboolean
qcow2_rebase (const char *path, const char *new_backing, const char *new_backing_format,
              GError **error)
{
  BlockDev *img = block_open (path, "qcow2", 0, error);
  BlockDev *base = NULL;
  g_autofree guint8 *a = NULL;
  g_autofree guint8 *b = NULL;
  gboolean ok = FALSE;

  if (!img)
    return FALSE;
  if (new_backing)
    {
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *resolved = g_path_is_absolute (new_backing)
                                      ? g_strdup (new_backing)
                                      : g_build_filename (dir, new_backing, NULL);
      base = block_open (resolved, new_backing_format, BLOCK_OPEN_READ_ONLY, error);
      if (!base)
        goto out;
    }

  BlockInfo info = { 0 };
  block_get_info (img, &info);
  gsize step = info.cluster_size ? info.cluster_size : 65536;
  block_info_clear (&info);
  guint64 size = block_size (img);
  guint64 base_size = base ? block_size (base) : 0;
  a = g_malloc (step);
  b = g_malloc (step);

  for (guint64 off = 0; off < size; off += step)
    {
      gsize len = (gsize) MIN ((guint64) step, size - off);
      if (!block_pread (img, off, a, len, error))
        goto out;
      /* Past the end of a shorter backing file reads are zeroes. */
      memset (b, 0, len);
      if (base && off < base_size
          && !block_pread (base, off, b, (gsize) MIN ((guint64) len, base_size - off), error))
        goto out;
      if (memcmp (a, b, len) == 0)
        continue;
      if (is_zero (a, len) ? !block_write_zeroes (img, off, len, FALSE, error)
                           : !block_pwrite (img, off, a, len, error))
        goto out;
    }
  if (!block_flush (img, error))
    goto out;
  ok = TRUE;
out:
  if (base)
    block_close (base);
  block_close (img);
  return ok && qcow2_set_backing (path, new_backing, new_backing_format, error);
}
