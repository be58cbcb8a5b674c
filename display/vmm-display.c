/* Display hub: polls the source, turns dirty pages into damage, fans out. */
#include "display/vmm-display.h"

#include <string.h>

#define MAX_LISTENERS 8

struct VmmDisplay
{
  DisplaySource src;
  GMutex *device_lock;
  unsigned refresh_hz;
  DisplayDirtyFn dirty_fn;
  void *dirty_opaque;

  GMutex lock; /* listeners, accumulator, surface */
  DisplayListener *listeners[MAX_LISTENERS];
  size_t nlisteners;
  DisplaySurface surface;
  DamageAccumulator acc;
  DirtyCompare compare;
  uint64_t *bitmap;
  size_t bitmap_pages;
  uint64_t updates;

  GThread *thread;
  GMutex thread_lock;
  GCond thread_cond;
  bool stop;
};

VmmDisplay *
vmm_display_new (const DisplaySource *src, GMutex *device_lock, unsigned refresh_hz)
{
  VmmDisplay *d = g_new0 (VmmDisplay, 1);
  d->src = *src;
  d->device_lock = device_lock;
  d->refresh_hz = refresh_hz ? MIN (refresh_hz, 240u) : 60;
  g_mutex_init (&d->lock);
  g_mutex_init (&d->thread_lock);
  g_cond_init (&d->thread_cond);
  damage_init (&d->acc, 0, 0, 1000000000 / d->refresh_hz);
  dirty_compare_init (&d->compare);
  return d;
}

void
vmm_display_free (VmmDisplay *d)
{
  if (!d)
    return;
  vmm_display_stop (d);
  dirty_compare_free (&d->compare);
  g_free (d->bitmap);
  g_mutex_clear (&d->lock);
  g_mutex_clear (&d->thread_lock);
  g_cond_clear (&d->thread_cond);
  g_free (d);
}

void
vmm_display_set_dirty_fn (VmmDisplay *d, DisplayDirtyFn fn, void *opaque)
{
  g_mutex_lock (&d->lock);
  d->dirty_fn = fn;
  d->dirty_opaque = opaque;
  g_mutex_unlock (&d->lock);
}

unsigned
vmm_display_refresh_hz (const VmmDisplay *d)
{
  return d->refresh_hz;
}

void
vmm_display_add_listener (VmmDisplay *d, DisplayListener *l)
{
  g_mutex_lock (&d->lock);
  if (d->nlisteners < MAX_LISTENERS)
    {
      d->listeners[d->nlisteners++] = l;
      if (d->surface.format != DISPLAY_FORMAT_NONE)
        {
          l->surface_changed (l, &d->surface);
          damage_add_all (&d->acc);
        }
    }
  else
    g_warning ("display: too many listeners");
  g_mutex_unlock (&d->lock);
}

void
vmm_display_remove_listener (VmmDisplay *d, DisplayListener *l)
{
  g_mutex_lock (&d->lock);
  for (size_t i = 0; i < d->nlisteners; i++)
    if (d->listeners[i] == l)
      {
        memmove (&d->listeners[i], &d->listeners[i + 1],
                 (d->nlisteners - i - 1) * sizeof d->listeners[0]);
        d->nlisteners--;
        break;
      }
  g_mutex_unlock (&d->lock);
}

void
vmm_display_invalidate (VmmDisplay *d)
{
  g_mutex_lock (&d->lock);
  damage_add_all (&d->acc);
  g_mutex_unlock (&d->lock);
}

void
vmm_display_damage (VmmDisplay *d, DisplayRect r)
{
  g_mutex_lock (&d->lock);
  damage_add (&d->acc, r);
  g_mutex_unlock (&d->lock);
}

static void
collect_dirty (VmmDisplay *d, const DisplaySurface *s)
{
  if (!s->data || s->fd_size == 0)
    return;
  size_t npages = (size_t)((s->fd_size + DAMAGE_PAGE_SIZE - 1) / DAMAGE_PAGE_SIZE);
  if (d->bitmap_pages != npages)
    {
      g_free (d->bitmap);
      d->bitmap = g_new0 (uint64_t, (npages + 63) / 64);
      d->bitmap_pages = npages;
    }
  bool have = false;
  if (d->dirty_fn)
    {
      memset (d->bitmap, 0, (npages + 63) / 64 * sizeof (uint64_t));
      have = d->dirty_fn (d->dirty_opaque, d->bitmap, npages);
    }
  if (!have)
    {
      const uint8_t *vram = s->data - s->offset;
      dirty_compare_scan (&d->compare, vram, s->fd_size, s->offset, (uint64_t)s->stride * s->height,
                          d->bitmap, npages);
    }
  damage_add_dirty_pages (&d->acc, d->bitmap, npages, s, s->offset);
}

void
vmm_display_refresh (VmmDisplay *d, int64_t now_ns)
{
  DisplaySurface s;
  if (d->device_lock)
    g_mutex_lock (d->device_lock);
  d->src.get_surface (d->src.opaque, &s);
  if (d->device_lock)
    g_mutex_unlock (d->device_lock);

  g_mutex_lock (&d->lock);
  if (!display_surface_same_mode (&s, &d->surface) || s.generation != d->surface.generation)
    {
      bool same_geometry = s.format == d->surface.format && s.width == d->surface.width
                           && s.height == d->surface.height && s.stride == d->surface.stride;
      d->surface = s;
      if (same_geometry)
        /* A page flip (the visible part of VRAM moved): listeners pick the
         * new pixels up from the surface passed with the update. */
        damage_add_all (&d->acc);
      else
        {
          damage_resize (&d->acc, s.width, s.height);
          for (size_t i = 0; i < d->nlisteners; i++)
            d->listeners[i]->surface_changed (d->listeners[i], &s);
        }
    }
  /* Nobody watching (headless): no dirty scan at all; a listener that
   * comes later starts with the whole screen. */
  if (s.format != DISPLAY_FORMAT_NONE && d->nlisteners > 0)
    {
      collect_dirty (d, &s);
      DisplayRect rects[DAMAGE_MAX_RECTS];
      size_t n = damage_take (&d->acc, now_ns, rects);
      if (n)
        {
          d->updates++;
          for (size_t i = 0; i < d->nlisteners; i++)
            d->listeners[i]->update (d->listeners[i], &s, rects, n);
        }
    }
  g_mutex_unlock (&d->lock);
}

static gpointer
refresh_thread (gpointer data)
{
  VmmDisplay *d = data;
  int64_t interval_us = 1000000 / d->refresh_hz;
  g_mutex_lock (&d->thread_lock);
  while (!d->stop)
    {
      g_mutex_unlock (&d->thread_lock);
      vmm_display_refresh (d, g_get_monotonic_time () * 1000);
      g_mutex_lock (&d->thread_lock);
      gint64 until = g_get_monotonic_time () + interval_us;
      while (!d->stop && g_cond_wait_until (&d->thread_cond, &d->thread_lock, until))
        ;
    }
  g_mutex_unlock (&d->thread_lock);
  return NULL;
}

void
vmm_display_start (VmmDisplay *d)
{
  if (d->thread)
    return;
  d->stop = false;
  d->thread = g_thread_new ("vmm-display", refresh_thread, d);
}

void
vmm_display_stop (VmmDisplay *d)
{
  if (!d->thread)
    return;
  g_mutex_lock (&d->thread_lock);
  d->stop = true;
  g_cond_broadcast (&d->thread_cond);
  g_mutex_unlock (&d->thread_lock);
  g_thread_join (d->thread);
  d->thread = NULL;
}

void
vmm_display_get_surface (VmmDisplay *d, DisplaySurface *out)
{
  g_mutex_lock (&d->lock);
  *out = d->surface;
  g_mutex_unlock (&d->lock);
}

uint64_t
vmm_display_update_count (VmmDisplay *d)
{
  g_mutex_lock (&d->lock);
  uint64_t n = d->updates;
  g_mutex_unlock (&d->lock);
  return n;
}
