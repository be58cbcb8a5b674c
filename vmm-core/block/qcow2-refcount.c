/* qcow2 refcounts: the refcount table and blocks, cluster allocation,
 * growing the table, freeing. Refcount widths 1..64 bits (orders 0..6). */
#include "qcow2.h"
#include "block-file.h"

static guint64
rb_get (const guint8 *blk, guint order, guint64 i)
{
  switch (order)
    {
    case 3:
      return blk[i];
    case 4:
      return ((guint64) blk[2 * i] << 8) | blk[2 * i + 1];
    case 5:
      {
        guint32 v;
        memcpy (&v, blk + 4 * i, 4);
        return GUINT32_FROM_BE (v);
      }
    case 6:
      return qcow2_be64 (blk + 8 * i);
    default:
      {
        /* Sub-byte widths: entry 0 in the least significant bits. */
        guint bits = 1u << order;
        guint64 bit = i * bits;
        return (blk[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
      }
    }
}

static void
rb_set (guint8 *blk, guint order, guint64 i, guint64 v)
{
  switch (order)
    {
    case 3:
      blk[i] = (guint8) v;
      break;
    case 4:
      blk[2 * i] = (guint8) (v >> 8);
      blk[2 * i + 1] = (guint8) v;
      break;
    case 5:
      {
        guint32 be = GUINT32_TO_BE ((guint32) v);
        memcpy (blk + 4 * i, &be, 4);
        break;
      }
    case 6:
      qcow2_put_be64 (blk + 8 * i, v);
      break;
    default:
      {
        guint bits = 1u << order;
        guint64 bit = i * bits;
        guint8 mask = (guint8) (((1u << bits) - 1) << (bit % 8));
        blk[bit / 8] = (guint8) ((blk[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
        break;
      }
    }
}

static guint64
refcount_max (Qcow2 *s)
{
  return s->refcount_order == 6 ? G_MAXUINT64 : (1ull << (1u << s->refcount_order)) - 1;
}

/* The refcount block for a table index: NULL (no error) if not allocated. */
static gboolean
load_block (Qcow2 *s, guint64 idx, Qcow2CacheEntry **out, GError **error)
{
  guint64 off;
  *out = NULL;
  if (idx >= s->reftable_entries || s->reftable[idx] == 0)
    return TRUE;
  off = s->reftable[idx];
  if ((off & (s->cluster_size - 1)) != 0 || off >= (1ull << 56))
    return qcow2_signal_corruption (s, error, "refcount block %" G_GUINT64_FORMAT
                                    " at invalid offset 0x%" G_GINT64_MODIFIER "x", idx, off);
  *out = qcow2_cache_get (s, &s->rb_cache, off, FALSE, error);
  return *out != NULL;
}

gboolean
qcow2_refcount_get (Qcow2 *s, guint64 cluster, guint64 *refcount, GError **error)
{
  Qcow2CacheEntry *blk;
  if (!load_block (s, cluster >> s->rb_bits, &blk, error))
    return FALSE;
  *refcount = blk ? rb_get (blk->data, s->refcount_order,
                            cluster & ((1ull << s->rb_bits) - 1))
                  : 0;
  return TRUE;
}

static gboolean
write_reftable_entry (Qcow2 *s, guint64 idx, GError **error)
{
  guint8 be[8];
  qcow2_put_be64 (be, s->reftable[idx]);
  return qcow2_write (s, s->hdr.refcount_table_offset + idx * 8, be, 8, TRUE, error);
}

gboolean
qcow2_is_fixed_metadata (Qcow2 *s, guint64 cluster)
{
  guint64 off = cluster << s->cluster_bits;
  guint64 l1_end = s->hdr.l1_table_offset + (guint64) s->hdr.l1_size * 8;
  guint64 rt_end = s->hdr.refcount_table_offset
                   + ((guint64) s->hdr.refcount_table_clusters << s->cluster_bits);
  return cluster == 0 || (off >= s->hdr.l1_table_offset && off < l1_end)
         || (off >= s->hdr.refcount_table_offset && off < rt_end);
}

static gboolean grow_reftable (Qcow2 *s, guint64 needed_idx, guint64 avoid, GError **error);

/* A new refcount block for table index idx, placed inside the range it
 * describes (so it counts itself): every cluster there has refcount 0. */
static gboolean
create_block (Qcow2 *s, guint64 idx, guint64 avoid, GError **error)
{
  guint64 first, r;
  Qcow2CacheEntry *blk;

  if (idx >= s->reftable_entries && !grow_reftable (s, idx, avoid, error))
    return FALSE;
  if (s->reftable[idx] != 0)
    return TRUE;
  first = idx << s->rb_bits;
  for (r = first; r == avoid || qcow2_is_fixed_metadata (s, r); r++)
    ;
  blk = qcow2_cache_get (s, &s->rb_cache, r << s->cluster_bits, TRUE, error);
  if (blk == NULL)
    return FALSE;
  rb_set (blk->data, s->refcount_order, r - first, 1);
  blk->dirty = TRUE;
  s->end_cluster = MAX (s->end_cluster, r + 1);
  /* The block before the table entry that makes it live. */
  if (!qcow2_cache_write_entry (s, &s->rb_cache, blk, error) || !qcow2_barrier (s, error))
    return FALSE;
  s->reftable[idx] = r << s->cluster_bits;
  return write_reftable_entry (s, idx, error);
}

static gboolean
update (Qcow2 *s, guint64 cluster, gint64 delta, GError **error)
{
  guint64 idx = cluster >> s->rb_bits;
  guint64 i = cluster & ((1ull << s->rb_bits) - 1);
  Qcow2CacheEntry *blk;
  guint64 v;

  if (!load_block (s, idx, &blk, error))
    return FALSE;
  if (blk == NULL)
    {
      if (delta < 0)
        return qcow2_signal_corruption (s, error, "freeing cluster %" G_GUINT64_FORMAT
                                        " that has no refcount", cluster);
      if (!create_block (s, idx, cluster, error) || !load_block (s, idx, &blk, error))
        return FALSE;
    }
  v = rb_get (blk->data, s->refcount_order, i);
  if (delta < 0 && v == 0)
    return qcow2_signal_corruption (s, error, "refcount of cluster %" G_GUINT64_FORMAT
                                    " drops below zero", cluster);
  if (delta > 0 && v == refcount_max (s))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "qcow2: refcount overflow");
      return FALSE;
    }
  v = delta > 0 ? v + 1 : v - 1;
  rb_set (blk->data, s->refcount_order, i, v);
  blk->dirty = TRUE;
  if (v == 0 && cluster < s->free_hint)
    s->free_hint = cluster;
  return TRUE;
}

gboolean
qcow2_alloc_cluster (Qcow2 *s, guint64 *host_offset, gboolean *fresh, GError **error)
{
  guint64 c = MAX (s->free_hint, 1);
  for (;; c++)
    {
      guint64 rc;
      if ((c << s->cluster_bits) >= (1ull << 56) - s->cluster_size)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "qcow2: image full");
          return FALSE;
        }
      if (!qcow2_refcount_get (s, c, &rc, error))
        return FALSE;
      if (rc == 0 && !qcow2_is_fixed_metadata (s, c))
        break;
    }
  *fresh = (c << s->cluster_bits) >= s->file_size;
  if (!update (s, c, +1, error))
    return FALSE;
  s->free_hint = c + 1;
  s->end_cluster = MAX (s->end_cluster, c + 1);
  *host_offset = c << s->cluster_bits;
  return TRUE;
}

gboolean
qcow2_free_range (Qcow2 *s, guint64 offset, guint64 len, GError **error)
{
  if (len == 0)
    return TRUE;
  for (guint64 c = offset >> s->cluster_bits; c <= (offset + len - 1) >> s->cluster_bits; c++)
    {
      guint64 rc;
      if (!update (s, c, -1, error) || !qcow2_refcount_get (s, c, &rc, error))
        return FALSE;
      /* Nothing references it on disk any more: give the space back. */
      if (rc == 0)
        block_file_punch (s->fd, c << s->cluster_bits, s->cluster_size);
    }
  return TRUE;
}

gboolean
qcow2_refcount_flush (Qcow2 *s, GError **error)
{
  return qcow2_cache_flush (s, &s->rb_cache, error);
}

static gboolean
covered (Qcow2 *s, guint64 idx)
{
  return idx < s->reftable_entries && s->reftable[idx] != 0;
}

/* A bigger refcount table at the end of the file, with the refcount blocks
 * that describe it (and themselves) right after it. Written completely and
 * flushed before the header points to it; the old table is freed last. */
static gboolean
grow_reftable (Qcow2 *s, guint64 needed_idx, guint64 avoid, GError **error)
{
  const guint64 per_cluster = s->cluster_size / 8;
  guint64 start = MAX (s->end_cluster, avoid + 1);
  guint64 tc = MAX ((guint64) s->hdr.refcount_table_clusters * 2,
                    (needed_idx + per_cluster) / per_cluster);
  guint64 nb = 0, last, first_idx, last_idx, old_off, old_len, new_entries;
  g_autofree guint8 *table = NULL;
  g_autofree guint8 *blocks = NULL;
  g_autofree guint64 *block_idx = NULL;
  guint64 *host_table;
  guint8 hdr_bytes[12];
  guint32 be32;

  for (;;)
    {
      for (;;)
        {
          guint64 need = 0;
          last = start + tc + nb;
          for (guint64 i = start >> s->rb_bits; i <= (last - 1) >> s->rb_bits; i++)
            need += covered (s, i) ? 0 : 1;
          if (need == nb)
            break;
          nb = need;
        }
      if (((last - 1) >> s->rb_bits) < tc * per_cluster && needed_idx < tc * per_cluster)
        break;
      tc++;
    }
  if ((tc << s->cluster_bits) > QCOW2_MAX_REFTABLE_BYTES)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "qcow2: refcount table would exceed %u bytes", QCOW2_MAX_REFTABLE_BYTES);
      return FALSE;
    }

  new_entries = tc * per_cluster;
  table = g_malloc0 (tc << s->cluster_bits);
  blocks = g_malloc0 (MAX (nb, 1) << s->cluster_bits);
  block_idx = g_new0 (guint64, MAX (nb, 1));
  host_table = g_new0 (guint64, new_entries);
  memcpy (host_table, s->reftable, s->reftable_entries * 8);
  first_idx = start >> s->rb_bits;
  last_idx = (last - 1) >> s->rb_bits;
  for (guint64 i = first_idx, j = 0; i <= last_idx; i++)
    {
      if (covered (s, i))
        continue;
      block_idx[j] = i;
      host_table[i] = (start + tc + j) << s->cluster_bits;
      j++;
    }
  for (guint64 i = 0; i < new_entries; i++)
    qcow2_put_be64 (table + i * 8, host_table[i]);

  /* Refcounts of the new clusters: in the new blocks, or in old ones. */
  for (guint64 c = start; c < last; c++)
    {
      guint64 idx = c >> s->rb_bits;
      if (covered (s, idx))
        {
          if (!update (s, c, +1, error))
            goto fail;
          continue;
        }
      for (guint64 j = 0; j < nb; j++)
        {
          if (block_idx[j] == idx)
            {
              rb_set (blocks + (j << s->cluster_bits), s->refcount_order,
                      c & ((1ull << s->rb_bits) - 1), 1);
              break;
            }
        }
    }
  s->end_cluster = MAX (s->end_cluster, last);
  if ((nb && !qcow2_write (s, (start + tc) << s->cluster_bits, blocks, nb << s->cluster_bits,
                           TRUE, error))
      || !qcow2_write (s, start << s->cluster_bits, table, tc << s->cluster_bits, TRUE, error)
      || !qcow2_refcount_flush (s, error) || !qcow2_barrier (s, error))
    goto fail;

  /* Switch the header to the new table: one 12-byte write. */
  qcow2_put_be64 (hdr_bytes, start << s->cluster_bits);
  be32 = GUINT32_TO_BE ((guint32) tc);
  memcpy (hdr_bytes + 8, &be32, 4);
  if (!qcow2_write (s, 48, hdr_bytes, sizeof hdr_bytes, TRUE, error)
      || !qcow2_barrier (s, error))
    goto fail;

  old_off = s->hdr.refcount_table_offset;
  old_len = (guint64) s->hdr.refcount_table_clusters << s->cluster_bits;
  g_free (s->reftable);
  s->reftable = host_table;
  s->reftable_entries = new_entries;
  s->hdr.refcount_table_offset = start << s->cluster_bits;
  s->hdr.refcount_table_clusters = (guint32) tc;
  return qcow2_free_range (s, old_off, old_len, error);

fail:
  g_free (host_table);
  return FALSE;
}
