/* virtio-blk (virtio 1.1, 5.2) on a BlockDev.
 *
 * Features: SEG_MAX, BLK_SIZE (512), FLUSH, CONFIG_WCE, DISCARD and
 * WRITE_ZEROES (writable images), RO (read-only images), plus the transport's
 * VERSION_1, INDIRECT_DESC and RING_EVENT_IDX. One request queue of 256.
 * Requests: IN, OUT, FLUSH, GET_ID, DISCARD, WRITE_ZEROES; anything outside
 * the capacity or the advertised limits gets IOERR and never reaches the
 * image; unknown types get UNSUPP.
 *
 * Requests run synchronously on the vCPU thread that wrote the notify
 * register, under the machine's device lock: the BlockDev calls are
 * synchronous, so an I/O thread would only add a hand-off; doing the work at
 * notify keeps ring access and interrupts under the one lock. The cost is
 * that the notifying vCPU waits for the host I/O. Consequently no request is
 * ever in flight between two device calls, and virtio_blk_drain has nothing
 * to wait for.
 *
 * Machine use (device lock held):
 *   VirtioBlk *blk = virtio_blk_new (&ram, bs, "vireo-disk0", 0);
 *   pci_host_add_device (&pci, virtio_blk_pci (blk), -1, 0, &error);
 *   ... virtio_blk_reset (blk) after pci_host_reset on machine reset;
 *   ... virtio_blk_save / _load after pci_host_save / _load.
 * Free only after pci_host_destroy (the host bridge holds the BARs). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/block/block.h"
#include "vmm-core/virtio/virtio-pci.h"

#define VIRTIO_BLK_QUEUE_SIZE 256
#define VIRTIO_BLK_SECTOR 512
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_MAX_DISCARD_SECTORS (1u << 22) /* 2 GiB per segment */
#define VIRTIO_BLK_MAX_DISCARD_SEG 32

enum
{
  VIRTIO_BLK_F_SIZE_MAX = 1,
  VIRTIO_BLK_F_SEG_MAX = 2,
  VIRTIO_BLK_F_RO = 5,
  VIRTIO_BLK_F_BLK_SIZE = 6,
  VIRTIO_BLK_F_FLUSH = 9,
  VIRTIO_BLK_F_CONFIG_WCE = 11,
  VIRTIO_BLK_F_DISCARD = 13,
  VIRTIO_BLK_F_WRITE_ZEROES = 14,
};

enum
{
  VIRTIO_BLK_T_IN = 0,
  VIRTIO_BLK_T_OUT = 1,
  VIRTIO_BLK_T_FLUSH = 4,
  VIRTIO_BLK_T_GET_ID = 8,
  VIRTIO_BLK_T_DISCARD = 11,
  VIRTIO_BLK_T_WRITE_ZEROES = 13,
};

enum
{
  VIRTIO_BLK_S_OK = 0,
  VIRTIO_BLK_S_IOERR = 1,
  VIRTIO_BLK_S_UNSUPP = 2,
};

/* struct virtio_blk_config offsets. */
enum
{
  VIRTIO_BLK_CFG_CAPACITY = 0x00,
  VIRTIO_BLK_CFG_SIZE_MAX = 0x08,
  VIRTIO_BLK_CFG_SEG_MAX = 0x0c,
  VIRTIO_BLK_CFG_BLK_SIZE = 0x14,
  VIRTIO_BLK_CFG_WRITEBACK = 0x20,
  VIRTIO_BLK_CFG_NUM_QUEUES = 0x22,
  VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS = 0x24,
  VIRTIO_BLK_CFG_MAX_DISCARD_SEG = 0x28,
  VIRTIO_BLK_CFG_DISCARD_ALIGN = 0x2c,
  VIRTIO_BLK_CFG_MAX_WZ_SECTORS = 0x30,
  VIRTIO_BLK_CFG_MAX_WZ_SEG = 0x34,
  VIRTIO_BLK_CFG_WZ_MAY_UNMAP = 0x38,
  VIRTIO_BLK_CFG_SIZE = 0x3c,
};

typedef struct VirtioBlk
{
  VirtioPci vp;
  BlockDev *bs;
  bool owns_bs;      /* virtio_blk_free closes bs (virtio_blk_new_from_option) */
  uint64_t capacity; /* sectors */
  bool read_only;
  uint8_t writeback; /* WCE: 1 write-back, 0 write-through */
  char serial[VIRTIO_BLK_ID_BYTES];
  VirtqElement *elem; /* scratch for the request being handled */
  guint64 requests, errors;
} VirtioBlk;

/* serial: up to 20 bytes are reported by GET_ID (NULL: "vireo-diskN").
 * instance numbers the snapshot section ("virtio-blk.N"). */
VirtioBlk *virtio_blk_new (GuestRam *ram, BlockDev *bs, const char *serial, unsigned instance);
void virtio_blk_free (VirtioBlk *blk);

static inline PciDevice *
virtio_blk_pci (VirtioBlk *blk)
{
  return &blk->vp.pci;
}

void virtio_blk_reset (VirtioBlk *blk);
/* Completes whatever is in flight (nothing, with synchronous processing)
 * and flushes the image; call before saving. */
void virtio_blk_drain (VirtioBlk *blk);

void virtio_blk_save (VirtioBlk *blk, SnapWriter *w);
bool virtio_blk_load (VirtioBlk *blk, SnapReader *r, GError **error);
