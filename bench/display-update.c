/* Benchmark: CPU time per full-screen display update, guest framebuffer
 * write → damage → SPICE → a connected client, vireo against QEMU.
 *
 * The same tiny guest (bench/display-update-guest.c) redraws its whole
 * 1024x768x32 framebuffer in a loop under both: vireo's machine with the
 * Bochs display and our SPICE server (in this process), and
 * qemu-system-x86_64 -vga std -spice (TCG). A spice-client-glib viewer runs
 * in a child process for each and counts the frames it receives (bursts of
 * display invalidations) and the pixels they cover. The display path's CPU
 * is the process's CPU minus its vCPU threads' ("vcpuN" / "CPU N/...", QEMU
 * with debug-threads=on), read from /proc/PID/task/ over a measured window
 * after a warm-up. Figures: that CPU per received frame and per full screen
 * of updated pixels (the fair unit when the two guests redraw at different
 * speeds), and the ratio vireo/QEMU of the latter.
 *
 *   display-update [--engine auto|kvm|soft] GUEST_ELF [SECONDS]   both, and the ratio
 *   display-update --only vireo|qemu GUEST_ELF [SECONDS]
 *   display-update --host-writer ...   vireo's VRAM redrawn by a host thread
 *       at native speed instead of the guest (the software CPU draws far
 *       fewer pixels per second than QEMU's TCG, which skews the per-frame
 *       figure; this isolates the display path)
 *   display-update --client SOCKET WARMUP SECONDS   (internal: the viewer) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <spice-client.h>

#include "display/display-setup.h"
#include "vmm-core/machine.h"

#define WARMUP_S 4

/* ---- the viewer ---- */

static gint64 client_start, client_warm, client_end, last_invalidate;
static unsigned frames;
static double pixels;

static void
on_invalidate (SpiceChannel *ch, gint x, gint y, gint w, gint h, gpointer data)
{
  gint64 now = g_get_monotonic_time ();
  /* Invalidations closer than 4 ms belong to one frame. */
  if (now >= client_warm && now < client_end)
    {
      if (now - last_invalidate > 4000)
        frames++;
      pixels += (double)w * h;
    }
  last_invalidate = now;
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
run_client (const char *socket, int warmup, int seconds)
{
  client_start = g_get_monotonic_time ();
  client_warm = client_start + (gint64)warmup * G_USEC_PER_SEC;
  client_end = client_warm + (gint64)seconds * G_USEC_PER_SEC;
  SpiceSession *session = spice_session_new ();
  g_object_set (session, "unix-path", socket, NULL);
  g_signal_connect (session, "channel-new", G_CALLBACK (on_channel_new), NULL);
  /* The server may not listen yet: retry for a few seconds. */
  for (int i = 0; i < 50 && !g_file_test (socket, G_FILE_TEST_EXISTS); i++)
    g_usleep (100000);
  if (!spice_session_connect (session))
    return 1;
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);
  g_timeout_add ((guint)((client_end - client_start) / 1000 + 200), quit, loop);
  g_main_loop_run (loop);
  printf ("%u %.0f\n", frames, pixels);
  return 0;
}

/* ---- CPU accounting from /proc ---- */

/* CPU seconds of pid's threads, split into vCPU threads and the rest. */
static void
thread_cpu (int pid, double *display, double *vcpu)
{
  *display = *vcpu = 0;
  g_autofree char *taskdir = g_strdup_printf ("/proc/%d/task", pid);
  GDir *dir = g_dir_open (taskdir, 0, NULL);
  if (!dir)
    return;
  long hz = sysconf (_SC_CLK_TCK);
  const char *tid;
  while ((tid = g_dir_read_name (dir)))
    {
      g_autofree char *statp = g_strdup_printf ("%s/%s/stat", taskdir, tid);
      g_autofree char *commp = g_strdup_printf ("%s/%s/comm", taskdir, tid);
      g_autofree char *stat = NULL, *comm = NULL;
      if (!g_file_get_contents (statp, &stat, NULL, NULL)
          || !g_file_get_contents (commp, &comm, NULL, NULL))
        continue;
      /* Fields after the ")" of comm: state is field 3; utime 14, stime 15. */
      const char *p = strrchr (stat, ')');
      if (!p)
        continue;
      unsigned long ut = 0, st = 0;
      if (sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        continue;
      double s = (double)(ut + st) / (double)hz;
      if (g_str_has_prefix (comm, "vcpu") || g_str_has_prefix (comm, "CPU "))
        *vcpu += s;
      else
        *display += s;
    }
  g_dir_close (dir);
}

typedef struct
{
  double display_cpu, vcpu_cpu;
  unsigned frames;
  double screens; /* pixels received / (1024 * 768): full-screen equivalents */
  bool ok;
} Result;

static GPid
spawn_client (const char *self, const char *sock, int seconds, int *out_fd)
{
  g_autofree char *warm = g_strdup_printf ("%d", WARMUP_S);
  g_autofree char *secs = g_strdup_printf ("%d", seconds);
  char *argv[] = { (char *)self, "--client", (char *)sock, warm, secs, NULL };
  GPid pid = 0;
  GError *error = NULL;
  if (!g_spawn_async_with_pipes (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                 NULL, out_fd, NULL, &error))
    {
      fprintf (stderr, "display-update: %s\n", error->message);
      return 0;
    }
  return pid;
}

static void
client_frames (GPid pid, int fd, Result *r)
{
  int status;
  waitpid (pid, &status, 0);
  g_spawn_close_pid (pid);
  char buf[128] = { 0 };
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  double px = 0;
  if (n <= 0 || sscanf (buf, "%u %lf", &r->frames, &px) != 2)
    r->frames = 0;
  r->screens = px / (1024.0 * 768.0);
}

/* Samples the display CPU over [WARMUP, WARMUP + seconds]. */
static void
measure (int pid, int seconds, Result *r)
{
  g_usleep (WARMUP_S * G_USEC_PER_SEC);
  double d0, v0, d1, v1;
  thread_cpu (pid, &d0, &v0);
  g_usleep ((gulong)seconds * G_USEC_PER_SEC);
  thread_cpu (pid, &d1, &v1);
  r->display_cpu = d1 - d0;
  r->vcpu_cpu = v1 - v0;
}

static gpointer
run_machine (gpointer m)
{
  return GINT_TO_POINTER (machine_run (m));
}

static EngineKind vireo_engine = ENGINE_KIND_AUTO;
static bool host_writer;
static volatile bool writer_stop;

/* --host-writer: a host thread redraws VRAM as fast as a native-speed guest
 * would (its name starts with "vcpu", so its CPU counts as guest time). */
static gpointer
writer_thread (gpointer data)
{
  BochsDisplay *dev = data;
  uint32_t *fb = (uint32_t *)dev->vram;
  for (uint32_t f = 1; !writer_stop; f++)
    for (uint32_t i = 0; i < 1024 * 768; i++)
      fb[i] = f * 0x010305u ^ i;
  return NULL;
}

static bool
bench_vireo (const char *self, const char *elf, int seconds, const char *dir, Result *r)
{
  MachineConfig cfg = {
    .ram_size = 64u << 20, .cpus = 1, .guest_elf = elf, .serial = "none", .engine = vireo_engine
  };
  GError *error = NULL;
  g_autofree char *why = NULL;
  Machine *m = machine_new (&cfg, &why, &error);
  if (!m)
    {
      fprintf (stderr, "display-update: vireo: %s\n", error->message);
      return false;
    }
  fprintf (stderr, "display-update: vireo engine: %s\n", why ? why : "?");
  g_autofree char *sock = g_build_filename (dir, "vireo.sock", NULL);
  g_autofree char *spec = g_strdup_printf ("unix=%s", sock);
  DisplaySetupOptions opts = { .display = "none", .spice = spec };
  DisplaySetup *ds = display_setup_new (machine_pci (m), machine_pio (m), machine_device_lock (m),
                                        machine_i8042 (m), &opts, &error);
  if (!ds || (!host_writer && !machine_start (m, &error)))
    {
      fprintf (stderr, "display-update: vireo: %s\n", error->message);
      return false;
    }
  GThread *runner = host_writer ? g_thread_new ("vcpu-writer", writer_thread, &ds->device)
                                : g_thread_new ("machine-run", run_machine, m);
  int fd;
  GPid client = spawn_client (self, sock, seconds, &fd);
  measure (getpid (), seconds, r);
  if (client)
    client_frames (client, fd, r);
  writer_stop = true;
  machine_request_poweroff (m);
  g_thread_join (runner);
  display_setup_stop (ds);
  machine_free (m);
  display_setup_free (ds);
  r->ok = client != 0;
  return r->ok;
}

static bool
bench_qemu (const char *self, const char *elf, int seconds, const char *dir, Result *r)
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-x86_64");
  if (!qemu)
    {
      fprintf (stderr, "display-update: qemu-system-x86_64 is not installed\n");
      return false;
    }
  g_autofree char *sock = g_build_filename (dir, "qemu.sock", NULL);
  g_autofree char *spice = g_strdup_printf ("unix=on,addr=%s,disable-ticketing=on,"
                                            "image-compression=auto_glz,"
                                            "jpeg-wan-compression=never,streaming-video=off",
                                            sock);
  char *argv[] = { qemu,       "-name",   "bench,debug-threads=on",
                   "-accel",   "tcg",     "-m",
                   "64",       "-vga",    "std",
                   "-display", "none",    "-spice",
                   spice,      "-kernel", (char *)elf,
                   "-serial",  "none",    "-monitor",
                   "none",     NULL };
  GPid pid;
  GError *error = NULL;
  if (!g_spawn_async (NULL, argv + 0, NULL, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL,
                      NULL, NULL, &pid, &error))
    {
      fprintf (stderr, "display-update: qemu: %s\n", error->message);
      return false;
    }
  int fd;
  GPid client = spawn_client (self, sock, seconds, &fd);
  measure (pid, seconds, r);
  if (client)
    client_frames (client, fd, r);
  kill (pid, SIGTERM);
  waitpid (pid, NULL, 0);
  g_spawn_close_pid (pid);
  g_unlink (sock);
  r->ok = client != 0;
  return r->ok;
}

static void
report (const char *name, const Result *r, int seconds)
{
  printf ("display-update: %-5s %u frames (%.1f full screens of pixels) received in %d s, "
          "display CPU %.2f s (vCPU %.2f s): %.2f ms per frame, %.2f ms per full screen\n",
          name, r->frames, r->screens, seconds, r->display_cpu, r->vcpu_cpu,
          r->frames ? r->display_cpu * 1000 / r->frames : 0.0,
          r->screens > 0 ? r->display_cpu * 1000 / r->screens : 0.0);
}

int
main (int argc, char **argv)
{
  if (argc == 5 && strcmp (argv[1], "--client") == 0)
    return run_client (argv[2], atoi (argv[3]), atoi (argv[4]));

  const char *only = NULL;
  int a = 1;
  for (;;)
    {
      if (a + 1 < argc && strcmp (argv[a], "--only") == 0)
        only = argv[a + 1];
      else if (a < argc && strcmp (argv[a], "--host-writer") == 0)
        {
          host_writer = true;
          a -= 1;
        }
      else if (a + 1 < argc && strcmp (argv[a], "--engine") == 0)
        vireo_engine = strcmp (argv[a + 1], "kvm") == 0    ? ENGINE_KIND_KVM
                       : strcmp (argv[a + 1], "soft") == 0 ? ENGINE_KIND_SOFT
                                                           : ENGINE_KIND_AUTO;
      else
        break;
      a += 2;
    }
  if (a >= argc)
    {
      fprintf (stderr, "usage: display-update [--only vireo|qemu] [--engine auto|kvm|soft] "
                       "[--host-writer] GUEST_ELF [SECONDS]\n");
      return 2;
    }
  const char *elf = argv[a];
  int seconds = a + 1 < argc ? atoi (argv[a + 1]) : 10;
  if (seconds <= 0)
    seconds = 10;
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = g_dir_make_tmp ("vireo-bench-XXXXXX", NULL);

  Result ours = { 0 }, theirs = { 0 };
  bool have_ours = false, have_theirs = false;
  if (!only || strcmp (only, "vireo") == 0)
    if ((have_ours = bench_vireo (self, elf, seconds, dir, &ours)))
      report ("vireo", &ours, seconds);
  if (!only || strcmp (only, "qemu") == 0)
    if ((have_theirs = bench_qemu (self, elf, seconds, dir, &theirs)))
      report ("qemu", &theirs, seconds);
  if (have_ours && have_theirs && ours.screens > 0 && theirs.screens > 0 && theirs.display_cpu > 0)
    printf ("display-update: ratio vireo/qemu (CPU per full screen of updated pixels) %.2f\n",
            (ours.display_cpu / ours.screens) / (theirs.display_cpu / theirs.screens));
  g_rmdir (dir);
  return have_ours || have_theirs ? 0 : 1;
}
