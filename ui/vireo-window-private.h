/* VireoWindow internals shared with vireo-window-actions.c. */
#pragma once

#include "vireo-console-page.h"
#include "vireo-library-view.h"
#include "vireo-window.h"

struct _VireoWindow
{
  AdwApplicationWindow parent_instance;

  VireoApplication *app;
  AdwHeaderBar *header_bar;
  AdwWindowTitle *window_title;
  AdwTabBar *tab_bar;
  AdwTabView *tab_view;
  AdwToastOverlay *toast_overlay;
  AdwTabPage *library_page;
  VireoLibraryView *library_view;
};

VireoVm          *_vireo_window_get_current_vm (VireoWindow *self);
VireoConsolePage *_vireo_window_get_current_console (VireoWindow *self);
AdwTabPage       *_vireo_window_open_console (VireoWindow *self, VireoVm *vm);

void _vireo_window_actions_init (VireoWindow *self);
void _vireo_window_actions_update (VireoWindow *self);
