/* Pixel formats and conversion shared by the consumers and screenshots. */
#include "display/display-surface.h"

#include <string.h>

static uint32_t
fourcc (char a, char b, char c, char d)
{
  return (uint32_t)a | (uint32_t)b << 8 | (uint32_t)c << 16 | (uint32_t)d << 24;
}

unsigned
display_format_bpp (DisplayFormat f)
{
  switch (f)
    {
    case DISPLAY_FORMAT_XRGB8888:
      return 4;
    case DISPLAY_FORMAT_RGB888:
      return 3;
    case DISPLAY_FORMAT_RGB565:
    case DISPLAY_FORMAT_XRGB1555:
      return 2;
    case DISPLAY_FORMAT_C8:
      return 1;
    case DISPLAY_FORMAT_NONE:
    default:
      return 0;
    }
}

uint32_t
display_format_fourcc (DisplayFormat f)
{
  switch (f)
    {
    case DISPLAY_FORMAT_XRGB8888:
      return fourcc ('X', 'R', '2', '4');
    case DISPLAY_FORMAT_RGB888:
      return fourcc ('R', 'G', '2', '4');
    case DISPLAY_FORMAT_RGB565:
      return fourcc ('R', 'G', '1', '6');
    case DISPLAY_FORMAT_XRGB1555:
      return fourcc ('X', 'R', '1', '5');
    case DISPLAY_FORMAT_C8:
      return fourcc ('C', '8', ' ', ' ');
    case DISPLAY_FORMAT_NONE:
    default:
      return 0;
    }
}

bool
display_surface_same_mode (const DisplaySurface *a, const DisplaySurface *b)
{
  return a->format == b->format && a->width == b->width && a->height == b->height
         && a->stride == b->stride && a->offset == b->offset && a->data == b->data;
}

static inline uint32_t
expand5 (uint32_t v)
{
  return (v << 3) | (v >> 2);
}

static inline uint32_t
expand6 (uint32_t v)
{
  return (v << 2) | (v >> 4);
}

static inline uint32_t
convert (DisplayFormat f, const uint8_t *p)
{
  uint32_t v;
  switch (f)
    {
    case DISPLAY_FORMAT_XRGB8888:
      return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    case DISPLAY_FORMAT_RGB888:
      return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    case DISPLAY_FORMAT_RGB565:
      v = (uint32_t)p[0] | (uint32_t)p[1] << 8;
      return expand5 (v >> 11) << 16 | expand6 ((v >> 5) & 0x3f) << 8 | expand5 (v & 0x1f);
    case DISPLAY_FORMAT_XRGB1555:
      v = (uint32_t)p[0] | (uint32_t)p[1] << 8;
      return expand5 ((v >> 10) & 0x1f) << 16 | expand5 ((v >> 5) & 0x1f) << 8 | expand5 (v & 0x1f);
    case DISPLAY_FORMAT_C8:
      return (uint32_t)p[0] * 0x010101u;
    case DISPLAY_FORMAT_NONE:
    default:
      return 0;
    }
}

uint32_t
display_surface_pixel (const DisplaySurface *s, uint32_t x, uint32_t y)
{
  if (!s->data || x >= s->width || y >= s->height)
    return 0;
  unsigned bpp = display_format_bpp (s->format);
  return convert (s->format, s->data + (size_t)y * s->stride + (size_t)x * bpp);
}

uint32_t
display_surface_row_xrgb (const DisplaySurface *s, uint32_t x, uint32_t y, uint32_t w,
                          uint32_t *out)
{
  if (!s->data || x >= s->width || y >= s->height)
    return 0;
  if (w > s->width - x)
    w = s->width - x;
  unsigned bpp = display_format_bpp (s->format);
  const uint8_t *p = s->data + (size_t)y * s->stride + (size_t)x * bpp;
  if (s->format == DISPLAY_FORMAT_XRGB8888)
    {
      memcpy (out, p, (size_t)w * 4);
      return w;
    }
  for (uint32_t i = 0; i < w; i++, p += bpp)
    out[i] = convert (s->format, p);
  return w;
}
