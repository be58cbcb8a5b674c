/* Helpers shared by the block tests: temp dirs, running qemu tools, and a
 * random workload mirrored into an in-memory model of the disk. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include "vmm-core/block/block.h"

static inline char *
bt_tmpdir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("vireo-block-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static inline void
bt_rm_rf (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;
  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)))
    {
      char *p = g_build_filename (dir, name, NULL);
      g_unlink (p);
      g_free (p);
    }
  g_dir_close (d);
  g_rmdir (dir);
}

/* Run argv; returns the exit status, stdout in *out (if given). */
static inline int
bt_run (const char *const *argv, char **out)
{
  GError *error = NULL;
  char *so = NULL, *se = NULL;
  int status = -1;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &so, &se,
                     &status, &error))
    g_error ("spawn %s: %s", argv[0], error->message);
  status = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  if (status != 0)
    {
      char *cmd = g_strjoinv (" ", (char **) argv);
      g_test_message ("'%s' exited %d: %.2000s%.2000s", cmd, status, so ? so : "",
                      se ? se : "");
      g_free (cmd);
    }
  g_free (se);
  if (out)
    *out = so;
  else
    g_free (so);
  return status;
}

static inline gboolean
bt_have_qemu_img (void)
{
  char *p = g_find_program_in_path ("qemu-img");
  gboolean ok = p != NULL;
  g_free (p);
  return ok;
}

/* Simple deterministic workload mirrored into model (NULL: no model). */
typedef enum { BT_WRITE, BT_ZEROES, BT_DISCARD } BtOpKind;

typedef struct {
  BtOpKind kind;
  guint64 offset;
  gsize len;
  guint8 pattern;
  gboolean unmap;
} BtOp;

static inline void
bt_fill (guint8 *buf, gsize len, guint8 pattern, guint64 offset)
{
  for (gsize i = 0; i < len; i++)
    buf[i] = (guint8) (pattern ^ ((offset + i) * 131u >> 3));
}

/* A random op: mostly writes, unaligned and cluster-crossing. */
static inline BtOp
bt_random_op (GRand *r, guint64 disk_size, guint32 cluster, gboolean with_discard)
{
  BtOp op = { 0 };
  guint32 pick = g_rand_int_range (r, 0, 100);
  guint64 max_len = MIN (disk_size, (guint64) cluster * 3);
  op.kind = !with_discard || pick < 80 ? BT_WRITE : pick < 90 ? BT_ZEROES : BT_DISCARD;
  switch (g_rand_int_range (r, 0, 4))
    {
    case 0: /* cluster-aligned */
      op.offset = (guint64) g_rand_int_range (r, 0, (gint32) (disk_size / cluster)) * cluster;
      op.len = cluster * (gsize) g_rand_int_range (r, 1, 3);
      break;
    case 1: /* across a cluster boundary */
      op.offset = (guint64) g_rand_int_range (r, 1, (gint32) (disk_size / cluster)) * cluster
                  - (guint64) g_rand_int_range (r, 1, (gint32) MIN (cluster, 4096));
      op.len = (gsize) g_rand_int_range (r, 2, 8192);
      break;
    default: /* anywhere, any length */
      op.offset = (guint64) g_rand_double_range (r, 0, (double) disk_size);
      op.len = (gsize) g_rand_int_range (r, 1, (gint32) max_len);
      break;
    }
  if (op.offset >= disk_size)
    op.offset = disk_size - 1;
  op.len = (gsize) MIN ((guint64) op.len, disk_size - op.offset);
  op.pattern = (guint8) g_rand_int (r);
  op.unmap = g_rand_boolean (r);
  return op;
}

/* Apply op to the image; mirror it into model. Discard is only mirrored
 * when the caller knows what it reads back as (model_discard_zero). */
static inline void
bt_apply (BlockDev *bs, guint8 *model, const BtOp *op)
{
  GError *error = NULL;
  guint8 *buf;
  switch (op->kind)
    {
    case BT_WRITE:
      buf = g_malloc (op->len);
      bt_fill (buf, op->len, op->pattern, op->offset);
      g_assert_true (block_pwrite (bs, op->offset, buf, op->len, &error));
      g_assert_no_error (error);
      if (model)
        memcpy (model + op->offset, buf, op->len);
      g_free (buf);
      break;
    case BT_ZEROES:
      g_assert_true (block_write_zeroes (bs, op->offset, op->len, op->unmap, &error));
      g_assert_no_error (error);
      if (model)
        memset (model + op->offset, 0, op->len);
      break;
    case BT_DISCARD:
      g_assert_true (block_discard (bs, op->offset, op->len, &error));
      g_assert_no_error (error);
      break;
    }
}

/* Compare the whole disk with the model; on mismatch name the first byte. */
static inline void
bt_assert_matches (BlockDev *bs, const guint8 *model, guint64 size)
{
  GError *error = NULL;
  const gsize chunk = 1 << 20;
  guint8 *buf = g_malloc (chunk);
  for (guint64 off = 0; off < size; off += chunk)
    {
      gsize n = (gsize) MIN (chunk, size - off);
      g_assert_true (block_pread (bs, off, buf, n, &error));
      g_assert_no_error (error);
      if (memcmp (buf, model + off, n) != 0)
        {
          for (gsize i = 0; i < n; i++)
            {
              if (buf[i] != model[off + i])
                g_error ("byte %" G_GUINT64_FORMAT ": image 0x%02x, model 0x%02x", off + i,
                         buf[i], model[off + i]);
            }
        }
    }
  g_free (buf);
}

/* What a qcow2 image without a backing file does on discard: whole clusters
 * (the disk's partial last cluster counts as whole) read as zeroes. */
static inline void
bt_model_qcow2_discard (guint8 *model, const BtOp *op, guint32 cluster, guint64 disk_size)
{
  guint64 start = (op->offset + cluster - 1) / cluster * cluster;
  guint64 end = op->offset + op->len;
  end = end == disk_size ? end : end / cluster * cluster;
  if (start < end)
    memset (model + start, 0, end - start);
}
