/* The org.vireo.VM1 contract over the real transport (a socketpair and a
 * peer-to-peer GDBusConnection) against the mock helper, and VireoVmSession
 * on top of it, including a helper that crashes or is killed. */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>

#include "mock-pattern.h"
#include "vireo-library.h"
#include "vireo-vm-session.h"
#include "vireo-vmx-launch.h"

typedef struct {
  char *tmp;
  char *key_log;
  GSubprocess *process;
  GDBusConnection *connection;
  VireoDBusVM1 *proxy;
  GPtrArray *states;   /* char*: every StateChanged */
  GPtrArray *damage;   /* GVariant a(iiii) */
} Fixture;

static char *
mock_path (void)
{
  const char *builddir = g_getenv ("VIREO_BUILDDIR");

  return g_build_filename (builddir ? builddir : VIREO_BUILDDIR, "tests", "app", "mock-vmx",
                           NULL);
}

/* Wakes the loop so a missing event fails the deadline instead of hanging. */
static gboolean
keep_ticking (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
wait_for (gboolean (*cond) (Fixture *f), Fixture *f)
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

static void
on_state_changed (VireoDBusVM1 *proxy, const char *state, const char *reason, Fixture *f)
{
  g_ptr_array_add (f->states, g_strdup (state));
}

static void
on_damage (VireoDBusVM1 *proxy, GVariant *rects, Fixture *f)
{
  g_ptr_array_add (f->damage, g_variant_ref (rects));
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *mock = mock_path ();
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketConnection) stream = NULL;
  g_autoptr (GError) error = NULL;
  int fds[2];

  f->tmp = g_dir_make_tmp ("vireo-dbus-XXXXXX", NULL);
  f->key_log = g_build_filename (f->tmp, "keys.log", NULL);
  f->states = g_ptr_array_new_with_free_func (g_free);
  f->damage = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  g_subprocess_launcher_setenv (launcher, "VIREO_MOCK_KEY_LOG", f->key_log, TRUE);
  f->process = g_subprocess_launcher_spawn (launcher, &error, mock, "--control-fd=3",
                                            "--display=640x480", NULL);
  g_assert_no_error (error);

  socket = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  stream = g_socket_connection_factory_create_connection (socket);
  f->connection = g_dbus_connection_new_sync (G_IO_STREAM (stream), NULL,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                              NULL, NULL, &error);
  g_assert_no_error (error);
  f->proxy = vireo_dbus_vm1_proxy_new_sync (f->connection, G_DBUS_PROXY_FLAGS_NONE, NULL,
                                            VIREO_VM1_OBJECT_PATH, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (f->proxy, "state-changed", G_CALLBACK (on_state_changed), f);
  g_signal_connect (f->proxy, "display-damage", G_CALLBACK (on_damage), f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->proxy);
  if (f->connection)
    g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  /* Closing the control connection makes the helper exit. */
  if (f->process)
    {
      g_assert_true (g_subprocess_wait (f->process, NULL, NULL));
      g_clear_object (&f->process);
    }
  g_unlink (f->key_log);
  g_rmdir (f->tmp);
  g_free (f->key_log);
  g_free (f->tmp);
  g_ptr_array_unref (f->states);
  g_ptr_array_unref (f->damage);
}

static gboolean
has_state (Fixture *f)
{
  return f->states->len > 0;
}

static gboolean
has_damage (Fixture *f)
{
  return f->damage->len > 0;
}

static void
expect_state (Fixture *f, const char *state)
{
  wait_for (has_state, f);
  g_assert_cmpstr (g_ptr_array_index (f->states, 0), ==, state);
  g_ptr_array_remove_index (f->states, 0);
}

static void
test_state_machine (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (vireo_dbus_vm1_get_state (f->proxy), ==, "stopped");
  g_assert_cmpstr (vireo_dbus_vm1_get_engine (f->proxy), ==, "soft");
  g_assert_cmpuint (vireo_dbus_vm1_get_display_width (f->proxy), ==, 640);

  /* Pause before Start is refused with InvalidState. */
  g_assert_false (vireo_dbus_vm1_call_pause_sync (f->proxy, NULL, &error));
  g_assert_nonnull (strstr (error->message, "InvalidState"));
  g_clear_error (&error);

  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  expect_state (f, "running");
  g_assert_cmpstr (vireo_dbus_vm1_get_state (f->proxy), ==, "running");
  g_assert_true (vireo_dbus_vm1_call_pause_sync (f->proxy, NULL, &error));
  expect_state (f, "paused");
  g_assert_false (vireo_dbus_vm1_call_pause_sync (f->proxy, NULL, &error));
  g_clear_error (&error);
  g_assert_true (vireo_dbus_vm1_call_resume_sync (f->proxy, NULL, &error));
  expect_state (f, "running");
  g_assert_true (vireo_dbus_vm1_call_reset_sync (f->proxy, NULL, &error));
  expect_state (f, "running");
  g_assert_true (vireo_dbus_vm1_call_shutdown_sync (f->proxy, NULL, &error));
  expect_state (f, "shutting-down");
  expect_state (f, "stopped");
  g_assert_cmpstr (vireo_dbus_vm1_get_state_reason (f->proxy), ==, "Guest shut down");

  /* A helper whose VM stopped exits by itself, with status 0. */
  g_assert_true (g_subprocess_wait (f->process, NULL, NULL));
  g_assert_true (g_subprocess_get_successful (f->process));
}

static void
test_power_off (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  g_assert_true (vireo_dbus_vm1_call_pause_sync (f->proxy, NULL, &error));
  g_assert_true (vireo_dbus_vm1_call_power_off_sync (f->proxy, NULL, &error));
  expect_state (f, "running");
  expect_state (f, "paused");
  expect_state (f, "stopped");
  g_assert_cmpstr (vireo_dbus_vm1_get_state_reason (f->proxy), ==, "Powered off");
}

static void
test_display (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariant) handle = NULL;
  g_autofree char *log = NULL;
  guint w, h, stride, format;
  const guint32 *fb;
  GVariant *rects;
  int x, y, rw, rh;
  int fd;

  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  wait_for (has_damage, f);
  rects = g_ptr_array_index (f->damage, 0);
  g_assert_cmpuint (g_variant_n_children (rects), ==, 1);
  g_variant_get_child (rects, 0, "(iiii)", &x, &y, &rw, &rh);
  g_assert_cmpint (x, ==, 0);
  g_assert_cmpint (rw, ==, 640);
  g_assert_cmpint (rh, ==, 480);
  g_ptr_array_set_size (f->damage, 0);

  g_assert_true (vireo_dbus_vm1_call_get_display_sync (f->proxy, NULL, &handle, &w, &h, &stride,
                                                       &format, &fds, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (w, ==, 640);
  g_assert_cmpuint (h, ==, 480);
  g_assert_cmpuint (stride, >=, w * 4);
  g_assert_cmpuint (format, ==, 0x34325258);
  fd = g_unix_fd_list_get (fds, g_variant_get_handle (handle), &error);
  g_assert_cmpint (fd, >=, 0);
  fb = mmap (NULL, (size_t) stride * h, PROT_READ, MAP_SHARED, fd, 0);
  g_assert_true (fb != MAP_FAILED);
  close (fd);

  /* The test pattern, read through our own mapping. */
  for (guint bar = 0; bar < 8; bar++)
    {
      guint px = bar * w / 8 + 4;
      g_assert_cmphex (fb[200 * (stride / 4) + px] & 0xffffff, ==, mock_bar_colour (px, w));
    }

  /* A key press changes the shared memory and announces the damage. */
  g_assert_true (vireo_dbus_vm1_call_send_key_sync (f->proxy, 30, TRUE, NULL, &error));
  g_assert_true (vireo_dbus_vm1_call_send_key_sync (f->proxy, 30, FALSE, NULL, &error));
  wait_for (has_damage, f);
  g_variant_get_child (g_ptr_array_index (f->damage, 0), 0, "(iiii)", &x, &y, &rw, &rh);
  g_assert_cmpint (rw, ==, 32);
  g_assert_cmpint (rh, ==, 32);
  g_assert_cmphex (fb[5 * (stride / 4) + 5] & 0xffffff, ==, mock_key_colour (30));
  g_assert_true (vireo_dbus_vm1_call_send_ctrl_alt_del_sync (f->proxy, NULL, &error));
  g_assert_true (g_file_get_contents (f->key_log, &log, NULL, &error));
  g_assert_cmpstr (log, ==, "30 down\n30 up\nctrl-alt-del\n");
  munmap ((void *) fb, (size_t) stride * h);
}

static void
test_screenshot (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->tmp, "shot.ppm", NULL);
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  g_assert_false (vireo_dbus_vm1_call_screenshot_sync (f->proxy, "relative.png", NULL, &error));
  g_clear_error (&error);
  g_assert_true (vireo_dbus_vm1_call_screenshot_sync (f->proxy, path, NULL, &error));
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_true (g_str_has_prefix (contents, "P6\n640 480\n255\n"));
  g_assert_cmpuint (len, ==, strlen ("P6\n640 480\n255\n") + 640 * 480 * 3);
  g_unlink (path);
}

/* VireoVmSession: the app's side, with the mock as VIREO_VMX. */

typedef struct {
  char *root;
  char *kernel;
  VireoLibrary *library;
  VireoVm *vm;
  gboolean done;
  gboolean finished;
  GError *error;
} SessionFixture;

static void
session_setup (SessionFixture *f, gconstpointer data)
{
  g_autofree char *mock = mock_path ();
  g_autoptr (VireoVmConfig) c = vireo_vm_config_new_default ("Session");
  g_autofree char *runtime = NULL;

  f->root = g_dir_make_tmp ("vireo-session-XXXXXX", NULL);
  f->kernel = g_build_filename (f->root, "vmlinuz", NULL);
  g_assert_true (g_file_set_contents (f->kernel, "not a kernel", -1, NULL));
  g_setenv ("VIREO_VMX", mock, TRUE);
  g_setenv ("VIREO_MOCK_KEY_LOG", "/dev/null", TRUE);
  f->library = vireo_library_new (f->root);
  c->kernel = g_strdup (f->kernel);
  c->display_width = 320;
  c->display_height = 200;
  f->vm = vireo_library_create_vm (f->library, c, NULL);
  g_assert_nonnull (f->vm);
}

static void
session_teardown (SessionFixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->root);

  g_clear_object (&f->library);
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
  g_free (f->root);
  g_free (f->kernel);
  g_clear_error (&f->error);
  g_unsetenv ("VIREO_MOCK_CRASH");
}

static void
on_started (GObject *source, GAsyncResult *result, gpointer data)
{
  SessionFixture *f = data;

  vireo_vm_session_start_finish (VIREO_VM_SESSION (source), result, &f->error);
  f->done = TRUE;
}

static void
on_finished (VireoVmSession *session, SessionFixture *f)
{
  f->finished = TRUE;
}

static void
spin_until (gboolean *flag)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  guint tick = g_timeout_add (100, keep_ticking, NULL);

  while (!*flag)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
}

static VireoVmSession *
start_session (SessionFixture *f)
{
  VireoVmSession *session = vireo_vm_session_new (f->vm);

  g_signal_connect (session, "finished", G_CALLBACK (on_finished), f);
  vireo_vm_session_start_async (session, NULL, on_started, f);
  spin_until (&f->done);
  return session;
}

static void
test_session_power_off (SessionFixture *f, gconstpointer data)
{
  g_autoptr (VireoVmSession) session = start_session (f);

  g_assert_no_error (f->error);
  g_assert_cmpstr (vireo_vm_get_state (f->vm), ==, "running");
  g_assert_true (vireo_vm_session_is_active (session));
  vireo_vm_session_call (session, "PowerOff");
  spin_until (&f->finished);
  g_assert_cmpstr (vireo_vm_get_state (f->vm), ==, "stopped");
  g_assert_cmpstr (vireo_vm_get_state_reason (f->vm), ==, "Powered off");
}

static void
test_session_killed (SessionFixture *f, gconstpointer data)
{
  g_autoptr (VireoVmSession) session = start_session (f);

  g_assert_no_error (f->error);
  g_assert_cmpstr (vireo_vm_get_state (f->vm), ==, "running");
  g_assert_cmpint (kill (vireo_vm_session_get_pid (session), SIGKILL), ==, 0);
  spin_until (&f->finished);
  g_assert_cmpstr (vireo_vm_get_state (f->vm), ==, "stopped");
  g_assert_nonnull (strstr (vireo_vm_get_state_reason (f->vm), "killed"));
}

static void
test_session_crash (SessionFixture *f, gconstpointer data)
{
  g_autoptr (VireoVmSession) session = NULL;

  g_setenv ("VIREO_MOCK_CRASH", "start", TRUE);
  session = start_session (f);
  g_assert_nonnull (f->error);
  spin_until (&f->finished);
  g_assert_cmpstr (vireo_vm_get_state (f->vm), ==, "stopped");
  g_assert_nonnull (strstr (vireo_vm_get_state_reason (f->vm), "killed"));
}

static void
test_session_missing_kernel (SessionFixture *f, gconstpointer data)
{
  g_autoptr (VireoVmSession) session = NULL;

  g_unlink (f->kernel);
  session = start_session (f);
  g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (vireo_vm_get_state (f->vm), ==, "stopped");
}

/* A helper started elsewhere (vireo-run --headless) is joined through its
 * socket instead of being started a second time. */
static void
test_session_attach (SessionFixture *f, gconstpointer data)
{
  g_autofree char *mock = mock_path ();
  g_autofree char *socket = vireo_vm_dup_socket_path (f->vm);
  g_autofree char *socket_arg = g_strdup_printf ("--socket=%s", socket);
  g_autoptr (GSubprocess) helper = NULL;
  g_autoptr (VireoVmSession) session = NULL;
  g_autoptr (VireoVmSession) second = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (vireo_vmx_ensure_socket_dir (socket, &error));
  helper = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, mock, socket_arg,
                             "--display=320x200", NULL);
  g_assert_no_error (error);
  while (!g_file_test (socket, G_FILE_TEST_EXISTS))
    g_usleep (10000);

  /* Attaching does not start the VM. */
  session = vireo_vm_session_new (f->vm);
  g_signal_connect (session, "finished", G_CALLBACK (on_finished), f);
  vireo_vm_session_attach_async (session, NULL, on_started, f);
  spin_until (&f->done);
  g_assert_no_error (f->error);
  g_assert_true (vireo_vm_session_is_attached (session));
  g_assert_cmpint (vireo_vm_session_get_pid (session), ==, 0);
  g_assert_cmpstr (vireo_vm_get_state (f->vm), ==, "stopped");

  /* Starting a VM whose helper runs joins it and calls Start. */
  f->done = FALSE;
  second = vireo_vm_session_new (f->vm);
  vireo_vm_session_start_async (second, NULL, on_started, f);
  spin_until (&f->done);
  g_assert_no_error (f->error);
  g_assert_cmpint (vireo_vm_session_get_pid (second), ==, 0);
  g_assert_cmpstr (vireo_vm_get_state (f->vm), ==, "running");

  /* Power off and start again at once: the old helper still serves the
   * socket while it exits, and must be replaced, not asked to Start. */
  g_assert_true (vireo_dbus_vm1_call_power_off_sync (vireo_vm_session_get_proxy (second), NULL,
                                                     &error));
  g_clear_object (&second);
  f->done = FALSE;
  second = vireo_vm_session_new (f->vm);
  vireo_vm_session_start_async (second, NULL, on_started, f);
  spin_until (&f->done);
  g_assert_no_error (f->error);
  g_assert_cmpint (vireo_vm_session_get_pid (second), >, 0);
  g_assert_cmpstr (vireo_vm_get_state (f->vm), ==, "running");
  g_assert_true (g_subprocess_wait (helper, NULL, NULL));

  vireo_vm_session_call (second, "PowerOff");
  f->finished = FALSE;
  g_signal_connect (second, "finished", G_CALLBACK (on_finished), f);
  spin_until (&f->finished);
  g_assert_cmpstr (vireo_vm_get_state (f->vm), ==, "stopped");
}

int
main (int argc, char **argv)
{
  g_autofree char *runtime = g_dir_make_tmp ("vireo-runtime-XXXXXX", NULL);
  g_autofree char *cleanup = NULL;
  int status;

  /* Before anything asks GLib for the runtime dir: sockets go here. */
  g_setenv ("XDG_RUNTIME_DIR", runtime, TRUE);
  g_setenv ("VIREO_MOCK_LIFETIME", "120", TRUE);
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);
  g_test_add ("/app/dbus/state-machine", Fixture, NULL, setup, test_state_machine, teardown);
  g_test_add ("/app/dbus/power-off", Fixture, NULL, setup, test_power_off, teardown);
  g_test_add ("/app/dbus/display", Fixture, NULL, setup, test_display, teardown);
  g_test_add ("/app/dbus/screenshot", Fixture, NULL, setup, test_screenshot, teardown);
  g_test_add ("/app/session/power-off", SessionFixture, NULL, session_setup,
              test_session_power_off, session_teardown);
  g_test_add ("/app/session/killed", SessionFixture, NULL, session_setup, test_session_killed,
              session_teardown);
  g_test_add ("/app/session/crash", SessionFixture, NULL, session_setup, test_session_crash,
              session_teardown);
  g_test_add ("/app/session/missing-kernel", SessionFixture, NULL, session_setup,
              test_session_missing_kernel, session_teardown);
  g_test_add ("/app/session/attach", SessionFixture, NULL, session_setup, test_session_attach,
              session_teardown);
  status = g_test_run ();
  cleanup = g_strdup_printf ("rm -rf '%s'", runtime);
  g_spawn_command_line_sync (cleanup, NULL, NULL, NULL, NULL);
  return status;
}
