/* The bzImage loader against fake images built in memory: header checks,
 * placement of kernel, command line and initrd, boot_params, entry state. */
#include <string.h>
#include <gio/gio.h>

#include "vmm-core/boot-cpu.h"
#include "vmm-core/boot-linux.h"
#include "vmm-core/e820.h"

#define SETUP_SECTS 4
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)

static void
put16 (uint8_t *p, uint16_t v) { memcpy (p, &v, 2); }
static void
put32 (uint8_t *p, uint32_t v) { memcpy (p, &v, 4); }
static void
put64 (uint8_t *p, uint64_t v) { memcpy (p, &v, 8); }
static uint32_t
get32 (const uint8_t *p) { uint32_t v; memcpy (&v, p, 4); return v; }
static uint64_t
get64 (const uint8_t *p) { uint64_t v; memcpy (&v, p, 8); return v; }

/* A bzImage: setup header for protocol `version`, then `payload` bytes of
 * protected-mode kernel filled with a pattern. */
static GByteArray *
fake_bzimage (uint16_t version, size_t payload, uint32_t init_size, uint64_t pref)
{
  GByteArray *a = g_byte_array_sized_new (SETUP_SIZE + payload);
  g_byte_array_set_size (a, SETUP_SIZE + payload);
  uint8_t *b = a->data;
  memset (b, 0, a->len);
  b[0x1f1] = SETUP_SECTS;
  put16 (b + 0x1fe, 0xaa55);
  b[0x200] = 0xeb;
  b[0x201] = 0x66;
  memcpy (b + 0x202, "HdrS", 4);
  put16 (b + 0x206, version);
  b[0x211] = 0x01; /* LOADED_HIGH */
  put32 (b + 0x22c, 0x7fffffff);
  put32 (b + 0x230, 0x200000);
  b[0x234] = 1;
  put16 (b + 0x236, 0x3); /* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
  put32 (b + 0x238, 2047);
  put64 (b + 0x258, pref);
  put32 (b + 0x260, init_size);
  for (size_t i = 0; i < payload; i++)
    b[SETUP_SIZE + i] = (uint8_t) (i * 7 + 1);
  return a;
}

typedef struct {
  GuestRam ram;
  CpuState cpu;
} Fixture;

static void
setup (Fixture *f, uint64_t size)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (guest_ram_init (&f->ram, size, &error));
  g_assert_no_error (error);
  cpu_state_reset (&f->cpu, 0, true);
}

static bool
load (Fixture *f, GByteArray *k, const uint8_t *initrd, size_t initrd_len, const char *cmdline,
      LinuxBootResult *res, GError **error)
{
  LinuxBootConfig c = { .kernel = k->data, .kernel_len = k->len, .initrd = initrd,
                        .initrd_len = initrd_len, .cmdline = cmdline, .acpi_rsdp = 0xf0000,
                        .acpi_base = 0xe0000, .acpi_size = 0x10000 };
  return linux_load (&f->ram, &c, &f->cpu, res, error);
}

/* A complete newc cpio archive with one file. */
static GByteArray *
make_cpio (void)
{
  GByteArray *a = g_byte_array_new ();
  const char *names[] = { "init", "TRAILER!!!" };
  const char *bodies[] = { "#!/bin/sh\necho hi\n", "" };
  for (int i = 0; i < 2; i++)
    {
      char hdr[111];
      size_t nlen = strlen (names[i]) + 1, blen = strlen (bodies[i]);
      g_snprintf (hdr, sizeof hdr,
                  "070701%08x%08x%08x%08x%08x%08x%08zx%08x%08x%08x%08x%08zx%08x", i + 1,
                  0100755, 0, 0, 1, 0, blen, 0, 0, 0, 0, nlen, 0);
      g_byte_array_append (a, (const guint8 *) hdr, 110);
      g_byte_array_append (a, (const guint8 *) names[i], nlen);
      while (a->len % 4)
        g_byte_array_append (a, (const guint8 *) "", 1);
      g_byte_array_append (a, (const guint8 *) bodies[i], blen);
      while (a->len % 4)
        g_byte_array_append (a, (const guint8 *) "", 1);
    }
  return a;
}

static void
test_good (void)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) k = fake_bzimage (0x020f, 100000, 4 << 20, 0x1000000);
  g_autoptr (GByteArray) initrd = make_cpio ();
  LinuxBootResult res;

  setup (&f, 64 << 20);
  g_assert_true (load (&f, k, initrd->data, initrd->len, "console=ttyS0 quiet", &res, &error));
  g_assert_no_error (error);

  /* Kernel at pref_address, entry startup_64 = load + 0x200. */
  g_assert_cmphex (res.kernel_addr, ==, 0x1000000);
  g_assert_cmpmem (guest_ram_ptr (&f.ram, 0x1000000, 100000), 100000, k->data + SETUP_SIZE, 100000);
  g_assert_cmphex (f.cpu.rip, ==, 0x1000200);
  g_assert_cmphex (f.cpu.regs[CPU_REG_RSI], ==, BOOT_ZERO_PAGE_ADDR);
  g_assert_cmphex (f.cpu.cr0 & 0x80000001, ==, 0x80000001);
  g_assert_cmphex (f.cpu.efer & 0x500, ==, 0x500);
  g_assert_cmpuint (f.cpu.seg[CPU_SEG_CS].selector, ==, 0x10);
  g_assert_cmpuint (f.cpu.seg[CPU_SEG_CS].l, ==, 1);
  g_assert_cmpuint (f.cpu.seg[CPU_SEG_DS].selector, ==, 0x18);
  g_assert_cmphex (f.cpu.rflags & 0x200, ==, 0); /* interrupts off */

  /* Identity map: PML4[0] -> PDPT -> PD with 2 MiB pages. */
  uint8_t *pml4 = guest_ram_ptr (&f.ram, f.cpu.cr3, 4096);
  uint64_t pdpt = get64 (pml4) & ~0xfffull;
  uint64_t pd = get64 (guest_ram_ptr (&f.ram, pdpt, 8)) & ~0xfffull;
  g_assert_cmphex (get64 (guest_ram_ptr (&f.ram, pd + 8 * 8, 8)), ==, (8ull << 21) | 0x83);

  uint8_t *zp = guest_ram_ptr (&f.ram, BOOT_ZERO_PAGE_ADDR, 4096);
  g_assert_cmpuint (zp[0x210], ==, 0xff);           /* type_of_loader */
  g_assert_cmpmem (zp + 0x202, 4, "HdrS", 4);       /* header copied */
  g_assert_cmphex (get64 (zp + 0x070), ==, 0xf0000); /* acpi_rsdp_addr */
  uint32_t cmd = get32 (zp + 0x228);
  g_assert_cmpstr ((const char *) guest_ram_ptr (&f.ram, cmd, 20), ==, "console=ttyS0 quiet");

  /* Initrd: page aligned, above the kernel, below initrd_addr_max and RAM. */
  uint32_t rd = get32 (zp + 0x218), rd_size = get32 (zp + 0x21c);
  g_assert_cmpuint (rd_size, ==, initrd->len);
  g_assert_cmphex (rd & 0xfff, ==, 0);
  g_assert_cmphex (rd, >=, res.kernel_end);
  g_assert_cmphex ((uint64_t) rd + rd_size, <=, 64 << 20);
  g_assert_cmphex ((uint64_t) rd + rd_size, >, (64 << 20) - 0x2000); /* as high as possible */
  g_assert_cmpmem (guest_ram_ptr (&f.ram, rd, rd_size), rd_size, initrd->data, initrd->len);

  /* e820 in boot_params matches e820_build. */
  E820Entry map[E820_MAX_ENTRIES];
  unsigned n = e820_build (&f.ram, 0xe0000, 0x10000, map, E820_MAX_ENTRIES);
  g_assert_cmpuint (zp[0x1e8], ==, n);
  for (unsigned i = 0; i < n; i++)
    {
      g_assert_cmphex (get64 (zp + 0x2d0 + i * 20), ==, map[i].addr);
      g_assert_cmphex (get64 (zp + 0x2d0 + i * 20 + 8), ==, map[i].size);
      g_assert_cmpuint (get32 (zp + 0x2d0 + i * 20 + 16), ==, map[i].type);
    }
  guest_ram_destroy (&f.ram);
}

static void
test_low_ram_loads_at_1m (void)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) k = fake_bzimage (0x020f, 4096, 8 << 20, 0x1000000);
  LinuxBootResult res;

  setup (&f, 16 << 20); /* pref 16 MiB + 8 MiB does not fit, 1 MiB + 8 MiB does */
  g_assert_true (load (&f, k, NULL, 0, NULL, &res, &error));
  g_assert_cmphex (res.kernel_addr, ==, 0x100000);
  g_assert_cmphex (f.cpu.rip, ==, 0x100200);
  guest_ram_destroy (&f.ram);
}

static void
expect_error (GByteArray *k, uint64_t ram, const uint8_t *initrd, size_t initrd_len,
              const char *cmdline, const char *fragment)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  setup (&f, ram);
  g_assert_false (load (&f, k, initrd, initrd_len, cmdline, NULL, &error));
  g_assert_nonnull (error);
  g_assert_null (strchr (error->message, '\n'));
  if (!strstr (error->message, fragment))
    g_error ("message '%s' lacks '%s'", error->message, fragment);
  guest_ram_destroy (&f.ram);
}

static void
test_bad_images (void)
{
  g_autoptr (GByteArray) old = fake_bzimage (0x0205, 4096, 0, 0);
  expect_error (old, 16 << 20, NULL, 0, NULL, "too old");

  g_autoptr (GByteArray) nohdr = fake_bzimage (0x020f, 4096, 0, 0);
  memcpy (nohdr->data + 0x202, "Nope", 4);
  expect_error (nohdr, 16 << 20, NULL, 0, NULL, "not a bzImage");

  g_autoptr (GByteArray) tiny = g_byte_array_new ();
  g_byte_array_set_size (tiny, 100);
  memset (tiny->data, 0, 100);
  expect_error (tiny, 16 << 20, NULL, 0, NULL, "not a bzImage");

  g_autoptr (GByteArray) trunc = fake_bzimage (0x020f, 4096, 0, 0);
  g_byte_array_set_size (trunc, 0x300); /* header intact, setup sectors cut */
  expect_error (trunc, 16 << 20, NULL, 0, NULL, "truncated");

  g_autoptr (GByteArray) k32 = fake_bzimage (0x020f, 4096, 0, 0);
  put16 (k32->data + 0x236, 0);
  expect_error (k32, 16 << 20, NULL, 0, NULL, "64-bit");

  g_autoptr (GByteArray) huge = fake_bzimage (0x020f, 4096, 40 << 20, 0x1000000);
  expect_error (huge, 32 << 20, NULL, 0, NULL, "guest has only");

  g_autoptr (GByteArray) k = fake_bzimage (0x020f, 4096, 1 << 20, 0x1000000);
  char *longcmd = g_strnfill (3000, 'x');
  expect_error (k, 32 << 20, NULL, 0, longcmd, "command line");
  g_free (longcmd);
}

static void
test_initrd_errors (void)
{
  g_autoptr (GByteArray) k = fake_bzimage (0x020f, 4096, 4 << 20, 0x1000000);

  /* Too big: 20 MiB of initrd next to a 4 MiB kernel at 16 MiB in 32 MiB. */
  gsize big = 20 << 20;
  uint8_t *blob = g_malloc0 (big);
  blob[0] = 0x42; /* an unknown format: unchecked, only sized */
  expect_error (k, 32 << 20, blob, big, NULL, "does not fit");
  g_free (blob);

  /* Truncated cpio. */
  g_autoptr (GByteArray) cpio = make_cpio ();
  g_autoptr (GError) error = NULL;
  g_assert_true (linux_check_initrd (cpio->data, cpio->len, &error));
  g_assert_no_error (error);
  expect_error (k, 32 << 20, cpio->data, cpio->len - 40, NULL, "truncated");

  /* Truncated gzip. */
  g_autoptr (GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 6);
  uint8_t out[8192];
  gsize read, written;
  g_assert_cmpint (g_converter_convert (G_CONVERTER (z), cpio->data, cpio->len, out, sizeof out,
                                        G_CONVERTER_INPUT_AT_END, &read, &written, NULL),
                   ==, G_CONVERTER_FINISHED);
  g_assert_true (linux_check_initrd (out, written, NULL));
  g_assert_false (linux_check_initrd (out, written - 8, NULL));
  expect_error (k, 32 << 20, out, written / 2, NULL, "truncated");

  /* Microcode-style: cpio, zero padding, then a gzip member. */
  g_autoptr (GByteArray) combo = make_cpio ();
  uint8_t zeros[8] = { 0 };
  g_byte_array_append (combo, zeros, sizeof zeros);
  g_byte_array_append (combo, out, written);
  g_assert_true (linux_check_initrd (combo->data, combo->len, NULL));
  g_assert_false (linux_check_initrd (combo->data, combo->len - 10, NULL));
}

static void
test_screen_info (void)
{
  uint8_t zp[4096] = { 0 };
  BootDisplayInfo d = { .lfb_base = 0xc0000000, .lfb_size = 1024 * 768 * 4, .width = 1024,
                        .height = 768, .depth = 32, .stride = 4096, .red_size = 8,
                        .red_pos = 16, .green_size = 8, .green_pos = 8, .blue_size = 8,
                        .blue_pos = 0, .rsvd_size = 8, .rsvd_pos = 24 };
  linux_fill_screen_info (zp, &d);
  g_assert_cmpuint (zp[0x0f], ==, 0x23);
  g_assert_cmpuint (zp[0x12] | zp[0x13] << 8, ==, 1024);
  g_assert_cmpuint (zp[0x14] | zp[0x15] << 8, ==, 768);
  g_assert_cmphex (get32 (zp + 0x18), ==, 0xc0000000);
  g_assert_cmpuint (get32 (zp + 0x1c), ==, 48); /* 3 MiB in 64 KiB units */
  g_assert_cmpuint (zp[0x24] | zp[0x25] << 8, ==, 4096);
  g_assert_cmpuint (zp[0x27], ==, 16);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/boot-linux/good", test_good);
  g_test_add_func ("/boot-linux/low-ram-loads-at-1m", test_low_ram_loads_at_1m);
  g_test_add_func ("/boot-linux/bad-images", test_bad_images);
  g_test_add_func ("/boot-linux/initrd-errors", test_initrd_errors);
  g_test_add_func ("/boot-linux/screen-info", test_screen_info);
  return g_test_run ();
}
