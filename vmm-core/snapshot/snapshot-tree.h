/* The per-VM snapshot tree in <vm-dir>/snapshots/.
 *
 * Each node freezes the disk images that were the VM's top images when it
 * was taken (one per disk), plus optionally a state file (memory + devices)
 * and a thumbnail. The running VM writes to fresh qcow2 overlays whose
 * backing files are the frozen images of the "current" node ("You are
 * here"). Everything is recorded in snapshots/tree.ini (GKeyFile, replaced
 * atomically). File names in the tree are relative to the VM folder.
 *
 * Every operation creates new files first, then rewrites tree.ini, then
 * removes what became obsolete, so a failure or crash at any step leaves a
 * tree whose images all exist and read as recorded. None of these calls may
 * run while the VM has the affected images open: the caller (vm-snapshot.h)
 * pauses the VM and detaches/reattaches its disks around them. */
#pragma once

#include <glib.h>

typedef enum {
  SNAPSHOT_KIND_DISK,        /* taken while the VM was stopped */
  SNAPSHOT_KIND_DISK_MEMORY, /* taken while running: also a state file */
} SnapshotKind;

typedef struct SnapshotNode {
  char *id;          /* 8 hex digits */
  char *parent;      /* NULL for a root */
  char *name;
  char *description;
  gint64 created;    /* Unix time, seconds */
  SnapshotKind kind;
  char **disks;      /* frozen images, one per disk, relative to the VM folder */
  char *state_file;  /* relative, NULL for disk-only */
  char *thumbnail;   /* relative PNG, NULL if none */
  char **clones;     /* absolute paths of linked clones' overlays (keep this alive) */
} SnapshotNode;

typedef struct SnapshotTree SnapshotTree;

/* Loads <vm_dir>/snapshots/tree.ini; without one, an empty tree whose
 * running disks are `disks` (relative to vm_dir, or absolute). */
SnapshotTree *snapshot_tree_load (const char *vm_dir, const char *const *disks,
                                  GError **error);
void snapshot_tree_free (SnapshotTree *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SnapshotTree, snapshot_tree_free)

const char *snapshot_tree_get_vm_dir (SnapshotTree *t);
/* The node the running VM derives from, NULL before the first snapshot. */
const char *snapshot_tree_get_current (SnapshotTree *t);
/* The images the VM must open (absolute paths, NULL-terminated, free with
 * g_strfreev). */
char **snapshot_tree_get_running_disks (SnapshotTree *t);
guint snapshot_tree_get_disk_count (SnapshotTree *t);
/* Nodes in creation order (borrowed; valid until the next operation). */
GPtrArray *snapshot_tree_list (SnapshotTree *t);
const SnapshotNode *snapshot_tree_lookup (SnapshotTree *t, const char *id);
/* Node ids whose parent is id (NULL: the roots), free with g_strfreev. */
char **snapshot_tree_children (SnapshotTree *t, const char *id);
/* Absolute path of a file named in the tree. */
char *snapshot_tree_path (SnapshotTree *t, const char *rel);

/* A fresh node id, and where its state file / thumbnail go (absolute paths):
 * the caller writes them before snapshot_tree_take (snapshots/ is created). */
char *snapshot_tree_new_id (SnapshotTree *t);
char *snapshot_tree_state_path (SnapshotTree *t, const char *id);
char *snapshot_tree_thumbnail_path (SnapshotTree *t, const char *id);

/* Freezes the running images into a new node `id` (child of the current
 * node), puts fresh overlays on top of them for the VM, makes the node
 * current. with_state/with_thumbnail: the files at the paths above exist
 * and belong to the node. */
gboolean snapshot_tree_take (SnapshotTree *t, const char *id, const char *name,
                             const char *description, gboolean with_state,
                             gboolean with_thumbnail, GError **error);
/* Discards the running overlays and starts fresh ones on the node's frozen
 * images; the node becomes current. (Its state file, if any, is the
 * caller's to load.) */
gboolean snapshot_tree_revert (SnapshotTree *t, const char *id, GError **error);
/* Removes a node. Every image that has the node's frozen image as backing
 * file (its children's images, the running overlay when it is current) is
 * rebased onto the node's own backing file, keeping its content; children
 * move to the node's parent, and so does "current". Refused while a linked
 * clone uses the node. Works with any number of children. */
gboolean snapshot_tree_delete (SnapshotTree *t, const char *id, GError **error);
/* A linked clone: creates new_vm_dir (may exist, must not hold the images)
 * with one overlay per disk, "disk<N>.qcow2", backed by the node's frozen
 * images through absolute paths. Returns the overlays' absolute paths. */
char **snapshot_tree_clone (SnapshotTree *t, const char *id, const char *new_vm_dir,
                            GError **error);
gboolean snapshot_tree_rename (SnapshotTree *t, const char *id, const char *name,
                               const char *description, GError **error);

/* Removes files in snapshots/ that the tree does not name: leftovers of an
 * operation a crash interrupted (new overlays, state files, temp files).
 * Call it when no operation is under way (vireo-vmx start). Returns how many
 * files went. */
guint snapshot_tree_collect_garbage (SnapshotTree *t);

void snapshot_node_free (SnapshotNode *n);
