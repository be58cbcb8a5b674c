/* vCPU threads and the control loop: pause/resume, reset, power-off.
 *
 * Each vCPU thread loops over engine->vcpu_run. Between runs it checks, under
 * ctl_lock, whether it must park (a pause, or an event being handled) or
 * stop. Requests set a flag and kick every vCPU, so a vCPU inside guest code
 * comes out promptly. machine_run() sits on ctl_cond and handles the events
 * vCPUs and devices post: a reset happens with every vCPU parked. */
#include "vmm-core/machine-internal.h"

#include <stdio.h>
#include <gio/gio.h>

#include "vmm-core/snapshot-stream.h"


void
machine_notify (Machine *m, MachineState state, bool reset)
{
  if (m->state_fn)
    m->state_fn (m, state, reset, m->state_opaque);
}

/* Caller holds ctl_lock, so no kick can race with the joins and vcpu
 * destruction that follow a stop (machine_run sets stop under the lock and
 * nobody kicks once it is set). */
static void
kick_all (Machine *m)
{
  for (unsigned i = 0; i < m->ncpus; i++)
    m->engine->ops->vcpu_kick (m->vcpus[i].ev);
}

static bool
must_park (Machine *m)
{
  return (m->user_pause > 0 || m->event_hold) && !m->stop;
}

/* Caller holds ctl_lock. The first STOP wins: its status is the exit status. */
static void
post_locked (Machine *m, unsigned event, int status, char *message)
{
  if (event & MACHINE_EVENT_STOP && !(m->events & MACHINE_EVENT_STOP))
    {
      m->exit_status = status;
      g_free (m->exit_message);
      m->exit_message = message;
      message = NULL;
    }
  g_free (message);
  m->events |= event;
  m->event_hold = true;
  g_cond_broadcast (&m->ctl_cond);
}

void
machine_post_event (Machine *m, unsigned event, int status, char *message)
{
  g_mutex_lock (&m->ctl_lock);
  if (m->stop)
    g_free (message); /* already stopping: the first stop's status stands */
  else
    {
      post_locked (m, event, status, message);
      kick_all (m);
    }
  g_mutex_unlock (&m->ctl_lock);
}

static gpointer
vcpu_thread (gpointer data)
{
  MachineVcpu *v = data;
  Machine *m = v->m;
  const EngineOps *ops = m->engine->ops;

  for (;;)
    {
      g_mutex_lock (&m->ctl_lock);
      if (must_park (m))
        {
          m->parked++;
          g_cond_broadcast (&m->ctl_cond);
          while (must_park (m))
            g_cond_wait (&m->ctl_cond, &m->ctl_lock);
          m->parked--;
        }
      bool stop = m->stop;
      g_mutex_unlock (&m->ctl_lock);
      if (stop)
        break;

      switch (ops->vcpu_run (v->ev))
        {
        case VCPU_EXIT_KICK:
          break;
        case VCPU_EXIT_HALT:
          /* Halted with nothing to wake it (interrupts off): sleep until a
           * request or a short timeout, then let the engine look again. */
          g_mutex_lock (&m->ctl_lock);
          if (!must_park (m) && !m->stop)
            g_cond_wait_until (&m->ctl_cond, &m->ctl_lock,
                               g_get_monotonic_time () + 10 * G_TIME_SPAN_MILLISECOND);
          g_mutex_unlock (&m->ctl_lock);
          break;
        case VCPU_EXIT_SHUTDOWN:
          if (m->cfg.no_reboot)
            machine_post_event (m, MACHINE_EVENT_STOP, MACHINE_EXIT_TRIPLE_FAULT,
                                g_strdup_printf ("vCPU %u: triple fault", v->index));
          else
            machine_post_event (m, MACHINE_EVENT_RESET, 0, NULL);
          break;
        case VCPU_EXIT_RESET:
          machine_request_reset (m);
          break;
        case VCPU_EXIT_ERROR:
          machine_post_event (m, MACHINE_EVENT_STOP, MACHINE_EXIT_ENGINE_ERROR,
                              g_strdup_printf ("vCPU %u: %s", v->index,
                                               v->ev->error ? v->ev->error : "engine error"));
          break;
        }
    }
  return NULL;
}

bool
machine_start (Machine *m, GError **error)
{
  if (m->started)
    return true;
  m->started = true;
  m->state = MACHINE_STATE_RUNNING;
  timer_queue_resume (m->timers);
  for (unsigned i = 0; i < m->ncpus; i++)
    {
      char name[16];
      g_snprintf (name, sizeof name, "vcpu%u", i);
      m->vcpus[i].thread = g_thread_try_new (name, vcpu_thread, &m->vcpus[i], error);
      if (!m->vcpus[i].thread)
        {
          machine_request_poweroff (m);
          return false;
        }
    }
  machine_notify (m, MACHINE_STATE_RUNNING, false);
  return true;
}

/* Caller holds ctl_lock; returns with every vCPU parked, or once the
 * machine stops (its threads then exit instead of parking). */
static void
wait_parked (Machine *m)
{
  while (m->parked < m->ncpus && !m->stop)
    {
      kick_all (m);
      if (m->parked < m->ncpus)
        g_cond_wait_until (&m->ctl_cond, &m->ctl_lock,
                           g_get_monotonic_time () + 5 * G_TIME_SPAN_MILLISECOND);
    }
}

static bool
do_reset (Machine *m, GError **error)
{
  g_autoptr (SnapReader) r = NULL;

  g_mutex_lock (&m->device_lock);
  machine_reset_devices (m);
  g_mutex_unlock (&m->device_lock);
  r = snap_reader_new (m->pristine_platform, error);
  if (!r || !m->engine->ops->load_platform (m->engine, r, error))
    return false;
  return machine_load_boot_image (m, error);
}


int
machine_run (Machine *m)
{
  g_mutex_lock (&m->ctl_lock);
  while (m->started && !m->stop)
    {
      while (!m->events)
        g_cond_wait (&m->ctl_cond, &m->ctl_lock);
      unsigned events = m->events;
      m->events = 0;

      if (events & MACHINE_EVENT_STOP)
        {
          kick_all (m);
          m->stop = true;
          g_cond_broadcast (&m->ctl_cond);
          break;
        }
      if (events & MACHINE_EVENT_RESET)
        {
          if (m->cfg.no_reboot)
            {
              post_locked (m, MACHINE_EVENT_STOP, MACHINE_EXIT_TRIPLE_FAULT,
                           g_strdup ("guest reset with --no-reboot"));
              continue;
            }
          wait_parked (m);
          g_mutex_unlock (&m->ctl_lock);
          g_autoptr (GError) error = NULL;
          bool ok = do_reset (m, &error);
          g_mutex_lock (&m->ctl_lock);
          if (!ok)
            {
              post_locked (m, MACHINE_EVENT_STOP, MACHINE_EXIT_ENGINE_ERROR,
                           g_strdup_printf ("reset failed: %s", error->message));
              continue;
            }
          if (!m->events)
            {
              m->event_hold = false;
              g_cond_broadcast (&m->ctl_cond);
            }
          g_mutex_unlock (&m->ctl_lock);
          machine_notify (m, MACHINE_STATE_RUNNING, true);
          g_mutex_lock (&m->ctl_lock);
        }
    }
  g_mutex_unlock (&m->ctl_lock);

  for (unsigned i = 0; i < m->ncpus; i++)
    if (m->vcpus[i].thread)
      {
        g_thread_join (m->vcpus[i].thread);
        m->vcpus[i].thread = NULL;
      }
  timer_queue_pause (m->timers);
  if (m->exit_message)
    fprintf (stderr, "vireo-vmx: %s\n", m->exit_message);
  bool notify = m->state != MACHINE_STATE_STOPPED;
  m->state = MACHINE_STATE_STOPPED;
  if (notify)
    machine_notify (m, MACHINE_STATE_STOPPED, false);
  return m->exit_status;
}

void
machine_pause (Machine *m)
{
  g_mutex_lock (&m->ctl_lock);
  bool first = m->user_pause++ == 0;
  if (m->started && !m->stop)
    wait_parked (m);
  if (first)
    {
      timer_queue_pause (m->timers);
      if (m->engine->ops->clock_pause)
        m->engine->ops->clock_pause (m->engine, true);
    }
  if (first && m->state == MACHINE_STATE_RUNNING)
    m->state = MACHINE_STATE_PAUSED;
  g_mutex_unlock (&m->ctl_lock);
  if (first)
    machine_notify (m, MACHINE_STATE_PAUSED, false);
}

void
machine_resume (Machine *m)
{
  g_mutex_lock (&m->ctl_lock);
  bool last = m->user_pause > 0 && --m->user_pause == 0;
  if (last && m->started && !m->stop)
    {
      if (m->engine->ops->clock_pause)
        m->engine->ops->clock_pause (m->engine, false);
      timer_queue_resume (m->timers);
      m->state = MACHINE_STATE_RUNNING;
      g_cond_broadcast (&m->ctl_cond);
    }
  g_mutex_unlock (&m->ctl_lock);
  if (last)
    machine_notify (m, MACHINE_STATE_RUNNING, false);
}

MachineState
machine_get_state (Machine *m)
{
  g_mutex_lock (&m->ctl_lock);
  MachineState s = m->state;
  g_mutex_unlock (&m->ctl_lock);
  return s;
}

void
machine_request_reset (Machine *m)
{
  machine_post_event (m, MACHINE_EVENT_RESET, 0, NULL);
}

void
machine_request_poweroff (Machine *m)
{
  machine_post_event (m, MACHINE_EVENT_STOP, MACHINE_EXIT_POWEROFF, NULL);
}

void
machine_request_exit (Machine *m, int status)
{
  machine_post_event (m, MACHINE_EVENT_STOP, status, NULL);
}

bool
machine_press_power_button (Machine *m)
{
  if (!m->pm_ready)
    return false;
  g_mutex_lock (&m->device_lock);
  bool heard = acpi_pm_press_power_button (&m->pm);
  g_mutex_unlock (&m->device_lock);
  return heard;
}
