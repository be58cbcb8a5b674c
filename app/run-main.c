/* vireo-run: command-line control of Vireo VMs, like VMware's vmrun. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib.h>

static int
usage (FILE *out)
{
  fprintf (out,
           "Usage: vireo-run COMMAND [ARGS…]\n"
           "\n"
           "Commands:\n"
           "  list                 List the virtual machines in the library\n"
           "  --help               Show this help\n");
  return out == stdout ? 0 : 2;
}

static int
cmd_list (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "vireo", "vms", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (!d)
    return 0;
  while ((name = g_dir_read_name (d)))
    printf ("%s\n", name);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    return usage (stderr);
  if (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    return usage (stdout);
  if (strcmp (argv[1], "list") == 0)
    return cmd_list ();
  fprintf (stderr, "vireo-run: unknown command '%s' (see vireo-run --help)\n", argv[1]);
  return 2;
}
