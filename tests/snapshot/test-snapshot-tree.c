/* The snapshot tree over real qcow2 images: take, revert, delete (leaf,
 * middle, root, current, several children), linked clone, and crash
 * consistency. Contents are checked with qemu-io, images with
 * `qemu-img check` and `qemu-img info --backing-chain --output=json`. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "vmm-core/block/block.h"
#include "vmm-core/snapshot/qcow2-rebase.h"
#include "vmm-core/snapshot/snapshot-tree.h"

#define DISK_SIZE (8u << 20)
#define MiB (1u << 20)

typedef struct {
  char *dir;
  SnapshotTree *tree;
} Fixture;

static gboolean
have_qemu_tools (void)
{
  g_autofree char *a = g_find_program_in_path ("qemu-img");
  g_autofree char *b = g_find_program_in_path ("qemu-io");
  return a && b;
}

static int
run (char **out, const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  g_autofree char *dropped = NULL; /* keep tool output out of the TAP stream */
  int status = 0;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               out ? out : &dropped, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_test_message ("%s: %s", argv[0], err ? err : "");
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void
rm_rf (const char *path)
{
  const char *argv[] = { "rm", "-rf", path, NULL };
  run (NULL, argv);
}

/* qemu-img check: 0 = clean; allow_leaks accepts 3 (leaked clusters only). */
static void
assert_check (const char *image, gboolean allow_leaks)
{
  const char *argv[] = { "qemu-img", "check", "-q", image, NULL };
  int rc = run (NULL, argv);
  if (!(rc == 0 || (allow_leaks && rc == 3)))
    g_error ("qemu-img check %s: exit %d", image, rc);
}

/* The chain of file names (basenames) qemu-img sees from image down. */
static char *
backing_chain (const char *image)
{
  g_autofree char *out = NULL;
  const char *argv[] = { "qemu-img", "info", "--backing-chain", "--output=json", "-U", image,
                         NULL };
  g_assert_cmpint (run (&out, argv), ==, 0);
  /* Top-level entries' "filename" keys, in order (no JSON library in the
   * dependency set; qemu-img 7.2 nests no other "filename" key). */
  g_autoptr (GRegex) re = g_regex_new ("\"filename\": \"([^\"]*)\"", 0, 0, NULL);
  g_autoptr (GMatchInfo) mi = NULL;
  GString *s = g_string_new (NULL);
  g_regex_match (re, out, 0, &mi);
  for (guint i = 0; g_match_info_matches (mi); i++, g_match_info_next (mi, NULL))
    {
      g_autofree char *name = g_match_info_fetch (mi, 1);
      g_autofree char *base = g_path_get_basename (name);
      g_string_append_printf (s, "%s%s", i ? " > " : "", base);
    }
  return g_string_free (s, FALSE);
}

/* Every byte of [off, off+len) of image reads as pattern (qemu-io). */
static void
assert_pattern (const char *image, guint64 off, guint64 len, guint8 pattern)
{
  g_autofree char *cmd = g_strdup_printf ("read -P %u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
                                          pattern, off, len);
  g_autofree char *out = NULL;
  const char *argv[] = { "qemu-io", "-r", "-U", "-c", cmd, image, NULL };
  g_assert_cmpint (run (&out, argv), ==, 0);
  if (strstr (out, "failed") || !strstr (out, "read "))
    g_error ("%s: expected 0x%02x at %" G_GUINT64_FORMAT ": %s", image, pattern, off, out);
}

static void
write_pattern (const char *image, guint64 off, guint64 len, guint8 pattern)
{
  g_autoptr (GError) error = NULL;
  BlockDev *bs = block_open (image, "qcow2", 0, &error);
  g_assert_no_error (error);
  g_autofree guint8 *buf = g_malloc (len);
  memset (buf, pattern, len);
  g_assert_true (block_pwrite (bs, off, buf, len, &error));
  g_assert_true (block_flush (bs, &error));
  block_close (bs);
}

static char *
running (Fixture *f)
{
  g_auto (GStrv) d = snapshot_tree_get_running_disks (f->tree);
  g_assert_cmpuint (g_strv_length (d), ==, 1);
  return g_strdup (d[0]);
}

static char *
frozen (Fixture *f, const char *id)
{
  const SnapshotNode *n = snapshot_tree_lookup (f->tree, id);
  g_assert_nonnull (n);
  return snapshot_tree_path (f->tree, n->disks[0]);
}

static char *
take (Fixture *f, const char *name)
{
  g_autoptr (GError) error = NULL;
  char *id = snapshot_tree_new_id (f->tree);
  g_assert_true (snapshot_tree_take (f->tree, id, name, "test", FALSE, FALSE, &error));
  g_assert_no_error (error);
  return id;
}

/* Reloads the tree from disk (proves tree.ini holds what memory holds). */
static void
reload (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cur = g_strdup (snapshot_tree_get_current (f->tree));
  guint n = snapshot_tree_list (f->tree)->len;
  snapshot_tree_free (f->tree);
  f->tree = snapshot_tree_load (f->dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (snapshot_tree_get_current (f->tree), ==, cur);
  g_assert_cmpuint (snapshot_tree_list (f->tree)->len, ==, n);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  if (!have_qemu_tools ())
    return;
  f->dir = g_dir_make_tmp ("vireo-snaptree-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *disk = g_build_filename (f->dir, "disk.qcow2", NULL);
  g_assert_true (block_create_qcow2 (disk, DISK_SIZE, 0, NULL, NULL, &error));
  g_assert_no_error (error);
  write_pattern (disk, 0, MiB, 0xa1);
  const char *disks[] = { "disk.qcow2", NULL };
  f->tree = snapshot_tree_load (f->dir, disks, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  snapshot_tree_free (f->tree);
  if (f->dir)
    rm_rf (f->dir);
  g_free (f->dir);
}

#define SKIP_WITHOUT_QEMU()                                                              \
  do                                                                                     \
    {                                                                                    \
      if (!have_qemu_tools ())                                                           \
        {                                                                                \
          g_test_skip ("qemu-img/qemu-io not installed");                                \
          return;                                                                        \
        }                                                                                \
    }                                                                                    \
  while (0)

static void
test_take_revert (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SKIP_WITHOUT_QEMU ();
  g_assert_null (snapshot_tree_get_current (f->tree));

  g_autofree char *s1 = take (f, "first");
  g_autofree char *r1 = running (f);
  g_autofree char *r1_base = g_path_get_basename (r1);
  g_autofree char *r1_want = g_strdup_printf ("%s > disk.qcow2", r1_base);
  g_autofree char *r1_chain = backing_chain (r1);
  g_assert_cmpstr (r1_chain, ==, r1_want);
  write_pattern (r1, 0, MiB, 0xb2);
  write_pattern (r1, MiB, MiB, 0xc3);

  g_autofree char *s2 = take (f, "second");
  g_autofree char *r2 = running (f);
  g_assert_cmpstr (snapshot_tree_lookup (f->tree, s2)->parent, ==, s1);
  g_assert_cmpstr (snapshot_tree_get_current (f->tree), ==, s2);
  write_pattern (r2, 0, MiB, 0xd4);
  assert_pattern (r2, 0, MiB, 0xd4);
  assert_pattern (r2, MiB, MiB, 0xc3);

  /* Revert to the first snapshot: the disk is as it was then. */
  g_assert_true (snapshot_tree_revert (f->tree, s1, &error));
  g_assert_no_error (error);
  g_autofree char *r3 = running (f);
  g_assert_false (g_file_test (r2, G_FILE_TEST_EXISTS)); /* discarded */
  g_assert_true (g_file_test (r1, G_FILE_TEST_EXISTS));  /* frozen by s2 */
  assert_pattern (r3, 0, MiB, 0xa1);
  assert_pattern (r3, MiB, MiB, 0);
  g_assert_cmpstr (snapshot_tree_get_current (f->tree), ==, s1);

  /* And to the second. */
  g_assert_true (snapshot_tree_revert (f->tree, s2, &error));
  g_autofree char *r4 = running (f);
  assert_pattern (r4, 0, MiB, 0xb2);
  assert_pattern (r4, MiB, MiB, 0xc3);
  g_autofree char *base = g_path_get_basename (r4);
  g_autofree char *b1 = g_path_get_basename (r1);
  g_autofree char *want = g_strdup_printf ("%s > %s > disk.qcow2", base, b1);
  g_autofree char *chain = backing_chain (r4);
  g_assert_cmpstr (chain, ==, want);

  reload (f);
  assert_check (r4, FALSE);
  assert_check (r1, FALSE);
  g_assert_cmpstr (snapshot_tree_lookup (f->tree, s2)->name, ==, "second");
  g_assert_false (snapshot_tree_revert (f->tree, "nosuchid", &error));
}

/* s1 -> s2 -> s3 (current): delete the middle one, then the current one. */
static void
test_delete_middle_and_current (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SKIP_WITHOUT_QEMU ();
  g_autofree char *s1 = take (f, "s1");
  g_autofree char *r = running (f);
  write_pattern (r, MiB, MiB, 0x11);
  g_autofree char *s2 = take (f, "s2");
  g_autofree char *r2 = running (f);
  write_pattern (r2, 2 * MiB, MiB, 0x22);
  g_autofree char *s3 = take (f, "s3");
  g_autofree char *r3 = running (f);
  write_pattern (r3, 3 * MiB, MiB, 0x33);
  g_autofree char *f2 = frozen (f, s2); /* holds 0x11 */
  g_autofree char *f3 = frozen (f, s3); /* holds 0x22 */

  g_assert_true (snapshot_tree_delete (f->tree, s2, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (f2, G_FILE_TEST_EXISTS));
  g_assert_null (snapshot_tree_lookup (f->tree, s2));
  g_assert_cmpstr (snapshot_tree_lookup (f->tree, s3)->parent, ==, s1);
  /* s3 still reads as it did, now straight on s1's image. */
  assert_pattern (f3, 0, MiB, 0xa1);
  assert_pattern (f3, MiB, MiB, 0x11);
  assert_pattern (f3, 2 * MiB, MiB, 0x22);
  g_autofree char *b3 = g_path_get_basename (f3);
  g_autofree char *want3 = g_strdup_printf ("%s > disk.qcow2", b3);
  g_autofree char *chain3 = backing_chain (f3);
  g_assert_cmpstr (chain3, ==, want3);
  assert_check (f3, FALSE);
  assert_pattern (r3, 3 * MiB, MiB, 0x33);
  assert_pattern (r3, MiB, MiB, 0x11);

  /* Delete the current node: the running overlay moves onto s1's image. */
  g_assert_true (snapshot_tree_delete (f->tree, s3, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (snapshot_tree_get_current (f->tree), ==, s1);
  g_assert_false (g_file_test (f3, G_FILE_TEST_EXISTS));
  assert_pattern (r3, 0, MiB, 0xa1);
  assert_pattern (r3, MiB, MiB, 0x11);
  assert_pattern (r3, 2 * MiB, MiB, 0x22);
  assert_pattern (r3, 3 * MiB, MiB, 0x33);
  g_autofree char *br = g_path_get_basename (r3);
  g_autofree char *wantr = g_strdup_printf ("%s > disk.qcow2", br);
  g_autofree char *chainr = backing_chain (r3);
  g_assert_cmpstr (chainr, ==, wantr);
  assert_check (r3, FALSE);
  reload (f);
  g_auto (GStrv) roots = snapshot_tree_children (f->tree, NULL);
  g_assert_cmpuint (g_strv_length (roots), ==, 1);
  g_assert_cmpstr (roots[0], ==, s1);
}

/* A root with two children (a revert in between): deleting it rebases both
 * children onto nothing. Then a linked clone, which pins its snapshot. */
static void
test_delete_root_two_children_and_clone (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SKIP_WITHOUT_QEMU ();
  g_autofree char *root = take (f, "root");
  g_autofree char *r = running (f);
  write_pattern (r, 0, MiB, 0x5a);
  g_autofree char *c1 = take (f, "child one");
  g_assert_true (snapshot_tree_revert (f->tree, root, &error));
  g_autofree char *rr = running (f);
  write_pattern (rr, 4 * MiB, MiB, 0x6b);
  g_autofree char *c2 = take (f, "child two");
  g_auto (GStrv) kids = snapshot_tree_children (f->tree, root);
  g_assert_cmpuint (g_strv_length (kids), ==, 2);

  g_assert_true (snapshot_tree_delete (f->tree, root, &error));
  g_assert_no_error (error);
  g_autofree char *f1 = frozen (f, c1), *f2 = frozen (f, c2);
  g_assert_null (snapshot_tree_lookup (f->tree, c1)->parent);
  g_assert_null (snapshot_tree_lookup (f->tree, c2)->parent);
  assert_pattern (f1, 0, MiB, 0x5a);
  assert_pattern (f1, 4 * MiB, MiB, 0);
  assert_pattern (f2, 0, MiB, 0xa1);
  assert_pattern (f2, 4 * MiB, MiB, 0x6b);
  g_autofree char *b1 = backing_chain (f1), *b2 = backing_chain (f2);
  g_autofree char *n1 = g_path_get_basename (f1), *n2 = g_path_get_basename (f2);
  g_assert_cmpstr (b1, ==, n1);
  g_assert_cmpstr (b2, ==, n2);
  assert_check (f1, FALSE);
  assert_check (f2, FALSE);
  g_autofree char *run2 = running (f);
  assert_pattern (run2, 4 * MiB, MiB, 0x6b);

  /* Linked clone of "child one". */
  g_autofree char *clone_dir = g_build_filename (f->dir, "clone-vm", NULL);
  g_auto (GStrv) made = snapshot_tree_clone (f->tree, c1, clone_dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (made);
  assert_pattern (made[0], 0, MiB, 0x5a);
  g_autoptr (GError) e2 = NULL;
  BlockDev *bs = block_open (made[0], "qcow2", BLOCK_OPEN_READ_ONLY, &e2);
  g_assert_no_error (e2);
  BlockInfo info = { 0 };
  block_get_info (bs, &info);
  g_assert_cmpstr (info.backing_file, ==, f1); /* absolute */
  block_info_clear (&info);
  block_close (bs);
  assert_check (made[0], FALSE);
  reload (f);
  g_assert_false (snapshot_tree_delete (f->tree, c1, &error));
  g_assert_nonnull (strstr (error->message, "linked clone"));
  g_assert_true (g_file_test (f1, G_FILE_TEST_EXISTS));
  g_clear_error (&error);
  /* Once the clone is gone, the snapshot can go. */
  g_assert_cmpint (g_unlink (made[0]), ==, 0);
  g_assert_true (snapshot_tree_delete (f->tree, c1, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (f1, G_FILE_TEST_EXISTS));
}

/* A corrupt or dangling tree.ini is refused with one line. */
static void
test_corrupt_tree_ini (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SKIP_WITHOUT_QEMU ();
  g_autofree char *s1 = take (f, "s1");
  g_autofree char *ini = g_build_filename (f->dir, "snapshots", "tree.ini", NULL);
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (ini, &text, NULL, NULL));
  g_autofree char *bad = g_strconcat (text, "\n[node feedface]\nparent=deadbeef\nname=x\n"
                                      "disks=disk.qcow2;\n", NULL);
  g_assert_true (g_file_set_contents (ini, bad, -1, NULL));
  SnapshotTree *t = snapshot_tree_load (f->dir, NULL, &error);
  g_assert_null (t);
  g_assert_nonnull (strstr (error->message, "missing parent"));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (ini, "[tree]\nversion=1\ndisks=../../etc/x;\n"
                                      "[node a]\nname=a\ndisks=../../etc/passwd;\n", -1, NULL));
  t = snapshot_tree_load (f->dir, NULL, &error);
  g_assert_null (t);
  g_assert_null (strchr (error->message, '\n'));
}

/* Kill a process doing snapshot operations at random moments: the tree
 * must always load, every image it names must exist, open and pass
 * `qemu-img check` (leaked clusters allowed), and the running disk must
 * read as one of the states the test wrote. */
static void
test_crash_consistency (Fixture *f, gconstpointer data)
{
  SKIP_WITHOUT_QEMU ();
  for (int round = 0; round < 6; round++)
    {
      pid_t pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          g_autoptr (GError) error = NULL;
          const char *disks[] = { "disk.qcow2", NULL };
          SnapshotTree *t = snapshot_tree_load (f->dir, disks, &error);
          if (!t)
            _exit (2);
          for (int i = 0;; i++)
            {
              GPtrArray *nodes = snapshot_tree_list (t);
              int op = g_random_int_range (0, 4);
              if (op == 0 || nodes->len < 2)
                {
                  g_autofree char *id = snapshot_tree_new_id (t);
                  if (!snapshot_tree_take (t, id, "crash", NULL, FALSE, FALSE, &error))
                    { g_printerr ("child op failed: %s\n", error ? error->message : "?"); _exit (3); }
                }
              else if (op == 1)
                {
                  SnapshotNode *n = nodes->pdata[g_random_int_range (0, (gint) nodes->len)];
                  if (!snapshot_tree_revert (t, n->id, &error))
                    { g_printerr ("child op failed: %s\n", error ? error->message : "?"); _exit (4); }
                }
              else if (op == 2 && nodes->len > 3)
                {
                  g_autofree char *id
                      = g_strdup (((SnapshotNode *) nodes->pdata[g_random_int_range (
                                       0, (gint) nodes->len)])->id);
                  if (!snapshot_tree_delete (t, id, &error))
                    { g_printerr ("child op failed: %s\n", error ? error->message : "?"); _exit (5); }
                }
              else
                {
                  g_auto (GStrv) d = snapshot_tree_get_running_disks (t);
                  BlockDev *bs = block_open (d[0], "qcow2", 0, &error);
                  if (!bs)
                    { g_printerr ("child op failed: %s\n", error ? error->message : "?"); _exit (6); }
                  guint8 buf[65536];
                  memset (buf, 0x40 + (i & 15), sizeof buf);
                  block_pwrite (bs, (guint64) g_random_int_range (0, 128) * sizeof buf, buf,
                                sizeof buf, NULL);
                  block_close (bs);
                }
            }
        }
      g_usleep ((gulong) g_random_int_range (50000, 400000));
      kill (pid, SIGKILL);
      int status;
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      if (!WIFSIGNALED (status))
        g_error ("the snapshot process failed by itself (status %d)", status);

      g_autoptr (GError) error = NULL;
      const char *disks[] = { "disk.qcow2", NULL };
      snapshot_tree_free (f->tree);
      f->tree = snapshot_tree_load (f->dir, disks, &error);
      g_assert_no_error (error);
      GPtrArray *nodes = snapshot_tree_list (f->tree);
      g_test_message ("round %d: %u nodes", round, nodes->len);
      for (guint i = 0; i < nodes->len; i++)
        {
          g_autofree char *img = frozen (f, ((SnapshotNode *) nodes->pdata[i])->id);
          g_assert_true (g_file_test (img, G_FILE_TEST_EXISTS));
          assert_check (img, TRUE);
        }
      g_autofree char *r = running (f);
      assert_check (r, TRUE);
      guint gc = snapshot_tree_collect_garbage (f->tree);
      g_test_message ("round %d: %u leftover files removed", round, gc);
      g_assert_true (g_file_test (r, G_FILE_TEST_EXISTS));
      BlockDev *bs = block_open (r, "qcow2", BLOCK_OPEN_READ_ONLY, &error);
      g_assert_no_error (error);
      guint8 b;
      g_assert_true (block_pread (bs, 0, &b, 1, &error));
      g_assert_true (b == 0xa1 || (b >= 0x40 && b < 0x50));
      block_close (bs);
    }
}

/* qcow2_rebase on images qemu-img made (with its header extensions): onto a
 * raw image, then onto nothing; content and `qemu-img check` hold. */
static void
test_rebase_qemu_images (void)
{
  SKIP_WITHOUT_QEMU ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("vireo-rebase-XXXXXX", &error);
  g_autofree char *base = g_build_filename (dir, "base.qcow2", NULL);
  g_autofree char *raw = g_build_filename (dir, "other.raw", NULL);
  g_autofree char *top = g_build_filename (dir, "top.qcow2", NULL);
  const char *c1[] = { "qemu-img", "create", "-q", "-f", "qcow2", base, "4M", NULL };
  const char *c2[] = { "qemu-img", "create", "-q", "-f", "raw", raw, "4M", NULL };
  const char *c3[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F",
                       "qcow2", top, NULL };
  const char *w1[] = { "qemu-io", "-c", "write -P 0x31 0 1M", base, NULL };
  const char *w2[] = { "qemu-io", "-f", "raw", "-c", "write -P 0x42 1M 1M", raw, NULL };
  const char *w3[] = { "qemu-io", "-c", "write -P 0x53 2M 64k", top, NULL };
  g_assert_cmpint (run (NULL, c1), ==, 0);
  g_assert_cmpint (run (NULL, c2), ==, 0);
  g_assert_cmpint (run (NULL, c3), ==, 0);
  g_assert_cmpint (run (NULL, w1), ==, 0);
  g_assert_cmpint (run (NULL, w2), ==, 0);
  g_assert_cmpint (run (NULL, w3), ==, 0);

  g_assert_true (qcow2_rebase (top, "other.raw", "raw", &error));
  g_assert_no_error (error);
  assert_check (top, FALSE);
  g_autofree char *chain = backing_chain (top);
  g_assert_cmpstr (chain, ==, "top.qcow2 > other.raw");
  assert_pattern (top, 0, MiB, 0x31);
  assert_pattern (top, MiB, MiB, 0); /* the raw image's data is hidden */
  assert_pattern (top, 2 * MiB, 65536, 0x53);

  g_assert_true (qcow2_rebase (top, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_check (top, FALSE);
  g_autofree char *chain2 = backing_chain (top);
  g_assert_cmpstr (chain2, ==, "top.qcow2");
  assert_pattern (top, 0, MiB, 0x31);
  assert_pattern (top, MiB, MiB, 0);
  assert_pattern (top, 2 * MiB, 65536, 0x53);

  /* Not a qcow2 image: refused, untouched. */
  g_assert_false (qcow2_set_backing (raw, "x", NULL, &error));
  g_assert_nonnull (strstr (error->message, "not a qcow2 image"));
  assert_pattern (raw, MiB, MiB, 0x42);
  rm_rf (dir);
}

/* A delete a crash interrupted after rebasing the children leaves images
 * backed by their grandparent while the tree still has the node; deleting
 * the grandparent later must find them by their headers. */
static void
test_delete_after_interrupted_delete (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SKIP_WITHOUT_QEMU ();
  g_autofree char *s0 = take (f, "s0");
  g_autofree char *r0 = running (f);
  write_pattern (r0, MiB, MiB, 0x10);
  g_autofree char *s1 = take (f, "s1");
  g_autofree char *r1 = running (f);
  write_pattern (r1, 2 * MiB, MiB, 0x20);
  g_autofree char *s2 = take (f, "s2");
  g_autofree char *r2 = running (f);
  write_pattern (r2, 3 * MiB, MiB, 0x30);
  g_autofree char *s3 = take (f, "s3");
  g_autofree char *f1 = frozen (f, s1), *f3 = frozen (f, s3);

  /* What "delete s2" does before it rewrites tree.ini. */
  g_autofree char *f1_name = g_path_get_basename (f1);
  g_assert_true (qcow2_rebase (f3, f1_name, "qcow2", &error));
  g_assert_no_error (error);

  g_assert_true (snapshot_tree_delete (f->tree, s1, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (f1, G_FILE_TEST_EXISTS));
  assert_check (f3, FALSE);
  g_autofree char *chain = backing_chain (f3);
  g_assert_true (g_str_has_suffix (chain, " > disk.qcow2"));
  assert_pattern (f3, 0, MiB, 0xa1);
  assert_pattern (f3, MiB, MiB, 0x10);
  assert_pattern (f3, 2 * MiB, MiB, 0x20);
  assert_pattern (f3, 3 * MiB, MiB, 0x30);
  g_autofree char *r = running (f);
  assert_pattern (r, 3 * MiB, MiB, 0x30);
  g_assert_cmpuint (snapshot_tree_collect_garbage (f->tree), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/snapshot-tree/delete-after-interrupted-delete", Fixture, NULL, fixture_setup,
              test_delete_after_interrupted_delete, fixture_teardown);
  g_test_add_func ("/snapshot-tree/rebase-qemu-images", test_rebase_qemu_images);
  g_test_add ("/snapshot-tree/take-revert", Fixture, NULL, fixture_setup, test_take_revert,
              fixture_teardown);
  g_test_add ("/snapshot-tree/delete-middle-and-current", Fixture, NULL, fixture_setup,
              test_delete_middle_and_current, fixture_teardown);
  g_test_add ("/snapshot-tree/delete-root-two-children-and-clone", Fixture, NULL,
              fixture_setup, test_delete_root_two_children_and_clone, fixture_teardown);
  g_test_add ("/snapshot-tree/corrupt-tree-ini", Fixture, NULL, fixture_setup,
              test_corrupt_tree_ini, fixture_teardown);
  g_test_add ("/snapshot-tree/crash-consistency", Fixture, NULL, fixture_setup,
              test_crash_consistency, fixture_teardown);
  return g_test_run ();
}
