/* The debug-exit port 0x501: a write of v ends the machine with exit status
 * ((v << 1) | 1) & 0xff. */
#include "guest.h"

int
guest_main (void)
{
  puts_ ("debug-exit: writing 0x21\n");
  outb (0x501, 0x21);
  fail ("still running after the debug-exit write", 12);
}
