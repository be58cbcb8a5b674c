/* Shared-memory export: hub callbacks marshalled to a main context. */
#include "display/shm-export.h"

struct DisplayShmExport
{
  DisplayListener listener; /* first */
  VmmDisplay *display;
  DisplayShmCallbacks cb;
  GMainContext *context;

  GMutex lock; /* below */
  DisplaySurface surface;
  bool surface_pending;
  DamageAccumulator acc;
  GSource *idle; /* scheduled delivery, or NULL */
  bool closing;
};

static gboolean
deliver (gpointer data)
{
  DisplayShmExport *e = data;
  g_mutex_lock (&e->lock);
  bool changed = e->surface_pending;
  DisplaySurface s = e->surface;
  DisplayRect rects[DAMAGE_MAX_RECTS];
  size_t n = damage_take (&e->acc, 0, rects);
  e->surface_pending = false;
  g_clear_pointer (&e->idle, g_source_unref);
  g_mutex_unlock (&e->lock);

  if (changed && e->cb.surface_changed)
    e->cb.surface_changed (e->cb.opaque, &s);
  if (n && e->cb.damage)
    e->cb.damage (e->cb.opaque, rects, n);
  return G_SOURCE_REMOVE;
}

/* Lock held. */
static void
schedule (DisplayShmExport *e)
{
  if (e->idle || e->closing)
    return;
  e->idle = g_idle_source_new ();
  g_source_set_priority (e->idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (e->idle, deliver, e, NULL);
  g_source_attach (e->idle, e->context);
}

static void
on_surface_changed (DisplayListener *l, const DisplaySurface *s)
{
  DisplayShmExport *e = (DisplayShmExport *)l;
  g_mutex_lock (&e->lock);
  e->surface = *s;
  e->surface_pending = true;
  /* Damage for the old mode means nothing now. */
  damage_init (&e->acc, s->width, s->height, 0);
  schedule (e);
  g_mutex_unlock (&e->lock);
}

static void
on_update (DisplayListener *l, const DisplaySurface *s, const DisplayRect *rects, size_t n)
{
  DisplayShmExport *e = (DisplayShmExport *)l;
  g_mutex_lock (&e->lock);
  if (s->offset != e->surface.offset)
    {
      /* Page flip: the app must look at another part of the memfd. */
      e->surface = *s;
      e->surface_pending = true;
    }
  for (size_t i = 0; i < n; i++)
    damage_add (&e->acc, rects[i]);
  schedule (e);
  g_mutex_unlock (&e->lock);
}

DisplayShmExport *
display_shm_export_new (VmmDisplay *display, const DisplayShmCallbacks *cb, GMainContext *context)
{
  DisplayShmExport *e = g_new0 (DisplayShmExport, 1);
  e->listener = (DisplayListener){ on_surface_changed, on_update };
  e->display = display;
  e->cb = *cb;
  e->context = context ? g_main_context_ref (context) : g_main_context_ref_thread_default ();
  g_mutex_init (&e->lock);
  damage_init (&e->acc, 0, 0, 0);
  vmm_display_add_listener (display, &e->listener);
  return e;
}

void
display_shm_export_free (DisplayShmExport *e)
{
  if (!e)
    return;
  vmm_display_remove_listener (e->display, &e->listener);
  g_mutex_lock (&e->lock);
  e->closing = true;
  if (e->idle)
    {
      g_source_destroy (e->idle);
      g_clear_pointer (&e->idle, g_source_unref);
    }
  g_mutex_unlock (&e->lock);
  g_main_context_unref (e->context);
  g_mutex_clear (&e->lock);
  g_free (e);
}

void
display_shm_export_get_surface (DisplayShmExport *e, DisplaySurface *out)
{
  g_mutex_lock (&e->lock);
  *out = e->surface;
  g_mutex_unlock (&e->lock);
}
