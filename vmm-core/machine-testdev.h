/* A device for tiny test guests (only with MachineConfig.test_device).
 *
 * Port I/O at MACHINE_TESTDEV_PIO (8 ports):
 *   +0 (32-bit write)  exit: the machine stops with status 16 + (value & 63),
 *                      like a debug-exit port
 *   +4 (32-bit)        scratch: reads return the last value written XOR
 *                      0x5a5a5a5a, so a guest can tell a real device from
 *                      all-ones of an unclaimed port
 * MMIO at MACHINE_TESTDEV_MMIO (one 4 KiB page):
 *   +0 (32-bit read)   magic 0x4f524956 ("VIRO")
 *   +8 (64-bit)        scratch: reads return the last value written, plus one
 *   +16 (32-bit read)  count of MMIO accesses so far */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vmm-core/io-bus.h"

#define MACHINE_TESTDEV_PIO 0x5f0
#define MACHINE_TESTDEV_MMIO 0xfeb00000ull
#define MACHINE_TESTDEV_MAGIC 0x4f524956u

typedef struct MachineTestdev {
  void (*exit) (void *opaque, uint32_t value);
  void *opaque;
  uint32_t pio_scratch;
  uint64_t mmio_scratch;
  uint32_t mmio_count;
} MachineTestdev;

bool machine_testdev_init (MachineTestdev *t, IoBus *pio, IoBus *mmio);
void machine_testdev_destroy (MachineTestdev *t, IoBus *pio, IoBus *mmio);
void machine_testdev_reset (MachineTestdev *t);
