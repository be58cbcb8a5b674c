/* VireoPreferencesWindow: the app's preferences (GSettings). */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

GtkWidget *vireo_preferences_window_new (GSettings *settings);

G_END_DECLS
