/* VireoVmCard: name, guest type, state and a live thumbnail (the running
 * VM's framebuffer paintable) or a status icon. */
#include "config.h"

#include <glib/gi18n.h>

#include "vireo-vm-card.h"

struct _VireoVmCard
{
  GtkWidget parent_instance;

  VireoVm *vm;
  GtkPicture *thumbnail;
  GtkImage *status_icon;
  GtkLabel *name_label;
  GtkLabel *detail_label;
};

G_DEFINE_FINAL_TYPE (VireoVmCard, vireo_vm_card, GTK_TYPE_WIDGET)

const char *
vireo_state_to_label (const char *state)
{
  if (g_strcmp0 (state, "running") == 0)
    return _("Running");
  if (g_strcmp0 (state, "paused") == 0)
    return _("Paused");
  if (g_strcmp0 (state, "shutting-down") == 0)
    return _("Shutting Down");
  if (g_strcmp0 (state, "crashed") == 0)
    return _("Crashed");
  return _("Powered Off");
}

static void
update (VireoVmCard *self)
{
  VireoVm *vm = self->vm;
  g_autofree char *detail = NULL;
  const char *icon = "computer-symbolic";
  gboolean has_picture = gtk_picture_get_paintable (self->thumbnail) != NULL;

  if (!vm)
    return;
  gtk_label_set_label (self->name_label, vireo_vm_get_name (vm));
  if (vireo_vm_is_broken (vm))
    {
      detail = g_strdup_printf (_("Broken: %s"), vireo_vm_get_broken_reason (vm));
      icon = "dialog-warning-symbolic";
      gtk_widget_add_css_class (GTK_WIDGET (self), "broken");
    }
  else
    {
      const char *state = vireo_vm_get_state (vm);
      const char *reason = vireo_vm_get_state_reason (vm);
      /* The helper's reason, unless it only repeats the state. */
      gboolean why = reason && *reason && g_strcmp0 (state, "stopped") == 0
                     && g_utf8_collate (reason, vireo_state_to_label (state)) != 0
                     && g_ascii_strcasecmp (reason, "Powered off") != 0;

      gtk_widget_remove_css_class (GTK_WIDGET (self), "broken");
      /* "Direct Linux boot · Running" (and why it stopped, if it matters). */
      detail = g_strdup_printf ("%s · %s%s%s", _("Direct Linux boot"),
                                vireo_state_to_label (state), why ? " — " : "",
                                why ? reason : "");
    }
  gtk_label_set_label (self->detail_label, detail);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->detail_label), detail);
  gtk_image_set_from_icon_name (self->status_icon, icon);
  gtk_widget_set_visible (GTK_WIDGET (self->status_icon), !has_picture);
}

static void
on_vm_notify (VireoVm *vm, GParamSpec *pspec, VireoVmCard *self)
{
  update (self);
}

void
vireo_vm_card_set_vm (VireoVmCard *self, VireoVm *vm, GdkPaintable *thumbnail)
{
  if (self->vm)
    g_signal_handlers_disconnect_by_data (self->vm, self);
  g_set_object (&self->vm, vm);
  gtk_picture_set_paintable (self->thumbnail, thumbnail);
  if (vm)
    g_signal_connect (vm, "notify", G_CALLBACK (on_vm_notify), self);
  update (self);
}

static void
vireo_vm_card_dispose (GObject *object)
{
  VireoVmCard *self = VIREO_VM_CARD (object);
  GtkWidget *child;

  if (self->vm)
    g_signal_handlers_disconnect_by_data (self->vm, self);
  g_clear_object (&self->vm);
  /* The template's root box is our only child (bin layout). */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (vireo_vm_card_parent_class)->dispose (object);
}

static void
vireo_vm_card_class_init (VireoVmCardClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = vireo_vm_card_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/vireo/Vireo/ui/vireo-vm-card.ui");
  gtk_widget_class_bind_template_child (widget_class, VireoVmCard, thumbnail);
  gtk_widget_class_bind_template_child (widget_class, VireoVmCard, status_icon);
  gtk_widget_class_bind_template_child (widget_class, VireoVmCard, name_label);
  gtk_widget_class_bind_template_child (widget_class, VireoVmCard, detail_label);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
vireo_vm_card_init (VireoVmCard *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
vireo_vm_card_new (void)
{
  return g_object_new (VIREO_TYPE_VM_CARD, NULL);
}
