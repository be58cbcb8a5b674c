/* SPICE server: a software QXL device fed from display damage, plus the
 * keyboard and mouse interfaces of the inputs channel. */
#include "display/spice-display.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>
#include <spice.h>

#include "display/spice-core.h"

/* Queued draws beyond this collapse into one full-screen draw (a client or
 * worker that cannot keep up sees the latest frame, not a backlog). */
#define MAX_QUEUED_DRAWS 64

typedef struct SpiceDraw
{
  QXLDrawable drawable;
  QXLImage image;
  uint32_t pixels[];
} SpiceDraw;

struct SpiceDisplay
{
  DisplayListener listener; /* first: the hub calls back with it */
  VmmDisplay *display;
  const InputSink *sink;
  SpiceServer *server;
  QXLInstance qxl;
  SpiceKbdInstance kbd;
  SpiceMouseInstance mouse;
  Set1Decoder decoder; /* SPICE core thread only */
  GSource *led_poll;   /* SPICE core thread only */
  int leds;            /* last LED state told to clients */

  GMutex lock; /* queue, counters */
  GQueue queue;
  guint64 image_id;
  guint64 draws;

  bool primary; /* hub thread only */
  uint32_t width, height;
  uint32_t *primary_mem;
};

#define FROM_FIELD(ptr, field) ((SpiceDisplay *)((char *)(ptr)-offsetof (SpiceDisplay, field)))

/* ---- running setup on the SPICE core thread ---- */

typedef struct
{
  GMutex lock;
  GCond cond;
  bool done;
  void (*fn) (gpointer);
  gpointer data;
} CoreCall;

static gboolean
core_call_run (gpointer data)
{
  CoreCall *c = data;
  c->fn (c->data);
  g_mutex_lock (&c->lock);
  c->done = true;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  return G_SOURCE_REMOVE;
}

/* spice-server is not thread-safe outside the QXL entry points: create and
 * destroy it on the thread that runs its sockets. */
static void
run_on_core (void (*fn) (gpointer), gpointer data)
{
  CoreCall c = { .fn = fn, .data = data };
  g_mutex_init (&c.lock);
  g_cond_init (&c.cond);
  g_main_context_invoke (spice_core_loop_context (), core_call_run, &c);
  g_mutex_lock (&c.lock);
  while (!c.done)
    g_cond_wait (&c.cond, &c.lock);
  g_mutex_unlock (&c.lock);
  g_mutex_clear (&c.lock);
  g_cond_clear (&c.cond);
}

/* ---- QXL interface (spice worker thread) ---- */

static void
qxl_attached_worker (QXLInstance *qin)
{
}

static void
qxl_set_compression_level (QXLInstance *qin, int level)
{
}

static void
qxl_set_mm_time (QXLInstance *qin, uint32_t mm_time)
{
}

static void
qxl_get_init_info (QXLInstance *qin, QXLDevInitInfo *info)
{
  /* One memory slot covering the whole address space: QXL addresses are
   * plain host pointers (slot 0, generation 0). */
  memset (info, 0, sizeof *info);
  info->num_memslots_groups = 1;
  info->num_memslots = 1;
  info->memslot_gen_bits = 8;
  info->memslot_id_bits = 8;
  info->qxl_ram_size = 16u << 20;
  info->internal_groupslot_id = 0;
  info->n_surfaces = 1;
}

static int
qxl_get_command (QXLInstance *qin, QXLCommandExt *cmd)
{
  SpiceDisplay *sd = FROM_FIELD (qin, qxl);
  g_mutex_lock (&sd->lock);
  SpiceDraw *d = g_queue_pop_head (&sd->queue);
  g_mutex_unlock (&sd->lock);
  if (!d)
    return 0;
  memset (cmd, 0, sizeof *cmd);
  cmd->cmd.data = (QXLPHYSICAL)(uintptr_t)&d->drawable;
  cmd->cmd.type = QXL_CMD_DRAW;
  cmd->group_id = 0;
  return 1;
}

static int
qxl_req_cmd_notification (QXLInstance *qin)
{
  SpiceDisplay *sd = FROM_FIELD (qin, qxl);
  g_mutex_lock (&sd->lock);
  bool empty = g_queue_is_empty (&sd->queue);
  g_mutex_unlock (&sd->lock);
  return empty;
}

static void
qxl_release_resource (QXLInstance *qin, QXLReleaseInfoExt ext)
{
  g_free ((SpiceDraw *)(uintptr_t)ext.info->id);
}

static int
qxl_get_cursor_command (QXLInstance *qin, QXLCommandExt *cmd)
{
  return 0;
}

static int
qxl_req_cursor_notification (QXLInstance *qin)
{
  return 1;
}

static void
qxl_notify_update (QXLInstance *qin, uint32_t update_id)
{
}

static int
qxl_flush_resources (QXLInstance *qin)
{
  return 0;
}

static void
qxl_async_complete (QXLInstance *qin, uint64_t cookie)
{
}

static void
qxl_update_area_complete (QXLInstance *qin, uint32_t surface_id, QXLRect *rects, uint32_t n)
{
}

static void
qxl_set_client_capabilities (QXLInstance *qin, uint8_t present, uint8_t caps[])
{
}

static int
qxl_client_monitors_config (QXLInstance *qin, VDAgentMonitorsConfig *mc)
{
  return 0;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static const QXLInterface qxl_iface = {
  .base = {
    .type = SPICE_INTERFACE_QXL,
    .description = "vireo framebuffer",
    .major_version = SPICE_INTERFACE_QXL_MAJOR,
    .minor_version = SPICE_INTERFACE_QXL_MINOR,
  },
  .attached_worker = qxl_attached_worker,
  .set_compression_level = qxl_set_compression_level,
  .set_mm_time = qxl_set_mm_time,
  .get_init_info = qxl_get_init_info,
  .get_command = qxl_get_command,
  .req_cmd_notification = qxl_req_cmd_notification,
  .release_resource = qxl_release_resource,
  .get_cursor_command = qxl_get_cursor_command,
  .req_cursor_notification = qxl_req_cursor_notification,
  .notify_update = qxl_notify_update,
  .flush_resources = qxl_flush_resources,
  .async_complete = qxl_async_complete,
  .update_area_complete = qxl_update_area_complete,
  .set_client_capabilities = qxl_set_client_capabilities,
  .client_monitors_config = qxl_client_monitors_config,
};
#pragma GCC diagnostic pop

/* ---- damage → draw commands (hub thread) ---- */

static SpiceDraw *
make_draw (SpiceDisplay *sd, const DisplaySurface *s, DisplayRect r)
{
  SpiceDraw *d = g_malloc0 (sizeof *d + (size_t)r.w * r.h * 4);
  for (uint32_t y = 0; y < r.h; y++)
    display_surface_row_xrgb (s, r.x, r.y + y, r.w, d->pixels + (size_t)y * r.w);

  QXLDrawable *dr = &d->drawable;
  dr->release_info.id = (uint64_t)(uintptr_t)d;
  dr->surface_id = 0;
  dr->effect = QXL_EFFECT_OPAQUE;
  dr->type = QXL_DRAW_COPY;
  dr->bbox = (QXLRect){ .top = (int32_t)r.y,
                        .left = (int32_t)r.x,
                        .bottom = (int32_t)(r.y + r.h),
                        .right = (int32_t)(r.x + r.w) };
  dr->clip.type = SPICE_CLIP_TYPE_NONE;
  dr->mm_time = 0;
  dr->surfaces_dest[0] = dr->surfaces_dest[1] = dr->surfaces_dest[2] = -1;
  dr->u.copy.src_bitmap = (QXLPHYSICAL)(uintptr_t)&d->image;
  dr->u.copy.src_area
      = (QXLRect){ .top = 0, .left = 0, .bottom = (int32_t)r.h, .right = (int32_t)r.w };
  dr->u.copy.rop_descriptor = SPICE_ROPD_OP_PUT;

  QXLImage *img = &d->image;
  g_mutex_lock (&sd->lock);
  img->descriptor.id = ++sd->image_id;
  g_mutex_unlock (&sd->lock);
  img->descriptor.type = SPICE_IMAGE_TYPE_BITMAP;
  img->descriptor.width = r.w;
  img->descriptor.height = r.h;
  img->bitmap.format = SPICE_BITMAP_FMT_32BIT;
  img->bitmap.flags = QXL_BITMAP_DIRECT | QXL_BITMAP_TOP_DOWN;
  img->bitmap.x = r.w;
  img->bitmap.y = r.h;
  img->bitmap.stride = r.w * 4;
  img->bitmap.data = (QXLPHYSICAL)(uintptr_t)d->pixels;
  return d;
}

static void
drop_queue (SpiceDisplay *sd)
{
  g_mutex_lock (&sd->lock);
  SpiceDraw *d;
  while ((d = g_queue_pop_head (&sd->queue)))
    g_free (d);
  g_mutex_unlock (&sd->lock);
}

static void
on_surface_changed (DisplayListener *l, const DisplaySurface *s)
{
  SpiceDisplay *sd = (SpiceDisplay *)l;
  drop_queue (sd);
  if (sd->primary)
    {
      spice_qxl_destroy_primary_surface (&sd->qxl, 0);
      sd->primary = false;
    }
  g_clear_pointer (&sd->primary_mem, g_free);
  if (s->format == DISPLAY_FORMAT_NONE || s->width == 0 || s->height == 0)
    return;

  sd->width = s->width;
  sd->height = s->height;
  sd->primary_mem = g_malloc0 ((size_t)s->width * s->height * 4);
  QXLDevSurfaceCreate surf = {
    .width = s->width,
    .height = s->height,
    .stride = (int32_t)(s->width * 4),
    .format = SPICE_SURFACE_FMT_32_xRGB,
    .position = 0,
    .mouse_mode = 1,
    .flags = 0,
    .type = QXL_SURF_TYPE_PRIMARY,
    .mem = (uint64_t)(uintptr_t)sd->primary_mem,
    .group_id = 0,
  };
  spice_qxl_create_primary_surface (&sd->qxl, 0, &surf);
  sd->primary = true;
}

static void
on_update (DisplayListener *l, const DisplaySurface *s, const DisplayRect *rects, size_t n)
{
  SpiceDisplay *sd = (SpiceDisplay *)l;
  if (!sd->primary || s->width != sd->width || s->height != sd->height)
    return;

  g_mutex_lock (&sd->lock);
  bool collapse = g_queue_get_length (&sd->queue) + n > MAX_QUEUED_DRAWS;
  g_mutex_unlock (&sd->lock);
  DisplayRect full = { 0, 0, s->width, s->height };
  if (collapse)
    {
      drop_queue (sd);
      rects = &full;
      n = 1;
    }
  for (size_t i = 0; i < n; i++)
    {
      SpiceDraw *d = make_draw (sd, s, rects[i]);
      g_mutex_lock (&sd->lock);
      g_queue_push_tail (&sd->queue, d);
      sd->draws++;
      g_mutex_unlock (&sd->lock);
    }
  spice_qxl_wakeup (&sd->qxl);
}

/* ---- inputs (SPICE core thread) ---- */

static void
kbd_push_scan (SpiceKbdInstance *sin, uint8_t frag)
{
  SpiceDisplay *sd = FROM_FIELD (sin, kbd);
  PcKeycode key;
  bool down;
  if (set1_decoder_feed (&sd->decoder, frag, &key, &down))
    input_sink_key (sd->sink, key, down);
}

static uint8_t
kbd_get_leds (SpiceKbdInstance *sin)
{
  SpiceDisplay *sd = FROM_FIELD (sin, kbd);
  /* PS/2 LED bits and SPICE's modifier flags share the layout:
   * scroll 1, num 2, caps 4. */
  return (uint8_t)(input_sink_leds (sd->sink) & 7);
}

/* The guest sets LEDs through the i8042 with no callback to us: look every
 * quarter second and tell the clients when they changed (their Caps Lock
 * and Num Lock then follow the guest's). */
static gboolean
poll_leds (gpointer data)
{
  SpiceDisplay *sd = data;
  int leds = (int)(input_sink_leds (sd->sink) & 7);
  if (leds != sd->leds)
    {
      sd->leds = leds;
      spice_server_kbd_leds (&sd->kbd, leds);
    }
  return G_SOURCE_CONTINUE;
}

static const SpiceKbdInterface kbd_iface = {
  .base = {
    .type = SPICE_INTERFACE_KEYBOARD,
    .description = "vireo keyboard",
    .major_version = SPICE_INTERFACE_KEYBOARD_MAJOR,
    .minor_version = SPICE_INTERFACE_KEYBOARD_MINOR,
  },
  .push_scan_freg = kbd_push_scan,
  .get_leds = kbd_get_leds,
};

static unsigned
ps2_buttons (uint32_t spice_buttons)
{
  return ((spice_buttons & SPICE_MOUSE_BUTTON_MASK_LEFT) ? 1u : 0u)
         | ((spice_buttons & SPICE_MOUSE_BUTTON_MASK_RIGHT) ? 2u : 0u)
         | ((spice_buttons & SPICE_MOUSE_BUTTON_MASK_MIDDLE) ? 4u : 0u);
}

static void
mouse_motion (SpiceMouseInstance *sin, int dx, int dy, int dz, uint32_t buttons)
{
  SpiceDisplay *sd = FROM_FIELD (sin, mouse);
  input_sink_mouse (sd->sink, dx, dy, dz, ps2_buttons (buttons));
}

static void
mouse_buttons (SpiceMouseInstance *sin, uint32_t buttons)
{
  SpiceDisplay *sd = FROM_FIELD (sin, mouse);
  input_sink_mouse (sd->sink, 0, 0, 0, ps2_buttons (buttons));
}

static const SpiceMouseInterface mouse_iface = {
  .base = {
    .type = SPICE_INTERFACE_MOUSE,
    .description = "vireo mouse",
    .major_version = SPICE_INTERFACE_MOUSE_MAJOR,
    .minor_version = SPICE_INTERFACE_MOUSE_MINOR,
  },
  .motion = mouse_motion,
  .buttons = mouse_buttons,
};

/* ---- life cycle ---- */

typedef struct
{
  SpiceDisplay *sd;
  const SpiceOptions *opts;
  SpiceCoreInterface *core;
  GError *error;
} StartArgs;

static void
start_on_core (gpointer data)
{
  StartArgs *a = data;
  SpiceDisplay *sd = a->sd;
  const SpiceOptions *o = a->opts;

  sd->server = spice_server_new ();
  if (o->unix_path)
    spice_server_set_addr (sd->server, o->unix_path, SPICE_ADDR_FLAG_UNIX_ONLY);
  else
    {
      spice_server_set_port (sd->server, o->port);
      spice_server_set_addr (sd->server, o->addr ? o->addr : "127.0.0.1", 0);
    }
  if (o->password)
    spice_server_set_ticket (sd->server, o->password, 0, 0, 0);
  else
    spice_server_set_noauth (sd->server);
  /* Lossless only: the guest's pixels, exactly. */
  spice_server_set_image_compression (sd->server, SPICE_IMAGE_COMPRESSION_AUTO_GLZ);
  spice_server_set_jpeg_compression (sd->server, SPICE_WAN_COMPRESSION_NEVER);
  spice_server_set_zlib_glz_compression (sd->server, SPICE_WAN_COMPRESSION_AUTO);
  spice_server_set_streaming_video (sd->server, SPICE_STREAM_VIDEO_OFF);

  if (spice_server_init (sd->server, a->core) != 0)
    {
      if (o->unix_path)
        g_set_error (&a->error, G_IO_ERROR, G_IO_ERROR_FAILED, "spice: cannot listen on %s",
                     o->unix_path);
      else
        g_set_error (&a->error, G_IO_ERROR, G_IO_ERROR_FAILED, "spice: cannot listen on %s port %d",
                     o->addr, o->port);
      spice_server_destroy (sd->server);
      sd->server = NULL;
      return;
    }

  sd->qxl.base.sif = &qxl_iface.base;
  sd->qxl.id = 0;
  spice_server_add_interface (sd->server, &sd->qxl.base);
  sd->kbd.base.sif = &kbd_iface.base;
  spice_server_add_interface (sd->server, &sd->kbd.base);
  sd->mouse.base.sif = &mouse_iface.base;
  spice_server_add_interface (sd->server, &sd->mouse.base);

  QXLDevMemSlot slot = {
    .slot_group_id = 0,
    .slot_id = 0,
    .generation = 0,
    .virt_start = 0,
    .virt_end = ~(uintptr_t)0,
    .addr_delta = 0,
    .qxl_ram_size = ~0u,
  };
  spice_qxl_add_memslot (&sd->qxl, &slot);
  spice_server_vm_start (sd->server);

  if (sd->sink && sd->sink->leds)
    {
      sd->led_poll = g_timeout_source_new (250);
      g_source_set_callback (sd->led_poll, poll_leds, sd, NULL);
      g_source_attach (sd->led_poll, spice_core_loop_context ());
    }
}

static void
stop_on_core (gpointer data)
{
  SpiceDisplay *sd = data;
  if (sd->led_poll)
    {
      g_source_destroy (sd->led_poll);
      g_clear_pointer (&sd->led_poll, g_source_unref);
    }
  if (sd->server)
    {
      spice_server_vm_stop (sd->server);
      if (sd->primary)
        spice_qxl_destroy_primary_surface (&sd->qxl, 0);
      sd->primary = false;
      /* spice-server 0.15 cannot remove input interfaces; destroy leaves
       * their few bytes of state behind (a known, bounded leak). */
      spice_server_destroy (sd->server);
      sd->server = NULL;
    }
}

SpiceDisplay *
spice_display_new (VmmDisplay *display, const InputSink *sink, const SpiceOptions *opts,
                   GError **error)
{
  if (opts->unix_path)
    {
      /* A stale socket from a crashed helper would block the listen; only
       * ever remove sockets, never other files. */
      struct stat st;
      if (lstat (opts->unix_path, &st) == 0)
        {
          if (!S_ISSOCK (st.st_mode))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                           "spice: %s exists and is not a socket", opts->unix_path);
              return NULL;
            }
          unlink (opts->unix_path);
        }
    }

  SpiceDisplay *sd = g_new0 (SpiceDisplay, 1);
  sd->listener = (DisplayListener){ on_surface_changed, on_update };
  sd->display = display;
  sd->sink = sink;
  g_mutex_init (&sd->lock);
  g_queue_init (&sd->queue);
  set1_decoder_init (&sd->decoder);

  StartArgs a = { .sd = sd, .opts = opts, .core = spice_core_loop_acquire () };
  run_on_core (start_on_core, &a);
  if (a.error)
    {
      g_propagate_error (error, a.error);
      spice_core_loop_release ();
      g_mutex_clear (&sd->lock);
      g_free (sd);
      return NULL;
    }
  vmm_display_add_listener (display, &sd->listener);
  return sd;
}

void
spice_display_free (SpiceDisplay *sd)
{
  if (!sd)
    return;
  vmm_display_remove_listener (sd->display, &sd->listener);
  run_on_core (stop_on_core, sd);
  spice_core_loop_release ();
  drop_queue (sd);
  g_free (sd->primary_mem);
  g_mutex_clear (&sd->lock);
  g_free (sd);
}

guint64
spice_display_draw_count (SpiceDisplay *sd)
{
  g_mutex_lock (&sd->lock);
  guint64 n = sd->draws;
  g_mutex_unlock (&sd->lock);
  return n;
}
