/* VireoVmSettingsWindow: edit a stopped VM's hardware and boot settings. */
#pragma once

#include <adwaita.h>

#include "vireo-vm.h"

G_BEGIN_DECLS

GtkWidget *vireo_vm_settings_window_new (VireoVm *vm);

G_END_DECLS
