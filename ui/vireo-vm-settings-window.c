/* The VM settings window: an AdwPreferencesWindow whose changes are applied
 * (validated and written atomically) when it closes, GNOME style. */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n.h>

#include "vireo-vm-settings-window.h"

typedef struct {
  VireoVm *vm;
  GtkSpinButton *memory, *cpus;
  GtkEditable *cmdline, *resolution;
  AdwComboRow *engine;
} Settings;

static const char *engines[] = { "auto", "kvm", "soft", NULL };

static void
settings_free (gpointer data, GClosure *closure)
{
  Settings *s = data;

  g_object_unref (s->vm);
  g_free (s);
}

static GtkSpinButton *
add_spin (AdwPreferencesGroup *group, const char *title, double min, double max, double value)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *spin = gtk_spin_button_new_with_range (min, max, 1);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
  adw_preferences_group_add (group, row);
  return GTK_SPIN_BUTTON (spin);
}

static GtkEditable *
add_entry (AdwPreferencesGroup *group, const char *title, const char *value)
{
  GtkWidget *row = adw_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  gtk_editable_set_text (GTK_EDITABLE (row), value ? value : "");
  adw_preferences_group_add (group, row);
  return GTK_EDITABLE (row);
}

static gboolean
on_close (GtkWindow *window, Settings *s)
{
  g_autoptr (VireoVmConfig) c = vireo_vm_config_copy (vireo_vm_get_config (s->vm));
  g_autoptr (GError) error = NULL;
  const char *res = gtk_editable_get_text (s->resolution);
  guint w = 0, h = 0;

  c->memory_mib = (guint) gtk_spin_button_get_value_as_int (s->memory);
  c->cpus = (guint) gtk_spin_button_get_value_as_int (s->cpus);
  g_free (c->cmdline);
  c->cmdline = g_strdup (gtk_editable_get_text (s->cmdline));
  if (sscanf (res, "%ux%u", &w, &h) == 2)
    {
      c->display_width = w;
      c->display_height = h;
    }
  g_free (c->engine);
  c->engine = g_strdup (engines[adw_combo_row_get_selected (s->engine)]);
  if (!vireo_vm_update_config (s->vm, c, &error))
    {
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (window),
                                        adw_toast_new (error->message));
      return GDK_EVENT_STOP; /* keep the window so the value can be fixed */
    }
  return GDK_EVENT_PROPAGATE;
}

GtkWidget *
vireo_vm_settings_window_new (VireoVm *vm)
{
  const VireoVmConfig *c = vireo_vm_get_config (vm);
  GtkWidget *window = adw_preferences_window_new ();
  AdwPreferencesPage *page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());
  AdwPreferencesGroup *hw = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  AdwPreferencesGroup *boot = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  g_autofree char *res = g_strdup_printf ("%ux%u", c->display_width, c->display_height);
  g_autoptr (GtkStringList) engine_names = gtk_string_list_new (NULL);
  Settings *s = g_new0 (Settings, 1);

  s->vm = g_object_ref (vm);
  gtk_window_set_title (GTK_WINDOW (window), vireo_vm_get_name (vm));
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  adw_preferences_window_set_search_enabled (ADW_PREFERENCES_WINDOW (window), FALSE);
  adw_preferences_group_set_title (hw, _("Hardware"));
  adw_preferences_group_set_title (boot, _("Boot"));
  s->memory = add_spin (hw, _("Memory (MiB)"), VIREO_VM_MEMORY_MIN_MIB, VIREO_VM_MEMORY_MAX_MIB,
                        c->memory_mib);
  s->cpus = add_spin (hw, _("Processors"), 1, VIREO_VM_CPUS_MAX, c->cpus);
  s->resolution = add_entry (hw, _("Display Resolution"), res);
  gtk_string_list_append (engine_names, _("Automatic"));
  gtk_string_list_append (engine_names, _("KVM"));
  gtk_string_list_append (engine_names, _("Software CPU"));
  s->engine = ADW_COMBO_ROW (adw_combo_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (s->engine), _("Engine"));
  adw_combo_row_set_model (s->engine, G_LIST_MODEL (engine_names));
  for (guint i = 0; engines[i]; i++)
    if (g_strcmp0 (c->engine, engines[i]) == 0)
      adw_combo_row_set_selected (s->engine, i);
  adw_preferences_group_add (hw, GTK_WIDGET (s->engine));
  s->cmdline = add_entry (boot, _("Kernel Command Line"), c->cmdline);
  adw_preferences_page_add (page, hw);
  adw_preferences_page_add (page, boot);
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (window), page);
  g_signal_connect_data (window, "close-request", G_CALLBACK (on_close), s,
                         settings_free, 0);
  return window;
}
