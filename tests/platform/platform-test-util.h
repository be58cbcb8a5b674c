/* Shared helpers for the platform device tests: an IRQ router that records
 * line levels, and a save-then-load helper. Header-only (static inline). */
#pragma once

#include <string.h>
#include <gio/gio.h>

#include "vmm-core/irq.h"
#include "vmm-core/snapshot-stream.h"

typedef struct {
  bool level[32];
  unsigned raises[32]; /* low → high transitions per GSI */
} TestIrqs;

static inline void
test_irqs_set_level (void *opaque, unsigned gsi, bool level)
{
  TestIrqs *t = opaque;
  g_assert_cmpuint (gsi, <, 32);
  if (level && !t->level[gsi])
    t->raises[gsi]++;
  t->level[gsi] = level;
}

static inline IrqRouter
test_irqs_router (TestIrqs *t)
{
  memset (t, 0, sizeof *t);
  return (IrqRouter){ test_irqs_set_level, NULL, t };
}

/* A copy of the stream with `drop` bytes cut from the end of every section's
 * payload (and its length field adjusted), as a truncated save would be. */
static inline GBytes *
test_truncate_stream (GBytes *bytes, size_t drop)
{
  gsize size;
  const uint8_t *d = g_bytes_get_data (bytes, &size);
  GByteArray *out = g_byte_array_new ();
  size_t pos = 0;
  while (pos + 4 <= size)
    {
      uint32_t nlen = d[pos] | d[pos + 1] << 8 | d[pos + 2] << 16 | (uint32_t) d[pos + 3] << 24;
      size_t hdr = 4 + nlen + 4;
      uint64_t plen = 0;
      for (int i = 0; i < 8; i++)
        plen |= (uint64_t) d[pos + hdr + i] << (8 * i);
      uint64_t nplen = plen > drop ? plen - drop : 0;
      g_byte_array_append (out, d + pos, (guint) hdr);
      uint8_t le[8];
      for (int i = 0; i < 8; i++)
        le[i] = (uint8_t) (nplen >> (8 * i));
      g_byte_array_append (out, le, 8);
      g_byte_array_append (out, d + pos + hdr + 8, (guint) nplen);
      pos += hdr + 8 + plen;
    }
  return g_byte_array_free_to_bytes (out);
}
