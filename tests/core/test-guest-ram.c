#include "vmm-core/guest-ram.h"

static void
test_layout_small (void)
{
  GuestRam ram;
  g_autoptr (GError) error = NULL;

  g_assert_true (guest_ram_init (&ram, 64 << 20, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ram.low_size, ==, 64 << 20);
  g_assert_cmpuint (ram.high_size, ==, 0);
  g_assert_nonnull (guest_ram_ptr (&ram, 0, 1));
  g_assert_true (guest_ram_ptr (&ram, (64 << 20) - 8, 8) == ram.host + (64 << 20) - 8);
  g_assert_null (guest_ram_ptr (&ram, (64 << 20) - 8, 9));
  g_assert_null (guest_ram_ptr (&ram, 64 << 20, 1));
  g_assert_null (guest_ram_ptr (&ram, 0, 0));
  g_assert_null (guest_ram_ptr (&ram, G_MAXUINT64 - 3, 8));
  g_assert_cmpint (guest_ram_offset (&ram, 64 << 20), ==, -1);
  guest_ram_destroy (&ram);
}

static void
test_layout_split (void)
{
  GuestRam ram;
  uint64_t size = 4ull << 30; /* 4 GiB: 3 below the hole, 1 above 4 GiB */

  g_assert_true (guest_ram_init (&ram, size, NULL));
  g_assert_cmpuint (ram.low_size, ==, GUEST_RAM_HOLE_START);
  g_assert_cmpuint (ram.high_size, ==, size - GUEST_RAM_HOLE_START);
  g_assert_null (guest_ram_ptr (&ram, GUEST_RAM_HOLE_START, 1));
  g_assert_null (guest_ram_ptr (&ram, GUEST_RAM_HOLE_START - 4, 8)); /* straddles */
  g_assert_true (guest_ram_ptr (&ram, GUEST_RAM_HIGH_START, 4096)
                 == ram.host + GUEST_RAM_HOLE_START);
  g_assert_cmpint (guest_ram_offset (&ram, GUEST_RAM_HIGH_START + 5), ==,
                   (int64_t) GUEST_RAM_HOLE_START + 5);
  g_assert_null (guest_ram_ptr (&ram, GUEST_RAM_HIGH_START + ram.high_size, 1));

  uint32_t v = 0xdeadbeef, r = 0;
  g_assert_true (guest_ram_write (&ram, GUEST_RAM_HIGH_START + 16, &v, 4));
  g_assert_true (guest_ram_read (&ram, GUEST_RAM_HIGH_START + 16, &r, 4));
  g_assert_cmphex (r, ==, v);
  g_assert_false (guest_ram_write (&ram, GUEST_RAM_HOLE_START - 2, &v, 4));
  guest_ram_destroy (&ram);
}

static void
test_bad_sizes (void)
{
  GuestRam ram;
  g_autoptr (GError) error = NULL;

  g_assert_false (guest_ram_init (&ram, 4096, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (guest_ram_init (&ram, (64 << 20) + 1, &error));
  g_clear_error (&error);
  g_assert_false (guest_ram_init (&ram, 1ull << 50, &error)); /* 1 PiB */
  g_assert_nonnull (strstr (error->message, "more than the host"));
}

static void
test_parse_size (void)
{
  uint64_t v;
  g_assert_true (guest_ram_parse_size ("512M", &v, NULL));
  g_assert_cmpuint (v, ==, 512ull << 20);
  g_assert_true (guest_ram_parse_size ("2g", &v, NULL));
  g_assert_cmpuint (v, ==, 2ull << 30);
  g_assert_true (guest_ram_parse_size ("1GiB", &v, NULL));
  g_assert_cmpuint (v, ==, 1ull << 30);
  g_assert_true (guest_ram_parse_size ("4096", &v, NULL));
  g_assert_cmpuint (v, ==, 4096);
  g_assert_false (guest_ram_parse_size ("", &v, NULL));
  g_assert_false (guest_ram_parse_size ("-1M", &v, NULL));
  g_assert_false (guest_ram_parse_size ("12X", &v, NULL));
  g_assert_false (guest_ram_parse_size ("99999999999999999999", &v, NULL));
  g_assert_false (guest_ram_parse_size ("99999999999T", &v, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/guest-ram/layout-small", test_layout_small);
  g_test_add_func ("/guest-ram/layout-split", test_layout_split);
  g_test_add_func ("/guest-ram/bad-sizes", test_bad_sizes);
  g_test_add_func ("/guest-ram/parse-size", test_parse_size);
  return g_test_run ();
}
