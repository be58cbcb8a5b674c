/* Shared helpers of the tiny test guests (see guest.h). */
#include "guest.h"

void
serial_init (void)
{
  outb (COM1 + 1, 0x00); /* no interrupts */
  outb (COM1 + 3, 0x80); /* DLAB */
  outb (COM1 + 0, 0x01); /* 115200 baud */
  outb (COM1 + 1, 0x00);
  outb (COM1 + 3, 0x03); /* 8N1 */
  outb (COM1 + 2, 0x07); /* FIFOs on, cleared */
  outb (COM1 + 4, 0x03); /* DTR, RTS */
}

void
putc_ (char c)
{
  for (int i = 0; i < 100000 && !(inb (COM1 + 5) & 0x20); i++)
    pause ();
  outb (COM1, (uint8_t) c);
}

void
puts_ (const char *s)
{
  while (*s)
    putc_ (*s++);
}

void
puthex (uint64_t v)
{
  char buf[19] = "0x";
  int n = 2;
  int shift = 60;
  while (shift > 0 && !((v >> shift) & 0xf))
    shift -= 4;
  for (; shift >= 0; shift -= 4)
    buf[n++] = "0123456789abcdef"[(v >> shift) & 0xf];
  buf[n] = 0;
  puts_ (buf);
}

void
putdec (uint64_t v)
{
  char buf[21];
  int n = 20;
  buf[n] = 0;
  do
    {
      buf[--n] = (char) ('0' + v % 10);
      v /= 10;
    }
  while (v);
  puts_ (buf + n);
}

void
guest_exit (uint32_t code)
{
  outl (TESTDEV_PIO, code);
  for (;;)
    __asm__ volatile ("cli; hlt");
}

void
fail (const char *what, uint32_t code)
{
  puts_ ("FAIL: ");
  puts_ (what);
  putc_ ('\n');
  guest_exit (code);
}
