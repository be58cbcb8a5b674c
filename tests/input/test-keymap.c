/* Key code tables: every key of a 105-key ISO keyboard through every table. */
#include <linux/input-event-codes.h>
#include <SDL2/SDL_scancode.h>
#include <glib.h>

#include "input/keymap.h"

static void
test_iso105_complete (void)
{
  size_t n = 0;
  for (const PcKeycode *k = keymap_iso105_keys; *k; k++, n++)
    {
      uint8_t seq[KEYMAP_SEQ_MAX];
      g_assert_cmpuint (keymap_ps2_sequence (*k, 1, true, seq), >, 0);
      g_assert_cmpuint (keymap_ps2_sequence (*k, 2, true, seq), >, 0);
      if (*k != KEY_PAUSE)
        {
          g_assert_cmpuint (keymap_evdev_to_set1 (*k), !=, 0);
          g_assert_cmpuint (keymap_evdev_to_set2 (*k), !=, 0);
        }
    }
  /* 105 keys plus the five 'international' keys. */
  g_assert_cmpuint (n, ==, 110);
}

/* Every plain key's set 2 code, put through the i8042's translation, must
 * give its set 1 code; E0 keys the same on the byte after E0. */
static void
test_set2_translates_to_set1 (void)
{
  for (PcKeycode k = 1; k <= PC_KEYCODE_MAX; k++)
    {
      uint16_t s1 = keymap_evdev_to_set1 (k), s2 = keymap_evdev_to_set2 (k);
      if (!s1 && !s2)
        continue;
      g_assert_cmpuint (s1 >> 8, ==, s2 >> 8);
      g_assert_cmphex (keymap_i8042_translate (s2 & 0xff), ==, s1 & 0xff);
    }
}

static void
test_round_trips (void)
{
  for (PcKeycode k = 1; k <= PC_KEYCODE_MAX; k++)
    {
      uint16_t s1 = keymap_evdev_to_set1 (k);
      if (s1)
        {
          g_assert_cmpuint (keymap_set1_to_evdev (s1), ==, k);
          g_assert_cmpuint (keymap_set2_to_evdev (keymap_evdev_to_set2 (k)), ==, k);
          g_assert_cmpuint (keymap_spice_to_evdev (keymap_evdev_to_spice (k)), ==, k);
        }
      g_assert_cmpuint (keymap_xkb_to_evdev (k + 8u), ==, k);
    }
  g_assert_cmpuint (keymap_spice_to_evdev (keymap_evdev_to_spice (KEY_PAUSE)), ==, KEY_PAUSE);
  /* Hostile inputs. */
  g_assert_cmpuint (keymap_set1_to_evdev (0x1234), ==, PC_KEYCODE_NONE);
  g_assert_cmpuint (keymap_spice_to_evdev (0xffffff), ==, PC_KEYCODE_NONE);
  g_assert_cmpuint (keymap_xkb_to_evdev (3), ==, PC_KEYCODE_NONE);
  g_assert_cmpuint (keymap_sdl_to_evdev (100000), ==, PC_KEYCODE_NONE);
  g_assert_cmpuint (keymap_evdev_to_set1 (0xffff), ==, 0);
}

static void
assert_seq (PcKeycode k, unsigned set, bool down, const uint8_t *want, size_t len)
{
  uint8_t seq[KEYMAP_SEQ_MAX];
  size_t n = keymap_ps2_sequence (k, set, down, seq);
  g_assert_cmpmem (seq, n, want, len);
}

static void
test_known_sequences (void)
{
  assert_seq (KEY_A, 1, true, (const uint8_t[]){ 0x1e }, 1);
  assert_seq (KEY_A, 1, false, (const uint8_t[]){ 0x9e }, 1);
  assert_seq (KEY_A, 2, true, (const uint8_t[]){ 0x1c }, 1);
  assert_seq (KEY_A, 2, false, (const uint8_t[]){ 0xf0, 0x1c }, 2);
  assert_seq (KEY_ENTER, 2, true, (const uint8_t[]){ 0x5a }, 1);
  assert_seq (KEY_KPENTER, 2, true, (const uint8_t[]){ 0xe0, 0x5a }, 2);
  assert_seq (KEY_KPENTER, 2, false, (const uint8_t[]){ 0xe0, 0xf0, 0x5a }, 3);
  assert_seq (KEY_RIGHTCTRL, 1, false, (const uint8_t[]){ 0xe0, 0x9d }, 2);
  assert_seq (KEY_F7, 2, true, (const uint8_t[]){ 0x83 }, 1);
  assert_seq (KEY_102ND, 1, true, (const uint8_t[]){ 0x56 }, 1);
  assert_seq (KEY_102ND, 2, true, (const uint8_t[]){ 0x61 }, 1);
  assert_seq (KEY_LEFTMETA, 2, true, (const uint8_t[]){ 0xe0, 0x1f }, 2);
  assert_seq (KEY_COMPOSE, 1, true, (const uint8_t[]){ 0xe0, 0x5d }, 2);
  assert_seq (KEY_UP, 1, true, (const uint8_t[]){ 0xe0, 0x48 }, 2);
  assert_seq (KEY_SYSRQ, 1, true, (const uint8_t[]){ 0xe0, 0x2a, 0xe0, 0x37 }, 4);
  assert_seq (KEY_SYSRQ, 1, false, (const uint8_t[]){ 0xe0, 0xb7, 0xe0, 0xaa }, 4);
  assert_seq (KEY_SYSRQ, 2, true, (const uint8_t[]){ 0xe0, 0x12, 0xe0, 0x7c }, 4);
  assert_seq (KEY_SYSRQ, 2, false, (const uint8_t[]){ 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 }, 6);
  assert_seq (KEY_PAUSE, 1, true, (const uint8_t[]){ 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 }, 6);
  assert_seq (KEY_PAUSE, 2, true,
              (const uint8_t[]){ 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 }, 8);
  assert_seq (KEY_PAUSE, 2, false, NULL, 0);
  assert_seq (KEY_A, 3, true, NULL, 0);
}

static void
test_sdl_table (void)
{
  g_assert_cmpuint (keymap_sdl_to_evdev (SDL_SCANCODE_A), ==, KEY_A);
  g_assert_cmpuint (keymap_sdl_to_evdev (SDL_SCANCODE_NONUSBACKSLASH), ==, KEY_102ND);
  g_assert_cmpuint (keymap_sdl_to_evdev (SDL_SCANCODE_APPLICATION), ==, KEY_COMPOSE);
  g_assert_cmpuint (keymap_sdl_to_evdev (SDL_SCANCODE_PRINTSCREEN), ==, KEY_SYSRQ);
  g_assert_cmpuint (keymap_sdl_to_evdev (SDL_SCANCODE_RGUI), ==, KEY_RIGHTMETA);
  g_assert_cmpuint (keymap_sdl_to_evdev (SDL_SCANCODE_KP_ENTER), ==, KEY_KPENTER);
  /* Every ISO key is reachable from some SDL scancode. */
  for (const PcKeycode *k = keymap_iso105_keys; *k; k++)
    {
      bool found = false;
      for (unsigned s = 0; s < SDL_NUM_SCANCODES && !found; s++)
        found = keymap_sdl_to_evdev (s) == *k;
      if (!found)
        g_error ("evdev key %u has no SDL scancode", *k);
    }
}

static void
feed_all (Set1Decoder *d, const uint8_t *bytes, size_t n, PcKeycode *keys, bool *downs,
          size_t *count)
{
  *count = 0;
  for (size_t i = 0; i < n; i++)
    if (set1_decoder_feed (d, bytes[i], &keys[*count], &downs[*count]))
      (*count)++;
}

static void
test_set1_decoder (void)
{
  Set1Decoder d;
  set1_decoder_init (&d);
  PcKeycode keys[8];
  bool downs[8];
  size_t n;

  /* Every key's own set 1 sequence decodes back to that key. */
  for (const PcKeycode *k = keymap_iso105_keys; *k; k++)
    {
      uint8_t seq[KEYMAP_SEQ_MAX];
      size_t len = keymap_ps2_sequence (*k, 1, true, seq);
      feed_all (&d, seq, len, keys, downs, &n);
      /* Pause's one sequence is press and release. */
      g_assert_cmpuint (n, ==, *k == KEY_PAUSE ? 2 : 1);
      g_assert_cmpuint (keys[0], ==, *k);
      g_assert_true (downs[0]);
      len = keymap_ps2_sequence (*k, 1, false, seq);
      feed_all (&d, seq, len, keys, downs, &n);
      if (*k == KEY_PAUSE)
        continue;
      g_assert_cmpuint (n, ==, 1);
      g_assert_cmpuint (keys[0], ==, *k);
      g_assert_false (downs[0]);
    }
  /* Pause: press then release from the one sequence. */
  const uint8_t pause[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
  feed_all (&d, pause, sizeof pause, keys, downs, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (keys[0], ==, KEY_PAUSE);
  g_assert_true (downs[0]);
  g_assert_false (downs[1]);
  /* Junk never decodes to a key and leaves the decoder usable. */
  const uint8_t junk[] = { 0xe0, 0x00, 0x7f, 0xe1, 0x12 };
  feed_all (&d, junk, sizeof junk, keys, downs, &n);
  const uint8_t b[] = { 0x30 };
  feed_all (&d, b, 1, keys, downs, &n);
  g_assert_cmpuint (n, ==, 0); /* consumed as the E1 sequence's second byte */
  feed_all (&d, b, 1, keys, downs, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (keys[0], ==, KEY_B);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/keymap/iso105-complete", test_iso105_complete);
  g_test_add_func ("/keymap/set2-translates-to-set1", test_set2_translates_to_set1);
  g_test_add_func ("/keymap/round-trips", test_round_trips);
  g_test_add_func ("/keymap/known-sequences", test_known_sequences);
  g_test_add_func ("/keymap/sdl", test_sdl_table);
  g_test_add_func ("/keymap/set1-decoder", test_set1_decoder);
  return g_test_run ();
}
