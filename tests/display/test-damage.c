/* Damage: merging, the once-per-refresh rule, dirty pages → rectangles,
 * and the hub delivering it to listeners with a manual clock. */
#include <string.h>
#include <glib.h>

#include "display/damage.h"
#include "display/vmm-display.h"

#define MS 1000000ll

static uint64_t
total_area (const DisplayRect *r, size_t n)
{
  uint64_t a = 0;
  for (size_t i = 0; i < n; i++)
    a += (uint64_t) r[i].w * r[i].h;
  return a;
}

static bool
covers (const DisplayRect *r, size_t n, uint32_t x, uint32_t y)
{
  for (size_t i = 0; i < n; i++)
    if (x >= r[i].x && x < r[i].x + r[i].w && y >= r[i].y && y < r[i].y + r[i].h)
      return true;
  return false;
}

static void
test_merge_overlapping (void)
{
  DamageAccumulator acc;
  damage_init (&acc, 100, 100, 16 * MS);
  damage_add (&acc, (DisplayRect){ 10, 10, 10, 10 });
  damage_add (&acc, (DisplayRect){ 15, 15, 10, 10 });
  DisplayRect out[DAMAGE_MAX_RECTS];
  size_t n = damage_take (&acc, 0, out);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (out[0].x, ==, 10);
  g_assert_cmpuint (out[0].y, ==, 10);
  g_assert_cmpuint (out[0].w, ==, 15);
  g_assert_cmpuint (out[0].h, ==, 15);

  /* Edge-adjacent rectangles merge; disjoint ones stay apart. */
  damage_add (&acc, (DisplayRect){ 0, 0, 10, 5 });
  damage_add (&acc, (DisplayRect){ 10, 0, 10, 5 });
  damage_add (&acc, (DisplayRect){ 50, 50, 5, 5 });
  n = damage_take (&acc, 100 * MS, out);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpuint (total_area (out, n), ==, 20 * 5 + 25);
}

static void
test_clip_and_empty (void)
{
  DamageAccumulator acc;
  damage_init (&acc, 100, 50, 0);
  damage_add (&acc, (DisplayRect){ 90, 40, 1000, 1000 });
  damage_add (&acc, (DisplayRect){ 200, 0, 10, 10 }); /* outside */
  damage_add (&acc, (DisplayRect){ 5, 5, 0, 10 });     /* empty */
  damage_add (&acc, (DisplayRect){ UINT32_MAX - 1, 0, 10, 10 });
  DisplayRect out[DAMAGE_MAX_RECTS];
  size_t n = damage_take (&acc, 0, out);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (out[0].w, ==, 10);
  g_assert_cmpuint (out[0].h, ==, 10);
}

static void
test_many_rects_bounded (void)
{
  /* A scatter of 1000 small disjoint rectangles stays within the cap and
   * still covers every one. */
  DamageAccumulator acc;
  damage_init (&acc, 1024, 768, 0);
  GRand *rand = g_rand_new_with_seed (7);
  uint32_t xs[1000], ys[1000];
  for (int i = 0; i < 1000; i++)
    {
      xs[i] = g_rand_int_range (rand, 0, 1020);
      ys[i] = g_rand_int_range (rand, 0, 764);
      damage_add (&acc, (DisplayRect){ xs[i], ys[i], 3, 3 });
      g_assert_cmpuint (acc.count, <=, DAMAGE_MAX_RECTS);
    }
  DisplayRect out[DAMAGE_MAX_RECTS];
  size_t n = damage_take (&acc, 0, out);
  g_assert_cmpuint (n, >=, 1);
  for (int i = 0; i < 1000; i++)
    {
      g_assert_true (covers (out, n, xs[i], ys[i]));
      g_assert_true (covers (out, n, xs[i] + 2, ys[i] + 2));
    }
  /* Merged rectangles never overlap each other. */
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      {
        bool ov = out[i].x < out[j].x + out[j].w && out[j].x < out[i].x + out[i].w
                  && out[i].y < out[j].y + out[j].h && out[j].y < out[i].y + out[i].h;
        g_assert_false (ov);
      }
  g_rand_free (rand);
}

static void
test_once_per_refresh (void)
{
  DamageAccumulator acc;
  damage_init (&acc, 640, 480, 16 * MS);
  DisplayRect out[DAMAGE_MAX_RECTS];
  g_assert_cmpuint (damage_take (&acc, 0, out), ==, 0); /* nothing pending */

  damage_add (&acc, (DisplayRect){ 0, 0, 8, 8 });
  g_assert_cmpuint (damage_take (&acc, 1000 * MS, out), ==, 1);
  /* Damage within the same interval waits... */
  damage_add (&acc, (DisplayRect){ 8, 0, 8, 8 });
  g_assert_cmpuint (damage_take (&acc, 1005 * MS, out), ==, 0);
  damage_add (&acc, (DisplayRect){ 16, 0, 8, 8 });
  g_assert_cmpuint (damage_take (&acc, 1015 * MS, out), ==, 0);
  g_assert_true (damage_pending (&acc));
  /* ... and arrives merged once the interval has passed. */
  size_t n = damage_take (&acc, 1016 * MS, out);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (out[0].x, ==, 8);
  g_assert_cmpuint (out[0].w, ==, 16);
  g_assert_false (damage_pending (&acc));
}

static void
test_dirty_pages (void)
{
  /* 1024x768x32: stride 4096, one page per line. */
  DisplaySurface s = { .format = DISPLAY_FORMAT_XRGB8888, .width = 1024, .height = 768,
                       .stride = 4096 };
  DamageAccumulator acc;
  damage_init (&acc, 1024, 768, 0);
  uint64_t bitmap[4096 / 64] = { 0 };
  bitmap[0] = 0x7u << 10; /* pages 10-12 */
  damage_add_dirty_pages (&acc, bitmap, 4096, &s, 0);
  DisplayRect out[DAMAGE_MAX_RECTS];
  size_t n = damage_take (&acc, 0, out);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (out[0].y, ==, 10);
  g_assert_cmpuint (out[0].h, ==, 3);
  g_assert_cmpuint (out[0].w, ==, 1024);

  /* A wide line (1920x32: 7680 bytes): page 2 lies inside line 1, so only
   * the columns it holds are damaged. */
  DisplaySurface w = { .format = DISPLAY_FORMAT_XRGB8888, .width = 1920, .height = 1080,
                       .stride = 7680 };
  damage_init (&acc, 1920, 1080, 0);
  memset (bitmap, 0, sizeof bitmap);
  bitmap[0] = 1u << 2; /* bytes 8192-12287: line 1, x 128..1151 */
  damage_add_dirty_pages (&acc, bitmap, 4096, &w, 0);
  n = damage_take (&acc, 0, out);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (out[0].y, ==, 1);
  g_assert_cmpuint (out[0].h, ==, 1);
  g_assert_cmpuint (out[0].x, ==, (8192 - 7680) / 4);
  g_assert_cmpuint (out[0].x + out[0].w, ==, (12288 - 7680) / 4);
  /* Page 3 straddles lines 1 and 2: full-width band. */
  memset (bitmap, 0, sizeof bitmap);
  bitmap[0] = 1u << 3;
  damage_add_dirty_pages (&acc, bitmap, 4096, &w, 0);
  n = damage_take (&acc, 0, out);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (out[0].y, ==, 1);
  g_assert_cmpuint (out[0].h, ==, 2);
  g_assert_cmpuint (out[0].w, ==, 1920);

  /* Pages before the framebuffer offset and after its end are ignored. */
  damage_init (&acc, 1024, 768, 0);
  memset (bitmap, 0, sizeof bitmap);
  bitmap[0] = 1; /* page 0, before fb_offset */
  bitmap[4095 / 64] = 1ull << 63; /* page 4095, beyond */
  damage_add_dirty_pages (&acc, bitmap, 4096, &s, 8192);
  g_assert_false (damage_pending (&acc));
}

static void
test_dirty_compare (void)
{
  uint8_t *vram = g_malloc0 (64 * 4096);
  DirtyCompare dc;
  dirty_compare_init (&dc);
  uint64_t bitmap[1];
  g_assert_cmpuint (dirty_compare_scan (&dc, vram, 64 * 4096, 0, 64 * 4096, bitmap, 64), ==, 64);
  g_assert_cmpuint (dirty_compare_scan (&dc, vram, 64 * 4096, 0, 64 * 4096, bitmap, 64), ==, 0);
  vram[5 * 4096 + 17] = 1;
  vram[9 * 4096] = 2;
  g_assert_cmpuint (dirty_compare_scan (&dc, vram, 64 * 4096, 0, 64 * 4096, bitmap, 64), ==, 2);
  g_assert_cmphex (bitmap[0], ==, (1ull << 5) | (1ull << 9));
  dirty_compare_free (&dc);
  g_free (vram);
}

/* ---- the hub, with a fake source ---- */

typedef struct {
  DisplaySurface surface;
  uint8_t *vram;
} FakeSource;

static void
fake_get (void *opaque, DisplaySurface *out)
{
  *out = ((FakeSource *) opaque)->surface;
}

typedef struct {
  DisplayListener base;
  unsigned surfaces;
  unsigned updates;
  DisplayRect last[DAMAGE_MAX_RECTS];
  size_t nlast;
} Recorder;

static void
rec_surface (DisplayListener *l, const DisplaySurface *s)
{
  ((Recorder *) l)->surfaces++;
}

static void
rec_update (DisplayListener *l, const DisplaySurface *s, const DisplayRect *r, size_t n)
{
  Recorder *rec = (Recorder *) l;
  rec->updates++;
  memcpy (rec->last, r, n * sizeof *r);
  rec->nlast = n;
}

static void
test_hub (void)
{
  FakeSource src = { 0 };
  src.vram = g_malloc0 (1 << 20);
  src.surface = (DisplaySurface){ .format = DISPLAY_FORMAT_XRGB8888, .width = 256,
                                  .height = 256, .stride = 1024, .fd = -1, .offset = 0,
                                  .data = src.vram, .fd_size = 1 << 20, .generation = 1 };
  GMutex lock;
  g_mutex_init (&lock);
  DisplaySource ds = { fake_get, &src };
  VmmDisplay *d = vmm_display_new (&ds, &lock, 50); /* 20 ms */
  Recorder rec = { .base = { rec_surface, rec_update } };
  /* Without listeners the hub tracks the surface but scans nothing. */
  vmm_display_refresh (d, 0);
  DisplaySurface seen;
  vmm_display_get_surface (d, &seen);
  g_assert_cmpuint (seen.width, ==, 256);
  g_assert_cmpuint (vmm_display_update_count (d), ==, 0);
  vmm_display_add_listener (d, &rec.base);
  g_assert_cmpuint (rec.surfaces, ==, 1); /* told at once */

  vmm_display_refresh (d, 0);
  g_assert_cmpuint (rec.surfaces, ==, 1);
  g_assert_cmpuint (rec.updates, ==, 1); /* the first frame is all of it */
  g_assert_cmpuint (rec.last[0].w, ==, 256);

  /* Nothing changed: no update. */
  vmm_display_refresh (d, 40 * MS);
  g_assert_cmpuint (rec.updates, ==, 1);

  /* Guest writes a pixel on line 100 (page 25) via the compare fallback. */
  src.vram[100 * 1024 + 40] = 0xff;
  vmm_display_refresh (d, 45 * MS);
  g_assert_cmpuint (rec.updates, ==, 2);
  g_assert_cmpuint (rec.nlast, ==, 1);
  g_assert_cmpuint (rec.last[0].y, ==, 100);
  g_assert_cmpuint (rec.last[0].h, ==, 4); /* one page = 4 lines of 1024 bytes */

  /* Two writes within one interval: one update after the interval. */
  src.vram[10 * 1024] = 1;
  vmm_display_refresh (d, 50 * MS);
  g_assert_cmpuint (rec.updates, ==, 2);
  src.vram[200 * 1024] = 1;
  vmm_display_refresh (d, 60 * MS);
  g_assert_cmpuint (rec.updates, ==, 2);
  vmm_display_refresh (d, 66 * MS);
  g_assert_cmpuint (rec.updates, ==, 3);
  g_assert_cmpuint (rec.nlast, ==, 2);

  /* Mode change: surface_changed and a full update. */
  src.surface.width = 128;
  src.surface.generation++;
  vmm_display_refresh (d, 100 * MS);
  g_assert_cmpuint (rec.surfaces, ==, 2);
  g_assert_cmpuint (rec.updates, ==, 4);
  g_assert_cmpuint (rec.last[0].w, ==, 128);

  /* Page flip: same geometry, new offset: no surface_changed, a full
   * update carrying the new pixels. */
  src.surface.offset = 4096;
  src.surface.data = src.vram + 4096;
  src.surface.generation++;
  vmm_display_refresh (d, 150 * MS);
  g_assert_cmpuint (rec.surfaces, ==, 2);
  g_assert_cmpuint (rec.updates, ==, 5);
  g_assert_cmpuint (rec.last[0].w, ==, 128);
  g_assert_cmpuint (rec.last[0].h, ==, 256);

  /* Explicit damage from a producer. */
  vmm_display_damage (d, (DisplayRect){ 1, 2, 3, 4 });
  vmm_display_refresh (d, 200 * MS);
  g_assert_cmpuint (rec.updates, ==, 6);
  g_assert_cmpuint (rec.last[0].x, ==, 1);

  /* The threaded refresh delivers damage on its own. */
  vmm_display_start (d);
  src.surface.data[0] = 0x55;
  for (int i = 0; i < 500 && vmm_display_update_count (d) < 7; i++)
    g_usleep (2000);
  vmm_display_stop (d);
  g_assert_cmpuint (vmm_display_update_count (d), >=, 7);

  vmm_display_remove_listener (d, &rec.base);
  vmm_display_free (d);
  g_mutex_clear (&lock);
  g_free (src.vram);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/damage/merge-overlapping", test_merge_overlapping);
  g_test_add_func ("/damage/clip-and-empty", test_clip_and_empty);
  g_test_add_func ("/damage/many-rects-bounded", test_many_rects_bounded);
  g_test_add_func ("/damage/once-per-refresh", test_once_per_refresh);
  g_test_add_func ("/damage/dirty-pages", test_dirty_pages);
  g_test_add_func ("/damage/dirty-compare", test_dirty_compare);
  g_test_add_func ("/damage/hub", test_hub);
  return g_test_run ();
}
