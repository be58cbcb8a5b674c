/* virtio-rng (virtio 1.1, 5.4): one queue whose device-writable buffers are
 * filled from the host's getrandom(). At most VIRTIO_RNG_MAX_REQUEST bytes
 * go into one buffer (the driver asks again for more), which bounds the time
 * a guest can hold the device lock per notify. Processing is synchronous at
 * notify, like virtio-blk. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#include "vmm-core/virtio/virtio-pci.h"

#define VIRTIO_RNG_QUEUE_SIZE 64
#define VIRTIO_RNG_MAX_REQUEST 4096

typedef struct VirtioRng
{
  VirtioPci vp;
  VirtqElement *elem;
  guint64 bytes_served;
} VirtioRng;

VirtioRng *virtio_rng_new (GuestRam *ram, unsigned instance);
void virtio_rng_free (VirtioRng *rng);

static inline PciDevice *
virtio_rng_pci (VirtioRng *rng)
{
  return &rng->vp.pci;
}

void virtio_rng_reset (VirtioRng *rng);
void virtio_rng_save (VirtioRng *rng, SnapWriter *w);
bool virtio_rng_load (VirtioRng *rng, SnapReader *r, GError **error);
