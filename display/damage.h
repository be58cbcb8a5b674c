/* Damage: which parts of the surface changed, and when consumers hear of it.
 *
 * Dirty-page bitmaps (KVM's dirty log for the VRAM slot, the software
 * engine's write tracking, or display_dirty_compare's shadow diff) become
 * rectangles with damage_add_dirty_pages(); a DamageAccumulator merges
 * rectangles as they come and hands them out at most once per refresh
 * interval, so a guest that scribbles all over the screen costs one update
 * per frame, not one per write. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "display/display-surface.h"

#define DAMAGE_MAX_RECTS 16
#define DAMAGE_PAGE_SIZE 4096u

typedef struct DamageAccumulator
{
  uint32_t width, height; /* clip */
  int64_t interval_ns;    /* minimum time between two takes */
  int64_t last_take_ns;
  bool taken_once;
  size_t count;
  DisplayRect rects[DAMAGE_MAX_RECTS];
} DamageAccumulator;

void damage_init (DamageAccumulator *acc, uint32_t width, uint32_t height, int64_t interval_ns);
/* New size: pending damage becomes the whole new surface. */
void damage_resize (DamageAccumulator *acc, uint32_t width, uint32_t height);
/* Adds a rectangle (clipped; empty ones ignored). Overlapping or touching
 * rectangles merge; past DAMAGE_MAX_RECTS the pair whose union wastes the
 * least area merges. */
void damage_add (DamageAccumulator *acc, DisplayRect r);
void damage_add_all (DamageAccumulator *acc);
bool damage_pending (const DamageAccumulator *acc);
/* If damage is pending and at least interval_ns passed since the previous
 * take, moves the rectangles to out and returns their count; else 0. */
size_t damage_take (DamageAccumulator *acc, int64_t now_ns, DisplayRect out[DAMAGE_MAX_RECTS]);

/* Adds the screen area covered by the set bits of a bitmap of 4 KiB pages
 * (bit i = bytes [i * 4096, (i + 1) * 4096) of VRAM), for a framebuffer at
 * fb_offset with the surface's stride and format. Runs of pages become one
 * band; a run inside one line narrows to the columns it covers. */
void damage_add_dirty_pages (DamageAccumulator *acc, const uint64_t *bitmap, size_t npages,
                             const DisplaySurface *s, uint64_t fb_offset);

/* Software dirty tracking for engines without it: compares the framebuffer
 * with a shadow copy page by page, sets the bits of changed pages in bitmap
 * and refreshes the shadow. The shadow must be as large as the framebuffer
 * span (stride * height); pages are counted from fb_offset rounded down. */
typedef struct DirtyCompare
{
  uint8_t *shadow;
  size_t size;
} DirtyCompare;

void dirty_compare_init (DirtyCompare *dc);
void dirty_compare_free (DirtyCompare *dc);
/* Returns the number of dirty pages found; the first call (or after a
 * size change) reports everything. bitmap holds npages bits, cleared first. */
size_t dirty_compare_scan (DirtyCompare *dc, const uint8_t *vram, uint64_t vram_size,
                           uint64_t start, uint64_t len, uint64_t *bitmap, size_t npages);
