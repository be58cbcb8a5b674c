/* Benchmark: CPU time per full-screen display update, guest framebuffer
 * write → damage → SPICE consumer → a connected client.
 *
 * The VMM side runs in this process (Bochs display 1024x768x32, display hub
 * at 60 Hz with shadow-compare dirty tracking, SPICE server on a unix
 * socket); a spice-client-glib client runs in a child process so its decode
 * cost is not counted. Every frame rewrites the whole framebuffer; the
 * figure is (process CPU − the writer's own CPU) / updates delivered.
 *
 * The QEMU side (same guest workload under `-spice`, its process CPU per
 * frame) needs a guest that redraws its framebuffer, which arrives with the
 * machine; until then this prints our figure alone.
 *
 *   display-update [frames]          (default 300)
 *   display-update --client SOCKET SECONDS   (internal: the viewer) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <spice-client.h>

#include "display/bochs-display.h"
#include "display/spice-display.h"
#include "display/vmm-display.h"

static unsigned invalidates;

static void
on_invalidate (SpiceChannel *ch, gint x, gint y, gint w, gint h, gpointer data)
{
  invalidates++;
}

static void
on_channel_new (SpiceSession *s, SpiceChannel *ch, gpointer data)
{
  if (!SPICE_IS_DISPLAY_CHANNEL (ch))
    return;
  g_signal_connect (ch, "display-invalidate", G_CALLBACK (on_invalidate), NULL);
  spice_channel_connect (ch);
}

static gboolean
quit (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static int
run_client (const char *socket, int seconds)
{
  SpiceSession *session = spice_session_new ();
  g_object_set (session, "unix-path", socket, NULL);
  g_signal_connect (session, "channel-new", G_CALLBACK (on_channel_new), NULL);
  if (!spice_session_connect (session))
    return 1;
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);
  g_timeout_add_seconds ((guint) seconds, quit, loop);
  g_main_loop_run (loop);
  printf ("client: %u invalidates\n", invalidates);
  return 0;
}

static double
process_cpu_s (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec
         + ru.ru_stime.tv_usec / 1e6;
}

static double
thread_cpu_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[1], "--client") == 0)
    return run_client (argv[2], atoi (argv[3]));
  unsigned frames = argc > 1 ? (unsigned) atoi (argv[1]) : 300;
  if (frames == 0)
    frames = 300;

  GError *error = NULL;
  BochsDisplay dev;
  if (!bochs_display_init (&dev, NULL, NULL, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  GMutex lock;
  g_mutex_init (&lock);
  DisplaySource src = bochs_display_source (&dev);
  VmmDisplay *display = vmm_display_new (&src, &lock, 60);
  vmm_display_start (display);

  g_autofree char *dir = g_dir_make_tmp ("vireo-bench-XXXXXX", NULL);
  g_autofree char *sock = g_build_filename (dir, "spice.sock", NULL);
  g_autofree char *spec = g_strdup_printf ("unix=%s", sock);
  SpiceOptions opts;
  spice_options_parse (spec, &opts, NULL);
  SpiceDisplay *sd = spice_display_new (display, NULL, &opts, &error);
  if (!sd)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }

  unsigned seconds = frames / 60 + 6;
  g_autofree char *secs = g_strdup_printf ("%u", seconds);
  char *cargv[] = { argv[0], "--client", sock, secs, NULL };
  GPid child;
  if (!g_spawn_async (NULL, cargv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &child, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  g_usleep (2 * G_USEC_PER_SEC); /* client connects and gets the first frame */

  DisplaySurface s;
  bochs_display_surface (&dev, &s);
  uint64_t updates0 = vmm_display_update_count (display);
  guint64 draws0 = spice_display_draw_count (sd);
  double cpu0 = process_cpu_s (), writer = 0;
  gint64 start = g_get_monotonic_time ();
  for (unsigned f = 0; f < frames; f++)
    {
      double t0 = thread_cpu_s ();
      uint32_t colour = 0x010203u * (f + 1);
      for (uint32_t y = 0; y < s.height; y++)
        {
          uint32_t *row = (uint32_t *) (s.data + (size_t) y * s.stride);
          for (uint32_t x = 0; x < s.width; x++)
            row[x] = colour ^ (x << 8) ^ y;
        }
      writer += thread_cpu_s () - t0;
      gint64 next = start + (gint64) (f + 1) * G_USEC_PER_SEC / 60;
      gint64 now = g_get_monotonic_time ();
      if (next > now)
        g_usleep ((gulong) (next - now));
    }
  g_usleep (G_USEC_PER_SEC / 5);
  double cpu = process_cpu_s () - cpu0 - writer;
  uint64_t updates = vmm_display_update_count (display) - updates0;
  guint64 draws = spice_display_draw_count (sd) - draws0;

  printf ("display-update: %ux%u XRGB8888, %u frames written, %" G_GUINT64_FORMAT
          " updates, %" G_GUINT64_FORMAT " SPICE draws\n",
          s.width, s.height, frames, (guint64) updates, draws);
  printf ("display-update: vireo %.3f ms CPU per full-screen update "
          "(dirty compare + damage + SPICE copy/encode), writer excluded\n",
          updates ? cpu * 1000 / (double) updates : 0.0);
  printf ("display-update: QEMU comparison pending a guest that redraws its framebuffer\n");

  int status;
  waitpid (child, &status, 0);
  g_spawn_close_pid (child);
  spice_display_free (sd);
  spice_options_clear (&opts);
  vmm_display_free (display);
  bochs_display_destroy (&dev);
  g_unlink (sock);
  g_rmdir (dir);
  return 0;
}
