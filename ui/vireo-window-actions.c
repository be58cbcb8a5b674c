/* The window's actions: power operations on the current VM (enabled from
 * the VM's true state as reported by its helper), console operations and
 * library operations (rename, settings, delete). */
#include "config.h"

#include <glib/gi18n.h>

#include "vireo-vm-card.h"
#include "vireo-vm-settings-window.h"
#include "vireo-window-private.h"

static VireoVmSession *
current_session (VireoWindow *self)
{
  VireoVm *vm = _vireo_window_get_current_vm (self);

  return vm ? vireo_application_get_session (self->app, vm) : NULL;
}

static void
call (VireoWindow *self, const char *method)
{
  VireoVmSession *session = current_session (self);

  if (session)
    vireo_vm_session_call (session, method);
}

static void
start_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  VireoWindow *self = data;
  VireoVm *vm = _vireo_window_get_current_vm (self);

  if (vm)
    vireo_application_start_vm (self->app, vm);
}

static void
open_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  VireoWindow *self = data;
  VireoVm *vm = _vireo_window_get_current_vm (self);

  if (!vm || vireo_vm_is_broken (vm))
    return;
  if (vireo_application_get_session (self->app, vm))
    _vireo_window_open_console (self, vm);
  else
    vireo_application_start_vm (self->app, vm);
}

static void
pause_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  VireoWindow *self = data;
  VireoVm *vm = _vireo_window_get_current_vm (self);

  if (vm)
    call (self, g_strcmp0 (vireo_vm_get_state (vm), "paused") == 0 ? "Resume" : "Pause");
}

static void
shutdown_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  call (data, "Shutdown");
}

static void
power_off_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  call (data, "PowerOff");
}

static void
reset_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  call (data, "Reset");
}

static void
ctrl_alt_del_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  call (data, "SendCtrlAltDel");
}

static void
on_screenshot_response (GtkNativeDialog *dialog, int response, VireoWindow *self)
{
  VireoConsolePage *page = _vireo_window_get_current_console (self);
  g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_autofree char *path = file ? g_file_get_path (file) : NULL;
  g_autoptr (GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT && page && path
      && !vireo_console_save_screenshot (vireo_console_page_get_console (page), path, &error))
    vireo_window_show_toast (self, error->message);
  g_object_unref (dialog);
}

static void
screenshot_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  VireoWindow *self = data;
  VireoVm *vm = _vireo_window_get_current_vm (self);
  GtkFileChooserNative *chooser;
  g_autofree char *name = NULL;

  if (!vm)
    return;
  chooser = gtk_file_chooser_native_new (_("Save Screenshot"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  name = g_strdup_printf ("%s.png", vireo_vm_get_name (vm));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_signal_connect (chooser, "response", G_CALLBACK (on_screenshot_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
fullscreen_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  GtkWindow *window = data;

  if (gtk_window_is_fullscreen (window))
    gtk_window_unfullscreen (window);
  else
    gtk_window_fullscreen (window);
}

static void
scale_to_fit_changed (GSimpleAction *action, GVariant *value, gpointer data)
{
  VireoWindow *self = data;
  VireoConsolePage *page = _vireo_window_get_current_console (self);
  GSettings *settings = vireo_application_get_settings (self->app);

  g_simple_action_set_state (action, value);
  if (settings)
    g_settings_set_boolean (settings, "console-scale-to-fit", g_variant_get_boolean (value));
  else if (page)
    vireo_console_set_scale_to_fit (vireo_console_page_get_console (page),
                                    g_variant_get_boolean (value));
}

static void
on_rename_response (AdwMessageDialog *dialog, const char *response, VireoWindow *self)
{
  VireoVm *vm = g_object_get_data (G_OBJECT (dialog), "vm");
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "entry");
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (response, "rename") == 0
      && !vireo_library_rename_vm (vireo_application_get_library (self->app), vm,
                                   gtk_editable_get_text (entry), &error))
    vireo_window_show_toast (self, error->message);
}

static void
rename_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  VireoWindow *self = data;
  VireoVm *vm = _vireo_window_get_current_vm (self);
  GtkWidget *dialog, *entry;

  if (!vm || vireo_vm_is_broken (vm))
    return;
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Rename Virtual Machine"), NULL);
  entry = gtk_entry_new ();
  gtk_editable_set_text (GTK_EDITABLE (entry), vireo_vm_get_name (vm));
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "rename", _("_Rename"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "rename",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "rename");
  g_object_set_data_full (G_OBJECT (dialog), "vm", g_object_ref (vm), g_object_unref);
  g_object_set_data (G_OBJECT (dialog), "entry", entry);
  g_signal_connect (dialog, "response", G_CALLBACK (on_rename_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_delete_response (AdwMessageDialog *dialog, const char *response, VireoWindow *self)
{
  VireoVm *vm = g_object_get_data (G_OBJECT (dialog), "vm");
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (response, "delete") == 0
      && !vireo_library_delete_vm (vireo_application_get_library (self->app), vm, &error))
    vireo_window_show_toast (self, error->message);
}

static void
delete_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  VireoWindow *self = data;
  VireoVm *vm = _vireo_window_get_current_vm (self);
  GtkWidget *dialog;

  if (!vm)
    return;
  dialog = adw_message_dialog_new (GTK_WINDOW (self), NULL, NULL);
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog), _("Delete “%s”?"),
                                     vireo_vm_get_name (vm));
  adw_message_dialog_set_body (ADW_MESSAGE_DIALOG (dialog),
                               _("The virtual machine, its disks and its snapshots will be "
                                 "deleted permanently."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "delete", _("_Delete"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "vm", g_object_ref (vm), g_object_unref);
  g_signal_connect (dialog, "response", G_CALLBACK (on_delete_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
settings_activated (GSimpleAction *a, GVariant *p, gpointer data)
{
  VireoWindow *self = data;
  VireoVm *vm = _vireo_window_get_current_vm (self);
  GtkWidget *window;

  if (!vm || vireo_vm_is_broken (vm))
    return;
  window = vireo_vm_settings_window_new (vm);
  gtk_window_set_transient_for (GTK_WINDOW (window), GTK_WINDOW (self));
  gtk_window_present (GTK_WINDOW (window));
}

static const GActionEntry win_actions[] = {
  { "start", start_activated },
  { "open", open_activated },
  { "pause", pause_activated },
  { "shutdown", shutdown_activated },
  { "power-off", power_off_activated },
  { "reset", reset_activated },
  { "ctrl-alt-del", ctrl_alt_del_activated },
  { "screenshot", screenshot_activated },
  { "fullscreen", fullscreen_activated },
  { "scale-to-fit", NULL, NULL, "true", scale_to_fit_changed },
  { "rename", rename_activated },
  { "delete", delete_activated },
  { "settings", settings_activated },
};

void
_vireo_window_actions_init (VireoWindow *self)
{
  GSettings *settings = vireo_application_get_settings (self->app);

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions),
                                   self);
  if (settings)
    g_simple_action_set_state (
        G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self), "scale-to-fit")),
        g_variant_new_boolean (g_settings_get_boolean (settings, "console-scale-to-fit")));
}

static void
enable (VireoWindow *self, const char *name, gboolean enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

void
_vireo_window_actions_update (VireoWindow *self)
{
  VireoVm *vm = _vireo_window_get_current_vm (self);
  VireoVmSession *session = vm ? vireo_application_get_session (self->app, vm) : NULL;
  const char *state = vm ? vireo_vm_get_state (vm) : "none";
  gboolean usable = vm && !vireo_vm_is_broken (vm);
  gboolean active = session && vireo_vm_session_is_active (session);
  gboolean running = active && g_strcmp0 (state, "running") == 0;
  gboolean paused = active && g_strcmp0 (state, "paused") == 0;
  gboolean stopped = !session && g_strcmp0 (state, "stopped") == 0;
  gboolean console = _vireo_window_get_current_console (self) != NULL;

  enable (self, "start", usable && stopped);
  enable (self, "open", usable);
  enable (self, "pause", running || paused);
  enable (self, "shutdown", running);
  enable (self, "power-off", active && g_strcmp0 (state, "stopped") != 0);
  enable (self, "reset", running || paused);
  enable (self, "ctrl-alt-del", running);
  enable (self, "screenshot", console && (running || paused));
  enable (self, "rename", usable && stopped);
  enable (self, "settings", usable && stopped);
  enable (self, "delete", vm && stopped);
}
