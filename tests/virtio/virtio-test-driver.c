/* The test "guest driver": see virtio-test-driver.h. */
#include <string.h>

#include "vmm-core/virtio/virtio.h"
#include "virtio-test-driver.h"

static void
record_level (void *opaque, unsigned gsi, bool level)
{
  VtBus *bus = opaque;
  g_assert_cmpuint (gsi, <, 32);
  if (level && !bus->level[gsi])
    bus->raises[gsi]++;
  bus->level[gsi] = level;
}

static void
record_msi (void *opaque, uint64_t address, uint32_t data)
{
  VtBus *bus = opaque;
  VtMsi m = { address, data };
  g_array_append_val (bus->msis, m);
}

void
vt_bus_init (VtBus *bus, uint64_t ram_size)
{
  memset (bus, 0, sizeof *bus);
  g_autoptr (GError) error = NULL;
  g_assert_true (guest_ram_init (&bus->ram, ram_size, &error));
  io_bus_init (&bus->pio, "pio");
  io_bus_init (&bus->mmio, "mmio");
  bus->router = (IrqRouter){ record_level, record_msi, bus };
  bus->msis = g_array_new (FALSE, TRUE, sizeof (VtMsi));
  g_assert_true (pci_host_init (&bus->host, &bus->pio, &bus->mmio, &bus->router, NULL, NULL));
}

void
vt_bus_destroy (VtBus *bus)
{
  pci_host_destroy (&bus->host);
  io_bus_destroy (&bus->pio);
  io_bus_destroy (&bus->mmio);
  guest_ram_destroy (&bus->ram);
  g_array_free (bus->msis, TRUE);
}

unsigned
vt_msi_count (VtBus *bus, uint32_t data)
{
  unsigned n = 0;
  for (guint i = 0; i < bus->msis->len; i++)
    n += g_array_index (bus->msis, VtMsi, i).data == data;
  return n;
}

static void
select_cfg (VtBus *bus, unsigned slot, unsigned off)
{
  pci_host_io_write (&bus->host, 0xcf8, 4, 0x80000000u | slot << 11 | (off & 0xfc));
}

uint32_t
vt_cfg_read (VtBus *bus, unsigned slot, unsigned off, unsigned size)
{
  select_cfg (bus, slot, off);
  return pci_host_io_read (&bus->host, (uint16_t)(0xcfc + (off & 3)), size);
}

void
vt_cfg_write (VtBus *bus, unsigned slot, unsigned off, unsigned size, uint32_t v)
{
  select_cfg (bus, slot, off);
  pci_host_io_write (&bus->host, (uint16_t)(0xcfc + (off & 3)), size, v);
}

bool
vt_dev_probe (VtDev *dev, VtBus *bus, unsigned slot, uint64_t bar4, uint64_t bar1)
{
  memset (dev, 0, sizeof *dev);
  dev->bus = bus;
  dev->slot = slot;
  dev->bar4 = bar4;
  dev->bar1 = bar1;
  if (vt_cfg_read (bus, slot, 0, 2) != VIRTIO_PCI_VENDOR)
    return false;
  vt_cfg_write (bus, slot, 0x10 + 4 * 4, 4, (uint32_t)bar4);
  vt_cfg_write (bus, slot, 0x10 + 4 * 5, 4, (uint32_t)(bar4 >> 32));
  vt_cfg_write (bus, slot, 0x10 + 4 * 1, 4, (uint32_t)bar1);
  vt_cfg_write (bus, slot, 0x04, 2, 0x0006); /* memory + bus master */
  dev->gsi = pci_host_intx_gsi (slot, vt_cfg_read (bus, slot, 0x3d, 1));

  bool have[6] = { false };
  unsigned off = vt_cfg_read (bus, slot, 0x34, 1);
  for (unsigned hops = 0; off && hops < 48; hops++)
    {
      unsigned id = vt_cfg_read (bus, slot, off, 1);
      if (id == 0x11)
        dev->msix_cap = (uint8_t)off;
      if (id == 0x09)
        {
          unsigned type = vt_cfg_read (bus, slot, off + 3, 1);
          unsigned bar = vt_cfg_read (bus, slot, off + 4, 1);
          uint32_t o = vt_cfg_read (bus, slot, off + 8, 4);
          uint32_t len = vt_cfg_read (bus, slot, off + 12, 4);
          if (type >= 1 && type <= 5)
            have[type] = true;
          if (type != VIRTIO_PCI_CAP_PCI_CFG && bar != 4)
            return false;
          switch (type)
            {
            case VIRTIO_PCI_CAP_COMMON_CFG:
              dev->common = o;
              break;
            case VIRTIO_PCI_CAP_NOTIFY_CFG:
              dev->notify = o;
              dev->notify_mult = vt_cfg_read (bus, slot, off + 16, 4);
              break;
            case VIRTIO_PCI_CAP_ISR_CFG:
              dev->isr = o;
              break;
            case VIRTIO_PCI_CAP_DEVICE_CFG:
              dev->device = o;
              dev->device_len = len;
              break;
            case VIRTIO_PCI_CAP_PCI_CFG:
              dev->pci_cfg_cap = (uint8_t)off;
              break;
            }
        }
      off = vt_cfg_read (bus, slot, off + 1, 1);
    }
  return have[1] && have[2] && have[3] && have[4] && dev->msix_cap;
}

uint64_t
vt_bar_read (VtDev *dev, uint64_t off, unsigned size)
{
  uint64_t v = 0;
  io_bus_read (&dev->bus->mmio, dev->bar4 + off, size, &v);
  return v;
}

void
vt_bar_write (VtDev *dev, uint64_t off, unsigned size, uint64_t v)
{
  io_bus_write (&dev->bus->mmio, dev->bar4 + off, size, v);
}

uint64_t
vt_common_read (VtDev *dev, unsigned off, unsigned size)
{
  return vt_bar_read (dev, dev->common + off, size);
}

void
vt_common_write (VtDev *dev, unsigned off, unsigned size, uint64_t v)
{
  vt_bar_write (dev, dev->common + off, size, v);
}

uint32_t
vt_device_cfg_read (VtDev *dev, unsigned off, unsigned size)
{
  return (uint32_t)vt_bar_read (dev, dev->device + off, size);
}

uint8_t
vt_status (VtDev *dev)
{
  return (uint8_t)vt_common_read (dev, VIRTIO_PCI_COMMON_STATUS, 1);
}

uint64_t
vt_device_features (VtDev *dev)
{
  vt_common_write (dev, VIRTIO_PCI_COMMON_DFSELECT, 4, 0);
  uint64_t lo = vt_common_read (dev, VIRTIO_PCI_COMMON_DF, 4);
  vt_common_write (dev, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
  uint64_t hi = vt_common_read (dev, VIRTIO_PCI_COMMON_DF, 4);
  return lo | hi << 32;
}

bool
vt_negotiate (VtDev *dev, uint64_t features)
{
  vt_common_write (dev, VIRTIO_PCI_COMMON_STATUS, 1, 0);
  vt_common_write (dev, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
  vt_common_write (dev, VIRTIO_PCI_COMMON_STATUS, 1,
                   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
  vt_common_write (dev, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
  vt_common_write (dev, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)features);
  vt_common_write (dev, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
  vt_common_write (dev, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(features >> 32));
  vt_common_write (dev, VIRTIO_PCI_COMMON_STATUS, 1,
                   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
  return vt_status (dev) & VIRTIO_STATUS_FEATURES_OK;
}

void
vt_driver_ok (VtDev *dev)
{
  vt_common_write (dev, VIRTIO_PCI_COMMON_STATUS, 1, vt_status (dev) | VIRTIO_STATUS_DRIVER_OK);
}

void
vt_msix_enable (VtDev *dev, unsigned vectors)
{
  for (unsigned v = 0; v < vectors; v++)
    {
      uint64_t e = dev->bar1 + 16 * v;
      io_bus_write (&dev->bus->mmio, e, 4, 0xfee00000u);
      io_bus_write (&dev->bus->mmio, e + 4, 4, 0);
      io_bus_write (&dev->bus->mmio, e + 8, 4, 0x40 + v);
      io_bus_write (&dev->bus->mmio, e + 12, 4, 0);
    }
  vt_cfg_write (dev->bus, dev->slot, dev->msix_cap + 2, 2, 0x8000);
}

void
vt_msix_mask_vector (VtDev *dev, unsigned v, bool masked)
{
  io_bus_write (&dev->bus->mmio, dev->bar1 + 16 * v + 12, 4, masked);
}

static uint8_t *
gptr (VtQueue *q, uint64_t gpa, uint64_t len)
{
  uint8_t *p = guest_ram_ptr (&q->dev->bus->ram, gpa, len);
  g_assert_nonnull (p);
  return p;
}

bool
vt_queue_setup (VtQueue *q, VtDev *dev, unsigned index, uint16_t size, uint64_t base,
                uint16_t vector)
{
  memset (q, 0, sizeof *q);
  q->dev = dev;
  q->index = index;
  q->size = size;
  q->desc = base;
  q->avail = base + 16ull * size;
  q->used = (q->avail + 6 + 2ull * size + 4095) & ~4095ull;
  memset (gptr (q, q->desc, q->used + 6 + 8ull * size - q->desc), 0,
          q->used + 6 + 8ull * size - q->desc);
  vt_common_write (dev, VIRTIO_PCI_COMMON_Q_SELECT, 2, index);
  vt_common_write (dev, VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
  vt_common_write (dev, VIRTIO_PCI_COMMON_Q_MSIX, 2, vector);
  vt_common_write (dev, VIRTIO_PCI_COMMON_Q_DESCLO, 4, (uint32_t)q->desc);
  vt_common_write (dev, VIRTIO_PCI_COMMON_Q_DESCHI, 4, (uint32_t)(q->desc >> 32));
  vt_common_write (dev, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, (uint32_t)q->avail);
  vt_common_write (dev, VIRTIO_PCI_COMMON_Q_AVAILHI, 4, (uint32_t)(q->avail >> 32));
  vt_common_write (dev, VIRTIO_PCI_COMMON_Q_USEDLO, 4, (uint32_t)q->used);
  vt_common_write (dev, VIRTIO_PCI_COMMON_Q_USEDHI, 4, (uint32_t)(q->used >> 32));
  vt_common_write (dev, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
  return vt_common_read (dev, VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1;
}

static void
put16 (uint8_t *p, uint16_t v)
{
  v = GUINT16_TO_LE (v);
  memcpy (p, &v, 2);
}

static uint16_t
get16 (const uint8_t *p)
{
  uint16_t v;
  memcpy (&v, p, 2);
  return GUINT16_FROM_LE (v);
}

void
vt_desc_write (VtQueue *q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
  uint8_t *d = gptr (q, q->desc + 16ull * (i % q->size), 16);
  uint64_t a = GUINT64_TO_LE (addr);
  uint32_t l = GUINT32_TO_LE (len);
  memcpy (d, &a, 8);
  memcpy (d + 8, &l, 4);
  put16 (d + 12, flags);
  put16 (d + 14, next);
}

void
vt_avail_publish (VtQueue *q, uint16_t head)
{
  put16 (gptr (q, q->avail + 4 + 2ull * (q->avail_idx % q->size), 2), head);
  q->avail_idx++;
  put16 (gptr (q, q->avail + 2, 2), q->avail_idx);
}

void
vt_kick (VtQueue *q)
{
  vt_bar_write (q->dev, q->dev->notify + q->index * q->dev->notify_mult, 2, q->index);
}

uint16_t
vt_used_idx (VtQueue *q)
{
  return get16 (gptr (q, q->used + 2, 2));
}

bool
vt_used_pop (VtQueue *q, uint32_t *id, uint32_t *len)
{
  if (vt_used_idx (q) == q->last_used)
    return false;
  uint8_t *e = gptr (q, q->used + 4 + 8ull * (q->last_used % q->size), 8);
  uint32_t a, b;
  memcpy (&a, e, 4);
  memcpy (&b, e + 4, 4);
  *id = GUINT32_FROM_LE (a);
  if (len)
    *len = GUINT32_FROM_LE (b);
  q->last_used++;
  return true;
}

void
vt_set_used_event (VtQueue *q, uint16_t v)
{
  put16 (gptr (q, q->avail + 4 + 2ull * q->size, 2), v);
}

uint16_t
vt_avail_event (VtQueue *q)
{
  return get16 (gptr (q, q->used + 4 + 8ull * q->size, 2));
}

void
vt_set_avail_flags (VtQueue *q, uint16_t flags)
{
  put16 (gptr (q, q->avail, 2), flags);
}

uint16_t
vt_add_chain (VtQueue *q, const VtSeg *segs, unsigned n)
{
  uint16_t head = q->next_desc % q->size;
  for (unsigned i = 0; i < n; i++)
    {
      uint16_t cur = (uint16_t)((q->next_desc + i) % q->size);
      uint16_t next = (uint16_t)((q->next_desc + i + 1) % q->size);
      uint16_t flags
          = (segs[i].write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
      vt_desc_write (q, cur, segs[i].gpa, segs[i].len, flags, next);
    }
  q->next_desc = (uint16_t)((q->next_desc + n) % q->size);
  vt_avail_publish (q, head);
  return head;
}

int
vt_blk_request (VtQueue *q, uint32_t type, uint64_t sector, uint64_t hdr_gpa, uint64_t data_gpa,
                uint32_t data_len, uint32_t *used_len)
{
  uint8_t *h = gptr (q, hdr_gpa, 17);
  uint32_t t = GUINT32_TO_LE (type), r = 0;
  uint64_t s = GUINT64_TO_LE (sector);
  memcpy (h, &t, 4);
  memcpy (h + 4, &r, 4);
  memcpy (h + 8, &s, 8);
  h[16] = 0xee;
  /* IN and GET_ID fill data; the others send it. */
  bool dev_writes = type == 0 || type == 8;
  VtSeg segs[3]
      = { { hdr_gpa, 16, false }, { data_gpa, data_len, dev_writes }, { hdr_gpa + 16, 1, true } };
  uint16_t head;
  if (data_len)
    head = vt_add_chain (q, segs, 3);
  else
    {
      segs[1] = segs[2];
      head = vt_add_chain (q, segs, 2);
    }
  vt_kick (q);
  uint32_t id, len;
  if (!vt_used_pop (q, &id, &len) || id != head)
    return -1;
  if (used_len)
    *used_len = len;
  return h[16];
}
