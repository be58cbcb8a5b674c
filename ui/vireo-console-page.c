/* VireoConsolePage: switches between the console and a status page as the
 * VM's state changes, and shows "Press Ctrl+Alt to release" while grabbed. */
#include "config.h"

#include <glib/gi18n.h>

#include "vireo-console-page.h"
#include "vireo-vm-card.h"

struct _VireoConsolePage
{
  AdwBin parent_instance;

  VireoVm *vm;
  GtkStack *stack;
  VireoConsole *console;
  GtkScrolledWindow *scroller;
  GtkRevealer *hint;
  AdwStatusPage *status;
};

G_DEFINE_FINAL_TYPE (VireoConsolePage, vireo_console_page, ADW_TYPE_BIN)

static void
update (VireoConsolePage *self)
{
  const char *state = vireo_vm_get_state (self->vm);
  gboolean live = g_strcmp0 (state, "stopped") != 0;

  gtk_stack_set_visible_child_name (self->stack, live ? "console" : "status");
  if (!live)
    {
      const char *reason = vireo_vm_get_state_reason (self->vm);
      vireo_console_set_target (self->console, NULL, NULL);
      adw_status_page_set_description (self->status, reason && *reason ? reason : NULL);
    }
}

static void
on_state (VireoVm *vm, GParamSpec *pspec, VireoConsolePage *self)
{
  update (self);
}

static void
on_grabbed (VireoConsole *console, GParamSpec *pspec, VireoConsolePage *self)
{
  gtk_revealer_set_reveal_child (self->hint, vireo_console_get_grabbed (console));
}

static void
on_fit (VireoConsole *console, GParamSpec *pspec, VireoConsolePage *self)
{
  gboolean fit = vireo_console_get_scale_to_fit (console);

  gtk_scrolled_window_set_policy (self->scroller, fit ? GTK_POLICY_NEVER : GTK_POLICY_AUTOMATIC,
                                  fit ? GTK_POLICY_NEVER : GTK_POLICY_AUTOMATIC);
}

static void
vireo_console_page_dispose (GObject *object)
{
  VireoConsolePage *self = VIREO_CONSOLE_PAGE (object);

  if (self->vm)
    g_signal_handlers_disconnect_by_data (self->vm, self);
  g_clear_object (&self->vm);
  G_OBJECT_CLASS (vireo_console_page_parent_class)->dispose (object);
}

static void
vireo_console_page_class_init (VireoConsolePageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = vireo_console_page_dispose;
}

static void
vireo_console_page_init (VireoConsolePage *self)
{
  GtkWidget *overlay = gtk_overlay_new ();
  GtkWidget *label = gtk_label_new (_("Press Ctrl+Alt to release"));
  GtkWidget *start = gtk_button_new_with_mnemonic (_("_Start"));

  self->stack = GTK_STACK (gtk_stack_new ());
  self->console = VIREO_CONSOLE (vireo_console_new ());
  self->scroller = GTK_SCROLLED_WINDOW (gtk_scrolled_window_new ());
  gtk_scrolled_window_set_child (self->scroller, GTK_WIDGET (self->console));
  gtk_widget_add_css_class (GTK_WIDGET (self->scroller), "console");
  gtk_overlay_set_child (GTK_OVERLAY (overlay), GTK_WIDGET (self->scroller));

  gtk_widget_add_css_class (label, "grab-hint");
  self->hint = GTK_REVEALER (gtk_revealer_new ());
  gtk_revealer_set_child (self->hint, label);
  gtk_widget_set_halign (GTK_WIDGET (self->hint), GTK_ALIGN_CENTER);
  gtk_widget_set_valign (GTK_WIDGET (self->hint), GTK_ALIGN_START);
  gtk_widget_set_margin_top (GTK_WIDGET (self->hint), 12);
  gtk_widget_set_can_target (GTK_WIDGET (self->hint), FALSE);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), GTK_WIDGET (self->hint));

  self->status = ADW_STATUS_PAGE (adw_status_page_new ());
  adw_status_page_set_icon_name (self->status, "computer-symbolic");
  adw_status_page_set_title (self->status, _("Powered Off"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (start), "win.start");
  gtk_widget_add_css_class (start, "pill");
  gtk_widget_add_css_class (start, "suggested-action");
  gtk_widget_set_halign (start, GTK_ALIGN_CENTER);
  adw_status_page_set_child (self->status, start);

  gtk_stack_add_named (self->stack, overlay, "console");
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->status), "status");
  adw_bin_set_child (ADW_BIN (self), GTK_WIDGET (self->stack));
  g_signal_connect (self->console, "notify::grabbed", G_CALLBACK (on_grabbed), self);
  g_signal_connect (self->console, "notify::scale-to-fit", G_CALLBACK (on_fit), self);
  on_fit (self->console, NULL, self);
}

GtkWidget *
vireo_console_page_new (VireoVm *vm)
{
  VireoConsolePage *self = g_object_new (VIREO_TYPE_CONSOLE_PAGE, NULL);

  self->vm = g_object_ref (vm);
  g_signal_connect (vm, "notify::state", G_CALLBACK (on_state), self);
  g_signal_connect (vm, "notify::state-reason", G_CALLBACK (on_state), self);
  update (self);
  return GTK_WIDGET (self);
}

VireoVm *
vireo_console_page_get_vm (VireoConsolePage *self)
{
  return self->vm;
}

VireoConsole *
vireo_console_page_get_console (VireoConsolePage *self)
{
  return self->console;
}

void
vireo_console_page_attach (VireoConsolePage *self, VireoFramebuffer *framebuffer,
                           VireoDBusVM1 *proxy)
{
  vireo_console_set_target (self->console, framebuffer, proxy);
  update (self);
}
