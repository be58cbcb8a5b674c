/* virtio-rng through the PCI transport: identity, buffers filled with
 * random bytes (split across segments, capped per buffer), readable-only
 * chains returned empty, save/load. */
#include <string.h>

#include "vmm-core/log.h"
#include "vmm-core/virtio/virtio-rng.h"
#include "virtio-test-driver.h"

#define SLOT 5
#define BAR4 0xc0100000ull
#define BAR1 0xc0200000ull

typedef struct
{
  VtBus bus;
  VirtioRng *rng;
  VtDev dev;
  VtQueue q;
} RngFx;

static void
rng_setup (RngFx *fx, gconstpointer data)
{
  vmm_log_set_quiet (TRUE);
  vt_bus_init (&fx->bus, 8 << 20);
  fx->rng = virtio_rng_new (&fx->bus.ram, 0);
  g_autoptr (GError) error = NULL;
  g_assert_true (pci_host_add_device (&fx->bus.host, virtio_rng_pci (fx->rng), SLOT, 0, &error));
  g_assert_true (vt_dev_probe (&fx->dev, &fx->bus, SLOT, BAR4, BAR1));
  g_assert_true (vt_negotiate (&fx->dev, VIRTIO_FEATURE (VIRTIO_F_VERSION_1)));
  g_assert_true (vt_queue_setup (&fx->q, &fx->dev, 0, 8, 0x10000, 0xffff));
  vt_driver_ok (&fx->dev);
}

static void
rng_teardown (RngFx *fx, gconstpointer data)
{
  vt_bus_destroy (&fx->bus);
  virtio_rng_free (fx->rng);
}

static uint8_t *
ram (RngFx *fx, uint64_t gpa, uint64_t len)
{
  return guest_ram_ptr (&fx->bus.ram, gpa, len);
}

static unsigned
distinct_bytes (const uint8_t *p, size_t len)
{
  bool seen[256] = { false };
  unsigned n = 0;
  for (size_t i = 0; i < len; i++)
    if (!seen[p[i]])
      {
        seen[p[i]] = true;
        n++;
      }
  return n;
}

static void
test_identity (RngFx *fx, gconstpointer data)
{
  g_assert_cmphex (vt_cfg_read (&fx->bus, SLOT, 0x02, 2), ==, 0x1044);
  g_assert_cmphex (vt_cfg_read (&fx->bus, SLOT, 0x08, 1), ==, 1);
}

static void
test_fill (RngFx *fx, gconstpointer data)
{
  memset (ram (fx, 0x100000, 8192), 0, 8192);
  VtSeg segs[2] = { { 0x100000, 100, true }, { 0x101000, 1000, true } };
  uint16_t head = vt_add_chain (&fx->q, segs, 2);
  vt_kick (&fx->q);
  uint32_t id, len;
  g_assert_true (vt_used_pop (&fx->q, &id, &len));
  g_assert_cmpuint (id, ==, head);
  g_assert_cmpuint (len, ==, 1100);
  /* 1000 random bytes hit nearly every value; zeroes would hit one. */
  g_assert_cmpuint (distinct_bytes (ram (fx, 0x101000, 1000), 1000), >, 200);
  g_assert_cmpuint (distinct_bytes (ram (fx, 0x100000, 100), 100), >, 30);
  g_assert_true (fx->bus.level[fx->dev.gsi]);

  /* A huge buffer gets at most VIRTIO_RNG_MAX_REQUEST bytes. */
  VtSeg big = { 0x200000, 1 << 20, true };
  vt_add_chain (&fx->q, &big, 1);
  vt_kick (&fx->q);
  g_assert_true (vt_used_pop (&fx->q, &id, &len));
  g_assert_cmpuint (len, ==, VIRTIO_RNG_MAX_REQUEST);

  /* A device-readable buffer gets nothing written. */
  memset (ram (fx, 0x300000, 64), 0x77, 64);
  VtSeg ro = { 0x300000, 64, false };
  vt_add_chain (&fx->q, &ro, 1);
  vt_kick (&fx->q);
  g_assert_true (vt_used_pop (&fx->q, &id, &len));
  g_assert_cmpuint (len, ==, 0);
  g_assert_cmpuint (distinct_bytes (ram (fx, 0x300000, 64), 64), ==, 1);

  /* Outside RAM → needs reset, no crash. */
  VtSeg bad = { 0xc0000000ull, 64, true };
  vt_add_chain (&fx->q, &bad, 1);
  vt_kick (&fx->q);
  g_assert_true (vt_status (&fx->dev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

static void
test_save_load (RngFx *fx, gconstpointer data)
{
  VtSeg seg = { 0x100000, 16, true };
  vt_add_chain (&fx->q, &seg, 1);
  vt_kick (&fx->q);
  SnapWriter *w = snap_writer_new ();
  virtio_rng_save (fx->rng, w);
  g_autoptr (GBytes) bytes = snap_writer_finish (w);
  /* Reset, then load: the queue and status come back. */
  vt_common_write (&fx->dev, VIRTIO_PCI_COMMON_STATUS, 1, 0);
  g_assert_cmphex (vt_status (&fx->dev), ==, 0);
  g_autoptr (GError) error = NULL;
  SnapReader *r = snap_reader_new (bytes, &error);
  g_assert_true (virtio_rng_load (fx->rng, r, &error));
  g_assert_no_error (error);
  snap_reader_free (r);
  g_assert_cmphex (vt_status (&fx->dev), ==, 0x0f);
  vt_add_chain (&fx->q, &seg, 1);
  vt_kick (&fx->q);
  g_assert_cmpuint (vt_used_idx (&fx->q), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add ("/virtio-rng/" path, RngFx, NULL, rng_setup, fn, rng_teardown)
  ADD ("identity", test_identity);
  ADD ("fill", test_fill);
  ADD ("save-load", test_save_load);
  return g_test_run ();
}
