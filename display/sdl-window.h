/* SDL2 window showing the guest display (`vireo-vmx --display sdl`).
 *
 * The window runs its own thread (SDL video and events stay on it). It
 * shows the hub's surface scaled to the window (aspect kept), and sends
 * keyboard and mouse to the InputSink: keys as evdev codes (SDL scancodes
 * are positions, so the host layout does not matter); the mouse relative,
 * after a click in the window grabs it; Ctrl+Alt releases the grab, as in
 * other VMMs. Losing focus releases the grab and every key still held.
 *
 * Closing the window calls the quit callback (vireo-vmx: power off). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "display/vmm-display.h"
#include "input/input-sink.h"

typedef struct SdlWindow SdlWindow;

/* Opens the window (fails with a one-line message without a display). */
SdlWindow *sdl_window_new (VmmDisplay *display, const InputSink *sink, const char *title,
                           GError **error);
void sdl_window_free (SdlWindow *w);
void sdl_window_set_quit_callback (SdlWindow *w, void (*fn) (void *), void *opaque);

/* For tests: frames presented so far, the X11 window id (0 if not X11),
 * and whether the pointer is grabbed. */
uint64_t sdl_window_frame_count (SdlWindow *w);
unsigned long sdl_window_x11_id (SdlWindow *w);
bool sdl_window_grabbed (SdlWindow *w);
