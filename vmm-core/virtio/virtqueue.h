/* Split virtqueues (virtio 1.1, 2.6) as the device side sees them.
 *
 * Every value in guest memory is hostile: ring addresses are checked against
 * guest RAM once when the queue is enabled; descriptor indexes, chain lengths,
 * indirect tables and segment lengths are checked on every pop, from a local
 * copy of each descriptor (the guest may rewrite it concurrently). A chain
 * that breaks a rule makes virtqueue_pop return VIRTQ_POP_BROKEN and marks the
 * queue broken: the transport then sets DEVICE_NEEDS_RESET.
 *
 * The guest's vCPUs run on other threads, so the idx fields are read with
 * acquire and written with release ordering, and the interrupt / notification
 * suppression checks sit behind full fences. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <glib.h>

#include "vmm-core/guest-ram.h"
#include "vmm-core/snapshot-stream.h"

#define VIRTQ_MAX_SIZE 32768
/* Segments in one chain (direct plus indirect); caps per-request work. */
#define VIRTQ_MAX_SEGS 1024

typedef struct VirtQueue
{
  GuestRam *ram;
  uint16_t max_size; /* what the device offers */
  uint16_t num;      /* what the driver chose (queue_size) */
  bool enabled;
  bool broken;              /* a bad chain was seen; nothing more until reset */
  bool event_idx, indirect; /* negotiated */
  uint16_t msix_vector;
  uint64_t desc_addr, avail_addr, used_addr;
  uint16_t last_avail_idx; /* next avail entry to pop */
  uint16_t used_idx;       /* next used entry to fill */
  uint16_t signalled_used; /* used_idx at the last interrupt */
  bool signalled_used_valid;

  /* Host views of the rings, valid while enabled. */
  uint8_t *desc, *avail, *used;
} VirtQueue;

/* One popped chain: out (device-readable) segments first, then in
 * (device-writable) ones, as the spec requires them ordered. */
typedef struct VirtqElement
{
  uint16_t head;
  unsigned out_num, in_num;
  uint64_t out_len, in_len;
  struct iovec iov[VIRTQ_MAX_SEGS]; /* [0, out_num) out, then in_num in */
} VirtqElement;

typedef enum
{
  VIRTQ_POP_EMPTY,
  VIRTQ_POP_OK,
  VIRTQ_POP_BROKEN,
} VirtqPopResult;

void virtqueue_init (VirtQueue *vq, GuestRam *ram, uint16_t max_size);
/* Back to the power-on state (disabled, size = max_size, no vector). */
void virtqueue_reset (VirtQueue *vq);
/* The driver wrote queue_enable = 1: check size and ring placement against
 * guest RAM and map the rings. False (queue stays disabled) if any is bad. */
bool virtqueue_enable (VirtQueue *vq);

/* Takes the next available chain. On BROKEN the queue is marked broken and
 * a guest error logged. */
VirtqPopResult virtqueue_pop (VirtQueue *vq, VirtqElement *elem);
/* Returns a chain to the driver with `len` bytes written into its in
 * segments (clamped to what the chain offered). */
void virtqueue_push (VirtQueue *vq, const VirtqElement *elem, uint32_t len);
/* After a batch of pushes: does the driver want an interrupt (event idx or
 * the NO_INTERRUPT flag)? Records the signalled position when it says yes. */
bool virtqueue_should_notify (VirtQueue *vq);
/* Before going idle: publish avail_event (event idx) and say whether more
 * chains arrived meanwhile (then the caller pops again). */
bool virtqueue_idle_recheck (VirtQueue *vq);

/* Copy helpers over an element's in / out segments. Return bytes copied. */
size_t virtq_iov_to_buf (const struct iovec *iov, unsigned n, size_t offset, void *buf, size_t len);
size_t virtq_iov_from_buf (const struct iovec *iov, unsigned n, size_t offset, const void *buf,
                           size_t len);

/* Fields only; the transport wraps them in its section. load re-maps an
 * enabled queue (false if its rings are no longer valid). */
void virtqueue_save (const VirtQueue *vq, SnapWriter *w);
bool virtqueue_load (VirtQueue *vq, SnapReader *r);
