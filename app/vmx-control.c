/* org.vireo.VM1 for vireo-vmx: method handlers, properties and signals
 * over the machine, the display export and the i8042. */
#include "config.h"

#include "app/vmx-control.h"

#include <gio/gunixfdlist.h>

#include "display/screenshot.h"
#include "display/shm-export.h"
#include "vireo-dbus-transport.h"
#include "vireo-dbus-vm1.h"

/* Evdev codes for Ctrl+Alt+Del. */
#define KEY_LEFTCTRL 29
#define KEY_LEFTALT 56
#define KEY_DELETE 111

/* D-Bus pointer buttons (docs/dbus-interface.md). */
#define BTN_LEFT_BIT 0x01u
#define BTN_MIDDLE_BIT 0x02u
#define BTN_RIGHT_BIT 0x04u
#define BTN_WHEEL_UP_BIT 0x08u
#define BTN_WHEEL_DOWN_BIT 0x10u

/* Relative motion per call; more is a hostile or confused client. */
#define MAX_REL_MOTION 4096

/* How long a stopped helper lingers so every peer gets StateChanged. */
#define EXIT_DELAY_MS 200

struct VmxControl
{
  gint refs; /* marshalled state changes hold one */
  bool dead;
  Machine *m;
  GMainContext *context;
  VireoDBusVM1 *skeleton;
  VireoDBusTransport *transport;

  DisplaySetup *ds;
  SnapshotTree *snapshots;
  const VmDisks *disks;
  DisplayShmExport *shm;
  DisplaySurface surface; /* as last published */
  I8042Sink sink;

  GThread *run_thread;
  bool has_run;
  bool power_off_requested;
  unsigned resets_requested; /* Reset calls whose machine callback is due */
  int exit_status;

  int ptr_x, ptr_y;
  unsigned buttons;

  VmxControlFinished finished;
  void *finished_data;
  guint finish_source;
  bool finish_scheduled;
};

static VmxControl *
ctl_ref (VmxControl *ctl)
{
  g_atomic_int_inc (&ctl->refs);
  return ctl;
}

static void
ctl_unref (VmxControl *ctl)
{
  if (!g_atomic_int_dec_and_test (&ctl->refs))
    return;
  g_main_context_unref (ctl->context);
  g_free (ctl);
}

/* ---- errors and state ---- */

static void
return_error (GDBusMethodInvocation *inv, const char *name, const char *fmt, ...)
  G_GNUC_PRINTF (3, 4);

static void
return_error (GDBusMethodInvocation *inv, const char *name, const char *fmt, ...)
{
  g_autofree char *full = g_strconcat ("org.vireo.VM1.Error.", name, NULL);
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_dbus_method_invocation_return_dbus_error (inv, full, msg);
}

static const char *
current_state (VmxControl *ctl)
{
  return vireo_dbus_vm1_get_state (ctl->skeleton);
}

static bool
state_is (VmxControl *ctl, const char *state)
{
  return g_strcmp0 (current_state (ctl), state) == 0;
}

static gboolean
finish_now (gpointer data)
{
  VmxControl *ctl = data;

  ctl->finish_source = 0;
  if (ctl->finished)
    ctl->finished (ctl->finished_data, ctl->exit_status);
  return G_SOURCE_REMOVE;
}

static void
schedule_finish (VmxControl *ctl, unsigned delay_ms)
{
  if (ctl->finish_scheduled)
    return;
  ctl->finish_scheduled = true;
  GSource *src = g_timeout_source_new (delay_ms);
  g_source_set_callback (src, finish_now, ctl, NULL);
  ctl->finish_source = g_source_attach (src, ctl->context);
  g_source_unref (src);
}

/* Properties first (flushed), then the signal: the ordering guarantee. */
static void
set_state (VmxControl *ctl, const char *state, const char *reason)
{
  vireo_dbus_vm1_set_state (ctl->skeleton, state);
  vireo_dbus_vm1_set_state_reason (ctl->skeleton, reason);
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (ctl->skeleton));
  vireo_dbus_vm1_emit_state_changed (ctl->skeleton, state, reason);
  if (strcmp (state, "running") == 0)
    ctl->has_run = true;
  if (strcmp (state, "stopped") == 0 && ctl->has_run)
    schedule_finish (ctl, EXIT_DELAY_MS);
}

static bool
require_state (VmxControl *ctl, GDBusMethodInvocation *inv, const char *a, const char *b,
               const char *c)
{
  const char *s = current_state (ctl);

  if (g_strcmp0 (s, a) == 0 || (b && g_strcmp0 (s, b) == 0) || (c && g_strcmp0 (s, c) == 0))
    return true;
  if (strcmp (s, "stopped") == 0 && ctl->has_run)
    return_error (inv, "InvalidState", "The VM helper is exiting");
  else
    return_error (inv, "InvalidState", "The VM is %s", s);
  return false;
}

/* Joins the machine thread once machine_run() returned or is about to. */
static void
join_machine (VmxControl *ctl)
{
  if (!ctl->run_thread)
    return;
  ctl->exit_status = GPOINTER_TO_INT (g_thread_join (ctl->run_thread));
  ctl->run_thread = NULL;
}

/* The machine stopped by itself or on request: publish why. */
static void
publish_stopped (VmxControl *ctl)
{
  bool was_shutting_down = state_is (ctl, "shutting-down");
  g_autofree char *reason = NULL;
  const char *state = "stopped";

  join_machine (ctl);
  if (state_is (ctl, "stopped"))
    return;
  switch (ctl->exit_status)
    {
    case MACHINE_EXIT_POWEROFF:
      reason = g_strdup (ctl->power_off_requested ? "Powered off"
                         : was_shutting_down     ? "Guest shut down"
                                                 : "Guest powered off");
      break;
    case MACHINE_EXIT_ENGINE_ERROR:
      state = "crashed";
      reason = g_strdup ("The engine failed while running the guest");
      break;
    case MACHINE_EXIT_TRIPLE_FAULT:
      state = "crashed";
      reason = g_strdup ("Triple fault");
      break;
    default:
      reason = g_strdup_printf ("The guest exited with status %d", ctl->exit_status);
      break;
    }
  set_state (ctl, state, reason);
  if (strcmp (state, "crashed") == 0)
    schedule_finish (ctl, EXIT_DELAY_MS);
}

static void
power_off (VmxControl *ctl)
{
  ctl->power_off_requested = true;
  machine_request_poweroff (ctl->m);
  publish_stopped (ctl);
}

/* ---- machine callbacks, marshalled ---- */

typedef struct
{
  VmxControl *ctl;
  MachineState state;
  bool reset;
} StateMsg;

static void
state_msg_free (gpointer data)
{
  StateMsg *msg = data;
  ctl_unref (msg->ctl);
  g_free (msg);
}

/* Re-reads the machine's state rather than trusting the message: messages
 * queue behind method handlers that already published the same change.
 * Only the machine's last message (stopped) publishes the end, so a guest
 * reset just before it is still reported first. */
static gboolean
apply_machine_state (gpointer data)
{
  StateMsg *msg = data;
  VmxControl *ctl = msg->ctl;

  if (ctl->dead)
    return G_SOURCE_REMOVE;
  if (msg->reset)
    {
      if (ctl->resets_requested > 0)
        ctl->resets_requested--;
      else if (ctl->run_thread)
        set_state (ctl, current_state (ctl), "Guest reset");
    }
  /* Then catch up with the machine. */
  switch (machine_get_state (ctl->m))
    {
    case MACHINE_STATE_RUNNING:
      if (state_is (ctl, "paused"))
        set_state (ctl, "running", "Resumed");
      break;
    case MACHINE_STATE_PAUSED:
      if (state_is (ctl, "running") || state_is (ctl, "shutting-down"))
        set_state (ctl, "paused", "Paused");
      break;
    case MACHINE_STATE_STOPPED:
      if (msg->state == MACHINE_STATE_STOPPED && ctl->run_thread)
        publish_stopped (ctl);
      break;
    case MACHINE_STATE_CREATED:
      break;
    }
  return G_SOURCE_REMOVE;
}

static void
on_machine_state (Machine *m, MachineState state, bool reset, void *opaque)
{
  VmxControl *ctl = opaque;
  StateMsg *msg = g_new0 (StateMsg, 1);

  msg->ctl = ctl_ref (ctl);
  msg->state = state;
  msg->reset = reset;
  /* Always a new source, never run inline: the callback may come from
   * machine_pause() inside a method handler. */
  GSource *src = g_idle_source_new ();
  g_source_set_priority (src, G_PRIORITY_DEFAULT);
  g_source_set_callback (src, apply_machine_state, msg, state_msg_free);
  g_source_attach (src, ctl->context);
  g_source_unref (src);
}

static gpointer
machine_thread (gpointer data)
{
  return GINT_TO_POINTER (machine_run (data));
}

/* ---- power methods ---- */

bool
vmx_control_start (VmxControl *ctl, GError **error)
{
  if (ctl->has_run || ctl->run_thread)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The VM helper is exiting");
      return false;
    }
  if (!machine_start (ctl->m, error))
    return false;
  ctl->run_thread = g_thread_new ("machine", machine_thread, ctl->m);
  set_state (ctl, "running", "Started");
  return true;
}

static gboolean
handle_start (VireoDBusVM1 *s, GDBusMethodInvocation *inv, VmxControl *ctl)
{
  g_autoptr (GError) error = NULL;

  if (!require_state (ctl, inv, "stopped", NULL, NULL))
    return TRUE;
  if (ctl->has_run)
    {
      /* A helper runs its VM once; it is on its way out. */
      return_error (inv, "InvalidState", "The VM helper is exiting");
      return TRUE;
    }
  if (!vmx_control_start (ctl, &error))
    {
      return_error (inv, "Failed", "%s", error->message);
      return TRUE;
    }
  vireo_dbus_vm1_complete_start (s, inv);
  return TRUE;
}

static gboolean
handle_pause (VireoDBusVM1 *s, GDBusMethodInvocation *inv, VmxControl *ctl)
{
  if (!require_state (ctl, inv, "running", NULL, NULL))
    return TRUE;
  machine_pause (ctl->m);
  set_state (ctl, "paused", "Paused");
  vireo_dbus_vm1_complete_pause (s, inv);
  return TRUE;
}

static gboolean
handle_resume (VireoDBusVM1 *s, GDBusMethodInvocation *inv, VmxControl *ctl)
{
  if (!require_state (ctl, inv, "paused", NULL, NULL))
    return TRUE;
  machine_resume (ctl->m);
  set_state (ctl, "running", "Resumed");
  vireo_dbus_vm1_complete_resume (s, inv);
  return TRUE;
}

static gboolean
handle_reset (VireoDBusVM1 *s, GDBusMethodInvocation *inv, VmxControl *ctl)
{
  if (!require_state (ctl, inv, "running", "paused", NULL))
    return TRUE;
  ctl->resets_requested++;
  machine_request_reset (ctl->m);
  if (state_is (ctl, "paused"))
    machine_resume (ctl->m); /* the reset itself runs with every vCPU parked */
  set_state (ctl, "running", "Reset");
  vireo_dbus_vm1_complete_reset (s, inv);
  return TRUE;
}

static gboolean
handle_power_off (VireoDBusVM1 *s, GDBusMethodInvocation *inv, VmxControl *ctl)
{
  if (!require_state (ctl, inv, "running", "paused", "shutting-down"))
    return TRUE;
  power_off (ctl);
  vireo_dbus_vm1_complete_power_off (s, inv);
  return TRUE;
}

static gboolean
handle_shutdown (VireoDBusVM1 *s, GDBusMethodInvocation *inv, VmxControl *ctl)
{
  if (!require_state (ctl, inv, "running", NULL, NULL))
    return TRUE;
  if (!machine_press_power_button (ctl->m))
    {
      return_error (inv, "NotSupported",
                    "The guest does not listen to the ACPI power button; use PowerOff");
      return TRUE;
    }
  set_state (ctl, "shutting-down", "Power button pressed");
  vireo_dbus_vm1_complete_shutdown (s, inv);
  return TRUE;
}

/* ---- input ---- */

static gboolean
handle_send_key (VireoDBusVM1 *s, GDBusMethodInvocation *inv, guint keycode, gboolean down,
                 VmxControl *ctl)
{
  if (keycode == PC_KEYCODE_NONE || keycode > PC_KEYCODE_MAX)
    {
      return_error (inv, "InvalidArgs", "Key code %u is not an evdev key", keycode);
      return TRUE;
    }
  input_sink_key (&ctl->sink.sink, (PcKeycode) keycode, down);
  vireo_dbus_vm1_complete_send_key (s, inv);
  return TRUE;
}

static gboolean
handle_send_ctrl_alt_del (VireoDBusVM1 *s, GDBusMethodInvocation *inv, VmxControl *ctl)
{
  const InputSink *sink = &ctl->sink.sink;

  input_sink_key (sink, KEY_LEFTCTRL, true);
  input_sink_key (sink, KEY_LEFTALT, true);
  input_sink_key (sink, KEY_DELETE, true);
  input_sink_key (sink, KEY_DELETE, false);
  input_sink_key (sink, KEY_LEFTALT, false);
  input_sink_key (sink, KEY_LEFTCTRL, false);
  vireo_dbus_vm1_complete_send_ctrl_alt_del (s, inv);
  return TRUE;
}

/* D-Bus mask → the PS/2 mouse's (bit 0 left, 1 right, 2 middle) plus one
 * wheel notch per wheel bit newly set. */
static void
send_mouse (VmxControl *ctl, int dx, int dy, unsigned buttons)
{
  unsigned pressed = buttons & ~ctl->buttons;
  unsigned ps2 = (buttons & BTN_LEFT_BIT ? 1u : 0) | (buttons & BTN_RIGHT_BIT ? 2u : 0)
                 | (buttons & BTN_MIDDLE_BIT ? 4u : 0);
  int dz = (pressed & BTN_WHEEL_DOWN_BIT ? 1 : 0) - (pressed & BTN_WHEEL_UP_BIT ? 1 : 0);

  ctl->buttons = buttons;
  input_sink_mouse (&ctl->sink.sink, dx, dy, dz, ps2);
}

static gboolean
handle_send_pointer (VireoDBusVM1 *s, GDBusMethodInvocation *inv, int x, int y, guint buttons,
                     VmxControl *ctl)
{
  /* No absolute device yet: the PS/2 mouse moves by the difference, which
   * tracks as long as the guest applies no acceleration. */
  int w = (int) MIN (ctl->surface.width, (uint32_t) G_MAXINT);
  int h = (int) MIN (ctl->surface.height, (uint32_t) G_MAXINT);
  x = CLAMP (x, 0, MAX (w - 1, 0));
  y = CLAMP (y, 0, MAX (h - 1, 0));
  send_mouse (ctl, x - ctl->ptr_x, y - ctl->ptr_y, buttons);
  ctl->ptr_x = x;
  ctl->ptr_y = y;
  vireo_dbus_vm1_complete_send_pointer (s, inv);
  return TRUE;
}

static gboolean
handle_send_pointer_relative (VireoDBusVM1 *s, GDBusMethodInvocation *inv, int dx, int dy,
                              guint buttons, VmxControl *ctl)
{
  send_mouse (ctl, CLAMP (dx, -MAX_REL_MOTION, MAX_REL_MOTION),
              CLAMP (dy, -MAX_REL_MOTION, MAX_REL_MOTION), buttons);
  vireo_dbus_vm1_complete_send_pointer_relative (s, inv);
  return TRUE;
}

/* ---- display ---- */

static void
publish_geometry (VmxControl *ctl, const DisplaySurface *surf)
{
  uint32_t fourcc = display_format_fourcc (surf->format);
  bool changed = vireo_dbus_vm1_get_display_width (ctl->skeleton) != surf->width
                 || vireo_dbus_vm1_get_display_height (ctl->skeleton) != surf->height
                 || vireo_dbus_vm1_get_display_stride (ctl->skeleton) != surf->stride
                 || vireo_dbus_vm1_get_display_format (ctl->skeleton) != fourcc;

  ctl->surface = *surf;
  if (!changed)
    return;
  vireo_dbus_vm1_set_display_width (ctl->skeleton, surf->width);
  vireo_dbus_vm1_set_display_height (ctl->skeleton, surf->height);
  vireo_dbus_vm1_set_display_stride (ctl->skeleton, surf->stride);
  vireo_dbus_vm1_set_display_format (ctl->skeleton, fourcc);
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (ctl->skeleton));
  vireo_dbus_vm1_emit_display_resized (ctl->skeleton, surf->width, surf->height, surf->stride,
                                       fourcc);
}

static void
on_surface_changed (void *opaque, const DisplaySurface *s)
{
  publish_geometry (opaque, s);
}

static void
on_damage (void *opaque, const DisplayRect *rects, size_t n)
{
  VmxControl *ctl = opaque;
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(iiii)"));
  for (size_t i = 0; i < n; i++)
    g_variant_builder_add (&b, "(iiii)", (gint32) MIN (rects[i].x, (uint32_t) G_MAXINT32),
                           (gint32) MIN (rects[i].y, (uint32_t) G_MAXINT32),
                           (gint32) MIN (rects[i].w, (uint32_t) G_MAXINT32),
                           (gint32) MIN (rects[i].h, (uint32_t) G_MAXINT32));
  vireo_dbus_vm1_emit_display_damage (ctl->skeleton, g_variant_builder_end (&b));
}

/* The device's surface right now (the hub's may lag a refresh). */
static void
device_surface (VmxControl *ctl, DisplaySurface *out)
{
  g_mutex_lock (machine_device_lock (ctl->m));
  bochs_display_surface (&ctl->ds->device, out);
  g_mutex_unlock (machine_device_lock (ctl->m));
}

static gboolean
handle_get_display (VireoDBusVM1 *s, GDBusMethodInvocation *inv, GUnixFDList *unused,
                    VmxControl *ctl)
{
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GError) error = NULL;
  const DisplaySurface *surf = &ctl->surface;

  if (!ctl->ds)
    {
      return_error (inv, "NotSupported", "This VM has no display");
      return TRUE;
    }
  if (surf->format == DISPLAY_FORMAT_NONE || surf->fd < 0)
    {
      return_error (inv, "Failed", "The guest display is off");
      return TRUE;
    }
  fds = g_unix_fd_list_new ();
  int index = g_unix_fd_list_append (fds, surf->fd, &error); /* dups */
  if (index < 0)
    {
      return_error (inv, "Failed", "Cannot pass the framebuffer: %s", error->message);
      return TRUE;
    }
  vireo_dbus_vm1_complete_get_display (s, inv, fds, g_variant_new_handle (index), surf->width,
                                       surf->height, surf->stride,
                                       display_format_fourcc (surf->format));
  return TRUE;
}

static gboolean
handle_screenshot (VireoDBusVM1 *s, GDBusMethodInvocation *inv, const char *path,
                   VmxControl *ctl)
{
  g_autoptr (GError) error = NULL;
  DisplaySurface surf;

  if (!g_path_is_absolute (path))
    {
      return_error (inv, "InvalidArgs", "The path must be absolute");
      return TRUE;
    }
  if (!ctl->ds)
    {
      return_error (inv, "NotSupported", "This VM has no display");
      return TRUE;
    }
  device_surface (ctl, &surf);
  if (surf.format == DISPLAY_FORMAT_NONE)
    {
      return_error (inv, "Failed", "The guest display is off");
      return TRUE;
    }
  if (!display_screenshot_png_file (&surf, path, &error))
    {
      return_error (inv, "Failed", "%s", error->message);
      return TRUE;
    }
  vireo_dbus_vm1_complete_screenshot (s, inv);
  return TRUE;
}

/* ---- snapshots (vmm-core/snapshot/vm-snapshot.h) ---- */

static bool
snapshots_ready (VmxControl *ctl, GDBusMethodInvocation *inv)
{
  if (ctl->snapshots)
    return true;
  return_error (inv, "NotSupported", "Snapshots need a VM with a disk");
  return false;
}

static void
return_snapshot_error (GDBusMethodInvocation *inv, const GError *error)
{
  /* The tree says "no snapshot ID" for an unknown id: the caller's fault. */
  bool unknown = g_str_has_prefix (error->message, "no snapshot ")
                 || strstr (error->message, ": no snapshot ") != NULL;
  return_error (inv, unknown ? "InvalidArgs" : "Failed", "%s", error->message);
}

static gboolean
handle_take_snapshot (VireoDBusVM1 *s, GDBusMethodInvocation *inv, const char *name,
                      const char *description, VmxControl *ctl)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) thumbnail = NULL;

  if (!snapshots_ready (ctl, inv) || !require_state (ctl, inv, "running", "paused", NULL))
    return TRUE;
  if (!g_utf8_validate (name, -1, NULL) || !*name)
    {
      return_error (inv, "InvalidArgs", "A snapshot needs a name");
      return TRUE;
    }
  if (ctl->ds)
    {
      DisplaySurface surf;
      device_surface (ctl, &surf);
      if (surf.format != DISPLAY_FORMAT_NONE)
        thumbnail = display_screenshot_png_bytes (&surf, NULL); /* optional */
    }
  g_autofree char *id = vm_snapshot_take (ctl->m, ctl->disks, ctl->snapshots, name, description,
                                           thumbnail, NULL, &error);
  if (!id)
    {
      return_snapshot_error (inv, error);
      return TRUE;
    }
  vireo_dbus_vm1_complete_take_snapshot (s, inv, id);
  return TRUE;
}

static gboolean
handle_revert_snapshot (VireoDBusVM1 *s, GDBusMethodInvocation *inv, const char *id,
                        VmxControl *ctl)
{
  g_autoptr (GError) error = NULL;

  if (!snapshots_ready (ctl, inv) || !require_state (ctl, inv, "running", "paused", NULL))
    return TRUE;
  if (!vm_snapshot_revert (ctl->m, ctl->disks, ctl->snapshots, id, NULL, &error))
    {
      return_snapshot_error (inv, error);
      return TRUE;
    }
  if (ctl->ds)
    vmm_display_invalidate (display_setup_hub (ctl->ds)); /* VRAM came back too */
  set_state (ctl, current_state (ctl), "Reverted to a snapshot");
  vireo_dbus_vm1_complete_revert_snapshot (s, inv);
  return TRUE;
}

static gboolean
handle_delete_snapshot (VireoDBusVM1 *s, GDBusMethodInvocation *inv, const char *id,
                        VmxControl *ctl)
{
  g_autoptr (GError) error = NULL;

  if (!snapshots_ready (ctl, inv))
    return TRUE;
  /* A machine that no longer runs has nothing to pause. */
  Machine *m = ctl->run_thread ? ctl->m : NULL;
  if (!vm_snapshot_delete (m, ctl->disks, ctl->snapshots, id, &error))
    {
      return_snapshot_error (inv, error);
      return TRUE;
    }
  vireo_dbus_vm1_complete_delete_snapshot (s, inv);
  return TRUE;
}

static gboolean
handle_list_snapshots (VireoDBusVM1 *s, GDBusMethodInvocation *inv, VmxControl *ctl)
{
  GVariantBuilder b;

  if (!snapshots_ready (ctl, inv))
    return TRUE;
  const char *current = snapshot_tree_get_current (ctl->snapshots);
  GPtrArray *nodes = snapshot_tree_list (ctl->snapshots);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ssssxb)"));
  for (guint i = 0; i < nodes->len; i++)
    {
      const SnapshotNode *n = g_ptr_array_index (nodes, i);
      g_variant_builder_add (&b, "(ssssxb)", n->id, n->parent ? n->parent : "",
                             n->name ? n->name : "", n->description ? n->description : "",
                             (gint64) n->created, g_strcmp0 (n->id, current) == 0);
    }
  vireo_dbus_vm1_complete_list_snapshots (s, inv, g_variant_builder_end (&b));
  return TRUE;
}

/* ---- lifetime ---- */

static gboolean
power_off_idle (gpointer data)
{
  VmxControl *ctl = data;

  if (ctl->dead)
    return G_SOURCE_REMOVE;
  if (ctl->run_thread)
    power_off (ctl);
  else if (!ctl->has_run)
    schedule_finish (ctl, 0); /* nothing ran: just exit */
  return G_SOURCE_REMOVE;
}

void
vmx_control_request_power_off (VmxControl *ctl)
{
  GSource *src = g_idle_source_new ();
  g_source_set_callback (src, power_off_idle, ctl_ref (ctl), (GDestroyNotify) ctl_unref);
  g_source_attach (src, ctl->context);
  g_source_unref (src);
}

static void
on_control_closed (gpointer data)
{
  /* The app went away: power off and exit. */
  power_off_idle (data);
}

int
vmx_control_exit_status (VmxControl *ctl)
{
  return ctl->exit_status;
}

VmxControl *
vmx_control_new (Machine *m, const VmxControlOptions *opts, GError **error)
{
  VmxControl *ctl = g_new0 (VmxControl, 1);
  Engine *engine = machine_engine (m);

  ctl->refs = 1;
  ctl->m = m;
  ctl->context = g_main_context_ref_thread_default ();
  ctl->ds = opts->display;
  if (opts->snapshots && opts->disks)
    {
      ctl->snapshots = opts->snapshots;
      ctl->disks = opts->disks;
    }
  ctl->finished = opts->finished;
  ctl->finished_data = opts->finished_data;
  ctl->surface.fd = -1;
  i8042_sink_init (&ctl->sink, machine_i8042 (m), machine_device_lock (m));

  ctl->skeleton = vireo_dbus_vm1_skeleton_new ();
  vireo_dbus_vm1_set_state (ctl->skeleton, "stopped");
  vireo_dbus_vm1_set_state_reason (ctl->skeleton, "");
  vireo_dbus_vm1_set_engine (ctl->skeleton, engine && engine->ops->name ? engine->ops->name : "");
  vireo_dbus_vm1_set_engine_reason (ctl->skeleton,
                                    opts->engine_reason ? opts->engine_reason : "");
  if (ctl->ds)
    {
      DisplaySurface surf;
      device_surface (ctl, &surf);
      publish_geometry (ctl, &surf);
      DisplayShmCallbacks cb = { on_surface_changed, on_damage, ctl };
      ctl->shm = display_shm_export_new (display_setup_hub (ctl->ds), &cb, ctl->context);
    }

#define H(sig, fn) g_signal_connect (ctl->skeleton, sig, G_CALLBACK (fn), ctl)
  H ("handle-start", handle_start);
  H ("handle-pause", handle_pause);
  H ("handle-resume", handle_resume);
  H ("handle-reset", handle_reset);
  H ("handle-power-off", handle_power_off);
  H ("handle-shutdown", handle_shutdown);
  H ("handle-screenshot", handle_screenshot);
  H ("handle-send-key", handle_send_key);
  H ("handle-send-pointer", handle_send_pointer);
  H ("handle-send-pointer-relative", handle_send_pointer_relative);
  H ("handle-send-ctrl-alt-del", handle_send_ctrl_alt_del);
  H ("handle-get-display", handle_get_display);
  H ("handle-take-snapshot", handle_take_snapshot);
  H ("handle-revert-snapshot", handle_revert_snapshot);
  H ("handle-delete-snapshot", handle_delete_snapshot);
  H ("handle-list-snapshots", handle_list_snapshots);
#undef H

  machine_set_state_callback (m, on_machine_state, ctl);
  ctl->transport = vireo_dbus_transport_new (G_DBUS_INTERFACE_SKELETON (ctl->skeleton),
                                             VMX_CONTROL_OBJECT_PATH);
  if (opts->control_fd >= 0
      && !vireo_dbus_transport_add_control_fd (ctl->transport, opts->control_fd,
                                               on_control_closed, ctl, error))
    {
      g_prefix_error (error, "control connection: ");
      vmx_control_free (ctl);
      return NULL;
    }
  if (opts->socket_path && !vireo_dbus_transport_listen (ctl->transport, opts->socket_path, error))
    {
      g_prefix_error (error, "%s: ", opts->socket_path);
      vmx_control_free (ctl);
      return NULL;
    }
  return ctl;
}

void
vmx_control_free (VmxControl *ctl)
{
  if (!ctl)
    return;
  if (ctl->run_thread)
    {
      machine_request_poweroff (ctl->m);
      join_machine (ctl);
    }
  ctl->dead = true;
  machine_set_state_callback (ctl->m, NULL, NULL);
  if (ctl->finish_source)
    {
      GSource *src = g_main_context_find_source_by_id (ctl->context, ctl->finish_source);
      if (src)
        g_source_destroy (src);
    }
  g_clear_pointer (&ctl->shm, display_shm_export_free);
  g_clear_pointer (&ctl->transport, vireo_dbus_transport_free);
  g_clear_object (&ctl->skeleton);
  ctl_unref (ctl);
}
