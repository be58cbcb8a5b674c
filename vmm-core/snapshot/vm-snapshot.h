/* Snapshots of a running (or stopped) VM: what vireo-vmx's D-Bus server
 * calls for TakeSnapshot, RevertSnapshot, DeleteSnapshot, CloneSnapshot and
 * suspend-to-disk.
 *
 * The disks: the tree (snapshot-tree.h) decides which image files the VM
 * runs on; the devices hold open BlockDevs. Around every disk switch the VM
 * is paused, and each disk's device is given its new BlockDev through the
 * swap hook below (virtio-blk: replace blk->bs under the device lock; the
 * capacity does not change, requests are synchronous so none is in
 * flight while paused). */
#pragma once

#include <glib.h>

#include "vmm-core/block/block.h"
#include "vmm-core/machine.h"
#include "vmm-core/snapshot/snapshot-tree.h"
#include "vmm-core/snapshot/state-file.h"

typedef struct VmDisks {
  guint count;
  /* Installs bs as disk i's image (NULL detaches it) and returns the one it
   * had. Called with the machine paused, without the device lock (the hook
   * takes it). The caller of the hook owns the returned BlockDev. */
  BlockDev *(*swap) (void *opaque, guint i, BlockDev *bs);
  void *opaque;
} VmDisks;

/* m NULL: the VM is stopped (disks closed), a disk-only snapshot. Else
 * pause, write the state file (RAM + devices), switch every disk to a new
 * overlay, resume. thumbnail_png (NULL: none) is stored with the node (the
 * caller grabs the screen before calling). Returns the new node's id. *pause_us (if non-NULL) gets
 * how long the guest stood still. */
char *vm_snapshot_take (Machine *m, const VmDisks *disks, SnapshotTree *tree,
                        const char *name, const char *description, GBytes *thumbnail_png,
                        gint64 *pause_us, GError **error);

/* Verifies the node's state file first (while the guest still runs), then
 * pauses, switches the disks, loads RAM and device state, resumes. With m
 * NULL (stopped VM) only the disks switch, and the caller loads the state
 * file at the next start (vm_snapshot_restore_state). A disk-only snapshot
 * cannot be reverted live (the guest's caches would not match its disk). */
gboolean vm_snapshot_revert (Machine *m, const VmDisks *disks, SnapshotTree *tree,
                             const char *id, gint64 *pause_us, GError **error);

/* Deletes a node; when the running overlay depends on it (the node is
 * current) the VM is paused and the disks detached while it is rebased. */
gboolean vm_snapshot_delete (Machine *m, const VmDisks *disks, SnapshotTree *tree,
                             const char *id, GError **error);

/* Loads a state file into a paused (or created, not yet started) machine:
 * RAM, then devices and CPUs. Nothing is touched unless the file verifies
 * and fits the machine. */
gboolean vm_snapshot_restore_state (Machine *m, const char *state_path, GError **error);

/* Suspend to disk: pauses, flushes the disks and writes the state file with
 * STATE_FILE_FLAG_SUSPEND; the VM stays paused (the caller powers off). On
 * failure it resumes.
 * Resume: vm_snapshot_restore_state on the new machine, then delete it. */
gboolean vm_snapshot_suspend (Machine *m, const VmDisks *disks, const char *state_path,
                              GError **error);
