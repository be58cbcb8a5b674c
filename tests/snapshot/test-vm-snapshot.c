/* Live snapshots of a tiny guest that counts in RAM, under KVM (skipped
 * without a usable /dev/kvm) and the software engine: take a snapshot, let
 * the guest count on and the disk change, revert, and the guest's counter
 * and the disk are back where they were; a corrupt state file is refused
 * without touching the guest; suspend to disk, resume in a new machine. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "hostdrv/host-caps.h"
#include "vmm-core/machine.h"
#include "vmm-core/snapshot/vm-snapshot.h"

#define COUNTER_GPA 0x400000

/* Stands in for virtio-blk: one disk slot. */
typedef struct {
  BlockDev *bs;
  guint swaps;
} FakeDisk;

static BlockDev *
fake_swap (void *opaque, guint i, BlockDev *bs)
{
  FakeDisk *d = opaque;
  BlockDev *old = d->bs;
  g_assert_cmpuint (i, ==, 0);
  d->bs = bs;
  d->swaps++;
  return old;
}

static uint64_t
counter (Machine *m)
{
  return *(volatile uint64_t *) guest_ram_ptr (machine_ram (m), COUNTER_GPA, 8);
}

static gpointer
run_thread (gpointer data)
{
  return GINT_TO_POINTER (machine_run (data));
}

static void
wait_counter (Machine *m, uint64_t above)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;
  while (counter (m) <= above && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_assert_cmpuint (counter (m), >, above);
}

static guint8
disk_byte (FakeDisk *d)
{
  guint8 b = 0;
  g_assert_nonnull (d->bs);
  g_assert_true (block_pread (d->bs, 0, &b, 1, NULL));
  return b;
}

static void
disk_write (FakeDisk *d, guint8 v)
{
  guint8 buf[4096];
  memset (buf, v, sizeof buf);
  g_assert_true (block_pwrite (d->bs, 0, buf, sizeof buf, NULL));
}

static void
run_test (EngineKind engine)
{
  const char *guest = g_getenv ("VIREO_GUEST_COUNTER");
  if (!guest)
    {
      g_test_skip ("VIREO_GUEST_COUNTER not set (run through meson)");
      return;
    }
  if (engine == ENGINE_KIND_KVM)
    {
      HostCaps c;
      host_caps_probe (&c, NULL, NULL);
      if (c.problem)
        {
          g_test_skip (c.problem);
          host_caps_clear (&c);
          return;
        }
      host_caps_clear (&c);
    }

  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("vireo-vmsnap-XXXXXX", &error);
  g_autofree char *disk = g_build_filename (dir, "disk.qcow2", NULL);
  g_assert_true (block_create_qcow2 (disk, 1 << 20, 0, NULL, NULL, &error));
  const char *disks[] = { "disk.qcow2", NULL };
  g_autoptr (SnapshotTree) tree = snapshot_tree_load (dir, disks, &error);
  g_assert_no_error (error);
  FakeDisk fd = { .bs = block_open (disk, "qcow2", 0, &error) };
  g_assert_no_error (error);
  VmDisks vd = { .count = 1, .swap = fake_swap, .opaque = &fd };
  disk_write (&fd, 0xaa);

  g_autofree char *why = NULL;
  MachineConfig cfg = { .ram_size = 32 << 20, .cpus = 1, .guest_elf = guest, .serial = "none",
                        .engine = engine, .test_device = true };
  Machine *m = machine_new (&cfg, &why, &error);
  g_assert_no_error (error);
  g_assert_true (machine_start (m, &error));
  GThread *runner = g_thread_new ("run", run_thread, m);
  wait_counter (m, 1000);

  /* Take: hold the guest still around it to know the counter it saved. */
  machine_pause (m);
  uint64_t c_snap = counter (m);
  g_autoptr (GBytes) png = g_bytes_new_static ("\x89PNG\r\n\x1a\n", 8);
  gint64 pause_us = 0;
  g_autofree char *id = vm_snapshot_take (m, &vd, tree, "counting", "test", png, &pause_us,
                                           &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  g_test_message ("take paused the guest %" G_GINT64_FORMAT " us", pause_us);
  const SnapshotNode *n = snapshot_tree_lookup (tree, id);
  g_assert_cmpint (n->kind, ==, SNAPSHOT_KIND_DISK_MEMORY);
  g_autofree char *state = snapshot_tree_path (tree, n->state_file);
  g_assert_true (g_file_test (state, G_FILE_TEST_EXISTS));
  g_autofree char *thumb = snapshot_tree_path (tree, n->thumbnail);
  g_autofree char *thumb_data = NULL;
  gsize thumb_len = 0;
  g_assert_true (g_file_get_contents (thumb, &thumb_data, &thumb_len, NULL));
  g_assert_cmpmem (thumb_data, thumb_len, "\x89PNG\r\n\x1a\n", 8);
  g_assert_cmpuint (disk_byte (&fd), ==, 0xaa); /* the new overlay reads through */
  machine_resume (m);

  /* Change memory and disk. */
  wait_counter (m, c_snap + 100000);
  disk_write (&fd, 0xee);

  /* Revert: counter and disk come back. */
  machine_pause (m);
  g_assert_true (vm_snapshot_revert (m, &vd, tree, id, &pause_us, &error));
  g_assert_no_error (error);
  g_test_message ("revert paused the guest %" G_GINT64_FORMAT " us", pause_us);
  g_assert_cmpuint (counter (m), ==, c_snap);
  g_assert_cmpuint (disk_byte (&fd), ==, 0xaa);
  machine_resume (m);
  wait_counter (m, c_snap); /* and it keeps running */

  /* A corrupt state file: refused, the guest and its disk left alone. */
  disk_write (&fd, 0x77);
  int sfd = open (state, O_RDWR);
  g_assert_cmpint (sfd, >=, 0);
  off_t end = lseek (sfd, 0, SEEK_END);
  g_assert_cmpint (pwrite (sfd, "\x5a", 1, end - 4096 * 3 - 5), ==, 1);
  close (sfd);
  machine_pause (m);
  uint64_t c_before = counter (m);
  BlockDev *bs_before = fd.bs;
  g_assert_false (vm_snapshot_revert (m, &vd, tree, id, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, "checksum"));
  g_clear_error (&error);
  g_assert_cmpuint (counter (m), ==, c_before);
  g_assert_true (fd.bs == bs_before);
  g_assert_cmpuint (disk_byte (&fd), ==, 0x77);
  machine_resume (m);
  wait_counter (m, c_before);

  /* Suspend to disk, power off, resume in a new machine: the counter
   * continues from where it stood. */
  g_autofree char *suspend = g_build_filename (dir, "suspend.state", NULL);
  g_assert_true (vm_snapshot_suspend (m, &vd, suspend, &error));
  g_assert_no_error (error);
  g_assert_cmpint (machine_get_state (m), ==, MACHINE_STATE_PAUSED);
  uint64_t c_suspend = counter (m);
  machine_request_poweroff (m);
  machine_resume (m);
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (runner)), ==, MACHINE_EXIT_POWEROFF);
  machine_free (m);

  m = machine_new (&cfg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (counter (m), ==, 0);
  g_assert_true (vm_snapshot_restore_state (m, suspend, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (counter (m), ==, c_suspend);
  g_assert_true (machine_start (m, &error));
  runner = g_thread_new ("run", run_thread, m);
  wait_counter (m, c_suspend);
  machine_request_poweroff (m);
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (runner)), ==, MACHINE_EXIT_POWEROFF);
  machine_free (m);
  block_close (fd.bs);

  /* The images pass qemu-img check. */
  g_auto (GStrv) running = snapshot_tree_get_running_disks (tree);
  g_autofree char *qemu_img = g_find_program_in_path ("qemu-img");
  if (qemu_img)
    {
      const char *argv[] = { "qemu-img", "check", "-q", running[0], NULL };
      int status = -1;
      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                   NULL, NULL, &status, NULL));
      g_assert_true (g_spawn_check_wait_status (status, NULL));
    }
  const char *rm[] = { "rm", "-rf", dir, NULL };
  g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL,
                NULL);
}

static void
test_kvm (void)
{
  run_test (ENGINE_KIND_KVM);
}

static void
test_soft (void)
{
  run_test (ENGINE_KIND_SOFT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vm-snapshot/kvm", test_kvm);
  g_test_add_func ("/vm-snapshot/soft", test_soft);
  return g_test_run ();
}
