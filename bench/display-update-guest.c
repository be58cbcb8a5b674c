/* Guest for bench/display-update: finds the Bochs/stdvga display (PCI
 * 1234:1111) on bus 0, sets 1024x768x32 through the dispi ports and redraws
 * the whole framebuffer forever, each frame different. Runs the same under
 * vireo and under QEMU (-kernel, multiboot). */
#include "guest.h"

static uint32_t
pci_read (unsigned slot, unsigned reg)
{
  outl (0xcf8, 0x80000000u | slot << 11 | reg);
  return inl (0xcfc);
}

static void
dispi_write (uint16_t index, uint16_t value)
{
  outw (0x1ce, index);
  outw (0x1cf, value);
}

int
guest_main (void)
{
  uint32_t bar0 = 0;
  for (unsigned slot = 0; slot < 32 && !bar0; slot++)
    if (pci_read (slot, 0) == 0x11111234u)
      bar0 = pci_read (slot, 0x10) & ~0xfu;
  if (!bar0)
    fail ("no display", 1);
  dispi_write (4, 0);
  dispi_write (1, 1024);
  dispi_write (2, 768);
  dispi_write (3, 32);
  dispi_write (4, 0x41);
  puts_ ("display-update guest: drawing\n");
  volatile uint32_t *fb = (volatile uint32_t *)(uintptr_t)bar0;
  for (uint32_t f = 1;; f++)
    for (uint32_t i = 0; i < 1024 * 768; i++)
      fb[i] = f * 0x010305u ^ i;
}
