/* Screenshots of a surface as PNG (libpng), for the Screenshot D-Bus call,
 * snapshot thumbnails and the tests. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "display/display-surface.h"

/* 8-bit RGB PNG of the whole surface. False with a one-line message. */
bool display_screenshot_png_file (const DisplaySurface *s, const char *path, GError **error);
GBytes *display_screenshot_png_bytes (const DisplaySurface *s, GError **error);
/* The surface as tightly packed 8-bit RGB (width * 3 bytes per line). */
guint8 *display_screenshot_rgb (const DisplaySurface *s);
