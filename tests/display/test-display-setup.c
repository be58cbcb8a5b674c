/* display_setup: option checking and the wiring vireo-vmx gets. */
#include <glib.h>

#include "display/display-setup.h"

static void
map_ram (void *opaque, uint64_t gpa, uint64_t size, void *host, bool map)
{
  *(uint64_t *) opaque = map ? gpa : 0;
}

static void
test_setup (void)
{
  IoBus pio, mmio;
  io_bus_init (&pio, "pio");
  io_bus_init (&mmio, "mmio");
  IrqRouter router = { 0 };
  PciHost pci;
  uint64_t mapped = 0;
  g_assert_true (pci_host_init (&pci, &pio, &mmio, &router, map_ram, &mapped));
  GMutex lock;
  g_mutex_init (&lock);
  I8042 kbc;
  g_assert_true (i8042_init (&kbc, NULL, (IrqLine){ 0 }, (IrqLine){ 0 }, NULL));

  /* Bad options are refused up front. */
  GError *error = NULL;
  DisplaySetupOptions bad = { .display = "vnc" };
  g_assert_null (display_setup_new (&pci, &pio, &lock, &kbc, &bad, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  bad = (DisplaySetupOptions){ .spice = "port=99999" };
  g_assert_null (display_setup_new (&pci, &pio, &lock, &kbc, &bad, &error));
  g_clear_error (&error);

  /* Headless (the SPICE and SDL front ends have integration tests). */
  DisplaySetupOptions o = { .display = "none" };
  DisplaySetup *ds = display_setup_new (&pci, &pio, &lock, &kbc, &o, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ds);
  g_assert_cmphex (mapped, ==, 0xc0000000);
  BootDisplayInfo bi;
  g_assert_true (display_setup_boot_info (ds, &bi));
  g_assert_cmphex (bi.lfb_base, ==, 0xc0000000);
  g_assert_cmpuint (bi.width, ==, 1024);
  /* MMIO BAR right after the VRAM. */
  uint64_t v;
  g_assert_true (io_bus_read (&mmio, 0xc1000500, 2, &v));
  g_assert_cmphex (v, ==, 0xb0c5);
  /* The hub runs: a surface shows up. */
  DisplaySurface s = { 0 };
  for (int i = 0; i < 200 && s.format == DISPLAY_FORMAT_NONE; i++)
    {
      g_usleep (10000);
      vmm_display_get_surface (display_setup_hub (ds), &s);
    }
  g_assert_cmpint (s.format, ==, DISPLAY_FORMAT_XRGB8888);

  display_setup_stop (ds);
  pci_host_destroy (&pci);
  display_setup_free (ds);
  io_bus_destroy (&pio);
  io_bus_destroy (&mmio);
  g_mutex_clear (&lock);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/display-setup/setup", test_setup);
  return g_test_run ();
}
