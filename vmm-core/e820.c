#include "vmm-core/e820.h"

static unsigned
add (E820Entry *out, unsigned n, unsigned max, uint64_t addr, uint64_t end, uint32_t type)
{
  if (end <= addr || n >= max)
    return n;
  out[n] = (E820Entry){ .addr = addr, .size = end - addr, .type = type };
  return n + 1;
}

unsigned
e820_build (const GuestRam *ram, uint64_t acpi_base, uint64_t acpi_size, E820Entry *out,
            unsigned max)
{
  unsigned n = 0;
  uint64_t acpi_end = acpi_base + acpi_size;
  uint64_t low_end = ram->low_size;
  bool acpi_legacy = acpi_size && acpi_base >= E820_LOW_RAM_END && acpi_end <= E820_HIGH_MEMORY;
  bool acpi_top = acpi_size && !acpi_legacy && acpi_end == low_end && acpi_base >= E820_HIGH_MEMORY;

  n = add (out, n, max, 0, MIN (E820_LOW_RAM_END, low_end), E820_RAM);
  if (acpi_legacy)
    {
      n = add (out, n, max, E820_LOW_RAM_END, acpi_base, E820_RESERVED);
      n = add (out, n, max, acpi_base, acpi_end, E820_ACPI);
      n = add (out, n, max, acpi_end, E820_HIGH_MEMORY, E820_RESERVED);
    }
  else
    n = add (out, n, max, E820_LOW_RAM_END, E820_HIGH_MEMORY, E820_RESERVED);
  if (acpi_top)
    {
      n = add (out, n, max, E820_HIGH_MEMORY, acpi_base, E820_RAM);
      n = add (out, n, max, acpi_base, acpi_end, E820_ACPI);
    }
  else
    n = add (out, n, max, E820_HIGH_MEMORY, low_end, E820_RAM);
  n = add (out, n, max, E820_KVM_PRIVATE_BASE, E820_KVM_PRIVATE_BASE + E820_KVM_PRIVATE_SIZE,
           E820_RESERVED);
  if (ram->high_size)
    n = add (out, n, max, GUEST_RAM_HIGH_START, GUEST_RAM_HIGH_START + ram->high_size,
             E820_RAM);
  return n;
}
