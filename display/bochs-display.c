/* Bochs VBE "dispi" display on PCI: registers, mode validation, VRAM. */
#include "display/bochs-display.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <gio/gio.h>

#include "vmm-core/log.h"

#define BOCHS_SNAP_VERSION 1
#define QEXT_SIZE 8
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1eu

static unsigned
bytes_per_pixel (unsigned bpp)
{
  return bpp == 15 ? 2 : bpp / 8;
}

static DisplayFormat
format_of (unsigned bpp)
{
  switch (bpp)
    {
    case 8:
      return DISPLAY_FORMAT_C8;
    case 15:
      return DISPLAY_FORMAT_XRGB1555;
    case 16:
      return DISPLAY_FORMAT_RGB565;
    case 24:
      return DISPLAY_FORMAT_RGB888;
    case 32:
      return DISPLAY_FORMAT_XRGB8888;
    default:
      return DISPLAY_FORMAT_NONE;
    }
}

typedef struct
{
  DisplayFormat format;
  uint32_t width, height, stride, virt_height;
  uint64_t offset;
} Mode;

/* Checks the registers as a mode; false (with a reason) if it cannot be. */
static bool
compute_mode (const BochsDisplay *dev, const uint16_t *regs, Mode *m, const char **why)
{
  unsigned bpp = regs[DISPI_INDEX_BPP] ? regs[DISPI_INDEX_BPP] : 8;
  m->format = format_of (bpp);
  m->width = regs[DISPI_INDEX_XRES];
  m->height = regs[DISPI_INDEX_YRES];
  if (m->format == DISPLAY_FORMAT_NONE)
    return *why = "unsupported depth", false;
  if (m->width == 0 || m->height == 0 || m->width > BOCHS_MAX_XRES || m->height > BOCHS_MAX_YRES)
    return *why = "resolution out of range", false;
  unsigned bypp = bytes_per_pixel (bpp);
  uint32_t virt_width = regs[DISPI_INDEX_VIRT_WIDTH];
  if (virt_width < m->width)
    virt_width = m->width;
  m->stride = virt_width * bypp;
  uint64_t virt_height = dev->vram_size / m->stride;
  m->virt_height = virt_height > 0xffff ? 0xffff : (uint32_t)virt_height;
  uint32_t xo = regs[DISPI_INDEX_X_OFFSET], yo = regs[DISPI_INDEX_Y_OFFSET];
  if (xo + (uint64_t)m->width > virt_width)
    return *why = "x offset beyond the virtual width", false;
  m->offset = (uint64_t)yo * m->stride + (uint64_t)xo * bypp;
  uint64_t last = m->offset + (uint64_t)m->stride * (m->height - 1) + (uint64_t)m->width * bypp;
  if (last > dev->vram_size)
    return *why = "mode does not fit in video memory", false;
  return true;
}

static void
apply_mode (BochsDisplay *dev, const Mode *m)
{
  dev->format = m->format;
  dev->width = m->width;
  dev->height = m->height;
  dev->stride = m->stride;
  dev->fb_offset = m->offset;
  dev->regs[DISPI_INDEX_VIRT_WIDTH]
      = (uint16_t)(m->stride
                   / bytes_per_pixel (dev->regs[DISPI_INDEX_BPP] ? dev->regs[DISPI_INDEX_BPP] : 8));
  dev->regs[DISPI_INDEX_VIRT_HEIGHT] = (uint16_t)m->virt_height;
  dev->generation++;
}

static void
disable (BochsDisplay *dev)
{
  if (dev->format != DISPLAY_FORMAT_NONE)
    dev->generation++;
  dev->format = DISPLAY_FORMAT_NONE;
  dev->width = dev->height = dev->stride = 0;
  dev->fb_offset = 0;
}

static void
write_enable (BochsDisplay *dev, uint16_t v)
{
  dev->getcaps = v & DISPI_GETCAPS;
  if (!(v & DISPI_ENABLED))
    {
      dev->regs[DISPI_INDEX_ENABLE] = v & (DISPI_8BIT_DAC | DISPI_LFB_ENABLED | DISPI_NOCLEARMEM);
      disable (dev);
      return;
    }
  /* Enabling starts from an unscrolled virtual screen, as VBE does. */
  uint16_t regs[DISPI_INDEX_COUNT];
  memcpy (regs, dev->regs, sizeof regs);
  regs[DISPI_INDEX_VIRT_WIDTH] = regs[DISPI_INDEX_XRES];
  regs[DISPI_INDEX_X_OFFSET] = 0;
  regs[DISPI_INDEX_Y_OFFSET] = 0;
  Mode m;
  const char *why;
  if (!compute_mode (dev, regs, &m, &why))
    {
      VMM_GUEST_ERROR ("bochs-display", "enable refused: %s (%ux%u, bpp %u)", why,
                       regs[DISPI_INDEX_XRES], regs[DISPI_INDEX_YRES], regs[DISPI_INDEX_BPP]);
      return;
    }
  memcpy (dev->regs, regs, sizeof regs);
  dev->regs[DISPI_INDEX_ENABLE]
      = v & (DISPI_ENABLED | DISPI_8BIT_DAC | DISPI_LFB_ENABLED | DISPI_NOCLEARMEM);
  apply_mode (dev, &m);
  if (!(v & DISPI_NOCLEARMEM))
    memset (dev->vram, 0, MIN (dev->vram_size, (uint64_t)m.stride * m.virt_height));
}

uint16_t
bochs_dispi_read (BochsDisplay *dev, unsigned index)
{
  if (index >= DISPI_INDEX_COUNT)
    {
      VMM_GUEST_ERROR ("bochs-display", "read of dispi register %u", index);
      return 0;
    }
  if (dev->getcaps)
    {
      if (index == DISPI_INDEX_XRES)
        return BOCHS_MAX_XRES;
      if (index == DISPI_INDEX_YRES)
        return BOCHS_MAX_YRES;
      if (index == DISPI_INDEX_BPP)
        return 32;
    }
  if (index == DISPI_INDEX_ENABLE)
    return (uint16_t)(dev->regs[index] | (dev->getcaps ? DISPI_GETCAPS : 0));
  return dev->regs[index];
}

void
bochs_dispi_write (BochsDisplay *dev, unsigned index, uint16_t v)
{
  switch (index)
    {
    case DISPI_INDEX_ID:
      if (v >= DISPI_ID0 && v <= DISPI_ID5)
        dev->regs[index] = v;
      else
        VMM_GUEST_ERROR ("bochs-display", "unknown interface ID 0x%04x", v);
      return;
    case DISPI_INDEX_ENABLE:
      write_enable (dev, v);
      return;
    case DISPI_INDEX_BANK:
      {
        uint64_t banks = dev->vram_size >> 16;
        dev->regs[index] = v < banks ? v : (uint16_t)(banks - 1);
      }
      return;
    case DISPI_INDEX_XRES:
    case DISPI_INDEX_YRES:
    case DISPI_INDEX_BPP:
    case DISPI_INDEX_VIRT_WIDTH:
    case DISPI_INDEX_X_OFFSET:
    case DISPI_INDEX_Y_OFFSET:
      break;
    case DISPI_INDEX_VIRT_HEIGHT:
    case DISPI_INDEX_VIDEO_MEMORY_64K:
      return; /* derived / read only */
    default:
      VMM_GUEST_ERROR ("bochs-display", "write of dispi register %u", index);
      return;
    }

  if (!(dev->regs[DISPI_INDEX_ENABLE] & DISPI_ENABLED))
    {
      /* Disabled: just latch; the mode is checked when enabled. Hostile
       * sizes are clamped here so reads never show more than we could do. */
      if (index == DISPI_INDEX_XRES && v > BOCHS_MAX_XRES)
        v = BOCHS_MAX_XRES;
      if (index == DISPI_INDEX_YRES && v > BOCHS_MAX_YRES)
        v = BOCHS_MAX_YRES;
      dev->regs[index] = v;
      return;
    }
  /* Enabled: the change takes effect at once if the result is a mode
   * (panning through the offsets, mostly). */
  uint16_t regs[DISPI_INDEX_COUNT];
  memcpy (regs, dev->regs, sizeof regs);
  regs[index] = v;
  Mode m;
  const char *why;
  if (!compute_mode (dev, regs, &m, &why))
    {
      VMM_GUEST_ERROR ("bochs-display", "register %u = %u refused: %s", index, v, why);
      return;
    }
  memcpy (dev->regs, regs, sizeof regs);
  apply_mode (dev, &m);
}

/* ---- port and MMIO access ---- */

static uint64_t
dispi_port_read (void *opaque, uint64_t offset, unsigned size)
{
  BochsDisplay *dev = opaque;
  /* 0x1CE index, 0x1CF data (0x1D0 too, as older Bochs had it). */
  if (offset == 0)
    return dev->index;
  return bochs_dispi_read (dev, dev->index);
}

static void
dispi_port_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  BochsDisplay *dev = opaque;
  if (offset == 0)
    dev->index = (uint16_t)value;
  else
    bochs_dispi_write (dev, dev->index, (uint16_t)value);
}

static const IoOps dispi_port_ops = { dispi_port_read, dispi_port_write };

static uint64_t
mmio_read (void *opaque, uint64_t offset, unsigned size)
{
  BochsDisplay *dev = opaque;
  if (offset >= 0x400 && offset + size <= 0x420)
    {
      uint64_t v = 0;
      for (unsigned i = 0; i < size; i++)
        {
          unsigned port = (unsigned)offset - 0x400 + i;
          /* 0x3DA: input status 1; reading it resets the attribute flip-flop. */
          uint8_t b = port == 0x1a ? 0 : dev->vga[port];
          v |= (uint64_t)b << (8 * i);
        }
      return v;
    }
  if (offset >= 0x500 && offset < 0x500 + 2 * DISPI_INDEX_COUNT && !(offset & 1))
    {
      uint64_t v = bochs_dispi_read (dev, (unsigned)(offset - 0x500) / 2);
      if (size >= 4 && offset + 2 < 0x500 + 2 * DISPI_INDEX_COUNT)
        v |= (uint64_t)bochs_dispi_read (dev, (unsigned)(offset - 0x500) / 2 + 1) << 16;
      return size == 1 ? v & 0xff : v;
    }
  if (offset == 0x600 && size == 4)
    return QEXT_SIZE;
  if (offset == 0x604 && size == 4)
    return dev->qext_endian;
  return 0; /* EDID area and holes: no EDID, zeros */
}

static void
mmio_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  BochsDisplay *dev = opaque;
  if (offset >= 0x400 && offset + size <= 0x420)
    {
      for (unsigned i = 0; i < size; i++)
        dev->vga[offset - 0x400 + i] = (uint8_t)(value >> (8 * i));
      return;
    }
  if (offset >= 0x500 && offset < 0x500 + 2 * DISPI_INDEX_COUNT && !(offset & 1) && size >= 2)
    {
      bochs_dispi_write (dev, (unsigned)(offset - 0x500) / 2, (uint16_t)value);
      if (size >= 4 && offset + 2 < 0x500 + 2 * DISPI_INDEX_COUNT)
        bochs_dispi_write (dev, (unsigned)(offset - 0x500) / 2 + 1, (uint16_t)(value >> 16));
      return;
    }
  if (offset == 0x604 && size == 4)
    {
      if (value != QEXT_LITTLE_ENDIAN)
        VMM_GUEST_ERROR ("bochs-display", "big-endian framebuffer not supported");
      return;
    }
  VMM_GUEST_ERROR ("bochs-display", "MMIO write at 0x%" G_GINT64_MODIFIER "x size %u",
                   (guint64)offset, size);
}

const IoOps bochs_display_mmio_ops = { mmio_read, mmio_write };

/* ---- life cycle ---- */

void
bochs_display_reset (BochsDisplay *dev)
{
  memset (dev->regs, 0, sizeof dev->regs);
  memset (dev->vga, 0, sizeof dev->vga);
  dev->index = 0;
  dev->getcaps = false;
  dev->qext_endian = QEXT_LITTLE_ENDIAN;
  dev->regs[DISPI_INDEX_ID] = DISPI_ID5;
  dev->regs[DISPI_INDEX_VIDEO_MEMORY_64K] = (uint16_t)(dev->vram_size >> 16);
  dev->regs[DISPI_INDEX_XRES] = (uint16_t)dev->cfg.width;
  dev->regs[DISPI_INDEX_YRES] = (uint16_t)dev->cfg.height;
  dev->regs[DISPI_INDEX_BPP] = (uint16_t)dev->cfg.bpp;
  disable (dev);
  write_enable (dev, DISPI_ENABLED | DISPI_LFB_ENABLED);
}

bool
bochs_display_init (BochsDisplay *dev, IoBus *pio, const BochsDisplayConfig *cfg, GError **error)
{
  memset (dev, 0, sizeof *dev);
  dev->vram_fd = -1;
  BochsDisplayConfig c = cfg ? *cfg : (BochsDisplayConfig){ 0 };
  if (c.width == 0)
    c.width = 1024;
  if (c.height == 0)
    c.height = 768;
  if (c.bpp == 0)
    c.bpp = 32;
  if (c.vram_size == 0)
    c.vram_size = BOCHS_VRAM_DEFAULT;
  if (c.vram_size < (1u << 20) || c.vram_size > (256u << 20) || (c.vram_size & (c.vram_size - 1)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "display: video memory must be a power of two from 1 to 256 MiB");
      return false;
    }
  if (format_of (c.bpp) == DISPLAY_FORMAT_NONE || c.width > BOCHS_MAX_XRES
      || c.height > BOCHS_MAX_YRES
      || (uint64_t)c.width * c.height * bytes_per_pixel (c.bpp) > c.vram_size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "display: mode %ux%ux%u does not fit in %" G_GUINT64_FORMAT
                   " MiB of video memory",
                   c.width, c.height, c.bpp, (guint64)(c.vram_size >> 20));
      return false;
    }
  dev->cfg = c;
  dev->vram_size = c.vram_size;

  dev->vram_fd = memfd_create ("vireo-vram", MFD_CLOEXEC);
  if (dev->vram_fd < 0 || ftruncate (dev->vram_fd, (off_t)dev->vram_size) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "display: cannot create video memory: %s", g_strerror (errno));
      if (dev->vram_fd >= 0)
        close (dev->vram_fd);
      return false;
    }
  dev->vram = mmap (NULL, dev->vram_size, PROT_READ | PROT_WRITE, MAP_SHARED, dev->vram_fd, 0);
  if (dev->vram == MAP_FAILED)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "display: cannot map video memory: %s", g_strerror (errno));
      close (dev->vram_fd);
      return false;
    }

  pci_device_init (&dev->pci, "bochs-display", BOCHS_VENDOR_ID, BOCHS_DEVICE_ID, 0x038000, 2);
  pci_device_set_subsystem (&dev->pci, 0x1af4, 0x1100);
  pci_device_set_bar_ram (&dev->pci, 0, dev->vram_size, false, true, dev->vram);
  pci_device_set_bar_mem (&dev->pci, 2, BOCHS_MMIO_SIZE, false, false, &bochs_display_mmio_ops,
                          dev);
  bochs_display_reset (dev);

  if (pio)
    {
      if (!io_bus_register (pio, BOCHS_DISPI_IOPORT_INDEX, 3, &dispi_port_ops, dev, "bochs-dispi"))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                       "display: ports 0x1ce-0x1d0 are taken");
          bochs_display_destroy (dev);
          return false;
        }
      dev->pio = pio;
    }
  return true;
}

void
bochs_display_destroy (BochsDisplay *dev)
{
  if (dev->pio)
    io_bus_unregister (dev->pio, BOCHS_DISPI_IOPORT_INDEX, dev);
  dev->pio = NULL;
  if (dev->vram && dev->vram != MAP_FAILED)
    munmap (dev->vram, dev->vram_size);
  dev->vram = NULL;
  if (dev->vram_fd >= 0)
    close (dev->vram_fd);
  dev->vram_fd = -1;
}

bool
bochs_display_assign_bars (BochsDisplay *dev, uint32_t vram_addr, uint32_t mmio_addr)
{
  if ((vram_addr & (dev->vram_size - 1)) || (mmio_addr & (BOCHS_MMIO_SIZE - 1)))
    return false;
  pci_device_config_write (&dev->pci, PCI_BAR0, 4, vram_addr);
  pci_device_config_write (&dev->pci, PCI_BAR0 + 8, 4, mmio_addr);
  uint32_t cmd = pci_device_config_read (&dev->pci, PCI_COMMAND, 2);
  pci_device_config_write (&dev->pci, PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY);
  return true;
}

void
bochs_display_surface (BochsDisplay *dev, DisplaySurface *out)
{
  memset (out, 0, sizeof *out);
  out->fd = dev->vram_fd;
  out->fd_size = dev->vram_size;
  out->generation = dev->generation;
  if (dev->format == DISPLAY_FORMAT_NONE)
    return;
  out->format = dev->format;
  out->width = dev->width;
  out->height = dev->height;
  out->stride = dev->stride;
  out->offset = dev->fb_offset;
  out->data = dev->vram + dev->fb_offset;
}

static void
source_get_surface (void *opaque, DisplaySurface *out)
{
  bochs_display_surface (opaque, out);
}

DisplaySource
bochs_display_source (BochsDisplay *dev)
{
  return (DisplaySource){ source_get_surface, dev };
}

bool
bochs_display_boot_info (BochsDisplay *dev, BootDisplayInfo *out)
{
  uint64_t base = pci_device_bar_address (&dev->pci, 0);
  memset (out, 0, sizeof *out);
  if (base == 0 || (dev->format != DISPLAY_FORMAT_XRGB8888 && dev->format != DISPLAY_FORMAT_RGB565))
    return false;
  out->lfb_base = base + dev->fb_offset;
  out->lfb_size = (uint32_t)(dev->vram_size - dev->fb_offset);
  out->width = (uint16_t)dev->width;
  out->height = (uint16_t)dev->height;
  out->stride = (uint16_t)dev->stride;
  if (dev->format == DISPLAY_FORMAT_XRGB8888)
    {
      out->depth = 32;
      out->red_size = out->green_size = out->blue_size = out->rsvd_size = 8;
      out->red_pos = 16;
      out->green_pos = 8;
      out->blue_pos = 0;
      out->rsvd_pos = 24;
    }
  else
    {
      out->depth = 16;
      out->red_size = 5;
      out->red_pos = 11;
      out->green_size = 6;
      out->green_pos = 5;
      out->blue_size = 5;
      out->blue_pos = 0;
    }
  return true;
}

void
bochs_display_save (const BochsDisplay *dev, SnapWriter *w)
{
  snap_section_begin (w, "bochs-display", BOCHS_SNAP_VERSION);
  snap_put_u16 (w, dev->index);
  for (unsigned i = 0; i < DISPI_INDEX_COUNT; i++)
    snap_put_u16 (w, dev->regs[i]);
  snap_put_bool (w, dev->getcaps);
  snap_put_bytes (w, dev->vga, sizeof dev->vga);
  snap_put_u64 (w, dev->vram_size);
  snap_put_bytes (w, dev->vram, dev->vram_size);
  snap_section_end (w);
}

bool
bochs_display_load (BochsDisplay *dev, SnapReader *r, GError **error)
{
  uint32_t version;
  if (!snap_reader_open (r, "bochs-display", BOCHS_SNAP_VERSION, &version, error))
    return false;
  uint16_t index = snap_get_u16 (r);
  uint16_t regs[DISPI_INDEX_COUNT];
  for (unsigned i = 0; i < DISPI_INDEX_COUNT; i++)
    regs[i] = snap_get_u16 (r);
  bool getcaps = snap_get_bool (r);
  uint8_t vga[sizeof dev->vga];
  snap_get_bytes (r, vga, sizeof vga);
  uint64_t vram_size = snap_get_u64 (r);
  if (!snap_reader_check (r, error))
    return false;
  if (vram_size != dev->vram_size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "bochs-display: snapshot has %" G_GUINT64_FORMAT " bytes of video memory, "
                   "this machine %" G_GUINT64_FORMAT,
                   (guint64)vram_size, (guint64)dev->vram_size);
      return false;
    }
  Mode m = { 0 };
  const char *why = NULL;
  bool enabled = regs[DISPI_INDEX_ENABLE] & DISPI_ENABLED;
  if (enabled && !compute_mode (dev, regs, &m, &why))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "bochs-display: invalid mode in snapshot: %s", why);
      return false;
    }
  snap_get_bytes (r, dev->vram, dev->vram_size);
  if (!snap_reader_check (r, error))
    return false;
  dev->index = index;
  memcpy (dev->regs, regs, sizeof regs);
  dev->regs[DISPI_INDEX_VIDEO_MEMORY_64K] = (uint16_t)(dev->vram_size >> 16);
  dev->getcaps = getcaps;
  memcpy (dev->vga, vga, sizeof vga);
  disable (dev);
  if (enabled)
    apply_mode (dev, &m);
  return true;
}
