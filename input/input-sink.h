/* Where a front end (SDL window, SPICE inputs channel, the app) sends key
 * and pointer events. The machine hands every front end one sink; the i8042
 * sink below takes the device lock around each event, so front ends call it
 * from their own threads without knowing about the lock. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "input/i8042.h"
#include "input/keymap.h"

typedef struct InputSink
{
  /* key: evdev code. */
  void (*key) (void *opaque, PcKeycode key, bool down);
  /* Relative motion (dy > 0 = down, dz > 0 = wheel towards the user) and
   * the buttons now held (bit 0 left, 1 right, 2 middle). */
  void (*mouse) (void *opaque, int dx, int dy, int dz, unsigned buttons);
  /* Keyboard LEDs (bit 0 scroll, 1 num, 2 caps); optional. */
  unsigned (*leds) (void *opaque);
  void *opaque;
} InputSink;

static inline void
input_sink_key (const InputSink *s, PcKeycode key, bool down)
{
  if (s && s->key && key != PC_KEYCODE_NONE)
    s->key (s->opaque, key, down);
}

static inline void
input_sink_mouse (const InputSink *s, int dx, int dy, int dz, unsigned buttons)
{
  if (s && s->mouse)
    s->mouse (s->opaque, dx, dy, dz, buttons);
}

static inline unsigned
input_sink_leds (const InputSink *s)
{
  return s && s->leds ? s->leds (s->opaque) : 0;
}

/* A sink feeding an i8042 under the machine's device lock. */
typedef struct I8042Sink
{
  InputSink sink;
  I8042 *kbc;
  GMutex *lock;
} I8042Sink;

void i8042_sink_init (I8042Sink *s, I8042 *kbc, GMutex *device_lock);
