/* Tiny guest for the display end-to-end test: checks the Bochs dispi ID
 * through ports 0x1CE/0x1CF, sets 640x480x32, and draws a pattern into the
 * linear framebuffer at FB_BASE (where the host put BAR 0). */
#include "guest.h"

#define FB_BASE 0xc0000000u

static void
dispi_write (uint16_t index, uint16_t value)
{
  outw (0x1ce, index);
  outw (0x1cf, value);
}

static uint16_t
dispi_read (uint16_t index)
{
  outw (0x1ce, index);
  return inw (0x1cf);
}

int
guest_main (void)
{
  if (dispi_read (0) != 0xb0c5)
    fail ("dispi ID", 1);
  dispi_write (4, 0);   /* ENABLE: off */
  dispi_write (1, 640); /* XRES */
  dispi_write (2, 480); /* YRES */
  dispi_write (3, 32);  /* BPP */
  dispi_write (4, 0x41); /* enabled, LFB */
  if (dispi_read (1) != 640 || !(dispi_read (4) & 1))
    fail ("mode set", 2);
  volatile uint32_t *fb = (volatile uint32_t *) FB_BASE;
  for (uint32_t y = 0; y < 480; y++)
    for (uint32_t x = 0; x < 640; x++)
      fb[y * 640 + x] = (x * 3) << 16 | (y * 5 & 0xff) << 8 | ((x + y) & 0xff);
  puts_ ("fb: drawn\n");

  /* Then wait for one key from the host: the scancode byte (translated set
   * 1) is the exit code, so the host sees what arrived. */
  for (uint64_t spins = 0; spins < 2000000000ull; spins++)
    if (inb (0x64) & 1)
      guest_exit (inb (0x60) & 63);
  fail ("no key arrived", 3);
}
