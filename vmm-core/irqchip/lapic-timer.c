/* The LAPIC timer: one-shot and periodic counting of the 1 GHz bus clock
 * through the divider, and the TSC-deadline mode (SDM 10.5.4). Counts are
 * computed from the virtual clock, so reads are exact at any moment. */
#include "vmm-core/irqchip/lapic-internal.h"

#include "vmm-core/log.h"
#include "vmm-core/timer.h"

static uint64_t
divisor (const Lapic *l)
{
  uint32_t d = l->timer_divide;
  unsigned v = (d & 3) | ((d & 8) >> 1);
  return 1ull << ((v + 1) & 7);
}

LapicTimerMode
lapic_timer_mode (const Lapic *l)
{
  return (LapicTimerMode) ((l->lvt[LAPIC_LVT_TIMER] >> 17) & 3);
}

static int64_t
period_ns (const Lapic *l)
{
  return (int64_t) ((uint64_t) l->timer_initial * divisor (l));
}

static int64_t
now (const Lapic *l)
{
  return timer_queue_now (l->timers);
}

uint32_t
lapic_timer_current (Lapic *l)
{
  LapicTimerMode mode = lapic_timer_mode (l);
  if (l->timer_initial == 0 || mode == LAPIC_TIMER_TSC_DEADLINE)
    return 0;
  int64_t elapsed = now (l) - l->timer_start;
  if (elapsed < 0)
    elapsed = 0;
  uint64_t ticks = (uint64_t) elapsed / divisor (l);
  if (mode == LAPIC_TIMER_PERIODIC)
    return l->timer_initial - (uint32_t) (ticks % l->timer_initial);
  return ticks >= l->timer_initial ? 0 : l->timer_initial - (uint32_t) ticks;
}

/* The first periodic boundary after `t`. */
static int64_t
next_period_after (const Lapic *l, int64_t t)
{
  int64_t p = period_ns (l);
  int64_t eff = p < LAPIC_MIN_PERIOD_NS ? LAPIC_MIN_PERIOD_NS : p;
  if (t < l->timer_start)
    return l->timer_start + eff;
  int64_t k = (t - l->timer_start) / eff + 1;
  return l->timer_start + k * eff;
}

void
lapic_timer_rearm (Lapic *l)
{
  vmm_timer_del (l->timer);
  switch (lapic_timer_mode (l))
    {
    case LAPIC_TIMER_TSC_DEADLINE:
      if (l->tsc_deadline)
        vmm_timer_mod (l->timer, l->deadline_ns);
      break;
    case LAPIC_TIMER_ONESHOT:
      {
        if (l->timer_initial == 0)
          break;
        int64_t expire = l->timer_start + period_ns (l);
        /* Already expired one-shots have fired (count reads 0). */
        if (expire > now (l))
          vmm_timer_mod (l->timer, expire);
        break;
      }
    case LAPIC_TIMER_PERIODIC:
      if (l->timer_initial == 0)
        break;
      if (period_ns (l) < LAPIC_MIN_PERIOD_NS)
        VMM_GUEST_ERROR ("lapic", "cpu %u: periodic timer of %" G_GINT64_FORMAT
                         " ns clamped to %d ns", l->index, period_ns (l), LAPIC_MIN_PERIOD_NS);
      vmm_timer_mod (l->timer, next_period_after (l, now (l) - 1));
      break;
    default:
      break;
    }
}

void
lapic_timer_fire (void *opaque)
{
  Lapic *l = opaque;
  switch (lapic_timer_mode (l))
    {
    case LAPIC_TIMER_TSC_DEADLINE:
      l->tsc_deadline = 0;
      break;
    case LAPIC_TIMER_PERIODIC:
      /* Next boundary after now: a late callback drops missed ticks rather
       * than firing a burst. */
      if (l->timer_initial)
        vmm_timer_mod (l->timer, next_period_after (l, now (l)));
      break;
    default:
      break;
    }
  lapic_local_deliver (l, LAPIC_LVT_TIMER);
}

void
lapic_timer_lvt_written (Lapic *l, uint32_t lvt)
{
  LapicTimerMode old = lapic_timer_mode (l);
  l->lvt[LAPIC_LVT_TIMER] = lvt;
  LapicTimerMode mode = lapic_timer_mode (l);
  if (mode != old)
    {
      /* Switching modes disarms the timer (SDM 10.5.4.1). */
      vmm_timer_del (l->timer);
      l->timer_initial = 0;
      l->tsc_deadline = 0;
    }
  lapic_update (l);
}

void
lapic_timer_initial_written (Lapic *l, uint32_t count)
{
  if (lapic_timer_mode (l) == LAPIC_TIMER_TSC_DEADLINE)
    return; /* ignored in TSC-deadline mode */
  l->timer_initial = count;
  l->timer_start = now (l);
  lapic_timer_rearm (l);
}

void
lapic_timer_divide_written (Lapic *l, uint32_t divide)
{
  /* Keep the current count and continue at the new rate. */
  uint32_t cur = lapic_timer_current (l);
  bool running = l->timer_initial && cur;
  l->timer_divide = divide;
  if (!running || lapic_timer_mode (l) == LAPIC_TIMER_TSC_DEADLINE)
    return;
  l->timer_start = now (l) - (int64_t) ((uint64_t) (l->timer_initial - cur) * divisor (l));
  lapic_timer_rearm (l);
}

void
lapic_set_tsc_hz (Lapic *l, uint64_t tsc_hz)
{
  l->tsc_hz = tsc_hz ? tsc_hz : 1;
}

uint64_t
lapic_get_tsc_deadline (Lapic *l)
{
  return lapic_timer_mode (l) == LAPIC_TIMER_TSC_DEADLINE ? l->tsc_deadline : 0;
}

void
lapic_set_tsc_deadline (Lapic *l, uint64_t deadline, uint64_t tsc_now)
{
  if (lapic_timer_mode (l) != LAPIC_TIMER_TSC_DEADLINE)
    return; /* SDM: writes are ignored outside TSC-deadline mode */
  l->tsc_deadline = deadline;
  vmm_timer_del (l->timer);
  if (!deadline)
    return;
  int64_t t = now (l);
  if (deadline <= tsc_now)
    l->deadline_ns = t;
  else
    {
      /* ceil(delta * 1e9 / hz) so the interrupt never comes before RDTSC
       * reads the deadline; saturate far deadlines. */
      unsigned __int128 ns = ((unsigned __int128) (deadline - tsc_now) * 1000000000u
                              + l->tsc_hz - 1) / l->tsc_hz;
      l->deadline_ns = ns > (unsigned __int128) (INT64_MAX / 2) ? INT64_MAX / 2 + t
                                                                : t + (int64_t) ns;
    }
  vmm_timer_mod (l->timer, l->deadline_ns);
}
