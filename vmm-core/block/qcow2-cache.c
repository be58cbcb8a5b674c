/* Write-back cache of cluster-sized metadata (L2 tables, refcount blocks).
 * Entries stay in big-endian file order; a dirty entry is written only after
 * the cache's before_writeback hook has made its dependencies durable. */
#include "qcow2.h"
#include "block-file.h"

void
qcow2_cache_init (Qcow2Cache *c, guint n, gsize cluster_size,
                  gboolean (*before_writeback) (Qcow2 *, GError **),
                  gboolean writes_are_dependencies)
{
  c->writes_are_dependencies = writes_are_dependencies;
  c->entries = g_new0 (Qcow2CacheEntry, n);
  c->n = n;
  c->tick = 0;
  c->before_writeback = before_writeback;
  for (guint i = 0; i < n; i++)
    c->entries[i].data = g_malloc (cluster_size);
}

void
qcow2_cache_destroy (Qcow2Cache *c)
{
  for (guint i = 0; i < c->n; i++)
    g_free (c->entries[i].data);
  g_clear_pointer (&c->entries, g_free);
  c->n = 0;
}

gboolean
qcow2_cache_write_entry (Qcow2 *s, Qcow2Cache *c, Qcow2CacheEntry *e, GError **error)
{
  if (!e->dirty)
    return TRUE;
  if (c->before_writeback && !c->before_writeback (s, error))
    return FALSE;
  if (!qcow2_write (s, e->offset, e->data, s->cluster_size, c->writes_are_dependencies,
                    error))
    return FALSE;
  e->dirty = FALSE;
  return TRUE;
}

gboolean
qcow2_cache_flush (Qcow2 *s, Qcow2Cache *c, GError **error)
{
  for (guint i = 0; i < c->n; i++)
    {
      if (!qcow2_cache_write_entry (s, c, &c->entries[i], error))
        return FALSE;
    }
  return TRUE;
}

gboolean
qcow2_cache_is_dirty (Qcow2Cache *c)
{
  for (guint i = 0; i < c->n; i++)
    {
      if (c->entries[i].dirty)
        return TRUE;
    }
  return FALSE;
}

Qcow2CacheEntry *
qcow2_cache_get (Qcow2 *s, Qcow2Cache *c, guint64 offset, gboolean fresh, GError **error)
{
  Qcow2CacheEntry *victim = NULL;
  for (guint i = 0; i < c->n; i++)
    {
      Qcow2CacheEntry *e = &c->entries[i];
      if (e->offset == offset)
        {
          e->last_use = ++c->tick;
          if (fresh)
            memset (e->data, 0, s->cluster_size);
          return e;
        }
      if (victim == NULL || e->last_use < victim->last_use)
        victim = e;
    }
  if (!qcow2_cache_write_entry (s, c, victim, error))
    return NULL;
  victim->offset = 0;
  if (fresh)
    memset (victim->data, 0, s->cluster_size);
  else if (!block_file_pread (s->fd, victim->data, s->cluster_size, offset, error))
    return NULL;
  victim->offset = offset;
  victim->last_use = ++c->tick;
  return victim;
}
