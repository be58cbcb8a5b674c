/* vireo-run's side of the per-VM socket ($XDG_RUNTIME_DIR/vireo/<id>.sock). */
#include "config.h"

#include "run-client.h"
#include "vireo-vmx-launch.h"

VireoDBusVM1 *
run_client_connect (VireoVm *vm, GError **error)
{
  g_autofree char *path = vireo_vm_dup_socket_path (vm);
  g_autofree char *address = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GError) local = NULL;
  VireoDBusVM1 *proxy;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  address = g_strdup_printf ("unix:path=%s", path);
  connection = g_dbus_connection_new_for_address_sync (
      address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, &local);
  if (!connection)
    return NULL; /* a stale socket of a helper that is gone */
  proxy = vireo_dbus_vm1_proxy_new_sync (connection, G_DBUS_PROXY_FLAGS_NONE, NULL,
                                         VIREO_VM1_OBJECT_PATH, NULL, error);
  if (proxy && !vireo_dbus_vm1_get_state (proxy))
    {
      /* No properties: the helper closed on us while exiting. */
      g_clear_object (&proxy);
      return NULL;
    }
  if (proxy)
    g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), 60000);
  return proxy;
}

typedef struct {
  const char *const *states;
  char *reached;
  gboolean gone;
  gboolean timed_out;
} Wait;

static void
on_state (VireoDBusVM1 *proxy, const char *state, const char *reason, Wait *w)
{
  if (!w->reached && g_strv_contains (w->states, state))
    w->reached = g_strdup (state);
}

static void
on_closed (GDBusConnection *c, gboolean vanished, GError *error, Wait *w)
{
  w->gone = TRUE;
}

static gboolean
on_timeout (gpointer data)
{
  ((Wait *) data)->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

char *
run_client_wait_state (VireoDBusVM1 *proxy, const char *const *states, guint timeout_s)
{
  GDBusConnection *c = g_dbus_proxy_get_connection (G_DBUS_PROXY (proxy));
  Wait w = { states, NULL, FALSE, FALSE };
  gulong h1 = g_signal_connect (proxy, "state-changed", G_CALLBACK (on_state), &w);
  gulong h2 = g_signal_connect (c, "closed", G_CALLBACK (on_closed), &w);
  guint timer = g_timeout_add_seconds (timeout_s, on_timeout, &w);

  /* Signals sent before a method reply are still queued here: dispatch them
   * so the cached State is the helper's current one. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (!w.reached && g_strv_contains (states, vireo_dbus_vm1_get_state (proxy)))
    w.reached = g_strdup (vireo_dbus_vm1_get_state (proxy));
  while (!w.reached && !w.gone && !w.timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!w.timed_out)
    g_source_remove (timer);
  g_signal_handler_disconnect (proxy, h1);
  g_signal_handler_disconnect (c, h2);
  /* A helper that went away has stopped its VM. */
  if (!w.reached && w.gone && g_strv_contains (states, "stopped"))
    w.reached = g_strdup ("stopped");
  return w.reached;
}

gboolean
run_client_wait_gone (VireoDBusVM1 *proxy, guint timeout_s)
{
  GDBusConnection *c = g_dbus_proxy_get_connection (G_DBUS_PROXY (proxy));
  Wait w = { NULL, NULL, FALSE, FALSE };
  gulong h = g_signal_connect (c, "closed", G_CALLBACK (on_closed), &w);
  guint timer = g_timeout_add_seconds (timeout_s, on_timeout, &w);

  while (!w.gone && !w.timed_out && !g_dbus_connection_is_closed (c))
    g_main_context_iteration (NULL, TRUE);
  if (!w.timed_out)
    g_source_remove (timer);
  g_signal_handler_disconnect (c, h);
  return w.gone || g_dbus_connection_is_closed (c);
}
