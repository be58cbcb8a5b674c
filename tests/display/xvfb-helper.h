/* Test helpers: a private Xvfb, running command lines, and what a guest
 * would read from the keyboard controller. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "input/i8042.h"

/* Starts Xvfb on a free display and sets DISPLAY; false if it cannot. */
bool xvfb_start (void);
void xvfb_stop (void);
/* For g_spawn child setup: the child gets SIGTERM when the test dies. */
void xvfb_child_dies_with_parent (gpointer data);
/* Runs a command line; true on exit status 0. */
bool run_command (const char *cmdline);
/* Drains the i8042's output buffer into out (under lock) until it holds
 * want bytes or seconds pass; true if it got them. */
bool kbc_read_bytes (GMutex *lock, I8042 *kbc, GByteArray *out, size_t want, int seconds);
