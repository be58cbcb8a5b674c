/* VireoVmConfig: valid files, missing keys, bad values, corrupt data. */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "vireo-vm-config.h"

static const char *valid =
  "[vm]\n"
  "name = Demo VM\n"
  "guest-type = linux-direct\n"
  "kernel = /boot/vmlinuz\n"
  "initrd = /boot/initrd.img\n"
  "cmdline = console=ttyS0 quiet\n"
  "memory-mib = 768\n"
  "cpus = 2\n"
  "disk-gib = 8\n"
  "resolution = 1280x800\n"
  "engine = soft\n";

static VireoVmConfig *
parse (const char *text, GError **error)
{
  return vireo_vm_config_parse (text, strlen (text), error);
}

static void
test_valid (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VireoVmConfig) c = parse (valid, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->name, ==, "Demo VM");
  g_assert_cmpstr (c->guest_type, ==, "linux-direct");
  g_assert_cmpstr (c->kernel, ==, "/boot/vmlinuz");
  g_assert_cmpstr (c->initrd, ==, "/boot/initrd.img");
  g_assert_cmpstr (c->cmdline, ==, "console=ttyS0 quiet");
  g_assert_cmpuint (c->memory_mib, ==, 768);
  g_assert_cmpuint (c->cpus, ==, 2);
  g_assert_cmpuint (c->disk_gib, ==, 8);
  g_assert_cmpuint (c->display_width, ==, 1280);
  g_assert_cmpuint (c->display_height, ==, 800);
  g_assert_cmpstr (c->engine, ==, "soft");
}

static void
test_defaults (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VireoVmConfig) c = parse ("[vm]\nname=x\nguest-type=linux-direct\nkernel=/k\n",
                                       &error);

  g_assert_no_error (error);
  g_assert_null (c->initrd);
  g_assert_cmpuint (c->memory_mib, ==, 512);
  g_assert_cmpuint (c->cpus, ==, 1);
  g_assert_cmpuint (c->display_width, ==, 1024);
  g_assert_cmpstr (c->engine, ==, "auto");
}

static void
test_round_trip (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (VireoVmConfig) a = parse (valid, &error);
  g_autofree char *text = vireo_vm_config_serialize (a);
  g_autoptr (VireoVmConfig) b = parse (text, &error);
  g_autofree char *again = NULL;

  g_assert_no_error (error);
  again = vireo_vm_config_serialize (b);
  g_assert_cmpstr (text, ==, again);
  g_assert_cmpstr (b->cmdline, ==, a->cmdline);
  g_assert_cmpuint (b->display_height, ==, 800);
}

typedef struct {
  const char *remove_key;  /* drop this line from the valid file */
  const char *replace;     /* or replace the line starting with the same key */
  int code;
  const char *in_message;
} BadCase;

static const BadCase bad_cases[] = {
  { "name", NULL, VIREO_VM_CONFIG_ERROR_MISSING_KEY, "name" },
  { "guest-type", NULL, VIREO_VM_CONFIG_ERROR_MISSING_KEY, "guest-type" },
  { "kernel", NULL, VIREO_VM_CONFIG_ERROR_MISSING_KEY, "kernel" },
  { NULL, "guest-type = windows", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "windows" },
  { NULL, "memory-mib = 8", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "memory-mib" },
  { NULL, "memory-mib = lots", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "lots" },
  { NULL, "memory-mib = -5", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "memory-mib" },
  { NULL, "memory-mib = 99999999999999999999", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "memory" },
  { NULL, "cpus = 0", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "cpus" },
  { NULL, "cpus = 65", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "cpus" },
  { NULL, "disk-gib = 99999", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "disk-gib" },
  { NULL, "resolution = 1024", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "resolution" },
  { NULL, "resolution = 10x10", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "resolution" },
  { NULL, "resolution = 1024x768x2", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "resolution" },
  { NULL, "engine = fast", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "engine" },
  { NULL, "name = a/b", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "name" },
  { NULL, "name = ..", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "name" },
  { NULL, "name = ", VIREO_VM_CONFIG_ERROR_INVALID_VALUE, "name" },
};

static char *
edit_valid (const BadCase *bc)
{
  g_auto (GStrv) lines = g_strsplit (valid, "\n", -1);
  GString *out = g_string_new (NULL);
  const char *key = bc->remove_key;
  g_autofree char *replace_key = NULL;

  if (bc->replace)
    replace_key = g_strndup (bc->replace, strcspn (bc->replace, " ="));
  for (guint i = 0; lines[i]; i++)
    {
      if (!*lines[i])
        continue;
      if (key && g_str_has_prefix (lines[i], key) && lines[i][strlen (key)] == ' ')
        continue;
      if (replace_key && g_str_has_prefix (lines[i], replace_key)
          && lines[i][strlen (replace_key)] == ' ')
        g_string_append_printf (out, "%s\n", bc->replace);
      else
        g_string_append_printf (out, "%s\n", lines[i]);
    }
  return g_string_free (out, FALSE);
}

static void
test_bad_values (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = edit_valid (&bad_cases[i]);
      g_autoptr (VireoVmConfig) c = parse (text, &error);

      g_test_message ("case %u: %s", i, error ? error->message : "(accepted)");
      g_assert_null (c);
      g_assert_error (error, VIREO_VM_CONFIG_ERROR, bad_cases[i].code);
      g_assert_nonnull (strstr (error->message, bad_cases[i].in_message));
      g_assert_null (strchr (error->message, '\n'));
    }
}

static void
test_corrupt (void)
{
  static const char *corrupt[] = {
    "",
    "this is not a key file",
    "[vm\nname=x\n",
    "[other]\nname=x\n",
    "\x89PNG\r\n\x1a\n\0\0\0",
    "[vm]\nname=\xff\xfe\n",
    "[vm]\nname=x\nguest-type=linux-direct\nkernel=/k\ncpus=\xc3\x28\n",
  };
  static const gsize lengths[] = { 0, 0, 0, 0, 11, 0, 0 };

  for (guint i = 0; i < G_N_ELEMENTS (corrupt); i++)
    {
      g_autoptr (GError) error = NULL;
      gsize len = lengths[i] ? lengths[i] : strlen (corrupt[i]);
      g_autoptr (VireoVmConfig) c = vireo_vm_config_parse (corrupt[i], len, &error);

      g_test_message ("corrupt %u: %s", i, error ? error->message : "(accepted)");
      g_assert_null (c);
      g_assert_true (error->domain == VIREO_VM_CONFIG_ERROR);
    }
}

static void
test_save_load (void)
{
  g_autofree char *dir = g_dir_make_tmp ("vireo-config-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "a.vireo", NULL);
  g_autoptr (VireoVmConfig) c = vireo_vm_config_new_default ("Ünïcödé VM");
  g_autoptr (VireoVmConfig) loaded = NULL;
  g_autoptr (GError) error = NULL;

  /* Invalid configs are never written. */
  g_assert_false (vireo_vm_config_save (c, path, &error));
  g_assert_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_MISSING_KEY);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  c->kernel = g_strdup ("/tmp/k with spaces");
  c->cmdline = g_strdup ("a=\"b c\" \\x");
  g_assert_true (vireo_vm_config_save (c, path, &error));
  loaded = vireo_vm_config_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (loaded->name, ==, "Ünïcödé VM");
  g_assert_cmpstr (loaded->kernel, ==, "/tmp/k with spaces");
  g_assert_cmpstr (loaded->cmdline, ==, "a=\"b c\" \\x");

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/config/valid", test_valid);
  g_test_add_func ("/app/config/defaults", test_defaults);
  g_test_add_func ("/app/config/round-trip", test_round_trip);
  g_test_add_func ("/app/config/bad-values", test_bad_values);
  g_test_add_func ("/app/config/corrupt", test_corrupt);
  g_test_add_func ("/app/config/save-load", test_save_load);
  return g_test_run ();
}
