/* VireoConsole: shows a VM's framebuffer and forwards keyboard and pointer. */
#pragma once

#include <gtk/gtk.h>

#include "vireo-framebuffer.h"

G_BEGIN_DECLS

#define VIREO_TYPE_CONSOLE (vireo_console_get_type ())
G_DECLARE_FINAL_TYPE (VireoConsole, vireo_console, VIREO, CONSOLE, GtkWidget)

GtkWidget *vireo_console_new (void);
void       vireo_console_set_target (VireoConsole *self, VireoFramebuffer *framebuffer,
                                     VireoDBusVM1 *proxy);
void       vireo_console_set_scale_to_fit (VireoConsole *self, gboolean fit);
gboolean   vireo_console_get_scale_to_fit (VireoConsole *self);
gboolean   vireo_console_get_grabbed (VireoConsole *self);
void       vireo_console_ungrab (VireoConsole *self);
gboolean   vireo_console_save_screenshot (VireoConsole *self, const char *path, GError **error);

G_END_DECLS
