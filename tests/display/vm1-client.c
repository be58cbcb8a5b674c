/* A tiny org.vireo.VM1 client for scripts: the helper's --socket is a
 * peer-to-peer D-Bus socket, which gdbus(1) cannot talk to.
 *   vm1-client SOCKET start
 *   vm1-client SOCKET screenshot ABSOLUTE-PATH.png
 * Exit 0 done, 1 the call failed, 2 usage. */
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "vireo-dbus-vm1.h"

#define VM1_OBJECT_PATH "/org/vireo/VM1"

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (VireoDBusVM1) proxy = NULL;
  g_autofree char *address = NULL;
  gboolean ok;

  if (argc < 3 || (strcmp (argv[2], "screenshot") == 0 && argc != 4))
    {
      fprintf (stderr, "usage: vm1-client SOCKET start|screenshot FILE\n");
      return 2;
    }
  address = g_strdup_printf ("unix:path=%s", argv[1]);
  connection = g_dbus_connection_new_for_address_sync (
      address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, &error);
  if (connection)
    proxy = vireo_dbus_vm1_proxy_new_sync (connection, G_DBUS_PROXY_FLAGS_NONE, NULL,
                                           VM1_OBJECT_PATH, NULL, &error);
  if (!proxy)
    {
      fprintf (stderr, "vm1-client: %s\n", error->message);
      return 1;
    }
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), 60000);
  if (strcmp (argv[2], "start") == 0)
    ok = vireo_dbus_vm1_call_start_sync (proxy, NULL, &error);
  else if (strcmp (argv[2], "screenshot") == 0)
    ok = vireo_dbus_vm1_call_screenshot_sync (proxy, argv[3], NULL, &error);
  else
    {
      fprintf (stderr, "vm1-client: unknown command “%s”\n", argv[2]);
      return 2;
    }
  if (!ok)
    {
      fprintf (stderr, "vm1-client: %s: %s\n", argv[2], error->message);
      return 1;
    }
  return 0;
}
