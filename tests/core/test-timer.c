#include "vmm-core/timer.h"

typedef struct {
  TimerQueue *q;
  GArray *fired_at; /* int64_t vclock times */
  VmmTimer *self;
  int64_t period;   /* >0: re-arm */
} Ctx;

static void
on_fire (void *opaque)
{
  Ctx *c = opaque;
  int64_t now = timer_queue_now (c->q);
  g_array_append_val (c->fired_at, now);
  if (c->period > 0)
    vmm_timer_mod (c->self, vmm_timer_expire (c->self) + c->period);
}

static void
test_manual_order (void)
{
  GMutex lock;
  g_mutex_init (&lock);
  TimerQueue *q = timer_queue_new_manual (&lock);
  Ctx a = { q, g_array_new (FALSE, FALSE, sizeof (int64_t)), NULL, 0 };
  Ctx b = { q, g_array_new (FALSE, FALSE, sizeof (int64_t)), NULL, 1000 };

  a.self = vmm_timer_new (q, on_fire, &a);
  b.self = vmm_timer_new (q, on_fire, &b);
  vmm_timer_mod (a.self, 2500);
  vmm_timer_mod (b.self, 1000); /* periodic 1 us */

  timer_queue_advance (q, 999);
  g_assert_cmpuint (b.fired_at->len, ==, 0);
  timer_queue_advance (q, 3001); /* to 4000 */
  g_assert_cmpint (timer_queue_now (q), ==, 4000);
  g_assert_cmpuint (a.fired_at->len, ==, 1);
  g_assert_cmpint (g_array_index (a.fired_at, int64_t, 0), ==, 2500);
  g_assert_cmpuint (b.fired_at->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpint (g_array_index (b.fired_at, int64_t, i), ==, 1000 * (i + 1));
  g_assert_false (vmm_timer_pending (a.self));

  vmm_timer_del (b.self);
  timer_queue_advance (q, 10000);
  g_assert_cmpuint (b.fired_at->len, ==, 4);

  vmm_timer_free (a.self);
  vmm_timer_free (b.self);
  timer_queue_free (q);
  g_array_unref (a.fired_at);
  g_array_unref (b.fired_at);
  g_mutex_clear (&lock);
}

static void
test_thread_fires_and_pause_freezes (void)
{
  GMutex lock;
  g_mutex_init (&lock);
  TimerQueue *q = timer_queue_new (&lock);
  Ctx a = { q, g_array_new (FALSE, FALSE, sizeof (int64_t)), NULL, 0 };

  g_mutex_lock (&lock);
  a.self = vmm_timer_new (q, on_fire, &a);
  vmm_timer_mod (a.self, timer_queue_now (q) + 2 * 1000 * 1000); /* 2 ms */
  g_mutex_unlock (&lock);

  for (int i = 0; i < 2000; i++)
    {
      g_mutex_lock (&lock);
      guint n = a.fired_at->len;
      g_mutex_unlock (&lock);
      if (n)
        break;
      g_usleep (1000);
    }
  g_assert_cmpuint (a.fired_at->len, ==, 1);

  /* A paused clock stands still. */
  timer_queue_pause (q);
  int64_t t0 = timer_queue_now (q);
  g_usleep (20000);
  g_assert_cmpint (timer_queue_now (q), ==, t0);
  timer_queue_resume (q);
  g_usleep (5000);
  int64_t t1 = timer_queue_now (q);
  g_assert_cmpint (t1, >, t0);
  g_assert_cmpint (t1 - t0, <, 15 * 1000 * 1000); /* the 20 ms pause is not counted */

  /* Restore sets the clock. */
  g_mutex_lock (&lock);
  timer_queue_set_now (q, 5000000000ll);
  g_mutex_unlock (&lock);
  g_assert_cmpint (timer_queue_now (q), >=, 5000000000ll);

  g_mutex_lock (&lock);
  vmm_timer_free (a.self);
  g_mutex_unlock (&lock);
  timer_queue_free (q);
  g_array_unref (a.fired_at);
  g_mutex_clear (&lock);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/timer/manual-order", test_manual_order);
  g_test_add_func ("/timer/thread-fires-and-pause-freezes", test_thread_fires_and_pause_freezes);
  return g_test_run ();
}
