/* PCI enumeration through configuration mechanism #1: 00:00.0 is the host
 * bridge (vendor 8086, class 0600); absent functions read all ones. */
#include "guest.h"

static uint32_t
config_read (unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
  outl (0xcf8, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc));
  return inl (0xcfc);
}

int
guest_main (void)
{
  unsigned found = 0;
  for (unsigned dev = 0; dev < 32; dev++)
    {
      uint32_t id = config_read (0, dev, 0, 0);
      if ((id & 0xffff) == 0xffff)
        continue;
      uint32_t class = config_read (0, dev, 0, 8) >> 16;
      puts_ ("pci 00:");
      puthex (dev);
      puts_ (".0 vendor ");
      puthex (id & 0xffff);
      puts_ (" device ");
      puthex (id >> 16);
      puts_ (" class ");
      puthex (class);
      putc_ ('\n');
      found++;
    }
  uint32_t bridge = config_read (0, 0, 0, 0);
  if ((bridge & 0xffff) != 0x8086)
    fail ("no Intel host bridge at 00:00.0", 2);
  if (config_read (0, 0, 0, 8) >> 16 != 0x0600)
    fail ("00:00.0 is not a host bridge", 3);
  if (config_read (0, 31, 7, 0) != 0xffffffffu)
    fail ("absent function did not read all ones", 4);
  /* The address latch reads back. */
  outl (0xcf8, 0x80001234u);
  if (inl (0xcf8) != 0x80001234u)
    fail ("CONFIG_ADDRESS did not read back", 5);
  puts_ ("pci: ");
  putdec (found);
  puts_ (" device(s) on bus 0\n");
  return 0;
}
