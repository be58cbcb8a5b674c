/* A small virtio "guest driver" for the unit tests: it reaches devices only
 * as a guest would, through PCI configuration mechanism #1, the BARs on an
 * MMIO IoBus and rings in GuestRam. Interrupts land in a fake IrqRouter that
 * records INTx levels and every MSI. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/guest-ram.h"
#include "vmm-core/io-bus.h"
#include "vmm-core/irq.h"
#include "vmm-core/platform/pci-host.h"

typedef struct
{
  uint64_t address;
  uint32_t data;
} VtMsi;

typedef struct VtBus
{
  GuestRam ram;
  IoBus pio, mmio;
  PciHost host;
  IrqRouter router;
  GArray *msis; /* VtMsi, in order sent */
  bool level[32];
  unsigned raises[32];
} VtBus;

void vt_bus_init (VtBus *bus, uint64_t ram_size);
void vt_bus_destroy (VtBus *bus);
unsigned vt_msi_count (VtBus *bus, uint32_t data);

uint32_t vt_cfg_read (VtBus *bus, unsigned slot, unsigned off, unsigned size);
void vt_cfg_write (VtBus *bus, unsigned slot, unsigned off, unsigned size, uint32_t v);

typedef struct VtDev
{
  VtBus *bus;
  unsigned slot;
  uint64_t bar4, bar1;
  uint32_t common, notify, isr, device, device_len;
  uint32_t notify_mult;
  uint8_t msix_cap, pci_cfg_cap;
  unsigned gsi;
} VtDev;

/* Finds the virtio capabilities, programs BAR 4 / BAR 1 and enables memory
 * decoding and bus mastering. False if anything is missing. */
bool vt_dev_probe (VtDev *dev, VtBus *bus, unsigned slot, uint64_t bar4, uint64_t bar1);

uint64_t vt_bar_read (VtDev *dev, uint64_t off, unsigned size);
void vt_bar_write (VtDev *dev, uint64_t off, unsigned size, uint64_t v);
uint64_t vt_common_read (VtDev *dev, unsigned off, unsigned size);
void vt_common_write (VtDev *dev, unsigned off, unsigned size, uint64_t v);
uint32_t vt_device_cfg_read (VtDev *dev, unsigned off, unsigned size);
uint8_t vt_status (VtDev *dev);
uint64_t vt_device_features (VtDev *dev);
/* ACKNOWLEDGE, DRIVER, features, FEATURES_OK; true if the device kept
 * FEATURES_OK. */
bool vt_negotiate (VtDev *dev, uint64_t features);
void vt_driver_ok (VtDev *dev);

/* MSI-X: enable (and unmask the function); entry v → data = 0x40 + v. */
void vt_msix_enable (VtDev *dev, unsigned vectors);
void vt_msix_mask_vector (VtDev *dev, unsigned v, bool masked);

typedef struct VtQueue
{
  VtDev *dev;
  unsigned index;
  uint16_t size;
  uint64_t desc, avail, used;
  uint16_t avail_idx, last_used, next_desc;
} VtQueue;

/* Lays the rings out from base (desc, avail, used on its own 4 KiB page),
 * programs the queue and enables it. vector: MSI-X vector or 0xffff. */
bool vt_queue_setup (VtQueue *q, VtDev *dev, unsigned index, uint16_t size, uint64_t base,
                     uint16_t vector);

void vt_desc_write (VtQueue *q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                    uint16_t next);
void vt_avail_publish (VtQueue *q, uint16_t head);
void vt_kick (VtQueue *q);
bool vt_used_pop (VtQueue *q, uint32_t *id, uint32_t *len);
uint16_t vt_used_idx (VtQueue *q);
void vt_set_used_event (VtQueue *q, uint16_t v);
uint16_t vt_avail_event (VtQueue *q);
void vt_set_avail_flags (VtQueue *q, uint16_t flags);

typedef struct
{
  uint64_t gpa;
  uint32_t len;
  bool write;
} VtSeg;

/* Writes a chain into consecutive descriptors and publishes it. */
uint16_t vt_add_chain (VtQueue *q, const VtSeg *segs, unsigned n);

/* virtio-blk: one request as header (at hdr_gpa) + data + status byte
 * (at hdr_gpa + 16); kicks, expects one used entry and returns the status
 * (or -1 if none came back). */
int vt_blk_request (VtQueue *q, uint32_t type, uint64_t sector, uint64_t hdr_gpa, uint64_t data_gpa,
                    uint32_t data_len, uint32_t *used_len);
