/* Key code tables.
 *
 * One canonical key code inside Vireo: the Linux evdev KEY_* code
 * (<linux/input-event-codes.h>), a position on the keyboard, not a symbol.
 * Every front end converts its own code to it once (SDL scancode, SPICE's PC
 * XT scancode, XKB keycode) and the PS/2 keyboard converts it to the bytes of
 * the scancode set the guest selected. virtio-input speaks evdev directly.
 *
 * PS/2 codes are written as u16: 0x00XX for a plain code, 0xE0XX for one
 * with the E0 prefix. Pause and PrintScreen have their own multi-byte
 * sequences, produced by keymap_ps2_sequence(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint16_t PcKeycode; /* an evdev KEY_* code */

#define PC_KEYCODE_NONE 0u /* KEY_RESERVED */
#define PC_KEYCODE_MAX 0x2ffu

/* Longest sequence one key event can produce (Pause make in set 2). */
#define KEYMAP_SEQ_MAX 8

/* Set 1 / set 2 code of a key (0 if the key has none; Pause has none either,
 * it only has a sequence). */
uint16_t keymap_evdev_to_set1 (PcKeycode key);
uint16_t keymap_evdev_to_set2 (PcKeycode key);
/* The reverse lookups; PC_KEYCODE_NONE for unknown codes. */
PcKeycode keymap_set1_to_evdev (uint16_t code);
PcKeycode keymap_set2_to_evdev (uint16_t code);

/* Bytes a keyboard in scancode set `set` (1 or 2) sends when `key` goes down
 * (down = true) or up. Returns the count written to out (at most
 * KEYMAP_SEQ_MAX); 0 for an unknown key, an unsupported set, or a key with no
 * break code (Pause). */
size_t keymap_ps2_sequence (PcKeycode key, unsigned set, bool down, uint8_t out[KEYMAP_SEQ_MAX]);

/* The i8042's set 2 → set 1 translation of one byte (break prefix 0xF0 is
 * handled by the caller: the next byte is translated and ORed with 0x80). */
uint8_t keymap_i8042_translate (uint8_t set2_byte);

/* SDL_Scancode (a USB HID usage) → evdev; NONE if unmapped. */
PcKeycode keymap_sdl_to_evdev (unsigned sdl_scancode);
/* SPICE's key code (PC XT set 1, 0x100 | code for E0-prefixed keys) → evdev. */
PcKeycode keymap_spice_to_evdev (unsigned spice_code);
/* The other way, for the tests and for clients. 0 if unmapped. */
unsigned keymap_evdev_to_spice (PcKeycode key);
/* XKB keycode (X11/Wayland, evdev rules: keycode = evdev + 8) → evdev. */
PcKeycode keymap_xkb_to_evdev (unsigned xkb_keycode);

/* Decoder for a stream of set 1 bytes (what SPICE's SpiceKbdInterface
 * receives): feed bytes one at a time; when a key event completes it returns
 * true with *key and *down set. Knows E0 prefixes, the fake shifts that
 * surround some E0 keys (ignored), PrintScreen and the E1 Pause sequence. */
typedef struct Set1Decoder
{
  uint8_t prefix;   /* 0, 0xE0 or 0xE1 */
  uint8_t e1_count; /* bytes seen after E1 */
} Set1Decoder;

void set1_decoder_init (Set1Decoder *d);
bool set1_decoder_feed (Set1Decoder *d, uint8_t byte, PcKeycode *key, bool *down);

/* The keys of a 105-key ISO keyboard, for tests and demos (terminated by
 * PC_KEYCODE_NONE). */
extern const PcKeycode keymap_iso105_keys[];
