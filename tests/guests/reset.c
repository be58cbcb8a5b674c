/* Reset: the first boot triple-faults (no IDT, then int3); the machine
 * resets and reloads the image, and the second boot finds the counter it
 * left in RAM outside the image (a reset does not clear memory). */
#include "guest.h"

#define BOOT_MARK ((volatile uint32_t *) 0x300000)
#define BOOT_COUNT ((volatile uint32_t *) 0x300004)
#define MAGIC 0x5245534eu

int
guest_main (void)
{
  if (*BOOT_MARK != MAGIC)
    {
      *BOOT_MARK = MAGIC;
      *BOOT_COUNT = 1;
      puts_ ("reset: boot 1, triple faulting\n");
      struct { uint16_t limit; uint64_t base; } __attribute__ ((packed)) idt = { 0, 0 };
      __asm__ volatile ("lidt %0; ud2" : : "m"(idt));
      fail ("still running after a triple fault", 9);
    }
  *BOOT_COUNT += 1;
  puts_ ("reset: boot ");
  putdec (*BOOT_COUNT);
  putc_ ('\n');
  return *BOOT_COUNT == 2 ? 0 : 10;
}
