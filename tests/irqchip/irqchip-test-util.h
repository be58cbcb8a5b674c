/* Shared by the irqchip unit tests: a manual clock and snapshot helpers. */
#pragma once

#include <glib.h>

#include "vmm-core/log.h"
#include "vmm-core/snapshot-stream.h"
#include "vmm-core/timer.h"

typedef struct {
  GMutex lock;
  TimerQueue *q;
} TestClock;

static inline void
test_clock_init (TestClock *c)
{
  g_mutex_init (&c->lock);
  c->q = timer_queue_new_manual (&c->lock);
}

static inline void
test_clock_clear (TestClock *c)
{
  timer_queue_free (c->q);
  g_mutex_clear (&c->lock);
}

/* Move the clock to absolute time t (firing timers on the way). */
static inline void
test_clock_to (TestClock *c, int64_t t)
{
  int64_t now = timer_queue_now (c->q);
  g_assert_cmpint (t, >=, now);
  timer_queue_advance (c->q, t - now);
}

/* A reader over a stream with one section holding `len` raw bytes. */
static inline SnapReader *
test_raw_section (const char *name, uint32_t version, const void *data, size_t len)
{
  SnapWriter *w = snap_writer_new ();
  snap_section_begin (w, name, version);
  snap_put_bytes (w, data, len);
  snap_section_end (w);
  GBytes *b = snap_writer_finish (w);
  SnapReader *r = snap_reader_new (b, NULL);
  g_bytes_unref (b);
  g_assert_nonnull (r);
  return r;
}

/* Re-encode the first section of `full` with its payload cut to `keep`
 * bytes, or with byte `poke_at` replaced by `poke` (if poke_at < keep). */
static inline SnapReader *
test_mangled_section (GBytes *full, const char *name, size_t keep, size_t poke_at,
                      uint8_t poke)
{
  gsize size;
  const uint8_t *p = g_bytes_get_data (full, &size);
  /* Walk the stream to the named section. */
  size_t off = 0;
  while (off + 4 <= size)
    {
      uint32_t nlen = p[off] | p[off + 1] << 8 | p[off + 2] << 16 | (uint32_t) p[off + 3] << 24;
      const char *n = (const char *) p + off + 4;
      size_t voff = off + 4 + nlen;
      uint32_t version = p[voff] | p[voff + 1] << 8 | p[voff + 2] << 16
                         | (uint32_t) p[voff + 3] << 24;
      uint64_t plen = 0;
      for (int i = 7; i >= 0; i--)
        plen = plen << 8 | p[voff + 4 + i];
      const uint8_t *payload = p + voff + 12;
      if (nlen == strlen (name) && memcmp (n, name, nlen) == 0)
        {
          g_assert_cmpuint (keep, <=, plen);
          uint8_t *copy = g_memdup2 (payload, plen ? plen : 1);
          if (poke_at < keep)
            copy[poke_at] = poke;
          SnapReader *r = test_raw_section (name, version, copy, keep);
          g_free (copy);
          return r;
        }
      off = voff + 12 + plen;
    }
  g_assert_not_reached ();
  return NULL;
}

static inline size_t
test_section_size (GBytes *full, const char *name)
{
  gsize size;
  const uint8_t *p = g_bytes_get_data (full, &size);
  size_t off = 0;
  while (off + 4 <= size)
    {
      uint32_t nlen = p[off] | p[off + 1] << 8 | p[off + 2] << 16 | (uint32_t) p[off + 3] << 24;
      size_t voff = off + 4 + nlen;
      uint64_t plen = 0;
      for (int i = 7; i >= 0; i--)
        plen = plen << 8 | p[voff + 4 + i];
      if (nlen == strlen (name) && memcmp (p + off + 4, name, nlen) == 0)
        return plen;
      off = voff + 12 + plen;
    }
  g_assert_not_reached ();
  return 0;
}
