/* VireoLibrary: scans the library directory; every subdirectory is one VM.
 * The list is kept sorted by name so views need no sorter of their own.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "vireo-library.h"

struct _VireoLibrary
{
  GObject parent_instance;

  char *root;
  GPtrArray *vms; /* VireoVm, sorted by name */
};

static void vireo_library_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (VireoLibrary, vireo_library, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      vireo_library_list_model_init))

static GType
get_item_type (GListModel *model)
{
  return VIREO_TYPE_VM;
}

static guint
get_n_items (GListModel *model)
{
  return VIREO_LIBRARY (model)->vms->len;
}

static gpointer
get_item (GListModel *model, guint position)
{
  VireoLibrary *self = VIREO_LIBRARY (model);

  if (position >= self->vms->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->vms, position));
}

static void
vireo_library_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = get_item_type;
  iface->get_n_items = get_n_items;
  iface->get_item = get_item;
}

static void
vireo_library_finalize (GObject *object)
{
  VireoLibrary *self = VIREO_LIBRARY (object);

  g_free (self->root);
  g_ptr_array_unref (self->vms);
  G_OBJECT_CLASS (vireo_library_parent_class)->finalize (object);
}

static void
vireo_library_class_init (VireoLibraryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = vireo_library_finalize;
}

static void
vireo_library_init (VireoLibrary *self)
{
  self->vms = g_ptr_array_new_with_free_func (g_object_unref);
}

char *
vireo_library_default_root (void)
{
  return g_build_filename (g_get_user_data_dir (), "vireo", "vms", NULL);
}

VireoLibrary *
vireo_library_new (const char *root)
{
  VireoLibrary *self = g_object_new (VIREO_TYPE_LIBRARY, NULL);

  self->root = root ? g_strdup (root) : vireo_library_default_root ();
  return self;
}

const char *
vireo_library_get_root (VireoLibrary *self)
{
  return self->root;
}

static int
compare_vms (gconstpointer a, gconstpointer b)
{
  VireoVm *va = *(VireoVm **) a, *vb = *(VireoVm **) b;
  g_autofree char *fa = g_utf8_casefold (vireo_vm_get_name (va), -1);
  g_autofree char *fb = g_utf8_casefold (vireo_vm_get_name (vb), -1);
  g_autofree char *ka = g_utf8_collate_key (fa, -1);
  g_autofree char *kb = g_utf8_collate_key (fb, -1);
  int r = strcmp (ka, kb);

  return r ? r : strcmp (vireo_vm_get_id (va), vireo_vm_get_id (vb));
}

void
vireo_library_scan (VireoLibrary *self)
{
  g_autoptr (GDir) d = g_dir_open (self->root, 0, NULL);
  guint old_len = self->vms->len;
  const char *entry;

  g_ptr_array_set_size (self->vms, 0);
  while (d && (entry = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (self->root, entry, NULL);

      if (entry[0] == '.' || !g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      g_ptr_array_add (self->vms, vireo_vm_new_from_dir (path));
    }
  g_ptr_array_sort (self->vms, compare_vms);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, old_len, self->vms->len);
}

VireoVm *
vireo_library_find (VireoLibrary *self, const char *id_or_name)
{
  for (guint i = 0; i < self->vms->len; i++)
    {
      VireoVm *vm = g_ptr_array_index (self->vms, i);
      if (g_strcmp0 (vireo_vm_get_id (vm), id_or_name) == 0)
        return vm;
    }
  for (guint i = 0; i < self->vms->len; i++)
    {
      VireoVm *vm = g_ptr_array_index (self->vms, i);
      if (g_strcmp0 (vireo_vm_get_name (vm), id_or_name) == 0)
        return vm;
    }
  return NULL;
}

/* An id readable in a terminal ("demo-vm-3f2a") and safe as a file name. */
static char *
make_id (const char *name)
{
  GString *id = g_string_new (NULL);
  g_autofree char *ascii = g_str_to_ascii (name, "C");

  for (const char *p = ascii; *p && id->len < 24; p++)
    {
      if (g_ascii_isalnum (*p))
        g_string_append_c (id, g_ascii_tolower (*p));
      else if (id->len && id->str[id->len - 1] != '-')
        g_string_append_c (id, '-');
    }
  while (id->len && id->str[id->len - 1] == '-')
    g_string_truncate (id, id->len - 1);
  if (!id->len)
    g_string_append (id, "vm");
  g_string_append_printf (id, "-%04x", g_random_int_range (0, 0x10000));
  return g_string_free (id, FALSE);
}

VireoVm *
vireo_library_create_vm (VireoLibrary *self, const VireoVmConfig *config, GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *file = NULL;
  g_autofree char *path = NULL;
  VireoVm *vm;
  guint pos;

  if (!vireo_vm_config_validate (config, error))
    return NULL;
  if (g_mkdir_with_parents (self->root, 0700) < 0)
    {
      int err = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
                   _("Cannot create the library folder %s: %s"), self->root, g_strerror (err));
      return NULL;
    }
  for (int attempt = 0; attempt < 16 && !dir; attempt++)
    {
      g_autofree char *id = make_id (config->name);
      g_autofree char *candidate = g_build_filename (self->root, id, NULL);

      if (g_mkdir (candidate, 0700) == 0)
        dir = g_steal_pointer (&candidate);
      else if (errno != EEXIST)
        {
          int err = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err),
                       _("Cannot create %s: %s"), candidate, g_strerror (err));
          return NULL;
        }
    }
  if (!dir)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, _("No free folder name for the VM"));
      return NULL;
    }
  file = g_strconcat (config->name, ".vireo", NULL);
  path = g_build_filename (dir, file, NULL);
  if (!vireo_vm_config_save (config, path, error))
    {
      g_rmdir (dir);
      return NULL;
    }
  vm = vireo_vm_new_from_dir (dir);
  g_ptr_array_add (self->vms, vm);
  g_ptr_array_sort (self->vms, compare_vms);
  g_ptr_array_find (self->vms, vm, &pos);
  g_list_model_items_changed (G_LIST_MODEL (self), pos, 0, 1);
  return vm;
}

gboolean
vireo_library_rename_vm (VireoLibrary *self, VireoVm *vm, const char *name, GError **error)
{
  if (!vireo_vm_rename (vm, name, error))
    return FALSE;
  g_ptr_array_sort (self->vms, compare_vms);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, self->vms->len, self->vms->len);
  return TRUE;
}

static gboolean
remove_tree (GFile *file, GError **error)
{
  g_autoptr (GFileEnumerator) e = g_file_enumerate_children (
      file, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
      G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);

  if (e)
    {
      GFileInfo *info;
      GFile *child;

      while (g_file_enumerator_iterate (e, &info, &child, NULL, error) && info)
        {
          if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
            {
              if (!remove_tree (child, error))
                return FALSE;
            }
          else if (!g_file_delete (child, NULL, error))
            return FALSE;
        }
    }
  return g_file_delete (file, NULL, error);
}

gboolean
vireo_library_delete_vm (VireoLibrary *self, VireoVm *vm, GError **error)
{
  g_autoptr (GFile) dir = g_file_new_for_path (vireo_vm_get_dir (vm));
  guint pos;

  if (!g_ptr_array_find (self->vms, vm, &pos))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("The VM is not in the library"));
      return FALSE;
    }
  if (g_strcmp0 (vireo_vm_get_state (vm), "stopped") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   _("“%s” is running; power it off first"), vireo_vm_get_name (vm));
      return FALSE;
    }
  if (!remove_tree (dir, error))
    return FALSE;
  g_ptr_array_remove_index (self->vms, pos);
  g_list_model_items_changed (G_LIST_MODEL (self), pos, 1, 0);
  return TRUE;
}
