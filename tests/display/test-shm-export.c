/* Shared-memory export: surface and damage arrive on the given main
 * context, merged, and the fd maps the same pixels the device holds. */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <glib.h>

#include "display/bochs-display.h"
#include "display/shm-export.h"

typedef struct {
  GThread *thread; /* where callbacks must run */
  unsigned surfaces, damages;
  DisplaySurface surface;
  DisplayRect rects[DAMAGE_MAX_RECTS];
  size_t n;
} Seen;

static void
seen_surface (void *opaque, const DisplaySurface *s)
{
  Seen *seen = opaque;
  g_assert_true (g_thread_self () == seen->thread);
  seen->surfaces++;
  seen->surface = *s;
}

static void
seen_damage (void *opaque, const DisplayRect *r, size_t n)
{
  Seen *seen = opaque;
  g_assert_true (g_thread_self () == seen->thread);
  seen->damages++;
  memcpy (seen->rects, r, n * sizeof *r);
  seen->n = n;
}

static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_export (void)
{
  BochsDisplay dev;
  GError *error = NULL;
  BochsDisplayConfig cfg = { .width = 640, .height = 480, .bpp = 32, .vram_size = 4u << 20 };
  g_assert_true (bochs_display_init (&dev, NULL, &cfg, &error));
  GMutex lock;
  g_mutex_init (&lock);
  DisplaySource src = bochs_display_source (&dev);
  VmmDisplay *d = vmm_display_new (&src, &lock, 60);

  Seen seen = { .thread = g_thread_self () };
  DisplayShmCallbacks cb = { seen_surface, seen_damage, &seen };
  DisplayShmExport *e = display_shm_export_new (d, &cb, NULL);

  vmm_display_refresh (d, 0);
  g_assert_cmpuint (seen.surfaces, ==, 0); /* not before the context runs */
  drain ();
  g_assert_cmpuint (seen.surfaces, ==, 1);
  g_assert_cmpuint (seen.surface.width, ==, 640);
  g_assert_cmpuint (seen.damages, ==, 1);
  g_assert_cmpuint (seen.rects[0].w, ==, 640);

  /* The fd is the VRAM: a guest write shows through a fresh mapping. */
  uint8_t *map = mmap (NULL, 4u << 20, PROT_READ, MAP_SHARED, seen.surface.fd, 0);
  g_assert_true (map != MAP_FAILED);
  g_mutex_lock (&lock);
  dev.vram[seen.surface.offset + 10 * seen.surface.stride + 40] = 0xab;
  g_mutex_unlock (&lock);
  g_assert_cmpuint (map[seen.surface.offset + 10 * seen.surface.stride + 40], ==, 0xab);

  /* Two refreshes before the context runs: one merged delivery. */
  vmm_display_refresh (d, 100000000);
  dev.vram[300 * 2560] = 1;
  vmm_display_refresh (d, 200000000);
  drain ();
  g_assert_cmpuint (seen.damages, ==, 2);
  g_assert_cmpuint (seen.n, ==, 2);

  /* Mode change: the export reports the new geometry. */
  g_mutex_lock (&lock);
  bochs_dispi_write (&dev, DISPI_INDEX_ENABLE, 0);
  bochs_dispi_write (&dev, DISPI_INDEX_XRES, 800);
  bochs_dispi_write (&dev, DISPI_INDEX_YRES, 600);
  bochs_dispi_write (&dev, DISPI_INDEX_BPP, 16);
  bochs_dispi_write (&dev, DISPI_INDEX_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
  g_mutex_unlock (&lock);
  vmm_display_refresh (d, 300000000);
  drain ();
  g_assert_cmpuint (seen.surfaces, ==, 2);
  g_assert_cmpuint (seen.surface.width, ==, 800);
  g_assert_cmpint (seen.surface.format, ==, DISPLAY_FORMAT_RGB565);
  DisplaySurface cur;
  display_shm_export_get_surface (e, &cur);
  g_assert_cmpuint (cur.stride, ==, 1600);

  munmap (map, 4u << 20);
  display_shm_export_free (e);
  vmm_display_free (d);
  bochs_display_destroy (&dev);
  g_mutex_clear (&lock);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/shm-export/export", test_export);
  return g_test_run ();
}
