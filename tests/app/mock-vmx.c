/* mock-vmx: a stand-in for vireo-vmx that serves org.vireo.VM1 without a
 * machine, so the app, vireo-run and the D-Bus contract can be tested.
 *
 * It speaks the real transport (control fd and/or per-VM socket), keeps the
 * state machine, exports a memfd framebuffer with a test pattern (eight
 * colour bars, see mock_bar_colour) and answers SendKey by logging the key
 * to $VIREO_MOCK_KEY_LOG (or <vm-dir>/mock-keys.log; pointer button changes
 * are logged there too) and painting the key's
 * square in the top-left 32x32 block, with a DisplayDamage signal.
 * VIREO_MOCK_ANIMATE=HZ repaints a moving bar at that rate (benchmarks).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>

#include "vireo-dbus-transport.h"
#include "vireo-dbus-vm1.h"
#include "mock-pattern.h"

#define OBJECT_PATH "/org/vireo/VM1"
#define FORMAT_XRGB8888 0x34325258u

typedef struct {
  GMainLoop *loop;
  VireoDBusVM1 *skeleton;
  char *socket_path;
  char *key_log;
  int fb_fd;
  guint32 *fb;
  guint width, height, stride;
  gboolean has_run;
  guint anim_source;
  guint anim_pos;
  gboolean headless;
  guint buttons;
} Mock;

static void
paint_pattern (Mock *m)
{
  for (guint y = 0; y < m->height; y++)
    for (guint x = 0; x < m->width; x++)
      m->fb[y * (m->stride / 4) + x] = mock_bar_colour (x, m->width);
}

static void
emit_damage (Mock *m, int x, int y, int w, int h)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(iiii)"));
  g_variant_builder_add (&b, "(iiii)", x, y, w, h);
  vireo_dbus_vm1_emit_display_damage (m->skeleton, g_variant_builder_end (&b));
}

static void
quit_soon (Mock *m)
{
  /* Let the StateChanged signal and the method reply reach every peer. */
  g_timeout_add (200, (GSourceFunc) (void (*) (void)) g_main_loop_quit, m->loop);
}

static void
set_state (Mock *m, const char *state, const char *reason)
{
  vireo_dbus_vm1_set_state (m->skeleton, state);
  vireo_dbus_vm1_set_state_reason (m->skeleton, reason);
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (m->skeleton));
  vireo_dbus_vm1_emit_state_changed (m->skeleton, state, reason);
  if (strcmp (state, "running") == 0)
    m->has_run = TRUE;
  if (strcmp (state, "stopped") == 0 && m->has_run)
    quit_soon (m);
}

static gboolean
in_state (GDBusMethodInvocation *inv, Mock *m, const char *a, const char *b)
{
  const char *state = vireo_dbus_vm1_get_state (m->skeleton);
  g_autofree char *msg = NULL;

  if (g_strcmp0 (state, a) == 0 || (b && g_strcmp0 (state, b) == 0))
    return TRUE;
  msg = g_strdup_printf ("The VM is %s", state);

  g_dbus_method_invocation_return_dbus_error (inv, "org.vireo.VM1.Error.InvalidState", msg);
  return FALSE;
}

static gboolean
animate (gpointer data)
{
  Mock *m = data;
  guint x = m->anim_pos++ % m->width;

  /* A one-pixel-wide white column sweeping across a full-height damage. */
  for (guint y = 0; y < m->height; y++)
    m->fb[y * (m->stride / 4) + x] ^= 0x00ffffff;
  emit_damage (m, 0, 0, m->width, m->height);
  return G_SOURCE_CONTINUE;
}

static gboolean
handle_start (VireoDBusVM1 *s, GDBusMethodInvocation *inv, Mock *m)
{
  const char *anim = g_getenv ("VIREO_MOCK_ANIMATE");

  if (!in_state (inv, m, "stopped", NULL))
    return TRUE;
  if (m->has_run)
    {
      /* A helper runs its VM once; it is on its way out. */
      g_dbus_method_invocation_return_dbus_error (inv, "org.vireo.VM1.Error.InvalidState",
                                                  "The VM helper is exiting");
      return TRUE;
    }
  if (g_strcmp0 (g_getenv ("VIREO_MOCK_CRASH"), "start") == 0)
    abort ();
  paint_pattern (m);
  set_state (m, "running", "Started");
  emit_damage (m, 0, 0, m->width, m->height);
  if (g_getenv ("VIREO_MOCK_BAD_DAMAGE"))
    {
      /* Rectangles a buggy or hostile helper could send: clients clamp. */
      GVariantBuilder b;
      g_variant_builder_init (&b, G_VARIANT_TYPE ("a(iiii)"));
      g_variant_builder_add (&b, "(iiii)", -100, -100, 50, 50);
      g_variant_builder_add (&b, "(iiii)", G_MAXINT - 10, 0, 100, 100);
      g_variant_builder_add (&b, "(iiii)", 0, 0, G_MAXINT, G_MAXINT);
      g_variant_builder_add (&b, "(iiii)", 10, 10, -5, G_MININT);
      g_variant_builder_add (&b, "(iiii)", G_MININT, G_MININT, G_MAXINT, G_MAXINT);
      vireo_dbus_vm1_emit_display_damage (m->skeleton, g_variant_builder_end (&b));
    }
  if (anim && atoi (anim) > 0 && !m->anim_source)
    m->anim_source = g_timeout_add (1000 / atoi (anim), animate, m);
  vireo_dbus_vm1_complete_start (s, inv);
  return TRUE;
}

static gboolean
handle_pause (VireoDBusVM1 *s, GDBusMethodInvocation *inv, Mock *m)
{
  if (!in_state (inv, m, "running", NULL))
    return TRUE;
  set_state (m, "paused", "Paused");
  vireo_dbus_vm1_complete_pause (s, inv);
  return TRUE;
}

static gboolean
handle_resume (VireoDBusVM1 *s, GDBusMethodInvocation *inv, Mock *m)
{
  if (!in_state (inv, m, "paused", NULL))
    return TRUE;
  set_state (m, "running", "Resumed");
  vireo_dbus_vm1_complete_resume (s, inv);
  return TRUE;
}

static gboolean
handle_reset (VireoDBusVM1 *s, GDBusMethodInvocation *inv, Mock *m)
{
  if (!in_state (inv, m, "running", "paused"))
    return TRUE;
  paint_pattern (m);
  set_state (m, "running", "Reset");
  emit_damage (m, 0, 0, m->width, m->height);
  vireo_dbus_vm1_complete_reset (s, inv);
  return TRUE;
}

static gboolean
handle_power_off (VireoDBusVM1 *s, GDBusMethodInvocation *inv, Mock *m)
{
  if (!in_state (inv, m, "running", "paused")
      && !in_state (inv, m, "shutting-down", NULL))
    return TRUE;
  vireo_dbus_vm1_complete_power_off (s, inv);
  set_state (m, "stopped", "Powered off");
  return TRUE;
}

static gboolean
finish_shutdown (gpointer data)
{
  Mock *m = data;

  if (g_strcmp0 (vireo_dbus_vm1_get_state (m->skeleton), "shutting-down") == 0)
    set_state (m, "stopped", "Guest shut down");
  return G_SOURCE_REMOVE;
}

static gboolean
handle_shutdown (VireoDBusVM1 *s, GDBusMethodInvocation *inv, Mock *m)
{
  if (!in_state (inv, m, "running", NULL))
    return TRUE;
  set_state (m, "shutting-down", "Power button pressed");
  g_timeout_add (100, finish_shutdown, m);
  vireo_dbus_vm1_complete_shutdown (s, inv);
  return TRUE;
}

static gboolean
handle_screenshot (VireoDBusVM1 *s, GDBusMethodInvocation *inv, const char *path, Mock *m)
{
  g_autoptr (GString) ppm = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  /* The mock writes PPM (the real helper writes PNG): enough for tests. */
  if (!g_path_is_absolute (path))
    {
      g_dbus_method_invocation_return_dbus_error (inv, "org.vireo.VM1.Error.InvalidArgs",
                                                  "The path must be absolute");
      return TRUE;
    }
  g_string_append_printf (ppm, "P6\n%u %u\n255\n", m->width, m->height);
  for (guint y = 0; y < m->height; y++)
    for (guint x = 0; x < m->width; x++)
      {
        guint32 px = m->fb[y * (m->stride / 4) + x];
        g_string_append_c (ppm, (char) ((px >> 16) & 0xff));
        g_string_append_c (ppm, (char) ((px >> 8) & 0xff));
        g_string_append_c (ppm, (char) (px & 0xff));
      }
  if (!g_file_set_contents (path, ppm->str, ppm->len, &error))
    {
      g_dbus_method_invocation_return_dbus_error (inv, "org.vireo.VM1.Error.Failed",
                                                  error->message);
      return TRUE;
    }
  vireo_dbus_vm1_complete_screenshot (s, inv);
  return TRUE;
}

static gboolean
handle_send_key (VireoDBusVM1 *s, GDBusMethodInvocation *inv, guint keycode, gboolean down,
                 Mock *m)
{
  FILE *log = fopen (m->key_log, "a");

  if (log)
    {
      fprintf (log, "%u %s\n", keycode, down ? "down" : "up");
      fclose (log);
    }
  if (down && m->width >= 32 && m->height >= 32)
    {
      for (guint y = 0; y < 32; y++)
        for (guint x = 0; x < 32; x++)
          m->fb[y * (m->stride / 4) + x] = mock_key_colour (keycode);
      emit_damage (m, 0, 0, 32, 32);
    }
  vireo_dbus_vm1_complete_send_key (s, inv);
  return TRUE;
}

static gboolean
handle_send_pointer (VireoDBusVM1 *s, GDBusMethodInvocation *inv, int x, int y, guint buttons,
                     Mock *m)
{
  /* Only button changes are logged: motion would flood the log. */
  if (buttons != m->buttons)
    {
      FILE *log = fopen (m->key_log, "a");
      if (log)
        {
          fprintf (log, "pointer %d %d %u\n", x, y, buttons);
          fclose (log);
        }
      m->buttons = buttons;
    }
  vireo_dbus_vm1_complete_send_pointer (s, inv);
  return TRUE;
}

static gboolean
handle_send_pointer_relative (VireoDBusVM1 *s, GDBusMethodInvocation *inv, int x, int y,
                              guint buttons, Mock *m)
{
  vireo_dbus_vm1_complete_send_pointer_relative (s, inv);
  return TRUE;
}

static gboolean
handle_send_ctrl_alt_del (VireoDBusVM1 *s, GDBusMethodInvocation *inv, Mock *m)
{
  FILE *log = fopen (m->key_log, "a");

  if (log)
    {
      fprintf (log, "ctrl-alt-del\n");
      fclose (log);
    }
  vireo_dbus_vm1_complete_send_ctrl_alt_del (s, inv);
  return TRUE;
}

static gboolean
handle_get_display (VireoDBusVM1 *s, GDBusMethodInvocation *inv, GUnixFDList *unused, Mock *m)
{
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  int index = g_unix_fd_list_append (fds, m->fb_fd, NULL);

  vireo_dbus_vm1_complete_get_display (s, inv, fds, g_variant_new_handle (index), m->width,
                                       m->height, m->stride, FORMAT_XRGB8888);
  return TRUE;
}

static gboolean
handle_unsupported (VireoDBusVM1 *s, GDBusMethodInvocation *inv, Mock *m)
{
  g_dbus_method_invocation_return_dbus_error (inv, "org.vireo.VM1.Error.NotSupported",
                                              "Snapshots are not supported by the mock");
  return TRUE;
}

static void
on_control_closed (gpointer data)
{
  Mock *m = data;

  /* The app went away: power off and exit, as vireo-vmx does. */
  g_main_loop_quit (m->loop);
}

static gboolean
setup_framebuffer (Mock *m, const char *display)
{
  guint w = 1024, h = 768;

  if (display && sscanf (display, "%ux%u", &w, &h) != 2)
    return FALSE;
  if (w < 32 || h < 32 || w > 8192 || h > 8192)
    return FALSE;
  m->width = w;
  m->height = h;
  m->stride = w * 4;
  m->fb_fd = memfd_create ("vireo-mock-fb", MFD_CLOEXEC);
  if (m->fb_fd < 0 || ftruncate (m->fb_fd, (off_t) m->stride * h) < 0)
    return FALSE;
  m->fb = mmap (NULL, (size_t) m->stride * h, PROT_READ | PROT_WRITE, MAP_SHARED, m->fb_fd, 0);
  if (m->fb == MAP_FAILED)
    return FALSE;
  memset (m->fb, 0, (size_t) m->stride * h);
  return TRUE;
}

int
main (int argc, char **argv)
{
  Mock m = { 0 };
  VireoDBusTransport *transport;
  g_autoptr (GError) error = NULL;
  g_autofree char *vm_dir = NULL, *display = NULL, *name = NULL, *kernel = NULL;
  g_autofree char *initrd = NULL, *append = NULL, *memory = NULL, *engine = NULL;
  int control_fd = -1, cpus = 1;
  GOptionEntry entries[] = {
    { "vm-dir", 0, 0, G_OPTION_ARG_FILENAME, &vm_dir, "VM folder", "DIR" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "VM name", "NAME" },
    { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, "ignored", "FILE" },
    { "initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, "ignored", "FILE" },
    { "append", 0, 0, G_OPTION_ARG_STRING, &append, "ignored", "TEXT" },
    { "memory", 0, 0, G_OPTION_ARG_STRING, &memory, "ignored", "SIZE" },
    { "cpus", 0, 0, G_OPTION_ARG_INT, &cpus, "ignored", "N" },
    { "engine", 0, 0, G_OPTION_ARG_STRING, &engine, "ignored", "ENGINE" },
    { "display", 0, 0, G_OPTION_ARG_STRING, &display, "framebuffer size", "WxH" },
    { "control-fd", 0, 0, G_OPTION_ARG_INT, &control_fd, "control connection", "FD" },
    { "socket", 0, 0, G_OPTION_ARG_FILENAME, &m.socket_path, "per-VM socket", "PATH" },
    { "headless", 0, 0, G_OPTION_ARG_NONE, &m.headless, "no window", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- mock VM helper");

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("mock-vmx: %s\n", error->message);
      return 2;
    }
  if (control_fd < 0 && !m.socket_path)
    {
      g_printerr ("mock-vmx: need --control-fd or --socket\n");
      return 2;
    }
  if (!setup_framebuffer (&m, display))
    {
      g_printerr ("mock-vmx: bad --display or no memfd\n");
      return 2;
    }
  m.key_log = g_strdup (g_getenv ("VIREO_MOCK_KEY_LOG"));
  if (!m.key_log)
    m.key_log = g_build_filename (vm_dir ? vm_dir : ".", "mock-keys.log", NULL);

  m.loop = g_main_loop_new (NULL, FALSE);
  m.skeleton = vireo_dbus_vm1_skeleton_new ();
  vireo_dbus_vm1_set_state (m.skeleton, "stopped");
  vireo_dbus_vm1_set_state_reason (m.skeleton, "");
  vireo_dbus_vm1_set_engine (m.skeleton, "soft");
  vireo_dbus_vm1_set_engine_reason (m.skeleton, "Mock helper (no machine)");
  vireo_dbus_vm1_set_display_width (m.skeleton, m.width);
  vireo_dbus_vm1_set_display_height (m.skeleton, m.height);
  vireo_dbus_vm1_set_display_stride (m.skeleton, m.stride);
  vireo_dbus_vm1_set_display_format (m.skeleton, FORMAT_XRGB8888);
#define H(sig, fn) g_signal_connect (m.skeleton, sig, G_CALLBACK (fn), &m)
  H ("handle-start", handle_start);
  H ("handle-pause", handle_pause);
  H ("handle-resume", handle_resume);
  H ("handle-reset", handle_reset);
  H ("handle-power-off", handle_power_off);
  H ("handle-shutdown", handle_shutdown);
  H ("handle-screenshot", handle_screenshot);
  H ("handle-send-key", handle_send_key);
  H ("handle-send-pointer", handle_send_pointer);
  H ("handle-send-pointer-relative", handle_send_pointer_relative);
  H ("handle-send-ctrl-alt-del", handle_send_ctrl_alt_del);
  H ("handle-get-display", handle_get_display);
  H ("handle-take-snapshot", handle_unsupported);
  H ("handle-revert-snapshot", handle_unsupported);
  H ("handle-delete-snapshot", handle_unsupported);
  H ("handle-list-snapshots", handle_unsupported);
#undef H

  transport = vireo_dbus_transport_new (G_DBUS_INTERFACE_SKELETON (m.skeleton), OBJECT_PATH);
  if (control_fd >= 0
      && !vireo_dbus_transport_add_control_fd (transport, control_fd, on_control_closed, &m,
                                               &error))
    {
      g_printerr ("mock-vmx: control connection: %s\n", error->message);
      return 1;
    }
  if (m.socket_path && !vireo_dbus_transport_listen (transport, m.socket_path, &error))
    {
      g_printerr ("mock-vmx: %s: %s\n", m.socket_path, error->message);
      return 1;
    }

  /* Tests set a lifetime so a helper left behind by a failed test ends. */
  if (g_getenv ("VIREO_MOCK_LIFETIME") && atoi (g_getenv ("VIREO_MOCK_LIFETIME")) > 0)
    g_timeout_add_seconds ((guint) atoi (g_getenv ("VIREO_MOCK_LIFETIME")),
                           (GSourceFunc) (void (*) (void)) g_main_loop_quit, m.loop);
  g_main_loop_run (m.loop);

  vireo_dbus_transport_free (transport);
  g_object_unref (m.skeleton);
  g_free (m.socket_path);
  g_free (m.key_log);
  g_main_loop_unref (m.loop);
  return 0;
}
