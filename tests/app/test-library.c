/* VireoLibrary: scanning, adding, renaming, deleting, broken-VM isolation. */
#include "config.h"

#include <glib/gstdio.h>

#include "vireo-library.h"

typedef struct {
  char *root;
  guint changes;
} Fixture;

static void
write_file (const char *root, const char *id, const char *file, const char *text)
{
  g_autofree char *dir = g_build_filename (root, id, NULL);
  g_autofree char *path = g_build_filename (dir, file, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *e;

  while (d && (e = g_dir_read_name (d)))
    {
      g_autofree char *child = g_build_filename (path, e, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->root = g_dir_make_tmp ("vireo-library-XXXXXX", NULL);
  write_file (f->root, "alpha", "Alpha.vireo",
              "[vm]\nname=Alpha\nguest-type=linux-direct\nkernel=/k\n");
  write_file (f->root, "beta", "Beta.vireo",
              "[vm]\nname=Beta\nguest-type=linux-direct\nkernel=/k\ncpus=4\n");
  write_file (f->root, "corrupt", "Corrupt.vireo",
              "[vm]\nname=Corrupt\nguest-type=linux-direct\nkernel=/k\ncpus=many\n");
  write_file (f->root, "empty", "notes.txt", "no config here");
  write_file (f->root, "binary", "Bin.vireo", "\xff\xfe\x00garbage");
}

static void
teardown (Fixture *f, gconstpointer data)
{
  remove_tree (f->root);
  g_free (f->root);
}

static void
count_changes (GListModel *model, guint pos, guint removed, guint added, Fixture *f)
{
  f->changes++;
}

static VireoVm *
item (VireoLibrary *lib, guint i)
{
  g_autoptr (VireoVm) vm = g_list_model_get_item (G_LIST_MODEL (lib), i);
  return vm; /* the library keeps its own reference */
}

static void
test_scan (Fixture *f, gconstpointer data)
{
  g_autoptr (VireoLibrary) lib = vireo_library_new (f->root);
  VireoVm *alpha, *beta, *corrupt, *empty, *binary;

  vireo_library_scan (lib);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (lib)), ==, 5);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (lib)) == VIREO_TYPE_VM);

  alpha = vireo_library_find (lib, "Alpha");
  beta = vireo_library_find (lib, "beta");
  corrupt = vireo_library_find (lib, "corrupt");
  empty = vireo_library_find (lib, "empty");
  binary = vireo_library_find (lib, "binary");
  g_assert_nonnull (alpha);
  g_assert_false (vireo_vm_is_broken (alpha));
  g_assert_cmpuint (vireo_vm_get_config (beta)->cpus, ==, 4);
  g_assert_cmpstr (vireo_vm_get_state (beta), ==, "stopped");

  /* Broken VMs are listed with a reason and do not affect the others. */
  g_assert_true (vireo_vm_is_broken (corrupt));
  g_assert_nonnull (g_strstr_len (vireo_vm_get_broken_reason (corrupt), -1, "cpus"));
  g_assert_cmpstr (vireo_vm_get_name (corrupt), ==, "corrupt");
  g_assert_true (vireo_vm_is_broken (empty));
  g_assert_nonnull (g_strstr_len (vireo_vm_get_broken_reason (empty), -1, ".vireo"));
  g_assert_true (vireo_vm_is_broken (binary));
  g_assert_nonnull (g_strstr_len (vireo_vm_get_broken_reason (binary), -1, "UTF-8"));

  /* Sorted by name (broken VMs by folder name). */
  g_assert_true (item (lib, 0) == alpha);
  g_assert_true (item (lib, 1) == beta);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (lib), 5));
}

static void
test_missing_root (void)
{
  g_autoptr (VireoLibrary) lib = vireo_library_new ("/nonexistent/vireo/vms");

  vireo_library_scan (lib);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (lib)), ==, 0);
}

static void
test_add (Fixture *f, gconstpointer data)
{
  g_autoptr (VireoLibrary) lib = vireo_library_new (f->root);
  g_autoptr (VireoVmConfig) c = vireo_vm_config_new_default ("Gamma / bad");
  g_autoptr (GError) error = NULL;
  g_autoptr (VireoLibrary) again = vireo_library_new (f->root);
  VireoVm *vm;

  vireo_library_scan (lib);
  g_signal_connect (lib, "items-changed", G_CALLBACK (count_changes), f);

  /* Invalid: no kernel, and a "/" in the name. Nothing is created. */
  g_assert_null (vireo_library_create_vm (lib, c, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  c->kernel = g_strdup ("/boot/vmlinuz");
  g_assert_null (vireo_library_create_vm (lib, c, &error));
  g_clear_error (&error);
  g_assert_cmpuint (f->changes, ==, 0);

  g_free (c->name);
  c->name = g_strdup ("Gamma");
  vm = vireo_library_create_vm (lib, c, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->changes, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (lib)), ==, 6);
  g_assert_true (g_str_has_prefix (vireo_vm_get_id (vm), "gamma-"));
  g_assert_true (g_str_has_suffix (vireo_vm_get_config_path (vm), "/Gamma.vireo"));

  /* A fresh scan sees the same VM. */
  vireo_library_scan (again);
  g_assert_nonnull (vireo_library_find (again, "Gamma"));
  g_assert_false (vireo_vm_is_broken (vireo_library_find (again, "Gamma")));
}

static void
test_rename (Fixture *f, gconstpointer data)
{
  g_autoptr (VireoLibrary) lib = vireo_library_new (f->root);
  g_autoptr (VireoLibrary) again = vireo_library_new (f->root);
  g_autoptr (GError) error = NULL;
  g_autofree char *old_path = NULL;
  VireoVm *alpha, *corrupt;

  vireo_library_scan (lib);
  alpha = vireo_library_find (lib, "Alpha");
  old_path = g_strdup (vireo_vm_get_config_path (alpha));

  g_assert_false (vireo_library_rename_vm (lib, alpha, "", &error));
  g_clear_error (&error);
  g_assert_false (vireo_library_rename_vm (lib, alpha, "x/y", &error));
  g_clear_error (&error);
  g_assert_true (g_file_test (old_path, G_FILE_TEST_EXISTS));

  g_assert_true (vireo_library_rename_vm (lib, alpha, "Zulu", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (vireo_vm_get_name (alpha), ==, "Zulu");
  g_assert_false (g_file_test (old_path, G_FILE_TEST_EXISTS));
  g_assert_true (g_str_has_suffix (vireo_vm_get_config_path (alpha), "/Zulu.vireo"));
  /* Resorted: Zulu comes after Beta now. */
  g_assert_true (item (lib, 0) == vireo_library_find (lib, "Beta"));

  vireo_library_scan (again);
  g_assert_nonnull (vireo_library_find (again, "Zulu"));
  g_assert_null (vireo_library_find (again, "Alpha"));

  corrupt = vireo_library_find (lib, "corrupt");
  g_assert_false (vireo_library_rename_vm (lib, corrupt, "Fixed", &error));
  g_assert_nonnull (error);
}

static void
test_delete (Fixture *f, gconstpointer data)
{
  g_autoptr (VireoLibrary) lib = vireo_library_new (f->root);
  g_autoptr (GError) error = NULL;
  g_autofree char *beta_dir = g_build_filename (f->root, "beta", NULL);
  g_autofree char *corrupt_dir = g_build_filename (f->root, "corrupt", NULL);
  VireoVm *beta, *corrupt;

  vireo_library_scan (lib);
  beta = vireo_library_find (lib, "Beta");

  /* A running VM is not deleted. */
  vireo_vm_set_state (beta, "running", NULL);
  g_assert_false (vireo_library_delete_vm (lib, beta, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_true (g_file_test (beta_dir, G_FILE_TEST_IS_DIR));

  vireo_vm_set_state (beta, "stopped", NULL);
  write_file (f->root, "beta/snapshots", "s1.state", "x");
  g_assert_true (vireo_library_delete_vm (lib, beta, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (beta_dir, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (lib)), ==, 4);
  g_assert_null (vireo_library_find (lib, "Beta"));

  /* Broken VMs can be deleted too. */
  corrupt = vireo_library_find (lib, "corrupt");
  g_assert_true (vireo_library_delete_vm (lib, corrupt, &error));
  g_assert_false (g_file_test (corrupt_dir, G_FILE_TEST_EXISTS));
  g_assert_nonnull (vireo_library_find (lib, "Alpha"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/app/library/scan", Fixture, NULL, setup, test_scan, teardown);
  g_test_add_func ("/app/library/missing-root", test_missing_root);
  g_test_add ("/app/library/add", Fixture, NULL, setup, test_add, teardown);
  g_test_add ("/app/library/rename", Fixture, NULL, setup, test_rename, teardown);
  g_test_add ("/app/library/delete", Fixture, NULL, setup, test_delete, teardown);
  return g_test_run ();
}
