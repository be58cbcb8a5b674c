/* vireo-vmx: the per-VM helper that runs the virtual machine monitor.
 * The logic lives in vmm-core/machine; this is the command line around it. */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "app/vmx-control.h"
#include "display/display-setup.h"
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

/* The control the signal thread may power off through; NULL once it is
 * being freed. */
static GMutex running_lock;
static VmxControl *running;

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
          vmx_control_request_power_off (running);
        g_mutex_unlock (&running_lock);
      }
  return NULL;
}

static void
on_finished (void *opaque, int status)
{
  g_main_loop_quit (opaque);
}

/* --display: WxH (the app's resolution), sdl or none (the window). */
static bool
parse_display (const char *arg, DisplaySetupOptions *d)
{
  unsigned w, h;
  char end;

  if (!arg)
    return true;
  if (strcmp (arg, "sdl") == 0 || strcmp (arg, "none") == 0)
    {
      d->display = arg;
      return true;
    }
  if (sscanf (arg, "%ux%u%c", &w, &h, &end) != 2 || w < 320 || h < 200
      || w > BOCHS_MAX_XRES || h > BOCHS_MAX_YRES)
    return false;
  d->device.width = w;
  d->device.height = h;
  return true;
}

int
main (int argc, char **argv)
{
  g_autofree char *kernel = NULL, *initrd = NULL, *append = NULL, *memory = NULL;
  g_autofree char *engine = NULL, *serial = NULL, *guest_elf = NULL;
  g_autofree char *socket_path = NULL, *vm_dir = NULL, *name = NULL, *display = NULL;
  g_autofree char *spice = NULL;
  gboolean no_reboot = FALSE, test_device = FALSE, headless = FALSE;
  int cpus = 1, control_fd = -1;
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
    { "control-fd", 0, 0, G_OPTION_ARG_INT, &control_fd,
      "Serve org.vireo.VM1 on this inherited socket (the app); wait for Start", "N" },
    { "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket_path,
      "Serve org.vireo.VM1 on this unix socket; wait for Start", "PATH" },
    { "vm-dir", 0, 0, G_OPTION_ARG_FILENAME, &vm_dir, "The VM's folder", "DIR" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The VM's name (window title)", "NAME" },
    { "display", 0, 0, G_OPTION_ARG_STRING, &display,
      "Screen size WxH (default 1024x768), or sdl / none for the window", "MODE" },
    { "headless", 0, 0, G_OPTION_ARG_NONE, &headless, "No window of its own", NULL },
    { "spice", 0, 0, G_OPTION_ARG_STRING, &spice,
      "Serve the screen, keyboard and mouse over SPICE: unix=PATH or "
      "port=N[,addr=127.0.0.1][,password=SECRET]", "OPTS" },
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
  DisplaySetupOptions dopts = { .display = "none", .spice = spice, .title = name };
  if (!parse_display (display, &dopts))
    {
      fprintf (stderr, "vireo-vmx: --display must be WxH (320x200 to 8192x8192), sdl or none\n");
      return MACHINE_EXIT_USAGE;
    }
  if (control_fd < -1 || (control_fd >= 0 && control_fd <= 2))
    {
      fprintf (stderr, "vireo-vmx: --control-fd must be an inherited socket (3 or more)\n");
      return MACHINE_EXIT_USAGE;
    }
  /* vireo-run start without --headless: a window of its own. */
  if (!display && socket_path && control_fd < 0 && !headless)
    dopts.display = "sdl";
  if (headless)
    dopts.display = "none";

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
  DisplaySetup *ds = display_setup_new (machine_pci (m), machine_pio (m),
                                        machine_device_lock (m), machine_i8042 (m), &dopts,
                                        &error);
  if (!ds)
    {
      fprintf (stderr, "vireo-vmx: display: %s\n", error->message);
      machine_free (m);
      return MACHINE_EXIT_SETUP_ERROR;
    }
  BootDisplayInfo bi;
  if (display_setup_boot_info (ds, &bi))
    {
      machine_set_boot_display (m, &bi);
      if (!machine_reload_boot_image (m, &error))
        {
          fprintf (stderr, "vireo-vmx: %s\n", error->message);
          display_setup_stop (ds);
          machine_free (m); /* before the device the PCI host refers to */
          display_setup_free (ds);
          return MACHINE_EXIT_SETUP_ERROR;
        }
    }

  /* The main thread runs the GMainLoop (D-Bus, display export); the
   * control runs machine_run() on a "machine" thread of its own. Without
   * any client (plain command line) the VM starts at once. */
  GMainLoop *loop = g_main_loop_new (NULL, FALSE);
  VmxControlOptions copts = { .control_fd = control_fd, .socket_path = socket_path,
                              .vm_id = name, .engine_reason = why, .display = ds,
                              .finished = on_finished, .finished_data = loop };
  VmxControl *ctl = vmx_control_new (m, &copts, &error);
  int status = MACHINE_EXIT_SETUP_ERROR;
  if (ctl && (control_fd >= 0 || socket_path || vmx_control_start (ctl, &error)))
    {
      g_mutex_lock (&running_lock);
      running = ctl;
      g_mutex_unlock (&running_lock);
      g_thread_unref (g_thread_new ("signals", signal_thread, NULL));
      g_main_loop_run (loop);
      status = vmx_control_exit_status (ctl);
      g_mutex_lock (&running_lock);
      running = NULL;
      g_mutex_unlock (&running_lock);
    }
  else
    fprintf (stderr, "vireo-vmx: %s\n", error->message);
  vmx_control_free (ctl);
  display_setup_stop (ds);
  machine_free (m);
  display_setup_free (ds);
  g_main_loop_unref (loop);
  return status;
}
