/* VireoFramebuffer: a running VM's screen, mapped from the helper's memfd,
 * as a GdkPaintable (drawn by the console and the library thumbnails). */
#pragma once

#include <gdk/gdk.h>

#include "vireo-dbus-vm1.h"

G_BEGIN_DECLS

#define VIREO_TYPE_FRAMEBUFFER (vireo_framebuffer_get_type ())
G_DECLARE_FINAL_TYPE (VireoFramebuffer, vireo_framebuffer, VIREO, FRAMEBUFFER, GObject)

VireoFramebuffer *vireo_framebuffer_new (VireoDBusVM1 *proxy);
int               vireo_framebuffer_get_width (VireoFramebuffer *self);
int               vireo_framebuffer_get_height (VireoFramebuffer *self);
GdkTexture       *vireo_framebuffer_get_texture (VireoFramebuffer *self);
guint64           vireo_framebuffer_get_damage_count (VireoFramebuffer *self);

G_END_DECLS
