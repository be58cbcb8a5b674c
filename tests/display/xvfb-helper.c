/* Test helpers: a private Xvfb and running command lines. */
#include "xvfb-helper.h"

#include <signal.h>
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
  for (int n = 91; n < 120; n++)
    {
      g_autofree char *sock = g_strdup_printf ("/tmp/.X11-unix/X%d", n);
      g_autofree char *lockf = g_strdup_printf ("/tmp/.X%d-lock", n);
      if (g_file_test (sock, G_FILE_TEST_EXISTS) || g_file_test (lockf, G_FILE_TEST_EXISTS))
        continue;
      g_autofree char *disp = g_strdup_printf (":%d", n);
      char *argv[] = { "Xvfb", disp, "-screen", "0", "1024x768x24", "-nolisten", "tcp", NULL };
      if (!g_spawn_async (NULL, argv, NULL,
                          G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD
                              | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                          xvfb_child_dies_with_parent, NULL, &xvfb_pid, NULL))
        return false;
      for (int i = 0; i < 100; i++)
        {
          if (g_file_test (sock, G_FILE_TEST_EXISTS))
            {
              g_setenv ("DISPLAY", disp, TRUE);
              g_usleep (200000);
              return true;
            }
          if (waitpid (xvfb_pid, NULL, WNOHANG) == xvfb_pid)
            {
              xvfb_pid = 0;
              break; /* lost a race for this display: try the next */
            }
          g_usleep (100000);
        }
      xvfb_stop ();
    }
  return false;
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
