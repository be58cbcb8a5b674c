/* Where a UART's bytes go: the host side of a serial port.
 *
 * Option strings (the `serial0 = ...` config key and `--serial=`):
 *   stdio       the helper's stdin/stdout; stdin is put in raw mode when it
 *               is a terminal (Ctrl-C still signals the helper) and restored
 *               when the back end is freed or the process exits
 *   file:PATH   append the guest's output to PATH (no input)
 *   unix:PATH   listen on a unix socket at PATH; one client at a time (later
 *               clients are closed at once), bidirectional; a stale socket
 *               left at PATH is replaced, any other file there is an error
 *   none        discard output, no input
 *
 * Back ends with input run a reader thread that takes the machine's device
 * lock (`lock`) before feeding bytes with uart_receive(), and waits on that
 * lock while the guest's RX FIFO is full, so no host byte is dropped. Output
 * to a socket is non-blocking (bytes are dropped when the client does not keep
 * up) so a stalled client never stalls a vCPU. */
#pragma once

#include <glib.h>

#include "vmm-core/platform/uart-16550.h"

typedef enum {
  UART_BACKEND_NONE,
  UART_BACKEND_STDIO,
  UART_BACKEND_FILE,
  UART_BACKEND_UNIX,
} UartBackendKind;

/* Parses an option string; *path gets the PATH part (g_free it) or NULL.
 * False with a one-line message on anything else. */
bool uart_backend_parse (const char *spec, UartBackendKind *kind, char **path, GError **error);

/* Parses spec and builds the back end for `uart` (not attached: pass the
 * result to uart_set_backend). NULL with an error on bad input. */
UartBackend *uart_backend_new (const char *spec, Uart16550 *uart, GMutex *lock, GError **error);

UartBackend *uart_backend_new_null (void);
UartBackend *uart_backend_new_file (const char *path, GError **error);
/* Reads in_fd (a reader thread; -1 for none) and writes out_fd. The fds stay
 * open after free (they are the caller's, e.g. 0 and 1). */
UartBackend *uart_backend_new_fds (Uart16550 *uart, GMutex *lock, int in_fd, int out_fd);
UartBackend *uart_backend_new_stdio (Uart16550 *uart, GMutex *lock);
UartBackend *uart_backend_new_unix (Uart16550 *uart, GMutex *lock, const char *path,
                                    GError **error);

/* Puts the terminal back if stdio made it raw. Async-signal-safe, so the
 * helper can call it from a fatal-signal handler. */
void uart_backend_restore_terminal (void);
