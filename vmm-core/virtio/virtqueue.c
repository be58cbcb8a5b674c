/* Split virtqueue device side: see virtqueue.h. */
#include <string.h>

#include "vmm-core/log.h"
#include "vmm-core/virtio/virtio.h"
#include "vmm-core/virtio/virtqueue.h"

typedef struct
{
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
} VirtqDesc;

void
virtqueue_init (VirtQueue *vq, GuestRam *ram, uint16_t max_size)
{
  memset (vq, 0, sizeof *vq);
  vq->ram = ram;
  vq->max_size = max_size;
  virtqueue_reset (vq);
}

void
virtqueue_reset (VirtQueue *vq)
{
  GuestRam *ram = vq->ram;
  uint16_t max = vq->max_size;
  memset (vq, 0, sizeof *vq);
  vq->ram = ram;
  vq->max_size = max;
  vq->num = max;
  vq->msix_vector = 0xffff;
}

static bool
map_ring (VirtQueue *vq, uint64_t gpa, uint64_t len, uint64_t align, uint8_t **out,
          const char *what)
{
  if (gpa & (align - 1))
    {
      VMM_GUEST_ERROR ("virtio", "%s ring at %#" G_GINT64_MODIFIER "x misaligned", what, gpa);
      return false;
    }
  *out = guest_ram_ptr (vq->ram, gpa, len);
  if (!*out)
    {
      VMM_GUEST_ERROR ("virtio",
                       "%s ring [%#" G_GINT64_MODIFIER "x, +%#" G_GINT64_MODIFIER
                       "x) outside guest RAM",
                       what, gpa, len);
      return false;
    }
  return true;
}

bool
virtqueue_enable (VirtQueue *vq)
{
  uint32_t n = vq->num;
  if (n == 0 || n > vq->max_size || (n & (n - 1)))
    {
      VMM_GUEST_ERROR ("virtio", "queue size %u invalid (max %u, power of two)", n, vq->max_size);
      return false;
    }
  /* The event words (used_event / avail_event) trail each ring. */
  if (!map_ring (vq, vq->desc_addr, 16ull * n, 16, &vq->desc, "descriptor")
      || !map_ring (vq, vq->avail_addr, 6 + 2ull * n, 2, &vq->avail, "available")
      || !map_ring (vq, vq->used_addr, 6 + 8ull * n, 4, &vq->used, "used"))
    {
      vq->desc = vq->avail = vq->used = NULL;
      return false;
    }
  vq->enabled = true;
  return true;
}

static inline uint16_t
load_u16_acquire (const uint8_t *p)
{
  return GUINT16_FROM_LE (__atomic_load_n ((const uint16_t *)p, __ATOMIC_ACQUIRE));
}

static inline uint16_t
load_u16 (const uint8_t *p)
{
  return GUINT16_FROM_LE (__atomic_load_n ((const uint16_t *)p, __ATOMIC_RELAXED));
}

static inline void
store_u16_release (uint8_t *p, uint16_t v)
{
  __atomic_store_n ((uint16_t *)p, GUINT16_TO_LE (v), __ATOMIC_RELEASE);
}

static inline void
store_u16 (uint8_t *p, uint16_t v)
{
  __atomic_store_n ((uint16_t *)p, GUINT16_TO_LE (v), __ATOMIC_RELAXED);
}

/* One snapshot of a descriptor: later checks use this copy only. */
static VirtqDesc
read_desc (const uint8_t *table, unsigned i)
{
  uint8_t raw[16];
  memcpy (raw, table + 16 * (size_t)i, 16);
  VirtqDesc d;
  uint64_t a;
  uint32_t l;
  uint16_t f, nx;
  memcpy (&a, raw, 8);
  memcpy (&l, raw + 8, 4);
  memcpy (&f, raw + 12, 2);
  memcpy (&nx, raw + 14, 2);
  d.addr = GUINT64_FROM_LE (a);
  d.len = GUINT32_FROM_LE (l);
  d.flags = GUINT16_FROM_LE (f);
  d.next = GUINT16_FROM_LE (nx);
  return d;
}

static VirtqPopResult
broken (VirtQueue *vq, const char *why, unsigned value)
{
  VMM_GUEST_ERROR ("virtio", "bad descriptor chain: %s (%u); queue needs reset", why, value);
  vq->broken = true;
  return VIRTQ_POP_BROKEN;
}

VirtqPopResult
virtqueue_pop (VirtQueue *vq, VirtqElement *elem)
{
  if (!vq->enabled || vq->broken)
    return VIRTQ_POP_EMPTY;
  uint16_t avail_idx = load_u16_acquire (vq->avail + 2);
  uint16_t pending = (uint16_t)(avail_idx - vq->last_avail_idx);
  if (pending == 0)
    return VIRTQ_POP_EMPTY;
  if (pending > vq->num)
    return broken (vq, "avail idx ran ahead by", pending);

  uint16_t head = load_u16 (vq->avail + 4 + 2 * (size_t)(vq->last_avail_idx % vq->num));
  if (head >= vq->num)
    return broken (vq, "head index", head);

  elem->head = head;
  elem->out_num = elem->in_num = 0;
  elem->out_len = elem->in_len = 0;

  const uint8_t *table = vq->desc;
  unsigned table_size = vq->num;
  unsigned i = head, visited = 0;
  bool in_indirect = false;
  for (;;)
    {
      /* A chain longer than its table must revisit a descriptor: a loop. */
      if (++visited > table_size)
        return broken (vq, "chain loops or exceeds table size", table_size);
      VirtqDesc d = read_desc (table, i);
      if (d.flags & VIRTQ_DESC_F_INDIRECT)
        {
          if (!vq->indirect)
            return broken (vq, "indirect descriptor not negotiated", i);
          if (in_indirect)
            return broken (vq, "nested indirect table", i);
          if (d.flags & VIRTQ_DESC_F_NEXT)
            return broken (vq, "indirect descriptor with NEXT", i);
          if (d.len == 0 || d.len % 16 || d.len / 16 > VIRTQ_MAX_SEGS)
            return broken (vq, "indirect table length", d.len);
          table = guest_ram_ptr (vq->ram, d.addr, d.len);
          if (!table)
            return broken (vq, "indirect table outside RAM, length", d.len);
          table_size = d.len / 16;
          in_indirect = true;
          visited = 0;
          i = 0;
          continue;
        }
      if (d.len > 0)
        {
          void *p = guest_ram_ptr (vq->ram, d.addr, d.len);
          if (!p)
            return broken (vq, "buffer outside RAM, length", d.len);
          if (elem->out_num + elem->in_num >= VIRTQ_MAX_SEGS)
            return broken (vq, "too many segments", VIRTQ_MAX_SEGS);
          elem->iov[elem->out_num + elem->in_num] = (struct iovec){ p, d.len };
          /* Sums of at most VIRTQ_MAX_SEGS 32-bit lengths cannot wrap. */
          if (d.flags & VIRTQ_DESC_F_WRITE)
            {
              elem->in_num++;
              elem->in_len += d.len;
            }
          else
            {
              if (elem->in_num)
                return broken (vq, "readable descriptor after writable one", i);
              elem->out_num++;
              elem->out_len += d.len;
            }
        }
      if (!(d.flags & VIRTQ_DESC_F_NEXT))
        break;
      if (d.next >= table_size)
        return broken (vq, "next index", d.next);
      i = d.next;
    }
  vq->last_avail_idx++;
  return VIRTQ_POP_OK;
}

void
virtqueue_push (VirtQueue *vq, const VirtqElement *elem, uint32_t len)
{
  if (!vq->enabled)
    return;
  if (len > elem->in_len)
    len = (uint32_t)elem->in_len;
  uint8_t *slot = vq->used + 4 + 8 * (size_t)(vq->used_idx % vq->num);
  uint32_t id = GUINT32_TO_LE ((uint32_t)elem->head), le_len = GUINT32_TO_LE (len);
  memcpy (slot, &id, 4);
  memcpy (slot + 4, &le_len, 4);
  vq->used_idx++;
  /* The entry must be visible before the index that publishes it. */
  store_u16_release (vq->used + 2, vq->used_idx);
}

/* virtio 1.1, 2.6.7.2: notify when new_idx passed event since old. */
static inline bool
need_event (uint16_t event, uint16_t new_idx, uint16_t old)
{
  return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

bool
virtqueue_should_notify (VirtQueue *vq)
{
  if (!vq->enabled)
    return false;
  /* Our used idx store must be ordered before reading the driver's flags /
   * used_event, or both sides could decide the other will act. */
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
  if (!vq->event_idx)
    return !(load_u16 (vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
  uint16_t used_event = load_u16 (vq->avail + 4 + 2 * (size_t)vq->num);
  bool valid = vq->signalled_used_valid;
  uint16_t old = vq->signalled_used;
  vq->signalled_used_valid = true;
  vq->signalled_used = vq->used_idx;
  return !valid || need_event (used_event, vq->used_idx, old);
}

bool
virtqueue_idle_recheck (VirtQueue *vq)
{
  if (!vq->enabled || vq->broken)
    return false;
  if (vq->event_idx)
    store_u16 (vq->used + 4 + 8 * (size_t)vq->num, vq->last_avail_idx);
  /* Publish avail_event before looking at avail idx again (the driver does
   * the mirror image: write idx, fence, read avail_event). */
  __atomic_thread_fence (__ATOMIC_SEQ_CST);
  return load_u16_acquire (vq->avail + 2) != vq->last_avail_idx;
}

size_t
virtq_iov_to_buf (const struct iovec *iov, unsigned n, size_t offset, void *buf, size_t len)
{
  size_t done = 0;
  for (unsigned k = 0; k < n && done < len; k++)
    {
      if (offset >= iov[k].iov_len)
        {
          offset -= iov[k].iov_len;
          continue;
        }
      size_t chunk = MIN (iov[k].iov_len - offset, len - done);
      memcpy ((uint8_t *)buf + done, (uint8_t *)iov[k].iov_base + offset, chunk);
      done += chunk;
      offset = 0;
    }
  return done;
}

size_t
virtq_iov_from_buf (const struct iovec *iov, unsigned n, size_t offset, const void *buf, size_t len)
{
  size_t done = 0;
  for (unsigned k = 0; k < n && done < len; k++)
    {
      if (offset >= iov[k].iov_len)
        {
          offset -= iov[k].iov_len;
          continue;
        }
      size_t chunk = MIN (iov[k].iov_len - offset, len - done);
      memcpy ((uint8_t *)iov[k].iov_base + offset, (const uint8_t *)buf + done, chunk);
      done += chunk;
      offset = 0;
    }
  return done;
}

void
virtqueue_save (const VirtQueue *vq, SnapWriter *w)
{
  snap_put_u16 (w, vq->num);
  snap_put_bool (w, vq->enabled);
  snap_put_bool (w, vq->broken);
  snap_put_bool (w, vq->event_idx);
  snap_put_bool (w, vq->indirect);
  snap_put_u16 (w, vq->msix_vector);
  snap_put_u64 (w, vq->desc_addr);
  snap_put_u64 (w, vq->avail_addr);
  snap_put_u64 (w, vq->used_addr);
  snap_put_u16 (w, vq->last_avail_idx);
  snap_put_u16 (w, vq->used_idx);
  snap_put_u16 (w, vq->signalled_used);
  snap_put_bool (w, vq->signalled_used_valid);
}

bool
virtqueue_load (VirtQueue *vq, SnapReader *r)
{
  virtqueue_reset (vq);
  vq->num = snap_get_u16 (r);
  bool enabled = snap_get_bool (r);
  vq->broken = snap_get_bool (r);
  vq->event_idx = snap_get_bool (r);
  vq->indirect = snap_get_bool (r);
  vq->msix_vector = snap_get_u16 (r);
  vq->desc_addr = snap_get_u64 (r);
  vq->avail_addr = snap_get_u64 (r);
  vq->used_addr = snap_get_u64 (r);
  vq->last_avail_idx = snap_get_u16 (r);
  vq->used_idx = snap_get_u16 (r);
  vq->signalled_used = snap_get_u16 (r);
  vq->signalled_used_valid = snap_get_bool (r);
  return !enabled || virtqueue_enable (vq);
}
