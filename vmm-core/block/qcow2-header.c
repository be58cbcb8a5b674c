/* qcow2 header: parse and validate (every field is hostile), and build the
 * header cluster for new images. */
#include "qcow2.h"

#include <string.h>

typedef struct FeatureName {
  guint8 type; /* 0 incompatible, 1 compatible, 2 autoclear */
  guint8 bit;
  const char *name;
} FeatureName;

/* The names we write into new images and use when an image has none. */
static const FeatureName known_features[] = {
  { 0, 0, "dirty bit" },
  { 0, 1, "corrupt bit" },
  { 0, 2, "external data file" },
  { 0, 3, "compression type" },
  { 0, 4, "extended L2 entries" },
  { 1, 0, "lazy refcounts" },
  { 2, 0, "bitmaps" },
  { 2, 1, "raw external data" },
};

#define FEATURE_ENTRY_LEN 48

static guint32
be32_at (const guint8 *p)
{
  guint32 v;
  memcpy (&v, p, 4);
  return GUINT32_FROM_BE (v);
}

static void
put_be32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_BE (v);
  memcpy (p, &v, 4);
}

static gboolean
fail (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (GError **error, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "qcow2: %s", msg);
  return FALSE;
}

guint64
qcow2_l1_size_for (guint64 size, guint cluster_bits)
{
  guint shift = cluster_bits + (cluster_bits - 3);
  guint64 per_entry = 1ull << shift;
  if (size > G_MAXUINT64 - (per_entry - 1))
    return 0;
  return (size + per_entry - 1) >> shift;
}

static gboolean
ranges_overlap (guint64 a, guint64 alen, guint64 b, guint64 blen)
{
  return alen && blen && a < b + blen && b < a + alen;
}

/* Name an incompatible feature bit for the refusal message: the image's own
 * feature name table first, then ours. */
static const char *
feature_name (const guint8 *table, gsize table_len, guint bit, char *scratch)
{
  for (gsize off = 0; off + FEATURE_ENTRY_LEN <= table_len; off += FEATURE_ENTRY_LEN)
    {
      if (table[off] == 0 && table[off + 1] == bit)
        {
          memcpy (scratch, table + off + 2, FEATURE_ENTRY_LEN - 2);
          scratch[FEATURE_ENTRY_LEN - 2] = '\0';
          for (char *c = scratch; *c; c++)
            if (!g_ascii_isprint (*c))
              *c = '?';
          return scratch;
        }
    }
  for (gsize i = 0; i < G_N_ELEMENTS (known_features); i++)
    {
      if (known_features[i].type == 0 && known_features[i].bit == bit)
        return known_features[i].name;
    }
  g_snprintf (scratch, FEATURE_ENTRY_LEN, "unknown feature bit %u", bit);
  return scratch;
}

static gboolean
parse_extensions (const guint8 *buf, gsize start, gsize limit, Qcow2Header *h,
                  const guint8 **features, gsize *features_len, GError **error)
{
  gsize pos = start;
  while (pos + 8 <= limit)
    {
      guint32 type = be32_at (buf + pos);
      guint32 len = be32_at (buf + pos + 4);
      if (type == QCOW2_EXT_END)
        return TRUE;
      if (len > limit - pos - 8)
        return fail (error, "header extension 0x%08x overruns the header cluster", type);
      if (type == QCOW2_EXT_BACKING_FORMAT)
        {
          if (len == 0 || len > 255 || memchr (buf + pos + 8, 0, len))
            return fail (error, "invalid backing format extension");
          g_free (h->backing_format);
          h->backing_format = g_strndup ((const char *) buf + pos + 8, len);
        }
      else if (type == QCOW2_EXT_FEATURE_NAMES)
        {
          *features = buf + pos + 8;
          *features_len = len;
        }
      pos += 8 + (((gsize) len + 7) & ~(gsize) 7);
    }
  /* Running into the backing name or the cluster end ends the list too. */
  return TRUE;
}

gboolean
qcow2_header_parse (const guint8 *buf, gsize len, guint64 file_size, Qcow2Header *h,
                    GError **error)
{
  guint64 cs, l1_bytes, rt_bytes, need_l1;
  gsize ext_start, ext_limit;
  const guint8 *features = NULL;
  gsize features_len = 0;
  guint64 unsupported;

  memset (h, 0, sizeof *h);
  if (len < QCOW2_V2_HEADER_LEN || be32_at (buf) != QCOW2_MAGIC)
    return fail (error, "not a qcow2 image (bad magic)");
  h->version = be32_at (buf + 4);
  h->backing_file_offset = qcow2_be64 (buf + 8);
  h->backing_file_size = be32_at (buf + 16);
  h->cluster_bits = be32_at (buf + 20);
  h->size = qcow2_be64 (buf + 24);
  h->crypt_method = be32_at (buf + 32);
  h->l1_size = be32_at (buf + 36);
  h->l1_table_offset = qcow2_be64 (buf + 40);
  h->refcount_table_offset = qcow2_be64 (buf + 48);
  h->refcount_table_clusters = be32_at (buf + 56);
  h->nb_snapshots = be32_at (buf + 60);
  h->snapshots_offset = qcow2_be64 (buf + 64);

  if (h->version != 2 && h->version != 3)
    return fail (error, "unsupported version %u (only 2 and 3)", h->version);
  if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS || h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
    return fail (error, "unsupported cluster size 2^%u (512 bytes to 2 MiB)", h->cluster_bits);
  cs = 1ull << h->cluster_bits;

  if (h->version == 2)
    {
      h->refcount_order = 4;
      h->header_length = QCOW2_V2_HEADER_LEN;
    }
  else
    {
      if (len < QCOW2_V3_HEADER_LEN)
        return fail (error, "truncated version 3 header");
      h->incompatible_features = qcow2_be64 (buf + 72);
      h->compatible_features = qcow2_be64 (buf + 80);
      h->autoclear_features = qcow2_be64 (buf + 88);
      h->refcount_order = be32_at (buf + 96);
      h->header_length = be32_at (buf + 100);
      if (h->header_length < QCOW2_V3_HEADER_LEN || h->header_length % 8 != 0
          || h->header_length > cs || h->header_length > len)
        return fail (error, "invalid header length %u", h->header_length);
      if (h->header_length > 104)
        h->compression_type = buf[104];
    }
  if (h->refcount_order > 6)
    return fail (error, "invalid refcount order %u (at most 6: 64-bit refcounts)",
                 h->refcount_order);

  /* Extensions sit between the header and the backing name (or the end of
   * the first cluster). */
  ext_start = h->header_length;
  ext_limit = MIN (cs, len);
  if (h->backing_file_offset != 0)
    {
      if (h->backing_file_size == 0 || h->backing_file_size > QCOW2_MAX_BACKING_NAME)
        return fail (error, "invalid backing file name length %u", h->backing_file_size);
      if (h->backing_file_offset < ext_start || h->backing_file_offset > ext_limit
          || h->backing_file_size > ext_limit - h->backing_file_offset)
        return fail (error, "backing file name lies outside the header cluster");
      if (memchr (buf + h->backing_file_offset, 0, h->backing_file_size))
        return fail (error, "backing file name contains a NUL byte");
      h->backing_file = g_strndup ((const char *) buf + h->backing_file_offset,
                                   h->backing_file_size);
      ext_limit = h->backing_file_offset;
    }
  if (!parse_extensions (buf, ext_start, ext_limit, h, &features, &features_len, error))
    goto err;

  unsupported = h->incompatible_features & ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT);
  if (unsupported)
    {
      char scratch[FEATURE_ENTRY_LEN];
      guint bit = (guint) __builtin_ctzll (unsupported);
      fail (error, "image uses an unsupported feature: %s",
            feature_name (features, features_len, bit, scratch));
      goto err;
    }
  if (h->compression_type != 0)
    {
      fail (error, "compression type %u set without its feature bit", h->compression_type);
      goto err;
    }
  if (h->crypt_method != 0)
    {
      fail (error, "encrypted images are not supported");
      goto err;
    }

  need_l1 = qcow2_l1_size_for (h->size, h->cluster_bits);
  if (h->size > (1ull << 61) || need_l1 > QCOW2_MAX_L1_BYTES / 8)
    {
      fail (error, "disk size %" G_GUINT64_FORMAT " too large for the cluster size", h->size);
      goto err;
    }
  if (h->l1_size < need_l1 || h->l1_size > QCOW2_MAX_L1_BYTES / 8)
    {
      fail (error, "L1 table size %u does not fit the disk size", h->l1_size);
      goto err;
    }
  l1_bytes = (guint64) h->l1_size * 8;
  if (h->l1_size > 0
      && (h->l1_table_offset % cs != 0 || h->l1_table_offset == 0
          || h->l1_table_offset > file_size || l1_bytes > file_size - h->l1_table_offset))
    {
      fail (error, "L1 table at 0x%" G_GINT64_MODIFIER "x lies outside the file or is misaligned",
            h->l1_table_offset);
      goto err;
    }
  rt_bytes = (guint64) h->refcount_table_clusters << h->cluster_bits;
  if (h->refcount_table_clusters == 0 || rt_bytes > QCOW2_MAX_REFTABLE_BYTES
      || h->refcount_table_offset % cs != 0 || h->refcount_table_offset == 0
      || h->refcount_table_offset > file_size || rt_bytes > file_size - h->refcount_table_offset)
    {
      fail (error, "refcount table at 0x%" G_GINT64_MODIFIER "x (%u clusters) is invalid",
            h->refcount_table_offset, h->refcount_table_clusters);
      goto err;
    }
  if (ranges_overlap (h->l1_table_offset, l1_bytes, h->refcount_table_offset, rt_bytes))
    {
      fail (error, "L1 table and refcount table overlap");
      goto err;
    }
  if (h->nb_snapshots > 0 && (h->snapshots_offset % cs != 0 || h->snapshots_offset == 0))
    {
      fail (error, "snapshot table is misaligned");
      goto err;
    }
  return TRUE;

err:
  qcow2_header_clear (h);
  return FALSE;
}

gboolean
qcow2_header_check_writable (const Qcow2Header *h, GError **error)
{
  if (h->incompatible_features & QCOW2_INCOMPAT_CORRUPT)
    return fail (error, "image is marked corrupt; repair it with 'qemu-img check -r all' "
                        "or open it read-only");
  if (h->incompatible_features & QCOW2_INCOMPAT_DIRTY)
    return fail (error, "image was not closed cleanly (dirty bit, lazy refcounts); run "
                        "'qemu-img check -r all' first or open it read-only");
  if (h->nb_snapshots > 0)
    return fail (error, "image has %u internal snapshots; Vireo writes only images without "
                        "them (open it read-only, or use an overlay)", h->nb_snapshots);
  return TRUE;
}

static gsize
put_extension (guint8 *buf, gsize pos, guint32 type, const void *data, guint32 len)
{
  put_be32 (buf + pos, type);
  put_be32 (buf + pos + 4, len);
  if (len)
    memcpy (buf + pos + 8, data, len);
  return pos + 8 + ((len + 7u) & ~7u);
}

static gsize
header_bytes_needed (const Qcow2Header *h, gboolean with_features)
{
  gsize n = 112 + 8;
  if (h->backing_format)
    n += 8 + ((strlen (h->backing_format) + 7) & ~(gsize) 7);
  if (with_features)
    n += 8 + G_N_ELEMENTS (known_features) * FEATURE_ENTRY_LEN;
  if (h->backing_file)
    n += strlen (h->backing_file);
  return n;
}

gboolean
qcow2_header_build (const Qcow2Header *h, guint8 *buf, gsize cluster_size, GError **error)
{
  gsize pos;
  gboolean with_features = header_bytes_needed (h, TRUE) <= cluster_size;

  if (header_bytes_needed (h, FALSE) > cluster_size)
    return fail (error, "backing file name too long for the cluster size");
  if (h->backing_file && strlen (h->backing_file) > QCOW2_MAX_BACKING_NAME)
    return fail (error, "backing file name longer than %d bytes", QCOW2_MAX_BACKING_NAME);

  memset (buf, 0, cluster_size);
  put_be32 (buf, QCOW2_MAGIC);
  put_be32 (buf + 4, 3);
  put_be32 (buf + 20, h->cluster_bits);
  qcow2_put_be64 (buf + 24, h->size);
  put_be32 (buf + 36, h->l1_size);
  qcow2_put_be64 (buf + 40, h->l1_table_offset);
  qcow2_put_be64 (buf + 48, h->refcount_table_offset);
  put_be32 (buf + 56, h->refcount_table_clusters);
  qcow2_put_be64 (buf + 72, h->incompatible_features);
  qcow2_put_be64 (buf + 80, h->compatible_features);
  qcow2_put_be64 (buf + 88, h->autoclear_features);
  put_be32 (buf + 96, h->refcount_order);
  put_be32 (buf + 100, 112); /* with the compression_type field (0: zlib) */

  pos = 112;
  if (h->backing_format)
    pos = put_extension (buf, pos, QCOW2_EXT_BACKING_FORMAT, h->backing_format,
                         (guint32) strlen (h->backing_format));
  if (with_features)
    {
      guint8 table[G_N_ELEMENTS (known_features) * FEATURE_ENTRY_LEN] = { 0 };
      for (gsize i = 0; i < G_N_ELEMENTS (known_features); i++)
        {
          guint8 *e = table + i * FEATURE_ENTRY_LEN;
          e[0] = known_features[i].type;
          e[1] = known_features[i].bit;
          memcpy (e + 2, known_features[i].name, strlen (known_features[i].name));
        }
      pos = put_extension (buf, pos, QCOW2_EXT_FEATURE_NAMES, table, sizeof table);
    }
  pos = put_extension (buf, pos, QCOW2_EXT_END, NULL, 0);
  if (h->backing_file)
    {
      gsize n = strlen (h->backing_file);
      memcpy (buf + pos, h->backing_file, n);
      qcow2_put_be64 (buf + 8, pos);
      put_be32 (buf + 16, (guint32) n);
    }
  return TRUE;
}

void
qcow2_header_clear (Qcow2Header *h)
{
  g_clear_pointer (&h->backing_file, g_free);
  g_clear_pointer (&h->backing_format, g_free);
}
