/* The memory + device state file: see state-file.h for the layout. */
#include "vmm-core/snapshot/state-file.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>

/* Header field offsets. */
enum {
  H_MAGIC = 0,
  H_VERSION = 8,
  H_HEADER_SIZE = 12,
  H_FLAGS = 16,
  H_PAGE_SIZE = 20,
  H_RAM_SIZE = 24,
  H_LOW_SIZE = 32,
  H_HIGH_SIZE = 40,
  H_CPUS = 48,
  H_CHUNK_SIZE = 52,
  H_CREATED = 56,
  H_ENGINE = 64, /* 32 bytes, NUL padded */
  H_DEV_OFFSET = 96,
  H_DEV_LEN = 104,
  H_TABLE_OFFSET = 112,
  H_TABLE_LEN = 120,
  H_RAM_OFFSET = 128,
  H_RAM_LEN = 136,
  H_CHECKSUM = STATE_FILE_HEADER_SIZE - 32, /* SHA-256 */
};

#define PAGE 4096u
/* Sanity limits for hostile files: no VM here has more. */
#define MAX_DEVICE_STATE (256u << 20)
#define MAX_RAM (1ull << 42)

struct StateFile {
  char *path;
  int fd;
  StateFileInfo info;
  GBytes *device_state;
  uint64_t *table; /* per-chunk hashes */
  uint64_t nchunks;
  uint64_t ram_offset;
};

static void
put32 (uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static void
put64 (uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static uint32_t
get32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t
get64 (const uint8_t *p)
{
  return (uint64_t) get32 (p) | (uint64_t) get32 (p + 4) << 32;
}

/* ---- a 64-bit hash in the style of xxHash64 (fast: ~1 cycle/byte or less) ---- */

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static inline uint64_t
rotl64 (uint64_t x, int r)
{
  return (x << r) | (x >> (64 - r));
}

static inline uint64_t
hash_round (uint64_t acc, uint64_t in)
{
  acc += in * P2;
  acc = rotl64 (acc, 31);
  return acc * P1;
}

static inline uint64_t
hash_merge (uint64_t acc, uint64_t v)
{
  acc ^= hash_round (0, v);
  return acc * P1 + P4;
}

static inline uint64_t
load64 (const uint8_t *p)
{
  uint64_t v;
  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

uint64_t
state_hash64 (const void *data, size_t len, uint64_t seed)
{
  const uint8_t *p = data;
  const uint8_t *end = p + len;
  uint64_t h;

  if (len >= 32)
    {
      uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
      const uint8_t *limit = end - 32;
      do
        {
          v1 = hash_round (v1, load64 (p));
          v2 = hash_round (v2, load64 (p + 8));
          v3 = hash_round (v3, load64 (p + 16));
          v4 = hash_round (v4, load64 (p + 24));
          p += 32;
        }
      while (p <= limit);
      h = rotl64 (v1, 1) + rotl64 (v2, 7) + rotl64 (v3, 12) + rotl64 (v4, 18);
      h = hash_merge (h, v1);
      h = hash_merge (h, v2);
      h = hash_merge (h, v3);
      h = hash_merge (h, v4);
    }
  else
    h = seed + P5;
  h += (uint64_t) len;
  for (; p + 8 <= end; p += 8)
    h = rotl64 (h ^ hash_round (0, load64 (p)), 27) * P1 + P4;
  for (; p < end; p++)
    h = rotl64 (h ^ (*p * P5), 11) * P1;
  h ^= h >> 33;
  h *= P2;
  h ^= h >> 29;
  h *= P3;
  h ^= h >> 32;
  return h;
}

/* ---- helpers ---- */

static bool
page_is_zero (const uint8_t *p)
{
  const uint64_t *w = (const uint64_t *) p;
  for (unsigned i = 0; i < PAGE / 8; i += 4)
    if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
      return false;
  return true;
}

static uint64_t
align_up (uint64_t v, uint64_t a)
{
  return (v + a - 1) / a * a;
}

static bool
pwrite_all (int fd, const void *buf, uint64_t len, uint64_t off, const char *path,
            GError **error)
{
  const uint8_t *p = buf;
  while (len > 0)
    {
      ssize_t n = pwrite (fd, p, MIN (len, (uint64_t) 1 << 30), (off_t) off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int e = n < 0 ? errno : ENOSPC;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                       "cannot write state file %s: %s", path, g_strerror (e));
          return false;
        }
      p += n;
      off += (uint64_t) n;
      len -= (uint64_t) n;
    }
  return true;
}

static bool
pread_all (int fd, void *buf, uint64_t len, uint64_t off, const char *path, GError **error)
{
  uint8_t *p = buf;
  while (len > 0)
    {
      ssize_t n = pread (fd, p, MIN (len, (uint64_t) 1 << 30), (off_t) off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "state file %s is truncated or unreadable%s%s", path,
                       n < 0 ? ": " : "", n < 0 ? g_strerror (errno) : "");
          return false;
        }
      p += n;
      off += (uint64_t) n;
      len -= (uint64_t) n;
    }
  return true;
}

static void
checksum_sections (const uint8_t *header, const void *dev, gsize dev_len,
                   const uint64_t *table_le, gsize table_len, uint8_t out[32])
{
  GChecksum *c = g_checksum_new (G_CHECKSUM_SHA256);
  gsize n = 32;
  g_checksum_update (c, header, H_CHECKSUM);
  if (dev_len)
    g_checksum_update (c, dev, dev_len);
  if (table_len)
    g_checksum_update (c, (const guchar *) table_le, table_len);
  g_checksum_get_digest (c, out, &n);
  g_checksum_free (c);
}

/* Writes the RAM image, skipping zero pages (the file was sized with
 * ftruncate, so they stay holes), and fills table[] with chunk hashes. */
static bool
write_ram (int fd, const GuestRam *ram, uint64_t ram_offset, uint64_t *table,
           const char *path, GError **error)
{
  uint64_t nchunks = align_up (ram->size, STATE_FILE_CHUNK_SIZE) / STATE_FILE_CHUNK_SIZE;
  for (uint64_t c = 0; c < nchunks; c++)
    {
      uint64_t start = c * STATE_FILE_CHUNK_SIZE;
      uint64_t len = MIN ((uint64_t) STATE_FILE_CHUNK_SIZE, ram->size - start);
      const uint8_t *base = ram->host + start;
      uint64_t run = 0, run_len = 0;

      table[c] = GUINT64_TO_LE (state_hash64 (base, len, c));
      for (uint64_t off = 0; off < len; off += PAGE)
        {
          if (page_is_zero (base + off))
            {
              if (run_len && !pwrite_all (fd, base + run, run_len, ram_offset + start + run,
                                          path, error))
                return false;
              run_len = 0;
              continue;
            }
          if (!run_len)
            run = off;
          run_len += PAGE;
        }
      if (run_len
          && !pwrite_all (fd, base + run, run_len, ram_offset + start + run, path, error))
        return false;
    }
  return true;
}

static void
sync_dir (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
}

bool
state_file_sync (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync (fd) < 0)
    {
      int e = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot sync state file %s: %s", path, g_strerror (e));
      return false;
    }
  close (fd);
  sync_dir (path);
  return true;
}

static bool
write_file (const char *path, const GuestRam *ram, GBytes *device_state, unsigned cpus,
            const char *engine, uint32_t flags, bool sync, GError **error)
{
  gsize dev_len = 0;
  const void *dev = g_bytes_get_data (device_state, &dev_len);
  uint64_t nchunks = align_up (ram->size, STATE_FILE_CHUNK_SIZE) / STATE_FILE_CHUNK_SIZE;
  uint64_t table_len = nchunks * 8;
  uint64_t page_size = MAX ((uint64_t) sysconf (_SC_PAGESIZE), (uint64_t) PAGE);
  uint64_t dev_off = STATE_FILE_HEADER_SIZE;
  uint64_t table_off = align_up (dev_off + dev_len, 8);
  uint64_t ram_off = align_up (table_off + table_len, page_size);
  g_autofree char *tmp = g_strdup_printf ("%s.tmp-XXXXXX", path);
  g_autofree uint64_t *table = g_new0 (uint64_t, nchunks);
  uint8_t header[STATE_FILE_HEADER_SIZE] = { 0 };
  int fd;

  if (ram->size % PAGE || ram->low_size + ram->high_size != ram->size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "guest RAM layout is not page-aligned");
      return false;
    }
  fd = g_mkstemp_full (tmp, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot create state file %s: %s", tmp, g_strerror (e));
      return false;
    }
  if (ftruncate (fd, (off_t) (ram_off + ram->size)) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot size state file %s: %s", tmp, g_strerror (e));
      goto fail;
    }
  if (!write_ram (fd, ram, ram_off, table, tmp, error))
    goto fail;

  memcpy (header + H_MAGIC, STATE_FILE_MAGIC, 8);
  put32 (header + H_VERSION, STATE_FILE_VERSION);
  put32 (header + H_HEADER_SIZE, STATE_FILE_HEADER_SIZE);
  put32 (header + H_FLAGS, flags);
  put32 (header + H_PAGE_SIZE, (uint32_t) page_size);
  put64 (header + H_RAM_SIZE, ram->size);
  put64 (header + H_LOW_SIZE, ram->low_size);
  put64 (header + H_HIGH_SIZE, ram->high_size);
  put32 (header + H_CPUS, cpus);
  put32 (header + H_CHUNK_SIZE, STATE_FILE_CHUNK_SIZE);
  put64 (header + H_CREATED, (uint64_t) (g_get_real_time () / G_USEC_PER_SEC));
  g_strlcpy ((char *) header + H_ENGINE, engine ? engine : "", 32);
  put64 (header + H_DEV_OFFSET, dev_off);
  put64 (header + H_DEV_LEN, dev_len);
  put64 (header + H_TABLE_OFFSET, table_off);
  put64 (header + H_TABLE_LEN, table_len);
  put64 (header + H_RAM_OFFSET, ram_off);
  put64 (header + H_RAM_LEN, ram->size);
  checksum_sections (header, dev, dev_len, table, table_len, header + H_CHECKSUM);

  if (!pwrite_all (fd, dev, dev_len, dev_off, tmp, error)
      || !pwrite_all (fd, table, table_len, table_off, tmp, error)
      || !pwrite_all (fd, header, sizeof header, 0, tmp, error))
    goto fail;
  if (sync && fsync (fd) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot sync state file %s: %s", tmp, g_strerror (e));
      goto fail;
    }
  close (fd);
  if (rename (tmp, path) < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot rename %s to %s: %s", tmp, path, g_strerror (e));
      unlink (tmp);
      return false;
    }
  /* Make the rename itself durable. */
  if (sync)
    sync_dir (path);
  return true;

fail:
  close (fd);
  unlink (tmp);
  return false;
}

bool
state_file_write (const char *path, const GuestRam *ram, GBytes *device_state,
                  unsigned cpus, const char *engine, uint32_t flags, GError **error)
{
  return write_file (path, ram, device_state, cpus, engine, flags, true, error);
}

bool
state_file_write_nosync (const char *path, const GuestRam *ram, GBytes *device_state,
                         unsigned cpus, const char *engine, uint32_t flags, GError **error)
{
  return write_file (path, ram, device_state, cpus, engine, flags, false, error);
}

/* ---- reading ---- */

void
state_file_close (StateFile *sf)
{
  if (!sf)
    return;
  if (sf->fd >= 0)
    close (sf->fd);
  g_clear_pointer (&sf->device_state, g_bytes_unref);
  g_free (sf->table);
  g_free (sf->path);
  g_free (sf);
}

static StateFile *
refuse (StateFile *sf, GError **error, const char *fmt, ...) G_GNUC_PRINTF (3, 4);

static StateFile *
refuse (StateFile *sf, GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", sf->path, msg);
  state_file_close (sf);
  return NULL;
}

StateFile *
state_file_open (const char *path, GError **error)
{
  StateFile *sf = g_new0 (StateFile, 1);
  uint8_t header[STATE_FILE_HEADER_SIZE];
  struct stat st;

  sf->path = g_strdup (path);
  sf->fd = open (path, O_RDONLY | O_CLOEXEC);
  if (sf->fd < 0)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "cannot open state file %s: %s", path, g_strerror (e));
      state_file_close (sf);
      return NULL;
    }
  if (fstat (sf->fd, &st) < 0 || !S_ISREG (st.st_mode))
    return refuse (sf, error, "not a regular file");
  if ((uint64_t) st.st_size < 8)
    return refuse (sf, error, "not a Vireo state file (too short)");
  ssize_t got = pread (sf->fd, header, sizeof header, 0);
  if (got < 8 || memcmp (header, STATE_FILE_MAGIC, 8) != 0)
    return refuse (sf, error, "not a Vireo state file (bad magic)");
  if (got < (ssize_t) sizeof header)
    return refuse (sf, error, "state file is truncated (header incomplete)");

  StateFileInfo *in = &sf->info;
  in->version = get32 (header + H_VERSION);
  if (in->version > STATE_FILE_VERSION)
    return refuse (sf, error, "state file format version %u is newer than this Vireo (%u)",
                   in->version, STATE_FILE_VERSION);
  if (in->version == 0 || get32 (header + H_HEADER_SIZE) != STATE_FILE_HEADER_SIZE)
    return refuse (sf, error, "state file header is corrupt");
  in->flags = get32 (header + H_FLAGS);
  in->page_size = get32 (header + H_PAGE_SIZE);
  in->ram_size = get64 (header + H_RAM_SIZE);
  in->low_size = get64 (header + H_LOW_SIZE);
  in->high_size = get64 (header + H_HIGH_SIZE);
  in->cpus = get32 (header + H_CPUS);
  in->created = (int64_t) get64 (header + H_CREATED);
  memcpy (in->engine, header + H_ENGINE, 31);
  in->engine[31] = 0;

  uint64_t dev_off = get64 (header + H_DEV_OFFSET), dev_len = get64 (header + H_DEV_LEN);
  uint64_t table_off = get64 (header + H_TABLE_OFFSET);
  uint64_t table_len = get64 (header + H_TABLE_LEN);
  uint64_t ram_off = get64 (header + H_RAM_OFFSET), ram_len = get64 (header + H_RAM_LEN);
  uint64_t fsize = (uint64_t) st.st_size;

  if (in->ram_size == 0 || in->ram_size > MAX_RAM || in->ram_size % PAGE
      || in->low_size + in->high_size != in->ram_size || ram_len != in->ram_size
      || get32 (header + H_CHUNK_SIZE) != STATE_FILE_CHUNK_SIZE
      || in->page_size < PAGE || in->page_size > (1u << 21)
      || (in->page_size & (in->page_size - 1)) || ram_off % in->page_size
      || dev_len > MAX_DEVICE_STATE || dev_off < STATE_FILE_HEADER_SIZE
      || table_len != align_up (in->ram_size, STATE_FILE_CHUNK_SIZE) / STATE_FILE_CHUNK_SIZE * 8
      || table_off < dev_off + dev_len || ram_off < table_off + table_len)
    return refuse (sf, error, "state file header is corrupt (inconsistent sizes)");
  if (fsize < ram_off + ram_len)
    return refuse (sf, error, "state file is truncated (%" G_GUINT64_FORMAT " of %"
                   G_GUINT64_FORMAT " bytes)", fsize, ram_off + ram_len);

  g_autofree uint8_t *dev = g_malloc (MAX (dev_len, 1));
  sf->nchunks = table_len / 8;
  sf->table = g_new (uint64_t, sf->nchunks);
  if (!pread_all (sf->fd, dev, dev_len, dev_off, path, error)
      || !pread_all (sf->fd, sf->table, table_len, table_off, path, error))
    {
      state_file_close (sf);
      return NULL;
    }
  uint8_t sum[32];
  checksum_sections (header, dev, dev_len, sf->table, table_len, sum);
  if (memcmp (sum, header + H_CHECKSUM, 32) != 0)
    return refuse (sf, error, "state file checksum mismatch (corrupt header or device state)");
  for (uint64_t i = 0; i < sf->nchunks; i++)
    sf->table[i] = GUINT64_FROM_LE (sf->table[i]);
  sf->device_state = g_bytes_new_take (g_steal_pointer (&dev), dev_len);
  sf->ram_offset = ram_off;
  return sf;
}

const StateFileInfo *
state_file_get_info (StateFile *sf)
{
  return &sf->info;
}

GBytes *
state_file_get_device_state (StateFile *sf)
{
  return g_bytes_ref (sf->device_state);
}

bool
state_file_check_machine (StateFile *sf, uint64_t ram_size, uint64_t low_size,
                          uint64_t high_size, unsigned cpus, GError **error)
{
  const StateFileInfo *in = &sf->info;
  if (in->ram_size != ram_size || in->low_size != low_size || in->high_size != high_size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: saved with %" G_GUINT64_FORMAT " MiB of RAM, this VM has %"
                   G_GUINT64_FORMAT " MiB", sf->path, in->ram_size >> 20, ram_size >> 20);
      return false;
    }
  if (in->cpus != cpus)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s: saved with %u vCPUs, this VM has %u", sf->path, in->cpus, cpus);
      return false;
    }
  return true;
}

bool
state_file_verify_ram (StateFile *sf, GError **error)
{
  uint64_t size = sf->info.ram_size;
  uint8_t *map = mmap (NULL, size, PROT_READ, MAP_PRIVATE, sf->fd, (off_t) sf->ram_offset);
  if (map == MAP_FAILED)
    {
      int e = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e),
                   "%s: cannot map the RAM image: %s", sf->path, g_strerror (e));
      return false;
    }
  madvise (map, size, MADV_SEQUENTIAL);
  for (uint64_t c = 0; c < sf->nchunks; c++)
    {
      uint64_t start = c * STATE_FILE_CHUNK_SIZE;
      uint64_t len = MIN ((uint64_t) STATE_FILE_CHUNK_SIZE, size - start);
      if (state_hash64 (map + start, len, c) != sf->table[c])
        {
          munmap (map, size);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s: RAM image checksum mismatch at %" G_GUINT64_FORMAT " MiB",
                       sf->path, start >> 20);
          return false;
        }
    }
  munmap (map, size);
  return true;
}

/* Zeroes [off, off+len) of RAM: punching a hole in the memfd frees the pages
 * instead of writing zeroes; memset where the fd cannot. */
static void
ram_zero (GuestRam *ram, uint64_t off, uint64_t len)
{
  if (len == 0)
    return;
  if (ram->fd < 0
      || fallocate (ram->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) off,
                    (off_t) len) < 0)
    memset (ram->host + off, 0, len);
}

/* Copies the data extent [off, off+len) of the RAM image. */
static bool
copy_extent (StateFile *sf, GuestRam *ram, const uint8_t *map, uint64_t off, uint64_t len,
             StateLoadMethod method, GError **error)
{
  switch (method)
    {
    case STATE_LOAD_MMAP:
      memcpy (ram->host + off, map + off, len);
      return true;
    case STATE_LOAD_COPY_FILE_RANGE:
      if (ram->fd >= 0)
        {
          loff_t in_off = (loff_t) (sf->ram_offset + off), out_off = (loff_t) off;
          uint64_t left = len;
          while (left > 0)
            {
              ssize_t n = copy_file_range (sf->fd, &in_off, ram->fd, &out_off, left, 0);
              if (n < 0 && errno == EINTR)
                continue;
              if (n <= 0)
                break;
              left -= (uint64_t) n;
            }
          if (left == 0)
            return true;
          off += len - left;
          len = left;
        }
      /* fall back to pread for the rest */
      G_GNUC_FALLTHROUGH;
    case STATE_LOAD_PREAD:
    default:
      return pread_all (sf->fd, ram->host + off, len, sf->ram_offset + off, sf->path, error);
    }
}

bool
state_file_load_ram (StateFile *sf, GuestRam *ram, StateLoadMethod method, bool verify,
                     GError **error)
{
  uint64_t size = sf->info.ram_size;
  uint8_t *map = NULL;
  bool ok = true;

  if (!state_file_check_machine (sf, ram->size, ram->low_size, ram->high_size,
                                 sf->info.cpus, error)
      || (verify && !state_file_verify_ram (sf, error)))
    return false;
  if (method == STATE_LOAD_MMAP)
    {
      map = mmap (NULL, size, PROT_READ, MAP_PRIVATE, sf->fd, (off_t) sf->ram_offset);
      if (map == MAP_FAILED)
        {
          map = NULL;
          method = STATE_LOAD_PREAD;
        }
      else
        madvise (map, size, MADV_SEQUENTIAL);
    }

  /* Walk data extents and holes; holes read as zeroes. */
  uint64_t pos = 0;
  while (ok && pos < size)
    {
      off_t data = lseek (sf->fd, (off_t) (sf->ram_offset + pos), SEEK_DATA);
      uint64_t dstart, dend;
      if (data < 0)
        dstart = size; /* ENXIO: only a hole is left */
      else
        dstart = MIN ((uint64_t) data - sf->ram_offset, size);
      ram_zero (ram, pos, dstart - pos);
      if (dstart >= size)
        break;
      off_t hole = lseek (sf->fd, (off_t) (sf->ram_offset + dstart), SEEK_HOLE);
      dend = hole < 0 ? size : MIN ((uint64_t) hole - sf->ram_offset, size);
      if (dend <= dstart)
        dend = size;
      ok = copy_extent (sf, ram, map, dstart, dend - dstart, method, error);
      pos = dend;
    }
  if (map)
    munmap (map, size);
  return ok;
}
