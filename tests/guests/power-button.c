/* ACPI power button: enable PWRBTN_EN in PM1a_EN, wait (polling, interrupts
 * off) for PWRBTN_STS, acknowledge it and power off through S5 as an OS's
 * shutdown would. The host presses the button with
 * machine_press_power_button(). Port numbers come from the FADT's
 * PM1a_EVT_BLK / PM1a_CNT_BLK; SLP_TYP 5 is what the DSDT's \_S5 says
 * (the acpi-poweroff guest parses it). */
#include "guest.h"

static uint32_t
get32 (const uint8_t *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

static const uint8_t *
find_fadt (void)
{
  for (uintptr_t a = 0xe0000; a < 0x100000; a += 16)
    {
      const uint8_t *p = (const uint8_t *) a;
      if (get32 (p) == 0x20445352u && get32 (p + 4) == 0x20525450u) /* "RSD PTR " */
        {
          const uint8_t *rsdt = (const uint8_t *) (uintptr_t) get32 (p + 16);
          uint32_t len = get32 (rsdt + 4);
          for (uint32_t off = 36; off + 4 <= len; off += 4)
            {
              const uint8_t *t = (const uint8_t *) (uintptr_t) get32 (rsdt + off);
              if (get32 (t) == 0x50434146u) /* "FACP" */
                return t;
            }
        }
    }
  return 0;
}

int
guest_main (void)
{
  const uint8_t *fadt = find_fadt ();
  if (!fadt)
    fail ("no FADT", 2);
  uint16_t evt = (uint16_t) get32 (fadt + 56), cnt = (uint16_t) get32 (fadt + 64);
  outw (evt, 0x0100);             /* clear a stale PWRBTN_STS */
  outw (evt + 2, inw (evt + 2) | 0x0100); /* PWRBTN_EN */
  puts_ ("power-button: waiting for the power button\n");
  while (!(inw (evt) & 0x0100))
    pause ();
  outw (evt, 0x0100);
  puts_ ("power-button: pressed, shutting down\n");
  outw (cnt, 5 << 10 | 1 << 13);
  for (volatile int i = 0; i < 100000000; i++)
    ;
  fail ("still running after SLP_EN", 3);
}
