#include "vmm-core/io-bus.h"

#include <string.h>
#include <glib.h>

void
io_bus_init (IoBus *bus, const char *name)
{
  memset (bus, 0, sizeof *bus);
  bus->name = name;
}

void
io_bus_destroy (IoBus *bus)
{
  g_free (bus->ranges);
  memset (bus, 0, sizeof *bus);
}

/* Index of the first range whose base is > addr. */
static size_t
upper_bound (const IoBus *bus, uint64_t addr)
{
  size_t lo = 0, hi = bus->count;
  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      if (bus->ranges[mid].base <= addr)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

const IoRange *
io_bus_find (const IoBus *bus, uint64_t addr)
{
  size_t i = upper_bound (bus, addr);
  if (i == 0)
    return NULL;
  const IoRange *r = &bus->ranges[i - 1];
  return addr - r->base < r->len ? r : NULL;
}

bool
io_bus_register (IoBus *bus, uint64_t base, uint64_t len, const IoOps *ops,
                 void *opaque, const char *name)
{
  if (len == 0 || base + len - 1 < base || !ops)
    return false;
  size_t i = upper_bound (bus, base);
  if (i > 0)
    {
      const IoRange *prev = &bus->ranges[i - 1];
      if (base - prev->base < prev->len)
        return false;
    }
  if (i < bus->count && bus->ranges[i].base - base < len)
    return false;

  if (bus->count == bus->capacity)
    {
      bus->capacity = bus->capacity ? bus->capacity * 2 : 16;
      bus->ranges = g_renew (IoRange, bus->ranges, bus->capacity);
    }
  memmove (&bus->ranges[i + 1], &bus->ranges[i], (bus->count - i) * sizeof (IoRange));
  bus->ranges[i] = (IoRange){ base, len, ops, opaque, name };
  bus->count++;
  return true;
}

bool
io_bus_unregister (IoBus *bus, uint64_t base, void *opaque)
{
  for (size_t i = 0; i < bus->count; i++)
    if (bus->ranges[i].base == base && bus->ranges[i].opaque == opaque)
      {
        memmove (&bus->ranges[i], &bus->ranges[i + 1],
                 (bus->count - i - 1) * sizeof (IoRange));
        bus->count--;
        return true;
      }
  return false;
}

static const IoRange *
find_whole (const IoBus *bus, uint64_t addr, unsigned size)
{
  const IoRange *r = io_bus_find (bus, addr);
  if (!r || size == 0 || size > 8 || (addr - r->base) + size > r->len)
    return NULL;
  return r;
}

bool
io_bus_read (IoBus *bus, uint64_t addr, unsigned size, uint64_t *value)
{
  const IoRange *r = find_whole (bus, addr, size);
  if (!r || !r->ops->read)
    {
      *value = size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
      return false;
    }
  *value = r->ops->read (r->opaque, addr - r->base, size);
  return true;
}

bool
io_bus_write (IoBus *bus, uint64_t addr, unsigned size, uint64_t value)
{
  const IoRange *r = find_whole (bus, addr, size);
  if (!r || !r->ops->write)
    return false;
  r->ops->write (r->opaque, addr - r->base, value, size);
  return true;
}
