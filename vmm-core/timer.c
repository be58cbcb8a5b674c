#include "vmm-core/timer.h"

struct VmmTimer {
  TimerQueue *queue;
  VmmTimerFn fn;
  void *opaque;
  int64_t expire;
  bool pending;
};

struct TimerQueue {
  GMutex *lock;
  GCond cond;
  GThread *thread;
  bool manual;
  bool quit;

  /* vclock = host_monotonic - offset while running; frozen at `frozen` while
   * paused. Guarded by clock_lock so any thread may read it. */
  GMutex clock_lock;
  bool paused;
  int64_t offset;
  int64_t frozen;
  int64_t manual_now;

  GPtrArray *armed; /* VmmTimer*, unsorted: machines have a handful */
};

static int64_t
host_ns (void)
{
  return g_get_monotonic_time () * 1000;
}

int64_t
timer_queue_now (TimerQueue *q)
{
  int64_t now;
  g_mutex_lock (&q->clock_lock);
  if (q->manual)
    now = q->manual_now;
  else if (q->paused)
    now = q->frozen;
  else
    now = host_ns () - q->offset;
  g_mutex_unlock (&q->clock_lock);
  return now;
}

void
timer_queue_set_now (TimerQueue *q, int64_t now_ns)
{
  g_mutex_lock (&q->clock_lock);
  if (q->manual)
    q->manual_now = now_ns;
  else if (q->paused)
    q->frozen = now_ns;
  else
    q->offset = host_ns () - now_ns;
  g_mutex_unlock (&q->clock_lock);
  g_cond_signal (&q->cond);
}

void
timer_queue_pause (TimerQueue *q)
{
  g_mutex_lock (&q->clock_lock);
  if (!q->paused && !q->manual)
    {
      q->frozen = host_ns () - q->offset;
      q->paused = true;
    }
  g_mutex_unlock (&q->clock_lock);
}

void
timer_queue_resume (TimerQueue *q)
{
  g_mutex_lock (&q->clock_lock);
  if (q->paused)
    {
      q->offset = host_ns () - q->frozen;
      q->paused = false;
    }
  g_mutex_unlock (&q->clock_lock);
  g_cond_signal (&q->cond);
}

bool
timer_queue_is_paused (TimerQueue *q)
{
  g_mutex_lock (&q->clock_lock);
  bool p = q->paused;
  g_mutex_unlock (&q->clock_lock);
  return p;
}

/* Earliest armed timer, or NULL. Lock held. */
static VmmTimer *
earliest (TimerQueue *q)
{
  VmmTimer *best = NULL;
  for (guint i = 0; i < q->armed->len; i++)
    {
      VmmTimer *t = q->armed->pdata[i];
      if (!best || t->expire < best->expire)
        best = t;
    }
  return best;
}

/* Fire every timer due at `now`, earliest first. Lock held. */
static void
run_due (TimerQueue *q, int64_t now)
{
  VmmTimer *t;
  while ((t = earliest (q)) && t->expire <= now)
    {
      g_ptr_array_remove_fast (q->armed, t);
      t->pending = false;
      t->fn (t->opaque);
    }
}

static gpointer
timer_thread (gpointer data)
{
  TimerQueue *q = data;

  g_mutex_lock (q->lock);
  while (!q->quit)
    {
      int64_t now = timer_queue_now (q);
      if (!timer_queue_is_paused (q))
        run_due (q, now);
      VmmTimer *next = earliest (q);
      if (!next || timer_queue_is_paused (q))
        {
          /* Re-check at least every 100 ms (pause state lives outside lock). */
          g_cond_wait_until (&q->cond, q->lock,
                             g_get_monotonic_time () + 100 * G_TIME_SPAN_MILLISECOND);
          continue;
        }
      int64_t wait_ns = next->expire - timer_queue_now (q);
      if (wait_ns > 0)
        g_cond_wait_until (&q->cond, q->lock,
                           g_get_monotonic_time () + (wait_ns + 999) / 1000);
    }
  g_mutex_unlock (q->lock);
  return NULL;
}

static TimerQueue *
queue_new (GMutex *lock, bool manual)
{
  TimerQueue *q = g_new0 (TimerQueue, 1);
  q->lock = lock;
  q->manual = manual;
  g_cond_init (&q->cond);
  g_mutex_init (&q->clock_lock);
  q->armed = g_ptr_array_new ();
  q->offset = host_ns ();
  return q;
}

TimerQueue *
timer_queue_new (GMutex *lock)
{
  TimerQueue *q = queue_new (lock, false);
  q->thread = g_thread_new ("vmm-timers", timer_thread, q);
  return q;
}

TimerQueue *
timer_queue_new_manual (GMutex *lock)
{
  return queue_new (lock, true);
}

void
timer_queue_free (TimerQueue *q)
{
  if (!q)
    return;
  if (q->thread)
    {
      g_mutex_lock (q->lock);
      q->quit = true;
      g_cond_signal (&q->cond);
      g_mutex_unlock (q->lock);
      g_thread_join (q->thread);
    }
  for (guint i = 0; i < q->armed->len; i++)
    ((VmmTimer *) q->armed->pdata[i])->pending = false;
  g_ptr_array_free (q->armed, TRUE);
  g_cond_clear (&q->cond);
  g_mutex_clear (&q->clock_lock);
  g_free (q);
}

void
timer_queue_advance (TimerQueue *q, int64_t ns)
{
  g_return_if_fail (q->manual);
  int64_t target = q->manual_now + ns;
  VmmTimer *t;
  /* Step through each due timer so callbacks see the time they fire at. */
  while ((t = earliest (q)) && t->expire <= target)
    {
      g_mutex_lock (&q->clock_lock);
      if (t->expire > q->manual_now)
        q->manual_now = t->expire;
      g_mutex_unlock (&q->clock_lock);
      run_due (q, q->manual_now);
    }
  g_mutex_lock (&q->clock_lock);
  q->manual_now = target;
  g_mutex_unlock (&q->clock_lock);
}

VmmTimer *
vmm_timer_new (TimerQueue *q, VmmTimerFn fn, void *opaque)
{
  VmmTimer *t = g_new0 (VmmTimer, 1);
  t->queue = q;
  t->fn = fn;
  t->opaque = opaque;
  return t;
}

void
vmm_timer_free (VmmTimer *t)
{
  if (!t)
    return;
  vmm_timer_del (t);
  g_free (t);
}

void
vmm_timer_mod (VmmTimer *t, int64_t expire_ns)
{
  t->expire = expire_ns;
  if (!t->pending)
    {
      g_ptr_array_add (t->queue->armed, t);
      t->pending = true;
    }
  g_cond_signal (&t->queue->cond);
}

void
vmm_timer_del (VmmTimer *t)
{
  if (t->pending)
    {
      g_ptr_array_remove_fast (t->queue->armed, t);
      t->pending = false;
    }
}

bool
vmm_timer_pending (const VmmTimer *t)
{
  return t->pending;
}

int64_t
vmm_timer_expire (const VmmTimer *t)
{
  return t->expire;
}
