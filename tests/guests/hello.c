/* Serial output and port-I/O / MMIO dispatch, in 64-bit and 32-bit builds:
 * the test device answers, unclaimed ports and addresses read all ones. */
#include "guest.h"

#ifdef __x86_64__
#define BITS "64"
#else
#define BITS "32"
#endif

int
guest_main (void)
{
  puts_ ("hello from a vireo test guest (" BITS "-bit)\n");

  outl (TESTDEV_PIO + 4, 0x12345678);
  if (inl (TESTDEV_PIO + 4) != (0x12345678u ^ 0x5a5a5a5au))
    fail ("test device port scratch", 2);
  if (inl (0x5f8) != 0xffffffffu || inb (0x5f9) != 0xff)
    fail ("unclaimed port did not read all ones", 3);
  outb (0x5f9, 0x42); /* dropped, logged */

  if (mmio_read32 (TESTDEV_MMIO) != 0x4f524956u)
    fail ("test device MMIO magic", 4);
#ifdef __x86_64__
  *(volatile uint64_t *) (uintptr_t) (TESTDEV_MMIO + 8) = 0x1122334455667788ull;
  if (*(volatile uint64_t *) (uintptr_t) (TESTDEV_MMIO + 8) != 0x1122334455667789ull)
    fail ("test device MMIO scratch", 5);
#endif
  uint32_t count = mmio_read32 (TESTDEV_MMIO + 16);
  if (count < 2)
    fail ("test device MMIO count", 6);
  if (mmio_read32 (TESTDEV_MMIO + 0x1000) != 0xffffffffu)
    fail ("unclaimed MMIO did not read all ones", 7);

  /* String I/O: one rep outsb of 13 bytes to the UART, one rep insb from an
   * unclaimed port (every byte all ones). */
  static const char msg[] = "rep outsb ok\n";
  const char *src = msg;
  unsigned long n = sizeof msg - 1;
  __asm__ volatile ("cld; rep outsb" : "+S"(src), "+c"(n) : "d"(COM1) : "memory");
  uint8_t buf[8] = { 0 };
  uint8_t *dst = buf;
  n = sizeof buf;
  __asm__ volatile ("cld; rep insb" : "+D"(dst), "+c"(n) : "d"(0x5fa) : "memory");
  for (unsigned i = 0; i < sizeof buf; i++)
    if (buf[i] != 0xff)
      fail ("rep insb from an unclaimed port", 8);

  puts_ ("pio/mmio dispatch ok, mmio accesses ");
  putdec (count);
  putc_ ('\n');
  return 0;
}
