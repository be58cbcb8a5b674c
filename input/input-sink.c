/* The i8042 as an InputSink. */
#include "input/input-sink.h"

static void
sink_key (void *opaque, PcKeycode key, bool down)
{
  I8042Sink *s = opaque;
  g_mutex_lock (s->lock);
  i8042_key_event (s->kbc, key, down);
  g_mutex_unlock (s->lock);
}

static void
sink_mouse (void *opaque, int dx, int dy, int dz, unsigned buttons)
{
  I8042Sink *s = opaque;
  g_mutex_lock (s->lock);
  i8042_mouse_event (s->kbc, dx, dy, dz, buttons);
  g_mutex_unlock (s->lock);
}

static unsigned
sink_leds (void *opaque)
{
  I8042Sink *s = opaque;
  g_mutex_lock (s->lock);
  unsigned leds = i8042_kbd_leds (s->kbc);
  g_mutex_unlock (s->lock);
  return leds;
}

void
i8042_sink_init (I8042Sink *s, I8042 *kbc, GMutex *device_lock)
{
  s->sink = (InputSink){ sink_key, sink_mouse, sink_leds, s };
  s->kbc = kbc;
  s->lock = device_lock;
}
