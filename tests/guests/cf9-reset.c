/* Guest-initiated resets: boot 1 resets through port 0xCF9 (what Linux's
 * reboot=pci does), boot 2 through the keyboard controller (0xFE to port
 * 0x64, reboot=kbd), boot 3 reports. The boot count lives in CMOS NVRAM,
 * which survives a reset as on a PC. */
#include "guest.h"

#define COUNT_REG 0x50
#define MAGIC 0xb0

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

static void
wait_for_reset (const char *how)
{
  for (volatile int i = 0; i < 100000000; i++)
    ;
  fail (how, 11);
}

int
guest_main (void)
{
  uint8_t v = cmos_read (COUNT_REG);
  unsigned boot = (v & 0xf0) == MAGIC ? (v & 0x0f) + 1u : 1u;
  cmos_write (COUNT_REG, (uint8_t) (MAGIC | boot));
  puts_ ("reset: boot ");
  putdec (boot);
  putc_ ('\n');
  if (boot == 1)
    {
      outb (0xcf9, 0x02);
      outb (0xcf9, 0x06); /* SYS_RST | RST_CPU */
      wait_for_reset ("still running after a 0xCF9 reset");
    }
  if (boot == 2)
    {
      outb (0x64, 0xfe); /* pulse the reset line */
      wait_for_reset ("still running after an i8042 reset");
    }
  cmos_write (COUNT_REG, 0);
  puts_ ("reset: CF9 and i8042 resets done, CMOS count survived\n");
  return boot == 3 ? 0 : 12;
}
