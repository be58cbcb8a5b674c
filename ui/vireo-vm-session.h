/* VireoVmSession: one running helper process and its control connection. */
#pragma once

#include <gio/gio.h>

#include "vireo-dbus-vm1.h"
#include "vireo-vm.h"

G_BEGIN_DECLS

#define VIREO_TYPE_VM_SESSION (vireo_vm_session_get_type ())
G_DECLARE_FINAL_TYPE (VireoVmSession, vireo_vm_session, VIREO, VM_SESSION, GObject)

VireoVmSession *vireo_vm_session_new (VireoVm *vm);
VireoVm        *vireo_vm_session_get_vm (VireoVmSession *self);
VireoDBusVM1   *vireo_vm_session_get_proxy (VireoVmSession *self);
GPid            vireo_vm_session_get_pid (VireoVmSession *self);
gboolean        vireo_vm_session_is_active (VireoVmSession *self);
gboolean        vireo_vm_session_is_attached (VireoVmSession *self);
/* The VM ran and stopped: the helper is exiting, start a new session. */
gboolean        vireo_vm_session_is_exiting (VireoVmSession *self);

void     vireo_vm_session_start_async (VireoVmSession *self, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
/* Joins a helper that already serves the VM's socket, without starting it;
 * finish with vireo_vm_session_start_finish. */
void     vireo_vm_session_attach_async (VireoVmSession *self, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
gboolean vireo_vm_session_start_finish (VireoVmSession *self, GAsyncResult *result,
                                        GError **error);

/* Calls a no-argument method ("Pause", "PowerOff"...); a failure is
 * reported through the "error" signal. */
void vireo_vm_session_call (VireoVmSession *self, const char *method);

G_END_DECLS
