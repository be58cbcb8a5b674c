/* Test helpers: a private Xvfb and running command lines. */
#pragma once

#include <stdbool.h>
#include <glib.h>

/* Starts Xvfb on a free display and sets DISPLAY; false if it cannot. */
bool xvfb_start (void);
void xvfb_stop (void);
/* For g_spawn child setup: the child gets SIGTERM when the test dies. */
void xvfb_child_dies_with_parent (gpointer data);
/* Runs a command line; true on exit status 0. */
bool run_command (const char *cmdline);
