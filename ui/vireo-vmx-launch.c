/* The helper's command line, shared by the app and vireo-run so both start
 * a VM the same way. VIREO_VMX overrides the program (tests use the mock).
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "vireo-vmx-launch.h"

char *
vireo_vmx_find_program (GError **error)
{
  const char *env = g_getenv ("VIREO_VMX");
  g_autofree char *self_path = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *self_dir = self_path ? g_path_get_dirname (self_path) : NULL;
  g_autofree char *sibling = self_dir ? g_build_filename (self_dir, "vireo-vmx", NULL) : NULL;
  g_autofree char *build = g_build_filename (VIREO_BUILDDIR, "app", "vireo-vmx", NULL);
  g_autofree char *libexec = g_build_filename (VIREO_LIBEXECDIR, "vireo-vmx", NULL);
  char *in_path;

  if (env && *env)
    {
      if (g_file_test (env, G_FILE_TEST_IS_EXECUTABLE))
        return g_strdup (env);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("VIREO_VMX=%s is not an executable program"), env);
      return NULL;
    }
  /* Next to our own binary first: an installed app, or the build tree. */
  if (sibling && g_file_test (sibling, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&sibling);
  if (g_file_test (libexec, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&libexec);
  in_path = g_find_program_in_path ("vireo-vmx");
  if (in_path)
    return in_path;
  if (g_file_test (build, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&build);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               _("The VM helper vireo-vmx was not found"));
  return NULL;
}

gboolean
vireo_vmx_ensure_socket_dir (const char *socket_path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (socket_path);

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int err = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), _("Cannot create %s: %s"),
                   dir, g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
vireo_vmx_build_argv (VireoVm *vm, int control_fd, const char *socket_path, gboolean headless,
                      GError **error)
{
  const VireoVmConfig *c = vireo_vm_get_config (vm);
  g_autofree char *program = NULL;
  g_autoptr (GPtrArray) argv = NULL;

  if (!c)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("“%s” is broken: %s"),
                   vireo_vm_get_name (vm), vireo_vm_get_broken_reason (vm));
      return NULL;
    }
  if (!g_file_test (c->kernel, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("Kernel %s does not exist"),
                   c->kernel);
      return NULL;
    }
  if (c->initrd && !g_file_test (c->initrd, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("Initrd %s does not exist"),
                   c->initrd);
      return NULL;
    }
  program = vireo_vmx_find_program (error);
  if (!program)
    return NULL;

  argv = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (argv, g_steal_pointer (&program));
  g_ptr_array_add (argv, g_strdup_printf ("--vm-dir=%s", vireo_vm_get_dir (vm)));
  g_ptr_array_add (argv, g_strdup_printf ("--name=%s", c->name));
  g_ptr_array_add (argv, g_strdup_printf ("--kernel=%s", c->kernel));
  if (c->initrd)
    g_ptr_array_add (argv, g_strdup_printf ("--initrd=%s", c->initrd));
  if (c->cmdline)
    g_ptr_array_add (argv, g_strdup_printf ("--append=%s", c->cmdline));
  g_ptr_array_add (argv, g_strdup_printf ("--memory=%uM", c->memory_mib));
  g_ptr_array_add (argv, g_strdup_printf ("--cpus=%u", c->cpus));
  g_ptr_array_add (argv, g_strdup_printf ("--engine=%s", c->engine));
  g_ptr_array_add (argv, g_strdup_printf ("--display=%ux%u", c->display_width,
                                          c->display_height));
  if (control_fd >= 0)
    g_ptr_array_add (argv, g_strdup_printf ("--control-fd=%d", control_fd));
  if (socket_path)
    g_ptr_array_add (argv, g_strdup_printf ("--socket=%s", socket_path));
  if (headless)
    g_ptr_array_add (argv, g_strdup ("--headless"));
  g_ptr_array_add (argv, NULL);
  return g_steal_pointer (&argv);
}
