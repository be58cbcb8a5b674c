/* Snapshots of a live VM: see vm-snapshot.h. */
#include "vmm-core/snapshot/vm-snapshot.h"

#include <glib/gstdio.h>
#include <gio/gio.h>

/* Revert copies from a mapping of the file: the fastest of the three in
 * bench/snapshot-revert (1 GiB on ext4, loaded 2-core host: warm cache
 * 0.51 s vs 0.55 s pread and 0.56 s copy_file_range; cold cache 1.24 s vs
 * 1.83 s and 1.98 s). The verification before the pause warms the cache.
 *
 * The take pause writes RAM into the page cache (0.74 s per GiB there) and
 * fsyncs after resume. Pre-copying RAM while the guest runs would shorten
 * it, but the dirty log only sees vCPU writes, not device DMA into guest
 * RAM, so it is not done. */
#define REVERT_LOAD_METHOD STATE_LOAD_MMAP

static const char *
engine_name (Machine *m)
{
  Engine *e = machine_engine (m);
  return e && e->ops && e->ops->name ? e->ops->name : "unknown";
}

/* Detaches every disk, flushing and closing its image. */
static gboolean
detach_disks (const VmDisks *disks, GError **error)
{
  gboolean ok = TRUE;
  for (guint i = 0; disks && i < disks->count; i++)
    {
      BlockDev *old = disks->swap (disks->opaque, i, NULL);
      if (old)
        {
          if (ok && !block_is_read_only (old) && !block_flush (old, error))
            ok = FALSE;
          block_close (old);
        }
    }
  return ok;
}

/* Opens the tree's running images and gives them to the devices. */
static gboolean
attach_disks (const VmDisks *disks, SnapshotTree *tree, GError **error)
{
  if (!disks)
    return TRUE;
  g_auto (GStrv) paths = snapshot_tree_get_running_disks (tree);
  if (g_strv_length (paths) != disks->count)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the VM has %u disks but its snapshot tree %u", disks->count,
                   g_strv_length (paths));
      return FALSE;
    }
  g_autofree BlockDev **opened = g_new0 (BlockDev *, disks->count + 1);
  for (guint i = 0; i < disks->count; i++)
    {
      opened[i] = block_open (paths[i], NULL, 0, error);
      if (!opened[i])
        {
          while (i-- > 0)
            block_close (opened[i]);
          return FALSE;
        }
    }
  for (guint i = 0; i < disks->count; i++)
    {
      BlockDev *old = disks->swap (disks->opaque, i, opened[i]);
      if (old)
        block_close (old);
    }
  return TRUE;
}

static gboolean
flush_disks (const VmDisks *disks, GError **error)
{
  /* Swap out and back in: the only access to the device's image we have. */
  for (guint i = 0; disks && i < disks->count; i++)
    {
      BlockDev *bs = disks->swap (disks->opaque, i, NULL);
      gboolean ok = !bs || block_is_read_only (bs) || block_flush (bs, error);
      disks->swap (disks->opaque, i, bs);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* sync false: no fsync while the guest waits (see state_file_write_nosync). */
static bool
write_state (Machine *m, const char *path, uint32_t flags, bool sync, GError **error)
{
  g_autoptr (GBytes) state = machine_save_state (m, error);
  if (!state)
    return false;
  return (sync ? state_file_write : state_file_write_nosync) (
      path, machine_ram (m), state, machine_cpu_count (m), engine_name (m), flags, error);
}

char *
vm_snapshot_take (Machine *m, const VmDisks *disks, SnapshotTree *tree, const char *name,
                  const char *description, GBytes *thumbnail_png, gint64 *pause_us,
                  GError **error)
{
  g_autofree char *id = snapshot_tree_new_id (tree);
  g_autofree char *state_path = snapshot_tree_state_path (tree, id);
  g_autofree char *thumb_path = snapshot_tree_thumbnail_path (tree, id);
  gboolean thumb = FALSE;
  gboolean ok;
  gint64 t0;

  if (pause_us)
    *pause_us = 0;
  if (thumbnail_png)
    {
      gsize len;
      const char *png = g_bytes_get_data (thumbnail_png, &len);
      if (!g_file_set_contents (thumb_path, png, (gssize) len, error))
        return NULL;
      thumb = TRUE;
    }
  if (!m)
    {
      if (!snapshot_tree_take (tree, id, name, description, FALSE, thumb, error))
        {
          g_unlink (thumb_path);
          return NULL;
        }
      return g_steal_pointer (&id);
    }

  machine_pause (m);
  t0 = g_get_monotonic_time ();
  ok = write_state (m, state_path, 0, false, error) && detach_disks (disks, error);
  if (ok)
    {
      ok = snapshot_tree_take (tree, id, name, description, TRUE, thumb, error);
      if (!ok)
        g_unlink (state_path);
    }
  else
    g_unlink (state_path);
  if (!ok)
    g_unlink (thumb_path);
  /* Success: the new overlays; failure: the old images, unchanged. Either
   * way the VM gets disks back before it runs again. */
  g_autoptr (GError) attach_error = NULL;
  if (!attach_disks (disks, tree, &attach_error))
    {
      /* The VM cannot run without its disks: stay paused, say why. */
      if (ok)
        g_propagate_error (error, g_steal_pointer (&attach_error));
      return NULL;
    }
  if (pause_us)
    *pause_us = g_get_monotonic_time () - t0;
  machine_resume (m);
  /* Durable now, while the guest runs. A failure only means a power loss
   * could leave the memory state unusable (its checksums would refuse it):
   * the snapshot stands, say so. */
  g_autoptr (GError) sync_error = NULL;
  if (ok && !state_file_sync (state_path, &sync_error))
    g_printerr ("vireo: snapshot %s: %s\n", id, sync_error->message);
  return ok ? g_steal_pointer (&id) : NULL;
}

static StateFile *
open_checked_state (Machine *m, const char *path, GError **error)
{
  GuestRam *ram = machine_ram (m);
  StateFile *sf = state_file_open (path, error);
  if (!sf)
    return NULL;
  if (!state_file_check_machine (sf, ram->size, ram->low_size, ram->high_size,
                                 machine_cpu_count (m), error)
      || !state_file_verify_ram (sf, error))
    {
      state_file_close (sf);
      return NULL;
    }
  return sf;
}

gboolean
vm_snapshot_revert (Machine *m, const VmDisks *disks, SnapshotTree *tree, const char *id,
                    gint64 *pause_us, GError **error)
{
  const SnapshotNode *n = snapshot_tree_lookup (tree, id);
  StateFile *sf = NULL;
  gboolean ok;

  if (pause_us)
    *pause_us = 0;
  if (!n)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no snapshot %s", id);
      return FALSE;
    }
  if (!m)
    return snapshot_tree_revert (tree, id, error);
  if (!n->state_file)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "snapshot \"%s\" holds no memory state; power the VM off to revert to it",
                   n->name);
      return FALSE;
    }
  /* Everything that can refuse the file happens before the guest stops. */
  g_autofree char *state_path = snapshot_tree_path (tree, n->state_file);
  sf = open_checked_state (m, state_path, error);
  if (!sf)
    return FALSE;

  machine_pause (m);
  gint64 t0 = g_get_monotonic_time ();
  ok = detach_disks (disks, error) && snapshot_tree_revert (tree, id, error);
  g_autoptr (GError) attach_error = NULL;
  if (!attach_disks (disks, tree, &attach_error))
    {
      if (ok)
        g_propagate_error (error, g_steal_pointer (&attach_error));
      state_file_close (sf);
      return FALSE; /* stays paused: no disks to run on */
    }
  if (ok)
    {
      g_autoptr (GBytes) dev = state_file_get_device_state (sf);
      ok = state_file_load_ram (sf, machine_ram (m), REVERT_LOAD_METHOD, false, error)
           && machine_load_state (m, dev, error);
      if (!ok)
        {
          /* RAM or devices half-loaded: the guest must not run on them. */
          state_file_close (sf);
          return FALSE;
        }
    }
  state_file_close (sf);
  if (pause_us)
    *pause_us = g_get_monotonic_time () - t0;
  machine_resume (m);
  return ok;
}

gboolean
vm_snapshot_delete (Machine *m, const VmDisks *disks, SnapshotTree *tree, const char *id,
                    GError **error)
{
  gboolean touches_running = g_strcmp0 (snapshot_tree_get_current (tree), id) == 0;
  if (!m || !touches_running)
    return snapshot_tree_delete (tree, id, error);
  machine_pause (m);
  gboolean ok = detach_disks (disks, error) && snapshot_tree_delete (tree, id, error);
  g_autoptr (GError) attach_error = NULL;
  if (!attach_disks (disks, tree, &attach_error))
    {
      if (ok)
        g_propagate_error (error, g_steal_pointer (&attach_error));
      return FALSE;
    }
  machine_resume (m);
  return ok;
}

gboolean
vm_snapshot_restore_state (Machine *m, const char *state_path, GError **error)
{
  StateFile *sf = open_checked_state (m, state_path, error);
  if (!sf)
    return FALSE;
  g_autoptr (GBytes) dev = state_file_get_device_state (sf);
  gboolean ok = state_file_load_ram (sf, machine_ram (m), REVERT_LOAD_METHOD, false, error)
                && machine_load_state (m, dev, error);
  state_file_close (sf);
  return ok;
}

gboolean
vm_snapshot_suspend (Machine *m, const VmDisks *disks, const char *state_path, GError **error)
{
  machine_pause (m);
  if (flush_disks (disks, error) && write_state (m, state_path, STATE_FILE_FLAG_SUSPEND, true, error))
    return TRUE;
  machine_resume (m); /* not suspended: keep running */
  return FALSE;
}
