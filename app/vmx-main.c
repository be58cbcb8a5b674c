/* vireo-vmx: the per-VM helper that runs the virtual machine monitor. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <glib.h>

#include "vmm-core/guest-ram.h"

int
main (int argc, char **argv)
{
  g_autofree char *kernel = NULL, *initrd = NULL, *append = NULL, *memory = NULL;
  g_autofree char *engine = NULL, *serial = NULL;
  int cpus = 1;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, "Linux kernel (bzImage) to boot", "FILE" },
    { "initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, "Initial ramdisk", "FILE" },
    { "append", 0, 0, G_OPTION_ARG_STRING, &append, "Kernel command line", "TEXT" },
    { "memory", 'm', 0, G_OPTION_ARG_STRING, &memory, "Guest memory (e.g. 512M)", "SIZE" },
    { "cpus", 'c', 0, G_OPTION_ARG_INT, &cpus, "Number of vCPUs", "N" },
    { "engine", 0, 0, G_OPTION_ARG_STRING, &engine, "auto, kvm or soft", "ENGINE" },
    { "serial", 0, 0, G_OPTION_ARG_STRING, &serial, "stdio, file:PATH or unix:PATH", "DEV" },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- run one Vireo virtual machine");

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "vireo-vmx: %s\n", error->message);
      return 2;
    }
  if (memory)
    {
      uint64_t size;
      if (!guest_ram_parse_size (memory, &size, &error))
        {
          fprintf (stderr, "vireo-vmx: %s\n", error->message);
          return 2;
        }
    }
  if (cpus < 1 || cpus > 64)
    {
      fprintf (stderr, "vireo-vmx: --cpus must be between 1 and 64\n");
      return 2;
    }
  fprintf (stderr, "vireo-vmx: no machine to run yet\n");
  return 1;
}
