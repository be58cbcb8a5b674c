/* ACPI tables and the AML builder: parsed back byte by byte, and (when
 * Debian's acpica-tools is installed) disassembled by iasl. */
#include <string.h>
#include <glib/gstdio.h>

#include "vmm-core/platform/acpi-aml.h"
#include "vmm-core/platform/acpi-pm.h"
#include "vmm-core/platform/acpi-tables.h"
#include "vmm-core/platform/pci-host.h"
#include "platform-test-util.h"

#define TABLES_GPA 0x000e1000ull
#define RSDP_GPA 0x000e0000ull

static uint64_t
le (const uint8_t *p, unsigned n)
{
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++)
    v |= (uint64_t) p[i] << (8 * i);
  return v;
}

static void
assert_aml (Aml *a, const uint8_t *want, size_t len)
{
  g_assert_cmpmem (a->data, a->len, want, len);
  aml_free (a);
}

static void
test_aml_encodings (void)
{
  uint8_t pl[4];
  g_assert_cmpuint (aml_pkglength (0, pl), ==, 1);
  g_assert_cmphex (pl[0], ==, 1);
  g_assert_cmpuint (aml_pkglength (62, pl), ==, 1);
  g_assert_cmphex (pl[0], ==, 63);
  g_assert_cmpuint (aml_pkglength (63, pl), ==, 2); /* 65 total */
  g_assert_cmphex (pl[0], ==, 0x41);
  g_assert_cmphex (pl[1], ==, 0x04);
  g_assert_cmpuint (aml_pkglength (4093, pl), ==, 2); /* 4095 total */
  g_assert_cmpuint (aml_pkglength (4094, pl), ==, 3); /* 4097 total */
  g_assert_cmphex (pl[0], ==, 0x81);
  g_assert_cmphex (pl[1], ==, 0x00);
  g_assert_cmphex (pl[2], ==, 0x01);

  assert_aml (aml_int (0), (const uint8_t[]){ 0x00 }, 1);
  assert_aml (aml_int (1), (const uint8_t[]){ 0x01 }, 1);
  assert_aml (aml_int (0x13), (const uint8_t[]){ 0x0a, 0x13 }, 2);
  assert_aml (aml_int (0x1234), (const uint8_t[]){ 0x0b, 0x34, 0x12 }, 3);
  assert_aml (aml_int (0x3ffff), (const uint8_t[]){ 0x0c, 0xff, 0xff, 0x03, 0x00 }, 5);
  assert_aml (aml_int (0x100000000ull),
              (const uint8_t[]){ 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 }, 9);
  assert_aml (aml_string ("ab"), (const uint8_t[]){ 0x0d, 'a', 'b', 0 }, 4);
  assert_aml (aml_eisaid ("PNP0A03"), (const uint8_t[]){ 0x0c, 0x41, 0xd0, 0x0a, 0x03 }, 5);
  assert_aml (aml_name ("_S5"), (const uint8_t[]){ '_', 'S', '5', '_' }, 4);
  assert_aml (aml_name ("\\_SB.PCI0"),
              (const uint8_t[]){ '\\', 0x2e, '_', 'S', 'B', '_', 'P', 'C', 'I', '0' }, 10);
  assert_aml (aml_name ("\\_SB.PCI0.RTC"),
              (const uint8_t[]){ '\\', 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'R', 'T',
                                 'C', '_' }, 15);
  assert_aml (aml_name ("^^FOO"), (const uint8_t[]){ '^', '^', 'F', 'O', 'O', '_' }, 6);
  assert_aml (aml_name ("\\"), (const uint8_t[]){ '\\', 0x00 }, 2);
  assert_aml (aml_package (aml_cat (aml_int (5), aml_int (0), NULL), 2),
              (const uint8_t[]){ 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00 }, 6);
  assert_aml (aml_method ("_STA", 0, false, aml_return (aml_int (0x0f))),
              (const uint8_t[]){ 0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f }, 10);
  assert_aml (aml_device ("COM1", NULL),
              (const uint8_t[]){ 0x5b, 0x82, 0x05, 'C', 'O', 'M', '1' }, 7);
  assert_aml (aml_resource_template (aml_res_irq_noflags (1 << 4)),
              (const uint8_t[]){ 0x11, 0x08, 0x0a, 0x05, 0x22, 0x10, 0x00, 0x79, 0x00 }, 9);
  Aml *mem = aml_res_dword_memory (0xc0000000, 0xfebfffff, false);
  g_assert_cmpuint (mem->len, ==, 26);
  g_assert_cmphex (le (mem->data + 22, 4), ==, 0x3ec00000); /* length */
  aml_free (mem);
  /* A body over 63 bytes gets a two-byte PkgLength that counts itself. */
  uint8_t big[100] = { 0 };
  Aml *buf = aml_buffer (big, sizeof big);
  g_assert_cmphex (buf->data[0], ==, 0x11);
  g_assert_cmpuint ((buf->data[1] & 0x0f) | buf->data[2] << 4, ==, buf->len - 1);
  aml_free (buf);
}

typedef struct {
  AcpiTables *t;
  const uint8_t *base;
  size_t len;
} Tables;

/* The table at guest address gpa, checked: signature, length inside the
 * blob, checksum. */
static const uint8_t *
table_at (const Tables *ts, uint64_t gpa, const char *sig)
{
  g_assert_cmpuint (gpa, >=, TABLES_GPA);
  size_t off = gpa - TABLES_GPA;
  g_assert_cmpuint (off + 36, <=, ts->len);
  const uint8_t *p = ts->base + off;
  g_assert_cmpmem (p, 4, sig, 4);
  uint32_t len = (uint32_t) le (p + 4, 4);
  g_assert_cmpuint (off + len, <=, ts->len);
  g_assert_cmpuint (acpi_checksum (p, len), ==, 0);
  return p;
}

static bool
memmem_found (const uint8_t *hay, size_t hlen, const uint8_t *needle, size_t nlen)
{
  return memmem (hay, hlen, needle, nlen) != NULL;
}

static void
test_tables_parse (void)
{
  AcpiConfig cfg = { .n_cpus = 4, .legacy_devices = true };
  GError *error = NULL;
  AcpiTables *t = acpi_tables_build (&cfg, TABLES_GPA, &error);
  g_assert_no_error (error);
  Tables ts = { t, t->blob->data, t->blob->len };

  /* RSDP: both checksums, revision 2, pointers. */
  const uint8_t *rsdp = t->rsdp;
  g_assert_cmpmem (rsdp, 8, "RSD PTR ", 8);
  g_assert_cmpuint (acpi_checksum (rsdp, 20), ==, 0);
  g_assert_cmpuint (acpi_checksum (rsdp, 36), ==, 0);
  g_assert_cmpuint (rsdp[15], ==, 2);
  g_assert_cmpuint (le (rsdp + 20, 4), ==, 36);

  const uint8_t *xsdt = table_at (&ts, le (rsdp + 24, 8), "XSDT");
  const uint8_t *rsdt = table_at (&ts, le (rsdp + 16, 4), "RSDT");
  unsigned nx = (unsigned) (le (xsdt + 4, 4) - 36) / 8;
  unsigned nr = (unsigned) (le (rsdt + 4, 4) - 36) / 4;
  g_assert_cmpuint (nx, ==, 2);
  g_assert_cmpuint (nr, ==, nx);
  const uint8_t *fadt = NULL, *madt = NULL;
  for (unsigned i = 0; i < nx; i++)
    {
      uint64_t a = le (xsdt + 36 + 8 * i, 8);
      g_assert_cmphex (a, ==, le (rsdt + 36 + 4 * i, 4));
      if (memcmp (ts.base + (a - TABLES_GPA), "FACP", 4) == 0)
        fadt = table_at (&ts, a, "FACP");
      else
        madt = table_at (&ts, a, "APIC");
    }
  g_assert_nonnull (fadt);
  g_assert_nonnull (madt);

  /* FADT: revision 5, PM blocks, SCI, reset register, flags. */
  g_assert_cmpuint (le (fadt + 4, 4), ==, 268);
  g_assert_cmpuint (fadt[8], ==, 5);
  g_assert_cmphex (le (fadt + 46, 2), ==, ACPI_SCI_IRQ);
  g_assert_cmphex (le (fadt + 48, 4), ==, 0); /* no SMI command port */
  g_assert_cmphex (le (fadt + 56, 4), ==, ACPI_PM_BASE);
  g_assert_cmphex (le (fadt + 64, 4), ==, ACPI_PM_BASE + 4);
  g_assert_cmphex (le (fadt + 76, 4), ==, ACPI_PM_BASE + 8);
  g_assert_cmpuint (fadt[88], ==, 4);
  g_assert_cmpuint (fadt[89], ==, 2);
  g_assert_cmpuint (fadt[91], ==, 4);
  g_assert_cmphex (fadt[108], ==, 0x32);
  uint32_t flags = (uint32_t) le (fadt + 112, 4);
  g_assert_cmphex (flags & (1u << 20), ==, 0); /* HW_REDUCED_ACPI off */
  g_assert_cmphex (flags & (1u << 4), ==, 0);  /* power button: fixed feature */
  g_assert_cmphex (flags & (1u << 10), !=, 0); /* RESET_REG_SUP */
  g_assert_cmphex (flags & (1u << 8), !=, 0);  /* 32-bit PM timer */
  g_assert_cmphex (le (fadt + 109, 2) & 2, ==, 2); /* 8042 present */
  g_assert_cmpuint (fadt[116], ==, 1);             /* reset reg in I/O space */
  g_assert_cmphex (le (fadt + 120, 8), ==, 0xcf9);
  g_assert_cmphex (fadt[128], ==, 0x06);
  g_assert_cmphex (le (fadt + 148 + 4, 8), ==, ACPI_PM_BASE);
  g_assert_cmphex (le (fadt + 208 + 4, 8), ==, ACPI_PM_BASE + 8);
  const uint8_t *facs = ts.base + (le (fadt + 36, 4) - TABLES_GPA);
  g_assert_cmpmem (facs, 4, "FACS", 4);
  g_assert_cmpuint ((le (fadt + 36, 4)) % 64, ==, 0);
  g_assert_cmphex (le (fadt + 40, 4), ==, le (fadt + 140, 8));
  const uint8_t *dsdt = table_at (&ts, le (fadt + 140, 8), "DSDT");

  /* MADT: one LAPIC per CPU, one IOAPIC, the two overrides. */
  unsigned lapics = 0, ioapics = 0, isos = 0;
  size_t mlen = le (madt + 4, 4);
  g_assert_cmphex (le (madt + 36, 4), ==, 0xfee00000);
  for (size_t off = 44; off < mlen;)
    {
      uint8_t type = madt[off], elen = madt[off + 1];
      g_assert_cmpuint (elen, >=, 2);
      g_assert_cmpuint (off + elen, <=, mlen);
      if (type == 0)
        {
          g_assert_cmpuint (madt[off + 3], ==, lapics); /* APIC IDs 0..n-1 */
          g_assert_cmpuint (le (madt + off + 4, 4), ==, 1);
          lapics++;
        }
      else if (type == 1)
        {
          ioapics++;
          g_assert_cmphex (le (madt + off + 4, 4), ==, 0xfec00000);
          g_assert_cmpuint (le (madt + off + 8, 4), ==, 0);
        }
      else if (type == 2)
        {
          isos++;
          if (madt[off + 3] == 0)
            g_assert_cmpuint (le (madt + off + 4, 4), ==, 2);
          else
            {
              g_assert_cmpuint (madt[off + 3], ==, 9);
              g_assert_cmphex (le (madt + off + 8, 2), ==, 0x000d);
            }
        }
      off += elen;
    }
  g_assert_cmpuint (lapics, ==, 4);
  g_assert_cmpuint (ioapics, ==, 1);
  g_assert_cmpuint (isos, ==, 2);

  /* DSDT: \_S5 with our SLP_TYP, the PCI root, legacy IDs, and a _PRT
   * entry for every slot/pin with pci-host's GSI. */
  size_t dlen = le (dsdt + 4, 4);
  const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a,
                         ACPI_SLP_TYP_S5, 0x0a, ACPI_SLP_TYP_S5, 0x00, 0x00 };
  g_assert_true (memmem_found (dsdt, dlen, s5, sizeof s5));
  const uint8_t pnp0a03[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
  const uint8_t pnp0501[] = { 0x0c, 0x41, 0xd0, 0x05, 0x01 };
  g_assert_true (memmem_found (dsdt, dlen, pnp0a03, sizeof pnp0a03));
  g_assert_true (memmem_found (dsdt, dlen, pnp0501, sizeof pnp0501));
  g_assert_true (memmem_found (dsdt, dlen, (const uint8_t *) "_PRT", 4));
  for (unsigned slot = 0; slot < 32; slot++)
    for (unsigned pin = 0; pin < 4; pin++)
      {
        /* Package (4) { 0xSSSSFFFF, pin, Zero, gsi }; slot 0's address fits a word. */
        uint8_t e[16] = { 0x12, 0x00, 0x04 };
        size_t n = 3;
        e[n++] = slot ? 0x0c : 0x0b;
        e[n++] = 0xff;
        e[n++] = 0xff;
        if (slot)
          {
            e[n++] = (uint8_t) slot;
            e[n++] = 0x00;
          }
        e[n++] = pin == 0 ? 0x00 : pin == 1 ? 0x01 : 0x0a;
        if (pin > 1)
          e[n++] = (uint8_t) pin;
        e[n++] = 0x00;
        e[n++] = 0x0a;
        e[n++] = (uint8_t) pci_host_intx_gsi (slot, pin + 1);
        e[1] = (uint8_t) (n - 1); /* PkgLength counts itself and the rest */
        g_assert_true (memmem_found (dsdt, dlen, e, n));
      }
  /* Without legacy devices the serial port is not described. */
  AcpiConfig bare = { .n_cpus = 1 };
  AcpiTables *t2 = acpi_tables_build (&bare, TABLES_GPA, &error);
  g_assert_no_error (error);
  g_assert_false (memmem_found (t2->blob->data + t2->dsdt, le (t2->blob->data + t2->dsdt + 4, 4),
                                pnp0501, sizeof pnp0501));
  const uint8_t qword[] = { 0x8a, 0x2b, 0x00 };
  g_assert_false (memmem_found (dsdt, dlen, qword, sizeof qword));
  acpi_tables_free (t2);

  /* A 64-bit window appears as a QWordMemory producer when configured. */
  AcpiConfig wide = { .n_cpus = 1, .mmio64_base = 0x8000000000ull, .mmio64_size = 1ull << 30 };
  t2 = acpi_tables_build (&wide, TABLES_GPA, &error);
  g_assert_no_error (error);
  const uint8_t *d2 = t2->blob->data + t2->dsdt;
  const uint8_t *q = memmem (d2, le (d2 + 4, 4), qword, sizeof qword);
  g_assert_nonnull (q);
  g_assert_cmphex (le (q + 14, 8), ==, 0x8000000000ull);
  g_assert_cmphex (le (q + 22, 8), ==, 0x803fffffffull);
  g_assert_cmphex (le (q + 38, 8), ==, 1ull << 30);
  acpi_tables_free (t2);
  wide.mmio64_base = 0x80000000;
  g_assert_null (acpi_tables_build (&wide, TABLES_GPA, &error));
  g_clear_error (&error);
  acpi_tables_free (t);
}

static void
test_bad_configs_and_install (void)
{
  GError *error = NULL;
  AcpiConfig cfg = { .n_cpus = 0 };
  g_assert_null (acpi_tables_build (&cfg, TABLES_GPA, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  cfg.n_cpus = 256;
  g_assert_null (acpi_tables_build (&cfg, TABLES_GPA, &error));
  g_clear_error (&error);
  cfg.n_cpus = 1;
  g_assert_null (acpi_tables_build (&cfg, TABLES_GPA + 8, &error)); /* misaligned */
  g_clear_error (&error);
  g_assert_null (acpi_tables_build (&cfg, 0xfffff000ull, &error)); /* crosses 4 GiB */
  g_clear_error (&error);
  g_assert_null (acpi_tables_build (&cfg, 0x100000000ull, &error));
  g_clear_error (&error);
  cfg.n_cpus = 255;
  AcpiTables *t = acpi_tables_build (&cfg, TABLES_GPA, &error);
  g_assert_no_error (error);

  GuestRam ram;
  g_assert_true (guest_ram_init (&ram, 2 << 20, &error));
  g_assert_true (acpi_tables_install (t, &ram, RSDP_GPA, &error));
  g_assert_no_error (error);
  uint8_t back[36];
  g_assert_true (guest_ram_read (&ram, RSDP_GPA, back, 36));
  g_assert_cmpmem (back, 36, t->rsdp, 36);
  g_assert_cmpmem (guest_ram_ptr (&ram, TABLES_GPA, t->blob->len), t->blob->len, t->blob->data,
                   t->blob->len);
  g_assert_false (acpi_tables_install (t, &ram, RSDP_GPA + 4, &error)); /* unaligned RSDP */
  g_clear_error (&error);
  g_assert_false (acpi_tables_install (t, &ram, 4ull << 20, &error)); /* past RAM */
  g_clear_error (&error);
  guest_ram_destroy (&ram);
  acpi_tables_free (t);
}

/* iasl -d each table; it must succeed and name what we put there. */
static void
test_iasl_disassembly (void)
{
  g_autofree char *iasl = g_find_program_in_path ("iasl");
  if (!iasl)
    {
      g_test_skip ("iasl not installed (Debian package acpica-tools)");
      return;
    }
  AcpiConfig cfg = { .n_cpus = 2, .legacy_devices = true, .mmio64_base = 0x1000000000ull,
                     .mmio64_size = 0x1000000000ull };
  AcpiTables *t = acpi_tables_build (&cfg, TABLES_GPA, NULL);
  g_autofree char *dir = g_dir_make_tmp ("vireo-acpi-XXXXXX", NULL);
  struct
  {
    const char *name;
    size_t off;
    const char *expect[4];
  } tables[] = {
    { "dsdt", t->dsdt, { "PNP0A03", "_S5_", "0x0003FFFF", "0x0000001FFFFFFFFF" } },
    { "facp", t->fadt, { "PM1A Event Block Address : 00000600", "Reset Register", "0000000000000CF9", NULL } },
    { "apic", t->madt, { "Local Apic ID : 01", "I/O APIC", "Interrupt Source Override", NULL } },
  };
  for (unsigned i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      const uint8_t *p = t->blob->data + tables[i].off;
      g_autofree char *bin = g_strdup_printf ("%s/%s.dat", dir, tables[i].name);
      g_autofree char *dsl = g_strdup_printf ("%s/%s.dsl", dir, tables[i].name);
      g_assert_true (g_file_set_contents (bin, (const char *) p, (gssize) le (p + 4, 4), NULL));
      const char *argv[] = { iasl, "-d", bin, NULL };
      g_autofree char *out = NULL, *err = NULL;
      int status = 0;
      g_assert_true (g_spawn_sync (dir, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
                                   &err, &status, NULL));
      if (!g_spawn_check_wait_status (status, NULL))
        g_error ("iasl -d %s failed:\n%s%s", tables[i].name, out, err);
      g_autofree char *text = NULL;
      g_assert_true (g_file_get_contents (dsl, &text, NULL, NULL));
      for (unsigned k = 0; k < 4 && tables[i].expect[k]; k++)
        if (!strstr (text, tables[i].expect[k]))
          g_error ("%s.dsl lacks \"%s\":\n%s", tables[i].name, tables[i].expect[k], text);
      g_assert_null (strstr (text, "Invalid"));
      g_assert_null (strstr (text, "Error"));
      if (tables[i].off == t->dsdt)
        {
          /* The disassembly compiles back cleanly: no ASL errors or warnings. */
          g_autofree char *prefix = g_strdup_printf ("%s/recompiled", dir);
          g_autofree char *aml = g_strdup_printf ("%s.aml", prefix);
          const char *cargv[] = { iasl, "-p", prefix, dsl, NULL };
          g_autofree char *cout = NULL, *cerr = NULL;
          g_assert_true (g_spawn_sync (dir, (char **) cargv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                       &cout, &cerr, &status, NULL));
          if (!g_spawn_check_wait_status (status, NULL) || !strstr (cout, " 0 Errors, 0 Warnings"))
            g_error ("iasl could not recompile the DSDT:\n%s%s", cout, cerr);
          g_unlink (aml);
        }
      g_unlink (bin);
      g_unlink (dsl);
    }
  g_rmdir (dir);
  acpi_tables_free (t);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/acpi-tables/aml-encodings", test_aml_encodings);
  g_test_add_func ("/acpi-tables/parse", test_tables_parse);
  g_test_add_func ("/acpi-tables/bad-configs-install", test_bad_configs_and_install);
  g_test_add_func ("/acpi-tables/iasl", test_iasl_disassembly);
  return g_test_run ();
}
