/* VireoConsolePage: a console tab: the console, the grab hint, and a
 * "powered off" page when the VM is not running. */
#pragma once

#include <adwaita.h>

#include "vireo-console.h"
#include "vireo-vm.h"

G_BEGIN_DECLS

#define VIREO_TYPE_CONSOLE_PAGE (vireo_console_page_get_type ())
G_DECLARE_FINAL_TYPE (VireoConsolePage, vireo_console_page, VIREO, CONSOLE_PAGE, AdwBin)

GtkWidget    *vireo_console_page_new (VireoVm *vm);
VireoVm      *vireo_console_page_get_vm (VireoConsolePage *self);
VireoConsole *vireo_console_page_get_console (VireoConsolePage *self);
void          vireo_console_page_attach (VireoConsolePage *self, VireoFramebuffer *framebuffer,
                                         VireoDBusVM1 *proxy);

G_END_DECLS
