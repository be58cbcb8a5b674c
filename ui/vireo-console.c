/* VireoConsole: draws the guest framebuffer (fit to the widget, or 1:1
 * centred) and, once grabbed by a click, sends keys as evdev codes and the
 * pointer as absolute guest coordinates. Ctrl+Alt releases the grab. */
#include "config.h"

#include <glib/gi18n.h>

#include "vireo-console.h"

struct _VireoConsole
{
  GtkWidget parent_instance;

  VireoFramebuffer *framebuffer;
  VireoDBusVM1 *proxy;
  gboolean fit;
  gboolean grabbed;
  GHashTable *keys_down; /* evdev codes sent as pressed */
  guint buttons;
  GtkApplication *app;    /* whose accels are suspended while grabbed */
  GHashTable *saved_accels; /* detailed action -> GStrv */
};

G_DEFINE_FINAL_TYPE (VireoConsole, vireo_console, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_SCALE_TO_FIT, PROP_GRABBED, N_PROPS };
static GParamSpec *props[N_PROPS];

/* Evdev codes of the modifiers that make up the release combination. */
#define KEY_LEFTCTRL 29
#define KEY_LEFTALT 56
#define KEY_RIGHTCTRL 97
#define KEY_RIGHTALT 100

/* On X11 and Wayland a hardware keycode is the evdev code plus 8. */
static guint
evdev_from_hardware (guint keycode)
{
  return keycode >= 8 ? keycode - 8 : 0;
}

static void
get_image_rect (VireoConsole *self, graphene_rect_t *rect)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  double fw = self->framebuffer ? vireo_framebuffer_get_width (self->framebuffer) : 0;
  double fh = self->framebuffer ? vireo_framebuffer_get_height (self->framebuffer) : 0;
  double scale = 1;

  if (fw <= 0 || fh <= 0)
    {
      graphene_rect_init (rect, 0, 0, 0, 0);
      return;
    }
  if (self->fit)
    scale = MIN (w / fw, h / fh);
  graphene_rect_init (rect, floor ((w - fw * scale) / 2), floor ((h - fh * scale) / 2),
                      fw * scale, fh * scale);
}

static void
vireo_console_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  VireoConsole *self = VIREO_CONSOLE (widget);
  graphene_rect_t r;

  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0, 0, 0, 1 },
                             &GRAPHENE_RECT_INIT (0, 0, gtk_widget_get_width (widget),
                                                  gtk_widget_get_height (widget)));
  get_image_rect (self, &r);
  if (r.size.width <= 0)
    return;
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, gtk_widget_get_width (widget),
                                                         gtk_widget_get_height (widget)));
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &r.origin);
  gdk_paintable_snapshot (GDK_PAINTABLE (self->framebuffer), snapshot, r.size.width,
                          r.size.height);
  gtk_snapshot_restore (snapshot);
  gtk_snapshot_pop (snapshot);
}

static void
vireo_console_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *min,
                       int *nat, int *min_baseline, int *nat_baseline)
{
  VireoConsole *self = VIREO_CONSOLE (widget);
  int size = 0;

  if (self->framebuffer && !self->fit)
    size = orientation == GTK_ORIENTATION_HORIZONTAL
               ? vireo_framebuffer_get_width (self->framebuffer)
               : vireo_framebuffer_get_height (self->framebuffer);
  *min = self->fit ? 64 : size;
  *nat = self->fit ? 640 : size;
}

static void
send_key (VireoConsole *self, guint code, gboolean down)
{
  if (!self->proxy || code == 0)
    return;
  if (down)
    g_hash_table_add (self->keys_down, GUINT_TO_POINTER (code));
  else if (!g_hash_table_remove (self->keys_down, GUINT_TO_POINTER (code)))
    return; /* never sent down (pressed before the grab) */
  vireo_dbus_vm1_call_send_key (self->proxy, code, down, NULL, NULL, NULL);
}

/* Application accelerators run before the focused widget sees a key, so
 * a grabbed console would lose Ctrl+E or Ctrl+R (and power the VM off!).
 * They are suspended while the guest has the keyboard. */
static void
suspend_accels (VireoConsole *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkApplication *app = GTK_IS_WINDOW (root) ? gtk_window_get_application (GTK_WINDOW (root))
                                             : NULL;
  g_auto (GStrv) actions = NULL;
  const char *none[] = { NULL };

  if (!app || self->app)
    return;
  self->app = g_object_ref (app);
  self->saved_accels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify) g_strfreev);
  actions = gtk_application_list_action_descriptions (app);
  for (guint i = 0; actions[i]; i++)
    {
      g_hash_table_insert (self->saved_accels, g_strdup (actions[i]),
                           gtk_application_get_accels_for_action (app, actions[i]));
      gtk_application_set_accels_for_action (app, actions[i], none);
    }
}

static void
restore_accels (VireoConsole *self)
{
  GHashTableIter iter;
  gpointer action, accels;

  if (!self->app)
    return;
  g_hash_table_iter_init (&iter, self->saved_accels);
  while (g_hash_table_iter_next (&iter, &action, &accels))
    gtk_application_set_accels_for_action (self->app, action, (const char *const *) accels);
  g_clear_pointer (&self->saved_accels, g_hash_table_unref);
  g_clear_object (&self->app);
}

static void
set_grabbed (VireoConsole *self, gboolean grabbed)
{
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));
  GdkSurface *surface = native ? gtk_native_get_surface (native) : NULL;

  if (self->grabbed == grabbed)
    return;
  self->grabbed = grabbed;
  if (grabbed)
    {
      gtk_widget_grab_focus (GTK_WIDGET (self));
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "none");
      suspend_accels (self);
      if (surface && GDK_IS_TOPLEVEL (surface))
        gdk_toplevel_inhibit_system_shortcuts (GDK_TOPLEVEL (surface), NULL);
    }
  else
    {
      /* Release whatever the guest still thinks is held. */
      g_autoptr (GList) keys = g_hash_table_get_keys (self->keys_down);
      for (GList *l = keys; l; l = l->next)
        send_key (self, GPOINTER_TO_UINT (l->data), FALSE);
      gtk_widget_set_cursor (GTK_WIDGET (self), NULL);
      restore_accels (self);
      if (surface && GDK_IS_TOPLEVEL (surface))
        gdk_toplevel_restore_system_shortcuts (GDK_TOPLEVEL (surface));
    }
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_GRABBED]);
}

static void
send_pointer (VireoConsole *self, double x, double y)
{
  graphene_rect_t r;
  double fw, fh;
  int gx, gy;

  get_image_rect (self, &r);
  if (!self->proxy || r.size.width <= 0)
    return;
  fw = vireo_framebuffer_get_width (self->framebuffer);
  fh = vireo_framebuffer_get_height (self->framebuffer);
  gx = (int) CLAMP ((x - r.origin.x) * fw / r.size.width, 0, fw - 1);
  gy = (int) CLAMP ((y - r.origin.y) * fh / r.size.height, 0, fh - 1);
  vireo_dbus_vm1_call_send_pointer (self->proxy, gx, gy, self->buttons, NULL, NULL, NULL);
}

static guint
button_bit (guint button)
{
  switch (button)
    {
    case GDK_BUTTON_PRIMARY:
      return 1u << 0;
    case GDK_BUTTON_MIDDLE:
      return 1u << 1;
    case GDK_BUTTON_SECONDARY:
      return 1u << 2;
    default:
      return 0;
    }
}

static gboolean
on_event (GtkEventControllerLegacy *controller, GdkEvent *event, VireoConsole *self)
{
  GdkEventType type = gdk_event_get_event_type (event);
  GdkModifierType mods = gdk_event_get_modifier_state (event);
  double x, y;

  switch (type)
    {
    case GDK_BUTTON_PRESS:
      if (!self->grabbed)
        {
          set_grabbed (self, TRUE);
          return TRUE;
        }
      self->buttons |= button_bit (gdk_button_event_get_button (event));
      if (gdk_event_get_position (event, &x, &y))
        send_pointer (self, x, y);
      return TRUE;
    case GDK_BUTTON_RELEASE:
      self->buttons &= ~button_bit (gdk_button_event_get_button (event));
      if (self->grabbed && gdk_event_get_position (event, &x, &y))
        send_pointer (self, x, y);
      return self->grabbed;
    case GDK_MOTION_NOTIFY:
      if (self->grabbed && gdk_event_get_position (event, &x, &y))
        send_pointer (self, x, y);
      return self->grabbed;
    case GDK_KEY_PRESS:
    case GDK_KEY_RELEASE:
      {
        guint keyval = gdk_key_event_get_keyval (event);
        guint code = evdev_from_hardware (gdk_key_event_get_keycode (event));
        gboolean down = type == GDK_KEY_PRESS;

        if (!self->grabbed)
          return FALSE;
        /* Ctrl+Alt: the second of the two pressed while the first is held. */
        if (down
            && (((keyval == GDK_KEY_Alt_L || keyval == GDK_KEY_Alt_R || keyval == GDK_KEY_Meta_L)
                 && (mods & GDK_CONTROL_MASK))
                || ((keyval == GDK_KEY_Control_L || keyval == GDK_KEY_Control_R)
                    && (mods & GDK_ALT_MASK))))
          {
            set_grabbed (self, FALSE);
            return TRUE;
          }
        send_key (self, code, down);
        return TRUE;
      }
    default:
      return FALSE;
    }
}

static void
on_focus_leave (GtkEventControllerFocus *focus, VireoConsole *self)
{
  set_grabbed (self, FALSE);
}

static void
vireo_console_dispose (GObject *object)
{
  VireoConsole *self = VIREO_CONSOLE (object);

  restore_accels (self);
  if (self->framebuffer)
    g_signal_handlers_disconnect_by_data (self->framebuffer, self);
  g_clear_object (&self->framebuffer);
  g_clear_object (&self->proxy);
  g_clear_pointer (&self->keys_down, g_hash_table_unref);
  G_OBJECT_CLASS (vireo_console_parent_class)->dispose (object);
}

static void
vireo_console_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  VireoConsole *self = VIREO_CONSOLE (object);

  if (id == PROP_SCALE_TO_FIT)
    g_value_set_boolean (value, self->fit);
  else if (id == PROP_GRABBED)
    g_value_set_boolean (value, self->grabbed);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
vireo_console_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  if (id == PROP_SCALE_TO_FIT)
    vireo_console_set_scale_to_fit (VIREO_CONSOLE (object), g_value_get_boolean (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
}

static void
vireo_console_class_init (VireoConsoleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = vireo_console_dispose;
  object_class->get_property = vireo_console_get_property;
  object_class->set_property = vireo_console_set_property;
  widget_class->snapshot = vireo_console_snapshot;
  widget_class->measure = vireo_console_measure;

  props[PROP_SCALE_TO_FIT] = g_param_spec_boolean ("scale-to-fit", NULL, NULL, TRUE,
                                                   G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  props[PROP_GRABBED] = g_param_spec_boolean ("grabbed", NULL, NULL, FALSE,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
  gtk_widget_class_set_css_name (widget_class, "console");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
vireo_console_init (VireoConsole *self)
{
  GtkEventController *legacy = gtk_event_controller_legacy_new ();
  GtkEventController *focus = gtk_event_controller_focus_new ();

  self->fit = TRUE;
  self->keys_down = g_hash_table_new (NULL, NULL);
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  g_signal_connect (legacy, "event", G_CALLBACK (on_event), self);
  gtk_widget_add_controller (GTK_WIDGET (self), legacy);
  g_signal_connect (focus, "leave", G_CALLBACK (on_focus_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), focus);
}

GtkWidget *
vireo_console_new (void)
{
  return g_object_new (VIREO_TYPE_CONSOLE, NULL);
}

static void
on_contents_changed (GdkPaintable *paintable, VireoConsole *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_size_changed (GdkPaintable *paintable, VireoConsole *self)
{
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
vireo_console_set_target (VireoConsole *self, VireoFramebuffer *framebuffer,
                          VireoDBusVM1 *proxy)
{
  if (self->framebuffer)
    g_signal_handlers_disconnect_by_data (self->framebuffer, self);
  set_grabbed (self, FALSE);
  g_set_object (&self->framebuffer, framebuffer);
  g_set_object (&self->proxy, proxy);
  if (framebuffer)
    {
      g_signal_connect (framebuffer, "invalidate-contents", G_CALLBACK (on_contents_changed),
                        self);
      g_signal_connect (framebuffer, "invalidate-size", G_CALLBACK (on_size_changed), self);
    }
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
vireo_console_set_scale_to_fit (VireoConsole *self, gboolean fit)
{
  if (self->fit == !!fit)
    return;
  self->fit = !!fit;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SCALE_TO_FIT]);
}

gboolean
vireo_console_get_scale_to_fit (VireoConsole *self)
{
  return self->fit;
}

gboolean
vireo_console_get_grabbed (VireoConsole *self)
{
  return self->grabbed;
}

void
vireo_console_ungrab (VireoConsole *self)
{
  set_grabbed (self, FALSE);
}

gboolean
vireo_console_save_screenshot (VireoConsole *self, const char *path, GError **error)
{
  GdkTexture *texture = self->framebuffer ? vireo_framebuffer_get_texture (self->framebuffer)
                                          : NULL;

  if (!texture)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("The VM shows nothing yet"));
      return FALSE;
    }
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write %s"), path);
      return FALSE;
    }
  return TRUE;
}
