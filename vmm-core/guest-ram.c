#include "vmm-core/guest-ram.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <gio/gio.h>

bool
guest_ram_init (GuestRam *ram, uint64_t size, GError **error)
{
  struct sysinfo si;

  memset (ram, 0, sizeof *ram);
  ram->fd = -1;

  if (size < (1u << 20) || (size & 0xfff))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "guest memory must be a multiple of 4 KiB and at least 1 MiB");
      return false;
    }
  if (sysinfo (&si) == 0)
    {
      uint64_t host = (uint64_t) si.totalram * si.mem_unit;
      if (size > host)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                       "guest memory %" G_GUINT64_FORMAT " MiB is more than the host's %"
                       G_GUINT64_FORMAT " MiB", size >> 20, host >> 20);
          return false;
        }
    }

  ram->fd = memfd_create ("vireo-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (ram->fd < 0 || ftruncate (ram->fd, (off_t) size) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot create guest memory: %s", g_strerror (e));
      if (ram->fd >= 0)
        close (ram->fd);
      ram->fd = -1;
      return false;
    }
  ram->host = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
                    ram->fd, 0);
  if (ram->host == MAP_FAILED)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot map guest memory: %s", g_strerror (e));
      close (ram->fd);
      ram->fd = -1;
      ram->host = NULL;
      return false;
    }
  ram->size = size;
  ram->low_size = MIN (size, GUEST_RAM_HOLE_START);
  ram->high_size = size - ram->low_size;
  return true;
}

void
guest_ram_destroy (GuestRam *ram)
{
  if (ram->host)
    munmap (ram->host, ram->size);
  if (ram->fd >= 0)
    close (ram->fd);
  memset (ram, 0, sizeof *ram);
  ram->fd = -1;
}

int64_t
guest_ram_offset (const GuestRam *ram, uint64_t gpa)
{
  if (gpa < ram->low_size)
    return (int64_t) gpa;
  if (gpa >= GUEST_RAM_HIGH_START && gpa - GUEST_RAM_HIGH_START < ram->high_size)
    return (int64_t) (ram->low_size + (gpa - GUEST_RAM_HIGH_START));
  return -1;
}

void *
guest_ram_ptr (const GuestRam *ram, uint64_t gpa, uint64_t len)
{
  if (len == 0 || gpa + len < gpa)
    return NULL;
  if (gpa < ram->low_size)
    return len <= ram->low_size - gpa ? ram->host + gpa : NULL;
  if (gpa >= GUEST_RAM_HIGH_START)
    {
      uint64_t off = gpa - GUEST_RAM_HIGH_START;
      if (off < ram->high_size && len <= ram->high_size - off)
        return ram->host + ram->low_size + off;
    }
  return NULL;
}

bool
guest_ram_read (const GuestRam *ram, uint64_t gpa, void *buf, uint64_t len)
{
  void *p = guest_ram_ptr (ram, gpa, len);
  if (!p)
    return false;
  memcpy (buf, p, len);
  return true;
}

bool
guest_ram_write (GuestRam *ram, uint64_t gpa, const void *buf, uint64_t len)
{
  void *p = guest_ram_ptr (ram, gpa, len);
  if (!p)
    return false;
  memcpy (p, buf, len);
  return true;
}

bool
guest_ram_parse_size (const char *text, uint64_t *size, GError **error)
{
  char *end = NULL;
  guint64 v;
  unsigned shift = 0;

  if (!text || !g_ascii_isdigit (*text))
    goto bad;
  errno = 0;
  v = g_ascii_strtoull (text, &end, 10);
  if (errno)
    goto bad;
  switch (g_ascii_toupper (*end))
    {
    case '\0': break;
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    default: goto bad;
    }
  if (g_ascii_toupper (*end) == 'I')
    end++;
  if (g_ascii_toupper (*end) == 'B')
    end++;
  if (*end || (shift && v > (G_MAXUINT64 >> shift)))
    goto bad;
  *size = v << shift;
  return true;

bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "invalid size '%s' (use e.g. 512M or 2G)", text ? text : "");
  return false;
}
