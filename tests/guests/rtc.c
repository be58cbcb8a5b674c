/* CMOS RTC: the time registers hold a plausible date, the seconds advance
 * (update-ended flag in register C), and NVRAM keeps what is written. */
#include "guest.h"

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

static unsigned
bcd (uint8_t v, int binary)
{
  return binary ? v : (v >> 4) * 10u + (v & 0xf);
}

static unsigned
read_seconds (int binary)
{
  while (cmos_read (0x0a) & 0x80) /* update in progress */
    pause ();
  return bcd (cmos_read (0x00), binary);
}

int
guest_main (void)
{
  int binary = cmos_read (0x0b) & 0x04;
  unsigned year = bcd (cmos_read (0x09), binary), month = bcd (cmos_read (0x08), binary);
  unsigned day = bcd (cmos_read (0x07), binary);
  puts_ ("rtc: date 20");
  putdec (year);
  putc_ ('-');
  putdec (month);
  putc_ ('-');
  putdec (day);
  putc_ ('\n');
  if (month < 1 || month > 12 || day < 1 || day > 31)
    fail ("implausible date", 2);

  cmos_write (0x40, 0xa5);
  cmos_write (0x41, 0x5a);
  if (cmos_read (0x40) != 0xa5 || cmos_read (0x41) != 0x5a)
    fail ("NVRAM did not keep its bytes", 3);

  (void) cmos_read (0x0c); /* clear pending flags */
  unsigned s0 = read_seconds (binary);
  uint64_t start = rdtsc ();
  unsigned s1 = s0;
  int update_seen = 0;
  while (rdtsc () - start < 30000000000ull)
    {
      if (cmos_read (0x0c) & 0x10)
        update_seen = 1;
      s1 = read_seconds (binary);
      if (s1 != s0 && update_seen)
        break;
      pause ();
    }
  if (s1 == s0)
    fail ("seconds did not advance", 4);
  if (!update_seen)
    fail ("no update-ended flag in register C", 5);
  puts_ ("rtc: seconds advanced ");
  putdec (s0);
  puts_ (" -> ");
  putdec (s1);
  putc_ ('\n');
  return 0;
}
