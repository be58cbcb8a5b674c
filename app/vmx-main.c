/* vireo-vmx: the per-VM helper that runs the virtual machine monitor.
 * The logic lives in vmm-core/machine; this is the command line around it. */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <glib.h>

#include "hostdrv/host-caps.h"
#include "vmm-core/guest-ram.h"
#include "vmm-core/machine.h"

static const char help_description[] =
  "Runs one virtual machine headless until the guest powers off.\n"
  "SIGINT and SIGTERM power the machine off.\n"
  "\n"
  "Engines: auto picks KVM on hosts with hardware KVM (kvm_intel/kvm_amd)\n"
  "and the software engine otherwise (no /dev/kvm, or a KVM-PVM host, where\n"
  "stock guest kernels cannot run at speed); kvm and soft force one.\n"
  "\n"
  "Exit status:\n"
  "  0       the guest powered off (or SIGINT/SIGTERM powered it off)\n"
  "  1       bad input: missing or invalid kernel/initrd/ELF, memory size,\n"
  "          no usable engine (e.g. /dev/kvm without permission)\n"
  "  2       bad command line\n"
  "  3       the engine failed while running the guest\n"
  "  4       triple fault or guest reset with --no-reboot\n"
  "  16-79   the guest wrote value v to the test device's exit port: 16 + (v & 63)\n"
  "  odd     the guest wrote v to the debug-exit port 0x501: ((v << 1) | 1) & 0xff,\n"
  "          as QEMU's isa-debug-exit (v = 0 and 1 give 1 and 3)\n";

/* The machine the signal thread may power off; NULL once it is being freed. */
static GMutex running_lock;
static Machine *running;

static gpointer
signal_thread (gpointer data)
{
  sigset_t set;
  int sig;

  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  for (;;)
    if (sigwait (&set, &sig) == 0)
      {
        g_mutex_lock (&running_lock);
        if (running)
          machine_request_poweroff (running);
        g_mutex_unlock (&running_lock);
      }
  return NULL;
}

int
main (int argc, char **argv)
{
  g_autofree char *kernel = NULL, *initrd = NULL, *append = NULL, *memory = NULL;
  g_autofree char *engine = NULL, *serial = NULL, *guest_elf = NULL;
  gboolean no_reboot = FALSE, test_device = FALSE;
  int cpus = 1;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "kernel", 0, 0, G_OPTION_ARG_FILENAME, &kernel, "Linux kernel (bzImage) to boot", "FILE" },
    { "initrd", 0, 0, G_OPTION_ARG_FILENAME, &initrd, "Initial ramdisk", "FILE" },
    { "append", 0, 0, G_OPTION_ARG_STRING, &append, "Kernel command line", "TEXT" },
    { "guest-elf", 0, 0, G_OPTION_ARG_FILENAME, &guest_elf,
      "Boot a tiny test guest: ELF64 enters 64-bit mode, ELF32 32-bit protected mode", "FILE" },
    { "memory", 'm', 0, G_OPTION_ARG_STRING, &memory, "Guest memory (default 512M)", "SIZE" },
    { "cpus", 'c', 0, G_OPTION_ARG_INT, &cpus, "Number of vCPUs (default 1)", "N" },
    { "engine", 0, 0, G_OPTION_ARG_STRING, &engine, "auto (default), kvm or soft", "ENGINE" },
    { "serial", 0, 0, G_OPTION_ARG_STRING, &serial,
      "COM1: stdio (default), file:PATH, unix:PATH or none", "DEV" },
    { "no-reboot", 0, 0, G_OPTION_ARG_NONE, &no_reboot,
      "Stop (exit 4) instead of resetting on triple fault or guest reset", NULL },
    { "test-device", 0, 0, G_OPTION_ARG_NONE, &test_device,
      "Add the test device (exit port 0x5f0, MMIO page 0xfeb00000) for tiny guests", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- run one Vireo virtual machine");

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx, help_description);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "vireo-vmx: %s\n", error->message);
      return MACHINE_EXIT_USAGE;
    }
  if (argc > 1)
    {
      fprintf (stderr, "vireo-vmx: unexpected argument '%s'\n", argv[1]);
      return MACHINE_EXIT_USAGE;
    }

  MachineConfig cfg = { .ram_size = 512ull << 20, .kernel = kernel, .initrd = initrd,
                        .cmdline = append, .guest_elf = guest_elf,
                        .serial = serial ? serial : "stdio", .no_reboot = no_reboot,
                        .test_device = test_device };
  if (memory && !guest_ram_parse_size (memory, &cfg.ram_size, &error))
    {
      fprintf (stderr, "vireo-vmx: --memory: %s\n", error->message);
      return MACHINE_EXIT_USAGE;
    }
  if (cpus < 1 || cpus > MACHINE_MAX_CPUS)
    {
      fprintf (stderr, "vireo-vmx: --cpus must be between 1 and %d\n", MACHINE_MAX_CPUS);
      return MACHINE_EXIT_USAGE;
    }
  cfg.cpus = (unsigned) cpus;
  if (!engine_kind_parse (engine ? engine : "auto", &cfg.engine))
    {
      fprintf (stderr, "vireo-vmx: --engine must be auto, kvm or soft\n");
      return MACHINE_EXIT_USAGE;
    }
  if (!kernel && !guest_elf)
    {
      fprintf (stderr, "vireo-vmx: nothing to boot: give --kernel or --guest-elf\n");
      return MACHINE_EXIT_USAGE;
    }

  /* Every thread inherits this mask; the signal thread alone takes them. */
  sigset_t set;
  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGHUP);
  pthread_sigmask (SIG_BLOCK, &set, NULL);

  g_autofree char *why = NULL;
  Machine *m = machine_new (&cfg, &why, &error);
  if (m && why)
    fprintf (stderr, "vireo-vmx: engine: %s\n", why);
  if (!m)
    {
      fprintf (stderr, "vireo-vmx: %s\n", error->message);
      return MACHINE_EXIT_SETUP_ERROR;
    }
  running = m;
  g_thread_unref (g_thread_new ("signals", signal_thread, NULL));
  int status = MACHINE_EXIT_SETUP_ERROR;
  if (machine_start (m, &error))
    status = machine_run (m);
  else
    fprintf (stderr, "vireo-vmx: %s\n", error->message);
  g_mutex_lock (&running_lock);
  running = NULL;
  g_mutex_unlock (&running_lock);
  machine_free (m);
  return status;
}
