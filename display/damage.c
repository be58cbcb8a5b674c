/* Damage rectangles: merging, rate limiting, dirty pages → rectangles. */
#include "display/damage.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t
area (DisplayRect r)
{
  return (uint64_t)r.w * r.h;
}

static DisplayRect
rect_union (DisplayRect a, DisplayRect b)
{
  uint32_t x0 = a.x < b.x ? a.x : b.x;
  uint32_t y0 = a.y < b.y ? a.y : b.y;
  uint32_t x1 = a.x + a.w > b.x + b.w ? a.x + a.w : b.x + b.w;
  uint32_t y1 = a.y + a.h > b.y + b.h ? a.y + a.h : b.y + b.h;
  return (DisplayRect){ x0, y0, x1 - x0, y1 - y0 };
}

/* Overlapping or sharing an edge: merging costs no extra area worth a
 * second rectangle. */
static bool
rect_touch (DisplayRect a, DisplayRect b)
{
  return a.x <= b.x + b.w && b.x <= a.x + a.w && a.y <= b.y + b.h && b.y <= a.y + a.h
         && !((a.x == b.x + b.w || b.x == a.x + a.w) && (a.y == b.y + b.h || b.y == a.y + a.h));
}

void
damage_init (DamageAccumulator *acc, uint32_t width, uint32_t height, int64_t interval_ns)
{
  memset (acc, 0, sizeof *acc);
  acc->width = width;
  acc->height = height;
  acc->interval_ns = interval_ns;
}

void
damage_resize (DamageAccumulator *acc, uint32_t width, uint32_t height)
{
  acc->width = width;
  acc->height = height;
  acc->count = 0;
  damage_add_all (acc);
}

static void
remove_at (DamageAccumulator *acc, size_t i)
{
  acc->rects[i] = acc->rects[--acc->count];
}

void
damage_add (DamageAccumulator *acc, DisplayRect r)
{
  if (r.x >= acc->width || r.y >= acc->height || r.w == 0 || r.h == 0)
    return;
  if (r.w > acc->width - r.x)
    r.w = acc->width - r.x;
  if (r.h > acc->height - r.y)
    r.h = acc->height - r.y;

  /* Absorb every rectangle r touches; the union may touch more. */
  bool merged = true;
  while (merged)
    {
      merged = false;
      for (size_t i = 0; i < acc->count; i++)
        if (rect_touch (acc->rects[i], r))
          {
            r = rect_union (acc->rects[i], r);
            remove_at (acc, i);
            merged = true;
            break;
          }
    }

  if (acc->count < DAMAGE_MAX_RECTS)
    {
      acc->rects[acc->count++] = r;
      return;
    }
  /* Full: merge r into the rectangle where that wastes least. */
  size_t best = 0;
  uint64_t best_waste = UINT64_MAX;
  for (size_t i = 0; i < acc->count; i++)
    {
      uint64_t waste = area (rect_union (acc->rects[i], r)) - area (acc->rects[i]) - area (r);
      if (waste < best_waste)
        {
          best_waste = waste;
          best = i;
        }
    }
  r = rect_union (acc->rects[best], r);
  remove_at (acc, best);
  damage_add (acc, r); /* the bigger rectangle may now touch others */
}

void
damage_add_all (DamageAccumulator *acc)
{
  acc->count = 0;
  damage_add (acc, (DisplayRect){ 0, 0, acc->width, acc->height });
}

bool
damage_pending (const DamageAccumulator *acc)
{
  return acc->count > 0;
}

size_t
damage_take (DamageAccumulator *acc, int64_t now_ns, DisplayRect out[DAMAGE_MAX_RECTS])
{
  if (acc->count == 0)
    return 0;
  if (acc->taken_once && now_ns - acc->last_take_ns < acc->interval_ns)
    return 0;
  size_t n = acc->count;
  memcpy (out, acc->rects, n * sizeof *out);
  acc->count = 0;
  acc->last_take_ns = now_ns;
  acc->taken_once = true;
  return n;
}

static void
add_byte_span (DamageAccumulator *acc, const DisplaySurface *s, uint64_t start, uint64_t end)
{
  /* [start, end) in bytes relative to pixel (0, 0). */
  unsigned bpp = display_format_bpp (s->format);
  if (bpp == 0 || s->stride == 0)
    return;
  uint64_t first_line = start / s->stride;
  uint64_t last_line = (end - 1) / s->stride;
  if (first_line >= s->height)
    return;
  if (last_line >= s->height)
    last_line = s->height - 1;
  if (first_line == last_line)
    {
      uint64_t x0 = (start % s->stride) / bpp;
      uint64_t x1 = ((end - 1) % s->stride) / bpp + 1;
      if (x0 >= s->width)
        return; /* padding beyond the visible line */
      if (x1 > s->width)
        x1 = s->width;
      damage_add (acc, (DisplayRect){ (uint32_t)x0, (uint32_t)first_line, (uint32_t)(x1 - x0), 1 });
      return;
    }
  damage_add (acc, (DisplayRect){ 0, (uint32_t)first_line, s->width,
                                  (uint32_t)(last_line - first_line + 1) });
}

void
damage_add_dirty_pages (DamageAccumulator *acc, const uint64_t *bitmap, size_t npages,
                        const DisplaySurface *s, uint64_t fb_offset)
{
  uint64_t fb_len = (uint64_t)s->stride * s->height;
  size_t i = 0;
  while (i < npages)
    {
      if (!(bitmap[i / 64] >> (i % 64) & 1))
        {
          /* Skip clean words quickly. */
          if (i % 64 == 0 && bitmap[i / 64] == 0)
            i += 64;
          else
            i++;
          continue;
        }
      size_t run = i;
      while (run < npages && (bitmap[run / 64] >> (run % 64) & 1))
        run++;
      uint64_t start = (uint64_t)i * DAMAGE_PAGE_SIZE;
      uint64_t end = (uint64_t)run * DAMAGE_PAGE_SIZE;
      i = run;
      /* Clip to the framebuffer's bytes. */
      if (end <= fb_offset || start >= fb_offset + fb_len)
        continue;
      start = start < fb_offset ? 0 : start - fb_offset;
      end = end - fb_offset > fb_len ? fb_len : end - fb_offset;
      add_byte_span (acc, s, start, end);
    }
}

void
dirty_compare_init (DirtyCompare *dc)
{
  dc->shadow = NULL;
  dc->size = 0;
}

void
dirty_compare_free (DirtyCompare *dc)
{
  free (dc->shadow);
  dirty_compare_init (dc);
}

size_t
dirty_compare_scan (DirtyCompare *dc, const uint8_t *vram, uint64_t vram_size, uint64_t start,
                    uint64_t len, uint64_t *bitmap, size_t npages)
{
  memset (bitmap, 0, (npages + 63) / 64 * sizeof *bitmap);
  if (start >= vram_size)
    return 0;
  if (len > vram_size - start)
    len = vram_size - start;
  bool fresh = false;
  if (dc->size != vram_size)
    {
      free (dc->shadow);
      dc->shadow = malloc (vram_size);
      dc->size = dc->shadow ? vram_size : 0;
      fresh = true;
      if (!dc->shadow)
        return 0;
    }
  size_t found = 0;
  uint64_t first = start / DAMAGE_PAGE_SIZE;
  uint64_t last = (start + len + DAMAGE_PAGE_SIZE - 1) / DAMAGE_PAGE_SIZE;
  for (uint64_t p = first; p < last && p < npages; p++)
    {
      uint64_t off = p * DAMAGE_PAGE_SIZE;
      size_t n = off + DAMAGE_PAGE_SIZE > vram_size ? vram_size - off : DAMAGE_PAGE_SIZE;
      if (fresh || memcmp (dc->shadow + off, vram + off, n) != 0)
        {
          memcpy (dc->shadow + off, vram + off, n);
          bitmap[p / 64] |= 1ull << (p % 64);
          found++;
        }
    }
  return found;
}
