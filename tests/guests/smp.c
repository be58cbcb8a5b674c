/* SMP start-up: the BSP sends INIT-SIPI-SIPI to all other CPUs through its
 * LAPIC; each AP runs a real-mode trampoline at 0x8000 that increments a
 * counter. The expected count is CPUID.1:EBX[23:16] (logical processors). */
#include "guest.h"

#define LAPIC 0xfee00000u
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310

extern volatile uint16_t ap_count;
extern char ap_trampoline[];

static void
lapic_write (uint32_t reg, uint32_t v)
{
  mmio_write32 (LAPIC + reg, v);
}

static void
icr_send (uint32_t lo)
{
  lapic_write (LAPIC_ICR_HI, 0);
  lapic_write (LAPIC_ICR_LO, lo);
  for (int i = 0; i < 1000000 && (mmio_read32 (LAPIC + LAPIC_ICR_LO) & (1u << 12)); i++)
    pause ();
}

static void
delay (uint64_t cycles)
{
  uint64_t t = rdtsc ();
  while (rdtsc () - t < cycles)
    pause ();
}

int
guest_main (void)
{
  uint32_t eax = 1, ebx, ecx = 0, edx;
  __asm__ volatile ("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
  unsigned expected = (edx & (1u << 28)) ? (ebx >> 16) & 0xff : 1;
  if (expected == 0)
    expected = 1;

  lapic_write (LAPIC_SVR, mmio_read32 (LAPIC + LAPIC_SVR) | 0x100);
  uint32_t vector = (uint32_t) (uintptr_t) ap_trampoline >> 12;
  icr_send (0x000c4500);          /* INIT, all excluding self */
  delay (10000000);
  icr_send (0x000c4600 | vector); /* SIPI */
  delay (2000000);
  icr_send (0x000c4600 | vector); /* SIPI again, as the MP spec says */

  uint64_t start = rdtsc ();
  while (ap_count < expected - 1 && rdtsc () - start < 60000000000ull)
    pause ();
  puts_ ("smp: ");
  putdec (ap_count + 1u);
  puts_ (" of ");
  putdec (expected);
  puts_ (" cpus started\n");
  return ap_count + 1u == expected ? 0 : 8;
}
