/* End to end with a tiny guest: the guest programs the Bochs display through
 * its ports and draws into the RAM-backed BAR; the host sees exactly those
 * pixels in the surface the consumers get, and a PNG screenshot of it. Then
 * a key sent to the front ends' input sink reaches the guest through the
 * machine's i8042.
 * Uses the machine's default engine (KVM when usable, else software). */
#include <glib.h>
#include <glib/gstdio.h>

#include "display/display-setup.h"
#include "display/screenshot.h"
#include "vmm-core/machine.h"

static uint32_t
pattern (uint32_t x, uint32_t y)
{
  return ((x * 3) & 0xff) << 16 | (y * 5 & 0xff) << 8 | ((x + y) & 0xff);
}

typedef struct {
  Machine *m;
  const InputSink *sink;
} Typist;

/* Presses A until the guest has taken it and stopped. */
static gpointer
typist (gpointer data)
{
  Typist *t = data;
  for (int i = 0; i < 600 && machine_get_state (t->m) != MACHINE_STATE_STOPPED; i++)
    {
      g_usleep (100000);
      input_sink_key (t->sink, 30 /* KEY_A */, true);
      input_sink_key (t->sink, 30, false);
    }
  return NULL;
}

static void
test_guest_draws (void)
{
  const char *elf = g_getenv ("GUEST_FB_ELF");
  g_assert_nonnull (elf);
  MachineConfig cfg = { .ram_size = 64u << 20, .cpus = 1, .guest_elf = elf,
                        .serial = "none", .engine = ENGINE_KIND_AUTO, .test_device = true };
  GError *error = NULL;
  g_autofree char *why = NULL;
  Machine *m = machine_new (&cfg, &why, &error);
  if (!m)
    {
      g_test_skip_printf ("no machine: %s", error->message);
      g_clear_error (&error);
      return;
    }
  g_test_message ("engine: %s", why ? why : "?");

  DisplaySetupOptions opts = { .display = "none" };
  DisplaySetup *ds = display_setup_new (machine_pci (m), machine_pio (m),
                                        machine_device_lock (m), machine_i8042 (m), &opts,
                                        &error);
  g_assert_no_error (error);
  g_assert_true (machine_start (m, &error));
  g_assert_no_error (error);
  Typist t = { m, &ds->sink.sink };
  GThread *thread = g_thread_new ("typist", typist, &t);
  int status = machine_run (m);
  g_thread_join (thread);
  /* The guest exits with the scancode it read: A = 0x1e (set 1). */
  g_assert_cmpint (status, ==, MACHINE_EXIT_DEBUG_BASE + (0x1e & 63));

  /* Wait for the hub to see the guest's mode. */
  DisplaySurface s = { 0 };
  for (int i = 0; i < 300 && s.width != 640; i++)
    {
      g_usleep (10000);
      vmm_display_get_surface (display_setup_hub (ds), &s);
    }
  g_assert_cmpuint (s.width, ==, 640);
  g_assert_cmpuint (s.height, ==, 480);
  g_assert_cmpint (s.format, ==, DISPLAY_FORMAT_XRGB8888);
  size_t bad = 0;
  for (uint32_t y = 0; y < 480; y++)
    for (uint32_t x = 0; x < 640; x++)
      bad += display_surface_pixel (&s, x, y) != pattern (x, y);
  g_assert_cmpuint (bad, ==, 0);

  guint8 *rgb = display_screenshot_rgb (&s);
  g_assert_cmpuint (rgb[(479 * 640 + 639) * 3], ==, (639 * 3) & 0xff);
  g_free (rgb);

  display_setup_stop (ds);
  machine_free (m);
  display_setup_free (ds);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/guest-display/guest-draws", test_guest_draws);
  return g_test_run ();
}
