/* The shared-memory display export for the GTK app.
 *
 * The app never copies the framebuffer: it maps the device's VRAM memfd
 * (passed over the helper's D-Bus connection as a Unix fd) and repaints the
 * rectangles this export reports. Suggested D-Bus shape (the wiring belongs
 * to the helper's interface, org.vireo.VM1):
 *   property/method  Display → (h fd, u fourcc, u width, u height,
 *                               u stride, t offset)  after surface_changed
 *   signal           DisplayDamage (a(uuuu) rects)     after damage
 *
 * Callbacks run on the GMainContext given at creation (the helper's main
 * context, where its D-Bus objects live), never on the hub's thread: damage
 * that arrives while the context is busy is merged, so the app still gets at
 * most one signal per refresh and never a backlog. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "display/vmm-display.h"

typedef struct DisplayShmCallbacks
{
  /* New mode (also once at start). s->fd belongs to the device: dup it (a
   * GUnixFDList does) to hand it out. Format NONE: the display is off. */
  void (*surface_changed) (void *opaque, const DisplaySurface *s);
  /* Rectangles to repaint (merged, in surface coordinates). */
  void (*damage) (void *opaque, const DisplayRect *rects, size_t n);
  void *opaque;
} DisplayShmCallbacks;

typedef struct DisplayShmExport DisplayShmExport;

/* context: where callbacks run (NULL: the thread-default context). */
DisplayShmExport *display_shm_export_new (VmmDisplay *display, const DisplayShmCallbacks *cb,
                                          GMainContext *context);
void display_shm_export_free (DisplayShmExport *e);
/* The current surface (as last reported), for a client that asks late. */
void display_shm_export_get_surface (DisplayShmExport *e, DisplaySurface *out);
