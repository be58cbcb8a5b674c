/* The --spice option string. */
#include "display/spice-display.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

void
spice_options_clear (SpiceOptions *o)
{
  g_clear_pointer (&o->unix_path, g_free);
  g_clear_pointer (&o->addr, g_free);
  if (o->password)
    memset (o->password, 0, strlen (o->password));
  g_clear_pointer (&o->password, g_free);
  o->port = 0;
}

bool
spice_options_parse (const char *spec, SpiceOptions *out, GError **error)
{
  memset (out, 0, sizeof *out);
  if (!spec || !*spec)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--spice needs unix=PATH or port=N[,addr=HOST][,password=SECRET]");
      return false;
    }
  g_auto (GStrv) parts = g_strsplit (spec, ",", -1);
  for (char **p = parts; *p; p++)
    {
      const char *eq = strchr (*p, '=');
      g_autofree char *key = eq ? g_strndup (*p, (gsize)(eq - *p)) : g_strdup (*p);
      const char *val = eq ? eq + 1 : NULL;
      if (!val || !*val)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "--spice: '%s' needs a value", key);
          goto fail;
        }
      if (strcmp (key, "unix") == 0)
        {
          g_free (out->unix_path);
          out->unix_path = g_strdup (val);
        }
      else if (strcmp (key, "port") == 0)
        {
          char *end;
          long port = strtol (val, &end, 10);
          if (*end || port < 1 || port > 65535)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "--spice: port must be 1-65535, not '%s'", val);
              goto fail;
            }
          out->port = (int)port;
        }
      else if (strcmp (key, "addr") == 0)
        {
          g_free (out->addr);
          out->addr = g_strdup (val);
        }
      else if (strcmp (key, "password") == 0)
        {
          g_free (out->password);
          out->password = g_strdup (val);
        }
      else
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "--spice: unknown option '%s'", key);
          goto fail;
        }
    }
  if (!out->unix_path == !out->port)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--spice: give exactly one of unix=PATH and port=N");
      goto fail;
    }
  if (out->unix_path && out->addr)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--spice: addr= goes with port=, not unix=");
      goto fail;
    }
  if (out->port && !out->addr)
    out->addr = g_strdup ("127.0.0.1");
  return true;
fail:
  spice_options_clear (out);
  return false;
}
