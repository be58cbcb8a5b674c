/* The demo guest lives in <builddir>/resources/guest (vmlinuz, initrd.img)
 * unless VIREO_DEMO_GUEST_DIR points elsewhere. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "vireo-demo.h"

char *
vireo_demo_guest_dir (void)
{
  const char *env = g_getenv ("VIREO_DEMO_GUEST_DIR");

  if (env && *env)
    return g_strdup (env);
  return g_build_filename (VIREO_BUILDDIR, "resources", "guest", NULL);
}

gboolean
vireo_demo_guest_available (void)
{
  g_autofree char *dir = vireo_demo_guest_dir ();
  g_autofree char *kernel = g_build_filename (dir, "vmlinuz", NULL);

  return g_file_test (kernel, G_FILE_TEST_IS_REGULAR);
}

VireoVmConfig *
vireo_demo_config_new (GError **error)
{
  g_autofree char *dir = vireo_demo_guest_dir ();
  VireoVmConfig *c;

  if (!vireo_demo_guest_available ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The demo guest is not built yet (run “ninja -C build demo-guest”)"));
      return NULL;
    }
  c = vireo_vm_config_new_default (_("Demo VM"));
  c->kernel = g_build_filename (dir, "vmlinuz", NULL);
  c->initrd = g_build_filename (dir, "initrd.img", NULL);
  if (!g_file_test (c->initrd, G_FILE_TEST_IS_REGULAR))
    g_clear_pointer (&c->initrd, g_free);
  c->cmdline = g_strdup ("console=ttyS0 console=tty0 quiet");
  c->memory_mib = 256;
  return c;
}
