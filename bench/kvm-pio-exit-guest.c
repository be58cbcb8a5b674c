/* Benchmark guest: PIO_EXIT_LOOPS `out` instructions to port 0x80 (a sink
 * in both vireo-vmx and QEMU, handled in user space by both), timed with
 * the ACPI PM timer (port 0x608 in both: vireo's PM block at 0x600, and the
 * PIIX4 PM block SeaBIOS puts at 0x600 under QEMU; 3.579545 MHz, 24 bits
 * used, so the loop must stay under one 4.69 s wrap: 50000 exits at up to
 * ~90 us each), printed on COM1 as "pio-exit: loops L ticks T"; then exit
 * through port 0x5f0 (vireo's test device; QEMU's isa-debug-exit there).
 * Multiboot ELF32, so QEMU -kernel boots the same file. */
#include "guest.h"

#define PM_TIMER 0x608

int
guest_main (void)
{
  uint32_t t0 = inl (PM_TIMER);
  for (unsigned i = 0; i < PIO_EXIT_LOOPS; i++)
    outb (0x80, (uint8_t) i);
  uint32_t t1 = inl (PM_TIMER);
  puts_ ("pio-exit: loops ");
  putdec (PIO_EXIT_LOOPS);
  puts_ (" ticks ");
  putdec ((t1 - t0) & 0xffffff);
  putc_ ('\n');
  return 0;
}
