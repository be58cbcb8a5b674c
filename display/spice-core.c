/* spice-server's event loop on a dedicated GMainContext thread. */
#include "display/spice-core.h"

#include <glib-unix.h>

struct SpiceTimer
{
  SpiceTimerFunc func;
  void *opaque;
  GSource *source;
};

struct SpiceWatch
{
  int fd;
  int mask;
  SpiceWatchFunc func;
  void *opaque;
  GSource *source;
};

static GMutex loop_lock;
/* Timer fields: spice-server is expected to use its core from one thread,
 * but a timer armed from another must not race with its firing. */
static GMutex timer_lock;
static unsigned loop_refs;
static GMainContext *loop_ctx;
static GMainLoop *loop_main;
static GThread *loop_thread;

static gboolean
timer_fire (gpointer data)
{
  SpiceTimer *t = data;
  /* One-shot: spice re-arms from inside func when it wants more. */
  g_mutex_lock (&timer_lock);
  if (t->source == g_main_current_source ()) /* not re-armed meanwhile */
    g_clear_pointer (&t->source, g_source_unref);
  g_mutex_unlock (&timer_lock);
  t->func (t->opaque);
  return G_SOURCE_REMOVE;
}

static SpiceTimer *
core_timer_add (SpiceTimerFunc func, void *opaque)
{
  SpiceTimer *t = g_new0 (SpiceTimer, 1);
  t->func = func;
  t->opaque = opaque;
  return t;
}

static void
cancel_locked (SpiceTimer *t)
{
  if (t->source)
    {
      g_source_destroy (t->source);
      g_clear_pointer (&t->source, g_source_unref);
    }
}

static void
core_timer_cancel (SpiceTimer *t)
{
  g_mutex_lock (&timer_lock);
  cancel_locked (t);
  g_mutex_unlock (&timer_lock);
}

static void
core_timer_start (SpiceTimer *t, uint32_t ms)
{
  g_mutex_lock (&timer_lock);
  cancel_locked (t);
  t->source = g_timeout_source_new (ms);
  g_source_set_callback (t->source, timer_fire, t, NULL);
  g_source_attach (t->source, loop_ctx);
  g_mutex_unlock (&timer_lock);
}

static void
core_timer_remove (SpiceTimer *t)
{
  core_timer_cancel (t);
  g_free (t);
}

static gboolean
watch_fire (gint fd, GIOCondition cond, gpointer data)
{
  SpiceWatch *w = data;
  int events = 0;
  if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))
    events |= SPICE_WATCH_EVENT_READ;
  if (cond & G_IO_OUT)
    events |= SPICE_WATCH_EVENT_WRITE;
  /* func may remove (free) w: touch nothing after it. */
  w->func (fd, events, w->opaque);
  return G_SOURCE_CONTINUE;
}

static void
watch_attach (SpiceWatch *w)
{
  GIOCondition cond = 0;
  if (w->mask & SPICE_WATCH_EVENT_READ)
    cond |= G_IO_IN | G_IO_HUP | G_IO_ERR;
  if (w->mask & SPICE_WATCH_EVENT_WRITE)
    cond |= G_IO_OUT | G_IO_ERR;
  if (!cond)
    return;
  w->source = g_unix_fd_source_new (w->fd, cond);
  g_source_set_callback (w->source, G_SOURCE_FUNC (watch_fire), w, NULL);
  g_source_attach (w->source, loop_ctx);
}

static void
watch_detach (SpiceWatch *w)
{
  if (w->source)
    {
      g_source_destroy (w->source);
      g_source_unref (w->source);
      w->source = NULL;
    }
}

static SpiceWatch *
core_watch_add (int fd, int mask, SpiceWatchFunc func, void *opaque)
{
  SpiceWatch *w = g_new0 (SpiceWatch, 1);
  w->fd = fd;
  w->mask = mask;
  w->func = func;
  w->opaque = opaque;
  watch_attach (w);
  return w;
}

static void
core_watch_update_mask (SpiceWatch *w, int mask)
{
  if (w->mask == mask && w->source)
    return;
  watch_detach (w);
  w->mask = mask;
  watch_attach (w);
}

static void
core_watch_remove (SpiceWatch *w)
{
  watch_detach (w);
  g_free (w);
}

static void
core_channel_event (int event, SpiceChannelEventInfo *info)
{
  if (event == SPICE_CHANNEL_EVENT_INITIALIZED && info->type == 1 /* main */)
    g_message ("spice: client connected");
  else if (event == SPICE_CHANNEL_EVENT_DISCONNECTED && info->type == 1)
    g_message ("spice: client disconnected");
}

static SpiceCoreInterface core_iface = {
  .base = {
    .type = SPICE_INTERFACE_CORE,
    .description = "vireo core",
    .major_version = SPICE_INTERFACE_CORE_MAJOR,
    .minor_version = SPICE_INTERFACE_CORE_MINOR,
  },
  .timer_add = core_timer_add,
  .timer_start = core_timer_start,
  .timer_cancel = core_timer_cancel,
  .timer_remove = core_timer_remove,
  .watch_add = core_watch_add,
  .watch_update_mask = core_watch_update_mask,
  .watch_remove = core_watch_remove,
  .channel_event = core_channel_event,
};

static gpointer
loop_run (gpointer data)
{
  g_main_context_push_thread_default (loop_ctx);
  g_main_loop_run (loop_main);
  g_main_context_pop_thread_default (loop_ctx);
  return NULL;
}

SpiceCoreInterface *
spice_core_loop_acquire (void)
{
  g_mutex_lock (&loop_lock);
  if (loop_refs++ == 0)
    {
      loop_ctx = g_main_context_new ();
      loop_main = g_main_loop_new (loop_ctx, FALSE);
      loop_thread = g_thread_new ("spice-core", loop_run, NULL);
    }
  g_mutex_unlock (&loop_lock);
  return &core_iface;
}

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (loop_main);
  return G_SOURCE_REMOVE;
}

void
spice_core_loop_release (void)
{
  g_mutex_lock (&loop_lock);
  if (loop_refs > 0 && --loop_refs == 0)
    {
      g_main_context_invoke (loop_ctx, quit_loop, NULL);
      g_thread_join (loop_thread);
      g_main_loop_unref (loop_main);
      g_main_context_unref (loop_ctx);
      loop_thread = NULL;
      loop_main = NULL;
      loop_ctx = NULL;
    }
  g_mutex_unlock (&loop_lock);
}

GMainContext *
spice_core_loop_context (void)
{
  return loop_ctx;
}
