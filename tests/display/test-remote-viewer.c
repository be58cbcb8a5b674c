/* Integration: virt-viewer's remote-viewer against our SPICE server, under
 * a private Xvfb. The root window's screenshot must contain the surface's
 * test pattern pixel for pixel, and a key typed into remote-viewer must
 * reach the i8042. Skips (77) without Xvfb, remote-viewer, xdotool or
 * ImageMagick's import. */
#include <png.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "display/spice-display.h"
#include "display/vmm-display.h"
#include "input/i8042.h"
#include "input/input-sink.h"
#include "xvfb-helper.h"

#define W 320
#define H 200

typedef struct
{
  uint32_t *fb;
  DisplaySurface surface;
} Source;

static void
source_get (void *opaque, DisplaySurface *out)
{
  *out = ((Source *)opaque)->surface;
}

/* Varied in every channel and position, so a match cannot be an accident. */
static uint32_t
pattern (uint32_t x, uint32_t y)
{
  return ((x * 11 + y * 3) & 0xff) << 16 | ((y * 7 + 40) & 0xff) << 8 | ((x ^ (y * 5)) & 0xff);
}

/* Finds the pattern in a root screenshot; SIZE_MAX if nowhere, else the
 * number of differing pixels at the best place. */
static size_t
find_pattern (const char *path)
{
  png_image img = { .version = PNG_IMAGE_VERSION };
  if (!png_image_begin_read_from_file (&img, path))
    return SIZE_MAX;
  img.format = PNG_FORMAT_RGB;
  g_autofree guint8 *buf = g_malloc (PNG_IMAGE_SIZE (img));
  if (!png_image_finish_read (&img, NULL, buf, 0, NULL))
    return SIZE_MAX;
  size_t best = SIZE_MAX;
  for (uint32_t oy = 0; oy + H <= img.height; oy++)
    for (uint32_t ox = 0; ox + W <= img.width; ox++)
      {
        bool start = true;
        for (uint32_t x = 0; x < 8 && start; x++)
          {
            const guint8 *p = buf + ((size_t)oy * img.width + ox + x) * 3;
            start = ((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) == pattern (x, 0);
          }
        if (!start)
          continue;
        size_t bad = 0;
        for (uint32_t y = 0; y < H; y++)
          for (uint32_t x = 0; x < W; x++)
            {
              const guint8 *p = buf + ((size_t)(oy + y) * img.width + ox + x) * 3;
              bad += ((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) != pattern (x, y);
            }
        best = MIN (best, bad);
      }
  return best;
}

static void
test_remote_viewer (void)
{
  const char *tools[] = { "Xvfb", "xdotool", "import", "remote-viewer" };
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

  Source src = { g_new (uint32_t, W * H) };
  for (uint32_t y = 0; y < H; y++)
    for (uint32_t x = 0; x < W; x++)
      src.fb[y * W + x] = pattern (x, y);
  src.surface = (DisplaySurface){ .format = DISPLAY_FORMAT_XRGB8888,
                                  .width = W,
                                  .height = H,
                                  .stride = W * 4,
                                  .fd = -1,
                                  .data = (uint8_t *)src.fb,
                                  .fd_size = W * H * 4,
                                  .generation = 1 };
  GMutex lock;
  g_mutex_init (&lock);
  I8042 kbc;
  g_assert_true (i8042_init (&kbc, NULL, (IrqLine){ 0 }, (IrqLine){ 0 }, NULL));
  I8042Sink sink;
  i8042_sink_init (&sink, &kbc, &lock);
  DisplaySource ds = { source_get, &src };
  VmmDisplay *display = vmm_display_new (&ds, &lock, 60);
  vmm_display_start (display);

  g_autofree char *dir = g_dir_make_tmp ("vireo-rv-XXXXXX", NULL);
  g_autofree char *sock = g_build_filename (dir, "spice.sock", NULL);
  g_autofree char *spec = g_strdup_printf ("unix=%s", sock);
  SpiceOptions opts;
  GError *error = NULL;
  g_assert_true (spice_options_parse (spec, &opts, &error));
  SpiceDisplay *sd = spice_display_new (display, &sink.sink, &opts, &error);
  g_assert_no_error (error);

  g_autofree char *uri = g_strdup_printf ("spice+unix://%s", sock);
  char *argv[] = { "remote-viewer", "--zoom=100", "--title=vireo-rv-test", uri, NULL };
  g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "GDK_BACKEND", "x11", TRUE);
  GPid viewer;
  g_assert_true (g_spawn_async (NULL, argv, env,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD
                                    | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                xvfb_child_dies_with_parent, NULL, &viewer, &error));

  g_autofree char *shot = g_build_filename (dir, "root.png", NULL);
  g_autofree char *import_cmd = g_strdup_printf ("import -window root png:%s", shot);
  size_t bad = SIZE_MAX;
  for (int i = 0; i < 60 && bad != 0; i++)
    {
      g_usleep (500000);
      if (run_command (import_cmd))
        bad = find_pattern (shot);
    }
  if (bad != 0)
    g_error ("remote-viewer does not show the surface (best match: %zu pixels differ)", bad);

  /* A key typed into remote-viewer arrives as set 1 scancodes. */
  g_assert_true (run_command ("xdotool search --sync --name vireo-rv-test windowfocus --sync"));
  g_usleep (300000);
  g_assert_true (run_command ("xdotool key a"));
  GByteArray *bytes = g_byte_array_new ();
  g_assert_true (kbc_read_bytes (&lock, &kbc, bytes, 2, 15));
  const uint8_t want[] = { 0x1e, 0x9e };
  g_assert_cmpmem (bytes->data, 2, want, 2);

  kill (viewer, SIGTERM);
  waitpid (viewer, NULL, 0);
  g_spawn_close_pid (viewer);
  spice_display_free (sd);
  spice_options_clear (&opts);
  vmm_display_stop (display);
  vmm_display_free (display);
  g_byte_array_unref (bytes);
  g_free (src.fb);
  g_unlink (shot);
  g_unlink (sock);
  g_rmdir (dir);
  xvfb_stop ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/remote-viewer/xvfb", test_remote_viewer);
  int rc = g_test_run ();
  xvfb_stop ();
  return rc;
}
