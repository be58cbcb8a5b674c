/* bench/virtio-blk: what the virtio-blk device path costs on top of the
 * block back end, and the same sequential 4 KiB reads/writes in QEMU's
 * block layer (`qemu-img bench`, queue depth 1) for scale.
 *
 * For each of read and write: N sequential 4 KiB requests over a 64 MiB raw
 * (or qcow2) image (1) straight through block_pread/pwrite, (2) as virtio-blk
 * requests through the PCI transport (avail ring, descriptor walk, used ring,
 * MSI-X), as a guest driver submits them one at a time. Usage:
 *   virtio-blk-bench [raw|qcow2] [count]
 * Prints one line per case in requests per second (qemu-img bench by its
 * own "Run completed" time). */
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "vmm-core/block/block.h"
#include "vmm-core/log.h"
#include "vmm-core/virtio/virtio-blk.h"
#include "../tests/virtio/virtio-test-driver.h"

#define IMAGE_SIZE (64ull << 20)
#define REQ 4096

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

static double
bench_direct (BlockDev *bs, unsigned count, bool write)
{
  static uint8_t buf[REQ];
  memset (buf, 0x5a, sizeof buf);
  double t0 = now ();
  for (unsigned i = 0; i < count; i++)
    {
      guint64 off = (guint64)i * REQ % IMAGE_SIZE;
      gboolean ok
          = write ? block_pwrite (bs, off, buf, REQ, NULL) : block_pread (bs, off, buf, REQ, NULL);
      g_assert_true (ok);
    }
  return count / (now () - t0);
}

static double
bench_virtio (VtQueue *q, unsigned count, bool write)
{
  double t0 = now ();
  for (unsigned i = 0; i < count; i++)
    {
      uint64_t sector = (uint64_t)i * (REQ / 512) % (IMAGE_SIZE / 512);
      int st = vt_blk_request (q, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector, 0x100000,
                               0x200000, REQ, NULL);
      g_assert_cmpint (st, ==, VIRTIO_BLK_S_OK);
    }
  return count / (now () - t0);
}

static double
bench_qemu (const char *path, const char *format, unsigned count, bool write)
{
  g_autofree char *cmd
      = g_strdup_printf ("qemu-img bench -f %s -c %u -d 1 -s %d -t writeback %s %s", format, count,
                         REQ, write ? "-w" : "", path);
  g_autofree char *out = NULL;
  int status;
  if (!g_spawn_command_line_sync (cmd, &out, NULL, &status, NULL) || status != 0)
    return 0;
  /* Its own timing, without process start: "Run completed in X seconds." */
  const char *at = strstr (out, "completed in ");
  double secs = at ? g_ascii_strtod (at + 13, NULL) : 0;
  return secs > 0 ? count / secs : 0;
}

int
main (int argc, char **argv)
{
  const char *format = argc > 1 ? argv[1] : "raw";
  unsigned count = argc > 2 ? (unsigned)atoi (argv[2]) : 50000;
  vmm_log_set_quiet (TRUE);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("virtio-bench-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "disk.img", NULL);
  gboolean created = g_str_equal (format, "qcow2")
                         ? block_create_qcow2 (path, IMAGE_SIZE, 0, NULL, NULL, &error)
                         : block_create_raw (path, IMAGE_SIZE, &error);
  if (!created)
    {
      fprintf (stderr, "virtio-blk-bench: %s\n", error->message);
      return 1;
    }
  BlockDev *bs = block_open (path, format, 0, &error);
  g_assert_no_error (error);

  VtBus bus;
  vt_bus_init (&bus, 16 << 20);
  VirtioBlk *blk = virtio_blk_new (&bus.ram, bs, NULL, 0);
  g_assert_true (pci_host_add_device (&bus.host, virtio_blk_pci (blk), 3, 0, &error));
  VtDev dev;
  VtQueue q;
  g_assert_true (vt_dev_probe (&dev, &bus, 3, 0xc0000000ull, 0xc0010000ull));
  vt_msix_enable (&dev, 2);
  g_assert_true (vt_negotiate (&dev, VIRTIO_FEATURE (VIRTIO_F_VERSION_1)
                                         | VIRTIO_FEATURE (VIRTIO_BLK_F_FLUSH)));
  g_assert_true (vt_queue_setup (&q, &dev, 0, 256, 0x10000, 1));
  vt_driver_ok (&dev);

  /* Allocate the whole image first so no case pays for first writes. */
  bench_direct (bs, IMAGE_SIZE / REQ, true);
  for (int w = 1; w >= 0; w--)
    {
      const char *what = w ? "write" : "read";
      double direct = bench_direct (bs, count, w);
      double virtio = bench_virtio (&q, count, w);
      printf ("%s %s 4k seq: block layer %.0f req/s, virtio-blk path %.0f req/s "
              "(device overhead %.2f us/req)\n",
              format, what, direct, virtio, 1e6 / virtio - 1e6 / direct);
    }
  g_assert_cmpuint (bus.msis->len, ==, 2ull * count);
  vt_bus_destroy (&bus);
  virtio_blk_free (blk);
  block_close (bs);

  for (int w = 1; w >= 0; w--)
    {
      double qemu = bench_qemu (path, format, count, w);
      if (qemu > 0)
        printf ("%s %s 4k seq: qemu-img bench %.0f req/s (its block layer, depth 1)\n", format,
                w ? "write" : "read", qemu);
      else
        printf ("qemu-img bench not available\n");
    }
  g_unlink (path);
  g_rmdir (dir);
  return 0;
}
