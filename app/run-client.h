/* vireo-run's connection to a running VM's per-VM socket. */
#pragma once

#include <gio/gio.h>

#include "vireo-dbus-vm1.h"
#include "vireo-vm.h"

G_BEGIN_DECLS

/* Exit codes scripts can rely on (also in vireo-run --help). */
enum {
  RUN_EXIT_OK = 0,
  RUN_EXIT_FAILED = 1,
  RUN_EXIT_USAGE = 2,
  RUN_EXIT_NO_SUCH_VM = 3,
  RUN_EXIT_NOT_RUNNING = 4,
  RUN_EXIT_ALREADY_RUNNING = 5,
};

/* NULL (and no error) when the VM is not running. */
VireoDBusVM1 *run_client_connect (VireoVm *vm, GError **error);
/* Waits until State is one of @states or the helper goes away. */
char         *run_client_wait_state (VireoDBusVM1 *proxy, const char *const *states,
                                     guint timeout_s);

/* TRUE when the helper closes the connection within @timeout_s. */
gboolean      run_client_wait_gone (VireoDBusVM1 *proxy, guint timeout_s);

G_END_DECLS
