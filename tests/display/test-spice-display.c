/* Integration: our SPICE server against spice-client-glib in one process.
 *
 * The server shows a synthetic test pattern through the display hub; the
 * client must receive exactly those pixels, then a changed region after
 * damage; keys and mouse motion sent through the client's inputs channel
 * must reach the i8042 as the right scancodes and packets. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <spice-client.h>

#include "display/spice-display.h"
#include "display/vmm-display.h"
#include "input/i8042.h"
#include "input/input-sink.h"

#define W 320
#define H 200

typedef struct
{
  uint8_t *fb;
  DisplaySurface surface;
} Source;

static void
source_get (void *opaque, DisplaySurface *out)
{
  *out = ((Source *)opaque)->surface;
}

static uint32_t
pattern (uint32_t x, uint32_t y)
{
  /* Distinct in every channel so byte-order mistakes show. */
  return ((x * 7 + y) & 0xff) << 16 | ((y * 3) & 0xff) << 8 | ((x ^ y) & 0xff);
}

static void
draw_pattern (Source *s)
{
  for (uint32_t y = 0; y < H; y++)
    for (uint32_t x = 0; x < W; x++)
      ((uint32_t *)(s->fb + y * s->surface.stride))[x] = pattern (x, y) | 0xff000000u;
}

typedef struct
{
  SpiceSession *session;
  SpiceChannel *display;
  SpiceInputsChannel *inputs;
  bool inputs_open;
} Client;

static void
on_channel_event (SpiceChannel *ch, SpiceChannelEvent ev, gpointer data)
{
  Client *c = data;
  if (ev == SPICE_CHANNEL_OPENED && SPICE_IS_INPUTS_CHANNEL (ch))
    c->inputs_open = true;
  if (ev == SPICE_CHANNEL_ERROR_CONNECT || ev == SPICE_CHANNEL_ERROR_AUTH)
    g_error ("spice channel error %d", ev);
}

static void
on_channel_new (SpiceSession *s, SpiceChannel *ch, gpointer data)
{
  Client *c = data;
  if (SPICE_IS_DISPLAY_CHANNEL (ch))
    c->display = ch;
  else if (SPICE_IS_INPUTS_CHANNEL (ch))
    c->inputs = SPICE_INPUTS_CHANNEL (ch);
  else
    return;
  g_signal_connect (ch, "channel-event", G_CALLBACK (on_channel_event), c);
  spice_channel_connect (ch);
}

/* Pixels of the client's primary surface that differ from the source. */
static size_t
mismatches (Client *c, Source *src)
{
  SpiceDisplayPrimary p;
  if (!c->display || !spice_display_channel_get_primary (c->display, 0, &p) || !p.data)
    return SIZE_MAX;
  if (p.width != W || p.height != H)
    return SIZE_MAX;
  size_t bad = 0;
  for (uint32_t y = 0; y < H; y++)
    for (uint32_t x = 0; x < W; x++)
      {
        uint32_t got = ((uint32_t *)(p.data + (size_t)y * p.stride))[x] & 0xffffff;
        uint32_t want = ((uint32_t *)(src->fb + y * src->surface.stride))[x] & 0xffffff;
        bad += got != want;
      }
  return bad;
}

static bool
iterate_until (bool (*cond) (gpointer), gpointer data, int seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end)
    {
      if (cond (data))
        return true;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  return cond (data);
}

typedef struct
{
  Client *client;
  Source *src;
  GMutex *lock;
  I8042 *kbc;
  GByteArray *bytes;
  size_t want;
} Ctx;

static bool
pixels_match (gpointer data)
{
  Ctx *x = data;
  return mismatches (x->client, x->src) == 0;
}

static bool
inputs_open (gpointer data)
{
  return ((Ctx *)data)->client->inputs_open;
}

static bool
caps_on (gpointer data)
{
  Ctx *x = data;
  guint mods = 0;
  g_object_get (x->client->inputs, "key-modifiers", &mods, NULL);
  return mods & SPICE_INPUTS_CAPS_LOCK;
}

static bool
got_bytes (gpointer data)
{
  Ctx *x = data;
  g_mutex_lock (x->lock);
  while (i8042_read (x->kbc, 4) & I8042_STR_OBF)
    {
      uint8_t b = i8042_read (x->kbc, 0);
      g_byte_array_append (x->bytes, &b, 1);
    }
  g_mutex_unlock (x->lock);
  return x->bytes->len >= x->want;
}

static void
test_spice_roundtrip (void)
{
  /* The framebuffer lives in a memfd, as the device's VRAM does. */
  Source src = { 0 };
  size_t size = (size_t)W * H * 4;
  int fd = memfd_create ("test-fb", MFD_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t)size), ==, 0);
  src.fb = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  g_assert_true (src.fb != MAP_FAILED);
  src.surface = (DisplaySurface){ .format = DISPLAY_FORMAT_XRGB8888,
                                  .width = W,
                                  .height = H,
                                  .stride = W * 4,
                                  .fd = fd,
                                  .data = src.fb,
                                  .fd_size = size,
                                  .generation = 1 };
  draw_pattern (&src);

  GMutex lock;
  g_mutex_init (&lock);
  I8042 kbc;
  g_assert_true (i8042_init (&kbc, NULL, (IrqLine){ 0 }, (IrqLine){ 0 }, NULL));
  I8042Sink sink;
  i8042_sink_init (&sink, &kbc, &lock);

  DisplaySource ds = { source_get, &src };
  VmmDisplay *display = vmm_display_new (&ds, &lock, 60);
  vmm_display_start (display);

  g_autofree char *dir = g_dir_make_tmp ("vireo-spice-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "spice.sock", NULL);
  g_autofree char *spec = g_strdup_printf ("unix=%s", path);
  SpiceOptions opts;
  GError *error = NULL;
  g_assert_true (spice_options_parse (spec, &opts, &error));
  SpiceDisplay *sd = spice_display_new (display, &sink.sink, &opts, &error);
  g_assert_no_error (error);
  g_assert_nonnull (sd);

  Client client = { 0 };
  client.session = spice_session_new ();
  g_object_set (client.session, "unix-path", path, NULL);
  g_signal_connect (client.session, "channel-new", G_CALLBACK (on_channel_new), &client);
  g_assert_true (spice_session_connect (client.session));

  Ctx ctx = { &client, &src, &lock, &kbc, g_byte_array_new (), 0 };
  if (!iterate_until (pixels_match, &ctx, 30))
    g_error ("client pixels differ from the surface: %zu mismatches", mismatches (&client, &src));

  /* Damage: a guest-drawn block must arrive too. */
  for (uint32_t y = 50; y < 90; y++)
    for (uint32_t x = 100; x < 180; x++)
      ((uint32_t *)(src.fb + y * src.surface.stride))[x] = 0x00123456;
  if (!iterate_until (pixels_match, &ctx, 30))
    g_error ("damaged block did not reach the client: %zu mismatches", mismatches (&client, &src));
  g_assert_cmpuint (spice_display_draw_count (sd), >=, 2);

  /* Keys through the inputs channel reach the i8042 (translated set 1). */
  g_assert_true (iterate_until (inputs_open, &ctx, 30));
  spice_inputs_channel_key_press (client.inputs, 0x1e); /* A */
  spice_inputs_channel_key_release (client.inputs, 0x1e);
  spice_inputs_channel_key_press (client.inputs, 0x11c); /* keypad Enter (E0) */
  spice_inputs_channel_key_release (client.inputs, 0x11c);
  ctx.want = 6;
  g_assert_true (iterate_until (got_bytes, &ctx, 30));
  const uint8_t keys[] = { 0x1e, 0x9e, 0xe0, 0x1c, 0xe0, 0x9c };
  g_assert_cmpmem (ctx.bytes->data, ctx.bytes->len, keys, sizeof keys);

  /* The guest turns Caps Lock on: the client learns it (LED sync). */
  g_mutex_lock (&lock);
  i8042_write (&kbc, 0, 0xed);
  i8042_write (&kbc, 0, 0x04);
  g_mutex_unlock (&lock);
  g_byte_array_set_size (ctx.bytes, 0);
  ctx.want = 2;
  g_assert_true (iterate_until (got_bytes, &ctx, 5)); /* the two ACKs */
  g_assert_true (iterate_until (caps_on, &ctx, 30));

  /* Mouse: enable the aux port and streaming, then move. */
  g_mutex_lock (&lock);
  i8042_write (&kbc, 4, 0xa8);
  i8042_write (&kbc, 4, 0xd4);
  i8042_write (&kbc, 0, 0xf4);
  g_mutex_unlock (&lock);
  g_byte_array_set_size (ctx.bytes, 0);
  ctx.want = 1;
  g_assert_true (iterate_until (got_bytes, &ctx, 5));
  g_assert_cmphex (ctx.bytes->data[0], ==, 0xfa);
  g_byte_array_set_size (ctx.bytes, 0);
  spice_inputs_channel_motion (client.inputs, 5, 3, 0);
  ctx.want = 3;
  g_assert_true (iterate_until (got_bytes, &ctx, 30));
  /* Sum the packets (the client may split the motion). */
  int dx = 0, dy = 0;
  for (guint i = 0; i + 2 < ctx.bytes->len; i += 3)
    {
      g_assert_true (ctx.bytes->data[i] & 0x08);
      dx += (int8_t)ctx.bytes->data[i + 1];
      dy += (int8_t)ctx.bytes->data[i + 2];
    }
  g_assert_cmpint (dx, ==, 5);
  g_assert_cmpint (dy, ==, -3); /* PS/2 counts up */

  spice_session_disconnect (client.session);
  g_object_unref (client.session);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  spice_display_free (sd);
  spice_options_clear (&opts);
  vmm_display_stop (display);
  vmm_display_free (display);
  g_byte_array_unref (ctx.bytes);
  munmap (src.fb, size);
  close (fd);
  g_unlink (path);
  g_rmdir (dir);
}

typedef struct
{
  int result; /* 0 pending, 1 opened, -1 auth error */
} AuthProbe;

static void
on_main_event (SpiceChannel *ch, SpiceChannelEvent ev, gpointer data)
{
  AuthProbe *p = data;
  if (ev == SPICE_CHANNEL_OPENED)
    p->result = 1;
  else if (ev == SPICE_CHANNEL_ERROR_AUTH)
    p->result = -1;
  else if (ev >= SPICE_CHANNEL_ERROR_CONNECT)
    p->result = -2;
}

static void
on_probe_channel (SpiceSession *s, SpiceChannel *ch, gpointer data)
{
  if (SPICE_IS_MAIN_CHANNEL (ch))
    g_signal_connect (ch, "channel-event", G_CALLBACK (on_main_event), data);
}

static bool
probe_done (gpointer data)
{
  return ((AuthProbe *)data)->result != 0;
}

static int
try_password (const char *path, const char *password)
{
  AuthProbe probe = { 0 };
  SpiceSession *session = spice_session_new ();
  g_object_set (session, "unix-path", path, "password", password, NULL);
  g_signal_connect (session, "channel-new", G_CALLBACK (on_probe_channel), &probe);
  g_assert_true (spice_session_connect (session));
  iterate_until (probe_done, &probe, 30);
  spice_session_disconnect (session);
  g_object_unref (session);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return probe.result;
}

static void
test_password (void)
{
  /* spice-server warns about the wrong password: expected here. */
  GLogLevelFlags fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  static uint32_t pixels[16 * 16];
  Source src = { (uint8_t *)pixels };
  src.surface = (DisplaySurface){ .format = DISPLAY_FORMAT_XRGB8888,
                                  .width = 16,
                                  .height = 16,
                                  .stride = 64,
                                  .fd = -1,
                                  .data = src.fb,
                                  .fd_size = sizeof pixels,
                                  .generation = 1 };
  GMutex lock;
  g_mutex_init (&lock);
  DisplaySource ds = { source_get, &src };
  VmmDisplay *display = vmm_display_new (&ds, &lock, 60);
  g_autofree char *dir = g_dir_make_tmp ("vireo-spice-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "spice.sock", NULL);
  g_autofree char *spec = g_strdup_printf ("unix=%s,password=s3cret", path);
  SpiceOptions opts;
  GError *error = NULL;
  g_assert_true (spice_options_parse (spec, &opts, &error));
  SpiceDisplay *sd = spice_display_new (display, NULL, &opts, &error);
  g_assert_no_error (error);

  g_assert_cmpint (try_password (path, "wrong"), ==, -1);
  g_assert_cmpint (try_password (path, "s3cret"), ==, 1);

  spice_display_free (sd);
  spice_options_clear (&opts);
  vmm_display_free (display);
  g_mutex_clear (&lock);
  g_unlink (path);
  g_rmdir (dir);
  /* Only now: the refused client's connection may log more on its way out. */
  g_log_set_always_fatal (fatal);
}

static void
test_options (void)
{
  SpiceOptions o;
  GError *error = NULL;
  g_assert_true (spice_options_parse ("port=5930", &o, &error));
  g_assert_cmpint (o.port, ==, 5930);
  g_assert_cmpstr (o.addr, ==, "127.0.0.1");
  g_assert_null (o.password);
  spice_options_clear (&o);
  g_assert_true (spice_options_parse ("port=5900,addr=::1,password=s3cret", &o, &error));
  g_assert_cmpstr (o.addr, ==, "::1");
  g_assert_cmpstr (o.password, ==, "s3cret");
  spice_options_clear (&o);
  const char *bad[] = { "",
                        "port=0",
                        "port=70000",
                        "port=12x",
                        "unix=/a,port=5",
                        "addr=1.2.3.4",
                        "unix=/a,addr=x",
                        "color=blue",
                        "unix=" };
  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (spice_options_parse (bad[i], &o, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/spice-display/options", test_options);
  g_test_add_func ("/spice-display/roundtrip", test_spice_roundtrip);
  g_test_add_func ("/spice-display/password", test_password);
  return g_test_run ();
}
