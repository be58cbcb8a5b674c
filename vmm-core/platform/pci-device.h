/* A PCI function as device models embed it (virtio, display, ...).
 *
 * Holds a type-0 256-byte configuration space with a write mask (bits the
 * guest may change) and a write-1-to-clear mask (status bits), six BARs, the
 * INTx pin, a capability-list helper, and hooks for device-specific config
 * behaviour (MSI/MSI-X). The host bridge (pci-host.h) owns config cycles,
 * BAR mapping and INTx routing; a device only declares what it has:
 *
 *   pci_device_init (&dev->pci, "virtio-blk", 0x1af4, 0x1042, 0x010000, 1);
 *   pci_device_set_interrupt_pin (&dev->pci, 1);           // INTA#
 *   pci_device_set_bar_mem (&dev->pci, 0, 0x4000, true, false, &ops, dev);
 *   uint8_t cap = pci_add_capability (&dev->pci, PCI_CAP_ID_VNDR, 16);
 *   pci_host_add_device (host, &dev->pci, -1, 0, &error);
 *   ...
 *   pci_set_irq (&dev->pci, true);                          // assert INTx
 *
 * Trapped BARs are registered on the machine's pio / mmio IoBus with the
 * device's IoOps (offsets relative to the BAR); RAM-backed BARs (a
 * framebuffer) are handed to the machine's map_ram callback instead. All
 * calls expect the device lock held. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vmm-core/io-bus.h"

#define PCI_CONFIG_SIZE 256
#define PCI_NUM_BARS 6

/* Standard header offsets. */
enum {
  PCI_VENDOR_ID = 0x00, PCI_DEVICE_ID = 0x02, PCI_COMMAND = 0x04, PCI_STATUS = 0x06,
  PCI_REVISION_ID = 0x08, PCI_CLASS_PROG = 0x09, PCI_CLASS_DEVICE = 0x0a,
  PCI_CACHE_LINE_SIZE = 0x0c, PCI_LATENCY_TIMER = 0x0d, PCI_HEADER_TYPE = 0x0e,
  PCI_BAR0 = 0x10, PCI_SUBSYSTEM_VENDOR_ID = 0x2c, PCI_SUBSYSTEM_ID = 0x2e,
  PCI_ROM_ADDRESS = 0x30, PCI_CAPABILITY_LIST = 0x34,
  PCI_INTERRUPT_LINE = 0x3c, PCI_INTERRUPT_PIN = 0x3d,
  PCI_CAP_START = 0x40,
};

enum {
  PCI_COMMAND_IO = 0x0001, PCI_COMMAND_MEMORY = 0x0002, PCI_COMMAND_MASTER = 0x0004,
  PCI_COMMAND_PARITY = 0x0040, PCI_COMMAND_SERR = 0x0100, PCI_COMMAND_INTX_DISABLE = 0x0400,
  PCI_STATUS_INTERRUPT = 0x0008, PCI_STATUS_CAP_LIST = 0x0010,
  PCI_HEADER_TYPE_MULTI_FUNCTION = 0x80,
  PCI_BAR_SPACE_IO = 0x01, PCI_BAR_MEM_TYPE_64 = 0x04, PCI_BAR_MEM_PREFETCH = 0x08,
  PCI_CAP_ID_PM = 0x01, PCI_CAP_ID_MSI = 0x05, PCI_CAP_ID_VNDR = 0x09, PCI_CAP_ID_MSIX = 0x11,
};

typedef enum {
  PCI_BAR_NONE = 0,
  PCI_BAR_IO,
  PCI_BAR_MEM32,
  PCI_BAR_MEM64, /* takes slots idx and idx + 1 */
} PciBarKind;

typedef struct PciBar {
  PciBarKind kind;
  bool prefetchable;
  uint64_t size;    /* a power of two: >= 4 for I/O, >= 16 for memory */
  const IoOps *ops; /* trapped BAR */
  void *opaque;
  void *ram;        /* RAM-backed BAR: `size` bytes of host memory */
  bool mapped;      /* where the host bridge put it (device code: read only) */
  uint64_t mapped_addr;
} PciBar;

typedef struct PciHost PciHost;
typedef struct PciDevice PciDevice;

struct PciDevice {
  uint8_t config[PCI_CONFIG_SIZE];
  uint8_t wmask[PCI_CONFIG_SIZE];   /* guest-writable bits */
  uint8_t w1cmask[PCI_CONFIG_SIZE]; /* bits a guest 1 clears */
  PciBar bars[PCI_NUM_BARS];
  const char *name;
  PciHost *host; /* set by pci_host_add_device */
  uint8_t devfn; /* slot << 3 | function */
  bool intx_level;    /* the device's INTx output */
  bool intx_asserted; /* what the host counts on the GSI (level && !disabled) */
  uint16_t cap_end;   /* first byte after the last capability (0: none yet) */

  /* Optional: adjust a config read (value is what the generic path read). */
  uint32_t (*config_read) (PciDevice *d, unsigned offset, unsigned size, uint32_t value);
  /* Optional: called after a config write went through the masks. */
  void (*config_write) (PciDevice *d, unsigned offset, unsigned size, uint32_t value);
  void *opaque; /* for the hooks */
};

/* Type-0 header: IDs, class (class << 16 | subclass << 8 | prog-if), masks
 * for command, status, cache line, latency and interrupt line. */
void pci_device_init (PciDevice *d, const char *name, uint16_t vendor, uint16_t device,
                      uint32_t class_code, uint8_t revision);
void pci_device_set_subsystem (PciDevice *d, uint16_t vendor, uint16_t id);
/* pin 1-4 = INTA#-INTD#, 0 = none. */
void pci_device_set_interrupt_pin (PciDevice *d, uint8_t pin);

/* Declare BARs before pci_host_add_device. False on a bad index, size or a
 * slot already used (a 64-bit BAR needs idx <= 4 and idx + 1 free). */
bool pci_device_set_bar_io (PciDevice *d, unsigned idx, uint64_t size, const IoOps *ops,
                            void *opaque);
bool pci_device_set_bar_mem (PciDevice *d, unsigned idx, uint64_t size, bool is64,
                             bool prefetchable, const IoOps *ops, void *opaque);
bool pci_device_set_bar_ram (PciDevice *d, unsigned idx, uint64_t size, bool is64,
                             bool prefetchable, void *host_mem);
/* The address the guest programmed into BAR idx (0 if none). */
uint64_t pci_device_bar_address (const PciDevice *d, unsigned idx);

/* Reserves `size` bytes (4-aligned, from 0x40) for a capability with ID
 * `id`, links it first in the list and returns its offset (0: no room).
 * The device sets d->wmask for any writable bytes in it. */
uint8_t pci_add_capability (PciDevice *d, uint8_t id, uint8_t size);
/* Offset of the first capability with ID id, or 0. */
uint8_t pci_find_capability (const PciDevice *d, uint8_t id);

/* Drives the INTx pin (level-triggered, shared). */
void pci_set_irq (PciDevice *d, bool level);
/* Sends an MSI/MSI-X message. Dropped (false) unless the guest enabled bus
 * mastering, as a real device could not write it. */
bool pci_send_msi (PciDevice *d, uint64_t address, uint32_t data);

/* Generic config access within the 256 bytes; offset + size must not
 * cross a dword. Bad accesses read all ones / are dropped (guest error). */
uint32_t pci_device_config_read (PciDevice *d, unsigned offset, unsigned size);
void pci_device_config_write (PciDevice *d, unsigned offset, unsigned size, uint32_t value);

/* Little-endian helpers for device code (no masks, no hooks). */
static inline uint16_t
pci_get_word (const PciDevice *d, unsigned off)
{
  return (uint16_t) (d->config[off] | d->config[off + 1] << 8);
}

static inline uint32_t
pci_get_long (const PciDevice *d, unsigned off)
{
  return (uint32_t) pci_get_word (d, off) | (uint32_t) pci_get_word (d, off + 2) << 16;
}

static inline void
pci_set_word (uint8_t *cfg, unsigned off, uint16_t v)
{
  cfg[off] = (uint8_t) v;
  cfg[off + 1] = (uint8_t) (v >> 8);
}

static inline void
pci_set_long (uint8_t *cfg, unsigned off, uint32_t v)
{
  pci_set_word (cfg, off, (uint16_t) v);
  pci_set_word (cfg, off + 2, (uint16_t) (v >> 16));
}
