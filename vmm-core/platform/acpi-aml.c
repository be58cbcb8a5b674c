#include "vmm-core/platform/acpi-aml.h"

#include <stdarg.h>
#include <string.h>

enum {
  AML_ZERO = 0x00, AML_ONE = 0x01, AML_NAME = 0x08, AML_BYTE = 0x0a, AML_WORD = 0x0b,
  AML_DWORD = 0x0c, AML_STRING = 0x0d, AML_QWORD = 0x0e, AML_SCOPE = 0x10, AML_BUFFER = 0x11,
  AML_PACKAGE = 0x12, AML_METHOD = 0x14, AML_DUAL_NAME = 0x2e, AML_MULTI_NAME = 0x2f,
  AML_EXT = 0x5b, AML_EXT_DEVICE = 0x82, AML_RETURN = 0xa4,
};

static Aml *
aml_new (void)
{
  return g_byte_array_new ();
}

void
aml_free (Aml *a)
{
  if (a)
    g_byte_array_unref (a);
}

static void
put_u8 (Aml *a, uint8_t v)
{
  g_byte_array_append (a, &v, 1);
}

static void
put_le (Aml *a, uint64_t v, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    put_u8 (a, (uint8_t) (v >> (8 * i)));
}

/* Appends b (consumed) to a. */
static void
append (Aml *a, Aml *b)
{
  if (!b)
    return;
  g_byte_array_append (a, b->data, b->len);
  aml_free (b);
}

Aml *
aml_cat (Aml *first, ...)
{
  va_list ap;
  Aml *out = first ? first : aml_new ();
  va_start (ap, first);
  for (Aml *next = va_arg (ap, Aml *); next; next = va_arg (ap, Aml *))
    append (out, next);
  va_end (ap);
  return out;
}

unsigned
aml_pkglength (size_t len, uint8_t out[4])
{
  if (len + 1 < 0x40)
    {
      out[0] = (uint8_t) (len + 1);
      return 1;
    }
  for (unsigned n = 2; n <= 4; n++)
    {
      size_t total = len + n;
      if (total < (1ull << (4 + 8 * (n - 1))))
        {
          out[0] = (uint8_t) (((n - 1) << 6) | (total & 0x0f));
          for (unsigned i = 1; i < n; i++)
            out[i] = (uint8_t) (total >> (4 + 8 * (i - 1)));
          return n;
        }
    }
  g_error ("AML object too large (%zu bytes)", len); /* builder misuse, never guest input */
}

/* op [ext] PkgLength body (consumed). */
static Aml *
package_op (const uint8_t *op, unsigned op_len, Aml *body)
{
  Aml *a = aml_new ();
  uint8_t pl[4];
  size_t len = body ? body->len : 0;
  g_byte_array_append (a, op, op_len);
  g_byte_array_append (a, pl, aml_pkglength (len, pl));
  append (a, body);
  return a;
}

/* ---- names ---- */

static void
put_nameseg (Aml *a, const char *seg, size_t len)
{
  char s[4] = { '_', '_', '_', '_' };
  memcpy (s, seg, MIN (len, 4));
  g_byte_array_append (a, (const guint8 *) s, 4);
}

Aml *
aml_name (const char *path)
{
  Aml *a = aml_new ();
  if (*path == '\\')
    put_u8 (a, *path++);
  while (*path == '^')
    put_u8 (a, *path++);

  unsigned nsegs = *path ? 1 : 0;
  for (const char *p = path; *p; p++)
    nsegs += *p == '.';
  if (nsegs == 0)
    put_u8 (a, 0x00); /* NullName */
  else if (nsegs == 2)
    put_u8 (a, AML_DUAL_NAME);
  else if (nsegs > 2)
    {
      put_u8 (a, AML_MULTI_NAME);
      put_u8 (a, (uint8_t) nsegs);
    }
  while (*path)
    {
      const char *dot = strchr (path, '.');
      size_t len = dot ? (size_t) (dot - path) : strlen (path);
      put_nameseg (a, path, len);
      path += len + (dot ? 1 : 0);
    }
  return a;
}

/* ---- data ---- */

Aml *
aml_int (uint64_t v)
{
  Aml *a = aml_new ();
  if (v == 0)
    put_u8 (a, AML_ZERO);
  else if (v == 1)
    put_u8 (a, AML_ONE);
  else if (v <= 0xff)
    {
      put_u8 (a, AML_BYTE);
      put_le (a, v, 1);
    }
  else if (v <= 0xffff)
    {
      put_u8 (a, AML_WORD);
      put_le (a, v, 2);
    }
  else if (v <= 0xffffffff)
    {
      put_u8 (a, AML_DWORD);
      put_le (a, v, 4);
    }
  else
    {
      put_u8 (a, AML_QWORD);
      put_le (a, v, 8);
    }
  return a;
}

Aml *
aml_string (const char *s)
{
  Aml *a = aml_new ();
  put_u8 (a, AML_STRING);
  g_byte_array_append (a, (const guint8 *) s, (guint) strlen (s) + 1);
  return a;
}

Aml *
aml_buffer (const uint8_t *data, size_t len)
{
  Aml *body = aml_int (len);
  g_byte_array_append (body, data, (guint) len);
  const uint8_t op = AML_BUFFER;
  return package_op (&op, 1, body);
}

Aml *
aml_package (Aml *elements, unsigned count)
{
  g_assert (count <= 255); /* builder misuse */
  Aml *body = aml_new ();
  put_u8 (body, (uint8_t) count);
  append (body, elements);
  const uint8_t op = AML_PACKAGE;
  return package_op (&op, 1, body);
}

static unsigned
hexval (char c)
{
  return g_ascii_isdigit (c) ? (unsigned) (c - '0') : (unsigned) (g_ascii_toupper (c) - 'A' + 10);
}

Aml *
aml_eisaid (const char *id)
{
  g_assert (strlen (id) == 7); /* builder misuse */
  uint32_t v = (uint32_t) ((id[0] - 0x40) & 0x1f) << 26 | (uint32_t) ((id[1] - 0x40) & 0x1f) << 21
               | (uint32_t) ((id[2] - 0x40) & 0x1f) << 16 | hexval (id[3]) << 12
               | hexval (id[4]) << 8 | hexval (id[5]) << 4 | hexval (id[6]);
  Aml *a = aml_new ();
  put_u8 (a, AML_DWORD);
  put_le (a, GUINT32_SWAP_LE_BE (v), 4); /* stored big-endian */
  return a;
}

/* ---- namespace ---- */

Aml *
aml_name_decl (const char *path, Aml *value)
{
  Aml *a = aml_new ();
  put_u8 (a, AML_NAME);
  append (a, aml_name (path));
  append (a, value);
  return a;
}

Aml *
aml_scope (const char *path, Aml *body)
{
  const uint8_t op = AML_SCOPE;
  return package_op (&op, 1, aml_cat (aml_name (path), body, NULL));
}

Aml *
aml_device (const char *path, Aml *body)
{
  const uint8_t op[2] = { AML_EXT, AML_EXT_DEVICE };
  return package_op (op, 2, aml_cat (aml_name (path), body, NULL));
}

Aml *
aml_method (const char *path, unsigned nargs, bool serialized, Aml *body)
{
  const uint8_t op = AML_METHOD;
  Aml *head = aml_name (path);
  put_u8 (head, (uint8_t) ((nargs & 7) | (serialized ? 0x08 : 0)));
  return package_op (&op, 1, aml_cat (head, body, NULL));
}

Aml *
aml_return (Aml *value)
{
  Aml *a = aml_new ();
  put_u8 (a, AML_RETURN);
  append (a, value);
  return a;
}

/* ---- resource descriptors ---- */

Aml *
aml_resource_template (Aml *descriptors)
{
  Aml *d = descriptors ? descriptors : aml_new ();
  put_u8 (d, 0x79); /* End tag; checksum 0 means "not computed" */
  put_u8 (d, 0x00);
  Aml *buf = aml_buffer (d->data, d->len);
  aml_free (d);
  return buf;
}

Aml *
aml_res_io (uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
  Aml *a = aml_new ();
  put_u8 (a, 0x47); /* small item 0x08, length 7 */
  put_u8 (a, 0x01); /* 16-bit decode */
  put_le (a, min, 2);
  put_le (a, max, 2);
  put_u8 (a, align);
  put_u8 (a, len);
  return a;
}

Aml *
aml_res_irq_noflags (uint16_t mask)
{
  Aml *a = aml_new ();
  put_u8 (a, 0x22); /* small item 0x04, length 2: edge, active high */
  put_le (a, mask, 2);
  return a;
}

/* Word address space descriptor: producer, fixed min and max, positive decode. */
static Aml *
word_space (uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
  Aml *a = aml_new ();
  put_u8 (a, 0x88);
  put_le (a, 13, 2);
  put_u8 (a, type);
  put_u8 (a, 0x0c); /* MaxFixed | MinFixed, ResourceProducer */
  put_u8 (a, type_flags);
  put_le (a, 0, 2); /* granularity */
  put_le (a, min, 2);
  put_le (a, max, 2);
  put_le (a, 0, 2); /* translation */
  put_le (a, (uint32_t) max - min + 1, 2);
  return a;
}

Aml *
aml_res_word_bus_number (uint16_t min, uint16_t max)
{
  return word_space (2, 0, min, max);
}

Aml *
aml_res_word_io (uint16_t min, uint16_t max)
{
  return word_space (1, 0x03, min, max); /* EntireRange */
}

Aml *
aml_res_dword_memory (uint32_t min, uint32_t max, bool cacheable)
{
  Aml *a = aml_new ();
  put_u8 (a, 0x87);
  put_le (a, 23, 2);
  put_u8 (a, 0);    /* memory */
  put_u8 (a, 0x0c); /* MaxFixed | MinFixed, ResourceProducer */
  put_u8 (a, cacheable ? 0x03 : 0x01); /* read-write */
  put_le (a, 0, 4);
  put_le (a, min, 4);
  put_le (a, max, 4);
  put_le (a, 0, 4);
  put_le (a, (uint64_t) max - min + 1, 4);
  return a;
}

Aml *
aml_res_qword_memory (uint64_t min, uint64_t max, bool cacheable)
{
  Aml *a = aml_new ();
  put_u8 (a, 0x8a);
  put_le (a, 43, 2);
  put_u8 (a, 0);    /* memory */
  put_u8 (a, 0x0c); /* MaxFixed | MinFixed, ResourceProducer */
  put_u8 (a, cacheable ? 0x03 : 0x01);
  put_le (a, 0, 8);
  put_le (a, min, 8);
  put_le (a, max, 8);
  put_le (a, 0, 8);
  put_le (a, max - min + 1, 8);
  return a;
}
