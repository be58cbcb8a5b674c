/* Raw images: the file is the disk, byte for byte. */
#include "block.h"
#include "block-file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

typedef struct RawDev {
  BlockDev base;
  int fd;
  gboolean probed;
} RawDev;

static const guint8 qcow2_magic[4] = { 'Q', 'F', 'I', 0xfb };

static BlockDev *
raw_open (const char *path, BlockOpenFlags flags, GError **error)
{
  RawDev *r;
  guint64 size;
  int fd = block_file_open (path, (flags & BLOCK_OPEN_READ_ONLY) != 0, error);
  if (fd < 0)
    return NULL;
  if (!block_file_size (fd, &size, error))
    {
      close (fd);
      return NULL;
    }
  r = g_new0 (RawDev, 1);
  r->fd = fd;
  r->probed = (flags & BLOCK_OPEN_FORMAT_PROBED) != 0;
  r->base.size = size;
  return &r->base;
}

static void
raw_close (BlockDev *bs)
{
  RawDev *r = (RawDev *) bs;
  close (r->fd);
  g_free (r);
}

static gboolean
raw_pread (BlockDev *bs, guint64 offset, void *buf, gsize len, GError **error)
{
  return block_file_pread (((RawDev *) bs)->fd, buf, len, offset, error);
}

/* A raw image whose format was guessed must not be made to look like a
 * qcow2 image: the next probe would open it as one, and its header could
 * point anywhere on the host (a backing file of /etc/shadow). */
static gboolean
raw_write_would_forge_magic (RawDev *r, guint64 offset, const void *buf, gsize len)
{
  guint8 head[4];
  if (!r->probed || offset >= sizeof head)
    return FALSE;
  if (!block_file_pread (r->fd, head, sizeof head, 0, NULL))
    return TRUE;
  memcpy (head + offset, buf, MIN (len, sizeof head - offset));
  return memcmp (head, qcow2_magic, sizeof head) == 0;
}

static gboolean
raw_pwrite (BlockDev *bs, guint64 offset, const void *buf, gsize len, GError **error)
{
  RawDev *r = (RawDev *) bs;
  if (raw_write_would_forge_magic (r, offset, buf, len))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   "%s: refusing to write a qcow2 signature into a raw image opened "
                   "without an explicit format", bs->filename);
      return FALSE;
    }
  return block_file_pwrite (r->fd, buf, len, offset, error);
}

static gboolean
raw_flush (BlockDev *bs, GError **error)
{
  return block_file_sync (((RawDev *) bs)->fd, error);
}

static gboolean
raw_write_zero_bytes (RawDev *r, guint64 offset, guint64 len, GError **error)
{
  const gsize chunk = 1 << 20;
  g_autofree guint8 *zeroes = g_malloc0 (MIN (len, chunk));
  while (len > 0)
    {
      gsize n = MIN (len, chunk);
      if (!block_file_pwrite (r->fd, zeroes, n, offset, error))
        return FALSE;
      offset += n;
      len -= n;
    }
  return TRUE;
}

static gboolean
raw_discard (BlockDev *bs, guint64 offset, guint64 len, GError **error)
{
  /* Discard is advisory: a file system without hole punching keeps data. */
  block_file_punch (((RawDev *) bs)->fd, offset, len);
  return TRUE;
}

static gboolean
raw_write_zeroes (BlockDev *bs, guint64 offset, guint64 len, gboolean may_unmap,
                  GError **error)
{
  RawDev *r = (RawDev *) bs;
  if (may_unmap && block_file_punch (r->fd, offset, len))
    return TRUE;
  if (fallocate (r->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t) offset,
                 (off_t) len) == 0)
    return TRUE;
  return raw_write_zero_bytes (r, offset, len, error);
}

static void
raw_get_info (BlockDev *bs, BlockInfo *info)
{
  info->format = "raw";
  info->virtual_size = bs->size;
  info->allocated_bytes = block_file_allocated (((RawDev *) bs)->fd);
}

gboolean
block_create_raw (const char *path, guint64 size, GError **error)
{
  int fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s: %s", path,
                   g_strerror (err));
      return FALSE;
    }
  if (size > G_MAXINT64 || ftruncate (fd, (off_t) size) < 0)
    {
      int err = size > G_MAXINT64 ? EFBIG : errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s: %s", path,
                   g_strerror (err));
      close (fd);
      unlink (path);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

const BlockDriver block_driver_raw = {
  .format = "raw",
  .probe = NULL,
  .open = raw_open,
  .close = raw_close,
  .pread = raw_pread,
  .pwrite = raw_pwrite,
  .flush = raw_flush,
  .discard = raw_discard,
  .write_zeroes = raw_write_zeroes,
  .get_info = raw_get_info,
};
