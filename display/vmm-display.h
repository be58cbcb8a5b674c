/* The display hub: one surface, many consumers.
 *
 * The display device (bochs-display.h) is the source of the surface. The hub
 * polls it once per refresh interval on its own thread: it takes the device
 * lock only to copy the surface description, fetches dirty VRAM pages without
 * it (the engine's dirty log through DisplayDirtyFn, or a shadow-copy compare
 * when no engine tracking is wired), turns them into rectangles, merges them
 * and tells every listener at most once per refresh.
 *
 * Listeners (SDL window, SPICE server, the app's shared-memory export) get
 * surface_changed on a mode change (and when added) and update with merged
 * rectangles and the current surface (after a page flip only its offset and
 * data pointer differ from the one surface_changed gave: use update's); both run on the hub's
 * thread with the hub's listener lock held, so they must be quick (copy or queue, then return) and
 * must not add or remove listeners. The pixels stay in the device's memfd: a listener reads s->data
 * or maps s->fd itself.
 *
 * Use (machine / vireo-vmx):
 *   VmmDisplay *d = vmm_display_new (bochs_display_source (&bochs), &device_lock, 60);
 *   vmm_display_set_dirty_fn (d, machine_vram_dirty, machine);   // optional
 *   vmm_display_start (d);
 *   sdl = sdl_window_new (d, &input_sink, &error);   // --display sdl
 *   spice = spice_display_new (d, &input_sink, "unix=/run/x.sock", &error);
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "display/damage.h"
#include "display/display-surface.h"

typedef struct DisplaySource
{
  /* Current surface; called with the device lock held. */
  void (*get_surface) (void *opaque, DisplaySurface *out);
  void *opaque;
} DisplaySource;

/* Fills bitmap (npages bits, one per 4 KiB page of the VRAM memfd from
 * offset 0) with the pages written since the last call and clears the log.
 * False when the engine has no dirty tracking for VRAM (the hub then falls
 * back to comparing). Called without the device lock. */
typedef bool (*DisplayDirtyFn) (void *opaque, uint64_t *bitmap, size_t npages);

typedef struct DisplayListener DisplayListener;
struct DisplayListener
{
  void (*surface_changed) (DisplayListener *l, const DisplaySurface *s);
  void (*update) (DisplayListener *l, const DisplaySurface *s, const DisplayRect *rects, size_t n);
};

typedef struct VmmDisplay VmmDisplay;

VmmDisplay *vmm_display_new (const DisplaySource *src, GMutex *device_lock, unsigned refresh_hz);
/* Stops the thread; listeners must be removed first. */
void vmm_display_free (VmmDisplay *d);
void vmm_display_set_dirty_fn (VmmDisplay *d, DisplayDirtyFn fn, void *opaque);
unsigned vmm_display_refresh_hz (const VmmDisplay *d);

void vmm_display_add_listener (VmmDisplay *d, DisplayListener *l);
void vmm_display_remove_listener (VmmDisplay *d, DisplayListener *l);

/* The whole screen is damaged at the next refresh (e.g. after a load). */
void vmm_display_invalidate (VmmDisplay *d);
/* Explicit damage from a producer that knows what it drew (tests, a
 * software renderer). Any thread. */
void vmm_display_damage (VmmDisplay *d, DisplayRect r);
/* One refresh at time now_ns (nanoseconds, any monotonic base): what the
 * thread does every interval. Tests call it directly with a manual clock. */
void vmm_display_refresh (VmmDisplay *d, int64_t now_ns);
/* Runs vmm_display_refresh every 1/refresh_hz s on a thread of its own. */
void vmm_display_start (VmmDisplay *d);
void vmm_display_stop (VmmDisplay *d);

/* The surface as of the last refresh (format NONE before the first). */
void vmm_display_get_surface (VmmDisplay *d, DisplaySurface *out);
/* Updates delivered to listeners so far (for tests and benchmarks). */
uint64_t vmm_display_update_count (VmmDisplay *d);
