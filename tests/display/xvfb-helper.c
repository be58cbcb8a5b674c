/* Test helpers: a private Xvfb and running command lines. */
#include "xvfb-helper.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>

static GPid xvfb_pid;

void
xvfb_stop (void)
{
  if (xvfb_pid > 0)
    {
      kill (xvfb_pid, SIGTERM);
      waitpid (xvfb_pid, NULL, 0);
      g_spawn_close_pid (xvfb_pid);
      xvfb_pid = 0;
    }
}

/* A test that dies (a failed assertion aborts) takes its Xvfb along. */
void
xvfb_child_dies_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

bool
xvfb_start (void)
{
  /* Xvfb picks a free display itself and reports it on fd 1 (-displayfd):
   * no race with other tests starting their own servers. */
  char *argv[]
      = { "Xvfb", "-displayfd", "1", "-screen", "0", "1024x768x24", "-nolisten", "tcp", NULL };
  int out = -1;
  if (!g_spawn_async_with_pipes (
          NULL, argv, NULL,
          G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL,
          xvfb_child_dies_with_parent, NULL, &xvfb_pid, NULL, &out, NULL, NULL))
    return false;
  char buf[32] = { 0 };
  size_t len = 0;
  struct pollfd pfd = { .fd = out, .events = POLLIN };
  while (len < sizeof buf - 1 && !memchr (buf, '\n', len) && poll (&pfd, 1, 10000) > 0)
    {
      ssize_t n = read (out, buf + len, sizeof buf - 1 - len);
      if (n <= 0)
        break;
      len += (size_t)n;
    }
  close (out);
  char *end;
  long display = strtol (buf, &end, 10);
  if (len == 0 || end == buf || display < 0)
    {
      xvfb_stop ();
      return false;
    }
  g_autofree char *disp = g_strdup_printf (":%ld", display);
  g_setenv ("DISPLAY", disp, TRUE);
  return true;
}

bool
run_command (const char *cmdline)
{
  g_auto (GStrv) argv = NULL;
  int status = -1;
  g_autofree char *err = NULL;
  if (!g_shell_parse_argv (cmdline, NULL, &argv, NULL))
    return false;
  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                     NULL, &err, &status, NULL))
    return false;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_printerr ("'%s' failed: %s\n", cmdline, err ? err : "");
      return false;
    }
  return true;
}

bool
kbc_read_bytes (GMutex *lock, I8042 *kbc, GByteArray *out, size_t want, int seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  while (out->len < want && g_get_monotonic_time () < end)
    {
      g_mutex_lock (lock);
      while (i8042_read (kbc, 4) & I8042_STR_OBF)
        {
          uint8_t b = i8042_read (kbc, 0);
          g_byte_array_append (out, &b, 1);
        }
      g_mutex_unlock (lock);
      g_usleep (10000);
    }
  return out->len >= want;
}
