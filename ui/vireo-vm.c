/* VireoVm: a library entry. Loads `<dir>/<name>.vireo`; a config that does
 * not load makes the VM "broken" with the reason instead of failing the
 * library. The state mirrors the helper's State property while it runs.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "vireo-vm.h"

struct _VireoVm
{
  GObject parent_instance;

  char *dir;
  char *id;
  char *config_path;
  VireoVmConfig *config;
  char *broken_reason;
  char *state;
  char *state_reason;
};

G_DEFINE_FINAL_TYPE (VireoVm, vireo_vm, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_BROKEN,
  PROP_BROKEN_REASON,
  PROP_STATE,
  PROP_STATE_REASON,
  PROP_GUEST_TYPE,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

static void
vireo_vm_finalize (GObject *object)
{
  VireoVm *self = VIREO_VM (object);

  g_free (self->dir);
  g_free (self->id);
  g_free (self->config_path);
  vireo_vm_config_free (self->config);
  g_free (self->broken_reason);
  g_free (self->state);
  g_free (self->state_reason);
  G_OBJECT_CLASS (vireo_vm_parent_class)->finalize (object);
}

static void
vireo_vm_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  VireoVm *self = VIREO_VM (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_NAME:
      g_value_set_string (value, vireo_vm_get_name (self));
      break;
    case PROP_BROKEN:
      g_value_set_boolean (value, vireo_vm_is_broken (self));
      break;
    case PROP_BROKEN_REASON:
      g_value_set_string (value, self->broken_reason);
      break;
    case PROP_STATE:
      g_value_set_string (value, self->state);
      break;
    case PROP_STATE_REASON:
      g_value_set_string (value, self->state_reason);
      break;
    case PROP_GUEST_TYPE:
      g_value_set_string (value, self->config ? self->config->guest_type : NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
vireo_vm_class_init (VireoVmClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = vireo_vm_finalize;
  object_class->get_property = vireo_vm_get_property;

  props[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL,
                                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL,
                                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_BROKEN] = g_param_spec_boolean ("broken", NULL, NULL, FALSE,
                                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_BROKEN_REASON] = g_param_spec_string ("broken-reason", NULL, NULL, NULL,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_STATE] = g_param_spec_string ("state", NULL, NULL, "stopped",
                                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_STATE_REASON] = g_param_spec_string ("state-reason", NULL, NULL, NULL,
                                                  G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  props[PROP_GUEST_TYPE] = g_param_spec_string ("guest-type", NULL, NULL, NULL,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);
}

static void
vireo_vm_init (VireoVm *self)
{
  self->state = g_strdup ("stopped");
}

static char *
find_config_file (const char *dir, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, error);
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  if (!d)
    return NULL;
  while ((entry = g_dir_read_name (d)))
    if (g_str_has_suffix (entry, ".vireo"))
      g_ptr_array_add (found, g_strdup (entry));
  if (found->len == 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, _("No .vireo configuration file"));
      return NULL;
    }
  /* Several files can only come from a crash mid-rename: take a stable one. */
  g_ptr_array_sort (found, (GCompareFunc) g_strcmp0);
  return g_build_filename (dir, g_ptr_array_index (found, 0), NULL);
}

gboolean
vireo_vm_reload (VireoVm *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = find_config_file (self->dir, &error);
  VireoVmConfig *config = NULL;

  if (path)
    config = vireo_vm_config_load (path, &error);
  g_free (self->config_path);
  self->config_path = g_steal_pointer (&path);
  vireo_vm_config_free (self->config);
  self->config = config;
  g_free (self->broken_reason);
  self->broken_reason = config ? NULL : g_strdup (error->message);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_NAME]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BROKEN]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_BROKEN_REASON]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_GUEST_TYPE]);
  return config != NULL;
}

VireoVm *
vireo_vm_new_from_dir (const char *dir)
{
  VireoVm *self = g_object_new (VIREO_TYPE_VM, NULL);

  self->dir = g_strdup (dir);
  self->id = g_path_get_basename (dir);
  vireo_vm_reload (self);
  return self;
}

const char *
vireo_vm_get_id (VireoVm *self)
{
  return self->id;
}

const char *
vireo_vm_get_dir (VireoVm *self)
{
  return self->dir;
}

const char *
vireo_vm_get_config_path (VireoVm *self)
{
  return self->config_path;
}

const char *
vireo_vm_get_name (VireoVm *self)
{
  /* A broken VM still needs a label: its directory name. */
  return self->config ? self->config->name : self->id;
}

const VireoVmConfig *
vireo_vm_get_config (VireoVm *self)
{
  return self->config;
}

gboolean
vireo_vm_is_broken (VireoVm *self)
{
  return self->config == NULL;
}

const char *
vireo_vm_get_broken_reason (VireoVm *self)
{
  return self->broken_reason;
}

const char *
vireo_vm_get_state (VireoVm *self)
{
  return self->state;
}

const char *
vireo_vm_get_state_reason (VireoVm *self)
{
  return self->state_reason;
}

char *
vireo_vm_dup_socket_path (VireoVm *self)
{
  g_autofree char *file = g_strconcat (self->id, ".sock", NULL);

  return g_build_filename (g_get_user_runtime_dir (), "vireo", file, NULL);
}

void
vireo_vm_set_state (VireoVm *self, const char *state, const char *reason)
{
  if (g_strcmp0 (self->state_reason, reason) != 0)
    {
      g_free (self->state_reason);
      self->state_reason = g_strdup (reason);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE_REASON]);
    }
  if (g_strcmp0 (self->state, state) != 0)
    {
      g_free (self->state);
      self->state = g_strdup (state);
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
    }
}

gboolean
vireo_vm_update_config (VireoVm *self, const VireoVmConfig *config, GError **error)
{
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;

  if (!vireo_vm_config_validate (config, error))
    return FALSE;
  file = g_strconcat (config->name, ".vireo", NULL);
  path = g_build_filename (self->dir, file, NULL);
  /* Write the new file first: if anything fails, the old one is intact. */
  if (!vireo_vm_config_save (config, path, error))
    return FALSE;
  if (self->config_path && g_strcmp0 (self->config_path, path) != 0)
    g_unlink (self->config_path);
  vireo_vm_reload (self);
  return TRUE;
}

gboolean
vireo_vm_rename (VireoVm *self, const char *new_name, GError **error)
{
  g_autoptr (VireoVmConfig) config = NULL;

  if (!self->config)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("A broken virtual machine cannot be renamed: %s"), self->broken_reason);
      return FALSE;
    }
  if (!vireo_vm_name_is_valid (new_name, error))
    return FALSE;
  config = vireo_vm_config_copy (self->config);
  g_free (config->name);
  config->name = g_strdup (new_name);
  return vireo_vm_update_config (self, config, error);
}
