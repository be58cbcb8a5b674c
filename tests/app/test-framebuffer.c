/* VireoFramebuffer against the mock helper: the mapped memfd becomes a
 * texture with the helper's pixels, only damaged rectangles are copied,
 * and hostile rectangles are clamped. Needs no display (GdkMemoryTexture). */
#include "config.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <gio/gunixfdlist.h>
#include <gtk/gtk.h>

#include "mock-pattern.h"
#include "vireo-framebuffer.h"
#include "vireo-vmx-launch.h"

#define W 320
#define H 200

typedef struct {
  GSubprocess *process;
  GDBusConnection *connection;
  VireoDBusVM1 *proxy;
  VireoFramebuffer *fb;
} Fixture;

/* Wakes the loop so a missing event fails the deadline instead of hanging. */
static gboolean
keep_ticking (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
wait_until (gboolean (*cond) (Fixture *), Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  guint tick = g_timeout_add (100, keep_ticking, NULL);

  while (!cond (f))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
}

static gboolean
has_size (Fixture *f)
{
  return vireo_framebuffer_get_width (f->fb) == W;
}

static void
setup (Fixture *f, gconstpointer bad_damage)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  const char *builddir = g_getenv ("VIREO_BUILDDIR");
  g_autofree char *mock = g_build_filename (builddir ? builddir : VIREO_BUILDDIR, "tests", "app",
                                            "mock-vmx", NULL);
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketConnection) stream = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *display = g_strdup_printf ("--display=%dx%d", W, H);
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  g_subprocess_launcher_setenv (launcher, "VIREO_MOCK_KEY_LOG", "/dev/null", TRUE);
  if (bad_damage)
    g_subprocess_launcher_setenv (launcher, "VIREO_MOCK_BAD_DAMAGE", "1", TRUE);
  f->process = g_subprocess_launcher_spawn (launcher, &error, mock, "--control-fd=3", display,
                                            NULL);
  g_assert_no_error (error);
  socket = g_socket_new_from_fd (fds[0], &error);
  stream = g_socket_connection_factory_create_connection (socket);
  f->connection = g_dbus_connection_new_sync (G_IO_STREAM (stream), NULL,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                              NULL, NULL, &error);
  g_assert_no_error (error);
  f->proxy = vireo_dbus_vm1_proxy_new_sync (f->connection, G_DBUS_PROXY_FLAGS_NONE, NULL,
                                            VIREO_VM1_OBJECT_PATH, NULL, &error);
  g_assert_no_error (error);
  f->fb = vireo_framebuffer_new (f->proxy);
  wait_until (has_size, f);
  g_assert_cmpint (vireo_framebuffer_get_height (f->fb), ==, H);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->fb);
  g_clear_object (&f->proxy);
  g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  g_assert_true (g_subprocess_wait (f->process, NULL, NULL));
  g_clear_object (&f->process);
}

static guint64 target;

static gboolean
damage_reached (Fixture *f)
{
  return vireo_framebuffer_get_damage_count (f->fb) >= target;
}

static void
wait_damage (Fixture *f, guint64 n)
{
  target = vireo_framebuffer_get_damage_count (f->fb) + n;
  wait_until (damage_reached, f);
}

static guint32 *
download (Fixture *f)
{
  GdkTexture *texture = vireo_framebuffer_get_texture (f->fb);
  guint32 *pixels = g_new (guint32, W * H);

  g_assert_nonnull (texture);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, W);
  gdk_texture_download (texture, (guchar *) pixels, W * 4);
  return pixels;
}

static void
test_pattern_and_damage (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariant) handle = NULL;
  g_autofree guint32 *before = NULL;
  g_autofree guint32 *after = NULL;
  guint w, h, stride, format;
  guint32 *shared;
  int fd;

  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  wait_damage (f, 1);
  before = download (f);
  for (guint y = 0; y < H; y += 7)
    for (guint x = 0; x < W; x += 3)
      g_assert_cmphex (before[y * W + x], ==, 0xff000000u | mock_bar_colour (x, W));

  /* Scribble into the shared memory ourselves, inside and outside the
   * block the next key press damages: only the damaged area is copied. */
  g_assert_true (vireo_dbus_vm1_call_get_display_sync (f->proxy, NULL, &handle, &w, &h, &stride,
                                                       &format, &fds, NULL, &error));
  fd = g_unix_fd_list_get (fds, g_variant_get_handle (handle), &error);
  shared = mmap (NULL, (gsize) stride * h, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  g_assert_true (shared != MAP_FAILED);
  close (fd);
  shared[100 * (stride / 4) + 100] = 0x123456;

  g_assert_true (vireo_dbus_vm1_call_send_key_sync (f->proxy, 30, TRUE, NULL, &error));
  wait_damage (f, 1);
  after = download (f);
  g_assert_cmphex (after[5 * W + 5], ==, 0xff000000u | mock_key_colour (30));
  g_assert_cmphex (after[100 * W + 100], ==, before[100 * W + 100]);
  g_assert_cmphex (after[40 * W + 40], ==, before[40 * W + 40]);
  munmap (shared, (gsize) stride * h);
}

static void
test_hostile_damage (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree guint32 *pixels = NULL;

  /* Start sends a full-frame rectangle, then five bad ones of which one
   * covers the display once clamped and the others nothing. */
  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  wait_damage (f, 2);
  pixels = download (f);
  g_assert_cmphex (pixels[(H - 1) * W + W - 1], ==, 0xff000000u | mock_bar_colour (W - 1, W));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/app/framebuffer/pattern-and-damage", Fixture, NULL, setup,
              test_pattern_and_damage, teardown);
  g_test_add ("/app/framebuffer/hostile-damage", Fixture, GINT_TO_POINTER (1), setup,
              test_hostile_damage, teardown);
  return g_test_run ();
}
