/* Benchmark guest: PIO_EXIT_LOOPS `out` instructions to port 0x80 (a sink
 * in both vireo-vmx and QEMU, handled in user space by both), then exit
 * through port 0x5f0 (vireo's test device; QEMU's isa-debug-exit placed
 * there). Multiboot ELF32, so QEMU -kernel boots the same file. */
#include "guest.h"

int
guest_main (void)
{
  for (unsigned i = 0; i < PIO_EXIT_LOOPS; i++)
    outb (0x80, (uint8_t) i);
  return 0;
}
