/* Port-I/O and MMIO dispatch: a sorted table of non-overlapping ranges.
 *
 * Not thread-safe by itself: the machine serialises all dispatch, registration
 * and unregistration under its device lock (vCPU threads and the timer thread
 * both take it), so a device callback may remap ranges (a PCI BAR move). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct IoOps {
  /* offset is relative to the range base; size is 1, 2, 4 or 8. */
  uint64_t (*read) (void *opaque, uint64_t offset, unsigned size);
  void (*write) (void *opaque, uint64_t offset, uint64_t value, unsigned size);
} IoOps;

typedef struct IoRange {
  uint64_t base;
  uint64_t len;
  const IoOps *ops;
  void *opaque;
  const char *name;
} IoRange;

typedef struct IoBus {
  const char *name; /* "pio" or "mmio", for log lines */
  IoRange *ranges;  /* sorted by base */
  size_t count;
  size_t capacity;
} IoBus;

void io_bus_init (IoBus *bus, const char *name);
void io_bus_destroy (IoBus *bus);

/* Claims [base, base + len). False if it overlaps a claimed range or wraps. */
bool io_bus_register (IoBus *bus, uint64_t base, uint64_t len, const IoOps *ops,
                      void *opaque, const char *name);
/* Releases the range starting at base owned by opaque. */
bool io_bus_unregister (IoBus *bus, uint64_t base, void *opaque);

/* The range containing addr, or NULL. */
const IoRange *io_bus_find (const IoBus *bus, uint64_t addr);

/* Dispatch an access of size 1/2/4/8 that lies wholly inside one range.
 * Unclaimed reads return all ones and writes are dropped; both return false
 * so the caller can log (rate-limited) if it wants. */
bool io_bus_read (IoBus *bus, uint64_t addr, unsigned size, uint64_t *value);
bool io_bus_write (IoBus *bus, uint64_t addr, unsigned size, uint64_t value);
