/* Disk images: a BlockDev is an open image (raw or qcow2) seen as a flat
 * array of bytes of a fixed virtual size.
 *
 * Calls are synchronous and thread-safe: each BlockDev has its own lock, so
 * virtio-blk can call it from its I/O thread while snapshot code flushes from
 * another. Offsets and lengths need no alignment; a range must lie inside the
 * virtual size (else G_IO_ERROR_INVALID_ARGUMENT, nothing touched).
 *
 * Ordering and durability (what virtio-blk must advertise): the image behaves
 * like a disk with a volatile write cache (VIRTIO_BLK_F_FLUSH). A completed
 * write is visible to later reads at once; it is durable after block_flush.
 * Whatever moment the process dies (even SIGKILL), a qcow2 image stays
 * consistent: `qemu-img check` finds no corruption, at worst leaked clusters.
 *
 * Drivers register themselves kvmtool-style: block_register_builtin_drivers
 * adds raw and qcow2 (block_open calls it, so callers need not). */
#pragma once

#include <stdint.h>
#include <glib.h>
#include <gio/gio.h>

typedef struct BlockDev BlockDev;
typedef struct BlockDriver BlockDriver;

typedef enum {
  BLOCK_OPEN_READ_ONLY = 1 << 0,
  /* Set by block_open when the format came from probing (not the caller):
   * the raw driver then refuses writes that would turn the image into
   * something that probes as another format. */
  BLOCK_OPEN_FORMAT_PROBED = 1 << 1,
} BlockOpenFlags;

typedef struct BlockInfo {
  const char *format;      /* "raw" or "qcow2" (static) */
  guint64 virtual_size;    /* bytes the guest sees */
  guint64 allocated_bytes; /* host bytes the image file occupies */
  guint32 cluster_size;    /* 0 for raw */
  guint32 version;         /* qcow2 version, 0 for raw */
  char *backing_file;      /* as recorded in the image, NULL if none */
  char *backing_format;    /* NULL if not recorded */
} BlockInfo;

/* One image format. open() returns a driver struct whose first member is a
 * BlockDev; block.c fills in drv, filename and the lock afterwards. The
 * driver calls run under that lock with ranges already checked. */
struct BlockDriver {
  const char *format;
  /* Does the start of a file look like this format? buf holds up to 512
   * bytes (fewer for a short file). */
  gboolean (*probe) (const guint8 *buf, gsize len);
  BlockDev *(*open) (const char *path, BlockOpenFlags flags, GError **error);
  void (*close) (BlockDev *bs);
  gboolean (*pread) (BlockDev *bs, guint64 offset, void *buf, gsize len, GError **error);
  gboolean (*pwrite) (BlockDev *bs, guint64 offset, const void *buf, gsize len, GError **error);
  gboolean (*flush) (BlockDev *bs, GError **error);
  gboolean (*discard) (BlockDev *bs, guint64 offset, guint64 len, GError **error);
  gboolean (*write_zeroes) (BlockDev *bs, guint64 offset, guint64 len, gboolean may_unmap,
                            GError **error);
  void (*get_info) (BlockDev *bs, BlockInfo *info);
};

struct BlockDev {
  const BlockDriver *drv;
  char *filename;
  guint64 size; /* virtual size, set by the driver's open */
  gboolean read_only;
  GMutex lock;
};

extern const BlockDriver block_driver_raw;
extern const BlockDriver block_driver_qcow2;

void block_register_driver (const BlockDriver *drv);
void block_register_builtin_drivers (void);
const BlockDriver *block_find_driver (const char *format);

/* The format the file's first bytes announce ("qcow2" for 'QFI\xfb' v2/v3,
 * else "raw"). NULL with error if the file cannot be read. */
const char *block_probe_format (const char *path, GError **error);

/* Open an image. format NULL probes; pass the format whenever it is known
 * (the VM config records it) so a guest that writes a qcow2 header into its
 * raw disk cannot make the host open it as qcow2 next time. */
BlockDev *block_open (const char *path, const char *format, BlockOpenFlags flags,
                      GError **error);
void block_close (BlockDev *bs);

guint64 block_size (BlockDev *bs);
gboolean block_is_read_only (BlockDev *bs);

gboolean block_pread (BlockDev *bs, guint64 offset, void *buf, gsize len, GError **error);
gboolean block_pwrite (BlockDev *bs, guint64 offset, const void *buf, gsize len,
                       GError **error);
/* Everything written before is durable when this returns TRUE (fdatasync,
 * after the metadata it depends on). */
gboolean block_flush (BlockDev *bs, GError **error);
/* The range may read back as anything afterwards (zeroes, in practice, or
 * the backing file's data); host space is released where whole clusters
 * allow. Partial clusters are left alone. */
gboolean block_discard (BlockDev *bs, guint64 offset, guint64 len, GError **error);
/* The range reads back as zeroes afterwards. may_unmap lets the image
 * release host space for it (virtio-blk's VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP). */
gboolean block_write_zeroes (BlockDev *bs, guint64 offset, guint64 len, gboolean may_unmap,
                             GError **error);

void block_get_info (BlockDev *bs, BlockInfo *info);
void block_info_clear (BlockInfo *info);

/* Create a new image; an existing file is never overwritten (error
 * G_IO_ERROR_EXISTS). cluster_size 0 means 64 KiB. With a backing file,
 * size 0 takes the backing file's size; a relative backing path is relative
 * to the new image's directory; backing_format NULL records the probed
 * format. */
gboolean block_create_qcow2 (const char *path, guint64 size, guint32 cluster_size,
                             const char *backing_file, const char *backing_format,
                             GError **error);
gboolean block_create_raw (const char *path, guint64 size, GError **error);
