/* vireo-run: commands and exit codes against the mock helper, in a private
 * XDG_DATA_HOME / XDG_RUNTIME_DIR. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

typedef struct {
  char *tmp;
  char **env;
  char *run;
  char *vm_dir;
} Fixture;

static const char *
builddir (void)
{
  const char *b = g_getenv ("VIREO_BUILDDIR");
  return b ? b : VIREO_BUILDDIR;
}

static int
run (Fixture *f, char **out, char **err, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *o = NULL, *e = NULL;
  const char *arg;
  int status;
  va_list ap;

  g_ptr_array_add (argv, f->run);
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)))
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, f->env, G_SPAWN_DEFAULT, NULL, NULL,
                               &o, &e, &status, &error));
  g_assert_no_error (error);
  g_test_message ("vireo-run %s → %d: %s%s", (char *) argv->pdata[1],
                  WIFEXITED (status) ? WEXITSTATUS (status) : -1, o, e);
  /* Failures are one line on stderr. */
  if (WEXITSTATUS (status) != 0 && WEXITSTATUS (status) != 2)
    {
      g_assert_true (g_str_has_prefix (e, "vireo-run: "));
      g_assert_cmpint (strchr (e, '\n') - e, ==, (int) strlen (e) - 1);
    }
  if (out)
    *out = g_steal_pointer (&o);
  if (err)
    *err = g_steal_pointer (&e);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

#define RUN(f, ...) run (f, NULL, NULL, __VA_ARGS__, NULL)

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *mock = g_build_filename (builddir (), "tests", "app", "mock-vmx", NULL);
  g_autofree char *data_home = NULL, *runtime = NULL, *kernel = NULL, *conf = NULL;
  g_autofree char *broken = NULL, *text = NULL;

  f->tmp = g_dir_make_tmp ("vireo-run-XXXXXX", NULL);
  data_home = g_build_filename (f->tmp, "data", NULL);
  runtime = g_build_filename (f->tmp, "run", NULL);
  f->vm_dir = g_build_filename (data_home, "vireo", "vms", "test-vm", NULL);
  broken = g_build_filename (data_home, "vireo", "vms", "broken-vm", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->vm_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (broken, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (runtime, 0700), ==, 0);
  kernel = g_build_filename (f->tmp, "vmlinuz", NULL);
  g_assert_true (g_file_set_contents (kernel, "k", -1, NULL));
  conf = g_build_filename (f->vm_dir, "Test VM.vireo", NULL);
  text = g_strdup_printf ("[vm]\nname=Test VM\nguest-type=linux-direct\nkernel=%s\n"
                          "resolution=320x200\n", kernel);
  g_assert_true (g_file_set_contents (conf, text, -1, NULL));
  g_clear_pointer (&conf, g_free);
  conf = g_build_filename (broken, "Broken.vireo", NULL);
  g_assert_true (g_file_set_contents (conf, "[vm]\nname=Broken\n", -1, NULL));

  f->env = g_get_environ ();
  f->env = g_environ_setenv (f->env, "XDG_DATA_HOME", data_home, TRUE);
  f->env = g_environ_setenv (f->env, "XDG_RUNTIME_DIR", runtime, TRUE);
  f->env = g_environ_setenv (f->env, "VIREO_VMX", mock, TRUE);
  f->env = g_environ_setenv (f->env, "VIREO_MOCK_LIFETIME", "120", TRUE);
  f->env = g_environ_setenv (f->env, "LANGUAGE", "C", TRUE);
  f->env = g_environ_setenv (f->env, "LC_ALL", "C", TRUE);
  f->run = g_build_filename (builddir (), "app", "vireo-run", NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->tmp);

  /* Leave no helper behind, whatever the test did. */
  RUN (f, "stop", "--hard", "test-vm");
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
  g_strfreev (f->env);
  g_free (f->tmp);
  g_free (f->run);
  g_free (f->vm_dir);
}

static void
test_usage (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (RUN (f, "--help"), ==, 0);
  g_assert_cmpint (run (f, NULL, NULL, NULL), ==, 2);
  g_assert_cmpint (RUN (f, "frobnicate"), ==, 2);
  g_assert_cmpint (RUN (f, "start"), ==, 2);
  g_assert_cmpint (RUN (f, "stop", "--gently", "test-vm"), ==, 2);
  g_assert_cmpint (RUN (f, "screenshot", "test-vm"), ==, 2);
  g_assert_cmpint (RUN (f, "state", "a", "b"), ==, 2);
}

static void
test_not_running (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (RUN (f, "state", "no-such-vm"), ==, 3);
  g_assert_cmpint (RUN (f, "pause", "no-such-vm"), ==, 3);
  g_assert_cmpint (run (f, &out, NULL, "state", "test-vm", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "stopped\n");
  g_assert_cmpint (RUN (f, "pause", "test-vm"), ==, 4);
  g_assert_cmpint (RUN (f, "stop", "Test VM"), ==, 4);
  g_assert_cmpint (RUN (f, "screenshot", "test-vm", "/tmp/x.png"), ==, 4);
  g_assert_cmpint (RUN (f, "start", "--headless", "broken-vm"), ==, 1);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run (f, &out, NULL, "list", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "broken-vm\tbroken\tbroken-vm\ntest-vm\tstopped\tTest VM\n");
}

static void
expect_state (Fixture *f, const char *state)
{
  g_autofree char *out = NULL;
  g_autofree char *expected = g_strconcat (state, "\n", NULL);

  g_assert_cmpint (run (f, &out, NULL, "state", "test-vm", NULL), ==, 0);
  g_assert_cmpstr (out, ==, expected);
}

static void
test_lifecycle (Fixture *f, gconstpointer data)
{
  g_autofree char *shot = g_build_filename (f->tmp, "shot.ppm", NULL);
  g_autofree char *out = NULL;

  g_assert_cmpint (RUN (f, "start", "--headless", "test-vm"), ==, 0);
  expect_state (f, "running");
  g_assert_cmpint (RUN (f, "start", "--headless", "Test VM"), ==, 5);
  g_assert_cmpint (run (f, &out, NULL, "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "test-vm\trunning\tTest VM\n"));

  g_assert_cmpint (RUN (f, "pause", "test-vm"), ==, 0);
  expect_state (f, "paused");
  g_assert_cmpint (RUN (f, "pause", "test-vm"), ==, 1);
  g_assert_cmpint (RUN (f, "resume", "test-vm"), ==, 0);
  expect_state (f, "running");
  g_assert_cmpint (RUN (f, "reset", "test-vm"), ==, 0);
  g_assert_cmpint (RUN (f, "screenshot", "test-vm", shot), ==, 0);
  g_assert_true (g_file_test (shot, G_FILE_TEST_IS_REGULAR));

  g_assert_cmpint (RUN (f, "stop", "test-vm"), ==, 0);
  expect_state (f, "stopped");
  g_assert_cmpint (RUN (f, "stop", "test-vm"), ==, 4);

  g_assert_cmpint (RUN (f, "start", "--headless", "test-vm"), ==, 0);
  g_assert_cmpint (RUN (f, "stop", "--hard", "test-vm"), ==, 0);
  expect_state (f, "stopped");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/app/vireo-run/usage", Fixture, NULL, setup, test_usage, teardown);
  g_test_add ("/app/vireo-run/not-running", Fixture, NULL, setup, test_not_running, teardown);
  g_test_add ("/app/vireo-run/lifecycle", Fixture, NULL, setup, test_lifecycle, teardown);
  return g_test_run ();
}
