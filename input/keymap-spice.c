/* SPICE key codes (PC XT set 1, 0x100 | code for E0 keys) and the set 1
 * byte stream SPICE hands its keyboard interface. */
#include "input/keymap.h"

#include <linux/input-event-codes.h>

PcKeycode
keymap_spice_to_evdev (unsigned spice_code)
{
  if (spice_code & ~0x1ffu)
    return PC_KEYCODE_NONE;
  if ((spice_code & 0xff) == 0x45 && (spice_code & 0x100))
    return KEY_PAUSE; /* not E0 45 on real hardware, but what clients send */
  uint16_t code = (uint16_t)(spice_code & 0xff);
  if (spice_code & 0x100)
    code |= 0xe000;
  return keymap_set1_to_evdev (code);
}

unsigned
keymap_evdev_to_spice (PcKeycode key)
{
  if (key == KEY_PAUSE)
    return 0x145;
  uint16_t code = keymap_evdev_to_set1 (key);
  if (code == 0)
    return 0;
  return (code & 0xff) | ((code >> 8) ? 0x100u : 0u);
}

void
set1_decoder_init (Set1Decoder *d)
{
  d->prefix = 0;
  d->e1_count = 0;
}

bool
set1_decoder_feed (Set1Decoder *d, uint8_t byte, PcKeycode *key, bool *down)
{
  if (byte == 0xe0 || byte == 0xe1)
    {
      d->prefix = byte;
      d->e1_count = 0;
      return false;
    }

  uint8_t make = byte & 0x7f;
  bool is_down = !(byte & 0x80);

  if (d->prefix == 0xe1)
    {
      /* E1 1D 45 (press) ... E1 9D C5 (release): the second byte names it. */
      if (++d->e1_count < 2)
        return false;
      d->prefix = 0;
      if (make != 0x45)
        return false;
      *key = KEY_PAUSE;
      *down = is_down;
      return true;
    }

  uint16_t code = make;
  if (d->prefix == 0xe0)
    {
      d->prefix = 0;
      /* E0 2A / E0 AA / E0 36 / E0 B6: fake shifts around grey keys. */
      if (make == 0x2a || make == 0x36)
        return false;
      code |= 0xe000;
    }
  PcKeycode k = keymap_set1_to_evdev (code);
  if (k == PC_KEYCODE_NONE)
    return false;
  *key = k;
  *down = is_down;
  return true;
}
