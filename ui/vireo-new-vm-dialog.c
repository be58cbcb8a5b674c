/* VireoNewVmDialog: three pages (name and guest type, boot files,
 * hardware); "Create" validates with the same rules as the config parser
 * and adds the VM to the library. */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n.h>

#include "vireo-new-vm-dialog.h"
#include "vireo-window.h"

struct _VireoNewVmDialog
{
  AdwWindow parent_instance;

  VireoApplication *app;
  char *kernel;
  char *initrd;

  GtkButton *back_button;
  GtkButton *next_button;
  GtkLabel *error_label;
  GtkStack *stack;
  AdwEntryRow *name_row;
  AdwComboRow *guest_row;
  AdwActionRow *kernel_row;
  AdwActionRow *initrd_row;
  AdwEntryRow *cmdline_row;
  GtkSpinButton *memory_spin;
  GtkSpinButton *cpus_spin;
  GtkSpinButton *disk_spin;
  AdwComboRow *resolution_row;
};

G_DEFINE_FINAL_TYPE (VireoNewVmDialog, vireo_new_vm_dialog, ADW_TYPE_WINDOW)

static const char *pages[] = { "name", "boot", "hardware" };

static int
page_index (VireoNewVmDialog *self)
{
  const char *name = gtk_stack_get_visible_child_name (self->stack);

  for (int i = 0; i < 3; i++)
    if (g_strcmp0 (name, pages[i]) == 0)
      return i;
  return 0;
}

static void
show_error (VireoNewVmDialog *self, const char *message)
{
  gtk_label_set_label (self->error_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
update_buttons (VireoNewVmDialog *self)
{
  int i = page_index (self);

  gtk_button_set_label (self->back_button, i == 0 ? _("_Cancel") : _("_Back"));
  gtk_button_set_label (self->next_button, i == 2 ? _("C_reate") : _("_Next"));
}

static VireoVmConfig *
collect (VireoNewVmDialog *self)
{
  const char *name = gtk_editable_get_text (GTK_EDITABLE (self->name_row));
  VireoVmConfig *c = vireo_vm_config_new_default (name);
  GtkStringObject *res = adw_combo_row_get_selected_item (self->resolution_row);
  guint w, h;

  c->kernel = g_strdup (self->kernel);
  c->initrd = g_strdup (self->initrd);
  c->cmdline = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->cmdline_row)));
  c->memory_mib = (guint) gtk_spin_button_get_value_as_int (self->memory_spin);
  c->cpus = (guint) gtk_spin_button_get_value_as_int (self->cpus_spin);
  c->disk_gib = (guint) gtk_spin_button_get_value_as_int (self->disk_spin);
  if (res && sscanf (gtk_string_object_get_string (res), "%ux%u", &w, &h) == 2)
    {
      c->display_width = w;
      c->display_height = h;
    }
  if (self->app && vireo_application_get_settings (self->app))
    {
      g_free (c->engine);
      c->engine = g_settings_get_string (vireo_application_get_settings (self->app),
                                         "preferred-engine");
    }
  return c;
}

static gboolean
check_page (VireoNewVmDialog *self, int page)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VireoVmConfig) c = collect (self);

  if (page == 0 && !vireo_vm_name_is_valid (c->name, &error))
    {
      show_error (self, error->message);
      return FALSE;
    }
  if (page == 0 && vireo_library_find (vireo_application_get_library (self->app), c->name))
    {
      show_error (self, _("A virtual machine with this name exists already"));
      return FALSE;
    }
  if (page == 1 && !c->kernel)
    {
      show_error (self, _("Choose a Linux kernel to boot"));
      return FALSE;
    }
  show_error (self, NULL);
  return TRUE;
}

static void
on_back (VireoNewVmDialog *self)
{
  int i = page_index (self);

  show_error (self, NULL);
  if (i == 0)
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  gtk_stack_set_visible_child_name (self->stack, pages[i - 1]);
  update_buttons (self);
}

static void
on_next (VireoNewVmDialog *self)
{
  int i = page_index (self);
  g_autoptr (VireoVmConfig) c = NULL;
  g_autoptr (GError) error = NULL;
  VireoVm *vm;
  GtkWindow *parent;

  if (!check_page (self, i))
    return;
  if (i < 2)
    {
      gtk_stack_set_visible_child_name (self->stack, pages[i + 1]);
      update_buttons (self);
      return;
    }
  c = collect (self);
  vm = vireo_library_create_vm (vireo_application_get_library (self->app), c, &error);
  if (!vm)
    {
      show_error (self, error->message);
      return;
    }
  parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  if (parent && VIREO_IS_WINDOW (parent))
    vireo_window_select_vm (VIREO_WINDOW (parent), vm);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_demo (VireoNewVmDialog *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "app.demo-vm", NULL);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
on_file_chosen (GtkNativeDialog *chooser, int response, VireoNewVmDialog *self)
{
  gboolean is_kernel = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "kernel"));
  g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

  if (response == GTK_RESPONSE_ACCEPT && file)
    {
      char **target = is_kernel ? &self->kernel : &self->initrd;
      g_free (*target);
      *target = g_file_get_path (file);
      adw_action_row_set_subtitle (is_kernel ? self->kernel_row : self->initrd_row, *target);
    }
  g_object_unref (chooser);
}

static void
choose_file (VireoNewVmDialog *self, gboolean kernel)
{
  GtkFileChooserNative *chooser = gtk_file_chooser_native_new (
      kernel ? _("Choose a Kernel") : _("Choose an Initial Ramdisk"), GTK_WINDOW (self),
      GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));

  g_object_set_data (G_OBJECT (chooser), "kernel", GINT_TO_POINTER (kernel));
  g_signal_connect (chooser, "response", G_CALLBACK (on_file_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
on_choose_kernel (VireoNewVmDialog *self)
{
  choose_file (self, TRUE);
}

static void
on_choose_initrd (VireoNewVmDialog *self)
{
  choose_file (self, FALSE);
}

static void
vireo_new_vm_dialog_finalize (GObject *object)
{
  VireoNewVmDialog *self = VIREO_NEW_VM_DIALOG (object);

  g_free (self->kernel);
  g_free (self->initrd);
  G_OBJECT_CLASS (vireo_new_vm_dialog_parent_class)->finalize (object);
}

static void
vireo_new_vm_dialog_class_init (VireoNewVmDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = vireo_new_vm_dialog_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/vireo/Vireo/ui/vireo-new-vm-dialog.ui");
#define CHILD(name) gtk_widget_class_bind_template_child (widget_class, VireoNewVmDialog, name)
  CHILD (back_button);
  CHILD (next_button);
  CHILD (error_label);
  CHILD (stack);
  CHILD (name_row);
  CHILD (guest_row);
  CHILD (kernel_row);
  CHILD (initrd_row);
  CHILD (cmdline_row);
  CHILD (memory_spin);
  CHILD (cpus_spin);
  CHILD (disk_spin);
  CHILD (resolution_row);
#undef CHILD
  gtk_widget_class_bind_template_callback (widget_class, on_back);
  gtk_widget_class_bind_template_callback (widget_class, on_next);
  gtk_widget_class_bind_template_callback (widget_class, on_demo);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_kernel);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_initrd);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
vireo_new_vm_dialog_init (VireoNewVmDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_buttons (self);
}

GtkWidget *
vireo_new_vm_dialog_new (VireoApplication *app)
{
  VireoNewVmDialog *self = g_object_new (VIREO_TYPE_NEW_VM_DIALOG, NULL);

  self->app = app;
  return GTK_WIDGET (self);
}
