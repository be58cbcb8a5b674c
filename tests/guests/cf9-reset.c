/* Reset through port 0xCF9: the first boot leaves a mark in CMOS NVRAM
 * (which survives a reset, as on a PC) and resets; the second finds it. */
#include "guest.h"

#define MARK_REG 0x50
#define MARK 0xb1

static uint8_t
cmos_read (uint8_t reg)
{
  outb (0x70, reg);
  return inb (0x71);
}

static void
cmos_write (uint8_t reg, uint8_t v)
{
  outb (0x70, reg);
  outb (0x71, v);
}

int
guest_main (void)
{
  if (cmos_read (MARK_REG) != MARK)
    {
      cmos_write (MARK_REG, MARK);
      puts_ ("cf9: boot 1, resetting\n");
      outb (0xcf9, 0x02);
      outb (0xcf9, 0x06); /* SYS_RST | RST_CPU: what Linux's reboot=pci does */
      for (volatile int i = 0; i < 100000000; i++)
        ;
      fail ("still running after a 0xCF9 reset", 11);
    }
  cmos_write (MARK_REG, 0);
  puts_ ("cf9: boot 2, CMOS mark survived the reset\n");
  return 0;
}
