/* virtio-blk through the PCI transport, driven like a guest driver would:
 * identity, feature negotiation, I/O against a raw image, limits, MSI-X,
 * INTx + ISR, event idx, reset and save/load. */
#include <fcntl.h>
#include <unistd.h>

#include "virtio-blk-fixture.h"

#define BLK_FEATURES                                                                               \
  (VIRTIO_FEATURE (VIRTIO_BLK_F_FLUSH) | VIRTIO_FEATURE (VIRTIO_BLK_F_DISCARD)                     \
   | VIRTIO_FEATURE (VIRTIO_BLK_F_WRITE_ZEROES) | VIRTIO_FEATURE (VIRTIO_BLK_F_SEG_MAX)            \
   | VIRTIO_FEATURE (VIRTIO_BLK_F_BLK_SIZE))

static void
test_identity (Fx *fx, gconstpointer data)
{
  VtBus *b = &fx->bus;
  g_assert_cmphex (vt_cfg_read (b, FX_SLOT, 0x00, 2), ==, 0x1af4);
  g_assert_cmphex (vt_cfg_read (b, FX_SLOT, 0x02, 2), ==, 0x1042);
  g_assert_cmphex (vt_cfg_read (b, FX_SLOT, 0x08, 1), ==, 1);
  g_assert_cmphex (vt_cfg_read (b, FX_SLOT, 0x2c, 2), ==, 0x1af4);
  g_assert_cmphex (vt_cfg_read (b, FX_SLOT, 0x2e, 2), >=, 0x40);
  /* BAR 4 is a 64-bit memory BAR. */
  g_assert_cmphex (vt_cfg_read (b, FX_SLOT, 0x20, 4) & 0x7, ==, 0x4);
  g_assert_cmpuint (fx->dev.notify_mult, ==, 4);
  g_assert_cmpuint (fx->dev.device_len, >=, VIRTIO_BLK_CFG_SIZE);

  uint64_t f = vt_device_features (&fx->dev);
  g_assert_true (f & VIRTIO_FEATURE (VIRTIO_F_VERSION_1));
  g_assert_true (f & VIRTIO_FEATURE (VIRTIO_F_RING_EVENT_IDX));
  g_assert_true (f & VIRTIO_FEATURE (VIRTIO_F_INDIRECT_DESC));
  g_assert_true ((f & BLK_FEATURES) == BLK_FEATURES);
  g_assert_false (f & VIRTIO_FEATURE (VIRTIO_BLK_F_RO));
  g_assert_cmpuint (vt_device_cfg_read (&fx->dev, VIRTIO_BLK_CFG_CAPACITY, 4), ==, FX_SECTORS);
  g_assert_cmpuint (vt_device_cfg_read (&fx->dev, VIRTIO_BLK_CFG_CAPACITY + 4, 4), ==, 0);
  g_assert_cmpuint (vt_device_cfg_read (&fx->dev, VIRTIO_BLK_CFG_SEG_MAX, 4), ==,
                    VIRTIO_BLK_QUEUE_SIZE - 2);
  g_assert_cmpuint (vt_device_cfg_read (&fx->dev, VIRTIO_BLK_CFG_BLK_SIZE, 4), ==, 512);
  g_assert_cmpuint (vt_device_cfg_read (&fx->dev, VIRTIO_BLK_CFG_MAX_DISCARD_SEG, 4), ==,
                    VIRTIO_BLK_MAX_DISCARD_SEG);
  g_assert_cmpuint (vt_common_read (&fx->dev, VIRTIO_PCI_COMMON_NUMQ, 2), ==, 1);
  vt_common_write (&fx->dev, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
  g_assert_cmpuint (vt_common_read (&fx->dev, VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, 256);
  vt_common_write (&fx->dev, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
  g_assert_cmpuint (vt_common_read (&fx->dev, VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, 0);
}

static void
test_negotiation (Fx *fx, gconstpointer data)
{
  VtDev *d = &fx->dev;
  /* Legacy drivers (no VERSION_1) are refused. */
  g_assert_false (vt_negotiate (d, VIRTIO_FEATURE (VIRTIO_BLK_F_FLUSH)));
  /* So are bits the device did not offer. */
  g_assert_false (vt_negotiate (d, VIRTIO_FEATURE (VIRTIO_F_VERSION_1) | (1ull << 40)));
  /* DRIVER_OK without FEATURES_OK does not stick. */
  vt_driver_ok (d);
  g_assert_false (vt_status (d) & VIRTIO_STATUS_DRIVER_OK);
  g_assert_true (vt_negotiate (d, VIRTIO_FEATURE (VIRTIO_F_VERSION_1)));
  /* Features are frozen after FEATURES_OK. */
  vt_common_write (d, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
  vt_common_write (d, VIRTIO_PCI_COMMON_GF, 4, VIRTIO_FEATURE (VIRTIO_BLK_F_FLUSH));
  g_assert_cmphex (vt_common_read (d, VIRTIO_PCI_COMMON_GF, 4), ==, 0);
  vt_driver_ok (d);
  g_assert_cmphex (vt_status (d), ==, 0x0f);
  /* Writing 0 resets. */
  vt_common_write (d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
  g_assert_cmphex (vt_status (d), ==, 0);
  /* The PCI config access capability reaches the common config. */
  VtBus *b = &fx->bus;
  unsigned c = d->pci_cfg_cap;
  g_assert_cmpuint (c, !=, 0);
  vt_cfg_write (b, FX_SLOT, c + 4, 1, 4);
  vt_cfg_write (b, FX_SLOT, c + 8, 4, d->common + VIRTIO_PCI_COMMON_NUMQ);
  vt_cfg_write (b, FX_SLOT, c + 12, 4, 2);
  g_assert_cmpuint (vt_cfg_read (b, FX_SLOT, c + 16, 4), ==, 1);
  vt_cfg_write (b, FX_SLOT, c + 8, 4, d->common + VIRTIO_PCI_COMMON_STATUS);
  vt_cfg_write (b, FX_SLOT, c + 12, 4, 1);
  vt_cfg_write (b, FX_SLOT, c + 16, 4, VIRTIO_STATUS_ACKNOWLEDGE);
  g_assert_cmphex (vt_status (d), ==, VIRTIO_STATUS_ACKNOWLEDGE);
}

static void
fill_pattern (uint8_t *p, size_t len, unsigned seed)
{
  for (size_t i = 0; i < len; i++)
    p[i] = (uint8_t)(i * 7 + seed);
}

static void
test_io (Fx *fx, gconstpointer data)
{
  fx_start (fx, BLK_FEATURES, 0xffff);
  VtQueue *q = &fx->q;
  uint8_t *buf = fx_ram (fx, FX_DATA, 65536);
  uint32_t used;

  fill_pattern (buf, 4096, 3);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_OUT, 10, FX_HDR, FX_DATA, 4096, &used), ==,
                   VIRTIO_BLK_S_OK);
  g_assert_cmpuint (used, ==, 1);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==,
                   VIRTIO_BLK_S_OK);

  /* The bytes are in the image file at sector 10. */
  uint8_t file[4096];
  int fd = open (fx->path, O_RDONLY);
  g_assert_cmpint (pread (fd, file, sizeof file, 10 * 512), ==, 4096);
  close (fd);
  g_assert_cmpmem (file, 4096, buf, 4096);

  memset (buf, 0, 65536);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_IN, 10, FX_HDR, FX_DATA, 4096, &used), ==,
                   VIRTIO_BLK_S_OK);
  g_assert_cmpuint (used, ==, 4097);
  g_assert_cmpmem (file, 4096, buf, 4096);

  /* Last sector of the disk is fine, one past is IOERR and untouched. */
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_IN, FX_SECTORS - 1, FX_HDR, FX_DATA, 512, NULL),
                   ==, VIRTIO_BLK_S_OK);
  g_assert_cmpint (
      vt_blk_request (q, VIRTIO_BLK_T_OUT, FX_SECTORS - 1, FX_HDR, FX_DATA, 1024, NULL), ==,
      VIRTIO_BLK_S_IOERR);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_IN, UINT64_MAX, FX_HDR, FX_DATA, 512, NULL), ==,
                   VIRTIO_BLK_S_IOERR);
  g_assert_cmpint (
      vt_blk_request (q, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, FX_HDR, FX_DATA, 512, NULL), ==,
      VIRTIO_BLK_S_IOERR);
  /* Not a whole number of sectors. */
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_OUT, 0, FX_HDR, FX_DATA, 100, NULL), ==,
                   VIRTIO_BLK_S_IOERR);
  g_assert_cmpuint (block_size (fx->bs), ==, FX_SECTORS * 512ull);

  /* GET_ID: 20 bytes of serial. */
  memset (buf, 0xaa, 64);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_GET_ID, 0, FX_HDR, FX_DATA, 64, &used), ==,
                   VIRTIO_BLK_S_OK);
  g_assert_cmpuint (used, ==, 21);
  g_assert_cmpmem (buf, 20, "serial-0123456789abc", 20);
  g_assert_cmpuint (buf[20], ==, 0xaa);

  /* Unknown request type. */
  g_assert_cmpint (vt_blk_request (q, 77, 0, FX_HDR, FX_DATA, 512, NULL), ==, VIRTIO_BLK_S_UNSUPP);
  g_assert_false (fx_needs_reset (fx));
}

static void
put_range (uint8_t *p, uint64_t sector, uint32_t num, uint32_t flags)
{
  sector = GUINT64_TO_LE (sector);
  num = GUINT32_TO_LE (num);
  flags = GUINT32_TO_LE (flags);
  memcpy (p, &sector, 8);
  memcpy (p + 8, &num, 4);
  memcpy (p + 12, &flags, 4);
}

static void
test_discard_write_zeroes (Fx *fx, gconstpointer data)
{
  fx_start (fx, BLK_FEATURES, 0xffff);
  VtQueue *q = &fx->q;
  uint8_t *buf = fx_ram (fx, FX_DATA, 65536);
  uint8_t *seg = fx_ram (fx, FX_DATA + 0x8000, 64);

  fill_pattern (buf, 8192, 9);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_OUT, 100, FX_HDR, FX_DATA, 8192, NULL), ==,
                   VIRTIO_BLK_S_OK);
  /* Write zeroes over sectors 104..107 (with unmap) → they read back zero,
   * the rest survives. */
  put_range (seg, 104, 4, 1);
  g_assert_cmpint (
      vt_blk_request (q, VIRTIO_BLK_T_WRITE_ZEROES, 0, FX_HDR, FX_DATA + 0x8000, 16, NULL), ==,
      VIRTIO_BLK_S_OK);
  memset (buf, 0xff, 8192);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_IN, 100, FX_HDR, FX_DATA, 8192, NULL), ==,
                   VIRTIO_BLK_S_OK);
  uint8_t expect[8192];
  fill_pattern (expect, 8192, 9);
  memset (expect + 2048, 0, 2048);
  g_assert_cmpmem (buf, 8192, expect, 8192);

  /* Discard: two ranges, fine. */
  put_range (seg, 100, 2, 0);
  put_range (seg + 16, 110, 6, 0);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_DISCARD, 0, FX_HDR, FX_DATA + 0x8000, 32, NULL),
                   ==, VIRTIO_BLK_S_OK);
  /* Discard with the unmap flag is not defined: UNSUPP. */
  put_range (seg, 100, 2, 1);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_DISCARD, 0, FX_HDR, FX_DATA + 0x8000, 16, NULL),
                   ==, VIRTIO_BLK_S_UNSUPP);
  /* Out of range (second segment) → IOERR and the first one not applied. */
  fill_pattern (buf, 512, 1);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_OUT, 0, FX_HDR, FX_DATA, 512, NULL), ==,
                   VIRTIO_BLK_S_OK);
  put_range (seg, 0, 1, 0);
  put_range (seg + 16, FX_SECTORS - 1, 2, 0);
  g_assert_cmpint (
      vt_blk_request (q, VIRTIO_BLK_T_WRITE_ZEROES, 0, FX_HDR, FX_DATA + 0x8000, 32, NULL), ==,
      VIRTIO_BLK_S_IOERR);
  put_range (seg + 16, UINT64_MAX - 1, 4, 0);
  g_assert_cmpint (
      vt_blk_request (q, VIRTIO_BLK_T_WRITE_ZEROES, 0, FX_HDR, FX_DATA + 0x8000, 32, NULL), ==,
      VIRTIO_BLK_S_IOERR);
  memset (buf, 0, 512);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_IN, 0, FX_HDR, FX_DATA, 512, NULL), ==,
                   VIRTIO_BLK_S_OK);
  fill_pattern (expect, 512, 1);
  g_assert_cmpmem (buf, 512, expect, 512);
  /* Too many segments, or a ragged segment array. */
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_DISCARD, 0, FX_HDR, FX_DATA,
                                   16 * (VIRTIO_BLK_MAX_DISCARD_SEG + 1), NULL),
                   ==, VIRTIO_BLK_S_IOERR);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_DISCARD, 0, FX_HDR, FX_DATA + 0x8000, 20, NULL),
                   ==, VIRTIO_BLK_S_IOERR);
}

/* The same path on a qcow2 image: data written through the device reads
 * back, zeroed and discarded ranges read as zeroes, and the image reopens
 * with the data in it. */
static void
test_qcow2 (Fx *fx, gconstpointer data)
{
  fx_start (fx, BLK_FEATURES, 0xffff);
  VtQueue *q = &fx->q;
  uint8_t *buf = fx_ram (fx, FX_DATA, 262144);
  uint8_t *seg = fx_ram (fx, FX_DATA + 0x80000, 32);
  fill_pattern (buf, 262144, 2);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_OUT, 0, FX_HDR, FX_DATA, 262144, NULL), ==,
                   VIRTIO_BLK_S_OK);
  put_range (seg, 128, 128, 1); /* 64 KiB write-zeroes, whole cluster */
  put_range (seg + 16, 300, 8, 0);
  g_assert_cmpint (
      vt_blk_request (q, VIRTIO_BLK_T_WRITE_ZEROES, 0, FX_HDR, FX_DATA + 0x80000, 32, NULL), ==,
      VIRTIO_BLK_S_OK);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  fx_close (fx);
  fx_open (fx, false);
  fx_start (fx, BLK_FEATURES, 0xffff);
  buf = fx_ram (fx, FX_DATA, 262144);
  memset (buf, 0xcc, 262144);
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_IN, 0, FX_HDR, FX_DATA, 262144, NULL), ==,
                   VIRTIO_BLK_S_OK);
  g_autofree uint8_t *expect = g_malloc (262144);
  fill_pattern (expect, 262144, 2);
  memset (expect + 128 * 512, 0, 128 * 512);
  memset (expect + 300 * 512, 0, 8 * 512);
  g_assert_cmpmem (buf, 262144, expect, 262144);
}

static void
test_not_negotiated (Fx *fx, gconstpointer data)
{
  /* DISCARD / WRITE_ZEROES only work once negotiated. */
  fx_start (fx, VIRTIO_FEATURE (VIRTIO_BLK_F_FLUSH), 0xffff);
  uint8_t *seg = fx_ram (fx, FX_DATA, 16);
  put_range (seg, 0, 1, 0);
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_DISCARD, 0, FX_HDR, FX_DATA, 16, NULL), ==,
                   VIRTIO_BLK_S_UNSUPP);
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_WRITE_ZEROES, 0, FX_HDR, FX_DATA, 16, NULL),
                   ==, VIRTIO_BLK_S_UNSUPP);
}

static void
test_read_only (void)
{
  Fx fx;
  fx_setup_ro (&fx, false);
  uint8_t *buf = fx_ram (&fx, FX_DATA, 512);
  fx_start (&fx, 0, 0xffff);
  fill_pattern (buf, 512, 5);
  g_assert_cmpint (vt_blk_request (&fx.q, VIRTIO_BLK_T_OUT, 1, FX_HDR, FX_DATA, 512, NULL), ==,
                   VIRTIO_BLK_S_OK);
  fx_close (&fx);

  fx_open (&fx, true);
  uint64_t f = vt_device_features (&fx.dev);
  g_assert_true (f & VIRTIO_FEATURE (VIRTIO_BLK_F_RO));
  g_assert_false (f & VIRTIO_FEATURE (VIRTIO_BLK_F_DISCARD));
  g_assert_false (f & VIRTIO_FEATURE (VIRTIO_BLK_F_WRITE_ZEROES));
  fx_start (&fx, VIRTIO_FEATURE (VIRTIO_BLK_F_RO), 0xffff);
  buf = fx_ram (&fx, FX_DATA, 512);
  memset (buf, 0x11, 512);
  g_assert_cmpint (vt_blk_request (&fx.q, VIRTIO_BLK_T_OUT, 1, FX_HDR, FX_DATA, 512, NULL), ==,
                   VIRTIO_BLK_S_IOERR);
  g_assert_cmpint (vt_blk_request (&fx.q, VIRTIO_BLK_T_IN, 1, FX_HDR, FX_DATA, 512, NULL), ==,
                   VIRTIO_BLK_S_OK);
  uint8_t expect[512];
  fill_pattern (expect, 512, 5);
  g_assert_cmpmem (buf, 512, expect, 512);
  fx_teardown (&fx, NULL);
}

static uint32_t
pba (Fx *fx)
{
  uint64_t v = 0;
  io_bus_read (&fx->bus.mmio, FX_BAR1 + VIRTIO_PCI_MSIX_PBA_OFFSET, 4, &v);
  return (uint32_t)v;
}

static void
test_msix (Fx *fx, gconstpointer data)
{
  VtDev *d = &fx->dev;
  vt_msix_enable (d, 2);
  vt_common_write (d, VIRTIO_PCI_COMMON_MSIX, 2, 0);
  g_assert_cmpuint (vt_common_read (d, VIRTIO_PCI_COMMON_MSIX, 2), ==, 0);
  /* A vector the table does not have reads back as NO_VECTOR. */
  vt_common_write (d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
  vt_common_write (d, VIRTIO_PCI_COMMON_Q_MSIX, 2, 7);
  g_assert_cmphex (vt_common_read (d, VIRTIO_PCI_COMMON_Q_MSIX, 2), ==, 0xffff);
  fx_start (fx, BLK_FEATURES, 1);
  vt_common_write (d, VIRTIO_PCI_COMMON_MSIX, 2, 0);

  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_cmpuint (vt_msi_count (&fx->bus, 0x41), ==, 1);
  g_assert_cmphex (g_array_index (fx->bus.msis, VtMsi, 0).address, ==, 0xfee00000u);
  g_assert_false (fx->bus.level[d->gsi]);

  /* Masked vector: nothing sent, the PBA bit set; unmasking sends it. */
  vt_msix_mask_vector (d, 1, true);
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_cmpuint (vt_msi_count (&fx->bus, 0x41), ==, 1);
  g_assert_cmphex (pba (fx), ==, 0x2);
  vt_msix_mask_vector (d, 1, false);
  g_assert_cmpuint (vt_msi_count (&fx->bus, 0x41), ==, 2);
  g_assert_cmphex (pba (fx), ==, 0);

  /* Function mask works the same way. */
  vt_cfg_write (&fx->bus, FX_SLOT, d->msix_cap + 2, 2, 0xc000);
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_cmpuint (vt_msi_count (&fx->bus, 0x41), ==, 2);
  g_assert_cmphex (pba (fx), ==, 0x2);
  vt_cfg_write (&fx->bus, FX_SLOT, d->msix_cap + 2, 2, 0x8000);
  g_assert_cmpuint (vt_msi_count (&fx->bus, 0x41), ==, 3);

  /* Bus mastering off: the message cannot be written. */
  vt_cfg_write (&fx->bus, FX_SLOT, 0x04, 2, 0x0002);
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_cmpuint (fx->bus.msis->len, ==, 3);
  vt_cfg_write (&fx->bus, FX_SLOT, 0x04, 2, 0x0006);

  /* A hostile chain → NEEDS_RESET and a config interrupt on vector 0. */
  vt_desc_write (&fx->q, 5, 0, 16, VIRTQ_DESC_F_NEXT, 5);
  vt_avail_publish (&fx->q, 5);
  vt_kick (&fx->q);
  g_assert_true (fx_needs_reset (fx));
  g_assert_cmpuint (vt_msi_count (&fx->bus, 0x40), ==, 1);
}

static void
test_intx (Fx *fx, gconstpointer data)
{
  VtDev *d = &fx->dev;
  fx_start (fx, BLK_FEATURES, 0xffff);
  g_assert_false (fx->bus.level[d->gsi]);
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_true (fx->bus.level[d->gsi]);
  g_assert_cmpuint (fx->bus.msis->len, ==, 0);
  /* ISR is read-to-clear and drops the line. */
  g_assert_cmphex (vt_bar_read (d, d->isr, 1), ==, VIRTIO_ISR_QUEUE);
  g_assert_false (fx->bus.level[d->gsi]);
  g_assert_cmphex (vt_bar_read (d, d->isr, 1), ==, 0);

  /* NO_INTERRUPT (no event idx) suppresses. */
  vt_set_avail_flags (&fx->q, VIRTQ_AVAIL_F_NO_INTERRUPT);
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_false (fx->bus.level[d->gsi]);

  /* Config interrupt on NEEDS_RESET sets ISR bit 1. */
  vt_desc_write (&fx->q, 7, 0xfffff000ull, 4096, 0, 0);
  vt_avail_publish (&fx->q, 7);
  vt_kick (&fx->q);
  g_assert_true (fx_needs_reset (fx));
  g_assert_true (fx->bus.level[d->gsi]);
  g_assert_cmphex (vt_bar_read (d, d->isr, 1), ==, VIRTIO_ISR_CONFIG);

  /* INTx disabled in the command register keeps the GSI low. */
  vt_common_write (d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
  fx_start (fx, BLK_FEATURES, 0xffff);
  vt_cfg_write (&fx->bus, FX_SLOT, 0x04, 2, 0x0406);
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_false (fx->bus.level[d->gsi]);
}

static void
test_event_idx (Fx *fx, gconstpointer data)
{
  VtDev *d = &fx->dev;
  vt_msix_enable (d, 2);
  fx_start (fx, BLK_FEATURES | VIRTIO_FEATURE (VIRTIO_F_RING_EVENT_IDX), 1);
  VtQueue *q = &fx->q;
  vt_set_used_event (q, 0);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_cmpuint (vt_msi_count (&fx->bus, 0x41), ==, 1);
  /* The device asks to be notified for the next avail entry. */
  g_assert_cmpuint (vt_avail_event (q), ==, q->avail_idx);

  /* Interrupt only once used idx passes used_event = 3 (i.e. at 4). */
  vt_set_used_event (q, 3);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_cmpuint (vt_msi_count (&fx->bus, 0x41), ==, 1);
  g_assert_cmpint (vt_blk_request (q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_cmpuint (vt_used_idx (q), ==, 4);
  g_assert_cmpuint (vt_msi_count (&fx->bus, 0x41), ==, 2);
  g_assert_cmpuint (vt_avail_event (q), ==, 4);

  /* A batch of three in one kick crossing used_event → one interrupt. */
  vt_set_used_event (q, 5);
  for (int i = 0; i < 3; i++)
    {
      VtSeg segs[2] = { { FX_HDR + 0x100 * i, 16, false }, { FX_HDR + 0x100 * i + 16, 1, true } };
      memset (fx_ram (fx, FX_HDR + 0x100 * i, 16), 0, 16);
      *fx_ram (fx, FX_HDR + 0x100 * i, 1) = VIRTIO_BLK_T_FLUSH;
      vt_add_chain (q, segs, 2);
    }
  vt_kick (q);
  g_assert_cmpuint (vt_used_idx (q), ==, 7);
  g_assert_cmpuint (vt_msi_count (&fx->bus, 0x41), ==, 3);
}

static void
test_reset_mid_operation (Fx *fx, gconstpointer data)
{
  VtDev *d = &fx->dev;
  fx_start (fx, BLK_FEATURES, 0xffff);
  uint8_t *buf = fx_ram (fx, FX_DATA, 512);
  memset (buf, 0x5a, 512);
  /* Queue a write, then reset before kicking: the kick afterwards must not
   * run it (the queue is gone). */
  uint8_t *h = fx_ram (fx, FX_HDR, 17);
  memset (h, 0, 16);
  h[0] = VIRTIO_BLK_T_OUT;
  h[8] = 20;
  VtSeg segs[3] = { { FX_HDR, 16, false }, { FX_DATA, 512, false }, { FX_HDR + 16, 1, true } };
  vt_add_chain (&fx->q, segs, 3);
  vt_common_write (d, VIRTIO_PCI_COMMON_STATUS, 1, 0);
  g_assert_cmphex (vt_status (d), ==, 0);
  vt_common_write (d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
  g_assert_cmpuint (vt_common_read (d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 0);
  g_assert_cmpuint (vt_common_read (d, VIRTIO_PCI_COMMON_Q_SIZE, 2), ==, 256);
  vt_kick (&fx->q);
  g_assert_cmpuint (vt_used_idx (&fx->q), ==, 0);
  uint8_t sector[512];
  g_autoptr (GError) error = NULL;
  g_assert_true (block_pread (fx->bs, 20 * 512, sector, 512, &error));
  g_assert_cmpuint (sector[0], ==, 0);

  /* A hostile queue setup is refused and needs reset; a fresh driver works. */
  vt_negotiate (d, VIRTIO_FEATURE (VIRTIO_F_VERSION_1));
  vt_common_write (d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
  vt_common_write (d, VIRTIO_PCI_COMMON_Q_SIZE, 2, 12);
  vt_common_write (d, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
  g_assert_cmpuint (vt_common_read (d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), ==, 0);
  g_assert_true (fx_needs_reset (fx));
  fx_start (fx, BLK_FEATURES, 0xffff);
  g_assert_false (fx_needs_reset (fx));
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_OUT, 20, FX_HDR, FX_DATA, 512, NULL), ==,
                   0);
  g_assert_true (block_pread (fx->bs, 20 * 512, sector, 512, &error));
  g_assert_cmpuint (sector[0], ==, 0x5a);
  /* Queue registers are frozen while the queue is enabled. */
  vt_common_write (d, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x123000);
  g_assert_cmphex (vt_common_read (d, VIRTIO_PCI_COMMON_Q_DESCLO, 4), ==, FX_RING);
}

static void
test_save_load (Fx *fx, gconstpointer data)
{
  VtDev *d = &fx->dev;
  vt_msix_enable (d, 2);
  fx_start (fx, BLK_FEATURES | VIRTIO_FEATURE (VIRTIO_F_RING_EVENT_IDX), 1);
  uint8_t *buf = fx_ram (fx, FX_DATA, 512);
  fill_pattern (buf, 512, 4);
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_OUT, 3, FX_HDR, FX_DATA, 512, NULL), ==, 0);
  vt_msix_mask_vector (d, 1, true);
  vt_set_used_event (&fx->q, 1); /* the driver wants the next completion */
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_FLUSH, 0, FX_HDR, 0, 0, NULL), ==, 0);
  g_assert_cmphex (pba (fx), ==, 0x2);

  virtio_blk_drain (fx->blk);
  SnapWriter *w = snap_writer_new ();
  pci_host_save (&fx->bus.host, w);
  virtio_blk_save (fx->blk, w);
  g_autoptr (GBytes) bytes = snap_writer_finish (w);
  g_autofree uint8_t *ram = g_memdup2 (fx->bus.ram.host, fx->bus.ram.size);
  VtQueue saved_q = fx->q;
  fx_close (fx);

  /* A new machine with the same devices, RAM copied, state loaded. */
  g_autoptr (GError) error = NULL;
  fx->bs = block_open (fx->path, fx->format, 0, &error);
  vt_bus_init (&fx->bus, FX_RAM);
  memcpy (fx->bus.ram.host, ram, fx->bus.ram.size);
  fx->blk = virtio_blk_new (&fx->bus.ram, fx->bs, "serial-0123456789abcdef", 0);
  g_assert_true (pci_host_add_device (&fx->bus.host, virtio_blk_pci (fx->blk), FX_SLOT, 0, &error));
  SnapReader *r = snap_reader_new (bytes, &error);
  g_assert_no_error (error);
  g_assert_true (pci_host_load (&fx->bus.host, r, &error));
  g_assert_true (virtio_blk_load (fx->blk, r, &error));
  g_assert_no_error (error);
  snap_reader_free (r);
  fx->dev.bus = &fx->bus;
  fx->q = saved_q;
  fx->q.dev = &fx->dev;

  g_assert_cmphex (vt_status (d), ==, 0x0f);
  g_assert_cmphex (pba (fx), ==, 0x2);
  vt_msix_mask_vector (d, 1, false);
  g_assert_cmpuint (vt_msi_count (&fx->bus, 0x41), ==, 1);
  memset (buf = fx_ram (fx, FX_DATA, 512), 0, 512);
  g_assert_cmpint (vt_blk_request (&fx->q, VIRTIO_BLK_T_IN, 3, FX_HDR, FX_DATA, 512, NULL), ==, 0);
  uint8_t expect[512];
  fill_pattern (expect, 512, 4);
  g_assert_cmpmem (buf, 512, expect, 512);
  g_assert_cmpuint (vt_used_idx (&fx->q), ==, 3);

  /* A truncated section is refused with an error, no crash. */
  virtio_blk_drain (fx->blk);
  w = snap_writer_new ();
  virtio_blk_save (fx->blk, w);
  g_autoptr (GBytes) full = snap_writer_finish (w);
  gsize len;
  const uint8_t *raw = g_bytes_get_data (full, &len);
  g_autoptr (GBytes) cut = g_bytes_new (raw, len / 2);
  g_autoptr (GError) err2 = NULL;
  r = snap_reader_new (cut, &err2);
  if (r)
    {
      g_assert_false (virtio_blk_load (fx->blk, r, &err2));
      snap_reader_free (r);
    }
  g_assert_nonnull (err2);
}

/* The guest driver on its own thread, as a second vCPU would be: it
 * publishes requests and reaps completions with only atomic ring-index
 * accesses, while the "vCPU" thread keeps notifying under the device lock.
 * Every completion must carry its data (the used idx is published after the
 * data and the used entry), in order, with no request lost or duplicated. */
typedef struct {
  Fx *fx;
  GMutex lock;
  gint done;
} ConcurrentCtx;

static gpointer
device_thread (gpointer data)
{
  ConcurrentCtx *c = data;
  while (!g_atomic_int_get (&c->done))
    {
      g_mutex_lock (&c->lock);
      vt_kick (&c->fx->q);
      g_mutex_unlock (&c->lock);
    }
  return NULL;
}

static void
test_concurrent_driver (Fx *fx, gconstpointer data)
{
  g_assert_true (vt_negotiate (&fx->dev, VIRTIO_FEATURE (VIRTIO_F_VERSION_1)));
  g_assert_true (vt_queue_setup (&fx->q, &fx->dev, 0, 64, FX_RING, 0xffff));
  vt_driver_ok (&fx->dev);
  VtQueue *q = &fx->q;
  uint16_t *avail_idx = (uint16_t *) fx_ram (fx, q->avail + 2, 2);
  uint16_t *used_idx = (uint16_t *) fx_ram (fx, q->used + 2, 2);
  const unsigned slots = 16, total = 5000;
  for (unsigned s = 0; s < slots; s++)
    {
      uint64_t hdr = FX_HDR + 0x100 * s, buf = FX_DATA + 0x100 * s;
      uint8_t *h = fx_ram (fx, hdr, 16);
      memset (h, 0, 16);
      h[0] = VIRTIO_BLK_T_GET_ID;
      vt_desc_write (q, (uint16_t) (3 * s), hdr, 16, VIRTQ_DESC_F_NEXT, (uint16_t) (3 * s + 1));
      vt_desc_write (q, (uint16_t) (3 * s + 1), buf, 20, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE,
                     (uint16_t) (3 * s + 2));
      vt_desc_write (q, (uint16_t) (3 * s + 2), hdr + 16, 1, VIRTQ_DESC_F_WRITE, 0);
    }

  ConcurrentCtx c = { fx, { 0 }, 0 };
  g_mutex_init (&c.lock);
  GThread *t = g_thread_new ("device", device_thread, &c);
  unsigned submitted = 0, completed = 0;
  uint16_t avail = 0, used = 0;
  while (completed < total)
    {
      while (submitted < total && submitted - completed < slots)
        {
          unsigned s = submitted % slots;
          memset (fx_ram (fx, FX_DATA + 0x100 * s, 20), 0, 20);
          *fx_ram (fx, FX_HDR + 0x100 * s + 16, 1) = 0xee;
          uint16_t head = GUINT16_TO_LE ((uint16_t) (3 * s));
          memcpy (fx_ram (fx, q->avail + 4 + 2ull * (avail % q->size), 2), &head, 2);
          avail++;
          __atomic_store_n (avail_idx, GUINT16_TO_LE (avail), __ATOMIC_RELEASE);
          submitted++;
        }
      uint16_t now = GUINT16_FROM_LE (__atomic_load_n (used_idx, __ATOMIC_ACQUIRE));
      for (; used != now; used++, completed++)
        {
          unsigned s = completed % slots;
          uint32_t entry[2];
          memcpy (entry, fx_ram (fx, q->used + 4 + 8ull * (used % q->size), 8), 8);
          g_assert_cmpuint (GUINT32_FROM_LE (entry[0]), ==, 3 * s);
          g_assert_cmpuint (GUINT32_FROM_LE (entry[1]), ==, 21);
          g_assert_cmpuint (*fx_ram (fx, FX_HDR + 0x100 * s + 16, 1), ==, VIRTIO_BLK_S_OK);
          g_assert_cmpmem (fx_ram (fx, FX_DATA + 0x100 * s, 20), 20, "serial-0123456789abc",
                           20);
        }
    }
  g_atomic_int_set (&c.done, 1);
  g_thread_join (t);
  g_mutex_clear (&c.lock);
  g_assert_false (fx_needs_reset (fx));
  g_assert_cmpuint (fx->blk->requests, ==, total);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add ("/virtio-blk/" path, Fx, NULL, fx_setup, fn, fx_teardown)
  ADD ("identity", test_identity);
  ADD ("negotiation", test_negotiation);
  ADD ("io", test_io);
  ADD ("discard-write-zeroes", test_discard_write_zeroes);
  ADD ("not-negotiated", test_not_negotiated);
  g_test_add ("/virtio-blk/qcow2", Fx, "qcow2", fx_setup, test_qcow2, fx_teardown);
  ADD ("msix", test_msix);
  ADD ("intx", test_intx);
  ADD ("event-idx", test_event_idx);
  ADD ("reset-mid-operation", test_reset_mid_operation);
  ADD ("save-load", test_save_load);
  ADD ("concurrent-driver", test_concurrent_driver);
  g_test_add_func ("/virtio-blk/read-only", test_read_only);
  return g_test_run ();
}
