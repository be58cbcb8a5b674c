/* --disk option parsing: see virtio-blk-option.h. */
#include <string.h>
#include <gio/gio.h>

#include "vmm-core/virtio/virtio-blk-option.h"

/* Splits at single commas; ",," stands for a literal comma. */
static GPtrArray *
split_spec (const char *spec)
{
  GPtrArray *parts = g_ptr_array_new_with_free_func (g_free);
  GString *cur = g_string_new (NULL);
  for (const char *p = spec; *p; p++)
    {
      if (*p == ',' && p[1] == ',')
        {
          g_string_append_c (cur, ',');
          p++;
        }
      else if (*p == ',')
        {
          g_ptr_array_add (parts, g_string_free (cur, FALSE));
          cur = g_string_new (NULL);
        }
      else
        g_string_append_c (cur, *p);
    }
  g_ptr_array_add (parts, g_string_free (cur, FALSE));
  return parts;
}

bool
virtio_blk_option_parse (const char *spec, VirtioBlkOption *opt, GError **error)
{
  memset (opt, 0, sizeof *opt);
  g_autoptr (GPtrArray) parts = split_spec (spec ? spec : "");
  const char *path = g_ptr_array_index (parts, 0);
  if (!*path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--disk needs a file name: --disk PATH[,format=raw|qcow2][,readonly]");
      return false;
    }
  opt->path = g_strdup (path);
  for (guint i = 1; i < parts->len; i++)
    {
      const char *kv = g_ptr_array_index (parts, i);
      if (g_str_equal (kv, "readonly") || g_str_equal (kv, "readonly=on"))
        opt->read_only = true;
      else if (g_str_equal (kv, "readonly=off"))
        opt->read_only = false;
      else if (g_str_has_prefix (kv, "format="))
        {
          const char *f = kv + 7;
          if (!g_str_equal (f, "raw") && !g_str_equal (f, "qcow2"))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "--disk %s: unknown format '%s' (raw or qcow2)", opt->path, f);
              virtio_blk_option_clear (opt);
              return false;
            }
          g_free (opt->format);
          opt->format = g_strdup (f);
        }
      else if (g_str_has_prefix (kv, "serial="))
        {
          const char *s = kv + 7;
          if (strlen (s) > VIRTIO_BLK_ID_BYTES)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "--disk %s: serial longer than %d characters", opt->path,
                           VIRTIO_BLK_ID_BYTES);
              virtio_blk_option_clear (opt);
              return false;
            }
          g_free (opt->serial);
          opt->serial = g_strdup (s);
        }
      else
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "--disk %s: unknown setting '%s' (format=, readonly, serial=)", opt->path,
                       kv);
          virtio_blk_option_clear (opt);
          return false;
        }
    }
  return true;
}

void
virtio_blk_option_clear (VirtioBlkOption *opt)
{
  g_clear_pointer (&opt->path, g_free);
  g_clear_pointer (&opt->format, g_free);
  g_clear_pointer (&opt->serial, g_free);
}

VirtioBlk *
virtio_blk_new_from_option (GuestRam *ram, const VirtioBlkOption *opt, unsigned instance,
                            GError **error)
{
  BlockDev *bs
      = block_open (opt->path, opt->format, opt->read_only ? BLOCK_OPEN_READ_ONLY : 0, error);
  if (!bs)
    return NULL;
  VirtioBlk *blk = virtio_blk_new (ram, bs, opt->serial, instance);
  blk->owns_bs = true;
  return blk;
}
