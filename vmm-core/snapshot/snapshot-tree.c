/* The per-VM snapshot tree: see snapshot-tree.h. */
#include "vmm-core/snapshot/snapshot-tree.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "vmm-core/block/block.h"
#include "vmm-core/snapshot/qcow2-rebase.h"

#define TREE_VERSION 1
#define SNAP_DIR "snapshots"

struct SnapshotTree {
  char *vm_dir;
  char *current;       /* node id or NULL */
  char **running;      /* running top images, relative (or absolute) */
  GPtrArray *nodes;    /* SnapshotNode*, creation order */
};

void
snapshot_node_free (SnapshotNode *n)
{
  if (!n)
    return;
  g_free (n->id);
  g_free (n->parent);
  g_free (n->name);
  g_free (n->description);
  g_strfreev (n->disks);
  g_free (n->state_file);
  g_free (n->thumbnail);
  g_strfreev (n->clones);
  g_free (n);
}

static SnapshotNode *
node_copy (const SnapshotNode *n)
{
  SnapshotNode *c = g_new0 (SnapshotNode, 1);
  c->id = g_strdup (n->id);
  c->parent = g_strdup (n->parent);
  c->name = g_strdup (n->name);
  c->description = g_strdup (n->description);
  c->created = n->created;
  c->kind = n->kind;
  c->disks = g_strdupv (n->disks);
  c->state_file = g_strdup (n->state_file);
  c->thumbnail = g_strdup (n->thumbnail);
  c->clones = g_strdupv (n->clones ? n->clones : (char *[]){ NULL });
  return c;
}

void
snapshot_tree_free (SnapshotTree *t)
{
  if (!t)
    return;
  g_free (t->vm_dir);
  g_free (t->current);
  g_strfreev (t->running);
  g_ptr_array_unref (t->nodes);
  g_free (t);
}

char *
snapshot_tree_path (SnapshotTree *t, const char *rel)
{
  return g_path_is_absolute (rel) ? g_strdup (rel) : g_build_filename (t->vm_dir, rel, NULL);
}

static char *
tree_ini_path (SnapshotTree *t)
{
  return g_build_filename (t->vm_dir, SNAP_DIR, "tree.ini", NULL);
}

static gboolean
tree_error (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
tree_error (GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, msg);
  return FALSE;
}

static gboolean
valid_rel_name (const char *s)
{
  /* Names in tree.ini come from a file a user could edit: no escaping the
   * VM folder through "..". */
  return s && *s && !strstr (s, "..");
}

/* ---- load / save ---- */

static SnapshotNode *
node_from_keyfile (GKeyFile *kf, const char *group, guint ndisks, GError **error)
{
  SnapshotNode *n = g_new0 (SnapshotNode, 1);
  g_autofree char *kind = NULL;
  gsize count = 0;

  n->id = g_strdup (group + strlen ("node "));
  n->parent = g_key_file_get_string (kf, group, "parent", NULL);
  if (n->parent && !*n->parent)
    g_clear_pointer (&n->parent, g_free);
  n->name = g_key_file_get_string (kf, group, "name", NULL);
  n->description = g_key_file_get_string (kf, group, "description", NULL);
  n->created = g_key_file_get_int64 (kf, group, "created", NULL);
  kind = g_key_file_get_string (kf, group, "kind", NULL);
  n->kind = g_strcmp0 (kind, "disk+memory") == 0 ? SNAPSHOT_KIND_DISK_MEMORY : SNAPSHOT_KIND_DISK;
  n->disks = g_key_file_get_string_list (kf, group, "disks", &count, NULL);
  n->state_file = g_key_file_get_string (kf, group, "state", NULL);
  n->thumbnail = g_key_file_get_string (kf, group, "thumbnail", NULL);
  n->clones = g_key_file_get_string_list (kf, group, "clones", NULL, NULL);
  if (!n->clones)
    n->clones = g_new0 (char *, 1);
  if (n->state_file && !*n->state_file)
    g_clear_pointer (&n->state_file, g_free);
  if (n->thumbnail && !*n->thumbnail)
    g_clear_pointer (&n->thumbnail, g_free);
  gboolean ok = n->name && n->disks && count == ndisks && strlen (n->id) > 0;
  for (gsize i = 0; ok && i < count; i++)
    ok = g_path_is_absolute (n->disks[i]) || valid_rel_name (n->disks[i]);
  if (ok && n->state_file)
    ok = valid_rel_name (n->state_file);
  if (ok && n->thumbnail)
    ok = valid_rel_name (n->thumbnail);
  if (!ok)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "snapshot tree: node %s is incomplete or corrupt", n->id);
      snapshot_node_free (n);
      return NULL;
    }
  return n;
}

SnapshotTree *
snapshot_tree_load (const char *vm_dir, const char *const *disks, GError **error)
{
  g_autoptr (SnapshotTree) t = g_new0 (SnapshotTree, 1);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;

  t->vm_dir = g_canonicalize_filename (vm_dir, NULL);
  t->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) snapshot_node_free);
  g_autofree char *ini = tree_ini_path (t);
  if (!g_key_file_load_from_file (kf, ini, G_KEY_FILE_NONE, &local))
    {
      if (!g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", ini,
                       local->message);
          return NULL;
        }
      if (!disks || !disks[0])
        {
          tree_error (error, "%s: a VM needs at least one disk for snapshots", vm_dir);
          return NULL;
        }
      t->running = g_strdupv ((char **) disks);
      return g_steal_pointer (&t);
    }

  gint version = g_key_file_get_integer (kf, "tree", "version", NULL);
  if (version < 1 || version > TREE_VERSION)
    {
      tree_error (error, "%s: unsupported snapshot tree version %d", ini, version);
      return NULL;
    }
  gsize ndisks = 0;
  t->running = g_key_file_get_string_list (kf, "tree", "disks", &ndisks, NULL);
  if (!t->running || ndisks == 0)
    {
      tree_error (error, "%s: no running disks recorded", ini);
      return NULL;
    }
  t->current = g_key_file_get_string (kf, "tree", "current", NULL);
  if (t->current && !*t->current)
    g_clear_pointer (&t->current, g_free);

  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i]; i++)
    {
      if (!g_str_has_prefix (groups[i], "node "))
        continue;
      SnapshotNode *n = node_from_keyfile (kf, groups[i], (guint) ndisks, &local);
      if (!n)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", ini,
                       local->message);
          return NULL;
        }
      g_ptr_array_add (t->nodes, n);
    }
  /* Parents and "current" must name nodes that exist. */
  for (guint i = 0; i < t->nodes->len; i++)
    {
      SnapshotNode *n = t->nodes->pdata[i];
      if (n->parent && !snapshot_tree_lookup (t, n->parent))
        {
          tree_error (error, "%s: node %s has a missing parent %s", ini, n->id, n->parent);
          return NULL;
        }
    }
  if (t->current && !snapshot_tree_lookup (t, t->current))
    {
      tree_error (error, "%s: the current snapshot %s does not exist", ini, t->current);
      return NULL;
    }
  return g_steal_pointer (&t);
}

/* Writes the tree as it would be with `nodes`, `current` and `running`;
 * atomic (g_file_set_contents writes a temp file, fsyncs, renames). */
static gboolean
save_state (SnapshotTree *t, GPtrArray *nodes, const char *current, char **running,
            GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *dir = g_build_filename (t->vm_dir, SNAP_DIR, NULL);
  g_autofree char *ini = tree_ini_path (t);

  g_key_file_set_integer (kf, "tree", "version", TREE_VERSION);
  g_key_file_set_string (kf, "tree", "current", current ? current : "");
  g_key_file_set_string_list (kf, "tree", "disks", (const char *const *) running,
                              g_strv_length (running));
  for (guint i = 0; i < nodes->len; i++)
    {
      SnapshotNode *n = nodes->pdata[i];
      g_autofree char *g = g_strdup_printf ("node %s", n->id);
      g_key_file_set_string (kf, g, "parent", n->parent ? n->parent : "");
      g_key_file_set_string (kf, g, "name", n->name);
      g_key_file_set_string (kf, g, "description", n->description ? n->description : "");
      g_key_file_set_int64 (kf, g, "created", n->created);
      g_key_file_set_string (kf, g, "kind",
                             n->kind == SNAPSHOT_KIND_DISK_MEMORY ? "disk+memory" : "disk");
      g_key_file_set_string_list (kf, g, "disks", (const char *const *) n->disks,
                                  g_strv_length (n->disks));
      g_key_file_set_string (kf, g, "state", n->state_file ? n->state_file : "");
      g_key_file_set_string (kf, g, "thumbnail", n->thumbnail ? n->thumbnail : "");
      g_key_file_set_string_list (kf, g, "clones", (const char *const *) n->clones,
                                  g_strv_length (n->clones));
    }
  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot create %s: %s", dir,
                   g_strerror (e));
      return FALSE;
    }
  gsize len = 0;
  g_autofree char *data = g_key_file_to_data (kf, &len, NULL);
  return g_file_set_contents_full (ini, data, (gssize) len,
                                   G_FILE_SET_CONTENTS_CONSISTENT
                                       | G_FILE_SET_CONTENTS_DURABLE,
                                   0644, error);
}

/* Adopts the new state after a successful save. */
static void
commit_state (SnapshotTree *t, GPtrArray *nodes, const char *current, char **running)
{
  GPtrArray *old = t->nodes;
  t->nodes = g_ptr_array_ref (nodes);
  g_ptr_array_unref (old);
  if (current != t->current)
    {
      char *c = g_strdup (current);
      g_free (t->current);
      t->current = c;
    }
  if (running != t->running)
    {
      g_strfreev (t->running);
      t->running = g_strdupv (running);
    }
}

static GPtrArray *
nodes_copy (SnapshotTree *t)
{
  GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify) snapshot_node_free);
  for (guint i = 0; i < t->nodes->len; i++)
    g_ptr_array_add (a, node_copy (t->nodes->pdata[i]));
  return a;
}

/* ---- queries ---- */

const char *
snapshot_tree_get_vm_dir (SnapshotTree *t)
{
  return t->vm_dir;
}

const char *
snapshot_tree_get_current (SnapshotTree *t)
{
  return t->current;
}

char **
snapshot_tree_get_running_disks (SnapshotTree *t)
{
  guint n = g_strv_length (t->running);
  char **v = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    v[i] = snapshot_tree_path (t, t->running[i]);
  return v;
}

guint
snapshot_tree_get_disk_count (SnapshotTree *t)
{
  return g_strv_length (t->running);
}

GPtrArray *
snapshot_tree_list (SnapshotTree *t)
{
  return t->nodes;
}

static SnapshotNode *
find_in (GPtrArray *nodes, const char *id)
{
  for (guint i = 0; id && i < nodes->len; i++)
    if (strcmp (((SnapshotNode *) nodes->pdata[i])->id, id) == 0)
      return nodes->pdata[i];
  return NULL;
}

const SnapshotNode *
snapshot_tree_lookup (SnapshotTree *t, const char *id)
{
  return find_in (t->nodes, id);
}

char **
snapshot_tree_children (SnapshotTree *t, const char *id)
{
  GPtrArray *a = g_ptr_array_new ();
  for (guint i = 0; i < t->nodes->len; i++)
    {
      SnapshotNode *n = t->nodes->pdata[i];
      if (g_strcmp0 (n->parent, id) == 0)
        g_ptr_array_add (a, g_strdup (n->id));
    }
  g_ptr_array_add (a, NULL);
  return (char **) g_ptr_array_free (a, FALSE);
}

char *
snapshot_tree_new_id (SnapshotTree *t)
{
  for (;;)
    {
      char *id = g_strdup_printf ("%08x", g_random_int ());
      if (!snapshot_tree_lookup (t, id))
        return id;
      g_free (id);
    }
}

char *
snapshot_tree_state_path (SnapshotTree *t, const char *id)
{
  g_autofree char *base = g_strdup_printf ("%s.state", id);
  g_autofree char *dir = g_build_filename (t->vm_dir, SNAP_DIR, NULL);
  g_mkdir_with_parents (dir, 0755); /* the caller writes there next */
  return g_build_filename (dir, base, NULL);
}

char *
snapshot_tree_thumbnail_path (SnapshotTree *t, const char *id)
{
  g_autofree char *base = g_strdup_printf ("%s.png", id);
  g_autofree char *dir = g_build_filename (t->vm_dir, SNAP_DIR, NULL);
  g_mkdir_with_parents (dir, 0755); /* the caller writes there next */
  return g_build_filename (dir, base, NULL);
}

/* ---- disk helpers ---- */

/* How an overlay in snapshots/ names the image `rel` as its backing file. */
static char *
backing_name_from_snapdir (const char *rel)
{
  if (g_path_is_absolute (rel))
    return g_strdup (rel);
  if (g_str_has_prefix (rel, SNAP_DIR "/"))
    return g_strdup (rel + strlen (SNAP_DIR "/"));
  return g_strdup_printf ("../%s", rel);
}

/* Creates snapshots/ov-<random>.qcow2 on top of `backing` (relative name);
 * *rel_out gets the new overlay's relative name. */
static gboolean
create_overlay (SnapshotTree *t, const char *backing, char **rel_out, GError **error)
{
  g_autofree char *backing_abs = snapshot_tree_path (t, backing);
  const char *fmt = block_probe_format (backing_abs, error);
  if (!fmt)
    return FALSE;
  g_autofree char *dir = g_build_filename (t->vm_dir, SNAP_DIR, NULL);
  if (g_mkdir_with_parents (dir, 0755) < 0)
    return tree_error (error, "cannot create %s: %s", dir, g_strerror (errno));
  g_autofree char *bname = backing_name_from_snapdir (backing);
  /* Names are random; a leftover of an interrupted operation may hold one. */
  for (int attempt = 0;; attempt++)
    {
      g_autoptr (GError) local = NULL;
      g_autofree char *rel = g_strdup_printf (SNAP_DIR "/ov-%08x.qcow2", g_random_int ());
      g_autofree char *abs = snapshot_tree_path (t, rel);
      if (block_create_qcow2 (abs, 0, 0, bname, fmt, &local))
        {
          *rel_out = g_steal_pointer (&rel);
          return TRUE;
        }
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_EXISTS) || attempt >= 16)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
}

static void
unlink_all (SnapshotTree *t, char **rels)
{
  for (guint i = 0; rels && rels[i]; i++)
    {
      g_autofree char *abs = snapshot_tree_path (t, rels[i]);
      g_unlink (abs);
    }
}

/* Is `rel` an overlay we made (in snapshots/) that no node freezes? */
static gboolean
is_disposable_overlay (GPtrArray *nodes, const char *rel)
{
  if (!g_str_has_prefix (rel, SNAP_DIR "/"))
    return FALSE;
  for (guint i = 0; i < nodes->len; i++)
    {
      SnapshotNode *n = nodes->pdata[i];
      if (g_strv_contains ((const char *const *) n->disks, rel))
        return FALSE;
    }
  return TRUE;
}

/* ---- operations ---- */

gboolean
snapshot_tree_take (SnapshotTree *t, const char *id, const char *name,
                    const char *description, gboolean with_state, gboolean with_thumbnail,
                    GError **error)
{
  guint ndisks = g_strv_length (t->running);
  g_auto (GStrv) overlays = g_new0 (char *, ndisks + 1);

  if (!id || !*id || strchr (id, '/') || strstr (id, "..") || snapshot_tree_lookup (t, id))
    return tree_error (error, "snapshot id %s is invalid or already used", id ? id : "");
  for (guint i = 0; i < ndisks; i++)
    if (!create_overlay (t, t->running[i], &overlays[i], error))
      {
        unlink_all (t, overlays);
        return FALSE;
      }

  SnapshotNode *n = g_new0 (SnapshotNode, 1);
  n->id = g_strdup (id);
  n->parent = g_strdup (t->current);
  n->name = g_strdup (name && *name ? name : id);
  n->description = g_strdup (description ? description : "");
  n->created = g_get_real_time () / G_USEC_PER_SEC;
  n->kind = with_state ? SNAPSHOT_KIND_DISK_MEMORY : SNAPSHOT_KIND_DISK;
  n->disks = g_strdupv (t->running);
  n->state_file = with_state ? g_strdup_printf (SNAP_DIR "/%s.state", id) : NULL;
  n->thumbnail = with_thumbnail ? g_strdup_printf (SNAP_DIR "/%s.png", id) : NULL;
  n->clones = g_new0 (char *, 1);
  g_autoptr (GPtrArray) nodes = nodes_copy (t);
  g_ptr_array_add (nodes, n);
  if (!save_state (t, nodes, id, overlays, error))
    {
      unlink_all (t, overlays);
      return FALSE;
    }
  commit_state (t, nodes, id, overlays);
  return TRUE;
}

gboolean
snapshot_tree_revert (SnapshotTree *t, const char *id, GError **error)
{
  const SnapshotNode *n = snapshot_tree_lookup (t, id);
  if (!n)
    return tree_error (error, "no snapshot %s", id ? id : "(null)");
  guint ndisks = g_strv_length (t->running);
  g_auto (GStrv) overlays = g_new0 (char *, ndisks + 1);
  for (guint i = 0; i < ndisks; i++)
    if (!create_overlay (t, n->disks[i], &overlays[i], error))
      {
        unlink_all (t, overlays);
        return FALSE;
      }
  g_auto (GStrv) old = g_strdupv (t->running);
  if (!save_state (t, t->nodes, id, overlays, error))
    {
      unlink_all (t, overlays);
      return FALSE;
    }
  commit_state (t, t->nodes, id, overlays);
  for (guint i = 0; old[i]; i++)
    if (is_disposable_overlay (t->nodes, old[i]))
      {
        g_autofree char *abs = snapshot_tree_path (t, old[i]);
        g_unlink (abs);
      }
  return TRUE;
}

/* The backing file of the image at abs, as a name relative to the VM folder
 * (absolute if outside it); NULL with no backing. */
static gboolean
image_backing (SnapshotTree *t, const char *abs, char **rel, char **format, GError **error)
{
  BlockDev *bs = block_open (abs, NULL, BLOCK_OPEN_READ_ONLY, error);
  if (!bs)
    return FALSE;
  BlockInfo info = { 0 };
  block_get_info (bs, &info);
  *rel = NULL;
  *format = NULL;
  if (info.backing_file)
    {
      g_autofree char *dir = g_path_get_dirname (abs);
      g_autofree char *babs = g_canonicalize_filename (info.backing_file, dir);
      g_autofree char *prefix = g_strconcat (t->vm_dir, "/", NULL);
      *format = g_strdup (info.backing_format ? info.backing_format
                                              : block_probe_format (babs, NULL));
      *rel = g_str_has_prefix (babs, prefix) ? g_strdup (babs + strlen (prefix))
                                             : g_steal_pointer (&babs);
    }
  block_info_clear (&info);
  block_close (bs);
  return TRUE;
}

/* Every image of disk d in the tree (nodes' frozen images, the running
 * overlay) whose backing file is `frozen` (relative names), into deps. */
static gboolean
find_dependents (SnapshotTree *t, guint d, const char *frozen, GPtrArray *deps, GError **error)
{
  g_autoptr (GPtrArray) images = g_ptr_array_new ();
  for (guint i = 0; i < t->nodes->len; i++)
    g_ptr_array_add (images, ((SnapshotNode *) t->nodes->pdata[i])->disks[d]);
  g_ptr_array_add (images, t->running[d]);
  for (guint i = 0; i < images->len; i++)
    {
      const char *rel = images->pdata[i];
      g_autofree char *abs = snapshot_tree_path (t, rel);
      g_autofree char *brel = NULL, *bfmt = NULL;
      if (strcmp (rel, frozen) == 0)
        continue;
      if (!image_backing (t, abs, &brel, &bfmt, error))
        return FALSE;
      if (g_strcmp0 (brel, frozen) == 0
          && !g_ptr_array_find_with_equal_func (deps, rel, g_str_equal, NULL))
        g_ptr_array_add (deps, g_strdup (rel));
    }
  return TRUE;
}

gboolean
snapshot_tree_delete (SnapshotTree *t, const char *id, GError **error)
{
  const SnapshotNode *n = snapshot_tree_lookup (t, id);
  if (!n)
    return tree_error (error, "no snapshot %s", id ? id : "(null)");
  /* Clones deleted since (their overlay gone) no longer pin the node. */
  for (guint c = 0; n->clones && n->clones[c]; c++)
    if (g_file_test (n->clones[c], G_FILE_TEST_EXISTS))
      return tree_error (error, "snapshot \"%s\" is used by the linked clone %s; delete the "
                         "clone first", n->name, n->clones[c]);

  /* 1. Rebase every dependent image onto the node's own backing file. The
   * dependents are found from the images' headers, not from the tree's
   * shape: a delete interrupted earlier may already have moved some. */
  for (guint d = 0; n->disks[d]; d++)
    {
      g_autofree char *frozen_abs = snapshot_tree_path (t, n->disks[d]);
      g_autofree char *brel = NULL, *bfmt = NULL;
      if (!image_backing (t, frozen_abs, &brel, &bfmt, error))
        return FALSE;
      g_autoptr (GPtrArray) deps = g_ptr_array_new_with_free_func (g_free);
      if (!find_dependents (t, d, n->disks[d], deps, error))
        return FALSE;
      for (guint k = 0; k < deps->len; k++)
        {
          const char *dep = deps->pdata[k];
          g_autofree char *dep_abs = snapshot_tree_path (t, dep);
          g_autofree char *bname = NULL;
          if (brel)
            {
              /* Dependents live in snapshots/ (we created them there). */
              g_autofree char *dep_dir = g_path_get_dirname (dep_abs);
              g_autofree char *snapdir = g_build_filename (t->vm_dir, SNAP_DIR, NULL);
              bname = strcmp (dep_dir, snapdir) == 0 ? backing_name_from_snapdir (brel)
                                                     : snapshot_tree_path (t, brel);
            }
          if (g_strcmp0 (block_probe_format (dep_abs, NULL), "qcow2") != 0)
            return tree_error (error, "%s is not a qcow2 image; cannot delete snapshot \"%s\"",
                               dep_abs, n->name);
          if (!qcow2_rebase (dep_abs, bname, bname ? bfmt : NULL, error))
            return FALSE;
        }
    }

  /* 2. The tree without the node. */
  g_autoptr (GPtrArray) nodes = nodes_copy (t);
  guint gone_index = 0;
  for (guint i = 0; i < nodes->len; i++)
    {
      SnapshotNode *m = nodes->pdata[i];
      if (strcmp (m->id, id) == 0)
        gone_index = i;
      else if (g_strcmp0 (m->parent, id) == 0)
        {
          g_free (m->parent);
          m->parent = g_strdup (n->parent);
        }
    }
  SnapshotNode *gone = g_ptr_array_steal_index (nodes, gone_index);
  const char *current = g_strcmp0 (t->current, id) == 0 ? n->parent : t->current;
  g_autofree char *current_copy = g_strdup (current);
  if (!save_state (t, nodes, current_copy, t->running, error))
    {
      snapshot_node_free (gone);
      return FALSE;
    }
  commit_state (t, nodes, current_copy, t->running);

  /* 3. Remove its files (only what we created inside snapshots/). */
  for (guint d = 0; gone->disks[d]; d++)
    if (is_disposable_overlay (t->nodes, gone->disks[d])
        && !g_strv_contains ((const char *const *) t->running, gone->disks[d]))
      {
        g_autofree char *abs = snapshot_tree_path (t, gone->disks[d]);
        g_unlink (abs);
      }
  if (gone->state_file)
    {
      g_autofree char *abs = snapshot_tree_path (t, gone->state_file);
      g_unlink (abs);
    }
  if (gone->thumbnail)
    {
      g_autofree char *abs = snapshot_tree_path (t, gone->thumbnail);
      g_unlink (abs);
    }
  snapshot_node_free (gone);
  return TRUE;
}

char **
snapshot_tree_clone (SnapshotTree *t, const char *id, const char *new_vm_dir, GError **error)
{
  const SnapshotNode *n = snapshot_tree_lookup (t, id);
  if (!n)
    {
      tree_error (error, "no snapshot %s", id ? id : "(null)");
      return NULL;
    }
  if (g_mkdir_with_parents (new_vm_dir, 0755) < 0)
    {
      tree_error (error, "cannot create %s: %s", new_vm_dir, g_strerror (errno));
      return NULL;
    }
  guint ndisks = g_strv_length (n->disks);
  g_auto (GStrv) made = g_new0 (char *, ndisks + 1);
  for (guint d = 0; d < ndisks; d++)
    {
      g_autofree char *base = g_strdup_printf ("disk%u.qcow2", d);
      g_autofree char *dir = g_canonicalize_filename (new_vm_dir, NULL);
      g_autofree char *frozen = snapshot_tree_path (t, n->disks[d]);
      const char *fmt = block_probe_format (frozen, error);
      made[d] = g_build_filename (dir, base, NULL);
      if (!fmt || !block_create_qcow2 (made[d], 0, 0, frozen, fmt, error))
        {
          g_free (made[d]);
          made[d] = NULL;
          unlink_all (t, made);
          return NULL;
        }
    }
  g_autoptr (GPtrArray) nodes = nodes_copy (t);
  SnapshotNode *m = find_in (nodes, id);
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_strv_builder_addv (b, (const char **) m->clones);
  g_strv_builder_add (b, made[0]);
  g_strfreev (m->clones);
  m->clones = g_strv_builder_end (b);
  if (!save_state (t, nodes, t->current, t->running, error))
    {
      unlink_all (t, made);
      return NULL;
    }
  commit_state (t, nodes, t->current, t->running);
  return g_steal_pointer (&made);
}

gboolean
snapshot_tree_rename (SnapshotTree *t, const char *id, const char *name,
                      const char *description, GError **error)
{
  if (!snapshot_tree_lookup (t, id))
    return tree_error (error, "no snapshot %s", id ? id : "(null)");
  g_autoptr (GPtrArray) nodes = nodes_copy (t);
  SnapshotNode *m = find_in (nodes, id);
  if (name)
    {
      g_free (m->name);
      m->name = g_strdup (name);
    }
  if (description)
    {
      g_free (m->description);
      m->description = g_strdup (description);
    }
  if (!save_state (t, nodes, t->current, t->running, error))
    return FALSE;
  commit_state (t, nodes, t->current, t->running);
  return TRUE;
}

static gboolean
tree_references (SnapshotTree *t, const char *rel)
{
  if (g_strv_contains ((const char *const *) t->running, rel))
    return TRUE;
  for (guint i = 0; i < t->nodes->len; i++)
    {
      SnapshotNode *n = t->nodes->pdata[i];
      if (g_strv_contains ((const char *const *) n->disks, rel)
          || g_strcmp0 (n->state_file, rel) == 0 || g_strcmp0 (n->thumbnail, rel) == 0)
        return TRUE;
    }
  return FALSE;
}

guint
snapshot_tree_collect_garbage (SnapshotTree *t)
{
  g_autofree char *dir = g_build_filename (t->vm_dir, SNAP_DIR, NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint removed = 0;
  /* Belt and braces: whatever a tree image is backed by stays. */
  g_autoptr (GHashTable) backings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint disk = 0; t->running[disk]; disk++)
    {
      g_autoptr (GPtrArray) images = g_ptr_array_new ();
      for (guint i = 0; i < t->nodes->len; i++)
        g_ptr_array_add (images, ((SnapshotNode *) t->nodes->pdata[i])->disks[disk]);
      g_ptr_array_add (images, t->running[disk]);
      for (guint i = 0; i < images->len; i++)
        {
          g_autofree char *abs = snapshot_tree_path (t, images->pdata[i]);
          char *brel = NULL, *bfmt = NULL;
          if (image_backing (t, abs, &brel, &bfmt, NULL) && brel)
            g_hash_table_add (backings, brel);
          else
            g_free (brel);
          g_free (bfmt);
        }
    }

  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *rel = g_strdup_printf (SNAP_DIR "/%s", name);
      gboolean ours = (g_str_has_prefix (name, "ov-") && g_str_has_suffix (name, ".qcow2"))
                      || g_str_has_suffix (name, ".state") || g_str_has_suffix (name, ".png")
                      || strstr (name, ".tmp-") || g_str_has_prefix (name, "tree.ini.");
      if (!ours || tree_references (t, rel) || g_hash_table_contains (backings, rel))
        continue;
      g_autofree char *abs = g_build_filename (dir, name, NULL);
      if (g_unlink (abs) == 0)
        removed++;
    }
  return removed;
}
