#include "vmm-core/boot-linux.h"

#include <string.h>
#include <gio/gio.h>

#include "vmm-core/boot-cpu.h"
#include "vmm-core/e820.h"

/* Offsets in boot_params / the image (boot.rst, "The real-mode kernel header"). */
#define BP_SCREEN_INFO 0x000
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define HDR_SETUP_SECTS 0x1f1
#define HDR_VID_MODE 0x1fa
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_MIN_LEN 0x268

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01

static uint16_t
le16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t
le32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void
put16 (uint8_t *p, uint16_t v)
{
  memcpy (p, &v, 2);
}

static void
put32 (uint8_t *p, uint32_t v)
{
  memcpy (p, &v, 4);
}

static void
put64 (uint8_t *p, uint64_t v)
{
  memcpy (p, &v, 8);
}

static bool
fail (GError **error, const char *msg)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, msg);
  return false;
}

bool
linux_parse_bzimage (const uint8_t *img, size_t len, BzImageInfo *info, GError **error)
{
  memset (info, 0, sizeof *info);
  if (len < HDR_MIN_LEN || le16 (img + HDR_BOOT_FLAG) != 0xaa55
      || memcmp (img + HDR_MAGIC, "HdrS", 4) != 0)
    return fail (error, "kernel is not a bzImage (no \"HdrS\" setup header)");
  info->version = le16 (img + HDR_VERSION);
  if (info->version < BZIMAGE_MIN_VERSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "kernel boot protocol %u.%02u is too old (2.06 or later needed)",
                   info->version >> 8, info->version & 0xff);
      return false;
    }
  unsigned sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
  info->setup_size = (size_t) (sects + 1) * 512;
  info->loadflags = img[HDR_LOADFLAGS];
  info->header_end = 0x202 + img[HDR_JUMP + 1];
  if (info->header_end > 0x290)
    info->header_end = 0x290; /* boot_params has room up to there */
  if (!(info->loadflags & LOADED_HIGH))
    return fail (error, "kernel is a zImage (loads low): only bzImage is supported");
  info->relocatable = img[HDR_RELOCATABLE] != 0;
  info->kernel_alignment = le32 (img + HDR_KERNEL_ALIGNMENT);
  info->initrd_addr_max = le32 (img + HDR_INITRD_ADDR_MAX);
  info->cmdline_size = info->version >= 0x0206 ? le32 (img + HDR_CMDLINE_SIZE) : 255;
  if (info->version >= 0x020a)
    {
      memcpy (&info->pref_address, img + HDR_PREF_ADDRESS, 8);
      info->init_size = le32 (img + HDR_INIT_SIZE);
    }
  info->xloadflags = info->version >= 0x020c ? le16 (img + HDR_XLOADFLAGS) : 0;
  if (!(info->xloadflags & XLF_KERNEL_64))
    return fail (error, "kernel has no 64-bit entry point (not an x86-64 bzImage)");
  if (info->setup_size >= len)
    return fail (error, "kernel image is truncated (setup code runs past the end)");
  info->kernel_size = len - info->setup_size;
  if (info->init_size < info->kernel_size)
    info->init_size = (uint32_t) MIN (info->kernel_size, (size_t) UINT32_MAX);
  return true;
}

void
linux_fill_screen_info (uint8_t *zp, const BootDisplayInfo *d)
{
  uint8_t *si = zp + BP_SCREEN_INFO;
  memset (si, 0, 0x40);
  si[0x0f] = 0x23; /* orig_video_isVGA = VIDEO_TYPE_VLFB */
  put16 (si + 0x12, d->width);
  put16 (si + 0x14, d->height);
  put16 (si + 0x16, d->depth);
  put32 (si + 0x18, (uint32_t) d->lfb_base);
  put32 (si + 0x1c, (d->lfb_size + 0xffff) >> 16); /* in 64 KiB units for VLFB */
  put16 (si + 0x24, d->stride);
  const uint8_t masks[8] = { d->red_size, d->red_pos, d->green_size, d->green_pos,
                             d->blue_size, d->blue_pos, d->rsvd_size, d->rsvd_pos };
  memcpy (si + 0x26, masks, 8);
  if (d->lfb_base >> 32)
    {
      put32 (si + 0x36, 0x2); /* VIDEO_CAPABILITY_64BIT_BASE */
      put32 (si + 0x3a, (uint32_t) (d->lfb_base >> 32));
    }
}

bool
linux_load (GuestRam *ram, const LinuxBootConfig *cfg, CpuState *bsp, LinuxBootResult *res,
            GError **error)
{
  BzImageInfo info;
  LinuxBootResult dummy;
  if (!res)
    res = &dummy;
  memset (res, 0, sizeof *res);

  if (!linux_parse_bzimage (cfg->kernel, cfg->kernel_len, &info, error))
    return false;

  /* Where the protected-mode kernel goes: its preferred address if RAM has
   * room for its whole decompression footprint there, else 1 MiB. */
  uint64_t low_end = ram->low_size;
  if (cfg->acpi_size && cfg->acpi_base >= E820_HIGH_MEMORY && cfg->acpi_base < low_end)
    low_end = cfg->acpi_base; /* ACPI tables at the top of low RAM are not ours */
  uint64_t load = BZIMAGE_DEFAULT_LOAD;
  if (info.pref_address >= BZIMAGE_DEFAULT_LOAD && info.pref_address < low_end
      && info.init_size <= low_end - info.pref_address)
    load = info.pref_address;
  if (load + info.init_size > low_end || load + info.init_size < load)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "kernel needs %u MiB from %#" G_GINT64_MODIFIER "x but the guest has only %"
                   G_GUINT64_FORMAT " MiB below the PCI hole",
                   (info.init_size + 0xfffff) >> 20, load, low_end >> 20);
      return false;
    }
  uint64_t kernel_end = load + info.init_size;

  /* Command line. */
  const char *cmdline = cfg->cmdline ? cfg->cmdline : "";
  size_t cmdlen = strlen (cmdline);
  size_t cmdmax = MIN ((size_t) info.cmdline_size, (size_t) BOOT_CMDLINE_MAX - 1);
  if (cmdlen > cmdmax)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "kernel command line is %zu bytes; this kernel accepts at most %zu",
                   cmdlen, cmdmax);
      return false;
    }

  /* Initrd: as high as the header and RAM allow, page aligned, above the kernel. */
  uint64_t initrd_addr = 0;
  if (cfg->initrd && cfg->initrd_len)
    {
      if (!linux_check_initrd (cfg->initrd, cfg->initrd_len, error))
        return false;
      uint64_t max = info.initrd_addr_max ? (uint64_t) info.initrd_addr_max : 0x37ffffff;
      uint64_t top = MIN (max + 1, low_end);
      if (cfg->initrd_len > top || ((top - cfg->initrd_len) & ~0xfffull) < kernel_end)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                       "initrd (%zu MiB) does not fit in guest memory next to the kernel "
                       "(give the guest more memory)", (cfg->initrd_len + 0xfffff) >> 20);
          return false;
        }
      initrd_addr = (top - cfg->initrd_len) & ~0xfffull;
    }

  /* Everything checked: write. */
  uint8_t *zp = guest_ram_ptr (ram, BOOT_ZERO_PAGE_ADDR, 0x1000);
  if (!zp || !guest_ram_write (ram, load, cfg->kernel + info.setup_size, info.kernel_size)
      || !guest_ram_write (ram, BOOT_CMDLINE_ADDR, cmdline, cmdlen + 1)
      || (initrd_addr && !guest_ram_write (ram, initrd_addr, cfg->initrd, cfg->initrd_len)))
    return fail (error, "guest memory too small for the boot image");

  memset (zp, 0, 0x1000);
  memcpy (zp + HDR_SETUP_SECTS, cfg->kernel + HDR_SETUP_SECTS,
          info.header_end - HDR_SETUP_SECTS);
  put16 (zp + HDR_VID_MODE, 0xffff); /* "normal" text mode: no mode switch */
  zp[HDR_TYPE_OF_LOADER] = 0xff;      /* undefined loader */
  zp[HDR_LOADFLAGS] = info.loadflags | CAN_USE_HEAP;
  put16 (zp + HDR_HEAP_END_PTR, 0xfe00 - 0x200);
  put32 (zp + HDR_CMD_LINE_PTR, BOOT_CMDLINE_ADDR);
  put32 (zp + BP_EXT_CMD_LINE_PTR, 0);
  put32 (zp + HDR_RAMDISK_IMAGE, (uint32_t) initrd_addr);
  put32 (zp + HDR_RAMDISK_SIZE, (uint32_t) (initrd_addr ? cfg->initrd_len : 0));
  put32 (zp + BP_EXT_RAMDISK_IMAGE, (uint32_t) (initrd_addr >> 32));
  put32 (zp + BP_EXT_RAMDISK_SIZE, (uint32_t) ((uint64_t) (initrd_addr ? cfg->initrd_len : 0) >> 32));
  put64 (zp + BP_ACPI_RSDP, cfg->acpi_rsdp);
  if (cfg->display && cfg->display->width)
    linux_fill_screen_info (zp, cfg->display);

  E820Entry map[E820_MAX_ENTRIES];
  unsigned n = e820_build (ram, cfg->acpi_base, cfg->acpi_size, map, E820_MAX_ENTRIES);
  for (unsigned i = 0; i < n && i < BP_E820_MAX; i++)
    {
      uint8_t *e = zp + BP_E820_TABLE + i * 20;
      put64 (e, map[i].addr);
      put64 (e + 8, map[i].size);
      put32 (e + 16, map[i].type);
    }
  zp[BP_E820_ENTRIES] = (uint8_t) n;

  if (!boot_cpu_long_mode (ram, bsp, load + 0x200))
    return fail (error, "guest memory too small for the boot page tables");
  bsp->regs[CPU_REG_RSI] = BOOT_ZERO_PAGE_ADDR;
  res->kernel_addr = load;
  res->kernel_end = kernel_end;
  res->initrd_addr = initrd_addr;
  return true;
}
