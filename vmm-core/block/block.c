/* Driver registry, format probing and the locked, range-checked entry
 * points every caller goes through. */
#include "block.h"
#include "block-file.h"

#include <string.h>
#include <unistd.h>

#define BLOCK_MAX_DRIVERS 8
#define PROBE_BYTES 512

static const BlockDriver *drivers[BLOCK_MAX_DRIVERS];
static guint n_drivers;
static GMutex registry_lock;

void
block_register_driver (const BlockDriver *drv)
{
  g_mutex_lock (&registry_lock);
  for (guint i = 0; i < n_drivers; i++)
    {
      if (drivers[i] == drv)
        {
          g_mutex_unlock (&registry_lock);
          return;
        }
    }
  g_assert (n_drivers < BLOCK_MAX_DRIVERS);
  drivers[n_drivers++] = drv;
  g_mutex_unlock (&registry_lock);
}

void
block_register_builtin_drivers (void)
{
  block_register_driver (&block_driver_raw);
  block_register_driver (&block_driver_qcow2);
}

const BlockDriver *
block_find_driver (const char *format)
{
  const BlockDriver *found = NULL;
  block_register_builtin_drivers ();
  g_mutex_lock (&registry_lock);
  for (guint i = 0; i < n_drivers && !found; i++)
    {
      if (g_strcmp0 (drivers[i]->format, format) == 0)
        found = drivers[i];
    }
  g_mutex_unlock (&registry_lock);
  return found;
}

const char *
block_probe_format (const char *path, GError **error)
{
  guint8 buf[PROBE_BYTES];
  const char *format = "raw";
  guint64 size;
  int fd = block_file_open (path, TRUE, error);
  if (fd < 0)
    return NULL;
  if (!block_file_size (fd, &size, error) || !block_file_pread (fd, buf, sizeof buf, 0, error))
    {
      close (fd);
      return NULL;
    }
  close (fd);

  block_register_builtin_drivers ();
  g_mutex_lock (&registry_lock);
  for (guint i = 0; i < n_drivers; i++)
    {
      /* raw is the fallback, never a positive match. */
      if (drivers[i]->probe && drivers[i]->probe (buf, MIN (size, sizeof buf)))
        {
          format = drivers[i]->format;
          break;
        }
    }
  g_mutex_unlock (&registry_lock);
  return format;
}

BlockDev *
block_open (const char *path, const char *format, BlockOpenFlags flags, GError **error)
{
  const BlockDriver *drv;
  BlockDev *bs;

  if (format == NULL)
    {
      format = block_probe_format (path, error);
      if (format == NULL)
        return NULL;
      flags |= BLOCK_OPEN_FORMAT_PROBED;
    }
  drv = block_find_driver (format);
  if (drv == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "%s: unknown disk image format '%s'", path, format);
      return NULL;
    }
  bs = drv->open (path, flags, error);
  if (bs == NULL)
    return NULL;
  bs->drv = drv;
  bs->filename = g_strdup (path);
  bs->read_only = (flags & BLOCK_OPEN_READ_ONLY) != 0;
  g_mutex_init (&bs->lock);
  return bs;
}

void
block_close (BlockDev *bs)
{
  char *filename;
  if (bs == NULL)
    return;
  filename = bs->filename;
  g_mutex_clear (&bs->lock);
  bs->drv->close (bs);
  g_free (filename);
}

guint64
block_size (BlockDev *bs)
{
  return bs->size;
}

gboolean
block_is_read_only (BlockDev *bs)
{
  return bs->read_only;
}

static gboolean
check_range (BlockDev *bs, guint64 offset, guint64 len, gboolean write, GError **error)
{
  if (offset > bs->size || len > bs->size - offset)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s: access at %" G_GUINT64_FORMAT "+%" G_GUINT64_FORMAT
                   " beyond the disk size %" G_GUINT64_FORMAT,
                   bs->filename, offset, len, bs->size);
      return FALSE;
    }
  if (write && bs->read_only)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_READ_ONLY, "%s: image is read-only",
                   bs->filename);
      return FALSE;
    }
  return TRUE;
}

gboolean
block_pread (BlockDev *bs, guint64 offset, void *buf, gsize len, GError **error)
{
  gboolean ok;
  if (!check_range (bs, offset, len, FALSE, error))
    return FALSE;
  if (len == 0)
    return TRUE;
  g_mutex_lock (&bs->lock);
  ok = bs->drv->pread (bs, offset, buf, len, error);
  g_mutex_unlock (&bs->lock);
  return ok;
}

gboolean
block_pwrite (BlockDev *bs, guint64 offset, const void *buf, gsize len, GError **error)
{
  gboolean ok;
  if (!check_range (bs, offset, len, TRUE, error))
    return FALSE;
  if (len == 0)
    return TRUE;
  g_mutex_lock (&bs->lock);
  ok = bs->drv->pwrite (bs, offset, buf, len, error);
  g_mutex_unlock (&bs->lock);
  return ok;
}

gboolean
block_flush (BlockDev *bs, GError **error)
{
  gboolean ok;
  if (bs->read_only)
    return TRUE;
  g_mutex_lock (&bs->lock);
  ok = bs->drv->flush (bs, error);
  g_mutex_unlock (&bs->lock);
  return ok;
}

gboolean
block_discard (BlockDev *bs, guint64 offset, guint64 len, GError **error)
{
  gboolean ok;
  if (!check_range (bs, offset, len, TRUE, error))
    return FALSE;
  if (len == 0)
    return TRUE;
  g_mutex_lock (&bs->lock);
  ok = bs->drv->discard (bs, offset, len, error);
  g_mutex_unlock (&bs->lock);
  return ok;
}

gboolean
block_write_zeroes (BlockDev *bs, guint64 offset, guint64 len, gboolean may_unmap,
                    GError **error)
{
  gboolean ok;
  if (!check_range (bs, offset, len, TRUE, error))
    return FALSE;
  if (len == 0)
    return TRUE;
  g_mutex_lock (&bs->lock);
  ok = bs->drv->write_zeroes (bs, offset, len, may_unmap, error);
  g_mutex_unlock (&bs->lock);
  return ok;
}

void
block_get_info (BlockDev *bs, BlockInfo *info)
{
  memset (info, 0, sizeof *info);
  g_mutex_lock (&bs->lock);
  bs->drv->get_info (bs, info);
  g_mutex_unlock (&bs->lock);
}

void
block_info_clear (BlockInfo *info)
{
  g_clear_pointer (&info->backing_file, g_free);
  g_clear_pointer (&info->backing_format, g_free);
}
