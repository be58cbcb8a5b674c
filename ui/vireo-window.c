/* VireoWindow: an AdwTabView whose first, pinned page is the library; each
 * running VM gets a console tab. Power actions act on the "current" VM:
 * the console tab's, or the one selected in the library. */
#include "config.h"

#include <glib/gi18n.h>

#include "vireo-window-private.h"

G_DEFINE_FINAL_TYPE (VireoWindow, vireo_window, ADW_TYPE_APPLICATION_WINDOW)

VireoConsolePage *
_vireo_window_get_current_console (VireoWindow *self)
{
  AdwTabPage *page = adw_tab_view_get_selected_page (self->tab_view);
  GtkWidget *child = page ? adw_tab_page_get_child (page) : NULL;

  return child && VIREO_IS_CONSOLE_PAGE (child) ? VIREO_CONSOLE_PAGE (child) : NULL;
}

VireoVm *
_vireo_window_get_current_vm (VireoWindow *self)
{
  VireoConsolePage *console = _vireo_window_get_current_console (self);

  if (console)
    return vireo_console_page_get_vm (console);
  return vireo_library_view_get_selected (self->library_view);
}

static AdwTabPage *
find_console (VireoWindow *self, VireoVm *vm)
{
  int n = adw_tab_view_get_n_pages (self->tab_view);

  for (int i = 0; i < n; i++)
    {
      AdwTabPage *page = adw_tab_view_get_nth_page (self->tab_view, i);
      GtkWidget *child = adw_tab_page_get_child (page);
      if (VIREO_IS_CONSOLE_PAGE (child)
          && vireo_console_page_get_vm (VIREO_CONSOLE_PAGE (child)) == vm)
        return page;
    }
  return NULL;
}

static void
update_tab (VireoVm *vm, GParamSpec *pspec, AdwTabPage *page)
{
  const char *state = vireo_vm_get_state (vm);
  g_autoptr (GIcon) paused = g_themed_icon_new ("media-playback-pause-symbolic");

  adw_tab_page_set_title (page, vireo_vm_get_name (vm));
  adw_tab_page_set_indicator_icon (page, g_strcmp0 (state, "paused") == 0 ? paused : NULL);
  adw_tab_page_set_loading (page, g_strcmp0 (state, "shutting-down") == 0);
}

static void on_selection_changed (VireoWindow *self);

AdwTabPage *
_vireo_window_open_console (VireoWindow *self, VireoVm *vm)
{
  AdwTabPage *page = find_console (self, vm);
  VireoVmSession *session = vireo_application_get_session (self->app, vm);
  VireoFramebuffer *fb = vireo_application_get_framebuffer (self->app, vm);
  GtkWidget *child;

  if (!page)
    {
      child = vireo_console_page_new (vm);
      page = adw_tab_view_append (self->tab_view, child);
      g_signal_connect_object (vm, "notify", G_CALLBACK (update_tab), page, 0);
      update_tab (vm, NULL, page);
      if (self->app && vireo_application_get_settings (self->app))
        g_settings_bind (vireo_application_get_settings (self->app), "console-scale-to-fit",
                         vireo_console_page_get_console (VIREO_CONSOLE_PAGE (child)),
                         "scale-to-fit", G_SETTINGS_BIND_GET);
    }
  child = adw_tab_page_get_child (page);
  if (session && fb)
    {
      VireoDBusVM1 *proxy = vireo_vm_session_get_proxy (session);
      const char *engine = vireo_dbus_vm1_get_engine (proxy);
      const char *why = vireo_dbus_vm1_get_engine_reason (proxy);
      g_autofree char *tip = NULL;

      vireo_console_page_attach (VIREO_CONSOLE_PAGE (child), fb, proxy);
      /* Which engine runs the VM, and why (DESIGN.md: the app says so). */
      tip = g_strdup_printf (_("Engine: %s — %s"),
                             g_strcmp0 (engine, "kvm") == 0 ? _("KVM") : _("Software CPU"),
                             why && *why ? why : _("no reason given"));
      adw_tab_page_set_tooltip (page, tip);
    }
  adw_tab_view_set_selected_page (self->tab_view, page);
  on_selection_changed (self);
  return page;
}

static void
on_session_started (VireoApplication *app, VireoVm *vm, VireoWindow *self)
{
  _vireo_window_open_console (self, vm);
  vireo_library_view_refresh_thumbnail (self->library_view, vm);
  _vireo_window_actions_update (self);
}

static void
on_session_finished (VireoApplication *app, VireoVm *vm, VireoWindow *self)
{
  vireo_library_view_refresh_thumbnail (self->library_view, vm);
  _vireo_window_actions_update (self);
}

static void
on_app_error (VireoApplication *app, const char *message, VireoWindow *self)
{
  vireo_window_show_toast (self, message);
}

static void
on_vm_state (VireoVm *vm, GParamSpec *pspec, VireoWindow *self)
{
  _vireo_window_actions_update (self);
}

static void
track_vms (VireoWindow *self, GListModel *model, guint pos, guint removed, guint added)
{
  for (guint i = pos; i < pos + added; i++)
    {
      g_autoptr (VireoVm) vm = g_list_model_get_item (model, i);
      g_signal_handlers_disconnect_by_func (vm, on_vm_state, self);
      g_signal_connect_object (vm, "notify::state", G_CALLBACK (on_vm_state), self, 0);
    }
  _vireo_window_actions_update (self);
}

static void
on_library_changed (GListModel *model, guint pos, guint removed, guint added, VireoWindow *self)
{
  track_vms (self, model, pos, removed, added);
}

static void
on_selection_changed (VireoWindow *self)
{
  VireoVm *vm = _vireo_window_get_current_vm (self);
  AdwTabPage *page = adw_tab_view_get_selected_page (self->tab_view);
  const char *tip = page && page != self->library_page ? adw_tab_page_get_tooltip (page) : NULL;
  g_autofree char *subtitle = NULL;

  if (vm)
    subtitle = tip ? g_strdup_printf ("%s · %s", vireo_vm_get_name (vm), tip)
                   : g_strdup (vireo_vm_get_name (vm));
  adw_window_title_set_subtitle (self->window_title, subtitle);
  _vireo_window_actions_update (self);
}

static gboolean
on_close_page (AdwTabView *view, AdwTabPage *page, VireoWindow *self)
{
  /* The library cannot be closed; closing a console keeps the VM running. */
  adw_tab_view_close_page_finish (view, page, page != self->library_page);
  return GDK_EVENT_STOP;
}

/* bench/app-library-start.sh: report when the first frame with the
 * library is on screen (wall clock, µs) and quit. */
static void
on_bench_after_paint (GdkFrameClock *clock, VireoWindow *self)
{
  g_signal_handlers_disconnect_by_func (clock, on_bench_after_paint, self);
  g_print ("vireo-bench: library-shown-realtime-us %" G_GINT64_FORMAT " vms %u\n",
           g_get_real_time (),
           g_list_model_get_n_items (G_LIST_MODEL (vireo_application_get_library (self->app))));
  g_application_quit (G_APPLICATION (self->app));
}

static void
on_bench_map (GtkWidget *widget, VireoWindow *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);

  if (clock)
    g_signal_connect (clock, "after-paint", G_CALLBACK (on_bench_after_paint), self);
}

/* Full screen shows the guest alone; F11 (or the menu) brings the bars back. */
static void
on_fullscreened (VireoWindow *self)
{
  gboolean full = gtk_window_is_fullscreen (GTK_WINDOW (self));

  gtk_widget_set_visible (GTK_WIDGET (self->header_bar), !full);
  gtk_widget_set_visible (GTK_WIDGET (self->tab_bar), !full);
}

void
vireo_window_select_vm (VireoWindow *self, VireoVm *vm)
{
  adw_tab_view_set_selected_page (self->tab_view, self->library_page);
  vireo_library_view_select (self->library_view, vm);
}

void
vireo_window_show_toast (VireoWindow *self, const char *message)
{
  AdwToast *toast = adw_toast_new (message);

  adw_toast_set_timeout (toast, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
vireo_window_dispose (GObject *object)
{
  VireoWindow *self = VIREO_WINDOW (object);

  if (self->app)
    g_signal_handlers_disconnect_by_data (self->app, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), VIREO_TYPE_WINDOW);
  G_OBJECT_CLASS (vireo_window_parent_class)->dispose (object);
}

static gboolean
vireo_window_close_request (GtkWindow *window)
{
  VireoWindow *self = VIREO_WINDOW (window);
  GSettings *settings = self->app ? vireo_application_get_settings (self->app) : NULL;
  int w, h;

  if (settings)
    {
      gtk_window_get_default_size (window, &w, &h);
      g_settings_set_int (settings, "window-width", w);
      g_settings_set_int (settings, "window-height", h);
      g_settings_set_boolean (settings, "window-maximized", gtk_window_is_maximized (window));
    }
  return GTK_WINDOW_CLASS (vireo_window_parent_class)->close_request (window);
}

static void
vireo_window_class_init (VireoWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = vireo_window_dispose;
  GTK_WINDOW_CLASS (klass)->close_request = vireo_window_close_request;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/vireo/Vireo/ui/vireo-window.ui");
  gtk_widget_class_bind_template_child (widget_class, VireoWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, VireoWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, VireoWindow, tab_bar);
  gtk_widget_class_bind_template_child (widget_class, VireoWindow, tab_view);
  gtk_widget_class_bind_template_child (widget_class, VireoWindow, toast_overlay);
}

static void
vireo_window_init (VireoWindow *self)
{
  g_type_ensure (VIREO_TYPE_CONSOLE);
  gtk_widget_init_template (GTK_WIDGET (self));
}

VireoWindow *
vireo_window_new (VireoApplication *app)
{
  VireoWindow *self = g_object_new (VIREO_TYPE_WINDOW, "application", app, NULL);
  GSettings *settings = vireo_application_get_settings (app);
  GListModel *library = G_LIST_MODEL (vireo_application_get_library (app));

  self->app = app;
  if (settings)
    {
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (settings, "window-width"),
                                   g_settings_get_int (settings, "window-height"));
      if (g_settings_get_boolean (settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
    }
  else
    gtk_window_set_default_size (GTK_WINDOW (self), 1024, 720);

  self->library_view = VIREO_LIBRARY_VIEW (vireo_library_view_new (app));
  self->library_page = adw_tab_view_append (self->tab_view, GTK_WIDGET (self->library_view));
  adw_tab_page_set_title (self->library_page, _("Library"));
  adw_tab_view_set_page_pinned (self->tab_view, self->library_page, TRUE);
  {
    g_autoptr (GIcon) icon = g_themed_icon_new ("view-grid-symbolic");
    adw_tab_page_set_icon (self->library_page, icon);
  }

  _vireo_window_actions_init (self);
  g_signal_connect (self->tab_view, "close-page", G_CALLBACK (on_close_page), self);
  g_signal_connect_swapped (self->tab_view, "notify::selected-page",
                            G_CALLBACK (on_selection_changed), self);
  g_signal_connect_swapped (self->library_view, "selection-changed",
                            G_CALLBACK (on_selection_changed), self);
  g_signal_connect (app, "session-started", G_CALLBACK (on_session_started), self);
  g_signal_connect (app, "session-finished", G_CALLBACK (on_session_finished), self);
  g_signal_connect (app, "error", G_CALLBACK (on_app_error), self);
  g_signal_connect_object (library, "items-changed", G_CALLBACK (on_library_changed), self, 0);
  track_vms (self, library, 0, 0, g_list_model_get_n_items (library));
  g_signal_connect_swapped (self, "notify::fullscreened", G_CALLBACK (on_fullscreened), self);
  on_selection_changed (self);
  if (g_getenv ("VIREO_BENCH_STARTUP"))
    g_signal_connect (self, "map", G_CALLBACK (on_bench_map), self);
  return self;
}
