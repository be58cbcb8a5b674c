/* SpiceCoreInterface (timers and fd watches) on a GMainContext run by a
 * thread of its own. spice-server's core callbacks carry no context
 * pointer, so there is one SpiceCoreLoop per process (vireo-vmx runs one VM). */
#pragma once

#include <glib.h>
#include <spice.h>

/* Starts the loop thread (idempotent; reference counted). */
SpiceCoreInterface *spice_core_loop_acquire (void);
void spice_core_loop_release (void);
/* The loop's context: run a function on the SPICE thread with
 * g_main_context_invoke. */
GMainContext *spice_core_loop_context (void);
