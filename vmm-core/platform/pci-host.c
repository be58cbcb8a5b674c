#include "vmm-core/platform/pci-host.h"

#include <string.h>
#include <gio/gio.h>

#include "vmm-core/log.h"

#define CONFIG_ENABLE 0x80000000u
#define NDEVFN (PCI_SLOTS * PCI_FUNCTIONS)

unsigned
pci_host_intx_gsi (unsigned slot, unsigned pin)
{
  return PCI_INTX_GSI_BASE + (slot + pin - 1) % PCI_INTX_GSI_COUNT;
}

/* ---- BAR mapping ---- */

static bool
ranges_overlap (uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
  return a < b + blen && b < a + alen;
}

/* Where BAR i of d should be mapped now, or false if it should not be. */
static bool
bar_target (const PciHost *h, const PciDevice *d, unsigned i, uint64_t *addr)
{
  const PciBar *b = &d->bars[i];
  uint16_t cmd = pci_get_word (d, PCI_COMMAND);
  uint64_t a = pci_device_bar_address (d, i);

  switch (b->kind)
    {
    case PCI_BAR_IO:
      if (!(cmd & PCI_COMMAND_IO) || a < PCI_IO_WINDOW_BASE || a > PCI_IO_WINDOW_END - b->size)
        return false;
      break;
    case PCI_BAR_MEM32:
    case PCI_BAR_MEM64:
      if (!(cmd & PCI_COMMAND_MEMORY))
        return false;
      if (a >= PCI_MMIO32_WINDOW_BASE && a <= PCI_MMIO32_WINDOW_END - b->size)
        break;
      if (h->mmio64_end > h->mmio64_base && a >= h->mmio64_base && b->size <= h->mmio64_end
          && a <= h->mmio64_end - b->size)
        break;
      return false;
    default:
      return false;
    }
  *addr = a;
  return true;
}

static void
unmap_bar (PciHost *h, PciBar *b)
{
  if (!b->mapped)
    return;
  if (b->ram)
    {
      if (h->map_ram)
        h->map_ram (h->map_ram_opaque, b->mapped_addr, b->size, b->ram, false);
    }
  else
    io_bus_unregister (b->kind == PCI_BAR_IO ? h->pio : h->mmio, b->mapped_addr, b->opaque);
  b->mapped = false;
}

/* Memory claimed by RAM BARs is invisible to the IoBus: check it here. */
static bool
overlaps_ram_bar (const PciHost *h, uint64_t a, uint64_t len)
{
  for (unsigned f = 0; f < NDEVFN; f++)
    {
      const PciDevice *d = h->devices[f];
      for (unsigned i = 0; d && i < PCI_NUM_BARS; i++)
        if (d->bars[i].mapped && d->bars[i].ram
            && ranges_overlap (a, len, d->bars[i].mapped_addr, d->bars[i].size))
          return true;
    }
  return false;
}

static bool
overlaps_bus (const IoBus *bus, uint64_t a, uint64_t len)
{
  for (size_t i = 0; bus && i < bus->count; i++)
    if (ranges_overlap (a, len, bus->ranges[i].base, bus->ranges[i].len))
      return true;
  return false;
}

static bool
map_bar (PciHost *h, PciDevice *d, PciBar *b, uint64_t a)
{
  bool ok;
  if (b->kind == PCI_BAR_IO)
    ok = h->pio && io_bus_register (h->pio, a, b->size, b->ops, b->opaque, d->name);
  else if (overlaps_ram_bar (h, a, b->size))
    ok = false;
  else if (b->ram)
    {
      ok = h->map_ram && !overlaps_bus (h->mmio, a, b->size);
      if (ok)
        h->map_ram (h->map_ram_opaque, a, b->size, b->ram, true);
    }
  else
    ok = h->mmio && io_bus_register (h->mmio, a, b->size, b->ops, b->opaque, d->name);
  if (!ok)
    {
      VMM_GUEST_ERROR ("pci", "%s: BAR at %#" G_GINT64_MODIFIER "x (size %#" G_GINT64_MODIFIER
                       "x) overlaps another range; left unmapped", d->name, a, b->size);
      return false;
    }
  b->mapped = true;
  b->mapped_addr = a;
  return true;
}

/* Unmaps what moved or got disabled, then maps what is wanted: two passes
 * so swapping two BARs' addresses works whatever the order. */
static void
update_mappings (PciHost *h)
{
  for (unsigned f = 0; f < NDEVFN; f++)
    {
      PciDevice *d = h->devices[f];
      for (unsigned i = 0; d && i < PCI_NUM_BARS; i++)
        {
          uint64_t a;
          PciBar *b = &d->bars[i];
          if (b->mapped && (!bar_target (h, d, i, &a) || a != b->mapped_addr))
            unmap_bar (h, b);
        }
    }
  for (unsigned f = 0; f < NDEVFN; f++)
    {
      PciDevice *d = h->devices[f];
      for (unsigned i = 0; d && i < PCI_NUM_BARS; i++)
        {
          uint64_t a;
          PciBar *b = &d->bars[i];
          if (!b->mapped && bar_target (h, d, i, &a))
            map_bar (h, d, b, a);
        }
    }
}

/* ---- INTx ---- */

static void
drive_gsi (PciHost *h, unsigned gsi, bool level)
{
  IrqLine line = { h->irq, gsi };
  irq_line_set (&line, level);
}

void
pci_host_update_intx (PciHost *h, PciDevice *d)
{
  uint8_t pin = d->config[PCI_INTERRUPT_PIN];
  bool want = d->intx_level && pin >= 1 && pin <= 4
              && !(pci_get_word (d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
  if (want == d->intx_asserted)
    return;
  d->intx_asserted = want;
  unsigned gsi = pci_host_intx_gsi (d->devfn >> 3, pin);
  unsigned *count = &h->intx_count[gsi - PCI_INTX_GSI_BASE];
  if (want && (*count)++ == 0)
    drive_gsi (h, gsi, true);
  else if (!want && --(*count) == 0)
    drive_gsi (h, gsi, false);
}

void
pci_host_config_written (PciHost *h, PciDevice *d, unsigned offset, unsigned size)
{
  if (ranges_overlap (offset, size, PCI_COMMAND, 2))
    pci_host_update_intx (h, d);
  if (ranges_overlap (offset, size, PCI_COMMAND, 2)
      || ranges_overlap (offset, size, PCI_BAR0, 4 * PCI_NUM_BARS))
    update_mappings (h);
}

/* ---- config mechanism #1 ---- */

static PciDevice *
selected (PciHost *h, unsigned *reg)
{
  uint32_t a = h->config_address;
  if (!(a & CONFIG_ENABLE) || ((a >> 16) & 0xff) != 0)
    return NULL;
  *reg = a & 0xfc;
  return h->devices[(a >> 8) & 0xff];
}

static uint32_t
all_ones (unsigned size)
{
  return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

uint32_t
pci_host_io_read (PciHost *h, uint16_t port, unsigned size)
{
  unsigned off = port - PCI_CONFIG_ADDRESS_PORT;
  unsigned reg;
  PciDevice *d;

  if (off >= 8 || (size != 1 && size != 2 && size != 4))
    return all_ones (size);
  if (off < 4)
    {
      if (off == 0 && size == 4)
        return h->config_address;
      if (off == 1 && size == 1 && h->cf9_ops)
        return (uint32_t) h->cf9_ops->read (h->cf9_opaque, 0, 1) & 0xff;
      return all_ones (size);
    }
  off -= 4;
  if (off + size > 4)
    {
      VMM_GUEST_ERROR ("pci", "config data read of %u bytes at port %#x", size, port);
      return all_ones (size);
    }
  d = selected (h, &reg);
  if (!d)
    return all_ones (size);
  return pci_device_config_read (d, reg + off, size);
}

void
pci_host_io_write (PciHost *h, uint16_t port, unsigned size, uint32_t value)
{
  unsigned off = port - PCI_CONFIG_ADDRESS_PORT;
  unsigned reg;
  PciDevice *d;

  if (off >= 8 || (size != 1 && size != 2 && size != 4))
    return;
  if (off < 4)
    {
      if (off == 0 && size == 4)
        h->config_address = value & (CONFIG_ENABLE | 0x00fffffc); /* reserved bits read 0 */
      else if (off == 1 && size == 1 && h->cf9_ops)
        h->cf9_ops->write (h->cf9_opaque, 0, value & 0xff, 1);
      return;
    }
  off -= 4;
  if (off + size > 4)
    {
      VMM_GUEST_ERROR ("pci", "config data write of %u bytes at port %#x", size, port);
      return;
    }
  d = selected (h, &reg);
  if (d)
    pci_device_config_write (d, reg + off, size, value);
}

static uint64_t
host_io_read (void *opaque, uint64_t offset, unsigned size)
{
  return pci_host_io_read (opaque, (uint16_t) (PCI_CONFIG_ADDRESS_PORT + offset), size);
}

static void
host_io_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  pci_host_io_write (opaque, (uint16_t) (PCI_CONFIG_ADDRESS_PORT + offset), size,
                     (uint32_t) value);
}

static const IoOps host_ops = { host_io_read, host_io_write };

/* ---- lifetime ---- */

bool
pci_host_init (PciHost *h, IoBus *pio, IoBus *mmio, const IrqRouter *irq, PciMapRamFn map_ram,
               void *map_ram_opaque)
{
  memset (h, 0, sizeof *h);
  h->mmio = mmio;
  h->irq = irq;
  h->map_ram = map_ram;
  h->map_ram_opaque = map_ram_opaque;
  if (pio && !io_bus_register (pio, PCI_CONFIG_ADDRESS_PORT, 8, &host_ops, h, "pci-host"))
    return false;
  h->pio = pio;
  pci_device_init (&h->bridge, "i440fx", PCI_HOST_VENDOR, PCI_HOST_DEVICE, 0x060000, 0x02);
  /* A host bridge masters memory and cannot be switched off. */
  pci_set_word (h->bridge.config, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  pci_set_word (h->bridge.wmask, PCI_COMMAND, 0);
  h->bridge.wmask[PCI_INTERRUPT_LINE] = 0;
  return pci_host_add_device (h, &h->bridge, 0, 0, NULL);
}

void
pci_host_destroy (PciHost *h)
{
  for (unsigned f = 0; f < NDEVFN; f++)
    {
      PciDevice *d = h->devices[f];
      for (unsigned i = 0; d && i < PCI_NUM_BARS; i++)
        unmap_bar (h, &d->bars[i]);
      if (d)
        d->host = NULL;
      h->devices[f] = NULL;
    }
  if (h->pio)
    io_bus_unregister (h->pio, PCI_CONFIG_ADDRESS_PORT, h);
  h->pio = NULL;
}

void
pci_host_reset (PciHost *h)
{
  h->config_address = 0;
  for (unsigned f = 0; f < NDEVFN; f++)
    {
      PciDevice *d = h->devices[f];
      if (!d)
        continue;
      for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        unmap_bar (h, &d->bars[i]);
      for (unsigned o = 0; o < PCI_CONFIG_SIZE; o++)
        d->config[o] &= (uint8_t) ~(d->wmask[o] | d->w1cmask[o]);
      uint8_t pin = d->config[PCI_INTERRUPT_PIN];
      if (d->wmask[PCI_INTERRUPT_LINE])
        d->config[PCI_INTERRUPT_LINE] = pin ? (uint8_t) pci_host_intx_gsi (f >> 3, pin) : 0xff;
      pci_host_update_intx (h, d); /* INTx disable cleared: a held level counts again */
    }
  update_mappings (h);
}

static bool
slot_empty (const PciHost *h, unsigned slot)
{
  for (unsigned fn = 0; fn < PCI_FUNCTIONS; fn++)
    if (h->devices[slot * PCI_FUNCTIONS + fn])
      return false;
  return true;
}

bool
pci_host_add_device (PciHost *h, PciDevice *d, int slot, unsigned fn, GError **error)
{
  if (slot < 0)
    {
      for (slot = 1; slot < PCI_SLOTS && !slot_empty (h, (unsigned) slot); slot++)
        ;
      fn = 0;
      if (slot >= PCI_SLOTS)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                       "no free PCI slot for %s", d->name);
          return false;
        }
    }
  if (slot >= PCI_SLOTS || fn >= PCI_FUNCTIONS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "PCI address %02x.%x for %s is out of range", slot, fn, d->name);
      return false;
    }
  unsigned devfn = (unsigned) slot * PCI_FUNCTIONS + fn;
  if (h->devices[devfn])
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "PCI address %02x.%x is taken by %s",
                   slot, fn, h->devices[devfn]->name);
      return false;
    }
  d->host = h;
  d->devfn = (uint8_t) devfn;
  uint8_t pin = d->config[PCI_INTERRUPT_PIN];
  d->config[PCI_INTERRUPT_LINE] = pin ? (uint8_t) pci_host_intx_gsi ((unsigned) slot, pin) : 0xff;
  h->devices[devfn] = d;

  /* Functions beyond 0 are only scanned when function 0 says multi-function. */
  PciDevice *fn0 = h->devices[(unsigned) slot * PCI_FUNCTIONS];
  for (unsigned f = 1; fn0 && f < PCI_FUNCTIONS; f++)
    if (h->devices[(unsigned) slot * PCI_FUNCTIONS + f])
      fn0->config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI_FUNCTION;

  pci_host_update_intx (h, d);
  update_mappings (h);
  return true;
}

void
pci_host_set_cf9_handler (PciHost *h, const IoOps *ops, void *opaque)
{
  h->cf9_ops = ops;
  h->cf9_opaque = opaque;
}

void
pci_host_set_mmio64_window (PciHost *h, uint64_t base, uint64_t size)
{
  h->mmio64_base = base;
  h->mmio64_end = size && base + size > base ? base + size : base;
  update_mappings (h);
}

/* ---- snapshots ---- */

void
pci_host_save (const PciHost *h, SnapWriter *w)
{
  uint32_t n = 0;
  for (unsigned f = 0; f < NDEVFN; f++)
    n += h->devices[f] != NULL;
  snap_section_begin (w, "pci-host", 1);
  snap_put_u32 (w, h->config_address);
  snap_put_u32 (w, n);
  for (unsigned f = 0; f < NDEVFN; f++)
    {
      const PciDevice *d = h->devices[f];
      if (!d)
        continue;
      snap_put_u8 (w, (uint8_t) f);
      snap_put_bytes (w, d->config, PCI_CONFIG_SIZE);
      snap_put_bool (w, d->intx_level);
    }
  snap_section_end (w);
}

typedef struct {
  uint8_t devfn;
  uint8_t config[PCI_CONFIG_SIZE];
  bool intx_level;
} SavedFunction;

/* Vendor, device, revision, class and header layout must match. */
static bool
same_identity (const PciDevice *d, const uint8_t *cfg)
{
  return memcmp (d->config, cfg, 4) == 0 && memcmp (d->config + 8, cfg + 8, 4) == 0
         && (d->config[PCI_HEADER_TYPE] & 0x7f) == (cfg[PCI_HEADER_TYPE] & 0x7f);
}

bool
pci_host_load (PciHost *h, SnapReader *r, GError **error)
{
  if (!snap_reader_open (r, "pci-host", 1, NULL, error))
    return false;
  uint32_t addr = snap_get_u32 (r);
  uint32_t n = snap_get_u32 (r);
  uint32_t present = 0;
  for (unsigned f = 0; f < NDEVFN; f++)
    present += h->devices[f] != NULL;
  if (n != present)
    {
      snap_reader_check (r, NULL);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "device state has %u PCI functions, the machine has %u", n, present);
      return false;
    }
  g_autofree SavedFunction *saved = g_new0 (SavedFunction, n ? n : 1);
  bool seen[NDEVFN] = { false };
  for (uint32_t i = 0; i < n; i++)
    {
      saved[i].devfn = snap_get_u8 (r);
      snap_get_bytes (r, saved[i].config, PCI_CONFIG_SIZE);
      saved[i].intx_level = snap_get_bool (r);
    }
  if (!snap_reader_check (r, error))
    return false;
  for (uint32_t i = 0; i < n; i++)
    {
      PciDevice *d = h->devices[saved[i].devfn];
      if (!d || seen[saved[i].devfn] || !same_identity (d, saved[i].config))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "device state's PCI function %02x.%x does not match this machine",
                       saved[i].devfn >> 3, saved[i].devfn & 7);
          return false;
        }
      seen[saved[i].devfn] = true;
    }

  /* Valid: take it. Drop every mapping and INTx count, then rebuild. */
  for (unsigned g = 0; g < PCI_INTX_GSI_COUNT; g++)
    if (h->intx_count[g])
      drive_gsi (h, PCI_INTX_GSI_BASE + g, false);
  memset (h->intx_count, 0, sizeof h->intx_count);
  h->config_address = addr & (CONFIG_ENABLE | 0x00fffffc);
  for (uint32_t i = 0; i < n; i++)
    {
      PciDevice *d = h->devices[saved[i].devfn];
      for (unsigned b = 0; b < PCI_NUM_BARS; b++)
        unmap_bar (h, &d->bars[b]);
      for (unsigned o = 0; o < PCI_CONFIG_SIZE; o++)
        {
          uint8_t keep = (uint8_t) ~(d->wmask[o] | d->w1cmask[o]);
          d->config[o] = (uint8_t) ((d->config[o] & keep) | (saved[i].config[o] & ~keep));
        }
      d->intx_asserted = false;
      d->intx_level = !saved[i].intx_level; /* force pci_set_irq to act */
      pci_set_irq (d, saved[i].intx_level);
      pci_host_update_intx (h, d);
    }
  update_mappings (h);
  return true;
}
