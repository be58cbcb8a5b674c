/* Direct Linux boot: a bzImage through the 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst).
 *
 * The loader puts the protected-mode kernel at its preferred address (1 MiB
 * for old kernels), builds boot_params (setup header copied from the image,
 * e820 map, command line, initrd, ACPI RSDP, screen_info) and sets the BSP to
 * 64-bit mode at startup_64 with RSI pointing at boot_params. Secondary CPUs
 * stay in wait-for-SIPI; the kernel starts them through its LAPIC. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/cpu-state.h"
#include "vmm-core/guest-ram.h"

#define BZIMAGE_MIN_VERSION 0x0206
#define BZIMAGE_DEFAULT_LOAD 0x100000ull

/* A linear framebuffer for screen_info (VESA LFB, VIDEO_TYPE_VLFB), filled
 * by whoever creates the display device; width 0 means no framebuffer. */
typedef struct BootDisplayInfo {
  uint64_t lfb_base;
  uint32_t lfb_size;
  uint16_t width, height, depth, stride;
  uint8_t red_size, red_pos, green_size, green_pos, blue_size, blue_pos, rsvd_size, rsvd_pos;
} BootDisplayInfo;

/* What the setup header says, checked. */
typedef struct BzImageInfo {
  uint16_t version;
  size_t setup_size;  /* real-mode part, (setup_sects + 1) * 512 */
  size_t kernel_size; /* protected-mode part that follows */
  uint8_t loadflags;
  uint16_t xloadflags;
  bool relocatable;
  uint32_t kernel_alignment;
  uint64_t pref_address;
  uint32_t init_size;
  uint32_t initrd_addr_max;
  uint32_t cmdline_size;
  size_t header_end; /* end of the setup header in the image (0x202 + jump) */
} BzImageInfo;

typedef struct LinuxBootConfig {
  const uint8_t *kernel;
  size_t kernel_len;
  const uint8_t *initrd; /* NULL for none */
  size_t initrd_len;
  const char *cmdline;   /* NULL for empty */
  uint64_t acpi_rsdp;    /* 0 if no ACPI tables */
  uint64_t acpi_base, acpi_size; /* region typed ACPI in e820 */
  const BootDisplayInfo *display; /* NULL: no screen_info framebuffer */
} LinuxBootConfig;

typedef struct LinuxBootResult {
  uint64_t kernel_addr, kernel_end;
  uint64_t initrd_addr;
} LinuxBootResult;

/* Checks the header of a bzImage held in memory: size, boot flag, "HdrS",
 * protocol version, 64-bit entry, sizes. One-line error otherwise. */
bool linux_parse_bzimage (const uint8_t *img, size_t len, BzImageInfo *info, GError **error);

/* Loads everything into RAM and sets bsp (already reset) to the kernel's
 * 64-bit entry. Nothing is half-loaded on error that a retry would trip on. */
bool linux_load (GuestRam *ram, const LinuxBootConfig *cfg, CpuState *bsp,
                 LinuxBootResult *result, GError **error);

/* Sanity check of an initrd: newc cpio archives must reach their trailer and
 * gzip members must decompress to their end, so a truncated file is refused
 * here rather than as a kernel panic. Other formats pass unchecked. */
bool linux_check_initrd (const uint8_t *data, size_t len, GError **error);

/* Fills screen_info (the first 0x40 bytes of boot_params) for a VESA LFB. */
void linux_fill_screen_info (uint8_t *zero_page, const BootDisplayInfo *d);
