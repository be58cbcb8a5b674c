/* VireoApplication: the library, the running sessions and app actions. */
#pragma once

#include <adwaita.h>

#include "vireo-framebuffer.h"
#include "vireo-library.h"
#include "vireo-vm-session.h"

G_BEGIN_DECLS

#define VIREO_TYPE_APPLICATION (vireo_application_get_type ())
G_DECLARE_FINAL_TYPE (VireoApplication, vireo_application, VIREO, APPLICATION, AdwApplication)

VireoApplication *vireo_application_new (void);
VireoLibrary     *vireo_application_get_library (VireoApplication *self);
GSettings        *vireo_application_get_settings (VireoApplication *self);
VireoVmSession   *vireo_application_get_session (VireoApplication *self, VireoVm *vm);
VireoFramebuffer *vireo_application_get_framebuffer (VireoApplication *self, VireoVm *vm);
void              vireo_application_start_vm (VireoApplication *self, VireoVm *vm);
VireoVm          *vireo_application_create_demo_vm (VireoApplication *self, GError **error);

G_END_DECLS
