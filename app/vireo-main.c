/* vireo: the workstation application. */
#include "config.h"

#include <adwaita.h>

static void
on_activate (GtkApplication *app)
{
  GtkWidget *win = adw_application_window_new (app);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *status = adw_status_page_new ();

  adw_status_page_set_title (ADW_STATUS_PAGE (status), "No Virtual Machines");
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "computer-symbolic");
  gtk_widget_set_vexpand (status, TRUE);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), status);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (win), box);
  gtk_window_set_title (GTK_WINDOW (win), "Vireo");
  gtk_window_set_default_size (GTK_WINDOW (win), 960, 640);
  gtk_window_present (GTK_WINDOW (win));
}

int
main (int argc, char **argv)
{
  g_autoptr (AdwApplication) app = adw_application_new ("org.vireo.Vireo",
                                                        G_APPLICATION_DEFAULT_FLAGS);
  g_signal_connect (app, "activate", G_CALLBACK (on_activate), NULL);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
