/* VireoLibraryView: a GtkGridView over the VireoLibrary model. Activating
 * a card (double click, Enter) runs win.open; selection drives the window's
 * actions. */
#include "config.h"

#include "vireo-library-view.h"
#include "vireo-vm-card.h"

struct _VireoLibraryView
{
  GtkWidget parent_instance;

  VireoApplication *app;
  GtkSingleSelection *selection;
  GtkStack *stack;
  GtkGridView *grid;
};

G_DEFINE_FINAL_TYPE (VireoLibraryView, vireo_library_view, GTK_TYPE_WIDGET)

enum { SIGNAL_SELECTION_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void
setup_item (GtkSignalListItemFactory *factory, GtkListItem *item, VireoLibraryView *self)
{
  gtk_list_item_set_child (item, vireo_vm_card_new ());
}

static void
bind_item (GtkSignalListItemFactory *factory, GtkListItem *item, VireoLibraryView *self)
{
  VireoVm *vm = gtk_list_item_get_item (item);
  VireoFramebuffer *fb = vireo_application_get_framebuffer (self->app, vm);
  g_autofree char *path = g_build_filename (vireo_vm_get_dir (vm), "thumbnail.png", NULL);
  g_autoptr (GdkTexture) saved = NULL;

  /* Live screen while running, else the last screen it showed. */
  if (!fb && g_file_test (path, G_FILE_TEST_IS_REGULAR))
    saved = gdk_texture_new_from_filename (path, NULL);
  vireo_vm_card_set_vm (VIREO_VM_CARD (gtk_list_item_get_child (item)), vm,
                        fb ? GDK_PAINTABLE (fb) : GDK_PAINTABLE (saved));
}

static void
unbind_item (GtkSignalListItemFactory *factory, GtkListItem *item, VireoLibraryView *self)
{
  vireo_vm_card_set_vm (VIREO_VM_CARD (gtk_list_item_get_child (item)), NULL, NULL);
}

static void
on_items_changed (GListModel *model, guint pos, guint removed, guint added,
                  VireoLibraryView *self)
{
  gtk_stack_set_visible_child_name (self->stack,
                                    g_list_model_get_n_items (model) ? "grid" : "empty");
}

static void
on_activate (GtkGridView *grid, guint position, VireoLibraryView *self)
{
  gtk_single_selection_set_selected (self->selection, position);
  gtk_widget_activate_action (GTK_WIDGET (self), "win.open", NULL);
}

static void
on_selected (GtkSingleSelection *selection, GParamSpec *pspec, VireoLibraryView *self)
{
  g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
}

static void
vireo_library_view_dispose (GObject *object)
{
  VireoLibraryView *self = VIREO_LIBRARY_VIEW (object);
  GtkWidget *child;

  /* The template's root box is our only child (bin layout). */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  g_clear_object (&self->selection);
  G_OBJECT_CLASS (vireo_library_view_parent_class)->dispose (object);
}

static void
vireo_library_view_class_init (VireoLibraryViewClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = vireo_library_view_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/vireo/Vireo/ui/vireo-library-view.ui");
  gtk_widget_class_bind_template_child (widget_class, VireoLibraryView, stack);
  gtk_widget_class_bind_template_child (widget_class, VireoLibraryView, grid);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  signals[SIGNAL_SELECTION_CHANGED] = g_signal_new ("selection-changed",
                                                    G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                                    0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
vireo_library_view_init (VireoLibraryView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
vireo_library_view_new (VireoApplication *app)
{
  VireoLibraryView *self = g_object_new (VIREO_TYPE_LIBRARY_VIEW, NULL);
  GListModel *model = G_LIST_MODEL (vireo_application_get_library (app));
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  self->app = app;
  self->selection = gtk_single_selection_new (g_object_ref (model));
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  g_signal_connect (factory, "setup", G_CALLBACK (setup_item), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_item), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_item), self);
  gtk_grid_view_set_factory (self->grid, factory);
  g_object_unref (factory);
  gtk_grid_view_set_model (self->grid, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect (self->grid, "activate", G_CALLBACK (on_activate), self);
  g_signal_connect_object (model, "items-changed", G_CALLBACK (on_items_changed), self, 0);
  g_signal_connect (self->selection, "notify::selected", G_CALLBACK (on_selected), self);
  on_items_changed (model, 0, 0, 0, self);
  return GTK_WIDGET (self);
}

VireoVm *
vireo_library_view_get_selected (VireoLibraryView *self)
{
  return gtk_single_selection_get_selected_item (self->selection);
}

void
vireo_library_view_select (VireoLibraryView *self, VireoVm *vm)
{
  GListModel *model = G_LIST_MODEL (self->selection);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (VireoVm) item = g_list_model_get_item (model, i);
      if (item == vm)
        {
          gtk_single_selection_set_selected (self->selection, i);
          return;
        }
    }
}

void
vireo_library_view_refresh_thumbnail (VireoLibraryView *self, VireoVm *vm)
{
  /* Rebinding the item picks up (or drops) the VM's framebuffer. */
  GListModel *model = G_LIST_MODEL (vireo_application_get_library (self->app));
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (VireoVm) item = g_list_model_get_item (model, i);
      if (item == vm)
        {
          g_list_model_items_changed (G_LIST_MODEL (vireo_application_get_library (self->app)),
                                      i, 1, 1);
          return;
        }
    }
}
