/* ACPI tables for the PC machine: RSDP (revision 2), XSDT and RSDT, FADT
 * (revision 5) with FACS, MADT and a DSDT written in AML (acpi-aml.h).
 *
 * What they describe matches the devices in this folder:
 *   - PM1a event/control and PM timer blocks at pm_base (acpi-pm.h), SCI on
 *     ISA IRQ 9 (level, active high), SCI_EN already set (SMI_CMD = 0), a
 *     fixed-feature power button, no sleep button, reset register 0xCF9 = 6
 *     (pc-reset.h), 8042 and legacy devices present, century at CMOS 0x32;
 *   - MADT: one local APIC per CPU (APIC IDs 0..n-1), one IOAPIC at
 *     ioapic_addr with GSI base 0, ISA IRQ0 → GSI 2 and IRQ9 level/high;
 *   - DSDT: \_S5 (SLP_TYP ACPI_SLP_TYP_S5); \_SB.PCI0 (PNP0A03) with _CRS =
 *     bus 0, config ports 0xCF8-0xCFF, I/O 0x0000-0x0CF7 and 0x0D00-0xFFFF,
 *     VGA memory 0xA0000-0xBFFFF, the 32-bit window of pci-host.h (and the
 *     64-bit one if the machine configured it), and a
 *     _PRT routing every slot's INTA-D to the GSIs pci_host_intx_gsi() uses;
 *     optionally COM1 (PNP0501), RTC (PNP0B00), PS/2 keyboard and mouse.
 *
 * The caller places them: tables at tables_gpa (below 4 GiB, in RAM the e820
 * map reserves as ACPI data), the RSDP where the OS looks (16-byte aligned
 * in 0xE0000-0xFFFFF for a BIOS-style scan, or anywhere when a direct-booted
 * Linux gets boot_params.acpi_rsdp_addr).
 *
 *   AcpiConfig cfg = { .n_cpus = 2, .legacy_devices = true };
 *   AcpiTables *t = acpi_tables_build (&cfg, 0x000e1000, &error);
 *   acpi_tables_install (t, &ram, 0x000e0000, &error);
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "vmm-core/guest-ram.h"

#define ACPI_IOAPIC_ADDR 0xfec00000u
#define ACPI_LAPIC_ADDR 0xfee00000u
#define ACPI_RSDP_SIZE 36
#define ACPI_MAX_CPUS 255

typedef struct AcpiConfig {
  unsigned n_cpus;       /* 1..ACPI_MAX_CPUS */
  uint8_t ioapic_id;     /* the IOAPIC's ID register value (default 0) */
  uint32_t ioapic_addr;  /* 0: ACPI_IOAPIC_ADDR */
  uint16_t pm_base;      /* 0: ACPI_PM_BASE */
  uint8_t sci_irq;       /* 0: ACPI_SCI_IRQ */
  bool legacy_devices;   /* COM1, RTC, PS/2 nodes in the DSDT */
  /* The 64-bit PCI window given to pci_host_set_mmio64_window (size 0: none). */
  uint64_t mmio64_base, mmio64_size;
} AcpiConfig;

typedef struct AcpiTables {
  GByteArray *blob;   /* FACS, DSDT, FADT, MADT, RSDT, XSDT; placed at tables_gpa */
  uint64_t tables_gpa;
  uint8_t rsdp[ACPI_RSDP_SIZE];
  /* Offsets into blob, for callers that want one table (and for tests). */
  size_t facs, dsdt, fadt, madt, rsdt, xsdt;
} AcpiTables;

/* NULL with a message if the configuration is impossible (no CPUs, too many,
 * tables_gpa not below 4 GiB or not 64-byte aligned). */
AcpiTables *acpi_tables_build (const AcpiConfig *cfg, uint64_t tables_gpa, GError **error);
/* Copies the tables to tables_gpa and the RSDP to rsdp_gpa (16-byte aligned)
 * in guest RAM; false if either does not fit in RAM. */
bool acpi_tables_install (const AcpiTables *t, GuestRam *ram, uint64_t rsdp_gpa, GError **error);
void acpi_tables_free (AcpiTables *t);

/* Sum of bytes mod 256; a valid table sums to 0. */
uint8_t acpi_checksum (const uint8_t *data, size_t len);
