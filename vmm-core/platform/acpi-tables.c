#include "vmm-core/platform/acpi-tables.h"

#include <string.h>
#include <gio/gio.h>

#include "vmm-core/platform/acpi-aml.h"
#include "vmm-core/platform/acpi-pm.h"
#include "vmm-core/platform/pci-host.h"
#include "vmm-core/platform/pc-reset.h"

#define HEADER_SIZE 36
#define FADT_REVISION 5
#define FADT_SIZE 268
#define FACS_SIZE 64

enum {
  FADT_WBINVD = 1u << 0, FADT_PROC_C1 = 1u << 2, FADT_SLP_BUTTON = 1u << 5,
  FADT_FIX_RTC = 1u << 6, FADT_TMR_VAL_EXT = 1u << 8, FADT_RESET_REG_SUP = 1u << 10,
  BOOT_ARCH_LEGACY_DEVICES = 1u << 0, BOOT_ARCH_8042 = 1u << 1,
  GAS_SYSTEM_IO = 1,
  MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_LAPIC_NMI = 4,
};

uint8_t
acpi_checksum (const uint8_t *data, size_t len)
{
  uint8_t sum = 0;
  for (size_t i = 0; i < len; i++)
    sum = (uint8_t) (sum + data[i]);
  return sum;
}

/* ---- byte helpers ---- */

static void
set_le (GByteArray *b, size_t off, uint64_t v, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    b->data[off + i] = (uint8_t) (v >> (8 * i));
}

static void
put_le (GByteArray *b, uint64_t v, unsigned n)
{
  for (unsigned i = 0; i < n; i++)
    {
      uint8_t byte = (uint8_t) (v >> (8 * i));
      g_byte_array_append (b, &byte, 1);
    }
}

static void
align_to (GByteArray *b, size_t align)
{
  static const uint8_t zero[64];
  while (b->len % align)
    g_byte_array_append (b, zero, 1);
}

static size_t
begin_table (GByteArray *b, const char *sig, uint8_t revision)
{
  align_to (b, 16);
  size_t off = b->len;
  g_byte_array_append (b, (const guint8 *) sig, 4);
  put_le (b, 0, 4); /* length, filled in by end_table */
  put_le (b, revision, 1);
  put_le (b, 0, 1); /* checksum */
  g_byte_array_append (b, (const guint8 *) "VIREO ", 6);
  g_byte_array_append (b, (const guint8 *) "VIREOPC ", 8);
  put_le (b, 1, 4);
  g_byte_array_append (b, (const guint8 *) "VIRO", 4);
  put_le (b, 1, 4);
  return off;
}

static void
end_table (GByteArray *b, size_t off)
{
  size_t len = b->len - off;
  set_le (b, off + 4, len, 4);
  b->data[off + 9] = (uint8_t) -acpi_checksum (b->data + off, len);
}

/* Generic Address Structure at offset off. */
static void
set_gas (GByteArray *b, size_t off, uint8_t space, uint8_t bits, uint8_t access, uint64_t addr)
{
  b->data[off] = space;
  b->data[off + 1] = bits;
  b->data[off + 2] = 0;
  b->data[off + 3] = access;
  set_le (b, off + 4, addr, 8);
}

/* ---- DSDT ---- */

static Aml *
pci_root_crs (const AcpiConfig *cfg)
{
  Aml *window64 = cfg->mmio64_size
                      ? aml_res_qword_memory (cfg->mmio64_base,
                                              cfg->mmio64_base + cfg->mmio64_size - 1, false)
                      : aml_cat (NULL, NULL);
  return aml_resource_template (aml_cat (
      aml_res_word_bus_number (0, 0),
      aml_res_io (PCI_CONFIG_ADDRESS_PORT, PCI_CONFIG_ADDRESS_PORT, 1, 8),
      aml_res_word_io (0x0000, 0x0cf7),
      aml_res_word_io (PCI_IO_WINDOW_BASE, PCI_IO_WINDOW_END - 1),
      aml_res_dword_memory (0x000a0000, 0x000bffff, true),
      aml_res_dword_memory (PCI_MMIO32_WINDOW_BASE, PCI_MMIO32_WINDOW_END - 1, false),
      window64, NULL));
}

/* One entry per slot and pin, exactly as pci-host routes INTx. */
static Aml *
pci_root_prt (void)
{
  Aml *entries = aml_cat (NULL, NULL);
  unsigned n = 0;
  for (unsigned slot = 0; slot < PCI_SLOTS; slot++)
    for (unsigned pin = 1; pin <= 4; pin++, n++)
      entries = aml_cat (entries,
                         aml_package (aml_cat (aml_int ((uint64_t) slot << 16 | 0xffff),
                                               aml_int (pin - 1), aml_int (0),
                                               aml_int (pci_host_intx_gsi (slot, pin)), NULL),
                                      4),
                         NULL);
  return aml_package (entries, n);
}

static Aml *
legacy_device (const char *name, const char *hid, unsigned uid, Aml *resources)
{
  return aml_device (name, aml_cat (aml_name_decl ("_HID", aml_eisaid (hid)),
                                    aml_name_decl ("_UID", aml_int (uid)),
                                    aml_name_decl ("_CRS", aml_resource_template (resources)),
                                    NULL));
}

static Aml *
legacy_devices (void)
{
  return aml_cat (
      legacy_device ("COM1", "PNP0501", 1,
                     aml_cat (aml_res_io (0x3f8, 0x3f8, 1, 8), aml_res_irq_noflags (1 << 4), NULL)),
      legacy_device ("RTC", "PNP0B00", 0,
                     aml_cat (aml_res_io (0x70, 0x70, 1, 2), aml_res_irq_noflags (1 << 8), NULL)),
      legacy_device ("KBD", "PNP0303", 0,
                     aml_cat (aml_res_io (0x60, 0x60, 1, 1), aml_res_io (0x64, 0x64, 1, 1),
                              aml_res_irq_noflags (1 << 1), NULL)),
      legacy_device ("MOU", "PNP0F13", 0, aml_res_irq_noflags (1 << 12)),
      NULL);
}

static void
build_dsdt (GByteArray *b, const AcpiConfig *cfg)
{
  size_t off = begin_table (b, "DSDT", 2);
  Aml *pci0 = aml_cat (aml_name_decl ("_HID", aml_eisaid ("PNP0A03")),
                       aml_name_decl ("_UID", aml_int (0)),
                       aml_name_decl ("_CRS", pci_root_crs (cfg)),
                       aml_name_decl ("_PRT", pci_root_prt ()),
                       NULL);
  if (cfg->legacy_devices)
    pci0 = aml_cat (pci0, legacy_devices (), NULL);
  Aml *body = aml_cat (
      /* \_S5: SLP_TYPa, SLP_TYPb, reserved, reserved. */
      aml_name_decl ("\\_S5", aml_package (aml_cat (aml_int (ACPI_SLP_TYP_S5),
                                                    aml_int (ACPI_SLP_TYP_S5), aml_int (0),
                                                    aml_int (0), NULL),
                                           4)),
      aml_scope ("\\_SB", aml_device ("PCI0", pci0)),
      NULL);
  g_byte_array_append (b, body->data, body->len);
  aml_free (body);
  end_table (b, off);
}

/* ---- fixed tables ---- */

static void
build_facs (GByteArray *b)
{
  align_to (b, 64);
  size_t off = b->len;
  uint8_t zero[FACS_SIZE] = { 0 };
  g_byte_array_append (b, zero, FACS_SIZE);
  memcpy (b->data + off, "FACS", 4);
  set_le (b, off + 4, FACS_SIZE, 4);
  b->data[off + 32] = 2; /* version */
}

static void
build_fadt (GByteArray *b, const AcpiConfig *cfg, uint64_t gpa, size_t facs, size_t dsdt)
{
  size_t off = begin_table (b, "FACP", FADT_REVISION);
  uint8_t zero[FADT_SIZE - HEADER_SIZE] = { 0 };
  g_byte_array_append (b, zero, sizeof zero);
  uint32_t pm = cfg->pm_base;

  set_le (b, off + 36, gpa + facs, 4);
  set_le (b, off + 40, gpa + dsdt, 4);
  b->data[off + 45] = 1; /* preferred profile: desktop */
  set_le (b, off + 46, cfg->sci_irq, 2);
  /* SMI_CMD, ACPI_ENABLE/DISABLE = 0: the machine is in ACPI mode from reset. */
  set_le (b, off + 56, pm + ACPI_PM1_EVT_OFFSET, 4);
  set_le (b, off + 64, pm + ACPI_PM1_CNT_OFFSET, 4);
  set_le (b, off + 76, pm + ACPI_PM_TMR_OFFSET, 4);
  b->data[off + 88] = 4; /* PM1_EVT_LEN */
  b->data[off + 89] = 2; /* PM1_CNT_LEN */
  b->data[off + 91] = 4; /* PM_TMR_LEN */
  set_le (b, off + 96, 101, 2);  /* P_LVL2_LAT > 100: no C2 */
  set_le (b, off + 98, 1001, 2); /* P_LVL3_LAT > 1000: no C3 */
  b->data[off + 108] = 0x32;     /* CMOS century register */
  set_le (b, off + 109, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042, 2);
  set_le (b, off + 112,
          FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_TMR_VAL_EXT
              | FADT_RESET_REG_SUP,
          4);
  set_gas (b, off + 116, GAS_SYSTEM_IO, 8, 1, PC_RESET_CONTROL_PORT);
  b->data[off + 128] = PC_CF9_SYS_RST | PC_CF9_RST_CPU; /* 0x06 */
  set_le (b, off + 140, gpa + dsdt, 8);
  set_gas (b, off + 148, GAS_SYSTEM_IO, 32, 2, pm + ACPI_PM1_EVT_OFFSET);
  set_gas (b, off + 172, GAS_SYSTEM_IO, 16, 2, pm + ACPI_PM1_CNT_OFFSET);
  set_gas (b, off + 208, GAS_SYSTEM_IO, 32, 3, pm + ACPI_PM_TMR_OFFSET);
  end_table (b, off);
}

static void
build_madt (GByteArray *b, const AcpiConfig *cfg)
{
  size_t off = begin_table (b, "APIC", 3);
  put_le (b, ACPI_LAPIC_ADDR, 4);
  put_le (b, 1, 4); /* PCAT_COMPAT: 8259s present */
  for (unsigned cpu = 0; cpu < cfg->n_cpus; cpu++)
    {
      put_le (b, MADT_LAPIC, 1);
      put_le (b, 8, 1);
      put_le (b, cpu, 1); /* ACPI processor UID */
      put_le (b, cpu, 1); /* APIC ID */
      put_le (b, 1, 4);   /* enabled */
    }
  put_le (b, MADT_IOAPIC, 1);
  put_le (b, 12, 1);
  put_le (b, cfg->ioapic_id, 1);
  put_le (b, 0, 1);
  put_le (b, cfg->ioapic_addr, 4);
  put_le (b, 0, 4); /* GSI base */
  /* The PIT's IRQ0 arrives on IOAPIC pin 2. */
  put_le (b, MADT_ISO, 1);
  put_le (b, 10, 1);
  put_le (b, 0, 1);  /* ISA bus */
  put_le (b, 0, 1);  /* IRQ 0 */
  put_le (b, 2, 4);  /* GSI 2 */
  put_le (b, 0, 2);  /* conforms to the bus */
  /* The SCI is level-triggered, active high. */
  put_le (b, MADT_ISO, 1);
  put_le (b, 10, 1);
  put_le (b, 0, 1);
  put_le (b, cfg->sci_irq, 1);
  put_le (b, cfg->sci_irq, 4);
  put_le (b, 0x000d, 2);
  /* LINT1 of every CPU is NMI. */
  put_le (b, MADT_LAPIC_NMI, 1);
  put_le (b, 6, 1);
  put_le (b, 0xff, 1);
  put_le (b, 0, 2);
  put_le (b, 1, 1);
  end_table (b, off);
}

static void
build_rsdt_xsdt (AcpiTables *t)
{
  GByteArray *b = t->blob;
  const size_t tables[] = { t->fadt, t->madt };

  t->rsdt = begin_table (b, "RSDT", 1);
  for (unsigned i = 0; i < G_N_ELEMENTS (tables); i++)
    put_le (b, t->tables_gpa + tables[i], 4);
  end_table (b, t->rsdt);

  t->xsdt = begin_table (b, "XSDT", 1);
  for (unsigned i = 0; i < G_N_ELEMENTS (tables); i++)
    put_le (b, t->tables_gpa + tables[i], 8);
  end_table (b, t->xsdt);
}

static void
build_rsdp (AcpiTables *t)
{
  uint8_t *p = t->rsdp;
  uint64_t rsdt = t->tables_gpa + t->rsdt;
  uint64_t xsdt = t->tables_gpa + t->xsdt;

  memset (p, 0, ACPI_RSDP_SIZE);
  memcpy (p, "RSD PTR ", 8);
  memcpy (p + 9, "VIREO ", 6);
  p[15] = 2;
  for (unsigned i = 0; i < 4; i++)
    p[16 + i] = (uint8_t) (rsdt >> (8 * i));
  p[20] = ACPI_RSDP_SIZE;
  for (unsigned i = 0; i < 8; i++)
    p[24 + i] = (uint8_t) (xsdt >> (8 * i));
  p[8] = (uint8_t) -acpi_checksum (p, 20);
  p[32] = (uint8_t) -acpi_checksum (p, ACPI_RSDP_SIZE);
}

AcpiTables *
acpi_tables_build (const AcpiConfig *config, uint64_t tables_gpa, GError **error)
{
  AcpiConfig cfg = *config;
  if (!cfg.ioapic_addr)
    cfg.ioapic_addr = ACPI_IOAPIC_ADDR;
  if (!cfg.pm_base)
    cfg.pm_base = ACPI_PM_BASE;
  if (!cfg.sci_irq)
    cfg.sci_irq = ACPI_SCI_IRQ;
  if (cfg.n_cpus < 1 || cfg.n_cpus > ACPI_MAX_CPUS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%u CPUs: the ACPI tables describe 1 to %u", cfg.n_cpus, ACPI_MAX_CPUS);
      return NULL;
    }
  if (cfg.mmio64_size && (cfg.mmio64_base < 0x100000000ull
                          || cfg.mmio64_base + cfg.mmio64_size < cfg.mmio64_base))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "the 64-bit PCI window must lie above 4 GiB");
      return NULL;
    }
  if (tables_gpa % 64 || tables_gpa >= 0xffff0000ull || cfg.sci_irq > 15)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "ACPI tables cannot go at %#" G_GINT64_MODIFIER "x", tables_gpa);
      return NULL;
    }

  AcpiTables *t = g_new0 (AcpiTables, 1);
  t->blob = g_byte_array_new ();
  t->tables_gpa = tables_gpa;
  t->facs = 0;
  build_facs (t->blob);
  t->dsdt = t->blob->len;
  build_dsdt (t->blob, &cfg);
  align_to (t->blob, 16);
  t->fadt = t->blob->len;
  build_fadt (t->blob, &cfg, tables_gpa, t->facs, t->dsdt);
  align_to (t->blob, 16);
  t->madt = t->blob->len;
  build_madt (t->blob, &cfg);
  build_rsdt_xsdt (t);
  build_rsdp (t);
  if (tables_gpa + t->blob->len > 0x100000000ull)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "ACPI tables at %#" G_GINT64_MODIFIER "x would cross 4 GiB", tables_gpa);
      acpi_tables_free (t);
      return NULL;
    }
  return t;
}

bool
acpi_tables_install (const AcpiTables *t, GuestRam *ram, uint64_t rsdp_gpa, GError **error)
{
  if (rsdp_gpa % 16 || !guest_ram_write (ram, rsdp_gpa, t->rsdp, ACPI_RSDP_SIZE)
      || !guest_ram_write (ram, t->tables_gpa, t->blob->data, t->blob->len))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "ACPI tables do not fit in guest RAM at %#" G_GINT64_MODIFIER "x / RSDP %#"
                   G_GINT64_MODIFIER "x", t->tables_gpa, rsdp_gpa);
      return false;
    }
  return true;
}

void
acpi_tables_free (AcpiTables *t)
{
  if (!t)
    return;
  g_byte_array_unref (t->blob);
  g_free (t);
}
