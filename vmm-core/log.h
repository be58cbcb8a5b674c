/* Rate-limited logging for guest misbehaviour.
 *
 * Every guest-facing input is hostile. When a guest does something wrong the
 * device answers with a guest-visible error and logs one line here; a guest
 * that repeats the mistake in a loop must not flood the host's log, so each
 * call site allows a burst and then counts what it suppressed.
 *
 * Lines go straight to stderr (not through g_log) so GTest's fatal-warning
 * mode does not turn a guest's bad behaviour into a test abort. */
#pragma once

#include <stdint.h>
#include <glib.h>

typedef struct VmmRatelimit {
  gint64 window_start_us;
  unsigned printed;
  unsigned suppressed;
} VmmRatelimit;

void vmm_ratelimit_log (VmmRatelimit *rl, const char *area, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);

/* Total guest errors reported since start (for tests to assert on). */
guint64 vmm_guest_error_count (void);

/* Silence the printing (tests that feed thousands of hostile values). */
void vmm_log_set_quiet (gboolean quiet);

/* Log a guest error from this call site, at most a burst per second. */
#define VMM_GUEST_ERROR(area, ...)                                            \
  do {                                                                        \
    static VmmRatelimit vmm_rl_;                                              \
    vmm_ratelimit_log (&vmm_rl_, (area), __VA_ARGS__);                        \
  } while (0)
