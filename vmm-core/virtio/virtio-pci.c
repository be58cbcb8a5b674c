/* Virtio 1.x PCI transport: see virtio-pci.h. */
#include <string.h>

#include <gio/gio.h>

#include "vmm-core/log.h"
#include "vmm-core/virtio/virtio-pci.h"

#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_ENTRY_MASKED 1u
/* Status bits only the driver sets (and only a reset clears). */
#define DRIVER_STATUS_BITS                                                                         \
  (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK                    \
   | VIRTIO_STATUS_DRIVER_OK)

static const IoOps virtio_bar_ops;
static const IoOps msix_bar_ops;

/* ---- interrupts ---------------------------------------------------------- */

static bool
msix_enabled (const VirtioPci *vp)
{
  return pci_get_word (&vp->pci, vp->msix_cap + 2) & MSIX_CTRL_ENABLE;
}

static bool
msix_vector_masked (const VirtioPci *vp, unsigned v)
{
  return (pci_get_word (&vp->pci, vp->msix_cap + 2) & MSIX_CTRL_MASKALL)
         || (vp->msix[v].control & MSIX_ENTRY_MASKED);
}

static void
msix_fire (VirtioPci *vp, uint16_t vector)
{
  if (vector >= vp->msix_vectors)
    return; /* VIRTIO_MSI_NO_VECTOR: the driver asked for none */
  if (msix_vector_masked (vp, vector))
    {
      vp->msix_pending |= 1u << vector;
      return;
    }
  pci_send_msi (&vp->pci, vp->msix[vector].address, vp->msix[vector].data);
}

/* A vector became unmasked (entry or function mask): send what waited. */
static void
msix_deliver_pending (VirtioPci *vp)
{
  if (!msix_enabled (vp))
    return;
  for (unsigned v = 0; v < vp->msix_vectors; v++)
    if ((vp->msix_pending & (1u << v)) && !msix_vector_masked (vp, v))
      {
        vp->msix_pending &= ~(1u << v);
        pci_send_msi (&vp->pci, vp->msix[v].address, vp->msix[v].data);
      }
}

static void
raise_interrupt (VirtioPci *vp, uint8_t isr_bit, uint16_t vector)
{
  if (msix_enabled (vp))
    {
      msix_fire (vp, vector);
      return;
    }
  vp->isr |= isr_bit;
  pci_set_irq (&vp->pci, true);
}

void
virtio_pci_notify_queue (VirtioPci *vp, VirtQueue *vq)
{
  if (virtqueue_should_notify (vq))
    raise_interrupt (vp, VIRTIO_ISR_QUEUE, vq->msix_vector);
}

void
virtio_pci_config_changed (VirtioPci *vp)
{
  vp->config_generation++;
  if (vp->status & VIRTIO_STATUS_DRIVER_OK)
    raise_interrupt (vp, VIRTIO_ISR_CONFIG, vp->config_vector);
}

void
virtio_pci_set_needs_reset (VirtioPci *vp)
{
  if (vp->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
    return;
  vp->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
  if (vp->status & VIRTIO_STATUS_DRIVER_OK)
    raise_interrupt (vp, VIRTIO_ISR_CONFIG, vp->config_vector);
}

bool
virtio_pci_pop (VirtioPci *vp, VirtQueue *vq, VirtqElement *elem)
{
  if (vp->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)
    return false;
  switch (virtqueue_pop (vq, elem))
    {
    case VIRTQ_POP_OK:
      return true;
    case VIRTQ_POP_BROKEN:
      virtio_pci_set_needs_reset (vp);
      return false;
    default:
      return false;
    }
}

/* ---- reset and status ---------------------------------------------------- */

static void
device_reset (VirtioPci *vp)
{
  vp->driver_features = 0;
  vp->device_feature_select = vp->driver_feature_select = 0;
  vp->status = 0;
  vp->isr = 0;
  vp->queue_select = 0;
  vp->config_vector = VIRTIO_MSI_NO_VECTOR;
  for (unsigned q = 0; q < vp->num_queues; q++)
    virtqueue_reset (&vp->vqs[q]);
  pci_set_irq (&vp->pci, false);
  if (vp->ops->reset)
    vp->ops->reset (vp->dev);
}

void
virtio_pci_reset (VirtioPci *vp)
{
  device_reset (vp);
  /* A PCI function reset also masks every MSI-X vector. */
  for (unsigned v = 0; v < vp->msix_vectors; v++)
    vp->msix[v] = (VirtioMsixEntry){ 0, 0, MSIX_ENTRY_MASKED };
  vp->msix_pending = 0;
}

static void
write_status (VirtioPci *vp, uint8_t value)
{
  if (value == 0)
    {
      device_reset (vp);
      return;
    }
  uint8_t old = vp->status;
  uint8_t v = (uint8_t)((value & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET)
                        | (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
  if ((old & ~v) & DRIVER_STATUS_BITS)
    {
      VMM_GUEST_ERROR ("virtio", "%s: status %#x clears bits of %#x without reset", vp->name, value,
                       old);
      v |= old & DRIVER_STATUS_BITS;
    }
  if ((v & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK))
    {
      bool subset = !(vp->driver_features & ~vp->device_features);
      bool v1 = virtio_pci_has_feature (vp, VIRTIO_F_VERSION_1);
      if (!subset || !v1 || !(v & VIRTIO_STATUS_DRIVER))
        {
          VMM_GUEST_ERROR ("virtio", "%s: features %#" G_GINT64_MODIFIER "x refused (%s)", vp->name,
                           vp->driver_features,
                           !v1       ? "VERSION_1 missing"
                           : !subset ? "not offered"
                                     : "no DRIVER");
          v &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
        }
      else
        for (unsigned q = 0; q < vp->num_queues; q++)
          {
            vp->vqs[q].event_idx = virtio_pci_has_feature (vp, VIRTIO_F_RING_EVENT_IDX);
            vp->vqs[q].indirect = virtio_pci_has_feature (vp, VIRTIO_F_INDIRECT_DESC);
          }
    }
  if ((v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK))
    {
      VMM_GUEST_ERROR ("virtio", "%s: DRIVER_OK without FEATURES_OK", vp->name);
      v &= (uint8_t)~VIRTIO_STATUS_DRIVER_OK;
    }
  vp->status = v;
}

/* ---- common configuration ------------------------------------------------ */

static VirtQueue *
selected_queue (VirtioPci *vp)
{
  return vp->queue_select < vp->num_queues ? &vp->vqs[vp->queue_select] : NULL;
}

static void
common_image (VirtioPci *vp, uint8_t img[VIRTIO_PCI_COMMON_SIZE])
{
  memset (img, 0, VIRTIO_PCI_COMMON_SIZE);
  uint32_t df = vp->device_feature_select == 0   ? (uint32_t)vp->device_features
                : vp->device_feature_select == 1 ? (uint32_t)(vp->device_features >> 32)
                                                 : 0;
  uint32_t gf = vp->driver_feature_select == 0   ? (uint32_t)vp->driver_features
                : vp->driver_feature_select == 1 ? (uint32_t)(vp->driver_features >> 32)
                                                 : 0;
  pci_set_long (img, VIRTIO_PCI_COMMON_DFSELECT, vp->device_feature_select);
  pci_set_long (img, VIRTIO_PCI_COMMON_DF, df);
  pci_set_long (img, VIRTIO_PCI_COMMON_GFSELECT, vp->driver_feature_select);
  pci_set_long (img, VIRTIO_PCI_COMMON_GF, gf);
  pci_set_word (img, VIRTIO_PCI_COMMON_MSIX, vp->config_vector);
  pci_set_word (img, VIRTIO_PCI_COMMON_NUMQ, (uint16_t)vp->num_queues);
  img[VIRTIO_PCI_COMMON_STATUS] = vp->status;
  img[VIRTIO_PCI_COMMON_CFGGENERATION] = vp->config_generation;
  pci_set_word (img, VIRTIO_PCI_COMMON_Q_SELECT, vp->queue_select);
  VirtQueue *vq = selected_queue (vp);
  if (!vq)
    return; /* queue_size 0: no such queue */
  pci_set_word (img, VIRTIO_PCI_COMMON_Q_SIZE, vq->num);
  pci_set_word (img, VIRTIO_PCI_COMMON_Q_MSIX, vq->msix_vector);
  pci_set_word (img, VIRTIO_PCI_COMMON_Q_ENABLE, vq->enabled);
  pci_set_word (img, VIRTIO_PCI_COMMON_Q_NOFF, vp->queue_select);
  pci_set_long (img, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)vq->desc_addr);
  pci_set_long (img, VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(vq->desc_addr >> 32));
  pci_set_long (img, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)vq->avail_addr);
  pci_set_long (img, VIRTIO_PCI_COMMON_Q_AVAILHI, (uint32_t)(vq->avail_addr >> 32));
  pci_set_long (img, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)vq->used_addr);
  pci_set_long (img, VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)(vq->used_addr >> 32));
}

static uint64_t
common_read (VirtioPci *vp, unsigned off, unsigned size)
{
  uint8_t img[VIRTIO_PCI_COMMON_SIZE];
  if (off + size > VIRTIO_PCI_COMMON_SIZE)
    return 0;
  common_image (vp, img);
  uint64_t v = 0;
  for (unsigned i = 0; i < size; i++)
    v |= (uint64_t)img[off + i] << (8 * i);
  return v;
}

static uint16_t
checked_vector (VirtioPci *vp, uint16_t v)
{
  /* virtio 1.1, 4.1.5.1.2: a vector the device cannot map reads back as
   * NO_VECTOR, which is how the driver learns of the failure. */
  return v < vp->msix_vectors ? v : VIRTIO_MSI_NO_VECTOR;
}

/* Writes a 32-bit half of a 64-bit queue address. */
static void
set_addr_half (uint64_t *addr, bool high, uint32_t v)
{
  if (high)
    *addr = (*addr & 0xffffffffull) | (uint64_t)v << 32;
  else
    *addr = (*addr & ~0xffffffffull) | v;
}

static void
queue_addr_write (VirtioPci *vp, VirtQueue *vq, unsigned off, unsigned size, uint64_t value)
{
  unsigned base = off & ~7u;
  uint64_t *addr = base == VIRTIO_PCI_COMMON_Q_DESCLO    ? &vq->desc_addr
                   : base == VIRTIO_PCI_COMMON_Q_AVAILLO ? &vq->avail_addr
                                                         : &vq->used_addr;
  if (size == 8 && off == base)
    *addr = value;
  else if (size == 4)
    set_addr_half (addr, off != base, (uint32_t)value);
  else
    VMM_GUEST_ERROR ("virtio", "%s: queue address written with %u bytes", vp->name, size);
}

static void
common_write (VirtioPci *vp, unsigned off, unsigned size, uint64_t value)
{
  VirtQueue *vq = selected_queue (vp);
  bool queue_live = vq && vq->enabled;
  switch (off)
    {
    case VIRTIO_PCI_COMMON_DFSELECT:
      vp->device_feature_select = (uint32_t)value;
      return;
    case VIRTIO_PCI_COMMON_GFSELECT:
      vp->driver_feature_select = (uint32_t)value;
      return;
    case VIRTIO_PCI_COMMON_GF:
      if (vp->status & VIRTIO_STATUS_FEATURES_OK)
        {
          VMM_GUEST_ERROR ("virtio", "%s: features written after FEATURES_OK", vp->name);
          return;
        }
      if (vp->driver_feature_select < 2)
        {
          unsigned shift = 32 * vp->driver_feature_select;
          vp->driver_features = (vp->driver_features & ~(0xffffffffull << shift))
                                | ((value & 0xffffffffull) << shift);
        }
      return;
    case VIRTIO_PCI_COMMON_MSIX:
      vp->config_vector = checked_vector (vp, (uint16_t)value);
      return;
    case VIRTIO_PCI_COMMON_STATUS:
      write_status (vp, (uint8_t)value);
      return;
    case VIRTIO_PCI_COMMON_Q_SELECT:
      vp->queue_select = (uint16_t)value;
      return;
    case VIRTIO_PCI_COMMON_Q_MSIX:
      if (vq)
        vq->msix_vector = checked_vector (vp, (uint16_t)value);
      return;
    default:
      break;
    }
  if (!vq)
    {
      VMM_GUEST_ERROR ("virtio", "%s: write to queue %u registers (only %u queues)", vp->name,
                       vp->queue_select, vp->num_queues);
      return;
    }
  if (queue_live)
    {
      VMM_GUEST_ERROR ("virtio", "%s: queue %u reconfigured while enabled", vp->name,
                       vp->queue_select);
      return;
    }
  switch (off)
    {
    case VIRTIO_PCI_COMMON_Q_SIZE:
      vq->num = (uint16_t)value;
      return;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
      if (value != 1)
        VMM_GUEST_ERROR ("virtio", "%s: queue_enable %u ignored", vp->name, (unsigned)value);
      else if (!virtqueue_enable (vq))
        virtio_pci_set_needs_reset (vp);
      return;
    case VIRTIO_PCI_COMMON_Q_DESCLO:
    case VIRTIO_PCI_COMMON_Q_DESCHI:
    case VIRTIO_PCI_COMMON_Q_AVAILLO:
    case VIRTIO_PCI_COMMON_Q_AVAILHI:
    case VIRTIO_PCI_COMMON_Q_USEDLO:
    case VIRTIO_PCI_COMMON_Q_USEDHI:
      queue_addr_write (vp, vq, off, size, value);
      return;
    default:
      VMM_GUEST_ERROR ("virtio", "%s: write to read-only common config %#x", vp->name, off);
    }
}

/* ---- BAR 4 --------------------------------------------------------------- */

static uint64_t
device_config_read (VirtioPci *vp, unsigned off, unsigned size)
{
  if (size == 8)
    return device_config_read (vp, off, 4) | device_config_read (vp, off + 4, 4) << 32;
  if (off + size > vp->config_size || !vp->ops->config_read)
    return 0;
  return vp->ops->config_read (vp->dev, off, size);
}

uint64_t
virtio_pci_bar_read (void *opaque, uint64_t offset, unsigned size)
{
  VirtioPci *vp = opaque;
  if (offset < VIRTIO_PCI_COMMON_SIZE)
    return common_read (vp, (unsigned)offset, size);
  if (offset == VIRTIO_PCI_ISR_OFFSET)
    {
      /* Read-to-clear, and it de-asserts INTx. */
      uint8_t isr = vp->isr;
      vp->isr = 0;
      pci_set_irq (&vp->pci, false);
      return isr;
    }
  if (offset >= VIRTIO_PCI_DEVICE_OFFSET
      && offset < VIRTIO_PCI_DEVICE_OFFSET + VIRTIO_PCI_DEVICE_MAX)
    return device_config_read (vp, (unsigned)(offset - VIRTIO_PCI_DEVICE_OFFSET), size);
  return 0;
}

static void
queue_notify (VirtioPci *vp, unsigned q)
{
  if (q >= vp->num_queues)
    {
      VMM_GUEST_ERROR ("virtio", "%s: notify for queue %u", vp->name, q);
      return;
    }
  VirtQueue *vq = &vp->vqs[q];
  if (!virtio_pci_driver_ok (vp) || !vq->enabled || vq->broken)
    return;
  vp->ops->queue_notify (vp->dev, q);
}

void
virtio_pci_bar_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  VirtioPci *vp = opaque;
  if (offset < VIRTIO_PCI_COMMON_SIZE)
    {
      common_write (vp, (unsigned)offset, size, value);
      return;
    }
  if (offset >= VIRTIO_PCI_NOTIFY_OFFSET
      && offset
             < VIRTIO_PCI_NOTIFY_OFFSET + (uint64_t)VIRTIO_PCI_NOTIFY_MULTIPLIER * vp->num_queues)
    {
      queue_notify (vp,
                    (unsigned)(offset - VIRTIO_PCI_NOTIFY_OFFSET) / VIRTIO_PCI_NOTIFY_MULTIPLIER);
      return;
    }
  if (offset >= VIRTIO_PCI_DEVICE_OFFSET
      && offset < VIRTIO_PCI_DEVICE_OFFSET + VIRTIO_PCI_DEVICE_MAX)
    {
      unsigned off = (unsigned)(offset - VIRTIO_PCI_DEVICE_OFFSET);
      if (size <= 4 && off + size <= vp->config_size && vp->ops->config_write)
        vp->ops->config_write (vp->dev, off, size, (uint32_t)value);
      else
        VMM_GUEST_ERROR ("virtio", "%s: device config write at %#x dropped", vp->name, off);
      return;
    }
  VMM_GUEST_ERROR ("virtio", "%s: write to BAR offset %#" G_GINT64_MODIFIER "x", vp->name, offset);
}

static const IoOps virtio_bar_ops = { virtio_pci_bar_read, virtio_pci_bar_write };

/* ---- MSI-X table (BAR 1) ------------------------------------------------- */

static uint64_t
msix_read (void *opaque, uint64_t offset, unsigned size)
{
  VirtioPci *vp = opaque;
  uint64_t v = 0;
  if (offset < (uint64_t)vp->msix_vectors * 16 && size >= 4 && !(offset & (size - 1)))
    {
      for (unsigned i = 0; i < size; i += 4)
        {
          const VirtioMsixEntry *e = &vp->msix[(offset + i) / 16];
          unsigned word = (unsigned)((offset + i) % 16) / 4;
          uint32_t w = word == 0   ? (uint32_t)e->address
                       : word == 1 ? (uint32_t)(e->address >> 32)
                       : word == 2 ? e->data
                                   : e->control;
          v |= (uint64_t)w << (8 * i);
        }
      return v;
    }
  if (offset >= VIRTIO_PCI_MSIX_PBA_OFFSET && offset < VIRTIO_PCI_MSIX_PBA_OFFSET + 8)
    return ((uint64_t)vp->msix_pending >> (8 * (offset - VIRTIO_PCI_MSIX_PBA_OFFSET)))
           & (size == 8 ? ~0ull : (1ull << (8 * size)) - 1);
  return 0;
}

static void
msix_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  VirtioPci *vp = opaque;
  if (offset >= (uint64_t)vp->msix_vectors * 16 || size < 4 || (offset & (size - 1)))
    {
      VMM_GUEST_ERROR ("virtio", "%s: MSI-X write at %#" G_GINT64_MODIFIER "x size %u dropped",
                       vp->name, offset, size);
      return;
    }
  for (unsigned i = 0; i < size; i += 4)
    {
      VirtioMsixEntry *e = &vp->msix[(offset + i) / 16];
      uint32_t w = (uint32_t)(value >> (8 * i));
      switch (((offset + i) % 16) / 4)
        {
        case 0:
          e->address = (e->address & ~0xffffffffull) | w;
          break;
        case 1:
          e->address = (e->address & 0xffffffffull) | (uint64_t)w << 32;
          break;
        case 2:
          e->data = w;
          break;
        default:
          e->control = w & MSIX_ENTRY_MASKED;
          break;
        }
    }
  msix_deliver_pending (vp);
}

static const IoOps msix_bar_ops = { msix_read, msix_write };

/* ---- config space hooks: MSI-X control, PCI cfg access capability -------- */

static bool
cfg_cap_window (VirtioPci *vp, unsigned *bar_off, unsigned *len)
{
  const PciDevice *d = &vp->pci;
  unsigned c = vp->pci_cfg_cap;
  *bar_off = pci_get_long (d, c + 8);
  *len = pci_get_long (d, c + 12);
  if (d->config[c + 4] != VIRTIO_PCI_BAR || !(*len == 1 || *len == 2 || *len == 4)
      || (*bar_off & (*len - 1)) || *bar_off >= VIRTIO_PCI_BAR_SIZE)
    {
      VMM_GUEST_ERROR ("virtio", "%s: PCI cfg capability window bar %u off %#x len %u", vp->name,
                       d->config[c + 4], *bar_off, *len);
      return false;
    }
  return true;
}

static uint32_t
config_read_hook (PciDevice *d, unsigned offset, unsigned size, uint32_t value)
{
  VirtioPci *vp = d->opaque;
  unsigned data = vp->pci_cfg_cap + 16, bar_off, len;
  if (offset != data || !cfg_cap_window (vp, &bar_off, &len))
    return value;
  return (uint32_t)virtio_pci_bar_read (vp, bar_off, len);
}

static void
config_write_hook (PciDevice *d, unsigned offset, unsigned size, uint32_t value)
{
  VirtioPci *vp = d->opaque;
  unsigned data = vp->pci_cfg_cap + 16, bar_off, len;
  if (offset == data && cfg_cap_window (vp, &bar_off, &len))
    virtio_pci_bar_write (vp, bar_off, value, len);
  unsigned ctrl = vp->msix_cap + 2;
  if (offset < ctrl + 2 && offset + size > ctrl)
    {
      if (msix_enabled (vp))
        {
          /* MSI-X replaces INTx: the pin must not stay asserted. */
          vp->isr = 0;
          pci_set_irq (&vp->pci, false);
        }
      msix_deliver_pending (vp);
    }
}

/* ---- setup --------------------------------------------------------------- */

static void
add_vendor_cap (VirtioPci *vp, uint8_t cfg_type, uint32_t offset, uint32_t length, uint8_t cap_len)
{
  uint8_t c = pci_add_capability (&vp->pci, PCI_CAP_ID_VNDR, cap_len);
  g_assert (c); /* fixed layout: always fits */
  uint8_t *cfg = vp->pci.config;
  cfg[c + 2] = cap_len;
  cfg[c + 3] = cfg_type;
  cfg[c + 4] = cfg_type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : VIRTIO_PCI_BAR;
  pci_set_long (cfg, c + 8, offset);
  pci_set_long (cfg, c + 12, length);
  if (cfg_type == VIRTIO_PCI_CAP_NOTIFY_CFG)
    pci_set_long (cfg, c + 16, VIRTIO_PCI_NOTIFY_MULTIPLIER);
  if (cfg_type == VIRTIO_PCI_CAP_PCI_CFG)
    {
      vp->pci_cfg_cap = c;
      vp->pci.wmask[c + 4] = 0xff;
      memset (vp->pci.wmask + c + 8, 0xff, 12); /* offset, length, data */
    }
}

void
virtio_pci_init (VirtioPci *vp, const char *name, uint16_t device_type, uint32_t class_code,
                 uint64_t features, unsigned num_queues, uint16_t queue_size, unsigned config_size,
                 GuestRam *ram, const VirtioDeviceOps *ops, void *dev)
{
  g_assert (num_queues >= 1 && num_queues <= VIRTIO_PCI_MAX_QUEUES);
  g_assert (config_size <= VIRTIO_PCI_DEVICE_MAX);
  memset (vp, 0, sizeof *vp);
  vp->ram = ram;
  vp->name = g_strdup (name);
  vp->ops = ops;
  vp->dev = dev;
  vp->config_size = config_size;
  vp->num_queues = num_queues;
  vp->msix_vectors = num_queues + 1;
  vp->device_features = features | VIRTIO_FEATURE (VIRTIO_F_VERSION_1)
                        | VIRTIO_FEATURE (VIRTIO_F_INDIRECT_DESC)
                        | VIRTIO_FEATURE (VIRTIO_F_RING_EVENT_IDX);
  for (unsigned q = 0; q < num_queues; q++)
    virtqueue_init (&vp->vqs[q], ram, queue_size);

  PciDevice *d = &vp->pci;
  pci_device_init (d, vp->name, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + device_type),
                   class_code, 1);
  pci_device_set_subsystem (d, VIRTIO_PCI_VENDOR, 0x1100);
  pci_device_set_interrupt_pin (d, 1);
  pci_device_set_bar_mem (d, VIRTIO_PCI_MSIX_BAR, VIRTIO_PCI_MSIX_BAR_SIZE, false, false,
                          &msix_bar_ops, vp);
  pci_device_set_bar_mem (d, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, true, false, &virtio_bar_ops, vp);
  d->config_read = config_read_hook;
  d->config_write = config_write_hook;
  d->opaque = vp;

  vp->msix_cap = pci_add_capability (d, PCI_CAP_ID_MSIX, 12);
  g_assert (vp->msix_cap);
  pci_set_word (d->config, vp->msix_cap + 2, (uint16_t)(vp->msix_vectors - 1));
  pci_set_long (d->config, vp->msix_cap + 4, VIRTIO_PCI_MSIX_TABLE_OFFSET | VIRTIO_PCI_MSIX_BAR);
  pci_set_long (d->config, vp->msix_cap + 8, VIRTIO_PCI_MSIX_PBA_OFFSET | VIRTIO_PCI_MSIX_BAR);
  d->wmask[vp->msix_cap + 3] = (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) >> 8;

  add_vendor_cap (vp, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 20);
  add_vendor_cap (vp, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFFSET, MAX (config_size, 4u),
                  16);
  add_vendor_cap (vp, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFFSET, 1, 16);
  add_vendor_cap (vp, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFFSET,
                  VIRTIO_PCI_NOTIFY_MULTIPLIER * num_queues, 20);
  add_vendor_cap (vp, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFFSET, VIRTIO_PCI_COMMON_SIZE,
                  16);

  virtio_pci_reset (vp);
}

void
virtio_pci_destroy (VirtioPci *vp)
{
  g_clear_pointer (&vp->name, g_free);
}

/* ---- snapshot ------------------------------------------------------------ */

void
virtio_pci_save (const VirtioPci *vp, SnapWriter *w)
{
  snap_section_begin (w, vp->name, 1);
  snap_put_u64 (w, vp->device_features);
  snap_put_u64 (w, vp->driver_features);
  snap_put_u32 (w, vp->device_feature_select);
  snap_put_u32 (w, vp->driver_feature_select);
  snap_put_u8 (w, vp->status);
  snap_put_u8 (w, vp->config_generation);
  snap_put_u8 (w, vp->isr);
  snap_put_u16 (w, vp->queue_select);
  snap_put_u16 (w, vp->config_vector);
  snap_put_u32 (w, vp->num_queues);
  for (unsigned q = 0; q < vp->num_queues; q++)
    virtqueue_save (&vp->vqs[q], w);
  snap_put_u32 (w, vp->msix_vectors);
  for (unsigned v = 0; v < vp->msix_vectors; v++)
    {
      snap_put_u64 (w, vp->msix[v].address);
      snap_put_u32 (w, vp->msix[v].data);
      snap_put_u32 (w, vp->msix[v].control);
    }
  snap_put_u32 (w, vp->msix_pending);
  snap_section_end (w);
}

bool
virtio_pci_load (VirtioPci *vp, SnapReader *r, GError **error)
{
  if (!snap_reader_open (r, vp->name, 1, NULL, error))
    return false;
  uint64_t dev_features = snap_get_u64 (r);
  uint64_t drv_features = snap_get_u64 (r);
  uint32_t dfs = snap_get_u32 (r), gfs = snap_get_u32 (r);
  uint8_t status = snap_get_u8 (r), gen = snap_get_u8 (r), isr = snap_get_u8 (r);
  uint16_t qsel = snap_get_u16 (r), cvec = snap_get_u16 (r);
  uint32_t nq = snap_get_u32 (r);
  if (!snap_reader_check (r, error))
    return false;
  if (dev_features != vp->device_features || nq != vp->num_queues)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: saved device has other features or queues", vp->name);
      return false;
    }
  bool rings_ok = true;
  for (unsigned q = 0; q < nq; q++)
    rings_ok &= virtqueue_load (&vp->vqs[q], r);
  uint32_t nvec = snap_get_u32 (r);
  if (nvec != vp->msix_vectors)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: saved device has %u MSI-X vectors", vp->name, nvec);
      return false;
    }
  for (unsigned v = 0; v < nvec; v++)
    {
      vp->msix[v].address = snap_get_u64 (r);
      vp->msix[v].data = snap_get_u32 (r);
      vp->msix[v].control = snap_get_u32 (r) & MSIX_ENTRY_MASKED;
    }
  uint32_t pending = snap_get_u32 (r);
  if (!snap_reader_check (r, error))
    return false;
  vp->driver_features = drv_features & vp->device_features;
  vp->device_feature_select = dfs;
  vp->driver_feature_select = gfs;
  vp->status = status;
  vp->config_generation = gen;
  vp->isr = isr;
  vp->queue_select = qsel;
  vp->config_vector = checked_vector (vp, cvec);
  for (unsigned q = 0; q < nq; q++)
    vp->vqs[q].msix_vector = checked_vector (vp, vp->vqs[q].msix_vector);
  vp->msix_pending = pending & ((1u << nvec) - 1);
  if (!rings_ok)
    virtio_pci_set_needs_reset (vp);
  pci_set_irq (&vp->pci, vp->isr && !msix_enabled (vp));
  return true;
}
