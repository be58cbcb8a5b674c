/* VireoLibraryView: the grid of VM cards (or a welcome page when empty). */
#pragma once

#include <gtk/gtk.h>

#include "vireo-application.h"

G_BEGIN_DECLS

#define VIREO_TYPE_LIBRARY_VIEW (vireo_library_view_get_type ())
G_DECLARE_FINAL_TYPE (VireoLibraryView, vireo_library_view, VIREO, LIBRARY_VIEW, GtkWidget)

GtkWidget *vireo_library_view_new (VireoApplication *app);
VireoVm   *vireo_library_view_get_selected (VireoLibraryView *self);
void       vireo_library_view_select (VireoLibraryView *self, VireoVm *vm);
void       vireo_library_view_refresh_thumbnail (VireoLibraryView *self, VireoVm *vm);

G_END_DECLS
