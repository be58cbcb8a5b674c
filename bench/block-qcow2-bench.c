/* Vireo's qcow2 back end under qemu-img bench's access pattern: COUNT
 * requests of SIZE bytes, the first at offset 0, each next one STEP bytes
 * further, wrapping modulo (image size - SIZE). A large prime step
 * scatters the requests over the whole disk (a random-looking 4 KiB
 * workload that both programs replay identically).
 *
 *   block-qcow2-bench read|write IMAGE COUNT SIZE STEP
 * prints "seconds=S flush_seconds=F ops_per_sec=N". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vmm-core/block/block.h"

int
main (int argc, char **argv)
{
  GError *error = NULL;
  gboolean write;
  guint64 count, size, step, offset = 0, wrap;
  gint64 t0, t1, t2;
  guint8 *buf;
  BlockDev *bs;

  if (argc != 6 || (strcmp (argv[1], "read") != 0 && strcmp (argv[1], "write") != 0))
    {
      fprintf (stderr, "usage: %s read|write IMAGE COUNT SIZE STEP\n", argv[0]);
      return 2;
    }
  write = strcmp (argv[1], "write") == 0;
  count = g_ascii_strtoull (argv[3], NULL, 10);
  size = g_ascii_strtoull (argv[4], NULL, 10);
  step = g_ascii_strtoull (argv[5], NULL, 10);
  bs = block_open (argv[2], "qcow2", write ? 0 : BLOCK_OPEN_READ_ONLY, &error);
  if (bs == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  wrap = block_size (bs) - size;
  buf = g_malloc (size);
  memset (buf, 0xa5, size);

  t0 = g_get_monotonic_time ();
  for (guint64 i = 0; i < count; i++)
    {
      gboolean ok = write ? block_pwrite (bs, offset, buf, size, &error)
                          : block_pread (bs, offset, buf, size, &error);
      if (!ok)
        {
          fprintf (stderr, "request %" G_GUINT64_FORMAT ": %s\n", i, error->message);
          return 1;
        }
      offset = (offset + step) % wrap;
    }
  t1 = g_get_monotonic_time ();
  if (write && !block_flush (bs, &error))
    {
      fprintf (stderr, "flush: %s\n", error->message);
      return 1;
    }
  t2 = g_get_monotonic_time ();
  block_close (bs);
  g_free (buf);
  printf ("seconds=%.3f flush_seconds=%.3f ops_per_sec=%.0f\n", (t1 - t0) / 1e6,
          (t2 - t1) / 1e6, count / ((t1 - t0) / 1e6));
  return 0;
}
