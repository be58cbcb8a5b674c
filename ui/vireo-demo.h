/* The demo VM: the guest that `ninja -C build demo-guest` builds. */
#pragma once

#include "vireo-vm-config.h"

G_BEGIN_DECLS

char          *vireo_demo_guest_dir (void);
gboolean       vireo_demo_guest_available (void);
VireoVmConfig *vireo_demo_config_new (GError **error);

G_END_DECLS
