/* Every source file that marks strings with _() or N_() is in POTFILES.in,
 * and every listed file exists. */
#include "config.h"

#include <string.h>
#include <glib.h>

static gboolean
marks_strings (const char *path)
{
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  return strstr (text, "_(\"") || strstr (text, "N_(\"") || strstr (text, "translatable=\"yes\"");
}

static void
collect (const char *top, const char *rel, GPtrArray *out)
{
  g_autofree char *dir = g_build_filename (top, rel, NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *e;

  while (d && (e = g_dir_read_name (d)))
    {
      g_autofree char *relpath = g_build_filename (rel, e, NULL);
      g_autofree char *path = g_build_filename (top, relpath, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        collect (top, relpath, out);
      else if ((g_str_has_suffix (e, ".c") || g_str_has_suffix (e, ".ui")) && marks_strings (path))
        g_ptr_array_add (out, g_steal_pointer (&relpath));
    }
}

static void
test_complete (void)
{
  const char *top = g_getenv ("VIREO_SRCDIR");
  g_autofree char *potfiles = NULL;
  g_autofree char *list = NULL;
  g_autoptr (GPtrArray) marked = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) lines = NULL;

  if (!top)
    top = g_getenv ("G_TEST_SRCDIR");
  g_assert_nonnull (top);
  potfiles = g_build_filename (top, "po", "POTFILES.in", NULL);
  g_assert_true (g_file_get_contents (potfiles, &list, NULL, NULL));
  lines = g_strsplit (list, "\n", -1);

  collect (top, "ui", marked);
  collect (top, "app", marked);
  collect (top, "resources", marked);
  g_assert_cmpuint (marked->len, >, 0);
  for (guint i = 0; i < marked->len; i++)
    {
      const char *file = g_ptr_array_index (marked, i);
      if (!g_strv_contains ((const char *const *) lines, file))
        g_error ("%s uses _() but is not in po/POTFILES.in", file);
    }
  for (guint i = 0; lines[i]; i++)
    {
      g_autofree char *path = NULL;
      if (!*lines[i] || lines[i][0] == '#')
        continue;
      path = g_build_filename (top, lines[i], NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        g_error ("po/POTFILES.in lists %s, which does not exist", lines[i]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/po/potfiles-complete", test_complete);
  return g_test_run ();
}
