/* Truncation check for initrds (see linux_check_initrd). */
#include "vmm-core/boot-linux.h"

#include <string.h>
#include <gio/gio.h>

static bool
hex8 (const uint8_t *p, uint32_t *out)
{
  uint32_t v = 0;
  for (int i = 0; i < 8; i++)
    {
      int d = g_ascii_xdigit_value (p[i]);
      if (d < 0)
        return false;
      v = v << 4 | (uint32_t) d;
    }
  *out = v;
  return true;
}

/* Walks one newc archive from *pos; false if it runs off the end. */
static bool
walk_cpio (const uint8_t *data, size_t len, size_t *pos)
{
  size_t p = *pos;
  for (;;)
    {
      uint32_t filesize, namesize;
      if (len - p < 110 || memcmp (data + p, "07070", 5) != 0
          || !hex8 (data + p + 54, &filesize) || !hex8 (data + p + 94, &namesize))
        return false;
      size_t name = p + 110;
      if (namesize > len - name)
        return false;
      bool trailer = namesize == 11 && memcmp (data + name, "TRAILER!!!", 10) == 0;
      size_t body = (name + namesize + 3) & ~(size_t) 3;
      if (body > len || filesize > len - body)
        return false;
      p = (body + filesize + 3) & ~(size_t) 3;
      if (trailer)
        {
          *pos = MIN (p, len);
          return true;
        }
      if (p >= len)
        return false;
    }
}

static bool
gzip_complete (const uint8_t *data, size_t len)
{
  g_autoptr (GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  uint8_t out[65536];
  size_t in = 0;
  for (;;)
    {
      gsize read = 0, written = 0;
      GConverterResult r = g_converter_convert (G_CONVERTER (z), data + in, len - in, out,
                                                sizeof out, G_CONVERTER_INPUT_AT_END, &read,
                                                &written, NULL);
      in += read;
      if (r == G_CONVERTER_FINISHED)
        return true;
      if (r == G_CONVERTER_ERROR || (read == 0 && written == 0))
        return false;
    }
}

bool
linux_check_initrd (const uint8_t *data, size_t len, GError **error)
{
  size_t pos = 0;
  while (pos < len)
    {
      if (data[pos] == 0)
        {
          pos++; /* padding between concatenated archives */
          continue;
        }
      if (len - pos >= 6 && memcmp (data + pos, "07070", 5) == 0)
        {
          if (!walk_cpio (data, len, &pos))
            goto truncated;
          continue;
        }
      if (len - pos >= 2 && data[pos] == 0x1f && data[pos + 1] == 0x8b)
        {
          if (!gzip_complete (data + pos, len - pos))
            goto truncated;
        }
      return true; /* gzip ends the check (members may follow); other formats unchecked */
    }
  if (len == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "initrd is empty");
      return false;
    }
  return true;

truncated:
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "initrd is truncated or corrupt (archive ends early)");
  return false;
}
