/* UART back ends: option parsing, file, fd pair (what stdio uses) and the
 * unix socket, each moving bytes through a real UART. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "vmm-core/platform/uart-backend.h"
#include "platform-test-util.h"

static void
test_parse (void)
{
  UartBackendKind kind;
  char *path;
  GError *error = NULL;

  g_assert_true (uart_backend_parse ("stdio", &kind, &path, &error));
  g_assert_cmpint (kind, ==, UART_BACKEND_STDIO);
  g_assert_null (path);
  g_assert_true (uart_backend_parse ("none", &kind, &path, &error));
  g_assert_cmpint (kind, ==, UART_BACKEND_NONE);
  g_assert_true (uart_backend_parse ("file:/tmp/x.log", &kind, &path, &error));
  g_assert_cmpint (kind, ==, UART_BACKEND_FILE);
  g_assert_cmpstr (path, ==, "/tmp/x.log");
  g_free (path);
  g_assert_true (uart_backend_parse ("unix:/run/a.sock", &kind, &path, &error));
  g_assert_cmpint (kind, ==, UART_BACKEND_UNIX);
  g_assert_cmpstr (path, ==, "/run/a.sock");
  g_free (path);

  const char *bad[] = { "", "file:", "unix:", "tcp:1234", "stdio ", "STDIO", "pty", NULL };
  for (unsigned i = 0; bad[i]; i++)
    {
      g_assert_false (uart_backend_parse (bad[i], &kind, &path, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_null (strchr (error->message, '\n'));
      g_clear_error (&error);
    }
  g_autofree char *longpath = g_strnfill (200, 'a');
  g_autofree char *longspec = g_strconcat ("unix:", longpath, NULL);
  g_assert_false (uart_backend_parse (longspec, &kind, &path, &error));
  g_clear_error (&error);
  g_assert_null (uart_backend_new ("serial", NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

static void
test_file_appends (void)
{
  g_autofree char *dir = g_dir_make_tmp ("vireo-uart-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "console.log", NULL);
  g_autofree char *spec = g_strconcat ("file:", path, NULL);
  GError *error = NULL;
  Uart16550 uart;

  g_assert_true (g_file_set_contents (path, "old\n", -1, NULL));
  uart_init (&uart, NULL, UART_COM1_BASE, (IrqLine){ NULL, 4 });
  UartBackend *be = uart_backend_new (spec, &uart, NULL, &error);
  g_assert_no_error (error);
  uart_set_backend (&uart, be);
  for (const char *p = "new\n"; *p; p++)
    uart_write (&uart, UART_THR, (uint8_t) *p);
  g_assert_cmpuint (uart_receive (&uart, (const uint8_t *) "x", 1), ==, 1); /* input ignored */
  uart_destroy (&uart);

  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "old\nnew\n");

  /* A directory that does not exist: one clear error. */
  g_autofree char *nowhere = g_build_filename (dir, "no", "such", "file", NULL);
  g_autofree char *nospec = g_strconcat ("file:", nowhere, NULL);
  g_assert_null (uart_backend_new (nospec, &uart, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, nowhere));
  g_clear_error (&error);

  g_unlink (path);
  g_rmdir (dir);
}

/* The guest side: read everything the UART has, under the device lock, until
 * `want` bytes arrived (bounded number of polls). */
static void
guest_read (Uart16550 *uart, GMutex *lock, GByteArray *got, size_t want)
{
  for (unsigned spins = 0; got->len < want && spins < 20000; spins++)
    {
      g_mutex_lock (lock);
      while (uart_read (uart, UART_LSR) & UART_LSR_DR)
        {
          uint8_t b = uart_read (uart, UART_RBR);
          g_byte_array_append (got, &b, 1);
        }
      g_mutex_unlock (lock);
      if (got->len < want)
        g_usleep (500);
    }
}

static void
test_fds_backpressure (void)
{
  GMutex lock;
  Uart16550 uart;
  int in[2], out[2];
  uint8_t msg[1000];

  g_mutex_init (&lock);
  g_assert_cmpint (pipe (in), ==, 0);
  g_assert_cmpint (pipe (out), ==, 0);
  for (unsigned i = 0; i < sizeof msg; i++)
    msg[i] = (uint8_t) (i * 31 + 7);

  uart_init (&uart, NULL, UART_COM1_BASE, (IrqLine){ NULL, 4 });
  uart_set_backend (&uart, uart_backend_new_fds (&uart, &lock, in[0], out[1]));
  g_mutex_lock (&lock);
  uart_write (&uart, UART_FCR, UART_FCR_ENABLE);
  g_mutex_unlock (&lock);

  /* Far more than the FIFO holds: the reader must wait, never drop. */
  g_assert_cmpint (write (in[1], msg, sizeof msg), ==, sizeof msg);
  GByteArray *got = g_byte_array_new ();
  guest_read (&uart, &lock, got, sizeof msg);
  g_assert_cmpmem (got->data, got->len, msg, sizeof msg);

  g_mutex_lock (&lock);
  uart_write (&uart, UART_THR, 'O');
  uart_write (&uart, UART_THR, 'K');
  g_mutex_unlock (&lock);
  char buf[2];
  g_assert_cmpint (read (out[0], buf, 2), ==, 2);
  g_assert_cmpmem (buf, 2, "OK", 2);

  /* The reader thread stops cleanly even while blocked in poll. */
  uart_destroy (&uart);
  g_byte_array_unref (got);
  close (in[0]);
  close (in[1]);
  close (out[0]);
  close (out[1]);
  g_mutex_clear (&lock);
}

static int
connect_unix (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  g_strlcpy (addr.sun_path, path, sizeof addr.sun_path);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  return fd;
}

static ssize_t
recv_wait (int fd, void *buf, size_t len)
{
  struct pollfd p = { fd, POLLIN, 0 };
  if (poll (&p, 1, 10000) <= 0)
    return -1;
  return recv (fd, buf, len, 0);
}

static void
test_unix_socket (void)
{
  g_autofree char *dir = g_dir_make_tmp ("vireo-uart-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "com1.sock", NULL);
  g_autofree char *spec = g_strconcat ("unix:", path, NULL);
  GError *error = NULL;
  GMutex lock;
  Uart16550 uart;

  g_mutex_init (&lock);
  uart_init (&uart, NULL, UART_COM1_BASE, (IrqLine){ NULL, 4 });
  UartBackend *be = uart_backend_new (spec, &uart, &lock, &error);
  g_assert_no_error (error);
  uart_set_backend (&uart, be);
  g_mutex_lock (&lock);
  uart_write (&uart, UART_FCR, UART_FCR_ENABLE);
  /* Output with no client connected is dropped, not queued or fatal. */
  uart_write (&uart, UART_THR, '!');
  g_mutex_unlock (&lock);

  int client = connect_unix (path);
  const char *hello = "hello guest, this is more than sixteen bytes";
  g_assert_cmpint (send (client, hello, strlen (hello), 0), ==, (ssize_t) strlen (hello));
  GByteArray *got = g_byte_array_new ();
  guest_read (&uart, &lock, got, strlen (hello));
  g_assert_cmpmem (got->data, got->len, hello, strlen (hello));

  g_mutex_lock (&lock);
  for (const char *p = "pong"; *p; p++)
    uart_write (&uart, UART_THR, (uint8_t) *p);
  g_mutex_unlock (&lock);
  char buf[16];
  size_t n = 0;
  while (n < 4)
    {
      ssize_t r = recv_wait (client, buf + n, sizeof buf - n);
      g_assert_cmpint (r, >, 0);
      n += (size_t) r;
    }
  g_assert_cmpmem (buf, n, "pong", 4);

  /* A second client is turned away while the first is connected. */
  int second = connect_unix (path);
  g_assert_cmpint (recv_wait (second, buf, sizeof buf), ==, 0);
  close (second);

  /* After the first leaves, a new client is served. */
  close (client);
  int third = -1;
  for (unsigned tries = 0; tries < 200; tries++)
    {
      third = connect_unix (path);
      g_mutex_lock (&lock);
      uart_write (&uart, UART_THR, 'Z');
      g_mutex_unlock (&lock);
      struct pollfd p = { third, POLLIN, 0 };
      if (poll (&p, 1, 50) > 0 && recv (third, buf, 1, 0) == 1)
        break;
      close (third);
      third = -1;
    }
  g_assert_cmpint (third, >=, 0);
  g_assert_cmpint (buf[0], ==, 'Z');
  close (third);

  uart_destroy (&uart);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS)); /* socket removed */

  /* A regular file in the way is not clobbered. */
  g_assert_true (g_file_set_contents (path, "precious", -1, NULL));
  g_assert_null (uart_backend_new (spec, &uart, &lock, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "precious");

  g_byte_array_unref (got);
  g_unlink (path);
  g_rmdir (dir);
  g_mutex_clear (&lock);
}

/* stdio on a terminal: raw while the guest owns it, restored afterwards.
 * A pty stands in for the user's terminal as stdin (output is not used: the
 * test's stdout carries TAP). */
static void
test_stdio_raw_terminal (void)
{
  int master = posix_openpt (O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt (master) < 0 || unlockpt (master) < 0)
    {
      g_test_skip ("no pseudo-terminals here");
      return;
    }
  int slave = open (ptsname (master), O_RDWR | O_NOCTTY);
  g_assert_cmpint (slave, >=, 0);
  int saved_stdin = dup (STDIN_FILENO);
  g_assert_cmpint (dup2 (slave, STDIN_FILENO), ==, STDIN_FILENO);

  struct termios before, during, after;
  g_assert_cmpint (tcgetattr (STDIN_FILENO, &before), ==, 0);
  g_assert_true (before.c_lflag & ICANON); /* a fresh pty is cooked */

  GMutex lock;
  Uart16550 uart;
  GError *error = NULL;
  g_mutex_init (&lock);
  uart_init (&uart, NULL, UART_COM1_BASE, (IrqLine){ NULL, 4 });
  UartBackend *be = uart_backend_new ("stdio", &uart, &lock, &error);
  g_assert_no_error (error);
  uart_set_backend (&uart, be);

  g_assert_cmpint (tcgetattr (STDIN_FILENO, &during), ==, 0);
  g_assert_false (during.c_lflag & (ICANON | ECHO));
  g_assert_false (during.c_iflag & (ICRNL | IXON));
  g_assert_true (during.c_lflag & ISIG); /* Ctrl-C still reaches the helper */

  /* Keys arrive byte by byte, without waiting for Enter or mapping CR. */
  g_assert_cmpint (write (master, "ls\r", 3), ==, 3);
  GByteArray *got = g_byte_array_new ();
  guest_read (&uart, &lock, got, 3);
  g_assert_cmpmem (got->data, got->len, "ls\r", 3);

  uart_destroy (&uart);
  g_assert_cmpint (tcgetattr (STDIN_FILENO, &after), ==, 0);
  g_assert_cmphex (after.c_lflag, ==, before.c_lflag);
  g_assert_cmphex (after.c_iflag, ==, before.c_iflag);
  g_assert_cmphex (after.c_oflag, ==, before.c_oflag);

  dup2 (saved_stdin, STDIN_FILENO);
  close (saved_stdin);
  close (slave);
  close (master);
  g_byte_array_unref (got);
  g_mutex_clear (&lock);
}

static void
test_null (void)
{
  Uart16550 uart;
  GError *error = NULL;
  uart_init (&uart, NULL, UART_COM1_BASE, (IrqLine){ NULL, 4 });
  uart_set_backend (&uart, uart_backend_new ("none", &uart, NULL, &error));
  g_assert_no_error (error);
  uart_write (&uart, UART_THR, 'a');
  g_assert_true (uart_read (&uart, UART_LSR) & UART_LSR_THRE);
  uart_destroy (&uart);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/uart-backend/parse", test_parse);
  g_test_add_func ("/uart-backend/null", test_null);
  g_test_add_func ("/uart-backend/file-appends", test_file_appends);
  g_test_add_func ("/uart-backend/fds-backpressure", test_fds_backpressure);
  g_test_add_func ("/uart-backend/unix-socket", test_unix_socket);
  g_test_add_func ("/uart-backend/stdio-raw-terminal", test_stdio_raw_terminal);
  return g_test_run ();
}
