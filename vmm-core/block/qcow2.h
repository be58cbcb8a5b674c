/* qcow2 internals shared by the qcow2-*.c files (not for other areas).
 *
 * Facts from the qcow2 specification (docs/interop/qcow2.txt): all numbers
 * big-endian; L1 -> L2 -> cluster mapping; refcount table -> refcount
 * blocks; L2 entry bit 63 "copied" (refcount exactly 1), bit 62 compressed,
 * bit 0 of a standard descriptor "reads as zeroes" (v3).
 *
 * Crash-safety rules the code keeps (each write reaches the file in this
 * order, with fdatasync between dependent steps for power loss):
 *  - a data cluster is written before the L2 entry that points to it;
 *  - a refcount increment is written before any L2/L1 entry referencing it;
 *  - a new L2 table is written before the L1 entry pointing to it;
 *  - a refcount decrement is written only after the L2 entry that dropped
 *    the reference, and a cluster is reused only after its refcount hit 0,
 *    so no cluster is ever overwritten while something may still reference
 *    it. A crash can therefore leak clusters but never corrupt. */
#pragma once

#include <string.h>
#include "block.h"

#define QCOW2_MAGIC 0x514649fbu

#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)

#define QCOW2_EXT_END 0x00000000u
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_NAMES 0x6803f857u

#define QCOW2_OFLAG_COPIED (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO (1ull << 0)
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull
/* Bits that must be clear in L1 entries and standard L2 descriptors. */
#define QCOW2_L1E_RESERVED 0x7f000000000001ffull
#define QCOW2_L2E_RESERVED 0x3f000000000001feull

#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104
/* Same implementation limits as qemu: a larger table is a hostile image. */
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20)
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_MAX_BACKING_DEPTH 16

typedef struct Qcow2Header {
  guint32 version;
  guint64 backing_file_offset;
  guint32 backing_file_size;
  guint32 cluster_bits;
  guint64 size;
  guint32 crypt_method;
  guint32 l1_size;
  guint64 l1_table_offset;
  guint64 refcount_table_offset;
  guint32 refcount_table_clusters;
  guint32 nb_snapshots;
  guint64 snapshots_offset;
  guint64 incompatible_features;
  guint64 compatible_features;
  guint64 autoclear_features;
  guint32 refcount_order;
  guint32 header_length;
  guint8 compression_type;
  char *backing_file;   /* NULL if none */
  char *backing_format; /* NULL if no extension */
} Qcow2Header;

/* qcow2-header.c */
/* Parse and validate the first cluster (buf holds min(cluster, file) bytes,
 * at least the fixed header). Rejects anything hostile with a message. */
gboolean qcow2_header_parse (const guint8 *buf, gsize len, guint64 file_size,
                             Qcow2Header *h, GError **error);
/* Refuse images we cannot write safely (dirty, corrupt, snapshots). */
gboolean qcow2_header_check_writable (const Qcow2Header *h, GError **error);
/* The L2 entries needed for a virtual size (0 on overflow). */
guint64 qcow2_l1_size_for (guint64 size, guint cluster_bits);
/* Serialise a v3 header with extensions and the backing name into buf
 * (one zeroed cluster). */
gboolean qcow2_header_build (const Qcow2Header *h, guint8 *buf, gsize cluster_size,
                             GError **error);
void qcow2_header_clear (Qcow2Header *h);

/* qcow2-cache.c: write-back cache of cluster-sized metadata tables. */
typedef struct Qcow2 Qcow2;
typedef struct Qcow2CacheEntry {
  guint64 offset; /* host offset of the table, 0 = empty slot */
  guint8 *data;
  gboolean dirty;
  guint64 last_use;
} Qcow2CacheEntry;

typedef struct Qcow2Cache {
  Qcow2CacheEntry *entries;
  guint n;
  guint64 tick;
  /* Runs before any dirty entry is written (dependency ordering). */
  gboolean (*before_writeback) (Qcow2 *s, GError **error);
  gboolean writes_are_dependencies;
} Qcow2Cache;

void qcow2_cache_init (Qcow2Cache *c, guint n, gsize cluster_size,
                       gboolean (*before_writeback) (Qcow2 *, GError **),
                       gboolean writes_are_dependencies);
void qcow2_cache_destroy (Qcow2Cache *c);
/* The table at offset (read from the file, or zero-filled when fresh). */
Qcow2CacheEntry *qcow2_cache_get (Qcow2 *s, Qcow2Cache *c, guint64 offset, gboolean fresh,
                                  GError **error);
gboolean qcow2_cache_write_entry (Qcow2 *s, Qcow2Cache *c, Qcow2CacheEntry *e,
                                  GError **error);
gboolean qcow2_cache_flush (Qcow2 *s, Qcow2Cache *c, GError **error);
gboolean qcow2_cache_is_dirty (Qcow2Cache *c);

struct Qcow2 {
  BlockDev base;
  int fd;
  Qcow2Header hdr;
  guint cluster_bits;
  guint64 cluster_size;
  guint l2_bits;        /* log2 of entries per L2 table */
  guint64 *l1;          /* host byte order */
  guint64 *reftable;    /* host byte order */
  guint64 reftable_entries;
  guint refcount_order;
  guint rb_bits;        /* log2 of refcounts per refcount block */
  Qcow2Cache l2_cache;
  Qcow2Cache rb_cache;
  guint64 file_size;    /* bytes the file has (tracked across writes) */
  guint64 end_cluster;  /* first cluster beyond everything allocated or written */
  guint64 free_hint;    /* no free cluster below this index */
  gboolean unsynced;    /* writes since the last fdatasync */
  gboolean deps_unsynced; /* dependency writes since the last fdatasync */
  BlockDev *backing;
  /* Last decompressed cluster (compressed images are read sequentially). */
  guint64 zcache_desc;
  guint8 *zcache;
};

static inline guint64
qcow2_be64 (const guint8 *p)
{
  guint64 v;
  memcpy (&v, p, 8);
  return GUINT64_FROM_BE (v);
}

static inline void
qcow2_put_be64 (guint8 *p, guint64 v)
{
  v = GUINT64_TO_BE (v);
  memcpy (p, &v, 8);
}

/* qcow2.c */
/* Mark the image corrupt on disk (refuses further writes) and fail. */
gboolean qcow2_signal_corruption (Qcow2 *s, GError **error, const char *fmt, ...)
    G_GNUC_PRINTF (3, 4);
/* pwrite into the image. dependency: something written later may rely on
 * this being durable first (data, refcounts, table pointers); L2 tables are
 * not, so a flush of many L2 tables costs one fdatasync, not one each. */
gboolean qcow2_write (Qcow2 *s, guint64 offset, const void *buf, gsize len,
                      gboolean dependency, GError **error);
/* fdatasync if anything was written since the last one. */
gboolean qcow2_barrier (Qcow2 *s, GError **error);

/* qcow2-refcount.c */
gboolean qcow2_refcount_get (Qcow2 *s, guint64 cluster, guint64 *refcount, GError **error);
gboolean qcow2_alloc_cluster (Qcow2 *s, guint64 *host_offset, gboolean *fresh,
                              GError **error);
/* Drop one reference from every cluster overlapping [offset, offset+len).
 * Call only once the references are gone from the file. */
gboolean qcow2_free_range (Qcow2 *s, guint64 offset, guint64 len, GError **error);
gboolean qcow2_refcount_flush (Qcow2 *s, GError **error);
/* The header cluster, the L1 table or the refcount table: never data. */
gboolean qcow2_is_fixed_metadata (Qcow2 *s, guint64 cluster);

/* qcow2-l2.c */
/* The L2 table for the guest offset: NULL (no error) if unallocated and
 * !alloc. *index gets the entry's index in the table. */
gboolean qcow2_l2_lookup (Qcow2 *s, guint64 guest_offset, gboolean alloc,
                          Qcow2CacheEntry **table, guint *index, GError **error);
guint64 qcow2_l2_get (Qcow2CacheEntry *t, guint index);
void qcow2_l2_set (Qcow2CacheEntry *t, guint index, guint64 entry);
/* Write the table now (after its dependencies) and fdatasync: before
 * dropping the references it no longer holds. */
gboolean qcow2_l2_commit (Qcow2 *s, Qcow2CacheEntry *t, GError **error);
/* Host clusters an entry references (for freeing): offset and length. */
void qcow2_l2_entry_extent (Qcow2 *s, guint64 entry, guint64 *offset, guint64 *len);

/* qcow2-io.c */
gboolean qcow2_read (Qcow2 *s, guint64 offset, void *buf, gsize len, GError **error);
gboolean qcow2_write_data (Qcow2 *s, guint64 offset, const void *buf, gsize len,
                           GError **error);
gboolean qcow2_zero_or_discard (Qcow2 *s, guint64 offset, guint64 len, gboolean discard,
                                gboolean may_unmap, GError **error);
