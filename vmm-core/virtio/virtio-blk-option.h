/* The command-line form of a virtio disk, as vireo-vmx takes it:
 *   --disk PATH[,format=raw|qcow2][,readonly][,serial=TEXT]
 * A comma inside PATH is written as ",," (QEMU's convention). Without
 * format= the image is probed (and the raw driver then refuses writes that
 * would make it probe as something else). */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "vmm-core/virtio/virtio-blk.h"

typedef struct VirtioBlkOption
{
  char *path;
  char *format; /* "raw", "qcow2" or NULL (probe) */
  char *serial; /* NULL: "vireo-diskN" */
  bool read_only;
} VirtioBlkOption;

/* False with a one-line message naming the bad part. */
bool virtio_blk_option_parse (const char *spec, VirtioBlkOption *opt, GError **error);
void virtio_blk_option_clear (VirtioBlkOption *opt);

/* Opens the image and makes the device, which then owns the BlockDev
 * (virtio_blk_free closes it). NULL with a message if the image cannot be
 * opened. */
VirtioBlk *virtio_blk_new_from_option (GuestRam *ram, const VirtioBlkOption *opt, unsigned instance,
                                       GError **error);
