/* Virtual clock and device timers.
 *
 * The virtual clock (vclock) counts guest nanoseconds: it runs with the host's
 * monotonic clock while the VM runs and stands still while it is paused, so a
 * paused or snapshotted guest does not see time jump. Snapshots save it and
 * restore it with timer_queue_set_now().
 *
 * A TimerQueue owns a thread that fires device timers. Callbacks run with the
 * queue's lock held: the machine passes its device lock, so timer callbacks
 * and I/O dispatch never race. Device code (which already holds that lock)
 * may add, modify and delete timers freely.
 *
 * A manual queue has no thread and no host clock: time moves only with
 * timer_queue_advance(), which makes device unit tests deterministic. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

typedef struct TimerQueue TimerQueue;
typedef struct VmmTimer VmmTimer;
typedef void (*VmmTimerFn) (void *opaque);

/* lock: held around every callback; the queue takes it in its thread. */
TimerQueue *timer_queue_new (GMutex *lock);
TimerQueue *timer_queue_new_manual (GMutex *lock);
void timer_queue_free (TimerQueue *q);

/* Guest nanoseconds. Any thread. */
int64_t timer_queue_now (TimerQueue *q);
/* Set the clock (snapshot restore). Caller holds the lock. */
void timer_queue_set_now (TimerQueue *q, int64_t now_ns);
/* Stop / restart the clock with the VM (pause, resume). Any thread. */
void timer_queue_pause (TimerQueue *q);
void timer_queue_resume (TimerQueue *q);
bool timer_queue_is_paused (TimerQueue *q);

/* Manual queues only: move time forward by ns, firing due timers in order
 * (the caller holds the lock, as a vCPU thread would). */
void timer_queue_advance (TimerQueue *q, int64_t ns);

VmmTimer *vmm_timer_new (TimerQueue *q, VmmTimerFn fn, void *opaque);
void vmm_timer_free (VmmTimer *t);
/* Arm at an absolute vclock time (re-arming moves it). Caller holds the lock. */
void vmm_timer_mod (VmmTimer *t, int64_t expire_ns);
void vmm_timer_del (VmmTimer *t);
bool vmm_timer_pending (const VmmTimer *t);
int64_t vmm_timer_expire (const VmmTimer *t);
