/* VireoVmConfig: parse, validate and write `.vireo` key files.
 *
 * The file is a GKeyFile with one [vm] group. Every value is checked here so
 * the rest of the app (and the helper's command line) only ever sees sane
 * values; a bad file gives one clear line naming the key.
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n.h>

#include "vireo-vm-config.h"

#define GROUP "vm"

G_DEFINE_QUARK (vireo-vm-config-error-quark, vireo_vm_config_error)

VireoVmConfig *
vireo_vm_config_new_default (const char *name)
{
  VireoVmConfig *c = g_new0 (VireoVmConfig, 1);

  c->name = g_strdup (name);
  c->guest_type = g_strdup (VIREO_GUEST_TYPE_LINUX_DIRECT);
  c->memory_mib = 512;
  c->cpus = 1;
  c->disk_gib = 0;
  c->display_width = 1024;
  c->display_height = 768;
  c->engine = g_strdup ("auto");
  return c;
}

VireoVmConfig *
vireo_vm_config_copy (const VireoVmConfig *config)
{
  VireoVmConfig *c = g_memdup2 (config, sizeof *config);

  c->name = g_strdup (config->name);
  c->guest_type = g_strdup (config->guest_type);
  c->kernel = g_strdup (config->kernel);
  c->initrd = g_strdup (config->initrd);
  c->cmdline = g_strdup (config->cmdline);
  c->engine = g_strdup (config->engine);
  return c;
}

void
vireo_vm_config_free (VireoVmConfig *config)
{
  if (!config)
    return;
  g_free (config->name);
  g_free (config->guest_type);
  g_free (config->kernel);
  g_free (config->initrd);
  g_free (config->cmdline);
  g_free (config->engine);
  g_free (config);
}

gboolean
vireo_vm_name_is_valid (const char *name, GError **error)
{
  if (!name || !*name || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_INVALID_VALUE,
                   _("The name must not be empty"));
      return FALSE;
    }
  if (g_utf8_strlen (name, -1) > VIREO_VM_NAME_MAX)
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_INVALID_VALUE,
                   _("The name must be at most %d characters long"), VIREO_VM_NAME_MAX);
      return FALSE;
    }
  /* The name becomes a file name: no separators, no control characters. */
  for (const char *p = name; *p; p = g_utf8_next_char (p))
    {
      gunichar ch = g_utf8_get_char (p);
      if (ch == '/' || g_unichar_iscntrl (ch))
        {
          g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_INVALID_VALUE,
                       _("The name must not contain “/” or control characters"));
          return FALSE;
        }
    }
  if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_INVALID_VALUE,
                   _("The name must not be “.” or “..”"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
range_error (GError **error, const char *key, guint min, guint max)
{
  g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_INVALID_VALUE,
               _("Key “%s” must be a number between %u and %u"), key, min, max);
  return FALSE;
}

gboolean
vireo_vm_config_validate (const VireoVmConfig *c, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!vireo_vm_name_is_valid (c->name, &local))
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_INVALID_VALUE,
                   _("Key “%s”: %s"), "name", local->message);
      return FALSE;
    }
  if (g_strcmp0 (c->guest_type, VIREO_GUEST_TYPE_LINUX_DIRECT) != 0)
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_INVALID_VALUE,
                   _("Key “%s” has unknown guest type “%s”"), "guest-type",
                   c->guest_type ? c->guest_type : "");
      return FALSE;
    }
  if (!c->kernel || !*c->kernel)
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_MISSING_KEY,
                   _("Key “%s” is required for direct Linux boot"), "kernel");
      return FALSE;
    }
  if (c->memory_mib < VIREO_VM_MEMORY_MIN_MIB || c->memory_mib > VIREO_VM_MEMORY_MAX_MIB)
    return range_error (error, "memory-mib", VIREO_VM_MEMORY_MIN_MIB, VIREO_VM_MEMORY_MAX_MIB);
  if (c->cpus < 1 || c->cpus > VIREO_VM_CPUS_MAX)
    return range_error (error, "cpus", 1, VIREO_VM_CPUS_MAX);
  if (c->disk_gib > VIREO_VM_DISK_MAX_GIB)
    return range_error (error, "disk-gib", 0, VIREO_VM_DISK_MAX_GIB);
  if (c->display_width < VIREO_VM_DISPLAY_MIN_W || c->display_width > VIREO_VM_DISPLAY_MAX
      || c->display_height < VIREO_VM_DISPLAY_MIN_H || c->display_height > VIREO_VM_DISPLAY_MAX)
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_INVALID_VALUE,
                   _("Key “%s” must be WIDTHxHEIGHT between %dx%d and %dx%d"), "resolution",
                   VIREO_VM_DISPLAY_MIN_W, VIREO_VM_DISPLAY_MIN_H, VIREO_VM_DISPLAY_MAX,
                   VIREO_VM_DISPLAY_MAX);
      return FALSE;
    }
  if (g_strcmp0 (c->engine, "auto") != 0 && g_strcmp0 (c->engine, "kvm") != 0
      && g_strcmp0 (c->engine, "soft") != 0)
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_INVALID_VALUE,
                   _("Key “%s” must be “auto”, “kvm” or “soft”"), "engine");
      return FALSE;
    }
  return TRUE;
}

/* Reads a string; a missing optional key gives NULL without error. */
static gboolean
get_string (GKeyFile *kf, const char *key, gboolean required, char **out, GError **error)
{
  g_autoptr (GError) local = NULL;
  char *value = g_key_file_get_string (kf, GROUP, key, &local);

  if (!value)
    {
      if (g_error_matches (local, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND))
        {
          if (!required)
            return TRUE;
          g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_MISSING_KEY,
                       _("Key “%s” is missing"), key);
          return FALSE;
        }
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_PARSE,
                   _("Key “%s”: %s"), key, local->message);
      return FALSE;
    }
  g_free (*out);
  *out = value;
  return TRUE;
}

static gboolean
get_uint (GKeyFile *kf, const char *key, guint *out, GError **error)
{
  g_autofree char *text = NULL;
  guint64 value;

  if (!get_string (kf, key, FALSE, &text, error))
    return FALSE;
  if (!text)
    return TRUE; /* keep the default */
  g_strstrip (text);
  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &value, NULL))
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_INVALID_VALUE,
                   _("Key “%s” is not a number: “%s”"), key, text);
      return FALSE;
    }
  *out = (guint) value;
  return TRUE;
}

static gboolean
parse_resolution (const char *text, guint *w, guint *h)
{
  g_auto (GStrv) parts = g_strsplit (text, "x", 3);
  guint64 a, b;

  if (g_strv_length (parts) != 2
      || !g_ascii_string_to_unsigned (parts[0], 10, 1, 65535, &a, NULL)
      || !g_ascii_string_to_unsigned (parts[1], 10, 1, 65535, &b, NULL))
    return FALSE;
  *w = (guint) a;
  *h = (guint) b;
  return TRUE;
}

VireoVmConfig *
vireo_vm_config_parse (const char *data, gsize length, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (VireoVmConfig) c = vireo_vm_config_new_default (NULL);
  g_autoptr (GError) local = NULL;
  g_autofree char *resolution = NULL;

  if (!g_utf8_validate (data, length, NULL))
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_PARSE,
                   _("The file is not valid UTF-8 text"));
      return NULL;
    }
  if (!g_key_file_load_from_data (kf, data, length, G_KEY_FILE_NONE, &local))
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_PARSE,
                   _("Not a Vireo configuration file: %s"), local->message);
      return NULL;
    }
  if (!g_key_file_has_group (kf, GROUP))
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_MISSING_KEY,
                   _("Group [%s] is missing"), GROUP);
      return NULL;
    }
  if (!get_string (kf, "name", TRUE, &c->name, error)
      || !get_string (kf, "guest-type", TRUE, &c->guest_type, error)
      || !get_string (kf, "kernel", FALSE, &c->kernel, error)
      || !get_string (kf, "initrd", FALSE, &c->initrd, error)
      || !get_string (kf, "cmdline", FALSE, &c->cmdline, error)
      || !get_string (kf, "engine", FALSE, &c->engine, error)
      || !get_string (kf, "resolution", FALSE, &resolution, error)
      || !get_uint (kf, "memory-mib", &c->memory_mib, error)
      || !get_uint (kf, "cpus", &c->cpus, error)
      || !get_uint (kf, "disk-gib", &c->disk_gib, error))
    return NULL;
  if (resolution && !parse_resolution (resolution, &c->display_width, &c->display_height))
    {
      g_set_error (error, VIREO_VM_CONFIG_ERROR, VIREO_VM_CONFIG_ERROR_INVALID_VALUE,
                   _("Key “%s” must look like 1024x768, not “%s”"), "resolution",
                   resolution);
      return NULL;
    }
  if (c->initrd && !*c->initrd)
    g_clear_pointer (&c->initrd, g_free);
  if (!vireo_vm_config_validate (c, error))
    return NULL;
  return g_steal_pointer (&c);
}

VireoVmConfig *
vireo_vm_config_load (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize length;
  g_autoptr (GError) local = NULL;
  VireoVmConfig *c;

  if (!g_file_get_contents (path, &data, &length, error))
    return NULL;
  c = vireo_vm_config_parse (data, length, &local);
  if (!c)
    g_propagate_error (error, g_steal_pointer (&local));
  return c;
}

char *
vireo_vm_config_serialize (const VireoVmConfig *c)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autofree char *resolution = g_strdup_printf ("%ux%u", c->display_width, c->display_height);

  g_key_file_set_comment (kf, NULL, NULL, " Vireo virtual machine", NULL);
  g_key_file_set_string (kf, GROUP, "name", c->name);
  g_key_file_set_string (kf, GROUP, "guest-type", c->guest_type);
  if (c->kernel)
    g_key_file_set_string (kf, GROUP, "kernel", c->kernel);
  if (c->initrd)
    g_key_file_set_string (kf, GROUP, "initrd", c->initrd);
  if (c->cmdline)
    g_key_file_set_string (kf, GROUP, "cmdline", c->cmdline);
  g_key_file_set_uint64 (kf, GROUP, "memory-mib", c->memory_mib);
  g_key_file_set_uint64 (kf, GROUP, "cpus", c->cpus);
  g_key_file_set_uint64 (kf, GROUP, "disk-gib", c->disk_gib);
  g_key_file_set_string (kf, GROUP, "resolution", resolution);
  g_key_file_set_string (kf, GROUP, "engine", c->engine);
  return g_key_file_to_data (kf, NULL, NULL);
}

gboolean
vireo_vm_config_save (const VireoVmConfig *config, const char *path, GError **error)
{
  g_autofree char *data = NULL;

  if (!vireo_vm_config_validate (config, error))
    return FALSE;
  data = vireo_vm_config_serialize (config);
  /* g_file_set_contents writes a temporary file and renames it: a crash
   * leaves either the old or the new file, never half of one. */
  return g_file_set_contents_full (path, data, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}
