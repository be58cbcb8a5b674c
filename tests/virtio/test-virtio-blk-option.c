/* --disk PATH[,format=raw|qcow2][,readonly][,serial=TEXT] parsing, and
 * opening a device from it (errors are one clear line). */
#include <glib/gstdio.h>

#include "vmm-core/virtio/virtio-blk-option.h"

static void
test_parse_good (void)
{
  VirtioBlkOption o;
  g_autoptr (GError) error = NULL;
  g_assert_true (virtio_blk_option_parse ("/tmp/a.qcow2", &o, &error));
  g_assert_cmpstr (o.path, ==, "/tmp/a.qcow2");
  g_assert_null (o.format);
  g_assert_false (o.read_only);
  virtio_blk_option_clear (&o);

  g_assert_true (
      virtio_blk_option_parse ("disk,,1.img,format=qcow2,readonly,serial=ABC", &o, &error));
  g_assert_cmpstr (o.path, ==, "disk,1.img");
  g_assert_cmpstr (o.format, ==, "qcow2");
  g_assert_cmpstr (o.serial, ==, "ABC");
  g_assert_true (o.read_only);
  virtio_blk_option_clear (&o);

  g_assert_true (virtio_blk_option_parse ("x.raw,format=raw,readonly=off", &o, &error));
  g_assert_cmpstr (o.format, ==, "raw");
  g_assert_false (o.read_only);
  virtio_blk_option_clear (&o);
}

static void
test_parse_bad (void)
{
  const char *bad[] = { "",
                        ",format=raw",
                        "a.img,format=vmdk",
                        "a.img,cache=none",
                        "a.img,serial=123456789012345678901",
                        "a.img,format=" };
  for (unsigned i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      VirtioBlkOption o;
      g_autoptr (GError) error = NULL;
      g_assert_false (virtio_blk_option_parse (bad[i], &o, &error));
      g_assert_nonnull (error);
      g_assert_null (strchr (error->message, '\n'));
      g_assert_null (o.path);
    }
}

static void
test_open (void)
{
  g_autoptr (GError) error = NULL;
  GuestRam ram;
  g_assert_true (guest_ram_init (&ram, 1 << 20, &error));
  g_autofree char *dir = g_dir_make_tmp ("virtio-opt-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "d.qcow2", NULL);
  g_assert_true (block_create_qcow2 (path, 1 << 20, 0, NULL, NULL, &error));

  g_autofree char *spec = g_strdup_printf ("%s,format=qcow2,readonly", path);
  VirtioBlkOption o;
  g_assert_true (virtio_blk_option_parse (spec, &o, &error));
  VirtioBlk *blk = virtio_blk_new_from_option (&ram, &o, 2, &error);
  g_assert_no_error (error);
  g_assert_true (blk->read_only);
  g_assert_cmpuint (blk->capacity, ==, 2048);
  g_assert_cmpmem (blk->serial, 11, "vireo-disk2", 11);
  virtio_blk_free (blk);
  virtio_blk_option_clear (&o);

  /* A raw image opened as qcow2, and a missing file: clear errors. */
  g_autofree char *raw = g_build_filename (dir, "r.img", NULL);
  g_assert_true (block_create_raw (raw, 1 << 20, &error));
  g_autofree char *spec2 = g_strdup_printf ("%s,format=qcow2", raw);
  g_assert_true (virtio_blk_option_parse (spec2, &o, &error));
  g_assert_null (virtio_blk_new_from_option (&ram, &o, 0, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  virtio_blk_option_clear (&o);
  g_assert_true (virtio_blk_option_parse ("/nonexistent/disk.img", &o, &error));
  g_assert_null (virtio_blk_new_from_option (&ram, &o, 0, &error));
  g_assert_nonnull (error);
  virtio_blk_option_clear (&o);

  g_unlink (path);
  g_unlink (raw);
  g_rmdir (dir);
  guest_ram_destroy (&ram);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/virtio-blk-option/parse-good", test_parse_good);
  g_test_add_func ("/virtio-blk-option/parse-bad", test_parse_bad);
  g_test_add_func ("/virtio-blk-option/open", test_open);
  return g_test_run ();
}
