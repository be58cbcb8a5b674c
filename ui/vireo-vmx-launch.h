/* How the app and vireo-run find and start the vireo-vmx helper. */
#pragma once

#include <gio/gio.h>

#include "vireo-vm.h"

G_BEGIN_DECLS

#define VIREO_VM1_OBJECT_PATH "/org/vireo/VM1"

char      *vireo_vmx_find_program (GError **error);
GPtrArray *vireo_vmx_build_argv (VireoVm *vm, int control_fd, const char *socket_path,
                                 gboolean headless, GError **error);
gboolean   vireo_vmx_ensure_socket_dir (const char *socket_path, GError **error);

G_END_DECLS
