/* VireoNewVmDialog: the new-VM wizard. */
#pragma once

#include <adwaita.h>

#include "vireo-application.h"

G_BEGIN_DECLS

#define VIREO_TYPE_NEW_VM_DIALOG (vireo_new_vm_dialog_get_type ())
G_DECLARE_FINAL_TYPE (VireoNewVmDialog, vireo_new_vm_dialog, VIREO, NEW_VM_DIALOG, AdwWindow)

GtkWidget *vireo_new_vm_dialog_new (VireoApplication *app);

G_END_DECLS
