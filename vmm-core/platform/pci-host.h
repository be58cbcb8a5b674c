/* PCI host bridge: configuration mechanism #1, bus 0, BAR mapping, INTx.
 *
 * Ports 0xCF8-0xCFF: a dword at 0xCF8 is CONFIG_ADDRESS (bit 31 enable,
 * bus 23:16, device 15:11, function 10:8, register 7:2); 0xCFC-0xCFF is
 * CONFIG_DATA (byte, word or dword within the selected dword). Other accesses
 * to 0xCF8-0xCFB are ordinary I/O: a byte at 0xCF9 goes to the reset control
 * register handler (pc-reset.h) if the machine installed one. Only bus 0
 * exists; 32 slots x 8 functions; absent functions read all ones.
 *
 * The bridge itself is 00.0, an Intel 440FX (8086:1237, class 0600).
 *
 * BARs are mapped while the command register enables their space and the
 * programmed address lies in a window the ACPI DSDT (acpi-tables.h) also
 * describes: I/O [0x0D00, 0x10000), 32-bit memory [0xC0000000, 0xFEC00000),
 * and a 64-bit memory window the machine may set. Trapped BARs become IoBus
 * ranges; RAM BARs go through map_ram. A BAR that would overlap something
 * else stays unmapped (guest error) and is retried on the next change.
 *
 * INTx: slot s, pin p (1 = INTA#) → GSI 16 + ((s + p - 1) mod 8), level,
 * shared; the DSDT's _PRT lists the same (pci_host_intx_gsi).
 *
 * Use (machine), device lock held:
 *   pci_host_init (&pci, &pio, &mmio, &router, map_ram_cb, machine);
 *   pci_host_set_cf9_handler (&pci, &pc_reset_cf9_ops, &reset);
 *   pci_host_add_device (&pci, &display.pci, -1, 0, &error);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/io-bus.h"
#include "vmm-core/irq.h"
#include "vmm-core/platform/pci-device.h"
#include "vmm-core/snapshot-stream.h"

#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT 0xcfc
#define PCI_SLOTS 32
#define PCI_FUNCTIONS 8
#define PCI_HOST_VENDOR 0x8086
#define PCI_HOST_DEVICE 0x1237 /* i440FX */

#define PCI_IO_WINDOW_BASE 0x0d00u
#define PCI_IO_WINDOW_END 0x10000u /* exclusive */
#define PCI_MMIO32_WINDOW_BASE 0xc0000000ull
#define PCI_MMIO32_WINDOW_END 0xfec00000ull /* exclusive: IOAPIC, LAPIC, BIOS above */
#define PCI_INTX_GSI_BASE 16
#define PCI_INTX_GSI_COUNT 8

/* map: true to map `size` bytes of host memory `host` at guest-physical gpa
 * as RAM, false to remove that mapping. */
typedef void (*PciMapRamFn) (void *opaque, uint64_t gpa, uint64_t size, void *host, bool map);

struct PciHost {
  IoBus *pio;
  IoBus *mmio;
  const IrqRouter *irq;
  PciMapRamFn map_ram;
  void *map_ram_opaque;
  const IoOps *cf9_ops;
  void *cf9_opaque;

  uint32_t config_address;
  PciDevice *devices[PCI_SLOTS * PCI_FUNCTIONS]; /* by devfn */
  PciDevice bridge;
  unsigned intx_count[PCI_INTX_GSI_COUNT]; /* asserted devices per GSI */
  uint64_t mmio64_base, mmio64_end;        /* 64-bit window; empty by default */
};

/* Claims 0xCF8-0xCFF on pio and adds the bridge at 00.0. False if taken. */
bool pci_host_init (PciHost *h, IoBus *pio, IoBus *mmio, const IrqRouter *irq,
                    PciMapRamFn map_ram, void *map_ram_opaque);
/* Unmaps every BAR and releases the ports. */
void pci_host_destroy (PciHost *h);

/* Machine reset: every function's guest-writable config bits (command,
 * BARs, capability registers such as MSI enables) back to zero, status
 * errors cleared, interrupt lines re-set, BARs unmapped; the address latch
 * cleared. Device models reset their own state separately. */
void pci_host_reset (PciHost *h);

/* Plugs d in at slot.fn (slot -1: first free slot, function 0). Assigns the
 * interrupt line register from the routing. False with a message if the
 * place is taken or out of range. */
bool pci_host_add_device (PciHost *h, PciDevice *d, int slot, unsigned fn, GError **error);

/* Byte accesses at 0xCF9 (shares the dword at 0xCF8) go to ops at offset 0. */
void pci_host_set_cf9_handler (PciHost *h, const IoOps *ops, void *opaque);
/* Allows 64-bit BARs in [base, base + size) (above RAM). */
void pci_host_set_mmio64_window (PciHost *h, uint64_t base, uint64_t size);

/* The GSI of slot's pin (1-4); what the DSDT's _PRT says. */
unsigned pci_host_intx_gsi (unsigned slot, unsigned pin);

/* Port access as a guest does it (port 0xCF8-0xCFF, size 1/2/4). */
uint32_t pci_host_io_read (PciHost *h, uint16_t port, unsigned size);
void pci_host_io_write (PciHost *h, uint16_t port, unsigned size, uint32_t value);

/* Section "pci-host", version 1: the address latch and every function's
 * config space (guest-writable bits only; read-only identity must match, so
 * the machine adds the same devices before loading). Remaps BARs and re-drives
 * INTx lines afterwards. */
void pci_host_save (const PciHost *h, SnapWriter *w);
bool pci_host_load (PciHost *h, SnapReader *r, GError **error);

/* For pci-device.c: a config write landed; remap / re-route as needed. */
void pci_host_config_written (PciHost *h, PciDevice *d, unsigned offset, unsigned size);
void pci_host_update_intx (PciHost *h, PciDevice *d);
