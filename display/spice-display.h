/* SPICE server for the guest display, keyboard and mouse.
 *
 * `vireo-vmx --spice unix=PATH` or `--spice port=N[,addr=127.0.0.1]`, with
 * `,password=SECRET` for ticketing (without one ticketing is disabled, so
 * only listen where that is safe: a unix socket or localhost).
 *
 * Display: spice-server's display channel wants a QXL device; a plain
 * framebuffer gets one in software: a primary surface the size of the mode
 * and, for each damage rectangle from the display hub, a QXL "draw copy"
 * command whose bitmap holds a copy of that rectangle (converted to
 * XRGB8888, so every guest depth works). Mode changes recreate the primary
 * surface. Image compression is lossless (auto GLZ) and video streaming is
 * off, so what clients show is exactly the guest's pixels.
 *
 * Input: the keyboard interface receives PC XT (set 1) byte fragments,
 * decoded to evdev keys; the mouse interface relative motion and buttons.
 * Both go to the InputSink (which takes the device lock).
 *
 * Threads: spice-server's own worker thread runs the QXL callbacks; its
 * timers and sockets run on the SPICE core thread (spice-core.h); damage
 * arrives on the hub's thread. One SPICE server per process. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "display/vmm-display.h"
#include "input/input-sink.h"

typedef struct SpiceOptions
{
  char *unix_path; /* unix=PATH */
  int port;        /* port=N (0: none) */
  char *addr;      /* addr=HOST (default 127.0.0.1) */
  char *password;  /* password=SECRET (NULL: no ticketing) */
} SpiceOptions;

/* Parses the --spice argument. One-line error on bad input. */
bool spice_options_parse (const char *spec, SpiceOptions *out, GError **error);
void spice_options_clear (SpiceOptions *o);

typedef struct SpiceDisplay SpiceDisplay;

/* Starts listening and attaches to the hub; input goes to sink (may be
 * NULL: view only). */
SpiceDisplay *spice_display_new (VmmDisplay *display, const InputSink *sink,
                                 const SpiceOptions *opts, GError **error);
void spice_display_free (SpiceDisplay *sd);
/* Damage rectangles turned into draw commands so far (tests, benchmark). */
guint64 spice_display_draw_count (SpiceDisplay *sd);
