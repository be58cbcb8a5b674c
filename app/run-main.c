/* vireo-run: command-line control of Vireo VMs, like VMware's vmrun.
 * Every command prints one line on failure and exits with a documented
 * code (run-client.h) so scripts can rely on it. */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n.h>

#include "run-client.h"
#include "vireo-library.h"
#include "vireo-vmx-launch.h"

static int
usage (FILE *out)
{
  fprintf (out, "%s",
           _("Usage: vireo-run COMMAND [OPTIONS] [VM] [ARGS]\n"
             "\n"
             "VM is a VM’s id (its folder name) or its name.\n"
             "\n"
             "Commands:\n"
             "  list                      List the VMs with id, state and name\n"
             "  start [--headless] VM     Start a VM (headless: without a window)\n"
             "  stop [--hard] VM          Shut a VM down (hard: power it off)\n"
             "  reset VM                  Reset a running VM\n"
             "  pause VM                  Pause a running VM\n"
             "  resume VM                 Resume a paused VM\n"
             "  state VM                  Print the state of a VM\n"
             "  screenshot VM FILE        Save the VM’s screen to FILE\n"
             "\n"
             "Exit status: 0 done, 1 the operation failed, 2 usage error,\n"
             "3 no such VM, 4 the VM is not running, 5 the VM is already running.\n"));
  return out == stdout ? RUN_EXIT_OK : RUN_EXIT_USAGE;
}

static int
fail (int code, const char *format, ...) G_GNUC_PRINTF (2, 3);

static int
fail (int code, const char *format, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  fprintf (stderr, "vireo-run: %s\n", msg);
  return code;
}

static int
fail_error (GError *error)
{
  g_dbus_error_strip_remote_error (error);
  return fail (RUN_EXIT_FAILED, "%s", error->message);
}

static int
cmd_list (VireoLibrary *lib)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (lib));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (VireoVm) vm = g_list_model_get_item (G_LIST_MODEL (lib), i);
      g_autoptr (VireoDBusVM1) proxy = NULL;
      const char *state = "stopped";

      if (vireo_vm_is_broken (vm))
        state = "broken";
      else if ((proxy = run_client_connect (vm, NULL)))
        state = vireo_dbus_vm1_get_state (proxy);
      printf ("%s\t%s\t%s\n", vireo_vm_get_id (vm), state, vireo_vm_get_name (vm));
    }
  return RUN_EXIT_OK;
}

static gboolean
wait_for_socket (VireoVm *vm, GSubprocess *helper, VireoDBusVM1 **proxy)
{
  for (int i = 0; i < 300 && !*proxy; i++)
    {
      *proxy = run_client_connect (vm, NULL);
      if (*proxy)
        break;
      if (helper && g_subprocess_get_identifier (helper) == NULL)
        return FALSE; /* exited */
      g_usleep (100 * 1000);
      g_main_context_iteration (NULL, FALSE);
    }
  return *proxy != NULL;
}

static void
detach (gpointer data)
{
  setsid ();
}

static int
cmd_start (VireoVm *vm, gboolean headless)
{
  g_autoptr (VireoDBusVM1) proxy = run_client_connect (vm, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) helper = NULL;
  g_autoptr (GPtrArray) argv = NULL;
  g_autofree char *socket_path = vireo_vm_dup_socket_path (vm);
  g_autofree char *log = g_build_filename (vireo_vm_get_dir (vm), "vireo-vmx.log", NULL);
  g_autofree char *state = NULL;
  const char *const running[] = { "running", "stopped", "crashed", NULL };

  if (proxy && g_strcmp0 (vireo_dbus_vm1_get_state (proxy), "stopped") != 0)
    return fail (RUN_EXIT_ALREADY_RUNNING, _("%s is already running"), vireo_vm_get_name (vm));
  if (proxy && run_client_wait_gone (proxy, 2))
    g_clear_object (&proxy); /* a helper that just stopped its VM and exits */
  if (!proxy)
    {
      if (headless)
        argv = vireo_vmx_build_argv (vm, -1, socket_path, TRUE, &error);
      else
        {
          /* With a window: the app starts it (and keeps its console). */
          argv = g_ptr_array_new_with_free_func (g_free);
          g_ptr_array_add (argv, g_strdup (g_getenv ("VIREO_APP") ? g_getenv ("VIREO_APP")
                                                                   : "vireo"));
          g_ptr_array_add (argv, g_strdup_printf ("--start=%s", vireo_vm_get_id (vm)));
          g_ptr_array_add (argv, NULL);
        }
      if (!argv || !vireo_vmx_ensure_socket_dir (socket_path, &error))
        return fail_error (error);
      launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_INHERIT);
      g_subprocess_launcher_set_child_setup (launcher, detach, NULL, NULL);
      g_subprocess_launcher_set_stdout_file_path (launcher, log);
      g_subprocess_launcher_set_stderr_file_path (launcher, log);
      helper = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata,
                                             &error);
      if (!helper)
        return fail_error (error);
      g_subprocess_wait_async (helper, NULL, NULL, NULL);
      /* `vireo --start` hands the VM to a running app and exits at once:
       * only a headless helper that exits has failed. */
      if (!wait_for_socket (vm, headless ? helper : NULL, &proxy))
        return fail (RUN_EXIT_FAILED, _("%s did not start; see %s"), vireo_vm_get_name (vm), log);
    }
  if (g_strcmp0 (vireo_dbus_vm1_get_state (proxy), "stopped") == 0
      && !vireo_dbus_vm1_call_start_sync (proxy, NULL, &error))
    return fail_error (error);
  state = run_client_wait_state (proxy, running, 60);
  if (g_strcmp0 (state, "running") != 0)
    return fail (RUN_EXIT_FAILED, _("%s did not start: %s"), vireo_vm_get_name (vm),
                 vireo_dbus_vm1_get_state_reason (proxy));
  return RUN_EXIT_OK;
}

static int
cmd_stop (VireoDBusVM1 *proxy, VireoVm *vm, gboolean hard)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *state = NULL;
  const char *const stopped[] = { "stopped", NULL };

  if (hard ? !vireo_dbus_vm1_call_power_off_sync (proxy, NULL, &error)
           : !vireo_dbus_vm1_call_shutdown_sync (proxy, NULL, &error))
    return fail_error (error);
  state = run_client_wait_state (proxy, stopped, hard ? 30 : 120);
  if (!state)
    return fail (RUN_EXIT_FAILED, _("%s did not shut down; try “stop --hard”"),
                 vireo_vm_get_name (vm));
  return RUN_EXIT_OK;
}

static int
cmd_simple (VireoDBusVM1 *proxy, const char *method)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (proxy), method, NULL,
                                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                                       &error);

  return reply ? RUN_EXIT_OK : fail_error (error);
}

static int
cmd_screenshot (VireoDBusVM1 *proxy, const char *file)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) gfile = g_file_new_for_commandline_arg (file);
  g_autofree char *path = g_file_get_path (gfile);

  if (!vireo_dbus_vm1_call_screenshot_sync (proxy, path, NULL, &error))
    return fail_error (error);
  return RUN_EXIT_OK;
}

int
main (int argc, char **argv)
{
  g_autoptr (VireoLibrary) lib = NULL;
  g_autoptr (VireoDBusVM1) proxy = NULL;
  gboolean headless = FALSE, hard = FALSE;
  const char *command, *vm_arg = NULL, *file = NULL;
  VireoVm *vm;
  int i;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2)
    return usage (stderr);
  command = argv[1];
  if (strcmp (command, "--help") == 0 || strcmp (command, "-h") == 0
      || strcmp (command, "help") == 0)
    return usage (stdout);

  for (i = 2; i < argc; i++)
    {
      if (strcmp (argv[i], "--headless") == 0 && strcmp (command, "start") == 0)
        headless = TRUE;
      else if (strcmp (argv[i], "--hard") == 0 && strcmp (command, "stop") == 0)
        hard = TRUE;
      else if (argv[i][0] == '-' && argv[i][1] == '-')
        return fail (RUN_EXIT_USAGE, _("unknown option “%s” for “%s”"), argv[i], command);
      else if (!vm_arg)
        vm_arg = argv[i];
      else if (!file && strcmp (command, "screenshot") == 0)
        file = argv[i];
      else
        return fail (RUN_EXIT_USAGE, _("too many arguments for “%s”"), command);
    }

  lib = vireo_library_new (NULL);
  vireo_library_scan (lib);
  if (strcmp (command, "list") == 0)
    return vm_arg ? fail (RUN_EXIT_USAGE, _("“list” takes no arguments")) : cmd_list (lib);

  if (!g_strv_contains ((const char *const[]) { "start", "stop", "reset", "pause", "resume",
                                                "state", "screenshot", NULL },
                        command))
    return fail (RUN_EXIT_USAGE, _("unknown command “%s” (see vireo-run --help)"), command);
  if (!vm_arg)
    return fail (RUN_EXIT_USAGE, _("“%s” needs a VM"), command);
  if (strcmp (command, "screenshot") == 0 && !file)
    return fail (RUN_EXIT_USAGE, _("“screenshot” needs a FILE"));

  vm = vireo_library_find (lib, vm_arg);
  if (!vm)
    return fail (RUN_EXIT_NO_SUCH_VM, _("no such VM: %s"), vm_arg);
  if (vireo_vm_is_broken (vm))
    return fail (RUN_EXIT_FAILED, _("%s is broken: %s"), vireo_vm_get_name (vm),
                 vireo_vm_get_broken_reason (vm));

  if (strcmp (command, "start") == 0)
    return cmd_start (vm, headless);

  proxy = run_client_connect (vm, NULL);
  if (strcmp (command, "state") == 0)
    {
      printf ("%s\n", proxy ? vireo_dbus_vm1_get_state (proxy) : "stopped");
      return RUN_EXIT_OK;
    }
  if (!proxy || g_strcmp0 (vireo_dbus_vm1_get_state (proxy), "stopped") == 0)
    return fail (RUN_EXIT_NOT_RUNNING, _("%s is not running"), vireo_vm_get_name (vm));
  if (strcmp (command, "stop") == 0)
    return cmd_stop (proxy, vm, hard);
  if (strcmp (command, "screenshot") == 0)
    return cmd_screenshot (proxy, file);
  if (strcmp (command, "reset") == 0)
    return cmd_simple (proxy, "Reset");
  if (strcmp (command, "pause") == 0)
    return cmd_simple (proxy, "Pause");
  return cmd_simple (proxy, "Resume");
}
