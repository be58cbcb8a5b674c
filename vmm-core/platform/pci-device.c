#include "vmm-core/platform/pci-device.h"

#include <string.h>

#include "vmm-core/log.h"
#include "vmm-core/platform/pci-host.h"

void
pci_device_init (PciDevice *d, const char *name, uint16_t vendor, uint16_t device,
                 uint32_t class_code, uint8_t revision)
{
  memset (d, 0, sizeof *d);
  d->name = name;
  pci_set_word (d->config, PCI_VENDOR_ID, vendor);
  pci_set_word (d->config, PCI_DEVICE_ID, device);
  d->config[PCI_REVISION_ID] = revision;
  d->config[PCI_CLASS_PROG] = (uint8_t) class_code;
  pci_set_word (d->config, PCI_CLASS_DEVICE, (uint16_t) (class_code >> 8));
  pci_set_word (d->wmask, PCI_COMMAND,
                PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY
                    | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
  /* Error bits of the status register: parity, SERR, aborts, data parity. */
  pci_set_word (d->w1cmask, PCI_STATUS, 0xf900);
  d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
  d->wmask[PCI_LATENCY_TIMER] = 0xff;
  d->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

void
pci_device_set_subsystem (PciDevice *d, uint16_t vendor, uint16_t id)
{
  pci_set_word (d->config, PCI_SUBSYSTEM_VENDOR_ID, vendor);
  pci_set_word (d->config, PCI_SUBSYSTEM_ID, id);
}

void
pci_device_set_interrupt_pin (PciDevice *d, uint8_t pin)
{
  d->config[PCI_INTERRUPT_PIN] = pin <= 4 ? pin : 0;
}

static bool
is_pow2 (uint64_t v)
{
  return v && !(v & (v - 1));
}

static bool
bar_slot_free (const PciDevice *d, unsigned idx, bool is64)
{
  if (idx >= PCI_NUM_BARS || (is64 && idx + 1 >= PCI_NUM_BARS))
    return false;
  /* Also refuse the upper half of an existing 64-bit BAR. */
  if (d->bars[idx].kind != PCI_BAR_NONE || (idx > 0 && d->bars[idx - 1].kind == PCI_BAR_MEM64))
    return false;
  return !is64 || d->bars[idx + 1].kind == PCI_BAR_NONE;
}

bool
pci_device_set_bar_io (PciDevice *d, unsigned idx, uint64_t size, const IoOps *ops, void *opaque)
{
  if (!bar_slot_free (d, idx, false) || !is_pow2 (size) || size < 4 || size > 256 || !ops)
    return false;
  PciBar *b = &d->bars[idx];
  b->kind = PCI_BAR_IO;
  b->size = size;
  b->ops = ops;
  b->opaque = opaque;
  d->config[PCI_BAR0 + 4 * idx] = PCI_BAR_SPACE_IO;
  pci_set_long (d->wmask, PCI_BAR0 + 4 * idx, (uint32_t) ~(size - 1) & 0xfffcu);
  return true;
}

static bool
set_bar_mem (PciDevice *d, unsigned idx, uint64_t size, bool is64, bool prefetchable,
             const IoOps *ops, void *opaque, void *ram)
{
  uint64_t limit = is64 ? (1ull << 40) : (1ull << 31);
  if (!bar_slot_free (d, idx, is64) || !is_pow2 (size) || size < 16 || size > limit)
    return false;
  PciBar *b = &d->bars[idx];
  b->kind = is64 ? PCI_BAR_MEM64 : PCI_BAR_MEM32;
  b->prefetchable = prefetchable;
  b->size = size;
  b->ops = ops;
  b->opaque = opaque;
  b->ram = ram;
  unsigned off = PCI_BAR0 + 4 * idx;
  d->config[off] = (is64 ? PCI_BAR_MEM_TYPE_64 : 0) | (prefetchable ? PCI_BAR_MEM_PREFETCH : 0);
  uint64_t mask = ~(size - 1);
  pci_set_long (d->wmask, off, (uint32_t) mask & ~0xfu);
  if (is64)
    pci_set_long (d->wmask, off + 4, (uint32_t) (mask >> 32));
  return true;
}

bool
pci_device_set_bar_mem (PciDevice *d, unsigned idx, uint64_t size, bool is64, bool prefetchable,
                        const IoOps *ops, void *opaque)
{
  return ops && set_bar_mem (d, idx, size, is64, prefetchable, ops, opaque, NULL);
}

bool
pci_device_set_bar_ram (PciDevice *d, unsigned idx, uint64_t size, bool is64, bool prefetchable,
                        void *host_mem)
{
  /* Mapped as guest memory, so whole pages only. */
  return host_mem && size >= 4096
         && set_bar_mem (d, idx, size, is64, prefetchable, NULL, NULL, host_mem);
}

uint64_t
pci_device_bar_address (const PciDevice *d, unsigned idx)
{
  if (idx >= PCI_NUM_BARS)
    return 0;
  const PciBar *b = &d->bars[idx];
  uint32_t lo = pci_get_long (d, PCI_BAR0 + 4 * idx);
  switch (b->kind)
    {
    case PCI_BAR_IO:
      return lo & ~3u & 0xffffu;
    case PCI_BAR_MEM32:
      return lo & ~0xfu;
    case PCI_BAR_MEM64:
      return (lo & ~0xfull) | (uint64_t) pci_get_long (d, PCI_BAR0 + 4 * idx + 4) << 32;
    default:
      return 0;
    }
}

uint8_t
pci_add_capability (PciDevice *d, uint8_t id, uint8_t size)
{
  unsigned at = d->cap_end ? d->cap_end : PCI_CAP_START;
  at = (at + 3) & ~3u;
  if (size < 2 || at + size > PCI_CONFIG_SIZE)
    return 0;
  d->config[at] = id;
  d->config[at + 1] = d->config[PCI_CAPABILITY_LIST];
  d->config[PCI_CAPABILITY_LIST] = (uint8_t) at;
  d->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
  d->cap_end = (uint16_t) (at + size);
  return (uint8_t) at;
}

uint8_t
pci_find_capability (const PciDevice *d, uint8_t id)
{
  unsigned off = d->config[PCI_CAPABILITY_LIST];
  for (unsigned hops = 0; off >= PCI_CAP_START && hops < 48; hops++)
    {
      if (d->config[off] == id)
        return (uint8_t) off;
      off = d->config[off + 1] & ~3u;
    }
  return 0;
}

static bool
access_ok (const PciDevice *d, unsigned offset, unsigned size)
{
  if ((size == 1 || size == 2 || size == 4) && offset < PCI_CONFIG_SIZE
      && (offset & 3) + size <= 4)
    return true;
  VMM_GUEST_ERROR ("pci", "%s: bad config access of %u bytes at %#x", d->name, size, offset);
  return false;
}

uint32_t
pci_device_config_read (PciDevice *d, unsigned offset, unsigned size)
{
  if (!access_ok (d, offset, size))
    return 0xffffffffu;
  uint32_t v = 0;
  for (unsigned i = 0; i < size; i++)
    v |= (uint32_t) d->config[offset + i] << (8 * i);
  if (d->config_read)
    v = d->config_read (d, offset, size, v);
  return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

void
pci_device_config_write (PciDevice *d, unsigned offset, unsigned size, uint32_t value)
{
  if (!access_ok (d, offset, size))
    return;
  for (unsigned i = 0; i < size; i++)
    {
      unsigned o = offset + i;
      uint8_t b = (uint8_t) (value >> (8 * i));
      d->config[o] = (uint8_t) ((d->config[o] & ~d->wmask[o]) | (b & d->wmask[o]));
      d->config[o] &= (uint8_t) ~(b & d->w1cmask[o]);
    }
  if (d->host)
    pci_host_config_written (d->host, d, offset, size);
  if (d->config_write)
    d->config_write (d, offset, size, value);
}

void
pci_set_irq (PciDevice *d, bool level)
{
  if (level == d->intx_level)
    return;
  d->intx_level = level;
  if (level)
    d->config[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
  else
    d->config[PCI_STATUS] &= (uint8_t) ~PCI_STATUS_INTERRUPT;
  if (d->host)
    pci_host_update_intx (d->host, d);
}

bool
pci_send_msi (PciDevice *d, uint64_t address, uint32_t data)
{
  if (!d->host || !(pci_get_word (d, PCI_COMMAND) & PCI_COMMAND_MASTER))
    {
      VMM_GUEST_ERROR ("pci", "%s: MSI with bus mastering disabled dropped", d->name);
      return false;
    }
  irq_send_msi (d->host->irq, address, data);
  return true;
}
