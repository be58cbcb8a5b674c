#include "vmm-core/snapshot-stream.h"

#include <string.h>
#include <gio/gio.h>

struct SnapWriter {
  GByteArray *buf;
  gssize section_len_at; /* offset of the open section's payload_len, or -1 */
};

typedef struct {
  char *name;
  uint32_t version;
  size_t offset; /* payload start */
  size_t len;
} SnapSection;

struct SnapReader {
  GBytes *bytes;
  const uint8_t *data;
  GArray *sections; /* SnapSection */
  const SnapSection *cur;
  size_t pos; /* within cur */
  bool overrun;
};

SnapWriter *
snap_writer_new (void)
{
  SnapWriter *w = g_new0 (SnapWriter, 1);
  w->buf = g_byte_array_new ();
  w->section_len_at = -1;
  return w;
}

void
snap_writer_free (SnapWriter *w)
{
  if (!w)
    return;
  g_byte_array_unref (w->buf);
  g_free (w);
}

static void
put_le (SnapWriter *w, uint64_t v, unsigned n)
{
  uint8_t b[8];
  for (unsigned i = 0; i < n; i++)
    b[i] = (uint8_t) (v >> (8 * i));
  g_byte_array_append (w->buf, b, n);
}

void snap_put_u8 (SnapWriter *w, uint8_t v) { put_le (w, v, 1); }
void snap_put_u16 (SnapWriter *w, uint16_t v) { put_le (w, v, 2); }
void snap_put_u32 (SnapWriter *w, uint32_t v) { put_le (w, v, 4); }
void snap_put_u64 (SnapWriter *w, uint64_t v) { put_le (w, v, 8); }

void
snap_put_bytes (SnapWriter *w, const void *data, size_t len)
{
  g_byte_array_append (w->buf, data, (guint) len);
}

void
snap_section_begin (SnapWriter *w, const char *name, uint32_t version)
{
  g_return_if_fail (w->section_len_at < 0);
  size_t n = strlen (name);
  put_le (w, n, 4);
  snap_put_bytes (w, name, n);
  put_le (w, version, 4);
  w->section_len_at = w->buf->len;
  put_le (w, 0, 8);
}

void
snap_section_end (SnapWriter *w)
{
  g_return_if_fail (w->section_len_at >= 0);
  uint64_t len = w->buf->len - (size_t) w->section_len_at - 8;
  for (unsigned i = 0; i < 8; i++)
    w->buf->data[w->section_len_at + i] = (uint8_t) (len >> (8 * i));
  w->section_len_at = -1;
}

GBytes *
snap_writer_finish (SnapWriter *w)
{
  g_return_val_if_fail (w->section_len_at < 0, NULL);
  GBytes *b = g_byte_array_free_to_bytes (w->buf);
  g_free (w);
  return b;
}

static uint64_t
get_le (const uint8_t *p, unsigned n)
{
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++)
    v |= (uint64_t) p[i] << (8 * i);
  return v;
}

static void
section_clear (gpointer p)
{
  g_free (((SnapSection *) p)->name);
}

SnapReader *
snap_reader_new (GBytes *bytes, GError **error)
{
  SnapReader *r = g_new0 (SnapReader, 1);
  gsize size;
  size_t pos = 0;

  r->bytes = g_bytes_ref (bytes);
  r->data = g_bytes_get_data (bytes, &size);
  r->sections = g_array_new (FALSE, TRUE, sizeof (SnapSection));
  g_array_set_clear_func (r->sections, section_clear);

  while (pos < size)
    {
      SnapSection s;
      if (size - pos < 4)
        goto bad;
      uint64_t nlen = get_le (r->data + pos, 4);
      pos += 4;
      if (nlen == 0 || nlen > 256 || size - pos < nlen + 12)
        goto bad;
      s.name = g_strndup ((const char *) r->data + pos, nlen);
      pos += nlen;
      s.version = (uint32_t) get_le (r->data + pos, 4);
      s.len = get_le (r->data + pos + 4, 8);
      pos += 12;
      if (s.len > size - pos)
        {
          g_free (s.name);
          goto bad;
        }
      s.offset = pos;
      pos += s.len;
      g_array_append_val (r->sections, s);
    }
  return r;

bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "device state is malformed at byte %zu", pos);
  snap_reader_free (r);
  return NULL;
}

void
snap_reader_free (SnapReader *r)
{
  if (!r)
    return;
  g_array_unref (r->sections);
  g_bytes_unref (r->bytes);
  g_free (r);
}

static const SnapSection *
find (SnapReader *r, const char *name)
{
  for (guint i = 0; i < r->sections->len; i++)
    {
      const SnapSection *s = &g_array_index (r->sections, SnapSection, i);
      if (strcmp (s->name, name) == 0)
        return s;
    }
  return NULL;
}

bool
snap_reader_has (SnapReader *r, const char *name)
{
  return find (r, name) != NULL;
}

bool
snap_reader_open (SnapReader *r, const char *name, uint32_t max_version,
                  uint32_t *version, GError **error)
{
  const SnapSection *s = find (r, name);
  if (!s)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "device state has no section '%s'", name);
      return false;
    }
  if (s->version > max_version)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "device state section '%s' has version %u, newer than %u",
                   name, s->version, max_version);
      return false;
    }
  r->cur = s;
  r->pos = 0;
  r->overrun = false;
  if (version)
    *version = s->version;
  return true;
}

static const uint8_t *
take (SnapReader *r, size_t n)
{
  if (!r->cur || r->cur->len - r->pos < n)
    {
      r->overrun = true;
      return NULL;
    }
  const uint8_t *p = r->data + r->cur->offset + r->pos;
  r->pos += n;
  return p;
}


uint8_t snap_get_u8 (SnapReader *r) { const uint8_t *p = take (r, 1); return p ? p[0] : 0; }
uint16_t snap_get_u16 (SnapReader *r) { const uint8_t *p = take (r, 2); return p ? (uint16_t) get_le (p, 2) : 0; }
uint32_t snap_get_u32 (SnapReader *r) { const uint8_t *p = take (r, 4); return p ? (uint32_t) get_le (p, 4) : 0; }
uint64_t snap_get_u64 (SnapReader *r) { const uint8_t *p = take (r, 8); return p ? get_le (p, 8) : 0; }

void
snap_get_bytes (SnapReader *r, void *data, size_t len)
{
  const uint8_t *p = take (r, len);
  if (p)
    memcpy (data, p, len);
  else
    memset (data, 0, len);
}

size_t
snap_remaining (SnapReader *r)
{
  return r->cur ? r->cur->len - r->pos : 0;
}

bool
snap_reader_check (SnapReader *r, GError **error)
{
  if (r->overrun)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "device state section '%s' is truncated",
                   r->cur ? r->cur->name : "?");
      return false;
    }
  return true;
}
