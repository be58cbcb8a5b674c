/* VireoWindow: the library tab and one console tab per running VM. */
#pragma once

#include <adwaita.h>

#include "vireo-application.h"

G_BEGIN_DECLS

#define VIREO_TYPE_WINDOW (vireo_window_get_type ())
G_DECLARE_FINAL_TYPE (VireoWindow, vireo_window, VIREO, WINDOW, AdwApplicationWindow)

VireoWindow *vireo_window_new (VireoApplication *app);
void         vireo_window_select_vm (VireoWindow *self, VireoVm *vm);
void         vireo_window_show_toast (VireoWindow *self, const char *message);

G_END_DECLS
