#include "vmm-core/machine-testdev.h"

#include "vmm-core/log.h"

static uint64_t
pio_read (void *opaque, uint64_t offset, unsigned size)
{
  MachineTestdev *t = opaque;
  if (offset == 4 && size == 4)
    return t->pio_scratch ^ 0x5a5a5a5au;
  VMM_GUEST_ERROR ("testdev", "read of size %u at port offset %u", size, (unsigned) offset);
  return ~0ull;
}

static void
pio_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  MachineTestdev *t = opaque;
  if (offset == 0 && size == 4)
    t->exit (t->opaque, (uint32_t) value);
  else if (offset == 4 && size == 4)
    t->pio_scratch = (uint32_t) value;
  else
    VMM_GUEST_ERROR ("testdev", "write of size %u at port offset %u", size, (unsigned) offset);
}

static uint64_t
mmio_read (void *opaque, uint64_t offset, unsigned size)
{
  MachineTestdev *t = opaque;
  t->mmio_count++;
  if (offset == 0 && size == 4)
    return MACHINE_TESTDEV_MAGIC;
  if (offset == 8 && size == 8)
    return t->mmio_scratch + 1;
  if (offset == 16 && size == 4)
    return t->mmio_count;
  VMM_GUEST_ERROR ("testdev", "MMIO read of size %u at offset %#x", size, (unsigned) offset);
  return ~0ull;
}

static void
mmio_write (void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
  MachineTestdev *t = opaque;
  t->mmio_count++;
  if (offset == 8 && size == 8)
    t->mmio_scratch = value;
  else
    VMM_GUEST_ERROR ("testdev", "MMIO write of size %u at offset %#x", size, (unsigned) offset);
}

static const IoOps pio_ops = { pio_read, pio_write };
static const IoOps mmio_ops = { mmio_read, mmio_write };

bool
machine_testdev_init (MachineTestdev *t, IoBus *pio, IoBus *mmio)
{
  machine_testdev_reset (t);
  if (!io_bus_register (pio, MACHINE_TESTDEV_PIO, 8, &pio_ops, t, "testdev"))
    return false;
  if (!io_bus_register (mmio, MACHINE_TESTDEV_MMIO, 0x1000, &mmio_ops, t, "testdev"))
    {
      io_bus_unregister (pio, MACHINE_TESTDEV_PIO, t);
      return false;
    }
  return true;
}

void
machine_testdev_destroy (MachineTestdev *t, IoBus *pio, IoBus *mmio)
{
  io_bus_unregister (pio, MACHINE_TESTDEV_PIO, t);
  io_bus_unregister (mmio, MACHINE_TESTDEV_MMIO, t);
}

void
machine_testdev_reset (MachineTestdev *t)
{
  t->pio_scratch = 0;
  t->mmio_scratch = 0;
  t->mmio_count = 0;
}
