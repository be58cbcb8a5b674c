/* The server side of org.vireo.VM1's transport, for vireo-vmx (and the
 * test mock): the app's control fd and the per-VM unix socket. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _VireoDBusTransport VireoDBusTransport;

/* Called once when the control connection (the app) goes away. */
typedef void (*VireoDBusControlClosed) (gpointer user_data);

VireoDBusTransport *vireo_dbus_transport_new (GDBusInterfaceSkeleton *skeleton,
                                              const char *object_path);
gboolean vireo_dbus_transport_add_control_fd (VireoDBusTransport *self, int fd,
                                              VireoDBusControlClosed closed, gpointer user_data,
                                              GError **error);
gboolean vireo_dbus_transport_listen (VireoDBusTransport *self, const char *socket_path,
                                      GError **error);
guint    vireo_dbus_transport_get_n_connections (VireoDBusTransport *self);
void     vireo_dbus_transport_free (VireoDBusTransport *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VireoDBusTransport, vireo_dbus_transport_free)

G_END_DECLS
