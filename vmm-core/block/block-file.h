/* Small helpers over a file descriptor shared by the image drivers. */
#pragma once

#include <glib.h>

/* Read len bytes at offset; bytes past the end of the file read as zeroes
 * (an image file may be shorter than what it describes). */
gboolean block_file_pread (int fd, void *buf, gsize len, guint64 offset, GError **error);
/* Write all len bytes at offset (retrying short writes and EINTR). */
gboolean block_file_pwrite (int fd, const void *buf, gsize len, guint64 offset,
                            GError **error);
gboolean block_file_sync (int fd, GError **error);
/* Current size of the file in bytes. */
gboolean block_file_size (int fd, guint64 *size, GError **error);
/* Host bytes the file occupies (st_blocks). */
guint64 block_file_allocated (int fd);
/* Open path for an image (O_CLOEXEC); a clear message on failure. */
int block_file_open (const char *path, gboolean read_only, GError **error);
/* Give a range back to the file system (punch a hole, keep the size).
 * FALSE without error when the file system cannot. */
gboolean block_file_punch (int fd, guint64 offset, guint64 len);
