/* The e820 map: holes, ACPI regions and RAM above 4 GiB. */
#include <gio/gio.h>

#include "vmm-core/e820.h"

static void
check_sorted (const E820Entry *m, unsigned n)
{
  for (unsigned i = 1; i < n; i++)
    g_assert_cmphex (m[i - 1].addr + m[i - 1].size, <=, m[i].addr);
}

static void
test_small (void)
{
  GuestRam ram = { .size = 64 << 20, .low_size = 64 << 20 };
  E820Entry m[E820_MAX_ENTRIES];
  unsigned n = e820_build (&ram, 0, 0, m, E820_MAX_ENTRIES);
  g_assert_cmpuint (n, ==, 4);
  check_sorted (m, n);
  g_assert_cmphex (m[0].addr, ==, 0);
  g_assert_cmphex (m[0].size, ==, 0x9fc00);
  g_assert_cmpuint (m[0].type, ==, E820_RAM);
  g_assert_cmphex (m[1].addr, ==, 0x9fc00);
  g_assert_cmpuint (m[1].type, ==, E820_RESERVED);
  g_assert_cmphex (m[2].addr, ==, 0x100000);
  g_assert_cmphex (m[2].addr + m[2].size, ==, 64 << 20);
  g_assert_cmpuint (m[2].type, ==, E820_RAM);
  g_assert_cmphex (m[3].addr, ==, E820_KVM_PRIVATE_BASE);
  g_assert_cmpuint (m[3].type, ==, E820_RESERVED);
}

static void
test_acpi_legacy_and_high_ram (void)
{
  GuestRam ram = { .size = 5ull << 30, .low_size = GUEST_RAM_HOLE_START,
                   .high_size = (5ull << 30) - GUEST_RAM_HOLE_START };
  E820Entry m[E820_MAX_ENTRIES];
  unsigned n = e820_build (&ram, 0xe0000, 0x10000, m, E820_MAX_ENTRIES);
  check_sorted (m, n);
  g_assert_cmpuint (n, ==, 7);
  g_assert_cmphex (m[2].addr, ==, 0xe0000);
  g_assert_cmpuint (m[2].type, ==, E820_ACPI);
  g_assert_cmphex (m[3].addr, ==, 0xf0000);
  g_assert_cmpuint (m[3].type, ==, E820_RESERVED);
  g_assert_cmphex (m[6].addr, ==, GUEST_RAM_HIGH_START);
  g_assert_cmphex (m[6].size, ==, ram.high_size);
  g_assert_cmpuint (m[6].type, ==, E820_RAM);
}

static void
test_acpi_top_of_ram (void)
{
  GuestRam ram = { .size = 256 << 20, .low_size = 256 << 20 };
  E820Entry m[E820_MAX_ENTRIES];
  unsigned n = e820_build (&ram, (256 << 20) - 0x20000, 0x20000, m, E820_MAX_ENTRIES);
  check_sorted (m, n);
  g_assert_cmpuint (n, ==, 5);
  g_assert_cmphex (m[2].addr + m[2].size, ==, (256 << 20) - 0x20000);
  g_assert_cmpuint (m[3].type, ==, E820_ACPI);
  g_assert_cmphex (m[3].size, ==, 0x20000);
}

static void
test_truncates_to_max (void)
{
  GuestRam ram = { .size = 64 << 20, .low_size = 64 << 20 };
  E820Entry m[2];
  g_assert_cmpuint (e820_build (&ram, 0, 0, m, 2), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/e820/small", test_small);
  g_test_add_func ("/e820/acpi-legacy-and-high-ram", test_acpi_legacy_and_high_ram);
  g_test_add_func ("/e820/acpi-top-of-ram", test_acpi_top_of_ram);
  g_test_add_func ("/e820/truncates-to-max", test_truncates_to_max);
  return g_test_run ();
}
