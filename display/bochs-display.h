/* Bochs VBE display: a PCI display function with a linear framebuffer.
 *
 * PCI 1234:1111 (subsystem 1af4:1100, class 0380 "display, other"), the IDs
 * Linux's bochs-drm binds to. BAR 0: the VRAM, a prefetchable 32-bit memory
 * BAR backed by a memfd (mapped as guest RAM, shared with the display
 * consumers). BAR 2: 4 KiB MMIO: 0x000 EDID (none: reads 0), 0x400 the VGA
 * ports 0x3C0-0x3DF (stored, no VGA behind them), 0x500 the dispi registers
 * (16 bits each at 0x500 + 2 * index), 0x600 the QEMU extension registers
 * (size, framebuffer endianness). Also the legacy dispi index/data ports
 * 0x1CE/0x1CF (and 0x1D0) when given a port bus.
 *
 * Dispi registers: ID (0xB0C0-0xB0C5), XRES, YRES, BPP (8/15/16/24/32),
 * ENABLE (enabled, GETCAPS, 8-bit DAC, LFB, NOCLEARMEM), BANK, VIRT_WIDTH,
 * VIRT_HEIGHT (read only: what fits), X_OFFSET, Y_OFFSET, VIDEO_MEMORY_64K.
 * A mode that does not fit VRAM, a bad depth or a zero size is refused: the
 * write is dropped (guest error) and the previous mode stays.
 *
 * At power-on the device is enabled at the configured mode (default
 * 1024x768x32), as firmware would leave a VESA mode, so a direct-booted
 * kernel can draw on it through screen_info. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "display/display-surface.h"
#include "display/vmm-display.h"
#include "vmm-core/boot-linux.h"
#include "vmm-core/io-bus.h"
#include "vmm-core/platform/pci-device.h"
#include "vmm-core/snapshot-stream.h"

#define BOCHS_VENDOR_ID 0x1234
#define BOCHS_DEVICE_ID 0x1111
#define BOCHS_VRAM_DEFAULT (16u << 20)
#define BOCHS_MMIO_SIZE 0x1000
#define BOCHS_DISPI_IOPORT_INDEX 0x1ce
#define BOCHS_DISPI_IOPORT_DATA 0x1cf
#define BOCHS_MAX_XRES 8192
#define BOCHS_MAX_YRES 8192

enum
{
  DISPI_INDEX_ID = 0,
  DISPI_INDEX_XRES,
  DISPI_INDEX_YRES,
  DISPI_INDEX_BPP,
  DISPI_INDEX_ENABLE,
  DISPI_INDEX_BANK,
  DISPI_INDEX_VIRT_WIDTH,
  DISPI_INDEX_VIRT_HEIGHT,
  DISPI_INDEX_X_OFFSET,
  DISPI_INDEX_Y_OFFSET,
  DISPI_INDEX_VIDEO_MEMORY_64K,
  DISPI_INDEX_COUNT,
};

enum
{
  DISPI_ID0 = 0xb0c0,
  DISPI_ID5 = 0xb0c5,
  DISPI_ENABLED = 0x01,
  DISPI_GETCAPS = 0x02,
  DISPI_8BIT_DAC = 0x20,
  DISPI_LFB_ENABLED = 0x40,
  DISPI_NOCLEARMEM = 0x80,
};

typedef struct BochsDisplayConfig
{
  uint32_t width, height, bpp; /* power-on mode; 0 = 1024x768x32 */
  uint64_t vram_size;          /* power of two, 1-256 MiB; 0 = 16 MiB */
} BochsDisplayConfig;

typedef struct BochsDisplay
{
  PciDevice pci;
  IoBus *pio;
  BochsDisplayConfig cfg;

  int vram_fd;
  uint8_t *vram;
  uint64_t vram_size;

  uint16_t index;
  uint16_t regs[DISPI_INDEX_COUNT];
  bool getcaps;
  uint8_t vga[0x20]; /* ports 0x3C0-0x3DF as written */
  uint32_t qext_endian;

  /* The mode in force (derived from regs when enabled). */
  DisplayFormat format;
  uint32_t width, height, stride;
  uint64_t fb_offset;
  uint32_t generation;
} BochsDisplay;

/* Creates the VRAM memfd and declares the PCI function (plug it in with
 * pci_host_add_device). pio may be NULL (no legacy ports). One-line error on
 * a bad configuration or when the host cannot give the memory. */
bool bochs_display_init (BochsDisplay *dev, IoBus *pio, const BochsDisplayConfig *cfg,
                         GError **error);
void bochs_display_destroy (BochsDisplay *dev);
/* Power-on state: the configured mode enabled, VRAM cleared. */
void bochs_display_reset (BochsDisplay *dev);

/* Register access (what the ports and the MMIO BAR do). */
uint16_t bochs_dispi_read (BochsDisplay *dev, unsigned index);
void bochs_dispi_write (BochsDisplay *dev, unsigned index, uint16_t value);
extern const IoOps bochs_display_mmio_ops; /* BAR 2, offsets from its base */

/* For direct boot (no firmware to assign BARs): programs BAR 0 (VRAM) and
 * BAR 2 (MMIO) and enables memory decoding, as firmware would, so the
 * framebuffer has an address for screen_info. Call after
 * pci_host_add_device; addresses must be aligned to the BAR sizes (e.g.
 * 0xC0000000 and 0xC1000000). False on a misaligned address. */
bool bochs_display_assign_bars (BochsDisplay *dev, uint32_t vram_addr, uint32_t mmio_addr);

/* The current surface (device lock held) and the source for the hub. */
void bochs_display_surface (BochsDisplay *dev, DisplaySurface *out);
DisplaySource bochs_display_source (BochsDisplay *dev);

/* The framebuffer for screen_info: BAR 0's guest address and the current
 * mode as XRGB8888 / RGB565 masks. False while BAR 0 is unassigned or the
 * display is off (then the loader should pass no display). */
bool bochs_display_boot_info (BochsDisplay *dev, BootDisplayInfo *out);

/* Section "bochs-display", version 1: registers and the used VRAM. */
void bochs_display_save (const BochsDisplay *dev, SnapWriter *w);
bool bochs_display_load (BochsDisplay *dev, SnapReader *r, GError **error);
