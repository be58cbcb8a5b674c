/* The guest's visible screen as every consumer sees it: pixels in a memfd
 * (the display device's VRAM) at an offset, with a format, size and stride.
 *
 * A surface description is a value: the device produces a new one on every
 * mode change (generation counts them) and consumers re-read the geometry
 * when it changes. The pixels themselves change under the consumers' feet
 * (the guest writes VRAM at any time); damage rectangles say where. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum
{
  DISPLAY_FORMAT_NONE = 0, /* display off: nothing to show */
  DISPLAY_FORMAT_XRGB8888, /* 32 bpp, little-endian B G R X */
  DISPLAY_FORMAT_RGB888,   /* 24 bpp, B G R */
  DISPLAY_FORMAT_RGB565,   /* 16 bpp */
  DISPLAY_FORMAT_XRGB1555, /* 15 bpp in 16 bits */
  DISPLAY_FORMAT_C8,       /* 8 bpp palette (shown as grey: no DAC here) */
} DisplayFormat;

typedef struct DisplayRect
{
  uint32_t x, y, w, h;
} DisplayRect;

typedef struct DisplaySurface
{
  DisplayFormat format;
  uint32_t width, height;
  uint32_t stride;     /* bytes per line */
  int fd;              /* memfd holding the pixels (owned by the device) */
  uint64_t offset;     /* of pixel (0, 0) in fd and in data's mapping */
  uint8_t *data;       /* host pointer to pixel (0, 0) */
  uint64_t fd_size;    /* bytes in fd */
  uint32_t generation; /* bumps on every mode change */
} DisplaySurface;

/* Bytes per pixel of a format (0 for NONE). */
unsigned display_format_bpp (DisplayFormat f);
/* DRM fourcc of the format (for the app / D-Bus), 0 for NONE. */
uint32_t display_format_fourcc (DisplayFormat f);
/* Same geometry and format (pixels aside). */
bool display_surface_same_mode (const DisplaySurface *a, const DisplaySurface *b);

/* Pixel (x, y) as 0xRRGGBB; 0 outside the surface. */
uint32_t display_surface_pixel (const DisplaySurface *s, uint32_t x, uint32_t y);
/* Converts w pixels of line y starting at x to XRGB8888 (little-endian
 * B G R X bytes) in out. Clipped to the surface; returns pixels written. */
uint32_t display_surface_row_xrgb (const DisplaySurface *s, uint32_t x, uint32_t y, uint32_t w,
                                   uint32_t *out);
