/* VireoLibrary: the VMs under $XDG_DATA_HOME/vireo/vms, as a GListModel. */
#pragma once

#include <gio/gio.h>

#include "vireo-vm.h"

G_BEGIN_DECLS

#define VIREO_TYPE_LIBRARY (vireo_library_get_type ())
G_DECLARE_FINAL_TYPE (VireoLibrary, vireo_library, VIREO, LIBRARY, GObject)

char         *vireo_library_default_root (void);
VireoLibrary *vireo_library_new (const char *root);
const char   *vireo_library_get_root (VireoLibrary *self);
void          vireo_library_scan (VireoLibrary *self);
VireoVm      *vireo_library_find (VireoLibrary *self, const char *id_or_name);
VireoVm      *vireo_library_create_vm (VireoLibrary *self, const VireoVmConfig *config,
                                       GError **error);
gboolean      vireo_library_rename_vm (VireoLibrary *self, VireoVm *vm, const char *name,
                                       GError **error);
gboolean      vireo_library_delete_vm (VireoLibrary *self, VireoVm *vm, GError **error);

G_END_DECLS
