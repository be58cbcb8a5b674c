/* The mock helper's test pattern, shared with the tests that check it. */
#pragma once

#include <glib.h>

/* Eight vertical bars: white, yellow, cyan, green, magenta, red, blue, black
 * (XRGB8888 values), each width/8 pixels wide. */
static inline guint32
mock_bar_colour (guint x, guint width)
{
  static const guint32 bars[8] = { 0xffffff, 0xffff00, 0x00ffff, 0x00ff00,
                                   0xff00ff, 0xff0000, 0x0000ff, 0x000000 };
  guint i = width ? (x * 8) / width : 0;

  return bars[i < 8 ? i : 7];
}

/* The colour of the 32x32 block after key @keycode was pressed. */
static inline guint32
mock_key_colour (guint keycode)
{
  return 0x800000u | ((keycode * 37u) & 0xff) << 8 | ((keycode * 101u) & 0xff);
}
