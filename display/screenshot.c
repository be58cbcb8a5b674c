/* PNG screenshots through libpng's simplified API. */
#include "display/screenshot.h"

#include <gio/gio.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <png.h>
#include <stdio.h>
#include <string.h>

guint8 *
display_screenshot_rgb (const DisplaySurface *s)
{
  if (s->format == DISPLAY_FORMAT_NONE || !s->data || s->width == 0 || s->height == 0)
    return NULL;
  guint8 *rgb = g_malloc ((size_t)s->width * s->height * 3);
  uint32_t *row = g_new (uint32_t, s->width);
  for (uint32_t y = 0; y < s->height; y++)
    {
      display_surface_row_xrgb (s, 0, y, s->width, row);
      guint8 *out = rgb + (size_t)y * s->width * 3;
      for (uint32_t x = 0; x < s->width; x++)
        {
          out[3 * x] = (guint8)(row[x] >> 16);
          out[3 * x + 1] = (guint8)(row[x] >> 8);
          out[3 * x + 2] = (guint8)row[x];
        }
    }
  g_free (row);
  return rgb;
}

static bool
prepare (const DisplaySurface *s, png_image *img, guint8 **rgb, GError **error)
{
  *rgb = display_screenshot_rgb (s);
  if (!*rgb)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED, "screenshot: the display is off");
      return false;
    }
  memset (img, 0, sizeof *img);
  img->version = PNG_IMAGE_VERSION;
  img->width = s->width;
  img->height = s->height;
  img->format = PNG_FORMAT_RGB;
  return true;
}

bool
display_screenshot_png_file (const DisplaySurface *s, const char *path, GError **error)
{
  png_image img;
  guint8 *rgb;
  if (!prepare (s, &img, &rgb, error))
    return false;
  /* Write to a temporary name and rename, so a failure leaves no half file. */
  g_autofree char *tmp = g_strdup_printf ("%s.tmp", path);
  bool ok = png_image_write_to_file (&img, tmp, 0, rgb, 0, NULL);
  g_free (rgb);
  if (!ok || rename (tmp, path) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "screenshot: cannot write %s: %s", path,
                   ok ? g_strerror (errno) : img.message);
      g_unlink (tmp);
      png_image_free (&img);
      return false;
    }
  return true;
}

GBytes *
display_screenshot_png_bytes (const DisplaySurface *s, GError **error)
{
  png_image img;
  guint8 *rgb;
  if (!prepare (s, &img, &rgb, error))
    return NULL;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory (&img, NULL, &size, 0, rgb, 0, NULL))
    goto fail;
  void *buf = g_malloc (size);
  if (!png_image_write_to_memory (&img, buf, &size, 0, rgb, 0, NULL))
    {
      g_free (buf);
      goto fail;
    }
  g_free (rgb);
  return g_bytes_new_take (buf, size);
fail:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "screenshot: %s", img.message);
  png_image_free (&img);
  g_free (rgb);
  return NULL;
}
