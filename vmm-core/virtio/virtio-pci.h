/* Virtio 1.x PCI transport (modern, non-transitional; virtio 1.1, 4.1).
 *
 * Identity: vendor 0x1AF4, device 0x1040 + type, revision 1, subsystem
 * 0x1AF4:0x1100. BAR 4 (64-bit memory, 16 KiB) holds the structures the
 * vendor capabilities point at:
 *   0x0000 common config   0x1000 ISR   0x2000 device config
 *   0x3000 notify (queue q at 0x3000 + 4 q; notify_off_multiplier 4)
 * BAR 1 (32-bit memory, 4 KiB) holds the MSI-X table (0x000) and PBA (0x800):
 * one vector for configuration changes plus one per queue. The PCI config
 * access capability (cfg_type 5) reaches BAR 4 through config space.
 *
 * Interrupts go through MSI-X when the driver enabled it, else INTA# with the
 * ISR register (read-to-clear) saying why.
 *
 * A device model embeds VirtioPci, fills VirtioDeviceOps and calls
 * virtio_pci_init; queue work happens in ops->queue_notify, which runs on the
 * vCPU thread that wrote the notify register, under the device lock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/guest-ram.h"
#include "vmm-core/platform/pci-host.h"
#include "vmm-core/snapshot-stream.h"
#include "vmm-core/virtio/virtio.h"
#include "vmm-core/virtio/virtqueue.h"

#define VIRTIO_PCI_MAX_QUEUES 8
#define VIRTIO_PCI_MSIX_VECTORS (VIRTIO_PCI_MAX_QUEUES + 1)
#define VIRTIO_PCI_BAR 4
#define VIRTIO_PCI_MSIX_BAR 1
#define VIRTIO_PCI_BAR_SIZE 0x4000
#define VIRTIO_PCI_MSIX_BAR_SIZE 0x1000

enum
{
  VIRTIO_PCI_COMMON_OFFSET = 0x0000,
  VIRTIO_PCI_ISR_OFFSET = 0x1000,
  VIRTIO_PCI_DEVICE_OFFSET = 0x2000,
  VIRTIO_PCI_DEVICE_MAX = 0x1000,
  VIRTIO_PCI_NOTIFY_OFFSET = 0x3000,
  VIRTIO_PCI_NOTIFY_MULTIPLIER = 4,
  VIRTIO_PCI_MSIX_TABLE_OFFSET = 0x000,
  VIRTIO_PCI_MSIX_PBA_OFFSET = 0x800,
};

typedef struct VirtioPci VirtioPci;

typedef struct VirtioDeviceOps
{
  /* Device config space (offset < config_size, access of 1/2/4 bytes
   * inside it). write may be NULL (read-only config). */
  uint32_t (*config_read) (void *dev, unsigned offset, unsigned size);
  void (*config_write) (void *dev, unsigned offset, unsigned size, uint32_t value);
  /* The driver notified queue q (enabled, DRIVER_OK, not needing reset). */
  void (*queue_notify) (void *dev, unsigned q);
  /* The driver (or the machine) reset the device: drop device state. */
  void (*reset) (void *dev);
} VirtioDeviceOps;

typedef struct VirtioMsixEntry
{
  uint64_t address;
  uint32_t data;
  uint32_t control; /* bit 0: masked */
} VirtioMsixEntry;

struct VirtioPci
{
  PciDevice pci;
  GuestRam *ram;
  char *name; /* also the snapshot section name */
  const VirtioDeviceOps *ops;
  void *dev;
  unsigned config_size;

  uint64_t device_features, driver_features;
  uint32_t device_feature_select, driver_feature_select;
  uint8_t status;
  uint8_t config_generation;
  uint8_t isr;
  uint16_t queue_select;
  uint16_t config_vector;
  unsigned num_queues;
  VirtQueue vqs[VIRTIO_PCI_MAX_QUEUES];

  uint8_t msix_cap, pci_cfg_cap;
  VirtioMsixEntry msix[VIRTIO_PCI_MSIX_VECTORS];
  uint32_t msix_pending; /* PBA bits */
  unsigned msix_vectors;
};

/* Sets up config space, capabilities and BARs. features must include the
 * device's own bits; VERSION_1, INDIRECT_DESC and RING_EVENT_IDX are added.
 * num_queues <= VIRTIO_PCI_MAX_QUEUES, config_size <= VIRTIO_PCI_DEVICE_MAX. */
void virtio_pci_init (VirtioPci *vp, const char *name, uint16_t device_type, uint32_t class_code,
                      uint64_t features, unsigned num_queues, uint16_t queue_size,
                      unsigned config_size, GuestRam *ram, const VirtioDeviceOps *ops, void *dev);
void virtio_pci_destroy (VirtioPci *vp);

/* Device reset (status 0 written, or machine reset): queues, features,
 * status, ISR and MSI-X table back to power-on values; ops->reset called. */
void virtio_pci_reset (VirtioPci *vp);

static inline bool
virtio_pci_has_feature (const VirtioPci *vp, unsigned bit)
{
  return (vp->driver_features >> bit) & 1;
}

static inline bool
virtio_pci_driver_ok (const VirtioPci *vp)
{
  return (vp->status & VIRTIO_STATUS_DRIVER_OK) && !(vp->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
}

/* After pushing used entries on vq: interrupt the driver unless it
 * suppressed that (event idx / NO_INTERRUPT). */
void virtio_pci_notify_queue (VirtioPci *vp, VirtQueue *vq);
/* The device config changed (e.g. capacity): bump the generation, interrupt. */
void virtio_pci_config_changed (VirtioPci *vp);
/* A hostile chain or other unrecoverable guest error: DEVICE_NEEDS_RESET
 * and a configuration-change interrupt. */
void virtio_pci_set_needs_reset (VirtioPci *vp);

/* Pops from vq, turning BROKEN into NEEDS_RESET; true when elem is filled. */
bool virtio_pci_pop (VirtioPci *vp, VirtQueue *vq, VirtqElement *elem);

/* Section `name`, version 1 (transport state, queues, MSI-X table). The
 * PCI config space itself is in the pci-host section. */
void virtio_pci_save (const VirtioPci *vp, SnapWriter *w);
bool virtio_pci_load (VirtioPci *vp, SnapReader *r, GError **error);

/* Register access as the BARs see it (tests and the PCI cfg capability). */
uint64_t virtio_pci_bar_read (void *opaque, uint64_t offset, unsigned size);
void virtio_pci_bar_write (void *opaque, uint64_t offset, uint64_t value, unsigned size);
