/* VireoDBusTransport: exports one skeleton on every peer-to-peer
 * connection: the control connection on an inherited socketpair end
 * (authenticated as server with a fresh guid) and each client of a
 * GDBusServer on $XDG_RUNTIME_DIR/vireo/<vm-id>.sock. See
 * docs/dbus-interface.md. */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "vireo-dbus-transport.h"

struct _VireoDBusTransport
{
  GDBusInterfaceSkeleton *skeleton;
  char *object_path;
  GDBusServer *server;
  char *socket_path;
  GPtrArray *connections; /* GDBusConnection, alive ones */
  GDBusConnection *control;
  VireoDBusControlClosed control_closed;
  gpointer control_data;
};

static void
on_closed (GDBusConnection *connection, gboolean vanished, GError *error, gpointer data)
{
  VireoDBusTransport *self = data;

  g_dbus_interface_skeleton_unexport_from_connection (self->skeleton, connection);
  if (connection == self->control)
    {
      self->control = NULL;
      if (self->control_closed)
        self->control_closed (self->control_data);
    }
  g_ptr_array_remove (self->connections, connection);
}

static gboolean
export (VireoDBusTransport *self, GDBusConnection *connection, GError **error)
{
  if (!g_dbus_interface_skeleton_export (self->skeleton, connection, self->object_path, error))
    return FALSE;
  g_ptr_array_add (self->connections, g_object_ref (connection));
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), self);
  return TRUE;
}

static gboolean
on_new_connection (GDBusServer *server, GDBusConnection *connection, gpointer data)
{
  g_autoptr (GError) error = NULL;

  if (!export (data, connection, &error))
    {
      g_warning ("org.vireo.VM1: %s", error->message);
      return FALSE;
    }
  return TRUE;
}

VireoDBusTransport *
vireo_dbus_transport_new (GDBusInterfaceSkeleton *skeleton, const char *object_path)
{
  VireoDBusTransport *self = g_new0 (VireoDBusTransport, 1);

  self->skeleton = g_object_ref (skeleton);
  self->object_path = g_strdup (object_path);
  self->connections = g_ptr_array_new_with_free_func (g_object_unref);
  return self;
}

gboolean
vireo_dbus_transport_add_control_fd (VireoDBusTransport *self, int fd,
                                     VireoDBusControlClosed closed, gpointer user_data,
                                     GError **error)
{
  g_autoptr (GSocket) socket = g_socket_new_from_fd (fd, error);
  g_autoptr (GSocketConnection) stream = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autofree char *guid = g_dbus_generate_guid ();

  if (!socket)
    return FALSE;
  stream = g_socket_connection_factory_create_connection (socket);
  /* Delay processing until the object is exported, so the client's first
   * call cannot arrive before it exists. */
  connection = g_dbus_connection_new_sync (G_IO_STREAM (stream), guid,
                                           G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER
                                             | G_DBUS_CONNECTION_FLAGS_DELAY_MESSAGE_PROCESSING,
                                           NULL, NULL, error);
  if (!connection || !export (self, connection, error))
    return FALSE;
  self->control = connection;
  self->control_closed = closed;
  self->control_data = user_data;
  g_dbus_connection_start_message_processing (connection);
  return TRUE;
}

gboolean
vireo_dbus_transport_listen (VireoDBusTransport *self, const char *socket_path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (socket_path);
  g_autofree char *address = NULL;
  g_autofree char *guid = g_dbus_generate_guid ();

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "%s: %s", dir,
                   g_strerror (err));
      return FALSE;
    }
  /* A socket file left by a helper that crashed would make bind() fail. */
  g_unlink (socket_path);
  address = g_strdup_printf ("unix:path=%s", socket_path);
  self->server = g_dbus_server_new_sync (address, G_DBUS_SERVER_FLAGS_NONE, guid, NULL, NULL,
                                         error);
  if (!self->server)
    return FALSE;
  self->socket_path = g_strdup (socket_path);
  g_signal_connect (self->server, "new-connection", G_CALLBACK (on_new_connection), self);
  g_dbus_server_start (self->server);
  return TRUE;
}

guint
vireo_dbus_transport_get_n_connections (VireoDBusTransport *self)
{
  return self->connections->len;
}

void
vireo_dbus_transport_free (VireoDBusTransport *self)
{
  if (!self)
    return;
  if (self->server)
    {
      g_dbus_server_stop (self->server);
      g_unlink (self->socket_path);
      g_object_unref (self->server);
    }
  for (guint i = 0; i < self->connections->len; i++)
    {
      GDBusConnection *c = g_ptr_array_index (self->connections, i);
      g_signal_handlers_disconnect_by_data (c, self);
      g_dbus_connection_flush_sync (c, NULL, NULL);
    }
  {
    GList *exported = g_dbus_interface_skeleton_get_connections (self->skeleton);
    if (exported)
      g_dbus_interface_skeleton_unexport (self->skeleton);
    g_list_free_full (exported, g_object_unref);
  }
  g_ptr_array_unref (self->connections);
  g_object_unref (self->skeleton);
  g_free (self->object_path);
  g_free (self->socket_path);
  g_free (self);
}
