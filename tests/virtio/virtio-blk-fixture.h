/* Shared fixture for the virtio-blk tests: a raw temp image, a bus with
 * guest RAM, the device in slot 3 and a probed driver view of it. */
#pragma once

#include <glib/gstdio.h>
#include <string.h>

#include "vmm-core/block/block.h"
#include "vmm-core/log.h"
#include "vmm-core/virtio/virtio-blk.h"
#include "virtio-test-driver.h"

#define FX_SLOT 3
#define FX_BAR4 0xc0000000ull
#define FX_BAR1 0xc0010000ull
#define FX_RAM (16ull << 20)
#define FX_SECTORS 2048 /* 1 MiB image */
#define FX_RING 0x10000ull
#define FX_HDR 0x100000ull
#define FX_DATA 0x200000ull

typedef struct
{
  char *dir, *path;
  const char *format;
  BlockDev *bs;
  VtBus bus;
  VirtioBlk *blk;
  VtDev dev;
  VtQueue q;
} Fx;

static inline void
fx_open (Fx *fx, bool read_only)
{
  g_autoptr (GError) error = NULL;
  fx->bs = block_open (fx->path, fx->format, read_only ? BLOCK_OPEN_READ_ONLY : 0, &error);
  g_assert_no_error (error);
  vt_bus_init (&fx->bus, FX_RAM);
  fx->blk = virtio_blk_new (&fx->bus.ram, fx->bs, "serial-0123456789abcdef", 0);
  g_assert_true (pci_host_add_device (&fx->bus.host, virtio_blk_pci (fx->blk), FX_SLOT, 0, &error));
  g_assert_true (vt_dev_probe (&fx->dev, &fx->bus, FX_SLOT, FX_BAR4, FX_BAR1));
}

static inline void
fx_setup_format (Fx *fx, bool read_only, const char *format)
{
  memset (fx, 0, sizeof *fx);
  fx->format = format;
  vmm_log_set_quiet (TRUE);
  g_autoptr (GError) error = NULL;
  fx->dir = g_dir_make_tmp ("virtio-blk-XXXXXX", &error);
  g_assert_no_error (error);
  fx->path = g_build_filename (fx->dir, "disk.img", NULL);
  if (g_str_equal (format, "qcow2"))
    g_assert_true (block_create_qcow2 (fx->path, FX_SECTORS * 512ull, 0, NULL, NULL, &error));
  else
    g_assert_true (block_create_raw (fx->path, FX_SECTORS * 512ull, &error));
  fx_open (fx, read_only);
}

static inline void
fx_setup_ro (Fx *fx, bool read_only)
{
  fx_setup_format (fx, read_only, "raw");
}

static inline void
fx_setup (Fx *fx, gconstpointer data)
{
  fx_setup_format (fx, false, data ? data : "raw");
}

static inline void
fx_close (Fx *fx)
{
  vt_bus_destroy (&fx->bus);
  virtio_blk_free (fx->blk);
  block_close (fx->bs);
  fx->blk = NULL;
  fx->bs = NULL;
}

static inline void
fx_teardown (Fx *fx, gconstpointer data)
{
  fx_close (fx);
  g_unlink (fx->path);
  g_rmdir (fx->dir);
  g_free (fx->path);
  g_free (fx->dir);
}

/* Negotiates features (VERSION_1 always added), sets up queue 0 with size
 * 16 and the given vector, DRIVER_OK. */
static inline void
fx_start (Fx *fx, uint64_t features, uint16_t vector)
{
  g_assert_true (vt_negotiate (&fx->dev, features | VIRTIO_FEATURE (VIRTIO_F_VERSION_1)));
  g_assert_true (vt_queue_setup (&fx->q, &fx->dev, 0, 16, FX_RING, vector));
  vt_driver_ok (&fx->dev);
}

static inline uint8_t *
fx_ram (Fx *fx, uint64_t gpa, uint64_t len)
{
  uint8_t *p = guest_ram_ptr (&fx->bus.ram, gpa, len);
  g_assert_nonnull (p);
  return p;
}

static inline bool
fx_needs_reset (Fx *fx)
{
  return vt_status (&fx->dev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET;
}
