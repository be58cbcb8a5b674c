/* File-descriptor helpers for the image drivers. */
#include "block-file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>

static gboolean
set_errno_error (GError **error, int err, const char *what)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s: %s", what,
               g_strerror (err));
  return FALSE;
}

gboolean
block_file_pread (int fd, void *buf, gsize len, guint64 offset, GError **error)
{
  guint8 *p = buf;
  while (len > 0)
    {
      ssize_t n = pread (fd, p, len, (off_t) offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return set_errno_error (error, errno, "read from image");
      if (n == 0)
        {
          memset (p, 0, len);
          return TRUE;
        }
      p += n;
      len -= (gsize) n;
      offset += (guint64) n;
    }
  return TRUE;
}

gboolean
block_file_pwrite (int fd, const void *buf, gsize len, guint64 offset, GError **error)
{
  const guint8 *p = buf;
  while (len > 0)
    {
      ssize_t n = pwrite (fd, p, len, (off_t) offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return set_errno_error (error, errno, "write to image");
      if (n == 0)
        return set_errno_error (error, ENOSPC, "write to image");
      p += n;
      len -= (gsize) n;
      offset += (guint64) n;
    }
  return TRUE;
}

gboolean
block_file_sync (int fd, GError **error)
{
  while (fdatasync (fd) < 0)
    {
      if (errno != EINTR)
        return set_errno_error (error, errno, "flush image");
    }
  return TRUE;
}

gboolean
block_file_size (int fd, guint64 *size, GError **error)
{
  off_t end = lseek (fd, 0, SEEK_END);
  if (end < 0)
    return set_errno_error (error, errno, "size of image");
  *size = (guint64) end;
  return TRUE;
}

guint64
block_file_allocated (int fd)
{
  struct stat st;
  if (fstat (fd, &st) < 0)
    return 0;
  return (guint64) st.st_blocks * 512;
}

int
block_file_open (const char *path, gboolean read_only, GError **error)
{
  int fd = open (path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s: %s", path,
                   g_strerror (err));
    }
  return fd;
}

gboolean
block_file_punch (int fd, guint64 offset, guint64 len)
{
  return fallocate (fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) offset,
                    (off_t) len) == 0;
}
