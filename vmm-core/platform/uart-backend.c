#include "vmm-core/platform/uart-backend.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <gio/gio.h>

/* ---- option strings ---- */

bool
uart_backend_parse (const char *spec, UartBackendKind *kind, char **path, GError **error)
{
  *path = NULL;
  if (!spec)
    spec = "";
  if (strcmp (spec, "none") == 0)
    *kind = UART_BACKEND_NONE;
  else if (strcmp (spec, "stdio") == 0)
    *kind = UART_BACKEND_STDIO;
  else if (g_str_has_prefix (spec, "file:") && spec[5])
    {
      *kind = UART_BACKEND_FILE;
      *path = g_strdup (spec + 5);
    }
  else if (g_str_has_prefix (spec, "unix:") && spec[5])
    {
      if (strlen (spec + 5) >= sizeof ((struct sockaddr_un *) 0)->sun_path)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "serial socket path is too long: %s", spec + 5);
          return false;
        }
      *kind = UART_BACKEND_UNIX;
      *path = g_strdup (spec + 5);
    }
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "bad serial back end '%s' (expected stdio, file:PATH, unix:PATH or none)",
                   spec);
      return false;
    }
  return true;
}

UartBackend *
uart_backend_new (const char *spec, Uart16550 *uart, GMutex *lock, GError **error)
{
  UartBackendKind kind;
  g_autofree char *path = NULL;

  if (!uart_backend_parse (spec, &kind, &path, error))
    return NULL;
  switch (kind)
    {
    case UART_BACKEND_NONE:
      return uart_backend_new_null ();
    case UART_BACKEND_STDIO:
      return uart_backend_new_stdio (uart, lock);
    case UART_BACKEND_FILE:
      return uart_backend_new_file (path, error);
    case UART_BACKEND_UNIX:
      return uart_backend_new_unix (uart, lock, path, error);
    }
  return NULL;
}

/* ---- none ---- */

static void
null_free (UartBackend *be)
{
  g_free (be);
}

UartBackend *
uart_backend_new_null (void)
{
  UartBackend *be = g_new0 (UartBackend, 1);
  be->free = null_free;
  return be;
}

/* ---- file ---- */

typedef struct {
  UartBackend base;
  int fd;
  bool failed;
} FileBackend;

static bool
write_all (int fd, const uint8_t *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return false;
      buf += n;
      len -= (size_t) n;
    }
  return true;
}

static void
file_transmit (UartBackend *be, const uint8_t *buf, size_t len)
{
  FileBackend *fb = (FileBackend *) be;
  if (!fb->failed && !write_all (fb->fd, buf, len))
    {
      fb->failed = true; /* say it once, keep the guest running */
      g_printerr ("vireo: serial output file: %s\n", g_strerror (errno));
    }
}

static void
file_free (UartBackend *be)
{
  FileBackend *fb = (FileBackend *) be;
  close (fb->fd);
  g_free (fb);
}

UartBackend *
uart_backend_new_file (const char *path, GError **error)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot open serial output file %s: %s", path, g_strerror (e));
      return NULL;
    }
  FileBackend *fb = g_new0 (FileBackend, 1);
  fb->base.transmit = file_transmit;
  fb->base.free = file_free;
  fb->fd = fd;
  return &fb->base;
}

/* ---- streams with a reader thread: fds (stdio) and unix sockets ---- */

typedef struct {
  UartBackend base;
  Uart16550 *uart;
  GMutex *lock;
  GCond room; /* signalled (under lock) when the RX FIFO has space */
  GThread *thread;
  int wake[2];   /* a byte here tells the thread to quit */
  bool quit;     /* under lock */
  int in_fd;     /* fds mode */
  int out_fd;    /* fds mode; client socket in unix mode (under lock) */
  int listen_fd; /* unix mode, else -1 */
  char *path;
} StreamBackend;

static void
stream_rx_space (UartBackend *be)
{
  StreamBackend *sb = (StreamBackend *) be;
  g_cond_signal (&sb->room);
}

/* Feeds all of buf into the UART, waiting for the guest to drain it. */
static void
feed (StreamBackend *sb, const uint8_t *buf, size_t len)
{
  size_t off = 0;
  g_mutex_lock (sb->lock);
  while (off < len && !sb->quit)
    {
      off += uart_receive (sb->uart, buf + off, len - off);
      if (off < len)
        g_cond_wait_until (&sb->room, sb->lock,
                           g_get_monotonic_time () + 100 * G_TIME_SPAN_MILLISECOND);
    }
  g_mutex_unlock (sb->lock);
}

/* Waits for fd to be readable; false if told to quit. */
static bool
wait_readable (StreamBackend *sb, int fd, int also_fd, bool *also_ready)
{
  for (;;)
    {
      struct pollfd p[3] = { { sb->wake[0], POLLIN, 0 }, { fd, POLLIN, 0 }, { also_fd, POLLIN, 0 } };
      int n = poll (p, also_fd >= 0 ? 3 : 2, -1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || p[0].revents)
        return false;
      if (also_ready)
        *also_ready = also_fd >= 0 && (p[2].revents & POLLIN);
      if (p[1].revents || (also_ready && *also_ready))
        return true;
    }
}

static gpointer
fds_thread (gpointer data)
{
  StreamBackend *sb = data;
  uint8_t buf[256];
  while (wait_readable (sb, sb->in_fd, -1, NULL))
    {
      ssize_t n = read (sb->in_fd, buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0)
        break; /* EOF: no more input, output keeps working */
      feed (sb, buf, (size_t) n);
    }
  return NULL;
}

static void
fds_transmit (UartBackend *be, const uint8_t *buf, size_t len)
{
  StreamBackend *sb = (StreamBackend *) be;
  if (sb->out_fd >= 0)
    write_all (sb->out_fd, buf, len);
}

static void
stream_stop (StreamBackend *sb)
{
  g_mutex_lock (sb->lock);
  sb->quit = true;
  g_cond_signal (&sb->room);
  g_mutex_unlock (sb->lock);
  if (sb->thread)
    {
      char b = 1;
      if (write (sb->wake[1], &b, 1) < 0)
        g_printerr ("vireo: cannot stop serial reader: %s\n", g_strerror (errno));
      g_thread_join (sb->thread);
    }
  close (sb->wake[0]);
  close (sb->wake[1]);
  g_cond_clear (&sb->room);
}

static void
fds_free (UartBackend *be)
{
  StreamBackend *sb = (StreamBackend *) be;
  stream_stop (sb);
  g_free (sb);
}

static StreamBackend *
stream_new (Uart16550 *uart, GMutex *lock)
{
  StreamBackend *sb = g_new0 (StreamBackend, 1);
  sb->uart = uart;
  sb->lock = lock;
  sb->in_fd = sb->out_fd = sb->listen_fd = -1;
  g_cond_init (&sb->room);
  if (pipe2 (sb->wake, O_CLOEXEC) < 0)
    g_error ("pipe2: %s", g_strerror (errno)); /* out of fds at startup */
  sb->base.rx_space = stream_rx_space;
  return sb;
}

UartBackend *
uart_backend_new_fds (Uart16550 *uart, GMutex *lock, int in_fd, int out_fd)
{
  StreamBackend *sb = stream_new (uart, lock);
  sb->in_fd = in_fd;
  sb->out_fd = out_fd;
  sb->base.transmit = fds_transmit;
  sb->base.free = fds_free;
  if (in_fd >= 0)
    sb->thread = g_thread_new ("uart-in", fds_thread, sb);
  return &sb->base;
}

/* ---- stdio: raw terminal while the guest owns it ---- */

static struct termios saved_tty;
static volatile int tty_is_raw;

void
uart_backend_restore_terminal (void)
{
  if (tty_is_raw)
    {
      tcsetattr (STDIN_FILENO, TCSANOW, &saved_tty);
      tty_is_raw = 0;
    }
}

static void
make_stdin_raw (void)
{
  static bool atexit_done;
  struct termios raw;

  if (tty_is_raw || !isatty (STDIN_FILENO) || tcgetattr (STDIN_FILENO, &saved_tty) < 0)
    return;
  raw = saved_tty;
  /* Like cfmakeraw, but keep ISIG so Ctrl-C still stops the helper. */
  raw.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  raw.c_oflag &= ~OPOST;
  raw.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN);
  raw.c_cflag &= ~(CSIZE | PARENB);
  raw.c_cflag |= CS8;
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (tcsetattr (STDIN_FILENO, TCSANOW, &raw) == 0)
    tty_is_raw = 1;
  if (!atexit_done)
    {
      atexit (uart_backend_restore_terminal);
      atexit_done = true;
    }
}

static void
stdio_free (UartBackend *be)
{
  fds_free (be);
  uart_backend_restore_terminal ();
}

UartBackend *
uart_backend_new_stdio (Uart16550 *uart, GMutex *lock)
{
  make_stdin_raw ();
  UartBackend *be = uart_backend_new_fds (uart, lock, STDIN_FILENO, STDOUT_FILENO);
  be->free = stdio_free;
  return be;
}

/* ---- unix socket ---- */

static void
set_client (StreamBackend *sb, int fd)
{
  g_mutex_lock (sb->lock);
  sb->out_fd = fd;
  g_mutex_unlock (sb->lock);
}

static gpointer
unix_thread (gpointer data)
{
  StreamBackend *sb = data;
  uint8_t buf[256];

  for (;;)
    {
      if (!wait_readable (sb, sb->listen_fd, -1, NULL))
        return NULL;
      int client = accept4 (sb->listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (client < 0)
        continue;
      set_client (sb, client);
      for (;;)
        {
          bool extra = false;
          if (!wait_readable (sb, client, sb->listen_fd, &extra))
            {
              set_client (sb, -1);
              close (client);
              return NULL;
            }
          if (extra)
            {
              /* One client at a time: turn the newcomer away. */
              int other = accept4 (sb->listen_fd, NULL, NULL, SOCK_CLOEXEC);
              if (other >= 0)
                close (other);
              continue;
            }
          ssize_t n = recv (client, buf, sizeof buf, MSG_DONTWAIT);
          if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
          if (n <= 0)
            break;
          feed (sb, buf, (size_t) n);
        }
      set_client (sb, -1);
      close (client);
    }
}

static void
unix_transmit (UartBackend *be, const uint8_t *buf, size_t len)
{
  StreamBackend *sb = (StreamBackend *) be;
  while (sb->out_fd >= 0 && len > 0)
    {
      ssize_t n = send (sb->out_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return; /* client not keeping up, or gone: drop */
      buf += n;
      len -= (size_t) n;
    }
}

static void
unix_free (UartBackend *be)
{
  StreamBackend *sb = (StreamBackend *) be;
  stream_stop (sb);
  close (sb->listen_fd);
  unlink (sb->path);
  g_free (sb->path);
  g_free (sb);
}

UartBackend *
uart_backend_new_unix (Uart16550 *uart, GMutex *lock, const char *path, GError **error)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  struct stat st;
  int e;

  if (strlen (path) >= sizeof addr.sun_path)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "serial socket path is too long: %s", path);
      return NULL;
    }
  if (lstat (path, &st) == 0)
    {
      if (!S_ISSOCK (st.st_mode))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                       "%s exists and is not a socket; not replacing it", path);
          return NULL;
        }
      unlink (path);
    }
  strcpy (addr.sun_path, path);

  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 1) < 0)
    {
      e = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot listen on serial socket %s: %s", path, g_strerror (e));
      return NULL;
    }

  StreamBackend *sb = stream_new (uart, lock);
  sb->listen_fd = fd;
  sb->path = g_strdup (path);
  sb->base.transmit = unix_transmit;
  sb->base.free = unix_free;
  sb->thread = g_thread_new ("uart-unix", unix_thread, sb);
  return &sb->base;
}
