/* evdev ↔ PS/2 scancode sets 1 and 2, and the i8042 translation table.
 *
 * One table holds both sets, so a key is described once; the reverse lookups
 * are built from it on first use. Values are from the IBM PC/AT and PS/2
 * keyboard documentation (set 1 = PC XT codes, set 2 = AT codes); the unit
 * test checks every plain key's set 2 code against the i8042 translation
 * table, which ties the two columns together independently. */
#include "input/keymap.h"

#include <linux/input-event-codes.h>
#include <glib.h>

typedef struct {
  uint16_t key;
  uint16_t set1;
  uint16_t set2;
} PcKeyEntry;

static const PcKeyEntry pc_keys[] = {
  { KEY_ESC, 0x01, 0x76 },
  { KEY_1, 0x02, 0x16 }, { KEY_2, 0x03, 0x1e }, { KEY_3, 0x04, 0x26 },
  { KEY_4, 0x05, 0x25 }, { KEY_5, 0x06, 0x2e }, { KEY_6, 0x07, 0x36 },
  { KEY_7, 0x08, 0x3d }, { KEY_8, 0x09, 0x3e }, { KEY_9, 0x0a, 0x46 },
  { KEY_0, 0x0b, 0x45 },
  { KEY_MINUS, 0x0c, 0x4e }, { KEY_EQUAL, 0x0d, 0x55 }, { KEY_BACKSPACE, 0x0e, 0x66 },
  { KEY_TAB, 0x0f, 0x0d },
  { KEY_Q, 0x10, 0x15 }, { KEY_W, 0x11, 0x1d }, { KEY_E, 0x12, 0x24 },
  { KEY_R, 0x13, 0x2d }, { KEY_T, 0x14, 0x2c }, { KEY_Y, 0x15, 0x35 },
  { KEY_U, 0x16, 0x3c }, { KEY_I, 0x17, 0x43 }, { KEY_O, 0x18, 0x44 },
  { KEY_P, 0x19, 0x4d },
  { KEY_LEFTBRACE, 0x1a, 0x54 }, { KEY_RIGHTBRACE, 0x1b, 0x5b },
  { KEY_ENTER, 0x1c, 0x5a }, { KEY_LEFTCTRL, 0x1d, 0x14 },
  { KEY_A, 0x1e, 0x1c }, { KEY_S, 0x1f, 0x1b }, { KEY_D, 0x20, 0x23 },
  { KEY_F, 0x21, 0x2b }, { KEY_G, 0x22, 0x34 }, { KEY_H, 0x23, 0x33 },
  { KEY_J, 0x24, 0x3b }, { KEY_K, 0x25, 0x42 }, { KEY_L, 0x26, 0x4b },
  { KEY_SEMICOLON, 0x27, 0x4c }, { KEY_APOSTROPHE, 0x28, 0x52 },
  { KEY_GRAVE, 0x29, 0x0e }, { KEY_LEFTSHIFT, 0x2a, 0x12 },
  { KEY_BACKSLASH, 0x2b, 0x5d },
  { KEY_Z, 0x2c, 0x1a }, { KEY_X, 0x2d, 0x22 }, { KEY_C, 0x2e, 0x21 },
  { KEY_V, 0x2f, 0x2a }, { KEY_B, 0x30, 0x32 }, { KEY_N, 0x31, 0x31 },
  { KEY_M, 0x32, 0x3a },
  { KEY_COMMA, 0x33, 0x41 }, { KEY_DOT, 0x34, 0x49 }, { KEY_SLASH, 0x35, 0x4a },
  { KEY_RIGHTSHIFT, 0x36, 0x59 }, { KEY_KPASTERISK, 0x37, 0x7c },
  { KEY_LEFTALT, 0x38, 0x11 }, { KEY_SPACE, 0x39, 0x29 }, { KEY_CAPSLOCK, 0x3a, 0x58 },
  { KEY_F1, 0x3b, 0x05 }, { KEY_F2, 0x3c, 0x06 }, { KEY_F3, 0x3d, 0x04 },
  { KEY_F4, 0x3e, 0x0c }, { KEY_F5, 0x3f, 0x03 }, { KEY_F6, 0x40, 0x0b },
  { KEY_F7, 0x41, 0x83 }, { KEY_F8, 0x42, 0x0a }, { KEY_F9, 0x43, 0x01 },
  { KEY_F10, 0x44, 0x09 },
  { KEY_NUMLOCK, 0x45, 0x77 }, { KEY_SCROLLLOCK, 0x46, 0x7e },
  { KEY_KP7, 0x47, 0x6c }, { KEY_KP8, 0x48, 0x75 }, { KEY_KP9, 0x49, 0x7d },
  { KEY_KPMINUS, 0x4a, 0x7b },
  { KEY_KP4, 0x4b, 0x6b }, { KEY_KP5, 0x4c, 0x73 }, { KEY_KP6, 0x4d, 0x74 },
  { KEY_KPPLUS, 0x4e, 0x79 },
  { KEY_KP1, 0x4f, 0x69 }, { KEY_KP2, 0x50, 0x72 }, { KEY_KP3, 0x51, 0x7a },
  { KEY_KP0, 0x52, 0x70 }, { KEY_KPDOT, 0x53, 0x71 },
  { KEY_ZENKAKUHANKAKU, 0x76, 0x5f },
  { KEY_102ND, 0x56, 0x61 },
  { KEY_F11, 0x57, 0x78 }, { KEY_F12, 0x58, 0x07 },
  { KEY_RO, 0x73, 0x51 },
  { KEY_KATAKANA, 0x78, 0x63 }, { KEY_HIRAGANA, 0x77, 0x62 },
  { KEY_HENKAN, 0x79, 0x64 }, { KEY_KATAKANAHIRAGANA, 0x70, 0x13 },
  { KEY_MUHENKAN, 0x7b, 0x67 }, { KEY_KPJPCOMMA, 0x5c, 0x27 },
  { KEY_KPENTER, 0xe01c, 0xe05a }, { KEY_RIGHTCTRL, 0xe01d, 0xe014 },
  { KEY_KPSLASH, 0xe035, 0xe04a },
  { KEY_SYSRQ, 0xe037, 0xe07c }, /* PrintScreen; the full sequence is special */
  { KEY_RIGHTALT, 0xe038, 0xe011 },
  { KEY_HOME, 0xe047, 0xe06c }, { KEY_UP, 0xe048, 0xe075 },
  { KEY_PAGEUP, 0xe049, 0xe07d }, { KEY_LEFT, 0xe04b, 0xe06b },
  { KEY_RIGHT, 0xe04d, 0xe074 }, { KEY_END, 0xe04f, 0xe069 },
  { KEY_DOWN, 0xe050, 0xe072 }, { KEY_PAGEDOWN, 0xe051, 0xe07a },
  { KEY_INSERT, 0xe052, 0xe070 }, { KEY_DELETE, 0xe053, 0xe071 },
  { KEY_MUTE, 0xe020, 0xe023 }, { KEY_VOLUMEDOWN, 0xe02e, 0xe021 },
  { KEY_VOLUMEUP, 0xe030, 0xe032 }, { KEY_POWER, 0xe05e, 0xe037 },
  { KEY_KPEQUAL, 0x59, 0x0f },
  { KEY_KPCOMMA, 0x7e, 0x6d },
  { KEY_YEN, 0x7d, 0x6a },
  { KEY_LEFTMETA, 0xe05b, 0xe01f }, { KEY_RIGHTMETA, 0xe05c, 0xe027 },
  { KEY_COMPOSE, 0xe05d, 0xe02f },
  { KEY_SLEEP, 0xe05f, 0xe03f }, { KEY_WAKEUP, 0xe063, 0xe05e },
  { KEY_NEXTSONG, 0xe019, 0xe04d }, { KEY_PREVIOUSSONG, 0xe010, 0xe015 },
  { KEY_PLAYPAUSE, 0xe022, 0xe034 }, { KEY_STOPCD, 0xe024, 0xe03b },
};

const PcKeycode keymap_iso105_keys[] = {
  KEY_ESC, KEY_F1, KEY_F2, KEY_F3, KEY_F4, KEY_F5, KEY_F6, KEY_F7, KEY_F8,
  KEY_F9, KEY_F10, KEY_F11, KEY_F12, KEY_SYSRQ, KEY_SCROLLLOCK, KEY_PAUSE,
  KEY_GRAVE, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9,
  KEY_0, KEY_MINUS, KEY_EQUAL, KEY_BACKSPACE, KEY_INSERT, KEY_HOME, KEY_PAGEUP,
  KEY_NUMLOCK, KEY_KPSLASH, KEY_KPASTERISK, KEY_KPMINUS,
  KEY_TAB, KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T, KEY_Y, KEY_U, KEY_I, KEY_O,
  KEY_P, KEY_LEFTBRACE, KEY_RIGHTBRACE, KEY_ENTER, KEY_DELETE, KEY_END,
  KEY_PAGEDOWN, KEY_KP7, KEY_KP8, KEY_KP9, KEY_KPPLUS,
  KEY_CAPSLOCK, KEY_A, KEY_S, KEY_D, KEY_F, KEY_G, KEY_H, KEY_J, KEY_K, KEY_L,
  KEY_SEMICOLON, KEY_APOSTROPHE, KEY_BACKSLASH, KEY_KP4, KEY_KP5, KEY_KP6,
  KEY_LEFTSHIFT, KEY_102ND, KEY_Z, KEY_X, KEY_C, KEY_V, KEY_B, KEY_N, KEY_M,
  KEY_COMMA, KEY_DOT, KEY_SLASH, KEY_RIGHTSHIFT, KEY_UP, KEY_KP1, KEY_KP2,
  KEY_KP3, KEY_KPENTER,
  KEY_LEFTCTRL, KEY_LEFTMETA, KEY_LEFTALT, KEY_SPACE, KEY_RIGHTALT,
  KEY_RIGHTMETA, KEY_COMPOSE, KEY_RIGHTCTRL, KEY_LEFT, KEY_DOWN, KEY_RIGHT,
  KEY_KP0, KEY_KPDOT,
  /* The 'international' keys of Brazilian/Japanese variants. */
  KEY_RO, KEY_YEN, KEY_HENKAN, KEY_MUHENKAN, KEY_KATAKANAHIRAGANA,
  PC_KEYCODE_NONE,
};

/* The 8042's fixed table for codes 0x00-0x7f (hardware fact); above that a
 * byte passes unchanged except the two long codes 0x83 (F7) and 0x84. */
static const uint8_t i8042_xlat_low[128] = {
  0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
  0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
  0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
  0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
  0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
  0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
  0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
  0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

uint8_t
keymap_i8042_translate (uint8_t b)
{
  if (b < 0x80)
    return i8042_xlat_low[b];
  if (b == 0x83)
    return 0x41;
  if (b == 0x84)
    return 0x54;
  return b;
}

/* Lookup tables built once from pc_keys. */
typedef struct {
  uint16_t to_set1[PC_KEYCODE_MAX + 1];
  uint16_t to_set2[PC_KEYCODE_MAX + 1];
  PcKeycode from_set1[512]; /* index: code & 0xff | (E0 ? 0x100 : 0) */
  PcKeycode from_set2[512];
} PcKeyIndex;

static inline unsigned
code_index (uint16_t code)
{
  return (code & 0xff) | ((code >> 8) == 0xe0 ? 0x100 : 0);
}

static const PcKeyIndex *
pc_index (void)
{
  static PcKeyIndex index;
  static gsize ready;

  if (g_once_init_enter (&ready))
    {
      for (size_t i = 0; i < G_N_ELEMENTS (pc_keys); i++)
        {
          const PcKeyEntry *e = &pc_keys[i];
          index.to_set1[e->key] = e->set1;
          index.to_set2[e->key] = e->set2;
          index.from_set1[code_index (e->set1)] = e->key;
          index.from_set2[code_index (e->set2)] = e->key;
        }
      g_once_init_leave (&ready, 1);
    }
  return &index;
}

uint16_t
keymap_evdev_to_set1 (PcKeycode key)
{
  return key <= PC_KEYCODE_MAX ? pc_index ()->to_set1[key] : 0;
}

uint16_t
keymap_evdev_to_set2 (PcKeycode key)
{
  return key <= PC_KEYCODE_MAX ? pc_index ()->to_set2[key] : 0;
}

PcKeycode
keymap_set1_to_evdev (uint16_t code)
{
  if ((code >> 8) != 0 && (code >> 8) != 0xe0)
    return PC_KEYCODE_NONE;
  if ((code & 0xff) == 0 || (code & 0x80))
    return PC_KEYCODE_NONE;
  return pc_index ()->from_set1[code_index (code)];
}

PcKeycode
keymap_set2_to_evdev (uint16_t code)
{
  if ((code >> 8) != 0 && (code >> 8) != 0xe0)
    return PC_KEYCODE_NONE;
  if ((code & 0xff) == 0)
    return PC_KEYCODE_NONE;
  return pc_index ()->from_set2[code_index (code)];
}

static size_t
put (uint8_t *out, size_t n, const uint8_t *bytes, size_t len)
{
  for (size_t i = 0; i < len; i++)
    out[n + i] = bytes[i];
  return n + len;
}

size_t
keymap_ps2_sequence (PcKeycode key, unsigned set, bool down, uint8_t out[KEYMAP_SEQ_MAX])
{
  if (set != 1 && set != 2)
    return 0;

  if (key == KEY_PAUSE)
    {
      static const uint8_t pause1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
      static const uint8_t pause2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
      if (!down)
        return 0; /* Pause sends make and break at once, on press */
      return set == 1 ? put (out, 0, pause1, sizeof pause1) : put (out, 0, pause2, sizeof pause2);
    }
  if (key == KEY_SYSRQ)
    {
      static const uint8_t ps1_make[] = { 0xe0, 0x2a, 0xe0, 0x37 };
      static const uint8_t ps1_break[] = { 0xe0, 0xb7, 0xe0, 0xaa };
      static const uint8_t ps2_make[] = { 0xe0, 0x12, 0xe0, 0x7c };
      static const uint8_t ps2_break[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };
      if (set == 1)
        return down ? put (out, 0, ps1_make, 4) : put (out, 0, ps1_break, 4);
      return down ? put (out, 0, ps2_make, 4) : put (out, 0, ps2_break, 6);
    }

  uint16_t code = set == 1 ? keymap_evdev_to_set1 (key) : keymap_evdev_to_set2 (key);
  if (code == 0)
    return 0;
  size_t n = 0;
  if (code >> 8)
    out[n++] = 0xe0;
  if (set == 1)
    out[n++] = (uint8_t) ((code & 0x7f) | (down ? 0 : 0x80));
  else
    {
      if (!down)
        out[n++] = 0xf0;
      out[n++] = (uint8_t) code;
    }
  return n;
}

PcKeycode
keymap_xkb_to_evdev (unsigned xkb_keycode)
{
  if (xkb_keycode < 8 || xkb_keycode - 8 > PC_KEYCODE_MAX)
    return PC_KEYCODE_NONE;
  return (PcKeycode) (xkb_keycode - 8);
}
