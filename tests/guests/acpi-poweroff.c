/* ACPI power-off as an OS does it: find the RSDP in the BIOS area, walk the
 * XSDT (or RSDT) to the FADT, take PM1a_CNT_BLK from it and SLP_TYPa from
 * the DSDT's \_S5 package, then write SLP_TYP | SLP_EN. vireo-vmx exits 0. */
#include "guest.h"

static int
sig_is (const uint8_t *p, const char *s)
{
  for (int i = 0; s[i]; i++)
    if (p[i] != (uint8_t) s[i])
      return 0;
  return 1;
}

static uint32_t
get32 (const uint8_t *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint64_t
get64 (const uint8_t *p)
{
  return get32 (p) | (uint64_t) get32 (p + 4) << 32;
}

static const uint8_t *
find_rsdp (void)
{
  for (uintptr_t a = 0xe0000; a < 0x100000; a += 16)
    if (sig_is ((const uint8_t *) a, "RSD PTR "))
      return (const uint8_t *) a;
  return 0;
}

static const uint8_t *
find_table (const uint8_t *rsdp, const char *sig)
{
  int xsdt = rsdp[15] >= 2 && get64 (rsdp + 24) != 0;
  const uint8_t *root = (const uint8_t *) (uintptr_t) (xsdt ? get64 (rsdp + 24) : get32 (rsdp + 16));
  uint32_t len = get32 (root + 4), entry = xsdt ? 8 : 4;
  for (uint32_t off = 36; off + entry <= len; off += entry)
    {
      const uint8_t *t = (const uint8_t *) (uintptr_t) (xsdt ? get64 (root + off) : get32 (root + off));
      if (sig_is (t, sig))
        return t;
    }
  return 0;
}

/* SLP_TYPa from "_S5_" Package: 0x12 PkgLength NumElements then a ByteConst
 * (0x0A nn), ZeroOp (0x00), OneOp (0x01) or a bare byte. */
static int
s5_slp_typ (const uint8_t *dsdt)
{
  uint32_t len = get32 (dsdt + 4);
  for (uint32_t i = 36; i + 8 < len; i++)
    if (sig_is (dsdt + i, "_S5_") && dsdt[i + 4] == 0x12)
      {
        const uint8_t *p = dsdt + i + 5;
        p += (*p >> 6) + 1; /* PkgLength */
        p++;                /* NumElements */
        if (*p == 0x0a)
          return p[1];
        if (*p == 0x00 || *p == 0x01)
          return *p;
        return *p;
      }
  return -1;
}

int
guest_main (void)
{
  const uint8_t *rsdp = find_rsdp ();
  if (!rsdp)
    fail ("no RSDP in 0xE0000-0xFFFFF", 2);
  const uint8_t *fadt = find_table (rsdp, "FACP");
  if (!fadt)
    fail ("no FADT", 3);
  uint32_t pm1a_cnt = get32 (fadt + 64);
  const uint8_t *dsdt = (const uint8_t *) (uintptr_t) get32 (fadt + 40);
  if (get32 (fadt + 4) >= 148 && get64 (fadt + 140))
    dsdt = (const uint8_t *) (uintptr_t) get64 (fadt + 140);
  if (!sig_is (dsdt, "DSDT"))
    fail ("FADT does not point at a DSDT", 4);
  int typ = s5_slp_typ (dsdt);
  if (typ < 0)
    fail ("no \\_S5 package in the DSDT", 5);
  puts_ ("acpi: PM1a_CNT ");
  puthex (pm1a_cnt);
  puts_ (", S5 SLP_TYP ");
  puthex ((unsigned) typ);
  puts_ (", powering off\n");
  outw ((uint16_t) pm1a_cnt, (uint16_t) ((typ & 7) << 10 | 1 << 13));
  for (volatile int i = 0; i < 100000000; i++)
    ;
  fail ("still running after SLP_EN", 6);
}
