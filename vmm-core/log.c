#include "vmm-core/log.h"

#include <stdarg.h>
#include <stdio.h>

enum { BURST = 10, WINDOW_US = G_USEC_PER_SEC };

static GMutex log_lock;
static guint64 guest_errors;
static gboolean quiet;

void
vmm_log_set_quiet (gboolean q)
{
  g_atomic_int_set (&quiet, q);
}

guint64
vmm_guest_error_count (void)
{
  g_mutex_lock (&log_lock);
  guint64 n = guest_errors;
  g_mutex_unlock (&log_lock);
  return n;
}

void
vmm_ratelimit_log (VmmRatelimit *rl, const char *area, const char *fmt, ...)
{
  gint64 now = g_get_monotonic_time ();
  unsigned reported_suppressed = 0;
  gboolean print;

  g_mutex_lock (&log_lock);
  guest_errors++;
  if (now - rl->window_start_us >= WINDOW_US)
    {
      reported_suppressed = rl->suppressed;
      rl->window_start_us = now;
      rl->printed = 0;
      rl->suppressed = 0;
    }
  print = rl->printed < BURST;
  if (print)
    rl->printed++;
  else
    rl->suppressed++;

  if (print && !g_atomic_int_get (&quiet))
    {
      va_list ap;
      char *msg;

      va_start (ap, fmt);
      msg = g_strdup_vprintf (fmt, ap);
      va_end (ap);
      if (reported_suppressed)
        fprintf (stderr, "vireo: guest: %s: %s (%u similar messages suppressed)\n",
                 area, msg, reported_suppressed);
      else
        fprintf (stderr, "vireo: guest: %s: %s\n", area, msg);
      g_free (msg);
    }
  g_mutex_unlock (&log_lock);
}
