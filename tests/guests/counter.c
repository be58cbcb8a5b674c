/* Counts forever in RAM at 0x400000 (the machine tests pause it, read its
 * state and watch the page get dirty); prints once so a test can tell it
 * started. */
#include "guest.h"

#define COUNTER ((volatile uint64_t *) 0x400000)

int
guest_main (void)
{
  puts_ ("counter: running\n");
  for (;;)
    *COUNTER += 1;
}
