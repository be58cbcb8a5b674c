/* qcow2 data path: reads (unallocated -> backing file or zeroes, zero
 * clusters, normal and compressed clusters), writes (allocation with
 * copy-on-write), write-zeroes and discard. */
#include "qcow2.h"
#include "block-file.h"

#include <unistd.h>

typedef enum {
  CL_UNALLOCATED,
  CL_ZERO,       /* v3 zero flag; host offset may be preallocated */
  CL_NORMAL,
  CL_COMPRESSED,
} ClusterKind;

static gboolean
classify (Qcow2 *s, guint64 entry, ClusterKind *kind, GError **error)
{
  if (entry & QCOW2_OFLAG_COMPRESSED)
    {
      *kind = CL_COMPRESSED;
      return TRUE;
    }
  if (entry & QCOW2_L2E_RESERVED)
    return qcow2_signal_corruption (s, error, "L2 entry 0x%" G_GINT64_MODIFIER
                                    "x has reserved bits set", entry);
  if (s->hdr.version >= 3 && (entry & QCOW2_OFLAG_ZERO))
    *kind = CL_ZERO;
  else if ((entry & QCOW2_OFFSET_MASK) == 0)
    *kind = CL_UNALLOCATED;
  else
    *kind = CL_NORMAL;
  return TRUE;
}

static gboolean
lookup_entry (Qcow2 *s, guint64 offset, guint64 *entry, GError **error)
{
  Qcow2CacheEntry *t;
  guint idx;
  if (!qcow2_l2_lookup (s, offset, FALSE, &t, &idx, error))
    return FALSE;
  *entry = t ? qcow2_l2_get (t, idx) : 0;
  return TRUE;
}

static gboolean
backing_covers (Qcow2 *s, guint64 offset)
{
  return s->backing && offset < block_size (s->backing);
}

static gboolean
read_backing (Qcow2 *s, guint64 offset, guint8 *buf, gsize len, GError **error)
{
  gsize n = 0;
  if (backing_covers (s, offset))
    {
      n = (gsize) MIN (len, block_size (s->backing) - offset);
      if (!block_pread (s->backing, offset, buf, n, error))
        return FALSE;
    }
  memset (buf + n, 0, len - n);
  return TRUE;
}

/* Inflate a compressed cluster (raw deflate) into s->zcache. */
static gboolean
load_compressed (Qcow2 *s, guint64 entry, GError **error)
{
  g_autoptr (GZlibDecompressor) z = NULL;
  g_autofree guint8 *in = NULL;
  guint64 coff, clen;
  gsize in_pos = 0, out_pos = 0;

  if (s->zcache_desc == entry)
    return TRUE;
  qcow2_l2_entry_extent (s, entry, &coff, &clen);
  if (clen > 2 * s->cluster_size + 512)
    return qcow2_signal_corruption (s, error, "compressed cluster too long");
  in = g_malloc (clen);
  if (!block_file_pread (s->fd, in, clen, coff, error))
    return FALSE;
  z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  s->zcache_desc = 0;
  while (out_pos < s->cluster_size)
    {
      gsize r = 0, w = 0;
      g_autoptr (GError) zerr = NULL;
      GConverterResult res = g_converter_convert (G_CONVERTER (z), in + in_pos, clen - in_pos,
                                                  s->zcache + out_pos,
                                                  s->cluster_size - out_pos,
                                                  G_CONVERTER_INPUT_AT_END, &r, &w, &zerr);
      in_pos += r;
      out_pos += w;
      if (res == G_CONVERTER_ERROR || res == G_CONVERTER_FINISHED || (r == 0 && w == 0))
        break;
    }
  if (out_pos < s->cluster_size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "qcow2: compressed cluster at 0x%" G_GINT64_MODIFIER "x does not inflate "
                   "to a full cluster", coff);
      return FALSE;
    }
  s->zcache_desc = entry;
  return TRUE;
}

/* Read part of one guest cluster whose L2 entry is known. */
static gboolean
read_in_cluster (Qcow2 *s, guint64 entry, guint64 offset, guint8 *buf, gsize len,
                 GError **error)
{
  ClusterKind kind;
  guint64 in = offset & (s->cluster_size - 1);
  if (!classify (s, entry, &kind, error))
    return FALSE;
  switch (kind)
    {
    case CL_UNALLOCATED:
      return read_backing (s, offset, buf, len, error);
    case CL_ZERO:
      memset (buf, 0, len);
      return TRUE;
    case CL_COMPRESSED:
      if (!load_compressed (s, entry, error))
        return FALSE;
      memcpy (buf, s->zcache + in, len);
      return TRUE;
    case CL_NORMAL:
    default:
      return block_file_pread (s->fd, buf, len, (entry & QCOW2_OFFSET_MASK) + in, error);
    }
}

gboolean
qcow2_read (Qcow2 *s, guint64 offset, void *buf, gsize len, GError **error)
{
  guint8 *p = buf;
  while (len > 0)
    {
      guint64 in = offset & (s->cluster_size - 1);
      gsize n = (gsize) MIN (len, s->cluster_size - in);
      guint64 entry;
      if (!lookup_entry (s, offset, &entry, error)
          || !read_in_cluster (s, entry, offset, p, n, error))
        return FALSE;
      p += n;
      offset += n;
      len -= n;
    }
  return TRUE;
}

/* Does the guest cluster at offset read as zeroes without looking at data? */
static gboolean
reads_as_zero (Qcow2 *s, guint64 entry, guint64 offset)
{
  ClusterKind kind;
  if (!classify (s, entry, &kind, NULL))
    return FALSE;
  return kind == CL_ZERO || (kind == CL_UNALLOCATED && !backing_covers (s, offset));
}

static gboolean
make_file_cover (Qcow2 *s, guint64 end, GError **error)
{
  if (s->file_size >= end)
    return TRUE;
  if (ftruncate (s->fd, (off_t) end) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "qcow2: extend image: %s",
                   g_strerror (errno));
      return FALSE;
    }
  s->file_size = end;
  s->unsynced = s->deps_unsynced = TRUE;
  return TRUE;
}

/* Write into one guest cluster that needs a new host cluster (unallocated,
 * zero, compressed or shared): build the whole cluster, write it to a
 * cluster nothing references, then point the L2 entry at it. */
static gboolean
write_new_cluster (Qcow2 *s, Qcow2CacheEntry *t, guint idx, guint64 entry, guint64 offset,
                   const guint8 *data, gsize len, GError **error)
{
  guint64 cluster_start = offset & ~(s->cluster_size - 1);
  guint64 in = offset - cluster_start;
  guint64 valid = MIN (s->cluster_size, s->base.size - cluster_start);
  gboolean whole = in == 0 && len >= valid;
  gboolean base_zero = whole || reads_as_zero (s, entry, cluster_start);
  guint64 host, old_off = 0, old_len = 0;
  gboolean fresh = FALSE;
  ClusterKind kind;

  if (!classify (s, entry, &kind, error))
    return FALSE;
  if (kind == CL_ZERO && (entry & QCOW2_OFFSET_MASK) && (entry & QCOW2_OFLAG_COPIED))
    host = entry & QCOW2_OFFSET_MASK; /* preallocated: ours alone, reads as zero */
  else
    {
      if (!qcow2_alloc_cluster (s, &host, &fresh, error))
        return FALSE;
      if (kind != CL_UNALLOCATED)
        qcow2_l2_entry_extent (s, entry, &old_off, &old_len);
    }

  if (fresh && base_zero)
    {
      /* Past the end of the file everything reads as zero already. */
      if (!qcow2_write (s, host + in, data, len, TRUE, error)
          || !make_file_cover (s, host + s->cluster_size, error))
        return FALSE;
    }
  else
    {
      g_autofree guint8 *buf = g_malloc0 (s->cluster_size);
      if (!base_zero && !read_in_cluster (s, entry, cluster_start, buf, valid, error))
        return FALSE;
      memcpy (buf + in, data, len);
      if (!qcow2_write (s, host, buf, s->cluster_size, TRUE, error))
        return FALSE;
    }
  qcow2_l2_set (t, idx, host | QCOW2_OFLAG_COPIED);
  if (old_len == 0)
    return TRUE;
  /* The old host cluster loses its reference only once the L2 table
   * without it is on disk. */
  if (kind == CL_COMPRESSED && s->zcache_desc == entry)
    s->zcache_desc = 0;
  return qcow2_l2_commit (s, t, error) && qcow2_free_range (s, old_off, old_len, error);
}

gboolean
qcow2_write_data (Qcow2 *s, guint64 offset, const void *buf, gsize len, GError **error)
{
  const guint8 *p = buf;
  while (len > 0)
    {
      guint64 in = offset & (s->cluster_size - 1);
      gsize n = (gsize) MIN (len, s->cluster_size - in);
      Qcow2CacheEntry *t;
      guint idx;
      guint64 entry;
      ClusterKind kind;

      if (!qcow2_l2_lookup (s, offset, TRUE, &t, &idx, error))
        return FALSE;
      entry = qcow2_l2_get (t, idx);
      if (!classify (s, entry, &kind, error))
        return FALSE;
      if (kind == CL_NORMAL && (entry & QCOW2_OFLAG_COPIED))
        {
          guint64 host = entry & QCOW2_OFFSET_MASK;
          /* A hostile image must not make guest data overwrite tables. */
          if ((host & (s->cluster_size - 1)) != 0
              || qcow2_is_fixed_metadata (s, host >> s->cluster_bits))
            return qcow2_signal_corruption (s, error, "data cluster 0x%" G_GINT64_MODIFIER
                                            "x overlaps metadata or is misaligned", host);
          if (!qcow2_write (s, host + in, p, n, TRUE, error))
            return FALSE;
        }
      else if (!write_new_cluster (s, t, idx, entry, offset, p, n, error))
        return FALSE;
      p += n;
      offset += n;
      len -= n;
    }
  return TRUE;
}

static gboolean
write_zero_bytes (Qcow2 *s, guint64 offset, guint64 len, GError **error)
{
  g_autofree guint8 *zeroes = g_malloc0 (s->cluster_size);
  while (len > 0)
    {
      gsize n = (gsize) MIN (len, s->cluster_size - (offset & (s->cluster_size - 1)));
      guint64 entry;
      if (!lookup_entry (s, offset, &entry, error))
        return FALSE;
      if (!reads_as_zero (s, entry, offset) && !qcow2_write_data (s, offset, zeroes, n, error))
        return FALSE;
      offset += n;
      len -= n;
    }
  return TRUE;
}

typedef struct {
  guint64 off, len;
} Extent;

/* Whole clusters of one L2 table: new entries, then (after the table is on
 * disk) drop the old host clusters. */
static gboolean
zero_clusters_in_table (Qcow2 *s, guint64 offset, guint64 end, gboolean discard,
                        gboolean may_unmap, GError **error)
{
  g_autoptr (GArray) frees = g_array_new (FALSE, FALSE, sizeof (Extent));
  Qcow2CacheEntry *t;
  guint idx;

  if (!qcow2_l2_lookup (s, offset, FALSE, &t, &idx, error))
    return FALSE;
  for (guint64 o = offset; o < end; o += s->cluster_size, idx++)
    {
      guint64 entry = t ? qcow2_l2_get (t, idx) : 0;
      guint64 new_entry;
      gboolean keep_host = FALSE;
      ClusterKind kind;
      if (!classify (s, entry, &kind, error))
        return FALSE;

      if (s->hdr.version < 3 && backing_covers (s, o))
        {
          /* No zero flag in v2: unmapping would expose the backing file. */
          if (discard)
            continue;
          if (!write_zero_bytes (s, o, MIN (s->cluster_size, s->base.size - o), error))
            return FALSE;
          if (!qcow2_l2_lookup (s, o, FALSE, &t, &idx, error))
            return FALSE;
          continue;
        }
      if (!discard && !may_unmap && kind == CL_NORMAL && (entry & QCOW2_OFLAG_COPIED))
        {
          keep_host = TRUE;
          if (s->hdr.version >= 3)
            new_entry = entry | QCOW2_OFLAG_ZERO;
          else
            {
              g_autofree guint8 *zeroes = g_malloc0 (s->cluster_size);
              if (!qcow2_write (s, entry & QCOW2_OFFSET_MASK, zeroes, s->cluster_size, TRUE,
                                error))
                return FALSE;
              continue;
            }
        }
      else
        new_entry = backing_covers (s, o) ? QCOW2_OFLAG_ZERO : 0;
      if (kind == CL_ZERO && !(entry & QCOW2_OFFSET_MASK) && new_entry == QCOW2_OFLAG_ZERO)
        continue;
      if (new_entry == entry)
        continue;
      if (t == NULL)
        {
          if (!qcow2_l2_lookup (s, o, TRUE, &t, &idx, error))
            return FALSE;
        }
      if (!keep_host && kind != CL_UNALLOCATED)
        {
          Extent x;
          qcow2_l2_entry_extent (s, entry, &x.off, &x.len);
          if (x.len)
            g_array_append_val (frees, x);
          if (kind == CL_COMPRESSED && s->zcache_desc == entry)
            s->zcache_desc = 0;
        }
      qcow2_l2_set (t, idx, new_entry);
    }
  if (frees->len == 0)
    return TRUE;
  if (!qcow2_l2_commit (s, t, error))
    return FALSE;
  for (guint i = 0; i < frees->len; i++)
    {
      Extent *x = &g_array_index (frees, Extent, i);
      if (!qcow2_free_range (s, x->off, x->len, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
qcow2_zero_or_discard (Qcow2 *s, guint64 offset, guint64 len, gboolean discard,
                       gboolean may_unmap, GError **error)
{
  const guint64 cs = s->cluster_size;
  guint64 end = offset + len;
  /* The disk's last cluster may be partial: covering to the end is whole. */
  guint64 whole_start = (offset + cs - 1) & ~(cs - 1);
  guint64 whole_end = end == s->base.size ? end : end & ~(cs - 1);

  if (whole_start >= whole_end)
    return discard ? TRUE : write_zero_bytes (s, offset, len, error);
  if (!discard && !write_zero_bytes (s, offset, whole_start - offset, error))
    return FALSE;
  while (whole_start < whole_end)
    {
      guint64 table_span = cs << s->l2_bits;
      guint64 table_end = MIN (whole_end, (whole_start & ~(table_span - 1)) + table_span);
      if (!zero_clusters_in_table (s, whole_start, table_end, discard, may_unmap, error))
        return FALSE;
      whole_start = table_end;
    }
  if (!discard && !write_zero_bytes (s, whole_end, end - whole_end, error))
    return FALSE;
  return TRUE;
}
