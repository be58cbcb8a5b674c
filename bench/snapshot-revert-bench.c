/* Revert cost of a state file: write a SIZE_MB RAM image (the pause of a
 * live snapshot), then load it back into the memfd by pread, by mmap+copy
 * and by copy_file_range, with the file in the page cache (warm) and
 * dropped from it (cold, posix_fadvise DONTNEED), and the hash check.
 *
 *   snapshot-revert-bench DIR [SIZE_MB]   (bench/snapshot-revert runs it) */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib.h>

#include "vmm-core/snapshot/state-file.h"

static double
now (void)
{
  return (double) g_get_monotonic_time () / 1e6;
}

static void
drop_cache (const char *path)
{
  int fd = open (path, O_RDONLY);
  if (fd >= 0)
    {
      fdatasync (fd);
      posix_fadvise (fd, 0, 0, POSIX_FADV_DONTNEED);
      close (fd);
    }
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: %s DIR [SIZE_MB]\n", argv[0]);
      return 2;
    }
  uint64_t size = (uint64_t) (argc > 2 ? atoi (argv[2]) : 1024) << 20;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (argv[1], "bench.state", NULL);
  GuestRam ram;
  if (!guest_ram_init (&ram, size, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  /* A guest-like image: 3 of 4 pages hold data, every 4th is zero. */
  for (uint64_t off = 0; off < size; off += 4096)
    if ((off / 4096) % 4 != 3)
      for (unsigned i = 0; i < 4096; i += 8)
        {
          uint64_t v = (off + i) * 0x9E3779B97F4A7C15ull;
          memcpy (ram.host + off + i, &v, 8);
        }
  g_autofree uint8_t *copy = g_memdup2 (ram.host, size);
  GBytes *dev = g_bytes_new_static ("devices", 7);

  double t = now ();
  if (!state_file_write (path, &ram, dev, 1, "kvm", 0, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  printf ("RAM %" G_GUINT64_FORMAT " MiB, state file in %s\n", size >> 20, argv[1]);
  printf ("%-34s %8.3f s\n", "write with fsync (suspend)", now () - t);
  /* A snapshot writes a new name each time (<id>.state); replacing an
   * existing file by rename would make ext4 start writeback at once. */
  g_autofree char *path2 = g_build_filename (argv[1], "bench2.state", NULL);
  t = now ();
  if (!state_file_write_nosync (path2, &ram, dev, 1, "kvm", 0, &error))
    return 1;
  printf ("%-34s %8.3f s\n", "write, no fsync (snapshot pause)", now () - t);
  t = now ();
  if (!state_file_sync (path2, &error))
    return 1;
  printf ("%-34s %8.3f s\n", "fsync after resume", now () - t);
  unlink (path2);

  StateFile *sf = state_file_open (path, &error);
  if (!sf)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  static const struct { StateLoadMethod m; const char *name; } methods[] = {
    { STATE_LOAD_PREAD, "pread" },
    { STATE_LOAD_MMAP, "mmap+copy" },
    { STATE_LOAD_COPY_FILE_RANGE, "copy_file_range" },
  };
  for (int cold = 0; cold < 2; cold++)
    {
      if (cold)
        drop_cache (path);
      t = now ();
      if (!state_file_verify_ram (sf, &error))
        return 1;
      printf ("%-34s %8.3f s\n", cold ? "verify hashes (cold cache)" : "verify hashes (warm cache)",
              now () - t);
    }
  for (int cold = 0; cold < 2; cold++)
    for (unsigned i = 0; i < G_N_ELEMENTS (methods); i++)
      {
        memset (ram.host, 0xcc, size);
        if (cold)
          drop_cache (path);
        t = now ();
        if (!state_file_load_ram (sf, &ram, methods[i].m, false, &error))
          {
            fprintf (stderr, "%s\n", error->message);
            return 1;
          }
        double dt = now () - t;
        char label[64];
        g_snprintf (label, sizeof label, "load %s (%s cache)", methods[i].name,
                    cold ? "cold" : "warm");
        printf ("%-34s %8.3f s  %6.0f MiB/s%s\n", label, dt, (double) (size >> 20) / dt,
                memcmp (ram.host, copy, size) == 0 ? "" : "  WRONG CONTENT");
      }
  state_file_close (sf);
  unlink (path);
  g_bytes_unref (dev);
  guest_ram_destroy (&ram);
  return 0;
}
