/* VireoVm: one virtual machine of the library (its directory and config). */
#pragma once

#include <gio/gio.h>

#include "vireo-vm-config.h"

G_BEGIN_DECLS

#define VIREO_TYPE_VM (vireo_vm_get_type ())
G_DECLARE_FINAL_TYPE (VireoVm, vireo_vm, VIREO, VM, GObject)

VireoVm *vireo_vm_new_from_dir (const char *dir);

const char          *vireo_vm_get_id (VireoVm *self);
const char          *vireo_vm_get_dir (VireoVm *self);
const char          *vireo_vm_get_config_path (VireoVm *self);
const char          *vireo_vm_get_name (VireoVm *self);
const VireoVmConfig *vireo_vm_get_config (VireoVm *self);
gboolean             vireo_vm_is_broken (VireoVm *self);
const char          *vireo_vm_get_broken_reason (VireoVm *self);
const char          *vireo_vm_get_state (VireoVm *self);
const char          *vireo_vm_get_state_reason (VireoVm *self);
char                *vireo_vm_dup_socket_path (VireoVm *self);

void     vireo_vm_set_state (VireoVm *self, const char *state, const char *reason);
gboolean vireo_vm_reload (VireoVm *self);
gboolean vireo_vm_rename (VireoVm *self, const char *new_name, GError **error);
gboolean vireo_vm_update_config (VireoVm *self, const VireoVmConfig *config, GError **error);

G_END_DECLS
