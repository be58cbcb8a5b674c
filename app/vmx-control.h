/* vireo-vmx's org.vireo.VM1 server: the app's control connection and the
 * per-VM socket, mapped onto the machine (docs/dbus-interface.md).
 *
 * Threads: create, use and free a VmxControl in one thread that runs a
 * GMainLoop on the context that was thread-default at creation (vireo-vmx:
 * the main thread and the global default context). Method handlers, the
 * display export's callbacks and the state changes all run there. The
 * machine itself runs in a thread the control owns: Start calls
 * machine_start() and then machine_run() on a thread named "machine";
 * machine state callbacks (vCPU or machine thread) are marshalled to the
 * context before the skeleton is touched.
 *
 * Use (vireo-vmx main):
 *   VmxControlOptions o = { .control_fd = fd, .socket_path = path, .vm_id = id,
 *                           .engine_reason = why, .display = ds,
 *                           .finished = on_finished, .finished_data = loop };
 *   VmxControl *ctl = vmx_control_new (m, &o, &error);
 *   g_main_loop_run (loop);          // on_finished quits it
 *   int status = vmx_control_exit_status (ctl);
 *   vmx_control_free (ctl);          // before display_setup_stop / machine_free
 */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "display/display-setup.h"
#include "vmm-core/machine.h"
#include "vmm-core/snapshot/vm-snapshot.h"

#define VMX_CONTROL_OBJECT_PATH "/org/vireo/VM1"

typedef struct VmxControl VmxControl;

/* Called once (in the control's context) when the helper should exit: the
 * VM stopped after having run (200 ms after StateChanged, so every peer got
 * it), or the control connection closed. status: machine_run()'s result
 * (MACHINE_EXIT_*), 0 if the VM never ran. */
typedef void (*VmxControlFinished) (void *opaque, int status);

typedef struct VmxControlOptions
{
  int control_fd;            /* the app's end of the socketpair; -1: none */
  const char *socket_path;   /* GDBusServer socket; NULL: none */
  const char *vm_id;         /* for messages; may be NULL */
  const char *engine_reason; /* machine_new's engine_why; may be NULL */
  DisplaySetup *display;     /* NULL: no display (GetDisplay fails) */
  /* Snapshots (both or neither; NULL: the snapshot methods fail with
   * NotSupported). Borrowed: they must outlive the control. */
  SnapshotTree *snapshots;
  const VmDisks *disks;
  VmxControlFinished finished;
  void *finished_data;
} VmxControlOptions;

/* Exports the interface on the control fd (which it takes over) and the
 * socket. The machine must be built but not started. One-line error. */
VmxControl *vmx_control_new (Machine *m, const VmxControlOptions *opts, GError **error);
/* Powers the machine off if it runs, joins its thread, unexports and
 * removes the socket file. Call from the control's thread. */
void vmx_control_free (VmxControl *ctl);

/* What Start does (for a helper started without any client, e.g. a plain
 * command line run). Control thread only. */
bool vmx_control_start (VmxControl *ctl, GError **error);
/* Power off from any thread (a signal handler thread): marshalled. */
void vmx_control_request_power_off (VmxControl *ctl);
/* machine_run()'s status once the VM stopped; 0 before. */
int vmx_control_exit_status (VmxControl *ctl);
