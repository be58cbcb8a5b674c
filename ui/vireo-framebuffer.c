/* VireoFramebuffer: maps the helper's framebuffer memfd read-only and keeps
 * a private copy where only damaged rectangles are refreshed. The helper's
 * XRGB8888 has an undefined fourth byte; the copy forces it opaque so the
 * pixels can be a GdkMemoryTexture (GTK 4.8 has no XRGB format). A new
 * texture is made at most once per frame, when something was damaged.
 */
#include "config.h"

#include <sys/mman.h>
#include <unistd.h>
#include <gio/gunixfdlist.h>
#include <gtk/gtk.h>

#include "vireo-framebuffer.h"

#define FORMAT_XRGB8888 0x34325258u

struct _VireoFramebuffer
{
  GObject parent_instance;

  VireoDBusVM1 *proxy;
  const guint8 *map; /* the helper's memfd, read-only */
  gsize map_size;
  guint width, height, stride;
  guint8 *copy;      /* opaque BGRA, width * 4 per row */
  GdkTexture *texture;
  gboolean dirty;
  guint64 damage_count;
  GCancellable *cancellable;
};

static void vireo_framebuffer_paintable_init (GdkPaintableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (VireoFramebuffer, vireo_framebuffer, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GDK_TYPE_PAINTABLE,
                                                      vireo_framebuffer_paintable_init))

static void
unmap (VireoFramebuffer *self)
{
  if (self->map)
    munmap ((void *) self->map, self->map_size);
  self->map = NULL;
  self->map_size = 0;
}

/* Copies a rectangle from the shared mapping, clamped to the display: the
 * helper's rectangles are trusted no more than anything from outside. */
static void
copy_rect (VireoFramebuffer *self, int x, int y, int w, int h)
{
  int x1, y1;

  if (!self->map || !self->copy)
    return;
  x1 = CLAMP ((gint64) x + w, 0, (gint64) self->width);
  y1 = CLAMP ((gint64) y + h, 0, (gint64) self->height);
  x = CLAMP (x, 0, (int) self->width);
  y = CLAMP (y, 0, (int) self->height);
  for (int row = y; row < y1; row++)
    {
      const guint32 *src = (const guint32 *) (self->map + (gsize) row * self->stride);
      guint32 *dst = (guint32 *) (self->copy + (gsize) row * self->width * 4);
      for (int col = x; col < x1; col++)
        dst[col] = src[col] | 0xff000000u;
    }
  if (x1 > x && y1 > y)
    {
      self->dirty = TRUE;
      self->damage_count++;
      gdk_paintable_invalidate_contents (GDK_PAINTABLE (self));
    }
}

static void
on_display_got (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (VireoFramebuffer) self = user_data;
  g_autoptr (GVariant) handle = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GError) error = NULL;
  guint w, h, stride, format;
  gboolean resized;
  void *map;
  int fd;

  if (!vireo_dbus_vm1_call_get_display_finish (VIREO_DBUS_VM1 (source), &handle, &w, &h, &stride,
                                               &format, &fds, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("GetDisplay: %s", error->message);
      return;
    }
  if (format != FORMAT_XRGB8888 || w == 0 || h == 0 || w > 16384 || h > 16384
      || stride < w * 4 || !fds)
    {
      g_warning ("GetDisplay: unsupported framebuffer %ux%u stride %u format 0x%x", w, h, stride,
                 format);
      return;
    }
  fd = g_unix_fd_list_get (fds, g_variant_get_handle (handle), &error);
  if (fd < 0)
    {
      g_warning ("GetDisplay: %s", error->message);
      return;
    }
  map = mmap (NULL, (gsize) stride * h, PROT_READ, MAP_SHARED, fd, 0);
  close (fd);
  if (map == MAP_FAILED)
    {
      g_warning ("GetDisplay: cannot map the framebuffer");
      return;
    }
  unmap (self);
  resized = w != self->width || h != self->height;
  self->map = map;
  self->map_size = (gsize) stride * h;
  self->width = w;
  self->height = h;
  self->stride = stride;
  g_free (self->copy);
  self->copy = g_malloc0 ((gsize) w * h * 4);
  copy_rect (self, 0, 0, (int) w, (int) h);
  if (resized)
    gdk_paintable_invalidate_size (GDK_PAINTABLE (self));
}

static void
fetch_display (VireoFramebuffer *self)
{
  vireo_dbus_vm1_call_get_display (self->proxy, NULL, self->cancellable, on_display_got,
                                   g_object_ref (self));
}

static void
on_damage (VireoDBusVM1 *proxy, GVariant *rects, VireoFramebuffer *self)
{
  GVariantIter iter;
  int x, y, w, h;

  g_variant_iter_init (&iter, rects);
  while (g_variant_iter_next (&iter, "(iiii)", &x, &y, &w, &h))
    copy_rect (self, x, y, w, h);
}

static void
on_resized (VireoDBusVM1 *proxy, guint w, guint h, guint stride, guint format,
            VireoFramebuffer *self)
{
  fetch_display (self);
}

static void
snapshot (GdkPaintable *paintable, GdkSnapshot *snapshot, double width, double height)
{
  GdkTexture *texture = vireo_framebuffer_get_texture (VIREO_FRAMEBUFFER (paintable));

  if (texture)
    gtk_snapshot_append_texture (GTK_SNAPSHOT (snapshot), texture,
                                 &GRAPHENE_RECT_INIT (0, 0, width, height));
  else
    gtk_snapshot_append_color (GTK_SNAPSHOT (snapshot), &(GdkRGBA) { 0, 0, 0, 1 },
                               &GRAPHENE_RECT_INIT (0, 0, width, height));
}

static int
get_intrinsic_width (GdkPaintable *paintable)
{
  return (int) VIREO_FRAMEBUFFER (paintable)->width;
}

static int
get_intrinsic_height (GdkPaintable *paintable)
{
  return (int) VIREO_FRAMEBUFFER (paintable)->height;
}

static void
vireo_framebuffer_paintable_init (GdkPaintableInterface *iface)
{
  iface->snapshot = snapshot;
  iface->get_intrinsic_width = get_intrinsic_width;
  iface->get_intrinsic_height = get_intrinsic_height;
}

static void
vireo_framebuffer_dispose (GObject *object)
{
  VireoFramebuffer *self = VIREO_FRAMEBUFFER (object);

  g_cancellable_cancel (self->cancellable);
  if (self->proxy)
    g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_clear_object (&self->proxy);
  g_clear_object (&self->texture);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (vireo_framebuffer_parent_class)->dispose (object);
}

static void
vireo_framebuffer_finalize (GObject *object)
{
  VireoFramebuffer *self = VIREO_FRAMEBUFFER (object);

  unmap (self);
  g_free (self->copy);
  G_OBJECT_CLASS (vireo_framebuffer_parent_class)->finalize (object);
}

static void
vireo_framebuffer_class_init (VireoFramebufferClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = vireo_framebuffer_dispose;
  G_OBJECT_CLASS (klass)->finalize = vireo_framebuffer_finalize;
}

static void
vireo_framebuffer_init (VireoFramebuffer *self)
{
  self->cancellable = g_cancellable_new ();
}

VireoFramebuffer *
vireo_framebuffer_new (VireoDBusVM1 *proxy)
{
  VireoFramebuffer *self = g_object_new (VIREO_TYPE_FRAMEBUFFER, NULL);

  self->proxy = g_object_ref (proxy);
  g_signal_connect (proxy, "display-damage", G_CALLBACK (on_damage), self);
  g_signal_connect (proxy, "display-resized", G_CALLBACK (on_resized), self);
  fetch_display (self);
  return self;
}

int
vireo_framebuffer_get_width (VireoFramebuffer *self)
{
  return (int) self->width;
}

int
vireo_framebuffer_get_height (VireoFramebuffer *self)
{
  return (int) self->height;
}

guint64
vireo_framebuffer_get_damage_count (VireoFramebuffer *self)
{
  return self->damage_count;
}

GdkTexture *
vireo_framebuffer_get_texture (VireoFramebuffer *self)
{
  if (self->dirty && self->copy)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (self->copy, (gsize) self->width * self->height * 4);

      g_clear_object (&self->texture);
      self->texture = gdk_memory_texture_new ((int) self->width, (int) self->height,
                                              GDK_MEMORY_B8G8R8A8_PREMULTIPLIED, bytes,
                                              self->width * 4);
      self->dirty = FALSE;
    }
  return self->texture;
}
