/* Bochs display: dispi registers through ports and MMIO, mode validation
 * with hostile values, PCI BARs through the host bridge, the surface, the
 * screen_info data, save/load, and PNG screenshots. */
#include <png.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "display/bochs-display.h"
#include "display/screenshot.h"
#include "vmm-core/log.h"
#include "vmm-core/platform/pci-host.h"

typedef struct {
  IoBus pio, mmio;
  IrqRouter router;
  PciHost host;
  BochsDisplay dev;
  uint64_t ram_gpa, ram_size;
  void *ram_host;
  unsigned ram_maps, ram_unmaps;
} Fixture;

static void
map_ram (void *opaque, uint64_t gpa, uint64_t size, void *host, bool map)
{
  Fixture *f = opaque;
  if (map)
    {
      f->ram_maps++;
      f->ram_gpa = gpa;
      f->ram_size = size;
      f->ram_host = host;
    }
  else
    f->ram_unmaps++;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  io_bus_init (&f->pio, "pio");
  io_bus_init (&f->mmio, "mmio");
  GError *error = NULL;
  g_assert_true (bochs_display_init (&f->dev, &f->pio, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (pci_host_init (&f->host, &f->pio, &f->mmio, &f->router, map_ram, f));
  g_assert_true (pci_host_add_device (&f->host, &f->dev.pci, 2, 0, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  pci_host_destroy (&f->host);
  bochs_display_destroy (&f->dev);
  io_bus_destroy (&f->pio);
  io_bus_destroy (&f->mmio);
}

static uint16_t
dispi_in (Fixture *f, unsigned index)
{
  uint64_t v;
  io_bus_write (&f->pio, 0x1ce, 2, index);
  io_bus_read (&f->pio, 0x1cf, 2, &v);
  return (uint16_t) v;
}

static void
dispi_out (Fixture *f, unsigned index, uint16_t v)
{
  io_bus_write (&f->pio, 0x1ce, 2, index);
  io_bus_write (&f->pio, 0x1cf, 2, v);
}

static uint32_t
cfg_read (Fixture *f, unsigned off)
{
  uint64_t v;
  io_bus_write (&f->pio, 0xcf8, 4, 0x80000000u | (2u << 11) | off);
  io_bus_read (&f->pio, 0xcfc, 4, &v);
  return (uint32_t) v;
}

static void
cfg_write (Fixture *f, unsigned off, uint32_t v)
{
  io_bus_write (&f->pio, 0xcf8, 4, 0x80000000u | (2u << 11) | off);
  io_bus_write (&f->pio, 0xcfc, 4, v);
}

static void
test_power_on (Fixture *f, gconstpointer data)
{
  g_assert_cmphex (dispi_in (f, DISPI_INDEX_ID), ==, 0xb0c5);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_XRES), ==, 1024);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_YRES), ==, 768);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_BPP), ==, 32);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_VIDEO_MEMORY_64K), ==, 256);
  g_assert_true (dispi_in (f, DISPI_INDEX_ENABLE) & DISPI_ENABLED);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_VIRT_HEIGHT), ==, 16 * 1024 * 1024 / 4096);

  DisplaySurface s;
  bochs_display_surface (&f->dev, &s);
  g_assert_cmpint (s.format, ==, DISPLAY_FORMAT_XRGB8888);
  g_assert_cmpuint (s.width, ==, 1024);
  g_assert_cmpuint (s.stride, ==, 4096);
  g_assert_cmpint (s.fd, >=, 0);
  g_assert_true (s.data == f->dev.vram);

  /* GETCAPS reports the maxima. */
  dispi_out (f, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED | DISPI_GETCAPS);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_XRES), ==, BOCHS_MAX_XRES);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_BPP), ==, 32);
  dispi_out (f, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_XRES), ==, 1024);
}

static void
test_pci (Fixture *f, gconstpointer data)
{
  g_assert_cmphex (cfg_read (f, 0x00), ==, 0x11111234);
  g_assert_cmphex (cfg_read (f, 0x2c), ==, 0x11001af4);
  g_assert_cmphex (cfg_read (f, 0x08) >> 8, ==, 0x038000);
  /* BAR 0: 16 MiB prefetchable memory; BAR 2: 4 KiB memory. */
  cfg_write (f, 0x10, 0xffffffff);
  g_assert_cmphex (cfg_read (f, 0x10), ==, 0xff000008);
  cfg_write (f, 0x18, 0xffffffff);
  g_assert_cmphex (cfg_read (f, 0x18), ==, 0xfffff000);

  cfg_write (f, 0x10, 0xe0000000);
  cfg_write (f, 0x18, 0xe1000000);
  cfg_write (f, 0x04, PCI_COMMAND_MEMORY);
  g_assert_cmpuint (f->ram_maps, ==, 1);
  g_assert_cmphex (f->ram_gpa, ==, 0xe0000000);
  g_assert_cmpuint (f->ram_size, ==, 16u << 20);
  g_assert_true (f->ram_host == f->dev.vram);

  /* The MMIO dispi block and the QEMU extension registers. */
  uint64_t v;
  g_assert_true (io_bus_read (&f->mmio, 0xe1000500, 2, &v));
  g_assert_cmphex (v, ==, 0xb0c5);
  g_assert_true (io_bus_read (&f->mmio, 0xe1000500 + 2 * DISPI_INDEX_VIDEO_MEMORY_64K, 2, &v));
  g_assert_cmpuint (v, ==, 256);
  g_assert_true (io_bus_read (&f->mmio, 0xe1000600, 4, &v));
  g_assert_cmpuint (v, ==, 8);
  g_assert_true (io_bus_read (&f->mmio, 0xe1000604, 4, &v));
  g_assert_cmphex (v, ==, 0x1e1e1e1e);
  /* VGA attribute writes (bochs-drm's unblank) are accepted. */
  g_assert_true (io_bus_write (&f->mmio, 0xe1000400, 1, 0x20));

  /* bochs-drm's mode set through MMIO: 800x600x16. */
  static const struct { unsigned idx; uint16_t v; } seq[] = {
    { DISPI_INDEX_ENABLE, 0 }, { DISPI_INDEX_BPP, 16 }, { DISPI_INDEX_XRES, 800 },
    { DISPI_INDEX_YRES, 600 }, { DISPI_INDEX_BANK, 0 }, { DISPI_INDEX_VIRT_WIDTH, 800 },
    { DISPI_INDEX_VIRT_HEIGHT, 600 }, { DISPI_INDEX_X_OFFSET, 0 }, { DISPI_INDEX_Y_OFFSET, 0 },
    { DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (seq); i++)
    io_bus_write (&f->mmio, 0xe1000500 + 2 * seq[i].idx, 2, seq[i].v);
  DisplaySurface s;
  bochs_display_surface (&f->dev, &s);
  g_assert_cmpint (s.format, ==, DISPLAY_FORMAT_RGB565);
  g_assert_cmpuint (s.width, ==, 800);
  g_assert_cmpuint (s.height, ==, 600);
  g_assert_cmpuint (s.stride, ==, 1600);

  /* screen_info data for the loader. */
  BootDisplayInfo bi;
  g_assert_true (bochs_display_boot_info (&f->dev, &bi));
  g_assert_cmphex (bi.lfb_base, ==, 0xe0000000);
  g_assert_cmpuint (bi.depth, ==, 16);
  g_assert_cmpuint (bi.stride, ==, 1600);
  g_assert_cmpuint (bi.red_pos, ==, 11);
  g_assert_cmpuint (bi.green_size, ==, 6);

  /* Page flip through Y_OFFSET while enabled. */
  io_bus_write (&f->mmio, 0xe1000500 + 2 * DISPI_INDEX_Y_OFFSET, 2, 600);
  bochs_display_surface (&f->dev, &s);
  g_assert_cmpuint (s.offset, ==, 600 * 1600);
  g_assert_true (bochs_display_boot_info (&f->dev, &bi));
  g_assert_cmphex (bi.lfb_base, ==, 0xe0000000 + 600 * 1600);
}

static void
test_assign_bars (Fixture *f, gconstpointer data)
{
  BootDisplayInfo bi;
  g_assert_false (bochs_display_boot_info (&f->dev, &bi)); /* no address yet */
  g_assert_false (bochs_display_assign_bars (&f->dev, 0xc0100000, 0xc1000000));
  g_assert_true (bochs_display_assign_bars (&f->dev, 0xc0000000, 0xc1000000));
  g_assert_cmpuint (f->ram_maps, ==, 1);
  g_assert_cmphex (f->ram_gpa, ==, 0xc0000000);
  uint64_t v;
  g_assert_true (io_bus_read (&f->mmio, 0xc1000500, 2, &v));
  g_assert_cmphex (v, ==, 0xb0c5);
  g_assert_true (bochs_display_boot_info (&f->dev, &bi));
  g_assert_cmphex (bi.lfb_base, ==, 0xc0000000);
  g_assert_cmpuint (bi.width, ==, 1024);
  g_assert_cmpuint (bi.height, ==, 768);
  g_assert_cmpuint (bi.depth, ==, 32);
  g_assert_cmpuint (bi.stride, ==, 4096);
  g_assert_cmpuint (bi.lfb_size, ==, 16u << 20);
  g_assert_cmpuint (bi.red_pos, ==, 16);
  g_assert_cmpuint (bi.green_pos, ==, 8);
  g_assert_cmpuint (bi.blue_pos, ==, 0);
  g_assert_cmpuint (bi.rsvd_size, ==, 8);
}

static void
test_hostile_modes (Fixture *f, gconstpointer data)
{
  vmm_log_set_quiet (TRUE);
  guint64 errs = vmm_guest_error_count ();
  DisplaySurface before, s;
  bochs_display_surface (&f->dev, &before);

  /* Too big for 16 MiB: 4096x4096x32 = 64 MiB. */
  dispi_out (f, DISPI_INDEX_ENABLE, 0);
  dispi_out (f, DISPI_INDEX_XRES, 4096);
  dispi_out (f, DISPI_INDEX_YRES, 4096);
  dispi_out (f, DISPI_INDEX_BPP, 32);
  dispi_out (f, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
  g_assert_false (dispi_in (f, DISPI_INDEX_ENABLE) & DISPI_ENABLED);
  bochs_display_surface (&f->dev, &s);
  g_assert_cmpint (s.format, ==, DISPLAY_FORMAT_NONE);

  /* Bad depth, zero size, absurd size (clamped when latched). */
  dispi_out (f, DISPI_INDEX_XRES, 640);
  dispi_out (f, DISPI_INDEX_YRES, 480);
  dispi_out (f, DISPI_INDEX_BPP, 13);
  dispi_out (f, DISPI_INDEX_ENABLE, DISPI_ENABLED);
  g_assert_false (dispi_in (f, DISPI_INDEX_ENABLE) & DISPI_ENABLED);
  dispi_out (f, DISPI_INDEX_BPP, 32);
  dispi_out (f, DISPI_INDEX_XRES, 0);
  dispi_out (f, DISPI_INDEX_ENABLE, DISPI_ENABLED);
  g_assert_false (dispi_in (f, DISPI_INDEX_ENABLE) & DISPI_ENABLED);
  dispi_out (f, DISPI_INDEX_XRES, 0xffff);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_XRES), ==, BOCHS_MAX_XRES);

  /* A valid mode, then offsets that would run past VRAM are refused. */
  dispi_out (f, DISPI_INDEX_XRES, 640);
  dispi_out (f, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
  g_assert_true (dispi_in (f, DISPI_INDEX_ENABLE) & DISPI_ENABLED);
  dispi_out (f, DISPI_INDEX_Y_OFFSET, 0xffff);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_Y_OFFSET), ==, 0);
  dispi_out (f, DISPI_INDEX_X_OFFSET, 1);  /* beyond virt width 640 */
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_X_OFFSET), ==, 0);
  dispi_out (f, DISPI_INDEX_VIRT_WIDTH, 0xffff); /* 65535*4*480 > 16 MiB */
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_VIRT_WIDTH), ==, 640);
  /* Largest Y offset that still fits: virt_height - yres. */
  uint16_t vh = dispi_in (f, DISPI_INDEX_VIRT_HEIGHT);
  dispi_out (f, DISPI_INDEX_Y_OFFSET, (uint16_t) (vh - 480));
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_Y_OFFSET), ==, vh - 480);
  bochs_display_surface (&f->dev, &s);
  g_assert_cmpuint (s.offset + (uint64_t) s.stride * s.height, <=, 16u << 20);
  dispi_out (f, DISPI_INDEX_Y_OFFSET, (uint16_t) (vh - 479));
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_Y_OFFSET), ==, vh - 480);

  /* Unknown ID, bad index, read-only registers, bank clamp. */
  dispi_out (f, DISPI_INDEX_ID, 0x1234);
  g_assert_cmphex (dispi_in (f, DISPI_INDEX_ID), ==, 0xb0c5);
  dispi_out (f, DISPI_INDEX_ID, 0xb0c2);
  g_assert_cmphex (dispi_in (f, DISPI_INDEX_ID), ==, 0xb0c2);
  g_assert_cmpuint (dispi_in (f, 0x4242), ==, 0);
  dispi_out (f, 0x4242, 1);
  dispi_out (f, DISPI_INDEX_VIDEO_MEMORY_64K, 1);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_VIDEO_MEMORY_64K), ==, 256);
  dispi_out (f, DISPI_INDEX_BANK, 9999);
  g_assert_cmpuint (dispi_in (f, DISPI_INDEX_BANK), ==, 255);
  g_assert_cmpuint (vmm_guest_error_count (), >, errs);

  /* Random register traffic: the surface always stays inside VRAM. */
  GRand *rand = g_rand_new_with_seed (3);
  for (int i = 0; i < 5000; i++)
    {
      dispi_out (f, g_rand_int_range (rand, 0, 12), (uint16_t) g_rand_int (rand));
      bochs_display_surface (&f->dev, &s);
      if (s.format != DISPLAY_FORMAT_NONE)
        {
          uint64_t end = s.offset + (uint64_t) s.stride * (s.height - 1)
                         + (uint64_t) s.width * display_format_bpp (s.format);
          g_assert_cmpuint (end, <=, f->dev.vram_size);
          g_assert_cmpuint (s.width, <=, BOCHS_MAX_XRES);
        }
    }
  g_rand_free (rand);
  vmm_log_set_quiet (FALSE);
  (void) before;
}

static void
test_bad_config (void)
{
  BochsDisplay dev;
  GError *error = NULL;
  BochsDisplayConfig c = { .width = 4096, .height = 4096, .bpp = 32 };
  g_assert_false (bochs_display_init (&dev, NULL, &c, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  c = (BochsDisplayConfig){ .vram_size = 3u << 20 };
  g_assert_false (bochs_display_init (&dev, NULL, &c, &error));
  g_clear_error (&error);
  c = (BochsDisplayConfig){ .width = 1920, .height = 1080, .bpp = 32, .vram_size = 32u << 20 };
  g_assert_true (bochs_display_init (&dev, NULL, &c, &error));
  DisplaySurface s;
  bochs_display_surface (&dev, &s);
  g_assert_cmpuint (s.width, ==, 1920);
  g_assert_cmpuint (bochs_dispi_read (&dev, DISPI_INDEX_VIDEO_MEMORY_64K), ==, 512);
  bochs_display_destroy (&dev);
}

static void
test_save_load (Fixture *f, gconstpointer data)
{
  dispi_out (f, DISPI_INDEX_ENABLE, 0);
  dispi_out (f, DISPI_INDEX_XRES, 640);
  dispi_out (f, DISPI_INDEX_YRES, 480);
  dispi_out (f, DISPI_INDEX_BPP, 16);
  dispi_out (f, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
  f->dev.vram[1234] = 0x5a;
  SnapWriter *w = snap_writer_new ();
  bochs_display_save (&f->dev, w);
  GBytes *bytes = snap_writer_finish (w);

  BochsDisplay other;
  GError *error = NULL;
  g_assert_true (bochs_display_init (&other, NULL, NULL, &error));
  SnapReader *r = snap_reader_new (bytes, &error);
  g_assert_true (bochs_display_load (&other, r, &error));
  g_assert_no_error (error);
  snap_reader_free (r);
  DisplaySurface s;
  bochs_display_surface (&other, &s);
  g_assert_cmpint (s.format, ==, DISPLAY_FORMAT_RGB565);
  g_assert_cmpuint (s.width, ==, 640);
  g_assert_cmpuint (other.vram[1234], ==, 0x5a);
  bochs_display_destroy (&other);

  /* A display with a different VRAM size refuses the snapshot. */
  BochsDisplayConfig c = { .vram_size = 8u << 20 };
  g_assert_true (bochs_display_init (&other, NULL, &c, &error));
  r = snap_reader_new (bytes, &error);
  g_assert_false (bochs_display_load (&other, r, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  snap_reader_free (r);
  bochs_display_destroy (&other);
  g_bytes_unref (bytes);
}

static void
test_screenshot (Fixture *f, gconstpointer data)
{
  DisplaySurface s;
  dispi_out (f, DISPI_INDEX_ENABLE, 0);
  dispi_out (f, DISPI_INDEX_XRES, 64);
  dispi_out (f, DISPI_INDEX_YRES, 48);
  dispi_out (f, DISPI_INDEX_BPP, 32);
  dispi_out (f, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
  bochs_display_surface (&f->dev, &s);
  for (uint32_t y = 0; y < s.height; y++)
    for (uint32_t x = 0; x < s.width; x++)
      {
        uint8_t *p = s.data + y * s.stride + x * 4;
        p[0] = (uint8_t) (x * 4); /* blue */
        p[1] = (uint8_t) (y * 5); /* green */
        p[2] = 0xc0;              /* red */
        p[3] = 0x77;              /* ignored */
      }
  g_autofree char *dir = g_dir_make_tmp ("vireo-shot-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "shot.png", NULL);
  GError *error = NULL;
  g_assert_true (display_screenshot_png_file (&s, path, &error));
  g_assert_no_error (error);

  png_image img = { .version = PNG_IMAGE_VERSION };
  g_assert_true (png_image_begin_read_from_file (&img, path));
  g_assert_cmpuint (img.width, ==, 64);
  g_assert_cmpuint (img.height, ==, 48);
  img.format = PNG_FORMAT_RGB;
  guint8 *buf = g_malloc (PNG_IMAGE_SIZE (img));
  g_assert_true (png_image_finish_read (&img, NULL, buf, 0, NULL));
  for (uint32_t y = 0; y < 48; y++)
    for (uint32_t x = 0; x < 64; x++)
      {
        guint8 *p = buf + (y * 64 + x) * 3;
        g_assert_cmpuint (p[0], ==, 0xc0);
        g_assert_cmpuint (p[1], ==, (uint8_t) (y * 5));
        g_assert_cmpuint (p[2], ==, (uint8_t) (x * 4));
      }
  g_free (buf);

  GBytes *png = display_screenshot_png_bytes (&s, &error);
  g_assert_nonnull (png);
  g_assert_cmpmem (g_bytes_get_data (png, NULL), 8, "\x89PNG\r\n\x1a\n", 8);
  g_bytes_unref (png);

  /* 16 bpp converts: pure red 0xF800 → ff0000. */
  dispi_out (f, DISPI_INDEX_ENABLE, 0);
  dispi_out (f, DISPI_INDEX_BPP, 16);
  dispi_out (f, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
  bochs_display_surface (&f->dev, &s);
  s.data[0] = 0x00;
  s.data[1] = 0xf8;
  g_assert_cmphex (display_surface_pixel (&s, 0, 0), ==, 0xff0000);

  /* A display that is off has no screenshot; an unwritable path fails. */
  dispi_out (f, DISPI_INDEX_ENABLE, 0);
  bochs_display_surface (&f->dev, &s);
  g_assert_false (display_screenshot_png_file (&s, path, &error));
  g_clear_error (&error);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(p, fn) g_test_add (p, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/bochs-display/power-on", test_power_on);
  ADD ("/bochs-display/pci", test_pci);
  ADD ("/bochs-display/assign-bars", test_assign_bars);
  ADD ("/bochs-display/hostile-modes", test_hostile_modes);
  ADD ("/bochs-display/save-load", test_save_load);
  ADD ("/bochs-display/screenshot", test_screenshot);
  g_test_add_func ("/bochs-display/bad-config", test_bad_config);
  return g_test_run ();
}
