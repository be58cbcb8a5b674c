/* VireoApplication: owns the VM library and one VireoVmSession per running
 * VM, so sessions outlive windows and tabs. App actions: new-vm, demo-vm,
 * start-vm(id), preferences, about, quit. */
#include "config.h"

#include <glib/gi18n.h>

#include "vireo-application.h"
#include "vireo-demo.h"
#include "vireo-new-vm-dialog.h"
#include "vireo-preferences-window.h"
#include "vireo-window.h"

struct _VireoApplication
{
  AdwApplication parent_instance;

  VireoLibrary *library;
  GSettings *settings;    /* NULL when the schema is not installed */
  GHashTable *sessions;   /* vm id -> VireoVmSession */
  GHashTable *framebuffers; /* vm id -> VireoFramebuffer */
};

G_DEFINE_FINAL_TYPE (VireoApplication, vireo_application, ADW_TYPE_APPLICATION)

enum { SIGNAL_SESSION_STARTED, SIGNAL_SESSION_FINISHED, SIGNAL_ERROR, N_SIGNALS };
static guint signals[N_SIGNALS];

static VireoWindow *
get_window (VireoApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (!window)
    window = GTK_WINDOW (vireo_window_new (self));
  return VIREO_WINDOW (window);
}

static void
report_error (VireoApplication *self, const char *message)
{
  g_signal_emit (self, signals[SIGNAL_ERROR], 0, message);
}

VireoVm *
vireo_application_create_demo_vm (VireoApplication *self, GError **error)
{
  g_autoptr (VireoVmConfig) config = vireo_demo_config_new (error);
  VireoVm *existing;

  if (!config)
    return NULL;
  existing = vireo_library_find (self->library, config->name);
  if (existing)
    return existing;
  return vireo_library_create_vm (self->library, config, error);
}

static void
demo_vm_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  VireoApplication *self = user_data;
  g_autoptr (GError) error = NULL;
  VireoWindow *window = get_window (self);
  VireoVm *vm = vireo_application_create_demo_vm (self, &error);

  gtk_window_present (GTK_WINDOW (window));
  if (!vm)
    {
      report_error (self, error->message);
      return;
    }
  vireo_window_select_vm (window, vm);
}

static void
new_vm_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  VireoApplication *self = user_data;
  VireoWindow *window = get_window (self);
  GtkWidget *dialog = vireo_new_vm_dialog_new (self);

  gtk_window_present (GTK_WINDOW (window));
  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
start_vm_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  VireoApplication *self = user_data;
  const char *id = g_variant_get_string (param, NULL);
  VireoVm *vm;
  g_autofree char *msg = NULL;

  vm = vireo_library_find (self->library, id);
  if (!vm)
    {
      msg = g_strdup_printf (_("No virtual machine “%s”"), id);
      report_error (self, msg);
      return;
    }
  gtk_window_present (GTK_WINDOW (get_window (self)));
  vireo_application_start_vm (self, vm);
}

static void
preferences_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  VireoApplication *self = user_data;
  GtkWidget *prefs = vireo_preferences_window_new (self->settings);

  gtk_window_set_transient_for (GTK_WINDOW (prefs), GTK_WINDOW (get_window (self)));
  gtk_window_present (GTK_WINDOW (prefs));
}

static void
about_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  VireoApplication *self = user_data;
  const char *developers[] = { "The Vireo developers", NULL };

  adw_show_about_window (GTK_WINDOW (get_window (self)),
                         "application-name", "Vireo",
                         "application-icon", "org.vireo.Vireo",
                         "version", VIREO_VERSION,
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_2_0,
                         "comments", _("Run virtual machines on your workstation"),
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
quit_activated (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (user_data));

  /* Closing windows lets them save their size; sessions end with the app. */
  for (GList *l = g_list_copy (windows), *it = l; it; it = it->next)
    gtk_window_destroy (it->data);
  g_application_quit (G_APPLICATION (user_data));
}

static const GActionEntry app_actions[] = {
  { "new-vm", new_vm_activated },
  { "demo-vm", demo_vm_activated },
  { "start-vm", start_vm_activated, "s" },
  { "preferences", preferences_activated },
  { "about", about_activated },
  { "quit", quit_activated },
};

/* The last screen stays in the library as the VM's thumbnail. */
static void
save_thumbnail (VireoApplication *self, VireoVm *vm)
{
  VireoFramebuffer *fb = g_hash_table_lookup (self->framebuffers, vireo_vm_get_id (vm));
  GdkTexture *texture = fb ? vireo_framebuffer_get_texture (fb) : NULL;
  g_autofree char *path = g_build_filename (vireo_vm_get_dir (vm), "thumbnail.png", NULL);

  if (texture && !gdk_texture_save_to_png (texture, path))
    g_message ("Cannot save the thumbnail %s", path);
}

static void
on_session_finished (VireoVmSession *session, VireoApplication *self)
{
  VireoVm *vm = vireo_vm_session_get_vm (session);

  /* A newer session may already run this VM (restarted at once). */
  if (g_hash_table_lookup (self->sessions, vireo_vm_get_id (vm)) != session)
    return;
  save_thumbnail (self, vm);
  g_object_ref (vm);
  g_hash_table_remove (self->framebuffers, vireo_vm_get_id (vm));
  g_hash_table_remove (self->sessions, vireo_vm_get_id (vm));
  g_signal_emit (self, signals[SIGNAL_SESSION_FINISHED], 0, vm);
  g_object_unref (vm);
}

static void
on_session_error (VireoVmSession *session, const char *message, VireoApplication *self)
{
  report_error (self, message);
}

static void
on_session_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (VireoApplication) self = user_data;
  VireoVmSession *session = VIREO_VM_SESSION (source);
  VireoVm *vm = vireo_vm_session_get_vm (session);
  g_autoptr (GError) error = NULL;
  g_autofree char *msg = NULL;

  if (!vireo_vm_session_start_finish (session, result, &error))
    {
      /* A helper that never came up does not get a "finished" signal. */
      if (!vireo_vm_session_is_active (session) && vireo_vm_session_get_pid (session) == 0
          && g_hash_table_lookup (self->sessions, vireo_vm_get_id (vm)) == session)
        {
          g_hash_table_remove (self->sessions, vireo_vm_get_id (vm));
          g_signal_emit (self, signals[SIGNAL_SESSION_FINISHED], 0, vm);
        }
      msg = g_strdup_printf (_("Could not start “%s”: %s"), vireo_vm_get_name (vm),
                             error->message);
      report_error (self, msg);
      return;
    }
  if (g_hash_table_lookup (self->sessions, vireo_vm_get_id (vm)) != session)
    return;
  g_hash_table_insert (self->framebuffers, g_strdup (vireo_vm_get_id (vm)),
                       vireo_framebuffer_new (vireo_vm_session_get_proxy (session)));
  g_signal_emit (self, signals[SIGNAL_SESSION_STARTED], 0, vm);
}

static VireoVmSession *
add_session (VireoApplication *self, VireoVm *vm)
{
  VireoVmSession *session = vireo_vm_session_new (vm);

  g_hash_table_insert (self->sessions, g_strdup (vireo_vm_get_id (vm)), session);
  g_signal_connect (session, "finished", G_CALLBACK (on_session_finished), self);
  g_signal_connect (session, "error", G_CALLBACK (on_session_error), self);
  return session;
}

static void
on_attached (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (VireoApplication) self = user_data;
  VireoVmSession *session = VIREO_VM_SESSION (source);
  VireoVm *vm = vireo_vm_session_get_vm (session);

  if (!vireo_vm_session_start_finish (session, result, NULL))
    {
      /* Not running after all: forget the session quietly. */
      if (g_hash_table_lookup (self->sessions, vireo_vm_get_id (vm)) == session)
        g_hash_table_remove (self->sessions, vireo_vm_get_id (vm));
      return;
    }
  g_hash_table_insert (self->framebuffers, g_strdup (vireo_vm_get_id (vm)),
                       vireo_framebuffer_new (vireo_vm_session_get_proxy (session)));
  g_signal_emit (self, signals[SIGNAL_SESSION_STARTED], 0, vm);
}

/* VMs started by vireo-run (or a previous app instance) keep running:
 * join their helpers so the library shows their true state. */
static void
attach_running (VireoApplication *self)
{
  GListModel *model = G_LIST_MODEL (self->library);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (VireoVm) vm = g_list_model_get_item (model, i);
      g_autofree char *socket = vireo_vm_dup_socket_path (vm);

      if (vireo_vm_is_broken (vm) || !g_file_test (socket, G_FILE_TEST_EXISTS))
        continue;
      vireo_vm_session_attach_async (add_session (self, vm), NULL, on_attached,
                                     g_object_ref (self));
    }
}

void
vireo_application_start_vm (VireoApplication *self, VireoVm *vm)
{
  VireoVmSession *session = g_hash_table_lookup (self->sessions, vireo_vm_get_id (vm));

  if (session && !vireo_vm_session_is_exiting (session))
    {
      g_signal_emit (self, signals[SIGNAL_SESSION_STARTED], 0, vm);
      return;
    }
  /* A session whose helper stopped the VM and is still exiting is
   * dropped; its process watch keeps it alive until the helper is gone. */
  g_hash_table_remove (self->framebuffers, vireo_vm_get_id (vm));
  g_hash_table_remove (self->sessions, vireo_vm_get_id (vm));
  session = add_session (self, vm);
  vireo_vm_session_start_async (session, NULL, on_session_started, g_object_ref (self));
}

VireoVmSession *
vireo_application_get_session (VireoApplication *self, VireoVm *vm)
{
  return g_hash_table_lookup (self->sessions, vireo_vm_get_id (vm));
}

VireoFramebuffer *
vireo_application_get_framebuffer (VireoApplication *self, VireoVm *vm)
{
  return g_hash_table_lookup (self->framebuffers, vireo_vm_get_id (vm));
}

VireoLibrary *
vireo_application_get_library (VireoApplication *self)
{
  return self->library;
}

GSettings *
vireo_application_get_settings (VireoApplication *self)
{
  return self->settings;
}

static void
vireo_application_startup (GApplication *app)
{
  VireoApplication *self = VIREO_APPLICATION (app);
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;
  struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.new-vm", { "<Primary>n", NULL } },
    { "app.quit", { "<Primary>q", NULL } },
    { "app.preferences", { "<Primary>comma", NULL } },
    { "win.start", { "<Primary>b", NULL } },
    { "win.pause", { "<Primary><Shift>p", NULL } },
    { "win.shutdown", { "<Primary><Shift>e", NULL } },
    { "win.power-off", { "<Primary>e", NULL } },
    { "win.reset", { "<Primary>r", NULL } },
    { "win.ctrl-alt-del", { "<Primary><Alt>Insert", NULL } },
    { "win.screenshot", { "<Primary><Alt>s", NULL } },
    { "win.fullscreen", { "F11", NULL } },
  };

  G_APPLICATION_CLASS (vireo_application_parent_class)->startup (app);

  if (source)
    schema = g_settings_schema_source_lookup (source, "org.vireo.Vireo", TRUE);
  if (schema)
    self->settings = g_settings_new ("org.vireo.Vireo");
  else
    g_message ("GSettings schema org.vireo.Vireo not installed; preferences are not kept");

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);

  self->library = vireo_library_new (NULL);
  vireo_library_scan (self->library);
  attach_running (self);
}

static void
vireo_application_activate (GApplication *app)
{
  VireoApplication *self = VIREO_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (!window)
    {
      window = GTK_WINDOW (vireo_window_new (self));
      /* First run: an empty library gets the demo VM, once. */
      if (g_list_model_get_n_items (G_LIST_MODEL (self->library)) == 0 && self->settings
          && !g_settings_get_boolean (self->settings, "demo-vm-offered")
          && vireo_demo_guest_available ())
        {
          g_settings_set_boolean (self->settings, "demo-vm-offered", TRUE);
          vireo_application_create_demo_vm (self, NULL);
        }
    }
  gtk_window_present (window);
}

static int
vireo_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  const char *start = NULL;

  if (g_variant_dict_lookup (options, "start", "&s", &start))
    {
      g_autoptr (GError) error = NULL;
      if (!g_application_register (app, NULL, &error))
        {
          g_printerr ("vireo: %s\n", error->message);
          return 1;
        }
      g_action_group_activate_action (G_ACTION_GROUP (app), "start-vm",
                                      g_variant_new_string (start));
    }
  return -1;
}

static void
vireo_application_dispose (GObject *object)
{
  VireoApplication *self = VIREO_APPLICATION (object);

  g_clear_pointer (&self->framebuffers, g_hash_table_unref);
  g_clear_pointer (&self->sessions, g_hash_table_unref);
  g_clear_object (&self->library);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (vireo_application_parent_class)->dispose (object);
}

static void
vireo_application_class_init (VireoApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = vireo_application_dispose;
  app_class->startup = vireo_application_startup;
  app_class->activate = vireo_application_activate;
  app_class->handle_local_options = vireo_application_handle_local_options;

  signals[SIGNAL_SESSION_STARTED] = g_signal_new ("session-started", G_TYPE_FROM_CLASS (klass),
                                                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                  G_TYPE_NONE, 1, VIREO_TYPE_VM);
  signals[SIGNAL_SESSION_FINISHED] = g_signal_new ("session-finished", G_TYPE_FROM_CLASS (klass),
                                                   G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                   G_TYPE_NONE, 1, VIREO_TYPE_VM);
  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
vireo_application_init (VireoApplication *self)
{
  const GOptionEntry options[] = {
    { "start", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Start the virtual machine VM"), N_("VM") },
    { NULL }
  };

  self->sessions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->framebuffers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_application_add_main_option_entries (G_APPLICATION (self), options);
}

VireoApplication *
vireo_application_new (void)
{
  return g_object_new (VIREO_TYPE_APPLICATION, "application-id", "org.vireo.Vireo",
                       "flags", G_APPLICATION_DEFAULT_FLAGS, "resource-base-path",
                       "/org/vireo/Vireo", NULL);
}
