/* Integration: the SDL window under Xvfb.
 *
 * Starts its own Xvfb, opens the window on a synthetic test pattern, takes
 * an ImageMagick `import` screenshot of the window and compares it with the
 * surface, then types a key with xdotool and checks the i8042 got its
 * scancodes, and grabs the mouse with a click and moves it. Skips (77) when
 * Xvfb, xdotool or import is missing. */
#include <png.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "display/sdl-window.h"
#include "display/vmm-display.h"
#include "input/i8042.h"
#include "input/input-sink.h"
#include "xvfb-helper.h"

#define W 320
#define H 200

typedef struct {
  uint8_t *fb;
  DisplaySurface surface;
} Source;

static void
source_get (void *opaque, DisplaySurface *out)
{
  *out = ((Source *) opaque)->surface;
}

static uint32_t
pattern (uint32_t x, uint32_t y)
{
  return ((x * 5) & 0xff) << 16 | ((y * 9 + x) & 0xff) << 8 | ((x + y * 2) & 0xff);
}

/* Pixels of the screenshot that differ from the pattern. */
static size_t
compare_png (const char *path)
{
  png_image img = { .version = PNG_IMAGE_VERSION };
  if (!png_image_begin_read_from_file (&img, path))
    return SIZE_MAX;
  img.format = PNG_FORMAT_RGB;
  g_autofree guint8 *buf = g_malloc (PNG_IMAGE_SIZE (img));
  if (!png_image_finish_read (&img, NULL, buf, 0, NULL))
    return SIZE_MAX;
  if (img.width != W || img.height != H)
    {
      g_printerr ("screenshot is %ux%u\n", img.width, img.height);
      return SIZE_MAX;
    }
  size_t bad = 0;
  for (uint32_t y = 0; y < H; y++)
    for (uint32_t x = 0; x < W; x++)
      {
        const guint8 *p = buf + ((size_t) y * W + x) * 3;
        uint32_t got = (uint32_t) p[0] << 16 | (uint32_t) p[1] << 8 | p[2];
        if (got != pattern (x, y) && bad < 5)
          g_printerr ("(%u,%u): got %06x want %06x\n", x, y, got, pattern (x, y));
        bad += got != pattern (x, y);
      }
  return bad;
}

static void
test_sdl_window (void)
{
  const char *tools[] = { "Xvfb", "xdotool", "import" };
  for (size_t i = 0; i < G_N_ELEMENTS (tools); i++)
    {
      g_autofree char *found = g_find_program_in_path (tools[i]);
      if (!found)
        {
          g_test_skip_printf ("%s is not installed", tools[i]);
          return;
        }
    }
  if (!xvfb_start ())
    {
      g_test_skip ("could not start Xvfb");
      return;
    }
  /* Pixel-exact output: the software renderer on plain X11. */
  g_setenv ("SDL_VIDEODRIVER", "x11", TRUE);
  g_setenv ("SDL_RENDER_DRIVER", "software", TRUE);

  Source src = { g_malloc (W * H * 4) };
  for (uint32_t y = 0; y < H; y++)
    for (uint32_t x = 0; x < W; x++)
      ((uint32_t *) src.fb)[y * W + x] = pattern (x, y);
  src.surface = (DisplaySurface){ .format = DISPLAY_FORMAT_XRGB8888, .width = W, .height = H,
                                  .stride = W * 4, .fd = -1, .data = src.fb,
                                  .fd_size = W * H * 4, .generation = 1 };
  GMutex lock;
  g_mutex_init (&lock);
  I8042 kbc;
  g_assert_true (i8042_init (&kbc, NULL, (IrqLine){ 0 }, (IrqLine){ 0 }, NULL));
  I8042Sink sink;
  i8042_sink_init (&sink, &kbc, &lock);
  DisplaySource ds = { source_get, &src };
  VmmDisplay *display = vmm_display_new (&ds, &lock, 60);
  vmm_display_start (display);

  GError *error = NULL;
  SdlWindow *win = sdl_window_new (display, &sink.sink, "vireo test", &error);
  g_assert_no_error (error);
  unsigned long id = sdl_window_x11_id (win);
  g_assert_cmpuint (id, !=, 0);
  for (int i = 0; i < 500 && sdl_window_frame_count (win) < 2; i++)
    g_usleep (10000);
  g_assert_cmpuint (sdl_window_frame_count (win), >=, 1);

  g_autofree char *dir = g_dir_make_tmp ("vireo-sdl-XXXXXX", NULL);
  g_autofree char *shot = g_build_filename (dir, "window.png", NULL);
  g_autofree char *import_cmd = g_strdup_printf ("import -window 0x%lx png:%s", id, shot);
  size_t bad = SIZE_MAX;
  for (int i = 0; i < 20 && bad != 0; i++)
    {
      g_usleep (200000);
      if (run_command (import_cmd))
        bad = compare_png (shot);
    }
  if (bad != 0)
    g_error ("window differs from the surface: %zu pixels", bad);

  /* A key typed into the window reaches the i8042 (translated set 1). */
  g_autofree char *focus = g_strdup_printf ("xdotool windowfocus --sync 0x%lx", id);
  g_assert_true (run_command (focus));
  g_usleep (200000);
  g_assert_true (run_command ("xdotool key a"));
  GByteArray *bytes = g_byte_array_new ();
  g_assert_true (kbc_read_bytes (&lock, &kbc, bytes, 2, 10));
  const uint8_t want[] = { 0x1e, 0x9e };
  g_assert_cmpmem (bytes->data, 2, want, 2);

  /* A click grabs the mouse; Ctrl+Alt releases it. */
  g_autofree char *move = g_strdup_printf ("xdotool mousemove --window 0x%lx 100 100 click 1", id);
  g_assert_true (run_command (move));
  for (int i = 0; i < 200 && !sdl_window_grabbed (win); i++)
    g_usleep (10000);
  g_assert_true (sdl_window_grabbed (win));
  g_assert_true (run_command ("xdotool key ctrl+alt"));
  for (int i = 0; i < 200 && sdl_window_grabbed (win); i++)
    g_usleep (10000);
  g_assert_false (sdl_window_grabbed (win));
  /* The Ctrl and Alt presses themselves went to the guest too. */
  g_byte_array_set_size (bytes, 0);
  g_assert_true (kbc_read_bytes (&lock, &kbc, bytes, 4, 10));
  g_assert_cmphex (bytes->data[0], ==, 0x1d);

  sdl_window_free (win);
  vmm_display_stop (display);
  vmm_display_free (display);
  g_byte_array_unref (bytes);
  g_free (src.fb);
  g_unlink (shot);
  g_rmdir (dir);
  xvfb_stop ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sdl-window/xvfb", test_sdl_window);
  int rc = g_test_run ();
  xvfb_stop ();
  return rc;
}
