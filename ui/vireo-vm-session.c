/* VireoVmSession: spawns vireo-vmx with one end of a socketpair, runs a
 * peer-to-peer GDBusConnection over it (the helper authenticates as
 * server) and mirrors the helper's State into the VireoVm. The helper is
 * another process: if it dies, the VM becomes "stopped" with the reason
 * and the app carries on.
 */
#include "config.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gi18n.h>

#include "vireo-vm-session.h"
#include "vireo-vmx-launch.h"

struct _VireoVmSession
{
  GObject parent_instance;

  VireoVm *vm;
  GSubprocess *process;
  GDBusConnection *connection;
  VireoDBusVM1 *proxy;
  gboolean active;   /* helper alive and connected */
  gboolean finished; /* "finished" already emitted */
  gboolean attached; /* joined a helper started elsewhere (vireo-run) */
  gboolean replacing; /* letting an exiting helper go before spawning */
  gboolean ran;       /* the VM was seen running: "stopped" now means done */
};

G_DEFINE_FINAL_TYPE (VireoVmSession, vireo_vm_session, G_TYPE_OBJECT)

enum {
  SIGNAL_ERROR,    /* (const char *message) */
  SIGNAL_FINISHED, /* the helper is gone */
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
vireo_vm_session_dispose (GObject *object)
{
  VireoVmSession *self = VIREO_VM_SESSION (object);

  if (self->proxy)
    g_signal_handlers_disconnect_by_data (self->proxy, self);
  if (self->connection)
    g_signal_handlers_disconnect_by_data (self->connection, self);
  g_clear_object (&self->proxy);
  if (self->connection)
    g_dbus_connection_close (self->connection, NULL, NULL, NULL);
  g_clear_object (&self->connection);
  /* Closing the control connection makes the helper power off and exit. */
  g_clear_object (&self->process);
  g_clear_object (&self->vm);
  G_OBJECT_CLASS (vireo_vm_session_parent_class)->dispose (object);
}

static void
vireo_vm_session_class_init (VireoVmSessionClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = vireo_vm_session_dispose;

  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                           0);
}

static void
vireo_vm_session_init (VireoVmSession *self)
{
}

VireoVmSession *
vireo_vm_session_new (VireoVm *vm)
{
  VireoVmSession *self = g_object_new (VIREO_TYPE_VM_SESSION, NULL);

  self->vm = g_object_ref (vm);
  return self;
}

VireoVm *
vireo_vm_session_get_vm (VireoVmSession *self)
{
  return self->vm;
}

VireoDBusVM1 *
vireo_vm_session_get_proxy (VireoVmSession *self)
{
  return self->proxy;
}

GPid
vireo_vm_session_get_pid (VireoVmSession *self)
{
  const char *id = self->process ? g_subprocess_get_identifier (self->process) : NULL;

  return id ? (GPid) g_ascii_strtoll (id, NULL, 10) : 0;
}

gboolean
vireo_vm_session_is_active (VireoVmSession *self)
{
  return self->active;
}

gboolean
vireo_vm_session_is_exiting (VireoVmSession *self)
{
  return self->finished
         || (self->ran && g_strcmp0 (vireo_vm_get_state (self->vm), "stopped") == 0);
}

gboolean
vireo_vm_session_is_attached (VireoVmSession *self)
{
  return self->attached;
}

static void
finish (VireoVmSession *self, const char *reason)
{
  if (self->finished)
    return;
  self->finished = TRUE;
  self->active = FALSE;
  if (g_strcmp0 (vireo_vm_get_state (self->vm), "stopped") != 0 || reason)
    vireo_vm_set_state (self->vm, "stopped",
                        reason ? reason : vireo_vm_get_state_reason (self->vm));
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
}

static void
on_process_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (VireoVmSession) self = user_data;
  GSubprocess *process = G_SUBPROCESS (source);
  g_autofree char *reason = NULL;
  gboolean was_stopped = g_strcmp0 (vireo_vm_get_state (self->vm), "stopped") == 0;

  if (!g_subprocess_wait_finish (process, result, NULL) || self->finished)
    return;
  if (g_subprocess_get_if_signaled (process))
    reason = g_strdup_printf (_("The VM helper was killed (%s)"),
                              g_strsignal (g_subprocess_get_term_sig (process)));
  else if (g_subprocess_get_exit_status (process) != 0)
    reason = g_strdup_printf (_("The VM helper exited with status %d"),
                              g_subprocess_get_exit_status (process));
  else if (!was_stopped)
    reason = g_strdup (_("The VM helper exited"));
  finish (self, reason);
}

static void
on_state_changed (VireoDBusVM1 *proxy, const char *state, const char *reason,
                  VireoVmSession *self)
{
  if (g_strcmp0 (state, "stopped") != 0)
    self->ran = TRUE;
  vireo_vm_set_state (self->vm, state, reason);
}

static void
on_connection_closed (GDBusConnection *connection, gboolean remote_peer_vanished,
                      GError *error, VireoVmSession *self)
{
  /* The exit status (from on_process_exited) says more; keep the VM's
   * state until it arrives. An attached helper has no exit status to us. */
  self->active = FALSE;
  if (self->attached && !self->process && !self->replacing)
    finish (self, g_strcmp0 (vireo_vm_get_state (self->vm), "stopped") == 0
                      ? NULL
                      : _("The VM helper exited"));
}

static void
on_start_called (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  VireoVmSession *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!vireo_dbus_vm1_call_start_finish (VIREO_DBUS_VM1 (source), result, &error))
    {
      g_dbus_error_strip_remote_error (error);
      g_task_return_error (task, error);
      return;
    }
  /* The reply may overtake nothing: StateChanged was sent before it. */
  if (g_strcmp0 (vireo_vm_get_state (self->vm), "stopped") == 0)
    vireo_vm_set_state (self->vm, vireo_dbus_vm1_get_state (self->proxy),
                        vireo_dbus_vm1_get_state_reason (self->proxy));
  g_task_return_boolean (task, TRUE);
}

static void spawn_helper (VireoVmSession *self, GTask *task);

/* A helper that serves the socket in state "stopped" is usually one that
 * just stopped its VM and is exiting (it runs a VM once): let it go and
 * spawn a fresh one. One that stays is a new helper waiting for Start. */
typedef struct {
  VireoVmSession *self;
  GTask *task;
  gulong closed_id;
  guint timeout_id;
} Replace;

static void
replace_done (Replace *r, gboolean gone)
{
  VireoVmSession *self = r->self;
  g_autoptr (GTask) task = r->task;

  g_signal_handler_disconnect (self->connection, r->closed_id);
  if (r->timeout_id)
    g_source_remove (r->timeout_id);
  g_free (r);
  if (!gone)
    {
      GCancellable *cancellable = g_task_get_cancellable (task);

      self->replacing = FALSE;
      vireo_dbus_vm1_call_start (self->proxy, cancellable, on_start_called,
                                 g_steal_pointer (&task));
      return;
    }
  g_signal_handlers_disconnect_by_data (self->proxy, self);
  g_signal_handlers_disconnect_by_data (self->connection, self);
  g_clear_object (&self->proxy);
  g_clear_object (&self->connection);
  self->attached = FALSE;
  self->active = FALSE;
  self->replacing = FALSE;
  spawn_helper (self, g_steal_pointer (&task));
}

static void
on_replace_closed (GDBusConnection *c, gboolean vanished, GError *error, Replace *r)
{
  replace_done (r, TRUE);
}

static gboolean
on_replace_timeout (gpointer data)
{
  Replace *r = data;

  r->timeout_id = 0;
  replace_done (r, FALSE);
  return G_SOURCE_REMOVE;
}

static void
on_proxy_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  VireoVmSession *self = g_task_get_source_object (task);
  GError *error = NULL;
  const char *state;

  self->proxy = vireo_dbus_vm1_proxy_new_finish (result, &error);
  if (!self->proxy)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Method calls to a helper running the software engine can be slow. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (self->proxy), 60000);
  g_signal_connect (self->proxy, "state-changed", G_CALLBACK (on_state_changed), self);
  self->active = TRUE;
  /* No State at all: the helper closed on us while exiting. */
  state = vireo_dbus_vm1_get_state (self->proxy);
  if (!state)
    state = "stopped";
  if (self->attached && vireo_dbus_vm1_get_state (self->proxy))
    vireo_vm_set_state (self->vm, state, vireo_dbus_vm1_get_state_reason (self->proxy));
  if (g_strcmp0 (state, "stopped") != 0)
    self->ran = TRUE;
  if (!GPOINTER_TO_INT (g_task_get_task_data (task)) || g_strcmp0 (state, "stopped") != 0)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (self->attached)
    {
      Replace *r = g_new0 (Replace, 1);

      r->self = self;
      r->task = g_object_ref (task);
      self->replacing = TRUE;
      r->closed_id = g_signal_connect (self->connection, "closed",
                                       G_CALLBACK (on_replace_closed), r);
      r->timeout_id = g_timeout_add (2000, on_replace_timeout, r);
      if (g_dbus_connection_is_closed (self->connection))
        replace_done (r, TRUE);
      return;
    }
  vireo_dbus_vm1_call_start (self->proxy, g_task_get_cancellable (task), on_start_called,
                             g_object_ref (task));
}

static void
on_connection_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  VireoVmSession *self = g_task_get_source_object (task);
  GError *error = NULL;

  self->connection = g_dbus_connection_new_finish (result, &error);
  if (!self->connection)
    {
      g_task_return_error (task, error);
      return;
    }
  g_signal_connect (self->connection, "closed", G_CALLBACK (on_connection_closed), self);
  vireo_dbus_vm1_proxy_new (self->connection, G_DBUS_PROXY_FLAGS_NONE, NULL,
                            VIREO_VM1_OBJECT_PATH, g_task_get_cancellable (task), on_proxy_ready,
                            g_object_ref (task));
}

/* A helper already serving this VM's socket (started by vireo-run, or by
 * an app that crashed) is joined rather than started twice. */
static gboolean
try_attach (VireoVmSession *self, const char *socket_path, GTask *task)
{
  g_autofree char *address = NULL;
  GError *error = NULL;

  if (self->process || self->connection || !g_file_test (socket_path, G_FILE_TEST_EXISTS))
    return FALSE;
  address = g_strdup_printf ("unix:path=%s", socket_path);
  self->connection = g_dbus_connection_new_for_address_sync (
      address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL,
      g_task_get_cancellable (task), &error);
  if (!self->connection)
    {
      g_clear_error (&error); /* stale socket: the helper is gone */
      return FALSE;
    }
  self->attached = TRUE;
  g_signal_connect (self->connection, "closed", G_CALLBACK (on_connection_closed), self);
  vireo_dbus_vm1_proxy_new (self->connection, G_DBUS_PROXY_FLAGS_NONE, NULL,
                            VIREO_VM1_OBJECT_PATH, g_task_get_cancellable (task), on_proxy_ready,
                            g_object_ref (task));
  return TRUE;
}

void
vireo_vm_session_attach_async (VireoVmSession *self, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autofree char *socket_path = vireo_vm_dup_socket_path (self->vm);

  g_task_set_source_tag (task, vireo_vm_session_start_async);
  g_task_set_task_data (task, GINT_TO_POINTER (FALSE), NULL);
  if (!try_attach (self, socket_path, task))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                             _("The VM is not running"));
}

/* Spawns the helper with one end of a socketpair as fd 3; takes @task. */
static void
spawn_helper (VireoVmSession *self, GTask *task_in)
{
  g_autoptr (GTask) task = task_in;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketConnection) stream = NULL;
  g_autofree char *socket_path = vireo_vm_dup_socket_path (self->vm);
  GCancellable *cancellable;
  GError *error = NULL;
  int fds[2];

  if (self->process)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_BUSY, _("“%s” is already running"),
                               vireo_vm_get_name (self->vm));
      return;
    }
  if (!vireo_vmx_ensure_socket_dir (socket_path, &error)
      || !(argv = vireo_vmx_build_argv (self->vm, 3, socket_path, FALSE, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errno), "socketpair: %s",
                               g_strerror (errno));
      return;
    }
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  self->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata,
                                                &error);
  if (!self->process)
    {
      close (fds[0]);
      g_task_return_error (task, error);
      return;
    }
  g_subprocess_wait_async (self->process, NULL, on_process_exited, g_object_ref (self));
  vireo_vm_set_state (self->vm, "stopped", _("Starting"));

  socket = g_socket_new_from_fd (fds[0], &error);
  if (!socket)
    {
      close (fds[0]);
      g_task_return_error (task, error);
      return;
    }
  stream = g_socket_connection_factory_create_connection (socket);
  cancellable = g_task_get_cancellable (task);
  g_dbus_connection_new (G_IO_STREAM (stream), NULL,
                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, cancellable,
                         on_connection_ready, g_steal_pointer (&task));
}

void
vireo_vm_session_start_async (VireoVmSession *self, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autofree char *socket_path = vireo_vm_dup_socket_path (self->vm);

  g_task_set_source_tag (task, vireo_vm_session_start_async);
  g_task_set_task_data (task, GINT_TO_POINTER (TRUE), NULL);
  if (try_attach (self, socket_path, task))
    return;
  spawn_helper (self, g_steal_pointer (&task));
}

gboolean
vireo_vm_session_start_finish (VireoVmSession *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (VireoVmSession) self = user_data;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &error);
  if (!reply)
    {
      g_dbus_error_strip_remote_error (error);
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, error->message);
    }
}

void
vireo_vm_session_call (VireoVmSession *self, const char *method)
{
  if (!self->proxy || !self->active)
    {
      g_signal_emit (self, signals[SIGNAL_ERROR], 0, _("The VM is not running"));
      return;
    }
  g_dbus_proxy_call (G_DBUS_PROXY (self->proxy), method, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                     on_call_done, g_object_ref (self));
}
