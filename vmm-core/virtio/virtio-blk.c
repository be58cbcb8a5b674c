/* virtio-blk request handling: see virtio-blk.h. */
#include <string.h>

#include "vmm-core/log.h"
#include "vmm-core/virtio/virtio-blk.h"

typedef struct
{
  uint32_t type;
  uint64_t sector;
} BlkHeader;

static uint32_t
blk_config_read (void *dev, unsigned offset, unsigned size)
{
  VirtioBlk *blk = dev;
  uint8_t cfg[VIRTIO_BLK_CFG_SIZE] = { 0 };
  pci_set_long (cfg, VIRTIO_BLK_CFG_CAPACITY, (uint32_t)blk->capacity);
  pci_set_long (cfg, VIRTIO_BLK_CFG_CAPACITY + 4, (uint32_t)(blk->capacity >> 32));
  pci_set_long (cfg, VIRTIO_BLK_CFG_SEG_MAX, VIRTIO_BLK_QUEUE_SIZE - 2);
  pci_set_long (cfg, VIRTIO_BLK_CFG_BLK_SIZE, VIRTIO_BLK_SECTOR);
  cfg[VIRTIO_BLK_CFG_WRITEBACK] = blk->writeback;
  pci_set_word (cfg, VIRTIO_BLK_CFG_NUM_QUEUES, 1);
  pci_set_long (cfg, VIRTIO_BLK_CFG_MAX_DISCARD_SECTORS, VIRTIO_BLK_MAX_DISCARD_SECTORS);
  pci_set_long (cfg, VIRTIO_BLK_CFG_MAX_DISCARD_SEG, VIRTIO_BLK_MAX_DISCARD_SEG);
  pci_set_long (cfg, VIRTIO_BLK_CFG_DISCARD_ALIGN, 1);
  pci_set_long (cfg, VIRTIO_BLK_CFG_MAX_WZ_SECTORS, VIRTIO_BLK_MAX_DISCARD_SECTORS);
  pci_set_long (cfg, VIRTIO_BLK_CFG_MAX_WZ_SEG, VIRTIO_BLK_MAX_DISCARD_SEG);
  cfg[VIRTIO_BLK_CFG_WZ_MAY_UNMAP] = 1;
  uint32_t v = 0;
  for (unsigned i = 0; i < size; i++)
    v |= (uint32_t)cfg[offset + i] << (8 * i);
  return v;
}

static void
blk_config_write (void *dev, unsigned offset, unsigned size, uint32_t value)
{
  VirtioBlk *blk = dev;
  if (offset == VIRTIO_BLK_CFG_WRITEBACK && size == 1
      && virtio_pci_has_feature (&blk->vp, VIRTIO_BLK_F_CONFIG_WCE))
    blk->writeback = value ? 1 : 0;
  else
    VMM_GUEST_ERROR ("virtio-blk", "config write at %#x ignored", offset);
}

static bool
range_ok (VirtioBlk *blk, uint64_t sector, uint64_t bytes)
{
  uint64_t sectors = bytes / VIRTIO_BLK_SECTOR;
  if (bytes % VIRTIO_BLK_SECTOR || sector > blk->capacity || sectors > blk->capacity - sector)
    {
      VMM_GUEST_ERROR ("virtio-blk",
                       "request sector %" G_GUINT64_FORMAT " + %" G_GUINT64_FORMAT
                       " bytes outside %" G_GUINT64_FORMAT " sectors",
                       sector, bytes, blk->capacity);
      return false;
    }
  return true;
}

/* A host-side failure: the guest sees IOERR, the host log says why. */
static uint8_t
io_error (GError *error)
{
  if (error)
    {
      VMM_GUEST_ERROR ("virtio-blk", "I/O error: %s", error->message);
      g_error_free (error);
    }
  return VIRTIO_BLK_S_IOERR;
}

static inline uint64_t
get_le64 (const uint8_t *p)
{
  uint64_t v;
  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

static inline uint32_t
get_le32 (const uint8_t *p)
{
  uint32_t v;
  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

/* Reads into the in segments, stopping before the status byte. */
static uint8_t
do_read (VirtioBlk *blk, const VirtqElement *e, uint64_t sector, uint64_t *written)
{
  uint64_t bytes = e->in_len - 1;
  if (!range_ok (blk, sector, bytes))
    return VIRTIO_BLK_S_IOERR;
  uint64_t pos = sector * VIRTIO_BLK_SECTOR, left = bytes;
  const struct iovec *iov = e->iov + e->out_num;
  for (unsigned k = 0; k < e->in_num && left; k++)
    {
      size_t n = MIN (iov[k].iov_len, left);
      GError *error = NULL;
      if (!block_pread (blk->bs, pos, iov[k].iov_base, n, &error))
        return io_error (error);
      pos += n;
      left -= n;
      *written += n;
    }
  return VIRTIO_BLK_S_OK;
}

static uint8_t
do_write (VirtioBlk *blk, const VirtqElement *e, uint64_t sector)
{
  uint64_t bytes = e->out_len - 16;
  if (blk->read_only || !range_ok (blk, sector, bytes))
    return VIRTIO_BLK_S_IOERR;
  uint64_t pos = sector * VIRTIO_BLK_SECTOR;
  size_t skip = 16; /* the header may share a segment with data */
  for (unsigned k = 0; k < e->out_num; k++)
    {
      if (skip >= e->iov[k].iov_len)
        {
          skip -= e->iov[k].iov_len;
          continue;
        }
      size_t n = e->iov[k].iov_len - skip;
      GError *error = NULL;
      if (!block_pwrite (blk->bs, pos, (uint8_t *)e->iov[k].iov_base + skip, n, &error))
        return io_error (error);
      pos += n;
      skip = 0;
    }
  if (virtio_pci_has_feature (&blk->vp, VIRTIO_BLK_F_CONFIG_WCE) && !blk->writeback)
    {
      GError *error = NULL;
      if (!block_flush (blk->bs, &error))
        return io_error (error);
    }
  return VIRTIO_BLK_S_OK;
}

/* DISCARD / WRITE_ZEROES: an array of {le64 sector, le32 num, le32 flags}. */
static uint8_t
do_ranges (VirtioBlk *blk, const VirtqElement *e, uint32_t type)
{
  uint64_t bytes = e->out_len - 16;
  if (blk->read_only)
    return VIRTIO_BLK_S_IOERR;
  if (bytes == 0 || bytes % 16 || bytes / 16 > VIRTIO_BLK_MAX_DISCARD_SEG)
    {
      VMM_GUEST_ERROR ("virtio-blk", "%" G_GUINT64_FORMAT " bytes of range segments", bytes);
      return VIRTIO_BLK_S_IOERR;
    }
  unsigned n = (unsigned)(bytes / 16);
  uint8_t raw[VIRTIO_BLK_MAX_DISCARD_SEG * 16];
  virtq_iov_to_buf (e->iov, e->out_num, 16, raw, bytes);
  /* Validate every segment before touching the image. */
  for (unsigned i = 0; i < n; i++)
    {
      uint64_t sector = get_le64 (raw + 16 * i);
      uint32_t num = get_le32 (raw + 16 * i + 8);
      uint32_t flags = get_le32 (raw + 16 * i + 12);
      if (flags & ~1u || (type == VIRTIO_BLK_T_DISCARD && flags))
        return VIRTIO_BLK_S_UNSUPP;
      if (num > VIRTIO_BLK_MAX_DISCARD_SECTORS
          || !range_ok (blk, sector, (uint64_t)num * VIRTIO_BLK_SECTOR))
        return VIRTIO_BLK_S_IOERR;
    }
  for (unsigned i = 0; i < n; i++)
    {
      uint64_t pos = get_le64 (raw + 16 * i) * VIRTIO_BLK_SECTOR;
      uint64_t len = (uint64_t)get_le32 (raw + 16 * i + 8) * VIRTIO_BLK_SECTOR;
      bool unmap = get_le32 (raw + 16 * i + 12) & 1;
      GError *error = NULL;
      if (len == 0)
        continue;
      bool ok = type == VIRTIO_BLK_T_DISCARD
                    ? block_discard (blk->bs, pos, len, &error)
                    : block_write_zeroes (blk->bs, pos, len, unmap, &error);
      if (!ok)
        return io_error (error);
    }
  return VIRTIO_BLK_S_OK;
}

static void
handle_request (VirtioBlk *blk, VirtQueue *vq, const VirtqElement *e)
{
  blk->requests++;
  if (e->out_len < 16 || e->in_len < 1)
    {
      /* Nowhere to put a status: hand the chain back empty. */
      VMM_GUEST_ERROR ("virtio-blk", "request without header or status byte");
      blk->errors++;
      virtqueue_push (vq, e, 0);
      return;
    }
  uint8_t hdr[16];
  virtq_iov_to_buf (e->iov, e->out_num, 0, hdr, 16);
  uint32_t type = get_le32 (hdr);
  uint64_t sector = get_le64 (hdr + 8);
  uint64_t written = 0;
  uint8_t status;
  GError *error = NULL;

  switch (type)
    {
    case VIRTIO_BLK_T_IN:
      status = do_read (blk, e, sector, &written);
      break;
    case VIRTIO_BLK_T_OUT:
      status = do_write (blk, e, sector);
      break;
    case VIRTIO_BLK_T_FLUSH:
      status = block_flush (blk->bs, &error) ? VIRTIO_BLK_S_OK : io_error (error);
      break;
    case VIRTIO_BLK_T_GET_ID:
      written = virtq_iov_from_buf (e->iov + e->out_num, e->in_num, 0, blk->serial,
                                    MIN (e->in_len - 1, (uint64_t)VIRTIO_BLK_ID_BYTES));
      status = VIRTIO_BLK_S_OK;
      break;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
      if (!virtio_pci_has_feature (&blk->vp, type == VIRTIO_BLK_T_DISCARD
                                                 ? VIRTIO_BLK_F_DISCARD
                                                 : VIRTIO_BLK_F_WRITE_ZEROES))
        status = VIRTIO_BLK_S_UNSUPP;
      else
        status = do_ranges (blk, e, type);
      break;
    default:
      VMM_GUEST_ERROR ("virtio-blk", "request type %u unsupported", type);
      status = VIRTIO_BLK_S_UNSUPP;
    }
  if (status != VIRTIO_BLK_S_OK)
    blk->errors++;
  virtq_iov_from_buf (e->iov + e->out_num, e->in_num, e->in_len - 1, &status, 1);
  virtqueue_push (vq, e, (uint32_t)(written + 1));
}

static void
blk_queue_notify (void *dev, unsigned q)
{
  VirtioBlk *blk = dev;
  VirtQueue *vq = &blk->vp.vqs[q];
  unsigned done = 0;
  do
    {
      while (virtio_pci_pop (&blk->vp, vq, blk->elem))
        {
          handle_request (blk, vq, blk->elem);
          done++;
        }
    }
  while (virtqueue_idle_recheck (vq));
  if (done)
    virtio_pci_notify_queue (&blk->vp, vq);
}

static void
blk_reset (void *dev)
{
  VirtioBlk *blk = dev;
  blk->writeback = 1;
}

static const VirtioDeviceOps blk_ops = {
  .config_read = blk_config_read,
  .config_write = blk_config_write,
  .queue_notify = blk_queue_notify,
  .reset = blk_reset,
};

VirtioBlk *
virtio_blk_new (GuestRam *ram, BlockDev *bs, const char *serial, unsigned instance)
{
  VirtioBlk *blk = g_new0 (VirtioBlk, 1);
  blk->bs = bs;
  blk->capacity = block_size (bs) / VIRTIO_BLK_SECTOR;
  blk->read_only = block_is_read_only (bs);
  blk->writeback = 1;
  blk->elem = g_new (VirtqElement, 1);
  g_autofree char *fallback = g_strdup_printf ("vireo-disk%u", instance);
  const char *id = serial ? serial : fallback;
  /* GET_ID reports 20 bytes, NUL-padded, with no terminator when full. */
  memcpy (blk->serial, id, MIN (strlen (id), (size_t)VIRTIO_BLK_ID_BYTES));

  uint64_t features = VIRTIO_FEATURE (VIRTIO_BLK_F_SEG_MAX) | VIRTIO_FEATURE (VIRTIO_BLK_F_BLK_SIZE)
                      | VIRTIO_FEATURE (VIRTIO_BLK_F_FLUSH)
                      | VIRTIO_FEATURE (VIRTIO_BLK_F_CONFIG_WCE);
  if (blk->read_only)
    features |= VIRTIO_FEATURE (VIRTIO_BLK_F_RO);
  else
    features |= VIRTIO_FEATURE (VIRTIO_BLK_F_DISCARD) | VIRTIO_FEATURE (VIRTIO_BLK_F_WRITE_ZEROES);
  g_autofree char *name = g_strdup_printf ("virtio-blk.%u", instance);
  virtio_pci_init (&blk->vp, name, VIRTIO_ID_BLOCK, 0x010000, features, 1, VIRTIO_BLK_QUEUE_SIZE,
                   VIRTIO_BLK_CFG_SIZE, ram, &blk_ops, blk);
  return blk;
}

void
virtio_blk_free (VirtioBlk *blk)
{
  if (!blk)
    return;
  virtio_pci_destroy (&blk->vp);
  if (blk->owns_bs)
    block_close (blk->bs);
  g_free (blk->elem);
  g_free (blk);
}

void
virtio_blk_reset (VirtioBlk *blk)
{
  virtio_pci_reset (&blk->vp);
}

void
virtio_blk_drain (VirtioBlk *blk)
{
  GError *error = NULL;
  if (!blk->read_only && !block_flush (blk->bs, &error))
    {
      g_warning ("virtio-blk: flush before save failed: %s", error->message);
      g_error_free (error);
    }
}

void
virtio_blk_save (VirtioBlk *blk, SnapWriter *w)
{
  virtio_pci_save (&blk->vp, w);
  g_autofree char *name = g_strdup_printf ("%s.blk", blk->vp.name);
  snap_section_begin (w, name, 1);
  snap_put_u64 (w, blk->capacity);
  snap_put_u8 (w, blk->writeback);
  snap_section_end (w);
}

bool
virtio_blk_load (VirtioBlk *blk, SnapReader *r, GError **error)
{
  if (!virtio_pci_load (&blk->vp, r, error))
    return false;
  g_autofree char *name = g_strdup_printf ("%s.blk", blk->vp.name);
  if (!snap_reader_open (r, name, 1, NULL, error))
    return false;
  uint64_t capacity = snap_get_u64 (r);
  uint8_t wb = snap_get_u8 (r);
  if (!snap_reader_check (r, error))
    return false;
  blk->writeback = wb ? 1 : 0;
  if (capacity != blk->capacity)
    virtio_pci_config_changed (&blk->vp); /* the image was resized meanwhile */
  return true;
}
