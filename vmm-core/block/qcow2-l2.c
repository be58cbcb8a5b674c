/* qcow2 guest-to-host mapping: the L1 table (kept in memory, written
 * through) and L2 tables (write-back cache). */
#include "qcow2.h"

guint64
qcow2_l2_get (Qcow2CacheEntry *t, guint index)
{
  return qcow2_be64 (t->data + (gsize) index * 8);
}

void
qcow2_l2_set (Qcow2CacheEntry *t, guint index, guint64 entry)
{
  qcow2_put_be64 (t->data + (gsize) index * 8, entry);
  t->dirty = TRUE;
}

gboolean
qcow2_l2_commit (Qcow2 *s, Qcow2CacheEntry *t, GError **error)
{
  return qcow2_cache_write_entry (s, &s->l2_cache, t, error) && qcow2_barrier (s, error);
}

void
qcow2_l2_entry_extent (Qcow2 *s, guint64 entry, guint64 *offset, guint64 *len)
{
  if (entry & QCOW2_OFLAG_COMPRESSED)
    {
      guint x = 62 - (s->cluster_bits - 8);
      guint64 coff = entry & ((1ull << x) - 1);
      guint64 sectors = ((entry >> x) & ((1ull << (s->cluster_bits - 8)) - 1)) + 1;
      *offset = coff;
      *len = (coff & ~511ull) + sectors * 512 - coff;
      return;
    }
  *offset = entry & QCOW2_OFFSET_MASK;
  *len = *offset ? s->cluster_size : 0;
}

static gboolean
write_l1_entry (Qcow2 *s, guint64 idx, GError **error)
{
  guint8 be[8];
  qcow2_put_be64 (be, s->l1[idx]);
  return qcow2_write (s, s->hdr.l1_table_offset + idx * 8, be, 8, TRUE, error);
}

/* A new, empty L2 table: durable (with its refcount) before the L1 entry. */
static gboolean
new_table (Qcow2 *s, guint64 l1_idx, Qcow2CacheEntry **table, GError **error)
{
  guint64 off;
  gboolean fresh;
  Qcow2CacheEntry *t;

  if (!qcow2_alloc_cluster (s, &off, &fresh, error))
    return FALSE;
  t = qcow2_cache_get (s, &s->l2_cache, off, TRUE, error);
  if (t == NULL)
    return FALSE;
  t->dirty = TRUE;
  if (!qcow2_l2_commit (s, t, error))
    return FALSE;
  s->l1[l1_idx] = off | QCOW2_OFLAG_COPIED;
  if (!write_l1_entry (s, l1_idx, error))
    return FALSE;
  *table = t;
  return TRUE;
}

gboolean
qcow2_l2_lookup (Qcow2 *s, guint64 guest_offset, gboolean alloc, Qcow2CacheEntry **table,
                 guint *index, GError **error)
{
  guint64 cluster = guest_offset >> s->cluster_bits;
  guint64 l1_idx = cluster >> s->l2_bits;
  guint64 l1e, off;

  *table = NULL;
  *index = (guint) (cluster & ((1ull << s->l2_bits) - 1));
  if (l1_idx >= s->hdr.l1_size)
    return qcow2_signal_corruption (s, error, "guest offset beyond the L1 table");
  l1e = s->l1[l1_idx];
  if (l1e & QCOW2_L1E_RESERVED)
    return qcow2_signal_corruption (s, error, "L1 entry %" G_GUINT64_FORMAT
                                    " has reserved bits set", l1_idx);
  off = l1e & QCOW2_OFFSET_MASK;
  if (off == 0)
    return alloc ? new_table (s, l1_idx, table, error) : TRUE;
  if ((off & (s->cluster_size - 1)) != 0)
    return qcow2_signal_corruption (s, error, "L2 table at unaligned offset 0x%"
                                    G_GINT64_MODIFIER "x", off);
  if (alloc && !(l1e & QCOW2_OFLAG_COPIED))
    {
      /* Without internal snapshots every L2 table is ours alone; a
       * missing flag with refcount 1 is only stale, so fix it. */
      guint64 rc;
      if (!qcow2_refcount_get (s, off >> s->cluster_bits, &rc, error))
        return FALSE;
      if (rc != 1)
        return qcow2_signal_corruption (s, error, "shared L2 table at 0x%" G_GINT64_MODIFIER
                                        "x (refcount %" G_GUINT64_FORMAT ")", off, rc);
      s->l1[l1_idx] |= QCOW2_OFLAG_COPIED;
      if (!write_l1_entry (s, l1_idx, error))
        return FALSE;
    }
  *table = qcow2_cache_get (s, &s->l2_cache, off, FALSE, error);
  return *table != NULL;
}
