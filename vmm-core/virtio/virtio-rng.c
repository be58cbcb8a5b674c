/* virtio-rng: see virtio-rng.h. */
#include <errno.h>
#include <sys/random.h>

#include "vmm-core/log.h"
#include "vmm-core/virtio/virtio-rng.h"

static bool
fill_random (uint8_t *buf, size_t len)
{
  while (len)
    {
      ssize_t n = getrandom (buf, len, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return false;
      buf += n;
      len -= (size_t)n;
    }
  return true;
}

static void
rng_queue_notify (void *dev, unsigned q)
{
  VirtioRng *rng = dev;
  VirtQueue *vq = &rng->vp.vqs[q];
  VirtqElement *e = rng->elem;
  unsigned done = 0;
  do
    {
      while (virtio_pci_pop (&rng->vp, vq, e))
        {
          uint64_t left = MIN (e->in_len, (uint64_t)VIRTIO_RNG_MAX_REQUEST), written = 0;
          for (unsigned k = 0; k < e->in_num && left; k++)
            {
              size_t n = MIN (e->iov[e->out_num + k].iov_len, left);
              if (!fill_random (e->iov[e->out_num + k].iov_base, n))
                break;
              written += n;
              left -= n;
            }
          rng->bytes_served += written;
          virtqueue_push (vq, e, (uint32_t)written);
          done++;
        }
    }
  while (virtqueue_idle_recheck (vq));
  if (done)
    virtio_pci_notify_queue (&rng->vp, vq);
}

static const VirtioDeviceOps rng_ops = {
  .queue_notify = rng_queue_notify,
};

VirtioRng *
virtio_rng_new (GuestRam *ram, unsigned instance)
{
  VirtioRng *rng = g_new0 (VirtioRng, 1);
  rng->elem = g_new (VirtqElement, 1);
  g_autofree char *name = g_strdup_printf ("virtio-rng.%u", instance);
  virtio_pci_init (&rng->vp, name, VIRTIO_ID_RNG, 0x00ff00, 0, 1, VIRTIO_RNG_QUEUE_SIZE, 0, ram,
                   &rng_ops, rng);
  return rng;
}

void
virtio_rng_free (VirtioRng *rng)
{
  if (!rng)
    return;
  virtio_pci_destroy (&rng->vp);
  g_free (rng->elem);
  g_free (rng);
}

void
virtio_rng_reset (VirtioRng *rng)
{
  virtio_pci_reset (&rng->vp);
}

void
virtio_rng_save (VirtioRng *rng, SnapWriter *w)
{
  virtio_pci_save (&rng->vp, w);
}

bool
virtio_rng_load (VirtioRng *rng, SnapReader *r, GError **error)
{
  return virtio_pci_load (&rng->vp, r, error);
}
