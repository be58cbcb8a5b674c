/* The two PS/2 devices behind the i8042: keyboard and mouse.
 *
 * Each has a byte queue towards the controller and a command interpreter for
 * bytes the guest writes to it. They know nothing of ports or IRQs: the
 * controller (i8042.c) moves bytes and raises interrupts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "input/keymap.h"
#include "vmm-core/snapshot-stream.h"

#define PS2_QUEUE_SIZE 32

typedef struct Ps2Queue
{
  uint8_t data[PS2_QUEUE_SIZE];
  uint8_t head;
  uint8_t count;
} Ps2Queue;

void ps2_queue_clear (Ps2Queue *q);
size_t ps2_queue_room (const Ps2Queue *q);
/* False (nothing queued) if it does not fit. */
bool ps2_queue_push (Ps2Queue *q, const uint8_t *bytes, size_t len);
bool ps2_queue_pop (Ps2Queue *q, uint8_t *byte);
void ps2_queue_save (const Ps2Queue *q, SnapWriter *w);
void ps2_queue_load (Ps2Queue *q, SnapReader *r);

/* ---- keyboard ---- */

/* A real keyboard buffers 16 bytes; key sequences beyond that are replaced by
 * one overrun code (0x00 in set 2, 0xFF in set 1). */
#define PS2_KBD_BUFFER 16

typedef struct Ps2Keyboard
{
  Ps2Queue queue;
  bool scanning;        /* F4/F5 */
  uint8_t scancode_set; /* 1 or 2 */
  uint8_t leds;         /* bit 0 scroll, 1 num, 2 caps */
  uint8_t typematic;    /* F3 argument */
  uint8_t pending_cmd;  /* command waiting for its argument, or 0 */
  uint8_t last_sent;    /* for FE (resend) */
  bool overrun;         /* overrun code queued, waiting for space */
  uint64_t keys_dropped;
} Ps2Keyboard;

void ps2_kbd_reset (Ps2Keyboard *kbd);
/* A byte the guest sent to the keyboard (port 0x60). */
void ps2_kbd_write (Ps2Keyboard *kbd, uint8_t byte);
/* Host key event: queues the current set's sequence (if scanning). */
void ps2_kbd_key (Ps2Keyboard *kbd, PcKeycode key, bool down);
/* Next byte for the controller; false if none. */
bool ps2_kbd_read (Ps2Keyboard *kbd, uint8_t *byte);

/* ---- mouse ---- */

typedef struct Ps2Mouse
{
  Ps2Queue queue;
  bool streaming;     /* data reporting enabled (F4) */
  bool remote;        /* remote mode (F0): packets only on EB */
  bool wrap;          /* echo mode (EE) */
  bool scale21;       /* 2:1 scaling */
  uint8_t resolution; /* 0..3 */
  uint8_t sample_rate;
  uint8_t id;       /* 0, or 3 after the IntelliMouse knock */
  uint8_t knock[3]; /* last three sample rates set */
  uint8_t pending_cmd;
  uint8_t last_sent;
  uint8_t buttons;    /* bit 0 left, 1 right, 2 middle */
  int32_t dx, dy, dz; /* movement not yet reported (PS/2 sense: y up) */
  bool dirty;         /* buttons changed since the last packet */
} Ps2Mouse;

void ps2_mouse_reset (Ps2Mouse *mouse);
void ps2_mouse_write (Ps2Mouse *mouse, uint8_t byte);
/* Host movement (dy > 0 = down the screen, dz > 0 = wheel towards the
 * user) and the current button mask. */
void ps2_mouse_event (Ps2Mouse *mouse, int dx, int dy, int dz, unsigned buttons);
bool ps2_mouse_read (Ps2Mouse *mouse, uint8_t *byte);
