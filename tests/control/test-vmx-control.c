/* vireo-vmx's org.vireo.VM1 server (app/vmx-control.c) over a real machine
 * running a tiny guest under the software engine: power methods and their
 * StateChanged signals, the per-VM socket, keys reaching the i8042, the
 * framebuffer memfd and its damage, PNG screenshots, the ACPI power button.
 *
 * The server runs in a thread of its own with its own GMainContext (as
 * vireo-vmx's main thread does); the test is the client in the main thread
 * with the generated proxy and synchronous calls. */
#include "config.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>

#include "app/vmx-control.h"
#include "input/i8042.h"
#include "vireo-dbus-vm1.h"

#define COUNTER_GPA 0x400000
#define XRGB8888 0x34325258u

typedef struct {
  char *tmp;
  char *serial_path;
  char *socket_path;
  Machine *m;
  DisplaySetup *ds;
  SnapshotTree *tree; /* with a one-disk VmDisks over disk_bs */
  BlockDev *disk_bs;
  VmDisks disks;

  /* The server thread. */
  GThread *thread;
  GMainContext *server_context;
  GMainLoop *server_loop;
  VmxControl *ctl;
  int server_fd;
  GMutex lock;
  GCond cond;
  bool ready;
  GError *server_error;
  gint finished;  /* atomic: the finished callback ran */
  int finished_status;

  GDBusConnection *connection;
  VireoDBusVM1 *proxy;
  GPtrArray *states; /* "state/reason" of every StateChanged */
  guint damage_signals;
  GPtrArray *damage; /* GVariant a(iiii) */
} Fixture;

/* Stands in for virtio-blk: one disk slot. */
static BlockDev *
swap_disk (void *opaque, guint i, BlockDev *bs)
{
  Fixture *f = opaque;
  BlockDev *old = f->disk_bs;
  f->disk_bs = bs;
  return old;
}

static void
on_finished (void *opaque, int status)
{
  Fixture *f = opaque;
  f->finished_status = status;
  g_atomic_int_set (&f->finished, 1);
}

static gpointer
server_thread (gpointer data)
{
  Fixture *f = data;

  g_main_context_push_thread_default (f->server_context);
  VmxControlOptions opts = { .control_fd = f->server_fd, .socket_path = f->socket_path,
                             .vm_id = "test", .engine_reason = "test", .display = f->ds,
                             .snapshots = f->tree, .disks = &f->disks,
                             .finished = on_finished, .finished_data = f };
  VmxControl *ctl = vmx_control_new (f->m, &opts, &f->server_error);
  g_mutex_lock (&f->lock);
  f->ctl = ctl;
  f->ready = true;
  g_cond_signal (&f->cond);
  g_mutex_unlock (&f->lock);
  if (ctl)
    g_main_loop_run (f->server_loop);
  vmx_control_free (ctl);
  g_main_context_pop_thread_default (f->server_context);
  return NULL;
}

static void
on_state_changed (VireoDBusVM1 *proxy, const char *state, const char *reason, Fixture *f)
{
  g_ptr_array_add (f->states, g_strdup_printf ("%s/%s", state, reason));
}

static void
on_damage (VireoDBusVM1 *proxy, GVariant *rects, Fixture *f)
{
  f->damage_signals++;
  g_ptr_array_add (f->damage, g_variant_ref (rects));
}

/* Dispatches what has arrived (signals, property changes). */
static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static bool
setup_full (Fixture *f, const char *guest_env, bool snapshots)
{
  g_autoptr (GError) error = NULL;
  const char *guest = g_getenv (guest_env);
  g_assert_nonnull (guest);

  f->tmp = g_dir_make_tmp ("vireo-control-XXXXXX", NULL);
  f->serial_path = g_build_filename (f->tmp, "serial", NULL);
  f->socket_path = g_build_filename (f->tmp, "run", "test.sock", NULL);
  if (snapshots)
    {
      g_autofree char *disk = g_build_filename (f->tmp, "disk.qcow2", NULL);
      const char *disks[] = { "disk.qcow2", NULL };
      g_assert_true (block_create_qcow2 (disk, 1 << 20, 0, NULL, NULL, &error));
      f->tree = snapshot_tree_load (f->tmp, disks, &error);
      g_assert_no_error (error);
      f->disk_bs = block_open (disk, "qcow2", 0, &error);
      g_assert_no_error (error);
      f->disks = (VmDisks){ .count = 1, .swap = swap_disk, .opaque = f };
    }
  g_autofree char *serial = g_strconcat ("file:", f->serial_path, NULL);
  MachineConfig cfg = { .ram_size = 64u << 20, .cpus = 1, .guest_elf = guest, .serial = serial,
                        .engine = ENGINE_KIND_SOFT, .test_device = true };
  f->m = machine_new (&cfg, NULL, &error);
  if (!f->m)
    {
      g_test_skip_printf ("no machine under the software engine: %s", error->message);
      return false;
    }
  DisplaySetupOptions dopts = { .display = "none" };
  f->ds = display_setup_new (machine_pci (f->m), machine_pio (f->m), machine_device_lock (f->m),
                             machine_i8042 (f->m), &dopts, &error);
  g_assert_no_error (error);

  int sv[2];
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
  f->server_fd = sv[0];
  g_mutex_init (&f->lock);
  g_cond_init (&f->cond);
  f->server_context = g_main_context_new ();
  f->server_loop = g_main_loop_new (f->server_context, FALSE);
  f->thread = g_thread_new ("server", server_thread, f);

  /* Authenticates against the server thread's vmx_control_new. */
  g_autoptr (GSocket) socket = g_socket_new_from_fd (sv[1], &error);
  g_assert_no_error (error);
  g_autoptr (GSocketConnection) stream = g_socket_connection_factory_create_connection (socket);
  f->connection = g_dbus_connection_new_sync (G_IO_STREAM (stream), NULL,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                              NULL, NULL, &error);
  g_assert_no_error (error);
  g_mutex_lock (&f->lock);
  while (!f->ready)
    g_cond_wait (&f->cond, &f->lock);
  g_mutex_unlock (&f->lock);
  g_assert_no_error (f->server_error);

  f->proxy = vireo_dbus_vm1_proxy_new_sync (f->connection, G_DBUS_PROXY_FLAGS_NONE, NULL,
                                            VMX_CONTROL_OBJECT_PATH, NULL, &error);
  g_assert_no_error (error);
  f->states = g_ptr_array_new_with_free_func (g_free);
  f->damage = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_signal_connect (f->proxy, "state-changed", G_CALLBACK (on_state_changed), f);
  g_signal_connect (f->proxy, "display-damage", G_CALLBACK (on_damage), f);
  return true;
}

/* The VM folder with its disks and snapshots/. */
static void
remove_tree (GFile *dir)
{
  g_autoptr (GFileEnumerator) e = g_file_enumerate_children (
    dir, G_FILE_ATTRIBUTE_STANDARD_NAME, G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  GFileInfo *info;
  GFile *child;
  while (e && g_file_enumerator_iterate (e, &info, &child, NULL, NULL) && info)
    {
      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        remove_tree (child);
      else
        g_file_delete (child, NULL, NULL);
    }
  g_file_delete (dir, NULL, NULL);
}

static void
teardown (Fixture *f)
{
  if (f->thread)
    {
      g_main_loop_quit (f->server_loop);
      g_thread_join (f->thread);
      g_main_loop_unref (f->server_loop);
      g_main_context_unref (f->server_context);
      g_mutex_clear (&f->lock);
      g_cond_clear (&f->cond);
    }
  g_clear_object (&f->proxy);
  if (f->connection)
    g_dbus_connection_close_sync (f->connection, NULL, NULL);
  g_clear_object (&f->connection);
  if (f->ds)
    display_setup_stop (f->ds);
  g_clear_pointer (&f->m, machine_free);
  g_clear_pointer (&f->ds, display_setup_free);
  g_clear_pointer (&f->disk_bs, block_close);
  g_clear_pointer (&f->tree, snapshot_tree_free);
  g_clear_pointer (&f->states, g_ptr_array_unref);
  g_clear_pointer (&f->damage, g_ptr_array_unref);
  g_unlink (f->serial_path);
  g_autofree char *run = g_path_get_dirname (f->socket_path);
  g_rmdir (run);
  g_autoptr (GFile) tmp = g_file_new_for_path (f->tmp);
  remove_tree (tmp);
  g_free (f->serial_path);
  g_free (f->socket_path);
  g_free (f->tmp);
}

static bool
setup (Fixture *f, const char *guest_env)
{
  return setup_full (f, guest_env, false);
}

static uint64_t
counter (Fixture *f)
{
  return *(volatile uint64_t *) guest_ram_ptr (machine_ram (f->m), COUNTER_GPA, 8);
}

static void
wait_counter_above (Fixture *f, uint64_t v)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  while (counter (f) <= v && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_assert_cmpuint (counter (f), >, v);
}

static unsigned
serial_count (Fixture *f, const char *needle)
{
  g_autofree char *text = NULL;
  unsigned n = 0;
  if (!g_file_get_contents (f->serial_path, &text, NULL, NULL))
    return 0;
  for (const char *p = text; (p = strstr (p, needle)); p += strlen (needle))
    n++;
  return n;
}

static void
wait_serial (Fixture *f, const char *needle, unsigned count)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  while (serial_count (f, needle) < count && g_get_monotonic_time () < deadline)
    g_usleep (5000);
  g_assert_cmpuint (serial_count (f, needle), >=, count);
}

static void
assert_remote_error (GError *error, const char *name)
{
  g_assert_nonnull (error);
  g_autofree char *remote = g_dbus_error_get_remote_error (error);
  if (g_strcmp0 (remote, name) != 0)
    g_test_message ("error: %s", error->message);
  g_assert_cmpstr (remote, ==, name);
}

static void
assert_last_state (Fixture *f, const char *expected)
{
  drain ();
  g_assert_cmpuint (f->states->len, >, 0);
  g_assert_cmpstr (g_ptr_array_index (f->states, f->states->len - 1), ==, expected);
}

/* The helper's last signals may still be on their way when it finishes. */
static void
assert_states (Fixture *f, const char *const *expected, guint n)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (f->states->len < n && g_get_monotonic_time () < deadline)
    {
      drain ();
      g_usleep (2000);
    }
  drain ();
  for (guint i = 0; i < f->states->len; i++)
    g_test_message ("state %u: %s", i, (char *) g_ptr_array_index (f->states, i));
  g_assert_cmpuint (f->states->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (g_ptr_array_index (f->states, i), ==, expected[i]);
}

static void
wait_finished (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (!g_atomic_int_get (&f->finished) && g_get_monotonic_time () < deadline)
    {
      drain ();
      g_usleep (5000);
    }
  g_assert_true (g_atomic_int_get (&f->finished));
}

/* Pause, Resume, Reset (running and paused), PowerOff; wrong states. */
static void
test_power_cycle (void)
{
  Fixture fx = { 0 }, *f = &fx;
  g_autoptr (GError) error = NULL;

  if (!setup (f, "VIREO_GUEST_COUNTER"))
    return;
  g_assert_cmpstr (vireo_dbus_vm1_get_state (f->proxy), ==, "stopped");
  g_assert_cmpstr (vireo_dbus_vm1_get_engine (f->proxy), ==, "soft");
  g_assert_false (vireo_dbus_vm1_call_pause_sync (f->proxy, NULL, &error));
  assert_remote_error (error, "org.vireo.VM1.Error.InvalidState");
  g_assert_nonnull (strstr (error->message, "The VM is stopped"));
  g_clear_error (&error);

  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  assert_last_state (f, "running/Started");
  g_assert_cmpstr (vireo_dbus_vm1_get_state (f->proxy), ==, "running");
  wait_counter_above (f, 1000);

  g_assert_true (vireo_dbus_vm1_call_pause_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  assert_last_state (f, "paused/Paused");
  g_assert_cmpstr (vireo_dbus_vm1_get_state (f->proxy), ==, "paused");
  g_assert_cmpint (machine_get_state (f->m), ==, MACHINE_STATE_PAUSED);
  uint64_t c = counter (f);
  g_usleep (50000);
  g_assert_cmpuint (counter (f), ==, c);
  g_assert_false (vireo_dbus_vm1_call_pause_sync (f->proxy, NULL, &error));
  assert_remote_error (error, "org.vireo.VM1.Error.InvalidState");
  g_clear_error (&error);

  g_assert_true (vireo_dbus_vm1_call_resume_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  assert_last_state (f, "running/Resumed");
  g_assert_cmpstr (vireo_dbus_vm1_get_state (f->proxy), ==, "running");
  wait_counter_above (f, c);

  /* A reset boots the guest again: it prints its banner a second time. */
  wait_serial (f, "counter: running", 1);
  g_assert_true (vireo_dbus_vm1_call_reset_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  assert_last_state (f, "running/Reset");
  wait_serial (f, "counter: running", 2);

  /* Reset while paused ends running. */
  g_assert_true (vireo_dbus_vm1_call_pause_sync (f->proxy, NULL, &error));
  g_assert_true (vireo_dbus_vm1_call_reset_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  assert_last_state (f, "running/Reset");
  g_assert_cmpstr (vireo_dbus_vm1_get_state (f->proxy), ==, "running");
  wait_serial (f, "counter: running", 3);
  g_assert_cmpint (machine_get_state (f->m), ==, MACHINE_STATE_RUNNING);

  g_assert_true (vireo_dbus_vm1_call_power_off_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  assert_last_state (f, "stopped/Powered off");
  g_assert_cmpstr (vireo_dbus_vm1_get_state (f->proxy), ==, "stopped");
  g_assert_cmpstr (vireo_dbus_vm1_get_state_reason (f->proxy), ==, "Powered off");
  g_assert_cmpint (machine_get_state (f->m), ==, MACHINE_STATE_STOPPED);

  /* A helper runs its VM once. */
  g_assert_false (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  assert_remote_error (error, "org.vireo.VM1.Error.InvalidState");
  g_assert_nonnull (strstr (error->message, "exiting"));
  g_clear_error (&error);
  wait_finished (f);
  g_assert_cmpint (f->finished_status, ==, 0);

  /* Exactly these changes, in this order, and no stray ones from the
   * machine's own callbacks. */
  const char *expected[] = { "running/Started", "paused/Paused", "running/Resumed",
                             "running/Reset", "paused/Paused", "running/Reset",
                             "stopped/Powered off" };
  assert_states (f, expected, G_N_ELEMENTS (expected));
  teardown (f);
}

static uint8_t
kbc_read_byte (Fixture *f, bool *got)
{
  I8042 *kbc = machine_i8042 (f->m);
  g_mutex_lock (machine_device_lock (f->m));
  *got = i8042_read (kbc, 4) & I8042_STR_OBF;
  uint8_t b = *got ? i8042_read (kbc, 0) : 0;
  g_mutex_unlock (machine_device_lock (f->m));
  return b;
}

static GByteArray *
kbc_drain (Fixture *f)
{
  GByteArray *bytes = g_byte_array_new ();
  bool got;
  for (int i = 0; i < 64; i++)
    {
      uint8_t b = kbc_read_byte (f, &got);
      if (!got)
        break;
      g_byte_array_append (bytes, &b, 1);
    }
  return bytes;
}

/* True once a DisplayDamage rectangle covers (x, y); with band_only, only
 * rectangles smaller than the screen count (the hub's first refresh reports
 * the whole screen). */
static bool
damage_covers_band (Fixture *f, int x, int y, bool band_only)
{
  for (guint i = 0; i < f->damage->len; i++)
    {
      GVariantIter it;
      gint32 rx, ry, rw, rh;
      g_variant_iter_init (&it, g_ptr_array_index (f->damage, i));
      while (g_variant_iter_next (&it, "(iiii)", &rx, &ry, &rw, &rh))
        if (x >= rx && x < rx + rw && y >= ry && y < ry + rh && (!band_only || rh < 768))
          return true;
    }
  return false;
}

static bool
damage_covers (Fixture *f, int x, int y)
{
  return damage_covers_band (f, x, y, false);
}

/* Every line of [y0, y1) reported as its own band. */
static bool
damage_covers_lines (Fixture *f, int x, int y0, int y1)
{
  for (int y = y0; y < y1; y++)
    if (!damage_covers_band (f, x, y, true))
      return false;
  return true;
}

static uint32_t
pattern (uint32_t x, uint32_t y)
{
  return (x * 7 & 0xff) << 16 | (y * 3 & 0xff) << 8 | ((x ^ y) & 0xff);
}

/* The second client on the socket, keys, the framebuffer, screenshots,
 * snapshot stubs, and the app closing its connection. */
static void
test_clients_input_display (void)
{
  Fixture fx = { 0 }, *f = &fx;
  g_autoptr (GError) error = NULL;

  if (!setup (f, "VIREO_GUEST_COUNTER"))
    return;
  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);

  /* vireo-run's way in. */
  g_autofree char *address = g_strconcat ("unix:path=", f->socket_path, NULL);
  GDBusConnection *c2 = g_dbus_connection_new_for_address_sync (
    address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, &error);
  g_assert_no_error (error);
  VireoDBusVM1 *p2 = vireo_dbus_vm1_proxy_new_sync (c2, G_DBUS_PROXY_FLAGS_NONE, NULL,
                                                    VMX_CONTROL_OBJECT_PATH, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (vireo_dbus_vm1_get_state (p2), ==, "running");
  g_assert_true (vireo_dbus_vm1_call_pause_sync (p2, NULL, &error));
  g_assert_no_error (error);
  assert_last_state (f, "paused/Paused"); /* the app sees what vireo-run did */
  g_assert_cmpstr (vireo_dbus_vm1_get_state (f->proxy), ==, "paused");
  g_assert_true (vireo_dbus_vm1_call_resume_sync (p2, NULL, &error));
  g_assert_no_error (error);

  /* Keys reach the i8042 as the guest would read them (set 1: XLATE). */
  g_autoptr (GByteArray) stale = kbc_drain (f);
  g_assert_true (vireo_dbus_vm1_call_send_key_sync (p2, 30 /* KEY_A */, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (vireo_dbus_vm1_call_send_key_sync (p2, 30, FALSE, NULL, &error));
  g_autoptr (GByteArray) a = kbc_drain (f);
  g_assert_cmpuint (a->len, ==, 2);
  g_assert_cmphex (a->data[0], ==, 0x1e);
  g_assert_cmphex (a->data[1], ==, 0x9e);
  g_assert_false (vireo_dbus_vm1_call_send_key_sync (p2, 0, TRUE, NULL, &error));
  assert_remote_error (error, "org.vireo.VM1.Error.InvalidArgs");
  g_clear_error (&error);
  g_assert_false (vireo_dbus_vm1_call_send_key_sync (p2, 0xffffffffu, TRUE, NULL, &error));
  assert_remote_error (error, "org.vireo.VM1.Error.InvalidArgs");
  g_clear_error (&error);
  g_assert_true (vireo_dbus_vm1_call_send_ctrl_alt_del_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GByteArray) cad = kbc_drain (f);
  const uint8_t cad_set1[] = { 0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d };
  g_assert_cmpmem (cad->data, cad->len, cad_set1, sizeof cad_set1);

  /* The framebuffer memfd is the device's VRAM: what the guest (here the
   * test, through the device's own mapping) draws is what clients map. */
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariant) handle = NULL;
  guint w, h, stride, format;
  g_assert_true (vireo_dbus_vm1_call_get_display_sync (f->proxy, NULL, &handle, &w, &h,
                                                       &stride, &format, &fds, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (w, ==, 1024);
  g_assert_cmpuint (h, ==, 768);
  g_assert_cmpuint (stride, ==, 4096);
  g_assert_cmphex (format, ==, XRGB8888);
  drain ();
  g_assert_cmpuint (vireo_dbus_vm1_get_display_width (f->proxy), ==, 1024);
  g_assert_cmpuint (vireo_dbus_vm1_get_display_height (f->proxy), ==, 768);
  g_assert_cmphex (vireo_dbus_vm1_get_display_format (f->proxy), ==, XRGB8888);
  int fd = g_unix_fd_list_get (fds, g_variant_get_handle (handle), &error);
  g_assert_no_error (error);
  g_assert_cmpint (fd, >=, 0);
  size_t len = (size_t) stride * h;
  const uint32_t *map = mmap (NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  g_assert_true (map != MAP_FAILED);
  close (fd);

  /* The hub's first refresh reports the whole screen, whenever it comes:
   * draw single lines until one is reported on its own, which proves that
   * refresh is past. */
  uint32_t *vram = (uint32_t *) f->ds->device.vram;
  gint64 deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  bool synced = false;
  for (uint32_t line = 700; line < 760 && !synced; line++)
    {
      g_ptr_array_set_size (f->damage, 0);
      for (uint32_t x = 0; x < w; x++)
        vram[line * (stride / 4) + x] = 0x00ff00;
      while (!damage_covers (f, 10, (int) line) && g_get_monotonic_time () < deadline)
        {
          drain ();
          g_usleep (5000);
        }
      g_assert_true (damage_covers (f, 10, (int) line));
      synced = damage_covers_lines (f, 10, (int) line, (int) line + 1);
    }
  g_assert_true (synced);
  g_assert_cmpuint (f->damage_signals, >, 0);

  /* Now a band: clients see the pixels through their mapping at once, and
   * damage for exactly those lines. */
  g_ptr_array_set_size (f->damage, 0);
  for (uint32_t y = 300; y < 340; y++)
    for (uint32_t x = 0; x < w; x++)
      vram[y * (stride / 4) + x] = pattern (x, y);
  for (uint32_t y = 300; y < 340; y++)
    for (uint32_t x = 0; x < w; x++)
      g_assert_cmphex (map[y * (stride / 4) + x] & 0xffffff, ==, pattern (x, y));
  DisplaySurface s;
  vmm_display_get_surface (display_setup_hub (f->ds), &s);
  g_assert_cmpuint (display_surface_pixel (&s, 500, 320), ==, map[320 * 1024 + 500] & 0xffffff);
  deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (!damage_covers_lines (f, 500, 300, 340) && g_get_monotonic_time () < deadline)
    {
      drain ();
      g_usleep (5000);
    }
  for (guint i = 0; i < f->damage->len; i++)
    {
      g_autofree char *text = g_variant_print (g_ptr_array_index (f->damage, i), FALSE);
      g_test_message ("damage for the band: %s", text);
    }
  g_assert_true (damage_covers_lines (f, 500, 300, 340));
  g_assert_false (damage_covers (f, 500, 100)); /* untouched lines stay clean */
  g_assert_false (damage_covers (f, 500, 700));

  /* Screenshot: a PNG of the device's screen. */
  g_autofree char *png = g_build_filename (f->tmp, "shot.png", NULL);
  g_assert_true (vireo_dbus_vm1_call_screenshot_sync (f->proxy, png, NULL, &error));
  g_assert_no_error (error);
  g_autofree guint8 *data = NULL;
  gsize data_len = 0;
  g_assert_true (g_file_get_contents (png, (char **) &data, &data_len, NULL));
  g_assert_cmpuint (data_len, >, 33);
  g_assert_cmpmem (data, 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_cmpuint (GUINT32_FROM_BE (*(guint32 *) (data + 16)), ==, 1024);
  g_assert_cmpuint (GUINT32_FROM_BE (*(guint32 *) (data + 20)), ==, 768);
  g_unlink (png);
  g_assert_false (vireo_dbus_vm1_call_screenshot_sync (f->proxy, "relative.png", NULL, &error));
  assert_remote_error (error, "org.vireo.VM1.Error.InvalidArgs");
  g_clear_error (&error);
  g_autofree char *bad = g_build_filename (f->tmp, "no-such-dir", "shot.png", NULL);
  g_assert_false (vireo_dbus_vm1_call_screenshot_sync (f->proxy, bad, NULL, &error));
  assert_remote_error (error, "org.vireo.VM1.Error.Failed");
  g_clear_error (&error);

  /* Pointer: hostile coordinates are clamped, not an error. */
  g_assert_true (vireo_dbus_vm1_call_send_pointer_sync (f->proxy, G_MININT, G_MAXINT, 1, NULL,
                                                        &error));
  g_assert_no_error (error);
  g_assert_true (vireo_dbus_vm1_call_send_pointer_relative_sync (f->proxy, G_MAXINT, G_MININT,
                                                                 0, NULL, &error));
  g_assert_no_error (error);

  /* This guest ignores the power button; this VM has no disk to snapshot. */
  g_assert_false (vireo_dbus_vm1_call_shutdown_sync (f->proxy, NULL, &error));
  assert_remote_error (error, "org.vireo.VM1.Error.NotSupported");
  g_clear_error (&error);
  g_autofree char *id = NULL;
  g_assert_false (vireo_dbus_vm1_call_take_snapshot_sync (f->proxy, "a", "b", &id, NULL, &error));
  assert_remote_error (error, "org.vireo.VM1.Error.NotSupported");
  g_clear_error (&error);

  /* The app goes away: the VM powers off and the helper finishes; the
   * socket's client hears of it. */
  munmap ((void *) map, len);
  g_clear_object (&f->proxy);
  g_dbus_connection_close_sync (f->connection, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&f->connection);
  wait_finished (f);
  g_assert_cmpint (machine_get_state (f->m), ==, MACHINE_STATE_STOPPED);
  deadline = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;
  while (g_strcmp0 (vireo_dbus_vm1_get_state (p2), "stopped") != 0
         && g_get_monotonic_time () < deadline)
    {
      drain ();
      g_usleep (5000);
    }
  g_assert_cmpstr (vireo_dbus_vm1_get_state (p2), ==, "stopped");
  g_object_unref (p2);
  g_dbus_connection_close_sync (c2, NULL, NULL);
  g_object_unref (c2);
  g_autofree char *socket_path = g_strdup (f->socket_path);
  teardown (f);
  /* The socket file went with the server. */
  g_assert_false (g_file_test (socket_path, G_FILE_TEST_EXISTS));
}

/* Shutdown presses the ACPI power button; the guest powers off via S5. */
static void
test_guest_shutdown (void)
{
  Fixture fx = { 0 }, *f = &fx;
  g_autoptr (GError) error = NULL;

  if (!setup (f, "VIREO_GUEST_POWER_BUTTON"))
    return;
  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  wait_serial (f, "waiting for the power button", 1);
  g_assert_true (vireo_dbus_vm1_call_shutdown_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  /* The guest may be done before the signals are dispatched: check the
   * whole sequence once it is. */
  wait_finished (f);
  const char *expected[] = { "running/Started", "shutting-down/Power button pressed",
                             "stopped/Guest shut down" };
  assert_states (f, expected, G_N_ELEMENTS (expected));
  g_assert_cmpint (f->finished_status, ==, 0);
  g_assert_cmpuint (serial_count (f, "pressed, shutting down"), ==, 1);
  teardown (f);
}

/* PowerOff also works on a paused VM. */
static void
test_power_off_paused (void)
{
  Fixture fx = { 0 }, *f = &fx;
  g_autoptr (GError) error = NULL;

  if (!setup (f, "VIREO_GUEST_COUNTER"))
    return;
  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  g_assert_true (vireo_dbus_vm1_call_pause_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (vireo_dbus_vm1_call_power_off_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  assert_last_state (f, "stopped/Powered off");
  g_assert_cmpint (machine_get_state (f->m), ==, MACHINE_STATE_STOPPED);
  wait_finished (f);
  g_assert_cmpint (f->finished_status, ==, MACHINE_EXIT_POWEROFF);
  teardown (f);
}

/* A guest that triple-faults is reset by the machine (StateChanged says
 * so), then ends through the test device: stopped, with its status. */
static void
test_guest_reset_and_exit (void)
{
  Fixture fx = { 0 }, *f = &fx;
  g_autoptr (GError) error = NULL;

  if (!setup (f, "VIREO_GUEST_RESET"))
    return;
  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  wait_finished (f);
  g_assert_cmpint (f->finished_status, ==, MACHINE_EXIT_DEBUG_BASE);
  const char *expected[] = { "running/Started", "running/Guest reset",
                             "stopped/The guest exited with status 16" };
  assert_states (f, expected, G_N_ELEMENTS (expected));
  g_assert_cmpstr (vireo_dbus_vm1_get_state (f->proxy), ==, "stopped");
  g_assert_cmpuint (serial_count (f, "reset: boot 2"), ==, 1);
  teardown (f);
}

/* Take, list, revert (memory back to the snapshot), delete; bad ids. */
static void
test_snapshots (void)
{
  Fixture fx = { 0 }, *f = &fx;
  g_autoptr (GError) error = NULL;

  if (!setup_full (f, "VIREO_GUEST_COUNTER", true))
    return;
  g_assert_true (vireo_dbus_vm1_call_start_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  wait_counter_above (f, 1000);

  /* Held still, so the counter the snapshot saved is known. */
  g_assert_true (vireo_dbus_vm1_call_pause_sync (f->proxy, NULL, &error));
  uint64_t c_snap = counter (f);
  g_autofree char *id = NULL;
  g_assert_true (vireo_dbus_vm1_call_take_snapshot_sync (f->proxy, "counting", "a test", &id,
                                                         NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (id);
  g_assert_cmpuint (counter (f), ==, c_snap);
  g_assert_cmpint (machine_get_state (f->m), ==, MACHINE_STATE_PAUSED); /* still ours */

  g_autoptr (GVariant) list = NULL;
  g_assert_true (vireo_dbus_vm1_call_list_snapshots_sync (f->proxy, &list, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (list), ==, 1);
  const char *lid, *parent, *name, *desc;
  gint64 created;
  gboolean current;
  g_variant_get_child (list, 0, "(&s&s&s&sxb)", &lid, &parent, &name, &desc, &created, &current);
  g_assert_cmpstr (lid, ==, id);
  g_assert_cmpstr (parent, ==, "");
  g_assert_cmpstr (name, ==, "counting");
  g_assert_cmpstr (desc, ==, "a test");
  g_assert_cmpint (created, >, 1600000000);
  g_assert_true (current);

  g_assert_true (vireo_dbus_vm1_call_resume_sync (f->proxy, NULL, &error));
  wait_counter_above (f, c_snap + 100000);
  g_assert_true (vireo_dbus_vm1_call_pause_sync (f->proxy, NULL, &error));
  g_assert_cmpuint (counter (f), >, c_snap + 100000);
  g_assert_true (vireo_dbus_vm1_call_revert_snapshot_sync (f->proxy, id, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counter (f), ==, c_snap); /* paused: nothing ran since */
  assert_last_state (f, "paused/Reverted to a snapshot");
  g_assert_true (vireo_dbus_vm1_call_resume_sync (f->proxy, NULL, &error));
  wait_counter_above (f, c_snap);

  g_assert_false (vireo_dbus_vm1_call_revert_snapshot_sync (f->proxy, "nonsense", NULL, &error));
  assert_remote_error (error, "org.vireo.VM1.Error.InvalidArgs");
  g_clear_error (&error);
  g_assert_false (vireo_dbus_vm1_call_take_snapshot_sync (f->proxy, "", "", &id, NULL, &error));
  assert_remote_error (error, "org.vireo.VM1.Error.InvalidArgs");
  g_clear_error (&error);

  g_assert_true (vireo_dbus_vm1_call_delete_snapshot_sync (f->proxy, id, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&list, g_variant_unref);
  g_assert_true (vireo_dbus_vm1_call_list_snapshots_sync (f->proxy, &list, NULL, &error));
  g_assert_cmpuint (g_variant_n_children (list), ==, 0);

  g_assert_true (vireo_dbus_vm1_call_power_off_sync (f->proxy, NULL, &error));
  g_assert_no_error (error);
  wait_finished (f);
  teardown (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vmx-control/power-cycle", test_power_cycle);
  g_test_add_func ("/vmx-control/clients-input-display", test_clients_input_display);
  g_test_add_func ("/vmx-control/guest-shutdown", test_guest_shutdown);
  g_test_add_func ("/vmx-control/power-off-paused", test_power_off_paused);
  g_test_add_func ("/vmx-control/guest-reset-and-exit", test_guest_reset_and_exit);
  g_test_add_func ("/vmx-control/snapshots", test_snapshots);
  return g_test_run ();
}
