/* State file: round trip of RAM + device state, and refusal of corrupt,
 * truncated and foreign files without touching guest RAM. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "vmm-core/snapshot/state-file.h"

#define RAM_SIZE (8ull << 20)

typedef struct {
  char *dir;
  char *path;
  GuestRam ram;
  GBytes *dev;
} Fixture;

static void
fill_random (GuestRam *ram, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  /* Random pages, with zero pages in between (they become holes). */
  for (uint64_t off = 0; off < ram->size; off += 4096)
    {
      if (g_rand_int_range (r, 0, 4) == 0)
        {
          memset (ram->host + off, 0, 4096);
          continue;
        }
      for (unsigned i = 0; i < 4096; i += 4)
        {
          guint32 v = g_rand_int (r);
          memcpy (ram->host + off + i, &v, 4);
        }
    }
  g_rand_free (r);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = g_dir_make_tmp ("vireo-state-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "vm.state", NULL);
  g_assert_true (guest_ram_init (&f->ram, RAM_SIZE, &error));
  g_assert_no_error (error);
  fill_random (&f->ram, 1234);
  static const char blob[] = "machine section bytes \x01\x02\x03 with a NUL \0 inside";
  f->dev = g_bytes_new (blob, sizeof blob);
  g_assert_true (state_file_write (f->path, &f->ram, f->dev, 2, "kvm", 0, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (f->dir);
  guest_ram_destroy (&f->ram);
  g_bytes_unref (f->dev);
  g_free (f->path);
  g_free (f->dir);
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  static const StateLoadMethod methods[] = { STATE_LOAD_PREAD, STATE_LOAD_MMAP,
                                             STATE_LOAD_COPY_FILE_RANGE };
  g_autoptr (GError) error = NULL;
  g_autofree uint8_t *saved = g_memdup2 (f->ram.host, RAM_SIZE);

  for (unsigned m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      StateFile *sf = state_file_open (f->path, &error);
      g_assert_no_error (error);
      const StateFileInfo *in = state_file_get_info (sf);
      g_assert_cmpuint (in->version, ==, STATE_FILE_VERSION);
      g_assert_cmpuint (in->ram_size, ==, RAM_SIZE);
      g_assert_cmpuint (in->low_size, ==, RAM_SIZE);
      g_assert_cmpuint (in->high_size, ==, 0);
      g_assert_cmpuint (in->cpus, ==, 2);
      g_assert_cmpstr (in->engine, ==, "kvm");
      g_assert_cmpint (in->created, >, 1600000000);
      g_autoptr (GBytes) dev = state_file_get_device_state (sf);
      g_assert_true (g_bytes_equal (dev, f->dev));

      /* Scribble over RAM, then load it back. */
      fill_random (&f->ram, 99 + m);
      memset (f->ram.host + 4096, 0x5a, 4096); /* was zero or not: must be restored */
      g_assert_true (state_file_load_ram (sf, &f->ram, methods[m], true, &error));
      g_assert_no_error (error);
      g_assert_true (memcmp (f->ram.host, saved, RAM_SIZE) == 0);
      state_file_close (sf);
    }
}

/* The file is sparse: zero pages take no space. */
static void
test_sparse (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  memset (f->ram.host, 0, RAM_SIZE);
  f->ram.host[RAM_SIZE / 2] = 1;
  g_assert_true (state_file_write (f->path, &f->ram, f->dev, 1, "soft", 0, &error));
  struct stat st;
  g_assert_cmpint (stat (f->path, &st), ==, 0);
  g_assert_cmpuint ((guint64) st.st_blocks * 512, <, 1u << 20);
  g_assert_cmpuint ((guint64) st.st_size, >=, RAM_SIZE);
  fill_random (&f->ram, 5);
  StateFile *sf = state_file_open (f->path, &error);
  g_assert_nonnull (sf);
  g_assert_true (state_file_load_ram (sf, &f->ram, STATE_LOAD_PREAD, true, &error));
  g_assert_cmpuint (f->ram.host[RAM_SIZE / 2], ==, 1);
  for (uint64_t i = 0; i < RAM_SIZE; i++)
    if (i != RAM_SIZE / 2 && f->ram.host[i])
      g_error ("byte %" G_GUINT64_FORMAT " not zero", i);
  state_file_close (sf);
}

/* Applies `damage` to a copy of the file and expects it to be refused,
 * with an error mentioning `what`, and RAM untouched. */
static void
expect_refused (Fixture *f, void (*damage) (const char *path), const char *what)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *bad = g_build_filename (f->dir, "bad.state", NULL);
  g_autofree char *contents = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (f->path, &contents, &len, NULL));
  g_assert_true (g_file_set_contents (bad, contents, (gssize) len, NULL));
  damage (bad);

  memset (f->ram.host, 0xee, RAM_SIZE);
  StateFile *sf = state_file_open (bad, &error);
  if (sf)
    {
      g_assert_no_error (error);
      g_assert_false (state_file_load_ram (sf, &f->ram, STATE_LOAD_MMAP, true, &error));
      state_file_close (sf);
    }
  g_assert_nonnull (error);
  g_test_message ("refused: %s", error->message);
  g_assert_nonnull (strstr (error->message, what));
  g_assert_null (strchr (error->message, '\n'));
  for (uint64_t i = 0; i < RAM_SIZE; i += 512)
    g_assert_cmpuint (f->ram.host[i], ==, 0xee);
  g_unlink (bad);
}

static void
poke (const char *path, off_t off, const void *data, size_t len)
{
  int fd = open (path, O_RDWR);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, data, len, off), ==, (ssize_t) len);
  close (fd);
}

static void
damage_magic (const char *path)
{
  poke (path, 0, "QFI\xfb\0\0\0\3", 8);
}

static void
damage_version (const char *path)
{
  poke (path, 8, "\x07\0\0\0", 4);
}

static void
damage_header (const char *path)
{
  poke (path, 56, "\x01", 1); /* creation time: only the checksum notices */
}

static void
damage_device (const char *path)
{
  poke (path, 4096 + 3, "X", 1);
}

static void
damage_ram (const char *path)
{
  struct stat st;
  g_assert_cmpint (stat (path, &st), ==, 0);
  poke (path, st.st_size - 100, "\xff", 1);
}

static void
damage_truncate (const char *path)
{
  struct stat st;
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (truncate (path, st.st_size - 4096), ==, 0);
}

static void
damage_short (const char *path)
{
  g_assert_cmpint (truncate (path, 1000), ==, 0);
}

static void
damage_empty (const char *path)
{
  g_assert_cmpint (truncate (path, 0), ==, 0);
}

static void
test_refuse (Fixture *f, gconstpointer data)
{
  expect_refused (f, damage_magic, "not a Vireo state file");
  expect_refused (f, damage_version, "newer");
  expect_refused (f, damage_header, "checksum");
  expect_refused (f, damage_device, "checksum");
  expect_refused (f, damage_ram, "RAM image checksum");
  expect_refused (f, damage_truncate, "truncated");
  expect_refused (f, damage_short, "truncated");
  expect_refused (f, damage_empty, "not a Vireo state file");
}

static void
test_foreign_machine (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  StateFile *sf = state_file_open (f->path, &error);
  g_assert_nonnull (sf);
  g_assert_false (state_file_check_machine (sf, RAM_SIZE, RAM_SIZE, 0, 4, &error));
  g_assert_nonnull (strstr (error->message, "vCPUs"));
  g_clear_error (&error);
  g_assert_false (state_file_check_machine (sf, RAM_SIZE * 2, RAM_SIZE * 2, 0, 2, &error));
  g_assert_nonnull (strstr (error->message, "MiB of RAM"));
  g_clear_error (&error);

  /* A VM with a different RAM size: load refuses and leaves RAM alone. */
  GuestRam other;
  g_assert_true (guest_ram_init (&other, RAM_SIZE * 2, &error));
  memset (other.host, 0x77, other.size);
  g_assert_false (state_file_load_ram (sf, &other, STATE_LOAD_PREAD, true, &error));
  g_assert_nonnull (error);
  for (uint64_t i = 0; i < other.size; i += 4096)
    g_assert_cmpuint (other.host[i], ==, 0x77);
  guest_ram_destroy (&other);
  state_file_close (sf);
}

/* A failed write leaves the previous file in place. */
static void
test_failed_write_keeps_old (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL;
  gsize l1, l2;
  g_assert_true (g_file_get_contents (f->path, &before, &l1, NULL));
  GuestRam odd = f->ram;
  odd.size -= 100; /* not page-aligned: refused before anything is written */
  g_assert_false (state_file_write (f->path, &odd, f->dev, 2, "kvm", 0, &error));
  g_assert_nonnull (error);
  g_assert_true (g_file_get_contents (f->path, &after, &l2, NULL));
  g_assert_cmpuint (l1, ==, l2);
  g_assert_true (memcmp (before, after, l1) == 0);
  /* No temp file left behind. */
  g_autoptr (GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name (d)))
    g_assert_cmpstr (name, ==, "vm.state");
}

static void
test_hash (void)
{
  uint8_t buf[100];
  for (unsigned i = 0; i < sizeof buf; i++)
    buf[i] = (uint8_t) i;
  uint64_t h = state_hash64 (buf, sizeof buf, 0);
  g_assert_cmpuint (h, ==, state_hash64 (buf, sizeof buf, 0));
  g_assert_cmpuint (h, !=, state_hash64 (buf, sizeof buf, 1));
  g_assert_cmpuint (h, !=, state_hash64 (buf, sizeof buf - 1, 0));
  /* Every single-bit flip changes the hash. */
  for (unsigned i = 0; i < sizeof buf * 8; i++)
    {
      buf[i / 8] ^= (uint8_t) (1u << (i % 8));
      g_assert_cmpuint (state_hash64 (buf, sizeof buf, 0), !=, h);
      buf[i / 8] ^= (uint8_t) (1u << (i % 8));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/state-file/hash", test_hash);
  g_test_add ("/state-file/round-trip", Fixture, NULL, fixture_setup, test_round_trip,
              fixture_teardown);
  g_test_add ("/state-file/sparse", Fixture, NULL, fixture_setup, test_sparse,
              fixture_teardown);
  g_test_add ("/state-file/refuse-corrupt", Fixture, NULL, fixture_setup, test_refuse,
              fixture_teardown);
  g_test_add ("/state-file/refuse-foreign-machine", Fixture, NULL, fixture_setup,
              test_foreign_machine, fixture_teardown);
  g_test_add ("/state-file/failed-write-keeps-old", Fixture, NULL, fixture_setup,
              test_failed_write_keeps_old, fixture_teardown);
  return g_test_run ();
}
