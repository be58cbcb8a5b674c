/* Preferences: the engine new VMs use and how consoles scale; bound
 * straight to GSettings (without a schema, the rows are insensitive). */
#include "config.h"

#include <glib/gi18n.h>

#include "vireo-preferences-window.h"

static const char *engines[] = { "auto", "kvm", "soft" };

static gboolean
engine_get (GValue *value, GVariant *variant, gpointer data)
{
  const char *nick = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (engines); i++)
    if (g_strcmp0 (nick, engines[i]) == 0)
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
engine_set (const GValue *value, const GVariantType *type, gpointer data)
{
  guint i = g_value_get_uint (value);

  return g_variant_new_string (engines[i < G_N_ELEMENTS (engines) ? i : 0]);
}

GtkWidget *
vireo_preferences_window_new (GSettings *settings)
{
  GtkWidget *window = adw_preferences_window_new ();
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *engine = adw_combo_row_new ();
  GtkWidget *fit = adw_action_row_new ();
  GtkWidget *fit_switch = gtk_switch_new ();
  g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);

  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  adw_preferences_window_set_search_enabled (ADW_PREFERENCES_WINDOW (window), FALSE);
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Virtual Machines"));
  gtk_string_list_append (names, _("Automatic"));
  gtk_string_list_append (names, _("KVM"));
  gtk_string_list_append (names, _("Software CPU"));
  adw_combo_row_set_model (ADW_COMBO_ROW (engine), G_LIST_MODEL (names));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (engine), _("Engine for New VMs"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (engine),
                               _("Automatic uses KVM when the host can run the guest with it"));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (fit), _("Scale Consoles to Fit"));
  gtk_widget_set_valign (fit_switch, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (fit), fit_switch);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (fit), fit_switch);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), engine);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), fit);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (window), ADW_PREFERENCES_PAGE (page));

  if (settings)
    {
      g_settings_bind_with_mapping (settings, "preferred-engine", engine, "selected",
                                    G_SETTINGS_BIND_DEFAULT, engine_get, engine_set, NULL, NULL);
      g_settings_bind (settings, "console-scale-to-fit", fit_switch, "active",
                       G_SETTINGS_BIND_DEFAULT);
    }
  else
    gtk_widget_set_sensitive (group, FALSE);
  return window;
}
